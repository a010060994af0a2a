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
#include <unistd.h>

#include <rte_errno.h>
#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "dpf_acl.h"
#include "dpf_ft.h"
#include "dpf_nat.h"
#include "dpf_rss.h"
#include "dpflow.h"
#include "log.h"

#define SHARD_DESCRIPTORS 32 /* per core: windows that can be in flight */
#define PREFETCH_AHEAD 4
#define IDLE_POLLS_BEFORE_YIELD 64
/* Forward mode: frames handed to the peer port in one call, fragments included. */
#define TX_MAX (4 * DPF_BURST)
/* Fragments of one IPv4 packet (64 KiB at MTUs from about 1100 bytes). */
#define MAX_FRAGS 64

static uint64_t carry_lost[DPF_MAX_RX_CORES][DPF_MAX_IFACES];

static inline void
publish_u64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * Fragment cache sets: one per RSS redirection-table entry of the largest
 * table (dpf_flow.h says why), 64 slots each: 8192 with the replay's 128.
 */
#define FRAG_SLOTS_PER_SET 64

static uint32_t
frag_sets(const struct dpf_app *app)
{
	uint16_t p, most = DPF_RSS_RETA_SIZE;

	for (p = 0; p < app->n_ports; p++)
		most = RTE_MAX(most, app->port_reta_size[app->ports[p]]);
	return most;
}

/* The symmetric Toeplitz hash, for frames that arrive without an RSS hash. */
static struct dpf_rss *frag_rss;

int
dpf_rx_setup(struct dpf_app *app)
{
	char name[RTE_RING_NAMESIZE];
	uint16_t c, p;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	unsigned int i;

	app->cores = rte_zmalloc("dpf_rx_cores", app->n_cores * sizeof(*app->cores),
				 RTE_CACHE_LINE_SIZE);
	app->handoffs.core = rte_zmalloc("dpf_handoffs", app->n_cores * sizeof(struct dpf_handoff),
					 RTE_CACHE_LINE_SIZE);
	app->handoffs.n = app->n_cores;
	frag_rss = rte_malloc("dpf_frag_rss", sizeof(*frag_rss), RTE_CACHE_LINE_SIZE);
	if (app->cores == NULL || app->handoffs.core == NULL || frag_rss == NULL)
		return -ENOMEM;
	if (app->forward) {
		/* Masquerade may be added at run time: forward mode always keeps
		 * session tables and steering ready. */
		app->nat_icmp = dpf_nat_icmp_create("dpf_nat_icmp",
						    (uint32_t)app->opt->nat_sessions_per_core,
						    (int)rte_socket_id());
		app->rss = rte_malloc("dpf_rss", sizeof(*app->rss), RTE_CACHE_LINE_SIZE);
		if (app->nat_icmp == NULL || app->rss == NULL) {
			DPF_LOG(ERR, dataplane,
				"masquerade ICMP table of %" PRIu64 " sessions: out of "
				"memory; lower --nat-sessions-per-core or give EAL more memory "
				"(-m)\n",
				app->opt->nat_sessions_per_core);
			return -ENOMEM;
		}
		dpf_rss_init(app->rss, dpf_rss_symmetric_key);
		if (app->nat_shared) {
			app->nat_group = dpf_nat_group_create(app->n_cores, (int)rte_socket_id());
			if (app->nat_group == NULL)
				return -ENOMEM;
		}
	}
	dpf_rss_init(frag_rss, dpf_rss_symmetric_key);
	for (c = 0; c < app->n_cores; c++, lcore = rte_get_next_lcore(lcore, 1, 0)) {
		struct dpf_rx_core *core = &app->cores[c];
		int socket = (int)rte_lcore_to_socket_id(lcore);
		struct dpf_ft_params ftp = {
			.capacity = (uint32_t)app->opt->flows_per_core,
			.socket_id = socket,
			/* The same seed everywhere: merge order never depends on it. */
			.seed = 0x9747b28c,
		};

		core->lcore_id = lcore;
		core->index = c;
		core->ho = &app->handoffs.core[c];
		core->active = NULL;
		core->active_start_ns = UINT64_MAX;
		core->active_end_ns = 0;
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
		core->ho->free_shards = rte_ring_create(name, SHARD_DESCRIPTORS, socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(name, sizeof(name), "rx%u_free_ft", c);
		core->ho->free_tables = rte_ring_create(name, (unsigned int)app->opt->shards_per_core,
						    socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(name, sizeof(name), "rx%u_retired", c);
		core->ho->retired = rte_ring_create(name, SHARD_DESCRIPTORS, socket,
						RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		core->frag = dpf_frag_cache_create(frag_sets(app), FRAG_SLOTS_PER_SET, socket);
		if (core->ho->free_shards == NULL || core->ho->free_tables == NULL ||
		    core->ho->retired == NULL || core->frag == NULL) {
			DPF_LOG(ERR, dataplane, "RX core %u: %s\n", c, rte_strerror(rte_errno));
			return -rte_errno;
		}
		core->rs = dpf_rules_first(app->rules);
		core->acl_rule_hits = rte_zmalloc_socket("dpf_acl_hits",
			(DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t), RTE_CACHE_LINE_SIZE, socket);
		core->iface_pkts = rte_zmalloc_socket("dpf_iface_pkts",
			app->ifmap->n_ifaces * sizeof(uint64_t), RTE_CACHE_LINE_SIZE, socket);
		if (core->acl_rule_hits == NULL || core->iface_pkts == NULL)
			return -ENOMEM;
		if (app->opt->acl_stateful) {
			struct dpf_conntrack_params cp = {
				.name = name,
				.capacity = (uint32_t)app->opt->conntrack_per_core,
				.socket_id = socket,
				.timeout_ns = app->opt->conntrack_timeout * 1000000000ull,
			};

			snprintf(name, sizeof(name), "ct%u", c);
			core->ct = dpf_conntrack_create(&cp);
			if (core->ct == NULL) {
				DPF_LOG(ERR, dataplane,
					"RX core %u: connection table of %" PRIu64
					" connections: %s%s\n",
					c, app->opt->conntrack_per_core, rte_strerror(rte_errno),
					rte_errno == ENOMEM
						? "; lower --conntrack-per-core or give "
						  "EAL more memory (-m)"
						: "");
				return -rte_errno;
			}
		}
		if (app->forward) {
			struct dpf_nat_sessions_params np = {
				.name = name,
				.capacity = (uint32_t)app->opt->nat_sessions_per_core,
				.socket_id = socket,
				.nat = core->rs->nat,
				.icmp = app->nat_icmp,
				.rss = app->rss,
				.n_queues = app->n_cores,
				.queue = c,
				.reta_size = app->port_reta_size[app->ports[0]],
				.timeout_ns = app->opt->nat_timeout * 1000000000ull,
				.group = app->nat_group,
			};

			snprintf(name, sizeof(name), "nat%u", c);
			core->nat = dpf_nat_sessions_create(&np);
			if (core->nat == NULL) {
				DPF_LOG(ERR, dataplane, "RX core %u: masquerade sessions: %s%s\n",
					c, rte_strerror(rte_errno),
					rte_errno == ENOMEM ? "; lower --nat-sessions-per-core or "
							      "give EAL more memory (-m)"
							    : "");
				return -rte_errno;
			}
		}
		for (i = 0; i < SHARD_DESCRIPTORS; i++) {
			struct dpf_shard *s = dpf_shard_create(app->ifmap->n_ifaces, 0, socket);

			if (s == NULL || rte_ring_sp_enqueue(core->ho->free_shards, s) != 0) {
				DPF_LOG(ERR, dataplane, "RX core %u: shard descriptors: %s\n", c,
					rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		for (i = 0; i < app->opt->shards_per_core; i++) {
			struct dpf_ft *ft = dpf_ft_create(&ftp);

			/* Masquerade views travel with the table they describe. */
			core->tables[i] = ft;
			if (core->nat != NULL) {
				core->max_views = (uint32_t)RTE_MIN(app->opt->flows_per_core,
								    (uint64_t)DPF_SHARD_MAX_VIEWS);
				core->views[i] = rte_malloc_socket("dpf_views",
					core->max_views * sizeof(struct dpf_flow_nat),
					RTE_CACHE_LINE_SIZE, socket);
				if (core->views[i] == NULL)
					return -ENOMEM;
			}

			if (ft == NULL || rte_ring_sp_enqueue(core->ho->free_tables, ft) != 0) {
				DPF_LOG(ERR, dataplane,
					"RX core %u: flow table of %" PRIu64
					" flows (%zu bytes per flow): %s; lower --flows-per-core "
					"or give EAL more memory (-m)\n",
					c, app->opt->flows_per_core,
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
	/*
	 * Offline sources wait for the pipeline instead of losing packets; so
	 * does every source while a stop drains the queues (there is no line
	 * rate left to keep up with). A failed writer frees nothing any more.
	 */
	if ((!app->offline && !dpf_run_stopping(&app->run)) || dpf_run_output_failed(&app->run))
		return false;
	/* Asleep rather than yielding: with more lcores than CPUs a spinning
	 * core would take the CPU the pipeline needs to free a table. */
	usleep(20);
	return true;
}

static void
retire(struct dpf_rx_core *core)
{
	if (core->active == NULL)
		return;
	/* The ring holds every descriptor of this core: it cannot be full. */
	rte_ring_sp_enqueue(core->ho->retired, core->active);
	core->cnt.windows_retired++;
	core->active = NULL;
}

static void
attach_table(struct dpf_app *app, struct dpf_rx_core *core)
{
	void *ft;

	unsigned int k;

	while (rte_ring_sc_dequeue(core->ho->free_tables, &ft) != 0)
		if (!offline_wait(app))
			return;
	core->active->ft = ft;
	core->active->n_views = 0;
	for (k = 0; k < app->opt->shards_per_core; k++) {
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
	const struct dpf_ruleset *next = dpf_rules_enter_window(app->rules, w);

	if (next == core->rs)
		return;
	core->rs = next;
	/* Sessions name rules by index: a new rule set starts them afresh. */
	if (core->nat != NULL)
		dpf_nat_sessions_reset(core->nat, next->nat);
	memset(core->acl_rule_hits, 0, (DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t));
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
	publish_u64(&core->ho->done_upto, w);
	core->active_start_ns = w;
	core->active_end_ns = end;
	while (rte_ring_sc_dequeue(core->ho->free_shards, &s) != 0) {
		if (!offline_wait(app))
			return; /* no descriptor: this window's packets are carried as lost */
	}
	core->active = s;
	core->active->window = w;
	core->active->core = core->index;
	for (i = 0; i < app->ifmap->n_ifaces; i++) {
		core->active->lost_pkts[i] += carry_lost[core->index][i];
		carry_lost[core->index][i] = 0;
	}
	attach_table(app, core);
}

/* Idle: the clock reached the window starting at w without a packet here. */
static void
advance_to(struct dpf_app *app, struct dpf_rx_core *core, uint64_t w)
{
	if (w <= core->ho->done_upto)
		return;
	retire(core);
	expire_state(app, core, w);
	core->active_start_ns = UINT64_MAX;
	core->active_end_ns = 0;
	publish_u64(&core->ho->done_upto, w);
}

static void
finish(struct dpf_rx_core *core)
{
	dpf_nat_sessions_offline(core->nat);
	retire(core);
	dpf_rules_offline(dpf_app.rules, core->index);
	publish_u64(&core->ho->done_upto, DPF_WINDOW_NONE);
	__atomic_store_n(&core->ho->finished, true, __ATOMIC_RELEASE);
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
	uint8_t keep_view[DPF_BURST]; /* a view the pipeline cannot compute (session, ICMP error) */
	uint8_t drop[DPF_BURST];    /* forward mode: do not transmit */
	uint8_t masq_reply[DPF_BURST]; /* accepted only if its masquerade session exists */
	uint8_t frag_unknown[DPF_BURST]; /* later fragment whose first fragment was not seen */
	uint8_t nat_reject[DPF_BURST];   /* REJECT because NAT cannot translate it */
	uint8_t unsent[DPF_BURST];       /* forward mode: accepted, not sent: not logged */
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

/* NAT cannot translate it, and it is never sent untranslated: dropped and
 * logged as REJECT (doc/records.md). */
static void
nat_drop(struct dpf_rx_core *core, struct burst *b, uint32_t i)
{
	b->drop[i] = 1;
	b->action[i] = DPF_ACTION_REJECT;
	b->nat_reject[i] = 1;
	core->cnt.nat_dropped++;
}

/*
 * ICMP and ICMPv6 error messages (RFC 5508): the outer header and the quoted
 * packet are translated together. Returns false when the packet is not an
 * error message whose quote can be read (it is then handled like any other).
 */
static bool
translate_icmp_error(struct dpf_rx_core *core, struct burst *b, uint32_t i)
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
	rc = dpf_nat_icmp_error_view(core->rs->nat, core->nat, &b->keys[i], &q, echo, in.icmp_id,
				     &b->post[i], &qpost, &qid, &rule);
	if (b->masq_reply[i]) {
		/* Only a masquerade session admits it past the stateful ACL. */
		if (rc != 1) {
			b->action[i] = DPF_ACTION_REJECT;
			b->drop[i] = 1;
			core->cnt.acl_dropped++;
			return true;
		}
		core->cnt.acl_reply_accepted++;
	}
	if (rc < 0) {
		nat_drop(core, b, i);
		return true;
	}
	if (rc == 0)
		return true;
	if (dpf_pkt_icmp_error_rewrite(frame, len, pi, &in, b->post[i].src_addr,
				       b->post[i].dst_addr, qpost.src_addr, qpost.dst_addr,
				       in.has_icmp_id ? qid : qpost.src_port,
				       in.has_icmp_id ? qid : qpost.dst_port) < 0) {
		nat_drop(core, b, i);
		return true;
	}
	/* The pipeline cannot compute this view again from the tuple. */
	b->keep_view[i] = 1;
	core->cnt.nat_translated++;
	return true;
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

		b->keep_view[i] = 0;
		b->nat_reject[i] = 0;
		if (b->action[i] != DPF_ACTION_ACCEPT) {
			b->drop[i] = 1;
			core->cnt.acl_dropped++;
			continue;
		}
		if (unlikely((pi->proto == IPPROTO_ICMP || pi->proto == IPPROTO_ICMPV6) &&
			     pi->has_l4 && !pi->has_icmp_id) &&
		    translate_icmp_error(core, b, i))
			continue;
		/* Its ports are unknown: a rule that translates by port cannot be applied. */
		if (unlikely(b->frag_unknown[i]) && dpf_nat_needs_ports(core->rs->nat, k)) {
			nat_drop(core, b, i);
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
			if (rc < 0 ||
			    (rc == 0 && dpf_nat_masquerade_missed(core->rs->nat, k, post))) {
				nat_drop(core, b, i);
				continue;
			}
			b->keep_view[i] = rc == 1;
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
			nat_drop(core, b, i);
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
		if (unlikely(b->keep_view[i])) {
			struct dpf_ft_entry *e = container_of(out[i], struct dpf_ft_entry, c);

			if (e->pad == 0 && sh->n_views < sh->max_views) {
				sh->views[sh->n_views] = b->post[i];
				e->pad = dpf_shard_view_tag(core->index, sh->n_views++);
			}
		}
	}
	(void)app;
}

/* A fragment in one mbuf of pool, for a port that takes no chains. */
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
fragment(struct dpf_app *app, uint16_t peer, struct rte_mbuf *m, const struct dpf_pkt_info *pi,
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
	nf = rte_ipv4_fragment_packet(m, out, MAX_FRAGS, app->port_mtu[peer], app->frag_direct,
				      app->frag_indirect);
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
	for (k = 0; k < nf && !app->port_multiseg[peer]; k++) {
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
tx_flush(struct dpf_rx_core *core, uint16_t peer, struct rte_mbuf **tx, const uint8_t *owner,
	 uint32_t n, struct burst *b)
{
	uint16_t sent = n != 0 ? rte_eth_tx_burst(peer, core->index, tx, (uint16_t)n) : 0;
	uint32_t j;

	core->cnt.tx_packets += sent;
	for (j = sent; j < n; j++) {
		if (!b->unsent[owner[j]]) {
			b->unsent[owner[j]] = 1;
			core->cnt.tx_dropped++;
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
send_accepted(struct dpf_app *app, struct dpf_rx_core *core, uint16_t port, struct burst *b)
{
	struct rte_mbuf *tx[TX_MAX];
	uint8_t owner[TX_MAX];
	uint16_t peer = app->fwd_peer[port];
	uint32_t n = 0, i;

	for (i = 0; i < b->n; i++) {
		struct rte_mbuf *frags[MAX_FRAGS];
		int nf, k;

		if (b->drop[i])
			continue;
		if (unlikely(peer == DPF_PORT_NONE)) {
			b->unsent[i] = 1;
			core->cnt.tx_dropped++;
			rte_pktmbuf_free(b->m[i]);
			continue;
		}
		if (likely(b->pi[i].l3_len <= app->port_mtu[peer])) {
			if (n == TX_MAX) {
				tx_flush(core, peer, tx, owner, n, b);
				n = 0;
			}
			tx[n] = b->m[i];
			owner[n++] = (uint8_t)i;
			continue;
		}
		nf = fragment(app, peer, b->m[i], &b->pi[i], frags);
		if (nf < 0) {
			b->unsent[i] = 1;
			if (nf == -EMSGSIZE)
				core->cnt.tx_too_big++;
			else
				core->cnt.tx_dropped++;
			continue;
		}
		core->cnt.tx_fragmented++;
		if (n + (uint32_t)nf > TX_MAX) {
			tx_flush(core, peer, tx, owner, n, b);
			n = 0;
		}
		for (k = 0; k < nf; k++) {
			tx[n] = frags[k];
			owner[n++] = (uint8_t)i;
		}
	}
	tx_flush(core, peer, tx, owner, n, b);
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

/* Classify, translate, send (forward mode), count; then free what is left. */
static void
flush_burst(struct dpf_app *app, struct dpf_rx_core *core, uint16_t port, struct burst *b)
{
	uint32_t i, unsent = 0;

	if (b->n == 0)
		return;
	classify(app, core, b);
	if (app->forward) {
		for (i = 0; i < b->n; i++) {
			b->drop[i] = 0;
			b->unsent[i] = 0;
			dpf_flow_key_from_pkt(&b->keys[i], &b->pi[i], b->iface[i], b->action[i]);
		}
		translate(app, core, b);
		for (i = 0; i < b->n; i++)
			core->cnt.acl_rejected +=
				b->action[i] == DPF_ACTION_REJECT && !b->nat_reject[i];
		send_accepted(app, core, port, b);
		for (i = 0; i < b->n; i++)
			unsent += b->unsent[i];
		if (unlikely(unsent != 0))
			compact_unsent(b);
	} else {
		for (i = 0; i < b->n; i++)
			core->cnt.acl_rejected += b->action[i] == DPF_ACTION_REJECT;
	}
	record(app, core, b);
	/* Monitor mode frees the whole burst at once (a third of the cost of
	 * freeing one by one, bench_datapath). */
	if (!app->forward) {
		rte_pktmbuf_free_bulk(b->m, b->n);
		b->n = 0;
		return;
	}
	/* What was sent belongs to the peer port now. */
	for (i = 0; i < b->n; i++)
		if (b->drop[i])
			rte_pktmbuf_free(b->m[i]);
	b->n = 0;
}

/* Forward mode: frames passed on unlogged (not IP, no interface, late). */
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
		core->cnt.tx_dropped_unlogged += b->n_tx - sent;
		rte_pktmbuf_free_bulk(&b->tx[sent], b->n_tx - sent);
	}
	b->n_tx = 0;
}

/*
 * Ports for a fragment from the core's cache. The set is the datagram's RETA
 * entry: from the RSS hash that steered it here, or (one queue: no RSS, no
 * hash) the same symmetric Toeplitz hash computed here, so that one core
 * sees exactly the competition for slots that several would.
 */
static enum dpf_frag_result
apply_fragment(const struct dpf_app *app, struct dpf_rx_core *core, uint16_t port,
	       const struct rte_mbuf *m, struct dpf_pkt_info *pi)
{
	uint32_t hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss
							       : dpf_rss_hash_pkt(frag_rss, pi);
	enum dpf_frag_result r =
		dpf_frag_cache_apply(core->frag, pi, hash % app->port_reta_size[port]);

	if (r == DPF_FRAG_EVICTED)
		core->cnt.frag_evicted++;
	else if (r == DPF_FRAG_NOT_FOUND)
		core->cnt.frag_without_first++;
	return r;
}

static inline uint64_t
packet_time_ns(const struct dpf_app *app, const struct rte_mbuf *m, uint64_t fallback)
{
	if (likely(m->ol_flags & app->ts_flag)) {
		uint64_t us = *RTE_MBUF_DYNFIELD(m, app->ts_offset, const uint64_t *);

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
static void
anchor_from_burst(struct dpf_app *app, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t t[DPF_BURST];
	unsigned int k = 0;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (!(pkts[i]->ol_flags & app->ts_flag))
			continue;
		t[k] = packet_time_ns(app, pkts[i], 0);
		if (dpf_timecheck_verdict(app->tc, t[k], 0, 0) == DPF_TIME_OK)
			k++;
	}
	if (k > 0)
		dpf_timecheck_offer_anchor(app->tc, dpf_time_median(t, k));
}

static uint64_t newest_time_all_cores(const struct dpf_app *app);

static void
process_burst(struct dpf_app *app, struct dpf_rx_core *core, const struct dpf_rxq_ref *ref,
	      struct rte_mbuf **pkts, uint16_t n)
{
	struct burst b;
	uint64_t now_ns = app->clock == DPF_CLOCK_WALL ? dpf_wall_ns(app->wall) : 0;
	uint64_t newest = core->last_ns;
	/* The replay source has judged its packets' times already (replay.c). */
	bool check_time = app->clock == DPF_CLOCK_PACKET && ref->port != app->replay_port;
	uint64_t anchor = 0, newest_all = 0;
	uint16_t i;

	/* The wall clock never steps back (lib/clock holds instead), but a read
	 * racing a new conversion can come out a few ns early: never earlier
	 * than this core has already seen, or a packet could land in a window
	 * the core has closed. */
	if (now_ns != 0 && now_ns < newest)
		now_ns = newest;

	if (unlikely(check_time)) {
		anchor = dpf_timecheck_anchor(app->tc);
		if (anchor == 0) {
			anchor_from_burst(app, pkts, n);
			anchor = dpf_timecheck_anchor(app->tc);
		}
		newest_all = newest_time_all_cores(app);
	}
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
		if (unlikely(check_time) &&
		    dpf_timecheck_verdict(app->tc, t, anchor, RTE_MAX(newest, newest_all)) != DPF_TIME_OK) {
			core->cnt.bad_time++;
			goto pass_through;
		}
		if (t > newest)
			newest = t;
		if (unlikely(t < core->active_start_ns || t >= core->active_end_ns)) {
			uint64_t w, end;

			dpf_window_plan_bounds(app->plan, t, &w, &end);
			if (w < core->ho->done_upto) {
				core->cnt.late++;
				goto pass_through;
			}
			flush_burst(app, core, ref->port, &b);
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
		if (unlikely(app->forward &&
			     (uint32_t)pi->l3_offset + pi->l3_len > rte_pktmbuf_data_len(m))) {
			/* Cut by the receiving port (af_packet: a reassembled datagram
			 * longer than its ring frame): it cannot be sent whole. */
			core->cnt.short_frames++;
			rte_pktmbuf_free(m);
			continue;
		}
		iface = dpf_ifmap_lookup(app->ifmap, ref->port, frame, pi);
		if (unlikely(iface == DPF_IFACE_NONE)) {
			core->cnt.unmatched++;
			goto pass_through;
		}
		b.frag_unknown[b.n] = 0;
		if (unlikely(pi->frag != DPF_PKT_FRAG_NONE))
			b.frag_unknown[b.n] = apply_fragment(app, core, ref->port, m, pi) ==
					      DPF_FRAG_NOT_FOUND;
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
	flush_burst(app, core, ref->port, &b);
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
	uint32_t gen = __atomic_load_n(&app->handoffs.flush_gen, __ATOMIC_ACQUIRE);

	if (likely(gen == core->ho->flush_seen))
		return;
	retire(core);
	core->active_start_ns = UINT64_MAX;
	core->active_end_ns = 0;
	__atomic_store_n(&core->active_flows, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&core->ho->flush_seen, gen, __ATOMIC_RELEASE);
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

/*
 * A stop: how many bursts each queue may still give. The replay rings are
 * drained until the replay thread has ended (it stops reading first); other
 * queues once, a ring's worth of descriptors, since a live port keeps
 * receiving (net_pcap's infinite_rx never runs dry).
 */
static void
drain_budget(const struct dpf_app *app, const struct dpf_rx_core *core, uint32_t *budget)
{
	uint16_t q;

	for (q = 0; q < core->n_rxq; q++) {
		struct rte_eth_rxq_info qi;
		uint32_t desc = 4096;

		if (core->rxq[q].port == app->replay_port) {
			budget[q] = UINT32_MAX;
			continue;
		}
		if (rte_eth_rx_queue_info_get(core->rxq[q].port, core->rxq[q].queue, &qi) == 0 &&
		    qi.nb_desc != 0)
			desc = qi.nb_desc;
		budget[q] = desc / DPF_BURST + 1;
	}
}

int
dpf_rx_lcore_main(void *arg)
{
	struct dpf_rx_core *core = arg;
	struct dpf_app *app = &dpf_app;
	struct rte_mbuf *pkts[DPF_BURST];
	uint32_t budget[DPF_MAX_PORTS];
	bool replay = app->replay_port >= 0;
	bool draining = false;
	unsigned int idle = 0;

	for (;;) {
		bool source_done = false;
		uint64_t watermark = 0, t;
		uint32_t got = 0;
		uint16_t q, n;

		if (unlikely(dpf_run_stopping(&app->run)) && !draining) {
			/* Packets already queued go into records, not nowhere. */
			draining = true;
			drain_budget(app, core, budget);
		}
		/* No rule set or shared session pointer is held across this point. */
		dpf_rules_quiescent(app->rules, core->index);
		dpf_nat_sessions_quiescent(core->nat);
		flush_requested(core);
		if (replay) {
			/* Read before polling: an empty poll after this means every
			 * packet up to the watermark has been taken. */
			source_done = __atomic_load_n(&app->source.done, __ATOMIC_ACQUIRE);
			watermark = __atomic_load_n(&app->source.watermark_ns, __ATOMIC_ACQUIRE);
		}
		for (q = 0; q < core->n_rxq; q++) {
			if (draining ? budget[q] == 0 : !dpf_run_polling(&app->run))
				continue;
			n = rte_eth_rx_burst(core->rxq[q].port, core->rxq[q].queue, pkts, DPF_BURST);
			if (draining && budget[q] != UINT32_MAX && (n == 0 || --budget[q] == 0))
				budget[q] = 0;
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
		/* Drained: every queue's budget is spent or it ran dry, and the
		 * replay source (if any) has ended with its rings empty. */
		if (draining && (!replay || source_done))
			break;
		if (source_done && dpf_run_polling(&app->run))
			break;
		if (app->clock == DPF_CLOCK_WALL)
			t = dpf_wall_ns(app->wall);
		else if (replay)
			t = watermark;
		else
			t = newest_time_all_cores(app);
		if (t != 0)
			advance_to(app, core, dpf_window_plan_start(app->plan, t));
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
