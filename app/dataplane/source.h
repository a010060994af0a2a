/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_SOURCE_H
#define DPFLOW_SOURCE_H

/*
 * What a software packet source (the replay, ports/replay.h) tells the RX
 * cores and the pipeline, besides the packets themselves.
 *
 * After each chunk it stores the newest packet time enqueued (watermark,
 * release); an RX core loads it (acquire) before polling, so after an empty
 * poll every packet up to it has been taken and windows up to it may close.
 * At the end it stores done (release) after cut_window (relaxed): a stop
 * left packets of that window unread, so the pipeline marks it SKIPDATA.
 *
 * Threads: the source's thread writes; RX cores and the pipeline read.
 */

#include <stdbool.h>
#include <stdint.h>

struct dpf_source {
	uint64_t watermark_ns; /* newest packet time enqueued (release / acquire) */
	uint64_t cut_window;   /* DPF_WINDOW_NONE when the source was not cut */
	bool done;	       /* no packet follows (release / acquire) */
};

#endif /* DPFLOW_SOURCE_H */
