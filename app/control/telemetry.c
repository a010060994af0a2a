/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_telemetry commands, read with the stock client, rendering the counters
 * snapshot (snapshot.h):
 *   dpdk-telemetry.py -f PREFIX   then  /dpflow/stats  /dpflow/ports
 *                                      /dpflow/window /dpflow/flow_table
 *                                      /dpflow/exporters /dpflow/interfaces
 *                                      /dpflow/conservation
 * Callbacks run in DPDK's telemetry thread and only read published counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "ctl_internal.h"
#include "log.h"
#include "snapshot.h"

/*
 * DPDK before 23.11 gives telemetry callbacks no argument: the one control
 * handle they render is kept here, written once, before the commands are
 * registered. Newer releases pass it to each callback.
 */
#if RTE_VERSION < RTE_VERSION_NUM(23, 11, 0, 0)
static struct dpf_ctl *tel_ctl;
#define TEL_CB(name) static int name(const char *cmd, const char *params, struct rte_tel_data *d)
#define TEL_CTL() tel_ctl
#else
#define TEL_CB(name)                                                                               \
	static int name(const char *cmd, const char *params, void *arg, struct rte_tel_data *d)
#define TEL_CTL() ((struct dpf_ctl *)arg)
#endif

/* rte_telemetry accepts [A-Za-z0-9_] in names and drops the rest silently:
 * our counter names use '-', telemetry gets '_'. */
static void
add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	char key[64];
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(key) - 1; i++)
		key[i] = name[i] == '-' ? '_' : name[i];
	key[i] = '\0';
	rte_tel_data_add_dict_u64(d, key, v);
}

static void
add_rows(struct rte_tel_data *d, const struct dpf_snap_rows *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		add_u64(d, r->row[i].name, r->row[i].v);
}

/* The wall clock's discipline: the error is signed, telemetry's integers
 * are 32-bit, so it is given in microseconds, clamped. */
static void
add_clock(struct rte_tel_data *d, const struct dpf_wall_stats *w)
{
	int64_t us;

	if (!w->disciplined)
		return;
	us = w->disc.error_ns / 1000;
	if (us > INT32_MAX)
		us = INT32_MAX;
	if (us < INT32_MIN)
		us = INT32_MIN;
	rte_tel_data_add_dict_int(d, "clock_error_us", (int)us);
	add_u64(d, "clock_error_max_ns", w->disc.error_max_ns);
	add_u64(d, "clock_tsc_hz", w->disc.tsc_hz);
	add_u64(d, "clock_tsc_hz_eal", w->tsc_hz_eal);
	add_u64(d, "clock_adjustments", w->disc.adjustments);
	add_u64(d, "clock_steps", w->disc.steps);
	add_u64(d, "clock_holds", w->disc.holds);
	add_u64(d, "clock_samples_rejected", w->disc.rejected);
}

/* Each command renders one counters snapshot into a dictionary. */
typedef int (*tel_render_t)(struct dpf_ctl *ctl, const struct dpf_snapshot *s,
			    struct rte_tel_data *d);

static int
tel_run(struct dpf_ctl *ctl, unsigned int flags, tel_render_t render, struct rte_tel_data *d)
{
	struct dpf_snapshot s;
	int rc;

	if (dpf_snapshot_take(ctl, flags, &s) < 0)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rc = render(ctl, &s, d);
	dpf_snapshot_release(&s);
	return rc;
}

/* An empty dictionary to fill and add under a parent (NULL: no memory). */
static struct rte_tel_data *
tel_dict_new(void)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (c != NULL)
		rte_tel_data_start_dict(c);
	return c;
}

/* Child dictionary c under the key "<prefix><id>" of d, which frees it. */
static void
tel_add_child(struct rte_tel_data *d, const char *prefix, unsigned int id, struct rte_tel_data *c)
{
	char key[32];

	snprintf(key, sizeof(key), "%s%u", prefix, id);
	rte_tel_data_add_dict_container(d, key, c, 0);
}

static int
render_stats(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	struct dpf_snap_rows r;

	unsigned int t;

#define DPF_X_DICT(f, name, help) add_u64(d, name, s->total.f);
	DPF_RX_COUNTERS(DPF_X_DICT)
#undef DPF_X_DICT
	for (t = DPF_TUN_NONE + 1; t < DPF_TUN_MAX; t++) {
		char name[48];

		snprintf(name, sizeof(name), "tunnel-%s-packets", dpf_pkt_tun_name(t));
		add_u64(d, name, s->total.tunnel_packets[t]);
		snprintf(name, sizeof(name), "tunnel-%s-bytes", dpf_pkt_tun_name(t));
		add_u64(d, name, s->total.tunnel_bytes[t]);
	}
	dpf_snapshot_pipeline_rows(s, &r);
	add_rows(d, &r);
	add_u64(d, "files", dpf_snapshot_exporter(s, "writer", "files"));
	add_clock(d, &s->wall);
	return 0;
}

static int
render_ports(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	uint16_t i;

	for (i = 0; i < s->n_ports; i++) {
		const struct dpf_snap_port *p = &s->port[i];
		struct rte_eth_dev_info info;
		struct rte_tel_data *pd = tel_dict_new();

		if (pd == NULL)
			return -ENOMEM;
		if (rte_eth_dev_info_get(p->id, &info) == 0)
			rte_tel_data_add_dict_string(pd, "driver", info.driver_name);
		add_u64(pd, "rx_packets", p->rx_packets);
		add_u64(pd, "rx_queues", dpf_ports_conf(ctl->p.h.ports, p->id)->n_rxq);
		if (p->nic) {
			add_u64(pd, "nic_ipackets", p->nic_stats.ipackets);
			add_u64(pd, "nic_imissed", p->nic_stats.imissed);
			add_u64(pd, "nic_ierrors", p->nic_stats.ierrors);
			add_u64(pd, "nic_rx_nombuf", p->nic_stats.rx_nombuf);
		}
		tel_add_child(d, "port", p->id, pd);
	}
	return 0;
}

static int
render_window(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	struct dpf_snap_rows r;

	dpf_snapshot_window_rows(s, &r);
	rte_tel_data_add_dict_string(d, "clock", s->clock == DPF_CLOCK_WALL ? "wall" : "packet");
	add_rows(d, &r);
	add_clock(d, &s->wall);
	return 0;
}

static int
render_flow_table(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	struct dpf_snap_rows r;
	uint16_t c;

	for (c = 0; c < s->n_cores; c++) {
		struct rte_tel_data *cd = tel_dict_new();

		if (cd == NULL)
			return -ENOMEM;
		dpf_snapshot_core_rows(s, c, &r);
		add_rows(cd, &r);
		tel_add_child(d, "lcore", s->core[c].lcore_id, cd);
	}
	return 0;
}

/* Every exporter's named counters, one dictionary per exporter (writer, ipfix, s3). */
static int
render_exporters(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	unsigned int i, k;

	for (i = 0; i < s->n_exporters; i++) {
		const struct dpf_export_counters *c = &s->exporter[i];
		struct rte_tel_data *ed;

		if (c->n == 0)
			continue;
		ed = tel_dict_new();
		if (ed == NULL)
			return -ENOMEM;
		for (k = 0; k < c->n; k++)
			add_u64(ed, c->name[k], c->value[k]);
		rte_tel_data_add_dict_container(d, c->prefix, ed, 0);
	}
	return 0;
}

/* Per interface: its id, port, a tenant's vni, logged packets, their bytes, flows. */
static int
render_interfaces(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	uint16_t i;

	for (i = 0; i < s->n_ifaces; i++) {
		struct rte_tel_data *id = tel_dict_new();

		if (id == NULL)
			return -ENOMEM;
		rte_tel_data_add_dict_string(id, "id", s->iface[i].id);
		add_u64(id, "port", s->iface[i].port);
		if (s->iface[i].tenant)
			add_u64(id, "vni", s->iface[i].vni);
		add_u64(id, "packets", s->iface[i].c.packets);
		add_u64(id, "bytes", s->iface[i].c.bytes);
		add_u64(id, "flows", s->iface[i].c.flows);
		tel_add_child(d, "iface", i, id);
	}
	return 0;
}

static int
render_conservation(struct dpf_ctl *ctl, const struct dpf_snapshot *s, struct rte_tel_data *d)
{
	struct dpf_snap_rows r;

	dpf_snapshot_conservation_rows(s, true, &r);
	add_rows(d, &r);
	return 0;
}

TEL_CB(tel_stats)
{
	return tel_run(TEL_CTL(), 0, render_stats, d);
}

TEL_CB(tel_ports)
{
	return tel_run(TEL_CTL(), DPF_SNAP_NIC, render_ports, d);
}

TEL_CB(tel_window)
{
	return tel_run(TEL_CTL(), 0, render_window, d);
}

TEL_CB(tel_flow_table)
{
	return tel_run(TEL_CTL(), 0, render_flow_table, d);
}

TEL_CB(tel_exporters)
{
	return tel_run(TEL_CTL(), 0, render_exporters, d);
}

TEL_CB(tel_interfaces)
{
	return tel_run(TEL_CTL(), DPF_SNAP_RULES, render_interfaces, d);
}

TEL_CB(tel_conservation)
{
	return tel_run(TEL_CTL(), DPF_SNAP_NIC, render_conservation, d);
}

static const struct {
	const char *cmd;
#if RTE_VERSION < RTE_VERSION_NUM(23, 11, 0, 0)
	telemetry_cb fn;
#else
	telemetry_arg_cb fn;
#endif
	const char *help;
} commands[] = {
	{"/dpflow/stats", tel_stats, "dpflow counters (totals over RX cores), windows, records"},
	{"/dpflow/ports", tel_ports, "per port: driver, packets, NIC loss counters"},
	{"/dpflow/window", tel_window, "current window, its bounds, flows so far"},
	{"/dpflow/flow_table", tel_flow_table,
	 "per RX core: flows in the open table, capacity, losses"},
	{"/dpflow/exporters", tel_exporters, "per exporter (writer, ipfix, s3): its counters"},
	{"/dpflow/interfaces", tel_interfaces,
	 "per interface: id, port, logged packets, bytes, flows"},
	{"/dpflow/conservation", tel_conservation,
	 "the conservation sums of the exit summary; ok: 1 when they match"},
};

#if RTE_VERSION < RTE_VERSION_NUM(23, 3, 0, 0)
/*
 * DPDK 22.11 gives a second process of the same --file-prefix (possible with
 * --no-shconf or --in-memory) no telemetry socket, and says so only at debug
 * level: the socket stays the first one's. Its greeting names its pid.
 */
static void
telemetry_check_socket(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};
	char buf[1024];
	const char *pid;
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		/* --no-telemetry, or no runtime directory: nothing to share. */
		DPF_LOG(INFO, control, "telemetry: no socket at %s\n", sun.sun_path);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	pid = strstr(buf, "\"pid\":");
	if (pid != NULL && strtol(pid + 6, NULL, 10) != (long)getpid())
		DPF_LOG(WARNING, control,
			"telemetry: %s belongs to process %ld, which has the same --file-prefix: "
			"this instance has no telemetry; give each instance its own --file-prefix "
			"(doc/operations.md, \"Telemetry\")\n",
			sun.sun_path, strtol(pid + 6, NULL, 10));
}
#endif

int
dpf_ctl_telemetry_register(struct dpf_ctl *ctl)
{
	size_t i;

#if RTE_VERSION < RTE_VERSION_NUM(23, 11, 0, 0)
	tel_ctl = ctl;
#endif
	for (i = 0; i < RTE_DIM(commands); i++) {
#if RTE_VERSION < RTE_VERSION_NUM(23, 11, 0, 0)
		if (rte_telemetry_register_cmd(commands[i].cmd, commands[i].fn, commands[i].help))
#else
		if (rte_telemetry_register_cmd_arg(commands[i].cmd, commands[i].fn, ctl,
						   commands[i].help))
#endif
			return -1;
	}
#if RTE_VERSION < RTE_VERSION_NUM(23, 3, 0, 0)
	/* Later releases give a second instance a socket of its own (".v2:N"). */
	telemetry_check_socket();
#endif
	return 0;
}
