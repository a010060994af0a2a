/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters snapshot rendered as the exit summary (`key: value` lines,
 * output on stderr, not log messages) and as the progress line (a log
 * message). The summary ends with the conservation check of design.md,
 * from the source on (doc/reliability.md, "Conservation"):
 *   replay read == replay late + replay bad-time + replay port rx-packets
 *   NIC ipackets == rx-packets + not-polled (per port that reports them)
 *   rx-packets == logged + every named counter
 *   packets in records == logged; lost reported by SKIPDATA == lost counted
 *   forward mode adds short-frames, tx-dropped, tx-too-big to the named counters
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl_internal.h"
#include "log.h"
#include "snapshot.h"

void
dpf_ctl_print_clock(FILE *f, const char *prefix, const struct dpf_wall_stats *w)
{
	const struct dpf_clock_stats *s = &w->disc;

	if (!w->disciplined)
		return;
	fprintf(f, "%serror-ns: %" PRId64 "\n", prefix, s->error_ns);
	fprintf(f, "%serror-max-ns: %" PRIu64 "\n", prefix, s->error_max_ns);
	fprintf(f, "%stsc-hz: %" PRIu64 "\n", prefix, s->tsc_hz);
	fprintf(f, "%stsc-hz-eal: %" PRIu64 "\n", prefix, w->tsc_hz_eal);
	fprintf(f, "%ssamples: %" PRIu64 "\n", prefix, s->samples);
	fprintf(f, "%ssamples-rejected: %" PRIu64 "\n", prefix, s->rejected);
	fprintf(f, "%sadjustments: %" PRIu64 "\n", prefix, s->adjustments);
	fprintf(f, "%ssteps: %" PRIu64 "\n", prefix, s->steps);
	fprintf(f, "%sholds: %" PRIu64 "\n", prefix, s->holds);
	fprintf(f, "%sholding: %s\n", prefix, s->holding ? "yes" : "no");
	fprintf(f, "%slast-step-ns: %" PRId64 "\n", prefix, s->last_step_ns);
}

/* The exit summary's stream, and whether lines of value 0 are printed. */
struct sum_out {
	FILE *f;
	bool detail;
};

/* `<prefix><name>: v`, unless v is 0 and the detail was not asked for. */
static void
put(const struct sum_out *o, const char *prefix, const char *name, uint64_t v)
{
	if (v != 0 || o->detail)
		fprintf(o->f, "%s%s: %" PRIu64 "\n", prefix, name, v);
}

/* put() for an interface's row (its id has no length limit: no prefix buffer). */
static void
put_iface(const struct sum_out *o, const struct dpf_snap_iface *fc, const char *name, uint64_t v)
{
	if (v != 0 || o->detail)
		fprintf(o->f, "interface %s port %u %s: %" PRIu64 "\n", fc->id, fc->port, name, v);
}

/* The wall clock's discipline, as show window's but through put(). */
static void
put_clock(const struct sum_out *o, const struct dpf_wall_stats *w)
{
	const struct dpf_clock_stats *s = &w->disc;

	if (!w->disciplined)
		return;
	if (s->error_ns != 0 || o->detail)
		fprintf(o->f, "clock error-ns: %" PRId64 "\n", s->error_ns);
	put(o, "clock ", "error-max-ns", s->error_max_ns);
	put(o, "clock ", "tsc-hz", s->tsc_hz);
	put(o, "clock ", "tsc-hz-eal", w->tsc_hz_eal);
	put(o, "clock ", "samples", s->samples);
	put(o, "clock ", "samples-rejected", s->rejected);
	put(o, "clock ", "adjustments", s->adjustments);
	put(o, "clock ", "steps", s->steps);
	put(o, "clock ", "holds", s->holds);
	if (s->holding || o->detail)
		fprintf(o->f, "clock holding: %s\n", s->holding ? "yes" : "no");
	if (s->last_step_ns != 0 || o->detail)
		fprintf(o->f, "clock last-step-ns: %" PRId64 "\n", s->last_step_ns);
}

static void
print_port(const struct sum_out *o, const struct dpf_snap_port *p)
{
	const struct rte_eth_stats *es = &p->nic_stats;
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "port %u ", p->id);
	put(o, prefix, "rx-packets", p->rx_packets);
	if (!p->nic)
		return;
	put(o, prefix, "nic-ipackets", es->ipackets);
	put(o, prefix, "nic-imissed", es->imissed);
	/* imissed 0 means nothing from a driver that cannot count. */
	if (p->drops_unreported)
		fprintf(o->f, "port %u nic-imissed-reported: no\n", p->id);
	put(o, prefix, "nic-ierrors", es->ierrors);
	put(o, prefix, "nic-rx-nombuf", es->rx_nombuf);
	/* af_packet counts here what the kernel refused after its tx_burst had
	 * taken it (doc/operations.md). */
	put(o, prefix, "nic-opackets", es->opackets);
	put(o, prefix, "nic-oerrors", es->oerrors);
	/* Received by the NIC after the stop's last poll of its queue. */
	if (es->ipackets >= p->rx_packets)
		put(o, prefix, "not-polled", dpf_snap_port_not_polled(p));
}

static void
print_counters(const struct sum_out *o, const char *prefix, const struct dpf_rx_counters *k)
{
	unsigned int i;

#define DPF_X_PRINT(fl, name, help) put(o, prefix, name, k->fl);
	DPF_RX_COUNTERS(DPF_X_PRINT)
#undef DPF_X_PRINT
	for (i = DPF_PKT_NOT_IP + 1; i < DPF_PKT_RESULT_MAX; i++)
		if (k->malformed_by_reason[i] != 0)
			fprintf(o->f, "%smalformed-%s: %" PRIu64 "\n", prefix,
				dpf_pkt_result_name((enum dpf_pkt_result)i),
				k->malformed_by_reason[i]);
	/* Packets logged as the flow inside their tunnel (--decap), and its IP bytes. */
	for (i = DPF_TUN_NONE + 1; i < DPF_TUN_MAX; i++) {
		char name[48];

		snprintf(name, sizeof(name), "tunnel-%s-packets", dpf_pkt_tun_name(i));
		put(o, prefix, name, k->tunnel_packets[i]);
		snprintf(name, sizeof(name), "tunnel-%s-bytes", dpf_pkt_tun_name(i));
		put(o, prefix, name, k->tunnel_bytes[i]);
	}
}

static void
print_sessions(const struct sum_out *o, const struct dpf_snapshot *s)
{
	FILE *f = o->f;
	struct dpf_nat_sessions_stats t = {0};
	uint16_t c;

	for (c = 0; c < s->n_cores; c++) {
		const struct dpf_nat_sessions_stats *st = &s->core[c].nat;

		if (!s->core[c].has_nat)
			continue;
		fprintf(f, "core %u nat sessions-created: %" PRIu64 "\n", s->core[c].lcore_id,
			st->created);
		t.created += st->created;
		t.active += st->active;
		t.expired += st->expired;
		t.port_exhausted += st->port_exhausted;
		t.table_full += st->table_full;
		t.no_session += st->no_session;
		t.port_tries += st->port_tries;
		t.remote_hits += st->remote_hits;
		t.retired += st->retired;
	}
	put(o, "nat ", "sessions-created", t.created);
	put(o, "nat ", "sessions-active", t.active);
	put(o, "nat ", "sessions-expired", t.expired);
	put(o, "nat ", "port-exhausted", t.port_exhausted);
	put(o, "nat ", "sessions-table-full", t.table_full);
	put(o, "nat ", "no-session", t.no_session);
	fprintf(f, "nat port-tries-per-session: %.2f\n",
		t.created ? (double)t.port_tries / (double)t.created : 0.0);
	fprintf(f, "nat sessions: %s\n", s->nat_shared ? "shared" : "per-core");
	if (s->nat_shared) {
		put(o, "nat ", "remote-session-hits", t.remote_hits);
		put(o, "nat ", "sessions-retired", t.retired);
	}
}

static void
print_rules(const struct sum_out *o, const struct dpf_snapshot *s)
{
	FILE *f = o->f;
	uint32_t i;

	for (i = 0; i < s->n_nat; i++) {
		fprintf(f, "nat rule %u: %s\n", i + 1, s->nat[i].text);
		fprintf(f, "nat rule %u packets: %" PRIu64 "\n", i + 1, s->nat[i].packets);
	}
	if (s->forward && s->masquerade)
		print_sessions(o, s);
	if (s->acl) {
		fprintf(f, "acl default: %s\n", s->acl_allow ? "allow" : "deny");
		fprintf(f, "acl default packets: %" PRIu64 "\n", s->acl_default_packets);
		for (i = 0; i < s->n_acl; i++) {
			fprintf(f, "acl rule %u: %s\n", i + 1, s->acl_rule[i].text);
			fprintf(f, "acl rule %u packets: %" PRIu64 "\n", i + 1, s->acl_rule[i].packets);
		}
	}
	for (i = 0; i < s->n_ifaces; i++) {
		/* Always, 0 too: a tenant's tunnel id labels its counters. */
		if (s->iface[i].tenant)
			fprintf(f, "interface %s port %u vni: %" PRIu32 "\n", s->iface[i].id,
				s->iface[i].port, s->iface[i].vni);
		put_iface(o, &s->iface[i], "logged-packets", s->iface[i].c.packets);
		put_iface(o, &s->iface[i], "logged-bytes", s->iface[i].c.bytes);
		put_iface(o, &s->iface[i], "flows", s->iface[i].c.flows);
	}
}

void
dpf_ctl_print_rows(FILE *f, const char *prefix, const struct dpf_snap_rows *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		fprintf(f, "%s%s: %" PRIu64 "\n", prefix, r->row[i].name, r->row[i].v);
}

static void
print_pipeline(const struct sum_out *o, const struct dpf_snapshot *s)
{
	struct dpf_snap_rows r;
	unsigned int i;

	dpf_snapshot_pipeline_rows(s, &r);
	for (i = 0; i < r.n; i++)
		put(o, "pipeline ", r.row[i].name, r.row[i].v);
	if (s->pipeline.merge_ns_max != 0 || o->detail)
		fprintf(o->f, "pipeline merge-ms-max: %.3f\n",
			(double)s->pipeline.merge_ns_max / 1e6);
}

/* The exporters' counters: the record files' ("writer ...") or the others'. */
static void
print_exporters(const struct sum_out *o, const struct dpf_snapshot *s, bool files)
{
	char prefix[32];
	unsigned int i, k;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *c = &s->exporter[i];

		if ((strcmp(c->prefix, "writer") == 0) != files)
			continue;
		snprintf(prefix, sizeof(prefix), "%s ", c->prefix);
		for (k = 0; k < c->n; k++)
			put(o, prefix, c->name[k], c->value[k]);
	}
}

/* Conservation (design.md invariant 1), from the source on (snapshot.c). */
static bool
print_conservation(FILE *f, const struct dpf_snapshot *s)
{
	struct dpf_snap_rows r;
	bool ok = dpf_snapshot_conservation_rows(s, false, &r); /* ok: said in words */

	dpf_ctl_print_rows(f, "conservation ", &r);
	fprintf(f, "conservation: %s\n", ok ? "ok" : "MISMATCH");
	return ok;
}

/* Lines of value 0 too: --stats-detail, or dpflow.control at debug level. */
static bool
want_detail(const struct dpf_ctl *ctl)
{
	return dpf_config_options(ctl->p.cfg)->stats_detail != 0 || DPF_LOG_ENABLED(DEBUG, control);
}

bool
dpf_ctl_summary(struct dpf_ctl *ctl, FILE *f)
{
	const struct sum_out o = {.f = f, .detail = want_detail(ctl)};
	struct dpf_snapshot s;
	const struct dpf_replay_stats *r = &s.replay_st;
	char prefix[32];
	uint16_t p, c;
	bool ok;

	if (dpf_snapshot_take(ctl, DPF_SNAP_NIC | DPF_SNAP_RULES, &s) < 0) {
		fprintf(f, "summary: out of memory\n");
		return false;
	}
	print_exporters(&o, &s, false);
	for (p = 0; p < s.n_ports; p++)
		print_port(&o, &s.port[p]);
	for (c = 0; c < s.n_cores; c++) {
		snprintf(prefix, sizeof(prefix), "core %u ", s.core[c].lcore_id);
		print_counters(&o, prefix, &s.core[c].c);
	}
	print_counters(&o, "total ", &s.total);
	print_rules(&o, &s);
	if (s.replay) {
#define REPLAY_LINE(field, name, what) put(&o, "replay ", name, r->field);
		DPF_REPLAY_STATS(REPLAY_LINE)
#undef REPLAY_LINE
	}
	print_pipeline(&o, &s);
	put_clock(&o, &s.wall);
	print_exporters(&o, &s, true);
	/* Always whole: it is the check. */
	ok = print_conservation(f, &s);
	dpf_ctl_print_short_summary(f, &s, ok);
	dpf_snapshot_release(&s);
	return ok;
}

void
dpf_ctl_progress(struct dpf_ctl *ctl)
{
	struct dpf_snapshot s;
	uint64_t now, rx;
	double pps = 0;

	if (dpf_snapshot_take(ctl, 0, &s) < 0)
		return;
	now = dpf_wall_ns(ctl->p.h.wall);
	rx = s.total.rx_packets;
	/* The first line's rate covers the time since start-up, not nothing. */
	if (now > ctl->progress_ns)
		pps = (double)(rx - ctl->progress_rx) * 1e9 / (double)(now - ctl->progress_ns);
	DPF_LOG(INFO, control,
		"rx %" PRIu64 " pkts (%.0f pps), flows %" PRIu64 ", lost %" PRIu64
		", windows %" PRIu64 ", records %" PRIu64 ", files %" PRIu64
		", clock error %+" PRId64 " us\n",
		rx, pps, s.total.flows_created, s.total.lost_table_full + s.total.lost_no_table,
		s.pipeline.windows, s.pipeline.records,
		dpf_snapshot_exporter(&s, "writer", "files"), s.wall.disc.error_ns / 1000);
	ctl->progress_rx = rx;
	ctl->progress_ns = now;
	dpf_snapshot_release(&s);
}
