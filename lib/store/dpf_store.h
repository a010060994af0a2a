/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_STORE_H
#define DPF_STORE_H

/**
 * @file
 * Recent flows: a bounded ring of the records of the latest closed windows,
 * for the `show flows` and `export flows csv` commands (flow-log consoles show
 * the newest flows first, up to 10,000, filtered by any field).
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

struct dpf_store;

/**
 * An empty store of capacity records. Needs no EAL.
 * @return the store, or NULL with rte_errno = EINVAL (capacity 0) or ENOMEM
 */
struct dpf_store *dpf_store_create(uint32_t capacity);

/** NULL-safe. Once no thread uses the store. */
void dpf_store_free(struct dpf_store *s);

/** Append OK records (other rows are ignored); the oldest are overwritten. */
void dpf_store_add(struct dpf_store *s, const struct dpf_record *recs, uint32_t n);

/** Records held. */
uint32_t dpf_store_count(struct dpf_store *s);

struct dpf_store_filter {
	int32_t iface;        /**< -1: any */
	bool has_src, has_dst;
	struct {
		uint8_t family, len;
		uint8_t addr[16];
	} src, dst;           /**< pre-NAT or post-NAT address inside the prefix */
	int32_t port;         /**< -1: any; matches either port, either view */
	int32_t proto;        /**< -1: any */
	int32_t action;       /**< -1: any, else enum dpf_action */
	bool oldest_first;
	uint32_t limit;       /**< 0 = DPF_STORE_MAX_RESULTS; capped there */
	uint64_t since;       /**< Unix seconds: flows whose end is at or after it (0: any) */
	uint64_t until;       /**< Unix seconds: flows whose start is at or before it */
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
			   int (*lookup_iface)(void *arg, const char *id), void *arg,
			   char *err, size_t err_len);

/** The filter keywords dpf_store_filter_parse() takes, NULL-terminated (completion). */
extern const char *const dpf_store_filter_words[];

/**
 * A UTC time YYYY-MM-DD[THH:MM[:SS]][Z], or Unix seconds, as Unix seconds.
 * @return 0, or -EINVAL
 */
int dpf_store_time_parse(const char *s, uint64_t *sec);

/**
 * Copy matching records, newest first (or oldest first), at most max.
 * @return number copied
 */
uint32_t dpf_store_query(struct dpf_store *s, const struct dpf_store_filter *f,
			 struct dpf_record *out, uint32_t max);

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

/*
 * Shared with the connection store (dpf_connstore.h): one filter grammar,
 * one CSV writer.
 */

/**
 * The checks every filter word gets: argv[i] not given earlier (a second
 * value would replace the first), and followed by a value unless "oldest".
 * @return 0, or -EINVAL with a message
 */
int dpf_store_word_check(int argc, char **argv, int i, char *err, size_t err_len);

/**
 * since/until (w) TIME (v) into *since / *until, checked against each other.
 * @return 0, or -EINVAL with a message
 */
int dpf_store_time_word(const char *w, const char *v, uint64_t *since, uint64_t *until, char *err,
			size_t err_len);

/** One RFC 4180 field, then "," or (last) CRLF. */
void dpf_store_csv_field(FILE *f, const char *v, bool last);

#endif /* DPF_STORE_H */
