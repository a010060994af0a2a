/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_HANDLES_H
#define DPFLOW_HANDLES_H

/*
 * The started subsystems the later ones read: main.c fills one of these in
 * one place (handles_of(), after the rules are made and the ports have
 * settled the clock), and the dataplane, the pipeline and control each take
 * it whole in their params as h, so each start step names only what is its
 * own. Each subsystem's header says which of the handles it reads.
 */

#include "common.h"

struct dpf_run;
struct dpf_window_plan;
struct dpf_wall;
struct dpf_ports;
struct dpf_ifmap;
struct dpf_rules;
struct dpf_source;

struct dpf_handles {
	struct dpf_run *run;		 /* the run flags: stop, output failed, polling */
	enum dpf_clock clock;		 /* DPF_CLOCK_PACKET or DPF_CLOCK_WALL */
	struct dpf_window_plan *plan;	 /* control changes its window length */
	struct dpf_wall *wall;		 /* the wall clock (used with DPF_CLOCK_WALL) */
	struct dpf_ports *ports;	 /* queues, peers, MTUs, RETA sizes, timestamps */
	const struct dpf_ifmap *ifmap;	 /* interfaces and flow direction */
	struct dpf_rules *rules;	 /* NULL (unit tests): records are not completed */
	const struct dpf_source *source; /* the replay's; NULL without replay */
};

#endif /* DPFLOW_HANDLES_H */
