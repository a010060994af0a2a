/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#include "dpf_conntrack.h"
#include "dpf_util.h"

/* last_ns of a hash position that holds no key. */
#define CT_SLOT_FREE UINT64_MAX

struct dpf_conntrack {
	struct rte_hash *hash;
	uint64_t timeout_ns;
	uint32_t n_slots; /* positions the hash can return */
	uint32_t capacity;
	uint32_t count;
	/* n_slots, by hash position; CT_SLOT_FREE when unused. From a cache line
	 * on, as an allocation of its own would be. */
	uint64_t last_ns[] __rte_cache_aligned;
};

void
dpf_conntrack_free(struct dpf_conntrack *ct)
{
	if (ct == NULL)
		return;
	rte_hash_free(ct->hash);
	rte_free(ct);
}

struct dpf_conntrack *
dpf_conntrack_create(const struct dpf_conntrack_params *p)
{
	struct dpf_conntrack *ct;
	uint32_t i, entries;

	if (p == NULL || p->capacity == 0 || p->capacity > DPF_CONNTRACK_MAX_CAPACITY ||
	    p->timeout_ns == 0)
		return dpf_null_errno(EINVAL);
	/* Positions run from 0 to entries - 1; one spare slot costs nothing. */
	entries = dpf_hash_room(p->capacity);
	ct = rte_malloc_socket(p->name,
			       sizeof(*ct) + (size_t)(entries + 1) * sizeof(ct->last_ns[0]),
			       RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ct == NULL)
		return dpf_null_errno(ENOMEM);
	memset(ct, 0, sizeof(*ct));
	ct->capacity = p->capacity;
	ct->timeout_ns = p->timeout_ns;
	ct->n_slots = entries + 1;
	for (i = 0; i < ct->n_slots; i++)
		ct->last_ns[i] = CT_SLOT_FREE;
	ct->hash = dpf_hash_create_unique("ct", p->name != NULL ? p->name : "ct", entries,
					  sizeof(struct dpf_flow_key), p->socket_id, 0);
	if (ct->hash == NULL)
		return dpf_null_free(ct);
	return ct;
}

/*
 * The tuple only: keys are compared in full, so action and seg must not
 * differ. Both directions of an inner connection share their tunnel's type
 * and id. The key has no padding (48 bytes of fields), so a copy is the tuple.
 */
static void
ct_key(struct dpf_flow_key *out, const struct dpf_flow_key *k, bool reverse)
{
	*out = *k;
	out->action = 0;
	out->seg = 0;
	if (reverse) {
		memcpy(out->src_addr, k->dst_addr, sizeof(out->src_addr));
		memcpy(out->dst_addr, k->src_addr, sizeof(out->dst_addr));
		out->src_port = k->dst_port;
		out->dst_port = k->src_port;
	}
}

static bool
ct_idle(const struct dpf_conntrack *ct, uint64_t last_ns, uint64_t now_ns)
{
	/* A time behind the entry's (another lcore's clock read) is not idleness. */
	return now_ns > last_ns && now_ns - last_ns > ct->timeout_ns;
}

static void
ct_touch(struct dpf_conntrack *ct, uint32_t pos, uint64_t now_ns)
{
	if (ct->last_ns[pos] == CT_SLOT_FREE || now_ns > ct->last_ns[pos])
		ct->last_ns[pos] = now_ns;
}

int
dpf_conntrack_add(struct dpf_conntrack *ct, const struct dpf_flow_key *k, uint64_t now_ns)
{
	struct dpf_flow_key key;
	hash_sig_t sig;
	int32_t pos;

	ct_key(&key, k, false);
	sig = rte_hash_hash(ct->hash, &key);
	pos = rte_hash_lookup_with_hash(ct->hash, &key, sig);
	if (pos < 0) {
		if (ct->count >= ct->capacity)
			return -ENOSPC;
		pos = rte_hash_add_key_with_hash(ct->hash, &key, sig);
		if (pos < 0)
			return pos == -EINVAL ? -EINVAL : -ENOSPC;
		if ((uint32_t)pos >= ct->n_slots) {
			/* Cannot happen with rte_hash's layout; never index past the array. */
			rte_hash_del_key_with_hash(ct->hash, &key, sig);
			return -ENOSPC;
		}
		ct->count++;
		ct->last_ns[pos] = CT_SLOT_FREE;
	}
	ct_touch(ct, (uint32_t)pos, now_ns);
	return 0;
}

bool
dpf_conntrack_is_reply(struct dpf_conntrack *ct, const struct dpf_flow_key *k, uint64_t now_ns)
{
	struct dpf_flow_key key;
	int32_t pos;

	ct_key(&key, k, true);
	pos = rte_hash_lookup(ct->hash, &key);
	if (pos < 0 || (uint32_t)pos >= ct->n_slots || ct_idle(ct, ct->last_ns[pos], now_ns))
		return false;
	ct_touch(ct, (uint32_t)pos, now_ns);
	return true;
}

uint32_t
dpf_conntrack_expire(struct dpf_conntrack *ct, uint64_t now_ns)
{
	struct dpf_flow_key key;
	void *stored;
	uint32_t pos, dropped = 0;

	/*
	 * Walk our own time array rather than rte_hash_iterate: deleting while
	 * iterating is not part of rte_hash's contract.
	 */
	for (pos = 0; pos < ct->n_slots; pos++) {
		if (ct->last_ns[pos] == CT_SLOT_FREE || !ct_idle(ct, ct->last_ns[pos], now_ns))
			continue;
		if (rte_hash_get_key_with_position(ct->hash, (int32_t)pos, &stored) < 0)
			continue;
		memcpy(&key, stored, sizeof(key));
		if (rte_hash_del_key(ct->hash, &key) < 0)
			continue;
		ct->last_ns[pos] = CT_SLOT_FREE;
		ct->count--;
		dropped++;
	}
	return dropped;
}

uint32_t
dpf_conntrack_count(const struct dpf_conntrack *ct)
{
	return ct->count;
}

uint32_t
dpf_conntrack_capacity(const struct dpf_conntrack *ct)
{
	return ct->capacity;
}
