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

#include "dpf_ft.h"
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
				core->rxq[core->n_rxq].iface = app->port_iface[port];
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
		for (i = 0; i < SHARD_DESCRIPTORS; i++) {
			struct dpf_shard *s = dpf_shard_create(app->n_ifaces, socket);

			if (s == NULL || rte_ring_sp_enqueue(core->free_shards, s) != 0) {
				fprintf(stderr, "dpflow: RX core %u: shard descriptors: %s\n", c,
					rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		for (i = 0; i < app->cfg.opt.shards_per_core; i++) {
			struct dpf_ft *ft = dpf_ft_create(&ftp);

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

	while (rte_ring_sc_dequeue(core->free_tables, &ft) != 0)
		if (!offline_wait(app))
			return;
	core->active->ft = ft;
}

/* Close the open window and open window w (w > every window seen). */
static void
open_window(struct dpf_app *app, struct dpf_rx_core *core, uint64_t w)
{
	void *s;
	uint16_t i;

	retire(core);
	publish_u64(&core->done_upto, w);
	core->active_start_ns = w * app->window_ns;
	core->active_end_ns = core->active_start_ns + app->window_ns;
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

/* Idle: the clock passed window w without a packet for this core. */
static void
advance_to(struct dpf_app *app, struct dpf_rx_core *core, uint64_t w)
{
	if (w <= core->done_upto)
		return;
	retire(core);
	core->active_start_ns = UINT64_MAX;
	core->active_end_ns = 0;
	publish_u64(&core->done_upto, w);
	(void)app;
}

static void
finish(struct dpf_rx_core *core)
{
	retire(core);
	publish_u64(&core->done_upto, DPF_WINDOW_NONE);
	__atomic_store_n(&core->finished, true, __ATOMIC_RELEASE);
}

struct burst_keys {
	struct dpf_flow_key keys[DPF_BURST];
	uint64_t t_ns[DPF_BURST];
	uint32_t l3_len[DPF_BURST];
	uint8_t tcp_flags[DPF_BURST];
	uint32_t n;
};

static void
flush_keys(struct dpf_rx_core *core, struct burst_keys *bk, uint16_t iface)
{
	struct dpf_flow_counters *out[DPF_BURST];
	uint32_t i;

	if (bk->n == 0)
		return;
	core->cnt.flows_created +=
		dpf_ft_lookup_or_insert_burst(core->active->ft, bk->keys, bk->n, out);
	for (i = 0; i < bk->n; i++) {
		if (unlikely(out[i] == NULL)) {
			core->cnt.lost_table_full++;
			core->active->lost_pkts[iface]++;
			continue;
		}
		dpf_flow_counters_add(out[i], bk->l3_len[i], bk->t_ns[i], bk->tcp_flags[i]);
		core->cnt.logged_packets++;
	}
	bk->n = 0;
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
	struct burst_keys bk;
	uint64_t now_ns = app->clock == DPF_CLOCK_WALL ? dpf_wall_ns(app) : 0;
	uint64_t newest = core->last_ns;
	uint16_t i;

	bk.n = 0;
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	core->cnt.rx_packets += n;
	core->cnt.rx_by_port[ref->port] += n;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dpf_pkt_info pi;
		enum dpf_pkt_result res;
		uint64_t t;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		t = now_ns ? now_ns : packet_time_ns(app, m, newest);
		if (t > newest)
			newest = t;
		if (unlikely(t < core->active_start_ns || t >= core->active_end_ns)) {
			uint64_t w = t / app->window_ns;

			if (w < core->done_upto) {
				core->cnt.late++;
				continue;
			}
			flush_keys(core, &bk, ref->iface);
			open_window(app, core, w);
		}
		res = dpf_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				    &pi);
		if (unlikely(res != DPF_PKT_OK)) {
			if (res == DPF_PKT_NOT_IP) {
				core->cnt.not_ip++;
			} else {
				core->cnt.malformed++;
				core->cnt.malformed_by_reason[res]++;
			}
			continue;
		}
		core->cnt.parsed++;
		if (unlikely(pi.frag != DPF_PKT_FRAG_NONE))
			dpf_frag_cache_apply(core->frag, &pi);
		if (unlikely(core->active == NULL || core->active->ft == NULL)) {
			core->cnt.lost_no_table++;
			if (core->active != NULL)
				core->active->lost_pkts[ref->iface]++;
			else
				carry_lost[core->index][ref->iface]++;
			continue;
		}
		dpf_flow_key_from_pkt(&bk.keys[bk.n], &pi, ref->iface, DPF_ACTION_ACCEPT);
		bk.t_ns[bk.n] = t;
		bk.l3_len[bk.n] = pi.l3_len;
		bk.tcp_flags[bk.n] = pi.tcp_flags;
		bk.n++;
	}
	if (core->active != NULL && core->active->ft != NULL)
		flush_keys(core, &bk, ref->iface);
	rte_pktmbuf_free_bulk(pkts, n);
	__atomic_store_n(&core->last_ns, newest, __ATOMIC_RELAXED);
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
		if (replay) {
			/* Read before polling: an empty poll after this means every
			 * packet up to the watermark has been taken. */
			source_done = __atomic_load_n(&app->source_done, __ATOMIC_ACQUIRE);
			watermark = __atomic_load_n(&app->watermark_ns, __ATOMIC_ACQUIRE);
		}
		for (q = 0; q < core->n_rxq; q++) {
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
			continue;
		}
		if (source_done)
			break;
		if (app->clock == DPF_CLOCK_WALL)
			t = dpf_wall_ns(app);
		else if (replay)
			t = watermark;
		else
			t = newest_time_all_cores(app);
		if (t != 0)
			advance_to(app, core, t / app->window_ns);
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
