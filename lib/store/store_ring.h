/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_STORE_RING_H
#define DPF_STORE_RING_H

/*
 * The bounded ring under both stores of lib/store (recent flows, recent
 * connections): slot bookkeeping and the lock; each store keeps its own
 * array of slots after its handle. Internal to lib/store.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpf_store.h"
#include "dpf_util.h"

struct store_ring {
	pthread_mutex_t lock;
	uint32_t capacity;
	uint32_t head; /* next slot to write */
	uint32_t count;
	size_t slot;	      /* bytes of one entry */
	unsigned char *slots; /* capacity entries, after the store's handle */
};

/* A store's choice of what it keeps (add) or gives back (query). */
typedef bool (*store_ring_pick_t)(const void *filter, const void *entry);

/*
 * A store's handle of `size` bytes whose first member is its store_ring,
 * followed by capacity slots of `slot` bytes.
 * @return NULL with rte_errno = EINVAL (capacity 0) or ENOMEM
 */
static inline void *
store_ring_new(size_t size, size_t slot, uint32_t capacity)
{
	struct store_ring *r;

	if (capacity == 0)
		return dpf_null_errno(EINVAL);
	r = calloc(1, size + (size_t)capacity * slot);
	if (r == NULL)
		return dpf_null_errno(ENOMEM);
	pthread_mutex_init(&r->lock, NULL);
	r->capacity = capacity;
	r->slot = slot;
	r->slots = (unsigned char *)r + size;
	return r;
}

/* NULL-safe. */
static inline void
store_ring_free(struct store_ring *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Under the lock: the slot to write next (the oldest once full). */
static inline uint32_t
store_ring_push(struct store_ring *r)
{
	uint32_t slot = r->head;

	r->head = (r->head + 1) % r->capacity;
	if (r->count < r->capacity)
		r->count++;
	return slot;
}

/* Under the lock: the slot of the i-th entry, newest first or oldest first.
 * Insertion order is window order: newest = last written. */
static inline uint32_t
store_ring_at(const struct store_ring *r, uint32_t i, bool oldest_first)
{
	return oldest_first ? (r->head + r->capacity - r->count + i) % r->capacity
			    : (r->head + r->capacity - 1 - i) % r->capacity;
}

/* How many results a query gives at most: max, the filter's limit (0: the
 * cap), never more than DPF_STORE_MAX_RESULTS. */
static inline uint32_t
store_ring_max(uint32_t limit, uint32_t max)
{
	if (limit == 0 || limit > DPF_STORE_MAX_RESULTS)
		limit = DPF_STORE_MAX_RESULTS;
	return max < limit ? max : limit;
}

/* Add n entries of recs (r->slot bytes each), those keep takes (NULL: all). */
static inline void
store_ring_add(struct store_ring *r, const void *recs, uint32_t n, store_ring_pick_t keep)
{
	const unsigned char *e = recs;
	uint32_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < n; i++, e += r->slot)
		if (keep == NULL || keep(NULL, e))
			memcpy(r->slots + (size_t)store_ring_push(r) * r->slot, e, r->slot);
	pthread_mutex_unlock(&r->lock);
}

/* Copy the entries match takes for filter into out, newest first (or oldest
 * first), at most store_ring_max(limit, max) of them. @return how many */
static inline uint32_t
store_ring_query(struct store_ring *r, const void *filter, store_ring_pick_t match,
		 bool oldest_first, uint32_t limit, void *out, uint32_t max)
{
	unsigned char *o = out;
	uint32_t i, n = 0;

	max = store_ring_max(limit, max);
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->count && n < max; i++) {
		const unsigned char *e =
			r->slots + (size_t)store_ring_at(r, i, oldest_first) * r->slot;

		if (match(filter, e))
			memcpy(o + (size_t)n++ * r->slot, e, r->slot);
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

static inline uint32_t
store_ring_count(struct store_ring *r)
{
	uint32_t n;

	pthread_mutex_lock(&r->lock);
	n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

#endif /* DPF_STORE_RING_H */
