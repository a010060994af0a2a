/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_LOG_H
#define DPFLOW_LOG_H

/*
 * dpflow's one logging path: rte_log, with a registered log type per
 * subsystem (dpflow.main, dpflow.config, dpflow.dataplane, dpflow.pipeline,
 * dpflow.output, dpflow.ports, dpflow.control), so EAL's --log-level governs
 * dpflow's messages as it does DPDK's: `--log-level='dpflow.*:warning'`
 * keeps only warnings and errors, `--log-level=dpflow.output:debug` says
 * more about one subsystem.
 *
 * Every message starts with "dpflow: " and keeps its text (scripts and
 * tests read it). Messages go to stderr: dpf_log_init() opens the log
 * stream there before anything logs, since DPDK on Linux would write to
 * stdout (and syslog), where --output - writes records. What a program
 * outputs - records, the exit summary's `key: value` lines, the prompt's
 * answers - is not logged.
 *
 * Any thread may log except RX lcores on their packet path (they count).
 */

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include <rte_log.h>

extern int dpf_logtype_main;
extern int dpf_logtype_config;
extern int dpf_logtype_dataplane;
extern int dpf_logtype_pipeline;
extern int dpf_logtype_output;
extern int dpf_logtype_ports;
extern int dpf_logtype_control;

/* DPF_LOG(ERR, ports, "port %u: ...\n", port): level as RTE_LOG_<level>. */
#define DPF_LOG(level, sub, fmt, ...)                                                              \
	rte_log(RTE_LOG_##level, dpf_logtype_##sub, "dpflow: " fmt, ##__VA_ARGS__)

/* Whether a message of this level and subsystem would be written. */
#define DPF_LOG_ENABLED(level, sub) rte_log_can_log(dpf_logtype_##sub, RTE_LOG_##level)

/*
 * Log records go to stderr from here on, whatever EAL chose (call first in
 * main(), and again after rte_eal_init(), which replaces the stream).
 */
void dpf_log_init(void);

/*
 * A FILE * whose lines become log messages of this level and subsystem, for
 * code that prints reports to a stream (driver notes, the NUMA report). The
 * text is passed on as written (it carries its own "dpflow: "). Free it with
 * fclose(). NULL (errno set) when it cannot be made.
 */
FILE *dpf_log_stream(int logtype, uint32_t level);

/*
 * The prompt (-i) shares the terminal with the log. While attached, the
 * log's records go through a stream that first erases the line being typed,
 * then writes the record, then calls redraw (the prompt puts the line back,
 * rdline_redisplay), so that a warning from another thread never lands in
 * the middle of a typed command. Any thread may log; only the prompt's
 * thread attaches, detaches and locks.
 */
void dpf_log_prompt_attach(void (*redraw)(void *arg), void *arg);
void dpf_log_prompt_detach(void);
/* Around each key the prompt handles: a record waits, then sees the line whole. */
void dpf_log_prompt_lock(void);
void dpf_log_prompt_unlock(void);
/* While a typed command runs (its answer and the next prompt are printed by
 * the prompt itself): records are written without erasing or redrawing. */
void dpf_log_prompt_pause(bool paused);

#endif /* DPFLOW_LOG_H */
