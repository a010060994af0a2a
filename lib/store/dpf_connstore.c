/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_connstore.h"
#include "dpf_util.h"
#include "store_ring.h"

struct dpf_connstore {
	struct store_ring r; /* of struct dpf_connstore_rec, the oldest at head once full */
};

void
dpf_connstore_free(struct dpf_connstore *s)
{
	store_ring_free(s != NULL ? &s->r : NULL);
}

struct dpf_connstore *
dpf_connstore_create(uint32_t capacity)
{
	return store_ring_new(sizeof(struct dpf_connstore), sizeof(struct dpf_connstore_rec),
			      capacity);
}

void
dpf_connstore_add(struct dpf_connstore *s, const struct dpf_connstore_rec *recs, uint32_t n)
{
	store_ring_add(&s->r, recs, n, NULL);
}

uint32_t
dpf_connstore_count(struct dpf_connstore *s)
{
	return store_ring_count(&s->r);
}

uint32_t
dpf_connstore_capacity(const struct dpf_connstore *s)
{
	return s->r.capacity; /* set once at creation */
}

void
dpf_connstore_filter_init(struct dpf_connstore_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->src_node = -1;
	f->dst_node = -1;
	f->sport = -1;
	f->dport = -1;
	f->proto = -1;
	f->until = UINT64_MAX;
}

const char *const dpf_connstore_filter_words[] = {
	"since", "until", "proto", "src-node", "src",	 "sport", "dst-node", "dst",
	"dport", "sent",  "recv",  "flags",    "oldest", "limit", NULL,
};

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

static int
node_word(int32_t *node, const char *w, const char *v,
	  int (*lookup_iface)(void *arg, const char *id), void *arg, char *err, size_t err_len)
{
	int idx = lookup_iface != NULL ? lookup_iface(arg, v) : -1;
	uint64_t n;

	if (idx < 0 && dpf_parse_u64(v, 65535, &n) == 0)
		idx = (int)n;
	if (idx < 0) {
		snprintf(err, err_len, "%s '%s': no such interface", w, v);
		return -EINVAL;
	}
	*node = idx;
	return 0;
}

/* A word with a number: ports, byte counts, limit. */
static int
number_word(struct dpf_connstore_filter *f, const char *w, const char *v, char *err, size_t err_len)
{
	bool port = strcmp(w, "sport") == 0 || strcmp(w, "dport") == 0;
	bool limit = strcmp(w, "limit") == 0;
	uint64_t max = port ? 65535 : limit ? DPF_STORE_MAX_RESULTS : UINT64_MAX / 2, n;

	if (dpf_parse_u64(v, max, &n) < 0 || (limit && n == 0)) {
		snprintf(err, err_len, "%s '%s': expected %s", w, v,
			 port	 ? "0..65535"
			 : limit ? "1..10000"
				 : "a byte count");
		return -EINVAL;
	}
	if (strcmp(w, "sport") == 0)
		f->sport = (int32_t)n;
	else if (strcmp(w, "dport") == 0)
		f->dport = (int32_t)n;
	else if (strcmp(w, "sent") == 0)
		f->min_sent = n;
	else if (strcmp(w, "recv") == 0)
		f->min_recv = n;
	else
		f->limit = (uint32_t)n;
	return 0;
}

/* One word and its value (the word is known to take one). */
static int
parse_word(struct dpf_connstore_filter *f, const char *w, const char *v,
	   int (*lookup_iface)(void *arg, const char *id), void *arg, char *err, size_t err_len)
{
	uint8_t proto;

	if (strcmp(w, "src-node") == 0 || strcmp(w, "dst-node") == 0)
		return node_word(w[0] == 's' ? &f->src_node : &f->dst_node, w, v, lookup_iface, arg,
				 err, err_len);
	if (strcmp(w, "src") == 0 || strcmp(w, "dst") == 0) {
		bool src = w[0] == 's';

		if (dpf_cidr_parse(v, src ? f->src.addr : f->dst.addr,
				   src ? &f->src.family : &f->dst.family,
				   src ? &f->src.len : &f->dst.len) < 0) {
			snprintf(err, err_len, "%s '%s': not an address or CIDR", w, v);
			return -EINVAL;
		}
		*(src ? &f->has_src : &f->has_dst) = true;
		return 0;
	}
	if (strcmp(w, "proto") == 0) {
		if (dpf_proto_parse(v, true, &proto) < 0) {
			snprintf(err, err_len, "proto '%s': expected tcp, udp or 0..255", v);
			return -EINVAL;
		}
		f->proto = proto;
		return 0;
	}
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
	if (strcmp(w, "since") == 0 || strcmp(w, "until") == 0)
		return dpf_store_time_word(w, v, &f->since, &f->until, err, err_len);
	return number_word(f, w, v, err, err_len);
}

static bool
known_word(const char *w)
{
	size_t i;

	for (i = 0; dpf_connstore_filter_words[i] != NULL; i++)
		if (strcmp(dpf_connstore_filter_words[i], w) == 0)
			return true;
	return false;
}

int
dpf_connstore_filter_parse(struct dpf_connstore_filter *f, int argc, char **argv,
			   int (*lookup_iface)(void *arg, const char *id), void *arg, char *err,
			   size_t err_len)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (!known_word(w)) {
			snprintf(err, err_len,
				 "unknown filter '%s' (since, until, proto, src-node, src, sport, "
				 "dst-node, dst, dport, sent, recv, flags, oldest, limit)",
				 w);
			return -EINVAL;
		}
		if (dpf_store_word_check(argc, argv, i, err, err_len) < 0)
			return -EINVAL;
		if (strcmp(w, "oldest") == 0) {
			f->oldest_first = true;
			continue;
		}
		i++;
		if (parse_word(f, w, argv[i], lookup_iface, arg, err, err_len) < 0)
			return -EINVAL;
	}
	return 0;
}

static bool
in_prefix(const __typeof__(((struct dpf_connstore_filter *)0)->src) *p, uint8_t family,
	  const uint8_t *addr)
{
	return p->family == family && dpf_prefix_match(p->addr, addr, p->len);
}

static bool
matches(const void *filter, const void *rec)
{
	const struct dpf_connstore_filter *f = filter;
	const struct dpf_connstore_rec *r = rec;
	const struct dpf_conn_log *l = &r->log;

	if (f->src_node >= 0 && (!r->outbound || l->iface != f->src_node))
		return false;
	if (f->dst_node >= 0 && (r->outbound || l->iface != f->dst_node))
		return false;
	if (f->proto >= 0 && l->proto != f->proto)
		return false;
	if (f->sport >= 0 && l->initiator_port != f->sport)
		return false;
	if (f->dport >= 0 && l->target_port != f->dport)
		return false;
	if (l->bytes_from_initiator < f->min_sent || l->bytes_from_target < f->min_recv)
		return false;
	if (((l->tcp_flags_initiator | l->tcp_flags_target) & f->flags) != f->flags)
		return false;
	/* Active at some second of [since, until]. */
	if (l->end_ns / 1000000000 < f->since || l->start_ns / 1000000000 > f->until)
		return false;
	if (f->has_src && !in_prefix(&f->src, l->family, l->initiator_addr))
		return false;
	if (f->has_dst && !in_prefix(&f->dst, l->family, l->target_addr))
		return false;
	return true;
}

uint32_t
dpf_connstore_query(struct dpf_connstore *s, const struct dpf_connstore_filter *f,
		    struct dpf_connstore_rec *out, uint32_t max)
{
	return store_ring_query(&s->r, f, matches, f->oldest_first, f->limit, out, max);
}

static const char *const columns[] = {
	"Start Time",  "Start Time (ms)", "End Time",	 "End Time (ms)", "Protocol",
	"Source Node", "Source IP",	  "Source Port", "Dest Node",	  "Dest IP",
	"Dest Port",   "Sent Bytes",	  "Recv Bytes",	 "TCP Flags",
};
#define COLUMNS RTE_DIM(columns)

/* The text of every column of one flow log, in columns order. */
struct row {
	char ts[32], te[32], src[DPF_ADDR_TEXT_MAX], dst[DPF_ADDR_TEXT_MAX], proto[8], flags[32];
	char num[6][24];
	const char *col[COLUMNS];
};

static void
row_fill(struct row *w, const struct dpf_connstore_rec *r, const char *node)
{
	const struct dpf_conn_log *l = &r->log;
	const uint64_t nums[] = {l->start_ns / 1000000,	  l->end_ns / 1000000,
				 l->initiator_port,	  l->target_port,
				 l->bytes_from_initiator, l->bytes_from_target};
	const char *pn = dpf_proto_name(l->proto);
	size_t i;

	dpf_store_time_text(l->start_ns / 1000000000, w->ts, sizeof(w->ts));
	dpf_store_time_text(l->end_ns / 1000000000, w->te, sizeof(w->te));
	dpf_addr_format(l->family, l->initiator_addr, w->src, sizeof(w->src));
	dpf_addr_format(l->family, l->target_addr, w->dst, sizeof(w->dst));
	for (i = 0; i < RTE_DIM(nums); i++)
		snprintf(w->num[i], sizeof(w->num[i]), "%" PRIu64, nums[i]);
	/* TCP, UDP: Trustgrid's spelling. */
	snprintf(w->proto, sizeof(w->proto), "%s", pn != NULL ? pn : "?");
	for (i = 0; w->proto[i] != '\0'; i++)
		w->proto[i] = (char)(w->proto[i] >= 'a' && w->proto[i] <= 'z' ? w->proto[i] - 32
									      : w->proto[i]);
	dpf_connstore_flags_text(l->tcp_flags_initiator | l->tcp_flags_target, w->flags,
				 sizeof(w->flags));
	w->col[0] = w->ts;
	w->col[1] = w->num[0];
	w->col[2] = w->te;
	w->col[3] = w->num[1];
	w->col[4] = w->proto;
	w->col[5] = r->outbound ? node : "-";
	w->col[6] = w->src;
	w->col[7] = w->num[2];
	w->col[8] = r->outbound ? "-" : node;
	w->col[9] = w->dst;
	w->col[10] = w->num[3];
	w->col[11] = w->num[4];
	w->col[12] = w->num[5];
	w->col[13] = w->flags;
}

static void
put_row(FILE *f, const char *const *col, const char *sep)
{
	size_t c;

	for (c = 0; c < COLUMNS; c++) {
		if (sep == NULL) {
			dpf_store_csv_field(f, col[c], c + 1 == COLUMNS);
			continue;
		}
		fputs(col[c], f);
		fputs(c + 1 == COLUMNS ? "\n" : sep, f);
	}
}

int
dpf_connstore_write_rows(FILE *f, const struct dpf_connstore_rec *recs, uint32_t n,
			 const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep)
{
	struct row w;
	uint32_t i;

	/* Formatted here, written to the caller's stream: this library prints nothing. */
	for (i = 0; i < n; i++) {
		uint16_t k = recs[i].log.iface;
		const char *node =
			k < n_ifaces && ifaces[k].interface_id ? ifaces[k].interface_id : "-";

		row_fill(&w, &recs[i], node);
		put_row(f, w.col, sep);
	}
	return ferror(f) ? -EIO : 0;
}

int
dpf_connstore_write(FILE *f, const struct dpf_connstore_rec *recs, uint32_t n,
		    const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep)
{
	put_row(f, columns, sep);
	return dpf_connstore_write_rows(f, recs, n, ifaces, n_ifaces, sep);
}
