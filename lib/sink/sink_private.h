/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SINK_PRIVATE_H
#define DPF_SINK_PRIVATE_H

/*
 * Internal to lib/sink: the state its files share. The jobs are split so
 * that each file does one:
 *   dpf_sink.c      the sink: slots to files, the hold while the disk refuses
 *                   output, retry, rotation, stream mode, counters
 *   sink_buf.c      a file's output buffer (sink_buf.h)
 *   sink_codec.c    compressors and the decoder (sink_codec.h)
 *   sink_file.c     a file's life: names, directories, temporary, publish
 *                   (sink_file.h)
 *   sink_recover.c  leftovers of earlier runs (sink_recover.h)
 * The buffer and the codec know nothing of the sink; the file and the
 * recovery work on struct dpf_sink below. Callers see dpf_sink.h only.
 */

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dpf_sink.h"
#include "sink_buf.h"
#include "sink_codec.h"

#define SINK_DIR_MODE 0750
#define SINK_FILE_MODE 0640
/* Never reuse or follow an existing entry under a temporary name. */
#define SINK_TMP_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
/* "yyyymmddTHHmmZ" plus room for a five-digit year. */
#define SINK_TS_SIZE 24
#define SINK_TMP_SUFFIX ".tmp"
#define SINK_RECOVERING_SUFFIX ".recovering"

enum file_state {
	FILE_FREE = 0,
	FILE_OPEN,    /* accepting lines */
	FILE_CLOSING, /* stream finished; waiting to be written, fsynced, renamed */
};

struct sink_file {
	enum file_state state;
	uint64_t slot_start;
	int fd; /* -1 until the temporary exists: creation may wait for a retry */
	int dir_fd;
	bool synced; /* CLOSING: everything written and fsynced; only the rename is left */
	/* Bytes that left the compressor for this file (written plus pending). */
	uint64_t bytes_out;
	uint64_t lines;
	/* Lines the temporary's name says are whole (written at the last flush). */
	uint64_t marked_lines;
	struct sink_buf buf;
	/* Kept across the files this entry holds, reset per file. */
	struct sink_codec codec;
	char ts[SINK_TS_SIZE];
	char rel_dir[PATH_MAX];
	char tmp_name[NAME_MAX + 1];
	char final_name[NAME_MAX + 1];
};

/* files, order and the strings lie after the sink, in its one allocation. */
struct dpf_sink {
	FILE *stream;
	int root_fd;
	char *dir;
	char *header;
	size_t header_len;
	char *account_id;
	char *region;
	char *flow_log_id;
	enum dpf_compress compress;
	int level;
	uint64_t max_file_bytes;
	uint32_t slot_sec;
	uint64_t nonce;
	uint64_t next_seq;
	uint32_t max_open;
	uint64_t hold_bytes;
	struct sink_file *files;  /* never reallocated: a z_stream must not move */
	struct sink_file **order; /* scratch: files in slot order */
	struct dpf_sink_stats stats;
	int blocked;   /* errno that blocks output, 0 when writable */
	bool retrying; /* a failure now continues the outage, not a new one */
	char err_path[2 * PATH_MAX];
	void (*on_publish)(void *arg, const char *path);
	void *on_publish_arg;
	char last_path[2 * PATH_MAX];
};

/*
 * A system call failed on dir/rel_dir[/name] with -rc: count it and block
 * the output (dpf_sink.c). The first failure since writable names the path.
 */
void sink_block(struct dpf_sink *s, int rc, const char *rel_dir, const char *name);

#endif /* DPF_SINK_PRIVATE_H */
