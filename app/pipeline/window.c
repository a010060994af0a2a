/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The window plan: which capture window a time belongs to. Windows are
 * aligned to multiples of their length in Unix time and identified by their
 * start (ns). `set window SEC` changes the length at the next boundary: the
 * first window of the new length starts there and ends at the next multiple
 * of the new length, after which windows are aligned again.
 *
 * Read on the RX slow path (window crossings) and by the pipeline; written by
 * the control thread. A sequence counter makes the four values consistent
 * without a lock.
 */
#include <stdint.h>

#include <rte_pause.h>

#include "dpflow.h"

struct plan {
	uint64_t base_ns;   /* no window of len0 starts before this */
	uint64_t len0_ns;   /* before switch_ns */
	uint64_t switch_ns; /* UINT64_MAX: no change pending */
	uint64_t len1_ns;   /* from switch_ns */
};

static struct {
	uint32_t seq;
	struct plan p;
} wp;

void
dpf_window_init(uint64_t len_sec)
{
	wp.p.base_ns = 0;
	wp.p.len0_ns = len_sec * 1000000000ull;
	wp.p.switch_ns = UINT64_MAX;
	wp.p.len1_ns = wp.p.len0_ns;
}

static void
plan_read(struct plan *p)
{
	uint32_t s1, s2;

	do {
		s1 = __atomic_load_n(&wp.seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		p->base_ns = __atomic_load_n(&wp.p.base_ns, __ATOMIC_RELAXED);
		p->len0_ns = __atomic_load_n(&wp.p.len0_ns, __ATOMIC_RELAXED);
		p->switch_ns = __atomic_load_n(&wp.p.switch_ns, __ATOMIC_RELAXED);
		p->len1_ns = __atomic_load_n(&wp.p.len1_ns, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&wp.seq, __ATOMIC_RELAXED);
	} while ((s1 & 1) || s1 != s2);
}

static void
bounds(const struct plan *p, uint64_t t, uint64_t *start, uint64_t *end)
{
	uint64_t a;

	if (t < p->switch_ns) {
		a = t - t % p->len0_ns;
		*start = a < p->base_ns ? p->base_ns : a;
		*end = a + p->len0_ns;
		if (*end > p->switch_ns)
			*end = p->switch_ns;
		return;
	}
	a = t - t % p->len1_ns;
	*start = a < p->switch_ns ? p->switch_ns : a;
	*end = a + p->len1_ns;
}

void
dpf_window_bounds(uint64_t t_ns, uint64_t *start_ns, uint64_t *end_ns)
{
	struct plan p;

	plan_read(&p);
	bounds(&p, t_ns, start_ns, end_ns);
}

uint64_t
dpf_window_start(uint64_t t_ns)
{
	uint64_t s, e;

	dpf_window_bounds(t_ns, &s, &e);
	return s;
}

uint64_t
dpf_window_len_sec(void)
{
	struct plan p;

	plan_read(&p);
	return (p.switch_ns == UINT64_MAX ? p.len0_ns : p.len1_ns) / 1000000000ull;
}

/*
 * Switch to len_sec at the first boundary after now_ns, or the one after that
 * when the first is closer than `margin_ns` (an RX core crossing it while the
 * plan changes would disagree with the others). Returns the switch time.
 */
uint64_t
dpf_window_set_len(uint64_t len_sec, uint64_t now_ns, uint64_t margin_ns)
{
	struct plan p, n;
	uint64_t s, e;

	plan_read(&p);
	bounds(&p, now_ns, &s, &e);
	if (e - now_ns < margin_ns) {
		uint64_t s2;

		bounds(&p, e, &s2, &e);
	}
	if (p.switch_ns != UINT64_MAX && p.switch_ns <= now_ns) {
		/* The previous change is in effect: it becomes the base. */
		n.base_ns = p.switch_ns;
		n.len0_ns = p.len1_ns;
	} else {
		n.base_ns = p.base_ns;
		n.len0_ns = p.len0_ns;
	}
	n.switch_ns = e;
	n.len1_ns = len_sec * 1000000000ull;
	__atomic_store_n(&wp.seq, wp.seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&wp.p.base_ns, n.base_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp.p.len0_ns, n.len0_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp.p.switch_ns, n.switch_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp.p.len1_ns, n.len1_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp.seq, wp.seq + 1, __ATOMIC_RELEASE);
	return e;
}

uint64_t
dpf_window_count(uint64_t a, uint64_t b)
{
	struct plan p;
	uint64_t n = 0;

	plan_read(&p);
	while (a < b) {
		uint64_t s, e, len, lim, k;

		bounds(&p, a, &s, &e);
		n++;
		if (e >= b)
			break;
		/* The windows after [a, e) of the same length: aligned, the last
		 * one before a length change ends at the switch. */
		len = a < p.switch_ns ? p.len0_ns : p.len1_ns;
		lim = a < p.switch_ns && p.switch_ns < b ? p.switch_ns : b;
		k = lim > e ? (lim - e + len - 1) / len : 0;
		n += k;
		a = e + k * len;
		if (lim == p.switch_ns && a > lim)
			a = lim;
	}
	return n;
}

/* ------------------------------------------------------------ plausible times */

void
dpf_time_check_init(struct dpf_app *app)
{
	uint64_t gap = app->cfg.opt.max_time_gap;
	uint64_t now = dpf_wall_ns(app);

	/* Read once: the verdict must not change while a capture is replayed. */
	app->time_gap_ns = gap * 1000000000ull;
	app->time_hi_ns = DPF_TIME_INVALID - 1;
	if (gap != 0 && now < DPF_TIME_INVALID - 1 - app->time_gap_ns)
		app->time_hi_ns = now + app->time_gap_ns;
	app->time_anchor_ns = 0;
}

uint64_t
dpf_time_median(uint64_t *t, unsigned int n)
{
	unsigned int i, j;

	/* n is at most a few dozen: insertion sort. */
	for (i = 1; i < n; i++) {
		uint64_t v = t[i];

		for (j = i; j > 0 && t[j - 1] > v; j--)
			t[j] = t[j - 1];
		t[j] = v;
	}
	return t[n / 2];
}

enum dpf_time_verdict
dpf_time_check(const struct dpf_app *app, uint64_t t, uint64_t anchor, uint64_t newest)
{
	uint64_t gap = app->time_gap_ns;

	if (t == DPF_TIME_INVALID)
		return DPF_TIME_UNREPRESENTABLE;
	if (gap == 0)
		return DPF_TIME_OK;
	if (t > app->time_hi_ns)
		return DPF_TIME_AHEAD_OF_CLOCK;
	if (anchor != 0) {
		uint64_t first = dpf_window_start(anchor);

		if (first > gap && t < first - gap)
			return DPF_TIME_BEFORE_FIRST;
		if (anchor > newest)
			newest = anchor;
	}
	if (newest != 0 && t > newest && t - newest > gap)
		return DPF_TIME_AFTER_NEWEST;
	return DPF_TIME_OK;
}

const char *
dpf_time_verdict_text(enum dpf_time_verdict v)
{
	switch (v) {
	case DPF_TIME_OK:
		return "plausible";
	case DPF_TIME_UNREPRESENTABLE:
		return "not a time between 1970-01-01 and 2554-07-21";
	case DPF_TIME_AHEAD_OF_CLOCK:
		return "ahead of this host's clock by more than";
	case DPF_TIME_BEFORE_FIRST:
		return "before the capture's first window by more than";
	case DPF_TIME_AFTER_NEWEST:
		return "after the newest plausible time by more than";
	}
	return "?";
}
