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

/*
 * The two rings, named by what their batches hold. The pipeline takes from
 * DPF_BATCHQ_EMPTY and puts into DPF_BATCHQ_FULL; the writer takes from
 * DPF_BATCHQ_FULL and puts back into DPF_BATCHQ_EMPTY. Each ring has one
 * producer and one consumer, so each side of a ring is called from one thread.
 */
enum dpf_batchq_ring {
	DPF_BATCHQ_EMPTY, /* writer -> pipeline: batches free to fill */
	DPF_BATCHQ_FULL,  /* pipeline -> writer: batches to write */
	DPF_BATCHQ_RINGS,
};

/** The next batch on ring `which`, or NULL when it has none (pipeline:
 * every batch is in use, the writer is behind; writer: none is waiting). */
struct dpf_batch *dpf_batchq_take(struct dpf_batchq *q, enum dpf_batchq_ring which);

/** Put a batch on ring `which`. Never fails: each ring holds every batch. */
void dpf_batchq_put(struct dpf_batchq *q, enum dpf_batchq_ring which, struct dpf_batch *b);

#endif /* DPFLOW_BATCH_H */
