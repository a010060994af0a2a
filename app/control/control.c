/* SPDX-License-Identifier: BSD-3-Clause */
/* The control actions, one per verb (control.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "ctl_internal.h"
#include "dpf_ft.h"
#include "snapshot.h"
#include "dpf_util.h"

#define FLUSH_WAIT_MS 5000
/* set window with the wall clock: never a boundary closer than this (RX cores
 * read the plan only when they cross one). */
#define SET_WINDOW_MARGIN_NS 100000000ull

struct dpf_ctl *
dpf_ctl_create(const struct dpf_ctl_params *p)
{
	struct dpf_ctl *ctl = calloc(1, sizeof(*ctl));

	if (ctl == NULL)
		return dpf_null_errno(ENOMEM);
	ctl->p = *p;
	ctl->progress_ns = p->start_ns;
	ctl->start_mono_ns = dpf_mono_ns();
	return ctl;
}

void
dpf_ctl_free(struct dpf_ctl *ctl)
{
	free(ctl);
}

struct dpf_run *
dpf_ctl_run_flags(struct dpf_ctl *ctl)
{
	return ctl->p.h.run;
}

bool
dpf_ctl_records_on_stdout(const struct dpf_ctl *ctl)
{
	const char *out = dpf_config_options(ctl->p.cfg)->output;

	return out != NULL && strcmp(out, "-") == 0;
}

uint64_t
dpf_ctl_now_ns(const struct dpf_ctl *ctl)
{
	if (ctl->p.h.clock == DPF_CLOCK_WALL)
		return dpf_wall_ns(ctl->p.h.wall);
	return ctl->p.dp != NULL ? dpf_dataplane_newest_ns(ctl->p.dp) : 0;
}

/* ---------------------------------------------------------------- running */

int
dpf_ctl_start(struct dpf_ctl *ctl, FILE *f)
{
	dpf_run_set_polling(ctl->p.h.run, true);
	fprintf(f, "polling: yes\n");
	return 0;
}

int
dpf_ctl_stop(struct dpf_ctl *ctl, FILE *f)
{
	dpf_run_set_polling(ctl->p.h.run, false);
	fprintf(f, "polling: no\n");
	fprintf(f, "note: counted data is kept; 'start' resumes, 'quit' flushes and exits\n");
	return 0;
}

int
dpf_ctl_quit(struct dpf_ctl *ctl, FILE *f)
{
	fprintf(f, "quitting: flushing the open window\n");
	dpf_run_set_polling(ctl->p.h.run, true);
	dpf_run_set_stopping(ctl->p.h.run, true);
	return 0;
}

int
dpf_ctl_flush(struct dpf_ctl *ctl, FILE *f)
{
	uint32_t gen = dpf_dataplane_flush(ctl->p.dp, FLUSH_WAIT_MS);

	fprintf(f, "flush: requested\n");
	fprintf(f, "flush-generation: %u\n", gen);
	return 0;
}

int
dpf_ctl_wait(struct dpf_ctl *ctl, FILE *f)
{
	const struct dpf_options *o = dpf_config_options(ctl->p.cfg);
	struct dpf_pipeline_stats ps;

	if (o->replay == NULL && o->idle_exit == 0) {
		fprintf(f,
			"error: nothing to wait for: live ports without --idle-exit never end\n");
		return -1;
	}
	/* The writer has stored every record once it has seen the stop batch. */
	while (!dpf_writer_done(ctl->p.writer) && !dpf_run_output_failed(ctl->p.h.run))
		usleep(1000);
	dpf_pipeline_stats_get(ctl->p.pipeline, &ps);
	fprintf(f, "wait: every window is flushed\n");
	fprintf(f, "windows: %" PRIu64 "\n", ps.windows);
	fprintf(f, "records: %" PRIu64 "\n", ps.records);
	return 0;
}

/* ---------------------------------------------------------------- ports */

/* A port id of the run, or -1 for "all"; an error names the ports. */
static int
port_arg(const struct dpf_ctl *ctl, FILE *f, const char *arg, int *port)
{
	const uint16_t *ids = dpf_ports_settled(ctl->p.h.ports)->ids;
	uint16_t i, n = dpf_ports_settled(ctl->p.h.ports)->n_ports;
	char *end;
	long v;

	if (strcmp(arg, "all") == 0) {
		*port = -1;
		return 0;
	}
	v = strtol(arg, &end, 10);
	for (i = 0; *end == '\0' && arg[0] != '\0' && i < n; i++) {
		if (ids[i] == v) {
			*port = (int)v;
			return 0;
		}
	}
	fprintf(f, "error: port '%s': expected a port id (", arg);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? ", " : "", ids[i]);
	fprintf(f, ") or all\n");
	return -1;
}

typedef void (*port_fn)(struct dpf_ctl *ctl, FILE *f, uint16_t port);

/* fn for the port `which` names, or for every port. */
static int
for_ports(struct dpf_ctl *ctl, FILE *f, const char *which, port_fn fn)
{
	const uint16_t *ids = dpf_ports_settled(ctl->p.h.ports)->ids;
	uint16_t i;
	int port;

	if (port_arg(ctl, f, which, &port) < 0)
		return -1;
	for (i = 0; i < dpf_ports_settled(ctl->p.h.ports)->n_ports; i++)
		if (port < 0 || ids[i] == port)
			fn(ctl, f, ids[i]);
	return 0;
}

static void
port_info(struct dpf_ctl *ctl, FILE *f, uint16_t port)
{
	uint16_t i;

	dpf_ports_show_info(ctl->p.h.ports, f, port);
	for (i = 0; i < dpf_ifmap_count(ctl->p.h.ifmap); i++)
		if (dpf_ifmap_iface(ctl->p.h.ifmap, i)->port == port)
			fprintf(f, "port %u interface: %s\n", port,
				dpf_ifmap_iface(ctl->p.h.ifmap, i)->meta.interface_id);
	dpf_ports_show_profile(ctl->p.h.ports, f, port);
}

/* a - b per second over sec, 0 when the counter went back (cleared) or no time passed. */
static uint64_t
per_sec(uint64_t a, uint64_t b, double sec)
{
	return a >= b && sec > 0 ? (uint64_t)((double)(a - b) / sec) : 0;
}

/*
 * testpmd's Rx-pps, Rx-bps, Tx-pps, Tx-bps: the device's counters since this
 * command's previous reading of the port (the first time: since start-up).
 * bps counts the bytes the device counts (no preamble, no gap), times 8.
 */
static void
port_rates(struct dpf_ctl *ctl, FILE *f, uint16_t port, const struct rte_eth_stats *es)
{
	struct dpf_port_reading *prev = &ctl->port_prev[port];
	uint64_t now = dpf_mono_ns();
	double sec =
		(double)(now - (prev->mono_ns != 0 ? prev->mono_ns : ctl->start_mono_ns)) / 1e9;

	fprintf(f, "port %u rates-over-sec: %.3f\n", port, sec);
	fprintf(f, "port %u rx-pps: %" PRIu64 "\n", port,
		per_sec(es->ipackets, prev->ipackets, sec));
	fprintf(f, "port %u rx-bps: %" PRIu64 "\n", port,
		8 * per_sec(es->ibytes, prev->ibytes, sec));
	fprintf(f, "port %u tx-pps: %" PRIu64 "\n", port,
		per_sec(es->opackets, prev->opackets, sec));
	fprintf(f, "port %u tx-bps: %" PRIu64 "\n", port,
		8 * per_sec(es->obytes, prev->obytes, sec));
	*prev = (struct dpf_port_reading){now, es->ipackets, es->ibytes, es->opackets, es->obytes};
}

static void
port_stats(struct dpf_ctl *ctl, FILE *f, uint16_t port)
{
	struct rte_eth_stats es;
	uint64_t rx = 0;
	uint16_t c;

	for (c = 0; c < dpf_dataplane_cores(ctl->p.dp); c++) {
		struct dpf_rx_counters k;

		dpf_dataplane_core_counters(ctl->p.dp, c, &k);
		rx += k.rx_by_port[port];
	}
	fprintf(f, "port %u rx-packets: %" PRIu64 "\n", port, rx);
	if (rte_eth_stats_get(port, &es) != 0)
		return;
	fprintf(f, "port %u nic-ipackets: %" PRIu64 "\n", port, es.ipackets);
	fprintf(f, "port %u nic-ibytes: %" PRIu64 "\n", port, es.ibytes);
	fprintf(f, "port %u nic-imissed: %" PRIu64 "\n", port, es.imissed);
	fprintf(f, "port %u nic-ierrors: %" PRIu64 "\n", port, es.ierrors);
	fprintf(f, "port %u nic-rx-nombuf: %" PRIu64 "\n", port, es.rx_nombuf);
	fprintf(f, "port %u nic-opackets: %" PRIu64 "\n", port, es.opackets);
	fprintf(f, "port %u nic-obytes: %" PRIu64 "\n", port, es.obytes);
	fprintf(f, "port %u nic-oerrors: %" PRIu64 "\n", port, es.oerrors);
	port_rates(ctl, f, port, &es);
}

static void
port_xstats(struct dpf_ctl *ctl, FILE *f, uint16_t port)
{
	struct rte_eth_xstat_name *names;
	struct rte_eth_xstat *xs;
	int n, i;

	n = rte_eth_xstats_get_names(port, NULL, 0);
	if (n <= 0) {
		fprintf(f, "port %u xstats: 0\n", port);
		return;
	}
	names = calloc((size_t)n, sizeof(*names));
	xs = calloc((size_t)n, sizeof(*xs));
	if (names != NULL && xs != NULL &&
	    rte_eth_xstats_get_names(port, names, (unsigned int)n) == n &&
	    rte_eth_xstats_get(port, xs, (unsigned int)n) == n) {
		for (i = 0; i < n; i++)
			fprintf(f, "port %u %s: %" PRIu64 "\n", port, names[xs[i].id].name,
				xs[i].value);
	}
	free(names);
	free(xs);
}

static void
port_clear(struct dpf_ctl *ctl, FILE *f, uint16_t port)
{
	rte_eth_stats_reset(port);
	rte_eth_xstats_reset(port);
	/* The next rates run from here, from zero. */
	ctl->port_prev[port] = (struct dpf_port_reading){.mono_ns = dpf_mono_ns()};
	fprintf(f, "port %u nic-stats: cleared\n", port);
}

int
dpf_ctl_show_port_info(struct dpf_ctl *ctl, FILE *f, const char *which)
{
	return for_ports(ctl, f, which, port_info);
}

int
dpf_ctl_show_port_stats(struct dpf_ctl *ctl, FILE *f, const char *which)
{
	return for_ports(ctl, f, which, port_stats);
}

int
dpf_ctl_show_port_xstats(struct dpf_ctl *ctl, FILE *f, const char *which)
{
	return for_ports(ctl, f, which, port_xstats);
}

int
dpf_ctl_clear_port_stats(struct dpf_ctl *ctl, FILE *f, const char *which)
{
	if (for_ports(ctl, f, which, port_clear) < 0)
		return -1;
	fprintf(f, "note: dpflow's own counters are never cleared (conservation)\n");
	return 0;
}

/* ---------------------------------------------------------------- lcores, windows */

int
dpf_ctl_show_lcores(struct dpf_ctl *ctl, FILE *f)
{
	unsigned int pl = ctl->p.pipeline_lcore;
	uint16_t c, q;

	fprintf(f, "main-lcore: %u\n", rte_get_main_lcore());
	fprintf(f, "pipeline-lcore: %u%s\n", pl == RTE_MAX_LCORE ? rte_get_main_lcore() : pl,
		pl == RTE_MAX_LCORE ? " (main)" : "");
	for (c = 0; c < dpf_dataplane_cores(ctl->p.dp); c++) {
		struct dpf_rx_core_info ci;

		dpf_dataplane_core_info(ctl->p.dp, c, &ci);
		fprintf(f, "rx-lcore %u socket: %u\n", ci.lcore_id,
			rte_lcore_to_socket_id(ci.lcore_id));
		fprintf(f, "rx-lcore %u queues:", ci.lcore_id);
		for (q = 0; q < ci.n_rxq; q++)
			fprintf(f, " port%u/q%u", ci.rxq[q].port, ci.rxq[q].queue);
		fputc('\n', f);
	}
	fprintf(f, "writer: control thread\n");
	fprintf(f, "replay: %s\n", ctl->p.replay != NULL ? "control thread" : "-");
	return 0;
}

/* A snapshot with the counters only; says so on f when there is none. */
static int
take_counters(struct dpf_ctl *ctl, FILE *f, struct dpf_snapshot *s)
{
	if (dpf_snapshot_take(ctl, 0, s) < 0) {
		fprintf(f, "error: out of memory\n");
		return -1;
	}
	return 0;
}

int
dpf_ctl_show_flow_table(struct dpf_ctl *ctl, FILE *f)
{
	struct dpf_snapshot s;
	struct dpf_snap_rows r;
	char prefix[32];
	uint16_t c;

	if (take_counters(ctl, f, &s) < 0)
		return -1;
	for (c = 0; c < s.n_cores; c++) {
		dpf_snapshot_core_rows(&s, c, &r);
		snprintf(prefix, sizeof(prefix), "core %u ", s.core[c].lcore_id);
		dpf_ctl_print_rows(f, prefix, &r);
	}
	fprintf(f, "bytes-per-flow: %zu\n", dpf_ft_bytes_per_flow((uint32_t)s.flows_per_core));
	dpf_snapshot_release(&s);
	return 0;
}

static void
print_window(FILE *f, const struct dpf_snapshot *s)
{
	struct dpf_snap_rows r;

	dpf_snapshot_window_rows(s, &r);
	fprintf(f, "clock: %s\n", s->clock == DPF_CLOCK_WALL ? "wall" : "packet");
	/* Bounds around time 0 would name a window of 1970. */
	if (s->clock_started) {
		dpf_ctl_print_rows(f, "", &r);
	} else {
		fprintf(f, "window-seconds-set: %u\n", s->window_sec_set);
		fprintf(f, "window: none yet (the packet clock starts with the first packet)\n");
	}
	dpf_ctl_print_clock(f, "clock-", &s->wall);
}

int
dpf_ctl_show_window(struct dpf_ctl *ctl, FILE *f)
{
	struct dpf_snapshot s;

	if (take_counters(ctl, f, &s) < 0)
		return -1;
	print_window(f, &s);
	dpf_snapshot_release(&s);
	return 0;
}

int
dpf_ctl_set_window(struct dpf_ctl *ctl, FILE *f, const char *arg)
{
	uint64_t sec, at, now;
	char err[128];
	char *end;

	sec = strtoull(arg, &end, 10);
	if (*end != '\0' || arg[0] < '0' || arg[0] > '9' || sec < 1 || sec > 3600) {
		fprintf(f, "error: window '%s': expected 1..3600 seconds\n", arg);
		return -1;
	}
	now = dpf_ctl_now_ns(ctl);
	at = dpf_window_plan_set_len(ctl->p.h.plan, (uint32_t)sec, now,
				     ctl->p.h.clock == DPF_CLOCK_WALL ? SET_WINDOW_MARGIN_NS : 0);
	dpf_config_set(ctl->p.cfg, "window", arg, err, sizeof(err));
	fprintf(f, "window-seconds: %" PRIu64 "\n", sec);
	/* Packet clock before the first packet: the boundary after time 0 (in
	 * 1970) means the first window of the run. */
	if (ctl->p.h.clock == DPF_CLOCK_PACKET && now == 0)
		fprintf(f, "takes-effect: with the first window (no packet yet: the packet clock "
			   "starts with the first packet)\n");
	else
		fprintf(f, "takes-effect-at: %" PRIu64 "\n", at / NS_PER_SEC);
	return 0;
}

/*
 * The record format in effect, parsed from the config (which set log-format
 * updates; the control thread is its only writer at run time), so the handle
 * keeps no copy of it that could disagree. NULL, said on f, if it cannot be.
 */
static struct dpf_fmt *
format_in_effect(struct dpf_ctl *ctl, FILE *f)
{
	const char *s = dpf_config_options(ctl->p.cfg)->log_format;
	struct dpf_fmt *fmt = NULL;
	char err[256] = "out of memory";

	if (s != NULL)
		fmt = dpf_fmt_parse(s, err, sizeof(err));
	if (fmt == NULL)
		fprintf(f, "error: log-format: %s\n", err);
	return fmt;
}

int
dpf_ctl_set_log_format(struct dpf_ctl *ctl, FILE *f, const char *fmt)
{
	struct dpf_fmt *nf;
	char err[256];

	if (dpf_export_file_set_format(ctl->p.file, fmt, err, sizeof(err)) < 0) {
		fprintf(f, "error: log-format: %s\n", err);
		return -1;
	}
	/* show flows prints in the format too: it reads it from the config. */
	dpf_config_set(ctl->p.cfg, "log-format", fmt, err, sizeof(err));
	fprintf(f, "log-format: %s\n", fmt);
	nf = format_in_effect(ctl, f);
	if (nf != NULL)
		fprintf(f, "version: %u\n", dpf_fmt_version(nf));
	dpf_fmt_free(nf);
	fprintf(f, "takes-effect: at the next window boundary (new files, new header)\n");
	return 0;
}

/* ---------------------------------------------------------------- config */

static void
show_iface(FILE *f, const struct dpf_iface *ifc)
{
	const char *id = ifc->meta.interface_id;
	uint8_t k;

	fprintf(f, "interface %s port: %u\n", id, ifc->port);
	if (ifc->vni >= 0)
		fprintf(f, "interface %s vni: %d\n", id, ifc->vni);
	if (ifc->decap >= 0)
		fprintf(f, "interface %s decap: %s\n", id, ifc->decap ? "yes" : "no");
	if (ifc->vlan >= 0)
		fprintf(f, "interface %s vlan: %d\n", id, ifc->vlan);
	if (ifc->has_mac)
		fprintf(f, "interface %s mac: %02x:%02x:%02x:%02x:%02x:%02x\n", id, ifc->mac[0],
			ifc->mac[1], ifc->mac[2], ifc->mac[3], ifc->mac[4], ifc->mac[5]);
	for (k = 0; k < ifc->n_addrs; k++) {
		char a[64];

		inet_ntop(ifc->addrs[k].family == 4 ? AF_INET : AF_INET6, ifc->addrs[k].addr, a,
			  sizeof(a));
		fprintf(f, "interface %s address: %s/%u\n", id, a, ifc->addrs[k].len);
	}
}

int
dpf_ctl_show_config(struct dpf_ctl *ctl, FILE *f)
{
	uint16_t i;

	dpf_config_show(ctl->p.cfg, f);
	dpf_rules_show_config(ctl->p.h.rules, f);
	dpf_ports_show_config(ctl->p.h.ports, f);
	for (i = 0; i < dpf_ifmap_count(ctl->p.h.ifmap); i++)
		show_iface(f, dpf_ifmap_iface(ctl->p.h.ifmap, i));
	return 0;
}

/* ---------------------------------------------------------------- flows */

static int
iface_by_id(void *arg, const char *id)
{
	return dpf_ifmap_find(arg, id);
}

/* Room for a query's results (DPF_STORE_MAX_RESULTS of size bytes each), or NULL (said on f). */
static void *
results_buf(FILE *f, size_t size)
{
	void *p = malloc(DPF_STORE_MAX_RESULTS * size);

	if (p == NULL)
		fprintf(f, "error: out of memory\n");
	return p;
}

static struct dpf_record *
query_flows(struct dpf_ctl *ctl, FILE *f, int argc, char **argv, uint32_t *n,
	    uint32_t default_limit)
{
	struct dpf_store_filter flt;
	struct dpf_record *recs;
	char err[256];

	dpf_store_filter_init(&flt);
	flt.limit = default_limit;
	if (dpf_store_filter_parse(&flt, argc, argv, iface_by_id, (void *)(uintptr_t)ctl->p.h.ifmap,
				   err, sizeof(err)) < 0) {
		fprintf(f, "error: %s\n", err);
		return NULL;
	}
	recs = results_buf(f, sizeof(*recs));
	if (recs == NULL)
		return NULL;
	*n = dpf_store_query(ctl->p.store, &flt, recs, DPF_STORE_MAX_RESULTS);
	return recs;
}

int
dpf_ctl_show_flows(struct dpf_ctl *ctl, FILE *f, int argc, char **argv)
{
	char line[DPF_FMT_LINE_MAX];
	struct dpf_record *recs;
	struct dpf_fmt *fmt;
	uint32_t n, i;

	recs = query_flows(ctl, f, argc, argv, &n, 100);
	if (recs == NULL)
		return -1;
	fmt = format_in_effect(ctl, f);
	if (fmt == NULL) {
		free(recs);
		return -1;
	}
	fprintf(f, "flows: %u\n", n);
	fprintf(f, "stored: %u\n", dpf_store_count(ctl->p.store));
	/* Rows in the configured record format, under its header. */
	if (dpf_fmt_header(fmt, line, sizeof(line)) > 0)
		fputs(line, f);
	for (i = 0; i < n; i++)
		if (dpf_fmt_record(fmt, ctl->p.fmt_ctx, &recs[i], line, sizeof(line)) > 0)
			fputs(line, f);
	dpf_fmt_free(fmt);
	free(recs);
	return 0;
}

/* Rows of a query as CSV: dpf_store_write_csv or dpf_connstore_write. */
typedef int (*export_rows_t)(FILE *out, const void *recs, uint32_t n,
			     const struct dpf_fmt_ctx *fc);

/*
 * export flows / export connections: the query's n results (recs, NULL: the
 * query failed and said why) to a new file, never over one; frees recs.
 */
static int
export_results(struct dpf_ctl *ctl, FILE *f, const char *path, void *recs, uint32_t n,
	       export_rows_t rows)
{
	FILE *out;
	int rc;

	if (recs == NULL)
		return -1;
	out = fopen(path, "wx");
	if (out == NULL) {
		fprintf(f, "error: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (export never overwrites a file)" : "");
		free(recs);
		return -1;
	}
	rc = rows(out, recs, n, ctl->p.fmt_ctx);
	free(recs);
	if (fclose(out) != 0)
		rc = -EIO;
	if (rc < 0) {
		fprintf(f, "error: %s: write failed\n", path);
		return -1;
	}
	fprintf(f, "exported: %u\n", n);
	fprintf(f, "file: %s\n", path);
	return 0;
}

static int
flows_csv(FILE *out, const void *recs, uint32_t n, const struct dpf_fmt_ctx *fc)
{
	return dpf_store_write_csv(out, recs, n, fc->ifaces, fc->n_ifaces);
}

int
dpf_ctl_export_flows(struct dpf_ctl *ctl, FILE *f, const char *path, int argc, char **argv)
{
	uint32_t n = 0;
	struct dpf_record *recs = query_flows(ctl, f, argc, argv, &n, DPF_STORE_MAX_RESULTS);

	return export_results(ctl, f, path, recs, n, flows_csv);
}

/* ---------------------------------------------------------- connections */

/* The matching connection flow logs (malloc'ed), or NULL after printing why. */
static struct dpf_connstore_rec *
query_connections(struct dpf_ctl *ctl, FILE *f, int argc, char **argv, uint32_t *n,
		  uint32_t default_limit)
{
	struct dpf_connstore_filter flt;
	struct dpf_connstore_rec *recs;
	char err[256];

	if (ctl->p.connstore == NULL) {
		fprintf(f, "error: no connection records in this run: start dpflow with "
			   "--ibm-output DIR or --connections yes\n");
		return NULL;
	}
	dpf_connstore_filter_init(&flt);
	flt.limit = default_limit;
	if (dpf_connstore_filter_parse(&flt, argc, argv, iface_by_id,
				       (void *)(uintptr_t)ctl->p.h.ifmap, err, sizeof(err)) < 0) {
		fprintf(f, "error: %s\n", err);
		return NULL;
	}
	recs = results_buf(f, sizeof(*recs));
	if (recs == NULL)
		return NULL;
	*n = dpf_connstore_query(ctl->p.connstore, &flt, recs, DPF_STORE_MAX_RESULTS);
	return recs;
}

int
dpf_ctl_show_connections(struct dpf_ctl *ctl, FILE *f, int argc, char **argv)
{
	struct dpf_connstore_rec *recs;
	uint32_t n;
	int rc;

	recs = query_connections(ctl, f, argc, argv, &n, 100);
	if (recs == NULL)
		return -1;
	fprintf(f, "connections: %u\n", n);
	fprintf(f, "stored: %u\n", dpf_connstore_count(ctl->p.connstore));
	rc = dpf_connstore_write(f, recs, n, ctl->p.fmt_ctx->ifaces, ctl->p.fmt_ctx->n_ifaces,
				 " | ");
	free(recs);
	return rc < 0 ? -1 : 0;
}

static int
connections_csv(FILE *out, const void *recs, uint32_t n, const struct dpf_fmt_ctx *fc)
{
	return dpf_connstore_write(out, recs, n, fc->ifaces, fc->n_ifaces, NULL);
}

int
dpf_ctl_export_connections(struct dpf_ctl *ctl, FILE *f, const char *path, int argc, char **argv)
{
	uint32_t n = 0;
	struct dpf_connstore_rec *recs =
		query_connections(ctl, f, argc, argv, &n, DPF_STORE_MAX_RESULTS);

	return export_results(ctl, f, path, recs, n, connections_csv);
}

/* ---------------------------------------------------------------- rules */

/* A change, queued for the next window boundary (rules.h). */
static int
rules_change(struct dpf_ctl *ctl, FILE *f, enum dpf_rules_kind kind, const char *add,
	     unsigned int del)
{
	struct dpf_rules_change c = {
		.kind = kind,
		.add = add,
		.del = del,
		.now_ns = dpf_ctl_now_ns(ctl),
		.plan = ctl->p.h.plan,
	};
	unsigned int n = 0;
	char err[512];
	uint64_t at = 0;
	int rc = dpf_rules_change(ctl->p.h.rules, &c, &at, &n, err, sizeof(err));

	if (rc < 0) {
		fprintf(f, "error: %s\n", rc == -ENOMEM ? "out of memory" : err);
		fprintf(f, "error: rules unchanged\n");
		return -1;
	}
	fprintf(f, "%s rules: %u\n", kind == DPF_RULES_NAT ? "nat" : "acl", n);
	fprintf(f, "takes-effect-at: %" PRIu64 "\n", at / NS_PER_SEC);
	return 0;
}

static int
rules_del(struct dpf_ctl *ctl, FILE *f, enum dpf_rules_kind kind, const char *number)
{
	char *end;
	unsigned long idx = strtoul(number, &end, 10);

	if (*end != '\0' || number[0] < '0' || number[0] > '9' || idx > UINT32_MAX) {
		fprintf(f, "error: %s del '%s': expected a rule number\n",
			kind == DPF_RULES_NAT ? "nat" : "acl", number);
		return -1;
	}
	return rules_change(ctl, f, kind, NULL, (unsigned int)idx);
}

int
dpf_ctl_rules(struct dpf_ctl *ctl, FILE *f, enum dpf_rules_kind kind, enum dpf_ctl_rules_verb verb,
	      const char *arg)
{
	switch (verb) {
	case DPF_CTL_RULES_ADD:
		return rules_change(ctl, f, kind, arg, 0);
	case DPF_CTL_RULES_DEL:
		return rules_del(ctl, f, kind, arg);
	case DPF_CTL_RULES_SHOW:
		break;
	}
	dpf_rules_show(ctl->p.h.rules, kind, f);
	return 0;
}
