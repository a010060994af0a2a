/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX lcores: poll bursts, parse, build keys, update the core's own shard.
 *
 * Window protocol (doc/architecture.md): each core owns the shard of its open
 * window. When a packet's time (or, when idle, the clock) passes the window
 * end, the core enqueues the shard on its `retired` ring and then publishes
 * `done_upto` (release). The pipeline reads `done_upto` (acquire) before
 * draining the ring, so it never decides a window is complete while one of
 * its shards is still on the way. Nothing on this path takes a lock,
 * allocates or logs.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "dpf_acl.h"
#include "dpf_ft.h"
#include "dpf_nat.h"
#include "dpflow.h"

#define SHARD_DESCRIPTORS 32 /* per core: windows that can be in flight */
#define PREFETCH_AHEAD 4
#define IDLE_POLLS_BEFORE_YIELD 64

static uint64_t carry_lost[DPF_MAX_RX_CORES][DPF_MAX_IFACES];

static inline void
publish_u64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

int
dpf_rx_setup(struct dpf_app *app)
{
	char name[RTE_RING_NAMESIZE];
	uint16_t c, p;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	unsigned int i;

	app->cores = rte_zmalloc("dpf_rx_cores", app->n_cores * sizeof(*app->cores),
				 RTE_CACHE_LINE_SIZE);
	if (app->cores == NULL)
		return -ENOMEM;
	for (c = 0; c < app->n_cores; c++, lcore = rte_get_next_lcore(lcore, 1, 0)) {
		struct dpf_rx_core *core = &app->cores[c];
		int socket = (int)rte_lcore_to_socket_id(lcore);
		struct dpf_ft_params ftp = {
			.capacity = (uint32_t)app->cfg.opt.flows_per_core,
			.socket_id = socket,
			/* The same seed everywhere: merge order never depends on it. */
			.seed = 0x9747b28c,
		};

		core->lcore_id = lcore;
		core->index = c;
		core->active = NULL;
		core->active_start_ns = UINT64_MAX;
		core->active_end_ns = 0;
		core->done_upto = 0;
		/* Core c polls queue c of every port that has one. */
		for (p = 0; p < app->n_ports; p++) {
			uint16_t port = app->ports[p];

			if (c < app->port_nq[port]) {
				core->rxq[core->n_rxq].port = port;
				core->rxq[core->n_rxq].queue = c;
				core->n_rxq++;
			}
		}
		snprintf(name, sizeof(name), "rx%u_free_sh", c);
		core->free_shards = rte_ring_create(name, SHARD_DESCRIPTORS, socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(name, sizeof(name), "rx%u_free_ft", c);
		core->free_tables = rte_ring_create(name, (unsigned int)app->cfg.opt.shards_per_core,
						    socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(name, sizeof(name), "rx%u_retired", c);
		core->retired = rte_ring_create(name, SHARD_DESCRIPTORS, socket,
						RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		core->frag = dpf_frag_cache_create(4096, socket);
		if (core->free_shards == NULL || core->free_tables == NULL ||
		    core->retired == NULL || core->frag == NULL) {
			fprintf(stderr, "dpflow: RX core %u: %s\n", c, rte_strerror(rte_errno));
			return -rte_errno;
		}
		core->rs = app->rs;
		core->rs_seen = app->rs;
		core->acl_rule_hits = rte_zmalloc_socket("dpf_acl_hits",
			(DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t), RTE_CACHE_LINE_SIZE, socket);
		core->iface_pkts = rte_zmalloc_socket("dpf_iface_pkts",
			app->n_ifaces * sizeof(uint64_t), RTE_CACHE_LINE_SIZE, socket);
		if (core->acl_rule_hits == NULL || core->iface_pkts == NULL)
			return -ENOMEM;
		if (app->cfg.opt.acl_stateful) {
			struct dpf_conntrack_params cp = {
				.name = name,
				.capacity = (uint32_t)app->cfg.opt.conntrack_per_core,
				.socket_id = socket,
				.timeout_ns = app->cfg.opt.conntrack_timeout * 1000000000ull,
			};

			snprintf(name, sizeof(name), "ct%u", c);
			core->ct = dpf_conntrack_create(&cp);
			if (core->ct == NULL) {
				fprintf(stderr, "dpflow: RX core %u: connection table: %s\n", c,
					rte_strerror(rte_errno));
				return -rte_errno;
			}
		}
		if (app->forward) {
			struct dpf_nat_sessions_params np = {
				.name = name,
				.capacity = (uint32_t)app->cfg.opt.nat_sessions_per_core,
				.socket_id = socket,
				.nat = app->rs->nat,
				.icmp = app->nat_icmp,
				.rss = app->rss,
				.n_queues = (uint16_t)app->cfg.opt.rxq,
				.queue = c,
				.reta_size = app->port_reta_size[app->ports[0]],
				.timeout_ns = app->cfg.opt.nat_timeout * 1000000000ull,
			};

			snprintf(name, sizeof(name), "nat%u", c);
			core->nat = dpf_nat_sessions_create(&np);
			if (core->nat == NULL) {
				fprintf(stderr, "dpflow: RX core %u: masquerade sessions: %s\n", c,
					rte_strerror(rte_errno));
				return -rte_errno;
			}
		}
		for (i = 0; i < SHARD_DESCRIPTORS; i++) {
			struct dpf_shard *s = dpf_shard_create(app->n_ifaces, 0, socket);

			if (s == NULL || rte_ring_sp_enqueue(core->free_shards, s) != 0) {
				fprintf(stderr, "dpflow: RX core %u: shard descriptors: %s\n", c,
					rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		for (i = 0; i < app->cfg.opt.shards_per_core; i++) {
			struct dpf_ft *ft = dpf_ft_create(&ftp);

			/* Masquerade views travel with the table they describe. */
			core->tables[i] = ft;
			if (core->nat != NULL) {
				core->max_views = (uint32_t)RTE_MIN(app->cfg.opt.flows_per_core,
								    (uint64_t)DPF_SHARD_MAX_VIEWS);
				core->views[i] = rte_malloc_socket("dpf_views",
					core->max_views * sizeof(struct dpf_flow_nat),
					RTE_CACHE_LINE_SIZE, socket);
				if (core->views[i] == NULL)
					return -ENOMEM;
			}

			if (ft == NULL || rte_ring_sp_enqueue(core->free_tables, ft) != 0) {
				fprintf(stderr,
					"dpflow: RX core %u: flow table of %" PRIu64
					" flows (%zu bytes per flow): %s; lower --flows-per-core "
					"or give EAL more memory (-m)\n",
					c, app->cfg.opt.flows_per_core,
					dpf_ft_bytes_per_flow(ftp.capacity), rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static inline bool
offline_wait(struct dpf_app *app)
{
	/* Offline sources wait for the pipeline instead of losing packets. */
	if (!app->offline || app->stop)
		return false;
	rte_pause();
	sched_yield();
	return true;
}

static void
retire(struct dpf_rx_core *core)
{
	if (core->active == NULL)
		return;
	/* The ring holds every descriptor of this core: it cannot be full. */
	rte_ring_sp_enqueue(core->retired, core->active);
	core->cnt.windows_retired++;
	core->active = NULL;
}

static void
attach_table(struct dpf_app *app, struct dpf_rx_core *core)
{
	void *ft;

	unsigned int k;

	while (rte_ring_sc_dequeue(core->free_tables, &ft) != 0)
		if (!offline_wait(app))
			return;
	core->active->ft = ft;
	core->active->n_views = 0;
	for (k = 0; k < app->cfg.opt.shards_per_core; k++) {
		if (core->tables[k] == ft) {
			core->active->views = core->views[k];
			core->active->max_views = core->views[k] != NULL ? core->max_views : 0;
		}
	}
}

/* Rule changes take effect at the first window at or after their time. */
static void
maybe_switch_rules(struct dpf_app *app, struct dpf_rx_core *core, uint64_t w)
{
	struct dpf_ruleset *next = __atomic_load_n(&app->rs_next, __ATOMIC_ACQUIRE);

	if (next == NULL || next == core->rs || w < next->from_ns)
		return;
	core->rs = next;
	/* Sessions name rules by index: a new rule set starts them afresh. */
	if (core->nat != NULL)
		dpf_nat_sessions_reset(core->nat, next->nat);
	memset(core->acl_rule_hits, 0, (DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t));
	__atomic_store_n(&core->rs_seen, next, __ATOMIC_RELEASE);
}

/* Window flips are the core's housekeeping points: forget idle state. */
static void
expire_state(struct dpf_app *app, struct dpf_rx_core *core, uint64_t now)
{
	maybe_switch_rules(app, core, now);
	if (core->ct != NULL)
		dpf_conntrack_expire(core->ct, now);
	if (core->nat != NULL)
		dpf_nat_sessions_expire(core->nat, now);
}

/* Close the open window and open the window [w, end) (w > every window seen). */
static void
open_window(struct dpf_app *app, struct dpf_rx_core *core, uint64_t w, uint64_t end)
{
	void *s;
	uint16_t i;

	retire(core);
	expire_state(app, core, w);
	publish_u64(&core->done_upto, w);
	core->active_start_ns = w;
	core->active_end_ns = end;
	while (rte_ring_sc_dequeue(core->free_shards, &s) != 0) {
		if (!offline_wait(app))
			return; /* no descriptor: this window's packets are carried as lost */
	}
	core->active = s;
	core->active->window = w;
	core->active->core = core->index;
	for (i = 0; i < app->n_ifaces; i++) {
		core->active->lost_pkts[i] += carry_lost[core->index][i];
		carry_lost[core->index][i] = 0;
	}
	attach_table(app, core);
}

/* Idle: the clock reached the window starting at w without a packet here. */
static void
advance_to(struct dpf_app *app, struct dpf_rx_core *core, uint64_t w)
{
	if (w <= core->done_upto)
		return;
	retire(core);
	expire_state(app, core, w);
	core->active_start_ns = UINT64_MAX;
	core->active_end_ns = 0;
	publish_u64(&core->done_upto, w);
}

static void
finish(struct dpf_rx_core *core)
{
	retire(core);
	publish_u64(&core->done_upto, DPF_WINDOW_NONE);
	__atomic_store_n(&core->finished, true, __ATOMIC_RELEASE);
}

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
	uint8_t masq[DPF_BURST];    /* post view comes from a masquerade session */
	uint8_t drop[DPF_BURST];    /* forward mode: do not transmit */
	uint8_t masq_reply[DPF_BURST]; /* accepted only if its masquerade session exists */
	uint32_t n;
	struct rte_mbuf *tx[DPF_BURST];
	uint32_t n_tx;
};

static void
classify(struct dpf_app *app, struct dpf_rx_core *core, struct burst *b)
{
	uint32_t i;

	memset(b->masq_reply, 0, b->n);
	if (core->rs->acl == NULL) {
		memset(b->action, DPF_ACTION_ACCEPT, b->n);
		return;
	}
	dpf_acl_classify_burst(core->rs->acl, b->pip, b->n, b->action, b->rule_ids);
	for (i = 0; i < b->n; i++) {
		core->acl_rule_hits[b->rule_ids[i]]++;
		if (core->ct == NULL)
			continue;
		dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], DPF_ACTION_ACCEPT);
		b->masq_reply[i] = 0;
		if (b->action[i] == DPF_ACTION_REJECT) {
			if (dpf_conntrack_is_reply(core->ct, &b->keys[i], b->t_ns[i])) {
				b->action[i] = DPF_ACTION_ACCEPT;
				core->cnt.acl_reply_accepted++;
			} else if (core->nat != NULL &&
				   dpf_nat_is_masquerade_outside(core->rs->nat, b->pi[i].family,
								 b->pi[i].dst_addr)) {
				/* The connection state of a masqueraded flow is its
				 * session: translate() decides. */
				b->action[i] = DPF_ACTION_ACCEPT;
				b->masq_reply[i] = 1;
			}
		} else if (!dpf_conntrack_is_reply(core->ct, &b->keys[i], b->t_ns[i]) &&
			   dpf_conntrack_add(core->ct, &b->keys[i], b->t_ns[i]) == -ENOSPC) {
			core->cnt.conntrack_full++;
		}
	}
}

/* Forward mode: rewrite accepted packets to their post-NAT view. */
static void
translate(struct dpf_app *app, struct dpf_rx_core *core, struct burst *b)
{
	uint32_t i;

	for (i = 0; i < b->n; i++) {
		struct dpf_pkt_info *pi = &b->pi[i];
		const struct dpf_flow_key *k = &b->keys[i];
		struct dpf_flow_nat *post = &b->post[i];
		uint16_t sport, dport, new_id = pi->icmp_id;
		uint32_t rule = 0;
		uint8_t is_echo = 0;
		int rc;

		b->masq[i] = 0;
		if (b->action[i] != DPF_ACTION_ACCEPT) {
			b->drop[i] = 1;
			core->cnt.acl_dropped++;
			continue;
		}
		dpf_nat_view(core->rs->nat, k, post, NULL, NULL);
		if (core->nat != NULL) {
			if (pi->has_icmp_id)
				is_echo = (pi->icmp_type == 8 || pi->icmp_type == 128) ? 1
					: (pi->icmp_type == 0 || pi->icmp_type == 129) ? 2 : 0;
			rc = dpf_nat_sessions_apply(core->nat, k, is_echo, pi->icmp_id, b->t_ns[i],
						    post, &new_id, &rule);
			if (b->masq_reply[i]) {
				if (rc == 1) {
					core->cnt.acl_reply_accepted++;
				} else {
					/* No session: the ACL's verdict stands. */
					b->action[i] = DPF_ACTION_REJECT;
					b->drop[i] = 1;
					core->cnt.acl_dropped++;
					continue;
				}
			}
			if (rc < 0) {
				b->drop[i] = 1;
				core->cnt.nat_dropped++;
				continue;
			}
			b->masq[i] = rc == 1;
		}
		if (memcmp(post, k->src_addr, 32) == 0 && post->src_port == k->src_port &&
		    post->dst_port == k->dst_port && new_id == pi->icmp_id)
			continue;
		sport = post->src_port;
		dport = post->dst_port;
		if (is_echo == 1)
			sport = new_id;
		else if (is_echo == 2)
			dport = new_id;
		else if (pi->has_icmp_id)
			sport = dport = pi->icmp_id;
		if (dpf_pkt_rewrite(rte_pktmbuf_mtod(b->m[i], uint8_t *),
				    rte_pktmbuf_data_len(b->m[i]), pi, post->src_addr, post->dst_addr,
				    sport, dport) < 0) {
			b->drop[i] = 1;
			core->cnt.nat_dropped++;
			continue;
		}
		core->cnt.nat_translated++;
	}
}

static void
record(struct dpf_app *app, struct dpf_rx_core *core, struct burst *b)
{
	struct dpf_flow_counters *out[DPF_BURST];
	struct dpf_shard *sh = core->active;
	uint32_t i;

	for (i = 0; i < b->n; i++)
		dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], b->action[i]);
	if (sh == NULL || sh->ft == NULL) {
		core->cnt.lost_no_table += b->n;
		for (i = 0; i < b->n; i++) {
			if (sh != NULL)
				sh->lost_pkts[b->iface[i]]++;
			else
				carry_lost[core->index][b->iface[i]]++;
		}
		return;
	}
	core->cnt.flows_created += dpf_ft_lookup_or_insert_burst(sh->ft, b->keys, b->n, out);
	for (i = 0; i < b->n; i++) {
		if (unlikely(out[i] == NULL)) {
			core->cnt.lost_table_full++;
			sh->lost_pkts[b->iface[i]]++;
			continue;
		}
		dpf_flow_counters_add(out[i], b->pi[i].l3_len, b->t_ns[i], b->pi[i].tcp_flags);
		core->cnt.logged_packets++;
		core->iface_pkts[b->iface[i]]++;
		if (unlikely(b->masq[i])) {
			struct dpf_ft_entry *e = container_of(out[i], struct dpf_ft_entry, c);

			if (e->pad == 0 && sh->n_views < sh->max_views) {
				sh->views[sh->n_views] = b->post[i];
				e->pad = dpf_shard_view_tag(core->index, sh->n_views++);
			}
		}
	}
	(void)app;
}

/* Classify, translate, count, then transmit or free the collected packets. */
static void
flush_burst(struct dpf_app *app, struct dpf_rx_core *core, struct burst *b)
{
	uint32_t i;

	if (b->n == 0)
		return;
	classify(app, core, b);
	if (app->forward) {
		for (i = 0; i < b->n; i++) {
			b->drop[i] = 0;
			dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], b->action[i]);
		}
		translate(app, core, b);
	} else {
		for (i = 0; i < b->n; i++)
			core->cnt.acl_rejected += b->action[i] == DPF_ACTION_REJECT;
	}
	if (app->forward)
		for (i = 0; i < b->n; i++)
			core->cnt.acl_rejected += b->action[i] == DPF_ACTION_REJECT;
	record(app, core, b);
	/* Monitor mode frees the whole burst at once (a third of the cost of
	 * freeing one by one, bench_datapath). */
	if (!app->forward) {
		rte_pktmbuf_free_bulk(b->m, b->n);
		b->n = 0;
		return;
	}
	for (i = 0; i < b->n; i++) {
		if (!b->drop[i])
			b->tx[b->n_tx++] = b->m[i];
		else
			rte_pktmbuf_free(b->m[i]);
	}
	b->n = 0;
}

static void
transmit(struct dpf_app *app, struct dpf_rx_core *core, uint16_t port, struct burst *b)
{
	uint16_t peer = app->fwd_peer[port], sent = 0;

	if (b->n_tx == 0)
		return;
	if (peer != DPF_PORT_NONE)
		sent = rte_eth_tx_burst(peer, core->index, b->tx, (uint16_t)b->n_tx);
	core->cnt.tx_packets += sent;
	if (sent < b->n_tx) {
		core->cnt.tx_dropped += b->n_tx - sent;
		rte_pktmbuf_free_bulk(&b->tx[sent], b->n_tx - sent);
	}
	b->n_tx = 0;
}

static inline uint64_t
packet_time_ns(const struct dpf_app *app, const struct rte_mbuf *m, uint64_t fallback)
{
	if (likely(m->ol_flags & app->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, app->ts_offset, const uint64_t *) * 1000ull;
	return fallback;
}

static void
process_burst(struct dpf_app *app, struct dpf_rx_core *core, const struct dpf_rxq_ref *ref,
	      struct rte_mbuf **pkts, uint16_t n)
{
	struct burst b;
	uint64_t now_ns = app->clock == DPF_CLOCK_WALL ? dpf_wall_ns(app) : 0;
	uint64_t newest = core->last_ns;
	uint16_t i;

	/* The wall clock never steps back (lib/clock holds instead), but a read
	 * racing a new conversion can come out a few ns early: never earlier
	 * than this core has already seen, or a packet could land in a window
	 * the core has closed. */
	if (now_ns != 0 && now_ns < newest)
		now_ns = newest;

	b.n = 0;
	b.n_tx = 0;
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	core->cnt.rx_packets += n;
	core->cnt.rx_by_port[ref->port] += n;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dpf_pkt_info *pi;
		const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
		enum dpf_pkt_result res;
		uint16_t iface;
		uint64_t t;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		t = now_ns ? now_ns : packet_time_ns(app, m, newest);
		if (t > newest)
			newest = t;
		if (unlikely(t < core->active_start_ns || t >= core->active_end_ns)) {
			uint64_t w, end;

			dpf_window_bounds(t, &w, &end);
			if (w < core->done_upto) {
				core->cnt.late++;
				goto pass_through;
			}
			flush_burst(app, core, &b);
			open_window(app, core, w, end);
		}
		/* After the flush above: the slot index restarts at 0 there. */
		pi = &b.pi[b.n];
		res = dpf_pkt_parse(frame, rte_pktmbuf_data_len(m), pi);
		if (unlikely(res != DPF_PKT_OK)) {
			if (res == DPF_PKT_NOT_IP) {
				core->cnt.not_ip++;
				goto pass_through;
			}
			core->cnt.malformed++;
			core->cnt.malformed_by_reason[res]++;
			rte_pktmbuf_free(m);
			continue;
		}
		core->cnt.parsed++;
		iface = dpf_iface_lookup(app, ref->port, frame, pi);
		if (unlikely(iface == DPF_IFACE_NONE)) {
			core->cnt.unmatched++;
			goto pass_through;
		}
		if (unlikely(pi->frag != DPF_PKT_FRAG_NONE))
			dpf_frag_cache_apply(core->frag, pi);
		b.pip[b.n] = pi;
		b.m[b.n] = m;
		b.t_ns[b.n] = t;
		b.iface[b.n] = iface;
		b.rule_ids[b.n] = 0;
		b.n++;
		continue;
pass_through:
		/* Not logged: forward mode passes it on unchanged (ARP and the
		 * like keep the network working), monitor mode frees it. */
		if (app->forward)
			b.tx[b.n_tx++] = m;
		else
			rte_pktmbuf_free(m);
	}
	flush_burst(app, core, &b);
	transmit(app, core, ref->port, &b);
	__atomic_store_n(&core->last_ns, newest, __ATOMIC_RELAXED);
}

/*
 * `flush`: hand the open shard to the pipeline now. The window stays open
 * (done_upto does not move): the next packet of it opens a new shard, which
 * the merge sums with what comes later.
 */
static void
flush_requested(struct dpf_rx_core *core)
{
	struct dpf_app *app = &dpf_app;
	uint32_t gen = __atomic_load_n(&app->flush_gen, __ATOMIC_ACQUIRE);

	if (likely(gen == core->flush_seen))
		return;
	retire(core);
	core->active_start_ns = UINT64_MAX;
	core->active_end_ns = 0;
	__atomic_store_n(&core->active_flows, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&core->flush_seen, gen, __ATOMIC_RELEASE);
}

/* Packet clock without a replay source: the newest time any core has seen. */
static uint64_t
newest_time_all_cores(const struct dpf_app *app)
{
	uint64_t t = 0;
	uint16_t c;

	for (c = 0; c < app->n_cores; c++) {
		uint64_t v = __atomic_load_n(&app->cores[c].last_ns, __ATOMIC_RELAXED);

		if (v > t)
			t = v;
	}
	return t;
}

int
dpf_rx_lcore_main(void *arg)
{
	struct dpf_rx_core *core = arg;
	struct dpf_app *app = &dpf_app;
	struct rte_mbuf *pkts[DPF_BURST];
	bool replay = app->replay_port >= 0;
	unsigned int idle = 0;

	for (;;) {
		bool source_done = false;
		uint64_t watermark = 0, t;
		uint32_t got = 0;
		uint16_t q, n;

		if (app->stop)
			break;
		flush_requested(core);
		if (replay) {
			/* Read before polling: an empty poll after this means every
			 * packet up to the watermark has been taken. */
			source_done = __atomic_load_n(&app->source_done, __ATOMIC_ACQUIRE);
			watermark = __atomic_load_n(&app->watermark_ns, __ATOMIC_ACQUIRE);
		}
		for (q = 0; q < core->n_rxq && app->polling; q++) {
			n = rte_eth_rx_burst(core->rxq[q].port, core->rxq[q].queue, pkts, DPF_BURST);
			if (n == 0)
				continue;
			got += n;
			process_burst(app, core, &core->rxq[q], pkts, n);
		}
		if (core->active != NULL && core->active->ft == NULL)
			attach_table(app, core);
		if (got != 0) {
			idle = 0;
			__atomic_store_n(&core->active_flows,
					 core->active != NULL && core->active->ft != NULL
						 ? dpf_ft_count(core->active->ft)
						 : 0,
					 __ATOMIC_RELAXED);
			continue;
		}
		if (source_done && app->polling)
			break;
		if (app->clock == DPF_CLOCK_WALL)
			t = dpf_wall_ns(app);
		else if (replay)
			t = watermark;
		else
			t = newest_time_all_cores(app);
		if (t != 0)
			advance_to(app, core, dpf_window_start(t));
		if (++idle >= IDLE_POLLS_BEFORE_YIELD) {
			/* Costs nothing on an isolated core; lets oversubscribed
			 * test setups (more lcores than CPUs) make progress. */
			sched_yield();
			idle = 0;
		}
	}
	finish(core);
	return 0;
}
