/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_TG_DAY_H
#define DPFLOW_TG_DAY_H

/*
 * The daily Trustgrid export (issue 13): every connection flow log of a UTC
 * day, by window time, as tg-flow-logs-YYYY-MM-DD.csv.gz (Trustgrid's
 * columns, RFC 4180, dpf_connstore_write()) in one directory. Each window's
 * rows are appended as one gzip member to a hidden temporary file (a
 * multi-member gzip stream, which gunzip and zlib read as one); the file is
 * renamed to its final name and published (S3 uploads it under
 * --s3-prefix) when a window of a later day closes and at stop. A day's
 * file an earlier run published is continued, not replaced, and a killed
 * run's temporaries are finished at the first window (tg_day.c).
 *
 * Writer thread only (export_ibm.c owns the handle).
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpf_connstore.h"
#include "run.h"

struct dpf_writer;
struct dpf_tg_day;

/*
 * Counters, read by any thread with relaxed loads: X(field, name, what), the
 * name the IBM exporter's counters show after "tg-day-".
 */
#define DPF_TG_DAY_COUNTERS(X)                                                                     \
	X(files, "files", "day files published")                                                   \
	X(files_failed, "files-failed", "day files the disk refused (their rows are lost)")        \
	X(rows, "rows", "rows written into published files")                                       \
	X(resumed, "resumed", "days an earlier run had published, continued")                      \
	X(leftovers, "leftovers", "a killed run's temporaries finished (published)")               \
	X(leftovers_failed, "leftovers-failed", "... that could not be (left where they are)")

struct dpf_tg_day_counters {
	DPF_TG_DAY_COUNTERS(DPF_COUNTER_FIELD)
};

/* A day writer into dir, or NULL with errno (ENOMEM). level: libdeflate's. */
struct dpf_tg_day *dpf_tg_day_create(const char *dir, struct dpf_writer *w,
				     const struct dpf_iface_meta *ifaces, uint16_t n_ifaces,
				     int level);

/* The window starting at window_start (Unix seconds) begins: a new UTC day
 * finishes and publishes the previous day's file first. */
void dpf_tg_day_window(struct dpf_tg_day *d, uint64_t window_start);

/* One flow log of the open window. */
void dpf_tg_day_add(struct dpf_tg_day *d, const struct dpf_connstore_rec *r);

/* The window's rows as one gzip member of the day's file. */
void dpf_tg_day_window_end(struct dpf_tg_day *d);

/* Stop: finish and publish the open day's file. */
void dpf_tg_day_finish(struct dpf_tg_day *d);

/* Any thread. */
void dpf_tg_day_counters_get(const struct dpf_tg_day *d, struct dpf_tg_day_counters *c);

/* NULL-safe; an unfinished day's temporary file is removed (its rows lost). */
void dpf_tg_day_free(struct dpf_tg_day *d);

#endif /* DPFLOW_TG_DAY_H */
