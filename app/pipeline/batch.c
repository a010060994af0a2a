/* SPDX-License-Identifier: BSD-3-Clause */
/* Record batches between the pipeline and the writer (batch.h). */
#include <errno.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "batch.h"
#include "dpf_util.h"

/* One allocation: the handle and its batches. */
struct dpf_batchq {
	struct rte_ring *free; /* writer -> pipeline */
	struct rte_ring *full; /* pipeline -> writer */
	struct dpf_batch all[] __rte_cache_aligned;
};

struct dpf_batchq *
dpf_batchq_create(unsigned int n_batches, int socket_id)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
	struct dpf_batchq *q =
		rte_zmalloc_socket("dpf_batchq", sizeof(*q) + n_batches * sizeof(q->all[0]),
				   RTE_CACHE_LINE_SIZE, socket_id);
	unsigned int i;
	int err;

	if (q == NULL)
		return dpf_null_errno(ENOMEM);
	q->free = rte_ring_create("dpf_batch_free", n_batches, socket_id, flags);
	q->full = rte_ring_create("dpf_batch_full", n_batches, socket_id, flags);
	if (q->free == NULL || q->full == NULL) {
		err = rte_errno;
		dpf_batchq_free(q);
		return dpf_null_errno(err);
	}
	for (i = 0; i < n_batches; i++)
		rte_ring_sp_enqueue(q->free, &q->all[i]);
	return q;
}

void
dpf_batchq_free(struct dpf_batchq *q)
{
	if (q == NULL)
		return;
	rte_ring_free(q->free);
	rte_ring_free(q->full);
	rte_free(q);
}

/* The single consumer's take from either ring. */
static struct dpf_batch *
take(struct rte_ring *r)
{
	void *b;

	return rte_ring_sc_dequeue(r, &b) == 0 ? b : NULL;
}

struct dpf_batch *
dpf_batchq_get(struct dpf_batchq *q)
{
	return take(q->free);
}

void
dpf_batchq_send(struct dpf_batchq *q, struct dpf_batch *b)
{
	/* The ring is as large as the number of batches: it cannot be full. */
	rte_ring_sp_enqueue(q->full, b);
}

struct dpf_batch *
dpf_batchq_receive(struct dpf_batchq *q)
{
	return take(q->full);
}

void
dpf_batchq_recycle(struct dpf_batchq *q, struct dpf_batch *b)
{
	rte_ring_sp_enqueue(q->free, b);
}
