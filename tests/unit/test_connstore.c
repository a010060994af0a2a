/* SPDX-License-Identifier: BSD-3-Clause */
/* The recent-connections store of show connections (lib/store, dpf_connstore.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpf_connstore.h"

#define NS 1000000000ull

/* One flow log: initiator src:sp, target dst:dp, seen at start (Unix seconds). */
static struct dpf_connstore_rec
rec(uint16_t iface, bool outbound, const char *src, uint16_t sp, const char *dst, uint16_t dp,
    uint8_t proto, uint64_t start)
{
	struct dpf_connstore_rec r;

	memset(&r, 0, sizeof(r));
	r.outbound = outbound;
	r.log.iface = iface;
	r.log.family = 4;
	r.log.proto = proto;
	inet_pton(AF_INET, src, r.log.initiator_addr);
	inet_pton(AF_INET, dst, r.log.target_addr);
	r.log.initiator_port = sp;
	r.log.target_port = dp;
	r.log.start_ns = start * NS + 250000000; /* .250 s */
	r.log.end_ns = start * NS + 5 * NS + 7000000;
	r.log.bytes_from_initiator = 100 + sp;
	r.log.bytes_from_target = dp;
	return r;
}

/* Parse words (split at spaces); @return the parser's result, err filled. */
static int
parse(struct dpf_connstore_filter *f, const char *words, char *err, size_t len)
{
	char buf[256], *argv[24], *save = NULL, *t;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	dpf_connstore_filter_init(f);
	err[0] = '\0';
	return dpf_connstore_filter_parse(f, argc, argv, NULL, NULL, err, len);
}

/* The source ports of the matching logs, in query order, as "p1 p2 ...". */
static const char *
ports(struct dpf_store *s, const char *words)
{
	static char out[256];
	struct dpf_connstore_rec got[16];
	struct dpf_connstore_filter f;
	char err[160];
	uint32_t n, i;
	size_t at = 0;

	if (parse(&f, words, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", words, err);
	n = dpf_store_query(s, &f, got, 16);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%u", i ? " " : "",
				       got[i].log.initiator_port);
	return out;
}

/* Five logs of two interfaces, in window order (sport 1..5). */
static struct dpf_store *
five(uint32_t capacity)
{
	struct dpf_store *s = dpf_store_create(&dpf_store_connections, capacity);
	struct dpf_connstore_rec r[5] = {
		rec(0, true, "10.0.0.1", 1, "192.0.2.1", 80, 6, 1000),
		rec(0, false, "192.0.2.9", 2, "10.0.0.1", 22, 6, 1060),
		rec(1, true, "10.0.1.1", 3, "198.51.100.53", 53, 17, 1120),
		rec(1, false, "192.0.2.7", 4, "10.0.1.1", 443, 6, 1180),
		rec(0, true, "10.0.0.2", 5, "192.0.2.1", 80, 6, 1240),
	};

	assert_non_null(s);
	r[0].log.tcp_flags_initiator = 0x02 | 0x10 | 0x01; /* SYN ACK FIN */
	r[0].log.tcp_flags_target = 0x12 | 0x01;
	r[1].log.tcp_flags_initiator = 0x02;
	r[1].log.tcp_flags_target = 0x04 | 0x10; /* RST ACK */
	r[4].log.tcp_flags_initiator = 0x02 | 0x08 | 0x20;
	dpf_store_add(s, r, 3);
	dpf_store_add(s, r + 3, 2);
	return s;
}

static void
test_connstore_newest_first_oldest_limit(void **state)
{
	struct dpf_store *s = five(16);

	(void)state;
	assert_int_equal(dpf_store_count(s), 5);
	assert_string_equal(ports(s, ""), "5 4 3 2 1");
	assert_string_equal(ports(s, "oldest"), "1 2 3 4 5");
	assert_string_equal(ports(s, "limit 2"), "5 4");
	assert_string_equal(ports(s, "oldest limit 2"), "1 2");
	dpf_store_free(s);
}

static void
test_connstore_overwrites_oldest_when_full(void **state)
{
	struct dpf_store *s = five(3);

	(void)state;
	assert_int_equal(dpf_store_count(s), 3);
	assert_int_equal(dpf_store_capacity(s), 3);
	assert_string_equal(ports(s, ""), "5 4 3");
	assert_string_equal(ports(s, "oldest"), "3 4 5");
	assert_null(dpf_store_create(&dpf_store_connections, 0));
	dpf_store_free(s);
	dpf_store_free(NULL);
}

static void
test_connstore_filter_on_every_field(void **state)
{
	struct dpf_store *s = five(16);

	(void)state;
	/* The interface is the Source Node of outbound logs, the Dest Node of the others. */
	assert_string_equal(ports(s, "src-node 0"), "5 1");
	assert_string_equal(ports(s, "dst-node 0"), "2");
	assert_string_equal(ports(s, "dst-node 1"), "4");
	assert_string_equal(ports(s, "src 10.0.0.0/24"), "5 1");
	assert_string_equal(ports(s, "dst 10.0.0.0/16"), "4 2");
	assert_string_equal(ports(s, "dst 192.0.2.1"), "5 1");
	assert_string_equal(ports(s, "sport 3"), "3");
	assert_string_equal(ports(s, "dport 80"), "5 1");
	assert_string_equal(ports(s, "proto udp"), "3");
	assert_string_equal(ports(s, "proto TCP"), "5 4 2 1");
	assert_string_equal(ports(s, "sent 104"), "5 4");
	assert_string_equal(ports(s, "recv 80"), "5 4 1");
	assert_string_equal(ports(s, "flags SYN"), "5 2 1");
	assert_string_equal(ports(s, "flags fin,syn"), "1");
	assert_string_equal(ports(s, "flags RST"), "2");
	assert_string_equal(ports(s, "flags URG,PSH"), "5");
	/* since/until: logs active at some second of the range (each lasts 5 s). */
	assert_string_equal(ports(s, "since 1064 until 1120"), "3 2");
	assert_string_equal(ports(s, "since 1066 until 1119"), "");
	assert_string_equal(ports(s, "until 1970-01-01T00:16:40Z"), "1");
	assert_string_equal(ports(s, "src-node 0 dport 80 sent 105 oldest"), "5");
	dpf_store_free(s);
}

static void
test_connstore_filter_errors_name_the_word(void **state)
{
	static const struct {
		const char *words, *msg;
	} bad[] = {
		{"sport 1 sport 2", "filter 'sport' given twice ('1', then '2'): give it once"},
		{"oldest oldest", "filter 'oldest' given twice: give it once"},
		{"iface 0", "unknown filter 'iface'"},
		{"flags SYN,NOPE", "flags 'SYN,NOPE': expected names"},
		{"flags ,", "flags ',': expected names"},
		{"dport 65536", "dport '65536': expected 0..65535"},
		{"sent x", "sent 'x': expected a byte count"},
		{"limit 0", "limit '0': expected 1..10000"},
		{"limit 10001", "limit '10001': expected 1..10000"},
		{"src 10.0.0.0/33", "src '10.0.0.0/33': not an address or CIDR"},
		{"src-node eni-x", "src-node 'eni-x': no such interface"},
		{"proto nope", "proto 'nope': expected tcp, udp, icmp, icmpv6, sctp, gre, esp or 0..255"},
		{"since 2000 until 1000", "until '1000': since is after until"},
		{"until noon", "until 'noon': expected a UTC time"},
		{"recv", "'recv' needs a value"},
	};
	struct dpf_connstore_filter f;
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&f, bad[i].words, err, sizeof(err)), -EINVAL);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("'%s': got '%s', want '%s...'", bad[i].words, err, bad[i].msg);
	}
}

static void
test_connstore_flag_names(void **state)
{
	char buf[32];

	(void)state;
	dpf_connstore_flags_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	dpf_connstore_flags_text(0x12, buf, sizeof(buf));
	assert_string_equal(buf, "SYN,ACK");
	/* Every named flag, in handshake order; ECE and CWR have no name here. */
	dpf_connstore_flags_text(0xff, buf, sizeof(buf));
	assert_string_equal(buf, "SYN,ACK,FIN,RST,PSH,URG");
	dpf_connstore_flags_text(0xc0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

/* The whole output of dpf_connstore_write() for the store's logs, newest first. */
static char *
written(struct dpf_store *s, const char *sep, const struct dpf_iface_meta *m, uint16_t n_m)
{
	struct dpf_connstore_rec got[16];
	struct dpf_connstore_filter f;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	uint32_t n;

	dpf_connstore_filter_init(&f);
	n = dpf_store_query(s, &f, got, 16);
	assert_int_equal(dpf_connstore_write(out, got, n, m, n_m, sep), 0);
	fclose(out);
	return buf;
}

static void
test_connstore_csv_columns_and_quoting(void **state)
{
	struct dpf_store *s = dpf_store_create(&dpf_store_connections, 4);
	struct dpf_connstore_rec r =
		rec(0, true, "10.0.0.1", 40000, "192.0.2.1", 80, 6, 1700000000);
	struct dpf_iface_meta m[1];
	char *csv, *table;

	(void)state;
	memset(m, 0, sizeof(m));
	m[0].interface_id = "eni-a,b\"c";
	r.log.tcp_flags_initiator = 0x02 | 0x10;
	dpf_store_add(s, &r, 1);
	r = rec(1, false, "192.0.2.9", 5353, "10.0.0.1", 53, 17, 1700000060);
	dpf_store_add(s, &r, 1);
	csv = written(s, NULL, m, 1);
	assert_string_equal(
		csv,
		"Start Time,Start Time (ms),End Time,End Time (ms),Protocol,Source Node,Source "
		"IP,Source Port,Dest Node,Dest IP,Dest Port,Sent Bytes,Recv Bytes,TCP Flags\r\n"
		/* Interface 1 has no metadata: "-"; UDP has no flags: "-". */
		"11/14/2023 10:14:20 PM,1700000060250,11/14/2023 10:14:25 PM,1700000065007,UDP,-,"
		"192.0.2.9,5353,-,10.0.0.1,53,5453,53,-\r\n"
		"11/14/2023 10:13:20 PM,1700000000250,11/14/2023 10:13:25 PM,1700000005007,TCP,"
		"\"eni-a,b\"\"c\",10.0.0.1,40000,-,192.0.2.1,80,40100,80,\"SYN,ACK\"\r\n");
	table = written(s, " | ", m, 1);
	assert_non_null(strstr(table, "\n11/14/2023 10:13:20 PM | 1700000000250 | "
				      "11/14/2023 10:13:25 PM | 1700000005007 | TCP | eni-a,b\"c | "
				      "10.0.0.1 | 40000 | - | 192.0.2.1 | 80 | 40100 | 80 | "
				      "SYN,ACK\n"));
	free(csv);
	free(table);
	dpf_store_free(s);
}

/* A writer thread adds while this one queries: every copy is whole. */
struct race {
	struct dpf_store *s;
	uint32_t rounds;
};

static void *
race_writer(void *arg)
{
	struct race *r = arg;
	uint32_t i;

	for (i = 0; i < r->rounds; i++) {
		struct dpf_connstore_rec x =
			rec(0, true, "10.0.0.1", (uint16_t)i, "192.0.2.1", 80, 6, 1000 + i);

		x.log.bytes_from_target = i; /* consistent with the port and start */
		dpf_store_add(r->s, &x, 1);
	}
	return NULL;
}

static void
test_connstore_concurrent_add_and_query(void **state)
{
	struct race r = {.s = dpf_store_create(&dpf_store_connections, 64), .rounds = 20000};
	struct dpf_connstore_rec got[64];
	struct dpf_connstore_filter f;
	pthread_t t;
	uint32_t n, i, loops = 0;

	(void)state;
	dpf_connstore_filter_init(&f);
	assert_int_equal(pthread_create(&t, NULL, race_writer, &r), 0);
	while (loops++ < 2000) {
		n = dpf_store_query(r.s, &f, got, 64);
		for (i = 0; i < n; i++) {
			const struct dpf_conn_log *l = &got[i].log;

			assert_int_equal(l->bytes_from_target % 65536, l->initiator_port);
			assert_int_equal(l->start_ns / NS, 1000 + l->bytes_from_target);
			/* Newest first: starts go down. */
			if (i > 0)
				assert_true(got[i - 1].log.start_ns > l->start_ns);
		}
	}
	pthread_join(t, NULL);
	assert_int_equal(dpf_store_count(r.s), 64);
	dpf_store_free(r.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connstore_newest_first_oldest_limit),
		cmocka_unit_test(test_connstore_overwrites_oldest_when_full),
		cmocka_unit_test(test_connstore_filter_on_every_field),
		cmocka_unit_test(test_connstore_filter_errors_name_the_word),
		cmocka_unit_test(test_connstore_flag_names),
		cmocka_unit_test(test_connstore_csv_columns_and_quoting),
		cmocka_unit_test(test_connstore_concurrent_add_and_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
