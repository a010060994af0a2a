/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Object storage upload (--s3-bucket): every file the sink publishes goes
 * into the spool (lib/spool) under its object key (lib/s3), and an uploader
 * thread PUTs the spool's files oldest first, removing each only once the
 * service has confirmed it. Failures are retried with exponential backoff;
 * the spool is bounded and survives restarts, and a file always goes to the
 * key its name gives, so nothing is lost and nothing is stored twice under
 * two names.
 *
 * Threads: one exporter of the writer (output.h). The writer thread calls
 * on_published (a link into the spool: file system work only) and on_stop; the uploader thread does all network I/O,
 * so neither RX cores nor the writer ever wait for the service. One mutex
 * covers the spool and the shared state.
 *
 * Credentials come from --s3-credentials, the AWS_* environment or the
 * shared credentials file; they are never options, never printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include "dpf_s3.h"
#include "dpf_spool.h"
#include "log.h"
#include "output.h"

struct s3 {
	struct dpf_s3 *client;
	struct dpf_spool *spool;
	const char *output;	/* --output, to make published paths relative */
	const char *ibm_output; /* --ibm-output DIR, NULL: none (its objects keep IBM's keys) */
	char spool_dir[PATH_MAX];
	enum dpf_s3_layout layout;
	const char *prefix;
	bool keep_local;
	uint64_t retry_min_ms;
	uint64_t retry_max_ms;
	uint64_t drain_ns;

	pthread_t tid;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	uint64_t drain_deadline_ns;
	/* Under lock. */
	uint64_t files_spooled;
	uint64_t files_not_spooled;
	uint64_t files_recovered;
	uint64_t files_uploaded;
	uint64_t bytes_uploaded;
	uint64_t upload_failures;
	uint64_t files_vanished;
	int last_spool_error;
};

/* As --s3-layout spells them, in enum dpf_s3_layout order. */
static const char *const layout_names[] = {"plain", "hourly", "hive", "hive-hourly"};

static struct timespec
mono_ts(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};

	return ts;
}

/* "HTTP 403 AccessDenied: Access Denied" or libcurl's text when there was no answer. */
static void
describe_result(int rc, const struct dpf_s3_result *r, char *out, size_t cap)
{
	if (r->http_status != 0)
		snprintf(out, cap, "HTTP %ld%s%s%s%s", r->http_status, r->code[0] ? " " : "",
			 r->code, r->message[0] ? ": " : "", r->message);
	else if (r->message[0] != '\0')
		snprintf(out, cap, "%s (%s)", r->message, strerror(-rc));
	else
		snprintf(out, cap, "%s", strerror(-rc));
}

/* ------------------------------------------------------------ writer side */

static void
on_published(void *ctx, const char *path)
{
	struct s3 *s3 = ctx;
	char key[DPF_S3_KEY_MAX + 1];
	size_t olen = strlen(s3->output);
	const char *rel = path;
	bool ibm = false;
	int rc;

	if (s3->ibm_output != NULL &&
	    strncmp(path, s3->ibm_output, strlen(s3->ibm_output)) == 0 &&
	    path[strlen(s3->ibm_output)] == '/') {
		rel = path + strlen(s3->ibm_output);
		ibm = true;
	} else if (strncmp(path, s3->output, olen) == 0) {
		rel = path + olen;
	}
	while (*rel == '/')
		rel++;
	/* The daily Trustgrid export (tg_day.h) has its own name: under the prefix. */
	if (!ibm && strncmp(rel, "tg-flow-logs-", 13) == 0)
		rc = dpf_s3_tg_day_key(s3->prefix, rel, key, sizeof(key));
	else if (ibm)
		rc = dpf_s3_ibm_object_key(s3->prefix, rel, key, sizeof(key));
	else
		rc = dpf_s3_object_key(s3->layout, s3->prefix, rel, key, sizeof(key));
	if (rc != 0) {
		DPF_LOG(WARNING, output, "s3: %s: no object key (%s); the file stays there\n", path,
			strerror(-rc));
		pthread_mutex_lock(&s3->lock);
		s3->files_not_spooled++;
		pthread_mutex_unlock(&s3->lock);
		return;
	}
	pthread_mutex_lock(&s3->lock);
	rc = dpf_spool_add(s3->spool, path, key);
	if (rc == 0) {
		s3->files_spooled++;
		s3->last_spool_error = 0;
		pthread_cond_signal(&s3->wake);
	} else {
		s3->files_not_spooled++;
	}
	pthread_mutex_unlock(&s3->lock);

	if (rc == 0) {
		/* The spool's link is durable now: the output copy may go. */
		if (!s3->keep_local && unlink(path) != 0)
			DPF_LOG(WARNING, output, "s3: removing %s after spooling: %s\n", path,
				strerror(errno));
		return;
	}
	if (rc != s3->last_spool_error) {
		if (rc == -ENOSPC)
			DPF_LOG(WARNING, output,
				"s3: spool %s is full (--s3-spool-max-mb, "
				"--s3-spool-max-files); %s stays in --output and is not uploaded\n",
				s3->spool_dir, path);
		else
			DPF_LOG(WARNING, output, "s3: spooling %s: %s; it stays in --output\n", path,
				strerror(-rc));
	}
	s3->last_spool_error = rc;
}

/*
 * Ask the uploader to stop, uploading until deadline_ns (monotonic; 0: not
 * at all), and wait for it. The thread may not run (never started, or
 * stopped already): then only the flag is set.
 */
static void
stop_uploader(struct s3 *s3, uint64_t deadline_ns)
{
	pthread_mutex_lock(&s3->lock);
	s3->stopping = true;
	s3->drain_deadline_ns = deadline_ns;
	pthread_cond_signal(&s3->wake);
	pthread_mutex_unlock(&s3->lock);
	if (s3->thread_started) {
		pthread_join(s3->tid, NULL);
		s3->thread_started = false;
	}
}

static int
on_stop(void *ctx)
{
	struct s3 *s3 = ctx;
	uint32_t left;
	uint64_t bytes;

	pthread_mutex_lock(&s3->lock);
	if (dpf_spool_count(s3->spool) != 0 && s3->drain_ns != 0)
		DPF_LOG(NOTICE, output,
			"s3: stopping: uploading the %" PRIu32 " files left in the spool "
			"(for up to %" PRIu64 " s)\n",
			dpf_spool_count(s3->spool), (uint64_t)(s3->drain_ns / NS_PER_SEC));
	pthread_mutex_unlock(&s3->lock);
	stop_uploader(s3, dpf_mono_ns() + s3->drain_ns);
	left = dpf_spool_count(s3->spool);
	bytes = dpf_spool_bytes(s3->spool);
	if (left != 0)
		DPF_LOG(WARNING, output,
			"s3: %" PRIu32 " files (%" PRIu64 " bytes) wait in %s; they are "
			"uploaded at the next start\n",
			left, bytes, s3->spool_dir);
	return 0;
}

/* ------------------------------------------------------------ uploader */

static void *
uploader_main(void *arg)
{
	char key[DPF_S3_KEY_MAX + 1], path[PATH_MAX], what[512], where[DPF_S3_KEY_MAX + 300];
	uint64_t retry_at = 0;
	unsigned int failures_in_row = 0;
	int last_rc = 0;
	struct s3 *s3 = arg;

	pthread_mutex_lock(&s3->lock);
	for (;;) {
		struct dpf_s3_result res;
		uint64_t now = dpf_mono_ns();
		const char *name;
		struct stat st;
		int rc;

		if (s3->stopping && (dpf_spool_count(s3->spool) == 0 || now >= s3->drain_deadline_ns))
			break;
		if (dpf_spool_count(s3->spool) == 0 || now < retry_at) {
			uint64_t until = retry_at > now ? retry_at : UINT64_MAX;
			struct timespec ts;

			if (s3->stopping && until > s3->drain_deadline_ns)
				until = s3->drain_deadline_ns;
			if (until == UINT64_MAX) {
				pthread_cond_wait(&s3->wake, &s3->lock);
			} else {
				ts = mono_ts(until);
				pthread_cond_timedwait(&s3->wake, &s3->lock, &ts);
			}
			continue;
		}
		dpf_spool_oldest(s3->spool, &name);
		snprintf(key, sizeof(key), "%s", name);
		dpf_spool_path(s3->spool, key, path, sizeof(path));
		pthread_mutex_unlock(&s3->lock);

		rc = dpf_s3_put_file(s3->client, key, path, &res);
		if (rc == 0 && stat(path, &st) != 0)
			st.st_size = 0;

		pthread_mutex_lock(&s3->lock);
		if (rc == 0) {
			dpf_spool_remove(s3->spool, key);
			s3->files_uploaded++;
			s3->bytes_uploaded += (uint64_t)st.st_size;
			if (failures_in_row != 0)
				DPF_LOG(NOTICE, output,
					"s3: uploads resumed after %u failed attempts\n",
					failures_in_row);
			failures_in_row = 0;
			last_rc = 0;
			retry_at = 0;
			continue;
		}
		if (rc == -ENOENT && res.http_status == 0) {
			/* Someone removed the spooled file: nothing left to deliver. */
			DPF_LOG(WARNING, output, "s3: spooled file %s vanished; dropping it\n",
				path);
			dpf_spool_remove(s3->spool, key);
			s3->files_vanished++;
			continue;
		}
		s3->upload_failures++;
		failures_in_row++;
		retry_at =
			dpf_mono_ns() + 1000000ull * dpf_s3_backoff_ms(failures_in_row, s3->retry_min_ms,
								   s3->retry_max_ms, rte_rand());
		/* The first failure of a run, and any change of cause, not every retry. */
		if (failures_in_row == 1 || rc != last_rc) {
			describe_result(rc, &res, what, sizeof(what));
			dpf_s3_describe(s3->client, key, where, sizeof(where));
			DPF_LOG(WARNING, output,
				"s3: upload to %s failed: %s; retrying with backoff\n",
				where, what);
		}
		last_rc = rc;
	}
	pthread_mutex_unlock(&s3->lock);
	return NULL;
}

/* ------------------------------------------------------------ set-up */

/* Credentials: --s3-credentials, else the environment, else the shared file. */
static int
load_credentials(const struct dpf_options *o, struct dpf_s3_credentials *c)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	const char *profile = o->s3_profile != NULL ? o->s3_profile : getenv("AWS_PROFILE");
	char path[PATH_MAX], err[PATH_MAX + 128];
	const char *file = o->s3_credentials;
	struct stat st;
	int rc;

	memset(c, 0, sizeof(*c));
	if (file == NULL && id != NULL && secret != NULL && id[0] != '\0' && secret[0] != '\0') {
		if (strlen(id) >= sizeof(c->access_key_id) ||
		    strlen(secret) >= sizeof(c->secret_access_key) ||
		    (token != NULL && strlen(token) >= sizeof(c->session_token))) {
			DPF_LOG(ERR, output, "s3: AWS_* credential variables are too long\n");
			return -EINVAL;
		}
		strcpy(c->access_key_id, id);
		strcpy(c->secret_access_key, secret);
		if (token != NULL)
			strcpy(c->session_token, token);
		return 0;
	}
	if (file == NULL)
		file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (file == NULL && getenv("HOME") != NULL) {
		snprintf(path, sizeof(path), "%s/.aws/credentials", getenv("HOME"));
		if (access(path, F_OK) == 0)
			file = path;
	}
	if (file == NULL) {
		DPF_LOG(ERR, output, "s3: no credentials: set AWS_ACCESS_KEY_ID and "
				"AWS_SECRET_ACCESS_KEY, or --s3-credentials FILE\n");
		return -ENOENT;
	}
	if (stat(file, &st) == 0 && (st.st_mode & 0077) != 0)
		DPF_LOG(WARNING, output,
			"s3: warning: %s is readable by other users (mode %04o); "
			"chmod 600 it\n",
			file, (unsigned int)(st.st_mode & 07777));
	rc = dpf_s3_credentials_load(file, profile, c, err, sizeof(err));
	if (rc != 0)
		DPF_LOG(ERR, output, "s3: credentials: %s%s%s\n", err,
			profile != NULL ? ", profile " : "", profile != NULL ? profile : "");
	return rc;
}

static int
check_options(const struct dpf_options *o)
{
	if (strcmp(o->output, "-") == 0) {
		DPF_LOG(ERR, output, "--s3-bucket needs --output DIR (files to upload)\n");
		return -EINVAL;
	}
	if (!dpf_s3_prefix_valid(o->s3_prefix)) {
		DPF_LOG(ERR, output,
			"--s3-prefix '%s': use letters, digits and ! - _ . * ' ( ) = "
			"in '/'-separated parts, none empty or starting with '.'\n",
			o->s3_prefix);
		return -EINVAL;
	}
	return 0;
}

static int
validate_bucket(struct s3 *s3, const char *prefix)
{
	char key[DPF_S3_KEY_MAX + 1], what[512], where[DPF_S3_KEY_MAX + 300];
	struct dpf_s3_result res;
	int rc;

	rc = dpf_s3_validation_key(prefix, key, sizeof(key));
	if (rc != 0)
		return rc;
	rc = dpf_s3_put_buffer(s3->client, key, NULL, 0, &res);
	dpf_s3_describe(s3->client, key, where, sizeof(where));
	if (rc == 0) {
		DPF_LOG(INFO, output, "s3: wrote %s\n", where);
		return 0;
	}
	describe_result(rc, &res, what, sizeof(what));
	if (res.http_status != 0)
		DPF_LOG(ERR, output, "s3: the bucket refused the validation object %s: %s\n",
			where, what);
	else
		DPF_LOG(ERR, output, "s3: cannot write the validation object %s: %s\n", where,
			what);
	return rc;
}

static int
open_spool(struct s3 *s3, const struct dpf_options *o)
{
	struct dpf_spool_params sp;
	int n;

	if (o->s3_spool != NULL)
		n = snprintf(s3->spool_dir, sizeof(s3->spool_dir), "%s", o->s3_spool);
	else
		n = snprintf(s3->spool_dir, sizeof(s3->spool_dir), "%s/.s3-spool", o->output);
	if (n < 0 || (size_t)n >= sizeof(s3->spool_dir))
		return -ENAMETOOLONG;
	memset(&sp, 0, sizeof(sp));
	sp.dir = s3->spool_dir;
	sp.max_bytes = o->s3_spool_max_mb * 1000000ull;
	sp.max_files = (uint32_t)o->s3_spool_max_files;
	s3->spool = dpf_spool_open(&sp);
	if (s3->spool == NULL) {
		DPF_LOG(ERR, output, "--s3-spool %s: %s\n", s3->spool_dir, strerror(rte_errno));
		return -rte_errno;
	}
	s3->files_recovered = dpf_spool_count(s3->spool);
	if (s3->files_recovered != 0)
		DPF_LOG(NOTICE, output,
			"s3: %" PRIu32 " files (%" PRIu64 " bytes) from an earlier run "
			"wait in %s; uploading them first\n",
			dpf_spool_count(s3->spool), dpf_spool_bytes(s3->spool), s3->spool_dir);
	return 0;
}

static void
on_counters(void *ctx, struct dpf_export_counters *c)
{
	struct s3 *s3 = ctx;

	pthread_mutex_lock(&s3->lock);
	c->rows = 0;
	c->lost = s3->files_not_spooled;
	dpf_export_counter(c, "files-recovered", s3->files_recovered);
	dpf_export_counter(c, "files-spooled", s3->files_spooled);
	dpf_export_counter(c, "files-not-spooled", s3->files_not_spooled);
	dpf_export_counter(c, "files-uploaded", s3->files_uploaded);
	dpf_export_counter(c, "bytes-uploaded", s3->bytes_uploaded);
	dpf_export_counter(c, "upload-failures", s3->upload_failures);
	dpf_export_counter(c, "files-vanished", s3->files_vanished);
	dpf_export_gauge(c, "spool-files", dpf_spool_count(s3->spool));
	dpf_export_gauge(c, "spool-bytes", dpf_spool_bytes(s3->spool));
	pthread_mutex_unlock(&s3->lock);
}

static void
on_free(void *ctx)
{
	struct s3 *s3 = ctx;

	/* Running only when the writer never ran its stop callback (start-up
	 * failed later): no time to drain the spool. */
	stop_uploader(s3, 0);
	dpf_spool_close(s3->spool);
	dpf_s3_free(s3->client);
	pthread_cond_destroy(&s3->wake);
	pthread_mutex_destroy(&s3->lock);
	free(s3);
}

/* Its one file callback, then a line of life callbacks (output.h's order). */
static const struct dpf_exporter_ops s3_ops = {
	.name = "s3",
	.file_published = on_published,
	.stop = on_stop, .counters = on_counters, .free = on_free,
};

/* The client of the bucket; credentials are wiped once it holds them. */
static int
create_client(struct s3 *s3, const struct dpf_options *o)
{
	struct dpf_s3_credentials creds;
	struct dpf_s3_params p;
	char endpoint[300];
	const char *region;
	int rc;

	region = o->s3_region != NULL ? o->s3_region : o->region != NULL ? o->region : "us-east-1";
	if (o->s3_endpoint != NULL)
		snprintf(endpoint, sizeof(endpoint), "%s", o->s3_endpoint);
	else
		snprintf(endpoint, sizeof(endpoint), "https://s3.%s.amazonaws.com", region);
	rc = load_credentials(o, &creds);
	if (rc != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.endpoint = endpoint;
	p.bucket = o->s3_bucket;
	p.region = region;
	p.url_style = (enum dpf_s3_url_style)o->s3_url_style;
	p.creds = &creds;
	p.connect_timeout_ms = (uint32_t)o->s3_timeout_sec * 1000;
	p.stall_timeout_sec = (uint32_t)o->s3_timeout_sec;
	p.ca_file = o->s3_ca_file;
	s3->client = dpf_s3_create(&p);
	dpf_s3_credentials_wipe(&creds);
	if (s3->client == NULL) {
		DPF_LOG(ERR, output,
			"s3: bucket '%s', endpoint '%s', region '%s': %s (bucket: 3-63 of "
			"a-z 0-9 . -; endpoint: http:// or https:// URL; virtual-host style "
			"needs a host name and a bucket without dots)\n",
			o->s3_bucket, endpoint, region, strerror(rte_errno));
		return -EINVAL;
	}
	return 0;
}

static struct s3 *
s3_new(const struct dpf_options *o)
{
	struct s3 *s3 = calloc(1, sizeof(*s3));
	pthread_condattr_t ca;

	if (s3 == NULL)
		return NULL;
	pthread_mutex_init(&s3->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s3->wake, &ca);
	pthread_condattr_destroy(&ca);
	s3->layout = (enum dpf_s3_layout)o->s3_layout;
	s3->prefix = o->s3_prefix;
	s3->keep_local = o->s3_keep_local != 0;
	s3->retry_min_ms = o->s3_retry_min_ms;
	s3->retry_max_ms = RTE_MAX(o->s3_retry_max_sec * 1000, o->s3_retry_min_ms);
	s3->drain_ns = o->s3_drain_sec * NS_PER_SEC;
	/* The options outlive the writer (main.c frees them after it). */
	s3->output = o->output;
	if (o->ibm_output != NULL && strcmp(o->ibm_output, "-") != 0)
		s3->ibm_output = o->ibm_output;
	return s3;
}

int
dpf_export_s3_add(struct dpf_writer *w, const struct dpf_options *o)
{
	struct s3 *s3;
	int rc;

	if (o->s3_bucket == NULL)
		return 0;
	rc = check_options(o);
	if (rc != 0)
		return rc;
	s3 = s3_new(o);
	if (s3 == NULL)
		return -ENOMEM;
	rc = create_client(s3, o);
	if (rc == 0)
		rc = validate_bucket(s3, o->s3_prefix);
	if (rc == 0)
		rc = open_spool(s3, o);
	if (rc != 0) {
		on_free(s3);
		return rc;
	}
	rc = dpf_writer_add(w, &s3_ops, s3);
	if (rc != 0) {
		DPF_LOG(ERR, output, "s3: %s\n", strerror(-rc));
		return rc;
	}
	rc = rte_ctrl_thread_create(&s3->tid, "dpf-s3", NULL, uploader_main, s3);
	if (rc != 0) {
		/* Added already: the exporter stays, and on_stop sees no thread. */
		DPF_LOG(ERR, output, "s3: uploader thread: %s\n", strerror(rc));
		return -rc;
	}
	s3->thread_started = true;
	DPF_LOG(INFO, output, "s3: uploading to s3://%s/%s (%s layout), spool %s\n", o->s3_bucket,
		o->s3_prefix != NULL ? o->s3_prefix : "", layout_names[s3->layout], s3->spool_dir);
	return 0;
}
