/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The prompt's action functions, called directly with open_memstream():
 * what they print is the contract scripts rely on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "dpf_test_eal.h"

static char *buf;
static size_t len;

static FILE *
out(void)
{
	free(buf);
	buf = NULL;
	return open_memstream(&buf, &len);
}

static const char *
text(FILE *f)
{
	fclose(f);
	return buf;
}

static struct dpf_record
rec(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t proto, uint64_t start)
{
	struct dpf_record r;

	memset(&r, 0, sizeof(r));
	r.key.family = 4;
	inet_pton(AF_INET, src, r.key.src_addr);
	inet_pton(AF_INET, dst, r.key.dst_addr);
	r.key.src_port = sp;
	r.key.dst_port = dp;
	r.key.proto = proto;
	memcpy(r.post.src_addr, r.key.src_addr, 16);
	memcpy(r.post.dst_addr, r.key.dst_addr, 16);
	r.post.src_port = sp;
	r.post.dst_port = dp;
	r.packets = 2;
	r.bytes = 120;
	r.start = start;
	r.end = start + 1;
	return r;
}

/* The subsystems the actions under test use; the others stay NULL. */
static struct {
	struct dpf_run run;
	struct dpf_config *cfg;
	struct dpf_window_plan *plan;
	struct dpf_wall *wall;
	struct dpf_store *store;
	struct dpf_rules *rules;
	struct dpf_fmt_ctx fmt_ctx;
	struct dpf_ctl *ctl;
} t;

static int
setup(void **state)
{
	static struct dpf_iface_meta meta = {.account_id = "123456789010",
					     .interface_id = "eni-test"};
	char *argv[] = {"dpflow", "--window", "60"};
	struct dpf_str_list empty = {0};
	struct dpf_rules_params rp = {
		.nat_rules = &empty,
		.acl_rules = &empty,
		.acl_default = DPF_ACTION_ACCEPT,
		.n_readers = 1,
	};
	struct dpf_ctl_params cp = {.h.clock = DPF_CLOCK_PACKET};
	struct dpf_record r[3];

	(void)state;
	memset(&t, 0, sizeof(t));
	if (dpf_config_parse(3, argv, &t.cfg) != 0)
		return -1;
	t.plan = dpf_window_plan_create(60);
	t.wall = dpf_wall_create();
	t.store = dpf_store_create(16);
	t.rules = dpf_rules_create(&rp);
	t.fmt_ctx.ifaces = &meta;
	t.fmt_ctx.n_ifaces = 1;
	cp.cfg = t.cfg;
	cp.h.run = &t.run;
	cp.h.plan = t.plan;
	cp.h.wall = t.wall;
	cp.h.rules = t.rules;
	cp.store = t.store;
	cp.fmt_ctx = &t.fmt_ctx;
	t.ctl = dpf_ctl_create(&cp);
	r[0] = rec("10.0.0.1", 1000, "192.0.2.1", 80, 6, 100);
	r[1] = rec("10.0.0.2", 53000, "192.0.2.53", 53, 17, 110);
	r[2] = rec("10.0.0.3", 1001, "192.0.2.1", 443, 6, 120);
	dpf_store_add(t.store, r, 3);
	return t.store != NULL && t.rules != NULL && t.ctl != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	dpf_ctl_free(t.ctl);
	dpf_store_free(t.store);
	dpf_rules_free(t.rules);
	dpf_wall_free(t.wall);
	dpf_window_plan_free(t.plan);
	dpf_config_free(t.cfg);
	free(buf);
	buf = NULL;
	return 0;
}

static void
test_set_window_announces_the_next_boundary(void **state)
{
	FILE *f;

	(void)state;
	f = out();
	assert_int_equal(dpf_ctl_set_window(t.ctl, f, "30"), 0);
	/* Packet clock before any packet: no window yet, so no 1970 boundary is
	 * named (the plan switches at 60 s, before any packet time). */
	assert_string_equal(text(f),
			    "window-seconds: 30\ntakes-effect: with the first window (no "
			    "packet yet: the packet clock starts with the first packet)\n");
	f = out();
	assert_int_equal(dpf_ctl_show_window(t.ctl, f), 0);
	text(f);
	assert_non_null(strstr(buf, "window-seconds-set: 30\nwindow: none yet"));
	assert_null(strstr(buf, "window-start"));
	/* Windows after the switch have the new length. */
	{
		uint64_t s, e;

		dpf_window_plan_bounds(t.plan, 61000000000ull, &s, &e);
		assert_true(s == 60000000000ull && e == 90000000000ull);
	}
	f = out();
	assert_int_equal(dpf_ctl_set_window(t.ctl, f, "0"), -1);
	assert_string_equal(text(f), "error: window '0': expected 1..3600 seconds\n");
	f = out();
	assert_int_equal(dpf_ctl_set_window(t.ctl, f, "12abc"), -1);
	text(f);
}

static void
test_show_flows_filters_in_the_record_format(void **state)
{
	char *argv[] = {"proto", "tcp", "oldest"};
	char *bad[] = {"proto", "bogus"};
	FILE *f;

	(void)state;
	f = out();
	assert_int_equal(dpf_ctl_show_flows(t.ctl, f, 3, argv), 0);
	assert_string_equal(
		text(f),
		"flows: 2\nstored: 3\n"
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
		"bytes start end action log-status\n"
		"2 123456789010 eni-test 10.0.0.1 192.0.2.1 1000 80 6 2 120 100 101 ACCEPT OK\n"
		"2 123456789010 eni-test 10.0.0.3 192.0.2.1 1001 443 6 2 120 120 121 ACCEPT OK\n");
	f = out();
	assert_int_equal(dpf_ctl_show_flows(t.ctl, f, 2, bad), -1);
	assert_non_null(strstr(text(f), "error: proto 'bogus'"));
}

/* show flows prints in the format in effect: the config's, which set log-format changes. */
static void
test_show_flows_follows_the_configured_format(void **state)
{
	char *argv[] = {"proto", "udp"};
	char err[256];
	FILE *f;

	(void)state;
	assert_int_equal(
		dpf_config_set(t.cfg, "log-format", "${srcaddr} ${dstport}", err, sizeof(err)), 0);
	f = out();
	assert_int_equal(dpf_ctl_show_flows(t.ctl, f, 2, argv), 0);
	assert_string_equal(text(f), "flows: 1\nstored: 3\nsrcaddr dstport\n10.0.0.2 53\n");
}

static void
test_export_flows_writes_csv_once(void **state)
{
	char path[] = "/tmp/test_control.XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = {"port", "53"};
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	f = out();
	assert_int_equal(dpf_ctl_export_flows(t.ctl, f, path, 2, argv), 0);
	assert_non_null(strstr(text(f), "exported: 1\n"));
	f = out();
	assert_int_equal(dpf_ctl_export_flows(t.ctl, f, path, 0, NULL), -1);
	assert_non_null(strstr(text(f), "never overwrites"));
	unlink(path);
}

static void
test_rule_changes_queue_until_the_boundary(void **state)
{
	FILE *f;

	(void)state;
	f = out();
	assert_int_equal(dpf_ctl_rules(t.ctl, f, DPF_RULES_NAT, DPF_CTL_RULES_ADD,
				       "static 10.0.0.0/24 100.64.0.0/24"),
			 0);
	assert_string_equal(text(f), "nat rules: 1\ntakes-effect-at: 60\n");
	/* A second change in the same window is queued with the first (it was
	 * refused until the boundary). */
	f = out();
	assert_int_equal(dpf_ctl_rules(t.ctl, f, DPF_RULES_ACL, DPF_CTL_RULES_ADD,
				       "deny udp any any any 53"),
			 0);
	assert_string_equal(text(f), "acl rules: 1\ntakes-effect-at: 60\n");
	f = out();
	assert_int_equal(dpf_ctl_rules(t.ctl, f, DPF_RULES_NAT, DPF_CTL_RULES_SHOW, NULL), 0);
	assert_string_equal(text(f), "nat rules: 1\nnat rule 1: static 10.0.0.0/24 100.64.0.0/24\n"
				     "pending-from: 60\npending-changes: 2\n");
	f = out();
	assert_int_equal(dpf_ctl_rules(t.ctl, f, DPF_RULES_NAT, DPF_CTL_RULES_DEL, "7"), -1);
	assert_non_null(strstr(text(f), "expected a rule number 1..1"));
}

static void
test_bad_rule_leaves_the_rules_unchanged(void **state)
{
	FILE *f;

	(void)state;
	/* setup() gave this test fresh rules (no pending change). */
	f = out();
	assert_int_equal(dpf_ctl_rules(t.ctl, f, DPF_RULES_ACL, DPF_CTL_RULES_ADD,
				       "allow tcp nowhere any any 80"),
			 -1);
	assert_non_null(strstr(text(f), "error: rules unchanged"));
	f = out();
	assert_int_equal(dpf_ctl_rules(t.ctl, f, DPF_RULES_ACL, DPF_CTL_RULES_SHOW, NULL), 0);
	assert_string_equal(text(f), "acl rules: 0\nacl default: allow\n");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_window_announces_the_next_boundary, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_show_flows_follows_the_configured_format,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_flows_filters_in_the_record_format, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_export_flows_writes_csv_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_changes_queue_until_the_boundary, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_rule_leaves_the_rules_unchanged, setup,
						teardown),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
