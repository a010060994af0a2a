/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clock discipline (dpf_clock.h says what each sample does). The arithmetic
 * of the rate runs in double: it happens once per sample, off the fast path,
 * and a double holds a TSC difference of hours with room to spare.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "dpf_clock.h"

#define DEFAULT_STEP_LIMIT_NS 1000000ull     /* 1 ms: the target error */
#define DEFAULT_SLEW_TIME_NS 200000000ull    /* 200 ms */
#define DEFAULT_RATE_WINDOW_NS 8000000000ull /* 8 s */
#define DEFAULT_MAX_READ_NS 50000ull	     /* 50 us */
/* A rate measured over less than this is mostly read jitter. */
#define MIN_BASELINE_NS 1000000ull
#define RING 16
#define Q32 4294967296.0

struct anchor {
	uint64_t tsc;
	uint64_t mono_ns;
};

struct dpf_clock_disc {
	struct dpf_clock_params p;
	struct dpf_clock_conv conv;
	double ns_per_tick; /* against CLOCK_MONOTONIC */
	/* Samples spaced rate_window / RING apart; the rate is measured from
	 * the oldest one to the newest sample. */
	struct anchor ring[RING];
	unsigned int ring_next;
	unsigned int ring_n;
	struct dpf_clock_sample last;
	struct dpf_clock_stats st;
};

static uint64_t
mult_of(double ns_per_tick)
{
	double m = ns_per_tick * Q32;

	return m <= 0 ? 0 : (uint64_t)llround(m);
}

static void
ring_push(struct dpf_clock_disc *c, const struct dpf_clock_sample *s)
{
	c->ring[c->ring_next].tsc = s->tsc;
	c->ring[c->ring_next].mono_ns = s->mono_ns;
	c->ring_next = (c->ring_next + 1) % RING;
	if (c->ring_n < RING)
		c->ring_n++;
}

static const struct anchor *
ring_oldest(const struct dpf_clock_disc *c)
{
	return &c->ring[(c->ring_next + RING - c->ring_n) % RING];
}

static const struct anchor *
ring_newest(const struct dpf_clock_disc *c)
{
	return &c->ring[(c->ring_next + RING - 1) % RING];
}

struct dpf_clock_disc *
dpf_clock_create(const struct dpf_clock_params *p, const struct dpf_clock_sample *first)
{
	struct dpf_clock_disc *c;

	if (p == NULL || first == NULL || p->tsc_hz_hint == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->p = *p;
	if (c->p.step_limit_ns == 0)
		c->p.step_limit_ns = DEFAULT_STEP_LIMIT_NS;
	if (c->p.slew_time_ns == 0)
		c->p.slew_time_ns = DEFAULT_SLEW_TIME_NS;
	if (c->p.rate_window_ns == 0)
		c->p.rate_window_ns = DEFAULT_RATE_WINDOW_NS;
	if (c->p.max_read_ns == 0)
		c->p.max_read_ns = DEFAULT_MAX_READ_NS;
	c->ns_per_tick = 1e9 / (double)p->tsc_hz_hint;
	c->conv.base_tsc = first->tsc;
	c->conv.base_ns = first->real_ns;
	c->conv.mult = mult_of(c->ns_per_tick);
	c->last = *first;
	ring_push(c, first);
	c->st.tsc_hz = p->tsc_hz_hint;
	c->st.samples = 1;
	return c;
}

void
dpf_clock_free(struct dpf_clock_disc *c)
{
	free(c);
}

/* The rate from the oldest anchor to s; unchanged over too short a baseline. */
static void
measure_rate(struct dpf_clock_disc *c, const struct dpf_clock_sample *s)
{
	const struct anchor *old = ring_oldest(c);
	uint64_t dmono = s->mono_ns - old->mono_ns;
	uint64_t dtsc = s->tsc - old->tsc;

	if (dmono >= MIN_BASELINE_NS && dtsc != 0) {
		c->ns_per_tick = (double)dmono / (double)dtsc;
		c->st.tsc_hz = (uint64_t)llround(1e9 / c->ns_per_tick);
	}
	if (s->mono_ns - ring_newest(c)->mono_ns >= c->p.rate_window_ns / RING)
		ring_push(c, s);
}

static bool
sample_usable(struct dpf_clock_disc *c, const struct dpf_clock_sample *s)
{
	/* A wide bracket: the reader was interrupted between the TSC and the
	 * clock reads, so the TSC does not say when the clocks were read. */
	if ((double)s->tsc_width * c->ns_per_tick > (double)c->p.max_read_ns ||
	    (int64_t)(s->tsc - c->last.tsc) <= 0 || s->mono_ns <= c->last.mono_ns) {
		c->st.rejected++;
		return false;
	}
	c->last = *s;
	c->st.samples++;
	measure_rate(c, s);
	return true;
}

int
dpf_clock_calibrate(struct dpf_clock_disc *c, const struct dpf_clock_sample *s,
		    struct dpf_clock_conv *out)
{
	if (!sample_usable(c, s))
		return -EINVAL;
	c->conv.base_tsc = s->tsc;
	c->conv.base_ns = s->real_ns;
	c->conv.mult = mult_of(c->ns_per_tick);
	c->st.error_ns = 0;
	c->st.adjustments++;
	*out = c->conv;
	return 0;
}

enum dpf_clock_action
dpf_clock_update(struct dpf_clock_disc *c, const struct dpf_clock_sample *s,
		 struct dpf_clock_conv *out)
{
	struct dpf_clock_conv n;
	enum dpf_clock_action act;
	uint64_t now;
	int64_t err;
	double corr;

	if (!sample_usable(c, s))
		return DPF_CLOCK_REJECTED;
	now = dpf_clock_ns(&c->conv, s->tsc);
	err = (int64_t)(now - s->real_ns);
	c->st.error_ns = err;
	n.base_tsc = s->tsc;
	n.base_ns = now;
	if (err < -(int64_t)c->p.step_limit_ns) {
		/* Behind by more than the limit: jump forward, never back. */
		n.base_ns = s->real_ns;
		n.mult = mult_of(c->ns_per_tick);
		c->st.steps++;
		c->st.last_step_ns = err;
		c->st.holding = false;
		act = DPF_CLOCK_STEP;
	} else {
		/* Work the error off over slew_time; ahead by more than that,
		 * stand still (a rate below zero would run time backwards). */
		corr = 1.0 - (double)err / (double)c->p.slew_time_ns;
		if (corr < 0)
			corr = 0;
		n.mult = mult_of(c->ns_per_tick * corr);
		if (err > (int64_t)c->p.step_limit_ns) {
			if (!c->st.holding) {
				c->st.holds++;
				c->st.last_step_ns = err;
			}
			c->st.holding = true;
			act = DPF_CLOCK_HOLD;
		} else {
			uint64_t abs_err = err < 0 ? (uint64_t)-err : (uint64_t)err;

			if (abs_err > c->st.error_max_ns)
				c->st.error_max_ns = abs_err;
			c->st.holding = false;
			act = DPF_CLOCK_SLEW;
		}
	}
	c->conv = n;
	c->st.adjustments++;
	*out = n;
	return act;
}

void
dpf_clock_conv_get(const struct dpf_clock_disc *c, struct dpf_clock_conv *out)
{
	*out = c->conv;
}

void
dpf_clock_stats_get(const struct dpf_clock_disc *c, struct dpf_clock_stats *out)
{
	*out = c->st;
}

const char *
dpf_clock_action_name(enum dpf_clock_action a)
{
	switch (a) {
	case DPF_CLOCK_REJECTED:
		return "rejected";
	case DPF_CLOCK_SLEW:
		return "slew";
	case DPF_CLOCK_STEP:
		return "step";
	case DPF_CLOCK_HOLD:
		return "hold";
	}
	return "unknown";
}
