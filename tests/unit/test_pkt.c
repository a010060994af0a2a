/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpf_pkt.h"

/*
 * Frames are built field by field with the helpers below, then parsed from a
 * heap copy of exactly the captured length, so that a read past caplen is a
 * heap overflow that AddressSanitizer reports.
 */

#define FRAME_MAX 1600 /* a full 1518-byte frame and more fit */

#define ETYPE_IPV4 0x0800
#define ETYPE_IPV6 0x86dd
#define ETYPE_ARP 0x0806
#define ETYPE_LLDP 0x88cc
#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8
#define TPID_9100 0x9100

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_GRE 47
#define PROTO_ESP 50
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_NONE 59
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132
#define PROTO_UDPLITE 136

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define IPV4_MF 0x2000

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
	uint32_t l3; /* offset of the IP header, for the *_finish() length fix-ups */
};

static const uint8_t v4_src[16] = {10, 0, 0, 1};
static const uint8_t v4_dst[16] = {192, 168, 1, 2};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xbe, [15] = 0xef};

static void
put8(struct frame *f, uint8_t v)
{
	assert_true(f->len < FRAME_MAX);
	f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void
put_fill(struct frame *f, uint32_t n, uint8_t v)
{
	while (n-- > 0)
		put8(f, v);
}

static void
set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = v >> 8;
	f->b[off + 1] = v & 0xff;
}

/* MAC addresses only: the caller adds tags and the ethertype. */
static void
eth_macs(struct frame *f)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
	uint32_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < sizeof(macs); i++)
		put8(f, macs[i]);
}

static void
eth(struct frame *f, uint16_t ethertype)
{
	eth_macs(f);
	put16(f, ethertype);
}

/* PCP 5 is set so that the test sees the parser mask the VLAN id out of the TCI. */
static void
vlan_tag(struct frame *f, uint16_t tpid, uint16_t vid)
{
	put16(f, tpid);
	put16(f, (5 << 13) | vid);
}

/* IPv4 header of ihl words, options filled with NOP; total length set by ipv4_finish(). */
static void
ipv4(struct frame *f, uint8_t proto, uint8_t ihl)
{
	uint32_t i;

	f->l3 = f->len;
	put8(f, 0x40 | ihl);
	put8(f, 0);
	put16(f, 0);      /* total length */
	put16(f, 0xbeef); /* identification */
	put16(f, 0x4000); /* DF: not a fragment */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	for (i = 0; i < 4; i++)
		put8(f, v4_src[i]);
	for (i = 0; i < 4; i++)
		put8(f, v4_dst[i]);
	put_fill(f, (ihl > 5 ? ihl - 5u : 0u) * 4, 1);
}

static void
ipv4_set_frag(struct frame *f, uint16_t frag_field)
{
	set16(f, f->l3 + 6, frag_field);
}

static void
ipv4_finish(struct frame *f)
{
	set16(f, f->l3 + 2, f->len - f->l3);
}

static void
ipv6(struct frame *f, uint8_t next)
{
	uint32_t i;

	f->l3 = f->len;
	put32(f, 0x60012345); /* version 6, flow label */
	put16(f, 0);          /* payload length */
	put8(f, next);
	put8(f, 64);
	for (i = 0; i < 16; i++)
		put8(f, v6_src[i]);
	for (i = 0; i < 16; i++)
		put8(f, v6_dst[i]);
}

static void
ipv6_finish(struct frame *f)
{
	set16(f, f->l3 + 4, f->len - f->l3 - 40);
}

/* Hop-by-hop, routing or destination options: (len8 + 1) * 8 bytes. */
static void
ipv6_ext(struct frame *f, uint8_t next, uint8_t len8)
{
	put8(f, next);
	put8(f, len8);
	put_fill(f, (len8 + 1u) * 8 - 2, 0);
}

/* Authentication header: (len4 + 2) * 4 bytes. */
static void
ipv6_ah(struct frame *f, uint8_t next, uint8_t len4)
{
	put8(f, next);
	put8(f, len4);
	put_fill(f, (len4 + 2u) * 4 - 2, 0xaa);
}

static void
ipv6_frag(struct frame *f, uint8_t next, uint16_t offset8, int more, uint32_t id)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (offset8 << 3) | (more ? 1 : 0));
	put32(f, id);
}

/* TCP with data offset doff; doff above 5 adds NOP options, below 5 still writes 20 bytes. */
static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, uint8_t doff)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, doff << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	put_fill(f, (doff > 5 ? doff - 5u : 0u) * 4, 1);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8);
	put16(f, 0);
}

static void
sctp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x01020304);
	put32(f, 0);
}

static void
icmp_echo(struct frame *f, uint8_t type)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put32(f, 0x00010001);
}

static void
payload(struct frame *f, uint32_t n)
{
	put_fill(f, n, 0x5a);
}

/*
 * Parse the first caplen bytes of f from an exact-size heap copy. pi is
 * poisoned first so that a field the parser forgets to zero shows up.
 */
static enum dpf_pkt_result
parse_n(const struct frame *f, uint32_t caplen, struct dpf_pkt_info *pi)
{
	enum dpf_pkt_result r;
	uint8_t *copy;

	assert_true(caplen <= f->len);
	copy = malloc(caplen > 0 ? caplen : 1);
	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	memset(pi, 0xa5, sizeof(*pi));
	r = dpf_pkt_parse(copy, caplen, pi);
	free(copy);
	return r;
}

static enum dpf_pkt_result
parse(const struct frame *f, struct dpf_pkt_info *pi)
{
	return parse_n(f, f->len, pi);
}

static void
assert_v4_addrs(const struct dpf_pkt_info *pi)
{
	assert_int_equal(pi->family, 4);
	assert_memory_equal(pi->src_addr, v4_src, 16);
	assert_memory_equal(pi->dst_addr, v4_dst, 16);
}

static void
assert_v6_addrs(const struct dpf_pkt_info *pi)
{
	assert_int_equal(pi->family, 6);
	assert_memory_equal(pi->src_addr, v6_src, 16);
	assert_memory_equal(pi->dst_addr, v6_dst, 16);
}

/* Ethernet + IPv4 + TCP 1234 -> 80 with `data` payload bytes. */
static void
build_v4_tcp(struct frame *f, uint8_t flags, uint32_t data)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_TCP, 5);
	tcp(f, 1234, 80, flags, 5);
	payload(f, data);
	ipv4_finish(f);
}

/* ---- valid IPv4 ---------------------------------------------------------------------------- */

static void
test_parse_ipv4_tcp_sets_ports_and_flags(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	build_v4_tcp(&f, TCP_SYN | TCP_ACK, 10);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v4_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_TCP);
	assert_int_equal(pi.src_port, 1234);
	assert_int_equal(pi.dst_port, 80);
	assert_int_equal(pi.tcp_flags, TCP_SYN | TCP_ACK);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l3_offset, 14);
	assert_int_equal(pi.l4_offset, 34);
	assert_int_equal(pi.l3_len, 50);
	assert_int_equal(pi.n_vlans, 0);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_NONE);
	assert_int_equal(pi.frag_id, 0);
}

static void
test_parse_ipv4_tcp_options_not_captured_is_ok(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 5);
	tcp(&f, 1234, 443, TCP_SYN, 15);
	ipv4_finish(&f);
	/* Capture only the 20 fixed bytes of a 60-byte TCP header. */
	assert_int_equal(parse_n(&f, 14 + 20 + 20, &pi), DPF_PKT_OK);
	assert_int_equal(pi.dst_port, 443);
	assert_int_equal(pi.l3_len, 80);
}

static void
test_parse_ipv4_udp_sets_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 53, 40000);
	payload(&f, 30);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v4_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_UDP);
	assert_int_equal(pi.src_port, 53);
	assert_int_equal(pi.dst_port, 40000);
	assert_int_equal(pi.tcp_flags, 0);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l3_len, 58);
}

static void
test_parse_ipv4_udplite_sets_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDPLITE, 5);
	udp(&f, 5000, 5001);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, PROTO_UDPLITE);
	assert_int_equal(pi.src_port, 5000);
	assert_int_equal(pi.dst_port, 5001);
	assert_int_equal(pi.has_l4, 1);
}

static void
test_parse_ipv4_sctp_sets_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_SCTP, 5);
	sctp(&f, 2905, 2906);
	payload(&f, 16);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, PROTO_SCTP);
	assert_int_equal(pi.src_port, 2905);
	assert_int_equal(pi.dst_port, 2906);
	assert_int_equal(pi.has_l4, 1);
}

static void
test_parse_ipv4_icmp_has_l4_and_zero_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_ICMP, 5);
	icmp_echo(&f, 8);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v4_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_ICMP);
	assert_int_equal(pi.src_port, 0);
	assert_int_equal(pi.dst_port, 0);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l4_offset, 34);
}

static void
test_parse_ipv4_options_finds_l4_after_options(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 15); /* 40 bytes of options, the most IHL allows */
	tcp(&f, 22, 50000, TCP_PSH | TCP_ACK, 5);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v4_addrs(&pi);
	assert_int_equal(pi.l4_offset, 14 + 60);
	assert_int_equal(pi.src_port, 22);
	assert_int_equal(pi.dst_port, 50000);
	assert_int_equal(pi.tcp_flags, TCP_PSH | TCP_ACK);
	assert_int_equal(pi.l3_len, 80);
}

static void
test_parse_ipv4_gre_ok_without_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_GRE, 5);
	put16(&f, 0);
	put16(&f, ETYPE_IPV4);
	payload(&f, 40);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v4_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_GRE);
	assert_int_equal(pi.src_port, 0);
	assert_int_equal(pi.dst_port, 0);
	assert_int_equal(pi.has_l4, 0);
	assert_int_equal(pi.l3_len, 64);
}

static void
test_parse_ipv4_esp_header_only_is_ok(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* A protocol without ports needs nothing after the IP header. */
	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_ESP, 5);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, PROTO_ESP);
	assert_int_equal(pi.has_l4, 0);
	assert_int_equal(pi.l3_len, 20);
}

static void
test_parse_ipv4_first_fragment_reads_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	ipv4_set_frag(&f, IPV4_MF);
	udp(&f, 4789, 4789);
	payload(&f, 1472);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_FIRST);
	assert_int_equal(pi.frag_id, 0xbeef);
	assert_int_equal(pi.src_port, 4789);
	assert_int_equal(pi.dst_port, 4789);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l3_len, 20 + 8 + 1472);
}

static void
test_parse_ipv4_later_fragment_has_no_l4(void **state)
{
	static const uint16_t frag_fields[] = {
		IPV4_MF | 185, /* middle fragment */
		185,           /* last fragment: offset only */
		1,             /* smallest offset */
	};
	struct dpf_pkt_info pi;
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(frag_fields) / sizeof(frag_fields[0]); i++) {
		eth(&f, ETYPE_IPV4);
		ipv4(&f, PROTO_TCP, 5);
		ipv4_set_frag(&f, frag_fields[i]);
		/* Looks like a TCP header, but it is the middle of the payload. */
		tcp(&f, 1111, 2222, TCP_SYN, 5);
		payload(&f, 100);
		ipv4_finish(&f);
		assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
		assert_v4_addrs(&pi);
		assert_int_equal(pi.frag, DPF_PKT_FRAG_LATER);
		assert_int_equal(pi.frag_id, 0xbeef);
		assert_int_equal(pi.proto, PROTO_TCP);
		assert_int_equal(pi.src_port, 0);
		assert_int_equal(pi.dst_port, 0);
		assert_int_equal(pi.tcp_flags, 0);
		assert_int_equal(pi.has_l4, 0);
		assert_int_equal(pi.l3_len, 140);
	}
}

static void
test_parse_ipv4_later_fragment_shorter_than_l4_header_is_ok(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* The last fragment may carry 8 bytes: no TCP header to check. */
	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 5);
	ipv4_set_frag(&f, 3);
	payload(&f, 8);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_LATER);
	assert_int_equal(pi.has_l4, 0);
}

static void
test_parse_ipv4_df_only_is_not_fragment(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	build_v4_tcp(&f, TCP_ACK, 0); /* ipv4() sets DF */
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_NONE);
	assert_int_equal(pi.frag_id, 0);
}

/* ---- VLAN, non-IP --------------------------------------------------------------------------- */

static void
test_parse_one_vlan_records_id(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth_macs(&f);
	vlan_tag(&f, TPID_8021Q, 100);
	put16(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 1, 2);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.n_vlans, 1);
	assert_int_equal(pi.vlan[0], 100);
	assert_int_equal(pi.vlan[1], 0);
	assert_int_equal(pi.l3_offset, 18);
	assert_int_equal(pi.l4_offset, 38);
	assert_int_equal(pi.src_port, 1);
}

static void
test_parse_qinq_88a8_8100_records_outer_first(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth_macs(&f);
	vlan_tag(&f, TPID_8021AD, 4094);
	vlan_tag(&f, TPID_8021Q, 7);
	put16(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_UDP);
	udp(&f, 546, 547);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.n_vlans, 2);
	assert_int_equal(pi.vlan[0], 4094);
	assert_int_equal(pi.vlan[1], 7);
	assert_int_equal(pi.l3_offset, 22);
	assert_v6_addrs(&pi);
	assert_int_equal(pi.dst_port, 547);
}

static void
test_parse_9100_tag_is_a_vlan(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth_macs(&f);
	vlan_tag(&f, TPID_9100, 10);
	vlan_tag(&f, TPID_8021Q, 20);
	put16(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 5);
	tcp(&f, 1, 2, TCP_FIN, 5);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.n_vlans, 2);
	assert_int_equal(pi.vlan[0], 10);
	assert_int_equal(pi.vlan[1], 20);
}

static void
test_parse_four_vlans_ok(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;
	uint16_t i;

	eth_macs(&f);
	vlan_tag(&f, TPID_8021AD, 1);
	for (i = 2; i <= DPF_PKT_MAX_VLANS; i++)
		vlan_tag(&f, TPID_8021Q, i);
	put16(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 10, 20);
	ipv4_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.n_vlans, DPF_PKT_MAX_VLANS);
	for (i = 0; i < DPF_PKT_MAX_VLANS; i++)
		assert_int_equal(pi.vlan[i], i + 1);
	assert_int_equal(pi.l3_offset, 14 + 4 * DPF_PKT_MAX_VLANS);
	assert_int_equal(pi.dst_port, 20);
}

static void
test_parse_arp_is_not_ip(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_ARP);
	payload(&f, 28);
	assert_int_equal(parse(&f, &pi), DPF_PKT_NOT_IP);
	eth(&f, ETYPE_LLDP);
	payload(&f, 46);
	assert_int_equal(parse(&f, &pi), DPF_PKT_NOT_IP);
	/* Nothing after the ethertype is needed to tell. */
	eth(&f, ETYPE_ARP);
	assert_int_equal(parse(&f, &pi), DPF_PKT_NOT_IP);
}

static void
test_parse_vlan_tagged_arp_is_not_ip_with_vlan(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth_macs(&f);
	vlan_tag(&f, TPID_8021Q, 300);
	put16(&f, ETYPE_ARP);
	payload(&f, 28);
	assert_int_equal(parse(&f, &pi), DPF_PKT_NOT_IP);
	assert_int_equal(pi.n_vlans, 1);
	assert_int_equal(pi.vlan[0], 300);
}

static void
test_parse_zeroes_info_first(void **state)
{
	static const struct dpf_pkt_info zero;
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_ARP);
	payload(&f, 28);
	assert_int_equal(parse(&f, &pi), DPF_PKT_NOT_IP);
	assert_memory_equal(&pi, &zero, sizeof(pi));
}

/* ---- valid IPv6 ----------------------------------------------------------------------------- */

static void
test_parse_ipv6_tcp_sets_ports_and_addresses(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_TCP);
	tcp(&f, 40000, 443, TCP_RST, 8);
	payload(&f, 5);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v6_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_TCP);
	assert_int_equal(pi.src_port, 40000);
	assert_int_equal(pi.dst_port, 443);
	assert_int_equal(pi.tcp_flags, TCP_RST);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l3_offset, 14);
	assert_int_equal(pi.l4_offset, 54);
	assert_int_equal(pi.l3_len, 40 + 32 + 5);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_NONE);
}

static void
test_parse_ipv6_udp_sets_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_UDP);
	udp(&f, 123, 123);
	payload(&f, 48);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v6_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_UDP);
	assert_int_equal(pi.src_port, 123);
	assert_int_equal(pi.dst_port, 123);
	assert_int_equal(pi.l3_len, 96);
}

static void
test_parse_ipv6_icmpv6_has_l4_and_zero_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_ICMPV6);
	icmp_echo(&f, 128);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, PROTO_ICMPV6);
	assert_int_equal(pi.src_port, 0);
	assert_int_equal(pi.dst_port, 0);
	assert_int_equal(pi.has_l4, 1);
}

static void
test_parse_ipv6_no_next_header_is_ok_without_l4(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_NONE);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, PROTO_NONE);
	assert_int_equal(pi.has_l4, 0);
	assert_int_equal(pi.l3_len, 40);
}

/* Hop-by-hop (8) + destination options (16) + routing (24) + TCP: 102 + 14 bytes. */
static void
build_v6_ext_chain_tcp(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_HOPOPTS);
	ipv6_ext(f, PROTO_DSTOPTS, 0);
	ipv6_ext(f, PROTO_ROUTING, 1);
	ipv6_ext(f, PROTO_TCP, 2);
	tcp(f, 5555, 6666, TCP_SYN, 5);
	payload(f, 10);
	ipv6_finish(f);
}

static void
test_parse_ipv6_ext_chain_hbh_dest_routing_finds_tcp(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	build_v6_ext_chain_tcp(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_v6_addrs(&pi);
	assert_int_equal(pi.proto, PROTO_TCP);
	assert_int_equal(pi.l4_offset, 14 + 40 + 8 + 16 + 24);
	assert_int_equal(pi.src_port, 5555);
	assert_int_equal(pi.dst_port, 6666);
	assert_int_equal(pi.tcp_flags, TCP_SYN);
	assert_int_equal(pi.l3_len, 40 + 48 + 20 + 10);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_NONE);
}

static void
test_parse_ipv6_ah_uses_its_own_length_rule(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* AH payload length 4: (4 + 2) * 4 = 24 bytes; the 8-byte rule would say 40. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_AH);
	ipv6_ah(&f, PROTO_UDP, 4);
	udp(&f, 500, 4500);
	payload(&f, 32);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, PROTO_UDP);
	assert_int_equal(pi.l4_offset, 14 + 40 + 24);
	assert_int_equal(pi.src_port, 500);
	assert_int_equal(pi.dst_port, 4500);
}

static void
test_parse_ipv6_max_ext_headers_ok(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;
	int i;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_DSTOPTS);
	for (i = 1; i < DPF_PKT_MAX_IPV6_EXT; i++)
		ipv6_ext(&f, PROTO_DSTOPTS, 0);
	ipv6_ext(&f, PROTO_UDP, 0);
	udp(&f, 7, 9);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l4_offset, 14 + 40 + 8 * DPF_PKT_MAX_IPV6_EXT);
	assert_int_equal(pi.dst_port, 9);
}

static void
test_parse_ipv6_first_fragment_reads_ports(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_HOPOPTS);
	ipv6_ext(&f, PROTO_FRAGMENT, 0);
	ipv6_frag(&f, PROTO_UDP, 0, 1, 0xdeadbeef);
	udp(&f, 4000, 5000);
	payload(&f, 64);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_FIRST);
	assert_int_equal(pi.frag_id, 0xdeadbeef);
	assert_int_equal(pi.proto, PROTO_UDP);
	assert_int_equal(pi.src_port, 4000);
	assert_int_equal(pi.dst_port, 5000);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l4_offset, 14 + 40 + 8 + 8);
}

static void
test_parse_ipv6_later_fragment_has_no_l4(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;
	int more;

	for (more = 0; more <= 1; more++) {
		eth(&f, ETYPE_IPV6);
		ipv6(&f, PROTO_FRAGMENT);
		ipv6_frag(&f, PROTO_TCP, 181, more, 0x01020304);
		tcp(&f, 1, 2, TCP_SYN, 5); /* payload bytes, not a header */
		ipv6_finish(&f);
		assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
		assert_v6_addrs(&pi);
		assert_int_equal(pi.frag, DPF_PKT_FRAG_LATER);
		assert_int_equal(pi.frag_id, 0x01020304);
		assert_int_equal(pi.proto, PROTO_TCP);
		assert_int_equal(pi.src_port, 0);
		assert_int_equal(pi.dst_port, 0);
		assert_int_equal(pi.tcp_flags, 0);
		assert_int_equal(pi.has_l4, 0);
		assert_int_equal(pi.l3_len, 40 + 8 + 20);
	}
}

static void
test_parse_ipv6_atomic_fragment_is_not_fragment(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_FRAGMENT);
	ipv6_frag(&f, PROTO_TCP, 0, 0, 77);
	tcp(&f, 3, 4, TCP_ACK, 5);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_NONE);
	assert_int_equal(pi.frag_id, 0);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.dst_port, 4);
}

/* ---- snap length and padding ---------------------------------------------------------------- */

static void
test_parse_snaplen_cut_with_complete_headers_reports_full_l3_len(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	build_v4_tcp(&f, TCP_ACK, 900);
	/* tcpdump -s 96 */
	assert_int_equal(parse_n(&f, 96, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 940);
	assert_int_equal(pi.dst_port, 80);
	/* Cut right after the TCP header. */
	assert_int_equal(parse_n(&f, 54, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 940);

	build_v6_ext_chain_tcp(&f);
	assert_int_equal(parse_n(&f, 14 + 40 + 48 + 20, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 40 + 48 + 20 + 10);
	assert_int_equal(pi.dst_port, 6666);
}

static void
test_parse_ethernet_padding_is_ok_and_not_counted(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* 14 + 20 + 8 + 2 = 44 bytes, padded to the 60-byte minimum frame. */
	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 67, 68);
	payload(&f, 2);
	ipv4_finish(&f);
	put_fill(&f, 16, 0);
	assert_int_equal(f.len, 60);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 30);
	assert_int_equal(pi.dst_port, 68);

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_NONE);
	ipv6_finish(&f);
	put_fill(&f, 6, 0);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 40);
}

/* ---- malformed ------------------------------------------------------------------------------ */

/* Each builder fills f and returns how many of its bytes are captured. */
struct malformed_case {
	const char *what;
	uint32_t (*build)(struct frame *f);
	enum dpf_pkt_result want;
};

static uint32_t
mal_empty_frame(struct frame *f)
{
	memset(f, 0, sizeof(*f));
	return 0;
}

static uint32_t
mal_eth_13_bytes(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	return 13;
}

static uint32_t
mal_vlan_tci_cut(struct frame *f)
{
	eth_macs(f);
	vlan_tag(f, TPID_8021Q, 1);
	put16(f, ETYPE_IPV4);
	return 15;
}

static uint32_t
mal_vlan_inner_ethertype_cut(struct frame *f)
{
	eth_macs(f);
	vlan_tag(f, TPID_8021AD, 1);
	vlan_tag(f, TPID_8021Q, 2);
	put16(f, ETYPE_IPV4);
	return 21;
}

static uint32_t
mal_five_vlans(struct frame *f)
{
	int i;

	eth_macs(f);
	for (i = 0; i <= DPF_PKT_MAX_VLANS; i++)
		vlan_tag(f, TPID_8021Q, 10 + i);
	put16(f, ETYPE_IPV4);
	ipv4(f, PROTO_UDP, 5);
	udp(f, 1, 2);
	ipv4_finish(f);
	return f->len;
}

static uint32_t
mal_ipv4_fixed_header_cut(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 0);
	return 14 + 19;
}

static uint32_t
mal_ipv4_options_cut(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_UDP, 8);
	udp(f, 1, 2);
	ipv4_finish(f);
	return 14 + 28;
}

static uint32_t
mal_ipv4_version_6(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 0);
	f->b[14] = 0x65;
	return f->len;
}

static uint32_t
mal_ipv4_ihl_4(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 0);
	f->b[14] = 0x44;
	return f->len;
}

static uint32_t
mal_ipv4_ihl_0(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 0);
	f->b[14] = 0x40;
	return f->len;
}

static uint32_t
mal_ipv4_total_len_below_20(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 0);
	set16(f, 14 + 2, 19);
	return f->len;
}

static uint32_t
mal_ipv4_total_len_below_options(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_UDP, 6);
	udp(f, 1, 2);
	set16(f, 14 + 2, 20);
	return f->len;
}

static uint32_t
mal_ipv4_total_len_zero(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 0);
	set16(f, 14 + 2, 0);
	return f->len;
}

static uint32_t
mal_ipv6_header_cut(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_UDP);
	udp(f, 1, 2);
	ipv6_finish(f);
	return 14 + 39;
}

static uint32_t
mal_ipv6_version_4(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_UDP);
	udp(f, 1, 2);
	ipv6_finish(f);
	f->b[14] = 0x40;
	return f->len;
}

static uint32_t
mal_ipv6_ext_length_byte_cut(struct frame *f)
{
	build_v6_ext_chain_tcp(f);
	return 14 + 40 + 1;
}

static uint32_t
mal_ipv6_ext_body_cut(struct frame *f)
{
	build_v6_ext_chain_tcp(f);
	/* Inside the 16-byte destination options header. */
	return 14 + 40 + 8 + 12;
}

static uint32_t
mal_ipv6_fragment_header_cut(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_FRAGMENT);
	ipv6_frag(f, PROTO_UDP, 100, 1, 1);
	payload(f, 100);
	ipv6_finish(f);
	return 14 + 40 + 7;
}

static uint32_t
mal_ipv6_hbh_not_first(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_DSTOPTS);
	ipv6_ext(f, PROTO_HOPOPTS, 0);
	ipv6_ext(f, PROTO_UDP, 0);
	udp(f, 1, 2);
	ipv6_finish(f);
	return f->len;
}

static uint32_t
mal_ipv6_too_many_ext(struct frame *f)
{
	int i;

	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_DSTOPTS);
	for (i = 0; i < DPF_PKT_MAX_IPV6_EXT; i++)
		ipv6_ext(f, PROTO_DSTOPTS, 0);
	ipv6_ext(f, PROTO_UDP, 0);
	udp(f, 1, 2);
	ipv6_finish(f);
	return f->len;
}

static uint32_t
mal_ipv6_ext_past_payload_len(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_ROUTING);
	ipv6_ext(f, PROTO_UDP, 3); /* 32 bytes */
	udp(f, 1, 2);
	set16(f, 14 + 4, 24);
	return f->len;
}

static uint32_t
mal_ipv6_ext_with_zero_payload_len(struct frame *f)
{
	/* Payload length 0 (a jumbogram's) leaves no room for any extension header. */
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_HOPOPTS);
	ipv6_ext(f, PROTO_UDP, 0);
	udp(f, 1, 2);
	return f->len;
}

static uint32_t
mal_ipv4_tcp_cut(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 100);
	return 14 + 20 + 19;
}

static uint32_t
mal_ipv4_udp_cut(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_UDP, 5);
	udp(f, 1, 2);
	payload(f, 100);
	ipv4_finish(f);
	return 14 + 20 + 7;
}

static uint32_t
mal_ipv4_sctp_cut(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_SCTP, 5);
	sctp(f, 1, 2);
	payload(f, 100);
	ipv4_finish(f);
	return 14 + 20 + 11;
}

static uint32_t
mal_ipv4_icmp_cut(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_ICMP, 5);
	icmp_echo(f, 8);
	ipv4_finish(f);
	return 14 + 20 + 3;
}

static uint32_t
mal_ipv6_tcp_after_ext_cut(struct frame *f)
{
	build_v6_ext_chain_tcp(f);
	return 14 + 40 + 48 + 13;
}

static uint32_t
mal_ipv6_first_fragment_udp_cut(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_FRAGMENT);
	ipv6_frag(f, PROTO_UDP, 0, 1, 9);
	udp(f, 1, 2);
	payload(f, 100);
	ipv6_finish(f);
	return 14 + 40 + 8 + 5;
}

static uint32_t
mal_tcp_offset_4(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_TCP, 5);
	tcp(f, 1, 2, TCP_SYN, 4);
	ipv4_finish(f);
	return f->len;
}

static uint32_t
mal_ipv6_tcp_offset_0(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_TCP);
	tcp(f, 1, 2, TCP_SYN, 0);
	ipv6_finish(f);
	return f->len;
}

static uint32_t
mal_ipv4_tcp_past_total_len_in_padding(struct frame *f)
{
	/* Total length 24 says "4 bytes of TCP"; the rest of the 60-byte frame is padding. */
	build_v4_tcp(f, TCP_SYN, 6);
	set16(f, 14 + 2, 24);
	return f->len;
}

static uint32_t
mal_ipv4_udp_first_fragment_past_total_len(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_UDP, 5);
	ipv4_set_frag(f, IPV4_MF);
	payload(f, 4);
	ipv4_finish(f);
	put_fill(f, 22, 0);
	return f->len;
}

static uint32_t
mal_ipv6_udp_past_payload_len(struct frame *f)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_UDP);
	udp(f, 1, 2);
	set16(f, 14 + 4, 7);
	return f->len;
}

static uint32_t
mal_ipv4_snaplen_and_total_len_both_short(struct frame *f)
{
	/* Both the capture and the datagram are too short: the datagram's error wins. */
	build_v4_tcp(f, TCP_SYN, 0);
	set16(f, 14 + 2, 30);
	return 14 + 25;
}

static const struct malformed_case malformed_cases[] = {
	{"empty frame", mal_empty_frame, DPF_PKT_TRUNC_ETH},
	{"13-byte frame", mal_eth_13_bytes, DPF_PKT_TRUNC_ETH},
	{"vlan TCI cut", mal_vlan_tci_cut, DPF_PKT_TRUNC_VLAN},
	{"second vlan ethertype cut", mal_vlan_inner_ethertype_cut, DPF_PKT_TRUNC_VLAN},
	{"five vlan tags", mal_five_vlans, DPF_PKT_TOO_MANY_VLANS},
	{"ipv4 fixed header cut", mal_ipv4_fixed_header_cut, DPF_PKT_TRUNC_IPV4},
	{"ipv4 options cut", mal_ipv4_options_cut, DPF_PKT_TRUNC_IPV4},
	{"ipv4 ethertype, version 6", mal_ipv4_version_6, DPF_PKT_BAD_IPV4_VERSION},
	{"ipv4 ihl 4", mal_ipv4_ihl_4, DPF_PKT_BAD_IPV4_IHL},
	{"ipv4 ihl 0", mal_ipv4_ihl_0, DPF_PKT_BAD_IPV4_IHL},
	{"ipv4 total length 19", mal_ipv4_total_len_below_20, DPF_PKT_BAD_IPV4_TOTAL_LEN},
	{"ipv4 total length below options", mal_ipv4_total_len_below_options,
	 DPF_PKT_BAD_IPV4_TOTAL_LEN},
	{"ipv4 total length 0", mal_ipv4_total_len_zero, DPF_PKT_BAD_IPV4_TOTAL_LEN},
	{"ipv6 header cut", mal_ipv6_header_cut, DPF_PKT_TRUNC_IPV6},
	{"ipv6 ethertype, version 4", mal_ipv6_version_4, DPF_PKT_BAD_IPV6_VERSION},
	{"ipv6 ext length byte cut", mal_ipv6_ext_length_byte_cut, DPF_PKT_TRUNC_IPV6_EXT},
	{"ipv6 ext body cut", mal_ipv6_ext_body_cut, DPF_PKT_TRUNC_IPV6_EXT},
	{"ipv6 fragment header cut", mal_ipv6_fragment_header_cut, DPF_PKT_TRUNC_IPV6_EXT},
	{"ipv6 hop-by-hop not first", mal_ipv6_hbh_not_first, DPF_PKT_BAD_IPV6_EXT},
	{"ipv6 too many ext headers", mal_ipv6_too_many_ext, DPF_PKT_BAD_IPV6_EXT},
	{"ipv6 ext past payload length", mal_ipv6_ext_past_payload_len, DPF_PKT_BAD_IPV6_EXT},
	{"ipv6 ext with payload length 0", mal_ipv6_ext_with_zero_payload_len,
	 DPF_PKT_BAD_IPV6_EXT},
	{"ipv4 tcp cut", mal_ipv4_tcp_cut, DPF_PKT_TRUNC_L4},
	{"ipv4 udp cut", mal_ipv4_udp_cut, DPF_PKT_TRUNC_L4},
	{"ipv4 sctp cut", mal_ipv4_sctp_cut, DPF_PKT_TRUNC_L4},
	{"ipv4 icmp cut", mal_ipv4_icmp_cut, DPF_PKT_TRUNC_L4},
	{"ipv6 tcp after ext chain cut", mal_ipv6_tcp_after_ext_cut, DPF_PKT_TRUNC_L4},
	{"ipv6 first fragment udp cut", mal_ipv6_first_fragment_udp_cut, DPF_PKT_TRUNC_L4},
	{"tcp data offset 4", mal_tcp_offset_4, DPF_PKT_BAD_TCP_OFFSET},
	{"ipv6 tcp data offset 0", mal_ipv6_tcp_offset_0, DPF_PKT_BAD_TCP_OFFSET},
	{"ipv4 tcp past total length", mal_ipv4_tcp_past_total_len_in_padding,
	 DPF_PKT_L4_PAST_IP_LEN},
	{"ipv4 first fragment udp past total length", mal_ipv4_udp_first_fragment_past_total_len,
	 DPF_PKT_L4_PAST_IP_LEN},
	{"ipv6 udp past payload length", mal_ipv6_udp_past_payload_len, DPF_PKT_L4_PAST_IP_LEN},
	{"ipv4 cut and short", mal_ipv4_snaplen_and_total_len_both_short, DPF_PKT_L4_PAST_IP_LEN},
};

static void
test_parse_malformed_frames_return_their_reason(void **state)
{
	struct dpf_pkt_info pi;
	enum dpf_pkt_result r;
	struct frame f;
	uint32_t caplen;
	size_t i;

	for (i = 0; i < sizeof(malformed_cases) / sizeof(malformed_cases[0]); i++) {
		const struct malformed_case *c = &malformed_cases[i];

		caplen = c->build(&f);
		r = parse_n(&f, caplen, &pi);
		if (r != c->want)
			fail_msg("%s: got %s, want %s", c->what, dpf_pkt_result_name(r),
				 dpf_pkt_result_name(c->want));
	}
}

/* A reason added to the X-macro without a case here fails this test. */
static void
test_parse_every_malformed_reason_has_a_case(void **state)
{
	int r;
	size_t i;

	for (r = DPF_PKT_NOT_IP + 1; r < DPF_PKT_RESULT_MAX; r++) {
		for (i = 0; i < sizeof(malformed_cases) / sizeof(malformed_cases[0]); i++)
			if ((int)malformed_cases[i].want == r)
				break;
		if (i == sizeof(malformed_cases) / sizeof(malformed_cases[0]))
			fail_msg("no malformed case for %s",
				 dpf_pkt_result_name((enum dpf_pkt_result)r));
	}
}

/* ---- truncation at every length and mutation ------------------------------------------------ */

static uint32_t
l4_min_len(uint8_t proto)
{
	switch (proto) {
	case PROTO_TCP:
		return 20;
	case PROTO_UDP:
	case PROTO_UDPLITE:
		return 8;
	case PROTO_SCTP:
		return 12;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		return 4;
	default:
		return 0;
	}
}

/* What an OK result promises: every header it reports lies inside the captured bytes. */
static void
assert_ok_headers_inside(const struct dpf_pkt_info *pi, uint32_t caplen)
{
	assert_true(pi->family == 4 || pi->family == 6);
	assert_true(pi->n_vlans <= DPF_PKT_MAX_VLANS);
	assert_true(pi->l3_offset + (pi->family == 4 ? 20u : 40u) <= caplen);
	if (pi->has_l4) {
		assert_true(pi->l4_offset > pi->l3_offset);
		assert_true(pi->l4_offset + l4_min_len(pi->proto) <= caplen);
		assert_true(pi->l4_offset + l4_min_len(pi->proto) <= pi->l3_offset + pi->l3_len);
	} else {
		assert_int_equal(pi->src_port, 0);
		assert_int_equal(pi->dst_port, 0);
	}
}

/*
 * Cut f at every length below its own and compare with the expected result:
 * a cut before boundary[i].end gives boundary[i].result (the first such i).
 */
struct cut_boundary {
	uint32_t end;
	enum dpf_pkt_result result;
};

static void
check_every_truncation(const struct frame *f, const struct cut_boundary *b, size_t n_b)
{
	struct dpf_pkt_info pi;
	enum dpf_pkt_result r, want;
	uint32_t caplen;
	size_t i;

	for (caplen = 0; caplen <= f->len; caplen++) {
		want = DPF_PKT_OK;
		for (i = 0; i < n_b; i++) {
			if (caplen < b[i].end) {
				want = b[i].result;
				break;
			}
		}
		r = parse_n(f, caplen, &pi);
		if (r != want)
			fail_msg("caplen %u: got %s, want %s", caplen, dpf_pkt_result_name(r),
				 dpf_pkt_result_name(want));
		if (r == DPF_PKT_OK) {
			assert_ok_headers_inside(&pi, caplen);
			assert_int_equal(pi.l3_len, f->len - f->l3);
		}
	}
}

static void
test_parse_v4_tcp_cut_at_every_length_never_reads_past_caplen(void **state)
{
	static const struct cut_boundary b[] = {
		{14, DPF_PKT_TRUNC_ETH},
		{14 + 20, DPF_PKT_TRUNC_IPV4},
		{14 + 20 + 20, DPF_PKT_TRUNC_L4},
	};
	struct frame f;

	build_v4_tcp(&f, TCP_SYN, 12);
	check_every_truncation(&f, b, sizeof(b) / sizeof(b[0]));
}

static void
test_parse_v6_ext_tcp_cut_at_every_length_never_reads_past_caplen(void **state)
{
	static const struct cut_boundary b[] = {
		{14, DPF_PKT_TRUNC_ETH},
		{14 + 40, DPF_PKT_TRUNC_IPV6},
		{14 + 40 + 48, DPF_PKT_TRUNC_IPV6_EXT},
		{14 + 40 + 48 + 20, DPF_PKT_TRUNC_L4},
	};
	struct frame f;

	build_v6_ext_chain_tcp(&f);
	check_every_truncation(&f, b, sizeof(b) / sizeof(b[0]));
}

static void
test_parse_qinq_cut_at_every_length_never_reads_past_caplen(void **state)
{
	static const struct cut_boundary b[] = {
		{14, DPF_PKT_TRUNC_ETH},
		{22, DPF_PKT_TRUNC_VLAN},
		{22 + 24, DPF_PKT_TRUNC_IPV4},
		{22 + 24 + 8, DPF_PKT_TRUNC_L4},
	};
	struct frame f;

	eth_macs(&f);
	vlan_tag(&f, TPID_8021AD, 300);
	vlan_tag(&f, TPID_8021Q, 400);
	put16(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 6);
	udp(&f, 9999, 53);
	payload(&f, 20);
	ipv4_finish(&f);
	check_every_truncation(&f, b, sizeof(b) / sizeof(b[0]));
}

/*
 * Random byte flips on valid frames with a fixed seed: whatever the parser
 * answers, it must not read past caplen (AddressSanitizer watches) and an OK
 * must describe headers inside the capture.
 */
static void
test_parse_random_mutations_stay_inside_caplen(void **state)
{
	struct dpf_pkt_info pi;
	struct frame base[4], f;
	uint32_t rng = 12345, caplen;
	int iter, flips, k;

	build_v4_tcp(&base[0], TCP_SYN, 8);
	build_v6_ext_chain_tcp(&base[1]);
	mal_five_vlans(&base[2]);
	eth(&base[3], ETYPE_IPV6);
	ipv6(&base[3], PROTO_HOPOPTS);
	ipv6_ext(&base[3], PROTO_AH, 0);
	ipv6_ah(&base[3], PROTO_FRAGMENT, 1);
	ipv6_frag(&base[3], PROTO_SCTP, 0, 1, 5);
	sctp(&base[3], 1, 2);
	ipv6_finish(&base[3]);

	for (iter = 0; iter < 200000; iter++) {
		f = base[iter % 4];
		for (flips = 0; flips < 3; flips++) {
			rng = rng * 1103515245 + 12345;
			k = (rng >> 8) % f.len;
			rng = rng * 1103515245 + 12345;
			f.b[k] = rng >> 16;
		}
		/* Half the frames whole, so that mutations reach the deeper headers. */
		rng = rng * 1103515245 + 12345;
		caplen = (rng & 0x10000) ? f.len : (rng >> 8) % (f.len + 1);
		if (parse_n(&f, caplen, &pi) == DPF_PKT_OK)
			assert_ok_headers_inside(&pi, caplen);
	}
}

/* ---- names and flags ------------------------------------------------------------------------ */

static void
test_result_name_gives_counter_names_and_unknown(void **state)
{
	int r, s;

	assert_string_equal(dpf_pkt_result_name(DPF_PKT_OK), "ok");
	assert_string_equal(dpf_pkt_result_name(DPF_PKT_NOT_IP), "not-ip");
	assert_string_equal(dpf_pkt_result_name(DPF_PKT_TRUNC_L4), "truncated-l4");
	assert_string_equal(dpf_pkt_result_name(DPF_PKT_BAD_TCP_OFFSET), "bad-tcp-offset");
	assert_string_equal(dpf_pkt_result_name(DPF_PKT_RESULT_MAX), "unknown");
	assert_string_equal(dpf_pkt_result_name((enum dpf_pkt_result)-1), "unknown");
	/* Counter names must be present and distinct to be usable as keys. */
	for (r = 0; r < DPF_PKT_RESULT_MAX; r++) {
		assert_non_null(dpf_pkt_result_name((enum dpf_pkt_result)r));
		assert_string_not_equal(dpf_pkt_result_name((enum dpf_pkt_result)r), "unknown");
		for (s = 0; s < r; s++)
			assert_string_not_equal(dpf_pkt_result_name((enum dpf_pkt_result)r),
						dpf_pkt_result_name((enum dpf_pkt_result)s));
	}
}

static void
test_tcp_flags_aws_maps_flag_bytes(void **state)
{
	assert_int_equal(dpf_pkt_tcp_flags_aws(TCP_SYN), 2);
	assert_int_equal(dpf_pkt_tcp_flags_aws(TCP_SYN | TCP_ACK), 18);
	assert_int_equal(dpf_pkt_tcp_flags_aws(TCP_FIN | TCP_ACK), 1);
	assert_int_equal(dpf_pkt_tcp_flags_aws(TCP_ACK), 0);
	assert_int_equal(dpf_pkt_tcp_flags_aws(TCP_RST), 4);
	assert_int_equal(dpf_pkt_tcp_flags_aws(TCP_PSH | TCP_ACK), 0);
	assert_int_equal(dpf_pkt_tcp_flags_aws(0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_tcp_sets_ports_and_flags),
		cmocka_unit_test(test_parse_ipv4_tcp_options_not_captured_is_ok),
		cmocka_unit_test(test_parse_ipv4_udp_sets_ports),
		cmocka_unit_test(test_parse_ipv4_udplite_sets_ports),
		cmocka_unit_test(test_parse_ipv4_sctp_sets_ports),
		cmocka_unit_test(test_parse_ipv4_icmp_has_l4_and_zero_ports),
		cmocka_unit_test(test_parse_ipv4_options_finds_l4_after_options),
		cmocka_unit_test(test_parse_ipv4_gre_ok_without_ports),
		cmocka_unit_test(test_parse_ipv4_esp_header_only_is_ok),
		cmocka_unit_test(test_parse_ipv4_first_fragment_reads_ports),
		cmocka_unit_test(test_parse_ipv4_later_fragment_has_no_l4),
		cmocka_unit_test(test_parse_ipv4_later_fragment_shorter_than_l4_header_is_ok),
		cmocka_unit_test(test_parse_ipv4_df_only_is_not_fragment),
		cmocka_unit_test(test_parse_one_vlan_records_id),
		cmocka_unit_test(test_parse_qinq_88a8_8100_records_outer_first),
		cmocka_unit_test(test_parse_9100_tag_is_a_vlan),
		cmocka_unit_test(test_parse_four_vlans_ok),
		cmocka_unit_test(test_parse_arp_is_not_ip),
		cmocka_unit_test(test_parse_vlan_tagged_arp_is_not_ip_with_vlan),
		cmocka_unit_test(test_parse_zeroes_info_first),
		cmocka_unit_test(test_parse_ipv6_tcp_sets_ports_and_addresses),
		cmocka_unit_test(test_parse_ipv6_udp_sets_ports),
		cmocka_unit_test(test_parse_ipv6_icmpv6_has_l4_and_zero_ports),
		cmocka_unit_test(test_parse_ipv6_no_next_header_is_ok_without_l4),
		cmocka_unit_test(test_parse_ipv6_ext_chain_hbh_dest_routing_finds_tcp),
		cmocka_unit_test(test_parse_ipv6_ah_uses_its_own_length_rule),
		cmocka_unit_test(test_parse_ipv6_max_ext_headers_ok),
		cmocka_unit_test(test_parse_ipv6_first_fragment_reads_ports),
		cmocka_unit_test(test_parse_ipv6_later_fragment_has_no_l4),
		cmocka_unit_test(test_parse_ipv6_atomic_fragment_is_not_fragment),
		cmocka_unit_test(test_parse_snaplen_cut_with_complete_headers_reports_full_l3_len),
		cmocka_unit_test(test_parse_ethernet_padding_is_ok_and_not_counted),
		cmocka_unit_test(test_parse_malformed_frames_return_their_reason),
		cmocka_unit_test(test_parse_every_malformed_reason_has_a_case),
		cmocka_unit_test(test_parse_v4_tcp_cut_at_every_length_never_reads_past_caplen),
		cmocka_unit_test(test_parse_v6_ext_tcp_cut_at_every_length_never_reads_past_caplen),
		cmocka_unit_test(test_parse_qinq_cut_at_every_length_never_reads_past_caplen),
		cmocka_unit_test(test_parse_random_mutations_stay_inside_caplen),
		cmocka_unit_test(test_result_name_gives_counter_names_and_unknown),
		cmocka_unit_test(test_tcp_flags_aws_maps_flag_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
