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
 * Files: the temporary is ".<final name>.<lines>.tmp" in the final directory,
 * opened O_EXCL|O_NOFOLLOW with mode 0640; directories are created with mode
 * 0750. <lines> is the number of record lines written before the last
 * dpf_sink_flush() (a capture-window end; 0 at first): each flush renames the
 * temporary to the new count, after its bytes are written, so that recovery
 * keeps whole windows only.
 * Publishing finishes the compressed stream, fsyncs the file, renames it,
 * closes it and fsyncs the directory. Output goes through a 128 KiB buffer
 * per open file, so a line accepted by dpf_sink_write may reach the disk
 * only at a later write, at dpf_sink_flush() or at publish.
 *
 * Temporary files are locked (flock LOCK_EX) while their writer holds them, so
 * dpf_sink_recover() in another process never touches a file in use.
 *
 * Errors (see doc/reliability.md): output that cannot be written is held, not
 * dropped. When a mkdir, open, write or rename fails (disk full, directory
 * unwritable or read-only, I/O error, a symbolic link in the tree) the sink
 * becomes "blocked" (dpf_sink_blocked() returns the errno): it stops touching
 * the disk, keeps compressing accepted lines into memory, and keeps the
 * files' pending bytes there, up to hold_bytes in all. dpf_sink_retry() tries
 * the pending work again (the caller decides when: libraries read no clock);
 * when it all succeeds the sink is writable again and nothing was lost.
 * While blocked, a line that would take the memory held past hold_bytes, or
 * that needs a new file when max_open_files are all waiting, is refused:
 * dpf_sink_write() returns the blocking -errno and counts it in lines_lost.
 * A file whose fsync, close or compressor fails cannot be trusted (the kernel
 * may have dropped its pages): it is abandoned, its temporary removed, its
 * lines counted in lines_lost and files_abandoned. Every failed system call
 * counts once in write_errors, retries included.
 *
 * Paths: the root directory (dir) is the operator's and may be a symbolic
 * link; below it, no symbolic link is ever followed: every directory of the
 * layout is opened O_NOFOLLOW (ELOOP when an attacker placed a link there),
 * the temporary is created O_EXCL|O_NOFOLLOW and the publish never replaces
 * an existing entry.
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
#define DPF_SINK_HOLD_BYTES_DEFAULT (64ULL << 20)

enum dpf_compress {
	DPF_COMPRESS_ZSTD = 0, /**< .log.zst (default) */
	DPF_COMPRESS_GZIP,     /**< .log.gz */
	DPF_COMPRESS_NONE,     /**< .log */
};

struct dpf_sink_params {
	FILE *stream;	    /**< non-NULL: write header + lines here, no files */
	const char *dir;    /**< root directory for files (stream == NULL) */
	const char *header; /**< header line including '\n'; required */
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
	 * (what the compressor still holds is not counted), at the next
	 * dpf_sink_flush(), so a window is not split between files; at once
	 * only past 4 times this. 0 = 75 MB.
	 */
	uint64_t max_file_bytes;
	uint32_t slot_sec; /**< file time slot, a multiple of 60; 0 = 300 */
	uint64_t nonce;	   /**< mixed into <hash> so names stay unique across runs */
	/**
	 * Files open at once (one per slot); 0 = 16. A line for a new slot
	 * when all are in use first publishes the file of the oldest slot.
	 */
	uint32_t max_open_files;
	/**
	 * Called in the writer's thread after each file is published under
	 * its final name (path as dpf_sink_last_path()), and in the caller's
	 * for each leftover dpf_sink_recover() publishes; may be NULL. For
	 * delivery of finished files (object storage, ...).
	 */
	void (*on_publish)(void *arg, const char *path);
	void *on_publish_arg;
	/**
	 * Bytes of output (compressed, as it will be written) kept in memory
	 * while the sink is blocked; 0 = DPF_SINK_HOLD_BYTES_DEFAULT. The
	 * compressors' own state (about 1 MB per open zstd file) comes on top.
	 */
	uint64_t hold_bytes;
};

struct dpf_sink_stats {
	uint64_t records;	  /**< lines accepted */
	uint64_t bytes;		  /**< uncompressed bytes accepted (headers included) */
	uint64_t files_published; /**< files renamed to their final name */
	uint64_t write_errors;	  /**< failed write/compress/rename calls */
	uint64_t files_abandoned; /**< files given up (error, or discarded), temporary removed */
	uint64_t lines_lost;	  /**< lines refused while blocked, plus lines of abandoned files */
	uint64_t held_bytes;	  /**< output bytes in memory, not yet on disk */
	uint64_t held_bytes_max;  /**< highest held_bytes */
	uint64_t retries;	  /**< dpf_sink_retry() calls that found the sink blocked */
	uint64_t blocked_count;	  /**< times the sink went from writable to blocked */
};

/** What dpf_sink_recover() did with the temporaries of earlier runs. */
struct dpf_sink_recovery {
	uint64_t files_finished;  /**< published under their final name */
	uint64_t lines_recovered; /**< record lines in them (headers not counted) */
	uint64_t lines_dropped;	  /**< well-formed record lines of a cut window: not kept */
	uint64_t files_removed;	  /**< nothing worth keeping: removed */
	uint64_t files_skipped;	  /**< in use by a running writer, or not ours: left alone */
	uint64_t errors;	  /**< leftovers that could not be handled (left in place) */
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
 * max_file_bytes, and the slot's next line opens a new one. When the disk
 * refuses something the line is still accepted and held (see Errors above).
 * @return 0 when the line is written or held; otherwise the line is lost
 *         (counted in lines_lost, except for -EINVAL): -EINVAL (NULL s or
 *         line, len 0, line not ending in '\n'), -EOVERFLOW (end_sec beyond
 *         what gmtime_r handles), -ENAMETOOLONG, -ENOMEM, -EIO (compressor
 *         failure: the file is abandoned), the blocking -errno when the hold
 *         is full, or, in stream mode, the errno of the failed fwrite (EIO if
 *         unknown)
 */
int dpf_sink_write(struct dpf_sink *s, uint64_t end_sec, const char *line, size_t len);

/**
 * Publish (finish, close, rename) every open file whose slot ends at or
 * before sec (slot start + slot_sec <= sec): no later record can belong to
 * it. Oldest slot first. Stream mode: fflush.
 * While blocked, the files are finished in memory and published by a later
 * successful dpf_sink_retry().
 * @return 0 (published, or held for retry), -EINVAL (NULL s), or -errno of
 *         the first file abandoned (fsync, close or compressor failure: its
 *         lines are lost); stream mode: the errno of a failed fflush (EIO if
 *         unknown)
 */
int dpf_sink_close_before(struct dpf_sink *s, uint64_t sec);

/**
 * A capture-window end: make every line accepted so far readable from the
 * files on disk: flush the compressors (a zstd block end, a gzip sync point),
 * write what is pending, without fsync, and record the count of lines in the
 * temporary's name. After a kill, dpf_sink_recover() then keeps exactly the
 * lines written before the last flush, never part of the window after it.
 * Files past max_file_bytes are published here. Costs a few bytes of
 * compression per call. While blocked, the flushed bytes are held like any
 * others (and the count is not updated).
 * @return 0, -EINVAL (NULL s), or -errno of the first file abandoned
 *         (compressor failure); stream mode: as dpf_sink_close_before()
 */
int dpf_sink_flush(struct dpf_sink *s);

/** Publish every open file. @return as dpf_sink_close_before() */
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

/**
 * Try again what a blocked sink holds: create the missing directories and
 * temporaries, write the pending bytes, publish the finished files (oldest
 * slot first). Does nothing when the sink is not blocked. If the root
 * directory was removed, it is created again.
 * @return 0 when the sink is writable again (nothing held but the usual
 *         buffers; also in stream mode), -EINVAL (NULL s), or the -errno
 *         that still blocks it
 */
int dpf_sink_retry(struct dpf_sink *s);

/**
 * @return 0 when writable, else the errno that blocks the output; path
 *         (may be NULL) receives the path that failed (valid until the next
 *         call on s)
 */
int dpf_sink_blocked(const struct dpf_sink *s, const char **path);

/**
 * Give up everything not yet published: close and remove the temporaries,
 * count their lines in lines_lost. For a stop whose retries ran out.
 * @return lines discarded
 */
uint64_t dpf_sink_discard(struct dpf_sink *s);

/**
 * Finish or clean the temporaries an earlier run left under dir/AWSLogs (a
 * SIGKILL, a crash, a power cut): for each ".<final>.<lines>.tmp" that is a
 * regular file owned by this user with a single link and not locked by a
 * running writer, its first <lines> complete, well-formed record lines (the
 * header, then lines with as many fields as the header, printable, no
 * control character) are written to a new file, compressed as the name says,
 * which is published under <final> (never replacing anything); the leftover
 * is then removed. The well-formed lines after the first <lines> belong to
 * the window the kill cut: they are counted in lines_dropped, not kept. A
 * leftover of an older version, ".<final>.tmp", has no count: all its
 * well-formed lines are kept. A leftover with no record line to keep is
 * removed. Crash-safe: an interrupted recovery is finished or redone by the
 * next one. Symbolic links are never followed. Each file published is
 * passed to on_publish, as the files the sink writes are. Files mode only;
 * call before writing.
 * @return 0, -EINVAL (NULL, stream mode), or -errno of a failure to read the
 *         tree (what was done until then is in r)
 */
int dpf_sink_recover(struct dpf_sink *s, struct dpf_sink_recovery *r);

/** Copy of the counters. */
void dpf_sink_get_stats(const struct dpf_sink *s, struct dpf_sink_stats *st);

/** Number of files open (written, not yet published); 0 in stream mode. */
unsigned int dpf_sink_open_files(const struct dpf_sink *s);

/**
 * Path of the most recently published file (empty string before any), for
 * logs and tests.
 */
const char *dpf_sink_last_path(const struct dpf_sink *s);

/**
 * Publishes open files first (like dpf_sink_close_all, with one retry when
 * blocked), discards what still cannot be written (counted in lines_lost),
 * then frees. NULL-safe.
 */
void dpf_sink_free(struct dpf_sink *s);

/** Parse "zstd" / "gzip" / "none". @return 0 or -EINVAL */
int dpf_sink_compress_parse(const char *s, enum dpf_compress *out);

/** File name suffix: ".log.zst", ".log.gz", ".log"; NULL for an unknown value. */
const char *dpf_sink_compress_ext(enum dpf_compress c);

#endif /* DPF_SINK_H */
