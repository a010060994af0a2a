/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One gzip member of a buffer (app/output/gzip.c), checked with zlib's
 * inflate as the independent reader: every level and both compressors give
 * a member that inflates back to the input, with no time in its header
 * (RFC 1952: MTIME, bytes 4..7, is zero), so the same input gives the same
 * bytes; later, larger members grow the buffer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "gzip.h"

/* Text like the exporters' (JSON, CSV rows): compressible, not uniform. */
static char *
sample(size_t len, unsigned int seed)
{
	char *s = malloc(len);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = (char)((i % 61 == 60) ? '\n' : 'a' + (char)((i * 7 + seed + i / 97) % 26));
	return s;
}

/* Inflate a gzip member with zlib and compare it with the input. */
static void
assert_inflates_to(const uint8_t *z, size_t zlen, const char *in, size_t len)
{
	char *out = malloc(len + 1);
	z_stream s;

	assert_non_null(out);
	memset(&s, 0, sizeof(s));
	assert_int_equal(inflateInit2(&s, 16 + MAX_WBITS), Z_OK);
	s.next_in = (Bytef *)(uintptr_t)z;
	s.avail_in = (uInt)zlen;
	s.next_out = (Bytef *)out;
	s.avail_out = (uInt)len + 1;
	assert_int_equal(inflate(&s, Z_FINISH), Z_STREAM_END);
	assert_int_equal(s.total_out, len);
	assert_int_equal(s.avail_in, 0);
	assert_memory_equal(out, in, len);
	inflateEnd(&s);
	free(out);
}

static void
member_round_trip(int level, bool igzip)
{
	static const size_t lens[] = {1, 5000, 300000};
	struct dpf_gzip g;
	const uint8_t *z;
	unsigned int i;

	assert_int_equal(dpf_gzip_init(&g, level, igzip), 0);
	for (i = 0; i < 3; i++) {
		char *in = sample(lens[i], i);
		ssize_t n = dpf_gzip_member(&g, in, lens[i], &z);
		uint8_t first[64];

		assert_true(n > 18);
		assert_int_equal(z[0], 0x1f);
		assert_int_equal(z[1], 0x8b);
		assert_int_equal(z[4] | z[5] | z[6] | z[7], 0);
		assert_inflates_to(z, (size_t)n, in, lens[i]);
		/* Again: the same bytes. */
		memcpy(first, z, sizeof(first) < (size_t)n ? sizeof(first) : (size_t)n);
		assert_int_equal(dpf_gzip_member(&g, in, lens[i], &z), n);
		assert_memory_equal(first, z,
				    sizeof(first) < (size_t)n ? sizeof(first) : (size_t)n);
		free(in);
	}
	dpf_gzip_release(&g);
}

static void
test_gzip_igzip_at_level1_inflates_back_and_has_no_time(void **state)
{
	member_round_trip(1, true);
}

static void
test_gzip_libdeflate_at_every_level_inflates_back_and_has_no_time(void **state)
{
	int level;

	for (level = 1; level <= 12; level++)
		member_round_trip(level, false);
}

/* Bytes that do not compress: the member is larger than the input. */
static void
test_gzip_incompressible_input_still_makes_a_member(void **state)
{
	static const bool engines[] = {true, false};
	size_t len = 1 << 20, i;
	uint8_t *in = malloc(len);
	unsigned int e;
	uint32_t x = 12345;

	assert_non_null(in);
	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		in[i] = (uint8_t)(x >> 24);
	}
	for (e = 0; e < 2; e++) {
		struct dpf_gzip g;
		const uint8_t *z;
		ssize_t n;

		assert_int_equal(dpf_gzip_init(&g, 1, engines[e]), 0);
		n = dpf_gzip_member(&g, in, len, &z);
		assert_true(n > (ssize_t)len);
		assert_inflates_to(z, (size_t)n, (const char *)in, len);
		dpf_gzip_release(&g);
	}
	free(in);
}

static void
test_gzip_level_libdeflate_refuses_is_enomem(void **state)
{
	struct dpf_gzip g;

	assert_int_equal(dpf_gzip_init(&g, 13, false), -ENOMEM);
	dpf_gzip_release(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_igzip_at_level1_inflates_back_and_has_no_time),
		cmocka_unit_test(test_gzip_libdeflate_at_every_level_inflates_back_and_has_no_time),
		cmocka_unit_test(test_gzip_incompressible_input_still_makes_a_member),
		cmocka_unit_test(test_gzip_level_libdeflate_refuses_is_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
