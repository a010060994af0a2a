/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wall clock for RX cores: the TSC, converted to Unix time with a
 * multiply and a shift, the conversion kept on CLOCK_REALTIME by lib/clock
 * (dpf_clock.h, doc/operations.md "How the clock is kept true").
 *
 * The run loop (main thread, or its own thread with the prompt) reads the
 * three clocks every SAMPLE_PERIOD_NS and feeds lib/clock; each conversion
 * it returns is published under a sequence counter, which RX cores read
 * without a lock once per burst.
 */
/* rte_seqcount is experimental in DPDK 22.11: a single writer publishing
 * a few words to lock-free readers is exactly what it is for. */
#define ALLOW_EXPERIMENTAL_API

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_seqcount.h>

#include "clock.h"
#include "dpf_clock.h"
#include "log.h"
#include "dpf_util.h"

#define SAMPLE_PERIOD_NS 100000000ull /* 100 ms */
#define READS_PER_SAMPLE 8
/* The first measured rate needs a baseline this long (read jitter ~50 ns). */
#define MIN_CALIBRATION_NS 2000000ull

/* Read by every RX core once per burst: alone on its cache line. */
struct wall_pub {
	rte_seqcount_t seq;
	struct dpf_clock_conv conv;
} __rte_cache_aligned;

struct dpf_wall {
	struct wall_pub pub;
	/* The run loop's: the discipline, and when to sample next. Readers of
	 * the counters (prompt, telemetry, exit summary) take the mutex. */
	pthread_mutex_t lock;
	struct dpf_clock_disc *disc;
	uint64_t tsc_hz_eal;
	uint64_t tsc_hz; /* measured (EAL's until calibrated) */
	uint64_t next_sample_tsc;
	uint64_t first_mono_ns;
	uint64_t start_ns; /* Unix time when the clock started */
};

static uint64_t
ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The narrowest of a few TSC brackets around reads of both clocks: a
 * bracket an interrupt or a preemption widened is not the one kept. */
static void
read_clocks(struct dpf_clock_sample *s)
{
	unsigned int i;

	s->tsc_width = UINT64_MAX;
	for (i = 0; i < READS_PER_SAMPLE; i++) {
		uint64_t t0 = rte_rdtsc_precise();
		uint64_t real = ts_ns(CLOCK_REALTIME);
		uint64_t mono = ts_ns(CLOCK_MONOTONIC);
		uint64_t t1 = rte_rdtsc_precise();

		if (t1 - t0 < s->tsc_width) {
			s->tsc_width = t1 - t0;
			s->tsc = t0 + (t1 - t0) / 2;
			s->real_ns = real;
			s->mono_ns = mono;
		}
	}
}

static void
publish(struct dpf_wall *w, const struct dpf_clock_conv *c)
{
	rte_seqcount_write_begin(&w->pub.seq);
	w->pub.conv = *c;
	rte_seqcount_write_end(&w->pub.seq);
}

struct dpf_wall *
dpf_wall_create(void)
{
	struct dpf_clock_params p = {.tsc_hz_hint = rte_get_tsc_hz()};
	struct dpf_clock_conv c;
	struct dpf_clock_sample s;
	struct dpf_wall *w;

	w = rte_zmalloc("dpf_wall", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (w == NULL)
		return dpf_null_errno(ENOMEM);
	pthread_mutex_init(&w->lock, NULL);
	rte_seqcount_init(&w->pub.seq);
	w->tsc_hz_eal = p.tsc_hz_hint;
	w->tsc_hz = p.tsc_hz_hint;
	read_clocks(&s);
	w->first_mono_ns = s.mono_ns;
	w->disc = dpf_clock_create(&p, &s);
	if (w->disc == NULL) {
		/* Only a zero rate from EAL or no memory: keep EAL's rate. */
		DPF_LOG(WARNING, dataplane, "clock discipline unavailable: the wall clock uses EAL's "
				"TSC rate uncorrected\n");
		c.base_tsc = s.tsc;
		c.base_ns = s.real_ns;
		c.mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / p.tsc_hz_hint);
		publish(w, &c);
		w->start_ns = dpf_wall_ns(w);
		return w;
	}
	dpf_clock_conv_get(w->disc, &c);
	publish(w, &c);
	w->next_sample_tsc = s.tsc;
	w->start_ns = dpf_wall_ns(w);
	return w;
}

/* One sample; the caller holds w->lock. */
static void
sample_locked(struct dpf_wall *w)
{
	struct dpf_clock_sample s;
	struct dpf_clock_conv c;
	struct dpf_clock_stats st;
	enum dpf_clock_action a;
	bool was_holding;

	read_clocks(&s);
	dpf_clock_stats_get(w->disc, &st);
	was_holding = st.holding;
	a = dpf_clock_update(w->disc, &s, &c);
	if (a != DPF_CLOCK_REJECTED)
		publish(w, &c);
	/* An operator wants to know when realtime jumped (NTP, date -s). */
	if (a == DPF_CLOCK_STEP || (a == DPF_CLOCK_HOLD && !was_holding)) {
		dpf_clock_stats_get(w->disc, &st);
		DPF_LOG(NOTICE, dataplane,
			"clock: realtime is %+.3f ms from the wall clock: %s (tsc %" PRIu64
			", bracket %" PRIu64 " ticks, monotonic %" PRIu64 ", realtime %" PRIu64
			")\n",
			-(double)st.last_step_ns / 1e6,
			a == DPF_CLOCK_STEP ? "stepped forward to it"
					    : "slowing the wall clock until it catches up",
			s.tsc, s.tsc_width, s.mono_ns, s.real_ns);
	}
	w->next_sample_tsc = s.tsc + SAMPLE_PERIOD_NS * w->tsc_hz_eal / 1000000000ull;
}

void
dpf_wall_calibrate(struct dpf_wall *w)
{
	struct dpf_clock_sample s;
	struct dpf_clock_conv c;
	struct dpf_clock_stats st;
	unsigned int tries;

	if (w->disc == NULL)
		return;
	/* Start-up usually took longer than this already: no wait then. */
	while (ts_ns(CLOCK_MONOTONIC) - w->first_mono_ns < MIN_CALIBRATION_NS)
		;
	/* No RX core runs yet: the conversion may jump to realtime, however
	 * far EAL's rate took it during a slow start-up. */
	pthread_mutex_lock(&w->lock);
	for (tries = 0; tries < 16; tries++) {
		read_clocks(&s);
		if (dpf_clock_calibrate(w->disc, &s, &c) == 0) {
			publish(w, &c);
			break;
		}
	}
	w->next_sample_tsc = s.tsc + SAMPLE_PERIOD_NS * w->tsc_hz_eal / 1000000000ull;
	dpf_clock_stats_get(w->disc, &st);
	pthread_mutex_unlock(&w->lock);
	__atomic_store_n(&w->tsc_hz, st.tsc_hz, __ATOMIC_RELAXED);
}

void
dpf_wall_poll(struct dpf_wall *w)
{
	if (w->disc == NULL || rte_rdtsc() < w->next_sample_tsc)
		return;
	pthread_mutex_lock(&w->lock);
	sample_locked(w);
	pthread_mutex_unlock(&w->lock);
}

uint64_t
dpf_wall_ns(const struct dpf_wall *w)
{
	struct dpf_clock_conv c;
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(&w->pub.seq);
		c = w->pub.conv;
	} while (rte_seqcount_read_retry(&w->pub.seq, sn));
	return dpf_clock_ns(&c, rte_rdtsc());
}

uint64_t
dpf_wall_start_ns(const struct dpf_wall *w)
{
	return w->start_ns;
}

uint64_t
dpf_wall_tsc_hz(const struct dpf_wall *w)
{
	return __atomic_load_n(&w->tsc_hz, __ATOMIC_RELAXED);
}

void
dpf_wall_stats_get(struct dpf_wall *w, struct dpf_wall_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->tsc_hz_eal = w->tsc_hz_eal;
	if (w->disc == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	dpf_clock_stats_get(w->disc, &out->disc);
	pthread_mutex_unlock(&w->lock);
	out->disciplined = true;
}

void
dpf_wall_free(struct dpf_wall *w)
{
	if (w == NULL)
		return;
	dpf_clock_free(w->disc);
	pthread_mutex_destroy(&w->lock);
	rte_free(w);
}
