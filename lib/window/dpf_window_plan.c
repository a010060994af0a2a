/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The window plan (dpf_window_plan.h): four numbers under a sequence
 * counter, written by one thread, read lock-free by any.
 */
#include <errno.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "dpf_window_plan.h"

#define NS_PER_SEC 1000000000ull
#define MAX_LEN_SEC 86400u

struct plan {
	uint64_t base_ns;   /* no window of len0 starts before this */
	uint64_t len0_ns;   /* before switch_ns */
	uint64_t switch_ns; /* UINT64_MAX: no change pending */
	uint64_t len1_ns;   /* from switch_ns */
};

struct dpf_window_plan {
	uint32_t seq; /* odd while the writer changes p */
	struct plan p;
} __rte_cache_aligned;

struct dpf_window_plan *
dpf_window_plan_create(uint32_t len_sec)
{
	struct dpf_window_plan *wp;

	if (len_sec == 0 || len_sec > MAX_LEN_SEC) {
		rte_errno = EINVAL;
		return NULL;
	}
	wp = rte_zmalloc("dpf_window_plan", sizeof(*wp), RTE_CACHE_LINE_SIZE);
	if (wp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	wp->p.base_ns = 0;
	wp->p.len0_ns = len_sec * NS_PER_SEC;
	wp->p.switch_ns = UINT64_MAX;
	wp->p.len1_ns = wp->p.len0_ns;
	return wp;
}

void
dpf_window_plan_free(struct dpf_window_plan *p)
{
	rte_free(p);
}

static void
plan_read(const struct dpf_window_plan *wp, struct plan *p)
{
	uint32_t s1, s2;

	do {
		s1 = __atomic_load_n(&wp->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		p->base_ns = __atomic_load_n(&wp->p.base_ns, __ATOMIC_RELAXED);
		p->len0_ns = __atomic_load_n(&wp->p.len0_ns, __ATOMIC_RELAXED);
		p->switch_ns = __atomic_load_n(&wp->p.switch_ns, __ATOMIC_RELAXED);
		p->len1_ns = __atomic_load_n(&wp->p.len1_ns, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&wp->seq, __ATOMIC_RELAXED);
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
dpf_window_plan_bounds(const struct dpf_window_plan *wp, uint64_t t_ns, uint64_t *start_ns,
		       uint64_t *end_ns)
{
	struct plan p;

	plan_read(wp, &p);
	bounds(&p, t_ns, start_ns, end_ns);
}

uint64_t
dpf_window_plan_start(const struct dpf_window_plan *wp, uint64_t t_ns)
{
	uint64_t s, e;

	dpf_window_plan_bounds(wp, t_ns, &s, &e);
	return s;
}

uint32_t
dpf_window_plan_len_sec(const struct dpf_window_plan *wp)
{
	struct plan p;

	plan_read(wp, &p);
	return (uint32_t)((p.switch_ns == UINT64_MAX ? p.len0_ns : p.len1_ns) / NS_PER_SEC);
}

uint64_t
dpf_window_plan_set_len(struct dpf_window_plan *wp, uint32_t len_sec, uint64_t now_ns,
			uint64_t margin_ns)
{
	struct plan p, n;
	uint64_t s, e;

	plan_read(wp, &p);
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
	n.len1_ns = (uint64_t)len_sec * NS_PER_SEC;
	__atomic_store_n(&wp->seq, wp->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&wp->p.base_ns, n.base_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp->p.len0_ns, n.len0_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp->p.switch_ns, n.switch_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp->p.len1_ns, n.len1_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&wp->seq, wp->seq + 1, __ATOMIC_RELEASE);
	return e;
}

uint64_t
dpf_window_plan_count(const struct dpf_window_plan *wp, uint64_t a, uint64_t b)
{
	struct plan p;
	uint64_t n = 0;

	plan_read(wp, &p);
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
