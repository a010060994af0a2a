/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_ACL_H
#define DPF_ACL_H

/**
 * @file
 * Access control: an ordered rule list classified with DPDK's rte_acl. The
 * connection tracker of stateful mode is lib/conntrack (dpf_conntrack.h).
 *
 * Rule text (one rule, tokens separated by blanks):
 *
 *     allow|deny <proto> <src> <sport> <dst> <dport>
 *
 * - proto: any, tcp, udp, icmp, icmpv6 (or ipv6-icmp), sctp, gre, esp, or a
 *   decimal number 0..255 (0 means any).
 * - src, dst: a.b.c.d/len, an IPv6 address/len, a bare address (= /32 or
 *   /128), or any. Host bits must be zero. An IPv4 and an IPv6 address in one
 *   rule is an error. A rule with an address applies to that family only; a
 *   rule whose addresses are both "any" applies to both families (write
 *   0.0.0.0/0 or ::/0 to restrict it to one).
 * - sport, dport: N, N-M (N <= M, both ends inclusive) or any. A protocol
 *   without ports (everything but any, tcp, udp, sctp and udplite) takes any.
 *
 * Matching is first match wins, in list order; a packet no rule matches gets
 * the default action. Packets carry the parser's ports: 0 for ICMP, ICMPv6
 * and later fragments whose first fragment was not seen.
 *
 * Thread safety: parsing and formatting are reentrant. dpf_acl_create() and
 * dpf_acl_free() are control-path calls; dpf_acl_classify_burst() may run on
 * any number of lcores at once on the same handle (rte_acl_classify only
 * reads). A handle is never modified: to change the rules, create a new one,
 * publish it, and free the old one after every reader has let go of it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpf_flow.h"
#include "dpf_pkt.h"

/** Most rules one handle holds. */
#define DPF_ACL_MAX_RULES 65536
/** Longest burst dpf_acl_classify_burst() takes. */
#define DPF_ACL_MAX_BURST 64
/** Buffer size that always holds a formatted rule, NUL included. */
#define DPF_ACL_RULE_TEXT_MAX 128

/** One rule. Zero-initialise, then fill; all values in host order. */
struct dpf_acl_rule {
	uint8_t action;	 /**< DPF_ACTION_ACCEPT ("allow") or DPF_ACTION_REJECT ("deny") */
	uint8_t proto;	 /**< IANA protocol; 0 = any */
	uint8_t family;	 /**< 0 = both (both addresses any), 4 or 6 */
	uint8_t src_len; /**< prefix lengths: 0..32 (IPv4), 0..128 (IPv6); 0 = any */
	uint8_t dst_len;
	uint8_t src_addr[16]; /**< IPv4 in bytes 0..3; host bits and unused bytes zero */
	uint8_t dst_addr[16];
	uint16_t sport_lo; /**< inclusive; any = 0-65535 */
	uint16_t sport_hi;
	uint16_t dport_lo;
	uint16_t dport_hi;
};

/**
 * Parse one rule (syntax in the file comment).
 *
 * @param text     the rule; leading and trailing blanks are ignored
 * @param r        out: filled on success, untouched on error
 * @param err      out: on error, a NUL-terminated message naming the token and
 *                 the problem, e.g. "src '10.0.0.1/8': host bits set (prefix
 *                 is 10.0.0.0/8)"; may be NULL
 * @param err_len  size of err (0 when err is NULL)
 * @return 0, or -EINVAL (text or r NULL, a missing, unknown, malformed or
 *         extra token, a prefix length out of range, host bits set, a range
 *         whose start is above its end, IPv4 and IPv6 addresses mixed, ports
 *         given with a protocol that has none)
 */
int dpf_acl_rule_parse(const char *text, struct dpf_acl_rule *r, char *err, size_t err_len);

/**
 * Check a rule built in code against the rules dpf_acl_rule_parse() enforces
 * (action, family, prefix lengths, host bits, unused address bytes zero,
 * ranges ordered, ports only with a protocol that has them).
 *
 * @param err      out: a message naming the field and the problem; may be NULL
 * @return 0, or -EINVAL
 */
int dpf_acl_rule_check(const struct dpf_acl_rule *r, char *err, size_t err_len);

/**
 * Format a rule as canonical text, which dpf_acl_rule_parse() reads back to
 * the same rule: protocol names for the protocols listed above, a numeral
 * otherwise; addresses always with their prefix length; "N" for a one-port
 * range; "any" for an address of length 0 (but 0.0.0.0/0 or ::/0 for src
 * when a one-family rule has no address) and for the full port range.
 *
 * @param buf  out: DPF_ACL_RULE_TEXT_MAX bytes are always enough
 * @param len  size of buf
 * @return characters written (NUL excluded), or -EINVAL (r or buf NULL, rule
 *         fails dpf_acl_rule_check()), -ENOSPC (buf too small; buf holds "")
 */
int dpf_acl_rule_format(const struct dpf_acl_rule *r, char *buf, size_t len);

struct dpf_acl_params {
	const char *name;		  /**< label for the contexts; NULL gives "acl" */
	int socket_id;			  /**< NUMA node for the tries, or SOCKET_ID_ANY */
	uint8_t default_action;		  /**< action when no rule matches */
	const struct dpf_acl_rule *rules; /**< in match order; copied */
	uint32_t n_rules;		  /**< 0 .. DPF_ACL_MAX_RULES */
};

struct dpf_acl;

/**
 * Build a classifier: one rte_acl context per family that has rules (a
 * family-0 rule goes into both). Rule i gets priority n_rules - i, so the
 * first matching rule wins. Context names are made unique per process from
 * name and a process-wide counter, so handles built from the same params may
 * coexist (while a new rule set replaces an old one). Needs EAL. Control
 * path only; not thread-safe against another create or free.
 *
 * @return the handle, or NULL with rte_errno = EINVAL (p NULL, rules NULL
 *         with n_rules > 0, too many rules, a default action or a rule that is
 *         invalid — see dpf_acl_rule_check()), ENOMEM, or the (positive) error
 *         rte_acl_create or rte_acl_build reported
 */
struct dpf_acl *dpf_acl_create(const struct dpf_acl_params *p);

/** NULL-safe. No reader may use the handle any more. */
void dpf_acl_free(struct dpf_acl *acl);

/**
 * Classify parsed packets: one rte_acl_classify call per family present in
 * the burst. Packets whose family is neither 4 nor 6 get the default action.
 * Thread-safe: any number of lcores may classify with the same handle.
 *
 * @param pis       n parsed packets (DPF_PKT_OK)
 * @param n         at most DPF_ACL_MAX_BURST (larger bursts are classified in
 *                  slices of that size)
 * @param actions   out: actions[i] = the first matching rule's action, or the
 *                  default action
 * @param rule_ids  out: rule_ids[i] = that rule's index + 1, or 0 for the
 *                  default; may be NULL
 */
void dpf_acl_classify_burst(const struct dpf_acl *acl, const struct dpf_pkt_info *const *pis,
			    uint32_t n, uint8_t *actions, uint32_t *rule_ids);

/** Rules held; 0 for a NULL acl (no ACL configured). */
uint32_t dpf_acl_rule_count(const struct dpf_acl *acl);

/** Rule i as given to dpf_acl_create(), or NULL when i >= dpf_acl_rule_count(). acl not NULL. */
const struct dpf_acl_rule *dpf_acl_rule_get(const struct dpf_acl *acl, uint32_t i);

/** The action of packets no rule matches. acl not NULL. */
uint8_t dpf_acl_default_action(const struct dpf_acl *acl);

#endif /* DPF_ACL_H */
