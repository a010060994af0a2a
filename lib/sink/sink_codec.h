/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SINK_CODEC_H
#define DPF_SINK_CODEC_H

/*
 * Internal to lib/sink. The compressors of a file (zstd with a checksum,
 * gzip, or none) writing into its sink_buf, and the decoder recovery reads
 * leftovers with.
 *
 * A codec is reset, not recreated, for each file its entry holds: a zstd
 * context costs about 1 MB. It must not move in memory once started (a
 * z_stream points back at itself). Not thread-safe: the sink's owner thread.
 */

#include <stdbool.h>
#include <stddef.h>

/* zlib's input pointers are const (compressed lines are never modified). */
#ifndef ZLIB_CONST
#define ZLIB_CONST
#endif
#include <zlib.h>
#include <zstd.h>

#include "dpf_sink.h"
#include "sink_buf.h"

struct sink_codec {
	enum dpf_compress compress;
	int level; /* as sink_codec_level() gives it */
	ZSTD_CCtx *zstd;
	z_stream gz;
	bool gz_ready;
};

/*
 * Where compressed bytes go, and what the sink does as they appear: after
 * each compressor step, produced(arg, n) for the n bytes just added to buf
 * (the sink counts them as held), then, unless the step failed, pump(arg)
 * (the sink writes them out once enough are pending and the disk takes
 * them).
 */
struct sink_codec_out {
	struct sink_buf *buf;
	void (*produced)(void *arg, size_t n);
	void (*pump)(void *arg);
	void *arg;
};

/**
 * The level a codec uses: 0 gives the default (zstd 3, gzip 6).
 * @return 0 and *level, or -EINVAL (unknown compress, level out of range:
 *         zstd ZSTD_minCLevel()..ZSTD_maxCLevel(), gzip 1..9)
 */
int sink_codec_level(enum dpf_compress compress, int *level);

/**
 * Prepare the codec (compress and level set) for a new file: create the
 * compressor the first time, reset it after.
 * @return 0, -ENOMEM, -EINVAL (the library refused the level), -EIO (reset)
 */
int sink_codec_start(struct sink_codec *c);

/** Compress data into o. @return 0, -ENOMEM, -EIO (compressor failure: the stream is lost) */
int sink_codec_append(struct sink_codec *c, const struct sink_codec_out *o, const void *data,
		      size_t len);

/**
 * Make everything appended so far decodable from o's bytes (a zstd block
 * end, a gzip sync point). @return as sink_codec_append()
 */
int sink_codec_flush(struct sink_codec *c, const struct sink_codec_out *o);

/** End the stream (zstd frame and checksum, gzip trailer). @return as sink_codec_append() */
int sink_codec_finish(struct sink_codec *c, const struct sink_codec_out *o);

/** Free the compressor; the codec may be started again. */
void sink_codec_release(struct sink_codec *c);

/** The compression a file name's suffix says (".log.zst", ...). @return false: none */
bool sink_codec_of_name(const char *name, enum dpf_compress *c);

/**
 * Decode what can be read of fd and hand the bytes to fn as they come.
 * Stops at the end of the file, at corrupt data or data after the end of
 * the stream (what came before stays handed over), or as soon as fn
 * returns non-zero (fn is not called again).
 * @return 0, -ENOMEM, or -errno of a failed read
 */
int sink_codec_decode_fd(int fd, enum dpf_compress c,
			 int (*fn)(void *arg, const char *data, size_t len), void *arg);

#endif /* DPF_SINK_CODEC_H */
