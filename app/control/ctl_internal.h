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
	struct dpf_metrics *metrics; /* --metrics: the HTTP server, or NULL */
};

/* --metrics ADDR:PORT: listen and serve (metrics_http.c). @return NULL + rte_errno (logged) */
struct dpf_metrics *dpf_metrics_start(struct dpf_ctl *ctl, const char *spec);

/* Stop serving (waits for the thread). NULL-safe. */
void dpf_metrics_stop(struct dpf_metrics *m);

/* "Now" in the run's clock: wall time, or the newest packet time. */
uint64_t dpf_ctl_now_ns(const struct dpf_ctl *ctl);

/* `<prefix>error-ns: N` ... lines: the wall clock's discipline (render.c). */
void dpf_ctl_print_clock(FILE *f, const char *prefix, const struct dpf_wall_stats *w);

struct dpf_snap_rows;

/* `<prefix>name: v` lines, one a row (render.c). */
void dpf_ctl_print_rows(FILE *f, const char *prefix, const struct dpf_snap_rows *r);

#endif /* DPFLOW_CTL_INTERNAL_H */
