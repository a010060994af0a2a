/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's set-up and tear-down, and what other threads read of the
 * RX cores (dataplane.h). Their loop is rx.c, their packet path the engines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "log.h"
#include "lcore.h"

/*
 * Fragment cache sets: one per RSS redirection-table entry of the largest
 * table (dpf_flow.h says why), 64 slots each: 8192 with the replay's 128.
 */
#define FRAG_SLOTS_PER_SET 64
/* The same flow table seed everywhere: merge order never depends on it. */
#define FT_SEED 0x9747b28c

struct dpf_dataplane {
	struct dpf_dp_shared sh;
	struct dpf_handoffs handoffs;
	struct dpf_lcore *lcores;
	struct dpf_nat_icmp *nat_icmp;	 /* forward mode: ICMP echo sessions, shared */
	struct dpf_rss *nat_rss;	 /* forward mode: masquerade steering */
	struct dpf_nat_group *nat_group; /* shared masquerade sessions */
	const struct dpf_options *opt;
	uint32_t frag_sets;
	unsigned int pipeline_lcore; /* RTE_MAX_LCORE: none spare, the run loop polls */
};

/* What every core reads: the ports', the clocks', the subsystems' handles. */
static void
fill_shared(struct dpf_dataplane *dp, const struct dpf_dataplane_params *p)
{
	struct dpf_dp_shared *sh = &dp->sh;
	const uint16_t *ports = dpf_ports_settled(p->h.ports)->ids;
	uint16_t i;

	sh->clock = p->h.clock;
	sh->offline = p->offline;
	sh->ports = *dpf_ports_settled(p->h.ports);
	sh->n_cores = p->n_cores;
	sh->n_ifaces = dpf_ifmap_count(p->h.ifmap);
	sh->shards_per_core = (uint32_t)p->opt->shards_per_core;
	sh->ifmap = p->h.ifmap;
	sh->rules = p->h.rules;
	sh->plan = p->h.plan;
	sh->wall = p->h.wall;
	sh->tc = p->tc;
	sh->source = p->h.source;
	sh->run = p->h.run;
	sh->handoffs = &dp->handoffs;
	sh->lcores = dp->lcores;
	dpf_config_decap(p->opt, &sh->decap);
	sh->unmatched_drop = p->opt->unmatched == DPF_UNMATCHED_DROP;
	dp->frag_sets = DPF_RSS_RETA_SIZE;
	for (i = 0; i < dpf_ports_settled(p->h.ports)->n_ports; i++) {
		const struct dpf_port_conf *c = dpf_ports_conf(p->h.ports, ports[i]);
		struct dpf_dp_port *dpp = &sh->port[ports[i]];

		dpp->reta_size = c->reta_size;
		dpp->mtu = c->mtu;
		dpp->multiseg = c->multiseg;
		dpp->peer = c->peer;
		dpp->check_time =
			p->h.clock == DPF_CLOCK_PACKET && ports[i] != sh->ports.replay_port;
		dp->frag_sets = RTE_MAX(dp->frag_sets, (uint32_t)c->reta_size);
	}
}

/* Forward mode: masquerade may be added at run time, so session tables and
 * steering are always ready. */
static int
create_nat_shared(struct dpf_dataplane *dp, bool shared)
{
	dp->nat_icmp = dpf_nat_icmp_create("dpf_nat_icmp", (uint32_t)dp->opt->nat_sessions_per_core,
					   (int)rte_socket_id());
	dp->nat_rss = rte_malloc("dpf_rss", sizeof(*dp->nat_rss), RTE_CACHE_LINE_SIZE);
	if (dp->nat_icmp == NULL || dp->nat_rss == NULL) {
		DPF_LOG(ERR, dataplane,
			"masquerade ICMP table of %" PRIu64 " sessions: out of "
			"memory; lower --nat-sessions-per-core or give EAL more memory "
			"(-m)\n",
			dp->opt->nat_sessions_per_core);
		return -ENOMEM;
	}
	dpf_rss_init(dp->nat_rss, dpf_rss_symmetric_key);
	if (shared) {
		dp->nat_group = dpf_nat_group_create(dp->sh.n_cores, (int)rte_socket_id());
		if (dp->nat_group == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* Core c polls queue c of every port that has one. */
static void
assign_queues(struct dpf_lcore *lc, const struct dpf_ports *ports)
{
	const uint16_t *ids = dpf_ports_settled(ports)->ids;
	uint16_t p;

	for (p = 0; p < dpf_ports_settled(ports)->n_ports; p++) {
		if (lc->index < dpf_ports_conf(ports, ids[p])->n_rxq) {
			lc->rxq[lc->n_rxq].port = ids[p];
			lc->rxq[lc->n_rxq].queue = lc->index;
			lc->n_rxq++;
		}
	}
}

static int
create_rings(struct dpf_lcore *lc, uint32_t n_tables, int socket)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
	struct dpf_handoff *ho = lc->ho;
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "rx%u_free_sh", lc->index);
	ho->free_shards = rte_ring_create(name, DPF_SHARD_DESCRIPTORS, socket, flags);
	snprintf(name, sizeof(name), "rx%u_free_ft", lc->index);
	ho->free_tables = rte_ring_create(name, n_tables, socket, flags);
	snprintf(name, sizeof(name), "rx%u_retired", lc->index);
	ho->retired = rte_ring_create(name, DPF_SHARD_DESCRIPTORS, socket, flags);
	if (ho->free_shards == NULL || ho->free_tables == NULL || ho->retired == NULL) {
		DPF_LOG(ERR, dataplane, "RX core %u: %s\n", lc->index, rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static int
create_conntrack(struct dpf_lcore *lc, const struct dpf_options *o, int socket)
{
	char name[RTE_RING_NAMESIZE];
	struct dpf_conntrack_params cp = {
		.name = name,
		.capacity = (uint32_t)o->conntrack_per_core,
		.socket_id = socket,
		.timeout_ns = o->conntrack_timeout * NS_PER_SEC,
	};

	if (!o->acl_stateful)
		return 0;
	snprintf(name, sizeof(name), "ct%u", lc->index);
	lc->ct = dpf_conntrack_create(&cp);
	if (lc->ct != NULL)
		return 0;
	DPF_LOG(ERR, dataplane,
		"RX core %u: connection table of %" PRIu64 " connections: %s%s\n", lc->index,
		o->conntrack_per_core, rte_strerror(rte_errno),
		rte_errno == ENOMEM ? "; lower --conntrack-per-core or give EAL more memory (-m)"
				    : "");
	return -rte_errno;
}

static int
create_sessions(struct dpf_dataplane *dp, struct dpf_lcore *lc, const struct dpf_ports *ports,
		int socket)
{
	const uint16_t *ids = dpf_ports_settled(ports)->ids;
	char name[RTE_RING_NAMESIZE];
	struct dpf_nat_sessions_params np = {
		.name = name,
		.capacity = (uint32_t)dp->opt->nat_sessions_per_core,
		.socket_id = socket,
		.nat = lc->rs->nat,
		.icmp = dp->nat_icmp,
		.rss = dp->nat_rss,
		.n_queues = dp->sh.n_cores,
		.queue = lc->index,
		.reta_size = dpf_ports_conf(ports, ids[0])->reta_size,
		.timeout_ns = dp->opt->nat_timeout * NS_PER_SEC,
		.group = dp->nat_group,
	};

	snprintf(name, sizeof(name), "nat%u", lc->index);
	lc->nat = dpf_nat_sessions_create(&np);
	if (lc->nat != NULL)
		return 0;
	DPF_LOG(ERR, dataplane, "RX core %u: masquerade sessions: %s%s\n", lc->index,
		rte_strerror(rte_errno),
		rte_errno == ENOMEM ? "; lower --nat-sessions-per-core or give EAL more memory (-m)"
				    : "");
	return -rte_errno;
}

/* Shard descriptors and flow tables (with room for masquerade views), in the free rings. */
static int
create_shards(struct dpf_dataplane *dp, struct dpf_lcore *lc, int socket)
{
	struct dpf_ft_params ftp = {.capacity = (uint32_t)dp->opt->flows_per_core,
				    .segments = dpf_dataplane_segment_room(dp->opt),
				    .socket_id = socket,
				    .seed = FT_SEED};
	unsigned int i;

	for (i = 0; i < DPF_SHARD_DESCRIPTORS; i++) {
		lc->shards[i] = dpf_shard_create(dp->sh.n_ifaces, 0, socket);
		if (lc->shards[i] == NULL) {
			DPF_LOG(ERR, dataplane, "RX core %u: shard descriptors: %s\n", lc->index,
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
		rte_ring_sp_enqueue(lc->ho->free_shards, lc->shards[i]);
	}
	lc->max_views = lc->nat != NULL ? (uint32_t)RTE_MIN(dp->opt->flows_per_core,
							    (uint64_t)DPF_SHARD_MAX_VIEWS)
					: 0;
	for (i = 0; i < dp->sh.shards_per_core; i++) {
		lc->tables[i] = dpf_ft_create(&ftp);
		if (lc->tables[i] == NULL) {
			DPF_LOG(ERR, dataplane,
				"RX core %u: flow table of %" PRIu64
				" flows (%zu bytes per flow): %s; lower --flows-per-core "
				"or give EAL more memory (-m)\n",
				lc->index, dp->opt->flows_per_core,
				dpf_ft_bytes_per_flow(ftp.capacity), rte_strerror(rte_errno));
			return -ENOMEM;
		}
		if (dp->sh.decap.types != 0) {
			lc->tun_ends[i] = rte_malloc_socket(
				"dpf_tun_ends", ftp.capacity * sizeof(struct dpf_flow_tun_ends),
				RTE_CACHE_LINE_SIZE, socket);
			if (lc->tun_ends[i] == NULL)
				return -ENOMEM;
		}
		if (lc->max_views != 0) {
			lc->views[i] = rte_malloc_socket("dpf_views",
							 lc->max_views * sizeof(struct dpf_flow_nat),
							 RTE_CACHE_LINE_SIZE, socket);
			if (lc->views[i] == NULL)
				return -ENOMEM;
		}
		rte_ring_sp_enqueue(lc->ho->free_tables, lc->tables[i]);
	}
	return 0;
}

static int
create_core(struct dpf_dataplane *dp, const struct dpf_dataplane_params *p, uint16_t c,
	    unsigned int lcore)
{
	struct dpf_lcore *lc = &dp->lcores[c];
	int socket = (int)rte_lcore_to_socket_id(lcore);
	int rc;

	lc->engine =
		dpf_ports_settled(p->h.ports)->forward ? &dpf_engine_forward : &dpf_engine_monitor;
	lc->sh = &dp->sh;
	lc->lcore_id = lcore;
	lc->index = c;
	lc->ho = &dp->handoffs.core[c];
	lc->active_start_ns = UINT64_MAX;
	lc->rs = dpf_rules_first(p->h.rules);
	if (p->opt->ibm_output != NULL || p->opt->connections != 0)
		lc->conn_gap_ns = p->opt->conn_timeout * 1000000000ull;
	assign_queues(lc, p->h.ports);
	lc->acl_rule_hits = rte_zmalloc_socket(
		"dpf_acl_hits", (DPF_ACL_RUNTIME_MAX_RULES + 1) * sizeof(uint64_t),
		RTE_CACHE_LINE_SIZE, socket);
	lc->iface_cnt = rte_zmalloc_socket("dpf_iface_cnt", dp->sh.n_ifaces * sizeof(*lc->iface_cnt),
					   RTE_CACHE_LINE_SIZE, socket);
	lc->carry_lost = rte_zmalloc_socket("dpf_carry_lost", dp->sh.n_ifaces * sizeof(uint64_t),
					    RTE_CACHE_LINE_SIZE, socket);
	lc->frag = dpf_frag_cache_create(dp->frag_sets, FRAG_SLOTS_PER_SET, socket);
	if (lc->acl_rule_hits == NULL || lc->iface_cnt == NULL || lc->carry_lost == NULL ||
	    lc->frag == NULL) {
		DPF_LOG(ERR, dataplane, "RX core %u: out of memory\n", c);
		return -ENOMEM;
	}
	rc = create_rings(lc, dp->sh.shards_per_core, socket);
	if (rc == 0)
		rc = create_conntrack(lc, p->opt, socket);
	if (rc == 0 && dpf_ports_settled(p->h.ports)->forward)
		rc = create_sessions(dp, lc, p->h.ports, socket);
	if (rc == 0)
		rc = create_shards(dp, lc, socket);
	return rc;
}

/*
 * The worker lcore after the --rxq RX lcores, if EAL gave one: counted from
 * --rxq, not from the cores the ports left (p->n_cores), so that the
 * pipeline's lcore does not move when a port has fewer queues.
 */
static unsigned int
spare_lcore(unsigned int rxq)
{
	unsigned int lcore, i;

	if (rte_lcore_count() - 1 <= rxq)
		return RTE_MAX_LCORE;
	lcore = rte_get_next_lcore(-1, 1, 0);
	for (i = 0; i < rxq; i++)
		lcore = rte_get_next_lcore(lcore, 1, 0);
	return lcore;
}

struct dpf_dataplane *
dpf_dataplane_create(const struct dpf_dataplane_params *p)
{
	struct dpf_dataplane *dp = rte_zmalloc("dpf_dataplane", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	uint16_t c;
	int rc = -ENOMEM;

	if (dp == NULL)
		goto fail;
	dp->opt = p->opt;
	dp->pipeline_lcore = spare_lcore((unsigned int)p->opt->rxq);
	dp->lcores = rte_zmalloc("dpf_lcores", p->n_cores * sizeof(*dp->lcores),
				 RTE_CACHE_LINE_SIZE);
	dp->handoffs.core = rte_zmalloc("dpf_handoffs", p->n_cores * sizeof(struct dpf_handoff),
					RTE_CACHE_LINE_SIZE);
	dp->sh.frag_rss = rte_malloc("dpf_frag_rss", sizeof(*dp->sh.frag_rss), RTE_CACHE_LINE_SIZE);
	if (dp->lcores == NULL || dp->handoffs.core == NULL || dp->sh.frag_rss == NULL)
		goto fail;
	dp->handoffs.n = p->n_cores;
	dpf_rss_init(dp->sh.frag_rss, dpf_rss_symmetric_key);
	fill_shared(dp, p);
	rc = dpf_ports_settled(p->h.ports)->forward
		     ? create_nat_shared(dp, dpf_ports_settled(p->h.ports)->nat_shared)
		     : 0;
	for (c = 0; c < p->n_cores && rc == 0; c++, lcore = rte_get_next_lcore(lcore, 1, 0))
		rc = create_core(dp, p, c, lcore);
	if (rc != 0)
		goto fail;
	return dp;
fail:
	dpf_dataplane_free(dp);
	rte_errno = -rc;
	return NULL;
}

unsigned int
dpf_dataplane_pipeline_lcore(const struct dpf_dataplane *dp)
{
	return dp->pipeline_lcore;
}

void
dpf_dataplane_launch(struct dpf_dataplane *dp)
{
	uint16_t c;

	for (c = 0; c < dp->sh.n_cores; c++)
		rte_eal_remote_launch(dpf_rx_lcore_main, &dp->lcores[c], dp->lcores[c].lcore_id);
}

static void
free_core(struct dpf_lcore *lc)
{
	unsigned int i;

	for (i = 0; i < DPF_SHARD_DESCRIPTORS; i++)
		dpf_shard_free(lc->shards[i]);
	for (i = 0; i < DPF_MAX_TABLES; i++) {
		dpf_ft_free(lc->tables[i]);
		rte_free(lc->views[i]);
		rte_free(lc->tun_ends[i]);
	}
	dpf_nat_sessions_free(lc->nat);
	dpf_conntrack_free(lc->ct);
	if (lc->ho != NULL) {
		rte_ring_free(lc->ho->free_shards);
		rte_ring_free(lc->ho->free_tables);
		rte_ring_free(lc->ho->retired);
	}
	dpf_frag_cache_free(lc->frag);
	rte_free(lc->carry_lost);
	rte_free(lc->iface_cnt);
	rte_free(lc->acl_rule_hits);
}

void
dpf_dataplane_free(struct dpf_dataplane *dp)
{
	uint16_t c;

	if (dp == NULL)
		return;
	for (c = 0; dp->lcores != NULL && c < dp->sh.n_cores; c++)
		free_core(&dp->lcores[c]);
	/* After every core's sessions left the group. */
	dpf_nat_group_free(dp->nat_group);
	dpf_nat_icmp_free(dp->nat_icmp);
	rte_free(dp->nat_rss);
	rte_free(dp->sh.frag_rss);
	rte_free(dp->handoffs.core);
	rte_free(dp->lcores);
	rte_free(dp);
}

struct dpf_handoffs *
dpf_dataplane_handoffs(struct dpf_dataplane *dp)
{
	return &dp->handoffs;
}

uint16_t
dpf_dataplane_cores(const struct dpf_dataplane *dp)
{
	return dp->sh.n_cores;
}

void
dpf_dataplane_core_info(const struct dpf_dataplane *dp, uint16_t c, struct dpf_rx_core_info *out)
{
	const struct dpf_lcore *lc = &dp->lcores[c];

	out->lcore_id = lc->lcore_id;
	out->n_rxq = lc->n_rxq;
	memcpy(out->rxq, lc->rxq, sizeof(out->rxq));
}

void
dpf_dataplane_core_counters(const struct dpf_dataplane *dp, uint16_t c,
			    struct dpf_rx_counters *out)
{
	const uint64_t *in = (const uint64_t *)&dp->lcores[c].cnt;
	uint64_t *o = (uint64_t *)out;
	size_t i;

	/* Every field is a uint64_t counter. */
	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		o[i] = dpf_counter_read(&in[i]);
}

uint32_t
dpf_dataplane_core_flows(const struct dpf_dataplane *dp, uint16_t c)
{
	return __atomic_load_n(&dp->lcores[c].active_flows, __ATOMIC_RELAXED);
}

bool
dpf_dataplane_core_nat(const struct dpf_dataplane *dp, uint16_t c,
		       struct dpf_nat_sessions_stats *out)
{
	if (dp->lcores[c].nat == NULL)
		return false;
	dpf_nat_sessions_get_stats(dp->lcores[c].nat, out);
	return true;
}

uint64_t
dpf_dataplane_rx_total(const struct dpf_dataplane *dp)
{
	uint64_t t = 0;
	uint16_t c;

	for (c = 0; c < dp->sh.n_cores; c++)
		t += dpf_counter_read(&dp->lcores[c].cnt.rx_packets);
	return t;
}

uint64_t
dpf_dataplane_newest_ns(const struct dpf_dataplane *dp)
{
	return dpf_lcore_newest_all(&dp->sh);
}

uint64_t
dpf_dataplane_acl_hits(const struct dpf_dataplane *dp, uint32_t i)
{
	uint64_t t = 0;
	uint16_t c;

	for (c = 0; c < dp->sh.n_cores && i <= DPF_ACL_RUNTIME_MAX_RULES; c++)
		t += dpf_counter_read(&dp->lcores[c].acl_rule_hits[i]);
	return t;
}

void
dpf_dataplane_iface_counters(const struct dpf_dataplane *dp, uint16_t i,
			     struct dpf_iface_counters *out)
{
	uint16_t c;

	memset(out, 0, sizeof(*out));
	for (c = 0; c < dp->sh.n_cores && i < dp->sh.n_ifaces; c++) {
		const struct dpf_iface_counters *k = &dp->lcores[c].iface_cnt[i];

		out->packets += dpf_counter_read(&k->packets);
		out->bytes += dpf_counter_read(&k->bytes);
		out->flows += dpf_counter_read(&k->flows);
	}
}

uint32_t
dpf_dataplane_flush(struct dpf_dataplane *dp, unsigned int timeout_ms)
{
	uint32_t gen = __atomic_add_fetch(&dp->handoffs.flush_gen, 1, __ATOMIC_RELEASE);
	unsigned int waited = 0;

	/* The pipeline serves it once every core has handed over its shard. */
	while (waited < timeout_ms) {
		uint16_t c, acked = 0;

		for (c = 0; c < dp->handoffs.n; c++)
			acked += dpf_handoff_flushed(&dp->handoffs.core[c], gen);
		if (acked == dp->handoffs.n)
			break;
		usleep(1000);
		waited++;
	}
	return gen;
}
