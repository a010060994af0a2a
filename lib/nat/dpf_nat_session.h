/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_NAT_SESSION_H
#define DPF_NAT_SESSION_H

/**
 * @file
 * Masquerade sessions (forward mode): the state a masquerade rule of a
 * struct dpf_nat (dpf_nat.h) needs, and the translation of ICMP error
 * messages that quote a translated packet.
 *
 * Each RX core owns one struct dpf_nat_sessions for TCP, UDP and SCTP
 * (single writer). ICMP echo sessions live in one struct dpf_nat_icmp shared
 * by every core and locked inside, because NICs hash ICMP on addresses
 * only, so a reply may reach another core.
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
 *
 * Thread safety: create and free (of sessions, groups and the ICMP table)
 * on the main lcore, before the RX cores start or after they stopped.
 * Every other dpf_nat_sessions_* call on the owning RX lcore only; in shared
 * mode the other members read its tables at the same time, lock-free.
 * Times are the caller's (Unix nanoseconds): the library reads no clock.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpf_flow.h"
#include "dpf_nat.h"
#include "dpf_rss.h"

struct dpf_nat_icmp;

/**
 * Shared ICMP echo session table. Main lcore, before the RX cores start.
 * @param name  unique per process (names the rte_hash tables)
 * @return the table, or NULL with rte_errno = EINVAL (name NULL, capacity
 *         0) or ENOMEM (memory, or an rte_hash that could not be made).
 *         Needs EAL.
 */
struct dpf_nat_icmp *dpf_nat_icmp_create(const char *name, uint32_t capacity, int socket_id);

/** NULL-safe. Main lcore, after every RX core stopped using it. */
void dpf_nat_icmp_free(struct dpf_nat_icmp *t);

#define DPF_NAT_GROUP_MAX 64

/** The session tables of every RX core, in shared mode (see the file comment). */
struct dpf_nat_group;

/**
 * Main lcore, before the members are created.
 * @param n_members  RX cores (members 0 .. n-1), at most DPF_NAT_GROUP_MAX
 * @return the group, or NULL with rte_errno = EINVAL (n_members 0 or above
 *         the maximum), ENOMEM, or what rte_rcu_qsbr_init() reported.
 *         Needs EAL.
 */
struct dpf_nat_group *dpf_nat_group_create(uint16_t n_members, int socket_id);

/** After every member's dpf_nat_sessions_free(). NULL-safe. Main lcore. */
void dpf_nat_group_free(struct dpf_nat_group *g);

struct dpf_nat_sessions_params {
	const char *name;  /**< unique per process */
	uint32_t capacity; /**< sessions of this core */
	int socket_id;
	const struct dpf_nat *nat;
	struct dpf_nat_icmp *icmp; /**< shared; NULL: ICMP echo is not masqueraded */
	/*
	 * Queue steering: a port is only chosen when the reply's Toeplitz hash
	 * (key below) selects this core's queue, so replies meet their session
	 * on the core that created it. n_queues 1 disables the check.
	 */
	const struct dpf_rss *rss;
	uint16_t n_queues;
	uint16_t queue;	     /**< also the member index in a group */
	uint16_t reta_size;  /**< RETA entries, filled round-robin; 0 = DPF_RSS_RETA_SIZE */
	uint64_t timeout_ns; /**< idle sessions expire after this */
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
	uint64_t port_exhausted; /**< no free port in the range for this core */
	uint64_t table_full;
	uint64_t no_session;  /**< packets to a masquerade address without a session */
	uint64_t port_tries;  /**< candidate ports hashed (steering cost) */
	uint64_t remote_hits; /**< shared: packets whose session another core owns */
	uint64_t retired;     /**< shared: deleted sessions waiting for a grace period */
};

struct dpf_nat_sessions;

/**
 * In a group, the tables join it as member p->queue (registered as an RCU
 * reader, online) and must be created and freed on the main lcore before or
 * after the RX cores run.
 * @return the tables, or NULL with rte_errno = EINVAL (p, its name or nat
 *         NULL, capacity 0, queue not below n_queues, several queues without
 *         rss in steered mode, a member index the group does not have or
 *         already holds) or ENOMEM (memory, or an rte_hash that could not be
 *         made). Needs EAL.
 */
struct dpf_nat_sessions *dpf_nat_sessions_create(const struct dpf_nat_sessions_params *p);

/** Leaves the group first. NULL-safe. Main lcore, the owner stopped. */
void dpf_nat_sessions_free(struct dpf_nat_sessions *s);

/**
 * Shared mode: this core holds no session pointer now (call once per poll
 * loop). A few stores; nothing in steered mode. NULL-safe. Owning lcore only.
 */
void dpf_nat_sessions_quiescent(struct dpf_nat_sessions *s);

/** Shared mode: this core stops reading (its loop ends). NULL-safe. Owning lcore only. */
void dpf_nat_sessions_offline(struct dpf_nat_sessions *s);

/**
 * Apply masquerade to a packet whose stateless view is already in post.
 * Outbound (source inside a masquerade prefix, source not already
 * translated): find or create the session; post gets outside addr:port.
 * Inbound (destination is a masquerade outside address): post gets the
 * inside addr:port of the session. Owning lcore only.
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
 * the rule's outside address. Owning lcore of s (any lcore when s is NULL).
 *
 * @param s            this core's sessions, or NULL (no masquerade)
 * @param outer        the error's own tuple (ports 0)
 * @param quoted       the quoted packet's tuple (echo: ports 0)
 * @param quoted_echo  1 / 2 when it is an echo request / reply (its
 *                     identifier in quoted_id), else 0
 * @param outer_post, quoted_post, quoted_post_id  out: the translation
 * @param rule         out: a rule index + 1 that applied, else 0
 * @return 1 something changes, 0 nothing does, -ENOENT the quoted packet
 *         was sent from a masquerade address:port that has no session, or
 *         the error concerns a masquerade prefix without a mapping (RFC
 *         5508 4.1: dropped)
 */
int dpf_nat_icmp_error_view(const struct dpf_nat *nat, struct dpf_nat_sessions *s,
			    const struct dpf_flow_key *outer, const struct dpf_flow_key *quoted,
			    uint8_t quoted_echo, uint16_t quoted_id,
			    struct dpf_flow_nat *outer_post, struct dpf_flow_nat *quoted_post,
			    uint16_t *quoted_post_id, uint32_t *rule);

/**
 * Forget every session and use another rule set from now on (rule indexes
 * change with the rules). The core of queue 0 also empties the shared ICMP
 * table. Owning lcore only.
 * @return 0, or -E2BIG when nat is NULL or has more rules than the sessions
 *         were created for (DPF_NAT_MAX_RULES)
 */
int dpf_nat_sessions_reset(struct dpf_nat_sessions *s, const struct dpf_nat *nat);

/**
 * Drop sessions idle longer than the timeout (call at window flips); in
 * shared mode also reclaim the sessions whose grace period has passed. The
 * core of queue 0 also expires the shared ICMP table. Owning lcore only.
 * @return sessions dropped (TCP, UDP, SCTP)
 */
uint32_t dpf_nat_sessions_expire(struct dpf_nat_sessions *s, uint64_t now_ns);

/**
 * Copy of the counters. Any thread, while the owner runs: each counter is
 * read whole (relaxed atomic loads), the set is not one instant's.
 */
void dpf_nat_sessions_get_stats(const struct dpf_nat_sessions *s,
				struct dpf_nat_sessions_stats *st);

#endif /* DPF_NAT_SESSION_H */
