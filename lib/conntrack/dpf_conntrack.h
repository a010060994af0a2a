/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CONNTRACK_H
#define DPF_CONNTRACK_H

/**
 * @file
 * Connection tracking for stateful filtering: an RX lcore remembers each
 * flow its ACL rules accepted (lib/acl), and accepts the reverse direction
 * of a remembered flow (the reply) whatever the rules say, like a security
 * group.
 *
 * An entry is keyed by (iface, family, proto, src, dst, sport, dport); a
 * reply must arrive on the same interface. ICMP and ICMPv6 keys have ports 0,
 * so once A -> B ICMP was accepted, any ICMP from B to A is a reply (echo
 * replies, but also errors such as destination unreachable), and the same
 * holds for every protocol without ports.
 *
 * Entries live until dpf_conntrack_expire() drops them; an entry idle for
 * more than timeout_ns no longer counts as a reply even before that. Times
 * are the caller's (Unix nanoseconds): the library reads no clock.
 *
 * Thread safety: not thread-safe. One tracker per RX lcore; only that lcore
 * calls add, is_reply and expire (is_reply writes: it refreshes the entry).
 * Create and free on the control path, before or after the lcore runs.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpf_flow.h"

/** Largest capacity. */
#define DPF_CONNTRACK_MAX_CAPACITY (1u << 26)

struct dpf_conntrack_params {
	const char *name;    /**< label for the hash; NULL gives "ct" */
	uint32_t capacity;   /**< flows; 1 .. DPF_CONNTRACK_MAX_CAPACITY */
	int socket_id;	     /**< NUMA node of the owning lcore, or SOCKET_ID_ANY */
	uint64_t timeout_ns; /**< idle time after which a flow is forgotten; > 0 */
};

struct dpf_conntrack;

/**
 * Create an empty tracker (an rte_hash whose name is made unique per
 * process, so trackers created from the same params coexist). Needs EAL.
 * Control path.
 * @return the tracker, or NULL with rte_errno = EINVAL (p NULL, capacity or
 *         timeout out of range), EEXIST (no unused name found), ENOMEM
 */
struct dpf_conntrack *dpf_conntrack_create(const struct dpf_conntrack_params *p);

/** NULL-safe. Control path, once the owning lcore no longer uses it. */
void dpf_conntrack_free(struct dpf_conntrack *ct);

/**
 * Remember an accepted flow, or refresh its time when it is known (an entry
 * that had already gone idle is revived). The key's action and pad are
 * ignored. Not thread-safe: owning lcore.
 * @return 0, or -ENOSPC when the tracker holds capacity flows (or, rarely,
 *         when the hash finds no free slot for this key)
 */
int dpf_conntrack_add(struct dpf_conntrack *ct, const struct dpf_flow_key *k, uint64_t now_ns);

/**
 * True when the reverse of k (src <-> dst, sport <-> dport; same iface,
 * family and proto) was added and has not been idle for more than
 * timeout_ns; then its time is refreshed. Not thread-safe: owning lcore.
 */
bool dpf_conntrack_is_reply(struct dpf_conntrack *ct, const struct dpf_flow_key *k,
			    uint64_t now_ns);

/**
 * Drop every entry idle for more than timeout_ns at now_ns. Costs a walk of
 * the whole table: call it at window flips, not per packet. Not thread-safe:
 * owning lcore.
 * @return entries dropped
 */
uint32_t dpf_conntrack_expire(struct dpf_conntrack *ct, uint64_t now_ns);

/** Entries held (idle ones included until expired). Owning lcore, or after it stopped. */
uint32_t dpf_conntrack_count(const struct dpf_conntrack *ct);

/** Flows the tracker can hold. Any thread. */
uint32_t dpf_conntrack_capacity(const struct dpf_conntrack *ct);

#endif /* DPF_CONNTRACK_H */
