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

static void
monitor_burst(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts,
	      uint16_t n)
{
	rx_burst(lc, ref, pkts, n, false, monitor_flush, NULL);
}

const struct dpf_engine dpf_engine_monitor = {
	.name = "monitor",
	.burst = monitor_burst,
};
