/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_s3.h"
#include "dpf_util.h"

#define RESPONSE_MAX 8192
#define URL_MAX (DPF_S3_KEY_MAX * 3 + 1024)
#define CONNECT_TIMEOUT_MS_DEFAULT 5000
#define STALL_TIMEOUT_SEC_DEFAULT 30
#define STALL_BYTES_PER_SEC 1024
#define CRED_FILE_MAX (1024 * 1024)
/* "_yyyymmddTHHmmZ_" */
#define STAMP_LEN 16

struct dpf_s3 {
	CURL *curl;
	/* The strings lie after the handle, in its one allocation. */
	const char *scheme; /* "http" / "https" */
	char *authority;    /* host[:port] of the endpoint */
	char *base_path;    /* endpoint path without trailing '/', may be "" */
	char *bucket;
	char *region;
	char *ca_file;
	char sigv4[128];
	enum dpf_s3_url_style url_style;
	uint32_t connect_timeout_ms;
	uint32_t stall_timeout_sec;
	struct dpf_s3_credentials creds;
	char response[RESPONSE_MAX + 1];
	size_t response_len;
};

static const char *const layout_names[] = {"plain", "hourly", "hive", "hive-hourly"};

int
dpf_s3_layout_parse(const char *s, enum dpf_s3_layout *out)
{
	size_t i;

	if (s == NULL || out == NULL)
		return -EINVAL;
	for (i = 0; i < RTE_DIM(layout_names); i++) {
		if (strcmp(s, layout_names[i]) == 0) {
			*out = (enum dpf_s3_layout)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool
safe_char(char c)
{
	return isalnum((unsigned char)c) || strchr("!-_.*'()=", c) != NULL;
}

bool
dpf_s3_prefix_valid(const char *prefix)
{
	const char *p;
	size_t len, comp = 0;

	if (prefix == NULL)
		return true;
	len = strlen(prefix);
	if (len > DPF_S3_PREFIX_MAX)
		return false;
	/* Drop one leading and one trailing '/'. */
	if (len > 0 && prefix[0] == '/') {
		prefix++;
		len--;
	}
	if (len > 0 && prefix[len - 1] == '/')
		len--;
	for (p = prefix; p < prefix + len; p++) {
		if (*p == '/') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (!safe_char(*p) || (comp == 0 && *p == '.'))
			return false;
		comp++;
	}
	return len == 0 || comp > 0;
}

/* The prefix without its leading and trailing '/', as a pointer and length. */
static void
prefix_span(const char *prefix, const char **start, size_t *len)
{
	size_t l = prefix != NULL ? strlen(prefix) : 0;

	if (l > 0 && prefix[0] == '/') {
		prefix++;
		l--;
	}
	if (l > 0 && prefix[l - 1] == '/')
		l--;
	*start = prefix;
	*len = l;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The last "_yyyymmddTHHmmZ_" in name, or NULL. */
static const char *
find_stamp(const char *name)
{
	const char *found = NULL;
	const char *p;
	size_t len = strlen(name);

	for (p = name; len >= STAMP_LEN && p <= name + len - STAMP_LEN; p++) {
		if (p[0] == '_' && all_digits(p + 1, 8) && p[9] == 'T' && all_digits(p + 10, 4) &&
		    p[14] == 'Z' && p[15] == '_')
			found = p;
	}
	return found;
}

#define REL_COMPONENTS 8

int
dpf_s3_object_key(enum dpf_s3_layout layout, const char *prefix, const char *rel, char *out,
		  size_t cap)
{
	/* How each layout names the day folders, and its hour folder (NULL: none). */
	static const struct {
		bool hive;
		const char *hour_key;
	} layouts[] = {
		[DPF_S3_LAYOUT_PLAIN] = {false, NULL},
		[DPF_S3_LAYOUT_HOURLY] = {false, ""},
		[DPF_S3_LAYOUT_HIVE] = {true, NULL},
		[DPF_S3_LAYOUT_HIVE_HOURLY] = {true, "hour="},
	};
	char buf[DPF_S3_KEY_MAX + 1];
	char hour[16];
	char *comp[REL_COMPONENTS];
	char *save = NULL, *c;
	const char *stamp, *pfx;
	size_t pfx_len;
	unsigned int n = 0;
	int len;

	if (rel == NULL || out == NULL || cap == 0 || !dpf_s3_prefix_valid(prefix))
		return -EINVAL;
	if (strlen(rel) > DPF_S3_KEY_MAX)
		return -ENAMETOOLONG;
	strcpy(buf, rel);
	for (c = strtok_r(buf, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (n == REL_COMPONENTS)
			return -EINVAL;
		comp[n++] = c;
	}
	if (n != REL_COMPONENTS || strcmp(comp[0], "AWSLogs") != 0 ||
	    strcmp(comp[2], "vpcflowlogs") != 0 || strlen(comp[4]) != 4 ||
	    !all_digits(comp[4], 4) || strlen(comp[5]) != 2 || !all_digits(comp[5], 2) ||
	    strlen(comp[6]) != 2 || !all_digits(comp[6], 2))
		return -EINVAL;
	stamp = find_stamp(comp[7]);
	/* The folders and the stamp must name the same day: a file out of its folder is not ours.
	 */
	if (stamp == NULL || memcmp(stamp + 1, comp[4], 4) != 0 ||
	    memcmp(stamp + 5, comp[5], 2) != 0 || memcmp(stamp + 7, comp[6], 2) != 0)
		return -EINVAL;

	if ((unsigned int)layout >= RTE_DIM(layouts))
		return -EINVAL;
	prefix_span(prefix, &pfx, &pfx_len);
	hour[0] = '\0';
	if (layouts[layout].hour_key != NULL)
		snprintf(hour, sizeof(hour), "%s%.2s/", layouts[layout].hour_key, stamp + 10);
	if (!layouts[layout].hive)
		len = snprintf(out, cap, "%.*s%sAWSLogs/%s/vpcflowlogs/%s/%s/%s/%s/%s%s",
			       (int)pfx_len, pfx, pfx_len ? "/" : "", comp[1], comp[3], comp[4],
			       comp[5], comp[6], hour, comp[7]);
	else
		len = snprintf(out, cap,
			       "%.*s%sAWSLogs/aws-account-id=%s/aws-service=vpcflowlogs/"
			       "aws-region=%s/year=%s/month=%s/day=%s/%s%s",
			       (int)pfx_len, pfx, pfx_len ? "/" : "", comp[1], comp[3], comp[4],
			       comp[5], comp[6], hour, comp[7]);
	if (len < 0 || (size_t)len >= cap || len > DPF_S3_KEY_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* rel (already checked) under the prefix, as it is. @return 0 or -ENAMETOOLONG */
static int
under_prefix(const char *prefix, const char *rel, char *out, size_t cap)
{
	const char *pfx;
	size_t pfx_len;
	int len;

	prefix_span(prefix, &pfx, &pfx_len);
	len = snprintf(out, cap, "%.*s%s%s", (int)pfx_len, pfx, pfx_len ? "/" : "", rel);
	if (len < 0 || (size_t)len >= cap || len > DPF_S3_KEY_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int
dpf_s3_ibm_object_key(const char *prefix, const char *rel, char *out, size_t cap)
{
	static const char root[] = "ibm_vpc_flowlogs_v1/";

	if (rel == NULL || out == NULL || cap == 0 || !dpf_s3_prefix_valid(prefix) ||
	    strncmp(rel, root, sizeof(root) - 1) != 0 || !dpf_has_suffix(rel, ".gz") ||
	    strstr(rel, "/../") != NULL || strstr(rel, "//") != NULL)
		return -EINVAL;
	return under_prefix(prefix, rel, out, cap);
}

int
dpf_s3_tg_day_key(const char *prefix, const char *rel, char *out, size_t cap)
{
	static const char head[] = "tg-flow-logs-", tail[] = ".csv.gz";
	/* YYYY-MM-DD: digits but at the dashes. */
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	if (rel == NULL || out == NULL || cap == 0 || !dpf_s3_prefix_valid(prefix) ||
	    strlen(rel) != sizeof(head) - 1 + sizeof(shape) - 1 + sizeof(tail) - 1 ||
	    strncmp(rel, head, sizeof(head) - 1) != 0 || !dpf_has_suffix(rel, tail))
		return -EINVAL;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		char c = rel[sizeof(head) - 1 + i];

		if (shape[i] == 'd' ? c < '0' || c > '9' : c != shape[i])
			return -EINVAL;
	}
	return under_prefix(prefix, rel, out, cap);
}

int
dpf_s3_validation_key(const char *prefix, char *out, size_t cap)
{
	const char *pfx;
	size_t pfx_len;
	int len;

	if (out == NULL || cap == 0 || !dpf_s3_prefix_valid(prefix))
		return -EINVAL;
	prefix_span(prefix, &pfx, &pfx_len);
	len = snprintf(out, cap, "%.*s%svalidation", (int)pfx_len, pfx, pfx_len ? "/" : "");
	if (len < 0 || (size_t)len >= cap || len > DPF_S3_KEY_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* ------------------------------------------------------------ credentials */

void
dpf_s3_credentials_wipe(struct dpf_s3_credentials *c)
{
	if (c != NULL)
		explicit_bzero(c, sizeof(*c));
}

static void
cred_err(char *err, size_t err_len, const char *path, unsigned int line, const char *what)
{
	if (err == NULL || err_len == 0)
		return;
	if (line != 0)
		snprintf(err, err_len, "%s:%u: %s", path, line, what);
	else
		snprintf(err, err_len, "%s: %s", path, what);
}

static int
read_file_text(const char *path, char **text)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto close_fd;
	}
	if (st.st_size > CRED_FILE_MAX) {
		rc = -EFBIG;
		goto close_fd;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto close_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = dpf_read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			rc = n < 0 ? (int)n : -EIO;
			explicit_bzero(buf, got);
			free(buf);
			goto close_fd;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*text = buf;
	close(fd);
	return (int)got;

close_fd:
	close(fd);
	return rc;
}

static int
cred_copy(char *dst, size_t cap, const char *val)
{
	size_t l = strlen(val);

	if (l >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, val, l + 1);
	return 0;
}

int
dpf_s3_credentials_load(const char *path, const char *profile, struct dpf_s3_credentials *out,
			char *err, size_t err_len)
{
	char *text = NULL, *line, *next;
	size_t text_len;
	bool in_profile = false, found = false;
	unsigned int lineno = 0;
	int rc;

	if (path == NULL || out == NULL)
		return -EINVAL;
	if (profile == NULL || profile[0] == '\0')
		profile = "default";
	memset(out, 0, sizeof(*out));
	rc = read_file_text(path, &text);
	if (rc < 0) {
		cred_err(err, err_len, path, 0, strerror(-rc));
		return rc;
	}
	text_len = (size_t)rc;
	rc = 0;
	for (line = text; line != NULL && rc == 0; line = next) {
		char *s, *eq, *key, *val;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		s = dpf_trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close == NULL || *dpf_trim(close + 1) != '\0') {
				cred_err(err, err_len, path, lineno, "bad section header");
				rc = -EINVAL;
				break;
			}
			*close = '\0';
			s = dpf_trim(s + 1);
			/* ~/.aws/config spells sections "[profile NAME]". */
			if (strncmp(s, "profile ", 8) == 0)
				s = dpf_trim(s + 8);
			in_profile = strcmp(s, profile) == 0;
			found |= in_profile;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			/* Never quote the line: it may be a secret pasted on its own. */
			cred_err(err, err_len, path, lineno, "expected 'key = value'");
			rc = -EINVAL;
			break;
		}
		if (!in_profile)
			continue;
		*eq = '\0';
		key = dpf_trim(s);
		val = dpf_trim(eq + 1);
		if (strcmp(key, "aws_access_key_id") == 0)
			rc = cred_copy(out->access_key_id, sizeof(out->access_key_id), val);
		else if (strcmp(key, "aws_secret_access_key") == 0)
			rc = cred_copy(out->secret_access_key, sizeof(out->secret_access_key), val);
		else if (strcmp(key, "aws_session_token") == 0)
			rc = cred_copy(out->session_token, sizeof(out->session_token), val);
		if (rc != 0)
			cred_err(err, err_len, path, lineno, "value too long");
	}
	explicit_bzero(text, text_len);
	free(text);
	if (rc == 0 && !found) {
		cred_err(err, err_len, path, 0, "no such profile");
		rc = -ENOENT;
	} else if (rc == 0 &&
		   (out->access_key_id[0] == '\0' || out->secret_access_key[0] == '\0')) {
		cred_err(err, err_len, path, 0,
			 "profile lacks aws_access_key_id or aws_secret_access_key");
		rc = -ENOENT;
	}
	if (rc != 0)
		dpf_s3_credentials_wipe(out);
	return rc;
}

/* ------------------------------------------------------------ client */

static bool
bucket_valid(const char *b)
{
	size_t len = strlen(b), i;

	if (len < 3 || len > 63)
		return false;
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '.' &&
		    b[i] != '-')
			return false;
	return isalnum((unsigned char)b[0]) && isalnum((unsigned char)b[len - 1]);
}

static bool
region_valid(const char *r)
{
	size_t len = strlen(r), i;

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)r[i]) && r[i] != '-' && r[i] != '_')
			return false;
	return true;
}

static bool
cred_token_valid(const char *s, bool may_be_empty)
{
	if (s[0] == '\0')
		return may_be_empty;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

/* "scheme://authority/path", split in place: the parts are copied once the
 * client's allocation is made (together they are shorter than the endpoint). */
struct endpoint {
	const char *scheme;
	const char *auth;
	size_t auth_len;
	const char *path;
	size_t path_len;
};

static int
parse_endpoint(const char *ep, struct endpoint *e)
{
	const char *slash;

	if (strncmp(ep, "http://", 7) == 0) {
		e->scheme = "http";
		e->auth = ep + 7;
	} else if (strncmp(ep, "https://", 8) == 0) {
		e->scheme = "https";
		e->auth = ep + 8;
	} else {
		return -EINVAL;
	}
	slash = strchr(e->auth, '/');
	if (slash == NULL)
		slash = e->auth + strlen(e->auth);
	if (slash == e->auth || strpbrk(e->auth, "?#@ ") != NULL)
		return -EINVAL;
	e->auth_len = (size_t)(slash - e->auth);
	e->path = slash;
	e->path_len = strlen(slash);
	while (e->path_len > 0 && slash[e->path_len - 1] == '/')
		e->path_len--;
	return 0;
}

/* An IP literal cannot take a bucket label in front of it. */
static bool
authority_is_ip(const char *a)
{
	size_t i;

	if (a[0] == '[')
		return true;
	for (i = 0; a[i] != '\0' && a[i] != ':'; i++)
		if (!isdigit((unsigned char)a[i]) && a[i] != '.')
			return false;
	return true;
}

struct dpf_s3 *
dpf_s3_create(const struct dpf_s3_params *p)
{
	size_t bucket_len, region_len, ca_len;
	struct endpoint ep;
	struct dpf_s3 *c;
	char *tail;
	int rc = -EINVAL;

	if (p == NULL || p->endpoint == NULL || p->bucket == NULL || p->region == NULL ||
	    p->creds == NULL || !bucket_valid(p->bucket) || !region_valid(p->region) ||
	    !cred_token_valid(p->creds->access_key_id, false) ||
	    !cred_token_valid(p->creds->secret_access_key, false) ||
	    !cred_token_valid(p->creds->session_token, true) ||
	    strchr(p->creds->access_key_id, ':') != NULL ||
	    (p->url_style != DPF_S3_URL_PATH && p->url_style != DPF_S3_URL_VIRTUAL))
		goto fail;
	rc = parse_endpoint(p->endpoint, &ep);
	if (rc != 0)
		goto fail;
	bucket_len = strlen(p->bucket);
	region_len = strlen(p->region);
	ca_len = p->ca_file != NULL ? strlen(p->ca_file) : 0;
	c = calloc(1, sizeof(*c) + ep.auth_len + 1 + ep.path_len + 1 + bucket_len + 1 + region_len +
			      1 + ca_len + 1);
	if (c == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	tail = (char *)(c + 1);
	c->scheme = ep.scheme;
	c->authority = dpf_layout_str(&tail, ep.auth, ep.auth_len);
	c->base_path = dpf_layout_str(&tail, ep.path, ep.path_len);
	c->bucket = dpf_layout_str(&tail, p->bucket, bucket_len);
	c->region = dpf_layout_str(&tail, p->region, region_len);
	if (p->ca_file != NULL)
		c->ca_file = dpf_layout_str(&tail, p->ca_file, ca_len);
	/* A dotted bucket would not be one host label under TLS wildcards either. */
	if (p->url_style == DPF_S3_URL_VIRTUAL &&
	    (authority_is_ip(c->authority) || strchr(p->bucket, '.') != NULL)) {
		rc = -EINVAL;
		goto free_client;
	}
	snprintf(c->sigv4, sizeof(c->sigv4), "aws:amz:%s:s3", c->region);
	c->url_style = p->url_style;
	c->connect_timeout_ms =
		p->connect_timeout_ms != 0 ? p->connect_timeout_ms : CONNECT_TIMEOUT_MS_DEFAULT;
	c->stall_timeout_sec =
		p->stall_timeout_sec != 0 ? p->stall_timeout_sec : STALL_TIMEOUT_SEC_DEFAULT;
	c->creds = *p->creds;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc = -EIO;
		goto free_client;
	}
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		curl_global_cleanup();
		rc = -EIO;
		goto free_client;
	}
	return c;

free_client:
	dpf_s3_free(c);
fail:
	return dpf_null_errno(-rc);
}

void
dpf_s3_free(struct dpf_s3 *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	dpf_s3_credentials_wipe(&c->creds);
	free(c);
}

/* S3's URI encoding: every byte but unreserved characters and '/'. */
static int
uri_encode_key(const char *key, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *key != '\0'; key++) {
		unsigned char ch = (unsigned char)*key;

		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/') {
			if (o + 1 >= cap)
				return -ENAMETOOLONG;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= cap)
				return -ENAMETOOLONG;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int
build_url(const struct dpf_s3 *c, const char *key, char *url, size_t cap)
{
	char enc[DPF_S3_KEY_MAX * 3 + 1];
	int n;

	if (key == NULL || key[0] == '\0' || key[0] == '/' || strlen(key) > DPF_S3_KEY_MAX)
		return -EINVAL;
	if (uri_encode_key(key, enc, sizeof(enc)) != 0)
		return -ENAMETOOLONG;
	if (c->url_style == DPF_S3_URL_VIRTUAL)
		n = snprintf(url, cap, "%s://%s.%s%s/%s", c->scheme, c->bucket, c->authority,
			     c->base_path, enc);
	else
		n = snprintf(url, cap, "%s://%s%s/%s/%s", c->scheme, c->authority, c->base_path,
			     c->bucket, enc);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int
dpf_s3_describe(const struct dpf_s3 *c, const char *key, char *out, size_t cap)
{
	int n;

	if (c == NULL || key == NULL || out == NULL || cap == 0)
		return -EINVAL;
	n = snprintf(out, cap, "s3://%s/%s at %s://%s%s", c->bucket, key, c->scheme, c->authority,
		     c->base_path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static size_t
on_response(char *data, size_t size, size_t nmemb, void *arg)
{
	struct dpf_s3 *c = arg;
	size_t n = size * nmemb;
	size_t keep = RTE_MIN(n, RESPONSE_MAX - c->response_len);

	memcpy(c->response + c->response_len, data, keep);
	c->response_len += keep;
	return n;
}

struct body {
	int fd; /* -1: from mem */
	const unsigned char *mem;
	size_t len;
	size_t pos;
	int read_errno;
};

static size_t
on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t want = size * nmemb;
	ssize_t n;

	if (b->fd < 0) {
		size_t m = RTE_MIN(want, b->len - b->pos);

		memcpy(buf, b->mem + b->pos, m);
		b->pos += m;
		return m;
	}
	n = dpf_read(b->fd, buf, want);
	if (n < 0) {
		b->read_errno = (int)-n;
		return CURL_READFUNC_ABORT;
	}
	b->pos += (size_t)n;
	return (size_t)n;
}

/* Copy the text between <tag> and </tag> of the response, printable only. */
static void
xml_field(const char *xml, const char *tag, char *out, size_t cap)
{
	char open[32], close[32];
	const char *s, *e;
	size_t i, o = 0;

	out[0] = '\0';
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(xml, open);
	if (s == NULL)
		return;
	s += strlen(open);
	e = strstr(s, close);
	if (e == NULL)
		return;
	for (i = 0; s + i < e && o + 1 < cap; i++)
		out[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[o] = '\0';
}

static int
curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

static int
status_errno(long st)
{
	if (st >= 200 && st < 300)
		return 0;
	if (st == 403)
		return -EACCES;
	if (st == 404)
		return -ENOENT;
	if (st == 400)
		return -EINVAL;
	if (st >= 500 || st == 429)
		return -EAGAIN;
	return -EPROTO;
}

static void
sha256_hex(const unsigned char digest[32], char hex[65])
{
	static const char h[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = h[digest[i] >> 4];
		hex[2 * i + 1] = h[digest[i] & 15];
	}
	hex[64] = '\0';
}

/* SHA-256 of the body, the fd rewound afterwards. */
static int
body_sha256(struct body *b, char hex[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -EIO;

	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto free_ctx;
	if (b->fd < 0) {
		if (b->len > 0 && EVP_DigestUpdate(ctx, b->mem, b->len) != 1)
			goto free_ctx;
	} else {
		unsigned char buf[65536];
		size_t total = 0;

		for (;;) {
			ssize_t n = dpf_read(b->fd, buf, sizeof(buf));

			if (n < 0) {
				rc = (int)n;
				goto free_ctx;
			}
			if (n == 0)
				break;
			if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
				goto free_ctx;
			total += (size_t)n;
		}
		/* The file must not change between hashing and sending. */
		if (total != b->len || lseek(b->fd, 0, SEEK_SET) != 0) {
			rc = total != b->len ? -EIO : -errno;
			goto free_ctx;
		}
	}
	if (EVP_DigestFinal_ex(ctx, digest, &dlen) != 1 || dlen != 32)
		goto free_ctx;
	sha256_hex(digest, hex);
	rc = 0;
free_ctx:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void
result_reset(struct dpf_s3_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
}

static int
put(struct dpf_s3 *c, const char *key, struct body *b, struct dpf_s3_result *res)
{
	char url[URL_MAX];
	char hash_hdr[96];
	char token_hdr[sizeof(c->creds.session_token) + 32];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL, *h;
	char hex[65];
	CURLcode cc;
	long status = 0;
	int rc;

	rc = build_url(c, key, url, sizeof(url));
	if (rc != 0)
		return rc;
	rc = body_sha256(b, hex);
	if (rc != 0)
		return rc;
	/* curl 7.75+ signs what we give; it leaves the payload hash to us for uploads. */
	snprintf(hash_hdr, sizeof(hash_hdr), "x-amz-content-sha256: %s", hex);
	hdrs = curl_slist_append(hdrs, hash_hdr);
	if (hdrs == NULL)
		return -ENOMEM;
	if (c->creds.session_token[0] != '\0') {
		snprintf(token_hdr, sizeof(token_hdr), "x-amz-security-token: %s",
			 c->creds.session_token);
		h = curl_slist_append(hdrs, token_hdr);
		explicit_bzero(token_hdr, sizeof(token_hdr));
		if (h == NULL) {
			rc = -ENOMEM;
			goto free_headers;
		}
		hdrs = h;
	}
	/*
	 * Note: no "Expect:" override here. curl signs every header it is
	 * given, including an empty one it then leaves out of the request, which
	 * breaks the signature.
	 */
	curl_easy_reset(c->curl);
	errbuf[0] = '\0';
	c->response_len = 0;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, b);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_response);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_AWS_SIGV4, c->sigv4);
	curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->creds.access_key_id);
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->creds.secret_access_key);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, (long)STALL_BYTES_PER_SEC);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, (long)c->stall_timeout_sec);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (c->ca_file != NULL)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_file);
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	c->response[c->response_len] = '\0';
	if (res != NULL) {
		/* An interim 100 Continue is not an answer. */
		res->http_status = status >= 200 ? status : 0;
		xml_field(c->response, "Code", res->code, sizeof(res->code));
		xml_field(c->response, "Message", res->message, sizeof(res->message));
	}
	if (cc != CURLE_OK) {
		if (b->read_errno != 0)
			rc = -b->read_errno;
		else
			rc = curl_errno(cc);
		if (res != NULL)
			snprintf(res->message, sizeof(res->message), "%s",
				 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
	} else {
		rc = status_errno(status);
	}
	/* Drop the references to our stack before the next request. */
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
free_headers:
	for (h = hdrs; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
	return rc;
}

int
dpf_s3_put_file(struct dpf_s3 *c, const char *key, const char *path, struct dpf_s3_result *res)
{
	struct body b = {.fd = -1};
	struct stat st;
	int rc;

	result_reset(res);
	if (c == NULL || key == NULL || path == NULL)
		return -EINVAL;
	b.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b.fd < 0)
		return -errno;
	if (fstat(b.fd, &st) != 0) {
		rc = -errno;
		goto close_fd;
	}
	b.len = (size_t)st.st_size;
	rc = put(c, key, &b, res);
close_fd:
	close(b.fd);
	return rc;
}

int
dpf_s3_put_buffer(struct dpf_s3 *c, const char *key, const void *data, size_t len,
		  struct dpf_s3_result *res)
{
	struct body b = {.fd = -1, .mem = data, .len = len};

	result_reset(res);
	if (c == NULL || key == NULL || (data == NULL && len != 0))
		return -EINVAL;
	return put(c, key, &b, res);
}

uint64_t
dpf_s3_backoff_ms(unsigned int attempt, uint64_t base_ms, uint64_t max_ms, uint64_t rnd)
{
	uint64_t delay = base_ms;
	unsigned int i;

	if (attempt == 0 || base_ms == 0)
		return 0;
	for (i = 1; i < attempt && delay < max_ms && delay <= UINT64_MAX / 2; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	return delay / 2 + rnd % (delay - delay / 2 + 1);
}
