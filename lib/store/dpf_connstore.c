/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_connstore.h"
#include "dpf_util.h"
#include "store_private.h"

void
dpf_connstore_filter_init(struct dpf_connstore_filter *f)
{
	store_filter_init(f, sizeof(*f));
}

#define STORE_FILTER struct dpf_connstore_filter
#define WORDS(T, O, S)                                                                             \
	S("since")                                                                                 \
	S("until")                                                                                 \
	T("proto", PROTO, proto)                                                                   \
	T("src-node", IFACE, src_node)                                                             \
	T("src", PREFIX, src)                                                                      \
	T("sport", PORT, sport)                                                                    \
	T("dst-node", IFACE, dst_node)                                                             \
	T("dst", PREFIX, dst)                                                                      \
	T("dport", PORT, dport)                                                                    \
	O("sent")                                                                                  \
	O("recv")                                                                                  \
	O("flags")                                                                                 \
	S("oldest")                                                                                \
	S("limit")

const char *const dpf_connstore_filter_words[] = {WORDS(STORE_NAME_TYPED, STORE_NAME, STORE_NAME)
							  NULL};

static const struct store_word words[] = {WORDS(STORE_ROW_TYPED, STORE_ROW_OWN, STORE_ROW_SPAN)};
WORDS(STORE_CHECK_TYPED, STORE_CHECK_NONE, STORE_CHECK_NONE)

/* TCP flag bits in the header's order (RFC 9293), Trustgrid's names. */
static const struct {
	const char *name;
	uint8_t bit;
} flag_names[] = {
	{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20},
};

/* Names in the order a handshake shows them: SYN, ACK, FIN, RST, PSH, URG. */
static const uint8_t flag_order[] = {0x02, 0x10, 0x01, 0x04, 0x08, 0x20};

static const char *
flag_name(uint8_t bit)
{
	size_t i;

	for (i = 0; i < RTE_DIM(flag_names); i++)
		if (flag_names[i].bit == bit)
			return flag_names[i].name;
	return "?";
}

void
dpf_connstore_flags_text(uint8_t flags, char *buf, size_t len)
{
	size_t i, at = 0;

	snprintf(buf, len, "-");
	for (i = 0; i < RTE_DIM(flag_order); i++)
		if ((flags & flag_order[i]) != 0 && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at > 0 ? "," : "",
					       flag_name(flag_order[i]));
}

/* "SYN,ACK" (any letter case) as bits. */
static int
flags_parse(const char *v, uint8_t *bits)
{
	char copy[64], *save = NULL, *tok;

	if (snprintf(copy, sizeof(copy), "%s", v) >= (int)sizeof(copy))
		return -EINVAL;
	*bits = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < RTE_DIM(flag_names); i++)
			if (strcasecmp(tok, flag_names[i].name) == 0)
				break;
		if (i == RTE_DIM(flag_names))
			return -EINVAL;
		*bits |= flag_names[i].bit;
	}
	return *bits != 0 ? 0 : -EINVAL;
}

/* flags, sent, recv: the words of its own. */
static int
parse_word(void *filter, const char *w, const char *v, store_lookup_t lookup, void *arg, char *err,
	   size_t err_len)
{
	struct dpf_connstore_filter *f = filter;
	uint64_t *least = strcmp(w, "sent") == 0 ? &f->min_sent : &f->min_recv;

	(void)lookup, (void)arg;
	if (strcmp(w, "flags") == 0) {
		if (flags_parse(v, &f->flags) < 0) {
			snprintf(err, err_len,
				 "flags '%s': expected names among SYN, ACK, FIN, RST, PSH, URG "
				 "joined by commas",
				 v);
			return -EINVAL;
		}
		return 0;
	}
	if (dpf_parse_u64(v, UINT64_MAX / 2, least) < 0) {
		snprintf(err, err_len, "%s '%s': expected a byte count", w, v);
		return -EINVAL;
	}
	return 0;
}

int
dpf_connstore_filter_parse(struct dpf_connstore_filter *f, int argc, char **argv,
			   int (*lookup_iface)(void *arg, const char *id), void *arg, char *err,
			   size_t err_len)
{
	return store_filter_parse(&dpf_store_connections, f, argc, argv, lookup_iface, arg, err,
				  err_len);
}

static void
log_times(const void *rec, uint64_t *start, uint64_t *end)
{
	const struct dpf_conn_log *l = &((const struct dpf_connstore_rec *)rec)->log;

	*start = l->start_ns / 1000000000;
	*end = l->end_ns / 1000000000;
}

static bool
matches(const void *filter, const void *rec)
{
	const struct dpf_connstore_filter *f = filter;
	const struct dpf_connstore_rec *r = rec;
	const struct dpf_conn_log *l = &r->log;

	if (f->has_src_node && (!r->outbound || l->iface != f->src_node))
		return false;
	if (f->has_dst_node && (r->outbound || l->iface != f->dst_node))
		return false;
	/* The words that name one value of a field. */
	if ((f->has_proto && l->proto != f->proto) ||
	    (f->has_sport && l->initiator_port != f->sport) ||
	    (f->has_dport && l->target_port != f->dport))
		return false;
	if (l->bytes_from_initiator < f->min_sent || l->bytes_from_target < f->min_recv)
		return false;
	if (((l->tcp_flags_initiator | l->tcp_flags_target) & f->flags) != f->flags)
		return false;
	if (f->has_src && !store_in_prefix(&f->src, l->family, l->initiator_addr))
		return false;
	if (f->has_dst && !store_in_prefix(&f->dst, l->family, l->target_addr))
		return false;
	return true;
}

static const char *const columns[] = {
	"Start Time",  "Start Time (ms)", "End Time",	 "End Time (ms)", "Protocol",
	"Source Node", "Source IP",	  "Source Port", "Dest Node",	  "Dest IP",
	"Dest Port",   "Sent Bytes",	  "Recv Bytes",	 "TCP Flags",
};

_Static_assert(RTE_DIM(columns) <= STORE_COLUMNS_MAX, "a row holds every column");

static void
row(const void *entry, const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, struct store_row *w)
{
	const struct dpf_connstore_rec *r = entry;
	const struct dpf_conn_log *l = &r->log;
	const char *pn = dpf_proto_name(l->proto);
	size_t i;

	store_col_time(w, 0, l->start_ns / 1000000000);
	store_col_u64(w, 1, l->start_ns / 1000000);
	store_col_time(w, 2, l->end_ns / 1000000000);
	store_col_u64(w, 3, l->end_ns / 1000000);
	/* TCP, UDP: Trustgrid's spelling. */
	snprintf(w->text[4], sizeof(w->text[4]), "%s", pn != NULL ? pn : "?");
	for (i = 0; w->text[4][i] != '\0'; i++)
		w->text[4][i] = (char)toupper((unsigned char)w->text[4][i]);
	w->col[4] = w->text[4];
	/* The interface is the initiator's side (Source Node) or the target's. */
	store_col_iface(w, r->outbound ? 5 : 8, l->iface, ifaces, n_ifaces);
	w->col[r->outbound ? 8 : 5] = "-";
	store_col_addr(w, 6, l->family, l->initiator_addr);
	store_col_u64(w, 7, l->initiator_port);
	store_col_addr(w, 9, l->family, l->target_addr);
	store_col_u64(w, 10, l->target_port);
	store_col_u64(w, 11, l->bytes_from_initiator);
	store_col_u64(w, 12, l->bytes_from_target);
	dpf_connstore_flags_text(l->tcp_flags_initiator | l->tcp_flags_target, w->text[13],
				 sizeof(w->text[13]));
	w->col[13] = w->text[13];
}

const struct dpf_store_kind dpf_store_connections = {
	.entry_size = sizeof(struct dpf_connstore_rec),
	.times = log_times,
	STORE_KIND_TABLES,
};

int
dpf_connstore_write_rows(FILE *f, const struct dpf_connstore_rec *recs, uint32_t n,
			 const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep)
{
	return store_write(f, &dpf_store_connections, recs, n, ifaces, n_ifaces, sep, false);
}

int
dpf_connstore_write(FILE *f, const struct dpf_connstore_rec *recs, uint32_t n,
		    const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep)
{
	return store_write(f, &dpf_store_connections, recs, n, ifaces, n_ifaces, sep, true);
}
