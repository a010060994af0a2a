/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>

#include "dpf_rss.h"
#include "dpf_util.h"

const uint8_t dpf_rss_symmetric_key[DPF_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* The 32 key bits starting at bit position `bit` (bit 0 = MSB of key[0]). */
static uint32_t
key_window(const uint8_t *key, unsigned int bit)
{
	uint64_t v = 0;
	unsigned int byte = bit / 8;
	unsigned int i;

	for (i = 0; i < 5; i++)
		v = v << 8 | (byte + i < DPF_RSS_KEY_LEN ? key[byte + i] : 0);
	return (uint32_t)(v >> (8 - bit % 8));
}

void
dpf_rss_init(struct dpf_rss *rss, const uint8_t key[DPF_RSS_KEY_LEN])
{
	unsigned int pos, val, bit;

	rss->fold16 = 1;
	for (pos = 2; pos < DPF_RSS_KEY_LEN; pos++)
		if (key[pos] != key[pos % 2])
			rss->fold16 = 0;
	for (pos = 0; pos < DPF_RSS_TUPLE_MAX; pos++) {
		uint32_t win[8];

		for (bit = 0; bit < 8; bit++)
			win[bit] = key_window(key, pos * 8 + bit);
		for (val = 0; val < 256; val++) {
			uint32_t h = 0;

			for (bit = 0; bit < 8; bit++)
				if (val & (0x80u >> bit))
					h ^= win[bit];
			rss->table[pos][val] = h;
		}
	}
}

uint32_t
dpf_rss_hash_pkt(const struct dpf_rss *rss, const struct dpf_pkt_info *pi)
{
	uint8_t tuple[DPF_RSS_TUPLE_MAX];
	uint32_t alen, len;
	bool with_ports;

	if (pi->family == 4)
		alen = 4;
	else if (pi->family == 6)
		alen = 16;
	else
		return 0;
	with_ports = pi->frag == DPF_PKT_FRAG_NONE &&
		     (pi->proto == 6 || pi->proto == 17 || pi->proto == 132);
	if (rss->fold16) {
		/* The tuple's 16-bit words XORed together (see dpf_rss.h). */
		uint64_t w;
		uint32_t f;

		if (alen == 4)
			w = dpf_load_be32(pi->src_addr) ^ dpf_load_be32(pi->dst_addr);
		else
			w = dpf_load_be64(pi->src_addr) ^ dpf_load_be64(pi->src_addr + 8) ^
			    dpf_load_be64(pi->dst_addr) ^ dpf_load_be64(pi->dst_addr + 8);
		w ^= w >> 32;
		f = (uint32_t)(w ^ (w >> 16)) & 0xffff;
		if (with_ports)
			f ^= pi->l4.src_port ^ pi->l4.dst_port;
		return rss->table[0][f >> 8] ^ rss->table[1][f & 0xff];
	}
	memcpy(tuple, pi->src_addr, alen);
	memcpy(tuple + alen, pi->dst_addr, alen);
	len = 2 * alen;
	if (with_ports) {
		dpf_store_be16(tuple + len, pi->l4.src_port);
		dpf_store_be16(tuple + len + 2, pi->l4.dst_port);
		len += 4;
	}
	return dpf_rss_hash(rss, tuple, len);
}

uint32_t
dpf_rss_hash_frame(const struct dpf_rss *rss, const uint8_t *frame, uint32_t len,
		   const struct dpf_pkt_decap_cfg *decap)
{
	struct dpf_pkt_tunnel tun;
	struct dpf_pkt_info pi;
	unsigned int t;

	if (dpf_pkt_parse(frame, len, &pi) != DPF_PKT_OK)
		return 0;
	t = dpf_pkt_tunnel_of(decap, &pi);
	/* A tunnel that does not open (malformed, not IP inside) is the NIC's outer packet. */
	if (t != DPF_TUN_NONE) {
		struct dpf_pkt_info outer = pi;

		if (dpf_pkt_decap(frame, len, &pi, t, &tun) != DPF_PKT_OK)
			pi = outer;
	}
	return dpf_rss_hash_pkt(rss, &pi);
}
