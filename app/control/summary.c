/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The end of the exit summary that a person reads: packets, records, files,
 * and every loss with its cause and the option that would have avoided it;
 * the warning the moment a loss first shows; the loss verdict for
 * --exit-status-on-loss. All three read one table of causes (losses())
 * over the counters snapshot, so they cannot disagree with each other or
 * with the counter lines above them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl_internal.h"
#include "log.h"
#include "snapshot.h"

/* How often the run loop's watch looks at the counters. */
#define WATCH_NS 100000000ull
#define MAX_CAUSES 24

enum cause_kind {
	CAUSE_LOST,	  /* the traffic had it, the records miss it: a limit or a failure */
	CAUSE_NOT_LOGGED, /* not logged by design or by choice (not IP, --unmatched drop) */
};

struct cause {
	uint64_t n;
	const char *unit; /* "packets" or "records" */
	enum cause_kind kind;
	const char *why;
	char avoid[160]; /* the option that avoids it; "" when none does */
};

struct causes {
	unsigned int n;
	struct cause c[MAX_CAUSES];
};

static void
add(struct causes *cs, uint64_t n, const char *unit, enum cause_kind kind, const char *why,
    const char *avoid)
{
	struct cause *c;

	if (n == 0 || cs->n == MAX_CAUSES)
		return;
	c = &cs->c[cs->n++];
	c->n = n;
	c->unit = unit;
	c->kind = kind;
	c->why = why;
	snprintf(c->avoid, sizeof(c->avoid), "%s", avoid);
}

/* The NIC ports' drops (the replay's port is no NIC). */
static void
nic_causes(const struct dpf_snapshot *s, struct causes *cs)
{
	uint64_t missed = 0, nombuf = 0, errors = 0;
	uint16_t p;

	for (p = 0; p < s->n_ports; p++) {
		if (s->port[p].replay || !s->port[p].nic)
			continue;
		missed += s->port[p].nic_stats.imissed;
		nombuf += s->port[p].nic_stats.rx_nombuf;
		errors += s->port[p].nic_stats.ierrors;
	}
	add(cs, missed, "packets", CAUSE_LOST,
	    "dropped by the NIC, its RX ring full (the RX cores fell behind)",
	    "more RX queues and lcores (--rxq), or a larger ring (rxd in the driver profile, "
	    "doc/drivers-cfg.md)");
	add(cs, nombuf, "packets", CAUSE_LOST, "dropped by the NIC: no free mbuf",
	    "a larger mbuf pool (the driver profile, doc/drivers-cfg.md)");
	add(cs, errors, "packets", CAUSE_NOT_LOGGED, "received with errors by the NIC", "");
}

static void
rx_causes(const struct dpf_snapshot *s, struct causes *cs)
{
	const struct dpf_rx_counters *t = &s->total;
	char avoid[160];

	snprintf(avoid, sizeof(avoid), "a larger --flows-per-core (it is %" PRIu64 ")",
		 s->flows_per_core);
	add(cs, t->lost_table_full, "packets", CAUSE_LOST,
	    "new flows found their RX core's flow table full", avoid);
	snprintf(avoid, sizeof(avoid),
		 "a larger --shards-per-core (it is %" PRIu64 "), or a pipeline lcore of its own "
		 "(one more lcore)",
		 s->tables_per_core);
	add(cs, t->lost_no_table, "packets", CAUSE_LOST,
	    "no free flow table: windows were merged too slowly", avoid);
	add(cs, t->late, "packets", CAUSE_LOST, "their window was already written", "");
	add(cs, t->bad_time, "packets", CAUSE_LOST, "an implausible packet time",
	    "a larger --max-time-gap, if the times are right");
	add(cs, t->tx_dropped, "packets", CAUSE_LOST, "forward mode: the peer port refused them",
	    "");
	add(cs, t->tx_too_big, "packets", CAUSE_LOST,
	    "forward mode: above the peer port's MTU and not to be fragmented",
	    "a larger MTU on the peer port");
	add(cs, t->not_ip, "packets", CAUSE_NOT_LOGGED,
	    "not IPv4/IPv6 (ARP, LLDP, ...): flow logs cover IP only", "");
	add(cs, t->malformed, "packets", CAUSE_NOT_LOGGED, "truncated or invalid headers", "");
	add(cs, t->unmatched, "packets", CAUSE_NOT_LOGGED, "of no interface (--unmatched drop)",
	    "--unmatched log, or an [interface] section for them");
	add(cs, t->short_frames, "packets", CAUSE_NOT_LOGGED,
	    "forward mode: cut by the port (shorter than their IP length)", "");
	if (s->replay) {
		add(cs, s->replay_st.late, "packets", CAUSE_LOST,
		    "replay: their window was already written (out of time order)", "");
		add(cs, s->replay_st.bad_time, "packets", CAUSE_LOST,
		    "replay: an implausible packet time", "a larger --max-time-gap");
	}
}

/* Records the exporters received and did not deliver. */
static void
export_causes(const struct dpf_snapshot *s, struct causes *cs)
{
	unsigned int i;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *e = &s->exporter[i];

		if (strcmp(e->prefix, "writer") == 0)
			add(cs, e->lost, "records", CAUSE_LOST,
			    "not written: the output could not be written and the held output "
			    "was full",
			    "a writable --output with room, or a larger --hold-mb");
		else if (strcmp(e->prefix, "ipfix") == 0)
			add(cs, e->lost, "records", CAUSE_LOST,
			    "not delivered to the IPFIX collector",
			    "a reachable collector (tcp:// waits for it), or --ipfix-rate");
		else if (strcmp(e->prefix, "s3") == 0)
			add(cs, e->lost, "records", CAUSE_LOST, "not uploaded to S3",
			    "a larger --s3-spool-max-mb / --s3-spool-max-files");
	}
}

static void
losses(const struct dpf_snapshot *s, struct causes *cs)
{
	cs->n = 0;
	nic_causes(s, cs);
	rx_causes(s, cs);
	export_causes(s, cs);
}

static double
pct(uint64_t part, uint64_t whole)
{
	return whole != 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void
print_cause(FILE *f, const struct cause *c, uint64_t rx, uint64_t records)
{
	fprintf(f, "summary: %s %" PRIu64 " %s (%.1f%%): %s",
		c->kind == CAUSE_LOST ? "LOST" : "not logged", c->n, c->unit,
		pct(c->n, strcmp(c->unit, "records") == 0 ? records : rx), c->why);
	if (c->avoid[0] != '\0')
		fprintf(f, "; avoid with %s", c->avoid);
	fputc('\n', f);
}

void
dpf_ctl_print_short_summary(FILE *f, const struct dpf_snapshot *s, bool conserved)
{
	uint64_t rx = s->total.rx_packets, logged = s->pipeline.record_packets;
	uint64_t records = s->pipeline.records;
	bool lost = false;
	struct causes cs;
	unsigned int i;

	losses(s, &cs);
	fprintf(f,
		"summary: %" PRIu64 " packets received, %" PRIu64
		" in records (%.1f%%); records %" PRIu64 ", windows %" PRIu64 ", files %" PRIu64
		"\n",
		rx, logged, pct(logged, rx), records, s->pipeline.windows,
		dpf_snapshot_exporter(s, "writer", "files"));
	for (i = 0; i < cs.n; i++) {
		print_cause(f, &cs.c[i], rx, records);
		lost |= cs.c[i].kind == CAUSE_LOST;
	}
	fprintf(f, "summary: %s; counters %s\n", lost ? "packets or records were LOST" : "no loss",
		conserved ? "add up (conservation ok)" : "DO NOT add up (conservation MISMATCH)");
}

bool
dpf_ctl_lost(struct dpf_ctl *ctl)
{
	struct dpf_snapshot s;
	struct causes cs;
	unsigned int i;
	bool lost = false;

	if (dpf_snapshot_take(ctl, DPF_SNAP_NIC, &s) < 0)
		return true; /* cannot tell: a script asking must not read "no loss" */
	losses(&s, &cs);
	for (i = 0; i < cs.n; i++)
		lost |= cs.c[i].kind == CAUSE_LOST;
	dpf_snapshot_release(&s);
	return lost;
}

/* A cause's slot in the warned set: its text, which names it uniquely. */
static bool
warned_before(struct dpf_ctl *ctl, const char *why)
{
	unsigned int i;

	for (i = 0; i < ctl->n_warned; i++)
		if (ctl->warned[i] == why)
			return true;
	if (ctl->n_warned < RTE_DIM(ctl->warned))
		ctl->warned[ctl->n_warned++] = why;
	return false;
}

void
dpf_ctl_watch_losses(struct dpf_ctl *ctl, bool last)
{
	uint64_t now = dpf_wall_ns(ctl->p.h.wall);
	struct dpf_snapshot s;
	struct causes cs;
	unsigned int i;

	if (!last && now - ctl->watch_ns < WATCH_NS)
		return;
	ctl->watch_ns = now;
	if (dpf_snapshot_take(ctl, DPF_SNAP_NIC, &s) < 0)
		return;
	losses(&s, &cs);
	for (i = 0; i < cs.n; i++) {
		const struct cause *c = &cs.c[i];

		if (c->kind != CAUSE_LOST || warned_before(ctl, c->why))
			continue;
		DPF_LOG(WARNING, control,
			"window %" PRIu64 ": losing %s: %" PRIu64 " so far, %s%s%s (the summary at "
			"exit has the totals)\n",
			s.window_start_ns / NS_PER_SEC, c->unit, c->n, c->why,
			c->avoid[0] != '\0' ? "; avoid with " : "", c->avoid);
	}
	dpf_snapshot_release(&s);
}
