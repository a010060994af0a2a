/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_WINDOW_PLAN_H
#define DPF_WINDOW_PLAN_H

/**
 * @file
 * The window plan: which capture window a time belongs to.
 *
 * Windows are aligned to multiples of their length in Unix time and named by
 * their start (ns); lengths are whole seconds, so every window starts on a
 * whole second. A length change (dpf_window_plan_set_len()) takes effect at
 * a boundary: the first window of the new length starts there and ends at
 * the next multiple of the new length, after which windows are aligned
 * again.
 *
 * Thread safety: one writer at a time calls dpf_window_plan_set_len() (the
 * control thread); any thread reads the plan at any time without a lock
 * (four values under a sequence counter). Readers on a fast path read it
 * only when a time leaves the window they know (RX cores: window crossings).
 * Like every dpflow library it reads no clock: times are parameters.
 */

#include <stdint.h>

struct dpf_window_plan;

/**
 * @param len_sec  window length, 1 .. 86400 seconds
 * @return NULL with rte_errno = EINVAL or ENOMEM. Needs EAL.
 */
struct dpf_window_plan *dpf_window_plan_create(uint32_t len_sec);

/** NULL-safe. */
void dpf_window_plan_free(struct dpf_window_plan *p);

/** The window [*start_ns, *end_ns) that contains t_ns. */
void dpf_window_plan_bounds(const struct dpf_window_plan *p, uint64_t t_ns, uint64_t *start_ns,
			    uint64_t *end_ns);

/** The start of the window that contains t_ns. */
uint64_t dpf_window_plan_start(const struct dpf_window_plan *p, uint64_t t_ns);

/** The length of the newest windows (after a pending change: the new one). */
uint32_t dpf_window_plan_len_sec(const struct dpf_window_plan *p);

/**
 * Switch to len_sec at the first boundary after now_ns, or the one after it
 * when the first is closer than margin_ns (so that no reader crosses it
 * while the plan changes). A change still pending is replaced.
 * @param len_sec  1 .. 86400 (the caller checks its own limits)
 * @return the time the new length takes effect (a window start, ns)
 */
uint64_t dpf_window_plan_set_len(struct dpf_window_plan *p, uint32_t len_sec, uint64_t now_ns,
				 uint64_t margin_ns);

/**
 * Windows in [a, b), both window starts under the current plan, a < b
 * (without walking them one by one: a gap of years costs a few steps).
 */
uint64_t dpf_window_plan_count(const struct dpf_window_plan *p, uint64_t a, uint64_t b);

#endif /* DPF_WINDOW_PLAN_H */
