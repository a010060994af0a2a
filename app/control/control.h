/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CONTROL_H
#define DPFLOW_CONTROL_H

/*
 * The control subsystem: what the prompt (cli.c), telemetry (telemetry.c)
 * and the run loop's reports ask of the other subsystems.
 *
 * Actions: one function per verb. Each writes stable `key: value` lines to
 * a FILE * and returns 0, or writes "error: ..." naming the problem and
 * returns -1 (the prompt prints them; tests read them with
 * open_memstream()). Renderers: the exit summary, the progress line and
 * telemetry all render one counters snapshot (snapshot.h).
 *
 * Threads: create and free on the main thread; actions on the control
 * thread (the prompt's, one at a time); renderers on the run loop's thread,
 * telemetry's and the main thread at exit. None reads an RX core's table:
 * cores publish counters and their table fill, and flows come from closed
 * windows (the recent-flows store).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "common.h"
#include "config.h"
#include "dataplane.h"
#include "dpf_connstore.h"
#include "dpf_store.h"
#include "dpf_window_plan.h"
#include "handles.h"
#include "output.h"
#include "pipeline.h"
#include "ports.h"
#include "replay.h"
#include "rules.h"
#include "run.h"

/* Of the shared handles (h) control reads all but the source (it has the replay). */
struct dpf_ctl_params {
	struct dpf_handles h;
	struct dpf_config *cfg;
	uint64_t start_ns;	   /* the wall clock at start (the first progress line's rate) */
	struct dpf_replay *replay; /* NULL without --replay */
	struct dpf_dataplane *dp;
	struct dpf_pipeline *pipeline;
	unsigned int pipeline_lcore; /* RTE_MAX_LCORE: it runs on the main lcore */
	struct dpf_writer *writer;
	struct dpf_export_file *file;
	struct dpf_store *store;
	struct dpf_store *connstore; /* NULL: no connection pass in this run */
	const struct dpf_fmt_ctx *fmt_ctx;
};

struct dpf_ctl;

/** @return NULL + rte_errno (ENOMEM) */
struct dpf_ctl *dpf_ctl_create(const struct dpf_ctl_params *p);

/** NULL-safe. */
void dpf_ctl_free(struct dpf_ctl *ctl);

/** The run flags the actions act on. */
struct dpf_run *dpf_ctl_run_flags(struct dpf_ctl *ctl);

/** --output -: stdout is the record stream, so the prompt must talk elsewhere. */
bool dpf_ctl_records_on_stdout(const struct dpf_ctl *ctl);

/* ---- actions ---- */

int dpf_ctl_start(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_stop(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_quit(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_flush(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_wait(struct dpf_ctl *ctl, FILE *f);
/* which: a port id, or "all" */
int dpf_ctl_show_port_info(struct dpf_ctl *ctl, FILE *f, const char *which);
int dpf_ctl_show_port_stats(struct dpf_ctl *ctl, FILE *f, const char *which);
int dpf_ctl_show_port_xstats(struct dpf_ctl *ctl, FILE *f, const char *which);
int dpf_ctl_clear_port_stats(struct dpf_ctl *ctl, FILE *f, const char *which);
int dpf_ctl_show_lcores(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_show_flow_table(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_show_window(struct dpf_ctl *ctl, FILE *f);
int dpf_ctl_set_window(struct dpf_ctl *ctl, FILE *f, const char *seconds);
int dpf_ctl_set_log_format(struct dpf_ctl *ctl, FILE *f, const char *fmt);
int dpf_ctl_show_config(struct dpf_ctl *ctl, FILE *f);
/* argv: the filters (dpf_store_filter_parse) */
int dpf_ctl_show_flows(struct dpf_ctl *ctl, FILE *f, int argc, char **argv);
int dpf_ctl_export_flows(struct dpf_ctl *ctl, FILE *f, const char *path, int argc, char **argv);
/* argv: the filters (dpf_connstore_filter_parse) */
int dpf_ctl_show_connections(struct dpf_ctl *ctl, FILE *f, int argc, char **argv);
int dpf_ctl_export_connections(struct dpf_ctl *ctl, FILE *f, const char *path, int argc,
			       char **argv);

/* nat|acl show | add RULE | del N */
enum dpf_ctl_rules_verb {
	DPF_CTL_RULES_SHOW,
	DPF_CTL_RULES_ADD, /* arg: the rule, checked now, queued for the next boundary */
	DPF_CTL_RULES_DEL, /* arg: the rule number (1..), queued likewise */
};

/** The rule set of one kind: show it (arg unused), or queue a change. */
int dpf_ctl_rules(struct dpf_ctl *ctl, FILE *f, enum dpf_rules_kind kind,
		  enum dpf_ctl_rules_verb verb, const char *arg);

/* ---- renderers of the counters snapshot ---- */

/**
 * The exit summary: `key: value` lines per port, per RX core and in total,
 * rules, replay, pipeline, clock, exporters, and the conservation check of
 * design.md (doc/reliability.md, "Conservation"); lines of value 0 only with
 * --stats-detail (or dpflow.control at debug level). Then the readable end:
 * `summary: ` lines with packets, records, files, and every loss with its
 * cause and the option that avoids it.
 * @return true when the conservation check is ok
 */
bool dpf_ctl_summary(struct dpf_ctl *ctl, FILE *f);

/**
 * Whether the run lost packets or records (a limit or a failure: the
 * summary's LOST lines), for --exit-status-on-loss. After every thread ended.
 */
bool dpf_ctl_lost(struct dpf_ctl *ctl);

/**
 * Warn (a log message) the first time each cause of loss shows, naming the
 * window, the cause and the option that avoids it. Run loop only; looks at
 * the counters at most every 100 ms whatever the call rate, and always when
 * last (the loop's last turn: a short run still warns before its summary).
 */
void dpf_ctl_watch_losses(struct dpf_ctl *ctl, bool last);

/** The progress line (--stats-period), a log message. Run loop only. */
void dpf_ctl_progress(struct dpf_ctl *ctl);

/**
 * The counters snapshot as Prometheus text (metrics.c), what GET /metrics
 * answers with --metrics (doc/operations.md, "Metrics"). Any thread.
 * @return 0, or -ENOMEM (nothing written)
 */
int dpf_ctl_metrics(struct dpf_ctl *ctl, FILE *f);

/* ---- the --metrics HTTP server (metrics_http.c) ---- */

struct dpf_metrics;

/**
 * --metrics ADDR:PORT: listen now (a bad value or a port in use stops the
 * start before any port does, logged naming the option), serve from a
 * control thread; until attached, GET /metrics answers 503.
 * @return NULL + rte_errno (EINVAL, the socket's errno, ENOMEM)
 */
struct dpf_metrics *dpf_metrics_start(const char *spec);

/** From now on answer with ctl's snapshot. NULL-safe (m). */
void dpf_metrics_attach(struct dpf_metrics *m, struct dpf_ctl *ctl);

/** Stop serving, wait for the thread: before ctl is freed. NULL-safe. */
void dpf_metrics_stop(struct dpf_metrics *m);

/** Register the /dpflow/ telemetry commands (telemetry.c). @return 0 or -1 */
int dpf_ctl_telemetry_register(struct dpf_ctl *ctl);

/* ---- the prompt (cli.c) ---- */

struct dpf_cli;

/**
 * --cmdline-file: read the whole file before the run starts, so that a
 * missing file, a directory or a bad line stops dpflow there (logged).
 * @param file  NULL: no file (the prompt only)
 * @return NULL + rte_errno on such a problem
 */
struct dpf_cli *dpf_cli_create(const char *file);

/** NULL-safe. */
void dpf_cli_free(struct dpf_cli *cli);

/**
 * Run the file's commands, then (interactive) the terminal's, until quit or
 * its end. The echoed commands and their answers go to stdout, unless the
 * records do (--output -): then to the terminal stdin is (when it is one),
 * else to stderr, so that stdout carries records only.
 */
int dpf_cli_run(struct dpf_cli *cli, struct dpf_ctl *ctl, bool interactive);

#endif /* DPFLOW_CONTROL_H */
