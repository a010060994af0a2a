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
