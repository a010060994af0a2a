/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daily Trustgrid export: tg-flow-logs-YYYY-MM-DD.csv.gz (tg_day.h).
 *
 * The day is the UTC day of the window's start (record time, not the wall
 * clock): a replay writes the same files whenever it runs. A day's rows can
 * be many more than memory should hold, so they are compressed window by
 * window (one gzip member each, libdeflate as the IBM objects) and appended
 * to a hidden temporary file; the rename at the day's end is what publishes
 * it, so nothing half-written ever carries the final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>

#include "dpf_util.h"
#include "log.h"
#include "output.h"
#include "tg_day.h"

#define SEC_PER_DAY 86400ull
#define NO_DAY UINT64_MAX

struct dpf_tg_day {
	char dir[PATH_MAX];
	struct dpf_writer *writer; /* told of each file published (S3 uploads it) */
	const struct dpf_iface_meta *ifaces;
	uint16_t n_ifaces;
	struct libdeflate_compressor *gz;
	uint64_t day; /* the open file's day (days since the epoch), NO_DAY: none */
	char tmp[PATH_MAX + 64];
	char path[PATH_MAX + 64];
	int fd;
	bool failed;   /* the open day's file lost rows: not published */
	uint64_t rows; /* rows in the open day's file */
	/* The open window's CSV. */
	FILE *mem;
	char *text;
	size_t text_len;
	uint64_t window_rows;
	uint8_t *zbuf;
	size_t zbuf_cap;
	struct dpf_tg_day_counters c; /* relaxed atomics */
};

static void
day_error(struct dpf_tg_day *d, const char *what, int err)
{
	if (!d->failed)
		DPF_LOG(ERR, output, "tg-flow-logs: %s: %s: %s; this day's file is lost\n", d->tmp,
			what, strerror(err));
	d->failed = true;
}

/* Compress the window's text as one gzip member and append it. */
static void
flush_window(struct dpf_tg_day *d)
{
	size_t bound, n;

	if (d->mem == NULL)
		return;
	if (fflush(d->mem) != 0 || ferror(d->mem))
		day_error(d, "formatting", ENOMEM);
	if (d->failed || d->text_len == 0 || d->fd < 0)
		goto reset;
	bound = libdeflate_gzip_compress_bound(d->gz, d->text_len);
	if (bound > d->zbuf_cap) {
		uint8_t *z = realloc(d->zbuf, bound);

		if (z == NULL) {
			day_error(d, "gzip buffer", ENOMEM);
			goto reset;
		}
		d->zbuf = z;
		d->zbuf_cap = bound;
	}
	n = libdeflate_gzip_compress(d->gz, d->text, d->text_len, d->zbuf, d->zbuf_cap);
	if (n == 0)
		day_error(d, "gzip", EIO);
	else if (dpf_write_all(d->fd, d->zbuf, n, NULL) < 0)
		day_error(d, "write", errno);
	else
		d->rows += d->window_rows;
reset:
	fclose(d->mem);
	free(d->text);
	d->mem = NULL;
	d->text = NULL;
	d->text_len = 0;
	d->window_rows = 0;
}

static FILE *
window_stream(struct dpf_tg_day *d)
{
	if (d->mem == NULL) {
		d->mem = open_memstream(&d->text, &d->text_len);
		if (d->mem == NULL)
			day_error(d, "memory stream", errno);
	}
	return d->mem;
}

/* Close the day's file: renamed and published, or removed when it lost rows. */
static void
close_day(struct dpf_tg_day *d)
{
	int err = 0;

	if (d->day == NO_DAY)
		return;
	flush_window(d);
	if (d->fd >= 0 && close(d->fd) < 0)
		day_error(d, "close", errno);
	d->fd = -1;
	if (!d->failed && rename(d->tmp, d->path) < 0) {
		err = errno;
		day_error(d, "rename", err);
	}
	if (d->failed) {
		unlink(d->tmp);
		__atomic_fetch_add(&d->c.files_failed, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&d->c.files, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&d->c.rows, d->rows, __ATOMIC_RELAXED);
		dpf_writer_published(d->writer, d->path);
	}
	d->day = NO_DAY;
}

/* A new day's file: the temporary name, opened, with the header line. */
static void
open_day(struct dpf_tg_day *d, uint64_t day)
{
	time_t t = (time_t)(day * SEC_PER_DAY);
	char date[16];
	struct tm tm;
	FILE *f;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(d->path, sizeof(d->path), "%s/tg-flow-logs-%s.csv.gz", d->dir, date);
	snprintf(d->tmp, sizeof(d->tmp), "%s/.tg-flow-logs-%s.csv.gz.tmp", d->dir, date);
	d->day = day;
	d->failed = false;
	d->rows = 0;
	/* A run killed during this day left its rows here unpublished: they
	 * were never complete, so the file starts over. */
	d->fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (d->fd < 0) {
		day_error(d, "open", errno);
		return;
	}
	f = window_stream(d);
	if (f != NULL && dpf_connstore_write(f, NULL, 0, d->ifaces, d->n_ifaces, NULL) < 0)
		day_error(d, "formatting", EIO);
}

void
dpf_tg_day_window(struct dpf_tg_day *d, uint64_t window_start)
{
	uint64_t day = window_start / SEC_PER_DAY;

	if (day == d->day)
		return;
	close_day(d);
	open_day(d, day);
}

void
dpf_tg_day_add(struct dpf_tg_day *d, const struct dpf_connstore_rec *r)
{
	FILE *f;

	if (d->failed || (f = window_stream(d)) == NULL)
		return;
	if (dpf_connstore_write_rows(f, r, 1, d->ifaces, d->n_ifaces, NULL) < 0)
		day_error(d, "formatting", EIO);
	d->window_rows++;
}

void
dpf_tg_day_window_end(struct dpf_tg_day *d)
{
	flush_window(d);
}

void
dpf_tg_day_finish(struct dpf_tg_day *d)
{
	close_day(d);
}

void
dpf_tg_day_counters_get(const struct dpf_tg_day *d, struct dpf_tg_day_counters *c)
{
	c->files = dpf_counter_read(&d->c.files);
	c->files_failed = dpf_counter_read(&d->c.files_failed);
	c->rows = dpf_counter_read(&d->c.rows);
}

struct dpf_tg_day *
dpf_tg_day_create(const char *dir, struct dpf_writer *w, const struct dpf_iface_meta *ifaces,
		  uint16_t n_ifaces, int level)
{
	struct dpf_tg_day *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	if (snprintf(d->dir, sizeof(d->dir), "%s", dir) >= (int)sizeof(d->dir)) {
		free(d);
		errno = ENAMETOOLONG;
		return NULL;
	}
	d->gz = libdeflate_alloc_compressor(level);
	if (d->gz == NULL) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->writer = w;
	d->ifaces = ifaces;
	d->n_ifaces = n_ifaces;
	d->day = NO_DAY;
	d->fd = -1;
	return d;
}

void
dpf_tg_day_free(struct dpf_tg_day *d)
{
	if (d == NULL)
		return;
	if (d->mem != NULL)
		fclose(d->mem);
	free(d->text);
	if (d->fd >= 0) {
		close(d->fd);
		unlink(d->tmp);
	}
	libdeflate_free_compressor(d->gz);
	free(d->zbuf);
	free(d);
}
