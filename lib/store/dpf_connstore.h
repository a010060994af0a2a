/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CONNSTORE_H
#define DPF_CONNSTORE_H

/**
 * @file
 * Recent connections: the entries of a store of kind dpf_store_connections
 * (dpf_store.h), the connection flow logs (lib/conn) of the latest closed
 * windows, for `show connections` and `export connections csv` (Trustgrid's view: a flow as a
 * connection, the initiator's sent and received bytes, newest first, up to 10,000, filtered by any
 * field).
 *
 * Thread safety: one writer (the writer thread's connection pass) and any
 * number of readers (the CLI); an internal mutex, never taken on the RX path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpf_conn.h"
#include "dpf_flow.h"
#include "dpf_store.h"

/** One stored flow log and which side of it is the interface's. */
struct dpf_connstore_rec {
	struct dpf_conn_log log;
	/** The initiator's address is one of the interface's (IBM's direction O):
	 *  the interface is the Source Node, else the Dest Node. */
	bool outbound;
};

/**
 * The recent connections' filter (a store of kind dpf_store_connections). A
 * field with a has_ flag filters only when it is set (its word was given);
 * the others filter as they are: all zero but the span matches everything.
 */
struct dpf_connstore_filter {
	struct dpf_store_span span; /**< first: the words every kind takes */
	bool has_src_node, has_dst_node, has_src, has_dst, has_sport, has_dport, has_proto;
	uint16_t src_node, dst_node; /**< interface index */
	struct dpf_store_prefix src,
		dst; /**< the initiator's / target's address inside the prefix */
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t min_sent, min_recv; /**< bytes from the initiator / the target, at least */
	uint8_t flags; /**< TCP flag bits that must all have been seen (either side) */
};

/** Filter that matches everything, newest first. */
void dpf_connstore_filter_init(struct dpf_connstore_filter *f);

/**
 * Parse filter words: since TIME | until TIME | proto P | src-node ID |
 * src CIDR | sport N | dst-node ID | dst CIDR | dport N | sent N (at least N
 * bytes sent) | recv N | flags NAME[,NAME...] (SYN, ACK, FIN, RST, PSH, URG,
 * any letter case: all of them seen) | oldest | limit N. TIME as in
 * dpf_store_filter_parse(). lookup_iface maps an interface-id to its index
 * (may be NULL: only numbers). A word given twice is an error. Reentrant.
 * @return 0, or -EINVAL with a message naming the word
 */
int dpf_connstore_filter_parse(struct dpf_connstore_filter *f, int argc, char **argv,
			       int (*lookup_iface)(void *arg, const char *id), void *arg, char *err,
			       size_t err_len);

/** The filter keywords, NULL-terminated (completion, help). */
extern const char *const dpf_connstore_filter_words[];

/** TCP flag bits as names joined by commas ("SYN,ACK"), "-" for none. buf >= 28 bytes. */
void dpf_connstore_flags_text(uint8_t flags, char *buf, size_t len);

/**
 * Write flow logs as CSV with Trustgrid's columns (Start Time, Start Time
 * (ms), End Time, End Time (ms), Protocol, Source Node, Source IP, Source
 * Port, Dest Node, Dest IP, Dest Port, Sent Bytes, Recv Bytes, TCP Flags),
 * RFC 4180 as dpf_store_write_csv(). sep NULL: CSV; else a plain table whose
 * fields are joined by sep, unquoted (the prompt's view).
 * @return 0 or -EIO
 */
int dpf_connstore_write(FILE *f, const struct dpf_connstore_rec *recs, uint32_t n,
			const struct dpf_iface_meta *ifaces, uint16_t n_ifaces, const char *sep);

/**
 * dpf_connstore_write() without the header line: rows appended to a file
 * that already has it (the daily tg-flow-logs object, window by window).
 * @return 0 or -EIO
 */
int dpf_connstore_write_rows(FILE *f, const struct dpf_connstore_rec *recs, uint32_t n,
			     const struct dpf_iface_meta *ifaces, uint16_t n_ifaces,
			     const char *sep);

#endif /* DPF_CONNSTORE_H */
