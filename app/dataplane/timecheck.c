/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet-clock plausibility (timecheck.h). */
#include <errno.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "common.h"
#include "timecheck.h"
#include "dpf_util.h"

struct dpf_timecheck {
	uint64_t gap_ns;
	uint64_t hi_ns;	    /* clock at start + gap */
	uint64_t anchor_ns; /* 0 until known (CAS, acquire) */
	uint64_t gap_sec;
	const struct dpf_window_plan *plan;
} __rte_cache_aligned;

struct dpf_timecheck *
dpf_timecheck_create(const struct dpf_timecheck_params *p)
{
	struct dpf_timecheck *tc = rte_zmalloc("dpf_timecheck", sizeof(*tc), RTE_CACHE_LINE_SIZE);

	if (tc == NULL)
		return dpf_null_errno(ENOMEM);
	tc->plan = p->plan;
	tc->gap_sec = p->max_gap_sec;
	tc->gap_ns = p->max_gap_sec * NS_PER_SEC;
	tc->hi_ns = DPF_TIME_INVALID - 1;
	if (tc->gap_ns != 0 && p->now_ns < DPF_TIME_INVALID - 1 - tc->gap_ns)
		tc->hi_ns = p->now_ns + tc->gap_ns;
	return tc;
}

void
dpf_timecheck_free(struct dpf_timecheck *tc)
{
	rte_free(tc);
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
dpf_timecheck_verdict(const struct dpf_timecheck *tc, uint64_t t, uint64_t anchor, uint64_t newest)
{
	uint64_t gap = tc->gap_ns;

	if (t == DPF_TIME_INVALID)
		return DPF_TIME_UNREPRESENTABLE;
	if (gap == 0)
		return DPF_TIME_OK;
	if (t > tc->hi_ns)
		return DPF_TIME_AHEAD_OF_CLOCK;
	if (anchor != 0) {
		uint64_t first = dpf_window_plan_start(tc->plan, anchor);

		if (first > gap && t < first - gap)
			return DPF_TIME_BEFORE_FIRST;
		if (anchor > newest)
			newest = anchor;
	}
	if (newest != 0 && t > newest && t - newest > gap)
		return DPF_TIME_AFTER_NEWEST;
	return DPF_TIME_OK;
}

uint64_t
dpf_timecheck_anchor(const struct dpf_timecheck *tc)
{
	return __atomic_load_n(&tc->anchor_ns, __ATOMIC_ACQUIRE);
}

void
dpf_timecheck_offer_anchor(struct dpf_timecheck *tc, uint64_t t)
{
	uint64_t expected = 0;

	__atomic_compare_exchange_n(&tc->anchor_ns, &expected, t, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

uint64_t
dpf_timecheck_gap_sec(const struct dpf_timecheck *tc)
{
	return tc->gap_sec;
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
