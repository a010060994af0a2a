/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writer thread: formats record batches and hands the lines to the sink
 * (stdout, or files in the AWS object layout). It never runs on an RX core.
 *
 * Output errors (doc/reliability.md): when the disk refuses something the
 * sink holds the output in memory (up to --hold-mb) and this thread retries
 * every RETRY_MS, logging one line when the output blocks, when records
 * start being lost, and when it is writable again. At stop it keeps retrying
 * for STOP_RETRY_MS, then counts what is still held as lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dpflow.h"
#include "log.h"

#define RETRY_MS 250
#define STOP_RETRY_MS 5000

static struct {
	struct dpf_exporter exporters[DPF_MAX_EXPORTERS];
	unsigned int n_exporters;
	pthread_t tid;
	struct dpf_sink *sink;
	struct dpf_sink_stats carried; /* counters of sinks replaced by a format change */
	bool carried_valid;
	uint64_t format_errors;
	int last_errno;              /* stream mode: last error logged */
	/* Files mode: output state as last logged. */
	int blocked_errno;
	uint64_t blocked_since_ms;
	uint64_t lost_at_block;      /* lines_lost when the outage began */
	bool loss_logged;
	uint64_t next_retry_ms;
	struct dpf_sink_recovery recovered;
} wr;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Retry a blocked output when due, and log its changes of state. */
static void
watch_output(struct dpf_app *app, bool force_retry)
{
	struct dpf_sink_stats st;
	const char *path;
	uint64_t now = mono_ms();
	int err = dpf_sink_blocked(wr.sink, &path);

	if (err != 0 && (force_retry || now >= wr.next_retry_ms)) {
		dpf_sink_retry(wr.sink);
		wr.next_retry_ms = now + RETRY_MS;
		err = dpf_sink_blocked(wr.sink, &path);
	}
	dpf_sink_get_stats(wr.sink, &st);
	if (err != wr.blocked_errno) {
		if (wr.blocked_errno == 0) {
			wr.blocked_since_ms = now;
			wr.lost_at_block = st.lines_lost;
			wr.loss_logged = false;
			DPF_LOG(WARNING, output,
				"output: %s: %s%s; holding records in memory (up to %" PRIu64
				" MB, --hold-mb) and retrying every %u ms\n",
				path, strerror(err),
				err == ELOOP ? " (a symbolic link: dpflow never follows one below "
					       "--output)"
					     : "",
				app->opt->hold_mb, RETRY_MS);
		} else if (err != 0) {
			DPF_LOG(WARNING, output, "output: still blocked: %s: %s\n", path,
				strerror(err));
		} else {
			DPF_LOG(NOTICE, output,
				"output: writable again after %.1f s; held records "
				"written, %" PRIu64 " lost meanwhile\n",
				(double)(now - wr.blocked_since_ms) / 1000.0,
				st.lines_lost - wr.lost_at_block);
		}
		wr.blocked_errno = err;
	}
	if (err != 0 && !wr.loss_logged && st.lines_lost > wr.lost_at_block) {
		DPF_LOG(WARNING, output,
			"output: %" PRIu64 " MB held, the --hold-mb limit: records "
			"are now counted as lost (writer lost-lines) until the output is "
			"writable\n",
			app->opt->hold_mb);
		wr.loss_logged = true;
	}
}

/* Test knob --test-writer-delay: a slow disk, until a stop is asked for. */
static void
test_delay(const struct dpf_app *app)
{
	uint64_t end = mono_ms() + app->opt->test_writer_delay;

	while (!dpf_run_stopping(&app->run) && mono_ms() < end)
		usleep(1000);
}

int
dpf_writer_add_exporter(const struct dpf_exporter *e)
{
	if (wr.n_exporters == DPF_MAX_EXPORTERS)
		return -ENOSPC;
	wr.exporters[wr.n_exporters++] = *e;
	return 0;
}

static void
on_publish(void *arg, const char *path)
{
	unsigned int i;

	(void)arg;
	for (i = 0; i < wr.n_exporters; i++)
		if (wr.exporters[i].file_published != NULL)
			wr.exporters[i].file_published(wr.exporters[i].ctx, path);
}

static int open_sink(struct dpf_app *app);

/* set log-format: publish what was written with the old format, start anew. */
static void
switch_format(struct dpf_app *app)
{
	struct dpf_fmt *next = __atomic_exchange_n(&app->fmt_next, NULL, __ATOMIC_ACQ_REL);
	struct dpf_fmt *old = app->fmt;

	if (next == NULL)
		return;
	if (dpf_sink_close_all(wr.sink) < 0)
		DPF_LOG(ERR, output, "writer: publishing files before a format change failed\n");
	dpf_sink_get_stats(wr.sink, &wr.carried);
	wr.carried_valid = true;
	dpf_sink_free(wr.sink);
	app->fmt = next;
	if (open_sink(app) < 0) {
		DPF_LOG(ERR, output, "writer: cannot reopen the output after a format change\n");
		dpf_run_set_output_failed(&app->run);
	}
	dpf_fmt_free(old);
}

static void
write_batch(struct dpf_app *app, const struct dpf_batch *b)
{
	char line[DPF_FMT_LINE_MAX];
	uint32_t i;

	for (i = 0; i < b->n; i++) {
		const struct dpf_record *r = &b->recs[i];
		int n = dpf_fmt_record(app->fmt, &app->fmt_ctx, r, line, sizeof(line));
		int rc;

		if (n < 0) {
			wr.format_errors++;
			continue;
		}
		rc = dpf_sink_write(wr.sink, r->end, line, (size_t)n);
		/* Files mode logs through watch_output(); the sink counts the loss. */
		if (rc < 0 && strcmp(app->opt->output, "-") == 0 && rc != wr.last_errno) {
			DPF_LOG(ERR, output, "writer: %s\n", strerror(-rc));
			wr.last_errno = rc;
		}
	}
}

static void
sink_stats(struct dpf_app *app)
{
	struct dpf_sink_stats st;

	dpf_sink_get_stats(wr.sink, &st);
	if (wr.carried_valid) {
		st.records += wr.carried.records;
		st.bytes += wr.carried.bytes;
		st.files_published += wr.carried.files_published;
		st.write_errors += wr.carried.write_errors;
		st.files_abandoned += wr.carried.files_abandoned;
		st.lines_lost += wr.carried.lines_lost;
	}
	app->sstats = st;
}

/* SIGHUP (log rotation): publish every open file now; later lines open new ones. */
static void
rotate_if_requested(struct dpf_app *app)
{
	struct dpf_sink_stats before, after;
	int rc;

	if (!__atomic_exchange_n(&app->run.rotate, false, __ATOMIC_RELAXED))
		return;
	dpf_sink_get_stats(wr.sink, &before);
	rc = dpf_sink_rotate(wr.sink);
	dpf_sink_get_stats(wr.sink, &after);
	if (rc < 0)
		DPF_LOG(ERR, output, "SIGHUP: publishing the open files: %s\n", strerror(-rc));
	if (strcmp(app->opt->output, "-") == 0)
		DPF_LOG(NOTICE, output, "SIGHUP: output flushed\n");
	else
		DPF_LOG(NOTICE, output,
			"SIGHUP: open files published: %" PRIu64 "; new ones follow\n",
			after.files_published - before.files_published);
	/* The progress line shows the rotation at once, not after the next batch. */
	sink_stats(app);
}

/* Stop: give a blocked output STOP_RETRY_MS more, then count what is held as lost. */
static void
finish_output(struct dpf_app *app)
{
	uint64_t deadline = mono_ms() + STOP_RETRY_MS;
	uint64_t n;

	watch_output(app, true);
	while (wr.blocked_errno != 0 && mono_ms() < deadline) {
		usleep(RETRY_MS * 1000);
		watch_output(app, true);
	}
	if (wr.blocked_errno == 0)
		return;
	n = dpf_sink_discard(wr.sink);
	DPF_LOG(ERR, output,
		"output: still blocked after %u s at stop: %" PRIu64
		" held records counted as lost\n",
		STOP_RETRY_MS / 1000, n);
}

static void *
writer_main(void *arg)
{
	struct dpf_app *app = arg;
	int last_rc;

	for (;;) {
		void *p;
		struct dpf_batch *b;
		uint32_t type;
		unsigned int i;
		int rc;

		rotate_if_requested(app);
		if (rte_ring_sc_dequeue(app->batch_full, &p) != 0) {
			watch_output(app, false);
			usleep(100);
			continue;
		}
		if (app->opt->test_writer_delay != 0)
			test_delay(app);
		b = p;
		type = b->type;
		write_batch(app, b);
		for (i = 0; i < wr.n_exporters; i++) {
			const struct dpf_exporter *e = &wr.exporters[i];

			if (e->rows != NULL && b->n > 0)
				e->rows(e->ctx, b->recs, b->n);
			if (e->window_end != NULL && type == DPF_BATCH_WINDOW_END)
				e->window_end(e->ctx, b->window_end);
		}
		if (app->store != NULL && b->n > 0)
			dpf_store_add(app->store, b->recs, b->n);
		if (type == DPF_BATCH_WINDOW_END && wr.sink != NULL) {
			rc = dpf_sink_close_before(wr.sink, b->window_end);
			/*
			 * A killed run then loses at most the open window: recovery
			 * keeps the lines written before the last flush. During a
			 * stop the files are published at its end anyway: the drain
			 * (many windows at once) skips the per-window syscalls.
			 */
			if (!dpf_run_stopping(&app->run) && dpf_sink_flush(wr.sink) < 0 && rc == 0)
				rc = -EIO;
			if (rc < 0)
				DPF_LOG(ERR, output,
					"output: a file was given up (%s); its records are "
					"counted as lost\n",
					strerror(-rc));
			switch_format(app);
		}
		watch_output(app, false);
		rte_ring_sp_enqueue(app->batch_free, b);
		/* For the progress line; a torn read there is harmless. */
		sink_stats(app);
		if (type == DPF_BATCH_STOP)
			break;
	}
	last_rc = dpf_sink_close_all(wr.sink);
	if (last_rc < 0)
		DPF_LOG(ERR, output,
			"output: publishing the last files failed (%s): their records are "
			"counted as lost\n",
			strerror(-last_rc));
	finish_output(app);
	for (unsigned int i = 0; i < wr.n_exporters; i++)
		if (wr.exporters[i].stop != NULL)
			wr.exporters[i].stop(wr.exporters[i].ctx);
	sink_stats(app);
	/* Records that never reached a published file fail the run. */
	if (app->sstats.lines_lost != 0 || wr.format_errors != 0)
		dpf_run_set_output_failed(&app->run);
	__atomic_store_n(&app->writer_done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Temporaries of a run that was killed: finish them (or clean) before writing. */
static void
recover_leftovers(const char *dir)
{
	struct dpf_sink_recovery *r = &wr.recovered;
	int rc = dpf_sink_recover(wr.sink, r);

	if (rc < 0)
		DPF_LOG(WARNING, output, "output: looking for leftovers in %s: %s\n", dir,
			strerror(-rc));
	if (r->files_finished != 0 || r->files_removed != 0)
		DPF_LOG(NOTICE, output,
			"output: leftovers of an earlier run in %s: %" PRIu64
			" finished (%" PRIu64 " records kept), %" PRIu64 " without records "
			"removed; %" PRIu64 " records of the window the kill cut short dropped "
			"(whole windows only)\n",
			dir, r->files_finished, r->lines_recovered, r->files_removed,
			r->lines_dropped);
	if (r->files_skipped != 0 || r->errors != 0)
		DPF_LOG(WARNING, output,
			"output: left alone in %s: %" PRIu64 " temporaries in use or not "
			"ours, %" PRIu64 " that could not be handled\n",
			dir, r->files_skipped, r->errors);
}

void
dpf_writer_stats_print(FILE *f)
{
	struct dpf_sink_stats st = {0};

	if (wr.sink != NULL)
		dpf_sink_get_stats(wr.sink, &st);
	else
		st = dpf_app.sstats;
	fprintf(f, "writer lost-lines: %" PRIu64 "\n", st.lines_lost);
	fprintf(f, "writer format-errors: %" PRIu64 "\n", wr.format_errors);
	fprintf(f, "writer files-abandoned: %" PRIu64 "\n", st.files_abandoned);
	fprintf(f, "writer outages: %" PRIu64 "\n", st.blocked_count);
	fprintf(f, "writer retries: %" PRIu64 "\n", st.retries);
	fprintf(f, "writer held-bytes-max: %" PRIu64 "\n", st.held_bytes_max);
	fprintf(f, "writer leftovers-finished: %" PRIu64 "\n", wr.recovered.files_finished);
	fprintf(f, "writer leftovers-records: %" PRIu64 "\n", wr.recovered.lines_recovered);
	fprintf(f, "writer leftovers-removed: %" PRIu64 "\n", wr.recovered.files_removed);
	fprintf(f, "writer leftovers-dropped: %" PRIu64 "\n", wr.recovered.lines_dropped);
}

static int
open_sink(struct dpf_app *app)
{
	const struct dpf_options *o = app->opt;
	struct dpf_sink_params sp;
	char header[DPF_FMT_LINE_MAX];
	int rc;

	rc = dpf_fmt_header(app->fmt, header, sizeof(header));
	if (rc < 0)
		return rc;
	memset(&sp, 0, sizeof(sp));
	sp.header = header;
	if (strcmp(o->output, "-") == 0) {
		sp.stream = stdout;
	} else {
		sp.dir = o->output;
		sp.compress = (enum dpf_compress)o->compress;
		sp.level = (int)o->compress_level;
		sp.account_id = o->account_id;
		sp.region = o->region != NULL ? o->region : "unknown";
		sp.flow_log_id = o->flow_log_id;
		sp.nonce = rte_rand();
		sp.on_publish = on_publish;
		sp.hold_bytes = o->hold_mb << 20;
	}
	wr.sink = dpf_sink_create(&sp);
	if (wr.sink == NULL) {
		DPF_LOG(ERR, output, "--output %s: %s\n", o->output, strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

int
dpf_writer_start(struct dpf_app *app)
{
	int rc = open_sink(app);

	if (rc < 0)
		return rc;
	if (strcmp(app->opt->output, "-") != 0)
		recover_leftovers(app->opt->output);
	rc = rte_ctrl_thread_create(&wr.tid, "dpf-writer", NULL, writer_main, app);
	if (rc != 0) {
		DPF_LOG(ERR, output, "writer thread: %s\n", strerror(rc));
		dpf_sink_free(wr.sink);
		wr.sink = NULL;
		return -rc;
	}
	return 0;
}

void
dpf_writer_join(struct dpf_app *app)
{
	(void)app;
	if (wr.sink == NULL)
		return;
	pthread_join(wr.tid, NULL);
	dpf_sink_free(wr.sink);
	wr.sink = NULL;
}
