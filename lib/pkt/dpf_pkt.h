/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_PKT_H
#define DPF_PKT_H

/**
 * @file
 * Packet parser: Ethernet, 802.1Q / 802.1ad (QinQ, any depth up to
 * DPF_PKT_MAX_VLANS), IPv4 with options, IPv6 with extension headers
 * (hop-by-hop, routing, destination options, fragment), TCP, UDP, SCTP ports,
 * ICMP / ICMPv6 (ports 0; type, code and the echo identifier are recorded
 * apart). dpf_pkt_rewrite() then rewrites addresses and ports of a parsed
 * frame in place (NAT), keeping its checksums right.
 *
 * The parser is stateless and checks the length before every read. It never
 * reads past `caplen` bytes. A frame cut by a capture's snap length whose
 * headers are complete (IP total length larger than the bytes captured) is a
 * valid packet and reports its full IP total length in `l3_len`. So is one
 * cut inside its TCP, UDP, UDP-Lite or SCTP header after the ports (IPv6 TCP
 * with tcpdump -s 64): l4_cut is 1, and a TCP header cut before its flags
 * byte gives tcp_flags 0. An IPv4 total length of 0, or an IPv6 payload
 * length of 0 with a next header, comes from a capture of a segmentation
 * offload super-packet (TSO, GRO, BIG TCP) or a jumbogram: l3_len is then
 * the bytes captured from the IP header on, and l3_len_from_frame is 1.
 *
 * Thread safety: every function is reentrant.
 */

#include <stdint.h>

#define DPF_PKT_MAX_VLANS 4
/* Longest IPv6 extension-header chain followed before giving up. */
#define DPF_PKT_MAX_IPV6_EXT 8

enum dpf_pkt_frag {
	DPF_PKT_FRAG_NONE = 0, /**< not a fragment */
	DPF_PKT_FRAG_FIRST,    /**< offset 0, more fragments: carries the L4 header */
	DPF_PKT_FRAG_LATER,    /**< offset > 0: no L4 header, ports unknown */
};

/*
 * Parse results. DPF_PKT_OK and DPF_PKT_NOT_IP are not errors; every other
 * value is a malformed-packet reason, counted under its name.
 * X(enum suffix, counter name)
 *
 * When each one is returned ("end of the datagram" is the IP header's offset
 * plus its total length, or plus 40 plus its payload length for IPv6):
 * - OK: an IPv4 or IPv6 packet whose headers are all inside the captured bytes.
 * - NOT_IP: the ethertype after the VLAN tags is neither IPv4 nor IPv6.
 * - TRUNC_ETH: fewer than 14 bytes.
 * - TRUNC_VLAN: a VLAN tag (TCI and inner ethertype) not fully captured.
 * - TOO_MANY_VLANS: more than DPF_PKT_MAX_VLANS tags.
 * - TRUNC_IPV4: the IPv4 header, options included, not fully captured.
 * - BAD_IPV4_VERSION: ethertype IPv4 but the version field is not 4.
 * - BAD_IPV4_IHL: IHL below 5.
 * - BAD_IPV4_TOTAL_LEN: total length smaller than the header (IHL * 4), and
 *   not 0 (0 takes the frame's length, see above).
 * - TRUNC_IPV6: the 40-byte IPv6 header not fully captured.
 * - BAD_IPV6_VERSION: ethertype IPv6 but the version field is not 6.
 * - TRUNC_IPV6_EXT: an extension header not fully captured.
 * - BAD_IPV6_EXT: an extension header ending past the end of the datagram, a
 *   hop-by-hop header not directly after the fixed header, or more than
 *   DPF_PKT_MAX_IPV6_EXT extension headers.
 * - TRUNC_L4: fewer than the first 4 bytes of the TCP, UDP / UDP-Lite, SCTP
 *   (the ports) or ICMP / ICMPv6 header captured.
 * - BAD_TCP_OFFSET: TCP data offset below 5 (when the capture holds it).
 * - L4_PAST_IP_LEN: the datagram is too short to hold its own L4 header (for
 *   example total length 24 with protocol TCP): the header would be read from
 *   Ethernet padding or from whatever follows the datagram.
 * When a header is both cut by the capture and past the end of the datagram,
 * the datagram's own inconsistency (BAD_IPV6_EXT, L4_PAST_IP_LEN) is reported.
 *
 * dpf_pkt_decap() only ("end of the payload" is the end of the outer datagram,
 * or for VXLAN and GENEVE the end of the UDP datagram when its length field is
 * shorter):
 * - TRUNC_TUNNEL: the VXLAN header (8 bytes), the GENEVE fixed header (8
 *   bytes) or its options, or the GRE header (4 bytes plus the checksum, key
 *   and sequence words its flags announce) is not fully captured or ends past
 *   the end of the payload (GENEVE options excepted: BAD_GENEVE_OPTIONS).
 * - BAD_TUNNEL_HEADER: VXLAN without the I flag, GENEVE version not 0, GRE
 *   version not 0 or with the routing bit set.
 * - BAD_GENEVE_OPTIONS: the GENEVE options end past the end of the payload.
 * The inner packet then takes the reasons above (TRUNC_ETH, BAD_IPV4_IHL, ...).
 */
#define DPF_PKT_RESULTS(X)                                                   \
	X(OK, "ok")                                                          \
	X(NOT_IP, "not-ip")                                                  \
	X(TRUNC_ETH, "truncated-ethernet")                                   \
	X(TRUNC_VLAN, "truncated-vlan")                                      \
	X(TOO_MANY_VLANS, "too-many-vlans")                                  \
	X(TRUNC_IPV4, "truncated-ipv4")                                      \
	X(BAD_IPV4_VERSION, "bad-ipv4-version")                              \
	X(BAD_IPV4_IHL, "bad-ipv4-ihl")                                      \
	X(BAD_IPV4_TOTAL_LEN, "bad-ipv4-total-length")                       \
	X(TRUNC_IPV6, "truncated-ipv6")                                      \
	X(BAD_IPV6_VERSION, "bad-ipv6-version")                              \
	X(TRUNC_IPV6_EXT, "truncated-ipv6-ext")                              \
	X(BAD_IPV6_EXT, "bad-ipv6-ext")                                      \
	X(TRUNC_L4, "truncated-l4")                                          \
	X(BAD_TCP_OFFSET, "bad-tcp-offset")                                  \
	X(L4_PAST_IP_LEN, "l4-past-ip-length")                               \
	X(TRUNC_TUNNEL, "truncated-tunnel")                                  \
	X(BAD_TUNNEL_HEADER, "bad-tunnel-header")                            \
	X(BAD_GENEVE_OPTIONS, "bad-geneve-options")

enum dpf_pkt_result {
#define DPF_PKT_X_ENUM(name, str) DPF_PKT_##name,
	DPF_PKT_RESULTS(DPF_PKT_X_ENUM)
#undef DPF_PKT_X_ENUM
	DPF_PKT_RESULT_MAX
};

/**
 * What a frame's L4 header says, in one struct because it travels as one: a
 * later fragment has no L4 header and takes its first fragment's (the
 * fragment cache keeps and restores it with one assignment).
 */
struct dpf_pkt_l4 {
	uint16_t src_port; /**< host order; 0 for ICMP, later fragments, ... */
	uint16_t dst_port;
	uint16_t icmp_id;    /**< echo identifier, host order; valid when has_icmp_id */
	uint8_t icmp_type;   /**< ICMP / ICMPv6 type when has_l4; 0 otherwise */
	uint8_t icmp_code;   /**< ICMP / ICMPv6 code when has_l4; 0 otherwise */
	uint8_t has_icmp_id; /**< 1 for an echo request or reply whose identifier was read */
};

/**
 * What the parser learned from one frame. Zeroed by dpf_pkt_parse().
 * frag_id is set for fragments only (0 when frag is DPF_PKT_FRAG_NONE), so it
 * never carries an unfragmented IPv4 packet's identification. An IPv6 atomic
 * fragment (fragment header with offset 0 and M clear, RFC 6946) is not a
 * fragment.
 *
 * ICMP (protocol 1) and ICMPv6 (58): the ports stay 0, as in AWS flow logs.
 * icmp_type and icmp_code are set whenever the 4-byte ICMP header was read
 * (has_l4). An echo request or reply (ICMP type 8 / 0, ICMPv6 128 / 129) also
 * gets its identifier in icmp_id and has_icmp_id 1, provided the identifier
 * (bytes 4..5 of the ICMP header) lies both in the captured bytes and in the
 * datagram; otherwise icmp_id and has_icmp_id stay 0 and the result is still
 * DPF_PKT_OK.
 */
struct dpf_pkt_info {
	/* What a flow key and its counters read first, in the first 56 bytes
	 * (a burst's array of these is read one after another). */
	uint8_t src_addr[16];  /**< IPv4: bytes 0..3, rest zero */
	uint8_t dst_addr[16];
	struct dpf_pkt_l4 l4;  /**< ports and ICMP header (valid when has_l4) */
	uint8_t family;        /**< 4 or 6 */
	uint8_t proto;         /**< IANA protocol of the L4 payload (after IPv6 ext) */
	uint32_t l3_len;  /**< IPv4 total length; IPv6 payload length + 40; or from the frame */
	uint32_t frag_id; /**< IPv4 identification or IPv6 fragment id */
	uint8_t tcp_flags;     /**< TCP flag byte (FIN 1 ... CWR 128); 0 otherwise */
	uint8_t frag;          /**< enum dpf_pkt_frag */
	uint8_t has_l4;        /**< 1 when the L4 header was read (ports valid) */
	uint8_t l4_cut;        /**< 1 when the capture cut the L4 header after its ports */
	uint16_t l3_offset;    /**< offset of the IP header in the frame */
	uint16_t l4_offset;    /**< offset of the L4 header (valid when has_l4) */
	uint8_t n_vlans;
	uint8_t l3_len_from_frame; /**< 1 when l3_len is the bytes captured (length field 0) */
	uint16_t vlan[DPF_PKT_MAX_VLANS]; /**< VLAN ids, outermost first */
	/* Set by dpf_pkt_decap() on the inner packet only (0 otherwise). */
	uint8_t tun_type;   /**< enum dpf_pkt_tun_type */
	uint8_t tun_has_id; /**< DPF_PKT_TUN_ID_*: whether tun_id is set, and what it is */
	uint32_t tun_id;    /**< VXLAN / GENEVE VNI, NVGRE VSID, GRE key; 0 without one */
};

/* tun_has_id: no id (IP-in-IP, GRE without a key), an id, an NVGRE VSID. */
#define DPF_PKT_TUN_ID_NONE 0
#define DPF_PKT_TUN_ID 1
#define DPF_PKT_TUN_ID_VSID 2

/*
 * Tunnels dpf_pkt_decap() opens. X(enum suffix, name)
 */
#define DPF_PKT_TUNNELS(X)                                                   \
	X(VXLAN, "vxlan")                                                    \
	X(GENEVE, "geneve")                                                  \
	X(GRE, "gre")                                                        \
	X(IPIP, "ipip")

enum dpf_pkt_tun_type {
	DPF_TUN_NONE = 0,
#define DPF_PKT_X_TUN(name, str) DPF_TUN_##name,
	DPF_PKT_TUNNELS(DPF_PKT_X_TUN)
#undef DPF_PKT_X_TUN
	DPF_TUN_MAX
};

#define DPF_PKT_TUN_BIT(t) (1u << (t))
#define DPF_PKT_MAX_VXLAN_PORTS 8
#define DPF_PKT_GENEVE_PORT 6081
#define DPF_PKT_VXLAN_PORT 4789

/** Which tunnels to open (zero: none). */
struct dpf_pkt_decap_cfg {
	uint32_t types;		/**< DPF_PKT_TUN_BIT() of each enum dpf_pkt_tun_type opened */
	uint16_t n_vxlan_ports; /**< VXLAN UDP destination ports in use */
	uint16_t vxlan_ports[DPF_PKT_MAX_VXLAN_PORTS]; /**< host order */
};

/** What dpf_pkt_decap() learned of the tunnel, besides the inner packet. */
struct dpf_pkt_tunnel {
	uint8_t outer_src[16]; /**< outer IP source (IPv4 in bytes 0..3) */
	uint8_t outer_dst[16];
	uint8_t outer_family; /**< 4 or 6 */
	uint8_t has_eth;      /**< the tunnel carries Ethernet: inner header at eth_offset */
	uint16_t eth_offset;  /**< offset of the inner Ethernet header in the frame */
};

/** Name of a tunnel type ("vxlan", ...); "-" for DPF_TUN_NONE or out of range. */
const char *dpf_pkt_tun_name(unsigned int type);

/**
 * Which tunnel cfg opens a parsed outer packet (DPF_PKT_OK) may be, from its
 * outer headers only: a UDP datagram to a VXLAN port or to 6081 (GENEVE), IP
 * protocol 47 (GRE), 4 or 41 (IP-in-IP). Fragments are never opened (the
 * inner headers of a later fragment are not there): they stay outer flows.
 * The VXLAN ports are tested first (the configuration refuses 6081 among
 * them: were it there, VXLAN would win).
 * Inline: one test when nothing is opened.
 *
 * @return enum dpf_pkt_tun_type, DPF_TUN_NONE when the packet is not opened
 */
static inline unsigned int
dpf_pkt_tunnel_of(const struct dpf_pkt_decap_cfg *cfg, const struct dpf_pkt_info *pi)
{
	unsigned int t = DPF_TUN_NONE, i;

	if (cfg->types == 0)
		return DPF_TUN_NONE;
	/* UDP first, its VXLAN ports first: what a hypervisor uplink carries. */
	if (pi->proto == 17) {
		uint16_t port = pi->l4.dst_port;

		if (pi->frag != DPF_PKT_FRAG_NONE || !pi->has_l4 || pi->l4_cut)
			return DPF_TUN_NONE;
		for (i = 0; i < cfg->n_vxlan_ports; i++)
			if (port == cfg->vxlan_ports[i])
				return (cfg->types & DPF_PKT_TUN_BIT(DPF_TUN_VXLAN)) ? DPF_TUN_VXLAN
										     : DPF_TUN_NONE;
		if (port == DPF_PKT_GENEVE_PORT)
			t = DPF_TUN_GENEVE;
	} else if (pi->frag != DPF_PKT_FRAG_NONE) {
		return DPF_TUN_NONE;
	} else if (pi->proto == 47) { /* GRE */
		t = DPF_TUN_GRE;
	} else if (pi->proto == 4 || pi->proto == 41) { /* IPv4, IPv6 in IP */
		t = DPF_TUN_IPIP;
	}
	return (cfg->types & DPF_PKT_TUN_BIT(t)) ? t : DPF_TUN_NONE;
}

/**
 * Open one tunnel: parse the tunnel header of an outer packet of type `type`
 * (from dpf_pkt_tunnel_of()) and the packet it carries, one level deep (a
 * tunnel inside is the inner packet's own flow, never opened again):
 * - VXLAN (RFC 7348): I flag set; VNI; inner Ethernet.
 * - GENEVE (RFC 8926): version 0; VNI; options skipped; protocol type
 *   0x6558 (Ethernet), 0x0800 or 0x86dd (IP).
 * - GRE (RFC 2784, 2890): version 0, no routing; optional checksum, key and
 *   sequence number; protocol type 0x0800, 0x86dd (IP) or 0x6558 (Ethernet:
 *   NVGRE, RFC 7637, whose tunnel id is the VSID, the key's upper 24 bits;
 *   otherwise the tunnel id is the whole key, none without a key).
 * - IP-in-IP (RFC 2003, 4213): the payload is the inner IP packet; no id.
 * The inner packet is parsed like an outer one (same checks, same results)
 * from the bytes both captured and inside the outer payload; its offsets
 * count from the start of the frame. A GRE or GENEVE protocol type that
 * carries neither Ethernet nor IP is not opened: pi->tun_type is then
 * DPF_TUN_NONE, the result DPF_PKT_OK and pi still the outer packet's.
 *
 * In place, so that the common case copies nothing: pi holds the outer
 * packet's parse on entry and the inner packet's on return (to log a tunnel
 * by its outer header after all, parse the frame again).
 *
 * @param data, caplen  the frame, as given to dpf_pkt_parse()
 * @param pi     in: its parse result (DPF_PKT_OK); out: the inner packet's,
 *               with tun_type, tun_id and tun_has_id set (on DPF_PKT_OK);
 *               on another result, partially filled
 * @param type   enum dpf_pkt_tun_type, from dpf_pkt_tunnel_of(), not DPF_TUN_NONE
 * @param tun    the outer addresses and where the inner Ethernet header is
 * @return DPF_PKT_OK, DPF_PKT_NOT_IP (the inner frame is not IP), or a
 *         malformed reason (TRUNC_TUNNEL, BAD_TUNNEL_HEADER, BAD_GENEVE_OPTIONS,
 *         or the inner packet's)
 */
enum dpf_pkt_result dpf_pkt_decap(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi,
				  unsigned int type, struct dpf_pkt_tunnel *tun);

/**
 * dpf_pkt_parse(), then, when cfg opens the packet's tunnel
 * (dpf_pkt_tunnel_of()), dpf_pkt_decap(): the same checks and the same
 * results as the three calls, in one (the RX path's, which then neither calls
 * again nor reads the outer results back).
 *
 * @param cfg   the tunnels opened
 * @param pi    the outer packet's parse, or, when a tunnel was opened, the
 *              inner packet's (as dpf_pkt_decap() leaves it)
 * @param tun   set when *type is not DPF_TUN_NONE (as by dpf_pkt_decap())
 * @param type  out: the tunnel opened, DPF_TUN_NONE when none was (not a
 *              tunnel cfg opens, or the outer parse was not DPF_PKT_OK)
 * @return *type DPF_TUN_NONE: dpf_pkt_parse()'s result; otherwise the outer
 *         parse was DPF_PKT_OK and this is dpf_pkt_decap()'s
 */
enum dpf_pkt_result dpf_pkt_parse_open(const uint8_t *data, uint32_t caplen,
				       const struct dpf_pkt_decap_cfg *cfg, struct dpf_pkt_info *pi,
				       struct dpf_pkt_tunnel *tun, unsigned int *type);

/**
 * Parse one Ethernet frame.
 *
 * @param data    first byte of the Ethernet header
 * @param caplen  bytes available at data (captured length)
 * @param pi      filled on DPF_PKT_OK; partially filled otherwise
 * @return DPF_PKT_OK, DPF_PKT_NOT_IP, or a malformed reason (enum dpf_pkt_result)
 */
enum dpf_pkt_result dpf_pkt_parse(const uint8_t *data, uint32_t caplen, struct dpf_pkt_info *pi);

/** Counter name of a result ("truncated-ipv4", ...); "unknown" when out of range. */
const char *dpf_pkt_result_name(enum dpf_pkt_result r);

/**
 * Rewrite, in place, the addresses and transport ports of a frame that
 * dpf_pkt_parse() returned DPF_PKT_OK for, updating checksums incrementally
 * (RFC 1624) rather than recomputing them, so that the bytes a capture cut
 * off need not be present and a checksum that was wrong stays wrong:
 * - IPv4: the header checksum (addresses).
 * - TCP, UDP, UDP-Lite: their checksum (pseudo-header addresses and ports).
 *   A UDP / UDP-Lite checksum of 0 means "none" and stays 0 (for IPv6 UDP it
 *   is only legal on tunnels, RFC 6936, and is left alone too); a result of 0
 *   is written 0xffff.
 * - ICMPv6: its checksum (pseudo-header addresses, and the identifier below).
 * - ICMP / ICMPv6 echo: the identifier is the port. An echo request's
 *   identifier is its "source port" (takes new_sport, new_dport is ignored),
 *   an echo reply's its "destination port" (takes new_dport). The ICMP
 *   checksum follows. Other ICMP messages take no port; the packet an ICMP
 *   error quotes is not rewritten. An echo whose identifier was not read
 *   (has_icmp_id 0) keeps it.
 * - SCTP: the ports; when a port changes, the CRC32c is recomputed over the
 *   SCTP packet, which is only possible when the whole datagram is captured
 *   (l3_offset + l3_len <= caplen) and is not a fragment; else -ENOTSUP.
 *   SCTP has no pseudo-header: a change of addresses alone always succeeds.
 * - Later fragments (no L4 header): addresses only. A first fragment's L4
 *   checksum covers the whole reassembled datagram and is updated.
 * - A frame cut by the capture (caplen < l3_offset + l3_len) whose L4 checksum
 *   covers bytes not captured is updated all the same: the update only needs
 *   the old and new values.
 * - IPv6 with a routing header whose segments-left is not 0: the destination
 *   address is the next hop, while the L4 pseudo-header holds the final
 *   destination (RFC 8200 8.1); changing the destination is -ENOTSUP.
 * Nothing else in the frame changes. A field whose new value equals the old
 * one is not written and its checksums are left as they are, so rewriting a
 * frame to its own tuple is a no-op, and rewriting back to the original tuple
 * restores the original frame byte for byte (as long as no checksum holds the
 * 0xffff that no sender computes for IPv4, TCP or ICMP: it may come back 0).
 *
 * Ports have no "unchanged" value: to keep them, pass the current ones
 * (pi->src_port, pi->dst_port; for an echo, pi->icmp_id). pi is not updated:
 * it still describes the frame as it was.
 *
 * @param data, caplen  the frame, as passed to dpf_pkt_parse()
 * @param pi            its parse result (family decides address sizes: 4 or 16)
 * @param new_src, new_dst  16-byte addresses (IPv4 in bytes 0..3); NULL =
 *                      unchanged. They may point into the frame (swapping
 *                      source and destination works).
 * @param new_sport, new_dport  host order; only applied when pi->has_l4 and the
 *                      protocol has ports (TCP, UDP, UDP-Lite, SCTP) or is an
 *                      ICMP / ICMPv6 echo whose identifier was read (see above)
 * @return 0 on success;
 *         -EINVAL: data or pi NULL, or pi does not describe a parsed IP frame
 *         of caplen bytes (family, header offsets or version do not match);
 *         -ENOTSUP: SCTP port change without the whole datagram, IPv6
 *         destination change with a routing header still to be followed, or
 *         an L4 header cut by the capture (l4_cut: its checksum or echo
 *         identifier is not in the frame).
 *         On an error the frame is not touched.
 *
 * Thread safety: reentrant; the caller owns the frame.
 */
int dpf_pkt_rewrite(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
		    const uint8_t *new_src, const uint8_t *new_dst, uint16_t new_sport,
		    uint16_t new_dport);

/**
 * The packet an ICMP or ICMPv6 error message quotes (RFC 792, RFC 4443):
 * what dpf_pkt_icmp_error_parse() read of it. Offsets are from the start of
 * the frame; the quoted packet is usually cut (RFC 792 quotes its header and
 * 8 bytes, Linux as much as fits in 576 / 1280 bytes).
 */
struct dpf_pkt_inner {
	uint8_t src_addr[16]; /**< IPv4: bytes 0..3, rest zero */
	uint8_t dst_addr[16];
	uint16_t src_port; /**< host order, when has_ports */
	uint16_t dst_port;
	uint16_t icmp_id;    /**< echo identifier, host order, when has_icmp_id */
	uint16_t l3_offset;  /**< offset of the quoted IP header */
	uint16_t l4_offset;  /**< offset of the quoted L4 header (0: not reached) */
	uint16_t l4_len;     /**< quoted L4 bytes present (captured and in the message) */
	uint8_t family;	     /**< 4 or 6: always the outer packet's */
	uint8_t proto;	     /**< protocol of the quoted packet */
	uint8_t has_ports;   /**< TCP, UDP, UDP-Lite or SCTP ports quoted */
	uint8_t has_icmp_id; /**< an ICMP / ICMPv6 echo quoted with its identifier */
	uint8_t icmp_type;   /**< the quoted echo's type, when has_icmp_id */
};

/**
 * Whether a parsed frame is an ICMP error message (ICMP types 3, 4, 5, 11, 12;
 * ICMPv6 types 1..4) and what it quotes. The quoted IP header must lie in the
 * captured bytes and in the outer datagram, and be of the outer packet's
 * family; its ports (4 bytes) or echo header (8 bytes) are read when quoted,
 * and not for a quoted later fragment. The outer packet must carry its ICMP
 * header (not a later fragment).
 *
 * @return 0 and in filled; -ENOENT: not an ICMP error message; -EINVAL: an
 *         error message whose quoted packet cannot be read (cut before the
 *         end of its IP header, wrong version, bad IPv4 IHL)
 */
int dpf_pkt_icmp_error_parse(const uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
			     struct dpf_pkt_inner *in);

/**
 * Translate an ICMP error message in place, as RFC 5508 (section 4) asks of
 * a NAT: the outer addresses, the quoted packet's addresses and ports (or
 * echo identifier: an echo request's takes in_sport, an echo reply's
 * in_dport), and every checksum, each updated incrementally (RFC 1624):
 * - the outer IPv4 header checksum;
 * - the quoted IPv4 header checksum;
 * - the quoted TCP, UDP or UDP-Lite checksum, when quoted (TCP: 18 bytes;
 *   a UDP checksum of 0 stays 0), and the quoted ICMPv6 / ICMP echo
 *   checksum (pseudo-header, identifier); a quoted SCTP CRC is left alone
 *   (it covers bytes that are not quoted);
 * - the ICMP / ICMPv6 checksum, which covers every quoted byte changed
 *   above (and for ICMPv6 the outer pseudo-header).
 * Addresses are 16-byte buffers (IPv4 in bytes 0..3); NULL leaves one as it
 * is. Ports are only applied when in->has_ports or in->has_icmp_id.
 *
 * @return 0; -EINVAL when in does not describe this frame's quoted packet
 *         (the frame is then not touched)
 */
int dpf_pkt_icmp_error_rewrite(uint8_t *data, uint32_t caplen, const struct dpf_pkt_info *pi,
			       const struct dpf_pkt_inner *in, const uint8_t *new_src,
			       const uint8_t *new_dst, const uint8_t *in_src, const uint8_t *in_dst,
			       uint16_t in_sport, uint16_t in_dport);

/**
 * AWS tcp-flags contribution of one TCP flag byte: FIN 1, SYN 2, RST 4, and
 * 18 for SYN together with ACK; every other flag alone gives 0.
 */
static inline uint8_t
dpf_pkt_tcp_flags_aws(uint8_t tcp_flags)
{
	uint8_t v = tcp_flags & 0x07;

	if ((tcp_flags & 0x12) == 0x12)
		v |= 0x10;
	return v;
}

#endif /* DPF_PKT_H */
