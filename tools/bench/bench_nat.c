/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Masquerade sessions: what sharing them between RX cores costs (lib/nat).
 *
 * Two members (RX cores) and one masquerade rule, --flows TCP connections
 * opened; then, per packet, the stateless view and dpf_nat_sessions_apply()
 * as app/dataplane/rx.c calls them, with flows taken in random order (so the table
 * lookups miss the cache as they would with many flows):
 *   per-core  the steered scheme: every packet on the core of its session
 *             (the NIC's Toeplitz hash brings replies there);
 *   shared    the table of each core read by the others (af_packet's kernel
 *             fanout): outbound on the session's core, replies on either
 *             core (the other core finds the owner from the port), and the
 *             outbound packet that lands on the other core (fanout rollover:
 *             its own table misses first).
 * Also the cost of opening a session, and of reporting a quiescent state
 * (once per RX loop in shared mode). One thread: this measures the work of
 * each lookup, not cache-line traffic between cores.
 *
 * Output: `RESULT bench=nat mode=... case=... cpu_ns_per_pkt=<median> min= max=`,
 * thread CPU time per packet (or per session opened, per quiescent call).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_nat.h"
#include "dpf_nat_session.h"
#include "dpf_rss.h"

#include "bench_util.h"

#define MEMBERS 2

static struct dpf_rss rss;
static uint32_t n_flows = 65536;
static unsigned int reps = 5;

struct flow {
	struct dpf_flow_key out;   /* inside -> remote */
	struct dpf_flow_key reply; /* remote -> outside:port */
	uint16_t owner;
};

static void
key4(struct dpf_flow_key *k, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp)
{
	memset(k, 0, sizeof(*k));
	k->family = 4;
	k->proto = 6;
	k->src_addr[0] = src >> 24;
	k->src_addr[1] = src >> 16;
	k->src_addr[2] = src >> 8;
	k->src_addr[3] = src;
	k->dst_addr[0] = dst >> 24;
	k->dst_addr[1] = dst >> 16;
	k->dst_addr[2] = dst >> 8;
	k->dst_addr[3] = dst;
	k->src_port = sp;
	k->dst_port = dp;
}

/* The queue a NIC with dpflow's key and a round-robin RETA gives a tuple. */
static uint16_t
nic_queue(const struct dpf_flow_key *k)
{
	struct dpf_pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.family = 4;
	pi.proto = k->proto;
	memcpy(pi.src_addr, k->src_addr, 16);
	memcpy(pi.dst_addr, k->dst_addr, 16);
	pi.l4.src_port = k->src_port;
	pi.l4.dst_port = k->dst_port;
	return dpf_rss_queue(dpf_rss_hash_pkt(&rss, &pi), MEMBERS);
}

static int
apply(struct dpf_nat_sessions *s, const struct dpf_nat *nat, const struct dpf_flow_key *k,
      uint64_t now)
{
	struct dpf_flow_nat post;
	uint16_t id;
	uint32_t rule;

	dpf_nat_view(nat, k, &post, NULL, NULL);
	return dpf_nat_sessions_apply(s, k, 0, 0, now, &post, &id, &rule);
}

enum which { OUT_OWNER, OUT_OTHER, REPLY_OWNER, REPLY_OTHER };

/* CPU ns per packet over every flow in the order given (thread CPU time:
 * on a shared machine other processes' time slices are not counted). */
static double
pass(struct dpf_nat_sessions **m, const struct dpf_nat *nat, struct flow *f, const uint32_t *order,
     enum which w)
{
	double t0 = bench_thread_cpu_s();
	uint64_t bad = 0;
	uint32_t i;

	for (i = 0; i < n_flows; i++) {
		const struct flow *x = &f[order[i]];
		uint16_t core = (w == OUT_OWNER || w == REPLY_OWNER) ? x->owner : x->owner ^ 1;

		bad += apply(m[core], nat, (w == OUT_OWNER || w == OUT_OTHER) ? &x->out : &x->reply,
			     2) != 1;
	}
	if (bad != 0) {
		fprintf(stderr, "bench_nat: %" PRIu64 " packets found no session\n", bad);
		exit(1);
	}
	return (bench_thread_cpu_s() - t0) * 1e9 / n_flows;
}

static void
report(const char *mode, const char *what, const struct bench_samples *s)
{
	double med, min, max;

	bench_summary(s, &med, &min, &max);
	printf("RESULT bench=nat mode=%s case=%s flows=%u cpu_ns_per_pkt=%.1f min=%.1f max=%.1f\n",
	       mode, what, n_flows, med, min, max);
}

static int
run_mode(bool shared, const struct dpf_nat *nat, struct flow *f, const uint32_t *order)
{
	static const char *const names[] = {"outbound-owner", "outbound-other-core", "reply-owner",
					    "reply-other-core"};
	struct dpf_nat_group *g = shared ? dpf_nat_group_create(MEMBERS, SOCKET_ID_ANY) : NULL;
	struct dpf_nat_sessions *m[MEMBERS];
	struct bench_samples s[4] = {{{0}}}, create = {{0}}, qs = {{0}};
	const char *mode = shared ? "shared" : "per-core";
	unsigned int r, w;
	uint32_t i;
	uint16_t c;

	for (r = 0; r < reps; r++) {
		double t0;

		for (c = 0; c < MEMBERS; c++) {
			char name[32];
			struct dpf_nat_sessions_params p = {
				.name = name,
				.capacity = 2 * n_flows,
				.socket_id = SOCKET_ID_ANY,
				.nat = nat,
				.rss = &rss,
				.n_queues = MEMBERS,
				.queue = c,
				.timeout_ns = 300000000000ull,
				.group = g,
			};

			snprintf(name, sizeof(name), "bn%c%u%u", shared ? 's' : 'p', r, c);
			m[c] = dpf_nat_sessions_create(&p);
			if (m[c] == NULL) {
				fprintf(stderr, "bench_nat: sessions: %s\n",
					rte_strerror(rte_errno));
				return 1;
			}
		}
		/* Open every connection on its core; learn the port it got. */
		t0 = bench_thread_cpu_s();
		for (i = 0; i < n_flows; i++) {
			struct dpf_flow_nat post;
			uint16_t id;
			uint32_t rule;

			f[i].owner = shared ? (uint16_t)(i % MEMBERS) : nic_queue(&f[i].out);
			dpf_nat_view(nat, &f[i].out, &post, NULL, NULL);
			if (dpf_nat_sessions_apply(m[f[i].owner], &f[i].out, 0, 0, 1, &post, &id,
						   &rule) != 1) {
				fprintf(stderr, "bench_nat: no session for flow %u\n", i);
				return 1;
			}
			key4(&f[i].reply, 0, f[i].out.dst_port, 0, post.src_port);
			memcpy(f[i].reply.src_addr, f[i].out.dst_addr, 16);
			memcpy(f[i].reply.dst_addr, post.src_addr, 16);
		}
		bench_add(&create, (bench_thread_cpu_s() - t0) * 1e9 / n_flows);
		for (w = 0; w < 4; w++)
			if (shared || w == OUT_OWNER || w == REPLY_OWNER)
				bench_add(&s[w], pass(m, nat, f, order, (enum which)w));
		if (shared) {
			t0 = bench_thread_cpu_s();
			for (i = 0; i < n_flows; i++)
				dpf_nat_sessions_quiescent(m[i & 1]);
			bench_add(&qs, (bench_thread_cpu_s() - t0) * 1e9 / n_flows);
		}
		for (c = 0; c < MEMBERS; c++)
			dpf_nat_sessions_free(m[c]);
	}
	report(mode, "open-session", &create);
	for (w = 0; w < 4; w++)
		if (s[w].n != 0)
			report(mode, names[w], &s[w]);
	if (shared)
		report(mode, "quiescent-per-call", &qs);
	dpf_nat_group_free(g);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"flows", required_argument, NULL, 'n'},
		{"reps", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct dpf_nat_rule rule;
	struct dpf_nat_params np = {.name = "bnat", .socket_id = SOCKET_ID_ANY, .n_rules = 1};
	struct dpf_nat *nat;
	struct flow *f;
	uint32_t *order, i;
	uint64_t seed = 42;
	char err[128];
	int ret, c;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "bench_nat: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n_flows = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'r')
			reps = (unsigned int)strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (n_flows == 0 || n_flows > 200000 || reps == 0 || reps > BENCH_MAX_SAMPLES) {
		fprintf(stderr, "bench_nat: --flows 1..200000, --reps 1..%d\n", BENCH_MAX_SAMPLES);
		return 2;
	}
	dpf_rss_init(&rss, dpf_rss_symmetric_key);
	if (dpf_nat_rule_parse("masquerade 10.0.0.0/8 192.0.2.1 1024-65535", &rule, err,
			       sizeof(err)) < 0)
		return 1;
	np.rules = &rule;
	nat = dpf_nat_create(&np, err, sizeof(err));
	f = calloc(n_flows, sizeof(*f));
	order = calloc(n_flows, sizeof(*order));
	if (nat == NULL || f == NULL || order == NULL) {
		fprintf(stderr, "bench_nat: setup failed %s\n", err);
		return 1;
	}
	for (i = 0; i < n_flows; i++) {
		/* Distinct inside hosts and ports, 256 remote servers. */
		key4(&f[i].out, 0x0a000000u | (i * 7919u & 0xffffff), (uint16_t)(20000 + i % 40000),
		     0xc6336400u | (i & 0xff), 443);
		order[i] = i;
	}
	for (i = n_flows - 1; i > 0; i--) {
		uint32_t j = bench_rand_below(&seed, i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	bench_print_machine(stdout);
	if (run_mode(false, nat, f, order) != 0 || run_mode(true, nat, f, order) != 0)
		return 1;
	dpf_nat_free(nat);
	free(f);
	free(order);
	rte_eal_cleanup();
	return 0;
}
