/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection pass benchmark (doc/performance.md, "Connection records").
 *
 * --conns N connections (IPv4 TCP, 20% IPv6), each seen in both directions:
 * 2N merged records per window, in random order, handed to lib/conn as the
 * IBM exporter does (dpf_conn_add per record, dpf_conn_window_close, every
 * flow log read with dpf_conn_log_next). Two windows are timed per
 * repetition: the first opens every connection, the second finds them all.
 * The thread's CPU time is reported (the machine is shared), with the wall
 * time beside it. After each window the flow logs are checked: one per
 * connection, every packet in one.
 */
#include <getopt.h>
#include <inttypes.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_conn.h"

#include "bench_util.h"

#define NS 1000000000ull
#define WINDOW_NS (60 * NS)
#define START_NS (1700000040ull * NS)
#define BATCH 256

static struct dpf_record *
make_records(uint32_t conns, double v6_share, uint64_t *rng)
{
	struct dpf_record *r = rte_zmalloc(NULL, (size_t)conns * 2 * sizeof(*r), 64);
	uint32_t i, j;

	if (r == NULL)
		return NULL;
	for (i = 0; i < conns; i++) {
		struct dpf_record *a = &r[2 * i], *b = &r[2 * i + 1];
		uint32_t client = 0x0a000000u + (i >> 6), server = 0xc0000200u + (i & 63);

		a->key.family = bench_rand01(rng) < v6_share ? 6 : 4;
		a->key.proto = 6;
		memcpy(a->key.src_addr, &client, 4);
		memcpy(a->key.dst_addr, &server, 4);
		if (a->key.family == 6) {
			a->key.src_addr[15] = 1;
			a->key.dst_addr[15] = 2;
		}
		a->key.src_port = (uint16_t)(1024 + (i % 60000));
		a->key.dst_port = 443;
		a->packets = 10;
		a->bytes = 1000;
		a->tcp_flags_all = 0x1b;
		a->tcp_flags_aws = 0x03;
		*b = *a;
		memcpy(b->key.src_addr, a->key.dst_addr, 16);
		memcpy(b->key.dst_addr, a->key.src_addr, 16);
		b->key.src_port = a->key.dst_port;
		b->key.dst_port = a->key.src_port;
		b->tcp_flags_aws = 0x13;
		a->post.src_port = a->key.src_port;
		b->post.src_port = b->key.src_port;
	}
	/* Shuffle: the records of a window come sorted by key, which is no order
	 * the hash table cares for; random is the fair case. */
	for (i = 2 * conns - 1; i > 0; i--) {
		struct dpf_record t;

		j = bench_rand_below(rng, i + 1);
		t = r[i];
		r[i] = r[j];
		r[j] = t;
	}
	return r;
}

static int
run_window(struct dpf_conn_table *t, struct dpf_record *r, uint32_t conns, uint64_t w_ns,
	   double *cpu_s, double *wall_s)
{
	uint64_t logs = 0, pkts = 0, t0 = rte_get_tsc_cycles();
	double c0 = bench_thread_cpu_s();
	struct dpf_conn_log l;
	uint32_t i;

	for (i = 0; i < 2 * conns; i++) {
		r[i].first_ns = w_ns + 1 + (i & 1023);
		r[i].last_ns = r[i].first_ns + 1000;
	}
	c0 = bench_thread_cpu_s();
	t0 = rte_get_tsc_cycles();
	/* In the writer's batches (DPF_BATCH_RECORDS_MAX rows), as the exporter does. */
	for (i = 0; i < 2 * conns; i += BATCH) {
		uint32_t n = RTE_MIN(2 * conns - i, (uint32_t)BATCH);

		if (dpf_conn_add_burst(t, &r[i], n, NULL) != n) {
			struct dpf_conn_stats st;

			dpf_conn_stats_get(t, &st);
			fprintf(stderr, "bench_conn: records refused: %" PRIu64 " (table full)\n",
				st.records_full);
			return -1;
		}
	}
	dpf_conn_window_close(t, w_ns + WINDOW_NS);
	while (dpf_conn_log_next(t, &l)) {
		logs++;
		pkts += l.packets_from_initiator + l.packets_from_target;
	}
	*cpu_s = bench_thread_cpu_s() - c0;
	*wall_s = (double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz();
	if (logs != conns || pkts != 20ull * conns) {
		fprintf(stderr, "bench_conn: %" PRIu64 " logs, %" PRIu64 " packets\n", logs, pkts);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"conns", required_argument, NULL, 'c'},
		{"reps", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct bench_samples cpu[2] = {0}, wall[2] = {0};
	uint32_t conns = 1000000, reps = 3, rep, w;
	uint64_t rng = 0x243f6a8885a308d3ull;
	struct dpf_record *recs;
	int opt, ret = rte_eal_init(argc, argv);

	if (ret < 0)
		return 1;
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'c')
			conns = (uint32_t)strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			reps = (uint32_t)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	bench_print_machine(stdout);
	recs = make_records(conns, 0.2, &rng);
	if (recs == NULL)
		return 1;
	for (rep = 0; rep < reps; rep++) {
		struct dpf_conn_params p = {
			.name = "bench",
			.capacity = conns,
			.timeout_ns = 300 * NS,
			.socket_id = SOCKET_ID_ANY,
		};
		struct dpf_conn_table *t = dpf_conn_create(&p);

		if (t == NULL) {
			fprintf(stderr, "bench_conn: create: %s\n", rte_strerror(rte_errno));
			return 1;
		}
		for (w = 0; w < 2; w++) {
			double c, s;

			if (run_window(t, recs, conns, START_NS + w * WINDOW_NS, &c, &s) < 0)
				return 1;
			bench_add(&cpu[w], c * 1e3);
			bench_add(&wall[w], s * 1e3);
		}
		dpf_conn_free(t);
	}
	for (w = 0; w < 2; w++) {
		double med, min, max, wmed, wmin, wmax;

		bench_summary(&cpu[w], &med, &min, &max);
		bench_summary(&wall[w], &wmed, &wmin, &wmax);
		printf("RESULT bench=conn window=%s conns=%" PRIu32 " records=%" PRIu32
		       " cpu_ms_median=%.1f cpu_ms_min=%.1f cpu_ms_max=%.1f wall_ms_median=%.1f\n",
		       w == 0 ? "new" : "existing", conns, 2 * conns, med, min, max, wmed);
	}
	rte_free(recs);
	return 0;
}
