/* SPDX-License-Identifier: BSD-3-Clause */
/* The recent flows: a store of struct dpf_record, searched with struct dpf_store_filter. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>

#include "dpf_store.h"
#include "dpf_util.h"
#include "store_private.h"

void
dpf_store_filter_init(struct dpf_store_filter *f)
{
	memset(f, 0, sizeof(*f));
	store_span_init(&f->span);
}

const char *const dpf_store_filter_words[] = {
	"iface", "src", "dst", "port", "proto", "action", "oldest", "limit", "since", "until", NULL,
};

static int
parse_word(void *filter, const char *w, const char *v, store_lookup_t lookup, void *arg, char *err,
	   size_t err_len)
{
	struct dpf_store_filter *f = filter;

	if (strcmp(w, "iface") == 0)
		return store_iface_word(&f->iface, &f->has_iface, w, v, lookup, arg, err, err_len);
	if (strcmp(w, "src") == 0)
		return store_prefix_word(&f->src, &f->has_src, w, v, err, err_len);
	if (strcmp(w, "dst") == 0)
		return store_prefix_word(&f->dst, &f->has_dst, w, v, err, err_len);
	if (strcmp(w, "port") == 0)
		return store_port_word(&f->port, &f->has_port, w, v, err, err_len);
	if (strcmp(w, "proto") == 0)
		return store_proto_word(&f->proto, &f->has_proto, v, err, err_len);
	/* action: the only word left (the store checked it is one of ours). */
	if (strcasecmp(v, "ACCEPT") == 0)
		f->action = DPF_ACTION_ACCEPT;
	else if (strcasecmp(v, "REJECT") == 0)
		f->action = DPF_ACTION_REJECT;
	else {
		snprintf(err, err_len, "action '%s': expected ACCEPT or REJECT", v);
		return -EINVAL;
	}
	f->has_action = true;
	return 0;
}

int
dpf_store_filter_parse(struct dpf_store_filter *f, int argc, char **argv,
		       int (*lookup_iface)(void *arg, const char *id), void *arg, char *err,
		       size_t err_len)
{
	return store_filter_parse(&dpf_store_flows, f, argc, argv, lookup_iface, arg, err, err_len);
}

/* Flows only: NODATA/SKIPDATA rows are not kept. */
static bool
is_flow(const void *rec)
{
	return ((const struct dpf_record *)rec)->log_status == DPF_LOG_OK;
}

static void
flow_times(const void *rec, uint64_t *start, uint64_t *end)
{
	const struct dpf_record *r = rec;

	*start = r->start;
	*end = r->end;
}

/* A flow's address in either view, pre-NAT or post-NAT. */
static bool
either_view_in(const struct dpf_store_prefix *p, uint8_t family, const uint8_t *pre,
	       const uint8_t *post)
{
	return store_in_prefix(p, family, pre) || store_in_prefix(p, family, post);
}

static bool
matches(const void *filter, const void *rec)
{
	const struct dpf_store_filter *f = filter;
	const struct dpf_record *r = rec;
	const struct dpf_flow_key *k = &r->key;

	if (f->has_iface && k->iface != f->iface)
		return false;
	if (f->has_proto && k->proto != f->proto)
		return false;
	if (f->has_action && k->action != f->action)
		return false;
	if (f->has_port && k->src_port != f->port && k->dst_port != f->port &&
	    r->post.src_port != f->port && r->post.dst_port != f->port)
		return false;
	if (f->has_src && !either_view_in(&f->src, k->family, k->src_addr, r->post.src_addr))
		return false;
	if (f->has_dst && !either_view_in(&f->dst, k->family, k->dst_addr, r->post.dst_addr))
		return false;
	return true;
}

const struct dpf_store_kind dpf_store_flows = {
	.entry_size = sizeof(struct dpf_record),
	.keep = is_flow,
	.times = flow_times,
	.words = dpf_store_filter_words,
	.parse_word = parse_word,
	.match = matches,
};

static const char *const csv_columns[] = {
	"interface-id", "pkt-srcaddr", "pkt-srcport", "pkt-dstaddr", "pkt-dstport", "srcaddr",
	"srcport",	"dstaddr",     "dstport",     "protocol",    "packets",	    "bytes",
	"action",	"start",       "end",	      "start-ms",    "end-ms",
};
#define CSV_COLUMNS RTE_DIM(csv_columns)

/* The text of every column of one record, in csv_columns order. */
struct csv_row {
	char ps[DPF_ADDR_TEXT_MAX], pd[DPF_ADDR_TEXT_MAX], s[DPF_ADDR_TEXT_MAX],
		d[DPF_ADDR_TEXT_MAX];
	char num[9][24];
	char ts[32], te[32];
	const char *col[CSV_COLUMNS];
};

static void
csv_row_fill(struct csv_row *w, const struct dpf_record *r, const char *id)
{
	const uint64_t nums[] = {r->key.src_port,  r->key.dst_port, r->post.src_port,
				 r->post.dst_port, r->key.proto,    r->packets,
				 r->bytes,	   r->start * 1000, r->end * 1000};
	size_t i;

	dpf_addr_format(r->key.family, r->key.src_addr, w->ps, sizeof(w->ps));
	dpf_addr_format(r->key.family, r->key.dst_addr, w->pd, sizeof(w->pd));
	dpf_addr_format(r->key.family, r->post.src_addr, w->s, sizeof(w->s));
	dpf_addr_format(r->key.family, r->post.dst_addr, w->d, sizeof(w->d));
	dpf_store_time_text(r->start, w->ts, sizeof(w->ts));
	dpf_store_time_text(r->end, w->te, sizeof(w->te));
	for (i = 0; i < RTE_DIM(nums); i++)
		snprintf(w->num[i], sizeof(w->num[i]), "%" PRIu64, nums[i]);
	w->col[0] = id;
	w->col[1] = w->ps;
	w->col[2] = w->num[0];
	w->col[3] = w->pd;
	w->col[4] = w->num[1];
	w->col[5] = w->s;
	w->col[6] = w->num[2];
	w->col[7] = w->d;
	w->col[8] = w->num[3];
	w->col[9] = w->num[4];
	w->col[10] = w->num[5];
	w->col[11] = w->num[6];
	w->col[12] = r->key.action == DPF_ACTION_REJECT ? "REJECT" : "ACCEPT";
	w->col[13] = w->ts;
	w->col[14] = w->te;
	w->col[15] = w->num[7];
	w->col[16] = w->num[8];
}

int
dpf_store_write_csv(FILE *f, const struct dpf_record *recs, uint32_t n,
		    const struct dpf_iface_meta *ifaces, uint16_t n_ifaces)
{
	struct csv_row w;
	uint32_t i;
	size_t c;

	/* Formatted here, written to the caller's stream: this library prints nothing. */
	for (c = 0; c < CSV_COLUMNS; c++)
		store_csv_field(f, csv_columns[c], c + 1 == CSV_COLUMNS);
	for (i = 0; i < n; i++) {
		const struct dpf_record *r = &recs[i];
		const char *id = store_iface_text(r->key.iface, ifaces, n_ifaces);

		csv_row_fill(&w, r, id);
		for (c = 0; c < CSV_COLUMNS; c++)
			store_csv_field(f, w.col[c], c + 1 == CSV_COLUMNS);
	}
	return ferror(f) ? -EIO : 0;
}
