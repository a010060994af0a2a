/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/icmp6.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_sctp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dpf_pkt.h"
#include "dpf_util.h"

/*
 * Every read below is preceded by a check of the form `end - off < need`.
 * The parser keeps off <= end (end being caplen or the end of the datagram)
 * at all times, so the subtraction cannot wrap. Offsets fit the uint16_t
 * fields of dpf_pkt_info: at most 30 bytes of Ethernet and tags, then 60 of
 * IPv4 or 40 + DPF_PKT_MAX_IPV6_EXT * 2048 of IPv6 and extension headers.
 */

#define VLAN_TAG_LEN 4 /* TCI + inner ethertype; the TPID was read as the ethertype */
#define VLAN_ID_MASK 0x0fff
#define IPV4_MIN_HDR_LEN 20
#define IPV6_HDR_LEN 40
/* Smallest extension header, and enough to read its next-header and length bytes. */
#define IPV6_EXT_MIN_LEN 8
#define TCP_MIN_HDR_LEN 20
#define TCP_MIN_DATA_OFF 5
/* Data offset and flags: the bytes of a TCP header up to its flags. */
#define TCP_FLAGS_END (offsetof(struct rte_tcp_hdr, tcp_flags) + 1)
/* Source and destination port, first in TCP, UDP, UDP-Lite and SCTP; ICMP's
 * type, code and checksum. */
#define L4_PORTS_LEN 4
#define UDP_HDR_LEN 8
#define SCTP_HDR_LEN 12
/* Type, code and checksum: all ICMP messages have them, the rest depends on the type. */
#define ICMP_MIN_HDR_LEN 4
/* Echo request and reply add identifier and sequence number (same layout in ICMPv6). */
#define ICMP_ECHO_HDR_LEN 8
/* Segments-left byte of an IPv6 routing header (RFC 8200 4.4). */
#define IPV6_ROUTING_SEGS_LEFT 3

static inline int
is_vlan_tpid(uint16_t ethertype)
{
	return ethertype == RTE_ETHER_TYPE_VLAN || ethertype == RTE_ETHER_TYPE_QINQ ||
	       ethertype == RTE_ETHER_TYPE_QINQ1;
}

static inline int
is_icmp_echo(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == RTE_IP_ICMP_ECHO_REQUEST || type == RTE_IP_ICMP_ECHO_REPLY;
	return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
}

static inline int
is_icmp_echo_request(uint8_t proto, uint8_t type)
{
	return type == (proto == IPPROTO_ICMP ? RTE_IP_ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST);
}

static inline int
is_ipv6_ext(uint8_t next_header)
{
	switch (next_header) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
		return 1;
	default:
		return 0;
	}
}

/*
 * Read the L4 header at `off`. The header must fit both in the captured bytes
 * and in the datagram: a datagram's padding or trailer is not its L4 header.
 */
static __rte_always_inline enum dpf_pkt_result
parse_l4(const uint8_t *data, uint32_t caplen, uint32_t l3_end, uint32_t off,
	 struct dpf_pkt_info *pi)
{
	const uint8_t *l4 = data + off;
	uint32_t need;
	int has_ports = 1;

	pi->l4_offset = off;
	/* TCP, then UDP (a tunnel's outer packet) before the switch's search. */
	if (likely(pi->proto == IPPROTO_TCP))
		need = TCP_MIN_HDR_LEN;
	else if (pi->proto == IPPROTO_UDP)
		need = UDP_HDR_LEN;
	else
		switch (pi->proto) {
		case IPPROTO_UDPLITE:
			need = UDP_HDR_LEN;
			break;
		case IPPROTO_SCTP:
			need = SCTP_HDR_LEN;
			break;
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6:
			need = ICMP_MIN_HDR_LEN;
			has_ports = 0;
			break;
		default:
			/* GRE, ESP, ...: a flow by addresses and protocol, no ports. */
			return DPF_PKT_OK;
		}
	/* A length taken from the frame ends where the capture does: there the
	 * capture check below decides. */
	if (unlikely(l3_end - off < need) && !pi->l3_len_from_frame)
		return DPF_PKT_L4_PAST_IP_LEN;
	if (unlikely(caplen - off < need)) {
		/*
		 * A snap length (tcpdump -s 64) cut the header, not the sender: the
		 * ports are all a flow needs. Fewer bytes than that say nothing.
		 */
		if (caplen - off < L4_PORTS_LEN)
			return DPF_PKT_TRUNC_L4;
		pi->l4_cut = 1;
	}

	/* Options need not be captured: the flow only wants ports and flags. With
	 * the header cut before its flags, they are unknown and stay 0. */
	if (pi->proto == IPPROTO_TCP && caplen - off >= TCP_FLAGS_END) {
		if (unlikely((l4[offsetof(struct rte_tcp_hdr, data_off)] >> 4) < TCP_MIN_DATA_OFF))
			return DPF_PKT_BAD_TCP_OFFSET;
		pi->tcp_flags = l4[offsetof(struct rte_tcp_hdr, tcp_flags)];
	}
	if (has_ports) {
		/* TCP, UDP, UDP-Lite and SCTP all start with source and destination port. */
		pi->l4.src_port = dpf_load_be16(l4);
		pi->l4.dst_port = dpf_load_be16(l4 + 2);
	} else {
		pi->l4.icmp_type = l4[offsetof(struct rte_icmp_hdr, icmp_type)];
		pi->l4.icmp_code = l4[offsetof(struct rte_icmp_hdr, icmp_code)];
		/* A short echo is still a packet of the flow, only without its identifier. */
		if (is_icmp_echo(pi->proto, pi->l4.icmp_type) &&
		    l3_end - off >= ICMP_ECHO_HDR_LEN && caplen - off >= ICMP_ECHO_HDR_LEN) {
			pi->l4.icmp_id =
				dpf_load_be16(l4 + offsetof(struct rte_icmp_hdr, icmp_ident));
			pi->l4.has_icmp_id = 1;
		}
	}
	pi->has_l4 = 1;
	return DPF_PKT_OK;
}

/*
 * What both IP headers start with: the family (4 or 6, the version number),
 * where the header is, enough captured bytes for its fixed part, and the
 * version field that says so.
 */
static inline enum dpf_pkt_result
ip_start(const uint8_t *ip, uint32_t caplen, uint32_t off, uint8_t version, uint32_t fixed_len,
	 struct dpf_pkt_info *pi)
{
	pi->family = version;
	pi->l3_offset = off;
	if (unlikely(caplen - off < fixed_len))
		return version == 4 ? DPF_PKT_TRUNC_IPV4 : DPF_PKT_TRUNC_IPV6;
	if (unlikely((ip[0] >> 4) != version))
		return version == 4 ? DPF_PKT_BAD_IPV4_VERSION : DPF_PKT_BAD_IPV6_VERSION;
	return DPF_PKT_OK;
}

/* Always inline: the outer parse keeps its own copy (the tunnels' is a second one). */
static __rte_always_inline enum dpf_pkt_result
parse_ipv4(const uint8_t *data, uint32_t caplen, uint32_t off, struct dpf_pkt_info *pi)
{
	const uint8_t *ip = data + off;
	uint32_t hdr_len, total_len;
	uint16_t frag_field;
	enum dpf_pkt_result r = ip_start(ip, caplen, off, 4, IPV4_MIN_HDR_LEN, pi);

	if (unlikely(r != DPF_PKT_OK))
		return r;
	hdr_len = (ip[0] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(hdr_len < IPV4_MIN_HDR_LEN))
		return DPF_PKT_BAD_IPV4_IHL;
	/* Checked before the options are: a wrong length field says more than a short capture. */
	total_len = dpf_load_be16(ip + offsetof(struct rte_ipv4_hdr, total_length));
	/*
	 * 0 is never a datagram's length: it is a capture of a segmentation
	 * offload super-packet (TSO, GRO, BIG TCP) whose length the stack left
	 * out. Its length is the frame's.
	 */
	if (unlikely(total_len == 0)) {
		total_len = caplen - off;
		pi->l3_len_from_frame = 1;
	}
	if (unlikely(total_len < hdr_len))
		return pi->l3_len_from_frame ? DPF_PKT_TRUNC_IPV4 : DPF_PKT_BAD_IPV4_TOTAL_LEN;
	if (unlikely(caplen - off < hdr_len))
		return DPF_PKT_TRUNC_IPV4;

	/* total_len may exceed the captured bytes: snap length, still a valid packet. */
	pi->l3_len = total_len;
	pi->proto = ip[offsetof(struct rte_ipv4_hdr, next_proto_id)];
	memcpy(pi->src_addr, ip + offsetof(struct rte_ipv4_hdr, src_addr), 4);
	memcpy(pi->dst_addr, ip + offsetof(struct rte_ipv4_hdr, dst_addr), 4);

	frag_field = dpf_load_be16(ip + offsetof(struct rte_ipv4_hdr, fragment_offset));
	if (unlikely(frag_field & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		pi->frag_id = dpf_load_be16(ip + offsetof(struct rte_ipv4_hdr, packet_id));
		if (frag_field & RTE_IPV4_HDR_OFFSET_MASK) {
			/* What follows is the middle of the payload, not an L4 header. */
			pi->frag = DPF_PKT_FRAG_LATER;
			pi->l4_offset = off + hdr_len;
			return DPF_PKT_OK;
		}
		pi->frag = DPF_PKT_FRAG_FIRST;
	}
	return parse_l4(data, caplen, off + total_len, off + hdr_len, pi);
}

/* An extension header past the datagram's end: its own inconsistency, or,
 * when the length came from the frame, a capture cut short. */
static inline enum dpf_pkt_result
ext_past_end(const struct dpf_pkt_info *pi)
{
	return pi->l3_len_from_frame ? DPF_PKT_TRUNC_IPV6_EXT : DPF_PKT_BAD_IPV6_EXT;
}

static __rte_always_inline enum dpf_pkt_result
parse_ipv6(const uint8_t *data, uint32_t caplen, uint32_t off, struct dpf_pkt_info *pi)
{
	const uint8_t *ip = data + off;
	unsigned int n_ext;
	uint32_t l3_end;
	uint8_t next;
	enum dpf_pkt_result r = ip_start(ip, caplen, off, 6, IPV6_HDR_LEN, pi);

	if (unlikely(r != DPF_PKT_OK))
		return r;

	pi->l3_len = dpf_load_be16(ip + offsetof(struct rte_ipv6_hdr, payload_len)) + IPV6_HDR_LEN;
	memcpy(pi->src_addr, ip + offsetof(struct rte_ipv6_hdr, src_addr), 16);
	memcpy(pi->dst_addr, ip + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
	next = ip[offsetof(struct rte_ipv6_hdr, proto)];
	/*
	 * Payload length 0 with something after the header: a jumbogram (RFC
	 * 2675) or a segmentation offload super-packet (BIG TCP, GRO) captured
	 * before the stack filled the length in. Its length is the frame's.
	 */
	if (unlikely(pi->l3_len == IPV6_HDR_LEN && next != IPPROTO_NONE)) {
		pi->l3_len = caplen - off;
		pi->l3_len_from_frame = 1;
	}
	l3_end = off + pi->l3_len;
	off += IPV6_HDR_LEN;

	/*
	 * Each extension header is checked against the end of the datagram first
	 * and the capture second, which keeps off <= l3_end and off <= caplen.
	 */
	for (n_ext = 0; is_ipv6_ext(next); n_ext++) {
		const uint8_t *ext = data + off;
		uint32_t ext_len;

		if (unlikely(n_ext == DPF_PKT_MAX_IPV6_EXT))
			return DPF_PKT_BAD_IPV6_EXT;
		/* RFC 8200 4.1: hop-by-hop options only right after the fixed header. */
		if (unlikely(next == IPPROTO_HOPOPTS && n_ext != 0))
			return DPF_PKT_BAD_IPV6_EXT;
		if (unlikely(l3_end - off < IPV6_EXT_MIN_LEN))
			return ext_past_end(pi);
		if (unlikely(caplen - off < IPV6_EXT_MIN_LEN))
			return DPF_PKT_TRUNC_IPV6_EXT;

		if (next == IPPROTO_FRAGMENT) {
			const size_t data_at = offsetof(struct rte_ipv6_fragment_ext, frag_data);
			const size_t id_at = offsetof(struct rte_ipv6_fragment_ext, id);
			uint16_t frag_data = dpf_load_be16(ext + data_at);

			ext_len = RTE_IPV6_FRAG_HDR_SIZE;
			if (frag_data & RTE_IPV6_EHDR_FO_MASK) {
				pi->frag = DPF_PKT_FRAG_LATER;
				pi->frag_id = dpf_load_be32(ext + id_at);
				pi->proto = ext[0];
				pi->l4_offset = off + ext_len;
				return DPF_PKT_OK;
			}
			/* Offset 0 without M is an atomic fragment (RFC 6946): a whole packet. */
			if (frag_data & RTE_IPV6_EHDR_MF_MASK) {
				pi->frag = DPF_PKT_FRAG_FIRST;
				pi->frag_id = dpf_load_be32(ext + id_at);
			}
		} else if (next == IPPROTO_AH) {
			/* RFC 4302: AH counts its length in 4-byte words, minus 2. */
			ext_len = ((uint32_t)ext[1] + 2) * 4;
		} else {
			ext_len = ((uint32_t)ext[1] + 1) * 8;
		}
		if (unlikely(l3_end - off < ext_len))
			return ext_past_end(pi);
		if (unlikely(caplen - off < ext_len))
			return DPF_PKT_TRUNC_IPV6_EXT;
		next = ext[0];
		off += ext_len;
	}
	pi->proto = next;
	return parse_l4(data, caplen, l3_end, off, pi);
}

/* The Ethernet header at off, its VLAN tags and the IP packet after them. */
static __rte_always_inline enum dpf_pkt_result
parse_eth(const uint8_t *data, uint32_t caplen, uint32_t off, struct dpf_pkt_info *pi)
{
	uint16_t ethertype;

	if (unlikely(caplen - off < RTE_ETHER_HDR_LEN))
		return DPF_PKT_TRUNC_ETH;
	ethertype = dpf_load_be16(data + off + offsetof(struct rte_ether_hdr, ether_type));
	off += RTE_ETHER_HDR_LEN;
	/* Untagged IPv4 first: one test instead of the three tag types'. */
	if (likely(ethertype == RTE_ETHER_TYPE_IPV4))
		return parse_ipv4(data, caplen, off, pi);

	while (is_vlan_tpid(ethertype)) {
		if (unlikely(pi->n_vlans == DPF_PKT_MAX_VLANS))
			return DPF_PKT_TOO_MANY_VLANS;
		if (unlikely(caplen - off < VLAN_TAG_LEN))
			return DPF_PKT_TRUNC_VLAN;
		pi->vlan[pi->n_vlans++] = dpf_load_be16(data + off) & VLAN_ID_MASK;
		ethertype = dpf_load_be16(data + off + 2);
		off += VLAN_TAG_LEN;
	}

	if (ethertype == RTE_ETHER_TYPE_IPV4)
		return parse_ipv4(data, caplen, off, pi);
	if (ethertype == RTE_ETHER_TYPE_IPV6)
		return parse_ipv6(data, caplen, off, pi);
	return DPF_PKT_NOT_IP;
}

enum dpf_pkt_result
dpf_pkt_parse(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	return parse_eth(data, caplen, 0, pi);
}

/* ---- tunnels ------------------------------------------------------------------------------ */

#define VXLAN_HDR_LEN 8
#define VXLAN_FLAG_I 0x08
#define GENEVE_HDR_LEN 8
#define GRE_HDR_LEN 4
#define GRE_FLAG_C 0x8000
#define GRE_FLAG_R 0x4000
#define GRE_FLAG_K 0x2000
#define GRE_FLAG_S 0x1000
#define GRE_VERSION_MASK 0x0007
#define ETHER_TYPE_TEB 0x6558 /* transparent Ethernet bridging */

/*
 * Where the tunnel's payload is: [off, end) with end the end of the outer
 * datagram, or of the UDP datagram when its own length says less. reach is
 * what may be read: end, or the capture's end when that comes first.
 */
struct tun_span {
	uint32_t off;
	uint32_t end;
	uint32_t reach;
};

static __rte_always_inline void
tun_span_init(struct tun_span *sp, const uint8_t *data, uint32_t caplen,
	      const struct dpf_pkt_info *outer, const bool udp)
{
	uint32_t end = (uint32_t)outer->l3_offset + outer->l3_len;

	sp->off = outer->l4_offset;
	if (udp) {
		/* dpf_pkt_tunnel_of() wants the whole UDP header captured. */
		uint32_t udp_len = dpf_load_be16(data + sp->off + 4);

		if (udp_len >= UDP_HDR_LEN && sp->off + udp_len < end)
			end = sp->off + udp_len;
		sp->off += UDP_HDR_LEN;
	}
	sp->end = RTE_MAX(end, sp->off);
	sp->reach = RTE_MIN(sp->end, caplen);
}

static inline bool
tun_short(const struct tun_span *sp, uint32_t need)
{
	return sp->reach < sp->off || sp->reach - sp->off < need;
}

/* What a tunnel header says: the id, and what follows it (an ethertype). */
struct tun_hdr {
	uint32_t id;
	uint8_t has_id;
	uint16_t ethertype;
};

/*
 * VXLAN (RFC 7348) and GENEVE (RFC 8926) both carry a 24-bit VNI in bytes
 * 4..6 of their header: a checked header of len bytes at hdr says its id,
 * what follows it, and the span moves past it.
 */
static inline enum dpf_pkt_result
vni_header(const uint8_t *hdr, uint32_t len, uint16_t ethertype, struct tun_span *sp,
	   struct tun_hdr *h)
{
	/* Bytes 4..7: the VNI and a reserved byte, inside the checked header. */
	h->id = dpf_load_be32(hdr + 4) >> 8;
	h->has_id = DPF_PKT_TUN_ID;
	h->ethertype = ethertype;
	sp->off += len;
	return DPF_PKT_OK;
}

static __rte_always_inline enum dpf_pkt_result
decap_vxlan(const uint8_t *data, struct tun_span *sp, struct tun_hdr *h)
{
	if (tun_short(sp, VXLAN_HDR_LEN))
		return DPF_PKT_TRUNC_TUNNEL;
	if (!(data[sp->off] & VXLAN_FLAG_I))
		return DPF_PKT_BAD_TUNNEL_HEADER;
	return vni_header(data + sp->off, VXLAN_HDR_LEN, ETHER_TYPE_TEB, sp, h);
}

static inline enum dpf_pkt_result
decap_geneve(const uint8_t *data, struct tun_span *sp, struct tun_hdr *h)
{
	const uint8_t *g = data + sp->off;
	uint32_t len;

	if (tun_short(sp, GENEVE_HDR_LEN))
		return DPF_PKT_TRUNC_TUNNEL;
	if ((g[0] >> 6) != 0)
		return DPF_PKT_BAD_TUNNEL_HEADER;
	len = GENEVE_HDR_LEN + (uint32_t)(g[0] & 0x3f) * 4;
	/* The datagram's own inconsistency before the capture's cut. */
	if (sp->end - sp->off < len)
		return DPF_PKT_BAD_GENEVE_OPTIONS;
	if (tun_short(sp, len))
		return DPF_PKT_TRUNC_TUNNEL;
	return vni_header(g, len, dpf_load_be16(g + 2), sp, h);
}

static inline enum dpf_pkt_result
decap_gre(const uint8_t *data, struct tun_span *sp, struct tun_hdr *h)
{
	const uint8_t *g = data + sp->off;
	uint16_t flags;
	uint32_t len;

	if (tun_short(sp, GRE_HDR_LEN))
		return DPF_PKT_TRUNC_TUNNEL;
	flags = dpf_load_be16(g);
	if ((flags & GRE_VERSION_MASK) != 0 || (flags & GRE_FLAG_R))
		return DPF_PKT_BAD_TUNNEL_HEADER;
	len = GRE_HDR_LEN + ((flags & GRE_FLAG_C) ? 4 : 0) + ((flags & GRE_FLAG_K) ? 4 : 0) +
	      ((flags & GRE_FLAG_S) ? 4 : 0);
	if (tun_short(sp, len))
		return DPF_PKT_TRUNC_TUNNEL;
	h->ethertype = dpf_load_be16(g + 2);
	if (flags & GRE_FLAG_K) {
		uint32_t key = dpf_load_be32(g + GRE_HDR_LEN + ((flags & GRE_FLAG_C) ? 4 : 0));

		/* NVGRE (RFC 7637): the VSID is the key's upper 24 bits, then a flow id. */
		h->id = h->ethertype == ETHER_TYPE_TEB ? key >> 8 : key;
		h->has_id = h->ethertype == ETHER_TYPE_TEB ? DPF_PKT_TUN_ID_VSID : DPF_PKT_TUN_ID;
	}
	sp->off += len;
	return DPF_PKT_OK;
}

/*
 * The packet a checked tunnel header (h; the span starts past it) carries,
 * into pi, which holds the outer packet's parse until then.
 */
static __rte_always_inline enum dpf_pkt_result
decap_inner(const uint8_t *data, const struct tun_span *sp, const struct tun_hdr *h,
	    unsigned int type, struct dpf_pkt_info *pi, struct dpf_pkt_tunnel *tun)
{
	/* Not ours to open (ERSPAN, MPLS, ...): the outer packet is the flow. */
	if (h->ethertype != ETHER_TYPE_TEB && h->ethertype != RTE_ETHER_TYPE_IPV4 &&
	    h->ethertype != RTE_ETHER_TYPE_IPV6)
		return DPF_PKT_OK;
	memset(pi, 0, sizeof(*pi));
	pi->tun_type = (uint8_t)type;
	pi->tun_id = h->id;
	pi->tun_has_id = h->has_id;
	if (h->ethertype == ETHER_TYPE_TEB) {
		tun->has_eth = 1;
		tun->eth_offset = (uint16_t)sp->off;
		return parse_eth(data, sp->reach, sp->off, pi);
	}
	if (h->ethertype == RTE_ETHER_TYPE_IPV4)
		return parse_ipv4(data, sp->reach, sp->off, pi);
	return parse_ipv6(data, sp->reach, sp->off, pi);
}

/* The tunnels after VXLAN: GENEVE, GRE, IP-in-IP. One copy, out of line. */
static __rte_noinline enum dpf_pkt_result
decap_other(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi, unsigned int type,
	    struct dpf_pkt_tunnel *tun)
{
	struct tun_hdr h = {0};
	struct tun_span sp;
	enum dpf_pkt_result r;

	tun_span_init(&sp, data, caplen, pi, pi->proto == IPPROTO_UDP);
	switch (type) {
	case DPF_TUN_GENEVE:
		r = decap_geneve(data, &sp, &h);
		break;
	case DPF_TUN_GRE:
		r = decap_gre(data, &sp, &h);
		break;
	default:
		h.ethertype = pi->proto == IPPROTO_IPIP ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6;
		r = DPF_PKT_OK;
		break;
	}
	if (r != DPF_PKT_OK)
		return r;
	return decap_inner(data, &sp, &h, type, pi, tun);
}

/*
 * dpf_pkt_decap(), inlined where the outer parse has just run
 * (dpf_pkt_parse_open()). VXLAN straight through: the common overlay, a UDP
 * tunnel whose header always says Ethernet.
 */
static __rte_always_inline enum dpf_pkt_result
decap_in_place(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi, unsigned int type,
	       struct dpf_pkt_tunnel *tun)
{
	struct tun_hdr h;
	struct tun_span sp;
	enum dpf_pkt_result r;

	tun->has_eth = 0;
	tun->eth_offset = 0;
	tun->outer_family = pi->family;
	memcpy(tun->outer_src, pi->src_addr, sizeof(tun->outer_src));
	memcpy(tun->outer_dst, pi->dst_addr, sizeof(tun->outer_dst));
	if (type == DPF_TUN_NONE || type >= DPF_TUN_MAX)
		return DPF_PKT_OK;
	if (unlikely(type != DPF_TUN_VXLAN))
		return decap_other(data, caplen, pi, type, tun);
	tun_span_init(&sp, data, caplen, pi, true);
	r = decap_vxlan(data, &sp, &h);
	if (r != DPF_PKT_OK)
		return r;
	return decap_inner(data, &sp, &h, DPF_TUN_VXLAN, pi, tun);
}

enum dpf_pkt_result
dpf_pkt_decap(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi, unsigned int type,
	      struct dpf_pkt_tunnel *tun)
{
	return decap_in_place(data, caplen, pi, type, tun);
}

/*
 * One body for the outer parse and the tunnel: the outer header's fields the
 * tunnel reads (offsets, lengths, protocol, addresses) are still in registers
 * or just stored, and no second call spills them.
 */
enum dpf_pkt_result
dpf_pkt_parse_open(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_decap_cfg *cfg,
		   struct dpf_pkt_info *pi, struct dpf_pkt_tunnel *tun, unsigned int *type)
{
	enum dpf_pkt_result r;

	memset(pi, 0, sizeof(*pi));
	r = parse_eth(data, caplen, 0, pi);
	*type = r == DPF_PKT_OK ? dpf_pkt_tunnel_of(cfg, pi) : DPF_TUN_NONE;
	if (*type == DPF_TUN_NONE)
		return r;
	return decap_in_place(data, caplen, pi, *type, tun);
}

const char *
dpf_pkt_tun_name(unsigned int type)
{
	static const char *const names[] = {[DPF_TUN_NONE] = "-",
#define DPF_PKT_X_TUN_NAME(name, str) [DPF_TUN_##name] = str,
					    DPF_PKT_TUNNELS(DPF_PKT_X_TUN_NAME)
#undef DPF_PKT_X_TUN_NAME
	};

	if (type >= RTE_DIM(names))
		return "-";
	return names[type];
}

const char *
dpf_pkt_result_name(enum dpf_pkt_result r)
{
	static const char *const names[] = {
#define DPF_PKT_X_NAME(name, str) [DPF_PKT_##name] = str,
		DPF_PKT_RESULTS(DPF_PKT_X_NAME)
#undef DPF_PKT_X_NAME
	};

	/* The cast catches negative values that a caller may have forced into the enum. */
	if ((unsigned int)r >= RTE_DIM(names))
		return "unknown";
	return names[r];
}

/* ---- NAT rewrite ------------------------------------------------------------------------- */

/*
 * CRC32c (Castagnoli, reflected polynomial 0x82f63b78), the SCTP checksum
 * (RFC 9260 appendix A). A byte table is enough: SCTP port translation is rare,
 * and the DPDK hash CRC helpers read unaligned words the sanitizers reject.
 */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static uint32_t
crc32c_update(uint32_t crc, const uint8_t *p, uint32_t len)
{
	while (len-- > 0)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/*
 * Checksum words are handled as stored, without byte swaps: a one's-complement
 * sum comes out the same in either byte order (RFC 1071 2.B). Every field
 * touched starts at an even offset of the data its checksum covers.
 */
static inline uint16_t
load_raw16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
store_raw16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The ~m + m' terms of RFC 1624 eqn. 3 for a field of len (even) bytes going from old to new. */
static inline uint32_t
csum_delta(const uint8_t *old, const uint8_t *new, uint32_t len)
{
	uint32_t delta = 0;
	uint32_t i;

	for (i = 0; i < len; i += 2)
		delta += (uint16_t)~load_raw16(old + i) + load_raw16(new + i);
	return delta;
}

/*
 * HC' = ~(~HC + sum(~m + m')), RFC 1624 eqn. 3. The end-around sum of terms
 * that are not all zero is never 0, so a checksum a sender computed (never
 * 0xffff) keeps that form, and undoing a change gives back the old checksum.
 * Returns the new field as stored.
 */
static inline uint16_t
csum_update(uint8_t *field, uint32_t delta)
{
	uint32_t sum = (uint16_t)~load_raw16(field) + delta;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	store_raw16(field, (uint16_t)~sum);
	return (uint16_t)~sum;
}

/*
 * 1 when the IPv6 extension headers before the L4 header hold a routing header
 * with segments left: the address in the fixed header is then the next hop,
 * while the pseudo-header holds the final destination (RFC 8200 8.1).
 */
static int
ipv6_routing_pending(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi)
{
	uint32_t end = RTE_MIN((uint32_t)pi->l4_offset, caplen);
	uint32_t off = pi->l3_offset + IPV6_HDR_LEN;
	uint8_t next = data[pi->l3_offset + offsetof(struct rte_ipv6_hdr, proto)];
	unsigned int n_ext;

	for (n_ext = 0; n_ext < DPF_PKT_MAX_IPV6_EXT && is_ipv6_ext(next); n_ext++) {
		const uint8_t *ext = data + off;
		uint32_t ext_len;

		if (end - off < IPV6_EXT_MIN_LEN)
			break;
		if (next == IPPROTO_ROUTING && ext[IPV6_ROUTING_SEGS_LEFT] != 0)
			return 1;
		if (next == IPPROTO_FRAGMENT)
			ext_len = RTE_IPV6_FRAG_HDR_SIZE;
		else if (next == IPPROTO_AH)
			ext_len = ((uint32_t)ext[1] + 2) * 4;
		else
			ext_len = ((uint32_t)ext[1] + 1) * 8;
		if (end - off < ext_len)
			break;
		next = ext[0];
		off += ext_len;
	}
	return 0;
}

/* Stored little-endian: RFC 9260 appendix A sends the reflected CRC low byte first. */
static void
sctp_set_crc(uint8_t *data, const struct dpf_pkt_info *pi)
{
	static const uint8_t zero_crc[4];
	const uint32_t crc_at = offsetof(struct rte_sctp_hdr, cksum);
	uint8_t *sctp = data + pi->l4_offset;
	uint32_t len = (uint32_t)pi->l3_offset + pi->l3_len - pi->l4_offset;
	uint32_t crc;

	crc = crc32c_update(0xffffffff, sctp, crc_at);
	crc = crc32c_update(crc, zero_crc, sizeof(zero_crc));
	crc = crc32c_update(crc, sctp + SCTP_HDR_LEN, len - SCTP_HDR_LEN);
	crc = ~crc;
	sctp[crc_at] = crc & 0xff;
	sctp[crc_at + 1] = (crc >> 8) & 0xff;
	sctp[crc_at + 2] = (crc >> 16) & 0xff;
	sctp[crc_at + 3] = crc >> 24;
}

/* Where a transport header keeps what a NAT rewrite touches. */
struct l4_layout {
	uint32_t need;	   /* bytes from the L4 header's start the rewrite reads or writes */
	int32_t csum_at;   /* the 16-bit checksum's offset; -1: none (SCTP has a CRC) */
	uint32_t port_at;  /* the ports' (or the echo identifier's) offset */
	uint32_t port_len; /* 4: source and destination port; 2: an echo identifier; 0: none */
	int pseudo_hdr;	   /* the checksum covers the addresses (a pseudo-header) */
	int zero_is_none;  /* UDP: a checksum of 0 means none was computed */
};

static inline void
l4_layout_of(uint8_t proto, int has_icmp_id, struct l4_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	lay->csum_at = -1;
	switch (proto) {
	case IPPROTO_TCP:
		lay->need = TCP_MIN_HDR_LEN;
		lay->csum_at = offsetof(struct rte_tcp_hdr, cksum);
		lay->pseudo_hdr = 1;
		lay->port_len = 4;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		lay->need = UDP_HDR_LEN;
		lay->csum_at = offsetof(struct rte_udp_hdr, dgram_cksum);
		lay->pseudo_hdr = 1;
		lay->zero_is_none = 1;
		lay->port_len = 4;
		break;
	case IPPROTO_SCTP:
		lay->need = SCTP_HDR_LEN;
		lay->port_len = 4;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		lay->need = has_icmp_id ? ICMP_ECHO_HDR_LEN : ICMP_MIN_HDR_LEN;
		lay->csum_at = offsetof(struct rte_icmp_hdr, icmp_cksum);
		lay->pseudo_hdr = proto == IPPROTO_ICMPV6;
		lay->port_at = offsetof(struct rte_icmp_hdr, icmp_ident);
		lay->port_len = has_icmp_id ? 2 : 0;
		break;
	default:
		break;
	}
}

/* The new ports as stored: both ports, or an echo's identifier (the one the rewrite names). */
static inline void
l4_ports_make(uint8_t *out, const struct l4_layout *lay, uint8_t proto, uint8_t icmp_type,
	      uint16_t sport, uint16_t dport)
{
	if (lay->port_len == 4) {
		dpf_store_be16(out, sport);
		dpf_store_be16(out + 2, dport);
	} else if (lay->port_len == 2) {
		dpf_store_be16(out, is_icmp_echo_request(proto, icmp_type) ? sport : dport);
	}
}

/* Offsets of the source and destination address in an IP header of a family. */
static inline uint32_t
src_addr_at(uint8_t family)
{
	return family == 4 ? offsetof(struct rte_ipv4_hdr, src_addr)
			   : offsetof(struct rte_ipv6_hdr, src_addr);
}

static inline uint32_t
dst_addr_at(uint8_t family)
{
	return family == 4 ? offsetof(struct rte_ipv4_hdr, dst_addr)
			   : offsetof(struct rte_ipv6_hdr, dst_addr);
}

/* This frame's IP header as a rewrite needs it. */
struct rewrite_l3 {
	uint8_t *ip;
	uint8_t *src;
	uint8_t *dst;
	uint32_t addr_len;
	uint32_t hdr_len;
};

/*
 * Check what the writes rely on, so that a pi from another frame fails here
 * instead of writing outside this one. @return 0 or -EINVAL
 */
static inline int
rewrite_l3_of(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi, struct rewrite_l3 *l3)
{
	uint32_t fixed = pi->family == 4 ? IPV4_MIN_HDR_LEN : IPV6_HDR_LEN;

	if ((pi->family != 4 && pi->family != 6) || caplen < (uint32_t)pi->l3_offset + fixed)
		return -EINVAL;
	l3->ip = data + pi->l3_offset;
	if ((l3->ip[0] >> 4) != pi->family)
		return -EINVAL;
	l3->hdr_len = fixed;
	if (pi->family == 4) {
		l3->hdr_len = (l3->ip[0] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
		if (l3->hdr_len < IPV4_MIN_HDR_LEN || caplen - pi->l3_offset < l3->hdr_len)
			return -EINVAL;
	}
	l3->addr_len = pi->family == 4 ? 4 : 16;
	l3->src = l3->ip + src_addr_at(pi->family);
	l3->dst = l3->ip + dst_addr_at(pi->family);
	return 0;
}

/*
 * The transport header's layout, checked against the frame.
 * @return 0, -EINVAL (pi is not this frame's), -ENOTSUP (what the rewrite
 *         writes was not captured)
 */
static inline int
rewrite_l4_of(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi, uint32_t hdr_len,
	      struct l4_layout *lay, uint8_t **l4)
{
	*l4 = NULL;
	if (!pi->has_l4) {
		l4_layout_of(0, 0, lay); /* nothing to rewrite there */
		return 0;
	}
	l4_layout_of(pi->proto, pi->l4.has_icmp_id, lay);
	*l4 = data + pi->l4_offset;
	if (pi->l4_offset < pi->l3_offset + hdr_len ||
	    caplen < (uint32_t)pi->l4_offset + L4_PORTS_LEN)
		return -EINVAL;
	/* The checksum (and for an echo the identifier) was not captured. */
	if (caplen < (uint32_t)pi->l4_offset + lay->need)
		return -ENOTSUP;
	return 0;
}

/* Refusals that depend on what changes: each comes before the first write. */
static inline int
rewrite_refused(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
		int dst_changes, int ports_change)
{
	if (pi->has_l4 && pi->proto == IPPROTO_SCTP && ports_change) {
		uint32_t l3_end = (uint32_t)pi->l3_offset + pi->l3_len;

		if (l3_end < (uint32_t)pi->l4_offset + SCTP_HDR_LEN)
			return -EINVAL;
		if (pi->frag != DPF_PKT_FRAG_NONE || caplen < l3_end)
			return -ENOTSUP;
	}
	if (pi->family == 6 && dst_changes && pi->l4_offset > pi->l3_offset + IPV6_HDR_LEN &&
	    ipv6_routing_pending(data, caplen, pi))
		return -ENOTSUP;
	return 0;
}

int
dpf_pkt_rewrite(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
		const uint8_t *new_src, const uint8_t *new_dst, uint16_t new_sport,
		uint16_t new_dport)
{
	uint8_t src_new[16], dst_new[16], ports_new[4];
	uint8_t *l4, *l4_csum, *port_field = NULL;
	uint32_t addr_delta = 0, port_delta = 0;
	int src_changes, dst_changes, ports_change = 0, rc;
	struct rewrite_l3 l3;
	struct l4_layout lay;

	if (data == NULL || pi == NULL)
		return -EINVAL;
	rc = rewrite_l3_of(data, caplen, pi, &l3);
	if (rc == 0)
		rc = rewrite_l4_of(data, caplen, pi, l3.hdr_len, &lay, &l4);
	if (rc != 0)
		return rc;
	if (lay.port_len != 0) {
		port_field = l4 + lay.port_at;
		l4_ports_make(ports_new, &lay, pi->proto, pi->l4.icmp_type, new_sport, new_dport);
		ports_change = memcmp(port_field, ports_new, lay.port_len) != 0;
	}

	/* Copies: the new addresses may be the frame's own (a source / destination swap). */
	src_changes = new_src != NULL && memcmp(l3.src, new_src, l3.addr_len) != 0;
	if (src_changes)
		memcpy(src_new, new_src, l3.addr_len);
	dst_changes = new_dst != NULL && memcmp(l3.dst, new_dst, l3.addr_len) != 0;
	if (dst_changes)
		memcpy(dst_new, new_dst, l3.addr_len);
	rc = rewrite_refused(data, caplen, pi, dst_changes, ports_change);
	if (rc != 0)
		return rc;

	if (src_changes) {
		addr_delta += csum_delta(l3.src, src_new, l3.addr_len);
		memcpy(l3.src, src_new, l3.addr_len);
	}
	if (dst_changes) {
		addr_delta += csum_delta(l3.dst, dst_new, l3.addr_len);
		memcpy(l3.dst, dst_new, l3.addr_len);
	}
	if (pi->family == 4 && (src_changes || dst_changes))
		csum_update(l3.ip + offsetof(struct rte_ipv4_hdr, hdr_checksum), addr_delta);

	if (ports_change) {
		port_delta = csum_delta(port_field, ports_new, lay.port_len);
		memcpy(port_field, ports_new, lay.port_len);
	}
	if (!lay.pseudo_hdr)
		addr_delta = 0;
	l4_csum = lay.csum_at >= 0 ? l4 + lay.csum_at : NULL;
	if (l4_csum != NULL && (ports_change || (lay.pseudo_hdr && (src_changes || dst_changes))) &&
	    !(lay.zero_is_none && load_raw16(l4_csum) == 0)) {
		/* UDP and UDP-Lite send a computed 0 as 0xffff: 0 says "no checksum". */
		if (csum_update(l4_csum, addr_delta + port_delta) == 0 && lay.zero_is_none)
			store_raw16(l4_csum, 0xffff);
	}
	if (pi->has_l4 && pi->proto == IPPROTO_SCTP && ports_change)
		sctp_set_crc(data, pi);
	return 0;
}

/* ---- ICMP errors (RFC 5508) ---------------------------------------------------------------- */

/* Type, code, checksum and 4 bytes (unused, pointer or MTU) before the quoted packet. */
#define ICMP_ERR_HDR_LEN 8
#define IPV4_FRAG_OFFSET_MASK 0x1fff
/* An ICMP message's checksum and an echo's identifier. */
#define ICMP_CSUM_AT 2
#define ICMP_ID_AT 4
/* RFC 792 error types (<netinet/ip_icmp.h> cannot be included: its field macros). */
#define ICMP4_DEST_UNREACH 3
#define ICMP4_SOURCE_QUENCH 4
#define ICMP4_REDIRECT 5
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAMETER_PROBLEM 12

static inline int
is_icmp_error(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP4_DEST_UNREACH || type == ICMP4_SOURCE_QUENCH ||
		       type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED ||
		       type == ICMP4_PARAMETER_PROBLEM;
	/* RFC 4443 2.1: error messages are the types below 128. */
	return type >= ICMP6_DST_UNREACH && type <= ICMP6_PARAM_PROB;
}

/*
 * The quoted IPv4 header at off (end: where the message's bytes end): its
 * addresses and protocol. @return the quoted transport header's offset, or
 * -EINVAL
 */
static inline int64_t
quoted_ipv4(const uint8_t *data, uint32_t end, uint32_t off, struct dpf_pkt_inner *in,
	    int *later_fragment)
{
	const uint8_t *ip = data + off;
	uint32_t ihl;

	if (end - off < IPV4_MIN_HDR_LEN || (ip[0] >> 4) != 4)
		return -EINVAL;
	ihl = (ip[0] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if (ihl < IPV4_MIN_HDR_LEN || end - off < ihl)
		return -EINVAL;
	in->proto = ip[offsetof(struct rte_ipv4_hdr, next_proto_id)];
	memcpy(in->src_addr, ip + offsetof(struct rte_ipv4_hdr, src_addr), 4);
	memcpy(in->dst_addr, ip + offsetof(struct rte_ipv4_hdr, dst_addr), 4);
	*later_fragment = (dpf_load_be16(ip + offsetof(struct rte_ipv4_hdr, fragment_offset)) &
			   IPV4_FRAG_OFFSET_MASK) != 0;
	return off + ihl;
}

/*
 * The quoted IPv6 header at off and its extension headers: addresses and
 * protocol. @return the quoted transport header's offset; 0 when the quote
 * ends inside the chain (the addresses and the next header are all there
 * is); -EINVAL
 */
static inline int64_t
quoted_ipv6(const uint8_t *data, uint32_t end, uint32_t off, struct dpf_pkt_inner *in,
	    int *later_fragment)
{
	const uint8_t *ip = data + off;
	uint32_t l4 = off + IPV6_HDR_LEN;
	unsigned int n_ext;
	uint8_t next;

	if (end - off < IPV6_HDR_LEN || (ip[0] >> 4) != 6)
		return -EINVAL;
	memcpy(in->src_addr, ip + offsetof(struct rte_ipv6_hdr, src_addr), 16);
	memcpy(in->dst_addr, ip + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
	next = ip[offsetof(struct rte_ipv6_hdr, proto)];
	for (n_ext = 0; is_ipv6_ext(next); n_ext++) {
		const uint8_t *ext = data + l4;
		uint32_t ext_len;

		in->proto = next;
		/* A chain the quote cuts: the addresses are all there is. */
		if (n_ext == DPF_PKT_MAX_IPV6_EXT || end - l4 < IPV6_EXT_MIN_LEN)
			return 0;
		if (next == IPPROTO_FRAGMENT) {
			ext_len = RTE_IPV6_FRAG_HDR_SIZE;
			*later_fragment |=
				(dpf_load_be16(ext +
					       offsetof(struct rte_ipv6_fragment_ext, frag_data)) &
				 RTE_IPV6_EHDR_FO_MASK) != 0;
		} else if (next == IPPROTO_AH) {
			ext_len = ((uint32_t)ext[1] + 2) * 4;
		} else {
			ext_len = ((uint32_t)ext[1] + 1) * 8;
		}
		if (end - l4 < ext_len)
			return 0;
		next = ext[0];
		l4 += ext_len;
	}
	in->proto = next;
	return l4;
}

/* The quoted transport header at l4: its ports, or an echo's identifier. */
static inline void
quoted_l4(const uint8_t *data, uint32_t end, uint32_t l4, struct dpf_pkt_inner *in)
{
	in->l4_offset = (uint16_t)l4;
	in->l4_len = (uint16_t)RTE_MIN(end - l4, (uint32_t)UINT16_MAX);
	switch (in->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		if (in->l4_len >= 4) {
			in->src_port = dpf_load_be16(data + l4);
			in->dst_port = dpf_load_be16(data + l4 + 2);
			in->has_ports = 1;
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((in->proto == IPPROTO_ICMP) == (in->family == 4) &&
		    in->l4_len >= ICMP_ECHO_HDR_LEN && is_icmp_echo(in->proto, data[l4])) {
			in->icmp_type = data[l4];
			in->icmp_id = dpf_load_be16(data + l4 + ICMP_ID_AT);
			in->has_icmp_id = 1;
		}
		break;
	default:
		break;
	}
}

int
dpf_pkt_icmp_error_parse(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
			 struct dpf_pkt_inner *in)
{
	uint32_t end, off;
	int later_fragment = 0;
	int64_t l4;

	memset(in, 0, sizeof(*in));
	if (data == NULL || pi == NULL || !pi->has_l4 ||
	    !((pi->proto == IPPROTO_ICMP && pi->family == 4) ||
	      (pi->proto == IPPROTO_ICMPV6 && pi->family == 6)) ||
	    !is_icmp_error(pi->proto, pi->l4.icmp_type))
		return -ENOENT;
	/* What the message holds: this frame's datagram, as far as it was captured. */
	end = RTE_MIN(caplen, (uint32_t)pi->l3_offset + pi->l3_len);
	off = (uint32_t)pi->l4_offset + ICMP_ERR_HDR_LEN;
	if (end < off)
		return -EINVAL;
	in->family = pi->family;
	in->l3_offset = (uint16_t)off;
	l4 = pi->family == 4 ? quoted_ipv4(data, end, off, in, &later_fragment)
			     : quoted_ipv6(data, end, off, in, &later_fragment);
	/* A later fragment quotes the middle of the payload, not a transport header. */
	if (l4 > 0 && !later_fragment)
		quoted_l4(data, end, (uint32_t)l4, in);
	return l4 < 0 ? (int)l4 : 0;
}

/* Write len bytes of a field inside the ICMP message; the checksum terms go to *delta. */
static inline void
put_tracked(uint8_t *field, const uint8_t *val, uint32_t len, uint32_t *delta)
{
	*delta += csum_delta(field, val, len);
	memcpy(field, val, len);
}

/* Update a checksum inside the ICMP message; its own change goes to *delta. */
static inline void
csum_update_tracked(uint8_t *field, uint32_t change, int zero_is_none, uint32_t *delta)
{
	uint8_t old[2];
	uint16_t v;

	if (zero_is_none && load_raw16(field) == 0)
		return;
	memcpy(old, field, 2);
	v = csum_update(field, change);
	if (v == 0 && zero_is_none)
		store_raw16(field, 0xffff);
	*delta += csum_delta(old, field, 2);
}

/* The parts of an ICMP error a rewrite writes: this frame's, checked. */
struct icmp_error_frame {
	uint8_t *ip;  /* outer IP header */
	uint8_t *q;   /* quoted IP header */
	uint8_t *ql4; /* quoted transport header; NULL when not quoted */
};

/* What the writes rely on: in describes this frame's quote. @return 0 or -EINVAL */
static inline int
icmp_error_frame_of(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
		    const struct dpf_pkt_inner *in, struct icmp_error_frame *fr)
{
	uint32_t ip_hdr = pi->family == 4 ? IPV4_MIN_HDR_LEN : IPV6_HDR_LEN;

	if (caplen < (uint32_t)pi->l3_offset + ip_hdr || !pi->has_l4 ||
	    pi->l4_offset < pi->l3_offset + ip_hdr ||
	    in->l3_offset != (uint32_t)pi->l4_offset + ICMP_ERR_HDR_LEN ||
	    caplen < (uint32_t)in->l3_offset + ip_hdr)
		return -EINVAL;
	fr->ip = data + pi->l3_offset;
	fr->q = data + in->l3_offset;
	fr->ql4 = NULL;
	if ((fr->ip[0] >> 4) != pi->family || (fr->q[0] >> 4) != pi->family)
		return -EINVAL;
	if (pi->family == 4 &&
	    (fr->q[0] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER < ip_hdr)
		return -EINVAL;
	if (in->l4_offset != 0) {
		if (in->l4_offset < in->l3_offset + ip_hdr ||
		    caplen < (uint32_t)in->l4_offset + in->l4_len ||
		    (in->has_ports && in->l4_len < 4) ||
		    (in->has_icmp_id && in->l4_len < ICMP_ECHO_HDR_LEN))
			return -EINVAL;
		fr->ql4 = data + in->l4_offset;
	} else if (in->has_ports || in->has_icmp_id) {
		return -EINVAL;
	}
	return 0;
}

int
dpf_pkt_icmp_error_rewrite(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
			   const struct dpf_pkt_inner *in, const uint8_t *new_src,
			   const uint8_t *new_dst, const uint8_t *in_src, const uint8_t *in_dst,
			   uint16_t in_sport, uint16_t in_dport)
{
	struct icmp_error_frame fr;
	struct l4_layout lay;
	uint8_t osrc[16], odst[16], qsrc[16], qdst[16], ports[4];
	uint8_t *port_field = NULL, *q_csum = NULL;
	uint32_t alen, outer_delta = 0, icmp_delta = 0, q_addr_delta = 0, q_port_delta = 0;
	int o_src, o_dst, q_src, q_dst;

	if (data == NULL || pi == NULL || in == NULL || in->family != pi->family ||
	    icmp_error_frame_of(data, caplen, pi, in, &fr) != 0)
		return -EINVAL;
	alen = pi->family == 4 ? 4 : 16;
	o_src = new_src != NULL && memcmp(fr.ip + src_addr_at(pi->family), new_src, alen) != 0;
	o_dst = new_dst != NULL && memcmp(fr.ip + dst_addr_at(pi->family), new_dst, alen) != 0;
	q_src = in_src != NULL && memcmp(fr.q + src_addr_at(pi->family), in_src, alen) != 0;
	q_dst = in_dst != NULL && memcmp(fr.q + dst_addr_at(pi->family), in_dst, alen) != 0;
	/* Copies, all before the first write: the new values may point into the frame. */
	if (o_src)
		memcpy(osrc, new_src, alen);
	if (o_dst)
		memcpy(odst, new_dst, alen);
	if (q_src)
		memcpy(qsrc, in_src, alen);
	if (q_dst)
		memcpy(qdst, in_dst, alen);
	/* The quoted transport header, where its ports (or echo identifier) were quoted. */
	l4_layout_of(in->has_ports || in->has_icmp_id ? in->proto : 0, in->has_icmp_id, &lay);
	if (lay.port_len != 0) {
		port_field = fr.ql4 + lay.port_at;
		l4_ports_make(ports, &lay, in->proto, in->icmp_type, in_sport, in_dport);
		if (lay.csum_at >= 0 && in->l4_len >= (uint32_t)lay.csum_at + 2)
			q_csum = fr.ql4 + lay.csum_at;
	}

	/* Outer header: its checksum (IPv4) and, for ICMPv6, the pseudo-header's share. */
	if (o_src)
		put_tracked(fr.ip + src_addr_at(pi->family), osrc, alen, &outer_delta);
	if (o_dst)
		put_tracked(fr.ip + dst_addr_at(pi->family), odst, alen, &outer_delta);
	if (pi->family == 4 && (o_src || o_dst))
		csum_update(fr.ip + offsetof(struct rte_ipv4_hdr, hdr_checksum), outer_delta);

	/* The quoted packet: every change is also a change of the ICMP message. */
	if (q_src)
		put_tracked(fr.q + src_addr_at(pi->family), qsrc, alen, &q_addr_delta);
	if (q_dst)
		put_tracked(fr.q + dst_addr_at(pi->family), qdst, alen, &q_addr_delta);
	icmp_delta += q_addr_delta;
	if (pi->family == 4 && (q_src || q_dst))
		csum_update_tracked(fr.q + offsetof(struct rte_ipv4_hdr, hdr_checksum),
				    q_addr_delta, 0, &icmp_delta);
	if (port_field != NULL && memcmp(port_field, ports, lay.port_len) != 0)
		put_tracked(port_field, ports, lay.port_len, &q_port_delta);
	icmp_delta += q_port_delta;
	if (q_csum != NULL && (q_port_delta != 0 || (lay.pseudo_hdr && q_addr_delta != 0)))
		csum_update_tracked(q_csum, q_port_delta + (lay.pseudo_hdr ? q_addr_delta : 0),
				    lay.zero_is_none, &icmp_delta);

	/* The ICMP checksum: the message, and for ICMPv6 the outer pseudo-header. */
	if (pi->proto == IPPROTO_ICMPV6)
		icmp_delta += outer_delta;
	if (icmp_delta != 0 && caplen >= (uint32_t)pi->l4_offset + ICMP_CSUM_AT + 2)
		csum_update(data + pi->l4_offset + ICMP_CSUM_AT, icmp_delta);
	return 0;
}
