/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline (pipeline.h): pending windows, the merge of complete ones,
 * NODATA and SKIPDATA rows, record batches to the writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_window.h"
#include "log.h"
#include "pipeline.h"
#include "dpf_util.h"

#define MAX_PENDING_WINDOWS 64
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

struct dpf_pipeline {
	struct dpf_pipeline_params p;
	struct pending_window pending[MAX_PENDING_WINDOWS];
	uint32_t n_pending;
	uint64_t next_window;	   /* DPF_WINDOW_NONE until the first data */
	uint64_t last_data_window; /* newest window that had a shard */
	bool have_data;
	struct dpf_merge *merge;
	struct dpf_rules_finish finish; /* the rule set of the window being merged */
	struct dpf_batch *cur;		/* batch being filled */
	bool stop_sent;
	bool done;			       /* the lcore's loop has ended (release) */
	uint32_t flush_done;		       /* last flush request served */
	uint64_t partial[MAX_PENDING_WINDOWS]; /* windows partly emitted by flush */
	uint32_t n_partial;
	uint32_t gaps_logged;
	struct dpf_pipeline_stats st; /* one writer: this thread */
};

struct dpf_pipeline *
dpf_pipeline_create(const struct dpf_pipeline_params *p)
{
	struct dpf_pipeline *pl =
		rte_zmalloc_socket("dpf_pipeline", sizeof(*pl), RTE_CACHE_LINE_SIZE, p->socket_id);
	struct dpf_merge_params mp = {
		.max_flows = p->max_flows,
		.n_ifaces = p->n_ifaces,
		.socket_id = p->socket_id,
	};

	if (pl == NULL)
		return dpf_null_errno(ENOMEM);
	pl->p = *p;
	pl->finish.ifmap = p->h.ifmap;
	if (p->h.rules != NULL) {
		mp.finish = dpf_rules_finish_record;
		mp.finish_arg = &pl->finish;
	}
	pl->merge = dpf_merge_create(&mp);
	if (pl->merge == NULL) {
		DPF_LOG(ERR, pipeline, "merge area for %u flows: %s\n", mp.max_flows,
			rte_strerror(rte_errno));
		return dpf_null_free(pl);
	}
	pl->next_window = DPF_WINDOW_NONE;
	/* Wall clock: every window from start-up on is logged, empty or not. */
	if (p->h.clock == DPF_CLOCK_WALL)
		pl->next_window = dpf_window_plan_start(p->h.plan, dpf_wall_ns(p->h.wall));
	return pl;
}

void
dpf_pipeline_free(struct dpf_pipeline *pl)
{
	if (pl == NULL)
		return;
	dpf_merge_free(pl->merge);
	rte_free(pl);
}

bool
dpf_pipeline_done(const struct dpf_pipeline *pl)
{
	return __atomic_load_n(&pl->done, __ATOMIC_ACQUIRE);
}

void
dpf_pipeline_stats_get(const struct dpf_pipeline *pl, struct dpf_pipeline_stats *st)
{
	const uint64_t *in = (const uint64_t *)&pl->st;
	uint64_t *out = (uint64_t *)st;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		out[i] = dpf_counter_read(&in[i]);
}

/* Single writer, relaxed readers (run.h): a store, not a read-modify-write. */
static inline void
count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- batches */

/* The pipeline may wait for the writer: only RX cores must never block. */
static struct dpf_batch *
get_batch(struct dpf_pipeline *pl)
{
	struct dpf_batch *b;

	while ((b = dpf_batchq_take(pl->p.out, DPF_BATCHQ_EMPTY)) == NULL) {
		if (dpf_run_output_failed(pl->p.h.run))
			return NULL;
		usleep(50);
	}
	b->n = 0;
	return b;
}

static int
send_batch(struct dpf_pipeline *pl, uint32_t type, uint64_t window_end)
{
	if (pl->cur == NULL) {
		pl->cur = get_batch(pl);
		if (pl->cur == NULL)
			return -EPIPE;
	}
	pl->cur->type = type;
	pl->cur->window_end = window_end;
	dpf_batchq_put(pl->p.out, DPF_BATCHQ_FULL, pl->cur);
	pl->cur = NULL;
	return 0;
}

static int
emit_rows(void *arg, const struct dpf_record *recs, uint32_t n)
{
	struct dpf_pipeline *pl = arg;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (pl->cur == NULL) {
			pl->cur = get_batch(pl);
			if (pl->cur == NULL)
				return -EPIPE;
		}
		pl->cur->recs[pl->cur->n++] = recs[i];
		if (pl->cur->n == DPF_BATCH_RECORDS_MAX && send_batch(pl, DPF_BATCH_RECORDS, 0) < 0)
			return -EPIPE;
	}
	return 0;
}

/* ---------------------------------------------------------------- windows */

static struct pending_window *
pending_find(struct dpf_pipeline *pl, uint64_t w, bool create)
{
	uint32_t i;

	for (i = 0; i < pl->n_pending; i++)
		if (pl->pending[i].window == w)
			return &pl->pending[i];
	if (!create || pl->n_pending == MAX_PENDING_WINDOWS)
		return NULL;
	pl->pending[pl->n_pending].window = w;
	pl->pending[pl->n_pending].n = 0;
	return &pl->pending[pl->n_pending++];
}

/* The shard's table and descriptor go back to the core that filled it. */
static void
give_back(struct dpf_pipeline *pl, struct dpf_shard *s)
{
	struct dpf_handoff *h = &pl->p.in->core[s->core];

	dpf_shard_reset(s);
	if (s->ft != NULL) {
		rte_ring_sp_enqueue(h->free_tables, s->ft);
		s->ft = NULL;
	}
	s->views = NULL;
	s->max_views = 0;
	s->tun_ends = NULL;
	rte_ring_sp_enqueue(h->free_shards, s);
}

/* A pending window is done: its shards go back, its slot is reused. */
static void
pending_release(struct dpf_pipeline *pl, struct pending_window *pw)
{
	uint32_t i;

	for (i = 0; i < pw->n; i++)
		give_back(pl, pw->shards[i]);
	*pw = pl->pending[--pl->n_pending];
}

static bool
was_partial(struct dpf_pipeline *pl, uint64_t w, bool forget)
{
	uint32_t i;

	for (i = 0; i < pl->n_partial; i++) {
		if (pl->partial[i] == w) {
			if (forget)
				pl->partial[i] = pl->partial[--pl->n_partial];
			return true;
		}
	}
	return false;
}

/* Merge the shards of window w (any of them: none gives NODATA rows) into rows. */
static int
merge(struct dpf_pipeline *pl, uint64_t w, struct pending_window *pw, struct dpf_merge_stats *ms)
{
	uint64_t start_ns, end_ns;

	dpf_window_plan_bounds(pl->p.h.plan, w, &start_ns, &end_ns);
	if (pl->p.h.rules != NULL)
		pl->finish.rs = dpf_rules_for_window(pl->p.h.rules, w);
	memset(ms, 0, sizeof(*ms));
	return dpf_merge_window(pl->merge, pw != NULL ? pw->shards : NULL, pw != NULL ? pw->n : 0,
				start_ns / NS_PER_SEC, (uint32_t)((end_ns - start_ns) / NS_PER_SEC),
				emit_rows, pl, ms);
}

static void
count_merge(struct dpf_pipeline *pl, const struct dpf_merge_stats *ms)
{
	count(&pl->st.records, ms->records);
	count(&pl->st.record_packets, ms->packets);
	count(&pl->st.nodata_rows, ms->nodata_rows);
	count(&pl->st.skipdata_rows, ms->skipdata_rows);
	count(&pl->st.lost_pkts, ms->lost_pkts);
}

static int
emit_window(struct dpf_pipeline *pl, uint64_t w)
{
	struct pending_window *pw = pending_find(pl, w, false);
	uint64_t cut = pl->p.h.source != NULL
			       ? __atomic_load_n(&pl->p.h.source->cut_window, __ATOMIC_RELAXED)
			       : DPF_WINDOW_NONE;
	struct dpf_merge_stats ms;
	uint64_t t0 = dpf_mono_ns(), ns, start_ns, end_ns;
	int rc;

	/* A window partly emitted by flush had records: no NODATA for it. */
	dpf_merge_set_nodata(pl->merge, !was_partial(pl, w, true));
	/* A stop left packets of this window unread (replay.c): SKIPDATA. */
	dpf_merge_set_cut(pl->merge, w == cut);
	rc = merge(pl, w, pw, &ms);
	dpf_merge_set_cut(pl->merge, false);
	ns = dpf_mono_ns() - t0;
	if (ns > pl->st.merge_ns_max)
		__atomic_store_n(&pl->st.merge_ns_max, ns, __ATOMIC_RELAXED);
	count(&pl->st.windows, 1);
	count_merge(pl, &ms);
	if (pw != NULL)
		pending_release(pl, pw);
	if (rc < 0)
		return rc;
	dpf_window_plan_bounds(pl->p.h.plan, w, &start_ns, &end_ns);
	pl->next_window = end_ns;
	return send_batch(pl, DPF_BATCH_WINDOW_END, end_ns / NS_PER_SEC);
}

static void
collect(struct dpf_pipeline *pl)
{
	uint16_t c;
	void *s;

	for (c = 0; c < pl->p.in->n; c++) {
		while (rte_ring_sc_dequeue(pl->p.in->core[c].retired, &s) == 0) {
			struct dpf_shard *sh = s;
			struct pending_window *pw = pending_find(pl, sh->window, true);

			if (pw == NULL) {
				/* Cannot happen: descriptors per core bound the windows
				 * in flight below MAX_PENDING_WINDOWS. */
				give_back(pl, sh);
				continue;
			}
			pw->shards[pw->n++] = sh;
			if (!pl->have_data || sh->window > pl->last_data_window)
				pl->last_data_window = sh->window;
			/* Only before the first emission can a shard be older than
			 * next_window: later ones are above every core's done_upto. */
			if (pl->next_window == DPF_WINDOW_NONE || sh->window < pl->next_window)
				pl->next_window = sh->window;
			pl->have_data = true;
		}
	}
}

/*
 * flush: once every core has handed over its open shard, emit what the open
 * windows hold so far. They stay open: what comes later is emitted when they
 * close, without a NODATA row.
 */
static void
serve_flush(struct dpf_pipeline *pl)
{
	uint32_t req = __atomic_load_n(&pl->p.in->flush_gen, __ATOMIC_ACQUIRE);
	uint16_t c;

	if (req == pl->flush_done)
		return;
	for (c = 0; c < pl->p.in->n; c++)
		if (!dpf_handoff_flushed(&pl->p.in->core[c], req))
			return;
	collect(pl);
	while (pl->n_pending > 0) {
		struct pending_window *pw = &pl->pending[0];
		struct dpf_merge_stats ms;
		uint64_t w, s, e;
		uint32_t i;

		for (i = 1; i < pl->n_pending; i++)
			if (pl->pending[i].window < pw->window)
				pw = &pl->pending[i];
		w = pw->window;
		dpf_merge_set_nodata(pl->merge, false);
		merge(pl, w, pw, &ms);
		count_merge(pl, &ms);
		pending_release(pl, pw);
		if (!was_partial(pl, w, false) && pl->n_partial < MAX_PENDING_WINDOWS)
			pl->partial[pl->n_partial++] = w;
		dpf_window_plan_bounds(pl->p.h.plan, w, &s, &e);
		send_batch(pl, DPF_BATCH_WINDOW_END, s / NS_PER_SEC);
	}
	pl->flush_done = req;
}

/* The first window at or after w that has shards or was partly emitted. */
static uint64_t
next_busy_window(const struct dpf_pipeline *pl, uint64_t w)
{
	uint64_t best = DPF_WINDOW_NONE;
	uint32_t i;

	for (i = 0; i < pl->n_pending; i++)
		if (pl->pending[i].window >= w && pl->pending[i].window < best)
			best = pl->pending[i].window;
	for (i = 0; i < pl->n_partial; i++)
		if (pl->partial[i] >= w && pl->partial[i] < best)
			best = pl->partial[i];
	return best;
}

static void
say_gap(struct dpf_pipeline *pl, uint64_t from_ns, uint64_t to_ns, uint64_t windows)
{
	char a[32], b[32];

	if (pl->gaps_logged > GAP_LOG_MAX)
		return;
	if (pl->gaps_logged++ == GAP_LOG_MAX) {
		DPF_LOG(NOTICE, pipeline, "further gaps are only counted (pipeline gap-windows)\n");
		return;
	}
	dpf_utc_text(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", from_ns / NS_PER_SEC);
	dpf_utc_text(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", to_ns / NS_PER_SEC);
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
emit_next(struct dpf_pipeline *pl, uint64_t limit)
{
	uint64_t w = pl->next_window, end = next_busy_window(pl, w), n, last;
	/* A stop drains queues that may hold thousands of windows of a capture;
	 * with the wall clock the windows left are those of the last moments. */
	uint64_t max_rows = dpf_run_stopping(pl->p.h.run) && pl->p.h.clock == DPF_CLOCK_PACKET
				    ? 2
				    : GAP_NODATA_WINDOWS;
	int rc;

	if (end > limit)
		end = limit;
	if (end == w || end == DPF_WINDOW_NONE)
		return emit_window(pl, w);
	n = dpf_window_plan_count(pl->p.h.plan, w, end);
	if (n <= max_rows)
		return emit_window(pl, w);
	last = dpf_window_plan_start(pl->p.h.plan, end - 1);
	rc = emit_window(pl, w);
	if (rc < 0)
		return rc;
	count(&pl->st.gap_windows, n - 2);
	say_gap(pl, w, end, n);
	return emit_window(pl, last);
}

/* done_upto first, then the rings (handoff.h): the minimum over the cores. */
static uint64_t
min_done(const struct dpf_pipeline *pl)
{
	uint64_t m = DPF_WINDOW_NONE;
	uint16_t c;

	for (c = 0; c < pl->p.in->n; c++) {
		uint64_t d = __atomic_load_n(&pl->p.in->core[c].done_upto, __ATOMIC_ACQUIRE);

		if (d < m)
			m = d;
	}
	return m;
}

/*
 * Emit the complete windows. Packet clock: NODATA only between the first
 * and last window with data. Wall clock: every window up to the one open at
 * stop.
 */
static void
emit_complete(struct dpf_pipeline *pl, uint64_t done)
{
	bool wall = pl->p.h.clock == DPF_CLOCK_WALL;
	uint64_t last = pl->have_data ? pl->last_data_window : 0;

	if (wall && done == DPF_WINDOW_NONE) {
		uint64_t now_w = dpf_window_plan_start(pl->p.h.plan, dpf_wall_ns(pl->p.h.wall));

		if (now_w > last || !pl->have_data)
			last = now_w;
	}
	while (pl->next_window < done &&
	       (pl->next_window <= last || (wall && done != DPF_WINDOW_NONE))) {
		/* Windows below done are complete; with the packet clock and at a
		 * wall-clock stop, nothing after `last` is emitted. */
		uint64_t limit = done, s, e;

		if (!wall || done == DPF_WINDOW_NONE) {
			dpf_window_plan_bounds(pl->p.h.plan, last, &s, &e);
			if (e < limit)
				limit = e;
		}
		if (emit_next(pl, limit) < 0) {
			dpf_run_set_stopping(pl->p.h.run, true);
			break;
		}
	}
}

/* The oldest window an RX core may still open or this pipeline still merge. */
static uint64_t
oldest_window(const struct dpf_pipeline *pl, uint64_t done)
{
	uint64_t oldest = RTE_MIN(done, pl->next_window);
	uint32_t i;

	for (i = 0; i < pl->n_pending; i++)
		oldest = RTE_MIN(oldest, pl->pending[i].window);
	return oldest;
}

bool
dpf_pipeline_poll(struct dpf_pipeline *pl)
{
	uint64_t done;

	if (pl->stop_sent)
		return true;
	done = min_done(pl);
	collect(pl);
	if (pl->next_window != DPF_WINDOW_NONE)
		emit_complete(pl, done);
	serve_flush(pl);
	if (pl->p.h.rules != NULL)
		dpf_rules_reclaim(pl->p.h.rules, oldest_window(pl, done));
	if (done != DPF_WINDOW_NONE)
		return false;
	collect(pl);
	if (pl->n_pending != 0 && pl->next_window != DPF_WINDOW_NONE &&
	    !dpf_run_output_failed(pl->p.h.run))
		return false; /* windows above `last` still pending: next round */
	if (send_batch(pl, DPF_BATCH_STOP, 0) < 0)
		dpf_run_set_output_failed(pl->p.h.run, true);
	pl->stop_sent = true;
	return true;
}

int
dpf_pipeline_lcore_main(void *arg)
{
	struct dpf_pipeline *pl = arg;

	while (!dpf_pipeline_poll(pl))
		usleep(100);
	__atomic_store_n(&pl->done, true, __ATOMIC_RELEASE);
	return 0;
}
