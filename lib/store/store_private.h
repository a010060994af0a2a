/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_STORE_PRIVATE_H
#define DPF_STORE_PRIVATE_H

/*
 * What a kind of store (dpf_store_flows, dpf_store_connections) tells the
 * ring in dpf_store.c: the size of an entry, which entries it keeps, when an
 * entry was active, its filter words and match, and its table's columns;
 * and the parsers and column writers the kinds share. Internal to lib/store.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "dpf_connstore.h"
#include "dpf_store.h"

typedef int (*store_lookup_t)(void *arg, const char *id);

#define STORE_COLUMNS_MAX 20

/* The text of every column of one entry, in the kind's column order: each
 * column a constant, an interface-id, or text formatted into its slot. */
struct store_row {
	const char *col[STORE_COLUMNS_MAX];
	char text[STORE_COLUMNS_MAX][DPF_ADDR_TEXT_MAX];
};

/* How a filter word's value is read: the ring reads the span's words and the
 * typed ones; the kind's parse_word reads its own. */
enum store_word_how {
	STORE_WORD_SPAN,   /* oldest, limit, since, until: struct dpf_store_span */
	STORE_WORD_IFACE,  /* an interface-id or an index: uint16_t */
	STORE_WORD_PREFIX, /* an address or CIDR: struct dpf_store_prefix */
	STORE_WORD_PORT,   /* 0..65535: uint16_t */
	STORE_WORD_PROTO,  /* a number or a name (dpf_proto_parse): uint8_t */
	STORE_WORD_OWN,	   /* the kind's: its parse_word */
};

/* A filter word: how its value is read and, for a typed word, the offsets in
 * the kind's filter of its field and of the field's has_ flag. */
struct store_word {
	const char *name;
	enum store_word_how how;
	size_t field, given;
};

/*
 * A kind lists its words once, in the order completion and errors show them,
 * as WORDS(T, O, S): T(name, how, field) a typed word that fills field and
 * has_##field of STORE_FILTER (the kind defines it), O(name) one of its own,
 * S(name) one of the span's. The macros below make of that list the kind's
 * word table (STORE_ROW_*), its public NULL-terminated names (STORE_NAME*)
 * and the checks of its fields' types (STORE_CHECK_*).
 */
#define STORE_ROW_TYPED(name, how, field)                                                          \
	{name, STORE_WORD_##how, offsetof(STORE_FILTER, field),                                    \
	 offsetof(STORE_FILTER, has_##field)},
#define STORE_ROW_OWN(name) {name, STORE_WORD_OWN, 0, 0},
#define STORE_ROW_SPAN(name) {name, STORE_WORD_SPAN, 0, 0},
#define STORE_NAME_TYPED(name, how, field) name,
#define STORE_NAME(name) name,
/* WORDS(STORE_CHECK_TYPED, STORE_CHECK_NONE, STORE_CHECK_NONE): each typed
 * word's field is of the type its parser writes, its has_ flag a bool. */
#define STORE_TYPE_IFACE uint16_t
#define STORE_TYPE_PREFIX struct dpf_store_prefix
#define STORE_TYPE_PORT uint16_t
#define STORE_TYPE_PROTO uint8_t
#define STORE_CHECK_TYPED(name, how, field)                                                        \
	_Static_assert(_Generic(((STORE_FILTER *)0)->field, STORE_TYPE_##how : 1, default : 0) &&  \
			       _Generic(((STORE_FILTER *)0)->has_##field, bool : 1, default : 0),  \
		       name ": the field is of the type " #how " writes");
#define STORE_CHECK_NONE(name)

struct dpf_store_kind {
	size_t entry_size;
	/* NULL: every entry added is kept. */
	bool (*keep)(const void *entry);
	/* The entry's first and last second (Unix), for since/until. */
	void (*times)(const void *entry, uint64_t *start, uint64_t *end);
	/* The words of the kind, the span's included. */
	const struct store_word *words;
	size_t n_words;
	/* One of the kind's own words w (STORE_WORD_OWN) and its value v.
	 * @return 0, or -EINVAL with a message naming the word */
	int (*parse_word)(void *filter, const char *w, const char *v, store_lookup_t lookup,
			  void *arg, char *err, size_t err_len);
	/* The kind's own fields of filter (since/until are checked by the ring). */
	bool (*match)(const void *filter, const void *entry);
	/* The table's header, n_columns names (at most STORE_COLUMNS_MAX). */
	const char *const *columns;
	size_t n_columns;
	/* The columns of one entry; ifaces give the interface-ids. */
	void (*row)(const void *entry, const struct dpf_iface_meta *ifaces, uint16_t n_ifaces,
		    struct store_row *w);
};

/*
 * The members of a kind's struct dpf_store_kind that every kind defines in
 * its file under the same static names: its word table `words`, `parse_word`,
 * `matches`, `columns` and `row`. A kind's initializer names its entry size,
 * keep (when it has one) and times, then STORE_KIND_TABLES; the counts follow
 * from the arrays.
 */
#define STORE_KIND_TABLES                                                                          \
	.words = words, .n_words = RTE_DIM(words), .parse_word = parse_word, .match = matches,     \
	.columns = columns, .n_columns = RTE_DIM(columns), .row = row

/* Either kind's filter; each starts with its struct dpf_store_span. */
union store_filter {
	struct dpf_store_span span;
	struct dpf_store_filter flows;
	struct dpf_connstore_filter connections;
};

/*
 * Parse filter words into a filter of kind k (already initialised): the
 * span's words here, the others by k->parse_word. Reentrant.
 * @return 0, or -EINVAL with a message naming the word
 */
int store_filter_parse(const struct dpf_store_kind *k, void *filter, int argc, char **argv,
		       store_lookup_t lookup, void *arg, char *err, size_t err_len);

/*
 * Entries of kind k as a table: the header (when header), then a row each;
 * RFC 4180 CSV when sep is NULL, else fields joined by sep, unquoted.
 * @return 0 or -EIO
 */
int store_write(FILE *f, const struct dpf_store_kind *k, const void *entries, uint32_t n,
		const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep,
		bool header);

/* Column c of a row: an interface's interface-id, or "-". */
void store_col_iface(struct store_row *w, size_t c, uint16_t iface,
		     const struct dpf_iface_meta *ifaces, uint16_t n_ifaces);

/* Column c of a row: a number, an address, a time as dpf_store_time_text(). */
void store_col_u64(struct store_row *w, size_t c, uint64_t v);
void store_col_addr(struct store_row *w, size_t c, uint8_t family, const uint8_t *addr);
void store_col_time(struct store_row *w, size_t c, uint64_t sec);

/* Whether family/addr lies in the prefix (a filter's src or dst). */
bool store_in_prefix(const struct dpf_store_prefix *p, uint8_t family, const uint8_t *addr);

/* A filter of size bytes (either kind's) that matches everything, newest
 * first: all zero but the span's until. */
void store_filter_init(void *filter, size_t size);

#endif /* DPF_STORE_PRIVATE_H */
