/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_thash.h>

#include "dpf_rss.h"

static struct dpf_rss rss;

/* rte_softrss wants the tuple as host-order 32-bit words. */
static uint32_t
reference_hash(const uint8_t *tuple, uint32_t len, const uint8_t *key)
{
	uint32_t words[DPF_RSS_TUPLE_MAX / 4];
	uint32_t i;

	for (i = 0; i < len / 4; i++) {
		uint32_t w;

		memcpy(&w, tuple + 4 * i, 4);
		words[i] = rte_be_to_cpu_32(w);
	}
	return rte_softrss(words, len / 4, key);
}

static void
test_rss_hash_matches_rte_softrss_on_random_tuples(void **state)
{
	uint8_t key[DPF_RSS_KEY_LEN];
	struct dpf_rss *r = malloc(sizeof(*r));
	uint8_t tuple[DPF_RSS_TUPLE_MAX];
	int i, j;

	(void)state;
	assert_non_null(r);
	srand(7);
	for (i = 0; i < DPF_RSS_KEY_LEN; i++)
		key[i] = (uint8_t)rand();
	dpf_rss_init(r, key);
	for (i = 0; i < 2000; i++) {
		uint32_t len = (i % 3 == 0) ? 8 : (i % 3 == 1) ? 12 : 36;

		for (j = 0; j < DPF_RSS_TUPLE_MAX; j++)
			tuple[j] = (uint8_t)rand();
		assert_int_equal(dpf_rss_hash(r, tuple, len), reference_hash(tuple, len, key));
	}
	free(r);
}

static void
test_rss_folded_symmetric_key_matches_rte_softrss(void **state)
{
	struct dpf_rss *r = malloc(sizeof(*r));
	uint8_t tuple[DPF_RSS_TUPLE_MAX];
	int i, j;

	(void)state;
	assert_non_null(r);
	srand(8);
	dpf_rss_init(r, dpf_rss_symmetric_key);
	assert_true(r->fold16);
	for (i = 0; i < 2000; i++) {
		uint32_t len = (i % 3 == 0) ? 8 : (i % 3 == 1) ? 12 : 36;
		struct dpf_pkt_info pi;

		for (j = 0; j < DPF_RSS_TUPLE_MAX; j++)
			tuple[j] = (uint8_t)rand();
		assert_int_equal(dpf_rss_hash(r, tuple, len),
				 reference_hash(tuple, len, dpf_rss_symmetric_key));
		/* The packet path folds the same tuple from a parsed packet. */
		memset(&pi, 0, sizeof(pi));
		pi.family = len == 36 ? 6 : 4;
		pi.proto = len == 8 ? 47 : 17;
		memcpy(pi.src_addr, tuple, len == 36 ? 16 : 4);
		memcpy(pi.dst_addr, tuple + (len == 36 ? 16 : 4), len == 36 ? 16 : 4);
		pi.l4.src_port = (uint16_t)(tuple[len - 4] << 8 | tuple[len - 3]);
		pi.l4.dst_port = (uint16_t)(tuple[len - 2] << 8 | tuple[len - 1]);
		assert_int_equal(dpf_rss_hash_pkt(r, &pi),
				 reference_hash(tuple, len, dpf_rss_symmetric_key));
	}
	free(r);
}

/* The classic Microsoft RSS verification vector (default 40-byte key). */
static void
test_rss_hash_matches_microsoft_verification_vector(void **state)
{
	static const uint8_t ms_key[DPF_RSS_KEY_LEN] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
		0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
		0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
		0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	/* src 66.9.149.187:2794 dst 161.142.100.80:1766 */
	static const uint8_t tuple[12] = {66, 9, 149, 187, 161, 142, 100, 80,
					  0x0a, 0xea, 0x06, 0xe6};
	struct dpf_rss *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(r);
	dpf_rss_init(r, ms_key);
	assert_int_equal(dpf_rss_hash(r, tuple, 8), 0x323e8fc2);
	assert_int_equal(dpf_rss_hash(r, tuple, 12), 0x51ccc178);
	free(r);
}

static void
fill_v4(struct dpf_pkt_info *pi, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp, uint8_t proto)
{
	rte_be32_t bs = rte_cpu_to_be_32(s), bd = rte_cpu_to_be_32(d);

	memset(pi, 0, sizeof(*pi));
	pi->family = 4;
	pi->proto = proto;
	memcpy(pi->src_addr, &bs, 4);
	memcpy(pi->dst_addr, &bd, 4);
	pi->l4.src_port = sp;
	pi->l4.dst_port = dp;
}

static void
test_rss_symmetric_key_gives_same_hash_both_directions(void **state)
{
	struct dpf_pkt_info a, b;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		uint32_t s = (uint32_t)rand(), d = (uint32_t)rand();
		uint16_t sp = (uint16_t)rand(), dp = (uint16_t)rand();

		fill_v4(&a, s, d, sp, dp, 6);
		fill_v4(&b, d, s, dp, sp, 6);
		assert_int_equal(dpf_rss_hash_pkt(&rss, &a), dpf_rss_hash_pkt(&rss, &b));
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.family = b.family = 6;
	a.proto = b.proto = 17;
	for (i = 0; i < 16; i++) {
		a.src_addr[i] = b.dst_addr[i] = (uint8_t)(i * 7);
		a.dst_addr[i] = b.src_addr[i] = (uint8_t)(i * 13 + 1);
	}
	a.l4.src_port = b.l4.dst_port = 5353;
	a.l4.dst_port = b.l4.src_port = 53;
	assert_int_equal(dpf_rss_hash_pkt(&rss, &a), dpf_rss_hash_pkt(&rss, &b));
}

static void
test_rss_fragments_hash_on_addresses_only(void **state)
{
	struct dpf_pkt_info first, later;

	(void)state;
	fill_v4(&first, 0x0a000001, 0x0a000002, 4000, 53, 17);
	first.frag = DPF_PKT_FRAG_FIRST;
	fill_v4(&later, 0x0a000001, 0x0a000002, 0, 0, 17);
	later.frag = DPF_PKT_FRAG_LATER;
	assert_int_equal(dpf_rss_hash_pkt(&rss, &first), dpf_rss_hash_pkt(&rss, &later));
	/* An ICMP packet between the same hosts is hashed on addresses too. */
	fill_v4(&later, 0x0a000001, 0x0a000002, 0, 0, 1);
	assert_int_equal(dpf_rss_hash_pkt(&rss, &first), dpf_rss_hash_pkt(&rss, &later));
}

static void
test_rss_non_ip_hashes_to_zero(void **state)
{
	struct dpf_pkt_info pi;

	(void)state;
	memset(&pi, 0, sizeof(pi));
	assert_int_equal(dpf_rss_hash_pkt(&rss, &pi), 0);
}

static void
test_rss_queue_spreads_round_robin(void **state)
{
	uint16_t q;
	uint32_t h;
	unsigned int seen[4] = {0};

	(void)state;
	for (h = 0; h < DPF_RSS_RETA_SIZE; h++) {
		q = dpf_rss_queue(h, 4);
		assert_true(q < 4);
		seen[q]++;
	}
	for (q = 0; q < 4; q++)
		assert_int_equal(seen[q], DPF_RSS_RETA_SIZE / 4);
	assert_int_equal(dpf_rss_queue(0xffffffff, 1), 0);
}

/*
 * Outer IPv4 192.0.2.<a> -> 192.0.2.<b>, UDP <usport> -> 4789, VXLAN VNI 5,
 * inner Ethernet, IPv4 10.0.0.<x> -> 10.0.0.<y>, TCP <sp> -> <dp>. 104 bytes.
 */
static uint32_t
vxlan_frame(uint8_t *f, uint8_t a, uint8_t b, uint16_t usport, uint8_t x, uint8_t y, uint16_t sp,
	    uint16_t dp)
{
	static const uint8_t ip_hdr[12] = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 0, 0, 0};
	uint8_t *o = f + 14, *u = o + 20, *vx = u + 8, *ie = vx + 8, *ii = ie + 14, *t = ii + 20;

	memset(f, 0, 104);
	f[12] = 0x08;
	memcpy(o, ip_hdr, 12);
	o[3] = 90;
	o[9] = 17;
	o[12] = 192, o[14] = 2, o[15] = a;
	o[16] = 192, o[18] = 2, o[19] = b;
	u[0] = usport >> 8, u[1] = usport & 0xff, u[2] = 4789 >> 8, u[3] = 4789 & 0xff;
	u[5] = 70;
	vx[0] = 0x08, vx[6] = 5;
	ie[12] = 0x08;
	memcpy(ii, ip_hdr, 12);
	ii[3] = 40;
	ii[9] = 6;
	ii[12] = 10, ii[15] = x;
	ii[16] = 10, ii[19] = y;
	t[0] = sp >> 8, t[1] = sp & 0xff, t[2] = dp >> 8, t[3] = dp & 0xff;
	t[12] = 5 << 4;
	return 104;
}

/* Inner RSS: both directions of an inner connection meet, whatever their outer source ports. */
static void
test_rss_frame_hashes_the_inner_packet_of_opened_tunnels(void **state)
{
	const struct dpf_pkt_decap_cfg on = {
		.types = DPF_PKT_TUN_BIT(DPF_TUN_VXLAN), .n_vxlan_ports = 1, .vxlan_ports = {4789}};
	const struct dpf_pkt_decap_cfg off = {0};
	struct dpf_pkt_info pi;
	uint8_t fwd[104], rev[104];
	uint32_t n, h_in, h_fwd_off, h_rev_off;

	(void)state;
	dpf_rss_init(&rss, dpf_rss_symmetric_key);
	n = vxlan_frame(fwd, 1, 2, 50001, 7, 9, 40000, 443);
	vxlan_frame(rev, 2, 1, 61234, 9, 7, 443, 40000);
	h_in = dpf_rss_hash_frame(&rss, fwd, n, &on);
	assert_int_equal(dpf_rss_hash_frame(&rss, rev, n, &on), h_in);
	/* It is the inner packet's own hash. */
	assert_int_equal(dpf_pkt_parse(fwd + 50, n - 50, &pi), DPF_PKT_OK);
	assert_int_equal(h_in, dpf_rss_hash_pkt(&rss, &pi));
	/* Without --decap the NIC hashes the outer headers: the directions part. */
	h_fwd_off = dpf_rss_hash_frame(&rss, fwd, n, &off);
	h_rev_off = dpf_rss_hash_frame(&rss, rev, n, &off);
	assert_int_not_equal(h_fwd_off, h_rev_off);
	assert_int_equal(dpf_pkt_parse(fwd, n, &pi), DPF_PKT_OK);
	assert_int_equal(h_fwd_off, dpf_rss_hash_pkt(&rss, &pi));
	/* A tunnel that does not open hashes as its outer packet. */
	fwd[14 + 20 + 8] = 0;
	assert_int_equal(dpf_rss_hash_frame(&rss, fwd, n, &on), h_fwd_off);
	assert_int_equal(dpf_rss_hash_frame(&rss, fwd, 10, &on), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_hash_matches_rte_softrss_on_random_tuples),
		cmocka_unit_test(test_rss_hash_matches_microsoft_verification_vector),
		cmocka_unit_test(test_rss_folded_symmetric_key_matches_rte_softrss),
		cmocka_unit_test(test_rss_symmetric_key_gives_same_hash_both_directions),
		cmocka_unit_test(test_rss_fragments_hash_on_addresses_only),
		cmocka_unit_test(test_rss_non_ip_hashes_to_zero),
		cmocka_unit_test(test_rss_queue_spreads_round_robin),
		cmocka_unit_test(test_rss_frame_hashes_the_inner_packet_of_opened_tunnels),
	};

	dpf_rss_init(&rss, dpf_rss_symmetric_key);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
