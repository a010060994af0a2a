/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CONN_H
#define DPF_CONN_H

/**
 * @file
 * Connection records (IBM Cloud VPC flow logs, Trustgrid's connections),
 * built from a window's merged flow records: both directions of a
 * connection, its initiator and target, per-window and cumulative counters.
 *
 * A connection is (interface, protocol, unordered endpoint pair) for TCP and
 * UDP. The table outlives windows, is sized at creation and never grows;
 * when it is full a new connection's records are refused (-ENOSPC) and the
 * caller counts them (IBM's `skip data`).
 *
 * Input is per window, not per packet (doc/records.md, "Connection
 * records"): a record gives a direction's packets, bytes, first and last
 * packet times (ns) and the OR of its TCP flags in the window. Where a
 * connection may restart inside the window (a TCP SYN without ACK, an idle
 * gap longer than the timeout), the RX core cut the flow into segments
 * (both directions at that point), which come as DPF_LOG_SEGMENT rows after
 * the flow's record: this pass orders a tuple's segments by time and decides
 * at each cut, with both directions and the earlier windows, whether a new
 * connection begins; a tuple can then give several connections' flow logs
 * in one window. A record whose segments follow is not taken itself.
 *
 * Use, once per window, in output order: dpf_conn_add() for each record of
 * the window, then dpf_conn_window_close(), then dpf_conn_log_next() until
 * it returns false.
 *
 * Not thread-safe: one owner thread (the writer's IBM exporter).
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpf_flow.h"

/** Largest table (entries). */
#define DPF_CONN_MAX_CAPACITY (1u << 26)

struct dpf_conn_params {
	const char *name;    /**< for the DPDK objects; may be NULL */
	uint32_t capacity;   /**< connections held at once, 1..DPF_CONN_MAX_CAPACITY */
	uint64_t timeout_ns; /**< idle time after which a connection is over (> 0) */
	int socket_id;
};

/** One flow log: a connection's packets of one action in one window. */
struct dpf_conn_log {
	uint16_t iface;
	uint8_t proto;
	uint8_t family;
	uint8_t action; /**< enum dpf_action */
	bool was_initiated;
	bool was_terminated;
	uint8_t tcp_flags_initiator; /**< OR of every TCP flag the initiator sent (window) */
	uint8_t tcp_flags_target;
	uint8_t initiator_addr[16]; /**< as the packet arrived (pre-NAT) */
	uint8_t target_addr[16];
	uint16_t initiator_port;
	uint16_t target_port;
	struct dpf_flow_nat post;     /**< post-NAT view, initiator to target */
	uint64_t connection_start_ns; /**< first packet of the connection */
	uint64_t start_ns;	      /**< first packet of the connection in the window */
	uint64_t end_ns;	      /**< last packet of the connection in the window */
	uint64_t bytes_from_initiator;
	uint64_t packets_from_initiator;
	uint64_t bytes_from_target;
	uint64_t packets_from_target;
	uint64_t cumulative_bytes_from_initiator; /**< since the connection began, this action */
	uint64_t cumulative_packets_from_initiator;
	uint64_t cumulative_bytes_from_target;
	uint64_t cumulative_packets_from_target;
};

/** Counters (cumulative since creation). */
struct dpf_conn_stats {
	uint64_t records;	  /**< TCP/UDP records taken */
	uint64_t records_full;	  /**< refused: table full (a new connection) */
	uint64_t packets_full;	  /**< their packets */
	uint64_t opened;	  /**< connections begun */
	uint64_t expired;	  /**< removed after the idle timeout */
	uint64_t logs;		  /**< flow logs produced */
	uint64_t segments;	  /**< DPF_LOG_SEGMENT rows kept apart */
	uint64_t segments_merged; /**< ... summed with their flow instead: too many in a window */
	uint32_t active;	  /**< connections held now */
};

struct dpf_conn_table;

/**
 * Create a table.
 * @return the table, or NULL with rte_errno (EINVAL, ENOMEM, EEXIST). Needs EAL.
 */
struct dpf_conn_table *dpf_conn_create(const struct dpf_conn_params *p);

/** NULL-safe. */
void dpf_conn_free(struct dpf_conn_table *t);

/** Whether a record's protocol makes connections (TCP, UDP). */
static inline bool
dpf_conn_proto(uint8_t proto)
{
	return proto == 6 || proto == 17;
}

/**
 * Take one flow record (log_status OK, TCP or UDP) of the open window, or a
 * segment of one (DPF_LOG_SEGMENT; the OK record before its segments, with
 * segments set, is skipped: 0).
 * @return 0; -EINVAL (not a TCP/UDP flow record: nothing changed);
 *         -ENOSPC (a new connection and the table is full: counted in
 *         records_full and packets_full, nothing else changed)
 */
int dpf_conn_add(struct dpf_conn_table *t, const struct dpf_record *r);

/**
 * dpf_conn_add() for every record of a burst, their look-ups overlapped.
 * @param rc  NULL, or n results: what dpf_conn_add() would have returned
 * @return the records taken
 */
uint32_t dpf_conn_add_burst(struct dpf_conn_table *t, const struct dpf_record *recs, uint32_t n,
			    int *rc);

/**
 * Close the window: decide which connections are new, update cumulative
 * counters and termination, then drop connections idle longer than the
 * timeout at window_end_ns. The window's flow logs are then read with
 * dpf_conn_log_next(), until the next dpf_conn_add() or close.
 * @return connections with records in the window
 */
uint32_t dpf_conn_window_close(struct dpf_conn_table *t, uint64_t window_end_ns);

/**
 * The next flow log of the window just closed: by interface, then
 * connections in the order of their first record in the window (records
 * come in output order, so the order does not depend on how packets were
 * spread over cores), accepted before rejected.
 * @return false when there is none left
 */
bool dpf_conn_log_next(struct dpf_conn_table *t, struct dpf_conn_log *l);

/** Read the window's flow logs again from the first. */
void dpf_conn_log_rewind(struct dpf_conn_table *t);

/** Counters. */
void dpf_conn_stats_get(const struct dpf_conn_table *t, struct dpf_conn_stats *s);

#endif /* DPF_CONN_H */
