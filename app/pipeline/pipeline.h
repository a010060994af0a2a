/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_PIPELINE_H
#define DPFLOW_PIPELINE_H

/*
 * The pipeline: collects the shards RX cores retire, and once every core has
 * moved past a window (the minimum of their published done_upto) merges
 * that window's shards (lib/window), completes the records (rules.h), adds
 * NODATA and SKIPDATA rows, sends the rows in order to the writer in record
 * batches (batch.h), and gives the tables and descriptors back to their
 * cores.
 *
 * Which windows get rows: with the packet clock every window from the first
 * to the last window that saw a packet; with the wall clock every window
 * from start-up to the one open at the end. A run of empty windows longer
 * than 60 (two during a stop with the packet clock) gets rows for its first
 * and last window only, the rest are counted (gap-windows).
 *
 * A flush (control) is served once every core has handed over its open
 * shard: what the open windows hold is emitted, and they are remembered as
 * partly emitted (no NODATA row for them later).
 *
 * Threads: create and free on the main thread; poll on one thread only (the
 * pipeline lcore, or the run loop when there is none); stats and done on any
 * thread (relaxed and acquire loads).
 */

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "clock.h"
#include "common.h"
#include "dpf_window_plan.h"
#include "handles.h"
#include "handoff.h"
#include "iface.h"
#include "rules.h"
#include "run.h"
#include "source.h"

/*
 * Of the shared handles (h) the pipeline reads the clock, plan, wall, rules
 * (NULL: records are not completed), ifmap (flow-direction, with rules), the
 * source (a replay's cut window) and the run flags (stop read, output failed
 * read and set); not the ports.
 */
struct dpf_pipeline_params {
	struct dpf_handles h;
	struct dpf_handoffs *in; /* the RX cores' hand-offs */
	uint16_t n_ifaces;
	uint32_t max_flows; /* flows one window may hold: flows-per-core x RX cores */
	int socket_id;
	struct dpf_batchq *out; /* to the writer */
};

/* Counters: written by the pipeline thread, read with relaxed loads. */
struct dpf_pipeline_stats {
	uint64_t windows;
	uint64_t records;
	uint64_t record_packets;
	uint64_t nodata_rows;
	uint64_t skipdata_rows;
	uint64_t lost_pkts;
	uint64_t merge_ns_max;
	uint64_t gap_windows; /* empty windows of long gaps: no rows (doc/records.md) */
};

struct dpf_pipeline;

/** @return NULL + rte_errno (ENOMEM: the merge area; logged). Needs EAL. */
struct dpf_pipeline *dpf_pipeline_create(const struct dpf_pipeline_params *p);

/** NULL-safe; after the pipeline stopped polling. */
void dpf_pipeline_free(struct dpf_pipeline *pl);

/**
 * One step: collect, merge what is complete, serve a flush, free old rule
 * versions. @return true once everything is flushed to the writer (the stop
 * batch is sent: every RX core finished and every window was emitted).
 */
bool dpf_pipeline_poll(struct dpf_pipeline *pl);

/** An lcore's main (rte_eal_remote_launch): polls until done. arg: the pipeline. */
int dpf_pipeline_lcore_main(void *arg);

/** The pipeline lcore has ended (acquire). */
bool dpf_pipeline_done(const struct dpf_pipeline *pl);

/** Any thread. */
void dpf_pipeline_stats_get(const struct dpf_pipeline *pl, struct dpf_pipeline_stats *st);

#endif /* DPFLOW_PIPELINE_H */
