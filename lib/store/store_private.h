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

struct dpf_store_kind {
	size_t entry_size;
	/* NULL: every entry added is kept. */
	bool (*keep)(const void *entry);
	/* The entry's first and last second (Unix), for since/until. */
	void (*times)(const void *entry, uint64_t *start, uint64_t *end);
	/* The words of the kind, NULL-terminated, the span's included. */
	const char *const *words;
	/* One of the kind's own words w (not the span's) and its value v.
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

/* A CIDR word (src, dst) into p; sets *given. @return 0, or -EINVAL with a message */
int store_prefix_word(struct dpf_store_prefix *p, bool *given, const char *w, const char *v,
		      char *err, size_t err_len);

/* An interface word (iface, src-node, dst-node): an interface-id or an index;
 * sets *given. @return 0, or -EINVAL with a message */
int store_iface_word(uint16_t *iface, bool *given, const char *w, const char *v,
		     store_lookup_t lookup, void *arg, char *err, size_t err_len);

/* A port word (port, sport, dport): 0..65535; sets *given.
 * @return 0, or -EINVAL with a message */
int store_port_word(uint16_t *port, bool *given, const char *w, const char *v, char *err,
		    size_t err_len);

/* A protocol word: a number or a name (dpf_proto_parse); sets *given.
 * @return 0, or -EINVAL with a message */
int store_proto_word(uint8_t *proto, bool *given, const char *v, char *err, size_t err_len);

/* What matches everything: all zero but the span's until. */
void store_span_init(struct dpf_store_span *span);

#endif /* DPF_STORE_PRIVATE_H */
