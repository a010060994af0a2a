/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The monitor engine: every packet is counted in its flow (with its ACL
 * verdict) and freed; nothing is sent. The post-NAT view is not computed
 * per packet: the pipeline computes it once per record.
 */
#include "burst.h"

static void
monitor_flush(struct dpf_lcore *lc, uint16_t port, struct burst *b)
{
	uint32_t i;

	if (b->n == 0)
		return;
	rx_classify(lc, b);
	for (i = 0; i < b->n; i++)
		lc->cnt.acl_rejected += b->action[i] == DPF_ACTION_REJECT;
	rx_record(lc, b, false);
	/* The whole burst at once: a third of the cost of freeing one by one
	 * (bench_datapath). */
	rte_pktmbuf_free_bulk(b->m, b->n);
	b->n = 0;
}

DPF_ENGINE_DEFINE(monitor, false, monitor_flush, NULL);
