/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd_errors.h>

#include <rte_common.h>

#include "dpf_util.h"
#include "sink_codec.h"

/* Bytes read and decoded per step of sink_codec_decode_fd(). */
#define DECODE_CHUNK (64 * 1024)
/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
#define GZIP_WINDOW_BITS (15 + 16)

int
dpf_sink_compress_parse(const char *s, enum dpf_compress *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	if (strcmp(s, "zstd") == 0)
		*out = DPF_COMPRESS_ZSTD;
	else if (strcmp(s, "gzip") == 0)
		*out = DPF_COMPRESS_GZIP;
	else if (strcmp(s, "none") == 0)
		*out = DPF_COMPRESS_NONE;
	else
		return -EINVAL;
	return 0;
}

const char *
dpf_sink_compress_ext(enum dpf_compress c)
{
	switch (c) {
	case DPF_COMPRESS_ZSTD:
		return ".log.zst";
	case DPF_COMPRESS_GZIP:
		return ".log.gz";
	case DPF_COMPRESS_NONE:
		return ".log";
	}
	return NULL;
}

int
sink_codec_level(enum dpf_compress compress, int *level)
{
	switch (compress) {
	case DPF_COMPRESS_ZSTD:
		if (*level == 0)
			*level = DPF_SINK_ZSTD_LEVEL_DEFAULT;
		return *level < ZSTD_minCLevel() || *level > ZSTD_maxCLevel() ? -EINVAL : 0;
	case DPF_COMPRESS_GZIP:
		if (*level == 0)
			*level = DPF_SINK_GZIP_LEVEL_DEFAULT;
		return *level < 1 || *level > 9 ? -EINVAL : 0;
	case DPF_COMPRESS_NONE:
		return 0;
	}
	return -EINVAL;
}

static int
zstd_errno(size_t r)
{
	return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
}

/* Feed data (NULL, 0 with ZSTD_e_end to finish) until consumed and flushed as asked. */
static int
zstd_run(struct sink_codec *c, const struct sink_codec_out *o, const void *data, size_t len,
	 ZSTD_EndDirective mode)
{
	struct sink_buf *b = o->buf;
	ZSTD_inBuffer in = {data, len, 0};

	for (;;) {
		ZSTD_outBuffer out;
		size_t r;
		int rc = sink_buf_room(b);

		if (rc != 0)
			return rc;
		out.dst = b->data + b->len;
		out.size = b->cap - b->len;
		out.pos = 0;
		r = ZSTD_compressStream2(c->zstd, &out, &in, mode);
		b->len += out.pos;
		o->produced(o->arg, out.pos);
		if (ZSTD_isError(r))
			return zstd_errno(r);
		o->pump(o->arg);
		if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0)
			return 0;
	}
}

static int
gzip_run(struct sink_codec *c, const struct sink_codec_out *o, const void *data, size_t len,
	 int flush)
{
	struct sink_buf *b = o->buf;

	c->gz.next_in = data;
	c->gz.avail_in = (uInt)len;
	for (;;) {
		size_t room;
		uInt in_before = c->gz.avail_in;
		int rc = sink_buf_room(b);
		int zr;

		if (rc != 0)
			return rc;
		room = b->cap - b->len;
		if (room > UINT_MAX)
			room = UINT_MAX;
		c->gz.next_out = b->data + b->len;
		c->gz.avail_out = (uInt)room;
		zr = deflate(&c->gz, flush);
		b->len += room - c->gz.avail_out;
		o->produced(o->arg, room - c->gz.avail_out);
		if (zr == Z_MEM_ERROR)
			return -ENOMEM;
		if (zr != Z_OK && zr != Z_BUF_ERROR && zr != Z_STREAM_END)
			return -EIO;
		if (zr == Z_BUF_ERROR && c->gz.avail_in == in_before && c->gz.avail_out == room) {
			/* A flush with nothing new since the last one: nothing to do. */
			if (flush == Z_SYNC_FLUSH && c->gz.avail_in == 0)
				return 0;
			return -EIO;
		}
		o->pump(o->arg);
		if (flush == Z_FINISH
			    ? zr == Z_STREAM_END
			    : c->gz.avail_in == 0 && (flush == Z_NO_FLUSH || c->gz.avail_out != 0))
			return 0;
	}
}

/* No compression: the bytes themselves, through the same buffer. */
static int
copy_run(const struct sink_codec_out *o, const unsigned char *p, size_t len)
{
	struct sink_buf *b = o->buf;

	while (len > 0) {
		size_t n;
		int rc = sink_buf_room(b);

		if (rc != 0)
			return rc;
		n = RTE_MIN(len, b->cap - b->len);
		memcpy(b->data + b->len, p, n);
		b->len += n;
		o->produced(o->arg, n);
		o->pump(o->arg);
		p += n;
		len -= n;
	}
	return 0;
}

int
sink_codec_append(struct sink_codec *c, const struct sink_codec_out *o, const void *data,
		  size_t len)
{
	const unsigned char *p = data;

	switch (c->compress) {
	case DPF_COMPRESS_ZSTD:
		return zstd_run(c, o, data, len, ZSTD_e_continue);
	case DPF_COMPRESS_GZIP:
		/* avail_in is a uInt: feed it in pieces that fit. */
		while (len > 0) {
			size_t chunk = len > UINT_MAX ? UINT_MAX : len;
			int rc = gzip_run(c, o, p, chunk, Z_NO_FLUSH);

			if (rc != 0)
				return rc;
			p += chunk;
			len -= chunk;
		}
		return 0;
	case DPF_COMPRESS_NONE:
		return copy_run(o, p, len);
	}
	return -EINVAL;
}

/* Drain the compressor as zstd's mode or zlib's flush asks (no new input). */
static int
codec_drain(struct sink_codec *c, const struct sink_codec_out *o, ZSTD_EndDirective zstd_mode,
	    int gzip_flush)
{
	if (c->compress == DPF_COMPRESS_ZSTD)
		return zstd_run(c, o, NULL, 0, zstd_mode);
	if (c->compress == DPF_COMPRESS_GZIP)
		return gzip_run(c, o, NULL, 0, gzip_flush);
	return 0;
}

int
sink_codec_flush(struct sink_codec *c, const struct sink_codec_out *o)
{
	return codec_drain(c, o, ZSTD_e_flush, Z_SYNC_FLUSH);
}

int
sink_codec_finish(struct sink_codec *c, const struct sink_codec_out *o)
{
	return codec_drain(c, o, ZSTD_e_end, Z_FINISH);
}

static int
zstd_start(struct sink_codec *c)
{
	size_t r;

	if (c->zstd != NULL) {
		r = ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_only);
		return ZSTD_isError(r) ? -EIO : 0;
	}
	c->zstd = ZSTD_createCCtx();
	if (c->zstd == NULL)
		return -ENOMEM;
	r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, c->level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(r)) {
		ZSTD_freeCCtx(c->zstd);
		c->zstd = NULL;
		return -EINVAL;
	}
	return 0;
}

static int
gzip_start(struct sink_codec *c)
{
	int zr;

	if (c->gz_ready)
		return deflateReset(&c->gz) == Z_OK ? 0 : -EIO;
	memset(&c->gz, 0, sizeof(c->gz));
	zr = deflateInit2(&c->gz, c->level, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY);
	if (zr == Z_MEM_ERROR)
		return -ENOMEM;
	if (zr != Z_OK)
		return -EINVAL;
	c->gz_ready = true;
	return 0;
}

int
sink_codec_start(struct sink_codec *c)
{
	switch (c->compress) {
	case DPF_COMPRESS_ZSTD:
		return zstd_start(c);
	case DPF_COMPRESS_GZIP:
		return gzip_start(c);
	case DPF_COMPRESS_NONE:
		return 0;
	}
	return -EINVAL;
}

void
sink_codec_release(struct sink_codec *c)
{
	ZSTD_freeCCtx(c->zstd);
	c->zstd = NULL;
	if (c->gz_ready)
		deflateEnd(&c->gz);
	c->gz_ready = false;
}

bool
sink_codec_of_name(const char *name, enum dpf_compress *c)
{
	static const enum dpf_compress all[] = {DPF_COMPRESS_ZSTD, DPF_COMPRESS_GZIP,
						DPF_COMPRESS_NONE};
	unsigned int i;

	for (i = 0; i < RTE_DIM(all); i++) {
		if (dpf_has_suffix(name, dpf_sink_compress_ext(all[i]))) {
			*c = all[i];
			return true;
		}
	}
	return false;
}

/* What one decoder needs between reads. */
struct decoder {
	enum dpf_compress compress;
	ZSTD_DCtx *dz;
	z_stream zs;
	bool gz_ready;
	char *out;
	bool done; /* end of the stream, corrupt data, or fn said stop */
	int (*fn)(void *arg, const char *data, size_t len);
	void *arg;
};

static void
decoded(struct decoder *d, const char *p, size_t n)
{
	if (!d->done && d->fn(d->arg, p, n) != 0)
		d->done = true;
}

static void
decode_zstd(struct decoder *d, const unsigned char *in, size_t len)
{
	ZSTD_inBuffer ib = {in, len, 0};
	bool full = false;

	/* A full output buffer may leave decoded bytes inside the decoder
	 * although the input is used up: drain them too. */
	while ((ib.pos < ib.size || full) && !d->done) {
		ZSTD_outBuffer ob = {d->out, DECODE_CHUNK, 0};
		size_t r = ZSTD_decompressStream(d->dz, &ob, &ib);

		if (!ZSTD_isError(r))
			decoded(d, d->out, ob.pos);
		/* Corrupt data ends the decoding; what came before stays. */
		if (ZSTD_isError(r) || (r == 0 && ib.pos < ib.size))
			d->done = true;
		full = ob.pos == ob.size;
	}
}

static void
decode_gzip(struct decoder *d, const unsigned char *in, size_t len)
{
	d->zs.next_in = in;
	d->zs.avail_in = (uInt)len;
	d->zs.avail_out = 1;
	while ((d->zs.avail_in > 0 || d->zs.avail_out == 0) && !d->done) {
		int zr;

		d->zs.next_out = (Bytef *)d->out;
		d->zs.avail_out = DECODE_CHUNK;
		zr = inflate(&d->zs, Z_NO_FLUSH);
		decoded(d, d->out, DECODE_CHUNK - d->zs.avail_out);
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			d->done = true;
	}
}

static int
decoder_init(struct decoder *d)
{
	d->out = malloc(DECODE_CHUNK);
	if (d->out == NULL)
		return -ENOMEM;
	if (d->compress == DPF_COMPRESS_ZSTD) {
		d->dz = ZSTD_createDCtx();
		if (d->dz == NULL)
			return -ENOMEM;
	} else if (d->compress == DPF_COMPRESS_GZIP) {
		if (inflateInit2(&d->zs, GZIP_WINDOW_BITS) != Z_OK)
			return -ENOMEM;
		d->gz_ready = true;
	}
	return 0;
}

int
sink_codec_decode_fd(int fd, enum dpf_compress c,
		     int (*fn)(void *arg, const char *data, size_t len), void *arg)
{
	struct decoder d;
	unsigned char *in = malloc(DECODE_CHUNK);
	int rc;

	memset(&d, 0, sizeof(d));
	d.compress = c;
	d.fn = fn;
	d.arg = arg;
	rc = in == NULL ? -ENOMEM : decoder_init(&d);
	while (rc == 0 && !d.done) {
		ssize_t got = dpf_read(fd, in, DECODE_CHUNK);

		if (got < 0) {
			rc = (int)got;
			break;
		}
		if (got == 0)
			break;
		if (c == DPF_COMPRESS_NONE)
			decoded(&d, (const char *)in, (size_t)got);
		else if (c == DPF_COMPRESS_ZSTD)
			decode_zstd(&d, in, (size_t)got);
		else
			decode_gzip(&d, in, (size_t)got);
	}
	if (d.gz_ready)
		inflateEnd(&d.zs);
	ZSTD_freeDCtx(d.dz);
	free(d.out);
	free(in);
	return rc;
}
