/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One counters snapshot from every subsystem's getters (snapshot.h). A
 * subsystem the control handle was not given (NULL: a test of the control
 * actions alone) counts nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>

#include "ctl_internal.h"
#include "snapshot.h"

static void
take_ports(const struct dpf_ctl *ctl, bool nic, struct dpf_snapshot *s)
{
	const uint16_t *ids;
	uint16_t p;

	if (ctl->p.h.ports == NULL)
		return;
	ids = dpf_ports_settled(ctl->p.h.ports)->ids;
	s->n_ports = dpf_ports_settled(ctl->p.h.ports)->n_ports;
	for (p = 0; p < s->n_ports; p++) {
		struct dpf_snap_port *sp = &s->port[p];

		sp->id = ids[p];
		sp->replay = (int)ids[p] == dpf_ports_settled(ctl->p.h.ports)->replay_port;
		sp->rx_packets = s->total.rx_by_port[ids[p]];
		sp->drops_unreported = dpf_ports_drops_unreported(ctl->p.h.ports, ids[p]);
		sp->nic = nic && rte_eth_stats_get(ids[p], &sp->nic_stats) == 0;
	}
}

static int
take_cores(const struct dpf_ctl *ctl, struct dpf_snapshot *s)
{
	const uint64_t *in;
	uint64_t *t = (uint64_t *)&s->total;
	uint16_t c;
	size_t i;

	s->n_cores = ctl->p.dp != NULL ? dpf_dataplane_cores(ctl->p.dp) : 0;
	s->core = calloc(s->n_cores + 1, sizeof(*s->core));
	if (s->core == NULL)
		return -ENOMEM;
	for (c = 0; c < s->n_cores; c++) {
		struct dpf_snap_core *k = &s->core[c];
		struct dpf_rx_core_info ci;

		dpf_dataplane_core_info(ctl->p.dp, c, &ci);
		k->lcore_id = ci.lcore_id;
		k->flows = dpf_dataplane_core_flows(ctl->p.dp, c);
		dpf_dataplane_core_counters(ctl->p.dp, c, &k->c);
		k->has_nat = dpf_dataplane_core_nat(ctl->p.dp, c, &k->nat);
		s->flows += k->flows;
		in = (const uint64_t *)&k->c;
		/* Every field of the counters is a uint64_t: the totals add up field by field. */
		for (i = 0; i < sizeof(k->c) / sizeof(uint64_t); i++)
			t[i] += in[i];
	}
	return 0;
}

static uint64_t
hits(const struct dpf_ctl *ctl, uint32_t i)
{
	return ctl->p.dp != NULL ? dpf_dataplane_acl_hits(ctl->p.dp, i) : 0;
}

/* Filled under the rules' mutex: the texts and counters of the set in effect. */
struct rules_take {
	const struct dpf_ctl *ctl;
	struct dpf_snapshot *s;
	int rc;
};

static void
take_rule_set(void *arg, const struct dpf_ruleset *rs)
{
	struct rules_take *rt = arg;
	struct dpf_snapshot *s = rt->s;
	uint32_t i, n_nat = dpf_nat_rule_count(rs->nat);
	uint32_t n_acl = rs->acl != NULL ? dpf_acl_rule_count(rs->acl) : 0;

	s->nat = calloc(n_nat + 1, sizeof(*s->nat));
	s->acl_rule = calloc(n_acl + 1, sizeof(*s->acl_rule));
	if (s->nat == NULL || s->acl_rule == NULL) {
		rt->rc = -ENOMEM;
		return;
	}
	s->n_nat = n_nat;
	for (i = 0; i < n_nat; i++) {
		dpf_nat_rule_format(dpf_nat_rule_get(rs->nat, i), s->nat[i].text,
				    sizeof(s->nat[i].text));
		s->nat[i].packets = dpf_counter_read(&rs->nat_rule_pkts[i]);
	}
	s->masquerade = dpf_nat_has_masquerade(rs->nat);
	s->acl = rs->acl != NULL;
	if (!s->acl)
		return;
	s->n_acl = n_acl;
	s->acl_allow = dpf_acl_default_action(rs->acl) == DPF_ACTION_ACCEPT;
	s->acl_default_packets = hits(rt->ctl, 0);
	for (i = 0; i < n_acl; i++) {
		dpf_acl_rule_format(dpf_acl_rule_get(rs->acl, i), s->acl_rule[i].text,
				    sizeof(s->acl_rule[i].text));
		s->acl_rule[i].packets = hits(rt->ctl, i + 1);
	}
}

static int
take_rules(const struct dpf_ctl *ctl, struct dpf_snapshot *s)
{
	struct rules_take rt = {.ctl = ctl, .s = s};
	uint16_t i;

	dpf_rules_with_current(ctl->p.h.rules, take_rule_set, &rt);
	if (rt.rc != 0)
		return rt.rc;
	s->n_ifaces = ctl->p.h.ifmap != NULL ? dpf_ifmap_count(ctl->p.h.ifmap) : 0;
	s->iface = calloc(s->n_ifaces + 1, sizeof(*s->iface));
	if (s->iface == NULL)
		return -ENOMEM;
	for (i = 0; i < s->n_ifaces; i++) {
		const struct dpf_iface *ifc = dpf_ifmap_iface(ctl->p.h.ifmap, i);

		s->iface[i].id = ifc->meta.interface_id;
		s->iface[i].port = ifc->port;
		s->iface[i].tenant = ifc->vni >= 0;
		s->iface[i].vni = ifc->vni >= 0 ? (uint32_t)ifc->vni : 0;
		if (ctl->p.dp != NULL)
			dpf_dataplane_iface_counters(ctl->p.dp, i, &s->iface[i].c);
	}
	return 0;
}

int
dpf_snapshot_take(struct dpf_ctl *ctl, unsigned int parts, struct dpf_snapshot *s)
{
	const struct dpf_options *o = dpf_config_options(ctl->p.cfg);
	int rc;

	memset(s, 0, sizeof(*s));
	s->clock = ctl->p.h.clock;
	s->now_ns = dpf_ctl_now_ns(ctl);
	dpf_window_plan_bounds(ctl->p.h.plan, s->now_ns, &s->window_start_ns, &s->window_end_ns);
	/* The open window's own length: a set window applies from a later boundary. */
	s->window_sec = (uint32_t)((s->window_end_ns - s->window_start_ns) / NS_PER_SEC);
	s->window_sec_set = dpf_window_plan_len_sec(ctl->p.h.plan);
	s->clock_started = s->clock == DPF_CLOCK_WALL || s->now_ns != 0;
	s->flows_per_core = o->flows_per_core;
	s->tables_per_core = o->shards_per_core;
	s->forward = ctl->p.h.ports != NULL && dpf_ports_settled(ctl->p.h.ports)->forward;
	s->nat_shared = ctl->p.h.ports != NULL && dpf_ports_settled(ctl->p.h.ports)->nat_shared;
	rc = take_cores(ctl, s);
	if (rc == 0 && (parts & DPF_SNAP_RULES))
		rc = take_rules(ctl, s);
	if (rc != 0) {
		dpf_snapshot_release(s);
		return rc;
	}
	take_ports(ctl, parts & DPF_SNAP_NIC, s);
	s->replay = ctl->p.replay != NULL;
	if (s->replay)
		dpf_replay_stats_get(ctl->p.replay, &s->replay_st);
	if (ctl->p.pipeline != NULL)
		dpf_pipeline_stats_get(ctl->p.pipeline, &s->pipeline);
	dpf_wall_stats_get(ctl->p.h.wall, &s->wall);
	if (ctl->p.writer != NULL)
		s->n_exporters = dpf_writer_counters(ctl->p.writer, s->exporter, DPF_MAX_EXPORTERS);
	return 0;
}

void
dpf_snapshot_release(struct dpf_snapshot *s)
{
	free(s->core);
	free(s->nat);
	free(s->acl_rule);
	free(s->iface);
	s->core = NULL;
	s->nat = NULL;
	s->acl_rule = NULL;
	s->iface = NULL;
}

uint64_t
dpf_snapshot_exporter(const struct dpf_snapshot *s, const char *prefix, const char *name)
{
	unsigned int i, k;

	for (i = 0; i < s->n_exporters; i++) {
		if (strcmp(s->exporter[i].prefix, prefix) != 0)
			continue;
		for (k = 0; k < s->exporter[i].n; k++)
			if (strcmp(s->exporter[i].name[k], name) == 0)
				return s->exporter[i].value[k];
	}
	return 0;
}

static void
set_rows(struct dpf_snap_rows *r, const struct dpf_snap_row *row, size_t n)
{
	memcpy(r->row, row, n * sizeof(*row));
	r->n = (unsigned int)n;
}

void
dpf_snapshot_window_rows(const struct dpf_snapshot *s, struct dpf_snap_rows *r)
{
	const struct dpf_snap_row row[] = {
		{"window-seconds", s->window_sec},
		{"window-seconds-set", s->window_sec_set},
		{"window-start", s->window_start_ns / NS_PER_SEC},
		{"window-end", s->window_end_ns / NS_PER_SEC},
		{"now", s->now_ns / NS_PER_SEC},
		{"next-boundary-in", (s->window_end_ns - s->now_ns) / NS_PER_SEC},
		{"flows-so-far", s->flows},
		{"windows-closed", s->pipeline.windows},
	};

	RTE_BUILD_BUG_ON(RTE_DIM(row) > DPF_SNAP_ROWS_MAX);
	set_rows(r, row, RTE_DIM(row));
}

void
dpf_snapshot_core_rows(const struct dpf_snapshot *s, uint16_t c, struct dpf_snap_rows *r)
{
	const struct dpf_snap_core *k = &s->core[c];
	const struct dpf_snap_row row[] = {
		{"flows", k->flows},
		{"capacity", s->flows_per_core},
		{"tables", s->tables_per_core},
		{"flows-created", k->c.flows_created},
		{"lost-table-full", k->c.lost_table_full},
		{"lost-no-table", k->c.lost_no_table},
	};

	RTE_BUILD_BUG_ON(RTE_DIM(row) > DPF_SNAP_ROWS_MAX);
	set_rows(r, row, RTE_DIM(row));
}

void
dpf_snapshot_pipeline_rows(const struct dpf_snapshot *s, struct dpf_snap_rows *r)
{
	const struct dpf_pipeline_stats *ps = &s->pipeline;
	const struct dpf_snap_row row[] = {
		{"windows", ps->windows},
		{"records", ps->records},
		{"record-packets", ps->record_packets},
		{"nodata-rows", ps->nodata_rows},
		{"skipdata-rows", ps->skipdata_rows},
		{"gap-windows", ps->gap_windows},
		{"lost-packets", ps->lost_pkts},
	};

	RTE_BUILD_BUG_ON(RTE_DIM(row) > DPF_SNAP_ROWS_MAX);
	set_rows(r, row, RTE_DIM(row));
}

/* NIC ports only: the replay's port counts what the replay enqueued. A NIC
 * that delivered more than it counted breaks the check. */
static bool
conservation_nic(const struct dpf_snapshot *s, struct dpf_snap_conservation *c)
{
	bool ok = true;
	uint16_t p;

	for (p = 0; p < s->n_ports; p++) {
		const struct dpf_snap_port *sp = &s->port[p];

		if (!sp->nic || sp->replay)
			continue;
		c->nic_ipackets += sp->nic_stats.ipackets;
		c->nic_accounted += sp->rx_packets + dpf_snap_port_not_polled(sp);
		ok = ok && sp->nic_stats.ipackets >= sp->rx_packets;
	}
	c->nic = c->nic_ipackets != 0 || !ok;
	return ok;
}

/* Forward mode: a packet not sent is not logged either (tx-dropped,
 * tx-too-big), nor one that arrived cut (short-frames). */
/* A named counter of an exporter: 0 when it has no such counter. */
static uint64_t
export_value(const struct dpf_export_counters *c, const char *name)
{
	uint16_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return c->value[i];
	return 0;
}

/*
 * Connection records (--ibm-output): every packet of the flow records is in
 * a flow log, or counted as another protocol's or as refused by a full
 * connection table. @return whether it holds (true without the exporter)
 */
static bool
conservation_ibm(const struct dpf_snapshot *s, struct dpf_snap_conservation *c)
{
	unsigned int i;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *x = &s->exporter[i];

		if (x->prefix == NULL || strcmp(x->prefix, "ibm") != 0)
			continue;
		c->ibm = true;
		c->ibm_accounted = export_value(x, "logged-packets") +
				   export_value(x, "other-proto-packets") +
				   export_value(x, "table-full-packets");
		return c->ibm_accounted == s->pipeline.record_packets;
	}
	return true;
}

void
dpf_snapshot_conservation(const struct dpf_snapshot *s, struct dpf_snap_conservation *c)
{
	const struct dpf_rx_counters *t = &s->total;
	const struct dpf_replay_stats *r = &s->replay_st;
	uint64_t replay_rx = 0;
	bool nic_ok;
	uint16_t p;

	memset(c, 0, sizeof(*c));
	for (p = 0; p < s->n_ports; p++)
		if (s->port[p].replay)
			replay_rx = s->port[p].rx_packets;
	c->replay = s->replay;
	if (s->replay) {
		c->replay_read = r->read;
		c->replay_accounted = r->late + r->bad_time + replay_rx;
	}
	nic_ok = conservation_nic(s, c);
	c->received = t->rx_packets;
	c->accounted = t->logged_packets + t->not_ip + t->malformed + t->lost_table_full +
		       t->lost_no_table + t->late + t->unmatched + t->bad_time + t->short_frames +
		       t->tx_dropped + t->tx_too_big;
	c->logged_in_records = s->pipeline.record_packets;
	c->ok = (!s->replay || (r->read == c->replay_accounted && r->enqueued == replay_rx)) &&
		nic_ok && c->accounted == c->received &&
		c->logged_in_records == t->logged_packets &&
		s->pipeline.lost_pkts == t->lost_table_full + t->lost_no_table;
	c->ok = conservation_ibm(s, c) && c->ok;
}

bool
dpf_snapshot_conservation_rows(const struct dpf_snapshot *s, bool with_ok, struct dpf_snap_rows *r)
{
	struct dpf_snap_conservation sums, *c = &sums;

	dpf_snapshot_conservation(s, c);
	r->n = 0;
	if (c->replay) {
		r->row[r->n++] = (struct dpf_snap_row){"replay-read", c->replay_read};
		r->row[r->n++] = (struct dpf_snap_row){"replay-accounted", c->replay_accounted};
	}
	if (c->nic) {
		r->row[r->n++] = (struct dpf_snap_row){"nic-ipackets", c->nic_ipackets};
		r->row[r->n++] = (struct dpf_snap_row){"nic-accounted", c->nic_accounted};
	}
	r->row[r->n++] = (struct dpf_snap_row){"received", c->received};
	r->row[r->n++] = (struct dpf_snap_row){"accounted", c->accounted};
	r->row[r->n++] = (struct dpf_snap_row){"logged-in-records", c->logged_in_records};
	if (c->ibm)
		r->row[r->n++] = (struct dpf_snap_row){"ibm-accounted", c->ibm_accounted};
	if (with_ok)
		r->row[r->n++] = (struct dpf_snap_row){"ok", c->ok};
	return c->ok;
}
