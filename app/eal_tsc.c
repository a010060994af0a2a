/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL's TSC estimate, shortened from 100 ms to 10 ms.
 *
 * rte_eal_init() needs the TSC rate. On CPUs that do not report it (AMD,
 * most VMs: no CPUID leaf 0x15, no Intel platform-info MSR) DPDK 22.11
 * measures it: CLOCK_MONOTONIC_RAW and the TSC around a 100 ms nanosleep(),
 * rounded to 10 MHz (lib/eal/linux/eal_timer.c, get_tsc_freq()). That sleep
 * was 40% of the start-to-exit time of a small replay (doc/performance.md,
 * "Start to exit"), and there is no EAL option to skip it.
 *
 * dpflow does not depend on that estimate's precision: the wall clock
 * measures the TSC against CLOCK_REALTIME itself (app/dataplane/clock.c,
 * lib/clock) and uses EAL's rate only until then. So this executable
 * defines nanosleep(): the dynamic linker binds librte_eal's call to it
 * (symbols of the executable come first), and exactly that call — a 100 ms
 * request made while rte_get_tsc_hz() is still 0, i.e. inside EAL's
 * measurement — sleeps 10 ms. A 10 ms bracket read with clock_gettime()
 * still gives the rate to about 0.01% before the 10 MHz rounding (the
 * rounding dominates either way: the estimate is 2.60 GHz for a 2.596 GHz
 * TSC). Every other call sleeps as asked. Linked into the executable only
 * (app/meson.build), never into the libraries or the tests.
 */
#include <errno.h>
#include <time.h>

#include <rte_cycles.h>

#define EAL_TSC_SLEEP_NS 100000000L /* get_tsc_freq(): NS_PER_SEC / 10 */
#define SHORT_TSC_SLEEP_NS 10000000L

/* The prototype is <time.h>'s: this is the C library's function, not a new one. */
int
nanosleep(const struct timespec *req, struct timespec *rem)
{
	static const struct timespec shorter = {.tv_sec = 0, .tv_nsec = SHORT_TSC_SLEEP_NS};
	int rc;

	if (req != NULL && req->tv_sec == 0 && req->tv_nsec == EAL_TSC_SLEEP_NS &&
	    rte_get_tsc_hz() == 0)
		req = &shorter;
	/* What glibc's nanosleep() does, with its return convention. */
	rc = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}
