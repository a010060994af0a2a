/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CONN_INDEX_H
#define DPF_CONN_INDEX_H

/*
 * lib/conn's own key index (internal to lib/conn): flow key -> entry
 * number, for a table whose entries hold their keys themselves.
 *
 * Why not rte_hash: rte_hash keeps its own copy of every key, so a look-up
 * reads a bucket (its bulk look-up prefetches both candidate buckets), the
 * key store, then the caller's entry: four cache lines on four pages, and on
 * 4 KiB pages every one a TLB miss. Here a look-up reads one bucket of
 * signatures and entry numbers, then the entry's first line, which holds the
 * key the caller updates beside; the secondary bucket only when keys spilled
 * there. doc/performance.md ("Connection records") has both measured.
 *
 * Buckets of 8 slots, at least 4 buckets per 8 keys of capacity (a quarter
 * of the slots used when full), two candidate buckets per key, one level
 * of displacement: when both are full, a key of one moves to its other
 * bucket; a key for which none can move is refused like a full table
 * (odds ~1e-6 per insert at full capacity).
 *
 * Not thread-safe: one owner thread.
 */

#include <stdint.h>

#include "dpf_flow.h"

struct conn_index;

/*
 * Index of `capacity` keys; the key of entry i is read at keys + i * stride.
 * @param n_buckets  0: the sizing above; else a power of two (tests)
 * @return NULL with rte_errno (EINVAL, ENOMEM)
 */
struct conn_index *conn_index_create(const char *name, uint32_t capacity, uint32_t n_buckets,
				     const void *keys, size_t stride, int socket_id);

void conn_index_free(struct conn_index *ix);

/* A key's hash, for conn_index_lookup() and conn_index_add(). */
uint32_t conn_index_hash(const struct dpf_flow_key *key);

/*
 * Look up n keys (at most 64) together, their misses overlapped.
 * @param h    out: each key's hash
 * @param pos  out: the entry of each key, or -1
 */
void conn_index_lookup_bulk(const struct conn_index *ix, const struct dpf_flow_key *keys,
			    uint32_t n, uint32_t *h, int32_t *pos);

/* @return the entry of key (hash h), or -1 */
int32_t conn_index_lookup(const struct conn_index *ix, const struct dpf_flow_key *key, uint32_t h);

/*
 * Take a free entry for key (not in the index: look it up first) and index
 * it. The caller writes the key into the entry before the next look-up.
 * @return the entry, or -ENOSPC (capacity reached, or both buckets full)
 */
int32_t conn_index_add(struct conn_index *ix, const struct dpf_flow_key *key, uint32_t h);

/* Remove entry e (its key still in place) and free it. @return 0, or -ENOENT */
int conn_index_del(struct conn_index *ix, uint32_t e);

#endif /* DPF_CONN_INDEX_H */
