/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_IPFIX_H
#define DPF_IPFIX_H

/**
 * @file
 * IPFIX (RFC 7011) message encoder for window records.
 *
 * The encoder builds one message at a time in its own buffer; the caller adds
 * template sets, interface-name option records and flow records, then takes
 * the finished message and sends it (UDP datagram, or TCP stream: IPFIX
 * messages carry their own length). Nothing here touches a socket or reads a
 * clock: the export time is a parameter.
 *
 * Templates (fixed-length records, network byte order):
 *
 *   256 IPv4 flows (81 bytes):
 *     flowStartSeconds(150) 4, flowEndSeconds(151) 4,
 *     flowStartMilliseconds(152) 8, flowEndMilliseconds(153) 8,
 *     sourceIPv4Address(8) 4, destinationIPv4Address(12) 4,
 *     sourceTransportPort(7) 2, destinationTransportPort(11) 2,
 *     protocolIdentifier(4) 1, tcpControlBits(6) 2,
 *     packetDeltaCount(2) 8, octetDeltaCount(1) 8, ingressInterface(10) 4,
 *     postNATSourceIPv4Address(225) 4, postNATDestinationIPv4Address(226) 4,
 *     postNAPTSourceTransportPort(227) 2, postNAPTDestinationTransportPort(228) 2,
 *     forwardingStatus(89) 1, natEvent(230) 1, observationTimeMilliseconds(323) 8
 *   257 IPv6 flows (129 bytes): the same with sourceIPv6Address(27),
 *     destinationIPv6Address(28), postNATSourceIPv6Address(281),
 *     postNATDestinationIPv6Address(282) of 16 bytes each
 *   Only with dpf_ipfix_params.tunnels (--decap), for decapsulated records
 *   (key.tun_type set; the flow fields are the inner flow's):
 *   259 / 260 (IPv4 / IPv6 inner) VXLAN and NVGRE: subTemplateList(292)
 *     variable length, the fields of 256 / 257, layer2SegmentId(351) 8:
 *     the encapsulation type in its most significant byte (IANA: 0x01
 *     VxLAN, 0x02 NVGRE), the VNI or VSID in its three low bytes.
 *   261 / 262 GRE with a key that is not an NVGRE VSID: subTemplateList(292),
 *     the fields of 256 / 257, greKey(296) 4 (the key).
 *   263 / 264 GENEVE, GRE without a key, IP-in-IP (no IANA element holds a
 *     GENEVE VNI): subTemplateList(292), the fields of 256 / 257.
 *   265 outer IPv4 (sub-template): sourceIPv4Address(8) 4,
 *     destinationIPv4Address(12) 4
 *   266 outer IPv6 (sub-template): sourceIPv6Address(27) 16,
 *     destinationIPv6Address(28) 16
 *   The subTemplateList (RFC 6313 4.5.2) holds the tunnel's outer
 *   addresses (record.tun: those of the flow's earliest packet) as one
 *   record of 265 or 266, whichever is the outer family: semantic allOf
 *   (0x03), the template id, the record; in the short variable-length form
 *   (one length byte: 12 or 36). A record without outer addresses (tun.family
 *   0) has an empty list (semantic undefined, 0xff, template 265). No IANA
 *   element names a tunnel's outer addresses: structured data puts the
 *   ordinary address elements in a scope of their own instead. The list
 *   comes first: a collector that flattens it into the record (nfdump 1.7)
 *   then takes the flow's own addresses, which come later, over the outer ones.
 *   258 options template, scope ingressInterface(10) 4, then
 *     interfaceName(82) variable length: the interface-id of each interface
 *     (only with dpf_ipfix_add_iface_template: some collectors, nfdump 1.7
 *     among them, ignore option records they do not know yet count them as
 *     sequence errors)
 *
 * Both time pairs carry the same instants (the records hold whole seconds):
 * the seconds pair is the natural element, the milliseconds pair is the one
 * many collectors read (nfdump 1.7 reads only that one).
 *
 * Values: source/destination address and ports are the pre-NAT view (the
 * packet as it arrived, the record's key); the postNAT/postNAPT elements are
 * the post-NAT view (the record's `post`), equal to the pre-NAT values when
 * no NAT rule applied. tcpControlBits is the OR of every TCP flag byte of the
 * flow in the window (tcp-flags-all), 0 for other protocols. ingressInterface
 * is the record's interface index (key.iface) plus one: ifIndex values start
 * at 1, and collectors read 0 as "no interface". forwardingStatus (RFC 7270,
 * unsigned8) is 64 (forwarded, reason unknown) for ACCEPT and 129 (dropped,
 * ACL deny) for REJECT. Deltas are the packets and the IP-layer bytes of the
 * window. natEvent (RFC 8158) is 1, "NAT translation create": the record
 * reports the translation the flow used in the window (the identity when no
 * rule applied), and observationTimeMilliseconds, the time of that event, is
 * the flow's start; NAT event loggers (nfdump -o nel) need both.
 *
 * Sequence numbers (RFC 7011 3.1): each message carries the number of data
 * records (flow and option records) of this encoder taken before it, modulo
 * 2^32. A transport that loses an encoder's messages (a TCP reconnect) keeps
 * using the same encoder: the collector sees the gap in the numbering.
 *
 * Thread safety: not thread-safe; one thread owns an encoder.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpf_flow.h"

#define DPF_IPFIX_VERSION 10
#define DPF_IPFIX_TEMPLATE_V4 256
#define DPF_IPFIX_TEMPLATE_V6 257
#define DPF_IPFIX_TEMPLATE_IFACE 258
#define DPF_IPFIX_TEMPLATE_V4_L2SEG 259
#define DPF_IPFIX_TEMPLATE_V6_L2SEG 260
#define DPF_IPFIX_TEMPLATE_V4_GRE_KEY 261
#define DPF_IPFIX_TEMPLATE_V6_GRE_KEY 262
#define DPF_IPFIX_TEMPLATE_V4_TUNNEL 263
#define DPF_IPFIX_TEMPLATE_V6_TUNNEL 264
#define DPF_IPFIX_TEMPLATE_OUTER_V4 265
#define DPF_IPFIX_TEMPLATE_OUTER_V6 266
#define DPF_IPFIX_RECORD_V4_LEN 81
#define DPF_IPFIX_RECORD_V6_LEN 129
#define DPF_IPFIX_FWD_FORWARDED 64	/**< forwardingStatus: forwarded, unknown reason */
#define DPF_IPFIX_FWD_DROP_ACL_DENY 129 /**< forwardingStatus: dropped, ACL deny */
#define DPF_IPFIX_NAT_EVENT_CREATE 1	/**< natEvent: NAT translation create */
/** Default message size: fits an Ethernet MTU over IPv4 or IPv6 with room for tunnels. */
#define DPF_IPFIX_MSG_LEN_DEFAULT 1400
#define DPF_IPFIX_MSG_LEN_MIN 512
#define DPF_IPFIX_MSG_LEN_MAX 65535
/**
 * Longest interface name an option record carries (longer ones are cut): the
 * short form of a variable-length field (one length byte, below 255).
 */
#define DPF_IPFIX_IFNAME_MAX 254

struct dpf_ipfix_params {
	uint32_t domain_id; /**< Observation Domain ID of every message */
	/**
	 * Largest message in bytes, header included; 0 = 1400.
	 * dpf_ipfix_min_msg_len(tunnels)..DPF_IPFIX_MSG_LEN_MAX.
	 */
	uint32_t max_msg_len;
	/** Also announce and use the overlay templates 259..266 (--decap). */
	bool tunnels;
};

/**
 * The smallest max_msg_len: DPF_IPFIX_MSG_LEN_MIN, or with tunnels what the
 * header and the one set of every template take (756 bytes).
 */
uint32_t dpf_ipfix_min_msg_len(bool tunnels);

/* layer2SegmentId's encapsulation types (IANA IPFIX registry, element 351). */
#define DPF_IPFIX_L2SEG_VXLAN 0x01
#define DPF_IPFIX_L2SEG_NVGRE 0x02

/**
 * layer2SegmentId of a record: encapsulation type in the top byte, the VNI or
 * VSID in the low 24 bits; 0 when the record is not from VXLAN or NVGRE.
 */
uint64_t dpf_ipfix_l2seg(const struct dpf_record *r);

struct dpf_ipfix_stats {
	uint64_t messages;	 /**< messages taken */
	uint64_t flow_records;	 /**< flow data records encoded */
	uint64_t option_records; /**< interface-name option records encoded */
	uint64_t template_sets;	 /**< template sets added (flow and options templates) */
};

struct dpf_ipfix;

/**
 * Create an encoder.
 * @return handle, or NULL with rte_errno = EINVAL (NULL p, max_msg_len out of
 *         range: below dpf_ipfix_min_msg_len()) or ENOMEM
 */
struct dpf_ipfix *dpf_ipfix_create(const struct dpf_ipfix_params *p);

/** NULL-safe. */
void dpf_ipfix_free(struct dpf_ipfix *x);

/**
 * Add the flow templates (IPv4 256, IPv6 257; with tunnels 259..266 too) to
 * the open message, in one Template Set.
 * @return 0, -EINVAL (NULL x), -ENOBUFS (no room in the open message: take
 *         it and add again)
 */
int dpf_ipfix_add_templates(struct dpf_ipfix *x);

/**
 * Add the interface-name options template (258) to the open message, in an
 * Options Template Set. @return as dpf_ipfix_add_templates
 */
int dpf_ipfix_add_iface_template(struct dpf_ipfix *x);

/**
 * Add one interface-name option record (template 258): the interface of
 * records with key.iface == iface (sent as dpf_ipfix_ifindex(iface), as in
 * flow records) is called name (cut to DPF_IPFIX_IFNAME_MAX bytes).
 * @return 0, -EINVAL (NULL x or name), -ENOBUFS (take the message, add again)
 */
int dpf_ipfix_add_iface(struct dpf_ipfix *x, uint16_t iface, const char *name);

/** ingressInterface value of an interface index (key.iface): iface + 1. */
uint32_t dpf_ipfix_ifindex(uint16_t iface);

/**
 * Add one flow record. NODATA and SKIPDATA rows are not flows.
 * @return 0, -EINVAL (NULL x or r, a row whose log_status is not OK, a
 *         family other than 4 or 6), -ENOBUFS (no room in the open message:
 *         take it and add again)
 */
int dpf_ipfix_add_record(struct dpf_ipfix *x, const struct dpf_record *r);

/** Bytes in the open message (0 when nothing was added since the last take). */
size_t dpf_ipfix_pending(const struct dpf_ipfix *x);

/**
 * Finish the open message: fill its header (length, export_time, sequence
 * number, domain) and start a new one.
 * @param msg  out: the message, valid until the next call on this encoder
 * @return the message length, 0 when nothing was added (msg untouched), or
 *         -EINVAL (NULL x or msg)
 */
int dpf_ipfix_take(struct dpf_ipfix *x, uint32_t export_time, const uint8_t **msg);

/** Copy of the counters. */
void dpf_ipfix_get_stats(const struct dpf_ipfix *x, struct dpf_ipfix_stats *st);

/** forwardingStatus value for an action (enum dpf_action). */
uint8_t dpf_ipfix_forwarding_status(uint8_t action);

#endif /* DPF_IPFIX_H */
