/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters: per port, per RX core, pipeline, writer; printed as stable
 * `key: value` lines on stderr, with the conservation check of design.md,
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

#include <rte_errno.h>
#include <rte_ethdev.h>

#include "dpflow.h"
#include "drivers.h"
#include "log.h"

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
sum_cores(const struct dpf_app *app, struct dpf_rx_counters *t)
{
	uint16_t c;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	for (c = 0; c < app->n_cores; c++) {
		const struct dpf_rx_counters *k = &app->cores[c].cnt;

#define DPF_X_SUM(f, name, help) t->f += load(&k->f);
		DPF_RX_COUNTERS(DPF_X_SUM)
#undef DPF_X_SUM
		for (i = 0; i < DPF_PKT_RESULT_MAX; i++)
			t->malformed_by_reason[i] += load(&k->malformed_by_reason[i]);
		for (i = 0; i < DPF_MAX_PORTS; i++)
			t->rx_by_port[i] += load(&k->rx_by_port[i]);
	}
}

/* `<prefix>error-ns: N` ... lines: the wall clock's discipline. */
void
dpf_stats_clock_print(FILE *f, const char *prefix, struct dpf_wall *wall)
{
	struct dpf_wall_stats w;
	const struct dpf_clock_stats *s = &w.disc;

	dpf_wall_stats_get(wall, &w);
	if (!w.disciplined)
		return;
	fprintf(f, "%serror-ns: %" PRId64 "\n", prefix, s->error_ns);
	fprintf(f, "%serror-max-ns: %" PRIu64 "\n", prefix, s->error_max_ns);
	fprintf(f, "%stsc-hz: %" PRIu64 "\n", prefix, s->tsc_hz);
	fprintf(f, "%stsc-hz-eal: %" PRIu64 "\n", prefix, w.tsc_hz_eal);
	fprintf(f, "%ssamples: %" PRIu64 "\n", prefix, s->samples);
	fprintf(f, "%ssamples-rejected: %" PRIu64 "\n", prefix, s->rejected);
	fprintf(f, "%sadjustments: %" PRIu64 "\n", prefix, s->adjustments);
	fprintf(f, "%ssteps: %" PRIu64 "\n", prefix, s->steps);
	fprintf(f, "%sholds: %" PRIu64 "\n", prefix, s->holds);
	fprintf(f, "%sholding: %s\n", prefix, s->holding ? "yes" : "no");
	fprintf(f, "%slast-step-ns: %" PRId64 "\n", prefix, s->last_step_ns);
}

/* The exporters' counters: the record files' ("writer ...") or the others'. */
void
dpf_stats_exporters_print(FILE *f, struct dpf_app *app, bool files)
{
	struct dpf_export_counters c[DPF_MAX_EXPORTERS];
	unsigned int n = dpf_writer_counters(app->writer, c, DPF_MAX_EXPORTERS), i, k;

	for (i = 0; i < n; i++) {
		if ((strcmp(c[i].prefix, "writer") == 0) != files)
			continue;
		for (k = 0; k < c[i].n; k++)
			fprintf(f, "%s %s: %" PRIu64 "\n", c[i].prefix, c[i].name[k], c[i].value[k]);
	}
}

/* Files published so far. */
uint64_t
dpf_stats_files(struct dpf_app *app)
{
	struct dpf_export_counters c[DPF_MAX_EXPORTERS];
	unsigned int n = dpf_writer_counters(app->writer, c, DPF_MAX_EXPORTERS), i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < c[i].n; k++)
			if (strcmp(c[i].prefix, "writer") == 0 && strcmp(c[i].name[k], "files") == 0)
				return c[i].value[k];
	return 0;
}

struct rules_print {
	FILE *f;
	struct dpf_app *app;
};

static void
print_rules_of(void *arg, const struct dpf_ruleset *rs)
{
	struct rules_print *rp = arg;
	struct dpf_app *app = rp->app;
	FILE *f = rp->f;
	char text[DPF_ACL_RULE_TEXT_MAX + 64];
	uint32_t i;
	uint16_t c;

	for (i = 0; rs != NULL && i < dpf_nat_rule_count(rs->nat); i++) {
		dpf_nat_rule_format(dpf_nat_rule_get(rs->nat, i), text, sizeof(text));
		fprintf(f, "nat rule %u: %s\n", i + 1, text);
		fprintf(f, "nat rule %u packets: %" PRIu64 "\n", i + 1,
			dpf_counter_read(&rs->nat_rule_pkts[i]));
	}
	if (app->forward && rs != NULL && dpf_nat_has_masquerade(rs->nat)) {
		struct dpf_nat_sessions_stats t = {0};

		for (c = 0; c < app->n_cores; c++) {
			struct dpf_nat_sessions_stats st;

			if (app->cores[c].nat == NULL)
				continue;
			dpf_nat_sessions_get_stats(app->cores[c].nat, &st);
			fprintf(f, "core %u nat sessions-created: %" PRIu64 "\n",
				app->cores[c].lcore_id, st.created);
			t.created += st.created;
			t.active += st.active;
			t.expired += st.expired;
			t.port_exhausted += st.port_exhausted;
			t.table_full += st.table_full;
			t.no_session += st.no_session;
			t.port_tries += st.port_tries;
			t.remote_hits += st.remote_hits;
			t.retired += st.retired;
		}
		fprintf(f, "nat sessions-created: %" PRIu64 "\n", t.created);
		fprintf(f, "nat sessions-active: %" PRIu64 "\n", t.active);
		fprintf(f, "nat sessions-expired: %" PRIu64 "\n", t.expired);
		fprintf(f, "nat port-exhausted: %" PRIu64 "\n", t.port_exhausted);
		fprintf(f, "nat sessions-table-full: %" PRIu64 "\n", t.table_full);
		fprintf(f, "nat no-session: %" PRIu64 "\n", t.no_session);
		fprintf(f, "nat port-tries-per-session: %.2f\n",
			t.created ? (double)t.port_tries / (double)t.created : 0.0);
		fprintf(f, "nat sessions: %s\n", app->nat_shared ? "shared" : "per-core");
		if (app->nat_shared) {
			fprintf(f, "nat remote-session-hits: %" PRIu64 "\n", t.remote_hits);
			fprintf(f, "nat sessions-retired: %" PRIu64 "\n", t.retired);
		}
	}
	if (rs != NULL && rs->acl != NULL) {
		uint32_t n = dpf_acl_rule_count(rs->acl);

		for (i = 0; i <= n; i++) {
			uint64_t hits = 0;

			for (c = 0; c < app->n_cores; c++)
				hits += __atomic_load_n(&app->cores[c].acl_rule_hits[i],
							__ATOMIC_RELAXED);
			if (i == 0) {
				fprintf(f, "acl default: %s\n",
					dpf_acl_default_action(rs->acl) == DPF_ACTION_ACCEPT
						? "allow"
						: "deny");
				fprintf(f, "acl default packets: %" PRIu64 "\n", hits);
				continue;
			}
			dpf_acl_rule_format(dpf_acl_rule_get(rs->acl, i - 1), text, sizeof(text));
			fprintf(f, "acl rule %u: %s\n", i, text);
			fprintf(f, "acl rule %u packets: %" PRIu64 "\n", i, hits);
		}
	}
	for (i = 0; i < app->ifmap->n_ifaces; i++) {
		uint64_t pk = 0;

		for (c = 0; c < app->n_cores; c++)
			pk += __atomic_load_n(&app->cores[c].iface_pkts[i], __ATOMIC_RELAXED);
		fprintf(f, "interface %s port %u logged-packets: %" PRIu64 "\n",
			app->ifmap->ifaces[i].meta.interface_id, app->ifmap->ifaces[i].port, pk);
	}
}

static void
print_rules(FILE *f, struct dpf_app *app)
{
	struct rules_print rp = {.f = f, .app = app};

	dpf_rules_with_current(app->rules, print_rules_of, &rp);
}

uint64_t
dpf_stats_rx_total(const struct dpf_app *app)
{
	uint64_t t = 0;
	uint16_t c;

	for (c = 0; c < app->n_cores; c++)
		t += load(&app->cores[c].cnt.rx_packets);
	return t;
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

void
dpf_stats_print(FILE *f, struct dpf_app *app, bool final)
{
	struct dpf_pipeline_stats ps;
	struct dpf_rx_counters t;
	char prefix[32];
	uint64_t accounted, nic_in = 0, nic_rx = 0, nic_not_polled = 0;
	bool nic_ok = true, replay_ok = true;
	uint16_t p, c;

	sum_cores(app, &t);
	dpf_pipeline_stats_get(app->pipeline, &ps);
	for (p = 0; p < app->n_ports; p++) {
		uint16_t port = app->ports[p];
		struct rte_eth_stats es;

		fprintf(f, "port %u rx-packets: %" PRIu64 "\n", port, t.rx_by_port[port]);
		if (rte_eth_stats_get(port, &es) == 0) {
			fprintf(f, "port %u nic-ipackets: %" PRIu64 "\n", port, es.ipackets);
			fprintf(f, "port %u nic-imissed: %" PRIu64 "\n", port, es.imissed);
			/* imissed 0 means nothing from a driver that cannot count. */
			if (dpf_drivers_port_has_quirk(port, DPF_DRV_QUIRK_RX_DROPS_UNREPORTED))
				fprintf(f, "port %u nic-imissed-reported: no\n", port);
			fprintf(f, "port %u nic-ierrors: %" PRIu64 "\n", port, es.ierrors);
			fprintf(f, "port %u nic-rx-nombuf: %" PRIu64 "\n", port, es.rx_nombuf);
			/* af_packet counts here what the kernel refused after its
			 * tx_burst had taken it (doc/operations.md). */
			fprintf(f, "port %u nic-opackets: %" PRIu64 "\n", port, es.opackets);
			fprintf(f, "port %u nic-oerrors: %" PRIu64 "\n", port, es.oerrors);
			/* Received by the NIC after the stop's last poll of its queue. */
			if (es.ipackets >= t.rx_by_port[port])
				fprintf(f, "port %u not-polled: %" PRIu64 "\n", port,
					es.ipackets - t.rx_by_port[port]);
			if ((int)port == app->replay_port)
				continue;
			nic_in += es.ipackets;
			nic_rx += t.rx_by_port[port];
			if (es.ipackets >= t.rx_by_port[port])
				nic_not_polled += es.ipackets - t.rx_by_port[port];
			else
				nic_ok = false; /* the NIC delivered more than it counted */
		}
	}
	for (c = 0; c < app->n_cores; c++) {
		snprintf(prefix, sizeof(prefix), "core %u ", app->cores[c].lcore_id);
		print_counters(f, prefix, &app->cores[c].cnt);
	}
	print_counters(f, "total ", &t);
	print_rules(f, app);
	if (app->replay_port >= 0) {
		uint64_t rx = t.rx_by_port[app->replay_port];

		fprintf(f, "replay read: %" PRIu64 "\n", app->rstats.read);
		fprintf(f, "replay enqueued: %" PRIu64 "\n", app->rstats.enqueued);
		fprintf(f, "replay late: %" PRIu64 "\n", app->rstats.late);
		fprintf(f, "replay bad-time: %" PRIu64 "\n", app->rstats.bad_time);
		fprintf(f, "replay ring-full-waits: %" PRIu64 "\n", app->rstats.ring_full_waits);
		replay_ok = app->rstats.read == app->rstats.late + app->rstats.bad_time +
							app->rstats.enqueued &&
			    app->rstats.enqueued == rx;
	}
	fprintf(f, "pipeline windows: %" PRIu64 "\n", ps.windows);
	fprintf(f, "pipeline records: %" PRIu64 "\n", ps.records);
	fprintf(f, "pipeline record-packets: %" PRIu64 "\n", ps.record_packets);
	fprintf(f, "pipeline nodata-rows: %" PRIu64 "\n", ps.nodata_rows);
	fprintf(f, "pipeline skipdata-rows: %" PRIu64 "\n", ps.skipdata_rows);
	fprintf(f, "pipeline gap-windows: %" PRIu64 "\n", ps.gap_windows);
	fprintf(f, "pipeline lost-packets: %" PRIu64 "\n", ps.lost_pkts);
	fprintf(f, "pipeline merge-ms-max: %.3f\n", (double)ps.merge_ns_max / 1e6);
	dpf_stats_clock_print(f, "clock ", app->wall);
	if (!final)
		return;
	dpf_stats_exporters_print(f, app, true);
	/* Conservation (design.md invariant 1), from the source on. Forward mode:
	 * a packet not sent is not logged either (tx-dropped, tx-too-big), nor
	 * one that arrived cut (short-frames). */
	if (app->replay_port >= 0) {
		fprintf(f, "conservation replay-read: %" PRIu64 "\n", app->rstats.read);
		fprintf(f, "conservation replay-accounted: %" PRIu64 "\n",
			app->rstats.late + app->rstats.bad_time + t.rx_by_port[app->replay_port]);
	}
	if (nic_in != 0 || !nic_ok) {
		fprintf(f, "conservation nic-ipackets: %" PRIu64 "\n", nic_in);
		fprintf(f, "conservation nic-accounted: %" PRIu64 "\n", nic_rx + nic_not_polled);
	}
	accounted = t.logged_packets + t.not_ip + t.malformed + t.lost_table_full +
		    t.lost_no_table + t.late + t.unmatched + t.bad_time +
		    t.short_frames + t.tx_dropped + t.tx_too_big;
	fprintf(f, "conservation received: %" PRIu64 "\n", t.rx_packets);
	fprintf(f, "conservation accounted: %" PRIu64 "\n", accounted);
	fprintf(f, "conservation logged-in-records: %" PRIu64 "\n", ps.record_packets);
	fprintf(f, "conservation: %s\n",
		replay_ok && nic_ok && accounted == t.rx_packets &&
				ps.record_packets == t.logged_packets &&
				ps.lost_pkts == t.lost_table_full + t.lost_no_table
			? "ok"
			: "MISMATCH");
}

void
dpf_stats_line(struct dpf_app *app)
{
	static uint64_t last_rx, last_ns;
	uint64_t now = dpf_wall_ns(app->wall);
	uint64_t rx = dpf_stats_rx_total(app);
	struct dpf_rx_counters t;
	struct dpf_wall_stats w;
	struct dpf_pipeline_stats ps;
	double pps = 0;

	sum_cores(app, &t);
	dpf_pipeline_stats_get(app->pipeline, &ps);
	dpf_wall_stats_get(app->wall, &w);
	/* The first line's rate covers the time since start-up, not nothing. */
	if (last_ns == 0)
		last_ns = app->start_ns;
	if (now > last_ns)
		pps = (double)(rx - last_rx) * 1e9 / (double)(now - last_ns);
	DPF_LOG(INFO, control,
		"rx %" PRIu64 " pkts (%.0f pps), flows %" PRIu64 ", lost %" PRIu64
		", windows %" PRIu64 ", records %" PRIu64 ", files %" PRIu64
		", clock error %+" PRId64 " us\n",
		rx, pps, t.flows_created, t.lost_table_full + t.lost_no_table, ps.windows,
		ps.records,
		dpf_stats_files(app), w.disc.error_ns / 1000);
	last_rx = rx;
	last_ns = now;
}
