/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wall clock for RX cores: the TSC, calibrated once against the realtime
 * clock, so the fast path reads a cycle counter instead of making a call.
 */
#include <time.h>

#include <rte_cycles.h>

#include "dpflow.h"

static uint64_t ns_per_tsc_q32; /* (1e9 << 32) / tsc_hz */

void
dpf_clock_init(struct dpf_app *app)
{
	struct timespec ts;

	app->tsc_hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_REALTIME, &ts);
	app->tsc_base = rte_rdtsc();
	app->wall_base_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ns_per_tsc_q32 = (uint64_t)(((unsigned __int128)1000000000ull << 32) / app->tsc_hz);
}

uint64_t
dpf_wall_ns(const struct dpf_app *app)
{
	uint64_t d = rte_rdtsc() - app->tsc_base;

	return app->wall_base_ns + (uint64_t)(((unsigned __int128)d * ns_per_tsc_q32) >> 32);
}
