/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "conn_index.h"
#include "dpf_flow_hash.h"
#include "dpf_util.h"

#define SLOTS 8
#define MAX_BULK 64
/* Hash seed: any fixed value (the index is private, never compared across runs). */
#define SEED 0x2d358dccu

struct ix_bucket {
	uint16_t sig[SLOTS]; /* 0: slot empty */
	uint32_t idx[SLOTS];
	uint32_t spill; /* keys of this primary bucket in their secondary */
	uint8_t pad[12];
} __rte_cache_aligned;

_Static_assert(sizeof(struct ix_bucket) == RTE_CACHE_LINE_SIZE, "a bucket is one line");

struct conn_index {
	struct ix_bucket *buckets;
	uint32_t *free; /* stack of free entries */
	const uint8_t *keys;
	size_t stride;
	uint32_t mask;
	uint32_t capacity;
	uint32_t n_free;
};

void
conn_index_free(struct conn_index *ix)
{
	rte_free(ix);
}

static struct conn_index *
index_alloc(const char *name, uint32_t capacity, uint32_t n_buckets, int socket_id)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct conn_index, buckets), (size_t)n_buckets * sizeof(struct ix_bucket),
		 true},
		{offsetof(struct conn_index, free), (size_t)capacity * sizeof(uint32_t), false},
	};

	return dpf_layout_new(name, sizeof(struct conn_index), parts, RTE_DIM(parts), socket_id);
}

struct conn_index *
conn_index_create(const char *name, uint32_t capacity, uint32_t n_buckets, const void *keys,
		  size_t stride, int socket_id)
{
	struct conn_index *ix;
	uint32_t i;

	if (n_buckets == 0)
		n_buckets = rte_align32pow2(RTE_MAX(capacity / 2, 2u));
	if (capacity == 0 || keys == NULL || stride < sizeof(struct dpf_flow_key) ||
	    n_buckets < 2 || !rte_is_power_of_2(n_buckets))
		return dpf_null_errno(EINVAL);
	ix = index_alloc(name, capacity, n_buckets, socket_id);
	if (ix == NULL)
		return NULL;
	ix->keys = keys;
	ix->stride = stride;
	ix->mask = n_buckets - 1;
	ix->capacity = capacity;
	/* Entries are taken from 0 up, and a freed one is taken again first. */
	for (i = 0; i < capacity; i++)
		ix->free[i] = capacity - 1 - i;
	ix->n_free = capacity;
	return ix;
}

static inline uint32_t
hash_key(const struct dpf_flow_key *key)
{
	return dpf_flow_key_hash(SEED, key);
}

/* The signature mixes every bit of the hash: the bucket number uses the low ones. */
static inline uint16_t
sig_of(uint32_t h)
{
	uint16_t s = (uint16_t)((h * 0x9e3779b1u) >> 16);

	return s == 0 ? 1 : s;
}

static inline uint32_t
secondary_of(const struct conn_index *ix, uint32_t primary, uint16_t sig)
{
	return dpf_alt_bucket(primary, sig, ix->mask);
}

static inline const struct dpf_flow_key *
key_of(const struct conn_index *ix, uint32_t e)
{
	return (const struct dpf_flow_key *)(const void *)(ix->keys + (size_t)e * ix->stride);
}

static inline int32_t
bucket_find(const struct conn_index *ix, const struct ix_bucket *b, uint16_t sig,
	    const struct dpf_flow_key *key)
{
	uint32_t m = dpf_sig8_match(b->sig, sig);

	while (m != 0) {
		uint32_t e = b->idx[__builtin_ctz(m)];

		if (likely(dpf_flow_key_same(key_of(ix, e), key)))
			return (int32_t)e;
		m &= m - 1;
	}
	return -1;
}

static int32_t
find(const struct conn_index *ix, const struct dpf_flow_key *key, uint32_t h)
{
	uint16_t sig = sig_of(h);
	uint32_t p = h & ix->mask;
	const struct ix_bucket *b = &ix->buckets[p];
	int32_t e = bucket_find(ix, b, sig, key);

	if (e >= 0 || b->spill == 0)
		return e;
	return bucket_find(ix, &ix->buckets[secondary_of(ix, p, sig)], sig, key);
}

uint32_t
conn_index_hash(const struct dpf_flow_key *key)
{
	return hash_key(key);
}

int32_t
conn_index_lookup(const struct conn_index *ix, const struct dpf_flow_key *key, uint32_t h)
{
	return find(ix, key, h);
}

/*
 * Three passes, so that the misses of different keys overlap: hash and
 * prefetch the primary buckets; in each bucket, prefetch the entry of the
 * first matching signature (its first line holds the key), or the secondary
 * bucket when nothing matches and keys spilled; then compare keys.
 */
void
conn_index_lookup_bulk(const struct conn_index *ix, const struct dpf_flow_key *keys, uint32_t n,
		       uint32_t *h, int32_t *pos)
{
	uint32_t i;

	n = RTE_MIN(n, (uint32_t)MAX_BULK);
	for (i = 0; i < n; i++) {
		h[i] = hash_key(&keys[i]);
		rte_prefetch0(&ix->buckets[h[i] & ix->mask]);
	}
	for (i = 0; i < n; i++) {
		uint32_t p = h[i] & ix->mask;
		const struct ix_bucket *b = &ix->buckets[p];
		uint16_t sig = sig_of(h[i]);
		uint32_t m = dpf_sig8_match(b->sig, sig);

		if (m != 0)
			rte_prefetch0(key_of(ix, b->idx[__builtin_ctz(m)]));
		else if (b->spill != 0)
			rte_prefetch0(&ix->buckets[secondary_of(ix, p, sig)]);
	}
	for (i = 0; i < n; i++)
		pos[i] = find(ix, &keys[i], h[i]);
}

/*
 * Bucket bi is full: move one of its keys to that key's other bucket when
 * it has room (one level of cuckoo displacement; a key's buckets and spill
 * count come from its hash, recomputed from its entry).
 * @return the slot freed in bi, or -1
 */
static int
make_room(struct conn_index *ix, uint32_t bi)
{
	struct ix_bucket *b = &ix->buckets[bi];
	unsigned int slot;

	for (slot = 0; slot < SLOTS; slot++) {
		uint32_t h = hash_key(key_of(ix, b->idx[slot])), p = h & ix->mask;
		uint32_t other = p == bi ? secondary_of(ix, p, b->sig[slot]) : p;
		struct ix_bucket *ob = &ix->buckets[other];

		if (!dpf_sig8_move(b->sig, b->idx, slot, ob->sig, ob->idx))
			continue;
		if (p == bi)
			ix->buckets[p].spill++; /* now in its secondary */
		else
			ix->buckets[p].spill--; /* back in its primary */
		return (int)slot;
	}
	return -1;
}

int32_t
conn_index_add(struct conn_index *ix, const struct dpf_flow_key *key, uint32_t h)
{
	uint32_t p = h & ix->mask, s, e;
	uint16_t sig = sig_of(h);
	struct ix_bucket *b = &ix->buckets[p];
	int slot;

	(void)key; /* the caller writes it into the entry */
	if (ix->n_free == 0)
		return -ENOSPC;
	s = secondary_of(ix, p, sig);
	slot = dpf_sig8_free(b->sig);
	if (slot < 0 && dpf_sig8_free(ix->buckets[s].sig) < 0)
		slot = make_room(ix, p);
	if (slot < 0) {
		slot = dpf_sig8_free(ix->buckets[s].sig);
		if (slot < 0)
			slot = make_room(ix, s);
		if (slot < 0)
			return -ENOSPC;
		b->spill++;
		b = &ix->buckets[s];
	}
	e = ix->free[--ix->n_free];
	b->sig[slot] = sig;
	b->idx[slot] = e;
	return (int32_t)e;
}

/* The slot of entry e in bucket b, or -1. */
static inline int
slot_of(const struct ix_bucket *b, uint16_t sig, uint32_t e)
{
	uint32_t m = dpf_sig8_match(b->sig, sig);

	while (m != 0) {
		int s = __builtin_ctz(m);

		if (b->idx[s] == e)
			return s;
		m &= m - 1;
	}
	return -1;
}

int
conn_index_del(struct conn_index *ix, uint32_t e)
{
	uint32_t h, p;
	uint16_t sig;
	struct ix_bucket *b;
	int slot;

	if (e >= ix->capacity)
		return -ENOENT;
	h = hash_key(key_of(ix, e));
	p = h & ix->mask;
	sig = sig_of(h);
	b = &ix->buckets[p];
	slot = slot_of(b, sig, e);
	if (slot < 0) {
		struct ix_bucket *sb = &ix->buckets[secondary_of(ix, p, sig)];

		slot = slot_of(sb, sig, e);
		if (slot < 0)
			return -ENOENT;
		b->spill--;
		b = sb;
	}
	b->sig[slot] = 0;
	ix->free[ix->n_free++] = e;
	return 0;
}
