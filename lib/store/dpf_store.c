/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring under every kind of store, and what the kinds share: the span's
 * filter words (oldest, limit, since, until), the word checks, prefixes,
 * interfaces and CSV quoting. The kinds are dpf_store_flows.c and
 * dpf_connstore.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_store.h"
#include "dpf_util.h"
#include "store_private.h"

struct dpf_store {
	const struct dpf_store_kind *kind;
	pthread_mutex_t lock;
	uint32_t capacity;
	uint32_t head; /* next slot to write */
	uint32_t count;
	unsigned char *slots; /* capacity entries, the oldest at head once full */
};

struct dpf_store *
dpf_store_create(const struct dpf_store_kind *kind, uint32_t capacity)
{
	struct dpf_store *s;

	if (capacity == 0)
		return dpf_null_errno(EINVAL);
	s = calloc(1, sizeof(*s) + (size_t)capacity * kind->entry_size);
	if (s == NULL)
		return dpf_null_errno(ENOMEM);
	pthread_mutex_init(&s->lock, NULL);
	s->kind = kind;
	s->capacity = capacity;
	s->slots = (unsigned char *)(s + 1);
	return s;
}

void
dpf_store_free(struct dpf_store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Under the lock: the slot to write next (the oldest once full). */
static unsigned char *
push(struct dpf_store *s)
{
	uint32_t slot = s->head;

	s->head = (s->head + 1) % s->capacity;
	if (s->count < s->capacity)
		s->count++;
	return s->slots + (size_t)slot * s->kind->entry_size;
}

/* Under the lock: the i-th entry, newest first or oldest first. Insertion
 * order is window order: newest = last written. */
static const unsigned char *
entry_at(const struct dpf_store *s, uint32_t i, bool oldest_first)
{
	uint32_t slot = oldest_first ? (s->head + s->capacity - s->count + i) % s->capacity
				     : (s->head + s->capacity - 1 - i) % s->capacity;

	return s->slots + (size_t)slot * s->kind->entry_size;
}

void
dpf_store_add(struct dpf_store *s, const void *entries, uint32_t n)
{
	const struct dpf_store_kind *k = s->kind;
	const unsigned char *e = entries;
	uint32_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++, e += k->entry_size)
		if (k->keep == NULL || k->keep(e))
			memcpy(push(s), e, k->entry_size);
	pthread_mutex_unlock(&s->lock);
}

uint32_t
dpf_store_count(struct dpf_store *s)
{
	uint32_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint32_t
dpf_store_capacity(const struct dpf_store *s)
{
	return s->capacity; /* set once at creation */
}

size_t
dpf_store_entry_size(const struct dpf_store *s)
{
	return s->kind->entry_size;
}

/* Active at some second of [since, until], and matched by the kind. */
static bool
selected(const struct dpf_store_kind *k, const void *filter, const void *e)
{
	const struct dpf_store_span *span = filter;
	uint64_t start, end;

	k->times(e, &start, &end);
	if (end < span->since || start > span->until)
		return false;
	return k->match(filter, e);
}

uint32_t
dpf_store_query(struct dpf_store *s, const void *filter, void *out, uint32_t max)
{
	const struct dpf_store_span *span = filter;
	const struct dpf_store_kind *k = s->kind;
	uint32_t limit = span->limit, i, n = 0;
	unsigned char *o = out;

	if (limit == 0 || limit > DPF_STORE_MAX_RESULTS)
		limit = DPF_STORE_MAX_RESULTS;
	if (max > limit)
		max = limit;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->count && n < max; i++) {
		const unsigned char *e = entry_at(s, i, span->oldest_first);

		if (selected(k, filter, e))
			memcpy(o + (size_t)n++ * k->entry_size, e, k->entry_size);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
dpf_store_select(struct dpf_store *s, int argc, char **argv, uint32_t default_limit,
		 int (*lookup_iface)(void *arg, const char *id), void *arg, void *out, uint32_t max,
		 char *err, size_t err_len)
{
	union store_filter f;

	store_filter_init(&f, sizeof(f));
	f.span.limit = default_limit;
	if (store_filter_parse(s->kind, &f, argc, argv, lookup_iface, arg, err, err_len) < 0)
		return -EINVAL;
	return (int)dpf_store_query(s, &f, out, max);
}

/* ------------------------------------------------------------ filter words */

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

/* since/until (w) TIME (v), checked against each other. */
static int
time_word(struct dpf_store_span *span, const char *w, const char *v, char *err, size_t err_len)
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
		span->since = t;
	else
		span->until = t;
	if (span->since > span->until) {
		snprintf(err, err_len, "%s '%s': since is after until", w, v);
		return -EINVAL;
	}
	return 0;
}

static int
limit_word(struct dpf_store_span *span, const char *v, char *err, size_t err_len)
{
	uint64_t n;

	if (dpf_parse_u64(v, DPF_STORE_MAX_RESULTS, &n) < 0 || n == 0) {
		snprintf(err, err_len, "limit '%s': expected 1..%d", v, DPF_STORE_MAX_RESULTS);
		return -EINVAL;
	}
	span->limit = (uint32_t)n;
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

/* argv[i] not given earlier, and followed by a value unless "oldest". */
static int
word_check(int argc, char **argv, int i, char *err, size_t err_len)
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

/* The kind's word w, or NULL with "unknown filter 'w' (the kind's words)". */
static const struct store_word *
known_word(const struct dpf_store_kind *k, const char *w, char *err, size_t err_len)
{
	size_t i, at;

	for (i = 0; i < k->n_words; i++)
		if (strcmp(k->words[i].name, w) == 0)
			return &k->words[i];
	at = (size_t)snprintf(err, err_len, "unknown filter '%s' (", w);
	for (i = 0; i < k->n_words && at < err_len; i++)
		at += (size_t)snprintf(err + at, err_len - at, "%s%s", i > 0 ? ", " : "",
				       k->words[i].name);
	if (at < err_len)
		snprintf(err + at, err_len - at, ")");
	return NULL;
}

static int
prefix_word(struct dpf_store_prefix *p, bool *given, const char *w, const char *v, char *err,
	    size_t err_len)
{
	/* Host bits may be set: entries inside the prefix match. */
	if (dpf_cidr_parse(v, p->addr, &p->family, &p->len) < 0) {
		snprintf(err, err_len, "%s '%s': not an address or CIDR", w, v);
		return -EINVAL;
	}
	*given = true;
	return 0;
}

static int
iface_word(uint16_t *iface, bool *given, const char *w, const char *v, store_lookup_t lookup,
	   void *arg, char *err, size_t err_len)
{
	int idx = lookup != NULL ? lookup(arg, v) : -1;
	uint64_t n;

	if (idx < 0 && dpf_parse_u64(v, 65535, &n) == 0)
		idx = (int)n;
	if (idx < 0 || idx > UINT16_MAX) {
		snprintf(err, err_len, "%s '%s': no such interface", w, v);
		return -EINVAL;
	}
	*iface = (uint16_t)idx;
	*given = true;
	return 0;
}

static int
port_word(uint16_t *port, bool *given, const char *w, const char *v, char *err, size_t err_len)
{
	uint64_t n;

	if (dpf_parse_u64(v, 65535, &n) < 0) {
		snprintf(err, err_len, "%s '%s': expected 0..65535", w, v);
		return -EINVAL;
	}
	*port = (uint16_t)n;
	*given = true;
	return 0;
}

static int
proto_word(uint8_t *proto, bool *given, const char *v, char *err, size_t err_len)
{
	if (dpf_proto_parse(v, true, proto) < 0) {
		snprintf(err, err_len,
			 "proto '%s': expected tcp, udp, icmp, icmpv6, sctp, gre, esp or 0..255",
			 v);
		return -EINVAL;
	}
	*given = true;
	return 0;
}

/* Word d and its value v into filter. */
static int
word_value(const struct dpf_store_kind *k, const struct store_word *d, void *filter, const char *v,
	   store_lookup_t lookup, void *arg, char *err, size_t err_len)
{
	struct dpf_store_span *span = filter;
	void *field = (char *)filter + d->field;
	bool *given = (bool *)((char *)filter + d->given);

	switch (d->how) {
	case STORE_WORD_SPAN:
		if (strcmp(d->name, "limit") == 0)
			return limit_word(span, v, err, err_len);
		return time_word(span, d->name, v, err, err_len); /* since, until */
	case STORE_WORD_IFACE:
		return iface_word(field, given, d->name, v, lookup, arg, err, err_len);
	case STORE_WORD_PREFIX:
		return prefix_word(field, given, d->name, v, err, err_len);
	case STORE_WORD_PORT:
		return port_word(field, given, d->name, v, err, err_len);
	case STORE_WORD_PROTO:
		return proto_word(field, given, v, err, err_len);
	case STORE_WORD_OWN:
		break;
	}
	return k->parse_word(filter, d->name, v, lookup, arg, err, err_len);
}

int
store_filter_parse(const struct dpf_store_kind *k, void *filter, int argc, char **argv,
		   store_lookup_t lookup, void *arg, char *err, size_t err_len)
{
	struct dpf_store_span *span = filter;
	int i;

	for (i = 0; i < argc; i++) {
		const struct store_word *d = known_word(k, argv[i], err, err_len);

		if (d == NULL || word_check(argc, argv, i, err, err_len) < 0)
			return -EINVAL;
		if (strcmp(d->name, "oldest") == 0) {
			span->oldest_first = true;
			continue;
		}
		if (word_value(k, d, filter, argv[++i], lookup, arg, err, err_len) < 0)
			return -EINVAL;
	}
	return 0;
}

bool
store_in_prefix(const struct dpf_store_prefix *p, uint8_t family, const uint8_t *addr)
{
	return p->family == family && dpf_prefix_match(p->addr, addr, p->len);
}

void
store_filter_init(void *filter, size_t size)
{
	struct dpf_store_span *span = filter;

	memset(filter, 0, size);
	span->until = UINT64_MAX;
}

/* --------------------------------------------------------------------- CSV */

void
dpf_store_time_text(uint64_t sec, char *buf, size_t len)
{
	dpf_utc_text(buf, len, "%m/%d/%Y %I:%M:%S %p", sec);
}

/*
 * One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF (an
 * interface-id may hold any printable character), its quotes doubled.
 */
static void
csv_field(FILE *f, const char *v, bool last)
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

static void
put_row(FILE *f, const char *const *col, size_t n, const char *sep)
{
	size_t c;

	for (c = 0; c < n; c++) {
		if (sep == NULL) {
			csv_field(f, col[c], c + 1 == n);
			continue;
		}
		fputs(col[c], f);
		fputs(c + 1 == n ? "\n" : sep, f);
	}
}

int
store_write(FILE *f, const struct dpf_store_kind *k, const void *entries, uint32_t n,
	    const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep, bool header)
{
	const unsigned char *e = entries;
	struct store_row w;
	uint32_t i;

	/* Formatted here, written to the caller's stream: this library prints nothing. */
	if (header)
		put_row(f, k->columns, k->n_columns, sep);
	for (i = 0; i < n; i++, e += k->entry_size) {
		k->row(e, ifaces, n_ifaces, &w);
		put_row(f, w.col, k->n_columns, sep);
	}
	return ferror(f) ? -EIO : 0;
}

void
store_col_iface(struct store_row *w, size_t c, uint16_t iface, const struct dpf_iface_meta *ifaces,
		uint16_t n_ifaces)
{
	w->col[c] = iface < n_ifaces && ifaces[iface].interface_id != NULL
			    ? ifaces[iface].interface_id
			    : "-";
}

void
store_col_u64(struct store_row *w, size_t c, uint64_t v)
{
	snprintf(w->text[c], sizeof(w->text[c]), "%" PRIu64, v);
	w->col[c] = w->text[c];
}

void
store_col_addr(struct store_row *w, size_t c, uint8_t family, const uint8_t *addr)
{
	dpf_addr_format(family, addr, w->text[c], sizeof(w->text[c]));
	w->col[c] = w->text[c];
}

void
store_col_time(struct store_row *w, size_t c, uint64_t sec)
{
	dpf_store_time_text(sec, w->text[c], sizeof(w->text[c]));
	w->col[c] = w->text[c];
}
