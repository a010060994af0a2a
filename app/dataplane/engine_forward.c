/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forward engine (--forward A:B): accepted packets are rewritten to
 * their post-NAT view (lib/nat: the stateless view, then masquerade
 * sessions; ICMP errors with the packet they quote, RFC 5508) and sent on
 * the peer port, IPv4 packets above its MTU as fragments (rte_ip_frag),
 * before they are counted, so that records count what was sent. What NAT
 * cannot translate is dropped as REJECT; what the port refuses or cannot
 * carry is counted and not logged. Frames that are not logged (not IP, no
 * interface, late) pass through unchanged.
 */
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>

#include "burst.h"

/* Frames handed to the peer port in one call, fragments included. */
#define TX_MAX (4 * DPF_BURST)
/* Fragments of one IPv4 packet (64 KiB at MTUs from about 1100 bytes). */
#define MAX_FRAGS 64

static void
nat_drop(struct dpf_lcore *lc, struct burst *b, uint32_t i)
{
	b->drop[i] = 1;
	b->action[i] = DPF_ACTION_REJECT;
	b->nat_reject[i] = 1;
	lc->cnt.nat_dropped++;
}

/*
 * ICMP and ICMPv6 error messages (RFC 5508): the outer header and the quoted
 * packet are translated together. Returns false when the packet is not an
 * error message whose quote can be read (it is then handled like any other).
 */
static bool
translate_icmp_error(struct dpf_lcore *lc, struct burst *b, uint32_t i)
{
	const struct dpf_pkt_info *pi = &b->pi[i];
	uint8_t *frame = rte_pktmbuf_mtod(b->m[i], uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(b->m[i]);
	struct dpf_pkt_inner in;
	struct dpf_flow_key q;
	struct dpf_flow_nat qpost;
	uint8_t echo = 0;
	uint16_t qid;
	uint32_t rule;
	int rc;

	if (dpf_pkt_icmp_error_parse(frame, len, pi, &in) != 0)
		return false;
	memset(&q, 0, sizeof(q));
	q.family = in.family;
	q.proto = in.proto;
	memcpy(q.src_addr, in.src_addr, 16);
	memcpy(q.dst_addr, in.dst_addr, 16);
	if (in.has_ports) {
		q.src_port = in.src_port;
		q.dst_port = in.dst_port;
	} else if (in.has_icmp_id) {
		echo = (in.icmp_type == 8 || in.icmp_type == 128) ? 1 : 2;
	}
	rc = dpf_nat_icmp_error_view(lc->rs->nat, lc->nat, &b->keys[i], &q, echo, in.icmp_id,
				     &b->post[i], &qpost, &qid, &rule);
	if (b->masq_reply[i]) {
		/* Only a masquerade session admits it past the stateful ACL. */
		if (rc != 1) {
			b->action[i] = DPF_ACTION_REJECT;
			b->drop[i] = 1;
			lc->cnt.acl_dropped++;
			return true;
		}
		lc->cnt.acl_reply_accepted++;
	}
	if (rc < 0) {
		nat_drop(lc, b, i);
		return true;
	}
	if (rc == 0)
		return true;
	if (dpf_pkt_icmp_error_rewrite(frame, len, pi, &in, b->post[i].src_addr,
				       b->post[i].dst_addr, qpost.src_addr, qpost.dst_addr,
				       in.has_icmp_id ? qid : qpost.src_port,
				       in.has_icmp_id ? qid : qpost.dst_port) < 0) {
		nat_drop(lc, b, i);
		return true;
	}
	/* The pipeline cannot compute this view again from the tuple. */
	b->keep_view[i] = 1;
	lc->cnt.nat_translated++;
	return true;
}

/* Forward mode: rewrite accepted packets to their post-NAT view. */
static void
translate(struct dpf_lcore *lc, struct burst *b)
{
	uint32_t i;

	for (i = 0; i < b->n; i++) {
		struct dpf_pkt_info *pi = &b->pi[i];
		const struct dpf_flow_key *k = &b->keys[i];
		struct dpf_flow_nat *post = &b->post[i];
		uint16_t sport, dport, new_id = pi->l4.icmp_id;
		uint32_t rule = 0;
		uint8_t is_echo = 0;
		int rc;

		b->keep_view[i] = 0;
		b->nat_reject[i] = 0;
		if (b->action[i] != DPF_ACTION_ACCEPT) {
			b->drop[i] = 1;
			lc->cnt.acl_dropped++;
			continue;
		}
		if (unlikely((pi->proto == IPPROTO_ICMP || pi->proto == IPPROTO_ICMPV6) &&
			     pi->has_l4 && !pi->l4.has_icmp_id) &&
		    translate_icmp_error(lc, b, i))
			continue;
		/* Its ports are unknown: a rule that translates by port cannot be applied. */
		if (unlikely(b->frag_unknown[i]) && dpf_nat_needs_ports(lc->rs->nat, k)) {
			nat_drop(lc, b, i);
			continue;
		}
		dpf_nat_view(lc->rs->nat, k, post, NULL, NULL);
		if (lc->nat != NULL) {
			if (pi->l4.has_icmp_id) {
				uint8_t t = pi->l4.icmp_type;

				is_echo = (t == 8 || t == 128) ? 1 : (t == 0 || t == 129) ? 2 : 0;
			}
			rc = dpf_nat_sessions_apply(lc->nat, k, is_echo, pi->l4.icmp_id, b->t_ns[i],
						    post, &new_id, &rule);
			if (b->masq_reply[i]) {
				if (rc == 1) {
					lc->cnt.acl_reply_accepted++;
				} else {
					/* No session: the ACL's verdict stands. */
					b->action[i] = DPF_ACTION_REJECT;
					b->drop[i] = 1;
					lc->cnt.acl_dropped++;
					continue;
				}
			}
			if (rc < 0 ||
			    (rc == 0 && dpf_nat_masquerade_missed(lc->rs->nat, k, post))) {
				nat_drop(lc, b, i);
				continue;
			}
			b->keep_view[i] = rc == 1;
		}
		if (memcmp(post, k->src_addr, 32) == 0 && post->src_port == k->src_port &&
		    post->dst_port == k->dst_port && new_id == pi->l4.icmp_id)
			continue;
		sport = post->src_port;
		dport = post->dst_port;
		if (is_echo == 1)
			sport = new_id;
		else if (is_echo == 2)
			dport = new_id;
		else if (pi->l4.has_icmp_id)
			sport = dport = pi->l4.icmp_id;
		if (dpf_pkt_rewrite(rte_pktmbuf_mtod(b->m[i], uint8_t *),
				    rte_pktmbuf_data_len(b->m[i]), pi, post->src_addr, post->dst_addr,
				    sport, dport) < 0) {
			nat_drop(lc, b, i);
			continue;
		}
		lc->cnt.nat_translated++;
	}
}


static struct rte_mbuf *
linearize(struct rte_mbuf *frag, struct rte_mempool *pool)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t len = rte_pktmbuf_pkt_len(frag);
	char *dst = m != NULL ? rte_pktmbuf_append(m, (uint16_t)len) : NULL;

	if (dst == NULL || rte_pktmbuf_read(frag, 0, len, dst) == NULL) {
		rte_pktmbuf_free(m);
		m = NULL;
	}
	rte_pktmbuf_free(frag);
	return m;
}

/*
 * An IPv4 packet above the peer port's MTU, as fragments (rte_ip_frag) with
 * the packet's own Ethernet header; copied into single mbufs of the packet's
 * own pool when the peer takes no chained mbufs. The packet is consumed.
 * Returns the number of fragments, -EMSGSIZE when it may not be fragmented
 * (IPv6: only its source fragments it; DF set), -ENOBUFS when mbufs ran out.
 */
static int
fragment(struct dpf_lcore *lc, uint16_t peer, struct rte_mbuf *m, const struct dpf_pkt_info *pi,
	 struct rte_mbuf **out)
{
	uint8_t l2[RTE_ETHER_HDR_LEN + 4 * DPF_PKT_MAX_VLANS];
	struct rte_mempool *pool = m->pool;
	uint16_t l2_len = pi->l3_offset;
	uint32_t whole = (uint32_t)l2_len + pi->l3_len;
	int nf, k;

	if (pi->family != 4 || l2_len > sizeof(l2)) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(l2, rte_pktmbuf_mtod(m, uint8_t *), l2_len);
	/* Ethernet padding is no payload. */
	if (rte_pktmbuf_pkt_len(m) > whole)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - whole));
	rte_pktmbuf_adj(m, l2_len);
	nf = rte_ipv4_fragment_packet(m, out, MAX_FRAGS, lc->sh->port[peer].mtu,
				      lc->sh->ports.frag_direct, lc->sh->ports.frag_indirect);
	/* The fragments hold references to what they carry. */
	rte_pktmbuf_free(m);
	if (nf < 0)
		return nf == -ENOMEM ? -ENOBUFS : -EMSGSIZE;
	for (k = 0; k < nf; k++) {
		uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(out[k], l2_len);
		struct rte_ipv4_hdr *ip;

		if (h == NULL) {
			rte_pktmbuf_free_bulk(out, (unsigned int)nf);
			return -ENOBUFS;
		}
		memcpy(h, l2, l2_len);
		ip = (struct rte_ipv4_hdr *)(h + l2_len);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	for (k = 0; k < nf && !lc->sh->port[peer].multiseg; k++) {
		out[k] = linearize(out[k], pool);
		if (out[k] == NULL) {
			/* Copies before k, chains after it; k itself is gone. */
			while (nf-- > 0)
				rte_pktmbuf_free(out[nf]);
			return -ENOBUFS;
		}
	}
	return nf;
}

/* Hand tx[0..n) to the peer port; the packets of what it refused are unsent. */
static void
tx_flush(struct dpf_lcore *lc, uint16_t peer, struct rte_mbuf **tx, const uint8_t *owner,
	 uint32_t n, struct burst *b)
{
	uint16_t sent = n != 0 ? rte_eth_tx_burst(peer, lc->index, tx, (uint16_t)n) : 0;
	uint32_t j;

	lc->cnt.tx_packets += sent;
	for (j = sent; j < n; j++) {
		if (!b->unsent[owner[j]]) {
			b->unsent[owner[j]] = 1;
			lc->cnt.tx_dropped++;
		}
		rte_pktmbuf_free(tx[j]);
	}
}

/*
 * Forward mode: send the accepted packets on the peer port before they are
 * counted, so that records count what was sent. A packet the port refused,
 * or too big for it, is counted (tx-dropped, tx-too-big) and not logged.
 */
static void
send_accepted(struct dpf_lcore *lc, uint16_t port, struct burst *b)
{
	struct rte_mbuf *tx[TX_MAX];
	uint8_t owner[TX_MAX];
	uint16_t peer = lc->sh->port[port].peer;
	uint32_t n = 0, i;

	for (i = 0; i < b->n; i++) {
		struct rte_mbuf *frags[MAX_FRAGS];
		int nf, k;

		if (b->drop[i])
			continue;
		if (unlikely(peer == DPF_PORT_NONE)) {
			b->unsent[i] = 1;
			lc->cnt.tx_dropped++;
			rte_pktmbuf_free(b->m[i]);
			continue;
		}
		if (likely(b->pi[i].l3_len <= lc->sh->port[peer].mtu)) {
			if (n == TX_MAX) {
				tx_flush(lc, peer, tx, owner, n, b);
				n = 0;
			}
			tx[n] = b->m[i];
			owner[n++] = (uint8_t)i;
			continue;
		}
		nf = fragment(lc, peer, b->m[i], &b->pi[i], frags);
		if (nf < 0) {
			b->unsent[i] = 1;
			if (nf == -EMSGSIZE)
				lc->cnt.tx_too_big++;
			else
				lc->cnt.tx_dropped++;
			continue;
		}
		lc->cnt.tx_fragmented++;
		if (n + (uint32_t)nf > TX_MAX) {
			tx_flush(lc, peer, tx, owner, n, b);
			n = 0;
		}
		for (k = 0; k < nf; k++) {
			tx[n] = frags[k];
			owner[n++] = (uint8_t)i;
		}
	}
	tx_flush(lc, peer, tx, owner, n, b);
}

/* Drop the burst's unsent packets (their mbufs are gone) before counting. */
static void
compact_unsent(struct burst *b)
{
	uint32_t i, n = 0;

	for (i = 0; i < b->n; i++) {
		if (b->unsent[i])
			continue;
		if (n != i) {
			b->pi[n] = b->pi[i];
			b->m[n] = b->m[i];
			b->t_ns[n] = b->t_ns[i];
			b->iface[n] = b->iface[i];
			b->action[n] = b->action[i];
			b->keep_view[n] = b->keep_view[i];
			b->drop[n] = b->drop[i];
			b->post[n] = b->post[i];
		}
		n++;
	}
	b->n = n;
}

/* Classify, translate, send, count; then free what was dropped. */
static void
forward_flush(struct dpf_lcore *lc, uint16_t port, struct burst *b)
{
	uint32_t i, unsent = 0;

	if (b->n == 0)
		return;
	rx_classify(lc, b);
	for (i = 0; i < b->n; i++) {
		b->drop[i] = 0;
		b->unsent[i] = 0;
		dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], b->action[i]);
	}
	translate(lc, b);
	for (i = 0; i < b->n; i++)
		lc->cnt.acl_rejected += b->action[i] == DPF_ACTION_REJECT && !b->nat_reject[i];
	send_accepted(lc, port, b);
	for (i = 0; i < b->n; i++)
		unsent += b->unsent[i];
	if (unlikely(unsent != 0))
		compact_unsent(b);
	rx_record(lc, b, true);
	/* What was sent belongs to the peer port now. */
	for (i = 0; i < b->n; i++)
		if (b->drop[i])
			rte_pktmbuf_free(b->m[i]);
	b->n = 0;
}

/* Frames passed on unlogged (not IP, no interface, late). */
static void
transmit(struct dpf_lcore *lc, uint16_t port, struct burst *b)
{
	uint16_t peer = lc->sh->port[port].peer, sent = 0;

	if (b->n_tx == 0)
		return;
	if (peer != DPF_PORT_NONE)
		sent = rte_eth_tx_burst(peer, lc->index, b->tx, (uint16_t)b->n_tx);
	lc->cnt.tx_packets += sent;
	if (sent < b->n_tx) {
		lc->cnt.tx_dropped_unlogged += b->n_tx - sent;
		rte_pktmbuf_free_bulk(&b->tx[sent], b->n_tx - sent);
	}
	b->n_tx = 0;
}

DPF_ENGINE_DEFINE(forward, true, forward_flush, transmit);
