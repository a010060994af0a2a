/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_FT_H
#define DPF_FT_H

/**
 * @file
 * Flow table: one per capture-window shard, written by exactly one RX lcore.
 *
 * Layout: a power-of-two array of 64-byte buckets, each holding 8 16-bit
 * signatures and 8 indexes into a dense entry array. A key may live in one
 * of two buckets (primary from the low hash bits, secondary derived from the
 * signature); lookups compare the 8 signatures of a bucket at once (SSE2) and
 * then the full 48-byte key. Entries are appended in insertion order, so the
 * pipeline iterates them without scanning buckets. The capacity is fixed at
 * creation: nothing is allocated afterwards.
 *
 * The table hash is a seeded CRC32-C of the whole key, never the NIC's RSS
 * hash alone (a symmetric RSS key leaves only 16 bits of information).
 *
 * Thread safety: not thread-safe. The owning RX lcore inserts and updates;
 * after the shard is handed over, only the pipeline reads and resets it.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dpf_flow.h"

/** One flow. 96 bytes. */
struct dpf_ft_entry {
	struct dpf_flow_key key;
	struct dpf_flow_counters c;
	uint32_t hash;
	uint32_t pad;
};

struct dpf_ft_params {
	const char *name;   /**< for the allocation; may be NULL */
	uint32_t capacity;  /**< flows; 1 .. 2^27 */
	/**
	 * Entries beyond capacity that only dpf_ft_segment() takes (0: none, it
	 * then takes flows' room): flows cut into segments never take a flow's
	 * place, so the flows a table holds do not depend on the cuts.
	 */
	uint32_t segments;
	int socket_id;      /**< NUMA node of the owning lcore, or SOCKET_ID_ANY */
	uint32_t seed;      /**< hash seed (0 is a valid seed) */
};

struct dpf_ft;

/**
 * Create an empty table. Needs EAL (memory comes from rte_malloc).
 * @return the table, or NULL with rte_errno = EINVAL (capacity) or ENOMEM
 */
struct dpf_ft *dpf_ft_create(const struct dpf_ft_params *p);

/** NULL-safe. */
void dpf_ft_free(struct dpf_ft *ft);

/** Remove every flow. Cost is proportional to the flows held, not the capacity. */
void dpf_ft_reset(struct dpf_ft *ft);

/** Hash of a key with the table's seed. */
uint32_t dpf_ft_hash(const struct dpf_ft *ft, const struct dpf_flow_key *key);

/**
 * Find or insert the flows of a burst.
 *
 * @param keys  n keys (the same key may appear several times)
 * @param n     at most 64
 * @param out   out[i]: the counters of keys[i]'s flow (new flows zeroed), or
 *              NULL when the flow is new and the table is full
 * @return number of flows inserted
 */
uint32_t dpf_ft_lookup_or_insert_burst(struct dpf_ft *ft, const struct dpf_flow_key *keys,
				       uint32_t n, struct dpf_flow_counters **out);

/** Counters of a key, or NULL when absent. */
struct dpf_flow_counters *dpf_ft_lookup(struct dpf_ft *ft, const struct dpf_flow_key *key);

/**
 * Cut a flow's live entry (key, seg 0; counters c, as the burst look-up gave
 * them) at the packet about to be added: its counters so far move to a new
 * entry keyed (key, seg = c->segs + 1), from the segments' room when the
 * table has one, and c starts over, empty, with
 * seg_flags = flags (DPF_SEG_SYN / DPF_SEG_GAP, or 0). Entries never move,
 * so the burst's other pointers stay valid. Owning lcore.
 * @return 0, or -ENOSPC (no room, or 255 segments already: nothing changed)
 */
int dpf_ft_segment(struct dpf_ft *ft, const struct dpf_flow_key *key, struct dpf_flow_counters *c,
		   uint8_t flags);

/** Entries held: flows and their cut-off segments. */
uint32_t dpf_ft_count(const struct dpf_ft *ft);

/** True when no new flow can be inserted. */
bool dpf_ft_is_full(const struct dpf_ft *ft);

/** Entry i (0 <= i < dpf_ft_count()), in insertion order (segments too: key.seg != 0). */
const struct dpf_ft_entry *dpf_ft_entry(const struct dpf_ft *ft, uint32_t i);

/** Bytes of memory per flow of capacity (entries plus buckets), for sizing. */
size_t dpf_ft_bytes_per_flow(uint32_t capacity);

/** The segments' room dpflow gives a table of `flows` when it cuts flows (1/16, + 64). */
static inline uint32_t
dpf_ft_segment_room(uint32_t flows)
{
	return flows / 16 + 64;
}

#endif /* DPF_FT_H */
