/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SINK_FILE_H
#define DPF_SINK_FILE_H

/*
 * Internal to lib/sink. The life of one output file (struct sink_file in
 * sink_private.h): its name in the AWS layout, its directories (created,
 * never followed through a symbolic link), its hidden temporary (locked,
 * renamed at each window end to the count of whole lines), the compressed
 * stream written through its buffer, and the publish (fsync, rename that
 * never replaces, directory fsync).
 *
 * Errors follow dpf_sink.h: a refused mkdir, open, write or rename blocks
 * the sink (sink_block()) and the bytes stay held; a failed fsync or
 * compressor abandons the file. Every function runs in the sink's owner
 * thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink_private.h"

/** An entry that holds no file (after calloc, or after sink_file_release()). */
void sink_file_init(struct sink_file *f);

/**
 * Start the file of slot slot_start in f: its names and directory path,
 * its compressor, the header line. The temporary is created now when the
 * sink is writable, else by a later retry.
 * @return 0, -EOVERFLOW (a slot gmtime_r cannot handle), -ENAMETOOLONG,
 *         or the compressor's -ENOMEM / -EINVAL / -EIO (f stays free)
 */
int sink_file_start(struct dpf_sink *s, struct sink_file *f, uint64_t slot_start);

/**
 * Compress data into the file, writing once a buffer's worth is pending
 * and the sink is writable. @return 0, or the compressor's -ENOMEM / -EIO
 * (the stream is unusable: the caller abandons the file)
 */
int sink_file_append(struct dpf_sink *s, struct sink_file *f, const void *data, size_t len);

/** A window end in the stream (see sink_codec_flush()). @return as sink_file_append() */
int sink_file_flush(struct dpf_sink *s, struct sink_file *f);

/** End the compressed stream, in memory. @return as sink_file_append() */
int sink_file_finish(struct dpf_sink *s, struct sink_file *f);

/**
 * Write what is pending, creating the directory and the temporary first
 * when needed. @return 0, or the -errno that now blocks the sink
 */
int sink_file_output(struct dpf_sink *s, struct sink_file *f);

/** Drop what is pending (no longer counted as held). */
void sink_file_discard(struct dpf_sink *s, struct sink_file *f);

/**
 * Rename the temporary to the count of lines appended so far. Call it after
 * sink_file_flush() (the compressor holds nothing back then); it does
 * nothing while flushed bytes are still pending (blocked sink). A failed
 * rename keeps the older count (counted in write_errors): recovery then
 * keeps fewer lines, never a cut window.
 */
void sink_file_mark(struct dpf_sink *s, struct sink_file *f);

/**
 * Finish the stream and publish the file, or leave it waiting (state
 * FILE_CLOSING) while the sink is blocked.
 * @return 0 (published, or waiting), or -errno when the file was abandoned
 */
int sink_file_publish(struct dpf_sink *s, struct sink_file *f);

/**
 * The rest of a publish for a finished stream: write, fsync, rename,
 * close, fsync the directory, call on_publish. A refused write or rename
 * blocks the sink and the file waits; a failed fsync abandons it.
 * @return 0 (published, or waiting), or -errno when the file was abandoned
 */
int sink_file_complete(struct dpf_sink *s, struct sink_file *f);

/**
 * Give the file up: remove its temporary, drop what is held, count its
 * lines in lines_lost and the file in files_abandoned. The entry is free.
 */
void sink_file_abandon(struct dpf_sink *s, struct sink_file *f);

/** Free the buffer and the compressor; the entry is as sink_file_init() left it. */
void sink_file_release(struct sink_file *f);

/**
 * "<account>_vpcflowlogs_<region>_<flow-log-id>_<ts>_<hash><ext>": hash is
 * 8 hex digits of (flow_log_id, slot_start, seq, nonce).
 * @return 0, or -ENAMETOOLONG (does not fit cap)
 */
int sink_file_name(const struct dpf_sink *s, const char *ts, uint64_t slot_start, uint64_t seq,
		   char *out, size_t cap);

/** ".<final>.<lines>.tmp". @return 0, or -ENAMETOOLONG */
int sink_tmp_name(const char *final_name, uint64_t lines, char *out, size_t cap);

/**
 * Open the directory name below dir_fd without following a symbolic link.
 * @return the descriptor, or -ELOOP (a symbolic link is there), or the
 *         -errno of openat (ENOENT, ENOTDIR, EACCES, ...)
 */
int sink_open_dir_nofollow(int dir_fd, const char *name);

#endif /* DPF_SINK_FILE_H */
