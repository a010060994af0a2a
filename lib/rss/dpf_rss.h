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
 * A key that repeats every 16 bits (the symmetric key) selects the same
 * window at every other byte, and the hash is linear in the input: it is
 * then the hash of the tuple's 16-bit words XORed together, two loads
 * whatever the tuple's length. That fold is also why such a key leaves only
 * 16 bits of information (never use it as a table hash).
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
	int fold16; /**< key repeats every 16 bits: hash the XOR of the 16-bit words */
};

/** Precompute the tables for a 40-byte key. */
void dpf_rss_init(struct dpf_rss *rss, const uint8_t key[DPF_RSS_KEY_LEN]);

/** Toeplitz hash of a tuple in network byte order; len <= DPF_RSS_TUPLE_MAX. */
static inline uint32_t
dpf_rss_hash(const struct dpf_rss *rss, const uint8_t *tuple, uint32_t len)
{
	uint32_t h = 0;
	uint32_t i;

	if (rss->fold16) {
		uint8_t even = 0, odd = 0;

		for (i = 0; i + 1 < len; i += 2) {
			even ^= tuple[i];
			odd ^= tuple[i + 1];
		}
		if (i < len)
			even ^= tuple[i];
		return rss->table[0][even] ^ rss->table[1][odd];
	}
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

/**
 * Hash a frame the way a NIC with inner RSS (rte_flow RSS level 2) does for
 * the tunnels decap opens: parse it, and when it is such a tunnel, hash the
 * packet inside (its own 5-tuple, by dpf_rss_hash_pkt()'s rules), so that
 * both directions of an inner connection, whose outer UDP source ports
 * differ, land on one queue. Any other frame hashes as dpf_rss_hash_pkt()
 * (0 when it does not parse).
 *
 * @param decap  the tunnels opened (types 0: hash the outer headers only)
 */
uint32_t dpf_rss_hash_frame(const struct dpf_rss *rss, const uint8_t *frame, uint32_t len,
			    const struct dpf_pkt_decap_cfg *decap);

/** Queue for a hash with a RETA of DPF_RSS_RETA_SIZE entries filled round-robin. */
static inline uint16_t
dpf_rss_queue(uint32_t hash, uint16_t nb_queues)
{
	return (uint16_t)((hash % DPF_RSS_RETA_SIZE) % nb_queues);
}

#endif /* DPF_RSS_H */
