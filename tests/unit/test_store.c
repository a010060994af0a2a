/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpf_store.h"

static struct dpf_record
rec(uint16_t iface, const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t proto,
    uint8_t action, uint64_t start)
{
	struct dpf_record r;

	memset(&r, 0, sizeof(r));
	r.key.family = 4;
	r.key.iface = iface;
	inet_pton(AF_INET, src, r.key.src_addr);
	inet_pton(AF_INET, dst, r.key.dst_addr);
	r.key.src_port = sp;
	r.key.dst_port = dp;
	r.key.proto = proto;
	r.key.action = action;
	memcpy(r.post.src_addr, r.key.src_addr, 16);
	memcpy(r.post.dst_addr, r.key.dst_addr, 16);
	r.post.src_port = sp;
	r.post.dst_port = dp;
	r.packets = 3;
	r.bytes = 300;
	r.start = start;
	r.end = start + 5;
	r.log_status = DPF_LOG_OK;
	return r;
}

static uint32_t
query(struct dpf_store *s, const char *words, struct dpf_record *out)
{
	struct dpf_store_filter f;
	char buf[256], err[128];
	char *argv[16];
	int argc = 0;
	char *save = NULL, *t;

	snprintf(buf, sizeof(buf), "%s", words);
	for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	dpf_store_filter_init(&f);
	if (dpf_store_filter_parse(&f, argc, argv, NULL, NULL, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", words, err);
	return dpf_store_query(s, &f, out, 100);
}

static void
test_store_newest_first_filters_and_limit(void **state)
{
	struct dpf_store *s = dpf_store_create(&dpf_store_flows, 16);
	struct dpf_record r[6], out[100];
	struct dpf_record nodata;

	(void)state;
	assert_non_null(s);
	r[0] = rec(0, "10.0.0.1", 1000, "192.0.2.1", 80, 6, DPF_ACTION_ACCEPT, 100);
	r[1] = rec(0, "10.0.0.2", 1001, "192.0.2.1", 443, 6, DPF_ACTION_REJECT, 110);
	r[2] = rec(1, "10.0.1.1", 53, "192.0.2.53", 53, 17, DPF_ACTION_ACCEPT, 120);
	r[3] = rec(1, "172.16.0.1", 5, "10.0.0.1", 6, 1, DPF_ACTION_ACCEPT, 130);
	/* NAT: a post-NAT source matches a src filter too. */
	r[4] = rec(0, "10.9.9.9", 7, "192.0.2.2", 8, 17, DPF_ACTION_ACCEPT, 140);
	inet_pton(AF_INET, "100.64.0.9", r[4].post.src_addr);
	r[4].post.src_port = 7777;
	memset(&nodata, 0, sizeof(nodata));
	nodata.log_status = DPF_LOG_NODATA;
	dpf_store_add(s, r, 5);
	dpf_store_add(s, &nodata, 1);
	assert_int_equal(dpf_store_count(s), 5);
	assert_int_equal(query(s, "", out), 5);
	assert_int_equal(out[0].start, 140);
	assert_int_equal(out[4].start, 100);
	assert_int_equal(query(s, "oldest", out), 5);
	assert_int_equal(out[0].start, 100);
	assert_int_equal(query(s, "limit 2", out), 2);
	assert_int_equal(out[1].start, 130);
	assert_int_equal(query(s, "iface 1", out), 2);
	assert_int_equal(query(s, "proto udp", out), 2);
	assert_int_equal(query(s, "proto 17 iface 1", out), 1);
	assert_int_equal(query(s, "action REJECT", out), 1);
	assert_int_equal(out[0].key.src_port, 1001);
	assert_int_equal(query(s, "port 443", out), 1);
	assert_int_equal(query(s, "port 7777", out), 1);
	assert_int_equal(query(s, "src 10.0.0.0/24", out), 2);
	assert_int_equal(query(s, "src 100.64.0.0/16", out), 1);
	assert_int_equal(query(s, "dst 192.0.2.0/24 action ACCEPT", out), 3);
	assert_int_equal(query(s, "dst 2001:db8::/32", out), 0);
	dpf_store_free(s);
}

static void
test_store_overwrites_oldest_when_full(void **state)
{
	struct dpf_store *s = dpf_store_create(&dpf_store_flows, 3);
	struct dpf_record r, out[10];
	uint64_t i;

	(void)state;
	for (i = 0; i < 10; i++) {
		r = rec(0, "10.0.0.1", 1, "10.0.0.2", 2, 6, 0, 1000 + i);
		dpf_store_add(s, &r, 1);
	}
	assert_int_equal(dpf_store_count(s), 3);
	assert_int_equal(query(s, "oldest", out), 3);
	assert_int_equal(out[0].start, 1007);
	assert_int_equal(out[2].start, 1009);
	dpf_store_free(s);
	assert_null(dpf_store_create(&dpf_store_flows, 0));
}

static void
test_store_filter_errors_name_the_word(void **state)
{
	static const struct {
		const char *words[4];
		int argc;
		const char *msg;
	} bad[] = {
		{{"proto", "udp", "proto", "tcp"},
		 4,
		 "filter 'proto' given twice ('udp', then 'tcp')"},
		{{"oldest", "port", "1", "oldest"}, 4, "filter 'oldest' given twice"},
		{{"port", "70000"}, 2, "port '70000'"},
		{{"proto", "tcpx"}, 2, "proto 'tcpx'"},
		{{"action", "MAYBE"}, 2, "action 'MAYBE'"},
		{{"src", "10.0.0.300"}, 2, "src '10.0.0.300'"},
		{{"limit", "0"}, 2, "limit '0'"},
		{{"limit", "10001"}, 2, "limit '10001'"},
		{{"colour", "red"}, 2, "unknown filter 'colour'"},
		/* Unknown before anything else: not "'colour' needs a value". */
		{{"colour", NULL},
		 1,
		 "unknown filter 'colour' (iface, src, dst, port, proto, action, oldest, limit, "
		 "since, "
		 "until)"},
		{{"iface", NULL}, 1, "'iface' needs a value"},
		{{"iface", "eni-x"}, 2, "iface 'eni-x': no such interface"},
	};
	struct dpf_store_filter f;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dpf_store_filter_init(&f);
		err[0] = '\0';
		assert_int_equal(dpf_store_filter_parse(&f, bad[i].argc, (char **)bad[i].words,
							NULL, NULL, err, sizeof(err)),
				 -EINVAL);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, bad[i].msg);
	}
}

/* dpf_store_select: the kind's words, the caller's default limit unless a limit word. */
static void
test_store_select_parses_the_kind_words_and_default_limit(void **state)
{
	struct dpf_store *s = dpf_store_create(&dpf_store_flows, 16);
	struct dpf_record r[5], out[16];
	char *udp[] = {"proto", "udp"}, *three[] = {"limit", "3"}, *bad[] = {"sport", "1"};
	char err[256];
	uint32_t i;

	(void)state;
	assert_non_null(s);
	assert_int_equal(dpf_store_entry_size(s), sizeof(struct dpf_record));
	for (i = 0; i < 5; i++)
		r[i] = rec(0, "10.0.0.1", (uint16_t)i, "192.0.2.1", 53, i < 2 ? 17 : 6,
			   DPF_ACTION_ACCEPT, 100 + i);
	dpf_store_add(s, r, 5);
	assert_int_equal(dpf_store_select(s, 0, NULL, 2, NULL, NULL, out, 16, err, sizeof(err)), 2);
	assert_int_equal(out[0].key.src_port, 4); /* newest first */
	assert_int_equal(dpf_store_select(s, 2, three, 2, NULL, NULL, out, 16, err, sizeof(err)),
			 3);
	assert_int_equal(dpf_store_select(s, 2, udp, 100, NULL, NULL, out, 16, err, sizeof(err)),
			 2);
	assert_int_equal(out[0].key.src_port, 1);
	/* A word of the connection kind is not one of the flows'. */
	assert_int_equal(dpf_store_select(s, 2, bad, 100, NULL, NULL, out, 16, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown filter 'sport'"));
	dpf_store_free(s);
}

static void
test_store_time_range_matches_flows_active_in_it(void **state)
{
	struct dpf_store *s = dpf_store_create(&dpf_store_flows, 16);
	struct dpf_record r[3], out[100];
	struct dpf_store_filter f;
	char *bad[] = {"since", "yesterday"}, *swap[] = {"since", "200", "until", "100"};
	static const struct {
		const char *words;
		uint32_t n;
	} span[] = {
		{"since 2023-11-14T22:13:25Z", 3},
		{"since 2023-11-14T22:13:26Z", 2},
		{"until 2023-11-14T22:14:20", 2},
		{"since 2023-11-15", 0},
	};
	char err[256];
	uint64_t t;
	size_t i;

	(void)state;
	assert_non_null(s);
	/* 2023-11-14T22:13:20Z is Unix 1700000000; each flow lasts 5 s. */
	r[0] = rec(0, "10.0.0.1", 1, "192.0.2.1", 80, 6, DPF_ACTION_ACCEPT, 1700000000);
	r[1] = rec(0, "10.0.0.2", 2, "192.0.2.1", 80, 6, DPF_ACTION_ACCEPT, 1700000060);
	r[2] = rec(0, "10.0.0.3", 3, "192.0.2.1", 80, 6, DPF_ACTION_ACCEPT, 1700000120);
	dpf_store_add(s, r, 3);
	assert_int_equal(dpf_store_time_parse("2023-11-14T22:13:20Z", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(dpf_store_time_parse("2023-11-14T22:13", &t), 0);
	assert_int_equal(t, 1699999980);
	assert_int_equal(dpf_store_time_parse("2023-11-15", &t), 0);
	assert_int_equal(t, 1700006400);
	assert_int_equal(dpf_store_time_parse("1700000000", &t), 0);
	assert_int_equal(dpf_store_time_parse("2023-11-14T22:13:20+01", &t), -EINVAL);
	/* Active at some second of [since, until]: ends and starts count. */
	for (i = 0; i < sizeof(span) / sizeof(span[0]); i++)
		if (query(s, span[i].words, out) != span[i].n)
			fail_msg("'%s': not %u flows", span[i].words, span[i].n);
	assert_int_equal(query(s, "since 1700000061 until 1700000065 oldest", out), 1);
	assert_int_equal(out[0].key.src_port, 2);
	dpf_store_filter_init(&f);
	assert_int_equal(dpf_store_filter_parse(&f, 2, bad, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "since 'yesterday': expected a UTC time"));
	dpf_store_filter_init(&f);
	assert_int_equal(dpf_store_filter_parse(&f, 4, swap, NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "since is after until"));
	dpf_store_free(s);
}

static void
test_store_csv_has_header_and_both_time_forms(void **state)
{
	struct dpf_iface_meta m = {.interface_id = "eni-1"};
	struct dpf_record r =
		rec(0, "10.0.0.1", 1000, "192.0.2.1", 80, 6, DPF_ACTION_REJECT, 1566933133);
	char *buf = NULL, tt[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(dpf_store_write_csv(f, &r, 1, &m, 1), 0);
	fclose(f);
	assert_string_equal(
		buf,
		"interface-id,pkt-srcaddr,pkt-srcport,pkt-dstaddr,pkt-dstport,srcaddr,srcport,"
		"dstaddr,dstport,protocol,packets,bytes,action,start,end,start-ms,end-ms\r\n"
		"eni-1,10.0.0.1,1000,192.0.2.1,80,10.0.0.1,1000,192.0.2.1,80,6,3,300,REJECT,"
		"08/27/2019 07:12:13 PM,08/27/2019 07:12:18 PM,1566933133000,1566933138000\r\n");
	free(buf);
	dpf_store_time_text(0, tt, sizeof(tt));
	assert_string_equal(tt, "01/01/1970 12:00:00 AM");
	dpf_store_time_text(43200, tt, sizeof(tt));
	assert_string_equal(tt, "01/01/1970 12:00:00 PM");
}

static void
test_store_csv_quotes_fields_with_comma_or_quote(void **state)
{
	struct dpf_iface_meta m = {.interface_id = "eni-a,b\"c"};
	struct dpf_record r =
		rec(0, "10.0.0.1", 1000, "192.0.2.1", 80, 17, DPF_ACTION_ACCEPT, 1566933133);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(dpf_store_write_csv(f, &r, 1, &m, 1), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\r\n\"eni-a,b\"\"c\",10.0.0.1,1000,"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_newest_first_filters_and_limit),
		cmocka_unit_test(test_store_overwrites_oldest_when_full),
		cmocka_unit_test(test_store_filter_errors_name_the_word),
		cmocka_unit_test(test_store_select_parses_the_kind_words_and_default_limit),
		cmocka_unit_test(test_store_time_range_matches_flows_active_in_it),
		cmocka_unit_test(test_store_csv_has_header_and_both_time_forms),
		cmocka_unit_test(test_store_csv_quotes_fields_with_comma_or_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
