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
	/* Connection records on: their timeout (ns), where flows are cut into
	 * segments (segment.c); 0: off, nothing is cut. */
	uint64_t conn_gap_ns;
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

/*
 * A packet of an existing flow may restart its connection (a TCP SYN
 * without ACK, a gap longer than the connection timeout), or the reverse
 * direction restarted (DPF_SEG_CUT): cut the flow's entry c so that the
 * connection pass sees the packets before and after apart (segment.c).
 * The RX lcore, before adding the packet to c.
 */
void dpf_lcore_conn_segment(struct dpf_lcore *lc, const struct dpf_flow_key *key,
			    struct dpf_flow_counters *c, uint64_t t_ns, uint8_t tcp_flags);

/* Whether a packet of a flow with counters c calls dpf_lcore_conn_segment(). */
static inline bool
dpf_lcore_conn_restart(const struct dpf_lcore *lc, const struct dpf_flow_counters *c, uint64_t t_ns,
		       uint8_t tcp_flags)
{
	return lc->conn_gap_ns != 0 && c->packets != 0 &&
	       ((tcp_flags & 0x12) == 0x02 || (c->seg_flags & DPF_SEG_CUT) != 0 ||
		t_ns > c->last_ns + lc->conn_gap_ns);
}

/* Packet clock without the replay: the newest time any core has seen. */
uint64_t dpf_lcore_newest_all(const struct dpf_dp_shared *sh);

#endif /* DPFLOW_LCORE_H */
