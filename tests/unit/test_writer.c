/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer's fan-out (app/output/writer.c): every exporter gets every row
 * and every window end, a published file reaches every exporter, stop runs
 * in the reverse order of addition, and a stop that lost records fails the
 * run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch.h"
#include "dpf_test_eal.h"
#include "output.h"

/* What a fake exporter saw. */
struct fake {
	const char *name;
	uint64_t rows;
	uint64_t ok_rows;
	uint64_t window_ends[8];
	unsigned int n_window_ends;
	char published[4][64];
	unsigned int n_published;
	unsigned int rotations;
	int stop_rc;
	int stop_order; /* position among the stops, from 1 */
	bool freed;
	struct dpf_writer *w; /* publishes a file at each window end when set */
};

static int stops_seen;

static void
fake_rows(void *ctx, const struct dpf_record *recs, uint32_t n)
{
	struct fake *f = ctx;
	uint32_t i;

	f->rows += n;
	for (i = 0; i < n; i++)
		f->ok_rows += recs[i].log_status == DPF_LOG_OK;
}

static void
fake_window_end(void *ctx, uint64_t window_end)
{
	struct fake *f = ctx;
	char path[64];

	if (f->n_window_ends < 8)
		f->window_ends[f->n_window_ends++] = window_end;
	if (f->w != NULL) {
		snprintf(path, sizeof(path), "/out/%s-%llu", f->name,
			 (unsigned long long)window_end);
		dpf_writer_published(f->w, path);
	}
}

static void
fake_published(void *ctx, const char *path)
{
	struct fake *f = ctx;

	if (f->n_published < 4)
		snprintf(f->published[f->n_published++], sizeof(f->published[0]), "%s", path);
}

static void
fake_rotate(void *ctx)
{
	((struct fake *)ctx)->rotations++;
}

static int
fake_stop(void *ctx)
{
	struct fake *f = ctx;

	f->stop_order = ++stops_seen;
	return f->stop_rc;
}

static void
fake_counters(void *ctx, struct dpf_export_counters *c)
{
	struct fake *f = ctx;

	c->rows = f->rows;
	dpf_export_counter(c, "window-ends", f->n_window_ends);
}

static void
fake_free(void *ctx)
{
	((struct fake *)ctx)->freed = true;
}

static const struct dpf_exporter_ops fake_ops = {
	.name = "fake",
	.rows = fake_rows,
	.window_end = fake_window_end,
	.file_published = fake_published,
	.rotate = fake_rotate,
	.stop = fake_stop,
	.counters = fake_counters,
	.free = fake_free,
};

static void
send(struct dpf_batchq *q, uint32_t type, uint32_t n_rows, uint64_t window_end)
{
	struct dpf_batch *b;
	uint32_t i;

	while ((b = dpf_batchq_take(q, DPF_BATCHQ_EMPTY)) == NULL)
		usleep(100);
	memset(b->recs, 0, n_rows * sizeof(b->recs[0]));
	for (i = 0; i < n_rows; i++)
		b->recs[i].log_status = i == n_rows - 1 ? DPF_LOG_NODATA : DPF_LOG_OK;
	b->type = type;
	b->n = n_rows;
	b->window_end = window_end;
	dpf_batchq_put(q, DPF_BATCHQ_FULL, b);
}

static void
run_writer(struct fake *fakes, unsigned int n, struct dpf_run *run, bool rotate)
{
	struct dpf_batchq *q = dpf_batchq_create(4, 0);
	struct dpf_writer_params wp = {.in = q, .run = run};
	struct dpf_writer *w = dpf_writer_create(&wp);
	unsigned int i;

	assert_non_null(q);
	assert_non_null(w);
	stops_seen = 0;
	for (i = 0; i < n; i++) {
		if (fakes[i].w != NULL)
			fakes[i].w = w;
		assert_int_equal(dpf_writer_add(w, &fake_ops, &fakes[i]), 0);
	}
	if (rotate)
		__atomic_store_n(&run->rotate, true, __ATOMIC_RELAXED);
	assert_int_equal(dpf_writer_start(w), 0);
	/* More batches than the queue holds: the writer must give them back. */
	send(q, DPF_BATCH_RECORDS, 256, 0);
	send(q, DPF_BATCH_RECORDS, 100, 0);
	send(q, DPF_BATCH_WINDOW_END, 3, 1700000060);
	send(q, DPF_BATCH_RECORDS, 10, 0);
	send(q, DPF_BATCH_WINDOW_END, 0, 1700000120);
	send(q, DPF_BATCH_STOP, 0, 0);
	dpf_writer_join(w);
	assert_true(dpf_writer_done(w));
	{
		struct dpf_export_counters c[DPF_MAX_EXPORTERS];

		assert_int_equal(dpf_writer_counters(w, c, DPF_MAX_EXPORTERS), n);
		for (i = 0; i < n; i++) {
			assert_int_equal(c[i].rows, 369);
			assert_string_equal(c[i].prefix, "fake");
			assert_string_equal(c[i].name[0], "window-ends");
			assert_int_equal(c[i].value[0], 2);
		}
	}
	dpf_writer_free(w);
	dpf_batchq_free(q);
}

static void
test_writer_fans_every_row_and_window_end_out_to_every_exporter(void **state)
{
	struct fake f[3] = {{.name = "a"}, {.name = "b"}, {.name = "c"}};
	struct dpf_run run = {0};
	unsigned int i;

	(void)state;
	run_writer(f, 3, &run, false);
	for (i = 0; i < 3; i++) {
		assert_int_equal(f[i].rows, 256 + 100 + 3 + 10);
		/* The last row of each batch is a NODATA row: rows, not only records. */
		assert_int_equal(f[i].ok_rows, 255 + 99 + 2 + 9);
		assert_int_equal(f[i].n_window_ends, 2);
		assert_int_equal(f[i].window_ends[0], 1700000060);
		assert_int_equal(f[i].window_ends[1], 1700000120);
		assert_int_equal(f[i].rotations, 0);
		assert_true(f[i].freed);
	}
	assert_false(dpf_run_output_failed(&run));
}

static void
test_writer_stops_in_reverse_order_and_a_lossy_stop_fails_the_run(void **state)
{
	struct fake f[3] = {{.name = "first"}, {.name = "second", .stop_rc = -5}, {.name = "last"}};
	struct dpf_run run = {0};

	(void)state;
	run_writer(f, 3, &run, false);
	assert_int_equal(f[2].stop_order, 1);
	assert_int_equal(f[1].stop_order, 2);
	assert_int_equal(f[0].stop_order, 3);
	assert_true(dpf_run_output_failed(&run));
}

static void
test_writer_published_file_reaches_every_exporter(void **state)
{
	/* "files" publishes one file per window end, like the record files do. */
	struct fake f[2] = {{.name = "upload"}, {.name = "files", .w = (void *)1}};
	struct dpf_run run = {0};

	(void)state;
	run_writer(f, 2, &run, true);
	assert_int_equal(f[0].n_published, 2);
	assert_string_equal(f[0].published[0], "/out/files-1700000060");
	assert_string_equal(f[0].published[1], "/out/files-1700000120");
	/* The publisher hears of its own files too (its callback decides). */
	assert_int_equal(f[1].n_published, 2);
	/* SIGHUP before the first batch: every exporter rotated, once. */
	assert_int_equal(f[0].rotations, 1);
	assert_int_equal(f[1].rotations, 1);
	assert_false(__atomic_load_n(&run.rotate, __ATOMIC_RELAXED));
}

static void
test_writer_add_beyond_the_limit_frees_the_exporter(void **state)
{
	struct fake f[DPF_MAX_EXPORTERS + 1];
	struct dpf_run run = {0};
	struct dpf_writer_params wp = {.in = NULL, .run = &run};
	struct dpf_writer *w = dpf_writer_create(&wp);
	unsigned int i;

	(void)state;
	memset(f, 0, sizeof(f));
	for (i = 0; i < DPF_MAX_EXPORTERS; i++)
		assert_int_equal(dpf_writer_add(w, &fake_ops, &f[i]), 0);
	assert_int_equal(dpf_writer_add(w, &fake_ops, &f[i]), -ENOSPC);
	assert_true(f[i].freed);
	dpf_writer_free(w);
	for (i = 0; i < DPF_MAX_EXPORTERS; i++)
		assert_true(f[i].freed);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_fans_every_row_and_window_end_out_to_every_exporter),
		cmocka_unit_test(test_writer_stops_in_reverse_order_and_a_lossy_stop_fails_the_run),
		cmocka_unit_test(test_writer_published_file_reaches_every_exporter),
		cmocka_unit_test(test_writer_add_beyond_the_limit_frees_the_exporter),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
