/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SINK_H
#define DPF_SINK_H

/**
 * @file
 * Record output: a stream (header once, then lines), or files in the AWS
 * object layout (formats.md, "Files"):
 *
 *   <dir>/AWSLogs/<account-id>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/
 *     <account-id>_vpcflowlogs_<region>_<flow-log-id>_<yyyymmddTHHmmZ>_<hash>.log[.zst|.gz]
 *
 * The timestamp is the 5-minute slot (UTC) of the records' end time; one file
 * per slot, and a new file (same slot, new hash) once the current one reaches
 * max_file_bytes. A file is written under a hidden temporary name in its final
 * directory and renamed when complete, so nothing half-written is published.
 * Each file starts with the header line.
 *
 * Thread safety: not thread-safe; one writer thread owns a sink.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum dpf_compress {
	DPF_COMPRESS_ZSTD = 0, /**< .log.zst (default) */
	DPF_COMPRESS_GZIP,     /**< .log.gz */
	DPF_COMPRESS_NONE,     /**< .log */
};

struct dpf_sink_params {
	FILE *stream;             /**< non-NULL: write header + lines here, no files */
	const char *dir;          /**< root directory for files (stream == NULL) */
	const char *header;       /**< header line including '\n' */
	enum dpf_compress compress;
	int level;                /**< compression level; 0 = library default */
	const char *account_id;   /**< path component; required for files */
	const char *region;       /**< path component; required for files */
	const char *flow_log_id;  /**< name component; required for files */
	uint64_t max_file_bytes;  /**< bytes written to a file before rotating; 0 = 75 MB */
	uint32_t slot_sec;        /**< file time slot; 0 = 300 */
	uint64_t nonce;           /**< mixed into <hash> so names stay unique across runs */
};

struct dpf_sink_stats {
	uint64_t records;         /**< lines accepted */
	uint64_t bytes;           /**< uncompressed bytes accepted (headers included) */
	uint64_t files_published; /**< files renamed to their final name */
	uint64_t write_errors;    /**< failed write/compress/rename calls */
};

struct dpf_sink;

/**
 * Create a sink. Creates no file yet.
 * @return handle, or NULL with rte_errno = EINVAL (bad params), ENOMEM, or
 *         the errno of a failed mkdir of dir
 */
struct dpf_sink *dpf_sink_create(const struct dpf_sink_params *p);

/**
 * Write one line (ending in '\n') whose record ends at end_sec (Unix
 * seconds). Files mode: goes to the open file of end_sec's slot, opening one
 * (header first) when needed, rotating at max_file_bytes.
 * @return 0, or -errno of the failed operation (the line is not written)
 */
int dpf_sink_write(struct dpf_sink *s, uint64_t end_sec, const char *line, size_t len);

/**
 * Publish (finish, close, rename) every open file whose slot ends at or
 * before sec: no later record can belong to it. Stream mode: fflush.
 * @return 0, or -errno of the first failure (the others are still tried)
 */
int dpf_sink_close_before(struct dpf_sink *s, uint64_t sec);

/** Publish every open file. @return 0 or -errno of the first failure. */
int dpf_sink_close_all(struct dpf_sink *s);

/** Copy of the counters. */
void dpf_sink_get_stats(const struct dpf_sink *s, struct dpf_sink_stats *st);

/**
 * Path of the most recently published file (empty string before any), for
 * logs and tests.
 */
const char *dpf_sink_last_path(const struct dpf_sink *s);

/** Publishes open files first (like dpf_sink_close_all), then frees. NULL-safe. */
void dpf_sink_free(struct dpf_sink *s);

/** Parse "zstd" / "gzip" / "none". @return 0 or -EINVAL */
int dpf_sink_compress_parse(const char *s, enum dpf_compress *out);

/** File name suffix: ".log.zst", ".log.gz", ".log". */
const char *dpf_sink_compress_ext(enum dpf_compress c);

#endif /* DPF_SINK_H */
