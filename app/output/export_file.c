/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The record files: every row formatted (lib/fmt) and handed to the sink
 * (lib/sink: stdout, or files in the AWS object layout), one exporter of the
 * writer (output.h).
 *
 * Output errors (doc/reliability.md): when the disk refuses something the
 * sink holds the output in memory (up to --hold-mb) and this exporter
 * retries every RETRY_MS, logging one line when the output blocks, when
 * records start being lost, and when it is writable again. At stop it keeps
 * retrying for STOP_RETRY_MS, then counts what is still held as lost.
 *
 * Threads: the writer thread calls everything but set_format (the control
 * thread: a format handed over with an atomic exchange, taken at the next
 * window end) and counters (any thread: relaxed loads of what the writer
 * publishes after each call).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_random.h>

#include "dpf_fmt.h"
#include "dpf_sink.h"
#include "log.h"
#include "output.h"
#include "dpf_util.h"

#define RETRY_MS 250
#define STOP_RETRY_MS 5000

struct dpf_export_file {
	struct dpf_writer *writer; /* told of every published file */
	struct dpf_run *run;
	const struct dpf_options *opt;
	const struct dpf_fmt_ctx *fmt_ctx;
	bool stream; /* --output - */
	struct dpf_fmt *fmt;
	struct dpf_fmt *fmt_next; /* set log-format: control -> writer (exchange) */
	struct dpf_sink *sink;
	struct dpf_sink_stats carried; /* counters of sinks replaced by a format change */
	struct dpf_sink_recovery recovered;
	int last_errno; /* stream mode: last error logged */
	/* Files mode: output state as last logged. */
	int blocked_errno;
	uint64_t blocked_since_ms;
	uint64_t lost_at_block; /* lines_lost when the outage began */
	bool loss_logged;
	uint64_t next_retry_ms;
	/* Published by the writer thread after each call (relaxed stores). */
	struct dpf_sink_stats pub;
	uint64_t rows;
	uint64_t format_errors;
};

/* The sink's counters plus those of sinks a format change replaced. */
static void
publish_stats(struct dpf_export_file *x)
{
	struct dpf_sink_stats st = {0};
	const uint64_t *a, *c;
	uint64_t *o;
	size_t i;

	if (x->sink != NULL)
		dpf_sink_get_stats(x->sink, &st);
	a = (const uint64_t *)&st;
	c = (const uint64_t *)&x->carried;
	o = (uint64_t *)&x->pub;
	/* Every field is a uint64_t counter; the maxima add up as harmlessly. */
	for (i = 0; i < sizeof(st) / sizeof(uint64_t); i++)
		__atomic_store_n(&o[i], a[i] + c[i], __ATOMIC_RELAXED);
}

static void
log_blocked_change(struct dpf_export_file *x, int err, const char *path,
		   const struct dpf_sink_stats *st, uint64_t now)
{
	if (x->blocked_errno == 0) {
		x->blocked_since_ms = now;
		x->lost_at_block = st->lines_lost;
		x->loss_logged = false;
		DPF_LOG(WARNING, output,
			"output: %s: %s%s; holding records in memory (up to %" PRIu64
			" MB, --hold-mb) and retrying every %u ms\n",
			path, strerror(err),
			err == ELOOP ? " (a symbolic link: dpflow never follows one below "
				       "--output)"
				     : "",
			x->opt->hold_mb, RETRY_MS);
	} else if (err != 0) {
		DPF_LOG(WARNING, output, "output: still blocked: %s: %s\n", path, strerror(err));
	} else {
		DPF_LOG(NOTICE, output,
			"output: writable again after %.1f s; held records "
			"written, %" PRIu64 " lost meanwhile\n",
			(double)(now - x->blocked_since_ms) / 1000.0,
			st->lines_lost - x->lost_at_block);
	}
	x->blocked_errno = err;
}

/* Retry a blocked output when due, and log its changes of state. */
static void
watch_output(struct dpf_export_file *x, bool force_retry)
{
	struct dpf_sink_stats st;
	const char *path;
	uint64_t now = dpf_mono_ms();
	int err = dpf_sink_blocked(x->sink, &path);

	if (err != 0 && (force_retry || now >= x->next_retry_ms)) {
		dpf_sink_retry(x->sink);
		x->next_retry_ms = now + RETRY_MS;
		err = dpf_sink_blocked(x->sink, &path);
	}
	dpf_sink_get_stats(x->sink, &st);
	if (err != x->blocked_errno)
		log_blocked_change(x, err, path, &st, now);
	if (err != 0 && !x->loss_logged && st.lines_lost > x->lost_at_block) {
		DPF_LOG(WARNING, output,
			"output: %" PRIu64 " MB held, the --hold-mb limit: records "
			"are now counted as lost (writer lost-lines) until the output is "
			"writable\n",
			x->opt->hold_mb);
		x->loss_logged = true;
	}
	publish_stats(x);
}

static void
on_publish(void *arg, const char *path)
{
	struct dpf_export_file *x = arg;

	dpf_writer_published(x->writer, path);
}

static int
open_sink(struct dpf_export_file *x)
{
	const struct dpf_options *o = x->opt;
	struct dpf_sink_params sp;
	char header[DPF_FMT_LINE_MAX];
	int rc;

	rc = dpf_fmt_header(x->fmt, header, sizeof(header));
	if (rc < 0)
		return rc;
	memset(&sp, 0, sizeof(sp));
	sp.header = header;
	if (x->stream) {
		sp.stream = stdout;
	} else {
		sp.dir = o->output;
		sp.compress = (enum dpf_compress)o->compress;
		sp.level = (int)o->compress_level;
		sp.account_id = o->account_id;
		sp.region = o->region != NULL ? o->region : "unknown";
		sp.flow_log_id = o->flow_log_id;
		sp.nonce = rte_rand();
		sp.on_publish = on_publish;
		sp.on_publish_arg = x;
		sp.hold_bytes = o->hold_mb << 20;
	}
	x->sink = dpf_sink_create(&sp);
	if (x->sink == NULL) {
		DPF_LOG(ERR, output, "--output %s: %s\n", o->output, strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* set log-format: publish what was written with the old format, start anew. */
static void
switch_format(struct dpf_export_file *x)
{
	struct dpf_fmt *next = __atomic_exchange_n(&x->fmt_next, NULL, __ATOMIC_ACQ_REL);
	struct dpf_sink_stats st;
	const uint64_t *a;
	uint64_t *c;
	size_t i;

	if (next == NULL)
		return;
	if (dpf_sink_close_all(x->sink) < 0)
		DPF_LOG(ERR, output, "writer: publishing files before a format change failed\n");
	dpf_sink_get_stats(x->sink, &st);
	a = (const uint64_t *)&st;
	c = (uint64_t *)&x->carried;
	for (i = 0; i < sizeof(st) / sizeof(uint64_t); i++)
		c[i] += a[i];
	dpf_sink_free(x->sink);
	x->sink = NULL;
	dpf_fmt_free(x->fmt);
	x->fmt = next;
	if (open_sink(x) < 0) {
		DPF_LOG(ERR, output, "writer: cannot reopen the output after a format change\n");
		dpf_run_set_output_failed(x->run, true);
	}
}

static void
file_rows(void *ctx, const struct dpf_record *recs, uint32_t n)
{
	struct dpf_export_file *x = ctx;
	char line[DPF_FMT_LINE_MAX];
	uint32_t i;

	if (x->sink == NULL)
		return;
	for (i = 0; i < n; i++) {
		int len = dpf_fmt_record(x->fmt, x->fmt_ctx, &recs[i], line, sizeof(line));
		int rc;

		if (len < 0) {
			x->format_errors++;
			continue;
		}
		rc = dpf_sink_write(x->sink, recs[i].end, line, (size_t)len);
		/* Files mode logs through watch_output(); the sink counts the loss. */
		if (rc < 0 && x->stream && rc != x->last_errno) {
			DPF_LOG(ERR, output, "writer: %s\n", strerror(-rc));
			x->last_errno = rc;
		}
	}
	__atomic_store_n(&x->rows, x->rows + n, __ATOMIC_RELAXED);
	watch_output(x, false);
}

static void
file_window_end(void *ctx, uint64_t window_end)
{
	struct dpf_export_file *x = ctx;
	int rc;

	if (x->sink == NULL)
		return;
	rc = dpf_sink_close_before(x->sink, window_end);
	/*
	 * A killed run then loses at most the open window: recovery keeps the
	 * lines written before the last flush. During a stop the files are
	 * published at its end anyway: the drain (many windows at once) skips
	 * the per-window syscalls.
	 */
	if (!dpf_run_stopping(x->run) && dpf_sink_flush(x->sink) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0)
		DPF_LOG(ERR, output,
			"output: a file was given up (%s); its records are counted as lost\n",
			strerror(-rc));
	switch_format(x);
	if (x->sink != NULL)
		watch_output(x, false);
}

static void
file_idle(void *ctx)
{
	struct dpf_export_file *x = ctx;

	if (x->sink != NULL)
		watch_output(x, false);
}

/* SIGHUP (log rotation): publish every open file now; later lines open new ones. */
static void
file_rotate(void *ctx)
{
	struct dpf_export_file *x = ctx;
	struct dpf_sink_stats before, after;
	int rc;

	if (x->sink == NULL)
		return;
	dpf_sink_get_stats(x->sink, &before);
	rc = dpf_sink_rotate(x->sink);
	dpf_sink_get_stats(x->sink, &after);
	if (rc < 0)
		DPF_LOG(ERR, output, "SIGHUP: publishing the open files: %s\n", strerror(-rc));
	if (x->stream)
		DPF_LOG(NOTICE, output, "SIGHUP: output flushed\n");
	else
		DPF_LOG(NOTICE, output,
			"SIGHUP: open files published: %" PRIu64 "; new ones follow\n",
			after.files_published - before.files_published);
	/* The progress line shows the rotation at once, not after the next batch. */
	publish_stats(x);
}

/* Stop: publish; give a blocked output STOP_RETRY_MS more, then count what is held as lost. */
static int
file_stop(void *ctx)
{
	struct dpf_export_file *x = ctx;
	uint64_t deadline = dpf_mono_ms() + STOP_RETRY_MS;
	uint64_t n;
	int rc;

	if (x->sink == NULL)
		return -EIO;
	rc = dpf_sink_close_all(x->sink);
	if (rc < 0)
		DPF_LOG(ERR, output,
			"output: publishing the last files failed (%s): their records are "
			"counted as lost\n",
			strerror(-rc));
	watch_output(x, true);
	while (x->blocked_errno != 0 && dpf_mono_ms() < deadline) {
		usleep(RETRY_MS * 1000);
		watch_output(x, true);
	}
	if (x->blocked_errno != 0) {
		n = dpf_sink_discard(x->sink);
		DPF_LOG(ERR, output,
			"output: still blocked after %u s at stop: %" PRIu64
			" held records counted as lost\n",
			STOP_RETRY_MS / 1000, n);
	}
	publish_stats(x);
	/* Records that never reached a published file fail the run. */
	return x->pub.lines_lost != 0 || x->format_errors != 0 ? -EIO : 0;
}

static void
file_counters(void *ctx, struct dpf_export_counters *c)
{
	struct dpf_export_file *x = ctx;
	const struct dpf_sink_stats *p = &x->pub;
	const struct dpf_sink_recovery *r = &x->recovered;

	c->rows = dpf_counter_read(&x->rows);
	c->lost = dpf_counter_read(&p->lines_lost);
	dpf_export_counter(c, "lines", dpf_counter_read(&p->records));
	dpf_export_counter(c, "bytes", dpf_counter_read(&p->bytes));
	dpf_export_counter(c, "files", dpf_counter_read(&p->files_published));
	dpf_export_counter(c, "errors", dpf_counter_read(&p->write_errors));
	dpf_export_counter(c, "lost-lines", c->lost);
	dpf_export_counter(c, "format-errors", dpf_counter_read(&x->format_errors));
	dpf_export_counter(c, "files-abandoned", dpf_counter_read(&p->files_abandoned));
	dpf_export_counter(c, "outages", dpf_counter_read(&p->blocked_count));
	dpf_export_counter(c, "retries", dpf_counter_read(&p->retries));
	dpf_export_gauge(c, "held-bytes-max", dpf_counter_read(&p->held_bytes_max));
	/* Written once at start, before the writer runs. */
	dpf_export_counter(c, "leftovers-finished", r->files_finished);
	dpf_export_counter(c, "leftovers-records", r->lines_recovered);
	dpf_export_counter(c, "leftovers-removed", r->files_removed);
	dpf_export_counter(c, "leftovers-dropped", r->lines_dropped);
}

static void
file_free(void *ctx)
{
	struct dpf_export_file *x = ctx;

	dpf_sink_free(x->sink);
	dpf_fmt_free(x->fmt);
	dpf_fmt_free(x->fmt_next);
	free(x);
}

/* One line of record callbacks, one of life callbacks (output.h's order). */
static const struct dpf_exporter_ops file_ops = {
	.name = "writer",
	.rows = file_rows, .window_end = file_window_end, .idle = file_idle, .rotate = file_rotate,
	.stop = file_stop, .counters = file_counters, .free = file_free,
};

/* Temporaries of a run that was killed: finish them (or clean) before writing. */
static void
recover_leftovers(struct dpf_export_file *x, const char *dir)
{
	struct dpf_sink_recovery *r = &x->recovered;
	int rc = dpf_sink_recover(x->sink, r);

	if (rc < 0)
		DPF_LOG(WARNING, output, "output: looking for leftovers in %s: %s\n", dir,
			strerror(-rc));
	if (r->files_finished != 0 || r->files_removed != 0)
		DPF_LOG(NOTICE, output,
			"output: leftovers of an earlier run in %s: %" PRIu64 " finished (%" PRIu64
			" records kept), %" PRIu64 " without records "
			"removed; %" PRIu64 " records of the window the kill cut short dropped "
			"(whole windows only)\n",
			dir, r->files_finished, r->lines_recovered, r->files_removed,
			r->lines_dropped);
	if (r->files_skipped != 0 || r->errors != 0)
		DPF_LOG(WARNING, output,
			"output: left alone in %s: %" PRIu64 " temporaries in use or not "
			"ours, %" PRIu64 " that could not be handled\n",
			dir, r->files_skipped, r->errors);
}

struct dpf_export_file *
dpf_export_file_add(struct dpf_writer *w, const struct dpf_export_file_params *p)
{
	struct dpf_export_file *x = calloc(1, sizeof(*x));
	char err[256];

	if (x == NULL)
		return dpf_null_errno(ENOMEM);
	x->writer = w;
	x->run = p->run;
	x->opt = p->opt;
	x->fmt_ctx = p->fmt_ctx;
	x->stream = strcmp(p->opt->output, "-") == 0;
	x->fmt = dpf_fmt_parse(p->opt->log_format, err, sizeof(err));
	if (x->fmt == NULL) {
		DPF_LOG(ERR, output, "--log-format: %s\n", err);
		free(x);
		return dpf_null_errno(EINVAL);
	}
	if (open_sink(x) < 0) {
		int e = rte_errno;

		file_free(x);
		return dpf_null_errno(e);
	}
	if (!x->stream)
		recover_leftovers(x, p->opt->output);
	publish_stats(x);
	if (dpf_writer_add(w, &file_ops, x) < 0) {
		rte_errno = ENOSPC;
		return NULL;
	}
	return x;
}

int
dpf_export_file_set_format(struct dpf_export_file *x, const char *fmt, char *err, size_t err_len)
{
	struct dpf_fmt *nf;

	/* One stream has one header: a second one mid-stream would break every
	 * reader (files start a new file with its own header instead). */
	if (x->stream) {
		snprintf(err, err_len,
			 "not changed: the records go to stdout (--output -), one stream under "
			 "one header, and a new format would start a second header inside it; "
			 "restart with --log-format, or write files (--output DIR), where a new "
			 "format starts new files");
		return -EPERM;
	}
	nf = dpf_fmt_parse(fmt, err, err_len);
	if (nf == NULL)
		return -EINVAL;
	dpf_fmt_free(__atomic_exchange_n(&x->fmt_next, nf, __ATOMIC_ACQ_REL));
	return 0;
}
