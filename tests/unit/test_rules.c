/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rule-change queue (app/pipeline/rules.c): changes are checked when
 * entered, any number queue for the next window boundary, and RX cores (this
 * test plays two) and the pipeline all apply the whole queue from that
 * boundary on; a change entered after a core reached the boundary waits for
 * the next one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpf_test_eal.h"
#include "rules.h"

#define L 60ull
#define S 1000000000ull
#define T (1700000040ull * S) /* a window start */

static struct dpf_rules *rules;
static struct dpf_window_plan *plan;

static int
setup(void **state)
{
	struct dpf_str_list none = {0};
	struct dpf_rules_params p = {
		.nat_rules = &none,
		.acl_rules = &none,
		.acl_default = DPF_ACTION_ACCEPT,
		.n_readers = 2,
	};

	(void)state;
	plan = dpf_window_plan_create(L);
	rules = dpf_rules_create(&p);
	return plan != NULL && rules != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	dpf_rules_free(rules);
	dpf_window_plan_free(plan);
	return 0;
}

static int
change(enum dpf_rules_kind kind, const char *add, unsigned int del, uint64_t now, uint64_t *at,
       char *err, size_t err_len)
{
	struct dpf_rules_change c = {
		.kind = kind, .add = add, .del = del, .now_ns = now, .plan = plan};
	unsigned int n;

	return dpf_rules_change(rules, &c, at, &n, err, err_len);
}

static char *
shown(enum dpf_rules_kind kind)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	dpf_rules_show(rules, kind, f);
	fclose(f);
	return buf;
}

static void
test_rules_several_changes_queue_and_apply_at_one_boundary(void **state)
{
	const struct dpf_ruleset *a, *b;
	char err[512];
	uint64_t at;

	(void)state;
	/* Both cores are in window T. */
	assert_int_equal(dpf_rules_enter_window(rules, T)->nat_text.n, 0);
	assert_int_equal(dpf_rules_enter_window(rules, T)->nat_text.n, 0);
	assert_int_equal(change(DPF_RULES_NAT, "static 10.0.0.0/24 100.64.0.0/24", 0, T + 5 * S,
				&at, err, sizeof(err)),
			 0);
	assert_true(at == T + L * S);
	assert_int_equal(change(DPF_RULES_ACL, "deny udp any any any 53", 0, T + 6 * S, &at, err,
				sizeof(err)),
			 0);
	assert_true(at == T + L * S);
	assert_int_equal(change(DPF_RULES_NAT, "static 10.0.1.0/24 100.64.1.0/24", 0, T + 7 * S,
				&at, err, sizeof(err)),
			 0);
	assert_true(at == T + L * S);
	assert_int_equal(change(DPF_RULES_NAT, NULL, 1, T + 8 * S, &at, err, sizeof(err)), 0);
	assert_string_equal(shown(DPF_RULES_NAT),
			    "nat rules: 1\nnat rule 1: static 10.0.1.0/24 100.64.1.0/24\n"
			    "pending-from: 1700000100\npending-changes: 4\n");
	/* Until the boundary, nothing changes for the cores or the pipeline. */
	a = dpf_rules_enter_window(rules, T);
	assert_int_equal(a->nat_text.n, 0);
	assert_null(a->acl);
	assert_ptr_equal(dpf_rules_for_window(rules, T), a);
	/* From it, both cores and the pipeline apply the four changes together. */
	a = dpf_rules_enter_window(rules, T + L * S);
	b = dpf_rules_enter_window(rules, T + L * S);
	assert_ptr_equal(a, b);
	assert_ptr_equal(dpf_rules_for_window(rules, T + L * S), a);
	assert_int_equal(a->nat_text.n, 1);
	assert_int_equal(a->acl_text.n, 1);
	assert_non_null(a->acl);
	assert_non_null(a->nat);
	assert_string_equal(
		shown(DPF_RULES_ACL),
		"acl rules: 1\nacl rule 1: deny udp any any any 53\nacl default: allow\n");
}

static void
test_rules_bad_change_is_refused_at_entry_with_its_reason(void **state)
{
	char err[512];
	uint64_t at = 0;

	(void)state;
	assert_int_equal(change(DPF_RULES_NAT, "static 10.0.0.0/24 100.64.0.0/24", 0, T, &at, err,
				sizeof(err)),
			 0);
	assert_int_equal(
		change(DPF_RULES_ACL, "allow tcp nowhere any any 80", 0, T, &at, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "cli acl add: acl rule 'allow tcp nowhere any any 80': "));
	assert_int_equal(change(DPF_RULES_NAT, "masquerade 10.0.0.0/8 192.0.2.1", 0, T, &at, err,
				sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "needs forward mode"));
	assert_int_equal(change(DPF_RULES_NAT, NULL, 2, T, &at, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected a rule number 1..1"));
	/* The good change is still queued, alone. */
	assert_string_equal(shown(DPF_RULES_NAT),
			    "nat rules: 1\nnat rule 1: static 10.0.0.0/24 100.64.0.0/24\n"
			    "pending-from: 1700000100\npending-changes: 1\n");
	assert_string_equal(shown(DPF_RULES_ACL), "acl rules: 0\nacl default: allow\n"
						  "pending-from: 1700000100\npending-changes: 1\n");
}

static void
test_rules_change_after_a_core_reached_the_boundary_waits_for_the_next(void **state)
{
	const struct dpf_ruleset *a, *b;
	char err[512];
	uint64_t at;

	(void)state;
	dpf_rules_enter_window(rules, T);
	assert_int_equal(change(DPF_RULES_NAT, "static 10.0.0.0/24 100.64.0.0/24", 0, T + S, &at,
				err, sizeof(err)),
			 0);
	/* Core 0 opens the boundary window (its clock is ahead of the prompt's). */
	a = dpf_rules_enter_window(rules, T + L * S);
	assert_int_equal(a->nat_text.n, 1);
	/* A change entered now, with a clock still in T, must not join the set core
	 * 0 applies: it takes effect at the boundary after. */
	assert_int_equal(change(DPF_RULES_ACL, "deny udp any any any 53", 0, T + 2 * S, &at, err,
				sizeof(err)),
			 0);
	assert_true(at == T + 2 * L * S);
	/* Core 1 opens the boundary window: the same set as core 0. */
	b = dpf_rules_enter_window(rules, T + L * S);
	assert_ptr_equal(a, b);
	assert_null(b->acl);
	/* Both cores go quiescent, the pipeline frees what no window selects. */
	dpf_rules_quiescent(rules, 0);
	dpf_rules_quiescent(rules, 1);
	dpf_rules_reclaim(rules, T + L * S);
	dpf_rules_quiescent(rules, 0);
	dpf_rules_quiescent(rules, 1);
	dpf_rules_reclaim(rules, T + L * S);
	assert_ptr_equal(dpf_rules_for_window(rules, T + L * S), a);
	b = dpf_rules_enter_window(rules, T + 2 * L * S);
	assert_int_equal(b->nat_text.n, 1);
	assert_int_equal(b->acl_text.n, 1);
}

static void
test_rules_stay_usable_after_many_changes_and_reclaims(void **state)
{
	char err[512], rule[64];
	uint64_t at, w = T;
	unsigned int i;

	(void)state;
	/* More versions than the table of versions holds, freed as they go. */
	for (i = 0; i < 600; i++) {
		snprintf(rule, sizeof(rule), "static 10.%u.%u.0/24 100.64.0.0/24", i / 256,
			 i % 256);
		/* Add a rule, then delete it. */
		assert_int_equal(
			change(DPF_RULES_NAT, i % 2 ? NULL : rule, 1, w, &at, err, sizeof(err)), 0);
		if (i % 3 == 0) {
			w = at;
			dpf_rules_enter_window(rules, w);
			dpf_rules_enter_window(rules, w);
		}
		dpf_rules_quiescent(rules, 0);
		dpf_rules_quiescent(rules, 1);
		dpf_rules_reclaim(rules, w);
	}
	assert_non_null(dpf_rules_for_window(rules, w));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_rules_several_changes_queue_and_apply_at_one_boundary, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rules_bad_change_is_refused_at_entry_with_its_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rules_change_after_a_core_reached_the_boundary_waits_for_the_next,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rules_stay_usable_after_many_changes_and_reclaims, setup, teardown),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
