/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_SNAPSHOT_H
#define DPFLOW_SNAPSHOT_H

/*
 * One counters snapshot: every subsystem's counters, read through its
 * getters (relaxed loads of single-writer counters, run.h) into one plain
 * struct that any renderer formats: the exit summary and the progress line
 * (render.c), telemetry (telemetry.c), the prompt's show commands
 * (control.c). A new renderer (Prometheus text, a short summary) reads the
 * same struct: per-core and total RX counters come with the
 * DPF_RX_COUNTERS X-macro's names, every exporter's with its own.
 *
 * Counters of different subsystems are read one after the other, not at
 * one instant: while the run goes on the conservation sums may be off by
 * what is in flight; at exit (every thread ended) they are exact.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>

#include "clock.h"
#include "dataplane.h"
#include "dpf_acl.h"
#include "output.h"
#include "pipeline.h"
#include "replay.h"

struct dpf_ctl;

struct dpf_snap_port {
	uint16_t id;
	bool replay;	       /* the replay source's port */
	uint64_t rx_packets;   /* taken from its queues by the RX cores */
	bool nic;	       /* nic holds the device's counters */
	struct rte_eth_stats nic_stats;
	bool drops_unreported; /* the driver cannot count its ring's drops */
};

struct dpf_snap_core {
	unsigned int lcore_id;
	uint32_t flows; /* in its open table */
	struct dpf_rx_counters c;
	bool has_nat; /* forward mode: masquerade sessions */
	struct dpf_nat_sessions_stats nat;
};

struct dpf_snap_rule {
	char text[DPF_ACL_RULE_TEXT_MAX + 64];
	uint64_t packets;
};

struct dpf_snap_iface {
	const char *id;
	uint16_t port;
	struct dpf_iface_counters c; /* logged packets, their bytes, flows */
	/*
	 * A tenant interface (`vni =`): its tunnel id. Its counters are then
	 * its decapsulated traffic, the inner packets and their inner IP bytes.
	 */
	bool tenant;
	uint32_t vni;
};

enum dpf_snap_part {
	DPF_SNAP_NIC = 1 << 0,	 /* the devices' counters (rte_eth_stats_get) */
	DPF_SNAP_RULES = 1 << 1, /* rules, sessions and interfaces */
};

struct dpf_snapshot {
	enum dpf_clock clock;
	uint64_t now_ns; /* the run's clock: wall time, or the newest packet time */
	uint64_t window_start_ns;
	uint64_t window_end_ns;
	uint32_t window_sec;	 /* the open window's length (end - start) */
	uint32_t window_sec_set; /* the plan's length: --window, or the last set window */
	bool clock_started;	 /* packet clock: a packet was seen; the wall clock always is */
	uint64_t flows_per_core;
	uint64_t tables_per_core;
	uint16_t n_ports;
	struct dpf_snap_port port[DPF_MAX_PORTS];
	uint16_t n_cores;
	struct dpf_snap_core *core; /* [n_cores] */
	struct dpf_rx_counters total;
	uint64_t flows;	      /* in every core's open table */
	bool forward;	      /* forward mode */
	bool nat_shared;      /* its masquerade sessions are shared */
	uint32_t n_nat;	      /* the rule set in effect (DPF_SNAP_RULES) */
	struct dpf_snap_rule *nat;
	bool masquerade;
	bool acl;
	bool acl_allow; /* the default verdict */
	uint64_t acl_default_packets;
	uint32_t n_acl;
	struct dpf_snap_rule *acl_rule;
	uint16_t n_ifaces;
	struct dpf_snap_iface *iface;
	bool replay;
	struct dpf_replay_stats replay_st;
	struct dpf_pipeline_stats pipeline;
	struct dpf_wall_stats wall;
	unsigned int n_exporters;
	struct dpf_export_counters exporter[DPF_MAX_EXPORTERS];
};

/*
 * Rows of a snapshot's counters, named once for every renderer: the prompt's
 * show commands and the exit summary print `<prefix>name: v`, telemetry adds
 * name (with '_' for '-') to its dictionary.
 */
struct dpf_snap_row {
	const char *name;
	uint64_t v;
};

#define DPF_SNAP_ROWS_MAX 12

struct dpf_snap_rows {
	unsigned int n;
	struct dpf_snap_row row[DPF_SNAP_ROWS_MAX];
};

/**
 * The open window: its length, the length set (set window: from the next
 * boundary), bounds, the clock's now, flows so far, windows closed.
 */
void dpf_snapshot_window_rows(const struct dpf_snapshot *s, struct dpf_snap_rows *r);

/** RX core c's open table: flows, capacity, tables, flows created, losses. */
void dpf_snapshot_core_rows(const struct dpf_snapshot *s, uint16_t c, struct dpf_snap_rows *r);

/** The pipeline's counters (windows, records, NODATA/SKIPDATA rows, gaps, losses). */
void dpf_snapshot_pipeline_rows(const struct dpf_snapshot *s, struct dpf_snap_rows *r);

/*
 * The conservation check of design.md (render.c's header lists its sums),
 * computed once for every renderer. replay/nic: those sums apply.
 */
struct dpf_snap_conservation {
	bool replay;
	uint64_t replay_read;
	uint64_t replay_accounted; /* late + bad-time + the replay port's rx-packets */
	bool nic;
	uint64_t nic_ipackets;	/* of the NIC ports (the replay's aside) */
	uint64_t nic_accounted; /* their rx-packets + not-polled */
	uint64_t received;
	uint64_t accounted; /* logged + every named counter */
	uint64_t logged_in_records;
	bool ibm;		/* --ibm-output: connection records account for the records' packets */
	uint64_t ibm_accounted; /* in a flow log, other protocol's, or refused by a full table */
	bool ok;
};

/** The conservation sums of s (taken with DPF_SNAP_NIC for the NIC's). */
void dpf_snapshot_conservation(const struct dpf_snapshot *s, struct dpf_snap_conservation *c);

/**
 * The same sums as rows (names as the summary's `conservation <name>`), and
 * with_ok a last row "ok" of 1 or 0 (the summary and Prometheus say it their
 * own way). @return whether every sum agrees
 */
bool dpf_snapshot_conservation_rows(const struct dpf_snapshot *s, bool with_ok,
				    struct dpf_snap_rows *r);

/** A port's packets the NIC received after the last poll of its queues (0 when none). */
static inline uint64_t
dpf_snap_port_not_polled(const struct dpf_snap_port *p)
{
	return p->nic && p->nic_stats.ipackets >= p->rx_packets
		       ? p->nic_stats.ipackets - p->rx_packets
		       : 0;
}

/**
 * Fill s (DPF_SNAP_* parts besides the counters every snapshot has).
 * @return 0, or -ENOMEM (s is then empty)
 */
int dpf_snapshot_take(struct dpf_ctl *ctl, unsigned int parts, struct dpf_snapshot *s);

/** NULL-safe on what take allocated. */
void dpf_snapshot_release(struct dpf_snapshot *s);

/** An exporter's named counter, 0 when there is none. */
uint64_t dpf_snapshot_exporter(const struct dpf_snapshot *s, const char *prefix,
			       const char *name);

#endif /* DPFLOW_SNAPSHOT_H */
