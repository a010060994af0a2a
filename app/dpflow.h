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
#include "run.h"

#define DPF_MAX_RX_CORES 64
#define DPF_MAX_PORTS 32
#define DPF_MAX_IFACES 256
#define DPF_BURST 32
#define DPF_WINDOW_NONE UINT64_MAX

enum dpf_clock {
	DPF_CLOCK_AUTO = 0,
	DPF_CLOCK_PACKET,
	DPF_CLOCK_WALL,
};

/* A repeatable setting (rules); origin names where each came from. */
struct dpf_str_list {
	char **items;
	char **origin;  /* "file.conf:12" or "--nat-rule #2" */
	unsigned int n;
};

/* Where masquerade keeps its sessions (--nat-sessions). */
enum dpf_nat_sessions_mode {
	DPF_NAT_SESSIONS_AUTO = 0, /* per core when every port is spread by our Toeplitz RSS */
	DPF_NAT_SESSIONS_PER_CORE, /* ports steered to the session's core */
	DPF_NAT_SESSIONS_SHARED,   /* one table per core, read by all (lib/nat) */
};

enum dpf_unmatched {
	DPF_UNMATCHED_LOG = 0, /* to the port's default interface */
	DPF_UNMATCHED_DROP,    /* counted as `unmatched`, not logged */
};

/* Every setting; option.c's table maps names to these fields. */
struct dpf_options {
	char *replay;
	uint64_t rxq;
	uint64_t window;
	uint64_t clock;          /* enum dpf_clock */
	char *log_format;
	char *output;
	uint64_t compress;       /* enum dpf_compress */
	uint64_t compress_level;
	char *account_id;
	char *interface_id;
	char *vpc_id;
	char *subnet_id;
	char *instance_id;
	char *region;
	char *az_id;
	char *sublocation_type;
	char *sublocation_id;
	char *flow_log_id;
	uint64_t idle_exit;
	uint64_t flows_per_core;
	uint64_t shards_per_core;
	uint64_t stats_period;
	char *forward;
	uint64_t unmatched;       /* enum dpf_unmatched */
	struct dpf_str_list nat_rules;
	uint64_t nat_sessions_per_core;
	uint64_t nat_timeout;
	uint64_t nat_sessions;    /* enum dpf_nat_sessions_mode */
	struct dpf_str_list acl_rules;
	uint64_t acl_default;     /* 0 allow, 1 deny (= enum dpf_action) */
	uint64_t acl_stateful;    /* 0 no, 1 yes */
	uint64_t conntrack_per_core;
	uint64_t conntrack_timeout;
	uint64_t interactive;     /* -i */
	char *cmdline_file;
	uint64_t flow_store;      /* records kept for show/export flows */
	char *config;
	/* IPFIX export (export_ipfix.c) */
	char *ipfix;
	uint64_t ipfix_domain_id;
	uint64_t ipfix_message_size;
	uint64_t ipfix_template_refresh;
	uint64_t ipfix_interface_names; /* 0 no, 1 yes */
	uint64_t ipfix_rate;            /* UDP messages per second, 0: no limit */
	/* Object storage upload (export_s3.c); no secret is ever an option. */
	char *s3_bucket;
	char *s3_endpoint;
	char *s3_region;
	char *s3_prefix;
	uint64_t s3_url_style;   /* enum dpf_s3_url_style */
	uint64_t s3_layout;      /* enum dpf_s3_layout */
	char *s3_credentials;
	char *s3_profile;
	char *s3_ca_file;
	char *s3_spool;
	uint64_t s3_spool_max_mb;
	uint64_t s3_spool_max_files;
	uint64_t s3_keep_local;  /* 0 no, 1 yes */
	uint64_t s3_retry_min_ms;
	uint64_t s3_retry_max_sec;
	uint64_t s3_drain_sec;
	uint64_t s3_timeout_sec;
	char *drivers_cfg;        /* driver profile directory (drivers.c) */
	/* reliability (doc/reliability.md) */
	uint64_t hold_mb;           /* output held in memory while the disk refuses it */
	uint64_t test_writer_delay; /* test knob: ms the writer waits per batch */
	uint64_t max_time_gap;      /* packet clock: implausible times are bad-time (window.c) */
};

#define DPF_IFACE_MAX_ADDRS 16

struct dpf_cidr {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
};

/*
 * A logged interface (a vNIC). A packet belongs to the interface of its
 * port whose MAC is the packet's source MAC, else its destination MAC, else
 * whose VLAN is the packet's outer VLAN id, else the port's default
 * interface (no vlan, no mac); without one it is `unmatched`.
 */
struct dpf_iface {
	struct dpf_iface_meta meta;
	uint16_t port;
	int32_t vlan;             /* -1: any */
	bool has_mac;
	uint8_t mac[6];
	struct dpf_cidr addrs[DPF_IFACE_MAX_ADDRS]; /* first is the primary */
	uint8_t n_addrs;
	bool from_config;
	unsigned int line;        /* section line in the config file */
};

struct dpf_config {
	struct dpf_options opt;
	struct dpf_iface ifaces[DPF_MAX_IFACES];
	uint16_t n_ifaces;
};

#define DPF_IFACE_NONE UINT16_MAX
#define DPF_PORT_NONE UINT16_MAX

struct rte_hash;

/* Packet -> interface (iface.c). */
struct dpf_iface_map {
	uint16_t default_iface[DPF_MAX_PORTS];  /* DPF_IFACE_NONE: unmatched */
	uint16_t *vlan_iface[DPF_MAX_PORTS];    /* [4096] when the port has vlan interfaces */
	bool port_has_mac[DPF_MAX_PORTS];
	struct rte_hash *mac;                   /* (port, mac) -> interface */
};

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
	struct rte_ring *free_shards; /* pipeline -> core: shard descriptors */
	struct rte_ring *free_tables; /* pipeline -> core: flow tables */
	struct rte_ring *retired;     /* core -> pipeline: filled shards */
	struct dpf_frag_cache *frag;
	struct dpf_shard *active;
	uint64_t active_start_ns;
	uint64_t active_end_ns;
	uint64_t carry_lost;          /* lost without a descriptor, reported with the next */
	uint64_t done_upto;           /* windows below are retired (published) */
	uint64_t last_ns;             /* newest packet time seen (published) */
	bool finished;                /* published */
	struct dpf_ruleset *rs;       /* the rule set this core applies */
	struct dpf_ruleset *rs_seen;  /* published: the newest set it switched to */
	uint32_t flush_seen;          /* published: last flush request handled */
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

/* Record batches from the pipeline to the writer. */
enum dpf_batch_type {
	DPF_BATCH_RECORDS = 0,
	DPF_BATCH_WINDOW_END, /* every record ending before `window_end` was sent */
	DPF_BATCH_STOP,
};

#define DPF_BATCH_RECORDS_MAX 256

struct dpf_batch {
	uint32_t type;
	uint32_t n;
	uint64_t window_end;
	struct dpf_record recs[DPF_BATCH_RECORDS_MAX];
};

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

struct dpf_replay_stats {
	uint64_t read;
	uint64_t enqueued;
	uint64_t late;
	uint64_t bad_time;
	uint64_t ring_full_waits;
};

/* The whole running program. */
struct dpf_app {
	struct dpf_config cfg;
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
	struct dpf_iface ifaces[DPF_MAX_IFACES]; /* logged interfaces, by port order */
	uint16_t n_ifaces;
	struct dpf_iface_map ifmap;
	struct rte_mempool *replay_pool;
	int replay_port;           /* -1 when none */
	struct rte_ring *replay_rings[DPF_MAX_RX_CORES];
	int ts_offset;             /* mbuf timestamp dynfield, -1 when none */
	uint64_t ts_flag;

	/* replay -> RX cores (release/acquire) */
	uint64_t watermark_ns;
	bool source_done;
	/*
	 * A stop ended the replay inside this window (start, ns): packets of it
	 * were left unread, so its rows end with SKIPDATA (pipeline.c). Written
	 * before source_done; DPF_WINDOW_NONE when the replay was not cut.
	 */
	uint64_t replay_cut_window;

	/*
	 * Packet-clock plausibility (window.c, doc/records.md "Implausible
	 * times"): a packet is bad-time when its time is outside 1970..2554, or
	 * (time_gap_ns != 0) later than time_hi_ns, earlier than the window of
	 * time_anchor_ns by more than the gap, or later than the newest
	 * plausible time by more than the gap.
	 */
	uint64_t time_gap_ns;
	uint64_t time_hi_ns;     /* wall clock at start + gap */
	uint64_t time_anchor_ns; /* median of the first packets; 0 until known (published) */

	/*
	 * NAT and ACL rules. A change (CLI) builds rs_next with from_ns = the
	 * next window boundary; each RX core switches when it opens a window at
	 * or after it, the pipeline uses rs_next for windows from there, and
	 * frees the old set once every core has switched (rules.c, pipeline.c).
	 */
	struct dpf_ruleset *rs;
	struct dpf_ruleset *rs_next;
	struct dpf_ruleset *rs_emit;  /* the set of the window being merged */
	pthread_mutex_t rs_lock;      /* CLI vs pipeline, never the RX path */
	struct dpf_nat_icmp *nat_icmp;
	struct dpf_rss *rss;          /* software Toeplitz (masquerade steering) */
	bool nat_shared;              /* masquerade sessions shared by the RX cores */
	struct dpf_nat_group *nat_group; /* their group, when shared */

	struct dpf_fmt *fmt;
	struct dpf_fmt_ctx fmt_ctx;
	struct rte_ring *batch_free;
	struct rte_ring *batch_full;

	struct dpf_pipeline_stats pstats;
	struct dpf_replay_stats rstats;
	struct dpf_sink_stats sstats; /* copied by the writer when it ends */

	struct dpf_run run;        /* stop, polling, output failed, rotate (run.h) */
	uint32_t flush_gen;        /* CLI flush requests (RX cores acknowledge) */
	struct dpf_store *store;   /* recent flows for show/export flows */
	struct dpf_fmt *fmt_next;  /* set log-format: the writer switches at a boundary */
	bool interactive;          /* -i or --cmdline-file: the CLI decides when to exit */
	bool run_done;             /* the run loop has ended (interactive mode; release/acquire) */
	bool writer_done;          /* the writer has handled the stop batch */
	struct dpf_fmt *fmt_show;  /* the CLI's copy of the record format */
	bool pipeline_done;        /* the pipeline lcore has ended (release/acquire) */
	uint64_t start_ns;
	uint64_t tsc_hz;           /* measured at start-up (clock.c) */
};

extern struct dpf_app dpf_app;

/* window.c: windows are identified by their start (ns). */
void dpf_window_init(uint64_t len_sec);
void dpf_window_bounds(uint64_t t_ns, uint64_t *start_ns, uint64_t *end_ns);
uint64_t dpf_window_start(uint64_t t_ns);
uint64_t dpf_window_len_sec(void);
uint64_t dpf_window_set_len(uint64_t len_sec, uint64_t now_ns, uint64_t margin_ns);
/* Windows in [a, b), both window starts (a < b), under the current plan. */
uint64_t dpf_window_count(uint64_t a, uint64_t b);

/* window.c: packet-clock plausibility. A time that is no time: outside 1970..2554. */
#define DPF_TIME_INVALID UINT64_MAX

enum dpf_time_verdict {
	DPF_TIME_OK = 0,
	DPF_TIME_UNREPRESENTABLE, /* outside 1970-01-01 .. 2554-07-21 */
	DPF_TIME_AHEAD_OF_CLOCK,  /* later than this host's clock at start + gap */
	DPF_TIME_BEFORE_FIRST,    /* before the window of the anchor by more than the gap */
	DPF_TIME_AFTER_NEWEST,    /* later than the newest plausible time + gap */
};

void dpf_time_check_init(struct dpf_app *app);
/* Median of t[0..n) (n > 0); reorders t. */
uint64_t dpf_time_median(uint64_t *t, unsigned int n);
/*
 * The verdict on time t given the anchor (0: not known yet) and the newest
 * plausible time so far (0: none).
 */
enum dpf_time_verdict dpf_time_check(const struct dpf_app *app, uint64_t t, uint64_t anchor,
				     uint64_t newest);
/* "not a time between ...", or "... by more than" (the caller adds the gap). */
const char *dpf_time_verdict_text(enum dpf_time_verdict v);

/* iface.c */
int dpf_ifaces_build(struct dpf_app *app);
uint16_t dpf_iface_lookup_slow(const struct dpf_app *app, uint16_t port, const uint8_t *frame,
			       const struct dpf_pkt_info *pi);
/* The interface of a parsed frame received on port, or DPF_IFACE_NONE. */
static inline uint16_t
dpf_iface_lookup(const struct dpf_app *app, uint16_t port, const uint8_t *frame,
		 const struct dpf_pkt_info *pi)
{
	if (!app->ifmap.port_has_mac[port] && app->ifmap.vlan_iface[port] == NULL)
		return app->ifmap.default_iface[port];
	return dpf_iface_lookup_slow(app, port, frame, pi);
}
uint8_t dpf_iface_direction(const struct dpf_app *app, const struct dpf_flow_key *k);

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

/* options.c */
void dpf_options_show(FILE *f, const struct dpf_options *o);
int dpf_options_parse(struct dpf_config *cfg, int argc, char **argv);
/* A setting's value before EAL runs (argv after "--", else --config), into
 * buf; NULL when not set. Quiet: the real parse reports problems. */
const char *dpf_options_peek(int argc, char **argv, const char *name, char *buf, size_t len);
void dpf_options_usage(FILE *f, const char *prog);
void dpf_options_free(struct dpf_config *cfg);

/*
 * clock.c: the wall clock, the TSC kept on CLOCK_REALTIME by lib/clock.
 * init and calibrate run at start-up (main lcore); poll only in the run loop;
 * dpf_wall_ns() anywhere (lock-free); stats and print anywhere but RX cores.
 */
struct dpf_wall_stats {
	struct dpf_clock_stats disc;
	uint64_t tsc_hz_eal; /* rte_get_tsc_hz() */
};

void dpf_wall_init(struct dpf_app *app);
/* The first measured rate (sets app->tsc_hz); waits at most 2 ms after init. */
void dpf_wall_calibrate(struct dpf_app *app);
/* Samples the clocks when the sample period has passed (run loop). */
void dpf_wall_poll(void);
uint64_t dpf_wall_ns(const struct dpf_app *app);
/* false when there is no discipline (its creation failed). */
bool dpf_wall_stats(struct dpf_wall_stats *out);
/* `<prefix>error-ns: N` ... lines. */
void dpf_wall_print(FILE *f, const char *prefix);
void dpf_wall_free(void);

/* ports.c */
int dpf_ports_init(struct dpf_app *app);
void dpf_ports_close(struct dpf_app *app);

/* replay.c */
int dpf_replay_open(struct dpf_app *app);
int dpf_replay_start(struct dpf_app *app);
bool dpf_replay_failed(void);
void dpf_replay_join(struct dpf_app *app);

/* rules.c */
#define DPF_ACL_RUNTIME_MAX_RULES 4096

struct dpf_ruleset {
	struct dpf_acl *acl;          /* NULL: every packet ACCEPT */
	struct dpf_nat *nat;          /* NULL: no rule */
	uint64_t from_ns;             /* first window start it applies to */
	uint8_t acl_default;
	struct dpf_str_list nat_text; /* the rules as given, with their origin */
	struct dpf_str_list acl_text;
	uint64_t *nat_rule_pkts;      /* [nat rules]: packets of records a rule rewrote */
};

struct dpf_ruleset *dpf_ruleset_build(struct dpf_app *app, const struct dpf_str_list *nat_rules,
				      const struct dpf_str_list *acl_rules, uint8_t acl_default,
				      FILE *errf);
void dpf_ruleset_free(struct dpf_ruleset *rs);
int dpf_rules_setup(struct dpf_app *app);
void dpf_rules_free(struct dpf_app *app);
void dpf_rules_finish_record(void *arg, struct dpf_record *r, const struct dpf_flow_nat *view);
void dpf_rules_print_stats(FILE *f, struct dpf_app *app);

/* rx.c */
int dpf_rx_setup(struct dpf_app *app);
int dpf_rx_lcore_main(void *arg);

/* pipeline.c */
int dpf_pipeline_setup(struct dpf_app *app);
/* One step; returns true when everything has been flushed to the writer. */
bool dpf_pipeline_poll(struct dpf_app *app);
int dpf_pipeline_lcore_main(void *arg);

/*
 * Exporters: other consumers of the rows the writer receives (IPFIX, object
 * storage, ...). Every callback runs in the writer thread; any may be NULL.
 */
struct dpf_exporter {
	const char *name;
	void *ctx;
	/* Rows of a window, in output order (several calls per window). */
	void (*rows)(void *ctx, const struct dpf_record *recs, uint32_t n);
	/* Every row ending before window_end (Unix seconds) has been given. */
	void (*window_end)(void *ctx, uint64_t window_end);
	/* A record file was published under its final name. */
	void (*file_published)(void *ctx, const char *path);
	/* Last call, after the final files are published. */
	void (*stop)(void *ctx);
};

#define DPF_MAX_EXPORTERS 4

/* writer.c */
/* Before dpf_writer_start(). @return 0, or -ENOSPC when the list is full. */
int dpf_writer_add_exporter(const struct dpf_exporter *e);
int dpf_writer_start(struct dpf_app *app);
void dpf_writer_join(struct dpf_app *app);
/* Output-error and leftover counters, `writer ...: N` lines (after join). */
void dpf_writer_stats_print(FILE *f);

/* export_ipfix.c: --ipfix; setup registers the exporter (0 when not configured) */
int dpf_export_ipfix_setup(struct dpf_app *app);
void dpf_export_ipfix_print(FILE *f);
void dpf_export_ipfix_free(void);

/* export_s3.c: --s3-bucket; setup checks the bucket (validation object),
 * opens the spool and starts the uploader thread (0 when not configured) */
int dpf_export_s3_setup(struct dpf_app *app);
void dpf_export_s3_print(FILE *f);
void dpf_export_s3_free(void);
/* numa.c: the machine's nodes, each port's node, RX lcores on another node. */
void dpf_numa_report(const struct dpf_app *app);

/* stats.c */
void dpf_stats_print(FILE *f, struct dpf_app *app, bool final);
void dpf_stats_line(const struct dpf_app *app);
uint64_t dpf_stats_rx_total(const struct dpf_app *app);

#endif /* DPFLOW_APP_H */
