/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_PORTS_H
#define DPFLOW_PORTS_H

/*
 * The ports subsystem: every port EAL probed (NICs, net_pcap and
 * net_af_packet vdevs) and the replay source's ring-backed port, configured
 * from its driver profile (drivers.h, drivers-cfg/) masked by what the
 * device reports it can do; forward-mode port pairs; the machine's NUMA
 * report.
 *
 * Start-up is two steps so that configuration errors come before any port
 * note: dpf_ports_probe() lists the ports (the interface map is built from
 * that list), dpf_ports_start() configures and starts them.
 *
 * Threads: probe, start and free on the main thread; afterwards the port
 * table (dpf_ports_conf()) is read-only and read by any thread (RX cores
 * copy what they need at their creation); the show functions run on the
 * control thread.
 *
 * Errors are logged (log type dpflow.ports) and returned as -errno.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "common.h"
#include "config.h"

/* A configured port: read-only after dpf_ports_start(). */
struct dpf_port_conf {
	uint16_t n_rxq;	    /* RX queues configured */
	uint16_t reta_size; /* RSS redirection table entries (the replay's 128 without RSS) */
	uint16_t mtu;	    /* largest IP packet the port sends */
	bool multiseg;	    /* TX takes chained mbufs (IPv4 fragments) */
	uint16_t peer;	    /* forward mode: the port it forwards to; DPF_PORT_NONE */
};

struct dpf_drivers;

struct dpf_ports_params {
	const struct dpf_options *opt;
	struct dpf_drivers *drivers; /* driver profiles, read before EAL (main); the ports use it */
	struct rte_ring **replay_rings; /* the replay's queues, NULL without --replay */
	uint16_t n_replay_rings;
	/* The replay attaches frames to its mbufs (dpf_replay_attaches()): their
	 * own data room only holds the attachment's shared info. */
	bool replay_attaches;
};

struct dpf_ports;

/**
 * List the ports (the replay's ring-backed port first, created here).
 * @return NULL + rte_errno: ENODEV (no port), E2BIG (too many), or the
 *         replay port's error (logged)
 */
struct dpf_ports *dpf_ports_probe(const struct dpf_ports_params *p);

/**
 * Pair the ports (--forward), select their driver profiles, check their
 * link layers, settle the clock (--clock), configure and start every port,
 * and lower the RX cores (--rxq) when no port has that many queues.
 * @return 0, or -errno (logged)
 */
int dpf_ports_start(struct dpf_ports *ps);

/* What dpf_ports_probe() and dpf_ports_start() settled for every port at
 * once (per-port settings: dpf_ports_conf()). Read-only after
 * dpf_ports_start(); any thread may read it. */
struct dpf_ports_settled {
	enum dpf_clock clock;		   /* DPF_CLOCK_PACKET or DPF_CLOCK_WALL */
	uint16_t n_cores;		   /* RX cores that have a queue (--rxq, lowered) */
	bool forward;			   /* --forward was given (ports are paired) */
	bool nat_shared;		   /* forward: masquerade sessions shared by all RX cores */
	struct rte_mempool *frag_direct;   /* forward: mbufs for IPv4 fragments */
	struct rte_mempool *frag_indirect; /* (rte_ip_frag) */
	int ts_offset;			   /* mbuf timestamp field (packet clock), -1: none */
	uint64_t ts_flag;		   /* and its flag */
	int replay_port;		   /* the replay source's port id, -1 without --replay */
	uint32_t replay_frame_room;	   /* bytes a frame could fill in a planned mbuf */
	uint16_t n_ports;		   /* probed ports, in EAL order */
	uint16_t ids[DPF_MAX_PORTS];	   /* their port ids */
};

/** Valid from dpf_ports_probe() (replay_port, n_ports, ids) and dpf_ports_start() (the rest). */
const struct dpf_ports_settled *dpf_ports_settled(const struct dpf_ports *ps);

/** Stop and close every port; forget the driver profiles. NULL-safe. */
void dpf_ports_free(struct dpf_ports *ps);

const struct dpf_port_conf *dpf_ports_conf(const struct dpf_ports *ps, uint16_t port);

/** The replay source's mbuf pool (the replay thread allocates from it). */
struct rte_mempool *dpf_ports_replay_pool(const struct dpf_ports *ps);

/** The port's driver does not count what its receive ring dropped. */
bool dpf_ports_drops_unreported(const struct dpf_ports *ps, uint16_t port);

/** show port info: device, queues, RSS, link, forward peer. */
void dpf_ports_show_info(const struct dpf_ports *ps, FILE *f, uint16_t port);

/** show port info, continued: the driver profile's settings, requested -> configured. */
void dpf_ports_show_profile(const struct dpf_ports *ps, FILE *f, uint16_t port);

/** show config: the driver profiles in use. */
void dpf_ports_show_config(const struct dpf_ports *ps, FILE *f);

/* An RX lcore polling a port, for the NUMA report. */
struct dpf_numa_poll {
	unsigned int lcore;
	uint16_t port;
};

/**
 * The machine's NUMA nodes, each port's node, and a warning for each RX
 * lcore that polls a port attached to another node (logged).
 */
void dpf_ports_numa_report(const struct dpf_ports *ps, const struct dpf_numa_poll *polls,
			   unsigned int n_polls);

#endif /* DPFLOW_PORTS_H */
