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

/* Sums of the NIC ports (the replay's aside) for the conservation check. */
struct nic_sums {
	uint64_t in, rx, not_polled;
	bool ok; /* no NIC delivered more than it counted */
};

static void
print_port(FILE *f, const struct dpf_snap_port *p, struct nic_sums *n)
{
	const struct rte_eth_stats *es = &p->nic_stats;

	fprintf(f, "port %u rx-packets: %" PRIu64 "\n", p->id, p->rx_packets);
	if (!p->nic)
		return;
	fprintf(f, "port %u nic-ipackets: %" PRIu64 "\n", p->id, es->ipackets);
	fprintf(f, "port %u nic-imissed: %" PRIu64 "\n", p->id, es->imissed);
	/* imissed 0 means nothing from a driver that cannot count. */
	if (p->drops_unreported)
		fprintf(f, "port %u nic-imissed-reported: no\n", p->id);
	fprintf(f, "port %u nic-ierrors: %" PRIu64 "\n", p->id, es->ierrors);
	fprintf(f, "port %u nic-rx-nombuf: %" PRIu64 "\n", p->id, es->rx_nombuf);
	/* af_packet counts here what the kernel refused after its tx_burst had
	 * taken it (doc/operations.md). */
	fprintf(f, "port %u nic-opackets: %" PRIu64 "\n", p->id, es->opackets);
	fprintf(f, "port %u nic-oerrors: %" PRIu64 "\n", p->id, es->oerrors);
	/* Received by the NIC after the stop's last poll of its queue. */
	if (es->ipackets >= p->rx_packets)
		fprintf(f, "port %u not-polled: %" PRIu64 "\n", p->id,
			es->ipackets - p->rx_packets);
	if (p->replay)
		return;
	n->in += es->ipackets;
	n->rx += p->rx_packets;
	if (es->ipackets >= p->rx_packets)
		n->not_polled += es->ipackets - p->rx_packets;
	else
		n->ok = false;
}

static void
print_counters(FILE *f, const char *prefix, const struct dpf_rx_counters *k)
{
	unsigned int i;

#define DPF_X_PRINT(fl, name, help) fprintf(f, "%s" name ": %" PRIu64 "\n", prefix, k->fl);
	DPF_RX_COUNTERS(DPF_X_PRINT)
#undef DPF_X_PRINT
	for (i = DPF_PKT_NOT_IP + 1; i < DPF_PKT_RESULT_MAX; i++)
		if (k->malformed_by_reason[i] != 0)
			fprintf(f, "%smalformed-%s: %" PRIu64 "\n", prefix,
				dpf_pkt_result_name((enum dpf_pkt_result)i),
				k->malformed_by_reason[i]);
}

static void
print_sessions(FILE *f, const struct dpf_snapshot *s)
{
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
	fprintf(f, "nat sessions-created: %" PRIu64 "\n", t.created);
	fprintf(f, "nat sessions-active: %" PRIu64 "\n", t.active);
	fprintf(f, "nat sessions-expired: %" PRIu64 "\n", t.expired);
	fprintf(f, "nat port-exhausted: %" PRIu64 "\n", t.port_exhausted);
	fprintf(f, "nat sessions-table-full: %" PRIu64 "\n", t.table_full);
	fprintf(f, "nat no-session: %" PRIu64 "\n", t.no_session);
	fprintf(f, "nat port-tries-per-session: %.2f\n",
		t.created ? (double)t.port_tries / (double)t.created : 0.0);
	fprintf(f, "nat sessions: %s\n", s->nat_shared ? "shared" : "per-core");
	if (s->nat_shared) {
		fprintf(f, "nat remote-session-hits: %" PRIu64 "\n", t.remote_hits);
		fprintf(f, "nat sessions-retired: %" PRIu64 "\n", t.retired);
	}
}

static void
print_rules(FILE *f, const struct dpf_snapshot *s)
{
	uint32_t i;

	for (i = 0; i < s->n_nat; i++) {
		fprintf(f, "nat rule %u: %s\n", i + 1, s->nat[i].text);
		fprintf(f, "nat rule %u packets: %" PRIu64 "\n", i + 1, s->nat[i].packets);
	}
	if (s->forward && s->masquerade)
		print_sessions(f, s);
	if (s->acl) {
		fprintf(f, "acl default: %s\n", s->acl_allow ? "allow" : "deny");
		fprintf(f, "acl default packets: %" PRIu64 "\n", s->acl_default_packets);
		for (i = 0; i < s->n_acl; i++) {
			fprintf(f, "acl rule %u: %s\n", i + 1, s->acl_rule[i].text);
			fprintf(f, "acl rule %u packets: %" PRIu64 "\n", i + 1, s->acl_rule[i].packets);
		}
	}
	for (i = 0; i < s->n_ifaces; i++)
		fprintf(f, "interface %s port %u logged-packets: %" PRIu64 "\n", s->iface[i].id,
			s->iface[i].port, s->iface[i].packets);
}

void
dpf_ctl_print_rows(FILE *f, const char *prefix, const struct dpf_snap_rows *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		fprintf(f, "%s%s: %" PRIu64 "\n", prefix, r->row[i].name, r->row[i].v);
}

static void
print_pipeline(FILE *f, const struct dpf_snapshot *s)
{
	struct dpf_snap_rows r;

	dpf_snapshot_pipeline_rows(s, &r);
	dpf_ctl_print_rows(f, "pipeline ", &r);
	fprintf(f, "pipeline merge-ms-max: %.3f\n", (double)s->pipeline.merge_ns_max / 1e6);
}

/* The exporters' counters: the record files' ("writer ...") or the others'. */
static void
print_exporters(FILE *f, const struct dpf_snapshot *s, bool files)
{
	unsigned int i, k;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *c = &s->exporter[i];

		if ((strcmp(c->prefix, "writer") == 0) != files)
			continue;
		for (k = 0; k < c->n; k++)
			fprintf(f, "%s %s: %" PRIu64 "\n", c->prefix, c->name[k], c->value[k]);
	}
}

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
print_conservation_ibm(FILE *f, const struct dpf_snapshot *s)
{
	unsigned int i;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *c = &s->exporter[i];
		uint64_t accounted;

		if (c->prefix == NULL || strcmp(c->prefix, "ibm") != 0)
			continue;
		accounted = export_value(c, "logged-packets") +
			    export_value(c, "other-proto-packets") +
			    export_value(c, "table-full-packets");
		fprintf(f, "conservation ibm-accounted: %" PRIu64 "\n", accounted);
		return accounted == s->pipeline.record_packets;
	}
	return true;
}

/* Conservation (design.md invariant 1), from the source on. Forward mode: a
 * packet not sent is not logged either (tx-dropped, tx-too-big), nor one that
 * arrived cut (short-frames). */
static bool
print_conservation(FILE *f, const struct dpf_snapshot *s, const struct nic_sums *n)
{
	const struct dpf_rx_counters *t = &s->total;
	const struct dpf_replay_stats *r = &s->replay_st;
	uint64_t replay_rx = 0, accounted;
	bool replay_ok = true;
	uint16_t p;
	bool ok;

	for (p = 0; p < s->n_ports; p++)
		if (s->port[p].replay)
			replay_rx = s->port[p].rx_packets;
	if (s->replay) {
		replay_ok = r->read == r->late + r->bad_time + r->enqueued && r->enqueued == replay_rx;
		fprintf(f, "conservation replay-read: %" PRIu64 "\n", r->read);
		fprintf(f, "conservation replay-accounted: %" PRIu64 "\n",
			r->late + r->bad_time + replay_rx);
	}
	if (n->in != 0 || !n->ok) {
		fprintf(f, "conservation nic-ipackets: %" PRIu64 "\n", n->in);
		fprintf(f, "conservation nic-accounted: %" PRIu64 "\n", n->rx + n->not_polled);
	}
	accounted = t->logged_packets + t->not_ip + t->malformed + t->lost_table_full +
		    t->lost_no_table + t->late + t->unmatched + t->bad_time + t->short_frames +
		    t->tx_dropped + t->tx_too_big;
	ok = replay_ok && n->ok && accounted == t->rx_packets &&
	     s->pipeline.record_packets == t->logged_packets &&
	     s->pipeline.lost_pkts == t->lost_table_full + t->lost_no_table;
	fprintf(f, "conservation received: %" PRIu64 "\n", t->rx_packets);
	fprintf(f, "conservation accounted: %" PRIu64 "\n", accounted);
	fprintf(f, "conservation logged-in-records: %" PRIu64 "\n", s->pipeline.record_packets);
	ok = print_conservation_ibm(f, s) && ok;
	fprintf(f, "conservation: %s\n", ok ? "ok" : "MISMATCH");
	return ok;
}

bool
dpf_ctl_summary(struct dpf_ctl *ctl, FILE *f)
{
	struct nic_sums n = {.ok = true};
	struct dpf_snapshot s;
	const struct dpf_replay_stats *r = &s.replay_st;
	char prefix[32];
	uint16_t p, c;
	bool ok;

	if (dpf_snapshot_take(ctl, DPF_SNAP_NIC | DPF_SNAP_RULES, &s) < 0) {
		fprintf(f, "summary: out of memory\n");
		return false;
	}
	print_exporters(f, &s, false);
	for (p = 0; p < s.n_ports; p++)
		print_port(f, &s.port[p], &n);
	for (c = 0; c < s.n_cores; c++) {
		snprintf(prefix, sizeof(prefix), "core %u ", s.core[c].lcore_id);
		print_counters(f, prefix, &s.core[c].c);
	}
	print_counters(f, "total ", &s.total);
	print_rules(f, &s);
	if (s.replay) {
		fprintf(f, "replay read: %" PRIu64 "\n", r->read);
		fprintf(f, "replay enqueued: %" PRIu64 "\n", r->enqueued);
		fprintf(f, "replay late: %" PRIu64 "\n", r->late);
		fprintf(f, "replay bad-time: %" PRIu64 "\n", r->bad_time);
		fprintf(f, "replay ring-full-waits: %" PRIu64 "\n", r->ring_full_waits);
	}
	print_pipeline(f, &s);
	dpf_ctl_print_clock(f, "clock ", &s.wall);
	print_exporters(f, &s, true);
	ok = print_conservation(f, &s, &n);
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
