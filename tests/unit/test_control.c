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
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_errno.h>

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
	t.store = dpf_store_create(&dpf_store_flows, 16);
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

#define MAX_FAMILIES 512

/* One family's lines: HELP, then TYPE, then its samples. */
static void
check_type_line(const char *line, const char *family)
{
	char name[128], type[16];
	size_t n;
	bool total;

	assert_int_equal(sscanf(line, "# TYPE %127s %15s", name, type), 2);
	assert_string_equal(name, family);
	n = strlen(name);
	total = n > 6 && strcmp(name + n - 6, "_total") == 0;
	if (strcmp(type, "counter") == 0)
		assert_true(total);
	else
		assert_true(strcmp(type, "gauge") == 0 && !total);
}

/* Prometheus text of the counters snapshot: every sample under its family's
 * HELP and TYPE, dpflow_ names, counters ending in _total and gauges not, no
 * family twice (promtool checks the rest in tests/e2e/metrics.py). */
static void
test_metrics_families_are_well_formed(void **state)
{
	static char seen[MAX_FAMILIES][128];
	unsigned int n_seen = 0, samples = 0, i;
	char *copy, *save, *line;
	char family[128] = "";
	bool typed = false;
	FILE *f = out();

	(void)state;
	assert_int_equal(dpf_ctl_metrics(t.ctl, f), 0);
	copy = strdup(text(f));
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			assert_int_equal(strncmp(name, "dpflow_", 7), 0);
			for (i = 0; i < n_seen; i++)
				assert_string_not_equal(seen[i], name);
			assert_true(n_seen < MAX_FAMILIES);
			strcpy(seen[n_seen++], name);
			strcpy(family, name);
			typed = false;
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_false(typed);
			check_type_line(line, family);
			typed = true;
		} else {
			assert_int_equal(sscanf(line, "%127[^{ ]", name), 1);
			assert_string_equal(name, family);
			assert_true(typed);
			samples++;
		}
	}
	free(copy);
	/* Without a dataplane or ports, the pipeline, window, clock and conservation ones. */
	assert_true(n_seen > 40 && samples > 15);
}

/* A port bound (and listening) here, or the port a socket just released. */
static int
tcp_port(bool keep, int *fd)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(*fd, 1), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &l), 0);
	if (!keep)
		close(*fd);
	return ntohs(a.sin_port);
}

static void
test_metrics_refuses_what_it_cannot_serve(void **state)
{
	const char *bad[] = {
		"127.0.0.1",	   "127.0.0.1:", ":9100",     "127.0.0.1:0",
		"127.0.0.1:65536", "::1:9100",	 "[::1:9100", "no-such-host.invalid:9100"};
	char spec[64];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(dpf_metrics_start(bad[i]));
		assert_int_equal(rte_errno, EINVAL);
	}
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", tcp_port(true, &fd));
	assert_null(dpf_metrics_start(spec));
	assert_int_equal(rte_errno, EADDRINUSE);
	close(fd);
}

/* The status line and body of one HTTP/1.0 GET of path. */
static char *
http_get(int port, const char *path)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static char answer[1 << 20];
	char req[128];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, answer + got, sizeof(answer) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	answer[got] = '\0';
	return answer;
}

static void
test_metrics_serves_the_snapshot_once_attached(void **state)
{
	struct dpf_metrics *m;
	char spec[64];
	int fd, port = tcp_port(false, &fd);

	(void)state;
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	m = dpf_metrics_start(spec);
	assert_non_null(m);
	assert_non_null(strstr(http_get(port, "/metrics"), " 503 Service Unavailable\r\n"));
	dpf_metrics_attach(m, t.ctl);
	assert_non_null(strstr(http_get(port, "/metrics"), " 200 OK\r\n"));
	assert_non_null(strstr(http_get(port, "/metrics"), "text/plain; version=0.0.4"));
	assert_non_null(strstr(http_get(port, "/metrics"), "\ndpflow_pipeline_records_total 0\n"));
	assert_non_null(strstr(http_get(port, "/"), " 404 Not Found\r\n"));
	dpf_metrics_stop(m);
	/* Stopped: the port is free again. */
	assert_non_null(m = dpf_metrics_start(spec));
	dpf_metrics_stop(m);
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
		cmocka_unit_test_setup_teardown(test_metrics_families_are_well_formed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metrics_refuses_what_it_cannot_serve, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metrics_serves_the_snapshot_once_attached,
						setup, teardown),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
