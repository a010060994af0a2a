/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CLOCK_H
#define DPF_CLOCK_H

/**
 * @file
 * Clock discipline: keeps a cycle-counter (TSC) to wall-time conversion on
 * the realtime clock, from samples the caller takes. The library never reads
 * a clock: each sample is a (TSC, CLOCK_MONOTONIC, CLOCK_REALTIME) reading
 * given as a parameter, so the same code runs live and in simulations.
 *
 * The conversion is  ns = base_ns + ((tsc - base_tsc) * mult) >> 32 : one
 * multiply and one shift, cheap enough to run once per RX burst.
 *
 * How a sample changes it (doc/operations.md, "How the clock is kept true"):
 *
 * - Rate. mult follows the TSC rate measured against CLOCK_MONOTONIC over
 *   the last rate_window_ns of samples. MONOTONIC runs at the realtime
 *   clock's rate (NTP adjusts both) but never steps, so a realtime step
 *   does not disturb the measured rate.
 * - Error. error = conversion(sample tsc) - sample realtime.
 * - Slew. The new conversion starts where the old one is at the sample
 *   (continuous, no jump) and runs at the measured rate times
 *   (1 - error / slew_time_ns), so an error shrinks by the fraction
 *   sample period / slew_time_ns with each sample (a half at the
 *   application's 100 ms against 200 ms).
 * - Forward step. error < -step_limit_ns (realtime jumped ahead, NTP or
 *   `date -s`): the conversion jumps to realtime at once. Time only moves
 *   forward, so no window is reopened.
 * - Backward step. error > step_limit_ns (realtime jumped back): the same
 *   slew, with the rate factor floored at 0: ahead by slew_time_ns or more
 *   the clock stands still, then it slows less and less as realtime
 *   catches up. Time never goes backwards, so no packet lands in a window
 *   already closed. With the defaults and 100 ms samples the clock stands
 *   still for (step - 200 ms), then halves the error each sample: back
 *   within 1 ms about 0.9 s after a 300 ms step. Holding is reported
 *   while the error exceeds step_limit_ns.
 *
 * A sample late by more than slew_time_ns after a large correction lets
 * the correction overshoot; the next sample then steps forward (never
 * back). slew_time_ns should be at least twice the sample period.
 *
 * Samples whose TSC bracket is wider than max_read_ns (the reading thread
 * was preempted between its TSC reads) or that go backwards are rejected
 * and counted; they change nothing.
 *
 * Thread safety: not thread-safe; one thread owns a struct dpf_clock_disc and
 * publishes the conversions it returns (the application uses a seqlock).
 * dpf_clock_ns() is a pure function of its arguments.
 */

#include <stdbool.h>
#include <stdint.h>

/** A conversion from TSC to wall-clock nanoseconds. */
struct dpf_clock_conv {
	uint64_t base_tsc; /**< TSC at the anchor */
	uint64_t base_ns;  /**< wall time at the anchor, Unix ns */
	uint64_t mult;	   /**< ns per TSC tick, 32.32 fixed point; 0: standing still */
};

/**
 * Wall time of a TSC reading. A reading slightly before base_tsc (taken by
 * another core just before the conversion was published) gives a time
 * slightly before base_ns rather than wrapping.
 */
static inline uint64_t
dpf_clock_ns(const struct dpf_clock_conv *c, uint64_t tsc)
{
	int64_t d = (int64_t)(tsc - c->base_tsc);

	return c->base_ns + (uint64_t)(int64_t)(((__int128)d * (__int128)c->mult) >> 32);
}

/** One reading of the three clocks, taken as close together as possible. */
struct dpf_clock_sample {
	uint64_t tsc;	    /**< TSC at the clock reads (middle of the bracket) */
	uint64_t tsc_width; /**< TSC ticks between the reads before and after */
	uint64_t mono_ns;   /**< CLOCK_MONOTONIC */
	uint64_t real_ns;   /**< CLOCK_REALTIME, Unix ns */
};

/** Tuning; zero means the default given. */
struct dpf_clock_params {
	uint64_t tsc_hz_hint;	 /**< rate to assume until one is measured (required) */
	uint64_t step_limit_ns;	 /**< larger errors step forward or hold; 1 ms */
	uint64_t slew_time_ns;	 /**< an error is worked off over about this; 200 ms */
	uint64_t rate_window_ns; /**< the rate is measured over about this; 8 s */
	uint64_t max_read_ns;	 /**< wider sample brackets are rejected; 50 us */
};

/** What an update did. */
enum dpf_clock_action {
	DPF_CLOCK_REJECTED = 0, /**< sample ignored (wide bracket, not after the last) */
	DPF_CLOCK_SLEW,		/**< new conversion, continuous, rate corrected */
	DPF_CLOCK_STEP,		/**< jumped forward to realtime */
	DPF_CLOCK_HOLD,		/**< ahead by more than step_limit_ns: slowing or still */
};

/** Counters and the latest measurements. */
struct dpf_clock_stats {
	int64_t error_ns;      /**< conversion - realtime at the last sample */
	uint64_t error_max_ns; /**< max |error| while slewing (steps and holds aside) */
	uint64_t tsc_hz;       /**< measured TSC rate (the hint before a measurement) */
	uint64_t samples;      /**< accepted samples */
	uint64_t rejected;     /**< rejected samples */
	uint64_t adjustments;  /**< conversions computed (slews, steps, holds) */
	uint64_t steps;	       /**< forward steps */
	uint64_t holds;	       /**< holds begun (realtime stepped back) */
	int64_t last_step_ns;  /**< error that began the last step or hold */
	bool holding;	       /**< ahead by more than step_limit_ns now */
};

struct dpf_clock_disc;

/**
 * Start from a first sample: the conversion is anchored there at realtime,
 * with the hinted rate.
 * @return NULL + rte_errno: EINVAL (no hint, a zero-width window), ENOMEM
 */
struct dpf_clock_disc *dpf_clock_create(const struct dpf_clock_params *p,
					const struct dpf_clock_sample *first);

/** NULL-safe. */
void dpf_clock_free(struct dpf_clock_disc *c);

/**
 * Feed a sample; when the return is not DPF_CLOCK_REJECTED, *out is the new
 * conversion to publish (it equals the old one at the sample's TSC, but
 * after a forward step).
 */
enum dpf_clock_action dpf_clock_update(struct dpf_clock_disc *c, const struct dpf_clock_sample *s,
				       struct dpf_clock_conv *out);

/**
 * The end of start-up: measure the rate with a sample and anchor the
 * conversion at the sample's realtime, however far the hinted rate has
 * taken it (EAL's rate can be 0.2% off: 1 ms after half a second of a slow
 * start-up). The conversion jumps, either way: only for when nothing has
 * read it yet that must not see time go back. Counts no step.
 * @return 0 with *out the conversion to publish, or -EINVAL: a sample
 *         update() would reject (nothing changed)
 */
int dpf_clock_calibrate(struct dpf_clock_disc *c, const struct dpf_clock_sample *s,
			struct dpf_clock_conv *out);

/** The conversion in force. */
void dpf_clock_conv_get(const struct dpf_clock_disc *c, struct dpf_clock_conv *out);

/** Counters and measurements. */
void dpf_clock_stats_get(const struct dpf_clock_disc *c, struct dpf_clock_stats *out);

/** Name of an action ("slew", ...). */
const char *dpf_clock_action_name(enum dpf_clock_action a);

#endif /* DPF_CLOCK_H */
