/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_NAT_PRIVATE_H
#define DPF_NAT_PRIVATE_H

/*
 * What the files of lib/nat share, and nobody else sees:
 *   dpf_nat_rule.c     rule text (parse, format) and the checks of a rule set
 *   dpf_nat.c          the rule set's lookup structures and its stateless views
 *   dpf_nat_session.c  masquerade sessions of TCP, UDP, SCTP (per core or shared)
 *   dpf_nat_icmp.c     the shared ICMP echo table and ICMP error messages
 * The contracts callers see are dpf_nat.h and dpf_nat_session.h.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_rcu_qsbr.h>
#include <rte_rib.h>
#include <rte_rib6.h>
#include <rte_spinlock.h>

#include "dpf_nat.h"
#include "dpf_nat_session.h"
#include "dpf_util.h"

#define MAX_RULES DPF_NAT_MAX_RULES

/* ------------------------------------------------------------ rule set */

/*
 * rte_rib tries rather than rte_lpm: a DIR-24-8 table costs 64 MB each and
 * NAT rule sets are small; monitor mode looks prefixes up once per flow at
 * merge time, forward mode once per translated packet.
 */
struct prefix_table {
	struct rte_rib *v4;
	struct rte_rib6 *v6;
};

struct dpf_nat {
	uint32_t n_rules;
	bool has_masquerade;
	struct prefix_table static_in;	/* source side, outbound */
	struct prefix_table static_out; /* destination side, inbound */
	struct prefix_table masq_in;
	struct rte_hash *dnat_pub; /* (proto, public addr, port) -> rule */
	struct rte_hash *dnat_to;  /* (proto, to-addr, to-port) -> rule */
	/* n_rules, from a cache line on as an allocation of its own would be */
	struct dpf_nat_rule rules[] __rte_cache_aligned;
};

/*
 * Check a list of parsed rules as a set (overlaps, duplicate forwards).
 * @return 0, or -EINVAL with "rule N: ..." in err
 */
int nat_rules_validate(const struct dpf_nat_rule *rules, uint32_t n, char *err, size_t err_len);

/* Rule index of the longest prefix holding addr, or -1. */
static inline int64_t
prefix_lookup(const struct prefix_table *t, uint8_t family, const uint8_t *addr)
{
	uint64_t hop;

	if (family == 4) {
		struct rte_rib_node *node;

		if (t->v4 == NULL)
			return -1;
		node = rte_rib_lookup(t->v4, dpf_load_be32(addr));
		return node != NULL && rte_rib_get_nh(node, &hop) == 0 ? (int64_t)hop : -1;
	} else {
		struct rte_rib6_node *node;

		if (t->v6 == NULL)
			return -1;
		node = rte_rib6_lookup(t->v6, addr);
		return node != NULL && rte_rib6_get_nh(node, &hop) == 0 ? (int64_t)hop : -1;
	}
}

/* Protocols whose rules and sessions translate ports. */
static inline bool
nat_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

/* ------------------------------------------------------------ sessions */

struct sess_key {
	uint8_t family;
	uint8_t proto;
	uint16_t local_port; /* inside port (fwd) or outside port (rev) */
	uint16_t remote_port;
	uint16_t pad;
	uint8_t local[16]; /* inside addr (fwd) or outside addr (rev) */
	uint8_t remote[16];
};

struct session {
	struct sess_key fwd;
	struct sess_key rev;
	uint64_t last_ns; /* shared mode: refreshed by any core (relaxed atomics) */
	uint32_t rule;
	uint32_t used;
};

/* Shared mode: a session whose keys were deleted, reusable after a grace period. */
struct retired_session {
	uint64_t token; /* rte_rcu_qsbr_start() after the deletion */
	uint32_t idx;
	int32_t fwd_pos; /* key slots, freed with the session */
	int32_t rev_pos;
};

struct dpf_nat_group {
	uint16_t n_members;
	struct rte_rcu_qsbr *qsbr;
	struct dpf_nat_sessions *members[DPF_NAT_GROUP_MAX]; /* published at create */
};

struct dpf_nat_sessions {
	const struct dpf_nat *nat;
	struct dpf_nat_icmp *icmp;
	const struct dpf_rss *rss;
	struct dpf_nat_group *group; /* NULL: sessions of this core only */
	struct rte_hash *fwd;
	struct rte_hash *rev;
	struct session *sess;
	uint32_t *free_stack;
	uint32_t n_free;
	uint32_t capacity;
	uint32_t *cursor;		 /* per rule */
	struct retired_session *retired; /* shared mode: FIFO of capacity entries */
	uint32_t retired_head;
	uint32_t retired_n; /* read by other threads (stats): relaxed atomic stores */
	uint16_t n_queues;
	uint16_t queue;
	uint16_t reta_size;
	uint64_t timeout_ns;
	uint64_t touch_ns;		  /* last_ns is rewritten when it is older than this */
	struct dpf_nat_sessions_stats st; /* written with nat_stat_set() */
};

/*
 * Session counters have one writer, the owning lcore, and are read by other
 * threads (dpf_nat_sessions_get_stats()): relaxed stores keep each value
 * whole for them without a locked instruction.
 */
static inline void
nat_stat_set(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

static inline void
nat_stat_inc(uint64_t *c)
{
	nat_stat_set(c, *c + 1);
}

static inline void
sess_key_make(struct sess_key *k, uint8_t family, uint8_t proto, const uint8_t *local,
	      uint16_t local_port, const uint8_t *remote, uint16_t remote_port)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->local_port = local_port;
	k->remote_port = remote_port;
	memcpy(k->local, local, 16);
	memcpy(k->remote, remote, 16);
}

/*
 * Masquerade of a TCP, UDP or SCTP packet whose stateless view is in post.
 * create: an outbound packet may open a session and the packet counts in the
 * statistics (false: ICMP errors only look up).
 * @return 1 applied, 0 not concerned, -ENOSPC, -ENOENT (dpf_nat_sessions_apply)
 */
int nat_ports_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint64_t now_ns,
		    bool create, struct dpf_flow_nat *post, uint32_t *rule);

/*
 * ICMP echo through the shared table (s->icmp, locked). is_echo 1: a request
 * from inside (create: may open an entry); 2: a reply from outside.
 * @return as nat_ports_apply()
 */
int nat_icmp_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint8_t is_echo,
		   uint16_t icmp_id, uint64_t now_ns, bool create, struct dpf_flow_nat *post,
		   uint16_t *post_id, uint32_t *rule);

/* Empty the shared ICMP table (a new rule set). */
void nat_icmp_reset(struct dpf_nat_icmp *t);

/* Drop ICMP entries idle longer than timeout_ns. */
void nat_icmp_expire(struct dpf_nat_icmp *t, uint64_t now_ns, uint64_t timeout_ns);

#endif /* DPF_NAT_PRIVATE_H */
