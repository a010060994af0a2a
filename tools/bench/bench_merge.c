/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window merge benchmark (doc/performance.md, "Window merge").
 *
 * Fills --shards flow tables with --flows distinct unidirectional flows shaped
 * like tools/gencap.py's random captures (both directions of 65521 client
 * hosts x 1000 servers, 20% IPv6, TCP/UDP/ICMP, a flow's shard chosen by a
 * symmetric hash as RSS would), plus --dup-share of flows also present in a
 * second shard, then times dpf_merge_window(): gather, sort, sum, emit. The
 * emit callback copies each row into a 256-row batch, as the pipeline does.
 * After each run the output is checked: strictly increasing in
 * dpf_flow_key_cmp order, one row per distinct flow, every packet accounted.
 */
#include <getopt.h>
#include <inttypes.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dpf_window.h"

#include "bench_flows.h"
#include "bench_util.h"

#define MAX_SHARDS 64
#define BATCH 256

static struct {
	uint32_t flows;
	uint32_t shards;
	double dup_share;
	double v6_share;
	unsigned int reps;
	uint64_t rng;
	/* what the emit callback saw */
	struct dpf_record batch[BATCH];
	uint32_t in_batch;
	uint64_t rows;
	uint64_t packets;
	uint64_t order_errors;
	struct dpf_flow_key last;
	bool have_last;
} b;

static int
emit(void *arg, const struct dpf_record *recs, uint32_t n)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < n; i++) {
		b.batch[b.in_batch++] = recs[i];
		if (b.in_batch == BATCH)
			b.in_batch = 0;
	}
	return 0;
}

/* Untimed: checks the rows of one run. */
static int
check_emit(void *arg, const struct dpf_record *recs, uint32_t n)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < n; i++) {
		if (recs[i].log_status != DPF_LOG_OK)
			continue;
		if (b.have_last && dpf_flow_key_cmp(&b.last, &recs[i].key) >= 0)
			b.order_errors++;
		b.last = recs[i].key;
		b.have_last = true;
		b.rows++;
		b.packets += recs[i].packets;
	}
	return 0;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- [--flows N] [--shards N] [--dup-share F]\n"
		"          [--v6-share F] [--reps N]\n",
		prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"flows", required_argument, NULL, 'n'},    {"shards", required_argument, NULL, 's'},
		{"dup-share", required_argument, NULL, 'd'}, {"v6-share", required_argument, NULL, '6'},
		{"reps", required_argument, NULL, 'r'},     {NULL, 0, NULL, 0},
	};
	struct dpf_shard *shards[MAX_SHARDS];
	struct bench_samples ms = {{0}}, cpu = {{0}};
	struct dpf_merge_params mp = {.n_ifaces = 1, .socket_id = (int)SOCKET_ID_ANY};
	struct dpf_merge *m;
	uint64_t total_packets = 0, t0;
	uint32_t cap, u, s;
	unsigned int rep;
	double med, min, max;
	int ret, c;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "bench: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	b.flows = 1000000;
	b.shards = 4;
	b.dup_share = 0.05;
	b.v6_share = 0.2;
	b.reps = 5;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			b.flows = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			b.shards = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			b.dup_share = atof(optarg);
			break;
		case '6':
			b.v6_share = atof(optarg);
			break;
		case 'r':
			b.reps = (unsigned int)atoi(optarg);
			break;
		default:
			usage(argv[0]);
			return 1;
		}
	}
	if (b.shards == 0 || b.shards > MAX_SHARDS || b.flows == 0 || b.reps == 0 ||
	    b.reps > BENCH_MAX_SAMPLES) {
		usage(argv[0]);
		return 1;
	}
	/* Room for an uneven spread plus the duplicates. */
	cap = (uint32_t)((double)b.flows / b.shards * (1.3 + b.dup_share)) + 1024;
	for (s = 0; s < b.shards; s++) {
		struct dpf_ft_params p = {.capacity = cap, .socket_id = (int)SOCKET_ID_ANY,
					  .seed = 0x9747b28c};

		shards[s] = dpf_shard_create(1, 0, (int)SOCKET_ID_ANY);
		if (shards[s] == NULL || (shards[s]->ft = dpf_ft_create(&p)) == NULL) {
			fprintf(stderr, "bench: shard %u: %s\n", s, rte_strerror(rte_errno));
			return 1;
		}
	}
	b.rng = 0x243f6a8885a308d3ull;
	for (u = 0; u < b.flows; u++) {
		struct dpf_flow_key k;
		struct dpf_flow_counters *cnt;
		uint32_t h, copies, i;

		bench_make_flow(u, b.v6_share, &k, &h);
		copies = bench_rand01(&b.rng) < b.dup_share ? 2 : 1;
		for (i = 0; i < copies; i++) {
			uint32_t sh = (h + i) % b.shards;
			uint32_t pk = 1 + bench_rand_below(&b.rng, 20);

			dpf_ft_lookup_or_insert_burst(shards[sh]->ft, &k, 1, &cnt);
			if (cnt == NULL) {
				fprintf(stderr, "bench: shard %u full\n", sh);
				return 1;
			}
			dpf_flow_counters_add(cnt, 40 + 40 * pk, 1700000000000000000ull + u, 0x10);
			cnt->packets += pk - 1;
			total_packets += pk;
		}
	}
	mp.max_flows = cap * b.shards;
	m = dpf_merge_create(&mp);
	if (m == NULL) {
		fprintf(stderr, "bench: merge of %u: %s\n", mp.max_flows, rte_strerror(rte_errno));
		return 1;
	}

	bench_print_machine(stdout);
	for (rep = 0; rep < b.reps; rep++) {
		double c0 = bench_thread_cpu_s();

		t0 = rte_rdtsc_precise();
		ret = dpf_merge_window(m, shards, b.shards, 1699999800, 600, emit, NULL, NULL);
		t0 = rte_rdtsc_precise() - t0;
		c0 = bench_thread_cpu_s() - c0;
		if (ret != 0) {
			fprintf(stderr, "bench: merge: %d\n", ret);
			return 1;
		}
		bench_add(&ms, (double)t0 * 1000.0 / rte_get_tsc_hz());
		bench_add(&cpu, c0 * 1000.0);
		printf("SAMPLE rep=%u merge_ms=%.1f cpu_ms=%.1f\n", rep,
		       (double)t0 * 1000.0 / rte_get_tsc_hz(), c0 * 1000.0);
		fflush(stdout);
	}
	memset(&b.last, 0, sizeof(b.last));
	b.have_last = false;
	dpf_merge_window(m, shards, b.shards, 1699999800, 600, check_emit, NULL, NULL);
	if (b.order_errors != 0 || b.rows != b.flows || b.packets != total_packets) {
		fprintf(stderr,
			"bench: merge output wrong: %" PRIu64 " order errors, %" PRIu64
			" rows for %u flows, %" PRIu64 " of %" PRIu64 " packets\n",
			b.order_errors, b.rows, b.flows, b.packets, total_packets);
		return 1;
	}
	bench_summary(&ms, &med, &min, &max);
	{
		double cmed, cmin, cmax;

		bench_summary(&cpu, &cmed, &cmin, &cmax);
		printf("RESULT bench=merge flows=%u shards=%u dup_share=%.2f v6_share=%.2f reps=%u "
		       "merge_ms_med=%.1f merge_ms_min=%.1f merge_ms_max=%.1f mflows_per_s=%.2f "
		       "cpu_ms_med=%.1f cpu_ms_min=%.1f cpu_ms_max=%.1f\n",
		       b.flows, b.shards, b.dup_share, b.v6_share, b.reps, med, min, max,
		       b.flows / med / 1000.0, cmed, cmin, cmax);
	}
	dpf_merge_free(m);
	for (s = 0; s < b.shards; s++) {
		dpf_ft_free(shards[s]->ft);
		dpf_shard_free(shards[s]);
	}
	return 0;
}
