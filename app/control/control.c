/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control actions: what the CLI commands (cli_*.c) and telemetry do. Each
 * writes stable `key: value` lines to a FILE * and returns 0, or writes
 * "error: ..." and returns -1. None reads an RX core's table: cores publish
 * counters and their table fill, and flows come from closed windows (the
 * recent-flows store).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dpf_ft.h"
#include "drivers.h"
#include "dpflow.h"


static uint64_t
load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* "Now" in the run's clock: wall time, or the newest packet time. */
static uint64_t
now_ns(const struct dpf_app *app)
{
	uint64_t t = 0;
	uint16_t c;

	if (app->clock == DPF_CLOCK_WALL)
		return dpf_wall_ns(app->wall);
	for (c = 0; c < app->n_cores; c++) {
		uint64_t v = load64(&app->cores[c].last_ns);

		if (v > t)
			t = v;
	}
	return t;
}

int
dpf_ctl_start(FILE *f, struct dpf_app *app)
{
	dpf_run_set_polling(&app->run, true);
	fprintf(f, "polling: yes\n");
	return 0;
}

int
dpf_ctl_stop(FILE *f, struct dpf_app *app)
{
	dpf_run_set_polling(&app->run, false);
	fprintf(f, "polling: no\n");
	fprintf(f, "note: counted data is kept; 'start' resumes, 'quit' flushes and exits\n");
	return 0;
}

int
dpf_ctl_quit(FILE *f, struct dpf_app *app)
{
	fprintf(f, "quitting: flushing the open window\n");
	dpf_run_set_polling(&app->run, true);
	dpf_run_stop(&app->run);
	return 0;
}

int
dpf_ctl_flush(FILE *f, struct dpf_app *app)
{
	uint32_t gen = __atomic_add_fetch(&app->handoffs.flush_gen, 1, __ATOMIC_RELEASE);
	unsigned int waited = 0;

	/* The pipeline serves it once every core has handed over its shard. */
	while (waited < 5000) {
		uint16_t c, acked = 0;

		for (c = 0; c < app->n_cores; c++)
			acked += dpf_handoff_flushed(&app->handoffs.core[c], gen);
		if (acked == app->n_cores)
			break;
		usleep(1000);
		waited++;
	}
	fprintf(f, "flush: requested\n");
	fprintf(f, "flush-generation: %u\n", gen);
	return 0;
}

int
dpf_ctl_wait(FILE *f, struct dpf_app *app)
{
	struct dpf_pipeline_stats ps;

	if (app->opt->replay == NULL && app->opt->idle_exit == 0) {
		fprintf(f, "error: nothing to wait for: live ports without --idle-exit never end\n");
		return -1;
	}
	/* The writer has stored every record once it has seen the stop batch. */
	while (!dpf_writer_done(app->writer) && !dpf_run_output_failed(&app->run))
		usleep(1000);
	dpf_pipeline_stats_get(app->pipeline, &ps);
	fprintf(f, "wait: every window is flushed\n");
	fprintf(f, "windows: %" PRIu64 "\n", ps.windows);
	fprintf(f, "records: %" PRIu64 "\n", ps.records);
	return 0;
}

static int
port_arg(FILE *f, const struct dpf_app *app, const char *arg, int *port)
{
	char *end;
	long v;
	uint16_t i;

	if (strcmp(arg, "all") == 0) {
		*port = -1;
		return 0;
	}
	v = strtol(arg, &end, 10);
	for (i = 0; *end == '\0' && arg[0] != '\0' && i < app->n_ports; i++) {
		if (app->ports[i] == v) {
			*port = (int)v;
			return 0;
		}
	}
	fprintf(f, "error: port '%s': expected a port id (", arg);
	for (i = 0; i < app->n_ports; i++)
		fprintf(f, "%s%u", i ? ", " : "", app->ports[i]);
	fprintf(f, ") or all\n");
	return -1;
}

static void
port_info(FILE *f, struct dpf_app *app, uint16_t port)
{
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t i;

	if (rte_eth_dev_info_get(port, &info) != 0)
		return;
	rte_eth_dev_get_name_by_port(port, name);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(port, &link);
	fprintf(f, "port %u name: %s\n", port, name);
	fprintf(f, "port %u driver: %s\n", port, info.driver_name);
	fprintf(f, "port %u socket: %d\n", port, rte_eth_dev_socket_id(port));
	fprintf(f, "port %u link: %s\n", port, link.link_status ? "up" : "down");
	fprintf(f, "port %u link-speed-mbps: %u\n", port, link.link_speed);
	fprintf(f, "port %u rx-queues: %u\n", port, app->port_nq[port]);
	fprintf(f, "port %u max-rx-queues: %u\n", port, info.max_rx_queues);
	fprintf(f, "port %u rss-offloads: 0x%" PRIx64 "\n", port, info.flow_type_rss_offloads);
	fprintf(f, "port %u reta-size: %u\n", port, app->port_reta_size[port]);
	fprintf(f, "port %u forward-peer: ", port);
	if (app->forward && app->fwd_peer[port] != DPF_PORT_NONE)
		fprintf(f, "%u\n", app->fwd_peer[port]);
	else
		fprintf(f, "-\n");
	for (i = 0; i < app->ifmap->n_ifaces; i++)
		if (app->ifmap->ifaces[i].port == port)
			fprintf(f, "port %u interface: %s\n", port, app->ifmap->ifaces[i].meta.interface_id);
	/* The driver profile: requested -> configured, with the reason. */
	dpf_drivers_show(f, port);
}

static void
port_stats(FILE *f, const struct dpf_app *app, uint16_t port)
{
	struct rte_eth_stats es;
	uint64_t rx = 0;
	uint16_t c;

	for (c = 0; c < app->n_cores; c++)
		rx += load64(&app->cores[c].cnt.rx_by_port[port]);
	fprintf(f, "port %u rx-packets: %" PRIu64 "\n", port, rx);
	if (rte_eth_stats_get(port, &es) != 0)
		return;
	fprintf(f, "port %u nic-ipackets: %" PRIu64 "\n", port, es.ipackets);
	fprintf(f, "port %u nic-ibytes: %" PRIu64 "\n", port, es.ibytes);
	fprintf(f, "port %u nic-imissed: %" PRIu64 "\n", port, es.imissed);
	fprintf(f, "port %u nic-ierrors: %" PRIu64 "\n", port, es.ierrors);
	fprintf(f, "port %u nic-rx-nombuf: %" PRIu64 "\n", port, es.rx_nombuf);
	fprintf(f, "port %u nic-opackets: %" PRIu64 "\n", port, es.opackets);
	fprintf(f, "port %u nic-oerrors: %" PRIu64 "\n", port, es.oerrors);
}

static void
port_xstats(FILE *f, uint16_t port)
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
	if (names != NULL && xs != NULL && rte_eth_xstats_get_names(port, names, (unsigned)n) == n &&
	    rte_eth_xstats_get(port, xs, (unsigned)n) == n) {
		for (i = 0; i < n; i++)
			fprintf(f, "port %u %s: %" PRIu64 "\n", port, names[xs[i].id].name,
				xs[i].value);
	}
	free(names);
	free(xs);
}

int
dpf_ctl_show_port(FILE *f, struct dpf_app *app, const char *what, const char *which)
{
	int port;
	uint16_t i;

	if (port_arg(f, app, which, &port) < 0)
		return -1;
	for (i = 0; i < app->n_ports; i++) {
		uint16_t p = app->ports[i];

		if (port >= 0 && p != port)
			continue;
		if (strcmp(what, "info") == 0)
			port_info(f, app, p);
		else if (strcmp(what, "stats") == 0)
			port_stats(f, app, p);
		else
			port_xstats(f, p);
	}
	return 0;
}

int
dpf_ctl_clear_port_stats(FILE *f, struct dpf_app *app, const char *which)
{
	int port;
	uint16_t i;

	if (port_arg(f, app, which, &port) < 0)
		return -1;
	for (i = 0; i < app->n_ports; i++) {
		uint16_t p = app->ports[i];

		if (port >= 0 && p != port)
			continue;
		rte_eth_stats_reset(p);
		rte_eth_xstats_reset(p);
		fprintf(f, "port %u nic-stats: cleared\n", p);
	}
	fprintf(f, "note: dpflow's own counters are never cleared (conservation)\n");
	return 0;
}

int
dpf_ctl_show_lcores(FILE *f, struct dpf_app *app)
{
	uint16_t c, q;

	fprintf(f, "main-lcore: %u\n", rte_get_main_lcore());
	fprintf(f, "pipeline-lcore: %u%s\n",
		app->pipeline_lcore == RTE_MAX_LCORE ? rte_get_main_lcore() : app->pipeline_lcore,
		app->pipeline_lcore == RTE_MAX_LCORE ? " (main)" : "");
	for (c = 0; c < app->n_cores; c++) {
		const struct dpf_rx_core *core = &app->cores[c];

		fprintf(f, "rx-lcore %u socket: %u\n", core->lcore_id,
			rte_lcore_to_socket_id(core->lcore_id));
		fprintf(f, "rx-lcore %u queues:", core->lcore_id);
		for (q = 0; q < core->n_rxq; q++)
			fprintf(f, " port%u/q%u", core->rxq[q].port, core->rxq[q].queue);
		fputc('\n', f);
	}
	fprintf(f, "writer: control thread\n");
	fprintf(f, "replay: %s\n", app->opt->replay ? "control thread" : "-");
	return 0;
}

int
dpf_ctl_show_flow_table(FILE *f, struct dpf_app *app)
{
	uint64_t cap = app->opt->flows_per_core;
	uint16_t c;

	for (c = 0; c < app->n_cores; c++) {
		const struct dpf_rx_core *core = &app->cores[c];
		unsigned int id = core->lcore_id;

		fprintf(f, "core %u flows: %u\n", id,
			__atomic_load_n(&core->active_flows, __ATOMIC_RELAXED));
		fprintf(f, "core %u capacity: %" PRIu64 "\n", id, cap);
		fprintf(f, "core %u tables: %" PRIu64 "\n", id, app->opt->shards_per_core);
		fprintf(f, "core %u flows-created: %" PRIu64 "\n", id,
			load64(&core->cnt.flows_created));
		fprintf(f, "core %u lost-table-full: %" PRIu64 "\n", id,
			load64(&core->cnt.lost_table_full));
		fprintf(f, "core %u lost-no-table: %" PRIu64 "\n", id,
			load64(&core->cnt.lost_no_table));
	}
	fprintf(f, "bytes-per-flow: %zu\n", dpf_ft_bytes_per_flow((uint32_t)cap));
	return 0;
}

int
dpf_ctl_show_window(FILE *f, struct dpf_app *app)
{
	struct dpf_pipeline_stats ps;
	uint64_t t = now_ns(app), s, e, flows = 0;
	uint16_t c;

	dpf_window_plan_bounds(app->plan, t, &s, &e);
	for (c = 0; c < app->n_cores; c++)
		flows += __atomic_load_n(&app->cores[c].active_flows, __ATOMIC_RELAXED);
	fprintf(f, "clock: %s\n", app->clock == DPF_CLOCK_WALL ? "wall" : "packet");
	fprintf(f, "window-seconds: %u\n", dpf_window_plan_len_sec(app->plan));
	fprintf(f, "window-start: %" PRIu64 "\n", s / NS_PER_SEC);
	fprintf(f, "window-end: %" PRIu64 "\n", e / NS_PER_SEC);
	fprintf(f, "now: %" PRIu64 "\n", t / NS_PER_SEC);
	fprintf(f, "next-boundary-in: %" PRIu64 "\n", (e - t) / NS_PER_SEC);
	fprintf(f, "flows-so-far: %" PRIu64 "\n", flows);
	dpf_pipeline_stats_get(app->pipeline, &ps);
	fprintf(f, "windows-closed: %" PRIu64 "\n", ps.windows);
	dpf_stats_clock_print(f, "clock-", app->wall);
	return 0;
}

int
dpf_ctl_set_window(FILE *f, struct dpf_app *app, const char *arg)
{
	char err[128];
	uint64_t sec, at;
	char *end;

	sec = strtoull(arg, &end, 10);
	if (*end != '\0' || arg[0] < '0' || arg[0] > '9' || sec < 1 || sec > 3600) {
		fprintf(f, "error: window '%s': expected 1..3600 seconds\n", arg);
		return -1;
	}
	at = dpf_window_plan_set_len(app->plan, sec, now_ns(app),
				app->clock == DPF_CLOCK_WALL ? 100000000ull : 0);
	dpf_config_set(app->cfg, "window", arg, err, sizeof(err));
	fprintf(f, "window-seconds: %" PRIu64 "\n", sec);
	fprintf(f, "takes-effect-at: %" PRIu64 "\n", at / NS_PER_SEC);
	return 0;
}

int
dpf_ctl_set_log_format(FILE *f, struct dpf_app *app, const char *fmt)
{
	char err[256];
	struct dpf_fmt *nf;

	if (dpf_export_file_set_format(app->file, fmt, err, sizeof(err)) < 0) {
		fprintf(f, "error: log-format: %s\n", err);
		return -1;
	}
	/* show flows prints in the format too; only this thread uses that copy. */
	nf = dpf_fmt_parse(fmt, err, sizeof(err));
	if (nf != NULL) {
		dpf_fmt_free(app->fmt_show);
		app->fmt_show = nf;
	}
	dpf_config_set(app->cfg, "log-format", fmt, err, sizeof(err));
	fprintf(f, "log-format: %s\n", fmt);
	fprintf(f, "version: %u\n", dpf_fmt_version(app->fmt_show));
	fprintf(f, "takes-effect: at the next window boundary (new files, new header)\n");
	return 0;
}

int
dpf_ctl_show_config(FILE *f, struct dpf_app *app)
{
	uint16_t i;

	dpf_config_show(app->cfg, f);
	dpf_rules_show_config(app->rules, f);
	dpf_drivers_show_config(f);
	for (i = 0; i < app->ifmap->n_ifaces; i++) {
		const struct dpf_iface *ifc = &app->ifmap->ifaces[i];
		uint8_t k;

		fprintf(f, "interface %s port: %u\n", ifc->meta.interface_id, ifc->port);
		if (ifc->vlan >= 0)
			fprintf(f, "interface %s vlan: %d\n", ifc->meta.interface_id, ifc->vlan);
		if (ifc->has_mac)
			fprintf(f, "interface %s mac: %02x:%02x:%02x:%02x:%02x:%02x\n",
				ifc->meta.interface_id, ifc->mac[0], ifc->mac[1], ifc->mac[2],
				ifc->mac[3], ifc->mac[4], ifc->mac[5]);
		for (k = 0; k < ifc->n_addrs; k++) {
			char a[64];

			inet_ntop(ifc->addrs[k].family == 4 ? AF_INET : AF_INET6, ifc->addrs[k].addr,
				  a, sizeof(a));
			fprintf(f, "interface %s address: %s/%u\n", ifc->meta.interface_id, a,
				ifc->addrs[k].len);
		}
	}
	return 0;
}

static int
iface_by_id(void *arg, const char *id)
{
	const struct dpf_app *app = arg;
	uint16_t i;

	for (i = 0; i < app->ifmap->n_ifaces; i++)
		if (strcmp(app->ifmap->ifaces[i].meta.interface_id, id) == 0)
			return i;
	return -1;
}

static struct dpf_record *
query_flows(FILE *f, struct dpf_app *app, int argc, char **argv, uint32_t *n,
	    uint32_t default_limit)
{
	struct dpf_store_filter flt;
	struct dpf_record *recs;
	char err[256];

	dpf_store_filter_init(&flt);
	flt.limit = default_limit;
	if (dpf_store_filter_parse(&flt, argc, argv, iface_by_id, app, err, sizeof(err)) < 0) {
		fprintf(f, "error: %s\n", err);
		return NULL;
	}
	recs = malloc(DPF_STORE_MAX_RESULTS * sizeof(*recs));
	if (recs == NULL) {
		fprintf(f, "error: out of memory\n");
		return NULL;
	}
	*n = dpf_store_query(app->store, &flt, recs, DPF_STORE_MAX_RESULTS);
	return recs;
}

int
dpf_ctl_show_flows(FILE *f, struct dpf_app *app, int argc, char **argv)
{
	char line[DPF_FMT_LINE_MAX];
	struct dpf_record *recs;
	uint32_t n, i;

	recs = query_flows(f, app, argc, argv, &n, 100);
	if (recs == NULL)
		return -1;
	fprintf(f, "flows: %u\n", n);
	fprintf(f, "stored: %u\n", dpf_store_count(app->store));
	/* Rows in the configured record format, under its header. */
	if (dpf_fmt_header(app->fmt_show, line, sizeof(line)) > 0)
		fputs(line, f);
	for (i = 0; i < n; i++)
		if (dpf_fmt_record(app->fmt_show, &app->fmt_ctx, &recs[i], line, sizeof(line)) > 0)
			fputs(line, f);
	free(recs);
	return 0;
}

int
dpf_ctl_export_flows(FILE *f, struct dpf_app *app, const char *path, int argc, char **argv)
{
	struct dpf_record *recs;
	uint32_t n;
	FILE *out;
	int rc;

	recs = query_flows(f, app, argc, argv, &n, DPF_STORE_MAX_RESULTS);
	if (recs == NULL)
		return -1;
	out = fopen(path, "wx");
	if (out == NULL) {
		fprintf(f, "error: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (export never overwrites a file)" : "");
		free(recs);
		return -1;
	}
	rc = dpf_store_write_csv(out, recs, n, app->fmt_ctx.ifaces, app->fmt_ctx.n_ifaces);
	if (fclose(out) != 0)
		rc = -EIO;
	free(recs);
	if (rc < 0) {
		fprintf(f, "error: %s: write failed\n", path);
		return -1;
	}
	fprintf(f, "exported: %u\n", n);
	fprintf(f, "file: %s\n", path);
	return 0;
}

/* nat|acl show|add|del: changes are queued for the next window boundary (rules.h). */
int
dpf_ctl_rules(FILE *f, struct dpf_app *app, const char *kind, const char *verb, const char *arg)
{
	struct dpf_rules_change c = {
		.kind = strcmp(kind, "nat") == 0 ? DPF_RULES_NAT : DPF_RULES_ACL,
		.now_ns = now_ns(app),
		.plan = app->plan,
	};
	unsigned int n = 0;
	char err[512];
	uint64_t at = 0;
	int rc;

	if (strcmp(verb, "show") == 0) {
		dpf_rules_show(app->rules, c.kind, f);
		return 0;
	}
	if (strcmp(verb, "add") == 0) {
		c.add = arg;
	} else {
		char *end;
		unsigned long idx = strtoul(arg, &end, 10);

		if (*end != '\0' || arg[0] == '\0' || idx == 0 || idx > UINT32_MAX) {
			fprintf(f, "error: %s del '%s': expected a rule number\n", kind, arg);
			return -1;
		}
		c.del = (unsigned int)idx;
	}
	rc = dpf_rules_change(app->rules, &c, &at, &n, err, sizeof(err));
	if (rc < 0) {
		fprintf(f, "error: %s\n", rc == -ENOMEM ? "out of memory" : err);
		fprintf(f, "error: rules unchanged\n");
		return -1;
	}
	fprintf(f, "%s rules: %u\n", kind, n);
	fprintf(f, "takes-effect-at: %" PRIu64 "\n", at / NS_PER_SEC);
	return 0;
}
