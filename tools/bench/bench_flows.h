/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_BENCH_FLOWS_H
#define DPF_BENCH_FLOWS_H

/*
 * Flow keys shaped like tools/gencap.py's random captures: conversations
 * between 65521 client hosts and 1000 servers, 70% TCP, 25% UDP, 5% ICMP,
 * a share of them IPv6, both directions of each one.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "dpf_flow.h"

#define BENCH_HOSTS 65521
#define BENCH_SERVERS 1000

/* Unidirectional flow u (2 per conversation) with its conversation's shard. */
static inline void
bench_make_flow(uint32_t u, double v6_share, struct dpf_flow_key *k, uint32_t *conv_hash)
{
	uint32_t c = u / 2, dir = u % 2;
	uint64_t r = c * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	uint32_t pick = (uint32_t)(r >> 40) % 100;
	uint8_t proto = pick < 70 ? 6 : pick < 95 ? 17 : 1;
	bool v6 = (double)((r >> 8) & 0xffff) / 65536.0 < v6_share;
	/* ICMP has no ports: its clients get addresses of their own (as gencap.py). */
	uint32_t host = proto == 1 ? 0x7f0000 + c : c % BENCH_HOSTS;
	uint32_t srv = (uint32_t)(r >> 16) % BENCH_SERVERS;
	uint16_t cport = proto == 1 ? 0 : (uint16_t)(1024 + ((c / BENCH_HOSTS) * 7919 + host * 13) % 64000);
	uint16_t sport = proto == 6 ? 443 : proto == 17 ? 53 : 0;
	uint8_t client[16] = {0}, server[16] = {0};

	if (v6) {
		client[0] = 0x20, client[1] = 0x01, client[2] = 0x0d, client[3] = 0xb8;
		memcpy(server, client, 4);
		client[5] = 1;
		server[4] = 1;
		client[12] = (uint8_t)(host >> 24), client[13] = (uint8_t)(host >> 16);
		client[14] = (uint8_t)(host >> 8), client[15] = (uint8_t)host;
		server[14] = (uint8_t)((srv + 1) >> 8), server[15] = (uint8_t)(srv + 1);
	} else {
		uint32_t a = 0x0a010001 + host, s = 0xac100001 + srv;

		client[0] = (uint8_t)(a >> 24), client[1] = (uint8_t)(a >> 16);
		client[2] = (uint8_t)(a >> 8), client[3] = (uint8_t)a;
		server[0] = (uint8_t)(s >> 24), server[1] = (uint8_t)(s >> 16);
		server[2] = (uint8_t)(s >> 8), server[3] = (uint8_t)s;
	}
	memset(k, 0, sizeof(*k));
	k->family = v6 ? 6 : 4;
	k->proto = v6 && proto == 1 ? 58 : proto;
	memcpy(k->src_addr, dir == 0 ? client : server, 16);
	memcpy(k->dst_addr, dir == 0 ? server : client, 16);
	k->src_port = dir == 0 ? cport : sport;
	k->dst_port = dir == 0 ? sport : cport;
	*conv_hash = rte_hash_crc_4byte(c, 0x1234);
}

#endif /* DPF_BENCH_FLOWS_H */
