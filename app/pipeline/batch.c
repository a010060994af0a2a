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
	struct rte_ring *ring[DPF_BATCHQ_RINGS]; /* batch.h: enum dpf_batchq_ring */
	struct dpf_batch all[] __rte_cache_aligned;
};

struct dpf_batchq *
dpf_batchq_create(unsigned int n_batches, int socket_id)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
	struct dpf_batchq *q =
		rte_zmalloc_socket("dpf_batchq", sizeof(*q) + n_batches * sizeof(q->all[0]),
				   RTE_CACHE_LINE_SIZE, socket_id);
	static const char *const names[DPF_BATCHQ_RINGS] = {
		[DPF_BATCHQ_EMPTY] = "dpf_batch_free",
		[DPF_BATCHQ_FULL] = "dpf_batch_full",
	};
	unsigned int i;
	int err;

	if (q == NULL)
		return dpf_null_errno(ENOMEM);
	for (i = 0; i < DPF_BATCHQ_RINGS; i++) {
		q->ring[i] = rte_ring_create(names[i], n_batches, socket_id, flags);
		if (q->ring[i] == NULL) {
			err = rte_errno;
			dpf_batchq_free(q);
			return dpf_null_errno(err);
		}
	}
	for (i = 0; i < n_batches; i++)
		dpf_batchq_put(q, DPF_BATCHQ_EMPTY, &q->all[i]);
	return q;
}

void
dpf_batchq_free(struct dpf_batchq *q)
{
	unsigned int i;

	/* A half-made queue (create failed) has NULL rings: rte_ring_free takes NULL. */
	for (i = 0; q != NULL && i < DPF_BATCHQ_RINGS; i++)
		rte_ring_free(q->ring[i]);
	rte_free(q);
}

struct dpf_batch *
dpf_batchq_take(struct dpf_batchq *q, enum dpf_batchq_ring which)
{
	void *b;

	return rte_ring_sc_dequeue(q->ring[which], &b) == 0 ? b : NULL;
}

void
dpf_batchq_put(struct dpf_batchq *q, enum dpf_batchq_ring which, struct dpf_batch *b)
{
	/* The ring is as large as the number of batches: it cannot be full. */
	rte_ring_sp_enqueue(q->ring[which], b);
}
