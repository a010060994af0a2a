/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_APP_H
#define DPFLOW_APP_H

/*
 * Application-wide types. Threads:
 *   RX lcores     poll queues, own their shards (rx.c)
 *   pipeline      merges retired shards of complete windows (pipeline.c);
 *                 its own lcore when one is spare, else the main lcore
 *   writer        formats and writes records (writer.c), control thread
 *   replay        software-RSS capture source (replay.c), control thread
 *   main          options, ports, signals, counters (main.c, stats.c)
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dpf_acl.h"
#include "dpf_clock.h"
#include "dpf_flow.h"
#include "dpf_fmt.h"
#include "dpf_nat.h"
#include "dpf_pkt.h"
#include "dpf_sink.h"
#include "dpf_store.h"
#include "dpf_window.h"
#include "dpf_window_plan.h"

#include "clock.h"
#include "common.h"
#include "config.h"
#include "iface.h"
#include "batch.h"
#include "handoff.h"
#include "pipeline.h"
#include "rules.h"
#include "source.h"
#include "log.h"
#include "output.h"
#include "run.h"
#include "timecheck.h"

struct rte_hash;

/* Per-core counters: single writer (the RX lcore), relaxed loads by others. */
#define DPF_RX_COUNTERS(X)                                                           \
	X(rx_packets, "rx-packets", "packets taken from the queues")                  \
	X(parsed, "parsed", "IPv4/IPv6 packets whose headers parsed")                 \
	X(logged_packets, "logged-packets", "packets counted in a flow")              \
	X(not_ip, "not-ip", "frames that are not IPv4/IPv6 (ARP, LLDP, ...)")         \
	X(malformed, "malformed", "truncated or invalid headers (by reason below)")  \
	X(lost_table_full, "lost-table-full", "packets of new flows, table full")     \
	X(lost_no_table, "lost-no-table", "packets with no free shard table (overrun)") \
	X(late, "late", "packets of a window already closed")                         \
	X(bad_time, "bad-time", "packets with an implausible time (--max-time-gap)")  \
	X(unmatched, "unmatched", "packets of no interface (unmatched = drop)")       \
	X(acl_rejected, "acl-rejected", "packets the ACL rejected (REJECT records)")  \
	X(acl_reply_accepted, "acl-reply-accepted", "replies accepted by stateful mode") \
	X(conntrack_full, "conntrack-full", "accepted connections not tracked: table full") \
	X(acl_dropped, "acl-dropped", "forward mode: rejected packets dropped")       \
	X(nat_translated, "nat-translated", "forward mode: packets rewritten by NAT")  \
	X(nat_dropped, "nat-dropped",                                                 \
	  "forward mode: packets NAT cannot translate (no port/session, fragment without " \
	  "its first), dropped: REJECT records")                                       \
	X(short_frames, "short-frames",                                               \
	  "forward mode: frames shorter than their IP length (cut by the port), "     \
	  "neither sent nor logged")                                                    \
	X(tx_packets, "tx-packets", "forward mode: frames sent on the peer port (each fragment)") \
	X(tx_fragmented, "tx-fragmented",                                             \
	  "forward mode: IPv4 packets above the peer port's MTU, sent as fragments")    \
	X(tx_too_big, "tx-too-big",                                                   \
	  "forward mode: packets above the peer port's MTU that may not be fragmented " \
	  "(IPv6, DF set), not logged")                                                 \
	X(tx_dropped, "tx-dropped",                                                   \
	  "forward mode: accepted packets the peer port refused, not logged")          \
	X(tx_dropped_unlogged, "tx-dropped-unlogged",                                 \
	  "forward mode: unlogged frames (not-ip, unmatched, late) the peer port refused") \
	X(flows_created, "flows-created", "flows inserted in shards")                 \
	X(frag_evicted, "frag-evicted", "first fragments that replaced another datagram's ports") \
	X(frag_without_first, "frag-without-first", "later fragments logged with ports 0") \
	X(windows_retired, "windows-retired", "shards handed to the pipeline")

struct dpf_rx_counters {
#define DPF_X_FIELD(f, name, help) uint64_t f;
	DPF_RX_COUNTERS(DPF_X_FIELD)
#undef DPF_X_FIELD
	uint64_t malformed_by_reason[DPF_PKT_RESULT_MAX];
	uint64_t rx_by_port[DPF_MAX_PORTS];
};

struct dpf_rxq_ref {
	uint16_t port;
	uint16_t queue;
};

/* One RX lcore. Cache-aligned; only its own lcore writes it (but done_upto
 * and last_ns, published with release stores, and the rings). */
struct dpf_rx_core {
	unsigned int lcore_id;
	uint16_t index;
	uint16_t n_rxq;
	struct dpf_rxq_ref rxq[DPF_MAX_PORTS];
	struct dpf_handoff *ho;       /* rings and published values (handoff.h) */
	struct dpf_frag_cache *frag;
	struct dpf_shard *active;
	uint64_t active_start_ns;
	uint64_t active_end_ns;
	uint64_t carry_lost;          /* lost without a descriptor, reported with the next */
	uint64_t last_ns;             /* newest packet time seen (published) */
	const struct dpf_ruleset *rs; /* the rule set this core applies */
	uint32_t active_flows;        /* published after each burst */
	struct dpf_conntrack *ct;     /* stateful ACL, NULL otherwise */
	struct dpf_nat_sessions *nat; /* masquerade in forward mode, NULL otherwise */
	uint64_t *acl_rule_hits;      /* [acl rules + 1]; [0] = default verdict */
	uint64_t *iface_pkts;         /* [n_ifaces] logged packets per interface */
	struct dpf_ft *tables[16];    /* this core's tables (--shards-per-core) */
	struct dpf_flow_nat *views[16]; /* masquerade views of tables[k], or NULL */
	uint32_t max_views;
	struct dpf_rx_counters cnt;
} __rte_cache_aligned;

struct dpf_replay_stats {
	uint64_t read;
	uint64_t enqueued;
	uint64_t late;
	uint64_t bad_time;
	uint64_t ring_full_waits;
};

/* The whole running program. */
struct dpf_app {
	struct dpf_config *cfg;
	const struct dpf_options *opt; /* the configuration's settings */
	struct dpf_window_plan *plan;
	struct dpf_wall *wall;
	struct dpf_timecheck *tc;
	enum dpf_clock clock;
	bool offline;              /* replay: wait instead of losing on overrun */

	struct dpf_rx_core *cores;
	uint16_t n_cores;
	unsigned int pipeline_lcore; /* RTE_MAX_LCORE: runs on the main lcore */

	uint16_t ports[DPF_MAX_PORTS];
	uint16_t n_ports;
	uint16_t port_nq[DPF_MAX_PORTS];    /* RX queues configured per port id */
	uint16_t port_reta_size[DPF_MAX_PORTS];
	uint16_t port_mtu[DPF_MAX_PORTS];   /* largest IP packet the port sends */
	bool port_multiseg[DPF_MAX_PORTS];  /* TX takes chained mbufs (IPv4 fragments) */
	/* Forward mode: fragments of IPv4 packets above the peer's MTU (rte_ip_frag). */
	struct rte_mempool *frag_direct;
	struct rte_mempool *frag_indirect;
	bool forward;                       /* --forward given */
	uint16_t fwd_peer[DPF_MAX_PORTS];   /* DPF_PORT_NONE: not forwarded */
	struct dpf_ifmap *ifmap;            /* logged interfaces (dataplane/iface.h) */
	struct rte_mempool *replay_pool;
	int replay_port;           /* -1 when none */
	struct rte_ring *replay_rings[DPF_MAX_RX_CORES];
	int ts_offset;             /* mbuf timestamp dynfield, -1 when none */
	uint64_t ts_flag;

	struct dpf_source source;  /* replay -> RX cores and pipeline (source.h) */
	struct dpf_handoffs handoffs; /* RX cores -> pipeline (handoff.h) */

	struct dpf_rules *rules;      /* NAT and ACL rule versions (rules.h) */
	struct dpf_nat_icmp *nat_icmp;
	struct dpf_rss *rss;          /* software Toeplitz (masquerade steering) */
	bool nat_shared;              /* masquerade sessions shared by the RX cores */
	struct dpf_nat_group *nat_group; /* their group, when shared */

	struct dpf_fmt_ctx fmt_ctx;    /* interface metadata for the formatter */
	struct dpf_batchq *batches;    /* pipeline -> writer */
	struct dpf_writer *writer;
	struct dpf_export_file *file;  /* the record files (set log-format) */

	struct dpf_pipeline *pipeline;
	struct dpf_replay_stats rstats;

	struct dpf_run run;        /* stop, polling, output failed, rotate (run.h) */
	struct dpf_store *store;   /* recent flows for show/export flows */
	bool interactive;          /* -i or --cmdline-file: the CLI decides when to exit */
	bool run_done;             /* the run loop has ended (interactive mode; release/acquire) */
	struct dpf_fmt *fmt_show;  /* the CLI's copy of the record format */
	uint64_t start_ns;
};

extern struct dpf_app dpf_app;

/* control.c: CLI and telemetry actions; key: value lines to f, 0 or -1. */
int dpf_ctl_start(FILE *f, struct dpf_app *app);
int dpf_ctl_stop(FILE *f, struct dpf_app *app);
int dpf_ctl_quit(FILE *f, struct dpf_app *app);
int dpf_ctl_flush(FILE *f, struct dpf_app *app);
int dpf_ctl_wait(FILE *f, struct dpf_app *app);
int dpf_ctl_show_port(FILE *f, struct dpf_app *app, const char *what, const char *which);
int dpf_ctl_clear_port_stats(FILE *f, struct dpf_app *app, const char *which);
int dpf_ctl_show_lcores(FILE *f, struct dpf_app *app);
int dpf_ctl_show_flow_table(FILE *f, struct dpf_app *app);
int dpf_ctl_show_window(FILE *f, struct dpf_app *app);
int dpf_ctl_set_window(FILE *f, struct dpf_app *app, const char *arg);
int dpf_ctl_set_log_format(FILE *f, struct dpf_app *app, const char *fmt);
int dpf_ctl_show_config(FILE *f, struct dpf_app *app);
int dpf_ctl_show_flows(FILE *f, struct dpf_app *app, int argc, char **argv);
int dpf_ctl_export_flows(FILE *f, struct dpf_app *app, const char *path, int argc, char **argv);
int dpf_ctl_rules(FILE *f, struct dpf_app *app, const char *kind, const char *verb,
		  const char *arg);

/* telemetry.c */
int dpf_telemetry_register(struct dpf_app *app);

/* ports.c */
int dpf_ports_init(struct dpf_app *app);
void dpf_ports_close(struct dpf_app *app);

/* replay.c */
int dpf_replay_open(struct dpf_app *app);
int dpf_replay_start(struct dpf_app *app);
bool dpf_replay_failed(void);
void dpf_replay_join(struct dpf_app *app);

/* rx.c */
int dpf_rx_setup(struct dpf_app *app);
int dpf_rx_lcore_main(void *arg);

/* numa.c: the machine's nodes, each port's node, RX lcores on another node. */
void dpf_numa_report(const struct dpf_app *app);

/* stats.c */
void dpf_stats_print(FILE *f, struct dpf_app *app, bool final);
void dpf_stats_line(struct dpf_app *app);
void dpf_stats_exporters_print(FILE *f, struct dpf_app *app, bool files);
uint64_t dpf_stats_files(struct dpf_app *app);
void dpf_stats_clock_print(FILE *f, const char *prefix, struct dpf_wall *wall);
uint64_t dpf_stats_rx_total(const struct dpf_app *app);

#endif /* DPFLOW_APP_H */
