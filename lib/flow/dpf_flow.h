/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_FLOW_H
#define DPF_FLOW_H

/**
 * @file
 * Flow key, per-flow counters and the record type shared by the flow table,
 * the window merge and the formatter.
 *
 * A flow is unidirectional: (interface, family, src, dst, sport, dport,
 * protocol, action) of the packet as it arrived (pre-NAT view); for a packet
 * taken out of a tunnel (dpf_pkt_decap()), the inner packet's plus the tunnel
 * type and id. Keys are fixed-size, zeroed in full (padding included) and
 * compared in full.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dpf_pkt.h"

enum dpf_action {
	DPF_ACTION_ACCEPT = 0,
	DPF_ACTION_REJECT = 1,
};

enum dpf_log_status {
	DPF_LOG_OK = 0,
	DPF_LOG_NODATA,
	DPF_LOG_SKIPDATA,
	/**
	 * One segment of the flow record before it (connection records only:
	 * the writer gives these rows to the exporters that ask for them).
	 */
	DPF_LOG_SEGMENT,
};

enum dpf_direction {
	DPF_DIR_UNKNOWN = 0,
	DPF_DIR_INGRESS,
	DPF_DIR_EGRESS,
};

/** 48 bytes: three 16-byte lanes, compared in full. */
struct dpf_flow_key {
	uint8_t src_addr[16]; /**< IPv4 in bytes 0..3, rest zero */
	uint8_t dst_addr[16];
	uint16_t src_port; /**< host order */
	uint16_t dst_port;
	uint16_t iface; /**< logged interface index */
	uint8_t proto;
	uint8_t family;	    /**< 4 or 6 */
	uint8_t action;	    /**< enum dpf_action */
	uint8_t tun_type;   /**< enum dpf_pkt_tun_type: 0 when not decapsulated */
	uint8_t tun_has_id; /**< DPF_PKT_TUN_ID_*: tun_id is none, an id, an NVGRE VSID */
	/**
	 * 0, except in a flow table entry that keeps an earlier segment of a
	 * flow (1, 2, ...: in the order they were cut off), when connection
	 * records split the flow where a connection may restart inside the
	 * window (DPF_SEG_*). The merge sums a flow's segments into its record.
	 */
	uint8_t seg;
	uint32_t tun_id;       /**< VNI, VSID or GRE key; 0 when none */
} __attribute__((aligned(8))); /* hashed and compared as 64-bit words */

_Static_assert(sizeof(struct dpf_flow_key) == 48, "flow key must stay 48 bytes");

/** Equal but for seg: segments of one flow. */
static inline bool
dpf_flow_key_same_flow(const struct dpf_flow_key *a, const struct dpf_flow_key *b)
{
	return memcmp(a, b, offsetof(struct dpf_flow_key, seg)) == 0 && a->tun_id == b->tun_id;
}

/*
 * Why a segment of a flow begins (dpf_flow_counters.seg_flags): where a
 * connection may restart (lib/conn decides, seeing both directions), or
 * where the reverse direction restarted, so that each direction's packets
 * before and after that point are in different segments.
 */
#define DPF_SEG_SYN 0x01 /**< at a TCP SYN without ACK */
#define DPF_SEG_GAP 0x02 /**< after an idle gap longer than the connection timeout */
#define DPF_SEG_CUT 0x04 /**< live entry: cut at its next packet (the reverse restarted) */

/** What a flow carried in one window. */
struct dpf_flow_counters {
	uint64_t packets;
	uint64_t bytes;	       /**< sum of IP total length */
	uint64_t first_ns;     /**< earliest packet time in the window (Unix ns) */
	uint64_t last_ns;      /**< latest packet time in the window (Unix ns) */
	uint8_t tcp_flags_aws; /**< OR of dpf_pkt_tcp_flags_aws() */
	uint8_t tcp_flags_all; /**< OR of every TCP flag byte */
	uint8_t direction;     /**< enum dpf_direction */
	uint8_t segs;	       /**< earlier segments cut off this entry (keys seg 1..segs) */
	uint8_t seg_flags;     /**< DPF_SEG_*: why this segment began; DPF_SEG_CUT pending */
	uint8_t pad[3];
};

/** Post-NAT view of a flow (equal to the key's addresses without NAT). */
struct dpf_flow_nat {
	uint8_t src_addr[16];
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
};

/**
 * The outer addresses of a decapsulated flow: those of its earliest packet
 * (dpf_flow_tun_ends_earlier() decides), so a record does not depend on how
 * packets were spread over cores.
 */
struct dpf_flow_tun_ends {
	uint8_t src_addr[16]; /**< outer IP source (IPv4 in bytes 0..3) */
	uint8_t dst_addr[16];
	uint64_t first_ns; /**< time of the packet they come from */
	uint8_t family;	   /**< 4 or 6; 0: none */
	uint8_t pad[7];
};

/**
 * Whether outer addresses seen at t_ns (source src) replace those in e: an
 * earlier packet wins, at the same time the lower outer source address.
 */
static inline bool
dpf_flow_tun_ends_earlier(const struct dpf_flow_tun_ends *e, uint64_t t_ns, uint8_t family,
			  const uint8_t *src)
{
	if (e->family == 0 || t_ns < e->first_ns)
		return true;
	if (t_ns > e->first_ns)
		return false;
	if (family != e->family)
		return family < e->family;
	return memcmp(src, e->src_addr, 16) < 0;
}

/** One output row: a flow record, or a NODATA / SKIPDATA row. */
struct dpf_record {
	struct dpf_flow_key key;  /**< pre-NAT view; NODATA/SKIPDATA: only iface set */
	struct dpf_flow_nat post; /**< post-NAT view */
	uint64_t packets;
	uint64_t bytes;
	uint64_t start;	   /**< Unix seconds */
	uint64_t end;	   /**< Unix seconds */
	uint64_t first_ns; /**< first packet (Unix ns): orders the directions of a
				connection (lib/conn); 0 in NODATA/SKIPDATA rows */
	uint64_t last_ns;  /**< last packet (Unix ns) */
	uint8_t tcp_flags_aws;
	uint8_t tcp_flags_all;
	uint8_t log_status;   /**< enum dpf_log_status */
	uint8_t direction;    /**< enum dpf_direction */
	uint8_t traffic_path; /**< 0: unknown ("-"), else AWS code 1..8 */
	uint16_t src_service; /**< 0: none, else index + 1 in the service table */
	uint16_t dst_service;
	struct dpf_flow_tun_ends tun; /**< decapsulated flows (key.tun_type): outer addresses */
	/**
	 * OK rows: segments follows, the flow's DPF_LOG_SEGMENT rows come right
	 * after it. SEGMENT rows: DPF_SEG_SYN / DPF_SEG_GAP of its beginning.
	 */
	uint8_t seg_flags;
	bool segments;
};

/**
 * Build a flow key from a parsed packet (fully zeroed first).
 *
 * @param key    out
 * @param pi     parsed packet (DPF_PKT_OK)
 * @param iface  logged interface index
 * @param action enum dpf_action
 */
void dpf_flow_key_from_pkt(struct dpf_flow_key *key, const struct dpf_pkt_info *pi, uint16_t iface,
			   uint8_t action);

static inline bool
dpf_flow_key_equal(const struct dpf_flow_key *a, const struct dpf_flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/**
 * Total order used for output: iface, family, src, dst, proto, sport, dport,
 * action, tun_type, tun_has_id, tun_id (addresses compared as big-endian
 * bytes, so numerically).
 * @return <0, 0, >0 like memcmp
 */
int dpf_flow_key_cmp(const struct dpf_flow_key *a, const struct dpf_flow_key *b);

/** Add one packet to a flow's counters (first packet: counters zeroed). */
static inline void
dpf_flow_counters_add(struct dpf_flow_counters *c, uint32_t l3_len, uint64_t t_ns,
		      uint8_t tcp_flags)
{
	if (c->packets == 0 || t_ns < c->first_ns)
		c->first_ns = t_ns;
	if (t_ns > c->last_ns)
		c->last_ns = t_ns;
	c->packets++;
	c->bytes += l3_len;
	c->tcp_flags_all |= tcp_flags;
	c->tcp_flags_aws |= dpf_pkt_tcp_flags_aws(tcp_flags);
}

/** Merge counters b into a (the same key seen by another shard). */
void dpf_flow_counters_merge(struct dpf_flow_counters *a, const struct dpf_flow_counters *b);

/*
 * Per-interface metadata printed in records. A NULL or empty string means
 * "not configured" and prints as "-" (account-id and interface-id are always
 * configured: the application fills defaults).
 *
 * X(field, key): what an [interface ID] section of the configuration sets,
 * the member and its key (app/config reads its keys from this list, so a
 * member cannot be added without its key). The interface-id is the
 * section's own argument, not a key.
 */
#define DPF_IFACE_META_KEYS(X)                                                                     \
	X(account_id, "account-id")                                                                \
	X(vpc_id, "vpc-id")                                                                        \
	X(subnet_id, "subnet-id")                                                                  \
	X(instance_id, "instance-id")                                                              \
	X(region, "region")                                                                        \
	X(az_id, "az-id")                                                                          \
	X(sublocation_type, "sublocation-type")                                                    \
	X(sublocation_id, "sublocation-id")                                                        \
	/* IBM objects' header only (NULL: built from the fields above). */                        \
	X(instance_crn, "instance-crn")                                                            \
	X(vpc_crn, "vpc-crn")                                                                      \
	X(collector_crn, "collector-crn")

struct dpf_iface_meta {
	const char *interface_id;
#define DPF_IFACE_META_MEMBER(field, key) const char *field;
	DPF_IFACE_META_KEYS(DPF_IFACE_META_MEMBER)
#undef DPF_IFACE_META_MEMBER
};

/*
 * IP fragment port cache: later fragments of a datagram get the ports of its
 * first fragment when this cache saw it. Per RX core (single writer), fixed
 * size, direct-mapped within sets. Key: (family, src, dst, proto, fragment id).
 *
 * The set is chosen by the caller's `steer` value: the RSS redirection-table
 * entry of the datagram (RSS hash % RETA size; NICs hash fragments on the
 * addresses only, so every fragment of a datagram has the same one). Every
 * datagram of a set then reaches the same RX core, in arrival order, whatever
 * the number of cores: which datagrams compete for a slot, and so which
 * first fragment evicts which, is the same with one RX core or many, and the
 * records do not depend on --rxq. Each core allocates every set and uses
 * those of its own RETA entries; the capacity that matters (slots per set
 * times sets) does not change with the core count.
 */
struct dpf_frag_cache;

/* What dpf_frag_cache_apply() did with a packet. */
enum dpf_frag_result {
	DPF_FRAG_NONE = 0,  /**< not a fragment: untouched */
	DPF_FRAG_KEPT,	    /**< first fragment: its ports kept */
	DPF_FRAG_EVICTED,   /**< first fragment: kept in place of another datagram's ports */
	DPF_FRAG_FOUND,	    /**< later fragment: got its first fragment's ports */
	DPF_FRAG_NOT_FOUND, /**< later fragment: ports 0 (first not seen before it, or evicted) */
};

/**
 * Create a cache of `sets` sets (one per RETA entry; 1..2^16) of
 * `slots_per_set` slots (rounded up to a power of two; sets * slots at most
 * 2^24). NULL + rte_errno (EINVAL, ENOMEM).
 */
struct dpf_frag_cache *dpf_frag_cache_create(uint32_t sets, uint32_t slots_per_set, int socket_id);
/** NULL-safe. */
void dpf_frag_cache_free(struct dpf_frag_cache *fc);
/**
 * Apply the fragment rule to a parsed packet: a first fragment records its
 * ports; a later fragment gets the recorded ports (has_l4 stays 0) or ports
 * 0 when its first fragment is not in the cache. The rest of the first
 * fragment's L4 fields (struct dpf_pkt_l4: an ICMP / ICMPv6 echo's
 * identifier, type and code) travel the same way, so that forward mode
 * translates later fragments like their first. steer: the
 * datagram's RETA entry (any value: taken modulo the set count). Not
 * thread-safe: owning lcore.
 */
enum dpf_frag_result dpf_frag_cache_apply(struct dpf_frag_cache *fc, struct dpf_pkt_info *pi,
					  uint32_t steer);

#endif /* DPF_FLOW_H */
