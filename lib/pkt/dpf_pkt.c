/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "dpf_pkt.h"

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
#define UDP_HDR_LEN 8
#define SCTP_HDR_LEN 12
/* Type, code and checksum: all ICMP messages have them, the rest depends on the type. */
#define ICMP_MIN_HDR_LEN 4

static inline uint16_t
load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static inline int
is_vlan_tpid(uint16_t ethertype)
{
	return ethertype == RTE_ETHER_TYPE_VLAN || ethertype == RTE_ETHER_TYPE_QINQ ||
	       ethertype == RTE_ETHER_TYPE_QINQ1;
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
static inline enum dpf_pkt_result
parse_l4(const uint8_t *data, uint32_t caplen, uint32_t l3_end, uint32_t off,
	 struct dpf_pkt_info *pi)
{
	const uint8_t *l4 = data + off;
	uint32_t need;
	int has_ports = 1;

	pi->l4_offset = off;
	switch (pi->proto) {
	case IPPROTO_TCP:
		need = TCP_MIN_HDR_LEN;
		break;
	case IPPROTO_UDP:
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
	if (unlikely(l3_end - off < need))
		return DPF_PKT_L4_PAST_IP_LEN;
	if (unlikely(caplen - off < need))
		return DPF_PKT_TRUNC_L4;

	if (pi->proto == IPPROTO_TCP) {
		/* Options need not be captured: the flow only wants ports and flags. */
		if (unlikely((l4[offsetof(struct rte_tcp_hdr, data_off)] >> 4) < TCP_MIN_DATA_OFF))
			return DPF_PKT_BAD_TCP_OFFSET;
		pi->tcp_flags = l4[offsetof(struct rte_tcp_hdr, tcp_flags)];
	}
	if (has_ports) {
		/* TCP, UDP, UDP-Lite and SCTP all start with source and destination port. */
		pi->src_port = load_be16(l4);
		pi->dst_port = load_be16(l4 + 2);
	}
	pi->has_l4 = 1;
	return DPF_PKT_OK;
}

static inline enum dpf_pkt_result
parse_ipv4(const uint8_t *data, uint32_t caplen, uint32_t off, struct dpf_pkt_info *pi)
{
	const uint8_t *ip = data + off;
	uint32_t hdr_len, total_len;
	uint16_t frag_field;

	pi->family = 4;
	pi->l3_offset = off;
	if (unlikely(caplen - off < IPV4_MIN_HDR_LEN))
		return DPF_PKT_TRUNC_IPV4;
	if (unlikely((ip[0] >> 4) != 4))
		return DPF_PKT_BAD_IPV4_VERSION;
	hdr_len = (ip[0] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(hdr_len < IPV4_MIN_HDR_LEN))
		return DPF_PKT_BAD_IPV4_IHL;
	/* Checked before the options are: a wrong length field says more than a short capture. */
	total_len = load_be16(ip + offsetof(struct rte_ipv4_hdr, total_length));
	if (unlikely(total_len < hdr_len))
		return DPF_PKT_BAD_IPV4_TOTAL_LEN;
	if (unlikely(caplen - off < hdr_len))
		return DPF_PKT_TRUNC_IPV4;

	/* total_len may exceed the captured bytes: snap length, still a valid packet. */
	pi->l3_len = total_len;
	pi->proto = ip[offsetof(struct rte_ipv4_hdr, next_proto_id)];
	memcpy(pi->src_addr, ip + offsetof(struct rte_ipv4_hdr, src_addr), 4);
	memcpy(pi->dst_addr, ip + offsetof(struct rte_ipv4_hdr, dst_addr), 4);

	frag_field = load_be16(ip + offsetof(struct rte_ipv4_hdr, fragment_offset));
	if (unlikely(frag_field & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		pi->frag_id = load_be16(ip + offsetof(struct rte_ipv4_hdr, packet_id));
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

static inline enum dpf_pkt_result
parse_ipv6(const uint8_t *data, uint32_t caplen, uint32_t off, struct dpf_pkt_info *pi)
{
	const uint8_t *ip = data + off;
	unsigned int n_ext;
	uint32_t l3_end;
	uint8_t next;

	pi->family = 6;
	pi->l3_offset = off;
	if (unlikely(caplen - off < IPV6_HDR_LEN))
		return DPF_PKT_TRUNC_IPV6;
	if (unlikely((ip[0] >> 4) != 6))
		return DPF_PKT_BAD_IPV6_VERSION;

	pi->l3_len = load_be16(ip + offsetof(struct rte_ipv6_hdr, payload_len)) + IPV6_HDR_LEN;
	memcpy(pi->src_addr, ip + offsetof(struct rte_ipv6_hdr, src_addr), 16);
	memcpy(pi->dst_addr, ip + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
	next = ip[offsetof(struct rte_ipv6_hdr, proto)];
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
			return DPF_PKT_BAD_IPV6_EXT;
		if (unlikely(caplen - off < IPV6_EXT_MIN_LEN))
			return DPF_PKT_TRUNC_IPV6_EXT;

		if (next == IPPROTO_FRAGMENT) {
			const size_t data_at = offsetof(struct rte_ipv6_fragment_ext, frag_data);
			const size_t id_at = offsetof(struct rte_ipv6_fragment_ext, id);
			uint16_t frag_data = load_be16(ext + data_at);

			ext_len = RTE_IPV6_FRAG_HDR_SIZE;
			if (frag_data & RTE_IPV6_EHDR_FO_MASK) {
				pi->frag = DPF_PKT_FRAG_LATER;
				pi->frag_id = load_be32(ext + id_at);
				pi->proto = ext[0];
				pi->l4_offset = off + ext_len;
				return DPF_PKT_OK;
			}
			/* Offset 0 without M is an atomic fragment (RFC 6946): a whole packet. */
			if (frag_data & RTE_IPV6_EHDR_MF_MASK) {
				pi->frag = DPF_PKT_FRAG_FIRST;
				pi->frag_id = load_be32(ext + id_at);
			}
		} else if (next == IPPROTO_AH) {
			/* RFC 4302: AH counts its length in 4-byte words, minus 2. */
			ext_len = ((uint32_t)ext[1] + 2) * 4;
		} else {
			ext_len = ((uint32_t)ext[1] + 1) * 8;
		}
		if (unlikely(l3_end - off < ext_len))
			return DPF_PKT_BAD_IPV6_EXT;
		if (unlikely(caplen - off < ext_len))
			return DPF_PKT_TRUNC_IPV6_EXT;
		next = ext[0];
		off += ext_len;
	}
	pi->proto = next;
	return parse_l4(data, caplen, l3_end, off, pi);
}

enum dpf_pkt_result
dpf_pkt_parse(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi)
{
	uint16_t ethertype;
	uint32_t off;

	memset(pi, 0, sizeof(*pi));
	if (unlikely(caplen < RTE_ETHER_HDR_LEN))
		return DPF_PKT_TRUNC_ETH;
	ethertype = load_be16(data + offsetof(struct rte_ether_hdr, ether_type));
	off = RTE_ETHER_HDR_LEN;

	while (is_vlan_tpid(ethertype)) {
		if (unlikely(pi->n_vlans == DPF_PKT_MAX_VLANS))
			return DPF_PKT_TOO_MANY_VLANS;
		if (unlikely(caplen - off < VLAN_TAG_LEN))
			return DPF_PKT_TRUNC_VLAN;
		pi->vlan[pi->n_vlans++] = load_be16(data + off) & VLAN_ID_MASK;
		ethertype = load_be16(data + off + 2);
		off += VLAN_TAG_LEN;
	}

	if (ethertype == RTE_ETHER_TYPE_IPV4)
		return parse_ipv4(data, caplen, off, pi);
	if (ethertype == RTE_ETHER_TYPE_IPV6)
		return parse_ipv6(data, caplen, off, pi);
	return DPF_PKT_NOT_IP;
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
