/* SPDX-License-Identifier: BSD-3-Clause */
/* Record batches between the pipeline and the writer (batch.h). */
#include <errno.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "batch.h"

struct dpf_batchq {
	struct rte_ring *free; /* writer -> pipeline */
	struct rte_ring *full; /* pipeline -> writer */
	unsigned int n;
	struct dpf_batch **all;
};

struct dpf_batchq *
dpf_batchq_create(unsigned int n_batches, int socket_id)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
	struct dpf_batchq *q = rte_zmalloc_socket("dpf_batchq", sizeof(*q), 0, socket_id);
	unsigned int i;

	if (q == NULL)
		goto nomem;
	q->all = rte_zmalloc_socket("dpf_batches", n_batches * sizeof(q->all[0]), 0, socket_id);
	if (q->all == NULL)
		goto nomem;
	q->free = rte_ring_create("dpf_batch_free", n_batches, socket_id, flags);
	q->full = rte_ring_create("dpf_batch_full", n_batches, socket_id, flags);
	if (q->free == NULL || q->full == NULL) {
		int err = rte_errno;

		dpf_batchq_free(q);
		rte_errno = err;
		return NULL;
	}
	for (i = 0; i < n_batches; i++) {
		q->all[i] = rte_malloc_socket("dpf_batch", sizeof(struct dpf_batch),
					      RTE_CACHE_LINE_SIZE, socket_id);
		if (q->all[i] == NULL)
			goto nomem;
		q->n++;
		rte_ring_sp_enqueue(q->free, q->all[i]);
	}
	return q;
nomem:
	dpf_batchq_free(q);
	rte_errno = ENOMEM;
	return NULL;
}

void
dpf_batchq_free(struct dpf_batchq *q)
{
	unsigned int i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++)
		rte_free(q->all[i]);
	rte_ring_free(q->free);
	rte_ring_free(q->full);
	rte_free(q->all);
	rte_free(q);
}

struct dpf_batch *
dpf_batchq_get(struct dpf_batchq *q)
{
	void *b;

	return rte_ring_sc_dequeue(q->free, &b) == 0 ? b : NULL;
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
	void *b;

	return rte_ring_sc_dequeue(q->full, &b) == 0 ? b : NULL;
}

void
dpf_batchq_recycle(struct dpf_batchq *q, struct dpf_batch *b)
{
	rte_ring_sp_enqueue(q->free, b);
}
