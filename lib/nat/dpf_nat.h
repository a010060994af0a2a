/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_NAT_H
#define DPF_NAT_H

/**
 * @file
 * The node's NAT rules and the two views of a flow they give.
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
 * Lookups use rte_lpm / rte_lpm6 for prefixes and rte_hash for dnat.
 *
 * Thread safety: struct dpf_nat is read-only after creation and shared by
 * every RX core. struct dpf_nat_sessions is per RX core (single writer),
 * except the ICMP echo table, which is shared and internally locked because
 * NICs hash ICMP on addresses only, so a reply may reach another core.
 *
 * Two ways to find a reply's session (dpf_nat_sessions_params):
 * - steered (group NULL): the port is chosen so that the reply's Toeplitz
 *   hash brings it to the creating core's queue; nobody else ever looks.
 * - shared (a dpf_nat_group): for ports whose queues are not spread by that
 *   hash (the kernel's fanout on af_packet, ...). Each member still writes
 *   only its own tables, and the port range is split between members
 *   (port p belongs to member (p - lo) % members), so a reply names the
 *   table that holds its session; an outbound packet looks in its own
 *   table first, then in the others'. Other members read the tables
 *   lock-free (rte_hash RW_CONCURRENCY_LF); a deleted session is reused
 *   only after every member has reported a quiescent state (rte_rcu_qsbr):
 *   each member calls dpf_nat_sessions_quiescent() when it holds no
 *   session, once per poll loop.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpf_flow.h"
#include "dpf_rss.h"

enum dpf_nat_type {
	DPF_NAT_STATIC = 1,
	DPF_NAT_DNAT,
	DPF_NAT_MASQUERADE,
};

#define DPF_NAT_MAX_RULES 4096

struct dpf_nat_rule {
	uint8_t type;        /**< enum dpf_nat_type */
	uint8_t family;      /**< 4 or 6 */
	uint8_t proto;       /**< dnat: 6, 17 or 132; else 0 */
	uint8_t in_len;      /**< static / masquerade: inside prefix length */
	uint8_t out_len;     /**< static: outside prefix length */
	uint8_t in_addr[16]; /**< static, masquerade: inside prefix; dnat: to-addr */
	uint8_t out_addr[16]; /**< static: outside prefix; dnat: public addr; masquerade: outside addr */
	uint16_t in_port;    /**< dnat: to-port */
	uint16_t out_port;   /**< dnat: public port */
	uint16_t port_lo;    /**< masquerade */
	uint16_t port_hi;
};

/**
 * Parse one rule. @return 0, or -EINVAL with a message naming the token
 * and the problem in err.
 */
int dpf_nat_rule_parse(const char *text, struct dpf_nat_rule *r, char *err, size_t err_len);

/** Canonical text of a rule. @return length, or -ENOSPC. */
int dpf_nat_rule_format(const struct dpf_nat_rule *r, char *buf, size_t len);

struct dpf_nat_params {
	const char *name;               /**< unique per process; names DPDK objects */
	int socket_id;
	const struct dpf_nat_rule *rules;
	uint32_t n_rules;               /**< up to 4096 */
};

struct dpf_nat;

/**
 * Validate the rules as a set and build the lookup structures. Needs EAL.
 * @param err  on EINVAL: "rule N: ..." naming the conflict
 * @return NULL with rte_errno = EINVAL (conflict), ENOMEM or a DPDK errno
 */
struct dpf_nat *dpf_nat_create(const struct dpf_nat_params *p, char *err, size_t err_len);

/** NULL-safe. */
void dpf_nat_free(struct dpf_nat *nat);

uint32_t dpf_nat_rule_count(const struct dpf_nat *nat);
const struct dpf_nat_rule *dpf_nat_rule_get(const struct dpf_nat *nat, uint32_t i);
bool dpf_nat_has_masquerade(const struct dpf_nat *nat);

/**
 * Stateless view (static and dnat rules) of a pre-NAT tuple.
 * @param k         the flow key (pre-NAT tuple)
 * @param post      out: the post-NAT addresses and ports
 * @param src_rule  out (may be NULL): index + 1 of the rule that rewrote the source, 0 none
 * @param dst_rule  out (may be NULL): same for the destination
 */
void dpf_nat_view(const struct dpf_nat *nat, const struct dpf_flow_key *k,
		  struct dpf_flow_nat *post, uint32_t *src_rule, uint32_t *dst_rule);

/** True when addr (family 4/6) is the outside address of a masquerade rule. */
bool dpf_nat_is_masquerade_outside(const struct dpf_nat *nat, uint8_t family, const uint8_t *addr);

/**
 * True when a rule that translates by port (dnat, masquerade) may concern a
 * packet of these addresses and protocol whatever its ports: a later IP
 * fragment whose first fragment was not seen cannot be translated then.
 * Walks the rules (for rare packets only).
 */
bool dpf_nat_needs_ports(const struct dpf_nat *nat, const struct dpf_flow_key *k);

/**
 * True when masquerade should have translated a packet but post (its view
 * after every rule) shows it was not: a source inside a masquerade prefix
 * that no rule rewrote, or a destination that is a masquerade outside
 * address. Forward mode drops such a packet instead of sending an inside
 * address out, or a packet to nowhere in. Packets to multicast, broadcast
 * and link-local destinations (ND, MLD, DHCP: the link's own traffic) are
 * never missed.
 */
bool dpf_nat_masquerade_missed(const struct dpf_nat *nat, const struct dpf_flow_key *k,
			       const struct dpf_flow_nat *post);

/* ------------------------------------------------------------------ */
/* Masquerade sessions (forward mode).                                 */

struct dpf_nat_icmp;

/** Shared ICMP echo session table. @return NULL + rte_errno. Needs EAL. */
struct dpf_nat_icmp *dpf_nat_icmp_create(const char *name, uint32_t capacity, int socket_id);
void dpf_nat_icmp_free(struct dpf_nat_icmp *t);

#define DPF_NAT_GROUP_MAX 64

/** The session tables of every RX core, in shared mode (see the file comment). */
struct dpf_nat_group;

/**
 * @param n_members  RX cores (members 0 .. n-1), at most DPF_NAT_GROUP_MAX
 * @return NULL + rte_errno (EINVAL, ENOMEM). Needs EAL.
 */
struct dpf_nat_group *dpf_nat_group_create(uint16_t n_members, int socket_id);
/** After every member's dpf_nat_sessions_free(). NULL-safe. */
void dpf_nat_group_free(struct dpf_nat_group *g);

struct dpf_nat_sessions_params {
	const char *name;            /**< unique per process */
	uint32_t capacity;           /**< sessions of this core */
	int socket_id;
	const struct dpf_nat *nat;
	struct dpf_nat_icmp *icmp;   /**< shared; NULL: ICMP echo is not masqueraded */
	/*
	 * Queue steering: a port is only chosen when the reply's Toeplitz hash
	 * (key below) selects this core's queue, so replies meet their session
	 * on the core that created it. n_queues 1 disables the check.
	 */
	const struct dpf_rss *rss;
	uint16_t n_queues;
	uint16_t queue;              /**< also the member index in a group */
	uint16_t reta_size;          /**< RETA entries, filled round-robin; 0 = DPF_RSS_RETA_SIZE */
	uint64_t timeout_ns;         /**< idle sessions expire after this */
	/*
	 * Shared mode: the group this core's tables join as member `queue`
	 * (steering is then off). NULL: steered, or one queue.
	 */
	struct dpf_nat_group *group;
};

struct dpf_nat_sessions_stats {
	uint64_t created;
	uint64_t active;
	uint64_t expired;
	uint64_t port_exhausted;     /**< no free port in the range for this core */
	uint64_t table_full;
	uint64_t no_session;         /**< packets to a masquerade address without a session */
	uint64_t port_tries;         /**< candidate ports hashed (steering cost) */
	uint64_t remote_hits;        /**< shared: packets whose session another core owns */
	uint64_t retired;            /**< shared: deleted sessions waiting for a grace period */
};

struct dpf_nat_sessions;

/**
 * In a group, the tables join it as member p->queue (registered as an RCU
 * reader, online) and must be created and freed on the main lcore before or
 * after the RX cores run.
 * @return NULL + rte_errno (EINVAL, ENOMEM, rte_hash errors). Needs EAL.
 */
struct dpf_nat_sessions *dpf_nat_sessions_create(const struct dpf_nat_sessions_params *p);
/** Leaves the group first. NULL-safe. */
void dpf_nat_sessions_free(struct dpf_nat_sessions *s);

/**
 * Shared mode: this core holds no session pointer now (call once per poll
 * loop). A few stores; nothing in steered mode. Owning lcore only.
 */
void dpf_nat_sessions_quiescent(struct dpf_nat_sessions *s);

/** Shared mode: this core stops reading (its loop ends). Owning lcore only. */
void dpf_nat_sessions_offline(struct dpf_nat_sessions *s);

/**
 * Apply masquerade to a packet whose stateless view is already in post.
 * Outbound (source inside a masquerade prefix, source not already
 * translated): find or create the session; post gets outside addr:port.
 * Inbound (destination is a masquerade outside address): post gets the
 * inside addr:port of the session.
 *
 * @param k        pre-NAT tuple
 * @param icmp_id  echo identifier when the packet is an ICMP/ICMPv6 echo
 *                 request (is_echo 1) or reply (is_echo 2); else is_echo 0
 * @param post     in: stateless view; out: with masquerade applied
 * @param post_icmp_id  out: identifier to write in the echo packet
 * @param rule     out: masquerade rule index + 1, when applied
 * @return 1 applied, 0 not concerned, -ENOSPC no port or table full,
 *         -ENOENT inbound without a session
 */
int dpf_nat_sessions_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k,
			   uint8_t is_echo, uint16_t icmp_id, uint64_t now_ns,
			   struct dpf_flow_nat *post, uint16_t *post_icmp_id, uint32_t *rule);

/**
 * Translate an ICMP error message (RFC 5508): the quoted packet crossed the
 * NAT the other way, so it gets the inverse of its own translation, which
 * is what a reply to it gets (stateless rules, then masquerade sessions,
 * looked up only: an error neither creates nor refreshes a session). The
 * outer destination, when it is the quoted source, becomes the translated
 * quoted source; the outer source, when it is the quoted destination, the
 * translated quoted destination; otherwise the outer addresses get the
 * stateless view, and a source inside a masquerade prefix (a router there)
 * the rule's outside address.
 *
 * @param s            this core's sessions, or NULL (no masquerade)
 * @param outer        the error's own tuple (ports 0)
 * @param quoted       the quoted packet's tuple (echo: ports 0)
 * @param quoted_echo  1 / 2 when it is an echo request / reply (its
 *                     identifier in quoted_id), else 0
 * @param outer_post, quoted_post, quoted_post_id  out: the translation
 * @param rule         out: a rule index + 1 that applied, else 0
 * @return 1 something changes, 0 nothing does, -ENOENT the quoted packet
 *         was sent from a masquerade address:port that has no session
 */
int dpf_nat_icmp_error_view(const struct dpf_nat *nat, struct dpf_nat_sessions *s,
			    const struct dpf_flow_key *outer, const struct dpf_flow_key *quoted,
			    uint8_t quoted_echo, uint16_t quoted_id, struct dpf_flow_nat *outer_post,
			    struct dpf_flow_nat *quoted_post, uint16_t *quoted_post_id,
			    uint32_t *rule);

/**
 * Forget every session and use another rule set from now on (rule indexes
 * change with the rules). The core of queue 0 also empties the shared ICMP
 * table. @return 0, or -E2BIG when nat has more rules than the sessions were
 * created for (DPF_NAT_MAX_RULES).
 */
int dpf_nat_sessions_reset(struct dpf_nat_sessions *s, const struct dpf_nat *nat);

/** Drop sessions idle longer than the timeout (call at window flips). @return dropped */
uint32_t dpf_nat_sessions_expire(struct dpf_nat_sessions *s, uint64_t now_ns);

void dpf_nat_sessions_get_stats(const struct dpf_nat_sessions *s, struct dpf_nat_sessions_stats *st);

#endif /* DPF_NAT_H */
