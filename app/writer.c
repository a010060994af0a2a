/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writer thread: formats record batches and hands the lines to the sink
 * (stdout, or files in the AWS object layout). It never runs on an RX core.
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

static struct {
	struct dpf_exporter exporters[DPF_MAX_EXPORTERS];
	unsigned int n_exporters;
	pthread_t tid;
	struct dpf_sink *sink;
	struct dpf_sink_stats carried; /* counters of sinks replaced by a format change */
	bool carried_valid;
	uint64_t format_errors;
	uint64_t write_errors;
	int last_errno;
} wr;

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
		fprintf(stderr, "dpflow: writer: publishing files before a format change failed\n");
	dpf_sink_get_stats(wr.sink, &wr.carried);
	wr.carried_valid = true;
	dpf_sink_free(wr.sink);
	app->fmt = next;
	if (open_sink(app) < 0) {
		fprintf(stderr, "dpflow: writer: cannot reopen the output after a format change\n");
		app->writer_failed = true;
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
		if (rc < 0) {
			if (rc != wr.last_errno)
				fprintf(stderr, "dpflow: writer: %s\n", strerror(-rc));
			wr.last_errno = rc;
			wr.write_errors++;
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
	}
	app->sstats = st;
}

/* SIGHUP (log rotation): publish every open file now; later lines open new ones. */
static void
rotate_if_requested(struct dpf_app *app)
{
	struct dpf_sink_stats before, after;
	int rc;

	if (!__atomic_exchange_n(&app->rotate_requested, false, __ATOMIC_ACQ_REL))
		return;
	dpf_sink_get_stats(wr.sink, &before);
	rc = dpf_sink_rotate(wr.sink);
	dpf_sink_get_stats(wr.sink, &after);
	if (rc < 0)
		fprintf(stderr, "dpflow: SIGHUP: publishing the open files: %s\n", strerror(-rc));
	if (strcmp(app->cfg.opt.output, "-") == 0)
		fprintf(stderr, "dpflow: SIGHUP: output flushed\n");
	else
		fprintf(stderr,
			"dpflow: SIGHUP: open files published: %" PRIu64 "; new ones follow\n",
			after.files_published - before.files_published);
	/* The progress line shows the rotation at once, not after the next batch. */
	sink_stats(app);
}

static void *
writer_main(void *arg)
{
	struct dpf_app *app = arg;

	for (;;) {
		void *p;
		struct dpf_batch *b;
		uint32_t type;
		unsigned int i;
		int rc;

		rotate_if_requested(app);
		if (rte_ring_sc_dequeue(app->batch_full, &p) != 0) {
			usleep(100);
			continue;
		}
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
			if (rc < 0)
				fprintf(stderr, "dpflow: writer: publishing files: %s\n",
					strerror(-rc));
			switch_format(app);
		}
		rte_ring_sp_enqueue(app->batch_free, b);
		/* For the progress line; a torn read there is harmless. */
		sink_stats(app);
		if (type == DPF_BATCH_STOP)
			break;
	}
	if (dpf_sink_close_all(wr.sink) < 0)
		fprintf(stderr, "dpflow: writer: publishing the last files failed\n");
	for (unsigned int i = 0; i < wr.n_exporters; i++)
		if (wr.exporters[i].stop != NULL)
			wr.exporters[i].stop(wr.exporters[i].ctx);
	sink_stats(app);
	app->sstats.write_errors += wr.write_errors;
	if (wr.write_errors || wr.format_errors)
		app->writer_failed = true;
	__atomic_store_n(&app->writer_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static int
open_sink(struct dpf_app *app)
{
	const struct dpf_options *o = &app->cfg.opt;
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
	}
	wr.sink = dpf_sink_create(&sp);
	if (wr.sink == NULL) {
		fprintf(stderr, "dpflow: --output %s: %s\n", o->output, strerror(rte_errno));
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
	rc = rte_ctrl_thread_create(&wr.tid, "dpf-writer", NULL, writer_main, app);
	if (rc != 0) {
		fprintf(stderr, "dpflow: writer thread: %s\n", strerror(rc));
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
