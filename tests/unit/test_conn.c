/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "conn_index.h"
#include "dpf_conn.h"
#include "dpf_pkt.h"
#include "dpf_test_eal.h"
#include "dpf_test_util.h"

#define SEC 1000000000ull
#define W0 (1700000000ull * SEC) /* a window start */
#define TIMEOUT (300 * SEC)

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10

/* Helpers */

/* A merged flow record as the pipeline emits it. */
static struct dpf_record
rec(uint8_t proto, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t action,
    uint64_t packets, uint64_t first_ns, uint64_t last_ns, uint8_t flags)
{
	struct dpf_record r;

	memset(&r, 0, sizeof(r));
	r.key.family = strchr(src, ':') != NULL ? 6 : 4;
	assert_int_equal(dpf_test_addr(src, r.key.src_addr), 0);
	assert_int_equal(dpf_test_addr(dst, r.key.dst_addr), 0);
	r.key.src_port = sport;
	r.key.dst_port = dport;
	r.key.proto = proto;
	r.key.action = action;
	memcpy(r.post.src_addr, r.key.src_addr, 16);
	memcpy(r.post.dst_addr, r.key.dst_addr, 16);
	r.post.src_port = sport;
	r.post.dst_port = dport;
	r.packets = packets;
	r.bytes = packets * 100;
	r.first_ns = first_ns;
	r.last_ns = last_ns;
	r.tcp_flags_all = flags;
	r.tcp_flags_aws = dpf_pkt_tcp_flags_aws(flags);
	return r;
}

static struct dpf_conn_table *
table_new(uint32_t capacity)
{
	struct dpf_conn_params p = {
		.name = "test",
		.capacity = capacity,
		.timeout_ns = TIMEOUT,
		.socket_id = 0,
	};
	struct dpf_conn_table *t = dpf_conn_create(&p);

	assert_non_null(t);
	return t;
}

static void
add_ok(struct dpf_conn_table *t, struct dpf_record r)
{
	assert_int_equal(dpf_conn_add(t, &r), 0);
}

/* Close the window [start, start + 60 s) and collect its logs. */
static unsigned int
close_window(struct dpf_conn_table *t, uint64_t start_ns, struct dpf_conn_log *logs,
	     unsigned int max)
{
	unsigned int n = 0;
	struct dpf_conn_log l;

	dpf_conn_window_close(t, start_ns + 60 * SEC);
	while (dpf_conn_log_next(t, &l)) {
		assert_true(n < max);
		logs[n++] = l;
	}
	return n;
}

static void
assert_addr(const uint8_t *addr, const char *text)
{
	uint8_t want[16];

	assert_int_equal(dpf_test_addr(text, want), 0);
	assert_memory_equal(addr, want, 16);
}

/* Tests */

static void
test_conn_create_rejects_bad_params(void **state)
{
	struct dpf_conn_params p = {.capacity = 0, .timeout_ns = 1};

	(void)state;
	assert_null(dpf_conn_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.capacity = 4;
	p.timeout_ns = 0;
	assert_null(dpf_conn_create(&p));
	assert_null(dpf_conn_create(NULL));
	dpf_conn_free(NULL);
}

/* The server's records sort first (lower address) but the client sent the first packet. */
static void
test_conn_handshake_initiator_is_first_packet(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[4];

	(void)state;
	add_ok(t, rec(6, "10.0.0.1", 80, "10.0.0.9", 40000, 0, 3, W0 + 2, W0 + 9, SYN | ACK | FIN));
	add_ok(t,
	       rec(6, "10.0.0.9", 40000, "10.0.0.1", 80, 0, 4, W0 + 1, W0 + 10, SYN | ACK | FIN));
	assert_int_equal(close_window(t, W0, l, 4), 1);
	assert_addr(l[0].initiator_addr, "10.0.0.9");
	assert_addr(l[0].target_addr, "10.0.0.1");
	assert_int_equal(l[0].initiator_port, 40000);
	assert_int_equal(l[0].target_port, 80);
	assert_int_equal(l[0].packets_from_initiator, 4);
	assert_int_equal(l[0].bytes_from_initiator, 400);
	assert_int_equal(l[0].packets_from_target, 3);
	assert_int_equal(l[0].cumulative_packets_from_target, 3);
	assert_int_equal(l[0].start_ns, W0 + 1);
	assert_int_equal(l[0].end_ns, W0 + 10);
	assert_int_equal(l[0].connection_start_ns, W0 + 1);
	assert_true(l[0].was_initiated);
	assert_true(l[0].was_terminated); /* both sides sent FIN */
	assert_addr(l[0].post.src_addr, "10.0.0.9");
	dpf_conn_free(t);
}

/* Same nanosecond: the side that sent a bare SYN began it. */
static void
test_conn_same_time_bare_syn_wins(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];

	(void)state;
	add_ok(t, rec(6, "10.0.0.1", 80, "10.0.0.9", 1234, 0, 1, W0 + 5, W0 + 5, SYN | ACK));
	add_ok(t, rec(6, "10.0.0.9", 1234, "10.0.0.1", 80, 0, 1, W0 + 5, W0 + 5, SYN));
	assert_int_equal(close_window(t, W0, l, 2), 1);
	assert_addr(l[0].initiator_addr, "10.0.0.9");
	dpf_conn_free(t);
}

static void
test_conn_cumulative_across_windows(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	uint64_t w1 = W0 + 60 * SEC;

	(void)state;
	add_ok(t, rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, 0, 2, W0 + 1, W0 + 3, SYN | ACK));
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 1, W0 + 2, W0 + 2, SYN | ACK));
	assert_int_equal(close_window(t, W0, l, 2), 1);
	assert_false(l[0].was_terminated);
	/* Next window: only the target speaks; the initiator stays. */
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 5, w1 + 1, w1 + 7, ACK));
	assert_int_equal(close_window(t, w1, l, 2), 1);
	assert_addr(l[0].initiator_addr, "10.0.0.9");
	assert_false(l[0].was_initiated);
	assert_int_equal(l[0].packets_from_initiator, 0);
	assert_int_equal(l[0].packets_from_target, 5);
	assert_int_equal(l[0].cumulative_packets_from_initiator, 2);
	assert_int_equal(l[0].cumulative_packets_from_target, 6);
	assert_int_equal(l[0].cumulative_bytes_from_target, 600);
	assert_int_equal(l[0].connection_start_ns, W0 + 1);
	assert_int_equal(l[0].start_ns, w1 + 1);
	/* The post-NAT view follows the initiator even from the target's packets. */
	assert_addr(l[0].post.src_addr, "10.0.0.9");
	assert_int_equal(l[0].post.src_port, 5000);
	dpf_conn_free(t);
}

static void
test_conn_rst_terminates_then_bare_syn_starts_new(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	uint64_t w1 = W0 + 60 * SEC;

	(void)state;
	add_ok(t, rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, 0, 1, W0 + 1, W0 + 1, SYN));
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 1, W0 + 2, W0 + 2, RST | ACK));
	assert_int_equal(close_window(t, W0, l, 2), 1);
	assert_true(l[0].was_terminated);
	/* Port reuse, the other way round this time. */
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 1, w1 + 1, w1 + 1, SYN));
	assert_int_equal(close_window(t, w1, l, 2), 1);
	assert_true(l[0].was_initiated);
	assert_false(l[0].was_terminated);
	assert_addr(l[0].initiator_addr, "10.0.0.1");
	assert_int_equal(l[0].cumulative_packets_from_initiator, 1);
	assert_int_equal(l[0].cumulative_packets_from_target, 0);
	dpf_conn_free(t);
}

/* The last ACK after both FINs still belongs to the terminated connection. */
static void
test_conn_ack_after_termination_stays(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	uint64_t w1 = W0 + 60 * SEC;

	(void)state;
	add_ok(t, rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, 0, 3, W0 + 1, W0 + 5, SYN | FIN | ACK));
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 2, W0 + 2, W0 + 6, SYN | FIN | ACK));
	assert_int_equal(close_window(t, W0, l, 2), 1);
	add_ok(t, rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, 0, 1, w1 + 1, w1 + 1, ACK));
	assert_int_equal(close_window(t, w1, l, 2), 1);
	assert_false(l[0].was_initiated);
	assert_true(l[0].was_terminated);
	assert_int_equal(l[0].cumulative_packets_from_initiator, 4);
	dpf_conn_free(t);
}

static void
test_conn_idle_timeout_starts_new(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	uint64_t w1 = W0 + 60 * SEC, w_late = W0 + 600 * SEC;

	(void)state;
	add_ok(t, rec(17, "10.0.0.9", 53000, "10.0.0.1", 53, 0, 1, W0 + 1, W0 + 1, 0));
	assert_int_equal(close_window(t, W0, l, 2), 1);
	/* 299 s later: the same connection (timeout is 300 s). */
	add_ok(t, rec(17, "10.0.0.1", 53, "10.0.0.9", 53000, 0, 1, w1 + 1, w1 + 1, 0));
	assert_int_equal(close_window(t, w1, l, 2), 1);
	assert_false(l[0].was_initiated);
	assert_addr(l[0].initiator_addr, "10.0.0.9");
	/* More than 300 s after the last packet: a new connection, the sender initiates. */
	add_ok(t, rec(17, "10.0.0.1", 53, "10.0.0.9", 53000, 0, 1, w_late, w_late, 0));
	assert_int_equal(close_window(t, w_late, l, 2), 1);
	assert_true(l[0].was_initiated);
	assert_addr(l[0].initiator_addr, "10.0.0.1");
	assert_int_equal(l[0].cumulative_packets_from_initiator, 1);
	dpf_conn_free(t);
}

static void
test_conn_idle_connection_expires(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	struct dpf_conn_stats st;

	(void)state;
	add_ok(t, rec(17, "10.0.0.9", 1, "10.0.0.1", 2, 0, 1, W0 + 1, W0 + 1, 0));
	close_window(t, W0, l, 2);
	dpf_conn_stats_get(t, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(close_window(t, W0 + 300 * SEC, l, 2), 0);
	dpf_conn_stats_get(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.expired, 1);
	dpf_conn_free(t);
}

/* An ACL rejects the replies: one accepted and one rejected flow log. */
static void
test_conn_rejected_replies_give_two_logs(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[4];

	(void)state;
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, DPF_ACTION_REJECT, 2, W0 + 2, W0 + 4,
		      SYN | ACK));
	add_ok(t,
	       rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, DPF_ACTION_ACCEPT, 3, W0 + 1, W0 + 5, SYN));
	assert_int_equal(close_window(t, W0, l, 4), 2);
	assert_int_equal(l[0].action, DPF_ACTION_ACCEPT);
	assert_int_equal(l[0].packets_from_initiator, 3);
	assert_int_equal(l[0].packets_from_target, 0);
	assert_int_equal(l[1].action, DPF_ACTION_REJECT);
	assert_int_equal(l[1].packets_from_initiator, 0);
	assert_int_equal(l[1].packets_from_target, 2);
	assert_addr(l[1].initiator_addr, "10.0.0.9");
	dpf_conn_free(t);
}

/*
 * The same inner tuple in two tunnels of one interface is one connection: a
 * connection is (interface, protocol, endpoint pair), the tunnel is not in it.
 */
static void
test_conn_tunnels_of_one_interface_are_one_connection(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_record a = rec(6, "10.0.0.1", 40000, "10.0.0.2", 80, 0, 1, W0, W0, SYN);
	struct dpf_record b = a, reply = rec(6, "10.0.0.2", 80, "10.0.0.1", 40000, 0, 1, W0 + 1,
					     W0 + 1, SYN | ACK);
	struct dpf_conn_stats st;
	struct dpf_conn_log l[4];

	(void)state;
	a.key.tun_type = reply.key.tun_type = DPF_TUN_VXLAN;
	a.key.tun_has_id = reply.key.tun_has_id = 1;
	a.key.tun_id = reply.key.tun_id = 100;
	b.key.tun_type = DPF_TUN_GENEVE;
	b.key.tun_has_id = 1;
	b.key.tun_id = 100;
	add_ok(t, a);
	add_ok(t, b);
	add_ok(t, reply);
	assert_int_equal(close_window(t, W0, l, 4), 1);
	assert_int_equal(l[0].packets_from_initiator, 2);
	assert_int_equal(l[0].packets_from_target, 1);
	dpf_conn_stats_get(t, &st);
	assert_int_equal(st.opened, 1);
	dpf_conn_free(t);
}

static void
test_conn_ipv6_and_other_protocols(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	struct dpf_record icmp = rec(1, "10.0.0.1", 0, "10.0.0.2", 0, 0, 1, W0, W0, 0);

	(void)state;
	assert_int_equal(dpf_conn_add(t, &icmp), -EINVAL);
	add_ok(t, rec(17, "2001:db8::2", 9, "2001:db8::1", 9, 0, 1, W0 + 1, W0 + 1, 0));
	assert_int_equal(close_window(t, W0, l, 2), 1);
	assert_int_equal(l[0].family, 6);
	assert_addr(l[0].initiator_addr, "2001:db8::2");
	dpf_conn_free(t);
}

static void
test_conn_full_table_counts_overflow(void **state)
{
	struct dpf_conn_table *t = table_new(2);
	struct dpf_conn_log l[4];
	struct dpf_conn_stats st;
	struct dpf_record r;

	(void)state;
	add_ok(t, rec(17, "10.0.0.1", 1, "10.0.0.2", 1, 0, 1, W0, W0, 0));
	add_ok(t, rec(17, "10.0.0.1", 2, "10.0.0.2", 2, 0, 1, W0, W0, 0));
	r = rec(17, "10.0.0.1", 3, "10.0.0.2", 3, 0, 7, W0, W0, 0);
	assert_int_equal(dpf_conn_add(t, &r), -ENOSPC);
	/* Existing connections keep counting. */
	add_ok(t, rec(17, "10.0.0.2", 1, "10.0.0.1", 1, 0, 1, W0 + 1, W0 + 1, 0));
	assert_int_equal(close_window(t, W0, l, 4), 2);
	dpf_conn_stats_get(t, &st);
	assert_int_equal(st.records_full, 1);
	assert_int_equal(st.packets_full, 7);
	assert_int_equal(st.records, 3);
	dpf_conn_free(t);
}

/* Both directions of a new connection in one burst, an ICMP row, a full table. */
static void
test_conn_burst_results_match_single_adds(void **state)
{
	struct dpf_conn_table *t = table_new(2);
	struct dpf_record r[5];
	struct dpf_conn_log l[4];
	int rc[5];

	(void)state;
	r[0] = rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, 0, 1, W0 + 1, W0 + 1, SYN);
	r[1] = rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 1, W0 + 2, W0 + 2, SYN | ACK);
	r[2] = rec(1, "10.0.0.9", 0, "10.0.0.1", 0, 0, 1, W0, W0, 0);
	r[3] = rec(17, "10.0.0.9", 1, "10.0.0.1", 1, 0, 1, W0, W0, 0);
	r[4] = rec(17, "10.0.0.9", 2, "10.0.0.1", 2, 0, 1, W0, W0, 0);
	assert_int_equal(dpf_conn_add_burst(t, r, 5, rc), 3);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], 0);
	assert_int_equal(rc[2], -EINVAL);
	assert_int_equal(rc[3], 0);
	assert_int_equal(rc[4], -ENOSPC);
	assert_int_equal(close_window(t, W0, l, 4), 2);
	assert_int_equal(l[0].packets_from_initiator, 1);
	assert_int_equal(l[0].packets_from_target, 1);
	dpf_conn_free(t);
}

/*
 * Bursts longer than one look-up chunk: the next chunk is looked up before
 * the one before it is applied, so a connection first seen in one chunk and
 * found again in the next must still end up one connection with both
 * directions, exactly as record by record.
 */
static void
test_conn_burst_over_chunks_matches_single_adds(void **state)
{
	enum { CONNS = 150, N = 2 * CONNS };
	static struct dpf_record r[N];
	static struct dpf_conn_log a[CONNS + 1], b[CONNS + 1];
	struct dpf_conn_table *tb = table_new(CONNS), *ts = table_new(CONNS);
	unsigned int i, na, nb;
	int rc[N];

	(void)state;
	for (i = 0; i < CONNS; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.0.%u.%u", i / 200, i % 200 + 1);
		/* Initiator at i, the reply 50 records later: often the next chunk. */
		r[i + (i / 50) * 50] = rec(6, ip, (uint16_t)(1000 + i), "10.9.0.1", 443, 0, 2,
					   W0 + 1, W0 + 5, SYN);
		r[i + (i / 50) * 50 + 50] = rec(6, "10.9.0.1", 443, ip, (uint16_t)(1000 + i), 0, 3,
						W0 + 2, W0 + 6, SYN | ACK);
	}
	assert_int_equal(dpf_conn_add_burst(tb, r, N, rc), N);
	for (i = 0; i < N; i++) {
		assert_int_equal(rc[i], 0);
		add_ok(ts, r[i]);
	}
	na = close_window(tb, W0, a, CONNS + 1);
	nb = close_window(ts, W0, b, CONNS + 1);
	assert_int_equal(na, CONNS);
	assert_int_equal(nb, CONNS);
	for (i = 0; i < CONNS; i++) {
		assert_memory_equal(&a[i], &b[i], sizeof(a[i]));
		assert_int_equal(a[i].packets_from_initiator, 2);
		assert_int_equal(a[i].packets_from_target, 3);
	}
	dpf_conn_free(tb);
	dpf_conn_free(ts);
}

/* A record's post-NAT view: kept when it is not the packets' own, rebuilt when it is. */
static void
test_conn_post_nat_view_translated_or_own(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[2];
	struct dpf_record r;
	uint64_t w1 = W0 + 60 * SEC, w2 = W0 + 120 * SEC;

	(void)state;
	/* Masqueraded: the initiator leaves as 192.0.2.1:61000. */
	r = rec(6, "10.0.0.9", 5000, "10.0.0.1", 22, 0, 1, W0 + 1, W0 + 1, SYN);
	assert_int_equal(dpf_test_addr("192.0.2.1", r.post.src_addr), 0);
	r.post.src_port = 61000;
	add_ok(t, r);
	assert_int_equal(close_window(t, W0, l, 2), 1);
	assert_addr(l[0].post.src_addr, "192.0.2.1");
	assert_addr(l[0].post.dst_addr, "10.0.0.1");
	assert_int_equal(l[0].post.src_port, 61000);
	assert_int_equal(l[0].post.dst_port, 22);
	/* Only the reply, translated back: its view turned round. */
	r = rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 1, w1 + 1, w1 + 1, ACK);
	assert_int_equal(dpf_test_addr("192.0.2.1", r.post.dst_addr), 0);
	r.post.dst_port = 61000;
	add_ok(t, r);
	assert_int_equal(close_window(t, w1, l, 2), 1);
	assert_addr(l[0].post.src_addr, "192.0.2.1");
	assert_int_equal(l[0].post.src_port, 61000);
	assert_addr(l[0].post.dst_addr, "10.0.0.1");
	/* Untranslated now: the packets' own view, nothing left of the last window's. */
	add_ok(t, rec(6, "10.0.0.1", 22, "10.0.0.9", 5000, 0, 1, w2 + 1, w2 + 1, ACK));
	assert_int_equal(close_window(t, w2, l, 2), 1);
	assert_addr(l[0].post.src_addr, "10.0.0.9");
	assert_int_equal(l[0].post.src_port, 5000);
	assert_addr(l[0].post.dst_addr, "10.0.0.1");
	assert_int_equal(l[0].post.dst_port, 22);
	dpf_conn_free(t);
}

/*
 * lib/conn's key index against a plain array: random adds and removals in
 * a small index (4 buckets of 8 slots for 26 keys, so buckets fill and keys
 * spill to their second bucket and are moved between the two); after every
 * step each key is found exactly when it is in, at the entry it was given.
 */
static void
test_conn_index_matches_a_plain_array_under_churn(void **state)
{
	enum { CAP = 26, KEYS = 60, STEPS = 20000 };
	static struct dpf_flow_key entries[CAP], keys[KEYS];
	int32_t where[KEYS];
	struct conn_index *ix = conn_index_create("t", CAP, 4, entries, sizeof(entries[0]), 0);
	unsigned int i, k, in = 0;

	(void)state;
	assert_non_null(ix);
	srand(21);
	for (k = 0; k < KEYS; k++) {
		memset(&keys[k], 0, sizeof(keys[k]));
		keys[k].family = 4;
		keys[k].proto = 6;
		keys[k].src_addr[3] = (uint8_t)k;
		keys[k].src_port = (uint16_t)(1000 + k);
		where[k] = -1;
	}
	for (i = 0; i < STEPS; i++) {
		k = (unsigned int)rand() % KEYS;
		if (where[k] >= 0) {
			assert_int_equal(conn_index_del(ix, (uint32_t)where[k]), 0);
			where[k] = -1;
			in--;
		} else {
			int32_t e = conn_index_add(ix, &keys[k], conn_index_hash(&keys[k]));

			if (e < 0) {
				/* Refused: the index is full (or, rarely, the key's
				 * two buckets and their keys' other buckets are). */
				assert_int_equal(e, -ENOSPC);
				continue;
			}
			assert_true(e < CAP);
			entries[e] = keys[k];
			where[k] = e;
			in++;
		}
		for (k = 0; k < KEYS; k++)
			assert_int_equal(conn_index_lookup(ix, &keys[k], conn_index_hash(&keys[k])),
					 where[k]);
	}
	/* Bulk look-ups agree with single ones. */
	{
		uint32_t h[KEYS];
		int32_t pos[KEYS];

		conn_index_lookup_bulk(ix, keys, KEYS, h, pos);
		for (k = 0; k < KEYS; k++) {
			assert_int_equal(pos[k], where[k]);
			assert_int_equal(h[k], conn_index_hash(&keys[k]));
		}
	}
	assert_true(in > 0);
	conn_index_free(ix);
}

/* A flushed window hands records over twice: interface 1 first, then 0. */
static void
test_conn_logs_grouped_by_interface(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log l[4];
	struct dpf_record r;

	(void)state;
	r = rec(17, "10.0.0.9", 1, "10.0.0.1", 1, 0, 1, W0, W0, 0);
	r.key.iface = 1;
	add_ok(t, r);
	r = rec(17, "10.0.0.9", 2, "10.0.0.1", 2, 0, 1, W0, W0, 0);
	add_ok(t, r);
	r = rec(17, "10.0.0.9", 3, "10.0.0.1", 3, 0, 1, W0, W0, 0);
	r.key.iface = 1;
	add_ok(t, r);
	assert_int_equal(close_window(t, W0, l, 4), 3);
	assert_int_equal(l[0].iface, 0);
	assert_int_equal(l[1].iface, 1);
	assert_int_equal(l[1].initiator_port, 1);
	assert_int_equal(l[2].iface, 1);
	assert_int_equal(l[2].initiator_port, 3);
	dpf_conn_free(t);
}

/* A segment row of a flow cut inside the window (its record, skipped, before it). */
static struct dpf_record
seg(struct dpf_record r, uint8_t why)
{
	r.log_status = DPF_LOG_SEGMENT;
	r.seg_flags = why;
	return r;
}

static void
add_cut_flow(struct dpf_conn_table *t, const struct dpf_record *parts, unsigned int n)
{
	struct dpf_record whole = parts[0];
	unsigned int i;

	for (i = 1; i < n; i++) {
		whole.packets += parts[i].packets;
		whole.bytes += parts[i].bytes;
		whole.last_ns = parts[i].last_ns;
		whole.tcp_flags_all |= parts[i].tcp_flags_all;
	}
	whole.segments = true;
	whole.log_status = DPF_LOG_OK;
	add_ok(t, whole); /* skipped: its segments follow */
	for (i = 0; i < n; i++)
		add_ok(t, parts[i]);
}

static void
test_conn_port_reuse_inside_window_gives_two_connections(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log logs[4];
	struct dpf_conn_stats st;
	/* Client: SYN..FIN+ACK (1 s to 2 s), then a new SYN at 5 s (cut: SYN). */
	struct dpf_record c[2] = {
		seg(rec(6, "10.0.0.1", 40000, "192.0.2.1", 80, 0, 4, W0 + 1 * SEC, W0 + 2 * SEC,
			SYN | ACK | FIN),
		    0),
		seg(rec(6, "10.0.0.1", 40000, "192.0.2.1", 80, 0, 3, W0 + 5 * SEC, W0 + 6 * SEC,
			SYN | ACK),
		    DPF_SEG_SYN),
	};
	/* Server: its FIN before 5 s, its SYN-ACK after (cut with the client). */
	struct dpf_record s[2] = {
		seg(rec(6, "192.0.2.1", 80, "10.0.0.1", 40000, 0, 3, W0 + 1 * SEC + 1000,
			W0 + 2 * SEC, SYN | ACK | FIN),
		    0),
		seg(rec(6, "192.0.2.1", 80, "10.0.0.1", 40000, 0, 2, W0 + 5 * SEC + 1000,
			W0 + 6 * SEC, SYN | ACK),
		    0),
	};
	unsigned int n;

	(void)state;
	add_cut_flow(t, c, 2);
	add_cut_flow(t, s, 2);
	n = close_window(t, W0, logs, 4);
	assert_int_equal(n, 2);
	/* The first connection, terminated, then the second, begun in the window. */
	assert_true(logs[0].was_initiated && logs[0].was_terminated);
	assert_int_equal(logs[0].packets_from_initiator, 4);
	assert_int_equal(logs[0].packets_from_target, 3);
	assert_int_equal(logs[0].start_ns, W0 + 1 * SEC);
	assert_int_equal(logs[0].end_ns, W0 + 2 * SEC);
	assert_true(logs[1].was_initiated && !logs[1].was_terminated);
	assert_int_equal(logs[1].connection_start_ns, W0 + 5 * SEC);
	assert_int_equal(logs[1].packets_from_initiator, 3);
	assert_int_equal(logs[1].cumulative_packets_from_initiator, 3);
	assert_int_equal(logs[1].cumulative_packets_from_target, 2);
	assert_addr(logs[1].initiator_addr, "10.0.0.1");
	dpf_conn_stats_get(t, &st);
	assert_int_equal(st.opened, 2);
	assert_int_equal(st.segments, 4);
	/* The next window continues the second connection. */
	add_ok(t,
	       rec(6, "10.0.0.1", 40000, "192.0.2.1", 80, 0, 1, W0 + 61 * SEC, W0 + 61 * SEC, ACK));
	n = close_window(t, W0 + 60 * SEC, logs, 4);
	assert_int_equal(n, 1);
	assert_false(logs[0].was_initiated);
	assert_int_equal(logs[0].connection_start_ns, W0 + 5 * SEC);
	assert_int_equal(logs[0].cumulative_packets_from_initiator, 4);
	dpf_conn_free(t);
}

/*
 * Cut tuples through the burst path: the rows of T tuples (each flow's
 * skipped record, then its segments), all clients' rows first, so that a
 * server's rows come chunks after its client's (the next chunk is looked up
 * before this one is applied). Three windows: cut with a restart, plain,
 * cut again; each gives what record-by-record adds give, and the cut of the
 * first window is forgotten by the second.
 */
enum { CUT_T = 40, CUT_ROWS = 6 * CUT_T };

static unsigned int
cut_rows(struct dpf_record *r, uint64_t w, bool cut)
{
	unsigned int i, n = 0, side;

	for (side = 0; side < 2; side++)
		for (i = 0; i < CUT_T; i++) {
			char ip[32];
			const char *a, *b;
			uint16_t pa, pb;
			struct dpf_record x, y;

			snprintf(ip, sizeof(ip), "10.1.%u.%u", i / 200, i % 200 + 1);
			a = side ? "192.0.2.1" : ip;
			b = side ? ip : "192.0.2.1";
			pa = side ? 80 : (uint16_t)(40000 + i);
			pb = side ? (uint16_t)(40000 + i) : 80;
			if (!cut) {
				r[n++] = rec(6, a, pa, b, pb, 0, 1, w + SEC + side, w + SEC + side,
					     ACK);
				continue;
			}
			x = seg(rec(6, a, pa, b, pb, 0, 4, w + SEC + side, w + 2 * SEC,
				    SYN | ACK | FIN),
				0);
			y = seg(rec(6, a, pa, b, pb, 0, 3, w + 5 * SEC + side, w + 6 * SEC,
				    SYN | ACK),
				side ? 0 : DPF_SEG_SYN);
			r[n] = x;
			r[n].log_status = DPF_LOG_OK;
			r[n].segments = true;
			r[n].packets = 7;
			r[n++].last_ns = w + 6 * SEC;
			r[n++] = x;
			r[n++] = y;
		}
	return n;
}

static void
test_conn_cut_tuples_in_bursts_match_single_adds(void **state)
{
	static struct dpf_record r[CUT_ROWS];
	static struct dpf_conn_log a[2 * CUT_T + 1], b[2 * CUT_T + 1];
	struct dpf_conn_table *tb = table_new(CUT_T), *ts = table_new(CUT_T);
	const bool cut[3] = {true, false, true};
	unsigned int w, i, n, na, nb;
	int rc[CUT_ROWS];

	(void)state;
	for (w = 0; w < 3; w++) {
		uint64_t start = W0 + w * 60 * SEC;

		n = cut_rows(r, start, cut[w]);
		dpf_conn_add_burst(tb, r, n, rc);
		for (i = 0; i < n; i++) {
			assert_int_equal(rc[i], 0);
			add_ok(ts, r[i]);
		}
		na = close_window(tb, start, a, 2 * CUT_T + 1);
		nb = close_window(ts, start, b, 2 * CUT_T + 1);
		assert_int_equal(na, cut[w] ? 2 * CUT_T : CUT_T);
		assert_int_equal(nb, na);
		for (i = 0; i < na; i++) {
			assert_memory_equal(&a[i], &b[i], sizeof(a[i]));
			/* A cut window: the connection that ended (begun in it, or
			 * in the first window), then the new one; the plain window
			 * continues the last. */
			assert_int_equal(a[i].was_initiated, cut[w] && (w == 0 || i % 2));
			assert_int_equal(a[i].was_terminated, cut[w] && i % 2 == 0);
			assert_int_equal(a[i].packets_from_initiator, cut[w] ? (i % 2 ? 3 : 4) : 1);
		}
	}
	dpf_conn_free(tb);
	dpf_conn_free(ts);
}

static void
test_conn_cut_without_restart_stays_one(void **state)
{
	struct dpf_conn_table *t = table_new(16);
	struct dpf_conn_log logs[4];
	/* One side's gap of 400 s while the other spoke at 200 s: one connection. */
	struct dpf_record c[2] = {
		seg(rec(17, "10.0.0.1", 5000, "192.0.2.1", 5000, 0, 1, W0, W0, 0), 0),
		seg(rec(17, "10.0.0.1", 5000, "192.0.2.1", 5000, 0, 1, W0 + 400 * SEC,
			W0 + 400 * SEC, 0),
		    DPF_SEG_GAP),
	};
	/* Idle 400 s with nothing between: two. */
	struct dpf_record d[2] = {
		seg(rec(17, "10.0.0.9", 5000, "192.0.2.1", 5000, 0, 1, W0 + 1000 * SEC,
			W0 + 1000 * SEC, 0),
		    0),
		seg(rec(17, "10.0.0.9", 5000, "192.0.2.1", 5000, 0, 2, W0 + 1400 * SEC,
			W0 + 1401 * SEC, 0),
		    DPF_SEG_GAP),
	};
	unsigned int n;

	(void)state;
	add_cut_flow(t, c, 2);
	add_ok(t, rec(17, "192.0.2.1", 5000, "10.0.0.1", 5000, 0, 1, W0 + 200 * SEC, W0 + 200 * SEC,
		      0));
	n = close_window(t, W0, logs, 4);
	assert_int_equal(n, 1);
	assert_int_equal(logs[0].packets_from_initiator, 2);
	assert_int_equal(logs[0].packets_from_target, 1);
	add_cut_flow(t, d, 2);
	n = close_window(t, W0 + 1000 * SEC, logs, 4);
	assert_int_equal(n, 2);
	assert_int_equal(logs[0].packets_from_initiator, 1);
	assert_false(logs[0].was_terminated);
	assert_int_equal(logs[1].connection_start_ns, W0 + 1400 * SEC);
	assert_int_equal(logs[1].cumulative_packets_from_initiator, 2);
	dpf_conn_free(t);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conn_create_rejects_bad_params),
		cmocka_unit_test(test_conn_tunnels_of_one_interface_are_one_connection),
		cmocka_unit_test(test_conn_handshake_initiator_is_first_packet),
		cmocka_unit_test(test_conn_same_time_bare_syn_wins),
		cmocka_unit_test(test_conn_cumulative_across_windows),
		cmocka_unit_test(test_conn_rst_terminates_then_bare_syn_starts_new),
		cmocka_unit_test(test_conn_ack_after_termination_stays),
		cmocka_unit_test(test_conn_idle_timeout_starts_new),
		cmocka_unit_test(test_conn_idle_connection_expires),
		cmocka_unit_test(test_conn_rejected_replies_give_two_logs),
		cmocka_unit_test(test_conn_ipv6_and_other_protocols),
		cmocka_unit_test(test_conn_full_table_counts_overflow),
		cmocka_unit_test(test_conn_burst_results_match_single_adds),
		cmocka_unit_test(test_conn_burst_over_chunks_matches_single_adds),
		cmocka_unit_test(test_conn_post_nat_view_translated_or_own),
		cmocka_unit_test(test_conn_index_matches_a_plain_array_under_churn),
		cmocka_unit_test(test_conn_logs_grouped_by_interface),
		cmocka_unit_test(test_conn_port_reuse_inside_window_gives_two_connections),
		cmocka_unit_test(test_conn_cut_without_restart_stays_one),
		cmocka_unit_test(test_conn_cut_tuples_in_bursts_match_single_adds),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
