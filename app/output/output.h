/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_OUTPUT_H
#define DPFLOW_OUTPUT_H

/*
 * The output subsystem: the writer thread takes the pipeline's record
 * batches and hands every row to each of its exporters, behind one ops
 * struct. The record files (export_file.c: lib/fmt lines into lib/sink) are
 * one exporter like the recent-flows store (export_store.c), IPFIX
 * (export_ipfix.c) and object storage (export_s3.c).
 *
 * Threads: exporters are added on the main thread before dpf_writer_start();
 * every callback but counters runs in the writer thread, never on an RX core.
 * counters may run on any thread (the prompt, telemetry, the exit summary):
 * it reads the exporter's counters with relaxed loads (run.h) or under the
 * exporter's own lock.
 *
 * Errors: an exporter that loses records says so by its counters (lost) and
 * logs once per kind of failure; stop's negative return fails the run (the
 * file exporter: records that never reached a published file).
 */

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "config.h"
#include "dpf_flow.h"
#include "dpf_fmt.h"
#include "dpf_store.h"
#include "run.h"

#define DPF_EXPORT_COUNTERS_MAX 32 /* at most 32: the gauges' bits */

/*
 * Every exporter's counters in one shape: what it received and lost, then
 * its own named counters, printed as `<prefix> <name>: <value>` in the exit
 * summary.
 */
struct dpf_export_counters {
	const char *prefix; /* "writer", "ipfix", "s3", "store" */
	uint64_t rows;	    /* rows received (records, NODATA and SKIPDATA rows) */
	uint64_t lost;	    /* records received and not delivered */
	uint16_t n;
	const char *name[DPF_EXPORT_COUNTERS_MAX];
	uint64_t value[DPF_EXPORT_COUNTERS_MAX];
	uint32_t gauges; /* bit k: value[k] is a level (it may go down), not a count */
};

/* Append one named counter (n < DPF_EXPORT_COUNTERS_MAX). */
static inline void
dpf_export_counter(struct dpf_export_counters *c, const char *name, uint64_t value)
{
	if (c->n < DPF_EXPORT_COUNTERS_MAX) {
		c->name[c->n] = name;
		c->value[c->n++] = value;
	}
}

/* Append one level (a size, a maximum): Prometheus gives it as a gauge. */
static inline void
dpf_export_gauge(struct dpf_export_counters *c, const char *name, uint64_t value)
{
	if (c->n < DPF_EXPORT_COUNTERS_MAX)
		c->gauges |= 1u << c->n;
	dpf_export_counter(c, name, value);
}

/* Any callback may be NULL. */
struct dpf_exporter_ops {
	const char *name;
	/* rows also gets the DPF_LOG_SEGMENT rows (connection records only). */
	bool segments;
	/* Rows of a window, in output order (several calls per window). */
	void (*rows)(void *ctx, const struct dpf_record *recs, uint32_t n);
	/* Every row ending before window_end (Unix seconds) has been given. */
	void (*window_end)(void *ctx, uint64_t window_end);
	/* A record file was published under its final name (dpf_writer_published()). */
	void (*file_published)(void *ctx, const char *path);
	/* No batch waiting: time to retry what is blocked. */
	void (*idle)(void *ctx);
	/* SIGHUP: publish what is open. */
	void (*rotate)(void *ctx);
	/* The stop batch is handled: publish what only a stop finishes, before
	 * any exporter's stop (S3 still uploads it). */
	void (*finish)(void *ctx);
	/* Last call: flush and publish. @return 0, or negative when records were lost */
	int (*stop)(void *ctx);
	/* Any thread: the counters (rows and lost too). */
	void (*counters)(void *ctx, struct dpf_export_counters *c);
	/* After the writer ended (or never started). */
	void (*free)(void *ctx);
};

#define DPF_MAX_EXPORTERS 6

struct dpf_writer_params {
	struct dpf_batchq *in;
	struct dpf_run *run;	/* stop, rotate; output_failed is set here */
	uint64_t test_delay_ms; /* --test-writer-delay: a slow disk, until a stop */
};

struct dpf_writer;

/** @return NULL + rte_errno (ENOMEM). */
struct dpf_writer *dpf_writer_create(const struct dpf_writer_params *p);

/**
 * Add an exporter, which the writer owns from now on (its free runs in
 * dpf_writer_free(), even when this call fails). Before dpf_writer_start().
 * @return 0, or -ENOSPC when DPF_MAX_EXPORTERS are there already
 */
int dpf_writer_add(struct dpf_writer *w, const struct dpf_exporter_ops *ops, void *ctx);

/** Start the writer thread. @return 0 or -errno (logged) */
int dpf_writer_start(struct dpf_writer *w);

/** Wait for the writer to end (after the pipeline sent its stop batch). NULL-safe; returns at once for a writer never started. */
void dpf_writer_join(struct dpf_writer *w);

/** The writer has handled the stop batch: every record is stored (acquire). */
bool dpf_writer_done(const struct dpf_writer *w);

/** Writer thread (an exporter's callback): tell every exporter a file was published. */
void dpf_writer_published(struct dpf_writer *w, const char *path);

/**
 * The counters of every exporter, in the order they were added.
 * @return how many were written (at most max). Any thread.
 */
unsigned int dpf_writer_counters(struct dpf_writer *w, struct dpf_export_counters *out,
				 unsigned int max);

/** Free the exporters (in reverse order) and the writer. NULL-safe; after join. */
void dpf_writer_free(struct dpf_writer *w);

/*
 * The exporters. Each add function reads its settings, opens what it needs
 * (logging any problem) and adds itself to the writer. The writer calls stop
 * in the reverse order of addition: the file exporter, whose files the S3
 * exporter uploads, is added after it so that its last files are published
 * before S3's stop.
 */

/* The record files (--output DIR) or stdout (--output -). */
struct dpf_export_file;

struct dpf_export_file_params {
	const struct dpf_options *opt;	   /* output, compress, log-format, hold-mb, ... */
	const struct dpf_fmt_ctx *fmt_ctx; /* interface metadata; lives as long as the writer */
	struct dpf_run *run;		   /* output_failed when the output cannot be reopened */
};

/**
 * Open the output (finishing the leftovers of a killed run in DIR first).
 * @return the exporter (owned by the writer), or NULL + rte_errno (logged)
 */
struct dpf_export_file *dpf_export_file_add(struct dpf_writer *w,
					    const struct dpf_export_file_params *p);

/**
 * set log-format: from the next window end the files are published and new
 * ones start with the new header. Control thread.
 * @return 0, or -EINVAL with err (the format's problem), -ENOMEM, -EPERM
 *         with err on stdout (--output -: one stream keeps its one header)
 */
int dpf_export_file_set_format(struct dpf_export_file *f, const char *fmt, char *err,
			       size_t err_len);

/* The recent flows kept for show flows / export flows (lib/store, shared with control). */
int dpf_export_store_add(struct dpf_writer *w, struct dpf_store *store);

/* --ipfix: 0 when not configured or added; negative (logged) when it cannot start. */
int dpf_export_ipfix_add(struct dpf_writer *w, const struct dpf_options *o,
			 const struct dpf_fmt_ctx *fmt_ctx);

/* --s3-bucket: checks the bucket (validation object), opens the spool and starts the
 * uploader thread. 0 when not configured or added; negative (logged) otherwise. */
int dpf_export_s3_add(struct dpf_writer *w, const struct dpf_options *o);

/* --ibm-output: connection records as IBM Cloud VPC flow log objects (export_ibm.c). */
struct dpf_ifmap;
struct dpf_window_plan;

struct dpf_export_ibm_params {
	const struct dpf_options *opt;	    /* ibm-*, conn-*, metadata defaults */
	const struct dpf_ifmap *ifmap;	    /* metadata and addresses (direction); outlives the writer */
	const struct dpf_window_plan *plan; /* window bounds */
	struct dpf_store *store;	    /* show connections' flow logs; NULL: none kept */
};

/* Runs with --ibm-output, or with --connections yes (then it only feeds the store).
 * 0 when not configured or added; negative (logged) when it cannot start. */
int dpf_export_ibm_add(struct dpf_writer *w, const struct dpf_export_ibm_params *p);

#endif /* DPFLOW_OUTPUT_H */
