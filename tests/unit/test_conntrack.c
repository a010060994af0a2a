/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "dpf_conntrack.h"
#include "dpf_test_eal.h"
#include "dpf_test_util.h"

/* Helpers */

static void
addr_of(const char *text, uint8_t *addr)
{
	assert_int_equal(dpf_test_addr(text, addr), 0);
}

/* A key as the RX core builds it: from the parsed packet. */
static void
mk_key(struct dpf_flow_key *k, uint8_t proto, const char *src, uint16_t sport, const char *dst,
       uint16_t dport, uint16_t iface)
{
	struct dpf_pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.family = strchr(src, ':') != NULL ? 6 : 4;
	pi.proto = proto;
	addr_of(src, pi.src_addr);
	addr_of(dst, pi.dst_addr);
	pi.l4.src_port = sport;
	pi.l4.dst_port = dport;
	pi.has_l4 = 1;
	dpf_flow_key_from_pkt(k, &pi, iface, DPF_ACTION_ACCEPT);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Addresses from a small pool so that prefixes of every length match now and then. */
static struct dpf_conntrack *
ct_new(uint32_t capacity, uint64_t timeout_ns)
{
	struct dpf_conntrack_params p = {
		.name = "test",
		.capacity = capacity,
		.socket_id = SOCKET_ID_ANY,
		.timeout_ns = timeout_ns,
	};
	struct dpf_conntrack *ct = dpf_conntrack_create(&p);

	if (ct == NULL)
		fail_msg("dpf_conntrack_create: %s", rte_strerror(rte_errno));
	return ct;
}

static void
test_conntrack_reverse_of_added_flow_is_reply(void **state)
{
	struct dpf_conntrack *ct = ct_new(64, 1000);
	struct dpf_flow_key out, back, k;

	(void)state;
	mk_key(&out, 6, "10.0.0.1", 40000, "192.0.2.9", 443, 1);
	mk_key(&back, 6, "192.0.2.9", 443, "10.0.0.1", 40000, 1);
	assert_false(dpf_conntrack_is_reply(ct, &back, 0));
	assert_int_equal(dpf_conntrack_add(ct, &out, 0), 0);
	assert_int_equal(dpf_conntrack_count(ct), 1);
	assert_true(dpf_conntrack_is_reply(ct, &back, 10));
	/* The accepted direction itself is no reply. */
	assert_false(dpf_conntrack_is_reply(ct, &out, 10));
	/* Action and seg are not part of the tuple. */
	k = back;
	k.action = DPF_ACTION_REJECT;
	k.seg = 0x55;
	assert_true(dpf_conntrack_is_reply(ct, &k, 10));
	k = out;
	k.action = DPF_ACTION_REJECT;
	k.seg = 1;
	assert_int_equal(dpf_conntrack_add(ct, &k, 20), 0);
	assert_int_equal(dpf_conntrack_count(ct), 1);
	/* Any other field must match. */
	k = back;
	k.iface = 2;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	k = back;
	k.proto = 17;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	/* An inner connection's reply comes through the same tunnel. */
	k = back;
	k.tun_type = DPF_TUN_VXLAN;
	k.tun_has_id = 1;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	k = back;
	k.src_port = 444;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	k = back;
	k.dst_port = 40001;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	k = back;
	k.src_addr[3] = 10;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	k = back;
	k.family = 6;
	assert_false(dpf_conntrack_is_reply(ct, &k, 10));
	/* IPv6 as well. */
	mk_key(&out, 17, "2001:db8::1", 5353, "2001:db8::2", 53, 1);
	mk_key(&back, 17, "2001:db8::2", 53, "2001:db8::1", 5353, 1);
	assert_int_equal(dpf_conntrack_add(ct, &out, 0), 0);
	assert_true(dpf_conntrack_is_reply(ct, &back, 1));
	dpf_conntrack_free(ct);
	dpf_conntrack_free(NULL);
}

static void
test_conntrack_icmp_from_peer_is_reply_whatever_its_type(void **state)
{
	struct dpf_conntrack *ct = ct_new(64, 1000);
	struct dpf_flow_key echo, reply, other;

	(void)state;
	mk_key(&echo, 1, "10.0.0.1", 0, "10.0.0.2", 0, 0);
	mk_key(&reply, 1, "10.0.0.2", 0, "10.0.0.1", 0, 0);
	mk_key(&other, 1, "10.0.0.3", 0, "10.0.0.1", 0, 0);
	assert_int_equal(dpf_conntrack_add(ct, &echo, 0), 0);
	assert_true(dpf_conntrack_is_reply(ct, &reply, 1));
	assert_false(dpf_conntrack_is_reply(ct, &other, 1));
	mk_key(&echo, 58, "fe80::1", 0, "fe80::2", 0, 0);
	mk_key(&reply, 58, "fe80::2", 0, "fe80::1", 0, 0);
	assert_int_equal(dpf_conntrack_add(ct, &echo, 0), 0);
	assert_true(dpf_conntrack_is_reply(ct, &reply, 1));
	dpf_conntrack_free(ct);
}

static void
test_conntrack_idle_flows_stop_being_replies_and_expire(void **state)
{
	struct dpf_conntrack *ct = ct_new(64, 100);
	struct dpf_flow_key a, a_back, b, b_back;

	(void)state;
	mk_key(&a, 6, "10.0.0.1", 1, "10.0.0.2", 2, 0);
	mk_key(&a_back, 6, "10.0.0.2", 2, "10.0.0.1", 1, 0);
	mk_key(&b, 6, "10.0.0.1", 3, "10.0.0.2", 4, 0);
	mk_key(&b_back, 6, "10.0.0.2", 4, "10.0.0.1", 3, 0);
	assert_int_equal(dpf_conntrack_add(ct, &a, 1000), 0);
	assert_int_equal(dpf_conntrack_add(ct, &b, 1000), 0);
	/* Idle exactly timeout_ns is still alive, and the reply refreshes it. */
	assert_true(dpf_conntrack_is_reply(ct, &a_back, 1100));
	assert_true(dpf_conntrack_is_reply(ct, &a_back, 1200));
	/* b: idle 101 ns. */
	assert_false(dpf_conntrack_is_reply(ct, &b_back, 1101));
	assert_int_equal(dpf_conntrack_expire(ct, 1150), 1);
	assert_int_equal(dpf_conntrack_count(ct), 1);
	assert_false(dpf_conntrack_is_reply(ct, &b_back, 1150));
	/* A time behind the entry's does not expire it. */
	assert_int_equal(dpf_conntrack_expire(ct, 0), 0);
	/* add refreshes too. */
	assert_int_equal(dpf_conntrack_add(ct, &a, 1290), 0);
	assert_int_equal(dpf_conntrack_expire(ct, 1390), 0);
	assert_int_equal(dpf_conntrack_expire(ct, 1391), 1);
	assert_int_equal(dpf_conntrack_count(ct), 0);
	assert_false(dpf_conntrack_is_reply(ct, &a_back, 1391));
	/* Expired flows may come back. */
	assert_int_equal(dpf_conntrack_add(ct, &b, 2000), 0);
	assert_true(dpf_conntrack_is_reply(ct, &b_back, 2001));
	assert_int_equal(dpf_conntrack_count(ct), 1);
	dpf_conntrack_free(ct);
}

static void
test_conntrack_add_when_full_fails_enospc_and_refresh_still_works(void **state)
{
	struct dpf_conntrack *ct = ct_new(100, 10);
	struct dpf_flow_key k;
	uint32_t i;

	(void)state;
	assert_int_equal(dpf_conntrack_capacity(ct), 100);
	for (i = 0; i < 100; i++) {
		mk_key(&k, 17, "10.0.0.1", (uint16_t)i, "10.0.0.2", 53, 0);
		assert_int_equal(dpf_conntrack_add(ct, &k, 0), 0);
	}
	mk_key(&k, 17, "10.0.0.1", 100, "10.0.0.2", 53, 0);
	assert_int_equal(dpf_conntrack_add(ct, &k, 0), -ENOSPC);
	assert_int_equal(dpf_conntrack_count(ct), 100);
	mk_key(&k, 17, "10.0.0.1", 7, "10.0.0.2", 53, 0);
	assert_int_equal(dpf_conntrack_add(ct, &k, 5), 0);
	assert_int_equal(dpf_conntrack_expire(ct, 11), 99);
	mk_key(&k, 17, "10.0.0.1", 100, "10.0.0.2", 53, 0);
	assert_int_equal(dpf_conntrack_add(ct, &k, 11), 0);
	assert_int_equal(dpf_conntrack_count(ct), 2);
	dpf_conntrack_free(ct);
}

static void
test_conntrack_holds_full_capacity_of_random_flows(void **state)
{
	const uint32_t cap = 20000;
	struct dpf_conntrack *ct = ct_new(cap, 1000);
	struct dpf_conntrack *twin = ct_new(16, 1000); /* same name, coexists */
	struct dpf_flow_key k;
	uint32_t i, j;

	(void)state;
	for (i = 0; i < cap; i++) {
		memset(&k, 0, sizeof(k));
		k.family = 6;
		k.proto = 6;
		for (j = 0; j < 16; j += 4) {
			uint32_t v = rnd();

			memcpy(&k.src_addr[j], &v, 4);
		}
		k.src_port = (uint16_t)i;
		k.dst_port = (uint16_t)(i >> 16);
		if (dpf_conntrack_add(ct, &k, i) != 0)
			fail_msg("flow %u of %u not added", i, cap);
	}
	assert_int_equal(dpf_conntrack_count(ct), cap);
	k.src_port++;
	k.dst_port = 999;
	assert_int_equal(dpf_conntrack_add(ct, &k, 0), -ENOSPC);
	assert_int_equal(dpf_conntrack_add(twin, &k, 0), 0);
	/* Half of them idle more than 1000 ns at cap / 2 + 1000 + 1. */
	assert_int_equal(dpf_conntrack_expire(ct, cap / 2 + 1001), cap / 2 + 1);
	assert_int_equal(dpf_conntrack_count(ct), cap - (cap / 2 + 1));
	dpf_conntrack_free(ct);
	dpf_conntrack_free(twin);
}

static void
test_conntrack_create_with_invalid_params_fails_einval(void **state)
{
	struct dpf_conntrack_params p = {
		.name = "bad",
		.capacity = 0,
		.socket_id = SOCKET_ID_ANY,
		.timeout_ns = 1,
	};

	(void)state;
	assert_null(dpf_conntrack_create(NULL));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(dpf_conntrack_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.capacity = DPF_CONNTRACK_MAX_CAPACITY + 1;
	assert_null(dpf_conntrack_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.capacity = 10;
	p.timeout_ns = 0;
	assert_null(dpf_conntrack_create(&p));
	assert_int_equal(rte_errno, EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conntrack_reverse_of_added_flow_is_reply),
		cmocka_unit_test(test_conntrack_icmp_from_peer_is_reply_whatever_its_type),
		cmocka_unit_test(test_conntrack_idle_flows_stop_being_replies_and_expire),
		cmocka_unit_test(test_conntrack_add_when_full_fails_enospc_and_refresh_still_works),
		cmocka_unit_test(test_conntrack_holds_full_capacity_of_random_flows),
		cmocka_unit_test(test_conntrack_create_with_invalid_params_fails_einval),
	};

	(void)argc;
	/* EAL without hugepages needs nothing this machine could lack: a
	 * failure to start is a failure, as in the other test binaries. */
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
