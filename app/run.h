/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_RUN_H
#define DPFLOW_RUN_H

/*
 * The run flags: how the run goes, read by every thread that must react.
 *
 * Cross-thread fields follow one idiom in dpflow (doc/architecture.md,
 * "Threads and ownership"):
 *   - a counter has one writer, the thread that owns it, which updates it
 *     with plain arithmetic; every other thread reads it with a relaxed
 *     atomic load (dpf_counter_read());
 *   - a flag is stored and loaded with relaxed atomics: it publishes no data
 *     (the functions below);
 *   - a hand-off (a value that tells another thread that data is ready, like
 *     an RX core's done_upto or the writer's end) is a release store read
 *     with an acquire load.
 * No field is volatile.
 */

#include <stdbool.h>
#include <stdint.h>

/*
 * The flags, each X(name, what it means). Each has a getter dpf_run_<name>()
 * and a setter dpf_run_set_<name>(), both relaxed: a flag publishes no data.
 */
#define DPF_RUN_FLAGS(X)                                                                           \
	/* Signal, quit, idle exit, a failed pipeline: stop reading, drain the                     \
	 * queues into records, flush every window. Set by any thread and by the                   \
	 * signal handler (lock-free atomics are async-signal-safe). */                            \
	X(stopping)                                                                                \
	/* CLI start/stop: RX cores poll their queues. */                                          \
	X(polling)                                                                                 \
	/* The writer lost records or cannot write: nothing waits for it any more. */              \
	X(output_failed)                                                                           \
	/* SIGHUP: the writer publishes the open files and clears it. */                           \
	X(rotate)

struct dpf_run {
#define DPF_RUN_FIELD(name) bool name;
	DPF_RUN_FLAGS(DPF_RUN_FIELD)
#undef DPF_RUN_FIELD
	/* CLOCK_MONOTONIC when the first stop signal came, 0: none. */
	uint64_t stop_mono_ns;
};

static inline uint64_t
dpf_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * The field of a counter list's row X(field, ...), whatever the list's other
 * columns: struct x_counters { X_COUNTERS(DPF_COUNTER_FIELD) };
 */
#define DPF_COUNTER_FIELD(field, ...) uint64_t field;

#define DPF_RUN_ACCESSORS(name)                                                                    \
	static inline bool dpf_run_##name(const struct dpf_run *r)                                 \
	{                                                                                          \
		return __atomic_load_n(&r->name, __ATOMIC_RELAXED);                                \
	}                                                                                          \
	static inline void dpf_run_set_##name(struct dpf_run *r, bool on)                          \
	{                                                                                          \
		__atomic_store_n(&r->name, on, __ATOMIC_RELAXED);                                  \
	}
DPF_RUN_FLAGS(DPF_RUN_ACCESSORS)
#undef DPF_RUN_ACCESSORS

#endif /* DPFLOW_RUN_H */
