/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_BATCH_H
#define DPFLOW_BATCH_H

/*
 * Record batches: the rows of merged windows, from the pipeline to the
 * writer, through two single-producer single-consumer rings (full batches
 * one way, empty ones back). A window ends with a WINDOW_END batch; the run
 * ends with a STOP batch.
 *
 * Threads: the pipeline takes free batches and sends full ones; the writer
 * receives and recycles them. Create and free on the main thread, before
 * either runs and after both ended.
 */

#include <stdint.h>

#include "dpf_flow.h"

enum dpf_batch_type {
	DPF_BATCH_RECORDS = 0,
	DPF_BATCH_WINDOW_END, /* every record ending before `window_end` was sent */
	DPF_BATCH_STOP,
};

#define DPF_BATCH_RECORDS_MAX 256

struct dpf_batch {
	uint32_t type;
	uint32_t n;
	uint64_t window_end; /* Unix seconds, with DPF_BATCH_WINDOW_END */
	struct dpf_record recs[DPF_BATCH_RECORDS_MAX];
};

struct dpf_batchq;

/** @return NULL + rte_errno (ENOMEM, or a ring error). Needs EAL. */
struct dpf_batchq *dpf_batchq_create(unsigned int n_batches, int socket_id);

/** NULL-safe; every batch must be back (both threads ended). */
void dpf_batchq_free(struct dpf_batchq *q);

/** Pipeline: an empty batch, or NULL when all are in use (the writer is behind). */
struct dpf_batch *dpf_batchq_get(struct dpf_batchq *q);

/** Pipeline: hand a batch to the writer (never fails: the ring holds every batch). */
void dpf_batchq_send(struct dpf_batchq *q, struct dpf_batch *b);

/** Writer: the next batch, or NULL when none is waiting. */
struct dpf_batch *dpf_batchq_receive(struct dpf_batchq *q);

/** Writer: give a batch back to the pipeline. */
void dpf_batchq_recycle(struct dpf_batchq *q, struct dpf_batch *b);

#endif /* DPFLOW_BATCH_H */
