/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_S3_H
#define DPF_S3_H

/**
 * @file
 * S3-compatible object storage: object keys in the AWS flow-log layouts,
 * credentials, and a PUT client signed with AWS Signature Version 4 by
 * libcurl (CURLOPT_AWS_SIGV4). Works with any endpoint that speaks the S3
 * API (AWS S3, MinIO, Ceph RGW, ...), path-style or virtual-host style.
 *
 * Object keys (formats.md, "Files"), from a published file's path relative
 * to the output directory, AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/<name>,
 * where <name> holds the _<yyyymmddTHHmmZ>_ slot stamp:
 *
 *   plain        <prefix>AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/<name>
 *   hourly       <prefix>AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/<HH>/<name>
 *   hive         <prefix>AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/
 *                  aws-region=<region>/year=<yyyy>/month=<mm>/day=<dd>/<name>
 *   hive-hourly  the hive layout plus hour=<HH>/ before <name>
 *
 * The key depends only on the file's name and path, so a file retried after
 * an error or after a restart always goes to the same key.
 *
 * Secrets: the library never writes a secret into an error text, a result or
 * a log, and wipes its copies when freed. libcurl's verbose mode is never
 * enabled.
 *
 * Time: the signature's date (x-amz-date) is the system clock, read by
 * libcurl; this is the one clock lib/s3 depends on. It cannot be a parameter:
 * curl 7.88 signs a caller's x-amz-date but then sends that header twice,
 * which the service reads as another value. A probe whose clock is more than
 * 15 minutes off gets RequestTimeTooSkewed (403) from S3.
 *
 * Thread safety: key and credential functions are reentrant. A client is not
 * thread-safe: one thread at a time (it keeps one connection open).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dpf_s3_layout {
	DPF_S3_LAYOUT_PLAIN = 0,
	DPF_S3_LAYOUT_HOURLY,
	DPF_S3_LAYOUT_HIVE,
	DPF_S3_LAYOUT_HIVE_HOURLY,
};

#define DPF_S3_KEY_MAX 1024 /**< S3's limit on key length, in bytes */
#define DPF_S3_PREFIX_MAX 512

/** Parse "plain" / "hourly" / "hive" / "hive-hourly". @return 0 or -EINVAL */
int dpf_s3_layout_parse(const char *s, enum dpf_s3_layout *out);

/**
 * Check a key prefix: empty, or components of AWS "safe" characters
 * (A-Z a-z 0-9 ! - _ . * ' ( ) =) separated by single '/', none empty, none
 * starting with '.', at most DPF_S3_PREFIX_MAX bytes. A leading or trailing
 * '/' is allowed (it is dropped).
 */
bool dpf_s3_prefix_valid(const char *prefix);

/**
 * Object key of a published file.
 * @param layout  key layout
 * @param prefix  key prefix (dpf_s3_prefix_valid), NULL or "" for none
 * @param rel     the file's path relative to the output directory
 * @param out     the key, without a leading '/'
 * @return 0, -EINVAL (invalid prefix, or rel not in the local layout: wrong
 *         number of components, date folders that differ from the name's
 *         stamp, no stamp), -ENAMETOOLONG (key longer than cap - 1 or
 *         DPF_S3_KEY_MAX)
 */
int dpf_s3_object_key(enum dpf_s3_layout layout, const char *prefix, const char *rel, char *out,
		      size_t cap);

/**
 * Object key of an IBM Cloud VPC flow log object (--ibm-output): its path
 * below the IBM output directory, which is IBM's key already, under the
 * prefix (--s3-layout does not apply).
 * @param rel  "ibm_vpc_flowlogs_v1/.../NNNNNNNN.gz"
 * @return 0, -EINVAL (invalid prefix, or rel not an IBM object path),
 *         -ENAMETOOLONG
 */
int dpf_s3_ibm_object_key(const char *prefix, const char *rel, char *out, size_t cap);

/**
 * Key of a daily Trustgrid export: "<prefix>/tg-flow-logs-YYYY-MM-DD.csv.gz"
 * (--s3-layout does not apply: one object a day, straight under the prefix).
 * @param rel  "tg-flow-logs-YYYY-MM-DD.csv.gz", as published in the output
 *             directory
 * @return 0, -EINVAL (invalid prefix, or rel not such a name), -ENAMETOOLONG
 */
int dpf_s3_tg_day_key(const char *prefix, const char *rel, char *out, size_t cap);

/**
 * Key of the start-up validation object: "<prefix>/validation", or
 * "validation" without a prefix. @return as dpf_s3_object_key
 */
int dpf_s3_validation_key(const char *prefix, char *out, size_t cap);

struct dpf_s3_credentials {
	char access_key_id[128];
	char secret_access_key[128];
	char session_token[4096]; /**< "" when none */
};

/**
 * Read a profile of an AWS shared credentials file (INI: "[profile]" lines,
 * "aws_access_key_id = ...", "aws_secret_access_key = ...", optional
 * "aws_session_token = ..."; '#' and ';' start comments). Error texts name
 * the file, the line and the key, never a value.
 * @param profile  section name; NULL or "" = "default"
 * @return 0, -ENOENT (no such profile, or the profile lacks a key id or a
 *         secret), -EINVAL (syntax), -ENAMETOOLONG (value too long), or the
 *         -errno of open/read
 */
int dpf_s3_credentials_load(const char *path, const char *profile, struct dpf_s3_credentials *out,
			    char *err, size_t err_len);

/** Overwrite a credentials struct with zeros in a way the compiler keeps. */
void dpf_s3_credentials_wipe(struct dpf_s3_credentials *c);

enum dpf_s3_url_style {
	DPF_S3_URL_PATH = 0, /**< <endpoint>/<bucket>/<key> */
	DPF_S3_URL_VIRTUAL,  /**< <scheme>://<bucket>.<endpoint host>/<key> */
};

struct dpf_s3_params {
	/**
	 * http:// or https:// URL of the service, host and optional port and
	 * path, e.g. "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000".
	 */
	const char *endpoint;
	const char *bucket; /**< 3..63 of a-z 0-9 . - */
	const char *region; /**< signing region, e.g. "eu-west-1" */
	enum dpf_s3_url_style url_style;
	const struct dpf_s3_credentials *creds; /**< copied */
	uint32_t connect_timeout_ms;		/**< 0 = 5000 */
	/**
	 * A transfer slower than 1 KiB/s for this long is aborted; 0 = 30 s.
	 * There is no total time limit: a large file on a slow link may take
	 * as long as it needs while it progresses.
	 */
	uint32_t stall_timeout_sec;
	const char *ca_file; /**< PEM bundle for https; NULL = system default */
};

/** Outcome of a request, for messages. Never holds a secret. */
struct dpf_s3_result {
	long http_status;  /**< 0 when no response */
	char code[64];	   /**< S3 error code (AccessDenied, NoSuchBucket, ...) or "" */
	char message[256]; /**< S3 error message, or libcurl's error text, or "" */
};

struct dpf_s3;

/**
 * Create a client. Checks the parameters, makes no request.
 * @return handle, or NULL with rte_errno = EINVAL (missing or invalid
 *         endpoint, bucket, region or credentials; a virtual-host style
 *         bucket name that is not a valid host label), ENOMEM, or EIO
 *         (libcurl could not be initialised)
 */
struct dpf_s3 *dpf_s3_create(const struct dpf_s3_params *p);

/** Wipes the credentials copy. NULL-safe. */
void dpf_s3_free(struct dpf_s3 *c);

/**
 * PUT a file as object key, with its SHA-256 as the signed payload hash (the
 * service rejects a body that does not match it).
 * @param res  filled in all cases (may be NULL)
 * @return 0 (HTTP 2xx), -EACCES (403: refused credentials, signature or
 *         permission), -ENOENT (404: no such bucket), -EINVAL (400, or a key
 *         too long), -EAGAIN (5xx or 429: the service is busy or failing),
 *         -EPROTO (another HTTP status), -ECONNREFUSED, -EHOSTUNREACH (name
 *         not resolved), -ETIMEDOUT, -ECONNRESET (connection lost),
 *         -EIO (other transfer failure), or the -errno of open/read of path
 */
int dpf_s3_put_file(struct dpf_s3 *c, const char *key, const char *path, struct dpf_s3_result *res);

/** PUT a buffer (len may be 0) as object key. @return as dpf_s3_put_file */
int dpf_s3_put_buffer(struct dpf_s3 *c, const char *key, const void *data, size_t len,
		      struct dpf_s3_result *res);

/**
 * "s3://bucket/key" style description of where key goes, for messages.
 * @return 0 or -ENAMETOOLONG (out cut)
 */
int dpf_s3_describe(const struct dpf_s3 *c, const char *key, char *out, size_t cap);

/**
 * Delay before retry number attempt (1 = first retry): base_ms doubled per
 * attempt, capped at max_ms, then "equal jitter" so that many probes that
 * failed together do not retry together: half the delay plus rnd modulo the
 * other half.
 */
uint64_t dpf_s3_backoff_ms(unsigned int attempt, uint64_t base_ms, uint64_t max_ms, uint64_t rnd);

#endif /* DPF_S3_H */
