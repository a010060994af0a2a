/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_telemetry commands, read with the stock client:
 *   dpdk-telemetry.py -f PREFIX   then  /dpflow/stats  /dpflow/ports
 *                                      /dpflow/window /dpflow/flow_table
 * Callbacks run in DPDK's telemetry thread and only read published counters.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "dpflow.h"

static struct dpf_app *tel_app;

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


/* The wall clock's discipline (clock.c): the error is signed, telemetry's
 * integers are 32-bit, so it is given in microseconds, clamped. */
static void
add_clock(struct rte_tel_data *d)
{
	struct dpf_wall_stats w;
	int64_t us;

	dpf_wall_stats_get(tel_app->wall, &w);
	if (!w.disciplined)
		return;
	us = w.disc.error_ns / 1000;
	if (us > INT32_MAX)
		us = INT32_MAX;
	if (us < INT32_MIN)
		us = INT32_MIN;
	rte_tel_data_add_dict_int(d, "clock_error_us", (int)us);
	add_u64(d, "clock_error_max_ns", w.disc.error_max_ns);
	add_u64(d, "clock_tsc_hz", w.disc.tsc_hz);
	add_u64(d, "clock_tsc_hz_eal", w.tsc_hz_eal);
	add_u64(d, "clock_adjustments", w.disc.adjustments);
	add_u64(d, "clock_steps", w.disc.steps);
	add_u64(d, "clock_holds", w.disc.holds);
	add_u64(d, "clock_samples_rejected", w.disc.rejected);
}

static uint64_t
load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpf_pipeline_stats ps;
	struct dpf_rx_counters t;
	uint16_t c;

	(void)cmd;
	(void)params;
	memset(&t, 0, sizeof(t));
	for (c = 0; c < tel_app->n_cores; c++) {
		const struct dpf_rx_counters *k = &tel_app->cores[c].cnt;

#define DPF_X_SUM(f, name, help) t.f += load64(&k->f);
		DPF_RX_COUNTERS(DPF_X_SUM)
#undef DPF_X_SUM
	}
	rte_tel_data_start_dict(d);
#define DPF_X_DICT(f, name, help) add_u64(d, name, t.f);
	DPF_RX_COUNTERS(DPF_X_DICT)
#undef DPF_X_DICT
	dpf_pipeline_stats_get(tel_app->pipeline, &ps);
	add_u64(d, "windows", ps.windows);
	add_u64(d, "records", ps.records);
	add_u64(d, "nodata_rows", ps.nodata_rows);
	add_u64(d, "skipdata_rows", ps.skipdata_rows);
	add_u64(d, "files", dpf_stats_files(tel_app));
	add_clock(d);
	return 0;
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint16_t i, c;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (i = 0; i < tel_app->n_ports; i++) {
		uint16_t p = tel_app->ports[i];
		struct rte_tel_data *pd = rte_tel_data_alloc();
		struct rte_eth_dev_info info;
		struct rte_eth_stats es;
		uint64_t rx = 0;
		char key[32];

		if (pd == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(pd);
		for (c = 0; c < tel_app->n_cores; c++)
			rx += load64(&tel_app->cores[c].cnt.rx_by_port[p]);
		if (rte_eth_dev_info_get(p, &info) == 0)
			rte_tel_data_add_dict_string(pd, "driver", info.driver_name);
		add_u64(pd, "rx_packets", rx);
		add_u64(pd, "rx_queues", tel_app->port_nq[p]);
		if (rte_eth_stats_get(p, &es) == 0) {
			add_u64(pd, "nic_ipackets", es.ipackets);
			add_u64(pd, "nic_imissed", es.imissed);
			add_u64(pd, "nic_ierrors", es.ierrors);
			add_u64(pd, "nic_rx_nombuf", es.rx_nombuf);
		}
		snprintf(key, sizeof(key), "port%u", p);
		rte_tel_data_add_dict_container(d, key, pd, 0);
	}
	return 0;
}

static int
tel_window(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpf_pipeline_stats ps;
	uint64_t t = 0, s, e, flows = 0;
	uint16_t c;

	(void)cmd;
	(void)params;
	for (c = 0; c < tel_app->n_cores; c++) {
		uint64_t v = load64(&tel_app->cores[c].last_ns);

		flows += __atomic_load_n(&tel_app->cores[c].active_flows, __ATOMIC_RELAXED);
		if (v > t)
			t = v;
	}
	if (tel_app->clock == DPF_CLOCK_WALL)
		t = dpf_wall_ns(tel_app->wall);
	dpf_window_plan_bounds(tel_app->plan, t, &s, &e);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "clock", tel_app->clock == DPF_CLOCK_WALL ? "wall" : "packet");
	add_u64(d, "window_seconds", dpf_window_plan_len_sec(tel_app->plan));
	add_u64(d, "window_start", s / NS_PER_SEC);
	add_u64(d, "window_end", e / NS_PER_SEC);
	add_u64(d, "flows_so_far", flows);
	dpf_pipeline_stats_get(tel_app->pipeline, &ps);
	add_u64(d, "windows_closed", ps.windows);
	add_clock(d);
	return 0;
}

static int
tel_flow_table(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint16_t c;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (c = 0; c < tel_app->n_cores; c++) {
		const struct dpf_rx_core *core = &tel_app->cores[c];
		struct rte_tel_data *cd = rte_tel_data_alloc();
		char key[32];

		if (cd == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(cd);
		add_u64(cd, "flows",
					  __atomic_load_n(&core->active_flows, __ATOMIC_RELAXED));
		add_u64(cd, "capacity", tel_app->opt->flows_per_core);
		add_u64(cd, "flows_created", load64(&core->cnt.flows_created));
		add_u64(cd, "lost_table_full", load64(&core->cnt.lost_table_full));
		add_u64(cd, "lost_no_table", load64(&core->cnt.lost_no_table));
		snprintf(key, sizeof(key), "lcore%u", core->lcore_id);
		rte_tel_data_add_dict_container(d, key, cd, 0);
	}
	return 0;
}

int
dpf_telemetry_register(struct dpf_app *app)
{
	tel_app = app;
	if (rte_telemetry_register_cmd("/dpflow/stats", tel_stats,
				       "dpflow counters (totals over RX cores), windows, records") ||
	    rte_telemetry_register_cmd("/dpflow/ports", tel_ports,
				       "per port: driver, packets, NIC loss counters") ||
	    rte_telemetry_register_cmd("/dpflow/window", tel_window,
				       "current window, its bounds, flows so far") ||
	    rte_telemetry_register_cmd("/dpflow/flow_table", tel_flow_table,
				       "per RX core: flows in the open table, capacity, losses"))
		return -1;
	return 0;
}
