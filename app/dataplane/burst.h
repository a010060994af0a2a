/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_BURST_H
#define DPFLOW_BURST_H

/*
 * The stages of a burst both engines share (engine_monitor.c,
 * engine_forward.c): packet time and plausibility, the window check, the
 * parse, the interface, fragments; then the ACL verdict and the flow table
 * update. Static inline and parameterised by the engine, so each engine is
 * compiled with its own flush and no test of the mode remains per packet.
 * Nothing here takes a lock, allocates or logs: it counts.
 */

#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "lcore.h"

#define PREFETCH_AHEAD 4

/* The packets of one burst that belong to the open window, after parsing. */
struct burst {
	struct dpf_pkt_info pi[DPF_BURST];
	const struct dpf_pkt_info *pip[DPF_BURST];
	struct rte_mbuf *m[DPF_BURST];
	struct dpf_flow_key keys[DPF_BURST];
	struct dpf_flow_nat post[DPF_BURST];
	uint64_t t_ns[DPF_BURST];
	uint32_t rule_ids[DPF_BURST];
	uint16_t iface[DPF_BURST];
	uint8_t action[DPF_BURST];
	uint8_t keep_view[DPF_BURST]; /* a view the pipeline cannot compute (session, ICMP error) */
	uint8_t drop[DPF_BURST];      /* forward mode: do not transmit */
	uint8_t masq_reply[DPF_BURST]; /* accepted only if its masquerade session exists */
	uint8_t frag_unknown[DPF_BURST]; /* later fragment whose first fragment was not seen */
	uint8_t nat_reject[DPF_BURST];	 /* REJECT because NAT cannot translate it */
	uint8_t unsent[DPF_BURST];	 /* forward mode: accepted, not sent: not logged */
	/* Decapsulated packets (keys[i].tun_type set): their outer addresses. */
	struct dpf_pkt_tunnel tun[DPF_BURST];
	uint32_t n;
	/* Not logged (not IP, no interface, late, bad time): forward mode passes
	 * them on unchanged (ARP and the like keep the network working), monitor
	 * mode frees them. */
	struct rte_mbuf *tx[DPF_BURST];
	uint32_t n_tx;
};

/* An engine's flush: classify, (translate, send,) count, free what is left. */
typedef void (*dpf_burst_flush_t)(struct dpf_lcore *lc, uint16_t port, struct burst *b);

/* The table call goes through here, so the benchmark can swap the table. */
#ifndef DPF_RX_TABLE_BURST
#define DPF_RX_TABLE_BURST dpf_ft_lookup_or_insert_burst
#endif

static inline uint64_t
rx_packet_time(const struct dpf_lcore *lc, const struct rte_mbuf *m, uint64_t fallback)
{
	const struct dpf_dp_shared *sh = lc->sh;

	if (likely(m->ol_flags & sh->ports.ts_flag)) {
		uint64_t us = *RTE_MBUF_DYNFIELD(m, sh->ports.ts_offset, const uint64_t *);

		/* net_pcap turns negative seconds into huge values; past 2554
		 * nanoseconds no longer fit. */
		if (unlikely(us >= DPF_TIME_INVALID / 1000ull))
			return DPF_TIME_INVALID;
		return us * 1000ull;
	}
	return fallback;
}

/*
 * Packet clock without the replay source (net_pcap files): until some core
 * has set it, the reference time of the run is the median of the first
 * burst's plausible times, so one bad first packet does not anchor the run.
 */
static inline void
rx_anchor_from_burst(struct dpf_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t t[DPF_BURST];
	unsigned int k = 0;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (!(pkts[i]->ol_flags & lc->sh->ports.ts_flag))
			continue;
		t[k] = rx_packet_time(lc, pkts[i], 0);
		if (dpf_timecheck_verdict(lc->sh->tc, t[k], 0, 0) == DPF_TIME_OK)
			k++;
	}
	if (k > 0)
		dpf_timecheck_offer_anchor(lc->sh->tc, dpf_time_median(t, k));
}

/* How a burst's packets are timed. */
struct burst_time {
	uint64_t now_ns;     /* wall clock: every packet's time; 0: the packet clock */
	uint64_t newest;     /* newest time this core has used */
	bool check;	     /* judge each packet's time (packet clock, not the replay) */
	uint64_t anchor;     /* with check: the run's reference time */
	uint64_t newest_all; /* with check: the newest time of every core */
};

static inline void
rx_burst_time(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts,
	      uint16_t n, struct burst_time *bt)
{
	const struct dpf_dp_shared *sh = lc->sh;

	bt->now_ns = sh->clock == DPF_CLOCK_WALL ? dpf_wall_ns(sh->wall) : 0;
	bt->newest = lc->last_ns;
	/* The wall clock never steps back (lib/clock holds instead), but a read
	 * racing a new conversion can come out a few ns early: never earlier
	 * than this core has already seen, or a packet could land in a window
	 * the core has closed. */
	if (bt->now_ns != 0 && bt->now_ns < bt->newest)
		bt->now_ns = bt->newest;
	/* The replay source has judged its packets' times already (replay.c). */
	bt->check = sh->port[ref->port].check_time;
	if (unlikely(bt->check)) {
		bt->anchor = dpf_timecheck_anchor(sh->tc);
		if (bt->anchor == 0) {
			rx_anchor_from_burst(lc, pkts, n);
			bt->anchor = dpf_timecheck_anchor(sh->tc);
		}
		bt->newest_all = dpf_lcore_newest_all(sh);
	}
}

/*
 * Ports for a fragment from the core's cache. The set is the datagram's RETA
 * entry: from the RSS hash that steered it here, or (one queue: no RSS, no
 * hash) the same symmetric Toeplitz hash computed here, so that one core
 * sees exactly the competition for slots that several would.
 */
static inline enum dpf_frag_result
rx_apply_fragment(struct dpf_lcore *lc, uint16_t port, const struct rte_mbuf *m,
		  struct dpf_pkt_info *pi)
{
	uint32_t hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
				? m->hash.rss
				: dpf_rss_hash_pkt(lc->sh->frag_rss, pi);
	enum dpf_frag_result r =
		dpf_frag_cache_apply(lc->frag, pi, hash % lc->sh->port[port].reta_size);

	if (r == DPF_FRAG_EVICTED)
		lc->cnt.frag_evicted++;
	else if (r == DPF_FRAG_NOT_FOUND)
		lc->cnt.frag_without_first++;
	return r;
}

/*
 * The time of packet m, and whether it belongs to a window still open: a
 * packet of a closed window is late; one of a later window flushes what the
 * burst holds and flips the window. false: pass it through (counted).
 */
static __rte_always_inline bool
rx_admit_time(struct dpf_lcore *lc, uint16_t port, const struct rte_mbuf *m,
	      struct burst_time *bt, struct burst *b, uint64_t *t_out, dpf_burst_flush_t flush)
{
	uint64_t t = bt->now_ns ? bt->now_ns : rx_packet_time(lc, m, bt->newest);

	if (unlikely(bt->check) &&
	    dpf_timecheck_verdict(lc->sh->tc, t, bt->anchor, RTE_MAX(bt->newest, bt->newest_all)) !=
		    DPF_TIME_OK) {
		lc->cnt.bad_time++;
		return false;
	}
	if (t > bt->newest)
		bt->newest = t;
	if (unlikely(t < lc->active_start_ns || t >= lc->active_end_ns)) {
		uint64_t w, end;

		dpf_window_plan_bounds(lc->sh->plan, t, &w, &end);
		if (w < lc->ho->done_upto) {
			lc->cnt.late++;
			return false;
		}
		flush(lc, port, b);
		dpf_lcore_open_window(lc, w, end);
	}
	*t_out = t;
	return true;
}

enum rx_verdict { RX_KEEP, RX_PASS, RX_FREED };

/* A packet the parser refused: not IP (passed on) or malformed (counted; the caller frees). */
static __rte_always_inline enum rx_verdict
rx_refused(struct dpf_lcore *lc, enum dpf_pkt_result res)
{
	if (res == DPF_PKT_NOT_IP) {
		lc->cnt.not_ip++;
		return RX_PASS;
	}
	lc->cnt.malformed++;
	lc->cnt.malformed_by_reason[res]++;
	return RX_FREED;
}

/*
 * An opened tunnel of type t (pi: the inner packet; pi->tun_type 0 when its
 * header said it carries neither Ethernet nor IP, which leaves pi the outer
 * packet's) onto its tenant interface (*iface). A tunnel of no tenant
 * interface stays the outer packet (unmatched = log: parsed again, a rare
 * path) or goes to no interface (drop).
 */
static __rte_always_inline void
rx_tenant(struct dpf_lcore *lc, uint16_t port, const uint8_t *frame, uint32_t len, struct burst *b,
	  unsigned int t, uint16_t *iface)
{
	struct dpf_pkt_info *pi = &b->pi[b->n];
	uint16_t ti;

	if (pi->tun_type == DPF_TUN_NONE)
		return;
	ti = dpf_ifmap_tenant(lc->sh->ifmap, port, frame, pi, &b->tun[b->n]);
	if (ti == DPF_IFACE_NONE) {
		lc->cnt.tunnel_unmatched++;
		if (lc->sh->unmatched_drop)
			*iface = DPF_IFACE_NONE;
		else
			dpf_pkt_parse(frame, len, pi); /* parsed before: DPF_PKT_OK */
		return;
	}
	lc->cnt.tunnel_packets[t]++;
	lc->cnt.tunnel_bytes[t] += pi->l3_len;
	*iface = ti;
}

/*
 * A tunnel the outer interface lets us open (dpf_pkt_decap()): the slot's
 * packet becomes the inner one, on its tenant interface (*iface; see
 * rx_tenant()). RX_PASS: the inner frame is not IP; RX_FREED: malformed
 * (counted; the caller frees). Inline: only the loop compiled for --decap
 * (rx_collect) has it, so a run without tunnels does not pay for it, and a
 * tunnel packet saves a call.
 */
static __rte_always_inline enum rx_verdict
rx_decap(struct dpf_lcore *lc, uint16_t port, const uint8_t *frame, uint32_t len, struct burst *b,
	 uint16_t *iface)
{
	struct dpf_pkt_info *pi = &b->pi[b->n];
	unsigned int t = dpf_pkt_tunnel_of(&lc->sh->decap, pi);
	enum dpf_pkt_result res;

	if (t == DPF_TUN_NONE || !dpf_ifmap_decap_on(lc->sh->ifmap, port, *iface))
		return RX_KEEP;
	res = dpf_pkt_decap(frame, len, pi, t, &b->tun[b->n]);
	if (res != DPF_PKT_OK)
		return rx_refused(lc, res);
	rx_tenant(lc, port, frame, len, b, t, iface);
	return RX_KEEP;
}

/* A parsed packet of the open window on its interface: into the burst's slot. */
static __rte_always_inline enum rx_verdict
rx_keep(struct dpf_lcore *lc, uint16_t port, struct rte_mbuf *m, struct burst *b,
	struct dpf_pkt_info *pi, uint16_t iface)
{
	if (unlikely(iface == DPF_IFACE_NONE)) {
		lc->cnt.unmatched++;
		return RX_PASS;
	}
	b->frag_unknown[b->n] = 0;
	if (unlikely(pi->frag != DPF_PKT_FRAG_NONE))
		b->frag_unknown[b->n] = rx_apply_fragment(lc, port, m, pi) == DPF_FRAG_NOT_FOUND;
	b->pip[b->n] = pi;
	b->m[b->n] = m;
	b->iface[b->n] = iface;
	b->rule_ids[b->n] = 0;
	return RX_KEEP;
}

/*
 * How rx_collect_pkts() parses (a constant of each compiled loop): no
 * tunnels; tunnels by parse, interface, then dpf_pkt_decap(); or, monitor
 * mode on a port whose outer interface is its default one and opens them,
 * both headers in one call (dpf_pkt_parse_open()), the interface known
 * before the packet.
 */
enum rx_open { RX_OPEN_NONE, RX_OPEN_SPLIT, RX_OPEN_FUSED };

/*
 * rx_parse() for RX_OPEN_FUSED: iface is the port's interface for every
 * outer packet, and it opens tunnels. The counters come out as rx_parse()'s:
 * parsed when the outer packet parsed, the inner packet's reason otherwise.
 */
static __rte_always_inline enum rx_verdict
rx_parse_open(struct dpf_lcore *lc, uint16_t port, struct rte_mbuf *m, struct burst *b,
	      uint16_t iface)
{
	struct dpf_pkt_info *pi = &b->pi[b->n];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	unsigned int t;
	enum dpf_pkt_result res =
		dpf_pkt_parse_open(frame, len, &lc->sh->decap, pi, &b->tun[b->n], &t);

	if (unlikely(res != DPF_PKT_OK)) {
		enum rx_verdict v;

		lc->cnt.parsed += t != DPF_TUN_NONE; /* the outer packet was */
		v = rx_refused(lc, res);
		if (v == RX_FREED)
			rte_pktmbuf_free(m);
		return v;
	}
	lc->cnt.parsed++;
	if (t != DPF_TUN_NONE)
		rx_tenant(lc, port, frame, len, b, t, &iface);
	return rx_keep(lc, port, m, b, pi, iface);
}

/* Parse m into the burst's next slot and find its interface. */
static __rte_always_inline enum rx_verdict
rx_parse(struct dpf_lcore *lc, uint16_t port, struct rte_mbuf *m, struct burst *b,
	 const bool forward, const bool decap)
{
	struct dpf_pkt_info *pi = &b->pi[b->n];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	enum dpf_pkt_result res = dpf_pkt_parse(frame, rte_pktmbuf_data_len(m), pi);
	uint16_t iface;

	if (unlikely(res != DPF_PKT_OK)) {
		if (res == DPF_PKT_NOT_IP) {
			lc->cnt.not_ip++;
			return RX_PASS;
		}
		lc->cnt.malformed++;
		lc->cnt.malformed_by_reason[res]++;
		rte_pktmbuf_free(m);
		return RX_FREED;
	}
	lc->cnt.parsed++;
	if (forward && unlikely((uint32_t)pi->l3_offset + pi->l3_len > rte_pktmbuf_data_len(m))) {
		/* Cut by the receiving port (af_packet: a reassembled datagram
		 * longer than its ring frame): it cannot be sent whole. */
		lc->cnt.short_frames++;
		rte_pktmbuf_free(m);
		return RX_FREED;
	}
	iface = dpf_ifmap_lookup(lc->sh->ifmap, port, frame, pi);
	if (unlikely(decap)) {
		enum rx_verdict v = rx_decap(lc, port, frame, rte_pktmbuf_data_len(m), b, &iface);

		if (v == RX_FREED) {
			rte_pktmbuf_free(m);
			return RX_FREED;
		}
		if (v == RX_PASS)
			return RX_PASS;
	}
	return rx_keep(lc, port, m, b, pi, iface);
}

/* The packets of a burst, one by one; open a constant (rx_collect), port_iface
 * the port's interface with RX_OPEN_FUSED. */
static __rte_always_inline void
rx_collect_pkts(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts,
		uint16_t n, struct burst *b, struct burst_time *bt, const bool forward,
		const enum rx_open open, uint16_t port_iface, dpf_burst_flush_t flush)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum rx_verdict v = RX_PASS;
		uint64_t t;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		/* After a flush in rx_admit_time() the slot index restarts at 0. */
		if (rx_admit_time(lc, ref->port, m, bt, b, &t, flush))
			v = open == RX_OPEN_FUSED
				    ? rx_parse_open(lc, ref->port, m, b, port_iface)
				    : rx_parse(lc, ref->port, m, b, forward, open == RX_OPEN_SPLIT);
		if (v == RX_KEEP)
			b->t_ns[b->n++] = t;
		else if (v == RX_PASS)
			b->tx[b->n_tx++] = m;
	}
}

/*
 * The loop with tunnels opened, out of line: the loop without them (the
 * common case) keeps its code and registers as if tunnels did not exist.
 * One caller per engine file: the compiler still propagates the mode and
 * the flush into it (gcc: rx_collect_tunnels.constprop). Monitor mode on a
 * port whose every packet is on one outer interface that opens tunnels (no
 * MAC or VLAN interfaces: the hypervisor uplink's case) parses both headers
 * in one call; otherwise, and in forward mode (whose short-frame check reads
 * the outer packet), the outer packet is parsed and its interface found
 * before the tunnel is opened.
 */
static __rte_noinline void
rx_collect_tunnels(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts,
		   uint16_t n, struct burst *b, struct burst_time *bt, const bool forward,
		   dpf_burst_flush_t flush)
{
	const struct dpf_ifmap *map = lc->sh->ifmap;
	/* A local copy the compiler keeps in registers, as in the inline loop. */
	struct burst_time own = *bt;
	uint16_t port_iface;

	if (!forward && dpf_ifmap_port_fixed(map, ref->port) &&
	    dpf_ifmap_decap_on(map, ref->port, port_iface = map->default_iface[ref->port]))
		rx_collect_pkts(lc, ref, pkts, n, b, &own, forward, RX_OPEN_FUSED, port_iface,
				flush);
	else
		rx_collect_pkts(lc, ref, pkts, n, b, &own, forward, RX_OPEN_SPLIT, 0, flush);
	bt->newest = own.newest;
}

/*
 * A burst's packets into b (those of the open window, parsed) and b->tx
 * (those passed through, not logged). A packet of a later window first
 * flushes what b holds (flush) and flips the window. The loop is compiled
 * twice, with and without tunnels, so a run without --decap pays no test.
 */
static __rte_always_inline void
rx_collect(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts,
	   uint16_t n, struct burst *b, const bool forward, dpf_burst_flush_t flush)
{
	struct burst_time bt;
	uint16_t i;

	rx_burst_time(lc, ref, pkts, n, &bt);
	b->n = 0;
	b->n_tx = 0;
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	lc->cnt.rx_packets += n;
	lc->cnt.rx_by_port[ref->port] += n;
	if (unlikely(lc->sh->decap.types != 0))
		rx_collect_tunnels(lc, ref, pkts, n, b, &bt, forward, flush);
	else
		rx_collect_pkts(lc, ref, pkts, n, b, &bt, forward, RX_OPEN_NONE, 0, flush);
	__atomic_store_n(&lc->last_ns, bt.newest, __ATOMIC_RELAXED);
}

/* The ACL verdict of every packet; in stateful mode a tracked reply is accepted. */
static inline void
rx_classify(struct dpf_lcore *lc, struct burst *b)
{
	uint32_t i;

	memset(b->masq_reply, 0, b->n);
	if (lc->rs->acl == NULL) {
		memset(b->action, DPF_ACTION_ACCEPT, b->n);
		return;
	}
	dpf_acl_classify_burst(lc->rs->acl, b->pip, b->n, b->action, b->rule_ids);
	for (i = 0; i < b->n; i++) {
		lc->acl_rule_hits[b->rule_ids[i]]++;
		if (lc->ct == NULL)
			continue;
		dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], DPF_ACTION_ACCEPT);
		if (b->action[i] == DPF_ACTION_REJECT) {
			if (dpf_conntrack_is_reply(lc->ct, &b->keys[i], b->t_ns[i])) {
				b->action[i] = DPF_ACTION_ACCEPT;
				lc->cnt.acl_reply_accepted++;
			} else if (lc->nat != NULL &&
				   dpf_nat_is_masquerade_outside(lc->rs->nat, b->pi[i].family,
								 b->pi[i].dst_addr)) {
				/* The connection state of a masqueraded flow is its
				 * session: the forward engine decides. */
				b->action[i] = DPF_ACTION_ACCEPT;
				b->masq_reply[i] = 1;
			}
		} else if (!dpf_conntrack_is_reply(lc->ct, &b->keys[i], b->t_ns[i]) &&
			   dpf_conntrack_add(lc->ct, &b->keys[i], b->t_ns[i]) == -ENOSPC) {
			lc->cnt.conntrack_full++;
		}
	}
}

/* Without a table (overrun) the burst's packets are counted lost, in the
 * open shard or, without one, carried to the next. */
static inline void
rx_record_lost(struct dpf_lcore *lc, struct burst *b)
{
	struct dpf_shard *sh = lc->active;
	uint32_t i;

	lc->cnt.lost_no_table += b->n;
	for (i = 0; i < b->n; i++) {
		if (sh != NULL)
			sh->lost_pkts[b->iface[i]]++;
		else
			lc->carry_lost[b->iface[i]]++;
	}
}

/*
 * A decapsulated flow's outer addresses, kept beside its table entry: those
 * of its earliest packet (c does not count this one yet). The entry's own
 * first_ns says whether this packet can be earlier, so the side array is
 * only touched by a flow's first packet (and by out-of-order ones).
 */
static inline void
rx_record_tun_ends(struct dpf_shard *sh, const struct dpf_flow_counters *c,
		   const struct dpf_pkt_tunnel *pkt, uint64_t t_ns)
{
	const struct dpf_ft_entry *e = container_of(c, const struct dpf_ft_entry, c);
	struct dpf_flow_tun_ends *te;

	if (c->packets != 0 && t_ns > c->first_ns)
		return;
	te = &sh->tun_ends[e - dpf_ft_entry(sh->ft, 0)];
	if (c->packets == 0)
		te->family = 0;
	if (dpf_flow_tun_ends_earlier(te, t_ns, pkt->outer_family, pkt->outer_src)) {
		memcpy(te->src_addr, pkt->outer_src, sizeof(te->src_addr));
		memcpy(te->dst_addr, pkt->outer_dst, sizeof(te->dst_addr));
		te->family = pkt->outer_family;
		te->first_ns = t_ns;
	}
}

/*
 * The burst's keys (pre-NAT tuple, interface, verdict) into the open table.
 * views: forward mode, where a post-NAT view the pipeline cannot compute
 * again (a masquerade session's, a translated ICMP error's) is kept beside
 * the table.
 */
static __rte_always_inline void
rx_record(struct dpf_lcore *lc, struct burst *b, const bool views)
{
	struct dpf_flow_counters *out[DPF_BURST];
	struct dpf_shard *sh = lc->active;
	bool tun_ends;
	uint32_t i;

	for (i = 0; i < b->n; i++)
		dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], b->action[i]);
	if (unlikely(sh == NULL || sh->ft == NULL)) {
		rx_record_lost(lc, b);
		return;
	}
	tun_ends = sh->tun_ends != NULL;
	lc->cnt.flows_created += DPF_RX_TABLE_BURST(sh->ft, b->keys, b->n, out);
	for (i = 0; i < b->n; i++) {
		if (unlikely(out[i] == NULL)) {
			lc->cnt.lost_table_full++;
			sh->lost_pkts[b->iface[i]]++;
			continue;
		}
		/* A new flow's counters start zeroed: its first packet is this one. */
		lc->iface_cnt[b->iface[i]].flows += out[i]->packets == 0;
		if (unlikely(tun_ends) && b->keys[i].tun_type != 0)
			rx_record_tun_ends(sh, out[i], &b->tun[i], b->t_ns[i]);
		if (unlikely(dpf_lcore_conn_restart(lc, out[i], b->t_ns[i], b->pi[i].tcp_flags)))
			dpf_lcore_conn_segment(lc, &b->keys[i], out[i], b->t_ns[i],
					       b->pi[i].tcp_flags);
		dpf_flow_counters_add(out[i], b->pi[i].l3_len, b->t_ns[i], b->pi[i].tcp_flags);
		lc->cnt.logged_packets++;
		lc->iface_cnt[b->iface[i]].packets++;
		lc->iface_cnt[b->iface[i]].bytes += b->pi[i].l3_len;
		if (views && unlikely(b->keep_view[i])) {
			struct dpf_ft_entry *e = container_of(out[i], struct dpf_ft_entry, c);

			if (e->pad == 0 && sh->n_views < sh->max_views) {
				sh->views[sh->n_views] = b->post[i];
				e->pad = dpf_shard_view_tag(lc->index, sh->n_views++);
			}
		}
	}
}

/*
 * An engine's burst, the one template both engines instantiate (forward is a
 * constant, so each keeps no per-packet test of the mode): the packets of the
 * open window through flush; the unlogged ones passed on by transmit (forward)
 * or freed (monitor, which gives no transmit).
 */
static __rte_always_inline void
rx_burst(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref, struct rte_mbuf **pkts, uint16_t n,
	 const bool forward, dpf_burst_flush_t flush, dpf_burst_flush_t transmit)
{
	struct burst b;

	rx_collect(lc, ref, pkts, n, &b, forward, flush);
	flush(lc, ref->port, &b);
	if (forward)
		transmit(lc, ref->port, &b);
	else if (b.n_tx != 0)
		rte_pktmbuf_free_bulk(b.tx, b.n_tx);
}

/*
 * Defines engine E (const struct dpf_engine dpf_engine_E, named "E") as the
 * rx_burst template instantiated with its mode, flush and transmit: an engine
 * file writes its flush (and transmit) and this one line.
 */
#define DPF_ENGINE_DEFINE(e, forward, flush, transmit)                                             \
	static void e##_burst(struct dpf_lcore *lc, const struct dpf_rxq_ref *ref,                 \
			      struct rte_mbuf **pkts, uint16_t n)                                  \
	{                                                                                          \
		rx_burst(lc, ref, pkts, n, forward, flush, transmit);                              \
	}                                                                                          \
	const struct dpf_engine dpf_engine_##e = {.name = #e, .burst = e##_burst}

#endif /* DPFLOW_BURST_H */
