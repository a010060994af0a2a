/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_RSS_H
#define DPF_RSS_H

/**
 * @file
 * Software Toeplitz hash, computed exactly as a NIC computes RSS, for the
 * replay source (design.md section 4) and for choosing NAT ports later.
 *
 * The hash is table-driven: for each byte position of the input tuple a
 * 256-entry table holds the XOR of the key windows selected by that byte's
 * bits, so a 12-byte IPv4 tuple costs 12 loads and XORs instead of 96
 * conditional XORs (rte_softrss).
 *
 * Thread safety: a struct dpf_rss is read-only after dpf_rss_init().
 */

#include <stdint.h>

#include "dpf_pkt.h"

#define DPF_RSS_KEY_LEN 40
/* Longest tuple: IPv6 source, destination and both ports. */
#define DPF_RSS_TUPLE_MAX 36
#define DPF_RSS_RETA_SIZE 128

/**
 * The symmetric key: 0x6d5a repeated. With it the Toeplitz hash of
 * (src, dst, sport, dport) equals that of (dst, src, dport, sport), so both
 * directions of a connection land on the same queue.
 */
extern const uint8_t dpf_rss_symmetric_key[DPF_RSS_KEY_LEN];

struct dpf_rss {
	uint32_t table[DPF_RSS_TUPLE_MAX][256];
};

/** Precompute the tables for a 40-byte key. */
void dpf_rss_init(struct dpf_rss *rss, const uint8_t key[DPF_RSS_KEY_LEN]);

/** Toeplitz hash of a tuple in network byte order; len <= DPF_RSS_TUPLE_MAX. */
static inline uint32_t
dpf_rss_hash(const struct dpf_rss *rss, const uint8_t *tuple, uint32_t len)
{
	uint32_t h = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		h ^= rss->table[i][tuple[i]];
	return h;
}

/**
 * Hash a parsed packet the way a NIC configured for IP + TCP/UDP/SCTP RSS
 * does: TCP, UDP and SCTP that are not fragments hash (src, dst, sport,
 * dport); fragments (first ones included, as NICs classify them by the IP
 * header alone) and every other protocol hash (src, dst). Non-IP: 0.
 */
uint32_t dpf_rss_hash_pkt(const struct dpf_rss *rss, const struct dpf_pkt_info *pi);

/** Queue for a hash with a RETA of DPF_RSS_RETA_SIZE entries filled round-robin. */
static inline uint16_t
dpf_rss_queue(uint32_t hash, uint16_t nb_queues)
{
	return (uint16_t)((hash % DPF_RSS_RETA_SIZE) % nb_queues);
}

#endif /* DPF_RSS_H */
