/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sink's output buffer and compressors on their own (sink_buf.h,
 * sink_codec.h): what they write is checked with zstd's and zlib's own
 * decoders, and what the sink's decoder reads was written by those
 * libraries directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_common.h>

#include "sink_buf.h"
#include "sink_codec.h"

#define OUT_CAP (4u * 1024 * 1024)

/* ------------------------------------------------------------ helpers */

/* The sink's side of the codec: count what is produced, and pumps. */
struct counting_out {
	struct sink_buf buf;
	size_t produced;
	unsigned int pumps;
};

static void
count_produced(void *arg, size_t n)
{
	struct counting_out *c = arg;

	c->produced += n;
}

static void
count_pump(void *arg)
{
	struct counting_out *c = arg;

	c->pumps++;
}

static struct sink_codec_out
out_of(struct counting_out *c)
{
	struct sink_codec_out o = {&c->buf, count_produced, count_pump, c};

	return o;
}

/* "line <i> ...\n": distinct lines that compress well, as records do. */
static size_t
make_lines(char *text, size_t cap, unsigned int n)
{
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"2 123456789012 eni-1 10.0.%u.%u 443 6 %u ACCEPT OK\n",
					i % 256, i / 256, i);
	return len;
}

/* zstd's own streaming decoder over everything in buf. */
static size_t
zstd_decode(const struct sink_buf *b, char *out, size_t cap, bool *complete)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = {b->data + b->off, sink_buf_pending(b), 0};
	ZSTD_outBuffer ob = {out, cap, 0};
	size_t r = 1;

	assert_non_null(d);
	while (in.pos < in.size) {
		r = ZSTD_decompressStream(d, &ob, &in);
		assert_false(ZSTD_isError(r));
	}
	ZSTD_freeDCtx(d);
	*complete = r == 0;
	return ob.pos;
}

/* zlib's own gzip inflater over everything in buf. */
static size_t
gzip_decode(const struct sink_buf *b, char *out, size_t cap, bool *complete)
{
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = b->data + b->off;
	zs.avail_in = (uInt)sink_buf_pending(b);
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	zr = inflate(&zs, Z_SYNC_FLUSH);
	assert_true(zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR);
	*complete = zr == Z_STREAM_END;
	inflateEnd(&zs);
	return cap - zs.avail_out;
}

static size_t
decode(enum dpf_compress c, const struct sink_buf *b, char *out, size_t cap, bool *complete)
{
	if (c == DPF_COMPRESS_ZSTD)
		return zstd_decode(b, out, cap, complete);
	if (c == DPF_COMPRESS_GZIP)
		return gzip_decode(b, out, cap, complete);
	memcpy(out, b->data + b->off, sink_buf_pending(b));
	*complete = true;
	return sink_buf_pending(b);
}

/* A started codec of the default level. */
static void
codec_open(struct sink_codec *codec, enum dpf_compress c)
{
	memset(codec, 0, sizeof(*codec));
	codec->compress = c;
	assert_int_equal(sink_codec_level(c, &codec->level), 0);
	assert_int_equal(sink_codec_start(codec), 0);
}

static const enum dpf_compress all_codecs[] = {DPF_COMPRESS_ZSTD, DPF_COMPRESS_GZIP,
					       DPF_COMPRESS_NONE};

/* ------------------------------------------------------------ buffer */

static void
test_sink_buf_room_moves_pending_bytes_before_growing(void **state)
{
	struct sink_buf b = {0};
	unsigned char *first;

	(void)state;
	assert_int_equal(sink_buf_room(&b), 0);
	assert_int_equal(b.cap, SINK_BUF_SIZE + SINK_BUF_ROOM);
	first = b.data;
	/* Fill past the room, then mark most of it written: the room comes
	 * from moving the rest to the front, not from a larger buffer. */
	memset(b.data, 'a', b.cap - 10);
	b.len = b.cap - 10;
	b.data[b.len - 1] = 'z';
	b.off = b.len - 100;
	assert_int_equal(sink_buf_room(&b), 0);
	assert_int_equal(b.cap, SINK_BUF_SIZE + SINK_BUF_ROOM);
	assert_ptr_equal(b.data, first);
	assert_int_equal(b.off, 0);
	assert_int_equal(sink_buf_pending(&b), 100);
	assert_int_equal(b.data[99], 'z');
	/* Nothing written: it grows (the hold of a blocked sink). */
	b.len = b.cap - 10;
	assert_int_equal(sink_buf_room(&b), 0);
	assert_true(b.cap - b.len >= SINK_BUF_ROOM);
	assert_int_equal(b.cap, 2 * (SINK_BUF_SIZE + SINK_BUF_ROOM));
	assert_int_equal(sink_buf_discard(&b), b.cap / 2 - 10);
	assert_int_equal(sink_buf_pending(&b), 0);
	sink_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
}

static void
test_sink_buf_write_empties_and_shrinks_and_keeps_bytes_on_failure(void **state)
{
	struct sink_buf b = {0};
	char path[] = "/tmp/test_sink_buf.XXXXXX";
	char back[16];
	uint64_t written = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	/* An outage grew it to four times the usual size. */
	b.cap = 4 * (SINK_BUF_SIZE + SINK_BUF_ROOM);
	b.data = malloc(b.cap);
	assert_non_null(b.data);
	memcpy(b.data, "xxhello world", 13);
	b.off = 2;
	b.len = 13;
	/* A descriptor that refuses: the error, nothing counted, nothing lost. */
	assert_int_equal(sink_buf_write(&b, -1, &written), -EBADF);
	assert_int_equal(written, 0);
	assert_int_equal(sink_buf_pending(&b), 11);
	assert_int_equal(sink_buf_write(&b, fd, &written), 0);
	assert_int_equal(written, 11);
	assert_int_equal(sink_buf_pending(&b), 0);
	assert_int_equal(b.cap, SINK_BUF_SIZE + SINK_BUF_ROOM);
	assert_int_equal(pread(fd, back, sizeof(back), 0), 11);
	assert_memory_equal(back, "hello world", 11);
	sink_buf_free(&b);
	close(fd);
}

/* ------------------------------------------------------------ compressors */

static void
test_sink_codec_levels_default_and_refuse_out_of_range(void **state)
{
	int level;

	(void)state;
	level = 0;
	assert_int_equal(sink_codec_level(DPF_COMPRESS_ZSTD, &level), 0);
	assert_int_equal(level, DPF_SINK_ZSTD_LEVEL_DEFAULT);
	level = 0;
	assert_int_equal(sink_codec_level(DPF_COMPRESS_GZIP, &level), 0);
	assert_int_equal(level, DPF_SINK_GZIP_LEVEL_DEFAULT);
	level = ZSTD_maxCLevel();
	assert_int_equal(sink_codec_level(DPF_COMPRESS_ZSTD, &level), 0);
	level = ZSTD_maxCLevel() + 1;
	assert_int_equal(sink_codec_level(DPF_COMPRESS_ZSTD, &level), -EINVAL);
	level = 10;
	assert_int_equal(sink_codec_level(DPF_COMPRESS_GZIP, &level), -EINVAL);
	level = 42;
	assert_int_equal(sink_codec_level(DPF_COMPRESS_NONE, &level), 0);
	level = 0;
	assert_int_equal(sink_codec_level((enum dpf_compress)7, &level), -EINVAL);
}

static void
test_sink_codec_output_decodes_with_each_library_and_counts_every_byte(void **state)
{
	static char text[OUT_CAP], back[OUT_CAP];
	size_t len = make_lines(text, sizeof(text), 20000);
	size_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(all_codecs); i++) {
		struct counting_out c = {0};
		struct sink_codec_out o = out_of(&c);
		struct sink_codec codec;
		bool complete;
		size_t off, n;

		codec_open(&codec, all_codecs[i]);
		/* Line by line, as the sink appends. */
		for (off = 0; off < len; off += n) {
			n = (size_t)(strchr(text + off, '\n') - (text + off)) + 1;
			assert_int_equal(sink_codec_append(&codec, &o, text + off, n), 0);
		}
		assert_int_equal(sink_codec_finish(&codec, &o), 0);
		assert_int_equal(c.produced, sink_buf_pending(&c.buf));
		assert_true(c.pumps > 0);
		assert_int_equal(decode(codec.compress, &c.buf, back, sizeof(back), &complete),
				 len);
		assert_true(complete);
		assert_memory_equal(back, text, len);
		if (codec.compress != DPF_COMPRESS_NONE)
			assert_true(sink_buf_pending(&c.buf) < len / 4);
		/* RFC 8878 3.1.1.1.1: bit 2 of the frame header descriptor is the
		 * content checksum flag. */
		if (codec.compress == DPF_COMPRESS_ZSTD)
			assert_int_equal(c.buf.data[c.buf.off + 4] & 0x04, 0x04);
		/* A second file through the same codec: reset, not recreated. */
		sink_buf_discard(&c.buf);
		assert_int_equal(sink_codec_start(&codec), 0);
		assert_int_equal(sink_codec_append(&codec, &o, "a b\n", 4), 0);
		assert_int_equal(sink_codec_finish(&codec, &o), 0);
		assert_int_equal(decode(codec.compress, &c.buf, back, sizeof(back), &complete), 4);
		assert_memory_equal(back, "a b\n", 4);
		sink_codec_release(&codec);
		sink_buf_free(&c.buf);
	}
}

static void
test_sink_codec_flush_makes_every_line_so_far_decodable(void **state)
{
	static char text[OUT_CAP], back[OUT_CAP];
	size_t len = make_lines(text, sizeof(text), 3000);
	size_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(all_codecs); i++) {
		struct counting_out c = {0};
		struct sink_codec_out o = out_of(&c);
		struct sink_codec codec;
		bool complete;

		codec_open(&codec, all_codecs[i]);
		assert_int_equal(sink_codec_append(&codec, &o, text, len), 0);
		assert_int_equal(sink_codec_flush(&codec, &o), 0);
		/* Not finished, yet every byte so far comes back. */
		assert_int_equal(decode(codec.compress, &c.buf, back, sizeof(back), &complete),
				 len);
		assert_memory_equal(back, text, len);
		if (codec.compress != DPF_COMPRESS_NONE)
			assert_false(complete);
		/* A second flush with nothing new is no error. */
		assert_int_equal(sink_codec_flush(&codec, &o), 0);
		sink_codec_release(&codec);
		sink_buf_free(&c.buf);
	}
}

static void
test_sink_codec_of_name_reads_the_suffix(void **state)
{
	enum dpf_compress c;

	(void)state;
	assert_true(sink_codec_of_name("a_20190827T1910Z_0a1b2c3d.log.zst", &c));
	assert_int_equal(c, DPF_COMPRESS_ZSTD);
	assert_true(sink_codec_of_name("a.log.gz", &c));
	assert_int_equal(c, DPF_COMPRESS_GZIP);
	assert_true(sink_codec_of_name("a.log", &c));
	assert_int_equal(c, DPF_COMPRESS_NONE);
	assert_false(sink_codec_of_name("a.log.bz2", &c));
	assert_false(sink_codec_of_name("zst", &c));
}

/* ------------------------------------------------------------ decoder */

struct collected {
	char *data;
	size_t len;
	unsigned int calls;
	unsigned int stop_after; /* 0: never */
};

static int
collect(void *arg, const char *data, size_t len)
{
	struct collected *c = arg;

	memcpy(c->data + c->len, data, len);
	c->len += len;
	c->calls++;
	return c->stop_after != 0 && c->calls >= c->stop_after;
}

/* A file holding bytes, read back from its start. */
static int
file_of(const void *bytes, size_t len)
{
	char path[] = "/tmp/test_sink_codec.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* gzip made by zlib itself, not through the sink's compressor. */
static size_t
zlib_gzip(const char *text, size_t len, unsigned char *out, size_t cap)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (const Bytef *)text;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	return cap - zs.avail_out;
}

static void
test_sink_codec_decoder_reads_what_each_library_wrote(void **state)
{
	static char text[OUT_CAP], got[OUT_CAP];
	static unsigned char packed[OUT_CAP];
	size_t len = make_lines(text, sizeof(text), 30000);
	size_t plen;
	struct collected c = {got, 0, 0, 0};
	int fd;

	(void)state;
	plen = ZSTD_compress(packed, sizeof(packed), text, len, 3);
	assert_false(ZSTD_isError(plen));
	fd = file_of(packed, plen);
	assert_int_equal(sink_codec_decode_fd(fd, DPF_COMPRESS_ZSTD, collect, &c), 0);
	assert_int_equal(c.len, len);
	assert_memory_equal(got, text, len);
	close(fd);

	memset(&c, 0, sizeof(c));
	c.data = got;
	plen = zlib_gzip(text, len, packed, sizeof(packed));
	fd = file_of(packed, plen);
	assert_int_equal(sink_codec_decode_fd(fd, DPF_COMPRESS_GZIP, collect, &c), 0);
	assert_int_equal(c.len, len);
	assert_memory_equal(got, text, len);
	close(fd);

	memset(&c, 0, sizeof(c));
	c.data = got;
	fd = file_of(text, len);
	assert_int_equal(sink_codec_decode_fd(fd, DPF_COMPRESS_NONE, collect, &c), 0);
	assert_int_equal(c.len, len);
	close(fd);

	/* A descriptor that cannot be read: its errno. */
	assert_int_equal(sink_codec_decode_fd(-1, DPF_COMPRESS_NONE, collect, &c), -EBADF);
}

static void
test_sink_codec_decoder_stops_when_asked_and_at_corrupt_data(void **state)
{
	static char text[OUT_CAP], got[OUT_CAP];
	static unsigned char packed[OUT_CAP];
	size_t len = make_lines(text, sizeof(text), 30000);
	struct collected c = {got, 0, 0, 1};
	size_t plen;
	int fd;

	(void)state;
	/* Asked to stop after the first piece: no second call. */
	fd = file_of(text, len);
	assert_int_equal(sink_codec_decode_fd(fd, DPF_COMPRESS_NONE, collect, &c), 0);
	assert_int_equal(c.calls, 1);
	assert_true(c.len < len);
	close(fd);

	/* A zstd frame whose end was overwritten: the start still comes back. */
	plen = ZSTD_compress(packed, sizeof(packed), text, len, 1);
	assert_false(ZSTD_isError(plen));
	memset(packed + plen / 2, 0xff, plen - plen / 2);
	memset(&c, 0, sizeof(c));
	c.data = got;
	fd = file_of(packed, plen);
	assert_int_equal(sink_codec_decode_fd(fd, DPF_COMPRESS_ZSTD, collect, &c), 0);
	assert_true(c.len > 0 && c.len < len);
	assert_memory_equal(got, text, c.len);
	close(fd);

	/* Not gzip at all: nothing, and no error (recovery keeps no line). */
	memset(&c, 0, sizeof(c));
	c.data = got;
	fd = file_of(text, 1000);
	assert_int_equal(sink_codec_decode_fd(fd, DPF_COMPRESS_GZIP, collect, &c), 0);
	assert_int_equal(c.len, 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_buf_room_moves_pending_bytes_before_growing),
		cmocka_unit_test(
			test_sink_buf_write_empties_and_shrinks_and_keeps_bytes_on_failure),
		cmocka_unit_test(test_sink_codec_levels_default_and_refuse_out_of_range),
		cmocka_unit_test(
			test_sink_codec_output_decodes_with_each_library_and_counts_every_byte),
		cmocka_unit_test(test_sink_codec_flush_makes_every_line_so_far_decodable),
		cmocka_unit_test(test_sink_codec_of_name_reads_the_suffix),
		cmocka_unit_test(test_sink_codec_decoder_reads_what_each_library_wrote),
		cmocka_unit_test(test_sink_codec_decoder_stops_when_asked_and_at_corrupt_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
