/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dpf_flow.h"
#include "dpf_util.h"

void
dpf_flow_key_from_pkt(struct dpf_flow_key *key, const struct dpf_pkt_info *pi, uint16_t iface,
		      uint8_t action)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->src_addr, pi->src_addr, sizeof(key->src_addr));
	memcpy(key->dst_addr, pi->dst_addr, sizeof(key->dst_addr));
	key->src_port = pi->l4.src_port;
	key->dst_port = pi->l4.dst_port;
	key->iface = iface;
	key->proto = pi->proto;
	key->family = pi->family;
	key->action = action;
	/* Zero but for decapsulated packets: tested once, not stored field by field. */
	if (unlikely(pi->tun_type != 0)) {
		key->tun_type = pi->tun_type;
		key->tun_has_id = pi->tun_has_id;
		key->tun_id = pi->tun_id;
	}
}

static int
cmp_u(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/*
 * The records' order is the key's fields in turn: iface, family, src_addr,
 * dst_addr, proto, src_port, dst_port, action, tun_type, tun_has_id, tun_id.
 * Fields next to each other in that order are compared as one: the two
 * addresses are adjacent bytes (one memcmp), and the scalars are packed,
 * each above the next, into numbers that order as the fields do.
 */
_Static_assert(offsetof(struct dpf_flow_key, dst_addr) ==
		       offsetof(struct dpf_flow_key, src_addr) +
			       sizeof(((struct dpf_flow_key *)0)->src_addr),
	       "one memcmp compares src_addr, then dst_addr");

static inline uint32_t
order_iface_family(const struct dpf_flow_key *k)
{
	return (uint32_t)k->iface << 8 | k->family;
}

static inline uint64_t
order_proto_to_tunnel(const struct dpf_flow_key *k)
{
	return (uint64_t)k->proto << 56 | (uint64_t)k->src_port << 40 |
	       (uint64_t)k->dst_port << 24 | (uint64_t)k->action << 16 |
	       (uint64_t)k->tun_type << 8 | k->tun_has_id;
}

int
dpf_flow_key_cmp(const struct dpf_flow_key *a, const struct dpf_flow_key *b)
{
	int c = cmp_u(order_iface_family(a), order_iface_family(b));

	if (c == 0)
		c = memcmp(a->src_addr, b->src_addr, sizeof(a->src_addr) + sizeof(a->dst_addr));
	if (c == 0)
		c = cmp_u(order_proto_to_tunnel(a), order_proto_to_tunnel(b));
	return c != 0 ? c : cmp_u(a->tun_id, b->tun_id);
}

void
dpf_flow_counters_merge(struct dpf_flow_counters *a, const struct dpf_flow_counters *b)
{
	if (b->packets == 0)
		return;
	if (a->packets == 0) {
		*a = *b;
		return;
	}
	a->packets += b->packets;
	a->bytes += b->bytes;
	if (b->first_ns < a->first_ns)
		a->first_ns = b->first_ns;
	if (b->last_ns > a->last_ns)
		a->last_ns = b->last_ns;
	a->tcp_flags_aws |= b->tcp_flags_aws;
	a->tcp_flags_all |= b->tcp_flags_all;
	if (a->direction == DPF_DIR_UNKNOWN)
		a->direction = b->direction;
}

/* Fragment port cache. */

struct frag_slot {
	uint8_t src_addr[16];
	uint8_t dst_addr[16];
	uint32_t frag_id;
	/* The first fragment's ports and ICMP header, an echo's identifier
	 * included: what masquerade translates later fragments by. */
	struct dpf_pkt_l4 l4;
	uint8_t family;
	uint8_t proto;
	uint8_t used;
};

struct dpf_frag_cache {
	uint32_t sets;
	uint32_t set_mask;  /* slots per set - 1 */
	uint32_t set_shift; /* log2 of slots per set */
	struct frag_slot slots[];
};

struct dpf_frag_cache *
dpf_frag_cache_create(uint32_t sets, uint32_t slots_per_set, int socket_id)
{
	struct dpf_frag_cache *fc;
	uint32_t per;

	if (sets == 0 || sets > (1u << 16) || slots_per_set == 0 || slots_per_set > (1u << 24))
		return dpf_null_errno(EINVAL);
	per = rte_align32pow2(slots_per_set);
	if ((uint64_t)sets * per > (1u << 24))
		return dpf_null_errno(EINVAL);
	fc = rte_zmalloc_socket("dpf_frag_cache",
				sizeof(*fc) + (size_t)sets * per * sizeof(fc->slots[0]),
				RTE_CACHE_LINE_SIZE, socket_id);
	if (fc == NULL)
		return dpf_null_errno(ENOMEM);
	fc->sets = sets;
	fc->set_mask = per - 1;
	fc->set_shift = (uint32_t)rte_bsf32(per);
	return fc;
}

void
dpf_frag_cache_free(struct dpf_frag_cache *fc)
{
	rte_free(fc);
}

static struct frag_slot *
frag_slot_of(struct dpf_frag_cache *fc, const struct dpf_pkt_info *pi, uint32_t steer)
{
	/* rte_hash_crc reads 8 bytes at a time: hash an aligned copy, since
	 * parse results in arrays are not 8-byte aligned. */
	uint64_t a[4];
	uint32_t h;

	memcpy(a, pi->src_addr, 16);
	memcpy(a + 2, pi->dst_addr, 16);
	h = rte_hash_crc(a, sizeof(a), pi->frag_id);
	h = rte_hash_crc_4byte((uint32_t)pi->proto << 8 | pi->family, h);
	return &fc->slots[((steer % fc->sets) << fc->set_shift) | (h & fc->set_mask)];
}

static bool
frag_slot_matches(const struct frag_slot *s, const struct dpf_pkt_info *pi)
{
	return s->used && s->frag_id == pi->frag_id && s->family == pi->family &&
	       s->proto == pi->proto && memcmp(s->src_addr, pi->src_addr, 16) == 0 &&
	       memcmp(s->dst_addr, pi->dst_addr, 16) == 0;
}

enum dpf_frag_result
dpf_frag_cache_apply(struct dpf_frag_cache *fc, struct dpf_pkt_info *pi, uint32_t steer)
{
	enum dpf_frag_result r;
	struct frag_slot *s;

	if (pi->frag == DPF_PKT_FRAG_NONE)
		return DPF_FRAG_NONE;
	s = frag_slot_of(fc, pi, steer);
	if (pi->frag == DPF_PKT_FRAG_FIRST) {
		/* A first fragment seen again (a retransmission) replaces nothing. */
		r = s->used && !frag_slot_matches(s, pi) ? DPF_FRAG_EVICTED : DPF_FRAG_KEPT;
		memcpy(s->src_addr, pi->src_addr, 16);
		memcpy(s->dst_addr, pi->dst_addr, 16);
		s->frag_id = pi->frag_id;
		s->family = pi->family;
		s->proto = pi->proto;
		s->l4 = pi->l4;
		s->used = 1;
		return r;
	}
	if (frag_slot_matches(s, pi)) {
		pi->l4 = s->l4;
		return DPF_FRAG_FOUND;
	}
	pi->l4.src_port = 0;
	pi->l4.dst_port = 0;
	return DPF_FRAG_NOT_FOUND;
}
