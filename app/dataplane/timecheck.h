/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_TIMECHECK_H
#define DPFLOW_TIMECHECK_H

/*
 * Packet-clock plausibility (doc/records.md, "Implausible times"): a packet
 * is bad-time when its time is outside 1970..2554, or (with a gap) later
 * than this host's clock at start plus the gap, earlier than the window of
 * the run's reference time (the anchor) by more than the gap, or later
 * than the newest plausible time by more than the gap.
 *
 * The anchor is the median of the first packets' plausible times: the
 * replay source sets it from the first frames of its file, RX cores of
 * other packet-clock ports from their first burst; the first to set it wins
 * (a compare-and-swap), every thread reads it with an acquire load.
 *
 * Threads: create/free on the main thread; the rest on any thread, lock-free
 * (RX cores call dpf_timecheck_verdict() per packet on packet-clock ports).
 */

#include <stdint.h>

#include "dpf_window_plan.h"

/* A time that is no time: outside 1970..2554. */
#define DPF_TIME_INVALID UINT64_MAX

enum dpf_time_verdict {
	DPF_TIME_OK = 0,
	DPF_TIME_UNREPRESENTABLE, /* outside 1970-01-01 .. 2554-07-21 */
	DPF_TIME_AHEAD_OF_CLOCK,  /* later than this host's clock at start + gap */
	DPF_TIME_BEFORE_FIRST,	  /* before the window of the anchor by more than the gap */
	DPF_TIME_AFTER_NEWEST,	  /* later than the newest plausible time + gap */
};

struct dpf_timecheck_params {
	uint64_t max_gap_sec; /* --max-time-gap; 0: only unrepresentable times are bad */
	uint64_t now_ns;      /* this host's clock at start (read once: the verdict must not
			       * change while a capture is replayed) */
	const struct dpf_window_plan *plan;
};

struct dpf_timecheck;

/** @return NULL + rte_errno (ENOMEM). Needs EAL. */
struct dpf_timecheck *dpf_timecheck_create(const struct dpf_timecheck_params *p);

/** NULL-safe. */
void dpf_timecheck_free(struct dpf_timecheck *tc);

/**
 * The verdict on time t given the anchor (0: not known yet) and the newest
 * plausible time so far (0: none).
 */
enum dpf_time_verdict dpf_timecheck_verdict(const struct dpf_timecheck *tc, uint64_t t,
					    uint64_t anchor, uint64_t newest);

/** The anchor, 0 until known (acquire). */
uint64_t dpf_timecheck_anchor(const struct dpf_timecheck *tc);

/** Set the anchor unless it is known already (the first caller wins). */
void dpf_timecheck_offer_anchor(struct dpf_timecheck *tc, uint64_t t);

/** The gap in seconds (for messages). */
uint64_t dpf_timecheck_gap_sec(const struct dpf_timecheck *tc);

/** Median of t[0..n) (n > 0); reorders t. */
uint64_t dpf_time_median(uint64_t *t, unsigned int n);

/** "not a time between ...", or "... by more than" (the caller adds the gap). */
const char *dpf_time_verdict_text(enum dpf_time_verdict v);

#endif /* DPFLOW_TIMECHECK_H */
