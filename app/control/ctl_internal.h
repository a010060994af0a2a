/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CTL_INTERNAL_H
#define DPFLOW_CTL_INTERNAL_H

/* Inside the control subsystem: its handle (control.c, snapshot.c, render.c, telemetry.c). */

#include "control.h"
#include "dpf_fmt.h"

struct dpf_ctl {
	struct dpf_ctl_params p;
	/* The progress line's previous reading (run loop thread). */
	uint64_t progress_rx;
	uint64_t progress_ns;
	/* show port stats: each port's previous reading, for its rates (control thread). */
	struct dpf_port_reading {
		uint64_t mono_ns; /* 0: none yet, the rates run from start-up */
		uint64_t ipackets, ibytes, opackets, obytes;
	} port_prev[DPF_MAX_PORTS];
	uint64_t start_mono_ns;
	/* The loss watch (run loop thread): its last look, the causes warned of. */
	uint64_t watch_ns;
	const char *warned[32];
	unsigned int n_warned;
};


/* "Now" in the run's clock: wall time, or the newest packet time. */
uint64_t dpf_ctl_now_ns(const struct dpf_ctl *ctl);

/* `<prefix>error-ns: N` ... lines: the wall clock's discipline (render.c). */
void dpf_ctl_print_clock(FILE *f, const char *prefix, const struct dpf_wall_stats *w);

struct dpf_snap_rows;
struct dpf_snapshot;

/* The exit summary's readable end: packets, records, files, every loss (summary.c). */
void dpf_ctl_print_short_summary(FILE *f, const struct dpf_snapshot *s, bool conserved);

/* `<prefix>name: v` lines, one a row (render.c). */
void dpf_ctl_print_rows(FILE *f, const char *prefix, const struct dpf_snap_rows *r);

#endif /* DPFLOW_CTL_INTERNAL_H */
