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
	store_filter_init(f, sizeof(*f));
}

#define STORE_FILTER struct dpf_store_filter
#define WORDS(T, O, S)                                                                             \
	T("iface", IFACE, iface)                                                                   \
	T("src", PREFIX, src)                                                                      \
	T("dst", PREFIX, dst)                                                                      \
	T("port", PORT, port)                                                                      \
	T("proto", PROTO, proto)                                                                   \
	O("action")                                                                                \
	S("oldest")                                                                                \
	S("limit")                                                                                 \
	S("since")                                                                                 \
	S("until")

const char *const dpf_store_filter_words[] = {WORDS(STORE_NAME_TYPED, STORE_NAME, STORE_NAME) NULL};

static const struct store_word words[] = {WORDS(STORE_ROW_TYPED, STORE_ROW_OWN, STORE_ROW_SPAN)};
WORDS(STORE_CHECK_TYPED, STORE_CHECK_NONE, STORE_CHECK_NONE)

/* action: the only word of its own. */
static int
parse_word(void *filter, const char *w, const char *v, store_lookup_t lookup, void *arg, char *err,
	   size_t err_len)
{
	struct dpf_store_filter *f = filter;

	(void)w, (void)lookup, (void)arg;
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

	/* The words that name one value of a field. */
	if ((f->has_iface && k->iface != f->iface) || (f->has_proto && k->proto != f->proto) ||
	    (f->has_action && k->action != f->action))
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

static const char *const columns[] = {
	"interface-id", "pkt-srcaddr", "pkt-srcport", "pkt-dstaddr", "pkt-dstport", "srcaddr",
	"srcport",	"dstaddr",     "dstport",     "protocol",    "packets",	    "bytes",
	"action",	"start",       "end",	      "start-ms",    "end-ms",
};

_Static_assert(RTE_DIM(columns) <= STORE_COLUMNS_MAX, "a row holds every column");

static void
row(const void *entry, const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, struct store_row *w)
{
	const struct dpf_record *r = entry;
	const struct dpf_flow_key *k = &r->key;

	store_col_iface(w, 0, k->iface, ifaces, n_ifaces);
	store_col_addr(w, 1, k->family, k->src_addr);
	store_col_u64(w, 2, k->src_port);
	store_col_addr(w, 3, k->family, k->dst_addr);
	store_col_u64(w, 4, k->dst_port);
	store_col_addr(w, 5, k->family, r->post.src_addr);
	store_col_u64(w, 6, r->post.src_port);
	store_col_addr(w, 7, k->family, r->post.dst_addr);
	store_col_u64(w, 8, r->post.dst_port);
	store_col_u64(w, 9, k->proto);
	store_col_u64(w, 10, r->packets);
	store_col_u64(w, 11, r->bytes);
	w->col[12] = k->action == DPF_ACTION_REJECT ? "REJECT" : "ACCEPT";
	store_col_time(w, 13, r->start);
	store_col_time(w, 14, r->end);
	store_col_u64(w, 15, r->start * 1000);
	store_col_u64(w, 16, r->end * 1000);
}

const struct dpf_store_kind dpf_store_flows = {
	.entry_size = sizeof(struct dpf_record),
	.keep = is_flow,
	.times = flow_times,
	STORE_KIND_TABLES,
};

int
dpf_store_write_csv(FILE *f, const struct dpf_record *recs, uint32_t n,
		    const struct dpf_iface_meta *ifaces, uint16_t n_ifaces)
{
	return store_write(f, &dpf_store_flows, recs, n, ifaces, n_ifaces, NULL, true);
}
