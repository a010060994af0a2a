/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the packet parser (lib/pkt) on any bytes, then what the RX
 * path and the replay source do with its result (flow key, software RSS).
 * Aborts when a result breaks the parser's documented contract.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "dpf_flow.h"
#include "dpf_pkt.h"
#include "dpf_rss.h"
#include "fuzz_target.h"

static struct dpf_rss rss;
static int rss_ready;

static uint32_t
l4_min(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return 8;
	case IPPROTO_SCTP:
		return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 4;
	default:
		return 0;
	}
}

/*
 * What forward mode does with an ICMP error (RFC 5508): read the quoted
 * packet, then translate outer and quoted headers in an exact-size copy, so
 * that a write past the frame is a heap overflow the sanitizer reports.
 */
static void
icmp_error(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi)
{
	static const uint8_t a[16] = {192, 0, 2, 1, 0x20, 0x01, 0x0d, 0xb8, 9, 9, 9, 9, 9, 9, 9, 9};
	static const uint8_t b[16] = {10, 9, 8, 7, 0xfd, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	struct dpf_pkt_inner in;
	uint8_t *copy;

	if (dpf_pkt_icmp_error_parse(data, caplen, pi, &in) != 0)
		return;
	require(in.family == pi->family);
	require((uint32_t)in.l3_offset + (pi->family == 4 ? 20u : 40u) <= caplen);
	require(in.l4_offset == 0 || (uint32_t)in.l4_offset + in.l4_len <= caplen);
	require(!in.has_ports || in.l4_len >= 4);
	require(!in.has_icmp_id || in.l4_len >= 8);
	copy = malloc(caplen);
	require(copy != NULL);
	memcpy(copy, data, caplen);
	require(dpf_pkt_icmp_error_rewrite(copy, caplen, pi, &in, a, b, b, a, 4242, 53) == 0);
	free(copy);
}

/* Every tunnel type, two VXLAN ports. */
static const struct dpf_pkt_decap_cfg decap_all = {
	.types = DPF_PKT_TUN_BIT(DPF_TUN_VXLAN) | DPF_PKT_TUN_BIT(DPF_TUN_GENEVE) |
		 DPF_PKT_TUN_BIT(DPF_TUN_GRE) | DPF_PKT_TUN_BIT(DPF_TUN_IPIP),
	.n_vxlan_ports = 2,
	.vxlan_ports = {4789, 8472}};

/*
 * dpf_pkt_parse_open() (the RX path's one call) gives what dpf_pkt_parse(),
 * dpf_pkt_tunnel_of() and dpf_pkt_decap() gave: result r, tunnel t, the
 * same bytes of pi and, for a tunnel opened, of tun.
 */
static void
same_in_one_call(const uint8_t *data, uint32_t caplen, enum dpf_pkt_result r, unsigned int t,
		 const struct dpf_pkt_info *pi, const struct dpf_pkt_tunnel *tun)
{
	struct dpf_pkt_info pi_one;
	struct dpf_pkt_tunnel tun_one;
	unsigned int t_one;

	memset(&pi_one, 0x5a, sizeof(pi_one));
	memset(&tun_one, 0x5a, sizeof(tun_one));
	require(dpf_pkt_parse_open(data, caplen, &decap_all, &pi_one, &tun_one, &t_one) == r);
	require(t_one == t);
	require(memcmp(&pi_one, pi, sizeof(pi_one)) == 0);
	require(t == DPF_TUN_NONE || memcmp(&tun_one, tun, sizeof(tun_one)) == 0);
}

/* Every tunnel opened: the inner packet keeps the outer parser's promises, inside the outer one. */
static void
tunnel(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *outer)
{
	unsigned int t = dpf_pkt_tunnel_of(&decap_all, outer);
	uint32_t outer_end = (uint32_t)outer->l3_offset + outer->l3_len;
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi = *outer;
	struct dpf_flow_key key;
	enum dpf_pkt_result r;

	(void)dpf_rss_hash_frame(&rss, data, caplen, &decap_all);
	if (t == DPF_TUN_NONE) {
		same_in_one_call(data, caplen, DPF_PKT_OK, t, outer, NULL);
		return;
	}
	require(outer->frag == DPF_PKT_FRAG_NONE);
	r = dpf_pkt_decap(data, caplen, &pi, t, &tun);
	require((unsigned int)r < DPF_PKT_RESULT_MAX);
	require(tun.outer_family == outer->family);
	same_in_one_call(data, caplen, r, t, &pi, &tun);
	if (r != DPF_PKT_OK)
		return;
	if (pi.tun_type == DPF_TUN_NONE) {
		/* Not opened: still the outer packet. */
		require(memcmp(&pi, outer, sizeof(pi)) == 0);
		return;
	}
	require(pi.tun_type == t);
	require(pi.family == 4 || pi.family == 6);
	require(pi.l3_offset >= outer->l4_offset);
	require((uint32_t)pi.l3_offset + (pi.family == 4 ? 20u : 40u) <= caplen);
	require((uint32_t)pi.l3_offset + (pi.family == 4 ? 20u : 40u) <= outer_end);
	require(!tun.has_eth || ((uint32_t)tun.eth_offset + 14 <= pi.l3_offset &&
				 tun.eth_offset >= outer->l4_offset));
	require(pi.tun_has_id || pi.tun_id == 0);
	if (t == DPF_TUN_IPIP)
		require(!pi.tun_has_id);
	if (pi.has_l4)
		require((uint32_t)pi.l4_offset + 4 <= caplen);
	dpf_flow_key_from_pkt(&key, &pi, 3, DPF_ACTION_ACCEPT);
	require(key.tun_type == t && key.tun_id == pi.tun_id && key.seg == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpf_pkt_info pi;
	struct dpf_flow_key key;
	enum dpf_pkt_result r;
	uint32_t caplen = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;

	if (!rss_ready) {
		dpf_rss_init(&rss, dpf_rss_symmetric_key);
		rss_ready = 1;
	}
	r = dpf_pkt_parse(data, caplen, &pi);
	require((unsigned int)r < DPF_PKT_RESULT_MAX);
	require(strcmp(dpf_pkt_result_name(r), "unknown") != 0);
	require(pi.n_vlans <= DPF_PKT_MAX_VLANS);
	if (r != DPF_PKT_OK) {
		same_in_one_call(data, caplen, r, DPF_TUN_NONE, &pi, NULL);
		return 0;
	}

	require(pi.family == 4 || pi.family == 6);
	require(pi.l3_offset == 14 + 4u * pi.n_vlans);
	require((uint32_t)pi.l3_offset + (pi.family == 4 ? 20u : 40u) <= caplen);
	require(pi.l3_len >= (pi.family == 4 ? 20u : 40u));
	require(pi.frag <= DPF_PKT_FRAG_LATER);
	if (pi.frag == DPF_PKT_FRAG_NONE)
		require(pi.frag_id == 0);
	if (pi.l3_len_from_frame)
		require((uint32_t)pi.l3_offset + pi.l3_len == caplen);
	if (pi.has_l4) {
		uint32_t need = l4_min(pi.proto);

		require(pi.frag != DPF_PKT_FRAG_LATER);
		/* The L4 header was inside the datagram (unless its length is the
		 * capture's), and inside the capture up to its ports at least (a snap
		 * length may cut the rest: l4_cut). */
		require((uint32_t)pi.l4_offset + (need < 4 ? need : 4) <= caplen);
		require(pi.l4_cut == ((uint32_t)pi.l4_offset + need > caplen));
		if (pi.proto == IPPROTO_TCP && (uint32_t)pi.l4_offset + 14 > caplen)
			require(pi.tcp_flags == 0);
		if (!pi.l3_len_from_frame)
			require((uint32_t)pi.l4_offset + need <=
				(uint32_t)pi.l3_offset + pi.l3_len);
	} else {
		require(pi.l4_cut == 0);
		require(pi.l4.src_port == 0 && pi.l4.dst_port == 0 && pi.tcp_flags == 0);
	}
	if (pi.proto != IPPROTO_TCP)
		require(pi.tcp_flags == 0);
	if (pi.family == 4) {
		unsigned int i;

		for (i = 4; i < 16; i++)
			require(pi.src_addr[i] == 0 && pi.dst_addr[i] == 0);
	}
	dpf_flow_key_from_pkt(&key, &pi, 3, DPF_ACTION_ACCEPT);
	require(key.family == pi.family && key.proto == pi.proto && key.iface == 3);
	require(key.seg == 0);
	(void)dpf_rss_hash_pkt(&rss, &pi);
	(void)dpf_pkt_tcp_flags_aws(pi.tcp_flags);
	icmp_error(data, caplen, &pi);
	tunnel(data, caplen, &pi);
	return 0;
}
