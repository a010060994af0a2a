/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_REPLAY_H
#define DPFLOW_REPLAY_H

/*
 * The replay source (--replay FILE; design.md section 4): reads a capture,
 * computes the symmetric Toeplitz hash in software exactly as a NIC would,
 * sets hash.rss, the RSS flag and the timestamp dynamic field, and feeds
 * the queues of a ring-backed port (ports.h) through a RETA. It never
 * drops: when a queue's ring is full it waits. It tells the RX cores and
 * the pipeline how far it got through a struct dpf_source (source.h).
 *
 * Threads: open, start, join and free on the main thread (free after the RX
 * cores stopped: their mbufs may point into the mapped file); the replay
 * thread does the rest; stats on any thread (relaxed loads).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "dpf_pkt.h"
#include "dpf_window_plan.h"
#include "run.h"
#include "source.h"
#include "timecheck.h"

/* An attached frame's mbuf holds only the attachment's shared info in its
 * own data room (struct rte_mbuf_ext_shared_info, 16 bytes). */
#define DPF_REPLAY_ATTACH_ROOM 64

struct dpf_replay_params {
	const char *path;
	uint16_t n_queues; /* --rxq: one ring per RX core */
	const struct dpf_window_plan *plan;
	struct dpf_timecheck *tc; /* bad-time, and the capture's anchor */
	struct dpf_run *run;	  /* a stop ends the reading */
	/* Tunnels opened (--decap): the software RSS hashes the packet inside them. */
	struct dpf_pkt_decap_cfg decap;
	/* Forward mode: RX cores may rewrite attached frames in place (NAT), so
	 * pages of the mapping are never given back while the replay runs. */
	bool frames_written;
};

/*
 * Counters: written by the replay thread, read with relaxed loads.
 * X(field, name, what): the summary shows name, metrics the field's name.
 */
#define DPF_REPLAY_STATS(X)                                                                        \
	X(read, "read", "packets read from the --replay capture")                                  \
	X(enqueued, "enqueued", "replayed packets given to the RX cores")                          \
	X(late, "late", "replayed packets of a window already closed")                             \
	X(bad_time, "bad-time", "replayed packets with an implausible time")                       \
	X(ring_full_waits, "ring-full-waits", "waits for room in the RX cores' rings")

struct dpf_replay_stats {
	DPF_REPLAY_STATS(DPF_COUNTER_FIELD)
};

struct dpf_replay;

/**
 * Open the capture (map a classic pcap, else libpcap) and create the rings.
 * @return NULL + rte_errno: EINVAL (an unusable file or link type, logged),
 *         ENOMEM, or a ring's error
 */
struct dpf_replay *dpf_replay_open(const struct dpf_replay_params *p);

/**
 * Frames are attached to their mbufs (a mapped classic pcap of Ethernet
 * frames), not copied: the port's mbufs need DPF_REPLAY_ATTACH_ROOM bytes
 * of data room only.
 */
bool dpf_replay_attaches(const struct dpf_replay *rp);

/** The rings the ring-backed port is made of ([n_queues]). */
struct rte_ring **dpf_replay_rings(struct dpf_replay *rp);

/** What the RX cores and the pipeline read. */
struct dpf_source *dpf_replay_source(struct dpf_replay *rp);

/**
 * Start the replay thread.
 * @param pool       the replay port's mbuf pool
 * @param port       the replay port's id (stamped on every mbuf)
 * @param ts_offset  the mbuf timestamp field, ts_flag its flag
 * @param frame_room the bytes of a frame a planned mbuf would hold: an
 *                   attached frame longer than an mbuf can point at (64 KiB)
 *                   is cut there, as a copy into such an mbuf would be
 * @return 0, or -errno (logged); then the source is marked done
 */
int dpf_replay_start(struct dpf_replay *rp, struct rte_mempool *pool, uint16_t port, int ts_offset,
		     uint64_t ts_flag, uint32_t frame_room);

/** Wait for the replay thread (it ends at the end of the file or at a stop). */
void dpf_replay_join(struct dpf_replay *rp);

/** The file could not be read to its end. */
bool dpf_replay_failed(const struct dpf_replay *rp);

void dpf_replay_stats_get(const struct dpf_replay *rp, struct dpf_replay_stats *st);

/** NULL-safe; after join and after the RX cores stopped. */
void dpf_replay_free(struct dpf_replay *rp);

#endif /* DPFLOW_REPLAY_H */
