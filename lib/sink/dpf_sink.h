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
 * <hash> is 8 lowercase hex digits of a hash of (flow_log_id, slot start, a
 * per-sink sequence number, nonce). A name already present (published, or a
 * temporary of another sink) moves to the next sequence number; a publish
 * never replaces an existing file (renameat2 RENAME_NOREPLACE, or link and
 * unlink where the file system lacks it).
 *
 * Files: the temporary is ".<final name>.tmp" in the final directory, opened
 * O_EXCL|O_NOFOLLOW with mode 0640; directories are created with mode 0750.
 * Publishing finishes the compressed stream, fsyncs and closes the file,
 * renames it and fsyncs the directory. Output goes through a 128 KiB buffer
 * per open file, so a line accepted by dpf_sink_write may reach the disk
 * only at a later write or at publish.
 *
 * Errors: a file whose write, compression, fsync, close or rename fails is
 * abandoned: it stays under its temporary name (never published; kept for
 * inspection, the caller or an operator removes it) and counts in
 * files_abandoned; the lines it held are lost and the slot's next line opens
 * a new file. Every failed call counts once in write_errors.
 *
 * Time: dates and slots are UTC (gmtime_r), never the local time zone.
 *
 * The library needs no rte_eal_init: it uses malloc and file descriptors only.
 *
 * Thread safety: not thread-safe; one writer thread owns a sink.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DPF_SINK_SLOT_SEC_DEFAULT 300
#define DPF_SINK_MAX_FILE_BYTES_DEFAULT (75ULL * 1000 * 1000)
#define DPF_SINK_MAX_OPEN_FILES_DEFAULT 16
#define DPF_SINK_ZSTD_LEVEL_DEFAULT 3
#define DPF_SINK_GZIP_LEVEL_DEFAULT 6

enum dpf_compress {
	DPF_COMPRESS_ZSTD = 0, /**< .log.zst (default) */
	DPF_COMPRESS_GZIP,     /**< .log.gz */
	DPF_COMPRESS_NONE,     /**< .log */
};

struct dpf_sink_params {
	FILE *stream;             /**< non-NULL: write header + lines here, no files */
	const char *dir;          /**< root directory for files (stream == NULL) */
	const char *header;       /**< header line including '\n'; required */
	enum dpf_compress compress;
	/**
	 * Compression level; 0 = library default (zstd 3, gzip 6). zstd:
	 * ZSTD_minCLevel()..ZSTD_maxCLevel(); gzip: 1..9; ignored for none.
	 */
	int level;
	/**
	 * Path and name components, required for files: non-empty, no '/',
	 * not "." or "..".
	 */
	const char *account_id;
	const char *region;
	const char *flow_log_id;
	/**
	 * Rotate once the bytes that left the compressor for a file reach this
	 * (what the compressor still holds is not counted); 0 = 75 MB.
	 */
	uint64_t max_file_bytes;
	uint32_t slot_sec;        /**< file time slot, a multiple of 60; 0 = 300 */
	uint64_t nonce;           /**< mixed into <hash> so names stay unique across runs */
	/**
	 * Files open at once (one per slot); 0 = 16. A line for a new slot
	 * when all are in use first publishes the file of the oldest slot.
	 */
	uint32_t max_open_files;
	/**
	 * Called in the writer's thread after each file is published under
	 * its final name (path as dpf_sink_last_path()); may be NULL. For
	 * delivery of finished files (object storage, ...).
	 */
	void (*on_publish)(void *arg, const char *path);
	void *on_publish_arg;
};

struct dpf_sink_stats {
	uint64_t records;         /**< lines accepted */
	uint64_t bytes;           /**< uncompressed bytes accepted (headers included) */
	uint64_t files_published; /**< files renamed to their final name */
	uint64_t write_errors;    /**< failed write/compress/rename calls */
	uint64_t files_abandoned; /**< files left under their temporary name after an error */
};

struct dpf_sink;

/**
 * Create a sink. Creates no file yet. Files mode creates dir (and missing
 * parents, mode 0750) and keeps it open. Stream mode writes the header now,
 * so even a run without records prints it.
 * @return handle, or NULL with rte_errno = EINVAL (bad params: NULL p, NULL
 *         or empty header or one not ending in '\n', unknown compress, level
 *         out of range, slot_sec not a multiple of 60, files mode without dir
 *         or with a missing/invalid component), ENAMETOOLONG (components too
 *         long for a file name), ENOMEM, the errno of a failed mkdir or open
 *         of dir, or of the failed header write (stream mode; EIO if unknown)
 */
struct dpf_sink *dpf_sink_create(const struct dpf_sink_params *p);

/**
 * Write one line (ending in '\n') whose record ends at end_sec (Unix
 * seconds). Files mode: goes to the open file of end_sec's slot, opening one
 * (header first) when needed; the file is published as soon as it reaches
 * max_file_bytes, and the slot's next line opens a new one.
 * @return 0, or -errno of the failed operation (the line is not written, or
 *         went to a file that was abandoned): -EINVAL (NULL s or line, len 0,
 *         line not ending in '\n'; not counted in write_errors), -EOVERFLOW
 *         (end_sec beyond what gmtime_r handles), -ENAMETOOLONG, -ENOMEM,
 *         -EEXIST (no free name after many sequence numbers), -EIO
 *         (compressor failure, or a stream error with no errno), or the errno
 *         of mkdir/open/write/fsync/close/rename
 */
int dpf_sink_write(struct dpf_sink *s, uint64_t end_sec, const char *line, size_t len);

/**
 * Publish (finish, close, rename) every open file whose slot ends at or
 * before sec (slot start + slot_sec <= sec): no later record can belong to
 * it. Oldest slot first. Stream mode: fflush.
 * @return 0, or -errno of the first failure (the others are still tried).
 *         A failed fsync of the directory after the rename returns its
 *         error although the file is published.
 */
int dpf_sink_close_before(struct dpf_sink *s, uint64_t sec);

/** Publish every open file. @return 0 or -errno of the first failure. */
int dpf_sink_close_all(struct dpf_sink *s);

/**
 * Log rotation (SIGHUP): publish every open file now, whatever its slot, and
 * stay open. The next line of any slot opens a new file under a new name
 * (next sequence number), so the slot ends up in several files, each
 * complete, each starting with the header, no line in two of them.
 * Stream mode: fflush. Call it from the thread that owns the sink.
 * @return 0 (also when no file was open), -EINVAL for a NULL s, or -errno of
 *         the first failed publish (the others are still tried; a failed
 *         file is abandoned as for dpf_sink_close_before).
 */
int dpf_sink_rotate(struct dpf_sink *s);

/** Copy of the counters. */
void dpf_sink_get_stats(const struct dpf_sink *s, struct dpf_sink_stats *st);

/** Number of files open (written, not yet published); 0 in stream mode. */
unsigned int dpf_sink_open_files(const struct dpf_sink *s);

/**
 * Path of the most recently published file (empty string before any), for
 * logs and tests.
 */
const char *dpf_sink_last_path(const struct dpf_sink *s);

/** Publishes open files first (like dpf_sink_close_all), then frees. NULL-safe. */
void dpf_sink_free(struct dpf_sink *s);

/** Parse "zstd" / "gzip" / "none". @return 0 or -EINVAL */
int dpf_sink_compress_parse(const char *s, enum dpf_compress *out);

/** File name suffix: ".log.zst", ".log.gz", ".log"; NULL for an unknown value. */
const char *dpf_sink_compress_ext(enum dpf_compress c);

#endif /* DPF_SINK_H */
