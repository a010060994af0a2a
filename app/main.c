/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpflow [EAL options] -- [options]
 *
 * Start-up order: EAL, options, format, ports, RX cores, pipeline, writer,
 * then the replay source. Stop (end of replay, --idle-exit, SIGINT, SIGTERM):
 * RX cores retire their open window, the pipeline flushes every window, the
 * writer publishes its files, then the counters are printed.
 */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "cli.h"
#include "dpflow.h"
#include "drivers.h"
#include "log.h"

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
on_signal(int sig)
{
	(void)sig;
	/* clock_gettime is async-signal-safe; the first signal times the stop. */
	if (__atomic_load_n(&dpf_app.run.stop_mono_ns, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&dpf_app.run.stop_mono_ns, mono_ns(), __ATOMIC_RELAXED);
	dpf_run_stop(&dpf_app.run);
}

/* Log rotation: the writer thread publishes the open files and goes on. */
static void
on_sighup(int sig)
{
	(void)sig;
	__atomic_store_n(&dpf_app.run.rotate, true, __ATOMIC_RELAXED);
}

/* The writer and its exporters; S3 checks its bucket here, so a refused
 * bucket stops dpflow before any packet. */
static int
setup_output(struct dpf_app *app)
{
	struct dpf_writer_params wp = {
		.in = app->batches,
		.run = &app->run,
		.test_delay_ms = app->opt->test_writer_delay,
	};
	struct dpf_export_file_params fp = {
		.opt = app->opt,
		.fmt_ctx = &app->fmt_ctx,
		.run = &app->run,
	};

	app->writer = dpf_writer_create(&wp);
	if (app->writer == NULL)
		return -ENOMEM;
	if (dpf_export_store_add(app->writer, app->store) < 0 ||
	    dpf_export_ipfix_add(app->writer, app->opt, &app->fmt_ctx) < 0 ||
	    dpf_export_s3_add(app->writer, app->opt) < 0)
		return -EINVAL;
	/* Last: its stop publishes the files S3 then uploads (output.h). */
	app->file = dpf_export_file_add(app->writer, &fp);
	if (app->file == NULL)
		return -rte_errno;
	return dpf_writer_start(app->writer);
}

static int
assign_lcores(struct dpf_app *app)
{
	unsigned int workers = rte_lcore_count() - 1;
	unsigned int lcore, i;

	app->n_cores = (uint16_t)app->opt->rxq;
	if (workers < app->n_cores) {
		DPF_LOG(ERR, main,
			"--rxq %u needs %u worker lcores besides the main lcore, EAL gave "
			"%u; add lcores with -l or --lcores\n",
			app->n_cores, app->n_cores, workers);
		return -EINVAL;
	}
	app->pipeline_lcore = RTE_MAX_LCORE;
	if (workers > app->n_cores) {
		lcore = rte_get_next_lcore(-1, 1, 0);
		for (i = 0; i < app->n_cores; i++)
			lcore = rte_get_next_lcore(lcore, 1, 0);
		app->pipeline_lcore = lcore;
	}
	return 0;
}

static void
print_lcores(const struct dpf_app *app)
{
	char line[64 + DPF_MAX_PORTS * 24];
	uint16_t c, q;
	int n;

	for (c = 0; c < app->n_cores; c++) {
		n = 0;
		for (q = 0; q < app->cores[c].n_rxq; q++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " port %u queue %u",
				      app->cores[c].rxq[q].port, app->cores[c].rxq[q].queue);
		DPF_LOG(INFO, main, "lcore %u: RX%s\n", app->cores[c].lcore_id, line);
	}
	if (app->pipeline_lcore == RTE_MAX_LCORE)
		DPF_LOG(INFO, main, "lcore %u: pipeline (main lcore)\n", rte_get_main_lcore());
	else
		DPF_LOG(INFO, main, "lcore %u: pipeline\n", app->pipeline_lcore);
}

static void
run(struct dpf_app *app)
{
	uint64_t last_rx = 0, last_rx_change = dpf_wall_ns(app->wall);
	uint64_t next_stats = last_rx_change + app->opt->stats_period * 1000000000ull;
	bool done = false;

	while (!done) {
		uint64_t now, rx;

		dpf_wall_poll(app->wall);
		now = dpf_wall_ns(app->wall);

		if (app->pipeline_lcore == RTE_MAX_LCORE)
			done = dpf_pipeline_poll(app->pipeline);
		else
			done = dpf_pipeline_done(app->pipeline);
		rx = dpf_stats_rx_total(app);
		if (rx != last_rx) {
			last_rx = rx;
			last_rx_change = now;
		} else if (app->opt->idle_exit != 0 && !dpf_run_stopping(&app->run) &&
			   now - last_rx_change >= app->opt->idle_exit * 1000000000ull) {
			DPF_LOG(NOTICE, main, "no packet for %" PRIu64 " s: flushing and exiting\n",
				app->opt->idle_exit);
			dpf_run_stop(&app->run);
		}
		if (app->opt->stats_period != 0 && now >= next_stats) {
			dpf_stats_line(app);
			next_stats = now + app->opt->stats_period * 1000000000ull;
		}
		if (!done)
			usleep(200);
	}
}

static void *
run_thread(void *arg)
{
	struct dpf_app *app = arg;

	run(app);
	__atomic_store_n(&app->run_done, true, __ATOMIC_RELEASE);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct dpf_app *app = &dpf_app;
	uint16_t c;
	int ret, status = EXIT_FAILURE;

	/* Before anything logs: stderr, not EAL's stdout (records go there). */
	dpf_log_init();
	/* Driver profiles may add devargs to --vdev arguments (default_devargs,
	 * doc/drivers-cfg.md): EAL must see them, so before it starts. */
	{
		char dir[PATH_MAX];
		char **eal_argv;

		if (dpf_drivers_vdev_defaults(dpf_config_peek(argc, argv, "drivers-cfg", dir,
							       sizeof(dir)),
					      argc, argv, &eal_argv) < 0) {
			DPF_LOG(ERR, main, "out of memory\n");
			return EXIT_FAILURE;
		}
		argv = eal_argv;
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		DPF_LOG(ERR, main, "EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		dpf_drivers_vdev_free();
		return EXIT_FAILURE;
	}
	argc -= ret;
	argv += ret;
	/* Early, so that a reload during start-up does not kill the process
	 * (SIGHUP's default action); the writer acts on it once it runs. */
	signal(SIGHUP, on_sighup);

	ret = dpf_config_parse(argc, argv, &app->cfg);
	if (ret != 0) {
		status = ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
		goto cleanup_eal;
	}
	app->opt = dpf_config_options(app->cfg);
	app->clock = (enum dpf_clock)app->opt->clock;
	app->plan = dpf_window_plan_create((uint32_t)app->opt->window);
	app->wall = dpf_wall_create();
	if (app->plan == NULL || app->wall == NULL) {
		DPF_LOG(ERR, main, "out of memory\n");
		goto cleanup_opts;
	}
	app->start_ns = dpf_wall_ns(app->wall);
	{
		struct dpf_timecheck_params tp = {
			.max_gap_sec = app->opt->max_time_gap,
			.now_ns = app->start_ns,
			.plan = app->plan,
		};

		app->tc = dpf_timecheck_create(&tp);
		if (app->tc == NULL) {
			DPF_LOG(ERR, main, "out of memory\n");
			goto cleanup_opts;
		}
	}
	app->source.cut_window = DPF_WINDOW_NONE;

	if (assign_lcores(app) < 0)
		goto cleanup_opts;
	if (app->opt->cmdline_file != NULL && dpf_cli_load(app->opt->cmdline_file) < 0)
		goto cleanup_opts;
	dpf_run_set_polling(&app->run, true);
	app->interactive = app->opt->interactive || app->opt->cmdline_file != NULL;
	app->fmt_show = dpf_fmt_parse(app->opt->log_format, NULL, 0);
	app->store = dpf_store_create((uint32_t)app->opt->flow_store);
	if (app->fmt_show == NULL || app->store == NULL) {
		DPF_LOG(ERR, main, "out of memory\n");
		goto cleanup_opts;
	}
	if (app->opt->replay != NULL && dpf_replay_open(app) < 0)
		goto cleanup_opts;
	if (dpf_ports_init(app) < 0)
		goto cleanup_ports;
	/* Packet time comes from a file (replay, net_pcap rx_pcap): there is no
	 * line rate to keep up with, so RX cores wait for free tables instead of
	 * losing records. With the wall clock they never wait. */
	app->offline = app->clock == DPF_CLOCK_PACKET;
	{
		struct dpf_rules_params rp = {
			.nat_rules = &app->opt->nat_rules,
			.acl_rules = &app->opt->acl_rules,
			.acl_default = (uint8_t)app->opt->acl_default,
			.acl_stateful = app->opt->acl_stateful != 0,
			.forward = app->forward,
			.n_readers = app->n_cores,
			.socket_id = (int)rte_socket_id(),
		};

		app->rules = dpf_rules_create(&rp);
		if (app->rules == NULL)
			goto cleanup_rules;
	}
	app->fmt_ctx.ifaces = app->ifmap->metas;
	app->fmt_ctx.n_ifaces = app->ifmap->n_ifaces;
	app->batches = dpf_batchq_create(64, (int)rte_socket_id());
	if (app->batches == NULL) {
		DPF_LOG(ERR, main, "record batches: %s\n", rte_strerror(rte_errno));
		goto cleanup_rules;
	}
	if (dpf_rx_setup(app) < 0)
		goto cleanup_rules;
	{
		struct dpf_pipeline_params pp = {
			.in = &app->handoffs,
			.n_ifaces = app->ifmap->n_ifaces,
			.max_flows = (uint32_t)RTE_MIN((uint64_t)UINT32_MAX,
						       app->opt->flows_per_core * app->n_cores),
			.socket_id = (int)rte_socket_id(),
			.clock = app->clock,
			.plan = app->plan,
			.wall = app->wall,
			.rules = app->rules,
			.ifmap = app->ifmap,
			.source = &app->source,
			.out = app->batches,
			.run = &app->run,
		};

		app->pipeline = dpf_pipeline_create(&pp);
		if (app->pipeline == NULL)
			goto cleanup_rules;
	}
	if (setup_output(app) < 0)
		goto cleanup_export;
	print_lcores(app);
	dpf_numa_report(app);
	dpf_wall_calibrate(app->wall);
	{
		struct dpf_wall_stats w;

		dpf_wall_stats_get(app->wall, &w);
		if (app->clock == DPF_CLOCK_WALL && w.disciplined)
			DPF_LOG(INFO, main,
				"clock: TSC %.6f MHz measured, EAL says %.6f MHz (%+.0f ppm); "
				"kept on CLOCK_REALTIME\n",
				(double)w.disc.tsc_hz / 1e6, (double)w.tsc_hz_eal / 1e6,
				((double)w.tsc_hz_eal / (double)w.disc.tsc_hz - 1) * 1e6);
	}
	DPF_LOG(INFO, main, "window %" PRIu64 " s, %s clock, output %s\n",
		app->opt->window, app->clock == DPF_CLOCK_PACKET ? "packet" : "wall",
		app->opt->output);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (c = 0; c < app->n_cores; c++)
		rte_eal_remote_launch(dpf_rx_lcore_main, &app->cores[c], app->cores[c].lcore_id);
	if (app->pipeline_lcore != RTE_MAX_LCORE)
		rte_eal_remote_launch(dpf_pipeline_lcore_main, app->pipeline, app->pipeline_lcore);
	if (app->opt->replay != NULL && dpf_replay_start(app) < 0) {
		/* No replay thread to say so: RX cores wait for it to end. */
		__atomic_store_n(&app->source.done, true, __ATOMIC_RELEASE);
		dpf_run_stop(&app->run);
	}

	if (dpf_telemetry_register(app) < 0)
		DPF_LOG(WARNING, main, "telemetry commands not registered\n");
	if (app->interactive) {
		pthread_t tid;

		/* The prompt owns the main thread; the run loop moves aside. */
		if (pthread_create(&tid, NULL, run_thread, app) != 0) {
			DPF_LOG(ERR, main, "cannot start the run loop\n");
			dpf_run_stop(&app->run);
		} else {
			dpf_cli_run(app, app->opt->interactive);
			/* Without -i the file ran first; then the run goes on as usual. */
			if (app->opt->interactive)
				dpf_run_stop(&app->run);
			pthread_join(tid, NULL);
		}
	} else {
		run(app);
	}
	rte_eal_mp_wait_lcore();
	dpf_replay_join(app);
	dpf_writer_join(app->writer);
	fflush(stdout);
	/* Before the summary, whose last lines are the conservation check. */
	dpf_stats_exporters_print(stderr, app, false);
	dpf_stats_print(stderr, app, true);
	status = (dpf_run_output_failed(&app->run) || dpf_replay_failed()) ? EXIT_FAILURE : EXIT_SUCCESS;
	/* doc/reliability.md: a signal stops any run within 2 s. */
	if (app->run.stop_mono_ns != 0)
		DPF_LOG(NOTICE, main, "stopped %.3f s after the signal\n",
			(double)(mono_ns() - app->run.stop_mono_ns) / 1e9);

cleanup_export:
	dpf_writer_free(app->writer);
cleanup_rules:
	dpf_pipeline_free(app->pipeline);
	dpf_rules_free(app->rules);
	dpf_nat_icmp_free(app->nat_icmp);
	rte_free(app->rss);
cleanup_ports:
	dpf_ports_close(app);
cleanup_opts:
	dpf_batchq_free(app->batches);
	dpf_fmt_free(app->fmt_show);
	dpf_store_free(app->store);
	dpf_ifmap_free(app->ifmap);
	dpf_timecheck_free(app->tc);
	dpf_wall_free(app->wall);
	dpf_window_plan_free(app->plan);
	dpf_config_free(app->cfg);
	dpf_cli_unload();
cleanup_eal:
	rte_eal_cleanup();
	dpf_drivers_vdev_free();
	return status;
}
