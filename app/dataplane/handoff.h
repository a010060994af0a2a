/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_HANDOFF_H
#define DPFLOW_HANDOFF_H

/*
 * What the RX cores hand the pipeline (doc/architecture.md, "The flip
 * protocol"): per core, three single-producer single-consumer rings and
 * three published values; for all, the flush generation.
 *
 * On a window flip a core enqueues its open shard on `retired`, then stores
 * done_upto with release semantics. The pipeline loads every core's
 * done_upto (acquire) before it drains the rings: when min(done_upto) > w,
 * every shard of window w is in a ring, and w can be merged. No lock on
 * either side.
 *
 * Threads: the dataplane creates them (main thread); core c writes
 * handoff[c] (and reads the free rings); the pipeline reads them and fills
 * the free rings; the control thread raises flush_gen.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ring.h>

struct dpf_handoff {
	struct rte_ring *retired;     /* core -> pipeline: filled shards */
	struct rte_ring *free_shards; /* pipeline -> core: shard descriptors */
	struct rte_ring *free_tables; /* pipeline -> core: flow tables */
	uint64_t done_upto;	      /* every window below it is retired (release) */
	uint32_t flush_seen;	      /* the last flush request the core handled (release) */
	bool finished;		      /* the core's loop has ended (release) */
} __rte_cache_aligned;

struct dpf_handoffs {
	uint16_t n;		  /* RX cores */
	uint32_t flush_gen;	  /* flush requests (control: release; cores, pipeline: acquire) */
	struct dpf_handoff *core; /* [n] */
};

/* A core answers a request once it handed over its open shard, or ended. */
static inline bool
dpf_handoff_flushed(const struct dpf_handoff *h, uint32_t gen)
{
	return __atomic_load_n(&h->flush_seen, __ATOMIC_ACQUIRE) == gen ||
	       __atomic_load_n(&h->finished, __ATOMIC_ACQUIRE);
}

#endif /* DPFLOW_HANDOFF_H */
