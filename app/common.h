/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_COMMON_H
#define DPFLOW_COMMON_H

/*
 * Limits and small types every subsystem of the application shares. The
 * subsystems themselves are in app/<name>/, each with the header that is its
 * contract (doc/architecture.md, "The application").
 */

#include <stdint.h>
#include <time.h>

#define DPF_MAX_RX_CORES 64
#define DPF_MAX_PORTS 32
#define DPF_MAX_IFACES 256
#define DPF_BURST 32
/* A window start that is no window: "none yet", or "every window" (done_upto at the end). */
#define DPF_WINDOW_NONE UINT64_MAX
#define DPF_IFACE_NONE UINT16_MAX
#define DPF_PORT_NONE UINT16_MAX

#ifndef NS_PER_SEC
#define NS_PER_SEC UINT64_C(1000000000)
#endif

/* CLOCK_MONOTONIC: timeouts, retries and rates, never record times.
 * clock_gettime is async-signal-safe, so signal handlers may call it. */
static inline uint64_t
dpf_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
dpf_mono_ms(void)
{
	return dpf_mono_ns() / 1000000;
}

/* Which clock places packets in windows (--clock). */
enum dpf_clock {
	DPF_CLOCK_AUTO = 0, /* only before the ports are known: then packet or wall */
	DPF_CLOCK_PACKET,   /* the mbuf timestamp of capture-time sources */
	DPF_CLOCK_WALL,	    /* the TSC kept on CLOCK_REALTIME (dataplane/clock.h) */
};

#endif /* DPFLOW_COMMON_H */
