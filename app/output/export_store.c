/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The recent flows (lib/store): every record of the closed windows, kept
 * for the prompt's show flows and export flows. One exporter of the writer
 * (output.h); the store is shared with the control thread, which queries it
 * under the store's own lock.
 */
#include <errno.h>

#include "output.h"

static void
store_rows(void *ctx, const struct dpf_record *recs, uint32_t n)
{
	dpf_store_add(ctx, recs, n);
}

static const struct dpf_exporter_ops store_ops = {
	.name = "store",
	.rows = store_rows,
};

int
dpf_export_store_add(struct dpf_writer *w, struct dpf_store *store)
{
	return dpf_writer_add(w, &store_ops, store);
}
