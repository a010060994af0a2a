/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/window's window plan: aligned windows, length changes at a boundary, counts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "dpf_test_eal.h"
#include "dpf_window_plan.h"

#define S 1000000000ull

static void
test_plan_windows_are_aligned_to_their_length(void **state)
{
	struct dpf_window_plan *p = dpf_window_plan_create(60);
	uint64_t s, e;

	(void)state;
	assert_non_null(p);
	dpf_window_plan_bounds(p, 1700000000ull * S + 5, &s, &e);
	/* 1700000000 = 28333333 * 60 + 20 */
	assert_true(s == 1699999980ull * S && e == 1700000040ull * S);
	assert_true(dpf_window_plan_start(p, 59 * S) == 0);
	assert_int_equal(dpf_window_plan_len_sec(p), 60);
	dpf_window_plan_free(p);
}

static void
test_plan_create_rejects_zero_and_too_long(void **state)
{
	(void)state;
	assert_null(dpf_window_plan_create(0));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(dpf_window_plan_create(86401));
}

static void
test_plan_length_change_starts_at_the_next_boundary(void **state)
{
	struct dpf_window_plan *p = dpf_window_plan_create(60);
	uint64_t s, e, at;

	(void)state;
	at = dpf_window_plan_set_len(p, 25, 130 * S, 0);
	/* now 130 s is in [120, 180): the switch is at 180. */
	assert_true(at == 180 * S);
	assert_int_equal(dpf_window_plan_len_sec(p), 25);
	dpf_window_plan_bounds(p, 170 * S, &s, &e);
	assert_true(s == 120 * S && e == 180 * S);
	/* The first window of the new length ends at the next multiple of 25 (200). */
	dpf_window_plan_bounds(p, 185 * S, &s, &e);
	assert_true(s == 180 * S && e == 200 * S);
	dpf_window_plan_bounds(p, 210 * S, &s, &e);
	assert_true(s == 200 * S && e == 225 * S);
	dpf_window_plan_free(p);
}

static void
test_plan_change_closer_than_the_margin_waits_one_window(void **state)
{
	struct dpf_window_plan *p = dpf_window_plan_create(60);

	(void)state;
	/* 179.95 s: 50 ms before the boundary at 180 with a 100 ms margin. */
	assert_true(dpf_window_plan_set_len(p, 30, 179950000000ull, 100000000ull) == 240 * S);
	dpf_window_plan_free(p);
}

static void
test_plan_count_spans_a_gap_and_a_switch(void **state)
{
	struct dpf_window_plan *p = dpf_window_plan_create(60);

	(void)state;
	/* One day of 60 s windows. */
	assert_true(dpf_window_plan_count(p, 0, 86400 * S) == 1440);
	dpf_window_plan_set_len(p, 10, 100 * S, 0); /* switch at 120 */
	/* [60, 120): one window of 60 s; [120, 200): eight of 10 s. */
	assert_true(dpf_window_plan_count(p, 60 * S, 200 * S) == 9);
	dpf_window_plan_free(p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_windows_are_aligned_to_their_length),
		cmocka_unit_test(test_plan_create_rejects_zero_and_too_long),
		cmocka_unit_test(test_plan_length_change_starts_at_the_next_boundary),
		cmocka_unit_test(test_plan_change_closer_than_the_margin_waits_one_window),
		cmocka_unit_test(test_plan_count_spans_a_gap_and_a_switch),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
