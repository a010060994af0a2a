/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_store.h"
#include "dpf_util.h"
#include "store_ring.h"

struct dpf_store {
	struct store_ring r; /* of struct dpf_record, the oldest at head once full */
};

void
dpf_store_free(struct dpf_store *s)
{
	store_ring_free(s != NULL ? &s->r : NULL);
}

struct dpf_store *
dpf_store_create(uint32_t capacity)
{
	return store_ring_new(sizeof(struct dpf_store), sizeof(struct dpf_record), capacity);
}

/* Flows only: NODATA/SKIPDATA rows are not kept. */
static bool
is_flow(const void *unused, const void *rec)
{
	return ((const struct dpf_record *)rec)->log_status == DPF_LOG_OK;
}

void
dpf_store_add(struct dpf_store *s, const struct dpf_record *recs, uint32_t n)
{
	store_ring_add(&s->r, recs, n, is_flow);
}

uint32_t
dpf_store_count(struct dpf_store *s)
{
	return store_ring_count(&s->r);
}

void
dpf_store_filter_init(struct dpf_store_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->iface = -1;
	f->port = -1;
	f->proto = -1;
	f->action = -1;
	f->until = UINT64_MAX;
}

const char *const dpf_store_filter_words[] = {
	"iface", "src", "dst", "port", "proto", "action", "oldest", "limit", "since", "until", NULL,
};

int
dpf_store_time_parse(const char *s, uint64_t *sec)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
	size_t i;

	if (dpf_parse_u64(s, UINT64_MAX / 2, sec) == 0)
		return 0;
	for (i = 0; i < RTE_DIM(forms); i++) {
		struct tm tm = {0};
		const char *end = strptime(s, forms[i], &tm);
		time_t t;

		/* Whole words only, UTC: a trailing Z is allowed, nothing else. */
		if (end == NULL || (end[0] != '\0' && !(end[0] == 'Z' && end[1] == '\0')))
			continue;
		t = timegm(&tm);
		if (t < 0)
			return -EINVAL;
		*sec = (uint64_t)t;
		return 0;
	}
	return -EINVAL;
}

int
dpf_store_time_word(const char *w, const char *v, uint64_t *since, uint64_t *until, char *err,
		    size_t err_len)
{
	uint64_t t;

	if (dpf_store_time_parse(v, &t) < 0) {
		snprintf(err, err_len,
			 "%s '%s': expected a UTC time YYYY-MM-DDTHH:MM:SS (or YYYY-MM-DD, "
			 "YYYY-MM-DDTHH:MM; a trailing Z is allowed) or Unix seconds",
			 w, v);
		return -EINVAL;
	}
	if (w[0] == 's')
		*since = t;
	else
		*until = t;
	if (*since > *until) {
		snprintf(err, err_len, "%s '%s': since is after until", w, v);
		return -EINVAL;
	}
	return 0;
}

/*
 * Where filter word `w` (at position `at`) came earlier, or -1: a second value
 * would silently replace the first. Words take one value but "oldest".
 */
static int
filter_seen_at(char **argv, int at, const char *w)
{
	int j;

	for (j = 0; j < at; j += strcmp(argv[j], "oldest") == 0 ? 1 : 2)
		if (strcmp(argv[j], w) == 0)
			return j;
	return -1;
}

int
dpf_store_word_check(int argc, char **argv, int i, char *err, size_t err_len)
{
	const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
	int first = filter_seen_at(argv, i, w);

	if (first >= 0 && strcmp(w, "oldest") == 0) {
		snprintf(err, err_len, "filter 'oldest' given twice: give it once");
		return -EINVAL;
	}
	if (first >= 0) {
		snprintf(err, err_len, "filter '%s' given twice ('%s', then '%s'): give it once", w,
			 argv[first + 1], v != NULL ? v : "");
		return -EINVAL;
	}
	if (strcmp(w, "oldest") != 0 && v == NULL) {
		snprintf(err, err_len, "'%s' needs a value", w);
		return -EINVAL;
	}
	return 0;
}

int
dpf_store_filter_parse(struct dpf_store_filter *f, int argc, char **argv,
		       int (*lookup_iface)(void *arg, const char *id), void *arg, char *err,
		       size_t err_len)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		uint8_t proto;

		if (dpf_store_word_check(argc, argv, i, err, err_len) < 0)
			return -EINVAL;
		if (strcmp(w, "oldest") == 0) {
			f->oldest_first = true;
			continue;
		}
		i++;
		if (strcmp(w, "iface") == 0) {
			int idx = lookup_iface != NULL ? lookup_iface(arg, v) : -1;

			if (idx < 0 && dpf_parse_u64(v, 65535, &n) == 0)
				idx = (int)n;
			if (idx < 0) {
				snprintf(err, err_len, "iface '%s': no such interface", v);
				return -EINVAL;
			}
			f->iface = idx;
		} else if (strcmp(w, "src") == 0 || strcmp(w, "dst") == 0) {
			bool src = w[0] == 's';

			/* Host bits may be set: records inside the prefix match. */
			if (dpf_cidr_parse(v, src ? f->src.addr : f->dst.addr,
					   src ? &f->src.family : &f->dst.family,
					   src ? &f->src.len : &f->dst.len) < 0) {
				snprintf(err, err_len, "%s '%s': not an address or CIDR", w, v);
				return -EINVAL;
			}
			if (src)
				f->has_src = true;
			else
				f->has_dst = true;
		} else if (strcmp(w, "port") == 0) {
			if (dpf_parse_u64(v, 65535, &n) < 0) {
				snprintf(err, err_len, "port '%s': expected 0..65535", v);
				return -EINVAL;
			}
			f->port = (int32_t)n;
		} else if (strcmp(w, "proto") == 0) {
			if (dpf_proto_parse(v, true, &proto) < 0) {
				snprintf(err, err_len,
					 "proto '%s': expected tcp, udp, icmp, icmpv6, sctp or 0..255", v);
				return -EINVAL;
			}
			f->proto = proto;
		} else if (strcmp(w, "action") == 0) {
			if (strcasecmp(v, "ACCEPT") == 0)
				f->action = DPF_ACTION_ACCEPT;
			else if (strcasecmp(v, "REJECT") == 0)
				f->action = DPF_ACTION_REJECT;
			else {
				snprintf(err, err_len, "action '%s': expected ACCEPT or REJECT", v);
				return -EINVAL;
			}
		} else if (strcmp(w, "limit") == 0) {
			if (dpf_parse_u64(v, DPF_STORE_MAX_RESULTS, &n) < 0 || n == 0) {
				snprintf(err, err_len, "limit '%s': expected 1..%d", v,
					 DPF_STORE_MAX_RESULTS);
				return -EINVAL;
			}
			f->limit = (uint32_t)n;
		} else if (strcmp(w, "since") == 0 || strcmp(w, "until") == 0) {
			if (dpf_store_time_word(w, v, &f->since, &f->until, err, err_len) < 0)
				return -EINVAL;
		} else {
			snprintf(err, err_len,
				 "unknown filter '%s' (iface, src, dst, port, proto, action, "
				 "oldest, limit, since, until)",
				 w);
			return -EINVAL;
		}
	}
	return 0;
}

static bool
in_prefix(uint8_t family, uint8_t len, const uint8_t *prefix, uint8_t rfamily,
	  const uint8_t *addr)
{
	return family == rfamily && dpf_prefix_match(prefix, addr, len);
}

static bool
matches(const void *filter, const void *rec)
{
	const struct dpf_store_filter *f = filter;
	const struct dpf_record *r = rec;
	const struct dpf_flow_key *k = &r->key;

	if (f->iface >= 0 && k->iface != f->iface)
		return false;
	if (f->proto >= 0 && k->proto != f->proto)
		return false;
	if (f->action >= 0 && k->action != f->action)
		return false;
	/* Active at some second of [since, until]. */
	if (r->end < f->since || r->start > f->until)
		return false;
	if (f->port >= 0 && k->src_port != f->port && k->dst_port != f->port &&
	    r->post.src_port != f->port && r->post.dst_port != f->port)
		return false;
	if (f->has_src && !in_prefix(f->src.family, f->src.len, f->src.addr, k->family,
				     k->src_addr) &&
	    !in_prefix(f->src.family, f->src.len, f->src.addr, k->family, r->post.src_addr))
		return false;
	if (f->has_dst && !in_prefix(f->dst.family, f->dst.len, f->dst.addr, k->family,
				     k->dst_addr) &&
	    !in_prefix(f->dst.family, f->dst.len, f->dst.addr, k->family, r->post.dst_addr))
		return false;
	return true;
}

uint32_t
dpf_store_query(struct dpf_store *s, const struct dpf_store_filter *f, struct dpf_record *out,
		uint32_t max)
{
	return store_ring_query(&s->r, f, matches, f->oldest_first, f->limit, out, max);
}

void
dpf_store_time_text(uint64_t sec, char *buf, size_t len)
{
	dpf_utc_text(buf, len, "%m/%d/%Y %I:%M:%S %p", sec);
}

/*
 * One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF (an
 * interface-id may hold any printable character), its quotes doubled.
 */
void
dpf_store_csv_field(FILE *f, const char *v, bool last)
{
	if (strpbrk(v, ",\"\r\n") == NULL) {
		fputs(v, f);
	} else {
		fputc('"', f);
		for (; *v != '\0'; v++) {
			if (*v == '"')
				fputc('"', f);
			fputc(*v, f);
		}
		fputc('"', f);
	}
	fputs(last ? "\r\n" : ",", f);
}

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
		dpf_store_csv_field(f, csv_columns[c], c + 1 == CSV_COLUMNS);
	for (i = 0; i < n; i++) {
		const struct dpf_record *r = &recs[i];
		const char *id = r->key.iface < n_ifaces && ifaces[r->key.iface].interface_id
					 ? ifaces[r->key.iface].interface_id
					 : "-";

		csv_row_fill(&w, r, id);
		for (c = 0; c < CSV_COLUMNS; c++)
			dpf_store_csv_field(f, w.col[c], c + 1 == CSV_COLUMNS);
	}
	return ferror(f) ? -EIO : 0;
}
