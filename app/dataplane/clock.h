/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CLOCK_H
#define DPFLOW_CLOCK_H

/*
 * The wall clock: the TSC, converted to Unix time with a multiply and a
 * shift, the conversion kept on CLOCK_REALTIME by lib/clock (dpf_clock.h,
 * doc/operations.md "How the clock is kept true").
 *
 * Threads: create, calibrate and free on the main thread before the RX
 * cores run and after they stopped; dpf_wall_poll() only in the run loop
 * (one thread); dpf_wall_ns() on any thread, lock-free (RX cores call it
 * once per burst); stats on any thread but RX cores (they take a mutex).
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpf_clock.h"

struct dpf_wall;

struct dpf_wall_stats {
	struct dpf_clock_stats disc;
	uint64_t tsc_hz_eal; /* rte_get_tsc_hz() */
	bool disciplined;    /* false: the discipline could not be created (EAL's rate is used) */
};

/**
 * Start the clock at EAL's TSC rate. Without the discipline (no memory) the
 * clock still runs, uncorrected (a warning is logged).
 * @return NULL + rte_errno (ENOMEM) when even that is impossible. Needs EAL.
 */
struct dpf_wall *dpf_wall_create(void);

/** NULL-safe. */
void dpf_wall_free(struct dpf_wall *w);

/** The first measured rate; waits at most 2 ms after create. Before RX cores run. */
void dpf_wall_calibrate(struct dpf_wall *w);

/** Sample the clocks when the sample period (100 ms) has passed. Run loop only. */
void dpf_wall_poll(struct dpf_wall *w);

/** Unix time in ns. Any thread, lock-free. */
uint64_t dpf_wall_ns(const struct dpf_wall *w);

/** Unix time in ns when dpf_wall_create() started the clock. Any thread. */
uint64_t dpf_wall_start_ns(const struct dpf_wall *w);

/** The measured TSC rate (EAL's before dpf_wall_calibrate()). */
uint64_t dpf_wall_tsc_hz(const struct dpf_wall *w);

/** The discipline's counters. Any thread but RX cores. */
void dpf_wall_stats_get(struct dpf_wall *w, struct dpf_wall_stats *out);

#endif /* DPFLOW_CLOCK_H */
