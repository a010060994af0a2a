/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_DATAPLANE_H
#define DPFLOW_DATAPLANE_H

/*
 * The dataplane: the RX lcores. Each polls queue c of every port that has
 * one, parses, builds keys, applies the interface map, the ACL and (forward
 * mode) NAT, counts into the flow table of its open window, and at each
 * window boundary hands the filled shard to the pipeline (handoff.h).
 *
 * Each core's state is one cache-aligned struct (lcore.h, l3fwd's
 * lcore_conf) that only its lcore writes. The packet path is an engine
 * chosen once at start (testpmd's fwd_engine): monitor (count, free) or
 * forward (translate, send, count what was sent); no per-packet test of the
 * mode.
 *
 * Threads: create, launch and free on the main thread (free after
 * rte_eal_mp_wait_lcore()); RX lcores run dpf_rx_lcore_main(); everything
 * else (counters, flush) on any thread: relaxed loads of what each core
 * publishes.
 *
 * Errors are logged (log type dpflow.dataplane), returned as NULL + rte_errno.
 */

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "common.h"
#include "config.h"
#include "dpf_ft.h"
#include "dpf_nat.h"
#include "dpf_nat_session.h"
#include "dpf_pkt.h"
#include "handles.h"
#include "dpf_window_plan.h"
#include "handoff.h"
#include "iface.h"
#include "ports.h"
#include "rules.h"
#include "run.h"
#include "source.h"
#include "timecheck.h"

/* Per-core counters: single writer (the RX lcore), relaxed loads by others. */
#define DPF_RX_COUNTERS(X)                                                                         \
	X(rx_packets, "rx-packets", "packets taken from the queues")                               \
	X(parsed, "parsed", "IPv4/IPv6 packets whose headers parsed")                              \
	X(logged_packets, "logged-packets", "packets counted in a flow")                           \
	X(not_ip, "not-ip", "frames that are not IPv4/IPv6 (ARP, LLDP, ...)")                      \
	X(malformed, "malformed", "truncated or invalid headers (by reason below)")                \
	X(lost_table_full, "lost-table-full", "packets of new flows, table full")                  \
	X(lost_no_table, "lost-no-table", "packets with no free shard table (overrun)")            \
	X(late, "late", "packets of a window already closed")                                      \
	X(bad_time, "bad-time", "packets with an implausible time (--max-time-gap)")               \
	X(unmatched, "unmatched", "packets of no interface (unmatched = drop)")                    \
	X(tunnel_unmatched, "tunnel-unmatched",                                                    \
	  "opened tunnels whose id has no tenant interface: logged by the outer header or "        \
	  "unmatched (unmatched = drop)")                                                          \
	X(acl_rejected, "acl-rejected", "packets the ACL rejected (REJECT records)")               \
	X(acl_reply_accepted, "acl-reply-accepted", "replies accepted by stateful mode")           \
	X(conntrack_full, "conntrack-full", "accepted connections not tracked: table full")        \
	X(acl_dropped, "acl-dropped", "forward mode: rejected packets dropped")                    \
	X(nat_translated, "nat-translated", "forward mode: packets rewritten by NAT")              \
	X(nat_dropped, "nat-dropped",                                                              \
	  "forward mode: packets NAT cannot translate (no port/session, fragment without "         \
	  "its first), dropped: REJECT records")                                                   \
	X(short_frames, "short-frames",                                                            \
	  "forward mode: frames shorter than their IP length (cut by the port), "                  \
	  "neither sent nor logged")                                                               \
	X(tx_packets, "tx-packets", "forward mode: frames sent on the peer port (each fragment)")  \
	X(tx_fragmented, "tx-fragmented",                                                          \
	  "forward mode: IPv4 packets above the peer port's MTU, sent as fragments")               \
	X(tx_too_big, "tx-too-big",                                                                \
	  "forward mode: packets above the peer port's MTU that may not be fragmented "            \
	  "(IPv6, DF set), not logged")                                                            \
	X(tx_dropped, "tx-dropped",                                                                \
	  "forward mode: accepted packets the peer port refused, not logged")                      \
	X(tx_dropped_unlogged, "tx-dropped-unlogged",                                              \
	  "forward mode: unlogged frames (not-ip, unmatched, late) the peer port refused")         \
	X(flows_created, "flows-created", "flows inserted in shards")                              \
	X(conn_segments, "conn-segments",                                                          \
	  "flows cut where a connection may restart (connection records)")                         \
	X(conn_segments_lost, "conn-segments-lost",                                                \
	  "cuts not made (table full, 255 segments): those connections stay one")                  \
	X(frag_evicted, "frag-evicted", "first fragments that replaced another datagram's ports")  \
	X(frag_without_first, "frag-without-first", "later fragments logged with ports 0")         \
	X(windows_retired, "windows-retired", "shards handed to the pipeline")                     \
	X(busy_cycles, "busy-cycles",                                                              \
	  "TSC cycles of the polls that received packets, less their waits: the core's work on "   \
	  "them (busy-cycles / rx-packets = its cycles per packet)")                               \
	X(wait_cycles, "wait-cycles",                                                              \
	  "TSC cycles an offline source's core (--replay, net_pcap) waited for the pipeline to "   \
	  "free a flow table or shard")

struct dpf_rx_counters {
	DPF_RX_COUNTERS(DPF_COUNTER_FIELD)
	uint64_t malformed_by_reason[DPF_PKT_RESULT_MAX];
	uint64_t rx_by_port[DPF_MAX_PORTS];
	/* Packets logged as their inner flow, and their inner IP bytes, by enum dpf_pkt_tun_type.
	 */
	uint64_t tunnel_packets[DPF_TUN_MAX];
	uint64_t tunnel_bytes[DPF_TUN_MAX];
};

struct dpf_rxq_ref {
	uint16_t port;
	uint16_t queue;
};

struct dpf_dataplane_params {
	struct dpf_handles h;	       /* clock, plan, wall, ports, ifmap, rules, source, run */
	uint16_t n_cores;	       /* RX lcores: the first n_cores worker lcores */
	const struct dpf_options *opt; /* flows/shards per core, conntrack, NAT sessions */
	bool offline;		       /* packet clock: wait for free tables, never lose */
	struct dpf_timecheck *tc;
};

struct dpf_dataplane;

/*
 * Entries each flow table keeps for flows cut into segments (connection
 * records on: --ibm-output or --connections yes), beyond --flows-per-core:
 * the cuts never take a flow's place. The merge area counts them too.
 */
static inline uint32_t
dpf_dataplane_segment_room(const struct dpf_options *o)
{
	return o->ibm_output != NULL || o->connections != 0
		       ? dpf_ft_segment_room((uint32_t)o->flows_per_core)
		       : 0;
}

/** Set up every RX core (tables, rings, sessions). @return NULL + rte_errno (logged) */
struct dpf_dataplane *dpf_dataplane_create(const struct dpf_dataplane_params *p);

/**
 * The lcore plan's other half: the worker lcore after the RX lcores for the
 * pipeline, RTE_MAX_LCORE when EAL gave none spare (the run loop polls it).
 */
unsigned int dpf_dataplane_pipeline_lcore(const struct dpf_dataplane *dp);

/** Start the RX lcores. */
void dpf_dataplane_launch(struct dpf_dataplane *dp);

/** Free everything create made. NULL-safe; after the RX lcores ended (or never ran). */
void dpf_dataplane_free(struct dpf_dataplane *dp);

/** What the pipeline reads. */
struct dpf_handoffs *dpf_dataplane_handoffs(struct dpf_dataplane *dp);

/** An RX lcore's main (rte_eal_remote_launch), arg: its struct dpf_lcore. */
int dpf_rx_lcore_main(void *arg);

/* ---- what the control thread reads (any thread) ---- */

uint16_t dpf_dataplane_cores(const struct dpf_dataplane *dp);

/* Core c's lcore and queues. */
struct dpf_rx_core_info {
	unsigned int lcore_id;
	uint16_t n_rxq;
	struct dpf_rxq_ref rxq[DPF_MAX_PORTS];
};

void dpf_dataplane_core_info(const struct dpf_dataplane *dp, uint16_t c,
			     struct dpf_rx_core_info *out);

/** Core c's counters (relaxed loads). */
void dpf_dataplane_core_counters(const struct dpf_dataplane *dp, uint16_t c,
				 struct dpf_rx_counters *out);

/** Flows in core c's open table (published after each burst). */
uint32_t dpf_dataplane_core_flows(const struct dpf_dataplane *dp, uint16_t c);

/** Core c's masquerade sessions; false when it has none (monitor mode). */
bool dpf_dataplane_core_nat(const struct dpf_dataplane *dp, uint16_t c,
			    struct dpf_nat_sessions_stats *out);

/** Packets taken from the queues by every core. */
uint64_t dpf_dataplane_rx_total(const struct dpf_dataplane *dp);

/** The newest packet time any core has seen (the packet clock's "now"). */
uint64_t dpf_dataplane_newest_ns(const struct dpf_dataplane *dp);

/** Packets of ACL rule i (0: the default verdict) of the rule set in effect, all cores. */
uint64_t dpf_dataplane_acl_hits(const struct dpf_dataplane *dp, uint32_t i);

/* What one interface logged: the sums of the records it will have. */
struct dpf_iface_counters {
	uint64_t packets; /* logged */
	uint64_t bytes;	  /* their IP lengths (the records' bytes) */
	uint64_t flows;	  /* flows created in an open table (a flow is one per window) */
};

/** Interface i's counters, summed over every core (relaxed loads). */
void dpf_dataplane_iface_counters(const struct dpf_dataplane *dp, uint16_t i,
				  struct dpf_iface_counters *out);

/**
 * flush: every core hands its open shard to the pipeline (the window stays
 * open). Waits for the cores' answers, at most timeout_ms.
 * @return the request's generation
 */
uint32_t dpf_dataplane_flush(struct dpf_dataplane *dp, unsigned int timeout_ms);

#endif /* DPFLOW_DATAPLANE_H */
