/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters snapshot (snapshot.h) as Prometheus text (exposition format
 * 0.0.4), served by metrics_http.c: the exit summary's counters per RX core,
 * port, interface, rule, exporter, and the conservation sums. Names follow
 * Prometheus's conventions: dpflow_ prefix, snake_case, counters end in
 * _total, gauges do not, one family per name with its HELP and TYPE lines.
 * Per-core series carry core="<lcore id>"; sum() gives the summary's totals.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "ctl_internal.h"
#include "snapshot.h"

#define NAME_MAX_LEN 96

/* One family: what its HELP says, counter or gauge. */
struct family {
	char name[NAME_MAX_LEN];
	bool counter;
};

/* dpflow_<a>[_<b>][_total], '-' as '_'. */
static void
family_name(struct family *fam, const char *a, const char *b, bool counter)
{
	size_t i;

	snprintf(fam->name, sizeof(fam->name), "dpflow_%s%s%s%s", a, b != NULL ? "_" : "",
		 b != NULL ? b : "", counter ? "_total" : "");
	for (i = 0; fam->name[i] != '\0'; i++)
		if (fam->name[i] == '-')
			fam->name[i] = '_';
	fam->counter = counter;
}

/* HELP text escapes '\' and newlines; the type line follows. */
static void
family_start(FILE *f, const struct family *fam, const char *help)
{
	fprintf(f, "# HELP %s ", fam->name);
	for (; *help != '\0'; help++) {
		if (*help == '\\')
			fputs("\\\\", f);
		else if (*help == '\n')
			fputs("\\n", f);
		else
			fputc(*help, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", fam->name, fam->counter ? "counter" : "gauge");
}

/* A label value escapes '\', '"' and newlines (interface ids may hold any printable). */
static void
label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

/* Up to three labels: key=value pairs, NULL key for none; b1..b3 hold numbers. */
struct labels {
	const char *k1, *v1, *k2, *v2, *k3, *v3;
	char b1[16], b2[16], b3[16];
};

static void
sample(FILE *f, const struct family *fam, const struct labels *l, uint64_t v)
{
	fputs(fam->name, f);
	if (l != NULL && l->k1 != NULL) {
		fprintf(f, "{%s=", l->k1);
		label_value(f, l->v1);
		if (l->k2 != NULL) {
			fprintf(f, ",%s=", l->k2);
			label_value(f, l->v2);
		}
		if (l->k3 != NULL) {
			fprintf(f, ",%s=", l->k3);
			label_value(f, l->v3);
		}
		fputc('}', f);
	}
	fprintf(f, " %" PRIu64 "\n", v);
}

/* A family of one sample without labels. */
static void
single(FILE *f, const char *a, const char *b, bool counter, const char *help, uint64_t v)
{
	struct family fam;

	family_name(&fam, a, b, counter);
	family_start(f, &fam, help);
	sample(f, &fam, NULL, v);
}

/* A gauge in seconds from nanoseconds, with its fraction. */
static void
single_seconds(FILE *f, const char *name, const char *help, double ns)
{
	struct family fam;

	family_name(&fam, name, NULL, false);
	family_start(f, &fam, help);
	fprintf(f, "%s %.9f\n", fam.name, ns / 1e9);
}

/* A uint64_t field of a struct, and the family it makes. */
struct field {
	const char *name, *help;
	size_t off;
	bool counter;
};

#define FIELD(type, fl, name, help, counter)                                                       \
	{                                                                                          \
		name, help, offsetof(type, fl), counter                                            \
	}

/* The structs a table of fields is read from: n of them, stride bytes apart;
 * label names item i (false: it has none of these fields). */
struct items {
	const void *base;
	size_t stride;
	unsigned int n;
	bool (*label)(const struct dpf_snapshot *s, unsigned int i, struct labels *l);
};

/* One family per field, one sample per item. */
static void
render_fields(FILE *f, const struct dpf_snapshot *s, const struct field *fl, size_t n_fields,
	      const struct items *it)
{
	struct family fam;
	struct labels l;
	unsigned int i;
	size_t k;

	for (k = 0; k < n_fields; k++) {
		family_name(&fam, fl[k].name, NULL, fl[k].counter);
		family_start(f, &fam, fl[k].help);
		for (i = 0; i < it->n; i++)
			if (it->label(s, i, &l))
				sample(f, &fam, &l,
				       *(const uint64_t *)((const char *)it->base + i * it->stride +
							   fl[k].off));
	}
}

static bool
core_label(const struct dpf_snapshot *s, unsigned int c, struct labels *l)
{
	*l = (struct labels){.k1 = "core", .v1 = l->b1};
	snprintf(l->b1, sizeof(l->b1), "%u", s->core[c].lcore_id);
	return true;
}

static bool
core_nat_label(const struct dpf_snapshot *s, unsigned int c, struct labels *l)
{
	return core_label(s, c, l) && s->core[c].has_nat;
}

static bool
nic_label(const struct dpf_snapshot *s, unsigned int p, struct labels *l)
{
	*l = (struct labels){.k1 = "port", .v1 = l->b1};
	snprintf(l->b1, sizeof(l->b1), "%u", s->port[p].id);
	return s->port[p].nic;
}

/* Rules are numbered from 1, as nat show and acl show do. */
static bool
rule_label(const struct dpf_snapshot *s, unsigned int i, struct labels *l)
{
	*l = (struct labels){.k1 = "rule", .v1 = l->b1};
	snprintf(l->b1, sizeof(l->b1), "%u", i + 1);
	return true;
}

static bool
iface_label(const struct dpf_snapshot *s, unsigned int i, struct labels *l)
{
	*l = (struct labels){.k1 = "interface", .v1 = s->iface[i].id, .k2 = "port", .v2 = l->b2};
	snprintf(l->b2, sizeof(l->b2), "%u", s->iface[i].port);
	return true;
}

/* The RX counters (X-macro) but rx_packets, which comes by port too. */
static const struct field rx_counters[] = {
#define DPF_X_ROW(fl, name, help) FIELD(struct dpf_rx_counters, fl, name, help, true),
	DPF_RX_COUNTERS(DPF_X_ROW)
#undef DPF_X_ROW
};

/* rx_packets by port and core; the others by core. */
static void
render_rx(FILE *f, const struct dpf_snapshot *s)
{
	const struct items cores = {&s->core[0].c, sizeof(s->core[0]), s->n_cores, core_label};
	struct family fam;
	struct labels l;
	uint16_t c, p;

	RTE_BUILD_BUG_ON(offsetof(struct dpf_rx_counters, rx_packets) != 0);
	family_name(&fam, rx_counters[0].name, NULL, true);
	family_start(f, &fam, rx_counters[0].help);
	for (c = 0; c < s->n_cores; c++) {
		for (p = 0; p < s->n_ports; p++) {
			l = (struct labels){.k1 = "port", .v1 = l.b1, .k2 = "core", .v2 = l.b2};
			snprintf(l.b1, sizeof(l.b1), "%u", s->port[p].id);
			snprintf(l.b2, sizeof(l.b2), "%u", s->core[c].lcore_id);
			sample(f, &fam, &l, s->core[c].c.rx_by_port[s->port[p].id]);
		}
	}
	render_fields(f, s, rx_counters + 1, RTE_DIM(rx_counters) - 1, &cores);
}

/* Per core and tunnel type (--decap): one of the uint64_t[DPF_TUN_MAX] arrays at off. */
static void
render_tunnels(FILE *f, const struct dpf_snapshot *s, const char *name, const char *help,
	       size_t off)
{
	struct family fam;
	struct labels l;
	unsigned int t;
	uint16_t c;

	family_name(&fam, name, NULL, true);
	family_start(f, &fam, help);
	for (c = 0; c < s->n_cores; c++) {
		const uint64_t *v = (const uint64_t *)((const char *)&s->core[c].c + off);

		for (t = DPF_TUN_NONE + 1; t < DPF_TUN_MAX; t++) {
			core_label(s, c, &l);
			l.k2 = "type";
			l.v2 = dpf_pkt_tun_name(t);
			sample(f, &fam, &l, v[t]);
		}
	}
}

/* Malformed packets by reason, and each core's open table. */
static void
render_cores(FILE *f, const struct dpf_snapshot *s)
{
	struct family fam;
	struct labels l;
	uint16_t c;
	int i;

	family_name(&fam, "malformed_by_reason", NULL, true);
	family_start(f, &fam, "truncated or invalid headers, by reason");
	for (c = 0; c < s->n_cores; c++) {
		for (i = DPF_PKT_NOT_IP + 1; i < DPF_PKT_RESULT_MAX; i++) {
			core_label(s, c, &l);
			l.k2 = "reason";
			l.v2 = dpf_pkt_result_name((enum dpf_pkt_result)i);
			sample(f, &fam, &l, s->core[c].c.malformed_by_reason[i]);
		}
	}
	render_tunnels(f, s, "tunnel_packets", "packets logged as the flow inside their tunnel",
		       offsetof(struct dpf_rx_counters, tunnel_packets));
	render_tunnels(f, s, "tunnel_bytes", "inner IP bytes of the packets logged so",
		       offsetof(struct dpf_rx_counters, tunnel_bytes));
	family_name(&fam, "flows", NULL, false);
	family_start(f, &fam, "flows in the core's open table (this window so far)");
	for (c = 0; c < s->n_cores; c++) {
		core_label(s, c, &l);
		sample(f, &fam, &l, s->core[c].flows);
	}
	single(f, "flow_table_capacity", NULL, false,
	       "flows each core's table holds per window (--flows-per-core)", s->flows_per_core);
	single(f, "flow_tables", NULL, false, "flow tables per core (--shards-per-core)",
	       s->tables_per_core);
}

/* The devices' counters (rte_eth_stats), per port that gives them. */
static void
render_ports(FILE *f, const struct dpf_snapshot *s)
{
#define NIC(fl, help) FIELD(struct rte_eth_stats, fl, "nic_" #fl, help, true)
	static const struct field nic[] = {
		NIC(ipackets, "packets the device received"),
		NIC(ibytes, "bytes the device received"),
		NIC(imissed, "packets the device dropped: RX ring full"),
		NIC(ierrors, "erroneous packets received"),
		NIC(rx_nombuf, "RX mbuf allocation failures"),
		NIC(opackets, "packets the device sent"),
		NIC(obytes, "bytes the device sent"),
		NIC(oerrors, "packets the device failed to send"),
	};
#undef NIC
	const struct items ports = {&s->port[0].nic_stats, sizeof(s->port[0]), s->n_ports,
				    nic_label};

	render_fields(f, s, nic, RTE_DIM(nic), &ports);
}

/* Logged packets, their bytes and flows, per interface (the records' sums). */
static void
render_ifaces(FILE *f, const struct dpf_snapshot *s)
{
	static const struct field rows[] = {
		FIELD(struct dpf_iface_counters, packets, "interface_packets",
		      "packets logged on the interface", true),
		FIELD(struct dpf_iface_counters, bytes, "interface_bytes",
		      "bytes (IP length) logged on the interface", true),
		FIELD(struct dpf_iface_counters, flows, "interface_flows",
		      "flows of the interface (one per flow and window)", true),
	};
	const struct items ifaces = {s->iface != NULL ? &s->iface[0].c : NULL, sizeof(s->iface[0]),
				     s->n_ifaces, iface_label};
	struct family fam;
	struct labels l;
	uint16_t i;

	render_fields(f, s, rows, RTE_DIM(rows), &ifaces);
	/*
	 * An info family (value 1) names each tenant interface's tunnel id, so
	 * that a query sums the interfaces' counters per VNI (doc/configuration.md).
	 */
	family_name(&fam, "interface_tenant_info", NULL, false);
	family_start(f, &fam, "a tenant interface (vni =): its tunnel id in the vni label");
	for (i = 0; i < s->n_ifaces; i++) {
		if (!s->iface[i].tenant)
			continue;
		iface_label(s, i, &l);
		l.k3 = "vni";
		l.v3 = l.b3;
		snprintf(l.b3, sizeof(l.b3), "%" PRIu32, s->iface[i].vni);
		sample(f, &fam, &l, 1);
	}
}

/* Packets per NAT and ACL rule (numbered as `nat show`, `acl show`). */
static void
render_rules(FILE *f, const struct dpf_snapshot *s)
{
	static const struct field nat = {"nat_rule_packets",
					 "packets of the NAT rule (as numbered by nat show)",
					 offsetof(struct dpf_snap_rule, packets), true};
	static const struct field acl = {"acl_rule_packets",
					 "packets of the ACL rule (as numbered by acl show)",
					 offsetof(struct dpf_snap_rule, packets), true};
	const struct items nat_rules = {s->nat, sizeof(s->nat[0]), s->n_nat, rule_label};
	const struct items acl_rules = {s->acl_rule, sizeof(s->acl_rule[0]), s->n_acl, rule_label};

	render_fields(f, s, &nat, 1, &nat_rules);
	if (!s->acl)
		return;
	single(f, "acl_default_packets", NULL, true, "packets no ACL rule matched",
	       s->acl_default_packets);
	render_fields(f, s, &acl, 1, &acl_rules);
}

/* Forward mode's masquerade sessions, per core. */
static void
render_sessions(FILE *f, const struct dpf_snapshot *s)
{
#define NAT(fl, name, help, counter) FIELD(struct dpf_nat_sessions_stats, fl, name, help, counter)
	static const struct field rows[] = {
		NAT(created, "nat_sessions_created", "masquerade sessions created", true),
		NAT(active, "nat_sessions_active", "masquerade sessions open", false),
		NAT(expired, "nat_sessions_expired", "masquerade sessions expired", true),
		NAT(port_exhausted, "nat_port_exhausted", "no free port for a new session", true),
		NAT(table_full, "nat_sessions_table_full", "sessions not made: table full", true),
		NAT(no_session, "nat_no_session", "packets to a masquerade address, no session",
		    true),
		NAT(port_tries, "nat_port_tries", "candidate ports hashed", true),
		NAT(remote_hits, "nat_remote_session_hits", "shared: another core's session", true),
		NAT(retired, "nat_sessions_retired", "shared: deleted, waiting for readers", true),
	};
#undef NAT
	const struct items cores = {&s->core[0].nat, sizeof(s->core[0]), s->n_cores,
				    core_nat_label};

	if (s->forward && s->masquerade)
		render_fields(f, s, rows, RTE_DIM(rows), &cores);
}

/* Rows of one part as counters dpflow_<part>_<row>_total. */
static void
render_rows(FILE *f, const char *part, const struct dpf_snap_rows *r, const char *help)
{
	char h[160];
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		snprintf(h, sizeof(h), "%s (summary line: %s %s)", help, part, r->row[i].name);
		single(f, part, r->row[i].name, true, h, r->row[i].v);
	}
}

static void
render_pipeline(FILE *f, const struct dpf_snapshot *s)
{
	struct dpf_snap_rows r;

	dpf_snapshot_pipeline_rows(s, &r);
	render_rows(f, "pipeline", &r, "the pipeline's windows, records and losses");
	single_seconds(f, "pipeline_merge_seconds_max", "longest merge of a window",
		       (double)s->pipeline.merge_ns_max);
	single(f, "window_seconds", NULL, false, "capture window length", s->window_sec);
	single_seconds(f, "window_start_timestamp_seconds", "start of the open window (Unix)",
		       (double)s->window_start_ns);
	single_seconds(f, "window_end_timestamp_seconds", "end of the open window (Unix)",
		       (double)s->window_end_ns);
	if (!s->replay)
		return;
#define REPLAY_METRIC(field, name, what)                                                           \
	single(f, "replay", #field, true, what, s->replay_st.field);
	DPF_REPLAY_STATS(REPLAY_METRIC)
#undef REPLAY_METRIC
}

/* The wall clock's discipline (lib/clock), when it runs. */
static void
render_clock(FILE *f, const struct dpf_wall_stats *w)
{
	const struct dpf_clock_stats *c = &w->disc;

	if (!w->disciplined)
		return;
	single_seconds(f, "clock_error_seconds", "error of the disciplined clock, last sample",
		       (double)c->error_ns);
	single_seconds(f, "clock_error_max_seconds", "largest error while slewing",
		       (double)c->error_max_ns);
	single(f, "clock_tsc_hertz", NULL, false, "measured TSC rate", c->tsc_hz);
	single(f, "clock_tsc_eal_hertz", NULL, false, "TSC rate EAL reports", w->tsc_hz_eal);
	single(f, "clock", "samples", true, "CLOCK_REALTIME samples taken", c->samples);
	single(f, "clock", "samples_rejected", true, "samples rejected (preempted reads)",
	       c->rejected);
	single(f, "clock", "adjustments", true, "rate adjustments", c->adjustments);
	single(f, "clock", "steps", true, "steps (realtime jumps followed at once)", c->steps);
	single(f, "clock", "holds", true, "times the clock held still instead of going back",
	       c->holds);
	single(f, "clock_holding", NULL, false, "1 while the clock holds still", c->holding);
}

/* Every exporter's named counters: dpflow_<prefix>_<name>[_total]. */
static void
render_exporters(FILE *f, const struct dpf_snapshot *s)
{
	char help[128];
	unsigned int i, k;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *c = &s->exporter[i];

		for (k = 0; k < c->n; k++) {
			snprintf(help, sizeof(help), "exporter counter (summary line: %s %s)",
				 c->prefix, c->name[k]);
			single(f, c->prefix, c->name[k], !(c->gauges & (1u << k)), help,
			       c->value[k]);
		}
	}
}

static void
render_conservation(FILE *f, const struct dpf_snapshot *s)
{
	struct dpf_snap_rows r;
	bool ok = dpf_snapshot_conservation_rows(s, false, &r); /* ok: a gauge */

	render_rows(f, "conservation", &r,
		    "conservation sum; exact once every thread ended (doc/reliability.md)");
	single(f, "conservation_ok", NULL, false,
	       "1 when every packet is accounted for; while running, packets in flight may "
	       "make it 0 for a moment",
	       ok);
}

int
dpf_ctl_metrics(struct dpf_ctl *ctl, FILE *f)
{
	struct dpf_snapshot s;

	if (dpf_snapshot_take(ctl, DPF_SNAP_NIC | DPF_SNAP_RULES, &s) < 0)
		return -ENOMEM;
	render_rx(f, &s);
	render_cores(f, &s);
	render_ports(f, &s);
	render_ifaces(f, &s);
	render_rules(f, &s);
	render_sessions(f, &s);
	render_pipeline(f, &s);
	render_clock(f, &s.wall);
	render_exporters(f, &s);
	render_conservation(f, &s);
	dpf_snapshot_release(&s);
	return 0;
}
