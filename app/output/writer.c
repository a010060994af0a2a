/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer thread (output.h): takes the pipeline's record batches and
 * hands each row to every exporter, then the batch back to the pipeline.
 * It never runs on an RX core, and no exporter makes an RX core wait: when
 * the writer falls behind, the pipeline waits (and RX cores count what they
 * cannot keep, with the wall clock).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "log.h"
#include "output.h"
#include "dpf_util.h"

struct exporter {
	const struct dpf_exporter_ops *ops;
	void *ctx;
};

struct dpf_writer {
	struct dpf_batchq *in;
	struct dpf_run *run;
	uint64_t test_delay_ms;
	struct exporter ex[DPF_MAX_EXPORTERS];
	unsigned int n;
	pthread_t tid;
	bool started;
	bool done; /* the stop batch is handled (release / acquire) */
};

struct dpf_writer *
dpf_writer_create(const struct dpf_writer_params *p)
{
	struct dpf_writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return dpf_null_errno(ENOMEM);
	w->in = p->in;
	w->run = p->run;
	w->test_delay_ms = p->test_delay_ms;
	return w;
}

int
dpf_writer_add(struct dpf_writer *w, const struct dpf_exporter_ops *ops, void *ctx)
{
	if (w->n == DPF_MAX_EXPORTERS) {
		if (ops->free != NULL)
			ops->free(ctx);
		return -ENOSPC;
	}
	w->ex[w->n].ops = ops;
	w->ex[w->n].ctx = ctx;
	w->n++;
	return 0;
}

/* Test knob --test-writer-delay: a slow disk, until a stop is asked for. */
static void
test_delay(const struct dpf_writer *w)
{
	uint64_t end = dpf_mono_ms() + w->test_delay_ms;

	while (!dpf_run_stopping(w->run) && dpf_mono_ms() < end)
		usleep(1000);
}

void
dpf_writer_published(struct dpf_writer *w, const char *path)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (w->ex[i].ops->file_published != NULL)
			w->ex[i].ops->file_published(w->ex[i].ctx, path);
}

/*
 * The rows of a batch to an exporter that does not take segments: the runs
 * between them (segments are rare: flows cut inside a window for connection
 * records; usually this is one call).
 */
static void
rows_without_segments(const struct exporter *e, const struct dpf_batch *b)
{
	uint32_t i = 0, j;

	while (i < b->n) {
		for (j = i; j < b->n && b->recs[j].log_status != DPF_LOG_SEGMENT; j++)
			;
		if (j > i)
			e->ops->rows(e->ctx, b->recs + i, j - i);
		for (i = j; i < b->n && b->recs[i].log_status == DPF_LOG_SEGMENT; i++)
			;
	}
}

/* One batch to every exporter. */
static void
fan_out(struct dpf_writer *w, const struct dpf_batch *b)
{
	unsigned int i;

	for (i = 0; i < w->n; i++) {
		const struct exporter *e = &w->ex[i];

		if (e->ops->rows != NULL && b->n > 0 && e->ops->segments)
			e->ops->rows(e->ctx, b->recs, b->n);
		else if (e->ops->rows != NULL && b->n > 0)
			rows_without_segments(e, b);
		if (e->ops->window_end != NULL && b->type == DPF_BATCH_WINDOW_END)
			e->ops->window_end(e->ctx, b->window_end);
	}
}

/* Idle, and SIGHUP (log rotation): the exporters retry and publish. */
static void
between_batches(struct dpf_writer *w, bool idle)
{
	bool rotate = __atomic_exchange_n(&w->run->rotate, false, __ATOMIC_RELAXED);
	unsigned int i;

	for (i = 0; i < w->n; i++) {
		const struct exporter *e = &w->ex[i];

		if (rotate && e->ops->rotate != NULL)
			e->ops->rotate(e->ctx);
		if (idle && e->ops->idle != NULL)
			e->ops->idle(e->ctx);
	}
}

static void *
writer_main(void *arg)
{
	struct dpf_writer *w = arg;
	unsigned int i;

	for (;;) {
		struct dpf_batch *b;
		uint32_t type;

		between_batches(w, false);
		b = dpf_batchq_take(w->in, DPF_BATCHQ_FULL);
		if (b == NULL) {
			between_batches(w, true);
			usleep(100);
			continue;
		}
		if (w->test_delay_ms != 0)
			test_delay(w);
		type = b->type;
		fan_out(w, b);
		dpf_batchq_put(w->in, DPF_BATCHQ_EMPTY, b);
		if (type == DPF_BATCH_STOP)
			break;
	}
	/* Every exporter publishes what it finishes at stop before any stops:
	 * S3, added later, still uploads what an earlier one publishes here. */
	for (i = 0; i < w->n; i++)
		if (w->ex[i].ops->finish != NULL)
			w->ex[i].ops->finish(w->ex[i].ctx);
	/* Reverse order: an exporter added after another may feed it (output.h). */
	for (i = w->n; i-- > 0;)
		if (w->ex[i].ops->stop != NULL && w->ex[i].ops->stop(w->ex[i].ctx) < 0)
			dpf_run_set_output_failed(w->run, true);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

int
dpf_writer_start(struct dpf_writer *w)
{
	int rc = rte_ctrl_thread_create(&w->tid, "dpf-writer", NULL, writer_main, w);

	if (rc != 0) {
		DPF_LOG(ERR, output, "writer thread: %s\n", strerror(rc));
		return -rc;
	}
	w->started = true;
	return 0;
}

void
dpf_writer_join(struct dpf_writer *w)
{
	if (w == NULL || !w->started)
		return;
	pthread_join(w->tid, NULL);
	w->started = false;
}

bool
dpf_writer_done(const struct dpf_writer *w)
{
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

unsigned int
dpf_writer_counters(struct dpf_writer *w, struct dpf_export_counters *out, unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < w->n && n < max; i++) {
		if (w->ex[i].ops->counters == NULL)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].prefix = w->ex[i].ops->name;
		w->ex[i].ops->counters(w->ex[i].ctx, &out[n]);
		n++;
	}
	return n;
}

void
dpf_writer_free(struct dpf_writer *w)
{
	unsigned int i;

	if (w == NULL)
		return;
	for (i = w->n; i-- > 0;)
		if (w->ex[i].ops->free != NULL)
			w->ex[i].ops->free(w->ex[i].ctx);
	free(w);
}
