/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pipeline: collects the shards RX cores retire, and once every core has
 * moved past a window (min of their published done_upto), merges that
 * window's shards, emits its rows in order to the writer, and gives the
 * tables and descriptors back to their cores.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "dpflow.h"
#include "log.h"

#define MAX_PENDING_WINDOWS 64
#define N_BATCHES 64
/*
 * Empty windows the pipeline closes at once (a gap in a capture; with the
 * wall clock only after it was held up or the clock jumped): up to this many
 * get a NODATA row per interface each; a longer run gets rows for its first
 * and last window only, the windows between are counted (gap-windows). During
 * a stop with the packet clock every run longer than two windows is treated so.
 */
#define GAP_NODATA_WINDOWS 60
/* Gaps described in a log line; later ones are only counted. */
#define GAP_LOG_MAX 5

struct pending_window {
	uint64_t window;
	uint32_t n;
	struct dpf_shard *shards[DPF_MAX_RX_CORES];
};

static struct {
	struct pending_window pending[MAX_PENDING_WINDOWS];
	uint32_t n_pending;
	uint64_t next_window;      /* DPF_WINDOW_NONE until the first data */
	uint64_t last_data_window; /* newest window that had a shard */
	bool have_data;
	struct dpf_merge *merge;
	struct dpf_batch *cur;     /* batch being filled */
	bool stop_sent;
	uint32_t flush_done;       /* last flush request served */
	uint64_t partial[MAX_PENDING_WINDOWS]; /* windows partly emitted by flush */
	uint32_t n_partial;
	uint32_t gaps_logged;
} pl;

int
dpf_pipeline_setup(struct dpf_app *app)
{
	struct dpf_merge_params mp = {
		.max_flows = (uint32_t)RTE_MIN((uint64_t)UINT32_MAX,
					       app->opt->flows_per_core * app->n_cores),
		.n_ifaces = app->ifmap->n_ifaces,
		.socket_id = (int)rte_socket_id(),
		.finish = dpf_rules_finish_record,
		.finish_arg = app,
	};
	unsigned int i;

	pl.merge = dpf_merge_create(&mp);
	if (pl.merge == NULL) {
		DPF_LOG(ERR, pipeline, "merge area for %u flows: %s\n", mp.max_flows,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	app->batch_free = rte_ring_create("batch_free", N_BATCHES, rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	app->batch_full = rte_ring_create("batch_full", N_BATCHES, rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (app->batch_free == NULL || app->batch_full == NULL)
		return -ENOMEM;
	for (i = 0; i < N_BATCHES; i++) {
		struct dpf_batch *b = rte_malloc("dpf_batch", sizeof(*b), RTE_CACHE_LINE_SIZE);

		if (b == NULL)
			return -ENOMEM;
		rte_ring_sp_enqueue(app->batch_free, b);
	}
	pl.next_window = DPF_WINDOW_NONE;
	if (app->clock == DPF_CLOCK_WALL) {
		/* Wall clock: every window from start-up on is logged, empty or not. */
		pl.next_window = dpf_window_plan_start(app->plan, dpf_wall_ns(app->wall));
	}
	return 0;
}

/* The pipeline may wait for the writer: only RX cores must never block. */
static struct dpf_batch *
get_batch(struct dpf_app *app)
{
	void *b;

	while (rte_ring_sc_dequeue(app->batch_free, &b) != 0) {
		if (dpf_run_output_failed(&app->run))
			return NULL;
		usleep(50);
	}
	return b;
}

static int
send_batch(struct dpf_app *app, uint32_t type, uint64_t window_end)
{
	if (pl.cur == NULL) {
		pl.cur = get_batch(app);
		if (pl.cur == NULL)
			return -EPIPE;
		pl.cur->n = 0;
	}
	pl.cur->type = type;
	pl.cur->window_end = window_end;
	while (rte_ring_sp_enqueue(app->batch_full, pl.cur) != 0)
		usleep(50);
	pl.cur = NULL;
	return 0;
}

static int
emit_rows(void *arg, const struct dpf_record *recs, uint32_t n)
{
	struct dpf_app *app = arg;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (pl.cur == NULL) {
			pl.cur = get_batch(app);
			if (pl.cur == NULL)
				return -EPIPE;
			pl.cur->n = 0;
		}
		pl.cur->recs[pl.cur->n++] = recs[i];
		if (pl.cur->n == DPF_BATCH_RECORDS_MAX && send_batch(app, DPF_BATCH_RECORDS, 0) < 0)
			return -EPIPE;
	}
	return 0;
}

static struct pending_window *
pending_find(uint64_t w, bool create)
{
	uint32_t i;

	for (i = 0; i < pl.n_pending; i++)
		if (pl.pending[i].window == w)
			return &pl.pending[i];
	if (!create || pl.n_pending == MAX_PENDING_WINDOWS)
		return NULL;
	pl.pending[pl.n_pending].window = w;
	pl.pending[pl.n_pending].n = 0;
	return &pl.pending[pl.n_pending++];
}

static void
give_back(struct dpf_app *app, struct dpf_shard *s)
{
	struct dpf_rx_core *core = &app->cores[s->core];

	dpf_shard_reset(s);
	if (s->ft != NULL) {
		rte_ring_sp_enqueue(core->free_tables, s->ft);
		s->ft = NULL;
	}
	s->views = NULL;
	s->max_views = 0;
	rte_ring_sp_enqueue(core->free_shards, s);
}

static bool
was_partial(uint64_t w, bool forget)
{
	uint32_t i;

	for (i = 0; i < pl.n_partial; i++) {
		if (pl.partial[i] == w) {
			if (forget)
				pl.partial[i] = pl.partial[--pl.n_partial];
			return true;
		}
	}
	return false;
}

static int
emit_window(struct dpf_app *app, uint64_t w)
{
	struct pending_window *pw = pending_find(w, false);
	struct dpf_merge_stats ms = {0};
	uint64_t start_ns, end_ns;
	uint64_t t0 = rte_rdtsc();
	uint64_t ns;
	uint32_t i;
	int rc;

	dpf_window_plan_bounds(app->plan, w, &start_ns, &end_ns);
	app->rs_emit = app->rs_next != NULL && w >= app->rs_next->from_ns ? app->rs_next : app->rs;
	/* A window partly emitted by flush had records: no NODATA for it. */
	dpf_merge_set_nodata(pl.merge, !was_partial(w, true));
	/* A stop left packets of this window unread (replay.c): SKIPDATA. */
	dpf_merge_set_cut(pl.merge,
			  w == __atomic_load_n(&app->replay_cut_window, __ATOMIC_RELAXED));
	rc = dpf_merge_window(pl.merge, pw ? pw->shards : NULL, pw ? pw->n : 0,
			      start_ns / 1000000000ull,
			      (uint32_t)((end_ns - start_ns) / 1000000000ull), emit_rows, app, &ms);
	dpf_merge_set_cut(pl.merge, false);
	ns = (rte_rdtsc() - t0) * 1000000000ull / dpf_wall_tsc_hz(app->wall);
	if (ns > app->pstats.merge_ns_max)
		app->pstats.merge_ns_max = ns;
	app->pstats.windows++;
	app->pstats.records += ms.records;
	app->pstats.record_packets += ms.packets;
	app->pstats.nodata_rows += ms.nodata_rows;
	app->pstats.skipdata_rows += ms.skipdata_rows;
	app->pstats.lost_pkts += ms.lost_pkts;
	if (pw != NULL) {
		for (i = 0; i < pw->n; i++)
			give_back(app, pw->shards[i]);
		*pw = pl.pending[--pl.n_pending];
	}
	if (rc < 0)
		return rc;
	pl.next_window = end_ns;
	return send_batch(app, DPF_BATCH_WINDOW_END, end_ns / 1000000000ull);
}

static void
collect(struct dpf_app *app)
{
	uint16_t c;
	void *s;

	for (c = 0; c < app->n_cores; c++) {
		while (rte_ring_sc_dequeue(app->cores[c].retired, &s) == 0) {
			struct dpf_shard *sh = s;
			struct pending_window *pw = pending_find(sh->window, true);

			if (pw == NULL) {
				/* Cannot happen: descriptors per core bound the windows
				 * in flight below MAX_PENDING_WINDOWS. */
				give_back(app, sh);
				continue;
			}
			pw->shards[pw->n++] = sh;
			if (!pl.have_data || sh->window > pl.last_data_window)
				pl.last_data_window = sh->window;
			/* Only before the first emission can a shard be older than
			 * next_window: later ones are above every core's done_upto. */
			if (pl.next_window == DPF_WINDOW_NONE || sh->window < pl.next_window)
				pl.next_window = sh->window;
			pl.have_data = true;
		}
	}
}

/*
 * flush: once every core has handed over its open shard, emit what the open
 * windows hold so far. They stay open: what comes later is emitted when they
 * close, without a NODATA row.
 */
static void
serve_flush(struct dpf_app *app)
{
	uint32_t req = __atomic_load_n(&app->flush_gen, __ATOMIC_ACQUIRE);
	uint16_t c;

	if (req == pl.flush_done)
		return;
	for (c = 0; c < app->n_cores; c++)
		if (__atomic_load_n(&app->cores[c].flush_seen, __ATOMIC_ACQUIRE) != req &&
		    !__atomic_load_n(&app->cores[c].finished, __ATOMIC_ACQUIRE))
			return;
	collect(app);
	while (pl.n_pending > 0) {
		struct pending_window *pw = &pl.pending[0];
		struct dpf_merge_stats ms;
		uint64_t w = pw->window, start_ns, end_ns;
		uint32_t i;

		for (i = 1; i < pl.n_pending; i++)
			if (pl.pending[i].window < w)
				pw = &pl.pending[i];
		w = pw->window;
		dpf_window_plan_bounds(app->plan, w, &start_ns, &end_ns);
		app->rs_emit = app->rs_next != NULL && w >= app->rs_next->from_ns ? app->rs_next
										  : app->rs;
		dpf_merge_set_nodata(pl.merge, false);
		memset(&ms, 0, sizeof(ms));
		dpf_merge_window(pl.merge, pw->shards, pw->n, start_ns / 1000000000ull,
				 (uint32_t)((end_ns - start_ns) / 1000000000ull), emit_rows, app,
				 &ms);
		app->pstats.records += ms.records;
		app->pstats.record_packets += ms.packets;
		app->pstats.skipdata_rows += ms.skipdata_rows;
		app->pstats.lost_pkts += ms.lost_pkts;
		for (i = 0; i < pw->n; i++)
			give_back(app, pw->shards[i]);
		*pw = pl.pending[--pl.n_pending];
		if (!was_partial(w, false) && pl.n_partial < MAX_PENDING_WINDOWS)
			pl.partial[pl.n_partial++] = w;
		send_batch(app, DPF_BATCH_WINDOW_END, start_ns / 1000000000ull);
	}
	pl.flush_done = req;
}

/* The old rule set goes once every core uses the new one and no window of
 * the old one is left to merge. */
static void
retire_rules(struct dpf_app *app)
{
	struct dpf_ruleset *next = app->rs_next, *old;
	uint16_t c;

	if (next == NULL || pl.next_window == DPF_WINDOW_NONE || pl.next_window < next->from_ns)
		return;
	for (c = 0; c < app->n_cores; c++)
		if (__atomic_load_n(&app->cores[c].rs_seen, __ATOMIC_ACQUIRE) != next &&
		    !__atomic_load_n(&app->cores[c].finished, __ATOMIC_ACQUIRE))
			return;
	pthread_mutex_lock(&app->rs_lock);
	old = app->rs;
	app->rs = next;
	__atomic_store_n(&app->rs_next, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&app->rs_lock);
	dpf_ruleset_free(old);
}

/* The first window at or after w that has shards or was partly emitted. */
static uint64_t
next_busy_window(uint64_t w)
{
	uint64_t best = DPF_WINDOW_NONE;
	uint32_t i;

	for (i = 0; i < pl.n_pending; i++)
		if (pl.pending[i].window >= w && pl.pending[i].window < best)
			best = pl.pending[i].window;
	for (i = 0; i < pl.n_partial; i++)
		if (pl.partial[i] >= w && pl.partial[i] < best)
			best = pl.partial[i];
	return best;
}

static void
say_gap(uint64_t from_ns, uint64_t to_ns, uint64_t windows)
{
	char a[32] = "", b[32] = "";
	time_t ta = (time_t)(from_ns / 1000000000ull), tb = (time_t)(to_ns / 1000000000ull);
	struct tm tm;

	if (pl.gaps_logged > GAP_LOG_MAX)
		return;
	if (pl.gaps_logged++ == GAP_LOG_MAX) {
		DPF_LOG(NOTICE, pipeline, "further gaps are only counted (pipeline gap-windows)\n");
		return;
	}
	if (gmtime_r(&ta, &tm) != NULL)
		strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (gmtime_r(&tb, &tm) != NULL)
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	DPF_LOG(NOTICE, pipeline,
		"no packet from %s to %s (%" PRIu64 " windows): NODATA rows for its first "
		"and last window, the %" PRIu64 " between counted in pipeline gap-windows\n",
		a, b, windows, windows - 2);
}

/*
 * Emit window w, or, when w starts a run of empty windows that ends before
 * `limit` (exclusive) and is too long, its first window, then its last. A
 * run is bounded by the next window that has data, so with the packet clock
 * it is the same run whatever the number of RX cores (no core's done_upto
 * ever falls inside a gap: it is always the window of some packet).
 */
static int
emit_next(struct dpf_app *app, uint64_t limit)
{
	uint64_t w = pl.next_window, end = next_busy_window(w), n, last;
	/* A stop drains queues that may hold thousands of windows of a capture;
	 * with the wall clock the windows left are those of the last moments. */
	uint64_t max_rows = dpf_run_stopping(&app->run) && app->clock == DPF_CLOCK_PACKET ? 2 : GAP_NODATA_WINDOWS;
	int rc;

	if (end > limit)
		end = limit;
	if (end == w || end == DPF_WINDOW_NONE)
		return emit_window(app, w);
	n = dpf_window_plan_count(app->plan, w, end);
	if (n <= max_rows)
		return emit_window(app, w);
	last = dpf_window_plan_start(app->plan, end - 1);
	rc = emit_window(app, w);
	if (rc < 0)
		return rc;
	app->pstats.gap_windows += n - 2;
	say_gap(w, end, n);
	return emit_window(app, last);
}

bool
dpf_pipeline_poll(struct dpf_app *app)
{
	uint64_t min_done = DPF_WINDOW_NONE, last;
	uint16_t c;

	if (pl.stop_sent)
		return true;
	/* done_upto first, then the rings: see rx.c. */
	for (c = 0; c < app->n_cores; c++) {
		uint64_t d = __atomic_load_n(&app->cores[c].done_upto, __ATOMIC_ACQUIRE);

		if (d < min_done)
			min_done = d;
	}
	collect(app);
	if (pl.next_window == DPF_WINDOW_NONE)
		goto check_end;

	/* Packet clock: NODATA only between the first and last window with data.
	 * Wall clock: every window up to the one open at stop. */
	last = pl.have_data ? pl.last_data_window : 0;
	if (app->clock == DPF_CLOCK_WALL && min_done == DPF_WINDOW_NONE) {
		uint64_t now_w = dpf_window_plan_start(app->plan, dpf_wall_ns(app->wall));

		if (now_w > last || !pl.have_data)
			last = now_w;
	}
	while (pl.next_window < min_done &&
	       (pl.next_window <= last || (app->clock == DPF_CLOCK_WALL &&
					   min_done != DPF_WINDOW_NONE))) {
		/* Windows below min_done are complete; with the packet clock and at
		 * a wall-clock stop, nothing after `last` is emitted. */
		uint64_t limit = min_done, s, e;

		if (app->clock == DPF_CLOCK_PACKET || min_done == DPF_WINDOW_NONE) {
			dpf_window_plan_bounds(app->plan, last, &s, &e);
			if (e < limit)
				limit = e;
		}
		if (emit_next(app, limit) < 0) {
			dpf_run_stop(&app->run);
			break;
		}
	}

check_end:
	serve_flush(app);
	retire_rules(app);
	if (min_done != DPF_WINDOW_NONE)
		return false;
	collect(app);
	if (pl.n_pending != 0 && pl.next_window != DPF_WINDOW_NONE && !dpf_run_output_failed(&app->run))
		return false; /* windows above `last` still pending: next round */
	if (send_batch(app, DPF_BATCH_STOP, 0) < 0)
		dpf_run_set_output_failed(&app->run);
	pl.stop_sent = true;
	return true;
}

int
dpf_pipeline_lcore_main(void *arg)
{
	struct dpf_app *app = arg;

	while (!dpf_pipeline_poll(app))
		usleep(100);
	__atomic_store_n(&app->pipeline_done, true, __ATOMIC_RELEASE);
	return 0;
}
