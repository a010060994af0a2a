/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core data path benchmark (doc/performance.md, "Per-core data path").
 *
 * Measures what one RX lcore does with bursts that are already in memory:
 * the monitor engine's burst (app/dataplane/engine_monitor.c), called the
 * way the RX loop calls it, through the core's engine ops. This file
 * includes engine_monitor.c and links the rest of the RX core's code
 * (rx.c: window flips), so the code measured is the code that runs - time,
 * parse, interface, ACL verdict, key, table update. If such a step needs
 * state, set it up in setup_core() below.
 *
 * Packets are written into freshly allocated mbufs before each timed pass of
 * PASS_PACKETS (what a PMD does when it copies or DMAs a frame), then the
 * pass is timed with the TSC: the engine's burst on bursts of DPF_BURST,
 * including the rte_pktmbuf_free_bulk() that ends it. --cold flushes the
 * frames from the caches before timing (DMA to DRAM, no DDIO).
 *
 * The flow table can be dpflow's (lib/ft) or rte_hash, chosen per run with
 * --table, so the two are measured side by side in one process, alternating.
 *
 * --vxlan: every frame is the same inner IPv4 flow mix inside VXLAN (VNI 1,
 * outer UDP source port varying per flow like a VTEP's), with --decap vxlan
 * and a tenant interface for VNI 1 (built from a configuration, as dpflow
 * does): the cost of opening the tunnel, per packet.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>
#include <rte_vect.h>
#include <rte_udp.h>

#include "dpf_ft.h"

#include "bench_util.h"

/* The table call of the RX path goes through here, so --table can swap the table. */
static uint32_t bench_table_burst(struct dpf_ft *ft, const struct dpf_flow_key *keys, uint32_t n,
				  struct dpf_flow_counters **out);
#define DPF_RX_TABLE_BURST bench_table_burst
#include "engine_monitor.c"

/* The one RX core measured, and the queue its bursts come from. */
static struct dpf_lcore *core;
static struct dpf_rxq_ref ref;

#define PASS_PACKETS 1024
#define SEED 0x9747b28c
#define WINDOW_SEC 600
#define T0_NS 1700000000000000000ull

enum table_kind {
	TABLE_DPF = 0,
	TABLE_RTE_HASH,
};

static const char *const table_names[] = {"dpf", "rte_hash"};

/* rte_hash used the way a flow table would use it: key -> index of a dense entry array. */
struct rh_table {
	struct rte_hash *h;
	struct dpf_ft_entry *entries;
	uint32_t count;
	uint32_t capacity;
};

static struct {
	int family;
	int proto;
	uint32_t flows;
	bool zipf;
	double zipf_s;
	uint64_t packets;
	unsigned int reps;
	bool cold;
	uint64_t conn_timeout; /* seconds; 0: connection records off */
	bool tables[2];
	uint64_t rng;
	enum table_kind table;
	struct rh_table rh;
	struct rte_mempool *pool;
	uint8_t tmpl[128];
	uint16_t frame_len;
	uint16_t l4_off;
	uint16_t l3_off; /* the (inner, with --vxlan) IP header */
	bool vxlan;
	/* Zipf rejection-inversion constants. */
	double h_x1, h_n, zs;
} b;

static uint32_t
bench_rh_burst(struct rh_table *t, const struct dpf_flow_key *keys, uint32_t n,
	       struct dpf_flow_counters **out)
{
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0;
	uint32_t i, inserted = 0;

	for (i = 0; i < n; i++)
		kp[i] = &keys[i];
	rte_hash_lookup_bulk_data(t->h, kp, n, &hits, data);
	for (i = 0; i < n; i++) {
		struct dpf_ft_entry *e;
		void *d;

		if (likely(hits >> i & 1)) {
			out[i] = &t->entries[(uintptr_t)data[i]].c;
			continue;
		}
		/* An earlier key of this burst may have inserted it. */
		if (rte_hash_lookup_data(t->h, &keys[i], &d) >= 0) {
			out[i] = &t->entries[(uintptr_t)d].c;
			continue;
		}
		if (t->count == t->capacity ||
		    rte_hash_add_key_data(t->h, &keys[i], (void *)(uintptr_t)t->count) < 0) {
			out[i] = NULL;
			continue;
		}
		e = &t->entries[t->count++];
		e->key = keys[i];
		memset(&e->c, 0, sizeof(e->c));
		out[i] = &e->c;
		inserted++;
	}
	return inserted;
}

static uint32_t
bench_table_burst(struct dpf_ft *ft, const struct dpf_flow_key *keys, uint32_t n,
		  struct dpf_flow_counters **out)
{
	if (b.table == TABLE_RTE_HASH)
		return bench_rh_burst(&b.rh, keys, n, out);
	return dpf_ft_lookup_or_insert_burst(ft, keys, n, out);
}

/* ---- Zipf ranks: rejection-inversion (Hormann and Derflinger, 1996), O(1) per sample ---- */

static double
zipf_helper1(double x)
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

static double
zipf_helper2(double x)
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

static double
zipf_h(double x)
{
	return exp(-b.zipf_s * log(x));
}

static double
zipf_hint(double x)
{
	double lx = log(x);

	return zipf_helper2((1 - b.zipf_s) * lx) * lx;
}

static double
zipf_hint_inv(double x)
{
	double t = x * (1 - b.zipf_s);

	if (t < -1)
		t = -1;
	return exp(zipf_helper1(t) * x);
}

static void
zipf_init(void)
{
	b.h_x1 = zipf_hint(1.5) - 1;
	b.h_n = zipf_hint(b.flows + 0.5);
	b.zs = 2 - zipf_hint_inv(zipf_hint(2.5) - zipf_h(2));
}

/* Rank in [0, flows): rank 0 is the most popular flow. */
static uint32_t
zipf_rank(void)
{
	for (;;) {
		double u = b.h_n + bench_rand01(&b.rng) * (b.h_x1 - b.h_n);
		double x = zipf_hint_inv(u);
		double k = floor(x + 0.5);

		if (k < 1)
			k = 1;
		else if (k > b.flows)
			k = b.flows;
		if (k - x <= b.zs || u >= zipf_hint(k + 0.5) - zipf_h(k))
			return (uint32_t)k - 1;
	}
}

/* Flow of the next steady-state packet. Popular ranks are scattered over flow ids. */
static uint32_t
next_flow(void)
{
	if (!b.zipf)
		return bench_rand_below(&b.rng, b.flows);
	return (uint32_t)(((uint64_t)zipf_rank() * 2654435761ull) % b.flows);
}

/* ---- frames ---- */

/*
 * 64-byte frames on the wire (60 bytes without FCS) for IPv4; IPv6 cannot be
 * that small, so its frames are the smallest valid ones: 74 bytes (TCP) and
 * 62 bytes (UDP) without FCS.
 */
/* Outer Ethernet, IPv4, UDP to 4789 and VXLAN (VNI 1) in front of the frame. */
#define VXLAN_OUTER_LEN (14 + 20 + 8 + 8)

static void
build_vxlan_outer(uint8_t *p, uint16_t frame_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + sizeof(*eth));
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *vx = (uint8_t *)(udp + 1);

	memset(eth->dst_addr.addr_bytes, 0x06, RTE_ETHER_ADDR_LEN);
	memset(eth->src_addr.addr_bytes, 0x08, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(frame_len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0xc0a80001); /* 192.168.0.1 */
	ip->dst_addr = rte_cpu_to_be_32(0xc0a80002);
	udp->dst_port = rte_cpu_to_be_16(4789);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(frame_len - sizeof(*eth) - sizeof(*ip)));
	vx[0] = 0x08; /* I flag */
	vx[6] = 1;    /* VNI 1 */
}

static void
build_template(void)
{
	uint16_t outer = b.vxlan ? VXLAN_OUTER_LEN : 0;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)(b.tmpl + outer);
	uint16_t l3 = outer + sizeof(*eth);
	uint16_t l4_len = b.proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr)
						 : sizeof(struct rte_udp_hdr);

	memset(b.tmpl, 0, sizeof(b.tmpl));
	memset(eth->dst_addr.addr_bytes, 0x02, RTE_ETHER_ADDR_LEN);
	memset(eth->src_addr.addr_bytes, 0x04, RTE_ETHER_ADDR_LEN);
	if (b.family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b.tmpl + l3);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		b.l4_off = l3 + sizeof(*ip);
		b.frame_len = outer + 60;
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(b.frame_len - l3));
		ip->time_to_live = 64;
		ip->next_proto_id = (uint8_t)b.proto;
		ip->dst_addr = rte_cpu_to_be_32(0xac100001); /* 172.16.0.1 */
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(b.tmpl + l3);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		b.l4_off = l3 + sizeof(*ip);
		b.frame_len = b.l4_off + l4_len;
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4_len);
		ip->proto = (uint8_t)b.proto;
		ip->hop_limits = 64;
		ip->src_addr[0] = 0x20;
		ip->src_addr[1] = 0x01;
		ip->src_addr[2] = 0x0d;
		ip->src_addr[3] = 0xb8;
		memcpy(ip->dst_addr, ip->src_addr, 4);
		ip->dst_addr[5] = 0x01;
		ip->dst_addr[15] = 0x01;
	}
	if (b.proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(b.tmpl + b.l4_off);

		tcp->dst_port = rte_cpu_to_be_16(443);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = RTE_TCP_ACK_FLAG;
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(b.tmpl + b.l4_off);

		udp->dst_port = rte_cpu_to_be_16(53);
		udp->dgram_len = rte_cpu_to_be_16(b.frame_len - b.l4_off);
	}
	b.l3_off = l3;
	if (b.vxlan)
		build_vxlan_outer(b.tmpl, b.frame_len);
}

/* Flow f: a distinct client address and port towards one of 97 servers. */
static void
write_frame(struct rte_mbuf *m, uint32_t f, uint64_t t_ns)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t sport = rte_cpu_to_be_16((uint16_t)(1024 + (f * 2654435761u >> 16) % 60000));
	uint32_t client = rte_cpu_to_be_32(f);

	memcpy(p, b.tmpl, b.frame_len);
	if (b.vxlan) {
		/* A VTEP's source port: a hash of the inner flow. */
		uint16_t vtep_port = rte_cpu_to_be_16((uint16_t)(49152 + (f * 40503u) % 16384));

		memcpy(p + 14 + 20, &vtep_port, 2);
	}
	if (b.family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + b.l3_off);

		ip->src_addr = rte_cpu_to_be_32(0x0a000000 | (f & 0xffffff));
		ip->dst_addr = rte_cpu_to_be_32(0xac100001 + f % 97);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + b.l3_off);

		memcpy(&ip->src_addr[12], &client, 4);
		ip->dst_addr[15] = (uint8_t)(1 + f % 97);
	}
	memcpy(p + b.l4_off, &sport, 2);
	m->data_len = b.frame_len;
	m->pkt_len = b.frame_len;
	m->port = 0;
	*RTE_MBUF_DYNFIELD(m, core->sh->ports.ts_offset, uint64_t *) = t_ns / 1000;
	m->ol_flags |= core->sh->ports.ts_flag;
}

static void
flush_frame(struct rte_mbuf *m)
{
	_mm_clflush(m);
	_mm_clflush((char *)m + RTE_CACHE_LINE_SIZE);
	_mm_clflush(rte_pktmbuf_mtod(m, char *));
	_mm_clflush(rte_pktmbuf_mtod(m, char *) + RTE_CACHE_LINE_SIZE);
}

/* ---- the RX core ---- */

/*
 * --vxlan: the interfaces of a configuration with a tenant interface for VNI
 * 1 on port 0 and --decap vxlan, as dpflow builds them.
 */
static struct dpf_ifmap *
vxlan_ifmap(struct dpf_dp_shared *sh)
{
	static const uint16_t ports[] = {0};
	char path[] = "/tmp/bench_vxlan_XXXXXX";
	char *av[] = {"bench", "--config", path, NULL};
	struct dpf_config *cfg = NULL;
	struct dpf_ifmap *m = NULL;
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (f == NULL)
		return NULL;
	fprintf(f, "[dpflow]\ndecap = vxlan\n[interface eni-tenant]\nport = 0\nvni = 1\n");
	fclose(f);
	if (dpf_config_parse(3, av, &cfg) == 0) {
		struct dpf_ifmap_params ip = {.cfg = cfg, .ports = ports, .n_ports = 1};

		dpf_config_decap(dpf_config_options(cfg), &sh->decap);
		m = dpf_ifmap_create(&ip);
	}
	unlink(path);
	/* The map keeps pointers into the configuration: it lives as long as the run. */
	return m;
}

/* What the dataplane shares with its cores: here, one core in monitor mode,
 * no ACL or NAT rule (every packet ACCEPT), logged on interface 0, the
 * packet clock. */
static int
setup_shared(struct dpf_dp_shared *sh)
{
	struct dpf_str_list none = {0};
	struct dpf_rules_params rp = {
		.nat_rules = &none,
		.acl_rules = &none,
		.acl_default = DPF_ACTION_ACCEPT,
		.n_readers = 1,
	};
	struct dpf_ifmap *ifmap = rte_zmalloc("bench_ifmap", sizeof(*ifmap), 0);
	struct dpf_handoffs *ho = rte_zmalloc("bench_handoffs", sizeof(*ho), 0);

	if (ifmap == NULL || ho == NULL)
		return -ENOMEM;
	ho->n = 1;
	ho->core = rte_zmalloc("bench_handoff", sizeof(*ho->core), RTE_CACHE_LINE_SIZE);
	if (ho->core == NULL)
		return -ENOMEM;
	/* One interface, the default of port 0 (--vxlan: and the tenant of VNI 1). */
	ifmap->n_ifaces = 1;
	ifmap->default_iface[0] = 0;
	if (b.vxlan) {
		rte_free(ifmap);
		ifmap = vxlan_ifmap(sh);
		if (ifmap == NULL)
			return -EINVAL;
	}
	sh->ifmap = ifmap;
	sh->handoffs = ho;
	sh->clock = DPF_CLOCK_PACKET;
	sh->ports.replay_port = -1;
	sh->n_cores = 1;
	sh->n_ifaces = ifmap->n_ifaces;
	sh->shards_per_core = 1;
	sh->port[ref.port].reta_size = DPF_RSS_RETA_SIZE;
	sh->plan = dpf_window_plan_create(WINDOW_SEC);
	sh->rules = dpf_rules_create(&rp);
	sh->frag_rss = rte_malloc("bench_frag_rss", sizeof(*sh->frag_rss), RTE_CACHE_LINE_SIZE);
	if (sh->plan == NULL || sh->rules == NULL || sh->frag_rss == NULL)
		return -ENOMEM;
	dpf_rss_init(sh->frag_rss, dpf_rss_symmetric_key);
	if (rte_mbuf_dyn_rx_timestamp_register(&sh->ports.ts_offset, &sh->ports.ts_flag) != 0)
		return -rte_errno;
	return 0;
}

static int
setup_core(struct dpf_ft *ft)
{
	struct dpf_dp_shared *sh = rte_zmalloc("bench_shared", sizeof(*sh), RTE_CACHE_LINE_SIZE);
	struct dpf_shard *s;
	uint64_t w, end;

	core = rte_zmalloc("bench_core", sizeof(*core), RTE_CACHE_LINE_SIZE);
	if (sh == NULL || core == NULL || setup_shared(sh) < 0)
		return -ENOMEM;
	s = dpf_shard_create(sh->n_ifaces, 0, (int)rte_socket_id());
	if (s == NULL)
		return -ENOMEM;
	if (b.vxlan) {
		s->tun_ends = rte_malloc("bench_tun_ends", b.flows * sizeof(*s->tun_ends), 0);
		if (s->tun_ends == NULL)
			return -ENOMEM;
	}
	sh->lcores = core;
	core->sh = sh;
	core->engine = &dpf_engine_monitor;
	core->ho = &sh->handoffs->core[0];
	core->rs = dpf_rules_first(sh->rules);
	core->acl_rule_hits = rte_zmalloc("bench_acl_hits",
					  (DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t), 0);
	core->iface_cnt =
		rte_zmalloc("bench_iface_cnt", sh->n_ifaces * sizeof(*core->iface_cnt), 0);
	core->carry_lost = rte_zmalloc("bench_carry_lost", sh->n_ifaces * sizeof(uint64_t), 0);
	/* What the dataplane and the ports would set up for fragments. */
	core->frag = dpf_frag_cache_create(DPF_RSS_RETA_SIZE, 64, (int)rte_socket_id());
	if (core->ho == NULL || core->acl_rule_hits == NULL || core->iface_cnt == NULL ||
	    core->carry_lost == NULL || core->frag == NULL)
		return -ENOMEM;
	dpf_window_plan_bounds(sh->plan, T0_NS, &w, &end);
	s->ft = ft;
	s->window = w;
	core->active = s;
	core->active_start_ns = w;
	core->active_end_ns = end;
	core->ho->done_upto = w;
	core->n_rxq = 1;
	core->rxq[0] = ref;
	/* --conn-timeout: the check connection records add to every packet. */
	core->conn_gap_ns = b.conn_timeout * 1000000000ull;
	return 0;
}

static uint64_t *pass_cycles;
static uint64_t pass_cap;

static int
cmp_u64(const void *pa, const void *pb)
{
	uint64_t x = *(const uint64_t *)pa, y = *(const uint64_t *)pb;

	return (x > y) - (x < y);
}

/*
 * Send n packets through process_burst(): flows 0..n-1 in order when
 * `insert`, else flows drawn from the distribution. Returns TSC cycles spent
 * inside process_burst(); *p50 gets the median cycles per packet over the
 * full passes, which leaves out the passes during which the OS gave the CPU
 * to another process (the machines this runs on are shared).
 */
static uint64_t
run_packets(uint64_t n, bool insert, double *p50)
{
	struct rte_mbuf *pkts[PASS_PACKETS];
	uint64_t done = 0, cycles = 0, passes = 0;

	while (done < n) {
		uint32_t cnt = (uint32_t)RTE_MIN((uint64_t)PASS_PACKETS, n - done);
		uint64_t t0;
		uint32_t i;

		if (rte_pktmbuf_alloc_bulk(b.pool, pkts, cnt) != 0) {
			fprintf(stderr, "bench: mbuf pool empty\n");
			exit(1);
		}
		for (i = 0; i < cnt; i++) {
			uint32_t f = insert ? (uint32_t)(done + i) : next_flow();

			write_frame(pkts[i], f, T0_NS + (done + i) * 1000);
		}
		if (b.cold) {
			for (i = 0; i < cnt; i++)
				flush_frame(pkts[i]);
			rte_mb();
		}
		t0 = rte_rdtsc_precise();
		for (i = 0; i < cnt; i += DPF_BURST)
			core->engine->burst(core, &ref, &pkts[i],
					    (uint16_t)RTE_MIN((uint32_t)DPF_BURST, cnt - i));
		t0 = rte_rdtsc_precise() - t0;
		cycles += t0;
		if (cnt == PASS_PACKETS && passes < pass_cap)
			pass_cycles[passes++] = t0;
		done += cnt;
	}
	if (passes == 0) {
		*p50 = (double)cycles / n;
	} else {
		qsort(pass_cycles, passes, sizeof(pass_cycles[0]), cmp_u64);
		*p50 = (double)pass_cycles[passes / 2] / PASS_PACKETS;
	}
	return cycles;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- [--family 4|6] [--proto tcp|udp] [--flows N]\n"
		"          [--dist uniform|zipf] [--zipf-s S] [--packets N] [--reps N]\n"
		"          [--table dpf|rte_hash|both] [--cold] [--vxlan] [--conn-timeout SEC]\n"
		"One process measures one cell: first every flow is inserted (timed\n"
		"separately), then --packets packets over the active flows, --reps times,\n"
		"alternating tables when --table both.\n",
		prog);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{"family", required_argument, NULL, 'f'},
		{"proto", required_argument, NULL, 'p'},
		{"flows", required_argument, NULL, 'n'},
		{"dist", required_argument, NULL, 'd'},
		{"zipf-s", required_argument, NULL, 's'},
		{"packets", required_argument, NULL, 'P'},
		{"reps", required_argument, NULL, 'r'},
		{"table", required_argument, NULL, 't'},
		{"cold", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"vxlan", no_argument, NULL, 'v'},
		{"conn-timeout", required_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	int c;

	b.family = 4;
	b.proto = IPPROTO_TCP;
	b.flows = 65536;
	b.zipf_s = 1.1;
	b.packets = 4000000;
	b.reps = 5;
	b.tables[TABLE_DPF] = true;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			b.family = atoi(optarg);
			break;
		case 'p':
			b.proto = strcmp(optarg, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
			break;
		case 'n':
			b.flows = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			b.zipf = strcmp(optarg, "zipf") == 0;
			break;
		case 's':
			b.zipf_s = atof(optarg);
			break;
		case 'P':
			b.packets = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			b.reps = (unsigned int)atoi(optarg);
			break;
		case 't':
			b.tables[TABLE_DPF] = strcmp(optarg, "rte_hash") != 0;
			b.tables[TABLE_RTE_HASH] = strcmp(optarg, "dpf") != 0;
			break;
		case 'c':
			b.cold = true;
			break;
		case 'v':
			b.vxlan = true;
			break;
		case 'C':
			b.conn_timeout = strtoull(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
			return -1;
		}
	}
	/* --vxlan: outer addresses are kept by dpflow's table's entry index. */
	if (b.vxlan && b.tables[TABLE_RTE_HASH]) {
		fprintf(stderr, "--vxlan measures --table dpf only\n");
		return -1;
	}
	if ((b.family != 4 && b.family != 6) || b.flows == 0 || b.flows > (1u << 26) ||
	    b.reps == 0 || b.reps > BENCH_MAX_SAMPLES || b.packets == 0) {
		usage(argv[0]);
		return -1;
	}
	return 0;
}

static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;

	rte_malloc_get_socket_stats((int)rte_socket_id(), &st);
	return st.heap_allocsz_bytes;
}

int
main(int argc, char **argv)
{
	struct bench_samples cyc[2] = {{{0}}}, ins[2] = {{{0}}}, mean[2] = {{{0}}};
	struct dpf_ft_params ftp = {.name = "bench_ft", .socket_id = (int)SOCKET_ID_ANY,
				    .seed = SEED};
	struct rte_hash_parameters hp = {
		.name = "bench_rte_hash",
		.key_len = sizeof(struct dpf_flow_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = SEED,
		.socket_id = (int)SOCKET_ID_ANY,
	};
	size_t heap0, ft_bytes = 0, rh_bytes = 0;
	struct dpf_ft *ft;
	unsigned int rep, k;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "bench: EAL init failed\n");
		return 1;
	}
	if (parse_args(argc - ret, argv + ret) < 0)
		return 1;
	b.rng = 0x243f6a8885a308d3ull;
	if (b.zipf)
		zipf_init();
	build_template();
	b.pool = rte_pktmbuf_pool_create("bench_pool", 4 * PASS_PACKETS, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (b.pool == NULL) {
		fprintf(stderr, "bench: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	heap0 = heap_used();
	ftp.capacity = b.flows;
	ftp.segments = b.conn_timeout != 0 ? dpf_ft_segment_room(b.flows) : 0;
	ft = dpf_ft_create(&ftp);
	if (ft == NULL) {
		fprintf(stderr, "bench: flow table of %u: %s\n", b.flows, rte_strerror(rte_errno));
		return 1;
	}
	ft_bytes = heap_used() - heap0;
	if (b.tables[TABLE_RTE_HASH]) {
		heap0 = heap_used();
		/* Sized 1.25x: rte_hash's cuckoo table does not fill to 100%. */
		hp.entries = b.flows + b.flows / 4;
		b.rh.h = rte_hash_create(&hp);
		b.rh.entries = rte_malloc("bench_rh_entries",
					  (size_t)b.flows * sizeof(struct dpf_ft_entry),
					  RTE_CACHE_LINE_SIZE);
		if (b.rh.h == NULL || b.rh.entries == NULL) {
			fprintf(stderr, "bench: rte_hash of %u: %s\n", b.flows,
				rte_strerror(rte_errno));
			return 1;
		}
		b.rh.capacity = b.flows;
		rh_bytes = heap_used() - heap0;
	}
	if (setup_core(ft) < 0) {
		fprintf(stderr, "bench: core setup failed\n");
		return 1;
	}

	pass_cap = (RTE_MAX((uint64_t)b.flows, b.packets) + PASS_PACKETS - 1) / PASS_PACKETS;
	pass_cycles = malloc(pass_cap * sizeof(pass_cycles[0]));
	if (pass_cycles == NULL)
		return 1;
	bench_print_machine(stdout);
	for (rep = 0; rep < b.reps; rep++) {
		for (k = 0; k < 2; k++) {
			uint64_t c_run;
			double p50_ins, p50_run;

			if (!b.tables[k])
				continue;
			b.table = (enum table_kind)k;
			dpf_ft_reset(ft);
			if (b.rh.h != NULL) {
				rte_hash_reset(b.rh.h);
				b.rh.count = 0;
			}
			memset(&core->cnt, 0, sizeof(core->cnt));
			run_packets(b.flows, true, &p50_ins);
			c_run = run_packets(b.packets, false, &p50_run);
			/* Every packet must have been counted in a flow: else the cell is void. */
			if (core->cnt.logged_packets != b.flows + b.packets ||
			    core->cnt.flows_created != b.flows ||
			    (b.vxlan &&
			     core->cnt.tunnel_packets[DPF_TUN_VXLAN] != b.flows + b.packets)) {
				fprintf(stderr,
					"bench: %s: logged %" PRIu64 " of %" PRIu64
					" packets, %" PRIu64 " flows of %u\n",
					table_names[k], core->cnt.logged_packets,
					b.flows + b.packets, core->cnt.flows_created, b.flows);
				return 1;
			}
			bench_add(&ins[k], p50_ins);
			bench_add(&cyc[k], p50_run);
			bench_add(&mean[k], (double)c_run / b.packets);
			printf("SAMPLE table=%s rep=%u cycles_per_pkt=%.2f mean_cycles_per_pkt=%.2f "
			       "insert_cycles_per_flow=%.2f\n",
			       table_names[k], rep, p50_run, (double)c_run / b.packets, p50_ins);
			fflush(stdout);
		}
	}
	for (k = 0; k < 2; k++) {
		double med, min, max, imed, imin, imax, mmed, mmin, mmax;
		double hz = (double)rte_get_tsc_hz();

		if (!b.tables[k])
			continue;
		bench_summary(&cyc[k], &med, &min, &max);
		bench_summary(&ins[k], &imed, &imin, &imax);
		bench_summary(&mean[k], &mmed, &mmin, &mmax);
		printf("RESULT bench=datapath%s table=%s family=%d proto=%s flows=%u dist=%s "
		       "zipf_s=%.2f frame=%u cold=%d packets=%" PRIu64 " reps=%u "
		       "cycles_med=%.1f cycles_min=%.1f cycles_max=%.1f "
		       "mpps_med=%.2f mpps_min=%.2f mpps_max=%.2f "
		       "mean_cycles_med=%.1f insert_cycles_med=%.1f insert_mpps_med=%.2f "
		       "table_bytes_per_flow=%.1f\n",
		       b.vxlan ? "-vxlan" : "", table_names[k], b.family,
		       b.proto == IPPROTO_TCP ? "tcp" : "udp", b.flows, b.zipf ? "zipf" : "uniform",
		       b.zipf ? b.zipf_s : 0.0, b.frame_len + 4, b.cold, b.packets, b.reps, med,
		       min, max, hz / med / 1e6, hz / max / 1e6, hz / min / 1e6, mmed, imed,
		       hz / imed / 1e6, (double)(k == TABLE_DPF ? ft_bytes : rh_bytes) / b.flows);
	}
	return 0;
}
