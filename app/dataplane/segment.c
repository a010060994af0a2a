/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segments of a flow inside one window, for connection records.
 *
 * A window's flow record sums a direction's packets, so a connection that
 * ends and a new one on the same 5-tuple (port reuse), or an idle gap longer
 * than --conn-timeout, inside one window would be one connection to the
 * connection pass, which sees only records. The RX core, which sees the
 * packets in order, cuts the flow's entry where a connection may restart:
 * - a TCP SYN without ACK after packets that were not all bare SYNs (a
 *   retransmitted SYN is not cut unless the reverse direction sent a FIN or
 *   RST in this window: a refused connection retried);
 * - a packet more than the connection timeout after the flow's last one;
 * and marks the reverse direction's entries (either action) to be cut at
 * their next packet, so that every packet of the tuple before the restart
 * point is in an earlier segment than every packet after it. Which cut is
 * a new connection is decided by lib/conn, with both directions and the
 * state of earlier windows (doc/records.md, "Connection records").
 *
 * Only the RX lcore, on its open table; the check that calls this costs a
 * compare or two on every packet (dpf_lcore_conn_restart()), the cut an
 * insert and two look-ups, once per restart.
 */
#include "lcore.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static void
reverse_key(struct dpf_flow_key *r, const struct dpf_flow_key *k)
{
	*r = *k;
	memcpy(r->src_addr, k->dst_addr, sizeof(r->src_addr));
	memcpy(r->dst_addr, k->src_addr, sizeof(r->dst_addr));
	r->src_port = k->dst_port;
	r->dst_port = k->src_port;
}

/* The reverse direction's entries (accepted, rejected) in the open table. */
static unsigned int
reverse_entries(struct dpf_ft *ft, const struct dpf_flow_key *key, struct dpf_flow_counters *out[2])
{
	struct dpf_flow_key r;
	unsigned int n = 0;
	uint8_t a;

	reverse_key(&r, key);
	for (a = DPF_ACTION_ACCEPT; a <= DPF_ACTION_REJECT; a++) {
		r.action = a;
		out[n] = dpf_ft_lookup(ft, &r);
		n += out[n] != NULL && out[n]->packets != 0;
	}
	return n;
}

void
dpf_lcore_conn_segment(struct dpf_lcore *lc, const struct dpf_flow_key *key,
		       struct dpf_flow_counters *c, uint64_t t_ns, uint8_t tcp_flags)
{
	struct dpf_ft *ft = lc->active->ft;
	struct dpf_flow_counters *rev[2];
	unsigned int n_rev = 0, i;
	uint8_t why = 0;

	if (key->proto != 6 && key->proto != 17)
		return; /* no connection records: nothing to cut */
	if (t_ns > c->last_ns + lc->conn_gap_ns)
		why |= DPF_SEG_GAP;
	if ((tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		bool only_syns = (c->tcp_flags_all & (TCP_ACK | TCP_FIN | TCP_RST)) == 0;

		n_rev = reverse_entries(ft, key, rev);
		for (i = 0; i < n_rev && only_syns; i++)
			only_syns = (rev[i]->tcp_flags_all & (TCP_FIN | TCP_RST)) == 0;
		if (!only_syns)
			why |= DPF_SEG_SYN;
	}
	if (why == 0 && !(c->seg_flags & DPF_SEG_CUT))
		return;
	if (dpf_ft_segment(ft, key, c, why) < 0) {
		lc->cnt.conn_segments_lost++;
		c->seg_flags &= (uint8_t)~DPF_SEG_CUT;
		return;
	}
	lc->cnt.conn_segments++;
	if (why == 0)
		return;
	if (!(tcp_flags & TCP_SYN) || (tcp_flags & TCP_ACK))
		n_rev = reverse_entries(ft, key, rev);
	for (i = 0; i < n_rev; i++)
		rev[i]->seg_flags |= DPF_SEG_CUT;
}
