/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_STORE_H
#define DPF_STORE_H

/**
 * @file
 * Recent entries: a bounded ring of the latest closed windows' flow records
 * (`show flows`, `export flows csv`) or connection flow logs (`show
 * connections`, dpf_connstore.h): flow-log consoles show the newest first, up
 * to 10,000, filtered by any field. One ring, one filter grammar (the span's
 * words: oldest, limit, since, until) and one CSV quoting for both kinds.
 *
 * Thread safety: one writer (the writer thread) and any number of readers
 * (the CLI, telemetry); an internal mutex, never taken on the RX path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpf_flow.h"

#define DPF_STORE_MAX_RESULTS 10000

/**
 * A store: one ring of fixed-size entries of one kind, the oldest
 * overwritten once full. The kinds:
 *  - dpf_store_flows: struct dpf_record (OK rows only; NODATA/SKIPDATA rows
 *    are not kept), searched with struct dpf_store_filter (below);
 *  - dpf_store_connections: struct dpf_connstore_rec, searched with struct
 *    dpf_connstore_filter (dpf_connstore.h).
 */
struct dpf_store;
struct dpf_store_kind;

extern const struct dpf_store_kind dpf_store_flows;
extern const struct dpf_store_kind dpf_store_connections;

/**
 * An empty store of capacity entries of kind. Needs no EAL.
 * @return the store, or NULL with rte_errno = EINVAL (capacity 0) or ENOMEM
 */
struct dpf_store *dpf_store_create(const struct dpf_store_kind *kind, uint32_t capacity);

/** NULL-safe. Once no thread uses the store. */
void dpf_store_free(struct dpf_store *s);

/** Append n entries of the store's kind (those it keeps); the oldest are overwritten. */
void dpf_store_add(struct dpf_store *s, const void *entries, uint32_t n);

/** Entries held. */
uint32_t dpf_store_count(struct dpf_store *s);

/** Entries it can hold (what it was created with). */
uint32_t dpf_store_capacity(const struct dpf_store *s);

/** Bytes of one entry (room for query results). */
size_t dpf_store_entry_size(const struct dpf_store *s);

/** What every kind's filter starts with: order, count and time span. */
struct dpf_store_span {
	bool oldest_first;
	uint32_t limit; /**< 0 = DPF_STORE_MAX_RESULTS; capped there */
	uint64_t since; /**< Unix seconds: entries whose end is at or after it (0: any) */
	uint64_t until; /**< Unix seconds: entries whose start is at or before it */
};

/** An address prefix a filter's src or dst must hold. */
struct dpf_store_prefix {
	uint8_t family, len;
	uint8_t addr[16];
};

/**
 * Copy the entries filter (of the store's kind) matches, newest first (or
 * oldest first), at most max and at most its limit.
 * @return number copied
 */
uint32_t dpf_store_query(struct dpf_store *s, const void *filter, void *out, uint32_t max);

/**
 * Parse filter words for the store's kind (as dpf_store_filter_parse() or
 * dpf_connstore_filter_parse(); default_limit where no limit word is given)
 * and copy what they match into out, as dpf_store_query().
 * @return number copied, or -EINVAL with a message naming the word
 */
int dpf_store_select(struct dpf_store *s, int argc, char **argv, uint32_t default_limit,
		     int (*lookup_iface)(void *arg, const char *id), void *arg, void *out,
		     uint32_t max, char *err, size_t err_len);

/**
 * The recent flows' filter. A field filters only when its has_ flag is set
 * (its word was given): all zero but the span matches everything.
 */
struct dpf_store_filter {
	struct dpf_store_span span; /**< first: the words every kind takes */
	bool has_iface, has_src, has_dst, has_port, has_proto, has_action;
	uint16_t iface;			  /**< interface index */
	struct dpf_store_prefix src, dst; /**< pre-NAT or post-NAT address inside the prefix */
	uint16_t port;			  /**< either port, either view */
	uint8_t proto;
	uint8_t action; /**< enum dpf_action */
};

/** Filter that matches everything, newest first. */
void dpf_store_filter_init(struct dpf_store_filter *f);

/**
 * Parse filter words: iface N | src CIDR | dst CIDR | port N | proto P (0..255
 * or a name, in any letter case: tcp, udp, icmp, icmpv6, sctp, gre, esp) |
 * action ACCEPT|REJECT | oldest | limit N | since TIME | until TIME (a flow
 * matches when it was active at some second of [since, until]; TIME is Unix
 * seconds or a UTC time YYYY-MM-DD[THH:MM[:SS]][Z]). Reentrant.
 * iface takes an interface index; the caller maps ids to indexes with
 * lookup_iface (may be NULL: only numbers accepted).
 * A word given twice is an error (the second value would replace the first).
 * @return 0, or -EINVAL with a message naming the word
 */
int dpf_store_filter_parse(struct dpf_store_filter *f, int argc, char **argv,
			   int (*lookup_iface)(void *arg, const char *id), void *arg, char *err,
			   size_t err_len);

/** The filter keywords dpf_store_filter_parse() takes, NULL-terminated (completion). */
extern const char *const dpf_store_filter_words[];

/**
 * A UTC time YYYY-MM-DD[THH:MM[:SS]][Z], or Unix seconds, as Unix seconds.
 * @return 0, or -EINVAL
 */
int dpf_store_time_parse(const char *s, uint64_t *sec);

/**
 * Write records as CSV with a header: interface-id, pre- and post-NAT tuple,
 * protocol, packets, bytes, action, start and end both as
 * "MM/DD/YYYY HH:MM:SS AM/PM" (UTC) and as milliseconds since the epoch.
 * RFC 4180: CRLF after every record, header included; a field holding a
 * comma, a double quote, CR or LF is quoted and its quotes doubled.
 * @return 0 or -EIO
 */
int dpf_store_write_csv(FILE *f, const struct dpf_record *recs, uint32_t n,
			const struct dpf_iface_meta *ifaces, uint16_t n_ifaces);

/** "MM/DD/YYYY HH:MM:SS AM/PM" of a Unix time (UTC). buf >= 23 bytes. */
void dpf_store_time_text(uint64_t sec, char *buf, size_t len);

#endif /* DPF_STORE_H */
