/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline (app/pipeline/pipeline.c), fed through the RX cores'
 * hand-off (app/dataplane/handoff.h) by this test playing two RX cores, and
 * read through the record batches by this test playing the writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ring.h>

#include "batch.h"
#include "dpf_ft.h"
#include "dpf_test_eal.h"
#include "dpf_window.h"
#include "handoff.h"
#include "pipeline.h"

#define CORES 2
#define IFACES 2
#define L 60ull /* window length, s */
#define S 1000000000ull
#define W0 (1700000040ull * S) /* a window start (a multiple of 60 s) */
#define TABLES 3
#define DESCRIPTORS 8

static struct {
	struct dpf_handoff ho[CORES];
	struct dpf_handoffs in;
	struct dpf_batchq *q;
	struct dpf_window_plan *plan;
	struct dpf_source source;
	struct dpf_run run;
	struct dpf_pipeline *pl;
	/* Rows received, as the writer would. */
	struct dpf_record rows[256];
	unsigned int n_rows;
	uint64_t window_ends[16];
	unsigned int n_window_ends;
	bool stopped;
} t;

static struct rte_ring *
ring(const char *what, uint16_t c)
{
	static unsigned int seq;
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "tp_%s%u_%u", what, c, seq++);
	r = rte_ring_create(name, 16, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(r);
	return r;
}

static int
setup(void **state)
{
	struct dpf_pipeline_params pp = {
		.in = &t.in,
		.n_ifaces = IFACES,
		.max_flows = 1024,
		.socket_id = 0,
		.h = {.clock = DPF_CLOCK_PACKET, .source = &t.source, .run = &t.run},
	};
	uint16_t c;
	unsigned int i;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.source.cut_window = DPF_WINDOW_NONE;
	t.plan = dpf_window_plan_create(L);
	t.q = dpf_batchq_create(8, 0);
	assert_non_null(t.plan);
	assert_non_null(t.q);
	for (c = 0; c < CORES; c++) {
		struct dpf_ft_params fp = {.capacity = 256, .socket_id = 0};

		t.ho[c].retired = ring("ret", c);
		t.ho[c].free_shards = ring("fs", c);
		t.ho[c].free_tables = ring("ft", c);
		for (i = 0; i < DESCRIPTORS; i++)
			rte_ring_sp_enqueue(t.ho[c].free_shards, dpf_shard_create(IFACES, 0, 0));
		for (i = 0; i < TABLES; i++)
			rte_ring_sp_enqueue(t.ho[c].free_tables, dpf_ft_create(&fp));
	}
	t.in.n = CORES;
	t.in.core = t.ho;
	pp.h.plan = t.plan;
	pp.out = t.q;
	t.pl = dpf_pipeline_create(&pp);
	assert_non_null(t.pl);
	return 0;
}

static void
drain_ring(struct rte_ring *r, bool tables)
{
	void *p;

	while (rte_ring_sc_dequeue(r, &p) == 0) {
		if (tables)
			dpf_ft_free(p);
		else
			dpf_shard_free(p);
	}
	rte_ring_free(r);
}

static int
teardown(void **state)
{
	uint16_t c;

	(void)state;
	dpf_pipeline_free(t.pl);
	for (c = 0; c < CORES; c++) {
		drain_ring(t.ho[c].retired, false);
		drain_ring(t.ho[c].free_shards, false);
		drain_ring(t.ho[c].free_tables, true);
	}
	dpf_batchq_free(t.q);
	dpf_window_plan_free(t.plan);
	return 0;
}

/* RX core c fills a shard of window w: `pkts` packets of one flow on iface 0, `lost` on iface 1. */
static void
core_retire(uint16_t c, uint64_t w, uint8_t host, uint32_t pkts, uint64_t lost)
{
	struct dpf_shard *s;
	void *p = NULL;

	assert_int_equal(rte_ring_sc_dequeue(t.ho[c].free_shards, &p), 0);
	s = p;
	s->window = w;
	s->core = c;
	assert_int_equal(rte_ring_sc_dequeue(t.ho[c].free_tables, &p), 0);
	s->ft = p;
	if (pkts > 0) {
		struct dpf_flow_key k;
		struct dpf_flow_counters *out;
		uint32_t i;

		memset(&k, 0, sizeof(k));
		k.family = 4;
		k.proto = 17;
		k.iface = 0;
		k.src_addr[0] = 10;
		k.src_addr[3] = host;
		k.dst_addr[0] = 192;
		k.dst_addr[3] = 1;
		k.src_port = 5353;
		k.dst_port = 53;
		dpf_ft_lookup_or_insert_burst(s->ft, &k, 1, &out);
		assert_non_null(out);
		for (i = 0; i < pkts; i++)
			dpf_flow_counters_add(out, 100, w + S * (1 + i), 0);
	}
	s->lost_pkts[1] += lost;
	/* The shard first, then done_upto (the flip protocol). */
	rte_ring_sp_enqueue(t.ho[c].retired, s);
}

static void
core_done(uint16_t c, uint64_t upto)
{
	__atomic_store_n(&t.ho[c].done_upto, upto, __ATOMIC_RELEASE);
}

/* The writer's side: every batch waiting. */
static void
receive(void)
{
	struct dpf_batch *b;

	while ((b = dpf_batchq_take(t.q, DPF_BATCHQ_FULL)) != NULL) {
		uint32_t i;

		for (i = 0; i < b->n && t.n_rows < 256; i++)
			t.rows[t.n_rows++] = b->recs[i];
		if (b->type == DPF_BATCH_WINDOW_END)
			t.window_ends[t.n_window_ends++] = b->window_end;
		if (b->type == DPF_BATCH_STOP)
			t.stopped = true;
		dpf_batchq_put(t.q, DPF_BATCHQ_EMPTY, b);
	}
}

static bool
poll_and_receive(void)
{
	bool done = dpf_pipeline_poll(t.pl);

	receive();
	return done;
}

static void
test_pipeline_window_completes_only_when_every_core_is_past_it(void **state)
{
	struct dpf_pipeline_stats st;

	(void)state;
	/* Core 0 closed W0; core 1 is still in it (done_upto W0). */
	core_retire(0, W0, 1, 3, 0);
	core_done(0, W0 + L * S);
	core_done(1, W0);
	assert_false(poll_and_receive());
	assert_int_equal(t.n_rows, 0);
	assert_int_equal(t.n_window_ends, 0);
	/* Core 1 hands over its shard of W0 (same flow: summed) and moves on. */
	core_retire(1, W0, 1, 2, 0);
	core_done(1, W0 + L * S);
	assert_false(poll_and_receive());
	/* One record of 5 packets, a NODATA row for interface 1, the window end. */
	assert_int_equal(t.n_rows, 2);
	assert_int_equal(t.rows[0].log_status, DPF_LOG_OK);
	assert_int_equal(t.rows[0].packets, 5);
	assert_int_equal(t.rows[0].key.iface, 0);
	assert_int_equal(t.rows[1].log_status, DPF_LOG_NODATA);
	assert_int_equal(t.rows[1].key.iface, 1);
	assert_int_equal(t.n_window_ends, 1);
	assert_int_equal(t.window_ends[0], W0 / S + L);
	dpf_pipeline_stats_get(t.pl, &st);
	assert_int_equal(st.windows, 1);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.record_packets, 5);
	assert_int_equal(st.nodata_rows, 1);
	/* The tables and descriptors went back to their cores. */
	assert_int_equal(rte_ring_count(t.ho[0].free_tables), TABLES);
	assert_int_equal(rte_ring_count(t.ho[1].free_shards), DESCRIPTORS);
}

static void
test_pipeline_losses_give_skipdata_and_a_gap_gives_nodata(void **state)
{
	struct dpf_pipeline_stats st;

	(void)state;
	/* W0: records on iface 0, 7 packets lost on iface 1. W0+L: nothing.
	 * W0+2L: records. */
	core_retire(0, W0, 1, 1, 7);
	core_retire(1, W0 + 2 * L * S, 2, 1, 0);
	core_done(0, W0 + 3 * L * S);
	core_done(1, W0 + 3 * L * S);
	poll_and_receive();
	/* W0: OK, SKIPDATA(1); W0+L: NODATA(0), NODATA(1); W0+2L: OK, NODATA(1). */
	assert_int_equal(t.n_rows, 6);
	assert_int_equal(t.rows[0].log_status, DPF_LOG_OK);
	assert_int_equal(t.rows[1].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(t.rows[1].key.iface, 1);
	assert_int_equal(t.rows[1].start, W0 / S);
	assert_int_equal(t.rows[1].end, W0 / S + L);
	assert_int_equal(t.rows[2].log_status, DPF_LOG_NODATA);
	assert_int_equal(t.rows[2].start, W0 / S + L);
	assert_int_equal(t.rows[3].log_status, DPF_LOG_NODATA);
	assert_int_equal(t.rows[3].key.iface, 1);
	assert_int_equal(t.rows[4].log_status, DPF_LOG_OK);
	assert_int_equal(t.rows[5].log_status, DPF_LOG_NODATA);
	assert_int_equal(t.n_window_ends, 3);
	dpf_pipeline_stats_get(t.pl, &st);
	assert_int_equal(st.lost_pkts, 7);
	assert_int_equal(st.skipdata_rows, 1);
	assert_int_equal(st.nodata_rows, 3);
}

static void
test_pipeline_cut_window_and_stop(void **state)
{
	(void)state;
	/* A stop left packets of W0 unread: every interface gets SKIPDATA. */
	__atomic_store_n(&t.source.cut_window, W0, __ATOMIC_RELAXED);
	core_retire(0, W0, 1, 4, 0);
	core_done(0, DPF_WINDOW_NONE);
	assert_false(poll_and_receive()); /* core 1 has not finished */
	assert_int_equal(t.n_rows, 0);
	core_done(1, DPF_WINDOW_NONE);
	assert_true(poll_and_receive());
	assert_true(t.stopped);
	assert_int_equal(t.n_rows, 3);
	assert_int_equal(t.rows[0].log_status, DPF_LOG_OK);
	assert_int_equal(t.rows[1].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(t.rows[1].key.iface, 0);
	assert_int_equal(t.rows[2].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(t.rows[2].key.iface, 1);
	/* Once stopped, polling says so again and sends nothing more. */
	assert_true(poll_and_receive());
	assert_int_equal(t.n_rows, 3);
}

static void
test_pipeline_flush_emits_open_windows_without_nodata_later(void **state)
{
	uint16_t c;

	(void)state;
	/* Both cores hand over their open shard of W0 on a flush request. */
	core_retire(0, W0, 1, 2, 0);
	core_retire(1, W0, 1, 1, 0);
	core_done(0, W0);
	core_done(1, W0);
	__atomic_add_fetch(&t.in.flush_gen, 1, __ATOMIC_RELEASE);
	poll_and_receive();
	assert_int_equal(t.n_rows, 0); /* no core acknowledged yet */
	for (c = 0; c < CORES; c++)
		__atomic_store_n(&t.ho[c].flush_seen, t.in.flush_gen, __ATOMIC_RELEASE);
	poll_and_receive();
	/* What the window held so far, and no NODATA for interface 1. */
	assert_int_equal(t.n_rows, 1);
	assert_int_equal(t.rows[0].packets, 3);
	/* The window closes later with nothing more: no NODATA row for it. */
	core_done(0, W0 + L * S);
	core_done(1, W0 + L * S);
	poll_and_receive();
	assert_int_equal(t.n_rows, 1);
	assert_int_equal(t.window_ends[t.n_window_ends - 1], W0 / S + L);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_pipeline_window_completes_only_when_every_core_is_past_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pipeline_losses_give_skipdata_and_a_gap_gives_nodata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_cut_window_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pipeline_flush_emits_open_windows_without_nodata_later, setup,
			teardown),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
