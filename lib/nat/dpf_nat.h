/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_NAT_H
#define DPF_NAT_H

/**
 * @file
 * The node's NAT rules and the stateless views of a flow they give. The
 * masquerade sessions of forward mode are in dpf_nat_session.h.
 *
 * Rules (text form, as in the configuration file):
 *   static <inside-cidr> <outside-cidr>
 *       1:1 prefix translation, both prefixes of the same length and family:
 *       a source inside the inside prefix becomes the same host in the
 *       outside prefix (outbound), a destination inside the outside prefix
 *       becomes the same host in the inside prefix (inbound).
 *   dnat <tcp|udp|sctp> <addr>:<port> <to-addr>:<port>
 *       port forward: a destination addr:port becomes to-addr:port; a reply
 *       from to-addr:port gets addr:port as its source.
 *   masquerade <inside-cidr> <outside-addr> [<port-lo>-<port-hi>]
 *       stateful NAPT (forward mode only): a source inside the prefix gets
 *       outside-addr and a port of the range (default 1024-65535); replies to
 *       outside-addr:port get the inside address and port back. TCP, UDP,
 *       SCTP and ICMP/ICMPv6 echo (the identifier acts as the port).
 *
 * Order of application for one packet: destination side first (dnat, then
 * static inbound, then masquerade replies), source side next (dnat replies,
 * then static outbound, then masquerade). At most one rule per side.
 *
 * Validation (dpf_nat_create): static inside prefixes must not overlap each
 * other, nor static outside prefixes each other; a dnat public addr:port
 * and protocol appears once; masquerade inside prefixes must not overlap
 * each other nor a static inside prefix; port ranges lo <= hi, lo >= 1.
 *
 * Lookups use rte_rib / rte_rib6 tries for prefixes and rte_hash for dnat.
 *
 * Thread safety: parsing and formatting are reentrant. dpf_nat_create() and
 * dpf_nat_free() are control-path calls (main lcore or a control thread).
 * A struct dpf_nat is read-only after creation: every other function may
 * run on any number of lcores at once on the same handle. To change the
 * rules, create a new set and free the old one once no lcore uses it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpf_flow.h"

enum dpf_nat_type {
	DPF_NAT_STATIC = 1,
	DPF_NAT_DNAT,
	DPF_NAT_MASQUERADE,
};

#define DPF_NAT_MAX_RULES 4096

struct dpf_nat_rule {
	uint8_t type;	      /**< enum dpf_nat_type */
	uint8_t family;	      /**< 4 or 6 */
	uint8_t proto;	      /**< dnat: 6, 17 or 132; else 0 */
	uint8_t in_len;	      /**< static / masquerade: inside prefix length */
	uint8_t out_len;      /**< static: outside prefix length */
	uint8_t in_addr[16];  /**< static, masquerade: inside prefix; dnat: to-addr */
	uint8_t out_addr[16]; /**< static: outside prefix; dnat: public addr; masquerade: outside
				 addr */
	uint16_t in_port;     /**< dnat: to-port */
	uint16_t out_port;    /**< dnat: public port */
	uint16_t port_lo;     /**< masquerade */
	uint16_t port_hi;
};

/**
 * Parse one rule (syntax in the file comment). Reentrant.
 * @param r    out: zeroed, then filled
 * @param err  out: on error, a message naming the token and the problem,
 *             e.g. "'10.0.0.1/8': host bits set beyond /8"; may be NULL
 * @return 0, or -EINVAL (a missing, unknown, malformed or extra token,
 *         families mixed, static prefixes of different lengths, a
 *         masquerade outside that is not one address, a bad port range)
 */
int dpf_nat_rule_parse(const char *text, struct dpf_nat_rule *r, char *err, size_t err_len);

/**
 * Canonical text of a rule, which dpf_nat_rule_parse() reads back to the
 * same rule. Reentrant.
 * @return length written (NUL excluded), -EINVAL (unknown type, or a dnat
 *         protocol other than tcp, udp, sctp), or -ENOSPC (buf too small)
 */
int dpf_nat_rule_format(const struct dpf_nat_rule *r, char *buf, size_t len);

struct dpf_nat_params {
	const char *name; /**< unique per process; names DPDK objects */
	int socket_id;
	const struct dpf_nat_rule *rules;
	uint32_t n_rules; /**< up to DPF_NAT_MAX_RULES */
};

struct dpf_nat;

/**
 * Validate the rules as a set and build the lookup structures. Needs EAL.
 * Control path.
 * @param err  on EINVAL: "rule N: ..." naming the conflict, or "bad
 *             parameters"; on a DPDK error: "rule N: cannot build lookup: ..."
 * @return the set, or NULL with rte_errno = EINVAL (p or its name NULL,
 *         too many rules, rules NULL, a rule not from the parser, a
 *         conflict), ENOMEM, or the errno rte_rib / rte_hash reported
 *         (EEXIST: the name is in use)
 */
struct dpf_nat *dpf_nat_create(const struct dpf_nat_params *p, char *err, size_t err_len);

/** NULL-safe. Control path, once no lcore uses the set. */
void dpf_nat_free(struct dpf_nat *nat);

/** Rules held; 0 for NULL (no NAT configured). */
uint32_t dpf_nat_rule_count(const struct dpf_nat *nat);

/** Rule i as given to dpf_nat_create(), or NULL (nat NULL, i out of range). */
const struct dpf_nat_rule *dpf_nat_rule_get(const struct dpf_nat *nat, uint32_t i);

/** True when a masquerade rule is present (false for NULL). */
bool dpf_nat_has_masquerade(const struct dpf_nat *nat);

/**
 * Stateless view (static and dnat rules) of a pre-NAT tuple. Any lcore.
 * @param nat       the rules; NULL: no translation
 * @param k         the flow key (pre-NAT tuple)
 * @param post      out: the post-NAT addresses and ports
 * @param src_rule  out (may be NULL): index + 1 of the rule that rewrote the source, 0 none
 * @param dst_rule  out (may be NULL): same for the destination
 */
void dpf_nat_view(const struct dpf_nat *nat, const struct dpf_flow_key *k,
		  struct dpf_flow_nat *post, uint32_t *src_rule, uint32_t *dst_rule);

/** True when addr (family 4/6) is the outside address of a masquerade rule. Any lcore. */
bool dpf_nat_is_masquerade_outside(const struct dpf_nat *nat, uint8_t family, const uint8_t *addr);

/**
 * True when a rule that translates by port (dnat, masquerade) may concern a
 * packet of these addresses and protocol whatever its ports: a later IP
 * fragment whose first fragment was not seen cannot be translated then.
 * Walks the rules (for rare packets only). Any lcore.
 */
bool dpf_nat_needs_ports(const struct dpf_nat *nat, const struct dpf_flow_key *k);

/**
 * True when masquerade should have translated a packet but post (its view
 * after every rule) shows it was not: a source inside a masquerade prefix
 * that no rule rewrote, or a destination that is a masquerade outside
 * address. Forward mode drops such a packet instead of sending an inside
 * address out, or a packet to nowhere in. Packets to multicast, broadcast
 * and link-local destinations (ND, MLD, DHCP: the link's own traffic) are
 * never missed. Any lcore.
 */
bool dpf_nat_masquerade_missed(const struct dpf_nat *nat, const struct dpf_flow_key *k,
			       const struct dpf_flow_nat *post);

#endif /* DPF_NAT_H */
