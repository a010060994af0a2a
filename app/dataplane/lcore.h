/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_LCORE_H
#define DPFLOW_LCORE_H

/*
 * Inside the dataplane: one RX lcore's state (l3fwd's lcore_conf), what all
 * of them read, and the engine that handles a burst. Only dataplane files
 * (and the per-core benchmark, tools/bench/bench_datapath.c) include this.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane.h"
#include "dpf_acl.h"
#include "dpf_conntrack.h"
#include "dpf_flow.h"
#include "dpf_ft.h"
#include "dpf_rss.h"
#include "dpf_window.h"

#define DPF_MAX_TABLES 16 /* --shards-per-core */
#define DPF_SHARD_DESCRIPTORS 32 /* per core: windows that can be in flight */

struct dpf_lcore;

/* The packet path, chosen once at start (testpmd's fwd_engine). */
struct dpf_engine {
	const char *name;
	/* A burst of n packets (n > 0) from queue ref: counted, and freed or sent. */
	void (*burst)(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts,
		      uint16_t n);
};

extern const struct dpf_engine dpf_engine_monitor;
extern const struct dpf_engine dpf_engine_forward;

/* A port as an RX core sees it: read-only. */
struct dpf_dp_port {
	uint16_t reta_size;
	uint16_t mtu;
	bool multiseg;
	uint16_t peer; /* DPF_PORT_NONE: not forwarded */
	bool check_time; /* packet clock, not the replay's port: judge each packet's time */
};

/* What every RX core reads and no one writes once the cores run. */
struct dpf_dp_shared {
	/* What the ports settled (timestamp field, replay port, fragment pools), copied. */
	struct dpf_ports_settled ports;
	enum dpf_clock clock;
	bool offline; /* wait for free tables instead of losing packets */
	uint16_t n_cores;
	uint16_t n_ifaces;
	uint32_t shards_per_core;
	struct dpf_dp_port port[DPF_MAX_PORTS];
	struct dpf_rss *frag_rss; /* the symmetric Toeplitz hash, for frames without one */
	/* The tunnels opened (--decap; types 0: none), and unmatched = drop. */
	struct dpf_pkt_decap_cfg decap;
	bool unmatched_drop;
	const struct dpf_ifmap *ifmap;
	struct dpf_rules *rules;
	const struct dpf_window_plan *plan;
	const struct dpf_wall *wall;
	struct dpf_timecheck *tc;
	const struct dpf_source *source;
	struct dpf_run *run;
	struct dpf_handoffs *handoffs;
	struct dpf_lcore *lcores; /* [n_cores]: their last_ns, for the packet clock */
};

/* One RX lcore. Cache-aligned; only its own lcore writes it (but the fields
 * marked published, which it stores atomically for other threads). */
struct dpf_lcore {
	/* Read on every burst. */
	const struct dpf_engine *engine;
	const struct dpf_dp_shared *sh;
	struct dpf_shard *active;
	uint64_t active_start_ns;
	uint64_t active_end_ns;
	const struct dpf_ruleset *rs; /* the rule set of the open window */
	struct dpf_frag_cache *frag;
	struct dpf_conntrack *ct;     /* stateful ACL, NULL otherwise */
	struct dpf_nat_sessions *nat; /* masquerade in forward mode, NULL otherwise */
	uint64_t *acl_rule_hits;      /* [DPF_ACL_RUNTIME_MAX_RULES + 1]; [0] = default verdict */
	struct dpf_iface_counters *iface_cnt; /* [n_ifaces] logged per interface */
	uint64_t *carry_lost;	      /* [n_ifaces] lost without a descriptor, for the next one */
	struct dpf_handoff *ho;	      /* rings and published values (handoff.h) */
	uint16_t index;
	/* Published (relaxed). */
	uint64_t last_ns;      /* newest packet time seen */
	uint32_t active_flows; /* flows in the open table, after each burst */
	/* Set up at start. */
	unsigned int lcore_id;
	uint16_t n_rxq;
	struct dpf_rxq_ref rxq[DPF_MAX_PORTS];
	struct dpf_shard *shards[DPF_SHARD_DESCRIPTORS];
	struct dpf_ft *tables[DPF_MAX_TABLES];
	struct dpf_flow_nat *views[DPF_MAX_TABLES]; /* masquerade views of tables[k], or NULL */
	/* Outer addresses of decapsulated flows of tables[k], or NULL (no --decap). */
	struct dpf_flow_tun_ends *tun_ends[DPF_MAX_TABLES];
	uint32_t max_views;
	struct dpf_rx_counters cnt;
} __rte_cache_aligned;

/*
 * The window flip (rx.c), called by an engine when a packet's time leaves
 * the open window: retire the open shard, publish done_upto = w, open the
 * window [w, end) with a descriptor and a table from the free rings.
 */
void dpf_lcore_open_window(struct dpf_lcore *lc, uint64_t w, uint64_t end);

/* Packet clock without the replay: the newest time any core has seen. */
uint64_t dpf_lcore_newest_all(const struct dpf_dp_shared *sh);

#endif /* DPFLOW_LCORE_H */
