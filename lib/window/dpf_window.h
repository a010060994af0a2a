/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_WINDOW_H
#define DPF_WINDOW_H

/**
 * @file
 * Capture windows: the shard an RX lcore fills for one window, and the merge
 * of all shards of a window into sorted records.
 *
 * A shard is a small descriptor (window index, per-interface loss counts)
 * plus, when one was free, a flow table. An RX lcore owns its shards while
 * the window is open and hands them to the pipeline when it retires the
 * window; the pipeline merges, resets and returns them.
 *
 * The merge is real: the same flow key may be in several shards (several
 * queues of one interface, RETA changes, fragments hashed on addresses while
 * the rest of the flow is hashed on ports); their counters are summed, so the
 * result does not depend on how packets were spread over cores.
 *
 * Output order within a window (documented in doc/records.md): by interface
 * index; inside an interface, flow records by dpf_flow_key_cmp() (family,
 * source, destination, protocol, source port, destination port, action),
 * then the interface's SKIPDATA row when packets were lost; an interface with
 * neither records nor losses gets one NODATA row.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpf_flow.h"
#include "dpf_ft.h"

/** Converts a window index to Unix seconds and back. */
static inline uint64_t
dpf_window_of(uint64_t t_ns, uint32_t len_sec)
{
	return t_ns / ((uint64_t)len_sec * 1000000000ull);
}

struct dpf_shard {
	struct dpf_ft *ft;    /**< NULL when no table was free: everything was lost */
	uint64_t window;      /**< window index (start = window * len) */
	uint16_t core;        /**< RX core that filled it (< 128) */
	uint16_t n_ifaces;
	uint32_t n_views;     /**< entries used in views */
	uint64_t *lost_pkts;  /**< [n_ifaces] packets not kept (table full, no table) */
	/*
	 * Post-NAT views that depend on state the pipeline cannot see
	 * (masquerade sessions of the RX core): the RX core appends the view of
	 * such a flow here and tags its table entry (dpf_ft_entry.pad) with
	 * dpf_shard_view_tag(). NULL / 0 when not used.
	 */
	struct dpf_flow_nat *views;
	uint32_t max_views;
	/*
	 * Outer addresses of decapsulated flows, by entry index in ft (entry i
	 * of a flow whose key has a tun_type: tun_ends[i]); NULL when the RX
	 * core opens no tunnels. The merge takes the earliest of a key's shards.
	 */
	struct dpf_flow_tun_ends *tun_ends;
};

/** Tag for dpf_ft_entry.pad naming view i of the shard of `core`. */
static inline uint32_t
dpf_shard_view_tag(uint16_t core, uint32_t i)
{
	return 0x80000000u | ((uint32_t)core << 24) | i;
}

#define DPF_SHARD_MAX_VIEWS (1u << 24)

/**
 * Create a shard descriptor without a table (attach one with shard->ft).
 * @param max_views  room for session-dependent views (0: none), at most
 *                   DPF_SHARD_MAX_VIEWS
 * @return NULL with rte_errno = EINVAL or ENOMEM
 */
struct dpf_shard *dpf_shard_create(uint16_t n_ifaces, uint32_t max_views, int socket_id);

/** NULL-safe. Does not free an attached table. */
void dpf_shard_free(struct dpf_shard *s);

/** Clear the loss counts and empty the attached table, if any. */
void dpf_shard_reset(struct dpf_shard *s);

/** Sum of lost_pkts over interfaces. */
uint64_t dpf_shard_lost_total(const struct dpf_shard *s);

/**
 * Completes an OK record before it is emitted: the post-NAT view (the merge
 * fills it with the packet's own view), flow-direction, ...
 * @param view  the flow's session view from a shard, or NULL
 */
typedef void (*dpf_merge_finish_t)(void *arg, struct dpf_record *r,
				   const struct dpf_flow_nat *view);

struct dpf_merge_params {
	uint32_t max_flows;   /**< sum of the capacities of the shards of one window */
	uint16_t n_ifaces;
	int socket_id;
	dpf_merge_finish_t finish; /**< may be NULL */
	void *finish_arg;
};

struct dpf_merge_stats {
	uint64_t flows_in;    /**< entries read from shards */
	uint64_t records;     /**< OK rows emitted (distinct keys) */
	uint64_t packets;     /**< packets in OK rows */
	uint64_t nodata_rows;
	uint64_t skipdata_rows;
	uint64_t lost_pkts;   /**< packets reported by SKIPDATA rows */
	uint64_t segment_rows; /**< DPF_LOG_SEGMENT rows (flows cut for connection records) */
};

/**
 * Receives merged rows in output order, in chunks.
 * @return 0 to go on, negative to stop the merge with that value
 */
typedef int (*dpf_merge_emit_t)(void *arg, const struct dpf_record *recs, uint32_t n);

struct dpf_merge;

/** @return NULL with rte_errno = EINVAL or ENOMEM. Needs EAL. */
struct dpf_merge *dpf_merge_create(const struct dpf_merge_params *p);

/** NULL-safe. */
void dpf_merge_free(struct dpf_merge *m);

/**
 * Whether interfaces without records get a NODATA row (default true). Off
 * for the rest of a window whose first part was already emitted (flush).
 */
void dpf_merge_set_nodata(struct dpf_merge *m, bool on);

/**
 * Whether every interface gets a SKIPDATA row (default false): the window
 * was cut short (a stop left packets of it unread), so even an interface
 * with records or without packets may miss some. Counted in skipdata_rows;
 * lost_pkts counts only the packets shards report.
 */
void dpf_merge_set_cut(struct dpf_merge *m, bool on);

/**
 * Merge the shards of one window and emit its rows in output order.
 * With n_shards == 0 every interface gets a NODATA row.
 *
 * @param start_sec  window start (Unix seconds), printed on NODATA/SKIPDATA rows
 * @param len_sec    window length; NODATA/SKIPDATA rows end at start + len
 * @param st         accumulates statistics; may be NULL
 * @return 0, -E2BIG when the shards hold more flows than max_flows, or the
 *         emit callback's negative value
 */
int dpf_merge_window(struct dpf_merge *m, struct dpf_shard *const *shards, uint32_t n_shards,
		     uint64_t start_sec, uint32_t len_sec, dpf_merge_emit_t emit, void *arg,
		     struct dpf_merge_stats *st);

#endif /* DPF_WINDOW_H */
