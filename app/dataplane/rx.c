/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An RX lcore's loop: poll, hand each burst to the engine, flip windows,
 * hand shards over, drain at a stop.
 *
 * Window protocol (handoff.h, doc/architecture.md): each core owns the shard
 * of its open window. When a packet's time (or, when idle, the clock) passes
 * the window end, the core enqueues the shard on its `retired` ring and then
 * publishes `done_upto` (release). The pipeline reads `done_upto` (acquire)
 * before draining the ring, so it never decides a window is complete while
 * one of its shards is still on the way. Nothing on this path takes a lock,
 * allocates or logs.
 */
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "lcore.h"

#define IDLE_POLLS_BEFORE_YIELD 64

static inline void
publish_u64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline bool
offline_wait(struct dpf_lcore *lc)
{
	const struct dpf_dp_shared *sh = lc->sh;
	uint64_t t0;

	/*
	 * Offline sources wait for the pipeline instead of losing packets; so
	 * does every source while a stop drains the queues (there is no line
	 * rate left to keep up with). A failed writer frees nothing any more.
	 */
	if ((!sh->offline && !dpf_run_stopping(sh->run)) || dpf_run_output_failed(sh->run))
		return false;
	/* Asleep rather than yielding: with more lcores than CPUs a spinning
	 * core would take the CPU the pipeline needs to free a table. */
	t0 = rte_rdtsc();
	usleep(20);
	/* Kept apart from busy-cycles: the pipeline's pace, not this core's work. */
	lc->cnt.wait_cycles += rte_rdtsc() - t0;
	return true;
}

static void
retire(struct dpf_lcore *lc)
{
	if (lc->active == NULL)
		return;
	/* The ring holds every descriptor of this core: it cannot be full. */
	rte_ring_sp_enqueue(lc->ho->retired, lc->active);
	lc->cnt.windows_retired++;
	lc->active = NULL;
}

static void
attach_table(struct dpf_lcore *lc)
{
	void *ft;
	unsigned int k;

	while (rte_ring_sc_dequeue(lc->ho->free_tables, &ft) != 0)
		if (!offline_wait(lc))
			return;
	lc->active->ft = ft;
	lc->active->n_views = 0;
	/* Masquerade views travel with the table they describe. */
	for (k = 0; k < lc->sh->shards_per_core; k++) {
		if (lc->tables[k] == ft) {
			lc->active->views = lc->views[k];
			lc->active->max_views = lc->views[k] != NULL ? lc->max_views : 0;
			lc->active->tun_ends = lc->tun_ends[k];
		}
	}
}

/*
 * Window flips are the core's housekeeping points: take the rule set of the
 * new window (rules.h), forget idle state.
 */
static void
enter_window(struct dpf_lcore *lc, uint64_t w)
{
	const struct dpf_ruleset *rs = dpf_rules_enter_window(lc->sh->rules, w);

	if (rs != lc->rs) {
		lc->rs = rs;
		/* Sessions name rules by index: a new rule set starts them afresh. */
		if (lc->nat != NULL)
			dpf_nat_sessions_reset(lc->nat, rs->nat);
		memset(lc->acl_rule_hits, 0, (DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t));
	}
	if (lc->ct != NULL)
		dpf_conntrack_expire(lc->ct, w);
	if (lc->nat != NULL)
		dpf_nat_sessions_expire(lc->nat, w);
}

void
dpf_lcore_open_window(struct dpf_lcore *lc, uint64_t w, uint64_t end)
{
	void *s;
	uint16_t i;

	retire(lc);
	enter_window(lc, w);
	publish_u64(&lc->ho->done_upto, w);
	lc->active_start_ns = w;
	lc->active_end_ns = end;
	while (rte_ring_sc_dequeue(lc->ho->free_shards, &s) != 0) {
		if (!offline_wait(lc))
			return; /* no descriptor: this window's packets are carried as lost */
	}
	lc->active = s;
	lc->active->window = w;
	lc->active->core = lc->index;
	for (i = 0; i < lc->sh->n_ifaces; i++) {
		lc->active->lost_pkts[i] += lc->carry_lost[i];
		lc->carry_lost[i] = 0;
	}
	attach_table(lc);
}

/* Idle: the clock reached the window starting at w without a packet here. */
static void
advance_to(struct dpf_lcore *lc, uint64_t w)
{
	if (w <= lc->ho->done_upto)
		return;
	retire(lc);
	enter_window(lc, w);
	lc->active_start_ns = UINT64_MAX;
	lc->active_end_ns = 0;
	publish_u64(&lc->ho->done_upto, w);
}

static void
finish(struct dpf_lcore *lc)
{
	dpf_nat_sessions_offline(lc->nat);
	dpf_rules_offline(lc->sh->rules, lc->index);
	retire(lc);
	publish_u64(&lc->ho->done_upto, DPF_WINDOW_NONE);
	__atomic_store_n(&lc->ho->finished, true, __ATOMIC_RELEASE);
}

/*
 * `flush`: hand the open shard to the pipeline now. The window stays open
 * (done_upto does not move): the next packet of it opens a new shard, which
 * the merge sums with what comes later.
 */
static void
flush_requested(struct dpf_lcore *lc)
{
	uint32_t gen = __atomic_load_n(&lc->sh->handoffs->flush_gen, __ATOMIC_ACQUIRE);

	if (likely(gen == lc->ho->flush_seen))
		return;
	retire(lc);
	lc->active_start_ns = UINT64_MAX;
	lc->active_end_ns = 0;
	__atomic_store_n(&lc->active_flows, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->ho->flush_seen, gen, __ATOMIC_RELEASE);
}

uint64_t
dpf_lcore_newest_all(const struct dpf_dp_shared *sh)
{
	uint64_t t = 0;
	uint16_t c;

	for (c = 0; c < sh->n_cores; c++) {
		uint64_t v = __atomic_load_n(&sh->lcores[c].last_ns, __ATOMIC_RELAXED);

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
drain_budget(const struct dpf_lcore *lc, uint32_t *budget)
{
	uint16_t q;

	for (q = 0; q < lc->n_rxq; q++) {
		struct rte_eth_rxq_info qi;
		uint32_t desc = 4096;

		if (lc->rxq[q].port == lc->sh->ports.replay_port) {
			budget[q] = UINT32_MAX;
			continue;
		}
		if (rte_eth_rx_queue_info_get(lc->rxq[q].port, lc->rxq[q].queue, &qi) == 0 &&
		    qi.nb_desc != 0)
			desc = qi.nb_desc;
		budget[q] = desc / DPF_BURST + 1;
	}
}

/* One round over the core's queues. @return the packets received */
static uint32_t
poll_queues(struct dpf_lcore *lc, uint32_t *budget, bool draining)
{
	struct rte_mbuf *pkts[DPF_BURST];
	bool polling = dpf_run_polling(lc->sh->run);
	uint32_t got = 0;
	uint16_t q, n;

	for (q = 0; q < lc->n_rxq; q++) {
		if (draining ? budget[q] == 0 : !polling)
			continue;
		n = rte_eth_rx_burst(lc->rxq[q].port, lc->rxq[q].queue, pkts, DPF_BURST);
		if (draining && budget[q] != UINT32_MAX && (n == 0 || --budget[q] == 0))
			budget[q] = 0;
		if (n == 0)
			continue;
		got += n;
		lc->engine->burst(lc, &lc->rxq[q], pkts, n);
	}
	if (lc->active != NULL && lc->active->ft == NULL)
		attach_table(lc);
	return got;
}

/* Idle: move the open window to the clock's (wall time, the replay's
 * watermark, or the newest time of every core). */
static void
idle(struct dpf_lcore *lc, uint64_t watermark)
{
	const struct dpf_dp_shared *sh = lc->sh;
	uint64_t t;

	if (sh->clock == DPF_CLOCK_WALL)
		t = dpf_wall_ns(sh->wall);
	else if (sh->source != NULL)
		t = watermark;
	else
		t = dpf_lcore_newest_all(sh);
	if (t != 0)
		advance_to(lc, dpf_window_plan_start(sh->plan, t));
}

int
dpf_rx_lcore_main(void *arg)
{
	struct dpf_lcore *lc = arg;
	const struct dpf_dp_shared *sh = lc->sh;
	uint32_t budget[DPF_MAX_PORTS];
	bool draining = false;
	unsigned int idle_polls = 0;

	for (;;) {
		bool source_done = false;
		uint64_t watermark = 0, t0, waited;

		if (unlikely(dpf_run_stopping(sh->run)) && !draining) {
			/* Packets already queued go into records, not nowhere. */
			draining = true;
			drain_budget(lc, budget);
		}
		/* No rule set or shared session pointer is held across this point. */
		dpf_rules_quiescent(sh->rules, lc->index);
		dpf_nat_sessions_quiescent(lc->nat);
		flush_requested(lc);
		if (sh->source != NULL) {
			/* Read before polling: an empty poll after this means every
			 * packet up to the watermark has been taken. */
			source_done = __atomic_load_n(&sh->source->done, __ATOMIC_ACQUIRE);
			watermark = __atomic_load_n(&sh->source->watermark_ns, __ATOMIC_ACQUIRE);
		}
		t0 = rte_rdtsc();
		waited = lc->cnt.wait_cycles;
		if (poll_queues(lc, budget, draining) != 0) {
			/* What the core spends on packets, apart from its idle
			 * polls and its waits for a free table (wait-cycles):
			 * measured so that side-by-side runs can tell this
			 * core's own cost from the machine's. */
			lc->cnt.busy_cycles += rte_rdtsc() - t0 - (lc->cnt.wait_cycles - waited);
			idle_polls = 0;
			__atomic_store_n(&lc->active_flows,
					 lc->active != NULL && lc->active->ft != NULL
						 ? dpf_ft_count(lc->active->ft)
						 : 0,
					 __ATOMIC_RELAXED);
			continue;
		}
		/* Drained: every queue's budget is spent or it ran dry, and the
		 * replay source (if any) has ended with its rings empty. */
		if (draining && (sh->source == NULL || source_done))
			break;
		if (source_done && dpf_run_polling(sh->run))
			break;
		idle(lc, watermark);
		if (++idle_polls >= IDLE_POLLS_BEFORE_YIELD) {
			/* Costs nothing on an isolated core; lets oversubscribed
			 * test setups (more lcores than CPUs) make progress. */
			sched_yield();
			idle_polls = 0;
		}
	}
	finish(lc);
	return 0;
}
