/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_vect.h>

#include "dpf_flow_hash.h"
#include "dpf_ft.h"
#include "dpf_util.h"

#define BUCKET_SLOTS 8
#define MAX_BURST 64

struct ft_bucket {
	uint16_t sig[BUCKET_SLOTS]; /* 0: slot empty */
	uint32_t idx[BUCKET_SLOTS];
	uint8_t pad[16];
} __rte_cache_aligned;

_Static_assert(sizeof(struct ft_bucket) == 64, "bucket must be one cache line");
_Static_assert(sizeof(struct dpf_ft_entry) == 96, "entry layout changed");

struct dpf_ft {
	struct ft_bucket *buckets;
	struct dpf_ft_entry *entries;
	uint32_t bucket_mask;
	uint32_t n_buckets;
	uint32_t capacity; /* flows */
	uint32_t room;	   /* entries: capacity and the segments' room */
	uint32_t count;	   /* entries used */
	uint32_t n_segs;   /* ... by cut-off segments */
	uint32_t seed;
};

static uint32_t
n_buckets_for(uint32_t capacity)
{
	/* Two candidate buckets of 8 slots, at most half full on average. */
	uint32_t n = rte_align32pow2((capacity + 3) / 4);

	return n < 2 ? 2 : n;
}

size_t
dpf_ft_bytes_per_flow(uint32_t capacity)
{
	if (capacity == 0)
		return 0;
	return sizeof(struct dpf_ft_entry) +
	       (size_t)n_buckets_for(capacity) * sizeof(struct ft_bucket) / capacity;
}

void
dpf_ft_free(struct dpf_ft *ft)
{
	rte_free(ft);
}

/*
 * One allocation: the table, its buckets and its entries, each from a cache
 * line on (the lookups read them exactly as from allocations of their own).
 * Entries are written before they are read: only the table and the buckets
 * are zeroed.
 */
static struct dpf_ft *
ft_alloc(const struct dpf_ft_params *p, uint32_t n_buckets)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct dpf_ft, buckets), (size_t)n_buckets * sizeof(struct ft_bucket),
		 true},
		{offsetof(struct dpf_ft, entries),
		 ((size_t)p->capacity + p->segments) * sizeof(struct dpf_ft_entry), false},
	};

	return dpf_layout_new(p->name, sizeof(struct dpf_ft), parts, RTE_DIM(parts), p->socket_id);
}

struct dpf_ft *
dpf_ft_create(const struct dpf_ft_params *p)
{
	struct dpf_ft *ft;
	uint32_t n_buckets;

	if (p == NULL || p->capacity == 0 || p->capacity > (1u << 27) ||
	    p->segments > (1u << 27) - p->capacity)
		return dpf_null_errno(EINVAL);
	/*
	 * Buckets for the capacity: the segments' room (connection records,
	 * at most capacity/16 + 64) fits in their slack. Sizing them for
	 * capacity + room doubled the buckets whenever the capacity is a
	 * power of two, and the sparser table cost 13% a packet at 1M flows
	 * (doc/performance.md, "Cutting flows where a connection may restart").
	 * Only a small table, whose room is mostly the 64, needs more: keep
	 * the slots at most 3/4 taken.
	 */
	n_buckets = n_buckets_for(p->capacity);
	while ((uint64_t)n_buckets * BUCKET_SLOTS * 3 / 4 < (uint64_t)p->capacity + p->segments)
		n_buckets *= 2;
	ft = ft_alloc(p, n_buckets);
	if (ft == NULL)
		return NULL;
	ft->capacity = p->capacity;
	ft->room = p->capacity + p->segments;
	ft->n_buckets = n_buckets;
	ft->bucket_mask = n_buckets - 1;
	ft->seed = p->seed;
	return ft;
}

static inline uint32_t
hash_key(uint32_t seed, const struct dpf_flow_key *key)
{
	return dpf_flow_key_hash(seed, key);
}

uint32_t
dpf_ft_hash(const struct dpf_ft *ft, const struct dpf_flow_key *key)
{
	return hash_key(ft->seed, key);
}

static inline uint16_t
sig_of(uint32_t hash)
{
	uint16_t s = (uint16_t)(hash >> 16);

	return s == 0 ? 1 : s;
}

static inline uint32_t
primary_of(const struct dpf_ft *ft, uint32_t hash)
{
	return hash & ft->bucket_mask;
}

/* The alternative bucket depends only on the primary and the signature. */
static inline uint32_t
secondary_of(const struct dpf_ft *ft, uint32_t primary, uint16_t sig)
{
	return dpf_alt_bucket(primary, sig, ft->bucket_mask);
}

static inline struct dpf_ft_entry *
bucket_find(struct dpf_ft *ft, const struct ft_bucket *b, uint16_t sig,
	    const struct dpf_flow_key *key)
{
	uint32_t m = dpf_sig8_match(b->sig, sig);

	while (m != 0) {
		unsigned int slot = (unsigned int)__builtin_ctz(m);
		struct dpf_ft_entry *e = &ft->entries[b->idx[slot]];

		if (likely(dpf_flow_key_same(&e->key, key)))
			return e;
		m &= m - 1;
	}
	return NULL;
}

/*
 * Both candidate buckets are full: move one of their entries to its own
 * other bucket when that one has room (one level of cuckoo displacement),
 * which keeps inserts succeeding well past 90% slot load.
 */
static int
make_room(struct dpf_ft *ft, struct ft_bucket *b, uint32_t b_index)
{
	unsigned int slot;

	for (slot = 0; slot < BUCKET_SLOTS; slot++) {
		const struct dpf_ft_entry *e = &ft->entries[b->idx[slot]];
		uint32_t p = primary_of(ft, e->hash);
		uint32_t other = p == b_index ? secondary_of(ft, p, b->sig[slot]) : p;
		struct ft_bucket *ob = &ft->buckets[other];

		if (dpf_sig8_move(b->sig, b->idx, slot, ob->sig, ob->idx))
			return (int)slot;
	}
	return -1;
}

static struct dpf_ft_entry *
insert(struct dpf_ft *ft, uint32_t p, uint32_t s, uint16_t sig, uint32_t hash,
       const struct dpf_flow_key *key)
{
	struct ft_bucket *b = &ft->buckets[p];
	struct dpf_ft_entry *e;
	int slot;

	if (unlikely(ft->count == ft->room))
		return NULL;
	slot = dpf_sig8_free(b->sig);
	if (slot < 0) {
		b = &ft->buckets[s];
		slot = dpf_sig8_free(b->sig);
	}
	if (unlikely(slot < 0)) {
		b = &ft->buckets[p];
		slot = make_room(ft, b, p);
		if (slot < 0) {
			b = &ft->buckets[s];
			slot = make_room(ft, b, s);
		}
		if (slot < 0)
			return NULL;
	}
	e = &ft->entries[ft->count];
	e->key = *key;
	memset(&e->c, 0, sizeof(e->c));
	e->hash = hash;
	e->pad = 0;
	b->idx[slot] = ft->count;
	b->sig[slot] = sig;
	ft->count++;
	return e;
}

/* Both cache lines an entry can span (entries are 96 bytes, so every one spans two). */
static inline void
prefetch_entry(const struct dpf_ft_entry *e)
{
	rte_prefetch0(e);
	rte_prefetch0((const char *)e + RTE_CACHE_LINE_SIZE);
}

uint32_t
dpf_ft_lookup_or_insert_burst(struct dpf_ft *ft, const struct dpf_flow_key *keys, uint32_t n,
			      struct dpf_flow_counters **out)
{
	uint32_t hashes[MAX_BURST];
	uint32_t inserted = 0;
	uint32_t i;

	if (unlikely(n > MAX_BURST))
		n = MAX_BURST;
	/*
	 * Three passes over the burst, so that the cache misses of different
	 * keys overlap instead of being taken one after the other:
	 * 1. hash every key and prefetch its primary bucket;
	 * 2. compare signatures in the (now arriving) primary bucket and
	 *    prefetch the entry of the first hit, or the secondary bucket when
	 *    nothing matches;
	 * 3. compare full keys, update or insert.
	 */
	for (i = 0; i < n; i++) {
		hashes[i] = hash_key(ft->seed, &keys[i]);
		rte_prefetch0(&ft->buckets[primary_of(ft, hashes[i])]);
	}
	for (i = 0; i < n; i++) {
		uint16_t sig = sig_of(hashes[i]);
		uint32_t p = primary_of(ft, hashes[i]);
		const struct ft_bucket *prim = &ft->buckets[p];
		uint32_t m = dpf_sig8_match(prim->sig, sig);

		if (likely(m != 0))
			prefetch_entry(&ft->entries[prim->idx[__builtin_ctz(m)]]);
		else
			rte_prefetch0(&ft->buckets[secondary_of(ft, p, sig)]);
	}
	for (i = 0; i < n; i++) {
		uint16_t sig = sig_of(hashes[i]);
		uint32_t p = primary_of(ft, hashes[i]);
		uint32_t s;
		struct dpf_ft_entry *e;

		/* Signatures are compared again: an earlier key of this burst may
		 * have inserted this one since pass 2. */
		e = bucket_find(ft, &ft->buckets[p], sig, &keys[i]);
		if (likely(e != NULL)) {
			out[i] = &e->c;
			continue;
		}
		s = secondary_of(ft, p, sig);
		e = bucket_find(ft, &ft->buckets[s], sig, &keys[i]);
		if (e == NULL && likely(ft->count - ft->n_segs < ft->capacity)) {
			e = insert(ft, p, s, sig, hashes[i], &keys[i]);
			inserted += e != NULL;
		}
		out[i] = e == NULL ? NULL : &e->c;
	}
	return inserted;
}

struct dpf_flow_counters *
dpf_ft_lookup(struct dpf_ft *ft, const struct dpf_flow_key *key)
{
	uint32_t h = hash_key(ft->seed, key);
	uint16_t sig = sig_of(h);
	uint32_t p = primary_of(ft, h);
	struct dpf_ft_entry *e;

	e = bucket_find(ft, &ft->buckets[p], sig, key);
	if (e == NULL)
		e = bucket_find(ft, &ft->buckets[secondary_of(ft, p, sig)], sig, key);
	return e == NULL ? NULL : &e->c;
}

int
dpf_ft_segment(struct dpf_ft *ft, const struct dpf_flow_key *key, struct dpf_flow_counters *c,
	       uint8_t flags)
{
	struct dpf_flow_key k = *key;
	struct dpf_flow_counters *old;
	struct dpf_ft_entry *e;
	uint8_t segs = c->segs;
	uint32_t h, p;

	if (segs == UINT8_MAX)
		return -ENOSPC;
	k.seg = (uint8_t)(segs + 1);
	/* Not in the table: a flow's segment numbers only grow within a table. */
	h = hash_key(ft->seed, &k);
	p = primary_of(ft, h);
	e = insert(ft, p, secondary_of(ft, p, sig_of(h)), sig_of(h), h, &k);
	if (e == NULL)
		return -ENOSPC;
	ft->n_segs++;
	old = &e->c;
	*old = *c;
	old->segs = 0;
	old->seg_flags &= (uint8_t)~DPF_SEG_CUT;
	memset(c, 0, sizeof(*c));
	c->segs = (uint8_t)(segs + 1);
	c->seg_flags = flags;
	return 0;
}

void
dpf_ft_reset(struct dpf_ft *ft)
{
	uint32_t i;

	/* Clearing the two candidate buckets of each entry is cheaper than
	 * clearing every bucket while the table is mostly empty. */
	if (ft->count > ft->n_buckets / 4) {
		memset(ft->buckets, 0, (size_t)ft->n_buckets * sizeof(struct ft_bucket));
	} else {
		for (i = 0; i < ft->count; i++) {
			uint32_t h = ft->entries[i].hash;
			uint32_t p = primary_of(ft, h);

			memset(&ft->buckets[p], 0, sizeof(struct ft_bucket));
			memset(&ft->buckets[secondary_of(ft, p, sig_of(h))], 0,
			       sizeof(struct ft_bucket));
		}
	}
	ft->count = 0;
	ft->n_segs = 0;
}

uint32_t
dpf_ft_count(const struct dpf_ft *ft)
{
	return ft->count;
}

bool
dpf_ft_is_full(const struct dpf_ft *ft)
{
	return ft->count - ft->n_segs == ft->capacity || ft->count == ft->room;
}

const struct dpf_ft_entry *
dpf_ft_entry(const struct dpf_ft *ft, uint32_t i)
{
	return i < ft->count ? &ft->entries[i] : NULL;
}
