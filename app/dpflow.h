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

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dpf_flow.h"
#include "dpf_fmt.h"
#include "dpf_pkt.h"
#include "dpf_sink.h"
#include "dpf_window.h"

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
	char *config;
	/* reliability (doc/reliability.md) */
	uint64_t hold_mb;           /* output held in memory while the disk refuses it */
	uint64_t test_writer_delay; /* test knob: ms the writer waits per batch */
};

/* A logged interface: issue-2 scope is one per port. */
struct dpf_iface {
	struct dpf_iface_meta meta;
	uint16_t port;
	bool from_config;
};

struct dpf_config {
	struct dpf_options opt;
	struct dpf_iface ifaces[DPF_MAX_IFACES];
	uint16_t n_ifaces;
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
	X(flows_created, "flows-created", "flows inserted in shards")                 \
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
	uint16_t iface;
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
};

struct dpf_replay_stats {
	uint64_t read;
	uint64_t enqueued;
	uint64_t late;
	uint64_t ring_full_waits;
};

/* The whole running program. */
struct dpf_app {
	struct dpf_config cfg;
	enum dpf_clock clock;
	uint64_t window_ns;
	bool offline;              /* replay: wait instead of losing on overrun */

	struct dpf_rx_core *cores;
	uint16_t n_cores;
	unsigned int pipeline_lcore; /* RTE_MAX_LCORE: runs on the main lcore */

	uint16_t ports[DPF_MAX_PORTS];
	uint16_t n_ports;
	uint16_t port_nq[DPF_MAX_PORTS];    /* RX queues configured per port id */
	struct dpf_iface ifaces[DPF_MAX_IFACES]; /* logged interfaces, by port order */
	uint16_t n_ifaces;
	uint16_t port_iface[DPF_MAX_PORTS]; /* port id -> interface index */
	struct rte_mempool *replay_pool;
	int replay_port;           /* -1 when none */
	struct rte_ring *replay_rings[DPF_MAX_RX_CORES];
	int ts_offset;             /* mbuf timestamp dynfield, -1 when none */
	uint64_t ts_flag;

	/* replay -> RX cores (release/acquire) */
	uint64_t watermark_ns;
	bool source_done;

	struct dpf_fmt *fmt;
	struct dpf_fmt_ctx fmt_ctx;
	struct rte_ring *batch_free;
	struct rte_ring *batch_full;

	struct dpf_pipeline_stats pstats;
	struct dpf_replay_stats rstats;
	struct dpf_sink_stats sstats; /* copied by the writer when it ends */
	bool writer_failed;

	volatile bool stop;        /* signal, idle exit: stop polling, flush */
	volatile bool pipeline_done;
	uint64_t start_ns;
	uint64_t tsc_hz;
	uint64_t tsc_base;
	uint64_t wall_base_ns;
};

extern struct dpf_app dpf_app;

/* options.c */
int dpf_options_parse(struct dpf_config *cfg, int argc, char **argv);
void dpf_options_usage(FILE *f, const char *prog);
void dpf_options_free(struct dpf_config *cfg);

/* clock.c */
void dpf_clock_init(struct dpf_app *app);
uint64_t dpf_wall_ns(const struct dpf_app *app);

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

/* stats.c */
void dpf_stats_print(FILE *f, const struct dpf_app *app, bool final);
void dpf_stats_line(FILE *f, const struct dpf_app *app);
uint64_t dpf_stats_rx_total(const struct dpf_app *app);

#endif /* DPFLOW_APP_H */
