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

/* Up to two labels: key=value pairs, NULL key for none. */
struct labels {
	const char *k1, *v1, *k2, *v2;
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

/* The counters of one X-macro row, for the per-core families. */
static const struct {
	const char *name;
	const char *help;
	size_t off;
} rx_counters[] = {
#define DPF_X_ROW(fl, name, help) {name, help, offsetof(struct dpf_rx_counters, fl)},
	DPF_RX_COUNTERS(DPF_X_ROW)
#undef DPF_X_ROW
};

static uint64_t
rx_counter(const struct dpf_rx_counters *c, size_t off)
{
	return *(const uint64_t *)((const char *)c + off);
}

/* rx_packets by port and core; the others by core. */
static void
render_rx(FILE *f, const struct dpf_snapshot *s)
{
	char core[12], port[8];
	struct family fam;
	uint16_t c, p;
	size_t i;

	for (i = 0; i < RTE_DIM(rx_counters); i++) {
		family_name(&fam, rx_counters[i].name, NULL, true);
		family_start(f, &fam, rx_counters[i].help);
		for (c = 0; c < s->n_cores; c++) {
			const struct dpf_rx_counters *k = &s->core[c].c;
			struct labels l = {"core", core, NULL, NULL};

			snprintf(core, sizeof(core), "%u", s->core[c].lcore_id);
			if (rx_counters[i].off != offsetof(struct dpf_rx_counters, rx_packets)) {
				sample(f, &fam, &l, rx_counter(k, rx_counters[i].off));
				continue;
			}
			l = (struct labels){"port", port, "core", core};
			for (p = 0; p < s->n_ports; p++) {
				snprintf(port, sizeof(port), "%u", s->port[p].id);
				sample(f, &fam, &l, k->rx_by_port[s->port[p].id]);
			}
		}
	}
}

/* Malformed packets by reason, and each core's open table. */
static void
render_cores(FILE *f, const struct dpf_snapshot *s)
{
	struct family fam;
	char core[12];
	uint16_t c;
	int i;

	family_name(&fam, "malformed_by_reason", NULL, true);
	family_start(f, &fam, "truncated or invalid headers, by reason");
	for (c = 0; c < s->n_cores; c++) {
		snprintf(core, sizeof(core), "%u", s->core[c].lcore_id);
		for (i = DPF_PKT_NOT_IP + 1; i < DPF_PKT_RESULT_MAX; i++) {
			struct labels l = {"core", core, "reason",
					   dpf_pkt_result_name((enum dpf_pkt_result)i)};

			sample(f, &fam, &l, s->core[c].c.malformed_by_reason[i]);
		}
	}
	family_name(&fam, "flows", NULL, false);
	family_start(f, &fam, "flows in the core's open table (this window so far)");
	for (c = 0; c < s->n_cores; c++) {
		struct labels l = {"core", core, NULL, NULL};

		snprintf(core, sizeof(core), "%u", s->core[c].lcore_id);
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
	static const struct {
		const char *name, *help;
		size_t off;
	} nic[] = {
		{"nic_ipackets", "packets the device received",
		 offsetof(struct rte_eth_stats, ipackets)},
		{"nic_ibytes", "bytes the device received", offsetof(struct rte_eth_stats, ibytes)},
		{"nic_imissed", "packets the device dropped: RX ring full",
		 offsetof(struct rte_eth_stats, imissed)},
		{"nic_ierrors", "erroneous packets received",
		 offsetof(struct rte_eth_stats, ierrors)},
		{"nic_rx_nombuf", "RX mbuf allocation failures",
		 offsetof(struct rte_eth_stats, rx_nombuf)},
		{"nic_opackets", "packets the device sent",
		 offsetof(struct rte_eth_stats, opackets)},
		{"nic_obytes", "bytes the device sent", offsetof(struct rte_eth_stats, obytes)},
		{"nic_oerrors", "packets the device failed to send",
		 offsetof(struct rte_eth_stats, oerrors)},
	};
	struct family fam;
	char port[8];
	uint16_t p;
	size_t i;

	for (i = 0; i < RTE_DIM(nic); i++) {
		family_name(&fam, nic[i].name, NULL, true);
		family_start(f, &fam, nic[i].help);
		for (p = 0; p < s->n_ports; p++) {
			struct labels l = {"port", port, NULL, NULL};

			if (!s->port[p].nic)
				continue;
			snprintf(port, sizeof(port), "%u", s->port[p].id);
			sample(f, &fam, &l,
			       *(const uint64_t *)((const char *)&s->port[p].nic_stats +
						   nic[i].off));
		}
	}
}

/* Logged packets, their bytes and flows, per interface (the records' sums). */
static void
render_ifaces(FILE *f, const struct dpf_snapshot *s)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} rows[] = {
		{"interface_packets", "packets logged on the interface",
		 offsetof(struct dpf_iface_counters, packets)},
		{"interface_bytes", "bytes (IP length) logged on the interface",
		 offsetof(struct dpf_iface_counters, bytes)},
		{"interface_flows", "flows of the interface (one per flow and window)",
		 offsetof(struct dpf_iface_counters, flows)},
	};
	struct family fam;
	char port[8];
	uint16_t i;
	size_t k;

	for (k = 0; k < RTE_DIM(rows); k++) {
		family_name(&fam, rows[k].name, NULL, true);
		family_start(f, &fam, rows[k].help);
		for (i = 0; i < s->n_ifaces; i++) {
			struct labels l = {"interface", s->iface[i].id, "port", port};

			snprintf(port, sizeof(port), "%u", s->iface[i].port);
			sample(f, &fam, &l,
			       *(const uint64_t *)((const char *)&s->iface[i].c + rows[k].off));
		}
	}
}

/* Packets per NAT and ACL rule (numbered as `nat show`, `acl show`). */
static void
render_rules(FILE *f, const struct dpf_snapshot *s)
{
	struct family fam;
	char rule[12];
	uint32_t i;

	family_name(&fam, "nat_rule_packets", NULL, true);
	family_start(f, &fam, "packets of the NAT rule (as numbered by nat show)");
	for (i = 0; i < s->n_nat; i++) {
		struct labels l = {"rule", rule, NULL, NULL};

		snprintf(rule, sizeof(rule), "%u", i + 1);
		sample(f, &fam, &l, s->nat[i].packets);
	}
	if (!s->acl)
		return;
	single(f, "acl_default_packets", NULL, true, "packets no ACL rule matched",
	       s->acl_default_packets);
	family_name(&fam, "acl_rule_packets", NULL, true);
	family_start(f, &fam, "packets of the ACL rule (as numbered by acl show)");
	for (i = 0; i < s->n_acl; i++) {
		struct labels l = {"rule", rule, NULL, NULL};

		snprintf(rule, sizeof(rule), "%u", i + 1);
		sample(f, &fam, &l, s->acl_rule[i].packets);
	}
}

/* Forward mode's masquerade sessions, per core. */
static void
render_sessions(FILE *f, const struct dpf_snapshot *s)
{
	static const struct {
		const char *name, *help;
		size_t off;
		bool counter;
	} rows[] = {
#define NAT_ROW(fl, name, help, counter)                                                           \
	{name, help, offsetof(struct dpf_nat_sessions_stats, fl), counter}
		NAT_ROW(created, "nat_sessions_created", "masquerade sessions created", true),
		NAT_ROW(active, "nat_sessions_active", "masquerade sessions open", false),
		NAT_ROW(expired, "nat_sessions_expired", "masquerade sessions expired", true),
		NAT_ROW(port_exhausted, "nat_port_exhausted", "no free port for a new session",
			true),
		NAT_ROW(table_full, "nat_sessions_table_full", "sessions not made: table full",
			true),
		NAT_ROW(no_session, "nat_no_session", "packets to a masquerade address, no session",
			true),
		NAT_ROW(port_tries, "nat_port_tries", "candidate ports hashed", true),
		NAT_ROW(remote_hits, "nat_remote_session_hits", "shared: another core's session",
			true),
		NAT_ROW(retired, "nat_sessions_retired", "shared: deleted, waiting for readers",
			true),
#undef NAT_ROW
	};
	struct family fam;
	char core[12];
	uint16_t c;
	size_t k;

	if (!s->forward || !s->masquerade)
		return;
	for (k = 0; k < RTE_DIM(rows); k++) {
		family_name(&fam, rows[k].name, NULL, rows[k].counter);
		family_start(f, &fam, rows[k].help);
		for (c = 0; c < s->n_cores; c++) {
			struct labels l = {"core", core, NULL, NULL};

			if (!s->core[c].has_nat)
				continue;
			snprintf(core, sizeof(core), "%u", s->core[c].lcore_id);
			sample(f, &fam, &l,
			       *(const uint64_t *)((const char *)&s->core[c].nat + rows[k].off));
		}
	}
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
	single(f, "replay", "read", true, "packets read from the --replay capture",
	       s->replay_st.read);
	single(f, "replay", "enqueued", true, "replayed packets given to the RX cores",
	       s->replay_st.enqueued);
	single(f, "replay", "late", true, "replayed packets of a window already closed",
	       s->replay_st.late);
	single(f, "replay", "bad_time", true, "replayed packets with an implausible time",
	       s->replay_st.bad_time);
	single(f, "replay", "ring_full_waits", true, "waits for room in the RX cores' rings",
	       s->replay_st.ring_full_waits);
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
	struct dpf_snap_conservation c;
	struct dpf_snap_rows r;

	dpf_snapshot_conservation(s, &c);
	dpf_snapshot_conservation_rows(&c, &r);
	r.n--; /* ok: a gauge */
	render_rows(f, "conservation", &r,
		    "conservation sum; exact once every thread ended (doc/reliability.md)");
	single(f, "conservation_ok", NULL, false,
	       "1 when every packet is accounted for; while running, packets in flight may "
	       "make it 0 for a moment",
	       c.ok);
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
