/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
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
	uint32_t l4; /* offset of the L4 header the builders wrote last, 0 for none */
	uint8_t l4_proto; /* and its protocol, for the rewrite checks */
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
	f->l4 = f->len;
	f->l4_proto = PROTO_TCP;
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
	f->l4 = f->len;
	f->l4_proto = PROTO_UDP;
	put16(f, sport);
	put16(f, dport);
	put16(f, 8);
	put16(f, 0);
}

static void
sctp(struct frame *f, uint16_t sport, uint16_t dport)
{
	f->l4 = f->len;
	f->l4_proto = PROTO_SCTP;
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x01020304);
	put32(f, 0);
}

static void
icmp_echo(struct frame *f, uint8_t type)
{
	f->l4 = f->len;
	f->l4_proto = type >= 128 ? PROTO_ICMPV6 : PROTO_ICMP;
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
	assert_int_equal(pi.l4.src_port, 1234);
	assert_int_equal(pi.l4.dst_port, 80);
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
	assert_int_equal(pi.l4.dst_port, 443);
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
	assert_int_equal(pi.l4.src_port, 53);
	assert_int_equal(pi.l4.dst_port, 40000);
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
	assert_int_equal(pi.l4.src_port, 5000);
	assert_int_equal(pi.l4.dst_port, 5001);
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
	assert_int_equal(pi.l4.src_port, 2905);
	assert_int_equal(pi.l4.dst_port, 2906);
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
	assert_int_equal(pi.l4.src_port, 0);
	assert_int_equal(pi.l4.dst_port, 0);
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
	assert_int_equal(pi.l4.src_port, 22);
	assert_int_equal(pi.l4.dst_port, 50000);
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
	assert_int_equal(pi.l4.src_port, 0);
	assert_int_equal(pi.l4.dst_port, 0);
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
	assert_int_equal(pi.l4.src_port, 4789);
	assert_int_equal(pi.l4.dst_port, 4789);
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
		assert_int_equal(pi.l4.src_port, 0);
		assert_int_equal(pi.l4.dst_port, 0);
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
	assert_int_equal(pi.l4.src_port, 1);
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
	assert_int_equal(pi.l4.dst_port, 547);
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
	assert_int_equal(pi.l4.dst_port, 20);
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

/* doc/records.md, "Packets that are not logged": what dpflow does not look inside. */
static void
test_parse_unsupported_encapsulations_as_documented(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* MPLS (unicast, multicast) and PPPoE (discovery, session) carrying IPv4. */
	static const uint16_t not_ip[] = {0x8847, 0x8848, 0x8863, 0x8864};
	size_t i;

	for (i = 0; i < sizeof(not_ip) / sizeof(not_ip[0]); i++) {
		eth(&f, not_ip[i]);
		put16(&f, 0x0021); /* a PPP protocol / MPLS label half: IPv4 after it */
		put16(&f, 0x0140);
		ipv4(&f, PROTO_UDP, 5);
		udp(&f, 1, 2);
		ipv4_finish(&f);
		assert_int_equal(parse(&f, &pi), DPF_PKT_NOT_IP);
	}
	/* IP in IP: the outer addresses and protocol 4, ports 0. */
	eth(&f, ETYPE_IPV4);
	ipv4(&f, 4, 5);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 7, 8);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, 4);
	assert_int_equal(pi.l4.src_port, 0);
	assert_int_equal(pi.has_l4, 0);
	/* IPv6 Mobility header: protocol 135, ports 0, nothing after it read. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, 135);
	put8(&f, PROTO_UDP);
	put8(&f, 0);
	payload(&f, 6);
	udp(&f, 7, 8);
	ipv6_finish(&f);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.proto, 135);
	assert_int_equal(pi.l4.dst_port, 0);
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
	assert_int_equal(pi.l4.src_port, 40000);
	assert_int_equal(pi.l4.dst_port, 443);
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
	assert_int_equal(pi.l4.src_port, 123);
	assert_int_equal(pi.l4.dst_port, 123);
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
	assert_int_equal(pi.l4.src_port, 0);
	assert_int_equal(pi.l4.dst_port, 0);
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
	assert_int_equal(pi.l4.src_port, 5555);
	assert_int_equal(pi.l4.dst_port, 6666);
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
	assert_int_equal(pi.l4.src_port, 500);
	assert_int_equal(pi.l4.dst_port, 4500);
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
	assert_int_equal(pi.l4.dst_port, 9);
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
	assert_int_equal(pi.l4.src_port, 4000);
	assert_int_equal(pi.l4.dst_port, 5000);
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
		assert_int_equal(pi.l4.src_port, 0);
		assert_int_equal(pi.l4.dst_port, 0);
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
	assert_int_equal(pi.l4.dst_port, 4);
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
	assert_int_equal(pi.l4.dst_port, 80);
	/* Cut right after the TCP header. */
	assert_int_equal(parse_n(&f, 54, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 940);

	build_v6_ext_chain_tcp(&f);
	assert_int_equal(parse_n(&f, 14 + 40 + 48 + 20, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 40 + 48 + 20 + 10);
	assert_int_equal(pi.l4.dst_port, 6666);
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
	assert_int_equal(pi.l4.dst_port, 68);

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
mal_ipv4_total_len_zero_header_cut(struct frame *f)
{
	/* Total length 0 takes the frame's: here too short for the header. */
	build_v4_tcp(f, TCP_ACK, 0);
	set16(f, 14 + 2, 0);
	return 14 + 19;
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
mal_ipv4_tcp_cut(struct frame *f)
{
	build_v4_tcp(f, TCP_ACK, 100);
	/* Cut before the destination port: a cut after it is a snap length, logged. */
	return 14 + 20 + 3;
}

static uint32_t
mal_ipv4_udp_cut(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_UDP, 5);
	udp(f, 1, 2);
	payload(f, 100);
	ipv4_finish(f);
	return 14 + 20 + 3;
}

static uint32_t
mal_ipv4_sctp_cut(struct frame *f)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_SCTP, 5);
	sctp(f, 1, 2);
	payload(f, 100);
	ipv4_finish(f);
	return 14 + 20 + 2;
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
	return 14 + 40 + 48 + 3;
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
	return 14 + 40 + 8 + 3;
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

/* ---- tunnels: builders ------------------------------------------------------------------------
 */

#define PROTO_IPIP 4
#define PROTO_IPV6_IN_IP 41
#define ETYPE_TEB 0x6558
#define VXLAN_PORT 4789
#define GENEVE_PORT 6081

static const uint8_t in_src[4] = {172, 16, 0, 5};
static const uint8_t in_dst[4] = {172, 16, 9, 7};
static const uint8_t in_src_mac[6] = {0x02, 0xaa, 0, 0, 0, 0x05};
static const uint8_t in_dst_mac[6] = {0x02, 0xaa, 0, 0, 0, 0x07};

/* Where the outer headers are, for tun_finish(). */
struct outer {
	uint32_t l3;
	uint32_t udp; /* 0: not UDP */
	int v6;
};

/* Ethernet, IPv4 (or IPv6) and, for dport != 0, UDP from 50000 to dport. */
static struct outer
outer_start(struct frame *f, int v6, uint8_t proto, uint16_t dport)
{
	struct outer o = {0};

	eth(f, v6 ? ETYPE_IPV6 : ETYPE_IPV4);
	if (v6)
		ipv6(f, proto);
	else
		ipv4(f, proto, 5);
	o.l3 = f->l3;
	o.v6 = v6;
	if (proto == PROTO_UDP) {
		udp(f, 50000, dport);
		o.udp = f->l4;
	}
	return o;
}

/* The outer lengths, once the inner packet is complete. */
static void
tun_finish(struct frame *f, const struct outer *o)
{
	if (o->v6)
		set16(f, o->l3 + 4, f->len - o->l3 - 40);
	else
		set16(f, o->l3 + 2, f->len - o->l3);
	if (o->udp != 0)
		set16(f, o->udp + 4, f->len - o->udp);
}

static void
put24(struct frame *f, uint32_t v)
{
	put8(f, (v >> 16) & 0xff);
	put16(f, v & 0xffff);
}

static void
vxlan_hdr(struct frame *f, uint8_t flags, uint32_t vni)
{
	put8(f, flags);
	put24(f, 0);
	put24(f, vni);
	put8(f, 0);
}

static void
geneve_hdr(struct frame *f, uint8_t version, uint8_t opt_words, uint16_t proto, uint32_t vni)
{
	put8(f, (uint8_t)(version << 6 | (opt_words & 0x3f)));
	put8(f, 0);
	put16(f, proto);
	put24(f, vni);
	put8(f, 0);
	put_fill(f, opt_words * 4u, 0x77);
}

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000

static void
gre_hdr(struct frame *f, uint16_t flags, uint16_t proto, uint32_t key)
{
	put16(f, flags);
	put16(f, proto);
	if (flags & GRE_C)
		put32(f, 0xcccc0000);
	if (flags & GRE_K)
		put32(f, key);
	if (flags & GRE_S)
		put32(f, 7);
}

/* The inner Ethernet header (its own MACs), optionally one 802.1Q tag. */
static void
inner_eth(struct frame *f, uint16_t ethertype, int vid)
{
	uint32_t i;

	for (i = 0; i < 6; i++)
		put8(f, in_dst_mac[i]);
	for (i = 0; i < 6; i++)
		put8(f, in_src_mac[i]);
	if (vid >= 0)
		vlan_tag(f, TPID_8021Q, (uint16_t)vid);
	put16(f, ethertype);
}

/* Inner IPv4 TCP 40000 -> 443 (SYN) with payload bytes; the inner addresses in_src, in_dst. */
static void
inner_ipv4_tcp(struct frame *f, uint32_t payload_len)
{
	ipv4(f, PROTO_TCP, 5);
	memcpy(f->b + f->l3 + 12, in_src, 4);
	memcpy(f->b + f->l3 + 16, in_dst, 4);
	tcp(f, 40000, 443, TCP_SYN, 5);
	payload(f, payload_len);
	ipv4_finish(f);
}

/* The usual inner frame (Ethernet, IPv4 TCP) and the outer lengths: the frame's length. */
static uint32_t
inner_eth_tcp_finish(struct frame *f, const struct outer *o)
{
	inner_eth(f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(f, 0);
	tun_finish(f, o);
	return f->len;
}

/*
 * Parse like the RX path: the outer packet, then, when it is a tunnel the
 * configuration opens, the tunnel. Exact-size heap copy, as parse_n(). Both
 * ways the RX path has: dpf_pkt_parse(), dpf_pkt_tunnel_of() and
 * dpf_pkt_decap() one after the other, and dpf_pkt_parse_open() in one
 * call, which must agree on the result, every byte of pi and, for a tunnel
 * opened, of tun (so every decap and malformed case below checks both).
 */
static enum dpf_pkt_result
parse_decap_cfg(const struct frame *f, uint32_t caplen, const struct dpf_pkt_decap_cfg *cfg,
		struct dpf_pkt_info *pi, struct dpf_pkt_tunnel *tun)
{
	struct dpf_pkt_info pi_one;
	struct dpf_pkt_tunnel tun_one;
	enum dpf_pkt_result r, r_one;
	unsigned int t, t_one;
	uint8_t *copy;

	assert_true(caplen <= f->len);
	copy = malloc(caplen > 0 ? caplen : 1);
	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	memset(pi, 0xa5, sizeof(*pi));
	memset(tun, 0xa5, sizeof(*tun));
	r = dpf_pkt_parse(copy, caplen, pi);
	t = r == DPF_PKT_OK ? dpf_pkt_tunnel_of(cfg, pi) : DPF_TUN_NONE;
	if (t != DPF_TUN_NONE)
		r = dpf_pkt_decap(copy, caplen, pi, t, tun);

	memset(&pi_one, 0x5a, sizeof(pi_one));
	memset(&tun_one, 0x5a, sizeof(tun_one));
	r_one = dpf_pkt_parse_open(copy, caplen, cfg, &pi_one, &tun_one, &t_one);
	free(copy);
	assert_int_equal(r_one, r);
	assert_int_equal(t_one, t);
	assert_memory_equal(&pi_one, pi, sizeof(*pi));
	if (t != DPF_TUN_NONE)
		assert_memory_equal(&tun_one, tun, sizeof(*tun));
	return r;
}

static const struct dpf_pkt_decap_cfg decap_all = {
	.types = DPF_PKT_TUN_BIT(DPF_TUN_VXLAN) | DPF_PKT_TUN_BIT(DPF_TUN_GENEVE) |
		 DPF_PKT_TUN_BIT(DPF_TUN_GRE) | DPF_PKT_TUN_BIT(DPF_TUN_IPIP),
	.n_vxlan_ports = 1,
	.vxlan_ports = {VXLAN_PORT},
};

static enum dpf_pkt_result
parse_decap(const struct frame *f, uint32_t caplen, struct dpf_pkt_info *pi)
{
	struct dpf_pkt_tunnel tun;

	return parse_decap_cfg(f, caplen, &decap_all, pi, &tun);
}

/* ---- tunnels: malformed ------------------------------------------------------------------------
 */

static uint32_t
mal_vxlan_header_cut(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, VXLAN_PORT);

	vxlan_hdr(f, 0x08, 100);
	inner_eth_tcp_finish(f, &o);
	return 14 + 20 + 8 + 7;
}

static uint32_t
mal_vxlan_past_udp_length(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, VXLAN_PORT);

	vxlan_hdr(f, 0x08, 100);
	tun_finish(f, &o);
	/* UDP says 8 + 4: the VXLAN header ends past the datagram. */
	set16(f, o.udp + 4, 12);
	return f->len;
}

static uint32_t
mal_vxlan_no_i_flag(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, VXLAN_PORT);

	vxlan_hdr(f, 0x00, 100);
	return inner_eth_tcp_finish(f, &o);
}

static uint32_t
mal_geneve_version_1(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, GENEVE_PORT);

	geneve_hdr(f, 1, 0, ETYPE_TEB, 5);
	return inner_eth_tcp_finish(f, &o);
}

static uint32_t
mal_geneve_options_past_payload(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, GENEVE_PORT);

	/* 63 words of options announced, 2 present. */
	geneve_hdr(f, 0, 2, ETYPE_TEB, 5);
	f->b[o.udp + 8] = 63;
	tun_finish(f, &o);
	return f->len;
}

static uint32_t
mal_geneve_options_cut(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, GENEVE_PORT);

	geneve_hdr(f, 0, 4, ETYPE_TEB, 5);
	inner_eth_tcp_finish(f, &o);
	/* The datagram holds the options; the capture ends inside them. */
	return 14 + 20 + 8 + 8 + 10;
}

static uint32_t
mal_gre_key_cut(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_GRE, 0);

	gre_hdr(f, GRE_C | GRE_K, ETYPE_IPV4, 42);
	inner_ipv4_tcp(f, 0);
	tun_finish(f, &o);
	return 14 + 20 + 4 + 4 + 2;
}

static uint32_t
mal_gre_header_past_ip_length(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_GRE, 0);

	gre_hdr(f, GRE_K | GRE_S, ETYPE_IPV4, 42);
	tun_finish(f, &o);
	set16(f, o.l3 + 2, 20 + 4 + 4);
	return f->len;
}

static uint32_t
mal_gre_version_1(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_GRE, 0);

	gre_hdr(f, GRE_K | 1, 0x880b, 42);
	inner_ipv4_tcp(f, 0);
	tun_finish(f, &o);
	return f->len;
}

static uint32_t
mal_gre_routing(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_GRE, 0);

	gre_hdr(f, GRE_R, ETYPE_IPV4, 0);
	inner_ipv4_tcp(f, 0);
	tun_finish(f, &o);
	return f->len;
}

static uint32_t
mal_vxlan_inner_eth_cut(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, VXLAN_PORT);

	vxlan_hdr(f, 0x08, 100);
	put_fill(f, 10, 0);
	tun_finish(f, &o);
	return f->len;
}

static uint32_t
mal_vxlan_inner_ihl_4(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_UDP, VXLAN_PORT);
	uint32_t inner;

	vxlan_hdr(f, 0x08, 100);
	inner_eth(f, ETYPE_IPV4, -1);
	inner = f->len;
	inner_ipv4_tcp(f, 0);
	f->b[inner] = 0x44;
	tun_finish(f, &o);
	return f->len;
}

static uint32_t
mal_ipip_inner_cut(struct frame *f)
{
	struct outer o = outer_start(f, 0, PROTO_IPIP, 0);

	inner_ipv4_tcp(f, 0);
	tun_finish(f, &o);
	/* The outer datagram ends 10 bytes into the inner IPv4 header. */
	set16(f, o.l3 + 2, 20 + 10);
	return f->len;
}

static uint32_t
mal_ipip6_inner_version(struct frame *f)
{
	struct outer o = outer_start(f, 1, PROTO_IPV6_IN_IP, 0);
	uint32_t inner = f->len;

	ipv6(f, PROTO_UDP);
	udp(f, 1, 2);
	ipv6_finish(f);
	f->b[inner] = 0x45;
	tun_finish(f, &o);
	return f->len;
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
	{"ipv4 total length 0, header cut", mal_ipv4_total_len_zero_header_cut, DPF_PKT_TRUNC_IPV4},
	{"ipv6 header cut", mal_ipv6_header_cut, DPF_PKT_TRUNC_IPV6},
	{"ipv6 ethertype, version 4", mal_ipv6_version_4, DPF_PKT_BAD_IPV6_VERSION},
	{"ipv6 ext length byte cut", mal_ipv6_ext_length_byte_cut, DPF_PKT_TRUNC_IPV6_EXT},
	{"ipv6 ext body cut", mal_ipv6_ext_body_cut, DPF_PKT_TRUNC_IPV6_EXT},
	{"ipv6 fragment header cut", mal_ipv6_fragment_header_cut, DPF_PKT_TRUNC_IPV6_EXT},
	{"ipv6 hop-by-hop not first", mal_ipv6_hbh_not_first, DPF_PKT_BAD_IPV6_EXT},
	{"ipv6 too many ext headers", mal_ipv6_too_many_ext, DPF_PKT_BAD_IPV6_EXT},
	{"ipv6 ext past payload length", mal_ipv6_ext_past_payload_len, DPF_PKT_BAD_IPV6_EXT},
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
	{"vxlan header cut", mal_vxlan_header_cut, DPF_PKT_TRUNC_TUNNEL},
	{"vxlan header past udp length", mal_vxlan_past_udp_length, DPF_PKT_TRUNC_TUNNEL},
	{"geneve options cut", mal_geneve_options_cut, DPF_PKT_TRUNC_TUNNEL},
	{"gre key cut", mal_gre_key_cut, DPF_PKT_TRUNC_TUNNEL},
	{"gre header past ip length", mal_gre_header_past_ip_length, DPF_PKT_TRUNC_TUNNEL},
	{"vxlan without I flag", mal_vxlan_no_i_flag, DPF_PKT_BAD_TUNNEL_HEADER},
	{"geneve version 1", mal_geneve_version_1, DPF_PKT_BAD_TUNNEL_HEADER},
	{"gre version 1", mal_gre_version_1, DPF_PKT_BAD_TUNNEL_HEADER},
	{"gre routing bit", mal_gre_routing, DPF_PKT_BAD_TUNNEL_HEADER},
	{"geneve options past payload", mal_geneve_options_past_payload,
	 DPF_PKT_BAD_GENEVE_OPTIONS},
	{"vxlan inner ethernet cut", mal_vxlan_inner_eth_cut, DPF_PKT_TRUNC_ETH},
	{"vxlan inner ipv4 ihl 4", mal_vxlan_inner_ihl_4, DPF_PKT_BAD_IPV4_IHL},
	{"ipip inner cut by outer length", mal_ipip_inner_cut, DPF_PKT_TRUNC_IPV4},
	{"ipv6-in-ipv6 inner version 4", mal_ipip6_inner_version, DPF_PKT_BAD_IPV6_VERSION},
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
		/* With every tunnel opened: a plain frame parses as without. */
		r = parse_decap(&f, caplen, &pi);
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

/* ---- capture artefacts: snap length inside L4, length fields of 0 ------------------------------
 */

static void
test_parse_l4_cut_after_ports_is_logged_with_ports_and_unknown_flags(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* tcpdump -s 64: IPv6 TCP keeps 10 bytes of its header, ports included. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_TCP);
	tcp(&f, 40000, 443, TCP_SYN, 5);
	payload(&f, 1000);
	ipv6_finish(&f);
	assert_int_equal(parse_n(&f, 64, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l4.src_port, 40000);
	assert_int_equal(pi.l4.dst_port, 443);
	assert_int_equal(pi.tcp_flags, 0);
	assert_int_equal(pi.l4_cut, 1);
	assert_int_equal(pi.has_l4, 1);
	assert_int_equal(pi.l3_len, 40 + 20 + 1000);
	/* Cut right after the flags byte: flags known, data offset checked. */
	assert_int_equal(parse_n(&f, 14 + 40 + 14, &pi), DPF_PKT_OK);
	assert_int_equal(pi.tcp_flags, TCP_SYN);
	assert_int_equal(pi.l4_cut, 1);
	f.b[14 + 40 + 12] = 4 << 4;
	assert_int_equal(parse_n(&f, 14 + 40 + 14, &pi), DPF_PKT_BAD_TCP_OFFSET);
	assert_int_equal(parse_n(&f, 14 + 40 + 12, &pi), DPF_PKT_OK);
	/* Three bytes say nothing. */
	assert_int_equal(parse_n(&f, 14 + 40 + 3, &pi), DPF_PKT_TRUNC_L4);

	/* UDP cut after its ports; the whole header: not cut. */
	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 5353, 53);
	payload(&f, 100);
	ipv4_finish(&f);
	assert_int_equal(parse_n(&f, 14 + 20 + 4, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l4.dst_port, 53);
	assert_int_equal(pi.l4_cut, 1);
	assert_int_equal(parse_n(&f, 14 + 20 + 8, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l4_cut, 0);
}

static void
test_parse_length_field_0_takes_the_frame_length(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	/* A TSO super-packet captured before segmentation: IPv4 total length 0. */
	build_v4_tcp(&f, TCP_ACK, 1400);
	set16(&f, 14 + 2, 0);
	assert_int_equal(parse_n(&f, f.len, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, f.len - 14);
	assert_int_equal(pi.l3_len_from_frame, 1);
	assert_int_equal(pi.l4.src_port, 1234);
	/* Cut by a snap length as well: the bytes captured. */
	assert_int_equal(parse_n(&f, 100, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 100 - 14);

	/* IPv6 payload length 0 with TCP after the header (BIG TCP, GRO). */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_TCP);
	tcp(&f, 1, 2, TCP_ACK, 5);
	payload(&f, 1500);
	ipv6_finish(&f);
	set16(&f, 14 + 4, 0);
	assert_int_equal(parse_n(&f, f.len, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, f.len - 14);
	assert_int_equal(pi.l3_len_from_frame, 1);
	/* And cut at 64 bytes: the datagram ends with the capture, inside the
	 * TCP header, which is a snap length's cut, not a short datagram. */
	assert_int_equal(parse_n(&f, 64, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 64 - 14);
	assert_int_equal(pi.l4.dst_port, 2);
	assert_int_equal(pi.tcp_flags, 0);
	assert_int_equal(parse_n(&f, 14 + 40 + 3, &pi), DPF_PKT_TRUNC_L4);

	/* A jumbogram (RFC 2675): payload length 0, hop-by-hop header first. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_HOPOPTS);
	ipv6_ext(&f, PROTO_UDP, 0);
	udp(&f, 1, 2);
	payload(&f, 200);
	assert_int_equal(parse_n(&f, f.len, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, f.len - 14);
	assert_int_equal(pi.l4.dst_port, 2);

	/* An empty IPv6 packet (no next header) is 40 bytes, padding aside. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, 59);
	ipv6_finish(&f);
	payload(&f, 6); /* Ethernet padding */
	assert_int_equal(parse_n(&f, f.len, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l3_len, 40);
	assert_int_equal(pi.l3_len_from_frame, 0);
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
		/* The ports always; the whole header unless the capture cut it. */
		assert_true(pi->l4_offset +
				    (l4_min_len(pi->proto) < 4 ? l4_min_len(pi->proto) : 4u) <=
			    caplen);
		if (!pi->l4_cut)
			assert_true(pi->l4_offset + l4_min_len(pi->proto) <= caplen);
		else
			assert_true(pi->l4_offset + l4_min_len(pi->proto) > caplen);
		if (pi->proto == PROTO_TCP && pi->l4_offset + 14u > caplen)
			assert_int_equal(pi->tcp_flags, 0);
		/* Inside the datagram, unless its length is the capture's. */
		if (!pi->l3_len_from_frame)
			assert_true(pi->l4_offset + l4_min_len(pi->proto) <=
				    pi->l3_offset + pi->l3_len);
		else
			assert_int_equal(pi->l3_offset + pi->l3_len, caplen);
	} else {
		assert_int_equal(pi->l4.src_port, 0);
		assert_int_equal(pi->l4.dst_port, 0);
	}
	if (pi->l4.has_icmp_id) {
		assert_true(pi->has_l4);
		assert_true(pi->proto == PROTO_ICMP || pi->proto == PROTO_ICMPV6);
		assert_true(pi->l4_offset + 8u <= caplen);
		assert_true(pi->l4_offset + 8u <= pi->l3_offset + pi->l3_len);
	} else {
		assert_int_equal(pi->l4.icmp_id, 0);
	}
	if (!pi->has_l4 || (pi->proto != PROTO_ICMP && pi->proto != PROTO_ICMPV6)) {
		assert_int_equal(pi->l4.icmp_type, 0);
		assert_int_equal(pi->l4.icmp_code, 0);
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
		{14 + 20 + 4, DPF_PKT_TRUNC_L4},
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
		{14 + 40 + 48 + 4, DPF_PKT_TRUNC_L4},
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
		{22 + 24 + 4, DPF_PKT_TRUNC_L4},
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

/* ---- ICMP type, code and echo identifier ---------------------------------------------------- */

static void
icmp_msg(struct frame *f, uint8_t proto, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	f->l4 = f->len;
	f->l4_proto = proto;
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, id);
	put16(f, seq);
}

static void
build_v4_icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint32_t data)
{
	eth(f, ETYPE_IPV4);
	ipv4(f, PROTO_ICMP, 5);
	icmp_msg(f, PROTO_ICMP, type, code, id, 7);
	payload(f, data);
	ipv4_finish(f);
}

static void
build_v6_icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint32_t data)
{
	eth(f, ETYPE_IPV6);
	ipv6(f, PROTO_ICMPV6);
	icmp_msg(f, PROTO_ICMPV6, type, code, id, 7);
	payload(f, data);
	ipv6_finish(f);
}

/* Every L4 field a parse gave: what want does not name must be 0. */
static void
assert_l4_is(const struct dpf_pkt_l4 *got, struct dpf_pkt_l4 want)
{
	assert_int_equal(got->src_port, want.src_port);
	assert_int_equal(got->dst_port, want.dst_port);
	assert_int_equal(got->icmp_id, want.icmp_id);
	assert_int_equal(got->icmp_type, want.icmp_type);
	assert_int_equal(got->icmp_code, want.icmp_code);
	assert_int_equal(got->has_icmp_id, want.has_icmp_id);
}

static void
test_parse_icmp_echo_records_type_code_and_identifier(void **state)
{
	static const uint8_t types[] = {8, 0};
	struct dpf_pkt_info pi;
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(types); i++) {
		build_v4_icmp(&f, types[i], 0, 0xabcd, 56);
		assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
		assert_int_equal(pi.proto, PROTO_ICMP);
		assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = types[i],
							 .has_icmp_id = 1,
							 .icmp_id = 0xabcd});
		assert_int_equal(pi.has_l4, 1);
	}
}

static void
test_parse_icmpv6_echo_records_type_code_and_identifier(void **state)
{
	static const uint8_t types[] = {128, 129};
	struct dpf_pkt_info pi;
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(types); i++) {
		build_v6_icmp(&f, types[i], 0, 0x0102, 8);
		assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
		assert_int_equal(pi.proto, PROTO_ICMPV6);
		assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = types[i],
							 .has_icmp_id = 1,
							 .icmp_id = 0x0102});
	}
}

static void
test_parse_icmp_non_echo_records_type_code_without_identifier(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	build_v4_icmp(&f, 3, 3, 0x1111, 28); /* port unreachable */
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = 3, .icmp_code = 3});

	build_v6_icmp(&f, 135, 0, 0x2222, 16); /* neighbour solicitation */
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = 135});

	/* Echo type numbers belong to their protocol: 128 in ICMP, 8 in ICMPv6 are not echo. */
	build_v4_icmp(&f, 128, 0, 0x3333, 0);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = 128});
	build_v6_icmp(&f, 8, 0, 0x4444, 0);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = 8});
}

static void
test_parse_icmp_echo_id_cut_or_past_datagram_is_ok_without_it(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;
	uint32_t caplen;

	build_v4_icmp(&f, 8, 0, 0x5555, 0);
	for (caplen = 14 + 20 + 4; caplen < 14 + 20 + 8; caplen++) {
		assert_int_equal(parse_n(&f, caplen, &pi), DPF_PKT_OK);
		assert_int_equal(pi.has_l4, 1);
		assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = 8});
	}
	assert_int_equal(parse_n(&f, 14 + 20 + 8, &pi), DPF_PKT_OK);
	assert_l4_is(&pi.l4,
		     (struct dpf_pkt_l4){.icmp_type = 8, .has_icmp_id = 1, .icmp_id = 0x5555});

	/* Total length 24: the identifier bytes are Ethernet padding, not the echo's. */
	build_v4_icmp(&f, 8, 0, 0x5555, 0);
	set16(&f, 14 + 2, 24);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_l4_is(&pi.l4, (struct dpf_pkt_l4){.icmp_type = 8});
}

static void
test_parse_non_icmp_leaves_icmp_fields_zero(void **state)
{
	struct dpf_pkt_info pi;
	struct frame f;

	build_v4_tcp(&f, TCP_SYN, 0);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.l4.icmp_type, 0);
	assert_int_equal(pi.l4.icmp_code, 0);
	assert_int_equal(pi.l4.has_icmp_id, 0);
	assert_int_equal(pi.l4.icmp_id, 0);

	/* A later ICMP fragment has no ICMP header. */
	build_v4_icmp(&f, 8, 0, 0x6666, 64);
	ipv4_set_frag(&f, 10);
	assert_int_equal(parse(&f, &pi), DPF_PKT_OK);
	assert_int_equal(pi.has_l4, 0);
	assert_l4_is(&pi.l4, (struct dpf_pkt_l4){0});
}

/* ---- rewrite: reference checksums ----------------------------------------------------------- */

/*
 * Written the plain way on purpose: a full one's-complement sum of big-endian
 * words over pseudo-header and data (RFC 1071), a bitwise CRC32c (RFC 9260).
 * The library updates incrementally; these recompute from scratch.
 */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
ref_sum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0, i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
ref_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t
ref_ipv4_csum(const uint8_t *ip)
{
	uint8_t hdr[60];
	uint32_t len = (ip[0] & 0xf) * 4u;

	memcpy(hdr, ip, len);
	hdr[10] = 0;
	hdr[11] = 0;
	return ref_finish(ref_sum(hdr, len));
}

static uint32_t
l4_csum_at(uint8_t proto)
{
	switch (proto) {
	case PROTO_TCP:
		return 16;
	case PROTO_UDP:
	case PROTO_UDPLITE:
		return 6;
	case PROTO_SCTP:
		return 8;
	default:
		return 2; /* ICMP, ICMPv6 */
	}
}

/*
 * The sum a sender computes the L4 checksum from, for the datagram whose IP
 * header is at l3 and whose L4 segment runs from l4 to l3_end, all present in
 * b, checksum field taken as 0. Pseudo-header: RFC 9293 / 768 for IPv4,
 * RFC 8200 8.1 for IPv6; none for ICMP.
 */
static uint32_t
ref_l4_sum(const uint8_t *b, uint32_t l3, uint32_t l4, uint32_t l3_end, uint8_t proto)
{
	uint8_t ph[40], seg[FRAME_MAX];
	uint32_t seg_len = l3_end - l4, covered = seg_len, sum = 0, at = l4_csum_at(proto);

	memset(ph, 0, sizeof(ph));
	memcpy(seg, b + l4, seg_len);
	seg[at] = 0;
	seg[at + 1] = 0;
	if (proto == PROTO_UDPLITE && get16(seg + 4) != 0)
		covered = get16(seg + 4); /* RFC 3828 checksum coverage */
	if ((b[l3] >> 4) == 6) {
		memcpy(ph, b + l3 + 8, 32);
		ph[34] = seg_len >> 8;
		ph[35] = seg_len & 0xff;
		ph[39] = proto;
		sum += ref_sum(ph, 40);
	} else {
		memcpy(ph, b + l3 + 12, 8);
		ph[9] = proto;
		ph[10] = seg_len >> 8;
		ph[11] = seg_len & 0xff;
		sum += ref_sum(ph, 12);
	}
	if (proto == PROTO_ICMP)
		sum = 0;
	return sum + ref_sum(seg, covered);
}

static uint16_t
ref_l4_csum(const uint8_t *b, uint32_t l3, uint32_t l4, uint32_t l3_end, uint8_t proto)
{
	uint16_t csum = ref_finish(ref_l4_sum(b, l3, l4, l3_end, proto));

	/* RFC 768: a computed 0 is sent as all ones, 0 meaning "no checksum". */
	if ((proto == PROTO_UDP || proto == PROTO_UDPLITE) && csum == 0)
		csum = 0xffff;
	return csum;
}

static uint32_t
ref_crc32c(const uint8_t *p, uint32_t len)
{
	uint32_t crc = 0xffffffff, i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78 : 0);
	}
	return ~crc;
}

static uint32_t
ref_sctp_crc(const uint8_t *b, uint32_t l4, uint32_t l3_end)
{
	uint8_t seg[FRAME_MAX];

	memcpy(seg, b + l4, l3_end - l4);
	memset(seg + 8, 0, 4);
	return ref_crc32c(seg, l3_end - l4);
}

/* Stored low byte first (RFC 9260 appendix A). */
static uint32_t
stored_sctp_crc(const uint8_t *b, uint32_t l4)
{
	return (uint32_t)b[l4 + 8] | (uint32_t)b[l4 + 9] << 8 | (uint32_t)b[l4 + 10] << 16 |
	       (uint32_t)b[l4 + 11] << 24;
}

static uint32_t
frame_l3_end(const struct frame *f)
{
	const uint8_t *ip = f->b + f->l3;

	if ((ip[0] >> 4) == 4)
		return f->l3 + get16(ip + 2);
	return f->l3 + 40 + get16(ip + 4);
}

/* Write the checksums a sender would: IPv4 header, then the L4 one (f->l4 0: none). */
static void
set_csums(struct frame *f)
{
	uint32_t l3_end = frame_l3_end(f), crc;

	assert_true(l3_end <= f->len);
	if ((f->b[f->l3] >> 4) == 4)
		set16(f, f->l3 + 10, ref_ipv4_csum(f->b + f->l3));
	if (f->l4 == 0)
		return;
	if (f->l4_proto == PROTO_UDP)
		set16(f, f->l4 + 4, l3_end - f->l4);
	if (f->l4_proto == PROTO_SCTP) {
		crc = ref_sctp_crc(f->b, f->l4, l3_end);
		f->b[f->l4 + 8] = crc & 0xff;
		f->b[f->l4 + 9] = (crc >> 8) & 0xff;
		f->b[f->l4 + 10] = (crc >> 16) & 0xff;
		f->b[f->l4 + 11] = crc >> 24;
		return;
	}
	set16(f, f->l4 + l4_csum_at(f->l4_proto),
	      ref_l4_csum(f->b, f->l3, f->l4, l3_end, f->l4_proto));
}

static void
test_reference_crc32c_matches_check_value(void **state)
{
	static const uint8_t check[] = "123456789";
	static const uint8_t zeros[32];

	assert_int_equal(ref_crc32c(check, 9), 0xe3069283);
	/* RFC 3720 B.4: 32 zero bytes give the wire bytes aa 36 91 8a, low byte first. */
	assert_int_equal(ref_crc32c(zeros, sizeof(zeros)), 0x8a9136aa);
}

/* ---- rewrite: field map, checks, round trip ------------------------------------------------- */

/* Where dpf_pkt_rewrite() may write in a frame the builders made (0 = nothing there). */
struct rw_fields {
	uint32_t addr_len;
	uint32_t src_at;
	uint32_t dst_at;
	uint32_t ip_csum_at;
	uint32_t sport_at;  /* for an echo request: the identifier */
	uint32_t dport_at;  /* for an echo reply: the identifier */
	uint32_t l4_csum_at;
	uint32_t l4_csum_len;
};

static int
is_echo(uint8_t proto, uint8_t type)
{
	if (proto == PROTO_ICMP)
		return type == 8 || type == 0;
	return type == 128 || type == 129;
}

static void
rw_fields_of(const struct frame *f, struct rw_fields *w)
{
	uint8_t type;

	memset(w, 0, sizeof(*w));
	if ((f->b[f->l3] >> 4) == 4) {
		w->addr_len = 4;
		w->src_at = f->l3 + 12;
		w->dst_at = f->l3 + 16;
		w->ip_csum_at = f->l3 + 10;
	} else {
		w->addr_len = 16;
		w->src_at = f->l3 + 8;
		w->dst_at = f->l3 + 24;
	}
	if (f->l4 == 0)
		return;
	w->l4_csum_at = f->l4 + l4_csum_at(f->l4_proto);
	w->l4_csum_len = f->l4_proto == PROTO_SCTP ? 4 : 2;
	switch (f->l4_proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_UDPLITE:
	case PROTO_SCTP:
		w->sport_at = f->l4;
		w->dport_at = f->l4 + 2;
		break;
	default:
		type = f->b[f->l4];
		if (!is_echo(f->l4_proto, type))
			break;
		if (type == 8 || type == 128)
			w->sport_at = f->l4 + 4;
		else
			w->dport_at = f->l4 + 4;
		break;
	}
}

/*
 * Only the fields in w may differ from orig; addresses and ports hold what was
 * asked for (NULL: the old address).
 */
static void
check_fields(const struct frame *orig, const struct frame *f, const struct rw_fields *w,
	     const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	uint8_t may_change[FRAME_MAX];
	uint32_t i;

	assert_int_equal(orig->len, f->len);
	memset(may_change, 0, sizeof(may_change));
	memset(may_change + w->src_at, 1, w->addr_len);
	memset(may_change + w->dst_at, 1, w->addr_len);
	if (w->ip_csum_at)
		memset(may_change + w->ip_csum_at, 1, 2);
	if (w->sport_at)
		memset(may_change + w->sport_at, 1, 2);
	if (w->dport_at)
		memset(may_change + w->dport_at, 1, 2);
	if (w->l4_csum_at)
		memset(may_change + w->l4_csum_at, 1, w->l4_csum_len);
	for (i = 0; i < f->len; i++)
		if (!may_change[i] && orig->b[i] != f->b[i])
			fail_msg("byte %u changed: %02x -> %02x", i, orig->b[i], f->b[i]);

	assert_memory_equal(f->b + w->src_at, src ? src : orig->b + w->src_at, w->addr_len);
	assert_memory_equal(f->b + w->dst_at, dst ? dst : orig->b + w->dst_at, w->addr_len);
	if (w->sport_at)
		assert_int_equal(get16(f->b + w->sport_at), sport);
	if (w->dport_at)
		assert_int_equal(get16(f->b + w->dport_at), dport);
}

/* Every checksum of the whole frame f equals the one recomputed from scratch. */
static void
check_csums(const struct frame *orig, const struct frame *f)
{
	uint32_t l3_end = frame_l3_end(f), at;

	if ((f->b[f->l3] >> 4) == 4)
		assert_int_equal(get16(f->b + f->l3 + 10), ref_ipv4_csum(f->b + f->l3));
	if (f->l4 == 0)
		return;
	assert_true(l3_end <= f->len);
	if (f->l4_proto == PROTO_SCTP) {
		assert_int_equal(stored_sctp_crc(f->b, f->l4), ref_sctp_crc(f->b, f->l4, l3_end));
		return;
	}
	at = f->l4 + l4_csum_at(f->l4_proto);
	if ((f->l4_proto == PROTO_UDP || f->l4_proto == PROTO_UDPLITE) &&
	    get16(orig->b + at) == 0) {
		assert_int_equal(get16(f->b + at), 0); /* "no checksum" stays */
		return;
	}
	assert_int_equal(get16(f->b + at), ref_l4_csum(f->b, f->l3, f->l4, l3_end, f->l4_proto));
}

/*
 * Parse and rewrite the first caplen bytes of f in an exact-size heap copy
 * (AddressSanitizer catches a byte written past caplen), then put them back:
 * f ends up as the whole frame would look on the wire.
 */
static int
rewrite_n(struct frame *f, uint32_t caplen, const uint8_t *src, const uint8_t *dst,
	  uint16_t sport, uint16_t dport)
{
	struct dpf_pkt_info pi;
	uint8_t *copy;
	int rc;

	assert_true(caplen <= f->len);
	copy = malloc(caplen);
	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	assert_int_equal(dpf_pkt_parse(copy, caplen, &pi), DPF_PKT_OK);
	rc = dpf_pkt_rewrite(copy, caplen, &pi, src, dst, sport, dport);
	memcpy(f->b, copy, caplen);
	free(copy);
	return rc;
}

/*
 * Rewrite f (first caplen bytes), check fields and every checksum from
 * scratch, then rewrite back to the original tuple and expect the original
 * frame byte for byte.
 */
static void
rewrite_checked(struct frame *f, uint32_t caplen, const uint8_t *src, const uint8_t *dst,
		uint16_t sport, uint16_t dport)
{
	uint8_t old_src[16], old_dst[16];
	uint16_t old_sport = 0, old_dport = 0;
	struct rw_fields w;
	struct frame orig;

	orig = *f;
	rw_fields_of(f, &w);
	memset(old_src, 0, sizeof(old_src));
	memset(old_dst, 0, sizeof(old_dst));
	memcpy(old_src, f->b + w.src_at, w.addr_len);
	memcpy(old_dst, f->b + w.dst_at, w.addr_len);
	if (w.sport_at)
		old_sport = get16(f->b + w.sport_at);
	if (w.dport_at)
		old_dport = get16(f->b + w.dport_at);

	assert_int_equal(rewrite_n(f, caplen, src, dst, sport, dport), 0);
	check_fields(&orig, f, &w, src, dst, sport, dport);
	check_csums(&orig, f);

	assert_int_equal(rewrite_n(f, caplen, old_src, old_dst, old_sport, old_dport), 0);
	assert_memory_equal(f->b, orig.b, f->len);
}

static const uint8_t nat_v4_src[16] = {203, 0, 113, 7};
static const uint8_t nat_v4_dst[16] = {198, 51, 100, 200};
static const uint8_t nat_v6_src[16] = {0xfd, 0x00, 0x12, 0x34, [8] = 0xaa, [15] = 0x42};
static const uint8_t nat_v6_dst[16] = {0x26, 0x00, 0x1f, 0x18, [10] = 0xff, [15] = 0x09};

/* Payload bytes that differ from each other, so that a misplaced write shows. */
static void
payload_pattern(struct frame *f, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put8(f, (uint8_t)(i * 37 + 11));
}

/* ---- rewrite: IPv4 -------------------------------------------------------------------------- */

static void
test_rewrite_ipv4_tcp_updates_ip_and_tcp_checksums(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 5);
	tcp(&f, 1234, 80, TCP_SYN | TCP_ACK, 5);
	payload_pattern(&f, 33);
	ipv4_finish(&f);
	set_csums(&f);

	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 40000, 8080);
	rewrite_checked(&f, f.len, nat_v4_src, NULL, 1234, 80);
	rewrite_checked(&f, f.len, NULL, nat_v4_dst, 1234, 443);
	rewrite_checked(&f, f.len, NULL, NULL, 0, 65535);
}

static void
test_rewrite_ipv4_udp_updates_checksum(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 5353, 53);
	payload_pattern(&f, 41);
	ipv4_finish(&f);
	set_csums(&f);
	assert_int_not_equal(get16(f.b + f.l4 + 6), 0);

	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 1024, 5353);
	rewrite_checked(&f, f.len, NULL, nat_v4_dst, 5353, 53);
}

static void
test_rewrite_ipv4_udp_zero_checksum_stays_zero(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 4789, 4789);
	payload_pattern(&f, 20);
	ipv4_finish(&f);
	set_csums(&f);
	set16(&f, f.l4 + 6, 0);

	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 1000, 2000);
	assert_int_equal(rewrite_n(&f, f.len, nat_v4_src, nat_v4_dst, 1000, 2000), 0);
	assert_int_equal(get16(f.b + f.l4 + 6), 0);
}

/*
 * The destination port that makes the datagram's checksum compute to 0: the
 * folded sum with that port field 0, s, plus the port must make 0xffff.
 */
static uint16_t
dport_for_zero_checksum(const struct frame *f)
{
	struct frame g = *f;
	uint32_t sum;

	set16(&g, g.l4 + 2, 0);
	sum = ref_l4_sum(g.b, g.l3, g.l4, frame_l3_end(&g), g.l4_proto);
	return 0xffff - (uint16_t)~ref_finish(sum);
}

static void
test_rewrite_udp_checksum_computing_to_zero_is_written_ffff(void **state)
{
	uint16_t dport;
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 3000, 4000);
	payload_pattern(&f, 25);
	ipv4_finish(&f);
	set_csums(&f);
	dport = dport_for_zero_checksum(&f);
	rewrite_checked(&f, f.len, NULL, NULL, 3000, dport);
	assert_int_equal(rewrite_n(&f, f.len, NULL, NULL, 3000, dport), 0);
	assert_int_equal(get16(f.b + f.l4 + 6), 0xffff);

	/* TCP has no "no checksum": 0 is written as 0 (RFC 1624 keeps +0). */
	build_v4_tcp(&f, TCP_ACK, 13);
	set_csums(&f);
	dport = dport_for_zero_checksum(&f);
	rewrite_checked(&f, f.len, NULL, NULL, 1234, dport);
	assert_int_equal(rewrite_n(&f, f.len, NULL, NULL, 1234, dport), 0);
	assert_int_equal(get16(f.b + f.l4 + 16), 0);
	assert_int_equal(ref_l4_csum(f.b, f.l3, f.l4, frame_l3_end(&f), PROTO_TCP), 0);
}

static void
test_rewrite_ipv4_udplite_partial_coverage_updates_checksum(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDPLITE, 5);
	udp(&f, 5000, 5001); /* length field 8: RFC 3828 coverage of the header only */
	f.l4_proto = PROTO_UDPLITE;
	payload_pattern(&f, 30);
	ipv4_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 6000, 6001);
}

static void
test_rewrite_ipv4_icmp_echo_identifier_is_the_port(void **state)
{
	struct frame f;

	/* Request: the identifier takes new_sport, new_dport is not used. */
	build_v4_icmp(&f, 8, 0, 0x1234, 56);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 0x4321, 999);
	assert_int_equal(rewrite_n(&f, f.len, NULL, NULL, 0xbeef, 1), 0);
	assert_int_equal(get16(f.b + f.l4 + 4), 0xbeef);
	assert_int_equal(get16(f.b + f.l4 + 2), ref_l4_csum(f.b, f.l3, f.l4, f.len, PROTO_ICMP));

	/* Reply: the identifier takes new_dport. */
	build_v4_icmp(&f, 0, 0, 0x1234, 56);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 999, 0x4321);
	assert_int_equal(rewrite_n(&f, f.len, NULL, NULL, 1, 0xbeef), 0);
	assert_int_equal(get16(f.b + f.l4 + 4), 0xbeef);
}

static void
test_rewrite_ipv4_icmp_non_echo_changes_addresses_only(void **state)
{
	struct frame f;
	uint16_t icmp_csum;

	build_v4_icmp(&f, 3, 1, 0x0000, 28);
	set_csums(&f);
	icmp_csum = get16(f.b + f.l4 + 2);
	/* No port in an ICMP error: the ports given are not written anywhere. */
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 1111, 2222);
	assert_int_equal(rewrite_n(&f, f.len, nat_v4_src, nat_v4_dst, 1111, 2222), 0);
	assert_int_equal(get16(f.b + f.l4 + 2), icmp_csum);
	assert_int_equal(get16(f.b + f.l4 + 4), 0);
}

static void
test_rewrite_icmp_echo_identifier_not_captured_is_kept(void **state)
{
	struct frame f, orig;

	build_v4_icmp(&f, 8, 0, 0x1234, 32);
	set_csums(&f);
	orig = f;
	assert_int_equal(rewrite_n(&f, 14 + 20 + 6, nat_v4_src, nat_v4_dst, 0x9999, 0), 0);
	assert_memory_equal(f.b + f.l3 + 12, nat_v4_src, 4);
	assert_memory_equal(f.b + f.l3 + 16, nat_v4_dst, 4);
	assert_memory_equal(f.b + f.l4, orig.b + f.l4, f.len - f.l4);
	check_csums(&orig, &f);
}

static void
test_rewrite_ipv4_options_updates_checksums(void **state)
{
	struct frame f;
	uint32_t i;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 15);
	for (i = 0; i < 40; i++)
		f.b[f.l3 + 20 + i] = (uint8_t)(0x80 + i); /* option bytes differ from NOP fill */
	tcp(&f, 22, 50000, TCP_PSH | TCP_ACK, 8);
	payload_pattern(&f, 17);
	ipv4_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 2222, 50001);

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 7);
	udp(&f, 1, 2);
	payload_pattern(&f, 3);
	ipv4_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, NULL, 3, 4);
}

static void
test_rewrite_ipv4_first_fragment_updates_whole_datagram_checksum(void **state)
{
	const uint32_t first_data = 104; /* L4 bytes in the first fragment, a multiple of 8 */
	struct frame whole, f, orig, joined;
	struct rw_fields w;
	uint32_t l3_end;

	/* The UDP datagram as its sender checksummed it, before fragmentation. */
	eth(&whole, ETYPE_IPV4);
	ipv4(&whole, PROTO_UDP, 5);
	udp(&whole, 4000, 53);
	payload_pattern(&whole, 400);
	ipv4_finish(&whole);
	set_csums(&whole);

	f = whole;
	f.len = f.l4 + first_data;
	ipv4_set_frag(&f, IPV4_MF);
	ipv4_finish(&f);
	set16(&f, f.l3 + 10, ref_ipv4_csum(f.b + f.l3));
	orig = f;

	assert_int_equal(rewrite_n(&f, f.len, nat_v4_src, nat_v4_dst, 40000, 5353), 0);
	rw_fields_of(&f, &w);
	check_fields(&orig, &f, &w, nat_v4_src, nat_v4_dst, 40000, 5353);
	assert_int_equal(get16(f.b + f.l3 + 10), ref_ipv4_csum(f.b + f.l3));
	/* The UDP checksum covers all 408 bytes: check it on the datagram put back together. */
	joined = whole;
	memcpy(joined.b + joined.l3 + 12, f.b + f.l3 + 12, 8);
	memcpy(joined.b + joined.l4, f.b + f.l4, first_data);
	l3_end = frame_l3_end(&joined);
	assert_int_equal(get16(f.b + f.l4 + 6),
			 ref_l4_csum(joined.b, joined.l3, joined.l4, l3_end, PROTO_UDP));

	assert_int_equal(rewrite_n(&f, f.len, v4_src, v4_dst, 4000, 53), 0);
	assert_memory_equal(f.b, orig.b, f.len);
}

static void
test_rewrite_ipv4_later_fragment_changes_addresses_only(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 5);
	ipv4_set_frag(&f, 185);
	tcp(&f, 1111, 2222, TCP_SYN, 5); /* payload bytes that look like a TCP header */
	payload_pattern(&f, 60);
	ipv4_finish(&f);
	f.l4 = 0;
	set_csums(&f);
	/* rw_fields_of() maps no port: a port written anywhere fails the byte comparison. */
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 5, 6);

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_FRAGMENT);
	ipv6_frag(&f, PROTO_UDP, 181, 1, 0x01020304);
	udp(&f, 1, 2);
	payload_pattern(&f, 40);
	ipv6_finish(&f);
	f.l4 = 0;
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 5, 6);
}

static void
test_rewrite_vlan_and_qinq_frames(void **state)
{
	struct frame f;

	eth_macs(&f);
	vlan_tag(&f, TPID_8021Q, 100);
	put16(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 67, 68);
	payload_pattern(&f, 19);
	ipv4_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 1067, 1068);

	eth_macs(&f);
	vlan_tag(&f, TPID_8021AD, 4094);
	vlan_tag(&f, TPID_8021Q, 7);
	put16(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 6);
	tcp(&f, 33000, 443, TCP_ACK, 5);
	payload_pattern(&f, 100);
	ipv4_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 61000, 8443);

	eth_macs(&f);
	vlan_tag(&f, TPID_9100, 10);
	vlan_tag(&f, TPID_8021Q, 20);
	put16(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_UDP);
	udp(&f, 546, 547);
	payload_pattern(&f, 31);
	ipv6_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 10546, 10547);
}

/* ---- rewrite: IPv6 -------------------------------------------------------------------------- */

static void
test_rewrite_ipv6_tcp_and_udp_update_checksums(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_TCP);
	tcp(&f, 40000, 443, TCP_RST, 8);
	payload_pattern(&f, 5);
	ipv6_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 1, 2);
	rewrite_checked(&f, f.len, NULL, nat_v6_dst, 40000, 443);

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_UDP);
	udp(&f, 123, 123);
	payload_pattern(&f, 48);
	ipv6_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 30123, 123);
	rewrite_checked(&f, f.len, nat_v6_src, NULL, 123, 123);
}

static void
test_rewrite_ipv6_udp_zero_checksum_stays_zero(void **state)
{
	struct frame f;

	/* Only legal on tunnels (RFC 6936), and then left as the tunnel endpoint expects it. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_UDP);
	udp(&f, 4789, 4789);
	payload_pattern(&f, 50);
	ipv6_finish(&f);
	set_csums(&f);
	set16(&f, f.l4 + 6, 0);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 1, 4789);
}

static void
test_rewrite_icmpv6_updates_pseudo_header_and_echo_identifier(void **state)
{
	struct frame f;

	build_v6_icmp(&f, 128, 0, 0x0102, 56);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 0x0a0b, 7);

	build_v6_icmp(&f, 129, 0, 0x0102, 56);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 7, 0x0a0b);

	/* Not an echo: no identifier, but the pseudo-header still covers the addresses. */
	build_v6_icmp(&f, 135, 0, 0, 16);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 7, 8);
}

static void
test_rewrite_ipv6_extension_headers_updates_checksums(void **state)
{
	struct frame f;

	build_v6_ext_chain_tcp(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 15555, 16666);

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_AH);
	ipv6_ah(&f, PROTO_UDP, 4);
	udp(&f, 500, 4500);
	payload_pattern(&f, 32);
	ipv6_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, nat_v6_dst, 4500, 4501);

	/* Atomic fragment (RFC 6946): a fragment header in a whole datagram. */
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_HOPOPTS);
	ipv6_ext(&f, PROTO_FRAGMENT, 0);
	ipv6_frag(&f, PROTO_UDP, 0, 0, 0xdeadbeef);
	udp(&f, 4000, 5000);
	payload_pattern(&f, 64);
	ipv6_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, NULL, 4001, 5000);
}

static void
test_rewrite_ipv6_destination_with_segments_left_is_enotsup(void **state)
{
	struct frame f, orig;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_ROUTING);
	ipv6_ext(&f, PROTO_TCP, 2);
	f.b[f.l3 + 40 + 3] = 1; /* segments left */
	tcp(&f, 1000, 2000, TCP_SYN, 5);
	ipv6_finish(&f);
	set_csums(&f);
	orig = f;

	/* The fixed header's destination is the next hop; the pseudo-header's is not. */
	assert_int_equal(rewrite_n(&f, f.len, NULL, nat_v6_dst, 1000, 2000), -ENOTSUP);
	assert_memory_equal(f.b, orig.b, f.len);
	assert_int_equal(rewrite_n(&f, f.len, nat_v6_src, nat_v6_dst, 1, 2), -ENOTSUP);
	assert_memory_equal(f.b, orig.b, f.len);
	/* The source and the ports are fine. */
	rewrite_checked(&f, f.len, nat_v6_src, v6_dst, 1001, 2001);
}

/* ---- rewrite: SCTP -------------------------------------------------------------------------- */

static void
test_rewrite_sctp_whole_datagram_recomputes_crc32c(void **state)
{
	struct frame f;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_SCTP, 5);
	sctp(&f, 2905, 2906);
	payload_pattern(&f, 37);
	ipv4_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v4_src, nat_v4_dst, 3905, 3906);

	eth_macs(&f);
	vlan_tag(&f, TPID_8021Q, 5);
	put16(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_DSTOPTS);
	ipv6_ext(&f, PROTO_SCTP, 0);
	sctp(&f, 36412, 36412);
	payload_pattern(&f, 64);
	ipv6_finish(&f);
	put_fill(&f, 4, 0); /* trailer: not part of the SCTP packet */
	set_csums(&f);
	rewrite_checked(&f, f.len, nat_v6_src, NULL, 1, 36412);
}

static void
test_rewrite_sctp_port_change_without_whole_datagram_is_enotsup(void **state)
{
	struct frame f, orig;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_SCTP, 5);
	sctp(&f, 2905, 2906);
	payload_pattern(&f, 100);
	ipv4_finish(&f);
	set_csums(&f);
	orig = f;

	/* Cut by the capture. */
	assert_int_equal(rewrite_n(&f, f.len - 1, nat_v4_src, nat_v4_dst, 1, 2906), -ENOTSUP);
	assert_memory_equal(f.b, orig.b, f.len);
	assert_int_equal(rewrite_n(&f, f.l4 + 12, NULL, NULL, 2905, 1), -ENOTSUP);
	assert_memory_equal(f.b, orig.b, f.len);
	/* Addresses alone are not under the CRC: fine, even cut. */
	rewrite_checked(&f, f.l4 + 12, nat_v4_src, nat_v4_dst, 2905, 2906);

	/* A first fragment holds part of the SCTP packet only. */
	ipv4_set_frag(&f, IPV4_MF);
	set_csums(&f);
	orig = f;
	assert_int_equal(rewrite_n(&f, f.len, NULL, NULL, 1, 2), -ENOTSUP);
	assert_memory_equal(f.b, orig.b, f.len);
}

/* ---- rewrite: cut frames, aliasing, no-op, errors ------------------------------------------- */

static void
test_rewrite_frame_cut_by_capture_is_still_exact(void **state)
{
	struct frame f;
	uint32_t caplen;

	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_TCP, 5);
	tcp(&f, 1234, 80, TCP_ACK, 5);
	payload_pattern(&f, 900);
	ipv4_finish(&f);
	set_csums(&f);
	/* The checksum covers 900 bytes the rewrite never sees. */
	for (caplen = 14 + 20 + 20; caplen <= f.len; caplen += 97)
		rewrite_checked(&f, caplen, nat_v4_src, nat_v4_dst, 50000 + caplen, 8080);

	build_v6_ext_chain_tcp(&f);
	set_csums(&f);
	rewrite_checked(&f, 14 + 40 + 48 + 20, nat_v6_src, nat_v6_dst, 1, 2);

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_UDP);
	udp(&f, 500, 4500);
	payload_pattern(&f, 300);
	ipv6_finish(&f);
	set_csums(&f);
	rewrite_checked(&f, 14 + 40 + 8, nat_v6_src, nat_v6_dst, 1, 2);
}

static void
test_rewrite_swapping_addresses_from_the_frame_itself_works(void **state)
{
	struct dpf_pkt_info pi;
	struct rw_fields w;
	struct frame f, orig;
	uint8_t *copy;

	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_TCP);
	tcp(&f, 40000, 443, TCP_ACK, 5);
	payload_pattern(&f, 10);
	ipv6_finish(&f);
	set_csums(&f);
	orig = f;
	rw_fields_of(&f, &w);

	copy = malloc(f.len);
	assert_non_null(copy);
	memcpy(copy, f.b, f.len);
	assert_int_equal(dpf_pkt_parse(copy, f.len, &pi), DPF_PKT_OK);
	assert_int_equal(dpf_pkt_rewrite(copy, f.len, &pi, copy + w.dst_at, copy + w.src_at, 443,
					 40000), 0);
	memcpy(f.b, copy, f.len);
	free(copy);
	check_fields(&orig, &f, &w, v6_dst, v6_src, 443, 40000);
	check_csums(&orig, &f);
}

static void
test_rewrite_to_the_same_tuple_changes_nothing(void **state)
{
	struct frame f, orig;

	build_v4_tcp(&f, TCP_SYN, 20);
	set_csums(&f);
	orig = f;
	assert_int_equal(rewrite_n(&f, f.len, v4_src, v4_dst, 1234, 80), 0);
	assert_memory_equal(f.b, orig.b, f.len);
	assert_int_equal(rewrite_n(&f, f.len, NULL, NULL, 1234, 80), 0);
	assert_memory_equal(f.b, orig.b, f.len);

	build_v4_icmp(&f, 8, 0, 0x1234, 8);
	set_csums(&f);
	orig = f;
	assert_int_equal(rewrite_n(&f, f.len, v4_src, NULL, 0x1234, 0), 0);
	assert_memory_equal(f.b, orig.b, f.len);
}

static void
test_rewrite_rejects_what_is_not_a_parsed_ip_frame(void **state)
{
	struct dpf_pkt_info pi, pi6;
	struct frame f, v6, orig;

	build_v4_tcp(&f, TCP_SYN, 0);
	set_csums(&f);
	orig = f;
	assert_int_equal(dpf_pkt_parse(f.b, f.len, &pi), DPF_PKT_OK);
	assert_int_equal(dpf_pkt_rewrite(NULL, f.len, &pi, NULL, NULL, 1, 2), -EINVAL);
	assert_int_equal(dpf_pkt_rewrite(f.b, f.len, NULL, NULL, NULL, 1, 2), -EINVAL);
	/* Headers past caplen; a TCP header cut after its ports has no checksum to keep. */
	assert_int_equal(dpf_pkt_rewrite(f.b, 14 + 20 + 3, &pi, nat_v4_src, NULL, 1, 2), -EINVAL);
	assert_int_equal(dpf_pkt_rewrite(f.b, 14 + 20 + 19, &pi, nat_v4_src, NULL, 1, 2), -ENOTSUP);
	assert_int_equal(dpf_pkt_rewrite(f.b, 14 + 19, &pi, nat_v4_src, NULL, 1, 2), -EINVAL);
	assert_memory_equal(f.b, orig.b, f.len);

	/* The parse result of another frame. */
	eth(&v6, ETYPE_IPV6);
	ipv6(&v6, PROTO_UDP);
	udp(&v6, 1, 2);
	ipv6_finish(&v6);
	assert_int_equal(dpf_pkt_parse(v6.b, v6.len, &pi6), DPF_PKT_OK);
	assert_int_equal(dpf_pkt_rewrite(f.b, f.len, &pi6, nat_v6_src, NULL, 1, 2), -EINVAL);
	pi.family = 6;
	assert_int_equal(dpf_pkt_rewrite(f.b, f.len, &pi, nat_v6_src, NULL, 1, 2), -EINVAL);
	assert_memory_equal(f.b, orig.b, f.len);

	/* Not IP: nothing to rewrite. */
	eth(&f, ETYPE_ARP);
	payload(&f, 28);
	orig = f;
	assert_int_equal(dpf_pkt_parse(f.b, f.len, &pi), DPF_PKT_NOT_IP);
	assert_int_equal(dpf_pkt_rewrite(f.b, f.len, &pi, nat_v4_src, NULL, 1, 2), -EINVAL);
	assert_memory_equal(f.b, orig.b, f.len);
}

/* ---- rewrite: random frames ----------------------------------------------------------------- */

static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

/* A valid TCP or UDP frame over IPv4 or IPv6 with random tags, headers, addresses and payload. */
static void
build_random_frame(struct frame *f, uint32_t *seed)
{
	static const uint16_t tpids[] = {TPID_8021Q, TPID_8021AD, TPID_9100};
	uint8_t proto = (rnd(seed) & 1) ? PROTO_TCP : PROTO_UDP;
	uint32_t n_tags = rnd(seed) % 3, n_data = rnd(seed) % 400, i, n_ext;
	uint8_t ext[3];

	eth_macs(f);
	for (i = 0; i < n_tags; i++)
		vlan_tag(f, tpids[rnd(seed) % 3], rnd(seed) & 0xfff);
	if (rnd(seed) & 1) {
		put16(f, ETYPE_IPV4);
		ipv4(f, proto, 5 + rnd(seed) % 11);
		for (i = 1; i < 20; i++)
			if (i != 2 && i != 3 && i != 9 && (i < 6 || i > 7))
				f->b[f->l3 + i] = rnd(seed); /* tos, id, ttl, checksum, addresses */
		for (i = 20; i < (f->b[f->l3] & 0xfu) * 4; i++)
			f->b[f->l3 + i] = rnd(seed);
		ipv4_set_frag(f, (rnd(seed) & 1) ? 0x4000 : 0); /* DF or nothing: not a fragment */
	} else {
		put16(f, ETYPE_IPV6);
		n_ext = rnd(seed) % 4;
		for (i = 0; i < n_ext; i++)
			ext[i] = (i == 0 && (rnd(seed) & 1)) ? PROTO_HOPOPTS :
				 (rnd(seed) & 1) ? PROTO_DSTOPTS : PROTO_ROUTING;
		ipv6(f, n_ext > 0 ? ext[0] : proto);
		/* Traffic class, flow label, addresses. */
		for (i = 1; i < 40; i++)
			if (i < 4 || i >= 8)
				f->b[f->l3 + i] = rnd(seed);
		for (i = 0; i < n_ext; i++)
			ipv6_ext(f, i + 1 < n_ext ? ext[i + 1] : proto, rnd(seed) % 3);
	}
	if (proto == PROTO_TCP)
		tcp(f, rnd(seed), rnd(seed), rnd(seed), 5 + rnd(seed) % 4);
	else
		udp(f, rnd(seed), rnd(seed));
	for (i = 0; i < n_data; i++)
		put8(f, rnd(seed));
	if ((f->b[f->l3] >> 4) == 4)
		ipv4_finish(f);
	else
		ipv6_finish(f);
	set_csums(f);
	if (proto == PROTO_UDP && rnd(seed) % 8 == 0)
		set16(f, f->l4 + 6, 0);
}

/*
 * 5000 random frames, random new tuples (addresses NULL, the same or new;
 * ports the same or new), a quarter of them cut by the capture after the L4
 * header: every checksum recomputed from scratch, every other byte compared,
 * and the way back to the original frame checked.
 */
static void
test_rewrite_random_tcp_udp_frames_keep_checksums_exact(void **state)
{
	uint8_t new_src[16], new_dst[16];
	uint32_t seed = 20240611, caplen, i, min_cap;
	uint16_t sport, dport;
	const uint8_t *src, *dst;
	struct frame f;
	int iter;

	for (iter = 0; iter < 5000; iter++) {
		build_random_frame(&f, &seed);
		for (i = 0; i < 16; i++) {
			new_src[i] = rnd(&seed);
			new_dst[i] = rnd(&seed);
		}
		switch (rnd(&seed) % 4) {
		case 0:
			src = NULL;
			break;
		case 1:
			src = f.b + f.l3 + ((f.b[f.l3] >> 4) == 4 ? 12 : 8);
			memcpy(new_src, src, 16);
			src = new_src;
			break;
		default:
			src = new_src;
			break;
		}
		dst = (rnd(&seed) % 4 == 0) ? NULL : new_dst;
		sport = (rnd(&seed) % 4 == 0) ? get16(f.b + f.l4) : rnd(&seed);
		dport = (rnd(&seed) % 4 == 0) ? get16(f.b + f.l4 + 2) : rnd(&seed);
		min_cap = f.l4 + (f.l4_proto == PROTO_TCP ? 20 : 8);
		caplen = f.len;
		if (rnd(&seed) % 4 == 0)
			caplen = min_cap + rnd(&seed) % (f.len - min_cap + 1);
		rewrite_checked(&f, caplen, src, dst, sport, dport);
	}
}

/* ---- ICMP errors (RFC 5508) ------------------------------------------------------------------ */

/*
 * An ICMP error from v4_src (or v6_src) to v4_dst about a packet v4_dst sent
 * to v4_src: the quoted datagram (qproto, ports 5353 -> 53 or echo id 0x1234)
 * is built whole with its checksums, then cut to quote_l4 bytes of L4 header
 * and payload. The offsets of the pieces are returned for the checks.
 */
struct icmp_err_frame {
	struct frame f;
	uint32_t icmp;	/* outer ICMP header */
	uint32_t q;	/* quoted IP header */
	uint32_t ql4;	/* quoted L4 header */
	uint32_t q_end; /* end of the quoted datagram as built (before the cut) */
	uint8_t qproto;
};

static void
build_icmp_error(struct icmp_err_frame *e, int v6, uint8_t qproto, uint32_t quote_l4)
{
	struct frame *f = &e->f;
	struct frame q;
	uint32_t i, qlen;

	/* The quoted datagram, alone, with its own checksums. */
	memset(&q, 0, sizeof(q));
	if (v6) {
		ipv6(&q, qproto);
		/* It went the other way: swap the addresses. */
		memcpy(q.b + q.l3 + 8, v6_dst, 16);
		memcpy(q.b + q.l3 + 24, v6_src, 16);
	} else {
		ipv4(&q, qproto, 5);
		memcpy(q.b + q.l3 + 12, v4_dst, 4);
		memcpy(q.b + q.l3 + 16, v4_src, 4);
	}
	if (qproto == PROTO_UDP)
		udp(&q, 5353, 53);
	else if (qproto == PROTO_TCP)
		tcp(&q, 40000, 443, TCP_SYN, 5);
	else {
		icmp_echo(&q, v6 ? 128 : 8);
		set16(&q, q.l4 + 4, 0x1234);
	}
	payload_pattern(&q, 24);
	if (v6)
		ipv6_finish(&q);
	else
		ipv4_finish(&q);
	set_csums(&q);
	e->qproto = qproto;

	eth(f, v6 ? ETYPE_IPV6 : ETYPE_IPV4);
	if (v6)
		ipv6(f, PROTO_ICMPV6);
	else
		ipv4(f, PROTO_ICMP, 5);
	e->icmp = f->len;
	f->l4 = f->len;
	f->l4_proto = v6 ? PROTO_ICMPV6 : PROTO_ICMP;
	put8(f, v6 ? 1 : 3); /* destination / port unreachable */
	put8(f, v6 ? 4 : 3);
	put16(f, 0);
	put32(f, 0);
	e->q = f->len;
	e->ql4 = e->q + (q.l4 - q.l3);
	qlen = (q.l4 - q.l3) + quote_l4;
	e->q_end = e->q + (q.len - q.l3);
	assert_true(qlen <= q.len - q.l3);
	for (i = 0; i < qlen; i++)
		put8(f, q.b[q.l3 + i]);
	if (v6)
		ipv6_finish(f);
	else
		ipv4_finish(f);
	set_csums(f);
}

/* The whole quoted datagram (quote_l4 large enough), for the quoted L4 checksum. */
static void
assert_icmp_error_csums(const struct icmp_err_frame *e, int quoted_l4_csum)
{
	const struct frame *f = &e->f;
	uint32_t l3_end = frame_l3_end(f);

	if ((f->b[f->l3] >> 4) == 4) {
		assert_int_equal(get16(f->b + f->l3 + 10), ref_ipv4_csum(f->b + f->l3));
		assert_int_equal(get16(f->b + e->q + 10), ref_ipv4_csum(f->b + e->q));
	}
	assert_int_equal(get16(f->b + e->icmp + 2),
			 ref_l4_csum(f->b, f->l3, e->icmp, l3_end, f->l4_proto));
	if (quoted_l4_csum)
		assert_int_equal(get16(f->b + e->ql4 + l4_csum_at(e->qproto)),
				 ref_l4_csum(f->b, e->q, e->ql4, e->q_end, e->qproto));
}

static int
icmp_error_parse(const struct frame *f, struct dpf_pkt_info *pi, struct dpf_pkt_inner *in)
{
	assert_int_equal(dpf_pkt_parse(f->b, f->len, pi), DPF_PKT_OK);
	return dpf_pkt_icmp_error_parse(f->b, f->len, pi, in);
}

static void
test_icmp_error_parse_ipv4_reads_the_quoted_tuple(void **state)
{
	struct icmp_err_frame e;
	struct dpf_pkt_info pi;
	struct dpf_pkt_inner in;

	(void)state;
	build_icmp_error(&e, 0, PROTO_UDP, 8);
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), 0);
	assert_int_equal(in.family, 4);
	assert_int_equal(in.proto, PROTO_UDP);
	assert_memory_equal(in.src_addr, v4_dst, 16);
	assert_memory_equal(in.dst_addr, v4_src, 16);
	assert_int_equal(in.has_ports, 1);
	assert_int_equal(in.src_port, 5353);
	assert_int_equal(in.dst_port, 53);
	assert_int_equal(in.l3_offset, e.q);
	assert_int_equal(in.l4_offset, e.ql4);
	assert_int_equal(in.l4_len, 8);

	build_icmp_error(&e, 0, PROTO_ICMP, 8);
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), 0);
	assert_int_equal(in.has_ports, 0);
	assert_int_equal(in.has_icmp_id, 1);
	assert_int_equal(in.icmp_id, 0x1234);
	assert_int_equal(in.icmp_type, 8);
}

static void
test_icmp_error_parse_ipv6_reads_the_quoted_tuple(void **state)
{
	struct icmp_err_frame e;
	struct dpf_pkt_info pi;
	struct dpf_pkt_inner in;

	(void)state;
	build_icmp_error(&e, 1, PROTO_TCP, 20);
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), 0);
	assert_int_equal(in.family, 6);
	assert_int_equal(in.proto, PROTO_TCP);
	assert_memory_equal(in.src_addr, v6_dst, 16);
	assert_memory_equal(in.dst_addr, v6_src, 16);
	assert_int_equal(in.src_port, 40000);
	assert_int_equal(in.dst_port, 443);
	assert_int_equal(in.l4_len, 20);
}

static void
test_icmp_error_parse_other_messages_are_enoent(void **state)
{
	struct dpf_pkt_info pi;
	struct dpf_pkt_inner in;
	struct frame f;

	(void)state;
	eth(&f, ETYPE_IPV4);
	ipv4(&f, PROTO_ICMP, 5);
	icmp_echo(&f, 8);
	ipv4_finish(&f);
	assert_int_equal(icmp_error_parse(&f, &pi, &in), -ENOENT);
	build_v4_tcp(&f, TCP_SYN, 0);
	assert_int_equal(icmp_error_parse(&f, &pi, &in), -ENOENT);
	eth(&f, ETYPE_IPV6);
	ipv6(&f, PROTO_ICMPV6);
	icmp_echo(&f, 129);
	ipv6_finish(&f);
	assert_int_equal(icmp_error_parse(&f, &pi, &in), -ENOENT);
}

static void
test_icmp_error_parse_quote_cut_in_its_ip_header_is_einval(void **state)
{
	struct icmp_err_frame e;
	struct dpf_pkt_info pi;
	struct dpf_pkt_inner in;

	(void)state;
	build_icmp_error(&e, 0, PROTO_UDP, 8);
	/* Cut inside the quoted IPv4 header (the outer length agrees). */
	e.f.len = e.q + 12;
	ipv4_finish(&e.f);
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), -EINVAL);
	/* Quoted version 6 in an ICMPv4 message. */
	build_icmp_error(&e, 0, PROTO_UDP, 8);
	e.f.b[e.q] = 0x65;
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), -EINVAL);
}

static void
test_icmp_error_parse_quoted_later_fragment_has_no_ports(void **state)
{
	struct icmp_err_frame e;
	struct dpf_pkt_inner in;
	struct dpf_pkt_info pi;

	(void)state;
	build_icmp_error(&e, 0, PROTO_UDP, 8);
	set16(&e.f, e.q + 6, 0x0010); /* offset 128 bytes */
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), 0);
	assert_int_equal(in.has_ports, 0);
	assert_int_equal(in.l4_offset, 0);
	assert_memory_equal(in.src_addr, v4_dst, 16);
}

/* Rewrite, check every checksum from scratch, rewrite back: the original frame. */
static void
icmp_error_rewrite_checked(struct icmp_err_frame *e, int quoted_l4_csum, const uint8_t *osrc,
			   const uint8_t *odst, const uint8_t *qsrc, const uint8_t *qdst,
			   uint16_t qsport, uint16_t qdport)
{
	struct icmp_err_frame orig = *e;
	struct dpf_pkt_info pi;
	struct dpf_pkt_inner in, in2;
	uint8_t old_osrc[16] = {0}, old_odst[16] = {0}, old_qsrc[16], old_qdst[16];
	uint32_t alen = (e->f.b[e->f.l3] >> 4) == 4 ? 4 : 16;
	uint32_t sat = alen == 4 ? 12 : 8, dat = alen == 4 ? 16 : 24;
	uint8_t *copy;

	assert_int_equal(icmp_error_parse(&e->f, &pi, &in), 0);
	memcpy(old_osrc, e->f.b + e->f.l3 + sat, alen);
	memcpy(old_odst, e->f.b + e->f.l3 + dat, alen);
	memcpy(old_qsrc, in.src_addr, 16);
	memcpy(old_qdst, in.dst_addr, 16);
	/* An exact-size copy: a write past the captured bytes is an overflow. */
	copy = malloc(e->f.len);
	assert_non_null(copy);
	memcpy(copy, e->f.b, e->f.len);
	assert_int_equal(dpf_pkt_icmp_error_rewrite(copy, e->f.len, &pi, &in, osrc, odst, qsrc,
						    qdst, qsport, qdport),
			 0);
	memcpy(e->f.b, copy, e->f.len);
	free(copy);
	if (osrc != NULL)
		assert_memory_equal(e->f.b + e->f.l3 + sat, osrc, alen);
	if (odst != NULL)
		assert_memory_equal(e->f.b + e->f.l3 + dat, odst, alen);
	assert_int_equal(icmp_error_parse(&e->f, &pi, &in2), 0);
	if (qsrc != NULL)
		assert_memory_equal(in2.src_addr, qsrc, 16);
	if (qdst != NULL)
		assert_memory_equal(in2.dst_addr, qdst, 16);
	if (in.has_ports) {
		assert_int_equal(in2.src_port, qsport);
		assert_int_equal(in2.dst_port, qdport);
	}
	if (in.has_icmp_id)
		assert_int_equal(in2.icmp_id, qsport);
	assert_icmp_error_csums(e, quoted_l4_csum);
	/* Only what the rewrite names changed: nothing else differs. */
	assert_int_equal(dpf_pkt_icmp_error_rewrite(
				 e->f.b, e->f.len, &pi, &in2, old_osrc, old_odst, old_qsrc,
				 old_qdst, in.has_icmp_id ? in.icmp_id : in.src_port, in.dst_port),
			 0);
	assert_memory_equal(e->f.b, orig.f.b, e->f.len);
}

static void
test_icmp_error_rewrite_ipv4_udp_updates_every_checksum(void **state)
{
	struct icmp_err_frame e;

	(void)state;
	/* The whole quoted datagram: its UDP checksum can be checked too. */
	build_icmp_error(&e, 0, PROTO_UDP, 8 + 24);
	assert_icmp_error_csums(&e, 1);
	/* Masquerade, inbound: outer destination and quoted source de-translated. */
	icmp_error_rewrite_checked(&e, 1, NULL, nat_v4_src, nat_v4_src, NULL, 40001, 53);
	/* Static, both sides. */
	icmp_error_rewrite_checked(&e, 1, nat_v4_dst, nat_v4_src, nat_v4_src, nat_v4_dst, 5353,
				   8053);
}

static void
test_icmp_error_rewrite_ipv4_tcp_quote_of_8_bytes(void **state)
{
	struct icmp_err_frame e;

	(void)state;
	/* RFC 792's minimum: the TCP checksum is not quoted, the ports are. */
	build_icmp_error(&e, 0, PROTO_TCP, 8);
	icmp_error_rewrite_checked(&e, 0, nat_v4_dst, NULL, NULL, nat_v4_dst, 40000, 8443);
	/* Quoted whole: its checksum follows the quoted addresses and ports. */
	build_icmp_error(&e, 0, PROTO_TCP, 20 + 24);
	icmp_error_rewrite_checked(&e, 1, nat_v4_dst, NULL, NULL, nat_v4_dst, 40000, 8443);
}

static void
test_icmp_error_rewrite_ipv4_quoted_echo_identifier(void **state)
{
	struct icmp_err_frame e;

	(void)state;
	build_icmp_error(&e, 0, PROTO_ICMP, 8 + 24);
	icmp_error_rewrite_checked(&e, 1, NULL, nat_v4_src, nat_v4_src, NULL, 0x4321, 0);
}

static void
test_icmp_error_rewrite_ipv6_updates_every_checksum(void **state)
{
	struct icmp_err_frame e;

	(void)state;
	build_icmp_error(&e, 1, PROTO_UDP, 8 + 24);
	assert_icmp_error_csums(&e, 1);
	icmp_error_rewrite_checked(&e, 1, NULL, nat_v6_src, nat_v6_src, NULL, 20001, 53);
	icmp_error_rewrite_checked(&e, 1, nat_v6_dst, nat_v6_src, nat_v6_src, nat_v6_dst, 1, 2);
	build_icmp_error(&e, 1, PROTO_TCP, 20 + 24);
	icmp_error_rewrite_checked(&e, 1, nat_v6_dst, NULL, NULL, nat_v6_dst, 40000, 8443);
	build_icmp_error(&e, 1, PROTO_ICMPV6, 8 + 24);
	icmp_error_rewrite_checked(&e, 1, NULL, nat_v6_src, nat_v6_src, NULL, 0x0777, 0);
}

static void
test_icmp_error_rewrite_rejects_a_foreign_description(void **state)
{
	struct icmp_err_frame e, orig;
	struct dpf_pkt_info pi;
	struct dpf_pkt_inner in;

	(void)state;
	build_icmp_error(&e, 0, PROTO_UDP, 8);
	orig = e;
	assert_int_equal(icmp_error_parse(&e.f, &pi, &in), 0);
	in.l3_offset += 4;
	assert_int_equal(dpf_pkt_icmp_error_rewrite(e.f.b, e.f.len, &pi, &in, nat_v4_src, NULL,
						    NULL, NULL, 1, 2),
			 -EINVAL);
	in.l3_offset -= 4;
	in.l4_len = 2; /* ports would be written past the quote */
	assert_int_equal(dpf_pkt_icmp_error_rewrite(e.f.b, e.f.len, &pi, &in, nat_v4_src, NULL,
						    NULL, NULL, 1, 2),
			 -EINVAL);
	in.l4_len = 8;
	in.family = 6;
	assert_int_equal(dpf_pkt_icmp_error_rewrite(e.f.b, e.f.len, &pi, &in, nat_v4_src, NULL,
						    NULL, NULL, 1, 2),
			 -EINVAL);
	assert_memory_equal(e.f.b, orig.f.b, e.f.len);
}

/* ---- tunnels ---------------------------------------------------------------------------------
 */

static void
assert_inner_tcp(const struct dpf_pkt_info *pi, uint32_t l3_len)
{
	assert_int_equal(pi->family, 4);
	assert_memory_equal(pi->src_addr, in_src, 4);
	assert_memory_equal(pi->dst_addr, in_dst, 4);
	assert_int_equal(pi->proto, PROTO_TCP);
	assert_int_equal(pi->l4.src_port, 40000);
	assert_int_equal(pi->l4.dst_port, 443);
	assert_int_equal(pi->tcp_flags, TCP_SYN);
	assert_int_equal(pi->l3_len, l3_len);
}

static void
test_decap_vxlan_gives_inner_flow_vni_and_outer_addresses(void **state)
{
	struct frame f;
	struct outer o = outer_start(&f, 0, PROTO_UDP, VXLAN_PORT);
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	uint32_t eth_at;

	(void)state;
	vxlan_hdr(&f, 0x08, 0xabcdef);
	eth_at = f.len;
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 100);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 20 + 20 + 100);
	assert_int_equal(pi.tun_type, DPF_TUN_VXLAN);
	assert_int_equal(pi.tun_has_id, 1);
	assert_int_equal(pi.tun_id, 0xabcdef);
	assert_int_equal(pi.l3_offset, eth_at + 14);
	assert_int_equal(pi.l4_offset, eth_at + 14 + 20);
	assert_int_equal(tun.has_eth, 1);
	assert_int_equal(tun.eth_offset, eth_at);
	assert_int_equal(tun.outer_family, 4);
	assert_memory_equal(tun.outer_src, v4_src, 16);
	assert_memory_equal(tun.outer_dst, v4_dst, 16);
	assert_string_equal(dpf_pkt_tun_name(pi.tun_type), "vxlan");
}

static void
test_decap_vxlan_inner_vlan_and_ipv6_outer(void **state)
{
	struct frame f;
	struct outer o = outer_start(&f, 1, PROTO_UDP, VXLAN_PORT);
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;

	(void)state;
	vxlan_hdr(&f, 0x08, 7);
	inner_eth(&f, ETYPE_IPV4, 300);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 40);
	assert_int_equal(pi.n_vlans, 1);
	assert_int_equal(pi.vlan[0], 300);
	assert_int_equal(tun.outer_family, 6);
	assert_memory_equal(tun.outer_src, v6_src, 16);
	assert_memory_equal(tun.outer_dst, v6_dst, 16);
}

static void
test_decap_vxlan_ports_and_types_are_the_configured_ones(void **state)
{
	struct dpf_pkt_decap_cfg cfg = {.types = DPF_PKT_TUN_BIT(DPF_TUN_VXLAN),
					.n_vxlan_ports = 2,
					.vxlan_ports = {4789, 8472}};
	struct frame f;
	struct outer o = outer_start(&f, 0, PROTO_UDP, 8472);
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;

	(void)state;
	vxlan_hdr(&f, 0x08, 9);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &cfg, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.tun_type, DPF_TUN_VXLAN);
	/* Port 8472 is not in decap_all's list: the outer UDP flow. */
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.tun_type, DPF_TUN_NONE);
	assert_int_equal(pi.l4.dst_port, 8472);
	/* VXLAN not opened: nothing is. */
	cfg.types = DPF_PKT_TUN_BIT(DPF_TUN_GRE);
	assert_int_equal(parse_decap_cfg(&f, f.len, &cfg, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.tun_type, DPF_TUN_NONE);
	assert_int_equal(pi.proto, PROTO_UDP);
}

static void
test_decap_geneve_skips_options_and_carries_ethernet_or_ip(void **state)
{
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	struct outer o;
	struct frame f;

	(void)state;
	o = outer_start(&f, 0, PROTO_UDP, GENEVE_PORT);
	geneve_hdr(&f, 0, 3, ETYPE_TEB, 0x123456);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 10);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 50);
	assert_int_equal(pi.tun_type, DPF_TUN_GENEVE);
	assert_int_equal(pi.tun_id, 0x123456);
	assert_int_equal(tun.eth_offset, 14 + 20 + 8 + 8 + 12);

	o = outer_start(&f, 0, PROTO_UDP, GENEVE_PORT);
	geneve_hdr(&f, 0, 0, ETYPE_IPV4, 5);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 40);
	assert_int_equal(tun.has_eth, 0);

	/* A protocol type that is neither: not opened, the outer flow. */
	o = outer_start(&f, 0, PROTO_UDP, GENEVE_PORT);
	geneve_hdr(&f, 0, 0, 0x8847, 5);
	payload(&f, 20);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.tun_type, DPF_TUN_NONE);
}

static void
test_decap_gre_key_checksum_sequence_and_nvgre(void **state)
{
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	struct outer o;
	struct frame f;

	(void)state;
	o = outer_start(&f, 0, PROTO_GRE, 0);
	gre_hdr(&f, GRE_C | GRE_K | GRE_S, ETYPE_IPV4, 0xfedcba98);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 40);
	assert_int_equal(pi.tun_type, DPF_TUN_GRE);
	assert_int_equal(pi.tun_has_id, 1);
	assert_int_equal(pi.tun_id, 0xfedcba98);

	/* NVGRE: Ethernet inside, VSID = the key's upper 24 bits. */
	o = outer_start(&f, 0, PROTO_GRE, 0);
	gre_hdr(&f, GRE_K, ETYPE_TEB, 0x00abcd01);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 40);
	assert_int_equal(pi.tun_id, 0xabcd);
	assert_int_equal(pi.tun_has_id, DPF_PKT_TUN_ID_VSID);
	assert_int_equal(tun.has_eth, 1);

	/* No key: no id. */
	o = outer_start(&f, 0, PROTO_GRE, 0);
	gre_hdr(&f, 0, ETYPE_IPV4, 0);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 40);
	assert_int_equal(pi.tun_has_id, 0);
	assert_int_equal(pi.tun_id, 0);
}

static void
test_decap_ip_in_ip_both_families(void **state)
{
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	struct outer o;
	struct frame f;

	(void)state;
	o = outer_start(&f, 0, PROTO_IPIP, 0);
	inner_ipv4_tcp(&f, 3);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_inner_tcp(&pi, 43);
	assert_int_equal(pi.tun_type, DPF_TUN_IPIP);
	assert_int_equal(pi.tun_has_id, 0);

	o = outer_start(&f, 1, PROTO_IPV6_IN_IP, 0);
	ipv6(&f, PROTO_UDP);
	udp(&f, 5353, 53);
	payload(&f, 4);
	ipv6_finish(&f);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.family, 6);
	assert_int_equal(pi.proto, PROTO_UDP);
	assert_int_equal(pi.l4.dst_port, 53);
	assert_int_equal(pi.l3_len, 40 + 8 + 4);
	assert_int_equal(tun.outer_family, 6);
}

/* One level deep: VXLAN inside VXLAN is the inner UDP flow to 4789. */
static void
test_decap_tunnel_in_tunnel_is_opened_once(void **state)
{
	struct frame f;
	struct outer o = outer_start(&f, 0, PROTO_UDP, VXLAN_PORT);
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	uint32_t inner;

	(void)state;
	vxlan_hdr(&f, 0x08, 1);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner = f.len;
	ipv4(&f, PROTO_UDP, 5);
	udp(&f, 777, VXLAN_PORT);
	vxlan_hdr(&f, 0x08, 2);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 0);
	f.l3 = inner;
	ipv4_finish(&f);
	set16(&f, inner + 20 + 4, f.len - inner - 20);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.tun_id, 1);
	assert_int_equal(pi.proto, PROTO_UDP);
	assert_int_equal(pi.l4.src_port, 777);
	assert_int_equal(pi.l4.dst_port, VXLAN_PORT);
}

static void
test_decap_outer_fragment_and_inner_arp(void **state)
{
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	struct outer o;
	struct frame f;

	(void)state;
	/* A first fragment of a tunnel packet: not opened (its later ones cannot be). */
	o = outer_start(&f, 0, PROTO_UDP, VXLAN_PORT);
	vxlan_hdr(&f, 0x08, 1);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 0);
	tun_finish(&f, &o);
	f.l3 = o.l3;
	ipv4_set_frag(&f, IPV4_MF);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_OK);
	assert_int_equal(pi.tun_type, DPF_TUN_NONE);
	assert_int_equal(pi.frag, DPF_PKT_FRAG_FIRST);

	o = outer_start(&f, 0, PROTO_UDP, VXLAN_PORT);
	vxlan_hdr(&f, 0x08, 1);
	inner_eth(&f, ETYPE_ARP, -1);
	payload(&f, 28);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, f.len, &decap_all, &pi, &tun), DPF_PKT_NOT_IP);
}

/* The inner packet is cut by a snap length like an outer one: valid, full length. */
static void
test_decap_inner_cut_by_snaplen_keeps_ip_length(void **state)
{
	struct frame f;
	struct outer o = outer_start(&f, 0, PROTO_UDP, VXLAN_PORT);
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;

	(void)state;
	vxlan_hdr(&f, 0x08, 1);
	inner_eth(&f, ETYPE_IPV4, -1);
	inner_ipv4_tcp(&f, 1000);
	tun_finish(&f, &o);
	assert_int_equal(parse_decap_cfg(&f, 14 + 20 + 8 + 8 + 14 + 20 + 20, &decap_all, &pi, &tun),
			 DPF_PKT_OK);
	assert_inner_tcp(&pi, 1040);
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
		cmocka_unit_test(test_parse_unsupported_encapsulations_as_documented),
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
		cmocka_unit_test(
			test_parse_l4_cut_after_ports_is_logged_with_ports_and_unknown_flags),
		cmocka_unit_test(test_parse_length_field_0_takes_the_frame_length),
		cmocka_unit_test(test_parse_every_malformed_reason_has_a_case),
		cmocka_unit_test(test_decap_vxlan_gives_inner_flow_vni_and_outer_addresses),
		cmocka_unit_test(test_decap_vxlan_inner_vlan_and_ipv6_outer),
		cmocka_unit_test(test_decap_vxlan_ports_and_types_are_the_configured_ones),
		cmocka_unit_test(test_decap_geneve_skips_options_and_carries_ethernet_or_ip),
		cmocka_unit_test(test_decap_gre_key_checksum_sequence_and_nvgre),
		cmocka_unit_test(test_decap_ip_in_ip_both_families),
		cmocka_unit_test(test_decap_tunnel_in_tunnel_is_opened_once),
		cmocka_unit_test(test_decap_outer_fragment_and_inner_arp),
		cmocka_unit_test(test_decap_inner_cut_by_snaplen_keeps_ip_length),
		cmocka_unit_test(test_parse_v4_tcp_cut_at_every_length_never_reads_past_caplen),
		cmocka_unit_test(test_parse_v6_ext_tcp_cut_at_every_length_never_reads_past_caplen),
		cmocka_unit_test(test_parse_qinq_cut_at_every_length_never_reads_past_caplen),
		cmocka_unit_test(test_parse_random_mutations_stay_inside_caplen),
		cmocka_unit_test(test_result_name_gives_counter_names_and_unknown),
		cmocka_unit_test(test_tcp_flags_aws_maps_flag_bytes),
		cmocka_unit_test(test_parse_icmp_echo_records_type_code_and_identifier),
		cmocka_unit_test(test_parse_icmpv6_echo_records_type_code_and_identifier),
		cmocka_unit_test(test_parse_icmp_non_echo_records_type_code_without_identifier),
		cmocka_unit_test(test_parse_icmp_echo_id_cut_or_past_datagram_is_ok_without_it),
		cmocka_unit_test(test_parse_non_icmp_leaves_icmp_fields_zero),
		cmocka_unit_test(test_reference_crc32c_matches_check_value),
		cmocka_unit_test(test_rewrite_ipv4_tcp_updates_ip_and_tcp_checksums),
		cmocka_unit_test(test_rewrite_ipv4_udp_updates_checksum),
		cmocka_unit_test(test_rewrite_ipv4_udp_zero_checksum_stays_zero),
		cmocka_unit_test(test_rewrite_udp_checksum_computing_to_zero_is_written_ffff),
		cmocka_unit_test(test_rewrite_ipv4_udplite_partial_coverage_updates_checksum),
		cmocka_unit_test(test_rewrite_ipv4_icmp_echo_identifier_is_the_port),
		cmocka_unit_test(test_rewrite_ipv4_icmp_non_echo_changes_addresses_only),
		cmocka_unit_test(test_rewrite_icmp_echo_identifier_not_captured_is_kept),
		cmocka_unit_test(test_rewrite_ipv4_options_updates_checksums),
		cmocka_unit_test(test_rewrite_ipv4_first_fragment_updates_whole_datagram_checksum),
		cmocka_unit_test(test_rewrite_ipv4_later_fragment_changes_addresses_only),
		cmocka_unit_test(test_rewrite_vlan_and_qinq_frames),
		cmocka_unit_test(test_rewrite_ipv6_tcp_and_udp_update_checksums),
		cmocka_unit_test(test_rewrite_ipv6_udp_zero_checksum_stays_zero),
		cmocka_unit_test(test_rewrite_icmpv6_updates_pseudo_header_and_echo_identifier),
		cmocka_unit_test(test_rewrite_ipv6_extension_headers_updates_checksums),
		cmocka_unit_test(test_rewrite_ipv6_destination_with_segments_left_is_enotsup),
		cmocka_unit_test(test_rewrite_sctp_whole_datagram_recomputes_crc32c),
		cmocka_unit_test(test_rewrite_sctp_port_change_without_whole_datagram_is_enotsup),
		cmocka_unit_test(test_rewrite_frame_cut_by_capture_is_still_exact),
		cmocka_unit_test(test_rewrite_swapping_addresses_from_the_frame_itself_works),
		cmocka_unit_test(test_rewrite_to_the_same_tuple_changes_nothing),
		cmocka_unit_test(test_rewrite_rejects_what_is_not_a_parsed_ip_frame),
		cmocka_unit_test(test_rewrite_random_tcp_udp_frames_keep_checksums_exact),
		cmocka_unit_test(test_icmp_error_parse_ipv4_reads_the_quoted_tuple),
		cmocka_unit_test(test_icmp_error_parse_ipv6_reads_the_quoted_tuple),
		cmocka_unit_test(test_icmp_error_parse_other_messages_are_enoent),
		cmocka_unit_test(test_icmp_error_parse_quote_cut_in_its_ip_header_is_einval),
		cmocka_unit_test(test_icmp_error_parse_quoted_later_fragment_has_no_ports),
		cmocka_unit_test(test_icmp_error_rewrite_ipv4_udp_updates_every_checksum),
		cmocka_unit_test(test_icmp_error_rewrite_ipv4_tcp_quote_of_8_bytes),
		cmocka_unit_test(test_icmp_error_rewrite_ipv4_quoted_echo_identifier),
		cmocka_unit_test(test_icmp_error_rewrite_ipv6_updates_every_checksum),
		cmocka_unit_test(test_icmp_error_rewrite_rejects_a_foreign_description),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
