/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpf_flow.h"
#include "dpf_flow_hash.h"
#include "dpf_test_eal.h"

static void
v4_frag(struct dpf_pkt_info *pi, uint8_t frag, uint32_t id, uint16_t sp, uint16_t dp)
{
	memset(pi, 0, sizeof(*pi));
	pi->family = 4;
	pi->proto = 17;
	pi->src_addr[0] = 10;
	pi->src_addr[3] = 1;
	pi->dst_addr[0] = 10;
	pi->dst_addr[3] = 2;
	pi->frag = frag;
	pi->frag_id = id;
	pi->l4.src_port = sp;
	pi->l4.dst_port = dp;
}

static void
test_key_from_pkt_zeroes_padding_and_copies_tuple(void **state)
{
	struct dpf_pkt_info pi;
	struct dpf_flow_key k;

	(void)state;
	v4_frag(&pi, DPF_PKT_FRAG_NONE, 0, 1234, 53);
	memset(&k, 0xaa, sizeof(k));
	dpf_flow_key_from_pkt(&k, &pi, 3, DPF_ACTION_REJECT);
	/* No padding left: seg and the tunnel fields are the last bytes, all zero. */
	assert_int_equal(k.seg, 0);
	assert_int_equal(k.tun_type, 0);
	assert_int_equal(k.tun_has_id, 0);
	assert_int_equal(k.tun_id, 0);
	assert_memory_equal(k.src_addr, pi.src_addr, 16);
	assert_int_equal(k.src_port, 1234);
	assert_int_equal(k.dst_port, 53);
	assert_int_equal(k.iface, 3);
	assert_int_equal(k.action, DPF_ACTION_REJECT);
	assert_int_equal(k.family, 4);
	assert_int_equal(k.proto, 17);
}

/* A decapsulated packet's key carries its tunnel; the tunnel orders after the action. */
static void
test_key_from_pkt_carries_tunnel_and_cmp_orders_it_last(void **state)
{
	struct dpf_pkt_info pi;
	struct dpf_flow_key a, b;

	(void)state;
	v4_frag(&pi, DPF_PKT_FRAG_NONE, 0, 1234, 53);
	pi.tun_type = DPF_TUN_GENEVE;
	pi.tun_has_id = 1;
	pi.tun_id = 0xabcdef;
	memset(&a, 0xaa, sizeof(a));
	dpf_flow_key_from_pkt(&a, &pi, 3, DPF_ACTION_ACCEPT);
	assert_int_equal(a.tun_type, DPF_TUN_GENEVE);
	assert_int_equal(a.tun_has_id, 1);
	assert_int_equal(a.tun_id, 0xabcdef);
	assert_int_equal(a.seg, 0);
	b = a;
	b.action = DPF_ACTION_REJECT;
	b.tun_type = DPF_TUN_VXLAN;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	b = a;
	b.tun_type = DPF_TUN_GRE;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	b = a;
	b.tun_has_id = 0;
	b.tun_id = 0xffffffff;
	assert_true(dpf_flow_key_cmp(&a, &b) > 0);
	b = a;
	b.tun_id = 0xabcdf0;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	assert_false(dpf_flow_key_equal(&a, &b));
}

static void
test_key_cmp_orders_iface_family_addresses_proto_ports_action(void **state)
{
	struct dpf_flow_key a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	b = a;
	assert_int_equal(dpf_flow_key_cmp(&a, &b), 0);
	b.iface = 1;
	a.family = 6;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	b = a;
	b.src_addr[0] = 1;
	a.dst_addr[0] = 200;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	b = a;
	a.src_port = 9;
	b.proto = 1;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	b = a;
	b.action = 1;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
	/* Ports compare numerically, not by byte order in memory. */
	b = a;
	a.src_port = 0x00ff;
	b.src_port = 0x0100;
	assert_true(dpf_flow_key_cmp(&a, &b) < 0);
}

/* The records' order written field by field, as doc/architecture.md and
 * dpf_window.h state it: the model dpf_flow_key_cmp() must agree with. */
static int
model_cmp(const struct dpf_flow_key *a, const struct dpf_flow_key *b)
{
	const uint64_t x[] = {a->iface, a->family}, y[] = {b->iface, b->family};
	const uint64_t xs[] = {a->proto,    a->src_port,   a->dst_port, a->action,
			       a->tun_type, a->tun_has_id, a->tun_id},
		       ys[] = {b->proto,    b->src_port,   b->dst_port, b->action,
			       b->tun_type, b->tun_has_id, b->tun_id};
	size_t i;

	for (i = 0; i < 2; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	for (i = 0; i < 16; i++)
		if (a->src_addr[i] != b->src_addr[i])
			return a->src_addr[i] < b->src_addr[i] ? -1 : 1;
	for (i = 0; i < 16; i++)
		if (a->dst_addr[i] != b->dst_addr[i])
			return a->dst_addr[i] < b->dst_addr[i] ? -1 : 1;
	for (i = 0; i < 7; i++)
		if (xs[i] != ys[i])
			return xs[i] < ys[i] ? -1 : 1;
	return 0;
}

/* One random field of k set to a random value, often an extreme one (0, all
 * ones, one bit): where packed comparisons would overflow into a neighbour. */
static void
key_poke(struct dpf_flow_key *k, uint64_t *rng)
{
	uint64_t r, v;

	*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
	r = *rng >> 24;
	switch ((r >> 8) % 4) {
	case 0:
		v = 0;
		break;
	case 1:
		v = ~0ull;
		break;
	case 2:
		v = 1ull << (r >> 12) % 32;
		break;
	default:
		v = r >> 16;
	}
	switch (r % 12) {
	case 0:
		k->iface = (uint16_t)v;
		break;
	case 1:
		k->family = (uint8_t)v;
		break;
	case 2:
		k->src_addr[(r >> 4) % 16] = (uint8_t)v;
		break;
	case 3:
		k->dst_addr[(r >> 4) % 16] = (uint8_t)v;
		break;
	case 4:
		k->proto = (uint8_t)v;
		break;
	case 5:
		k->src_port = (uint16_t)v;
		break;
	case 6:
		k->dst_port = (uint16_t)v;
		break;
	case 7:
		k->action = (uint8_t)v;
		break;
	case 8:
		k->tun_type = (uint8_t)v;
		break;
	case 9:
		k->tun_has_id = (uint8_t)v;
		break;
	case 10:
		k->tun_id = (uint32_t)v;
		break;
	default:
		k->seg = (uint8_t)v;
		break; /* not part of the order */
	}
}

static int
sign(int c)
{
	return (c > 0) - (c < 0);
}

static void
test_key_cmp_agrees_with_field_by_field_order(void **state)
{
	uint64_t rng = 12345;
	struct dpf_flow_key a, b;
	int i, j, n_eq = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	for (i = 0; i < 200000; i++) {
		b = a;
		for (j = 0; j <= i % 3; j++)
			key_poke(&b, &rng);
		assert_int_equal(sign(dpf_flow_key_cmp(&a, &b)), model_cmp(&a, &b));
		assert_int_equal(sign(dpf_flow_key_cmp(&b, &a)), model_cmp(&b, &a));
		n_eq += model_cmp(&a, &b) == 0;
		if (i % 2 == 0)
			a = b;
	}
	/* Equal keys were compared too (seg alone, or a value poked to itself). */
	assert_true(n_eq > 0);
}

static void
test_counters_merge_sums_and_takes_min_max_or(void **state)
{
	struct dpf_flow_counters a = {0}, b = {0}, empty = {0};

	(void)state;
	dpf_flow_counters_add(&a, 100, 50, 0x02);
	dpf_flow_counters_add(&b, 40, 20, 0x10);
	dpf_flow_counters_add(&b, 40, 90, 0x11);
	dpf_flow_counters_merge(&a, &b);
	assert_int_equal(a.packets, 3);
	assert_int_equal(a.bytes, 180);
	assert_int_equal(a.first_ns, 20);
	assert_int_equal(a.last_ns, 90);
	assert_int_equal(a.tcp_flags_all, 0x13);
	/* ACK alone never sets 16; SYN in one packet and ACK in another neither. */
	assert_int_equal(a.tcp_flags_aws, 0x03);
	dpf_flow_counters_merge(&empty, &a);
	assert_memory_equal(&empty, &a, sizeof(a));
}

static void
test_frag_cache_later_fragment_gets_first_fragment_ports(void **state)
{
	struct dpf_frag_cache *fc = dpf_frag_cache_create(128, 32, -1);
	struct dpf_pkt_info pi;

	(void)state;
	assert_non_null(fc);
	v4_frag(&pi, DPF_PKT_FRAG_FIRST, 77, 5000, 53);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 9), DPF_FRAG_KEPT);
	assert_int_equal(pi.l4.src_port, 5000);
	v4_frag(&pi, DPF_PKT_FRAG_LATER, 77, 0, 0);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 9), DPF_FRAG_FOUND);
	assert_int_equal(pi.l4.src_port, 5000);
	assert_int_equal(pi.l4.dst_port, 53);
	/* Another datagram id, never seen: ports 0. */
	v4_frag(&pi, DPF_PKT_FRAG_LATER, 78, 0, 0);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 9), DPF_FRAG_NOT_FOUND);
	assert_int_equal(pi.l4.src_port, 0);
	assert_int_equal(pi.l4.dst_port, 0);
	/* Not a fragment: untouched. */
	v4_frag(&pi, DPF_PKT_FRAG_NONE, 0, 1, 2);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 9), DPF_FRAG_NONE);
	assert_int_equal(pi.l4.src_port, 1);
	dpf_frag_cache_free(fc);
}

static void
test_frag_cache_reports_evictions_and_keeps_sets_apart(void **state)
{
	struct dpf_frag_cache *fc = dpf_frag_cache_create(2, 1, -1);
	struct dpf_pkt_info pi;

	(void)state;
	assert_non_null(fc);
	v4_frag(&pi, DPF_PKT_FRAG_FIRST, 1, 1001, 53);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 0), DPF_FRAG_KEPT);
	/* The other set (steer taken modulo the set count): no eviction. */
	v4_frag(&pi, DPF_PKT_FRAG_FIRST, 2, 1002, 53);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 3), DPF_FRAG_KEPT);
	/* The same set, one slot: datagram 1 is evicted. */
	v4_frag(&pi, DPF_PKT_FRAG_FIRST, 3, 1003, 53);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 2), DPF_FRAG_EVICTED);
	v4_frag(&pi, DPF_PKT_FRAG_LATER, 1, 0, 0);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 0), DPF_FRAG_NOT_FOUND);
	v4_frag(&pi, DPF_PKT_FRAG_LATER, 2, 0, 0);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 1), DPF_FRAG_FOUND);
	assert_int_equal(pi.l4.src_port, 1002);
	/* A first fragment again (retransmitted) evicts nothing. */
	v4_frag(&pi, DPF_PKT_FRAG_FIRST, 3, 1003, 53);
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 0), DPF_FRAG_KEPT);
	dpf_frag_cache_free(fc);
}

/*
 * The determinism argument of dpf_flow.h, checked: interleaved datagrams
 * through one cache (one RX core) and through four caches that each see
 * only the datagrams of their RETA entries (entry e on core e % 4, the
 * round-robin RETA) get the same outcome, packet for packet, with many
 * evictions.
 */
static void
test_frag_cache_outcome_is_the_same_for_any_core_count(void **state)
{
	enum { SETS = 128, PER = 4, DATAGRAMS = 20000, OPEN = 600, CORES = 4 };
	struct dpf_frag_cache *one = dpf_frag_cache_create(SETS, PER, -1);
	struct dpf_frag_cache *four[CORES];
	uint32_t evicted = 0, found = 0, i;
	int c;

	(void)state;
	assert_non_null(one);
	for (c = 0; c < CORES; c++) {
		four[c] = dpf_frag_cache_create(SETS, PER, -1);
		assert_non_null(four[c]);
	}
	/* Datagram d: first fragment at step d, later fragment at step d + OPEN,
	 * so OPEN datagrams are open at a time (more than SETS * PER). */
	for (i = 0; i < DATAGRAMS + OPEN; i++) {
		int k;

		for (k = 0; k < 2; k++) {
			uint32_t d = k == 0 ? i : i - OPEN;
			struct dpf_pkt_info a, b;
			enum dpf_frag_result ra, rb;
			uint32_t steer;

			if ((k == 0 && i >= DATAGRAMS) || (k == 1 && i < OPEN))
				continue;
			v4_frag(&a, k == 0 ? DPF_PKT_FRAG_FIRST : DPF_PKT_FRAG_LATER, d,
				k == 0 ? (uint16_t)(1024 + d % 60000) : 0, k == 0 ? 53 : 0);
			a.src_addr[2] = (uint8_t)(d * 7919 >> 8);
			a.src_addr[3] = (uint8_t)(d * 7919);
			b = a;
			/* An RSS hash of the addresses: the same for all of d's fragments. */
			steer = (uint32_t)(a.src_addr[2] * 31 + a.src_addr[3]) % SETS;
			ra = dpf_frag_cache_apply(one, &a, steer);
			rb = dpf_frag_cache_apply(four[steer % CORES], &b, steer);
			assert_int_equal(ra, rb);
			assert_memory_equal(&a, &b, sizeof(a));
			evicted += ra == DPF_FRAG_EVICTED;
			found += ra == DPF_FRAG_FOUND;
		}
	}
	/* The case is meaningful only with evictions and hits both. */
	assert_true(evicted > 1000 && found > 1000);
	dpf_frag_cache_free(one);
	for (c = 0; c < CORES; c++)
		dpf_frag_cache_free(four[c]);
}

static void
test_frag_cache_later_fragment_gets_the_echo_identifier(void **state)
{
	struct dpf_frag_cache *fc = dpf_frag_cache_create(128, 8, -1);
	struct dpf_pkt_info pi;

	(void)state;
	assert_non_null(fc);
	v4_frag(&pi, DPF_PKT_FRAG_FIRST, 91, 0, 0);
	pi.proto = 1;
	pi.has_l4 = 1;
	pi.l4.icmp_type = 8;
	pi.l4.icmp_id = 0x4242;
	pi.l4.has_icmp_id = 1;
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 5), DPF_FRAG_KEPT);
	v4_frag(&pi, DPF_PKT_FRAG_LATER, 91, 0, 0);
	pi.proto = 1;
	assert_int_equal(dpf_frag_cache_apply(fc, &pi, 5), DPF_FRAG_FOUND);
	assert_int_equal(pi.l4.has_icmp_id, 1);
	assert_int_equal(pi.l4.icmp_id, 0x4242);
	assert_int_equal(pi.l4.icmp_type, 8);
	assert_int_equal(pi.has_l4, 0);
	dpf_frag_cache_free(fc);
}

static void
test_frag_cache_create_rejects_bad_sizes(void **state)
{
	(void)state;
	assert_null(dpf_frag_cache_create(0, 32, -1));
	assert_null(dpf_frag_cache_create(128, 0, -1));
	assert_null(dpf_frag_cache_create(1u << 16, 1u << 9, -1));
	dpf_frag_cache_free(NULL);
}

/* Eight slots of a bucket as both tables lay them out (signatures 16-byte aligned). */
struct slots8 {
	uint16_t sig[8];
	uint32_t idx[8];
} __rte_aligned(16);

/* A key moves to the other bucket's first free slot (signature 0) and leaves
 * its own slot free; into a full bucket nothing moves and nothing changes. */
static void
test_sig8_move_takes_the_first_free_slot_or_nothing(void **state)
{
	struct slots8 from = {{1, 2, 3, 4, 5, 6, 7, 8}, {10, 11, 12, 13, 14, 15, 16, 17}};
	struct slots8 to = {{9, 0, 0, 21, 22, 23, 24, 25}, {30, 0, 0, 33, 34, 35, 36, 37}};
	struct slots8 from_before, to_before;

	(void)state;
	assert_true(dpf_sig8_move(from.sig, from.idx, 2, to.sig, to.idx));
	assert_int_equal(to.sig[1], 3);
	assert_int_equal(to.idx[1], 12);
	assert_int_equal(to.sig[2], 0); /* the second free slot stays free */
	assert_int_equal(from.sig[2], 0);
	assert_int_equal(dpf_sig8_free(from.sig), 2);

	to.sig[2] = 26;
	from_before = from;
	to_before = to;
	assert_false(dpf_sig8_move(from.sig, from.idx, 0, to.sig, to.idx));
	assert_memory_equal(&from, &from_before, sizeof(from));
	assert_memory_equal(&to, &to_before, sizeof(to));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_from_pkt_zeroes_padding_and_copies_tuple),
		cmocka_unit_test(test_key_cmp_orders_iface_family_addresses_proto_ports_action),
		cmocka_unit_test(test_key_from_pkt_carries_tunnel_and_cmp_orders_it_last),
		cmocka_unit_test(test_key_cmp_agrees_with_field_by_field_order),
		cmocka_unit_test(test_counters_merge_sums_and_takes_min_max_or),
		cmocka_unit_test(test_frag_cache_later_fragment_gets_first_fragment_ports),
		cmocka_unit_test(test_frag_cache_reports_evictions_and_keeps_sets_apart),
		cmocka_unit_test(test_frag_cache_outcome_is_the_same_for_any_core_count),
		cmocka_unit_test(test_frag_cache_later_fragment_gets_the_echo_identifier),
		cmocka_unit_test(test_frag_cache_create_rejects_bad_sizes),
		cmocka_unit_test(test_sig8_move_takes_the_first_free_slot_or_nothing),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
