/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpflow [EAL options] -- [options]
 *
 * The only file that sees every subsystem: it starts them in order, runs,
 * and stops them in reverse (each start step has its stop, run on failure
 * and at exit). Stop (end of replay, --idle-exit, SIGINT, SIGTERM, quit): RX
 * cores retire their open window, the pipeline flushes every window, the
 * writer publishes its files, then the counters are printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "dataplane.h"
#include "drivers.h"
#include "dpf_connstore.h"
#include "dpf_store.h"
#include "dpf_window_plan.h"
#include "iface.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "ports.h"
#include "replay.h"
#include "rules.h"
#include "run.h"
#include "timecheck.h"

#define BATCHES 64
/* --exit-status-on-loss: the run lost packets or records (1 stays "failed"). */
#define DPF_EXIT_LOSS 3

/* The running program: its subsystems' handles and the run flags. */
struct dpf_app {
	struct dpf_run run;
	struct dpf_config *cfg;
	struct dpf_window_plan *plan;
	struct dpf_wall *wall;
	struct dpf_timecheck *tc;
	struct dpf_cli *cli;
	struct dpf_store *store;
	struct dpf_store *connstore; /* NULL: no connection records in this run */
	struct dpf_replay *replay;
	struct dpf_ports *ports;
	struct dpf_ifmap *ifmap;
	struct dpf_rules *rules;
	struct dpf_dataplane *dp;
	struct dpf_batchq *batches;
	struct dpf_pipeline *pipeline;
	struct dpf_writer *writer;
	struct dpf_export_file *file;
	struct dpf_ctl *ctl;
	struct dpf_metrics *metrics; /* --metrics, or NULL */
	struct dpf_drivers *drivers; /* driver profiles: read before EAL, freed after it */
	uint64_t main_ns;	     /* CLOCK_MONOTONIC when main() began (mark()) */
};

/* The settings (cfg's): read by the start steps and the run loop. */
static inline const struct dpf_options *
opts(const struct dpf_app *app)
{
	return dpf_config_options(app->cfg);
}

/* The clock and the RX cores, settled by the ports (configure_ports onwards). */
static inline enum dpf_clock
clock_of(const struct dpf_app *app)
{
	return dpf_ports_settled(app->ports)->clock;
}

static inline uint16_t
rx_cores(const struct dpf_app *app)
{
	return dpf_ports_settled(app->ports)->n_cores;
}

/* The replay's packet source for the RX cores and the pipeline, NULL without --replay. */
static inline struct dpf_source *
source_of(const struct dpf_app *app)
{
	return app->replay != NULL ? dpf_replay_source(app->replay) : NULL;
}

/*
 * What the dataplane, the pipeline and control all read (handles.h): the
 * subsystems started before them and the clock the ports settled.
 */
static struct dpf_handles
handles_of(struct dpf_app *app)
{
	return (struct dpf_handles){
		.run = &app->run,
		.clock = clock_of(app),
		.plan = app->plan,
		.wall = app->wall,
		.ports = app->ports,
		.ifmap = app->ifmap,
		.rules = app->rules,
		.source = source_of(app),
	};
}

/*
 * --log-level=dpflow.main:debug: when each phase ended, from main() on
 * (doc/performance.md, "Start to exit"). what, and the step's index or -1.
 */
static void
mark(const struct dpf_app *app, const char *what, int step)
{
	char idx[16] = "";

	if (!DPF_LOG_ENABLED(DEBUG, main))
		return;
	if (step >= 0)
		snprintf(idx, sizeof(idx), " %d", step);
	DPF_LOG(DEBUG, main, "timing: %s%s at %.1f ms\n", what, idx,
		(double)(dpf_mono_ns() - app->main_ns) / 1e6);
}

/* A constructor's NULL + rte_errno as a start step's -errno. */
static int
made(const void *handle)
{
	return handle == NULL ? -rte_errno : 0;
}

/* The signal handlers' way to the run flags: the one instance, set before they are installed. */
static struct dpf_app *sig_app;

static void
on_signal(int sig)
{
	struct dpf_run *run = &sig_app->run;

	/* clock_gettime is async-signal-safe; the first signal times the stop. */
	if (__atomic_load_n(&run->stop_mono_ns, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&run->stop_mono_ns, dpf_mono_ns(), __ATOMIC_RELAXED);
	dpf_run_set_stopping(run, true);
}

/* Log rotation: the writer publishes the open files and goes on. */
static void
on_sighup(int sig)
{
	dpf_run_set_rotate(&sig_app->run, true);
}

/* ---------------------------------------------------------------- start steps */

static int
start_clocks(struct dpf_app *app)
{
	struct dpf_timecheck_params tp = {.max_gap_sec = opts(app)->max_time_gap};

	app->plan = dpf_window_plan_create((uint32_t)opts(app)->window);
	app->wall = dpf_wall_create();
	if (app->plan == NULL || app->wall == NULL)
		return -ENOMEM;
	tp.now_ns = dpf_wall_start_ns(app->wall);
	tp.plan = app->plan;
	app->tc = dpf_timecheck_create(&tp);
	return app->tc == NULL ? -ENOMEM : 0;
}

/* RX cores on the first worker lcores (the dataplane places them, and the
 * pipeline on the next if one is spare): checked first, before any other
 * start step. */
static int
check_lcores(struct dpf_app *app)
{
	unsigned int workers = rte_lcore_count() - 1;
	unsigned int rxq = (unsigned int)opts(app)->rxq;

	if (workers < rxq) {
		DPF_LOG(ERR, main,
			"--rxq %u needs %u worker lcores besides the main lcore, EAL gave "
			"%u; add lcores with -l or --lcores\n",
			rxq, rxq, workers);
		return -EINVAL;
	}
	return 0;
}

static int
start_cli(struct dpf_app *app)
{
	/* The file is read whole now: a bad one stops dpflow before the run. */
	app->cli = dpf_cli_create(opts(app)->cmdline_file);
	return made(app->cli);
}

static int
start_store(struct dpf_app *app)
{
	const struct dpf_options *o = opts(app);

	app->store = dpf_store_create(&dpf_store_flows, (uint32_t)o->flow_store);
	/* Connection flow logs exist only when the connection pass runs. */
	if (app->store != NULL && (o->ibm_output != NULL || o->connections != 0))
		app->connstore =
			dpf_store_create(&dpf_store_connections, (uint32_t)o->flow_store);
	if (app->store == NULL ||
	    ((o->ibm_output != NULL || o->connections != 0) && app->connstore == NULL)) {
		DPF_LOG(ERR, main, "out of memory\n");
		return -ENOMEM;
	}
	return 0;
}

static int
start_replay(struct dpf_app *app)
{
	struct dpf_replay_params rp = {
		.path = opts(app)->replay,
		.n_queues = (uint16_t)opts(app)->rxq,
		.plan = app->plan,
		.tc = app->tc,
		.run = &app->run,
		.frames_written = opts(app)->forward != NULL,
	};

	if (opts(app)->replay == NULL)
		return 0;
	dpf_config_decap(opts(app), &rp.decap);
	app->replay = dpf_replay_open(&rp);
	return made(app->replay);
}

static int
start_ports(struct dpf_app *app)
{
	struct dpf_ports_params pp = {.opt = opts(app), .drivers = app->drivers};

	if (app->replay != NULL) {
		pp.replay_rings = dpf_replay_rings(app->replay);
		pp.n_replay_rings = (uint16_t)opts(app)->rxq;
		pp.replay_attaches = dpf_replay_attaches(app->replay);
	}
	app->ports = dpf_ports_probe(&pp);
	return made(app->ports);
}

/* Before the ports are configured: configuration errors stop the start before any port note. */
static int
start_ifmap(struct dpf_app *app)
{
	const struct dpf_ports_settled *ps = dpf_ports_settled(app->ports);
	struct dpf_ifmap_params ip = {.cfg = app->cfg, .ports = ps->ids, .n_ports = ps->n_ports};

	app->ifmap = dpf_ifmap_create(&ip);
	return made(app->ifmap);
}

static int
configure_ports(struct dpf_app *app)
{
	return dpf_ports_start(app->ports);
}

static int
start_rules(struct dpf_app *app)
{
	struct dpf_rules_params rp = {
		.nat_rules = &opts(app)->nat_rules,
		.acl_rules = &opts(app)->acl_rules,
		.acl_default = (uint8_t)opts(app)->acl_default,
		.acl_stateful = opts(app)->acl_stateful != 0,
		.forward = dpf_ports_settled(app->ports)->forward,
		.n_readers = rx_cores(app),
		.socket_id = (int)rte_socket_id(),
	};

	app->rules = dpf_rules_create(&rp);
	return made(app->rules);
}

static int
start_dataplane(struct dpf_app *app)
{
	struct dpf_dataplane_params dp = {
		.h = handles_of(app),
		.n_cores = rx_cores(app),
		.opt = opts(app),
		/* Packet time comes from a file (replay, net_pcap rx_pcap): there
		 * is no line rate to keep up with, so RX cores wait for free
		 * tables instead of losing records. With the wall clock they
		 * never wait. */
		.offline = clock_of(app) == DPF_CLOCK_PACKET,
		.tc = app->tc,
	};

	app->dp = dpf_dataplane_create(&dp);
	return made(app->dp);
}

/* The queue of record batches from the pipeline to the writer. */
static int
start_batches(struct dpf_app *app)
{
	app->batches = dpf_batchq_create(BATCHES, (int)rte_socket_id());
	if (app->batches == NULL)
		DPF_LOG(ERR, main, "record batches: %s\n", rte_strerror(rte_errno));
	return made(app->batches);
}

static int
start_pipeline(struct dpf_app *app)
{
	struct dpf_pipeline_params pp = {
		.h = handles_of(app),
		.in = dpf_dataplane_handoffs(app->dp),
		.n_ifaces = dpf_ifmap_count(app->ifmap),
		.max_flows = (uint32_t)RTE_MIN(
			(uint64_t)UINT32_MAX,
			(opts(app)->flows_per_core + dpf_dataplane_segment_room(opts(app))) *
				rx_cores(app)),
		.socket_id = (int)rte_socket_id(),
		.out = app->batches,
	};

	app->pipeline = dpf_pipeline_create(&pp);
	return made(app->pipeline);
}

/* The writer and its exporters; S3 checks its bucket here, so a refused
 * bucket stops dpflow before any packet. */
static int
start_output(struct dpf_app *app)
{
	struct dpf_writer_params wp = {
		.in = app->batches,
		.run = &app->run,
		.test_delay_ms = opts(app)->test_writer_delay,
	};
	struct dpf_export_file_params fp = {
		.opt = opts(app),
		.fmt_ctx = dpf_ifmap_fmt_ctx(app->ifmap),
		.run = &app->run,
	};

	struct dpf_export_ibm_params ip = {
		.opt = opts(app),
		.ifmap = app->ifmap,
		.plan = app->plan,
		.store = app->connstore,
	};

	app->writer = dpf_writer_create(&wp);
	if (app->writer == NULL)
		return -ENOMEM;
	if (dpf_export_store_add(app->writer, app->store) < 0 ||
	    dpf_export_ibm_add(app->writer, &ip) < 0 ||
	    dpf_export_ipfix_add(app->writer, opts(app), dpf_ifmap_fmt_ctx(app->ifmap)) < 0 ||
	    dpf_export_s3_add(app->writer, opts(app)) < 0)
		return -EINVAL;
	/* Last: its stop publishes the files S3 then uploads (output.h). */
	app->file = dpf_export_file_add(app->writer, &fp);
	return made(app->file);
}

static int
start_control(struct dpf_app *app)
{
	struct dpf_ctl_params cp = {
		.h = handles_of(app),
		.cfg = app->cfg,
		.start_ns = dpf_wall_start_ns(app->wall),
		.replay = app->replay,
		.dp = app->dp,
		.pipeline = app->pipeline,
		.pipeline_lcore = dpf_dataplane_pipeline_lcore(app->dp),
		.writer = app->writer,
		.file = app->file,
		.store = app->store,
		.connstore = app->connstore,
		.fmt_ctx = dpf_ifmap_fmt_ctx(app->ifmap),
	};

	app->ctl = dpf_ctl_create(&cp);
	dpf_metrics_attach(app->metrics, app->ctl);
	return made(app->ctl);
}

/* Early: a --metrics address that cannot be served stops the start before the ports. */
static int
start_metrics(struct dpf_app *app)
{
	if (opts(app)->metrics == NULL)
		return 0;
	app->metrics = dpf_metrics_start(opts(app)->metrics);
	return made(app->metrics);
}

/* Last: once its thread runs, only the pipeline's stop batch ends it, so no
 * step may fail after this one (stop_all would wait for the writer forever). */
static int
start_writer(struct dpf_app *app)
{
	return dpf_writer_start(app->writer);
}

/* The start steps, in order. */
static int (*const steps[])(struct dpf_app *app) = {
	start_clocks,
	check_lcores,
	start_cli,
	start_metrics,
	start_store,
	start_replay,
	start_ports,
	start_ifmap,
	configure_ports,
	start_rules,
	start_dataplane,
	start_batches,
	start_pipeline,
	start_output,
	start_control,
	start_writer,
};

/*
 * Undo every step, in reverse: the whole run's, or what a failed start left.
 * Every handle starts NULL and every free is NULL-safe, so one teardown
 * serves however far the start went, the failed step's half-made handle too.
 */
static void
stop_all(struct dpf_app *app)
{
	/* Its thread reads through the control handle. */
	dpf_metrics_stop(app->metrics);
	dpf_ctl_free(app->ctl);
	dpf_writer_join(app->writer);
	dpf_writer_free(app->writer);
	dpf_pipeline_free(app->pipeline);
	dpf_batchq_free(app->batches);
	dpf_dataplane_free(app->dp);
	dpf_rules_free(app->rules);
	dpf_ifmap_free(app->ifmap);
	dpf_ports_free(app->ports);
	/* After the RX cores stopped: their mbufs point into the mapped file. */
	dpf_replay_free(app->replay);
	dpf_store_free(app->store);
	dpf_store_free(app->connstore);
	dpf_cli_free(app->cli);
	dpf_timecheck_free(app->tc);
	dpf_wall_free(app->wall);
	dpf_window_plan_free(app->plan);
}

/*
 * After a run the process exits: the handles that only hold DPDK heap memory
 * are left to that exit instead of stop_all(). rte_free() zeroes what it
 * frees (DPDK's heap hands out cleared memory), so freeing the flow tables
 * and the merge buffers wrote every byte of them, the pages the run never
 * touched included: 16 ms of a ~110 ms small replay, and at
 * --flows-per-core 1048576 over 300 MB of pages touched at the end only
 * (doc/performance.md, "Start to exit" and "Memory"). What acts outside
 * the process (ports, threads, files, the terminal) is still stopped.
 */
static void
leave_memory_to_exit(struct dpf_app *app)
{
	app->pipeline = NULL;
	app->batches = NULL;
	app->dp = NULL;
}

/* @return 0 when every step started, else the failed step's -errno. */
static int
start_all(struct dpf_app *app)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < RTE_DIM(steps) && rc == 0; i++) {
		rc = steps[i](app);
		mark(app, "start step", (int)i);
	}
	return rc;
}

/* ---------------------------------------------------------------- running */

static void
report_start(struct dpf_app *app)
{
	struct dpf_numa_poll polls[DPF_MAX_RX_CORES * DPF_MAX_PORTS];
	char line[64 + DPF_MAX_PORTS * 24];
	struct dpf_wall_stats w;
	unsigned int n_polls = 0;
	unsigned int pl = dpf_dataplane_pipeline_lcore(app->dp);
	uint16_t c, q;

	for (c = 0; c < rx_cores(app); c++) {
		struct dpf_rx_core_info ci;
		int n = 0;

		dpf_dataplane_core_info(app->dp, c, &ci);
		line[0] = '\0';
		for (q = 0; q < ci.n_rxq; q++) {
			n += snprintf(line + n, sizeof(line) - (size_t)n, " port %u queue %u",
				      ci.rxq[q].port, ci.rxq[q].queue);
			polls[n_polls].lcore = ci.lcore_id;
			polls[n_polls++].port = ci.rxq[q].port;
		}
		DPF_LOG(INFO, main, "lcore %u: RX%s\n", ci.lcore_id, line);
	}
	if (pl == RTE_MAX_LCORE)
		DPF_LOG(INFO, main, "lcore %u: pipeline (main lcore)\n", rte_get_main_lcore());
	else
		DPF_LOG(INFO, main, "lcore %u: pipeline\n", pl);
	dpf_ports_numa_report(app->ports, polls, n_polls);
	dpf_wall_calibrate(app->wall);
	dpf_wall_stats_get(app->wall, &w);
	if (clock_of(app) == DPF_CLOCK_WALL && w.disciplined)
		DPF_LOG(INFO, main,
			"clock: TSC %.6f MHz measured, EAL says %.6f MHz (%+.0f ppm); "
			"kept on CLOCK_REALTIME\n",
			(double)w.disc.tsc_hz / 1e6, (double)w.tsc_hz_eal / 1e6,
			((double)w.tsc_hz_eal / (double)w.disc.tsc_hz - 1) * 1e6);
	DPF_LOG(INFO, main, "window %" PRIu64 " s, %s clock, output %s\n", opts(app)->window,
		clock_of(app) == DPF_CLOCK_PACKET ? "packet" : "wall", opts(app)->output);
}

/*
 * The replay's two phase marks (doc/performance.md, "Side by side"): when it
 * read the file's last packet, and when the RX cores had received every
 * packet it sent; what follows is the last window's merge and write.
 * *marks counts those already printed.
 */
static void
mark_source(const struct dpf_app *app, uint64_t rx, unsigned int *marks)
{
	struct dpf_replay_stats st;

	if (*marks == 2 || app->replay == NULL || !DPF_LOG_ENABLED(DEBUG, main) ||
	    !__atomic_load_n(&dpf_replay_source(app->replay)->done, __ATOMIC_ACQUIRE))
		return;
	if (*marks == 0) {
		mark(app, "replay read every packet", -1);
		*marks = 1;
	}
	dpf_replay_stats_get(app->replay, &st);
	if (rx >= st.enqueued) {
		mark(app, "every packet received", -1);
		*marks = 2;
	}
}

/* The main lcore's loop: the wall clock's samples, the pipeline when it has
 * no lcore of its own, --idle-exit, --stats-period. Ends when every window is
 * flushed to the writer. */
static void
run(struct dpf_app *app)
{
	uint64_t last_rx = 0, last_rx_change = dpf_wall_ns(app->wall);
	const struct dpf_options *o = opts(app);
	bool own_pipeline = dpf_dataplane_pipeline_lcore(app->dp) == RTE_MAX_LCORE;
	uint64_t next_stats = last_rx_change + o->stats_period * NS_PER_SEC;
	bool done = false;
	unsigned int src_marks = 0;

	while (!done) {
		uint64_t now, rx;

		dpf_wall_poll(app->wall);
		now = dpf_wall_ns(app->wall);
		/* Before the pipeline's poll, which merges and hands out the
		 * windows the RX cores retired. */
		mark_source(app, dpf_dataplane_rx_total(app->dp), &src_marks);
		if (own_pipeline)
			done = dpf_pipeline_poll(app->pipeline);
		else
			done = dpf_pipeline_done(app->pipeline);
		rx = dpf_dataplane_rx_total(app->dp);
		if (rx != last_rx) {
			last_rx = rx;
			last_rx_change = now;
		} else if (o->idle_exit != 0 && !dpf_run_stopping(&app->run) &&
			   now - last_rx_change >= o->idle_exit * NS_PER_SEC) {
			DPF_LOG(NOTICE, main, "no packet for %" PRIu64 " s: flushing and exiting\n",
				o->idle_exit);
			dpf_run_set_stopping(&app->run, true);
		}
		dpf_ctl_watch_losses(app->ctl, done);
		if (o->stats_period != 0 && now >= next_stats) {
			dpf_ctl_progress(app->ctl);
			next_stats = now + o->stats_period * NS_PER_SEC;
		}
		if (!done)
			usleep(200);
	}
	/* The pipeline may end between two looks at the source: once it is
	 * done the RX cores have received every packet, so the mark is due now
	 * (before "every window flushed") if it was not printed yet. */
	mark_source(app, dpf_dataplane_rx_total(app->dp), &src_marks);
}

static void *
run_thread(void *arg)
{
	struct dpf_app *app = arg;

	run(app);
	return NULL;
}

/* With -i or --cmdline-file the prompt owns the main thread; the run loop moves aside. */
static void
run_with_prompt(struct dpf_app *app)
{
	pthread_t tid;

	if (pthread_create(&tid, NULL, run_thread, app) != 0) {
		DPF_LOG(ERR, main, "cannot start the run loop\n");
		dpf_run_set_stopping(&app->run, true);
		run(app);
		return;
	}
	dpf_cli_run(app->cli, app->ctl, opts(app)->interactive);
	/* Without -i the file ran first; then the run goes on as usual. */
	if (opts(app)->interactive)
		dpf_run_set_stopping(&app->run, true);
	pthread_join(tid, NULL);
}

/* Launch, run until the stop, wait for every thread. @return the exit status */
static int
run_all(struct dpf_app *app)
{
	unsigned int pl = dpf_dataplane_pipeline_lcore(app->dp);
	const struct dpf_ports_settled *ps = dpf_ports_settled(app->ports);
	bool ok, lost;

	report_start(app);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dpf_dataplane_launch(app->dp);
	if (pl != RTE_MAX_LCORE)
		rte_eal_remote_launch(dpf_pipeline_lcore_main, app->pipeline, pl);
	if (app->replay != NULL && dpf_replay_start(app->replay, dpf_ports_replay_pool(app->ports),
						    (uint16_t)ps->replay_port, ps->ts_offset,
						    ps->ts_flag, ps->replay_frame_room) < 0)
		dpf_run_set_stopping(&app->run, true);
	if (dpf_ctl_telemetry_register(app->ctl) < 0)
		DPF_LOG(WARNING, main, "telemetry commands not registered\n");
	if (opts(app)->interactive || opts(app)->cmdline_file != NULL)
		run_with_prompt(app);
	else
		run(app);
	mark(app, "every window flushed", -1);
	rte_eal_mp_wait_lcore();
	if (app->replay != NULL)
		dpf_replay_join(app->replay);
	dpf_writer_join(app->writer);
	mark(app, "files published", -1);
	fflush(stdout);
	/* The summary's last lines are the conservation check. */
	ok = dpf_ctl_summary(app->ctl, stderr);
	(void)ok;
	lost = opts(app)->exit_status_on_loss != 0 && dpf_ctl_lost(app->ctl);
	/* doc/reliability.md: a signal stops any run within 2 s. */
	if (app->run.stop_mono_ns != 0)
		DPF_LOG(NOTICE, main, "stopped %.3f s after the signal\n",
			(double)(dpf_mono_ns() - app->run.stop_mono_ns) / 1e9);
	if (dpf_run_output_failed(&app->run) ||
	    (app->replay != NULL && dpf_replay_failed(app->replay)))
		return EXIT_FAILURE;
	return lost ? DPF_EXIT_LOSS : EXIT_SUCCESS;
}

/* Driver profiles may add devargs to --vdev arguments (default_devargs,
 * doc/drivers-cfg.md): EAL must see them, so before it starts. */
static int
start_eal(struct dpf_app *app, int argc, char **argv, char ***eal_argv)
{
	char dir[PATH_MAX];
	int ret;

	app->drivers = dpf_drivers_create();
	if (app->drivers == NULL ||
	    dpf_drivers_vdev_defaults(app->drivers,
				      dpf_config_peek(argc, argv, "drivers-cfg", dir, sizeof(dir)),
				      argc, argv, eal_argv) < 0) {
		DPF_LOG(ERR, main, "out of memory\n");
		dpf_drivers_free(app->drivers);
		app->drivers = NULL;
		return -ENOMEM;
	}
	ret = rte_eal_init(argc, *eal_argv);
	if (ret < 0) {
		DPF_LOG(ERR, main, "EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		dpf_drivers_free(app->drivers);
		app->drivers = NULL;
		return -rte_errno;
	}
	return ret;
}

int
main(int argc, char **argv)
{
	static struct dpf_app app;
	int ret, status = EXIT_FAILURE;

	app.main_ns = dpf_mono_ns();
	/* Before anything logs: stderr, not EAL's stdout (records go there). */
	dpf_log_init();
	switch (dpf_config_early(argc, argv)) {
	case DPF_CONFIG_HELP:
		dpf_config_usage(stdout, argv[0]);
		return EXIT_SUCCESS;
	case DPF_CONFIG_VERSION:
		printf("dpflow %s (%s)\n", DPF_VERSION, rte_version());
		return EXIT_SUCCESS;
	case DPF_CONFIG_RUN:
		break;
	}
	ret = start_eal(&app, argc, argv, &argv);
	if (ret < 0)
		return EXIT_FAILURE;
	/* EAL took its own arguments: ours follow. */
	argc -= ret;
	argv += ret;
	sig_app = &app;
	/* Early, so that a reload during start-up does not kill the process
	 * (SIGHUP's default action); the writer acts on it once it runs. */
	signal(SIGHUP, on_sighup);
	ret = dpf_config_parse(argc, argv, &app.cfg);
	if (ret != 0) {
		status = ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
		goto stop_eal;
	}
	mark(&app, "EAL started, options read", -1);
	dpf_run_set_polling(&app.run, true);
	if (start_all(&app) == 0) {
		status = run_all(&app);
		leave_memory_to_exit(&app);
	}
	stop_all(&app);
	mark(&app, "stopped", -1);
	dpf_config_free(app.cfg);
stop_eal:
	rte_eal_cleanup();
	dpf_drivers_free(app.drivers);
	return status;
}
