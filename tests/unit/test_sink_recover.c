/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sink's recovery parts on their own (sink_recover.h): the checker that
 * decides which lines of a leftover are kept, and leftover names. Whole
 * recoveries of killed writers are in test_sink (public API).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sink_file.h"
#include "sink_recover.h"

#define HEADER "version account-id interface-id action\n"

struct kept {
	char text[4096];
	size_t len;
	unsigned int lines;
	unsigned int fail_at; /* keep_line fails on this line (1-based); 0 never */
};

static int
keep(void *arg, const char *line, size_t len)
{
	struct kept *k = arg;

	k->lines++;
	if (k->fail_at != 0 && k->lines == k->fail_at)
		return -ENOSPC;
	assert_true(k->len + len < sizeof(k->text));
	assert_int_equal(line[len - 1], '\n');
	memcpy(k->text + k->len, line, len);
	k->len += len;
	return 0;
}

static struct sink_lines
lines_for(struct kept *k, uint64_t keep_n)
{
	struct sink_lines lc;

	memset(&lc, 0, sizeof(lc));
	memset(k, 0, sizeof(*k));
	lc.part = malloc(SINK_RECOVER_LINE_MAX + 1);
	assert_non_null(lc.part);
	lc.keep = keep_n;
	lc.keep_line = keep;
	lc.arg = k;
	return lc;
}

/* Feed text in pieces of `step` bytes, as a decoder hands them over. */
static bool
feed(struct sink_lines *lc, const char *text, size_t step)
{
	size_t len = strlen(text), off;
	bool more = true;

	for (off = 0; off < len && more; off += step)
		more = sink_lines_feed(lc, text + off, len - off < step ? len - off : step);
	return more;
}

static void
test_sink_lines_keep_header_and_whole_lines_in_any_chunking(void **state)
{
	static const char text[] = HEADER "2 1 eni-a ACCEPT\n2 1 eni-b REJECT\n2 1 eni-c";
	static const size_t steps[] = {1, 2, 7, 4096};
	struct kept k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct sink_lines lc = lines_for(&k, UINT64_MAX);

		assert_true(feed(&lc, text, steps[i]));
		/* The last line has no newline: cut by the kill, not kept. */
		assert_int_equal(lc.lines, 2);
		assert_int_equal(lc.fields, 4);
		assert_int_equal(k.lines, 3);
		assert_string_equal(k.text, HEADER "2 1 eni-a ACCEPT\n2 1 eni-b REJECT\n");
		free(lc.part);
	}
}

static void
test_sink_lines_after_the_count_are_dropped_not_kept(void **state)
{
	static const char text[] = HEADER "2 1 a ACCEPT\n2 1 b ACCEPT\n2 1 c ACCEPT\nbad\n";
	struct kept k;
	struct sink_lines lc = lines_for(&k, 1);

	(void)state;
	assert_false(feed(&lc, text, 5));
	assert_int_equal(lc.lines, 1);
	assert_int_equal(lc.dropped, 2); /* well-formed, but of the cut window */
	assert_true(lc.stopped);	 /* then "bad" ends everything */
	assert_string_equal(k.text, HEADER "2 1 a ACCEPT\n");
	free(lc.part);
}

static void
test_sink_lines_stop_at_the_first_malformed_line(void **state)
{
	static const char *const bad[] = {
		"2 1 a ACCEPT\n2 1 b\n2 1 c ACCEPT\n", /* too few fields */
		"2 1 a ACCEPT\n2 1 b ACCEPT x\n",      /* too many */
		"2 1 a ACCEPT\n2  1 b ACCEPT\n",       /* double space */
		"2 1 a ACCEPT\n 2 1 b ACCEPT\n",       /* leading space */
		"2 1 a ACCEPT\n2 1 b ACCEPT \n",       /* trailing space */
		"2 1 a ACCEPT\n2 1 \tb ACCEPT\n",      /* control character */
		"2 1 a ACCEPT\n2 1 \xc3\xa9 ACCEPT\n", /* not ASCII */
		"2 1 a ACCEPT\n\n",		       /* empty */
	};
	struct kept k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct sink_lines lc = lines_for(&k, UINT64_MAX);

		snprintf(text, sizeof(text), "%s%s", HEADER, bad[i]);
		assert_false(feed(&lc, text, 3));
		assert_true(lc.stopped);
		assert_int_equal(lc.lines, 1);
		free(lc.part);
	}
}

static void
test_sink_lines_refuse_a_header_of_other_characters(void **state)
{
	struct kept k;
	struct sink_lines lc = lines_for(&k, UINT64_MAX);

	(void)state;
	/* Field names are lowercase letters, digits and '-'. */
	assert_false(feed(&lc, "Version account-id\n2 1\n", 64));
	assert_int_equal(lc.fields, 0);
	assert_int_equal(k.lines, 0);
	free(lc.part);
}

static void
test_sink_lines_stop_at_a_line_too_long_and_at_a_failed_keep(void **state)
{
	struct kept k;
	struct sink_lines lc = lines_for(&k, UINT64_MAX);
	char *big = malloc(SINK_RECOVER_LINE_MAX + 2);

	(void)state;
	assert_non_null(big);
	assert_true(feed(&lc, HEADER, 64));
	memset(big, 'x', SINK_RECOVER_LINE_MAX + 1);
	big[SINK_RECOVER_LINE_MAX + 1] = '\0';
	assert_false(feed(&lc, big, 1000));
	assert_true(lc.stopped);
	assert_int_equal(lc.lines, 0);
	free(lc.part);
	free(big);

	lc = lines_for(&k, UINT64_MAX);
	k.fail_at = 2; /* the first record line cannot be written */
	assert_false(feed(&lc, HEADER "2 1 a ACCEPT\n2 1 b ACCEPT\n", 4096));
	assert_int_equal(lc.rc, -ENOSPC);
	assert_false(lc.stopped);
	assert_int_equal(k.lines, 2); /* nothing offered after the failure */
	free(lc.part);
}

static void
test_sink_leftover_names_round_trip_with_the_temporary_name(void **state)
{
	const char *final =
		"123456789012_vpcflowlogs_us-east-1_fl-1_20190827T1910Z_0a1b2c3d.log.zst";
	char tmp[NAME_MAX + 1], stem[NAME_MAX + 1], fin[NAME_MAX + 1];
	uint64_t keep = 0;

	(void)state;
	assert_int_equal(sink_tmp_name(final, 4242, tmp, sizeof(tmp)), 0);
	assert_true(sink_leftover_name(tmp, strlen(SINK_TMP_SUFFIX), stem, fin, &keep));
	assert_string_equal(fin, final);
	assert_true(keep == 4242);
	assert_int_equal(strncmp(stem, final, strlen(final)), 0);
	assert_string_equal(stem + strlen(final), ".4242");

	/* An older version's leftover has no count: keep everything. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", final);
	assert_true(sink_leftover_name(tmp, strlen(SINK_TMP_SUFFIX), stem, fin, &keep));
	assert_string_equal(fin, final);
	assert_true(keep == UINT64_MAX);

	/* The recovering file of an interrupted recovery. */
	snprintf(tmp, sizeof(tmp), ".%s.7" SINK_RECOVERING_SUFFIX SINK_TMP_SUFFIX, final);
	assert_true(sink_leftover_name(
		tmp, strlen(SINK_RECOVERING_SUFFIX) + strlen(SINK_TMP_SUFFIX), stem, fin, &keep));
	assert_string_equal(fin, final);
	assert_true(keep == 7);

	/* A count too large for 64 bits is no count of ours. */
	snprintf(tmp, sizeof(tmp), ".a.log.99999999999999999999.tmp");
	assert_false(sink_leftover_name(tmp, strlen(SINK_TMP_SUFFIX), stem, fin, &keep));
	assert_false(sink_leftover_name(".tmp", strlen(SINK_TMP_SUFFIX), stem, fin, &keep));
	/* Digits without a dot belong to the name. */
	assert_true(sink_leftover_name(".a123.tmp", strlen(SINK_TMP_SUFFIX), stem, fin, &keep));
	assert_string_equal(fin, "a123");
	assert_true(keep == UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_lines_keep_header_and_whole_lines_in_any_chunking),
		cmocka_unit_test(test_sink_lines_after_the_count_are_dropped_not_kept),
		cmocka_unit_test(test_sink_lines_stop_at_the_first_malformed_line),
		cmocka_unit_test(test_sink_lines_refuse_a_header_of_other_characters),
		cmocka_unit_test(test_sink_lines_stop_at_a_line_too_long_and_at_a_failed_keep),
		cmocka_unit_test(test_sink_leftover_names_round_trip_with_the_temporary_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
