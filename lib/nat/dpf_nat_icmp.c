/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP under masquerade: the echo session table every RX core shares (NICs
 * hash ICMP on addresses only, so a reply may reach any core; the table is
 * small and behind a spinlock, echo only), and the translation of ICMP
 * error messages (RFC 5508), which only look sessions up.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

#include "nat_private.h"

/* Identifiers tried for a new outside echo identifier before giving up. */
#define ICMP_ID_TRIES 65535

struct icmp_entry {
	uint8_t inside[16];
	uint16_t inside_id;
	uint16_t outside_id;
	uint32_t rule;
	uint64_t last_ns;
};

struct dpf_nat_icmp {
	rte_spinlock_t lock;
	struct rte_hash *fwd; /* (inside, remote, inside id) -> entry */
	struct rte_hash *rev; /* (outside, remote, outside id) -> entry */
	struct icmp_entry *entries;
	uint32_t *free_stack;
	uint32_t n_free;
	uint32_t capacity;
	uint16_t next_id;
};

static void
icmp_free_all(struct dpf_nat_icmp *t)
{
	uint32_t i;

	for (i = 0; i < t->capacity; i++)
		t->free_stack[i] = t->capacity - 1 - i;
	t->n_free = t->capacity;
}

void
dpf_nat_icmp_free(struct dpf_nat_icmp *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->fwd);
	rte_hash_free(t->rev);
	rte_free(t);
}

/* One allocation: the table, its entries and its free stack, each from a cache line on. */
struct dpf_nat_icmp *
dpf_nat_icmp_create(const char *name, uint32_t capacity, int socket_id)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct dpf_nat_icmp, entries), capacity * sizeof(struct icmp_entry),
		 true},
		{offsetof(struct dpf_nat_icmp, free_stack), capacity * sizeof(uint32_t), true},
	};
	struct dpf_nat_icmp *t;

	if (name == NULL || capacity == 0)
		return dpf_null_errno(EINVAL);
	t = dpf_layout_new("dpf_nat_icmp", sizeof(struct dpf_nat_icmp), parts, RTE_DIM(parts),
			   socket_id);
	if (t == NULL)
		return NULL;
	rte_spinlock_init(&t->lock);
	t->capacity = capacity;
	t->fwd = dpf_hash_create(name, "if", capacity, sizeof(struct sess_key), socket_id, 0);
	t->rev = dpf_hash_create(name, "ir", capacity, sizeof(struct sess_key), socket_id, 0);
	if (t->fwd == NULL || t->rev == NULL) {
		dpf_nat_icmp_free(t);
		return dpf_null_errno(ENOMEM);
	}
	icmp_free_all(t);
	t->next_id = 1;
	return t;
}

/*
 * A new entry for an echo request from inside: an outside identifier no
 * entry of this remote uses yet. Lock held. @return the entry, or NULL
 * (counted: table full, identifiers exhausted)
 */
static struct icmp_entry *
icmp_entry_new(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint16_t icmp_id,
	       uint32_t ri, const struct sess_key *key)
{
	struct dpf_nat_icmp *t = s->icmp;
	const struct dpf_nat_rule *r = &s->nat->rules[ri];
	struct icmp_entry *e;
	struct sess_key rk;
	uint32_t tries, idx;

	if (t->n_free == 0) {
		nat_stat_inc(&s->st.table_full);
		return NULL;
	}
	for (tries = 0; tries < ICMP_ID_TRIES; tries++) {
		uint16_t id = t->next_id++;

		if (id == 0)
			continue;
		sess_key_make(&rk, k->family, k->proto, r->out_addr, id, k->dst_addr, 0);
		if (rte_hash_lookup(t->rev, &rk) < 0)
			break;
	}
	if (tries == ICMP_ID_TRIES) {
		nat_stat_inc(&s->st.port_exhausted);
		return NULL;
	}
	idx = t->free_stack[--t->n_free];
	e = &t->entries[idx];
	memcpy(e->inside, k->src_addr, 16);
	e->inside_id = icmp_id;
	e->outside_id = rk.local_port;
	e->rule = ri;
	if (rte_hash_add_key_data(t->fwd, key, (void *)(uintptr_t)idx) < 0 ||
	    rte_hash_add_key_data(t->rev, &rk, (void *)(uintptr_t)idx) < 0) {
		rte_hash_del_key(t->fwd, key);
		t->free_stack[t->n_free++] = idx;
		nat_stat_inc(&s->st.table_full);
		return NULL;
	}
	nat_stat_inc(&s->st.created);
	return e;
}

/* An echo request from inside a masquerade prefix: its entry (made when create). Lock held. */
static int
icmp_outbound(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint16_t icmp_id,
	      uint32_t ri, uint64_t now_ns, bool create, struct dpf_flow_nat *post,
	      uint16_t *post_id, uint32_t *rule)
{
	struct dpf_nat_icmp *t = s->icmp;
	struct icmp_entry *e;
	struct sess_key key;
	void *data;

	sess_key_make(&key, k->family, k->proto, k->src_addr, icmp_id, k->dst_addr, 0);
	if (rte_hash_lookup_data(t->fwd, &key, &data) >= 0) {
		e = &t->entries[(uintptr_t)data];
	} else {
		if (!create)
			return -ENOENT;
		e = icmp_entry_new(s, k, icmp_id, ri, &key);
		if (e == NULL)
			return -ENOSPC;
	}
	if (create)
		e->last_ns = now_ns;
	memcpy(post->src_addr, s->nat->rules[ri].out_addr, 16);
	*post_id = e->outside_id;
	*rule = e->rule + 1;
	return 1;
}

/* An echo reply to a masquerade outside address. Lock held. */
static int
icmp_inbound(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint16_t icmp_id,
	     uint64_t now_ns, bool create, struct dpf_flow_nat *post, uint16_t *post_id,
	     uint32_t *rule)
{
	struct dpf_nat_icmp *t = s->icmp;
	struct icmp_entry *e;
	struct sess_key key;
	void *data;

	sess_key_make(&key, k->family, k->proto, k->dst_addr, icmp_id, k->src_addr, 0);
	if (rte_hash_lookup_data(t->rev, &key, &data) < 0) {
		if (create)
			nat_stat_inc(&s->st.no_session);
		return -ENOENT;
	}
	e = &t->entries[(uintptr_t)data];
	if (create)
		e->last_ns = now_ns;
	memcpy(post->dst_addr, e->inside, 16);
	*post_id = e->inside_id;
	*rule = e->rule + 1;
	return 1;
}

int
nat_icmp_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint8_t is_echo,
	       uint16_t icmp_id, uint64_t now_ns, bool create, struct dpf_flow_nat *post,
	       uint16_t *post_id, uint32_t *rule)
{
	struct dpf_nat_icmp *t = s->icmp;
	int64_t ri;
	int rc = 0;

	if (t == NULL)
		return 0;
	rte_spinlock_lock(&t->lock);
	if (is_echo == 1 && (ri = prefix_lookup(&s->nat->masq_in, k->family, k->src_addr)) >= 0 &&
	    memcmp(post->src_addr, k->src_addr, 16) == 0)
		rc = icmp_outbound(s, k, icmp_id, (uint32_t)ri, now_ns, create, post, post_id,
				   rule);
	else if (is_echo == 2 && dpf_nat_is_masquerade_outside(s->nat, k->family, k->dst_addr))
		rc = icmp_inbound(s, k, icmp_id, now_ns, create, post, post_id, rule);
	rte_spinlock_unlock(&t->lock);
	return rc;
}

void
nat_icmp_reset(struct dpf_nat_icmp *t)
{
	rte_spinlock_lock(&t->lock);
	rte_hash_reset(t->fwd);
	rte_hash_reset(t->rev);
	icmp_free_all(t);
	rte_spinlock_unlock(&t->lock);
}

void
nat_icmp_expire(struct dpf_nat_icmp *t, uint64_t now_ns, uint64_t timeout_ns)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	rte_spinlock_lock(&t->lock);
	/* Deleting the key just returned keeps the iteration valid. */
	while (rte_hash_iterate(t->rev, &key, &data, &it) >= 0) {
		struct icmp_entry *e = &t->entries[(uintptr_t)data];
		const struct sess_key *rk = key;
		struct sess_key fk, rk_copy;

		if (now_ns < e->last_ns || now_ns - e->last_ns <= timeout_ns)
			continue;
		rk_copy = *rk;
		sess_key_make(&fk, rk_copy.family, rk_copy.proto, e->inside, e->inside_id,
			      rk_copy.remote, 0);
		rte_hash_del_key(t->fwd, &fk);
		rte_hash_del_key(t->rev, &rk_copy);
		t->free_stack[t->n_free++] = (uint32_t)(uintptr_t)data;
	}
	rte_spinlock_unlock(&t->lock);
}

int
dpf_nat_icmp_error_view(const struct dpf_nat *nat, struct dpf_nat_sessions *s,
			const struct dpf_flow_key *outer, const struct dpf_flow_key *quoted,
			uint8_t quoted_echo, uint16_t quoted_id, struct dpf_flow_nat *outer_post,
			struct dpf_flow_nat *quoted_post, uint16_t *quoted_post_id, uint32_t *rule)
{
	struct dpf_flow_key r;
	struct dpf_flow_nat rpost;
	uint32_t sr = 0, dr = 0, mr = 0;
	uint16_t rid = quoted_id;
	int rc = 0;

	*quoted_post_id = quoted_id;
	*rule = 0;
	/* The quoted packet crossed the NAT the other way: it gets the inverse of
	 * its own translation, which is the translation of a reply to it. */
	memset(&r, 0, sizeof(r));
	r.family = quoted->family;
	r.proto = quoted->proto;
	memcpy(r.src_addr, quoted->dst_addr, 16);
	memcpy(r.dst_addr, quoted->src_addr, 16);
	r.src_port = quoted->dst_port;
	r.dst_port = quoted->src_port;
	dpf_nat_view(nat, &r, &rpost, &sr, &dr);
	if (s != NULL && nat != NULL && nat->has_masquerade) {
		if (quoted_echo != 0)
			/* A quoted request is answered by a reply, and the other way. */
			rc = nat_icmp_apply(s, &r, quoted_echo == 1 ? 2 : 1, quoted_id, 0, false,
					    &rpost, &rid, &mr);
		else if (nat_has_ports(r.proto))
			rc = nat_ports_apply(s, &r, 0, false, &rpost, &mr);
		if (rc < 0 && dpf_nat_is_masquerade_outside(nat, r.family, r.dst_addr))
			return -ENOENT;
		if (rc < 0)
			rc = 0;
	}
	memcpy(quoted_post->src_addr, rpost.dst_addr, 16);
	memcpy(quoted_post->dst_addr, rpost.src_addr, 16);
	quoted_post->src_port = rpost.dst_port;
	quoted_post->dst_port = rpost.src_port;
	*quoted_post_id = rid;

	/* The outer header: the message goes to the quoted packet's source, from
	 * its destination or from a node on the way (RFC 5508 4.2). */
	dpf_nat_view(nat, outer, outer_post, NULL, NULL);
	if (memcmp(outer->dst_addr, quoted->src_addr, 16) == 0)
		memcpy(outer_post->dst_addr, quoted_post->src_addr, 16);
	if (memcmp(outer->src_addr, quoted->dst_addr, 16) == 0)
		memcpy(outer_post->src_addr, quoted_post->dst_addr, 16);
	outer_post->src_port = outer_post->dst_port = 0;
	if (s != NULL && nat != NULL && nat->has_masquerade) {
		int64_t ri = prefix_lookup(&nat->masq_in, outer->family, outer->src_addr);

		/* RFC 5508 4.1: an error about a packet the NAT has no mapping for
		 * is dropped, from either side: to an outside address it would go
		 * nowhere, from inside it would show inside addresses. */
		if (dpf_nat_is_masquerade_outside(nat, outer->family, outer->dst_addr) &&
		    memcmp(outer_post->dst_addr, outer->dst_addr, 16) == 0)
			return -ENOENT;
		if (ri >= 0 && rc != 1 && sr == 0 && dr == 0)
			return -ENOENT;
		/* A router inside the prefix speaks with the outside address. */
		if (ri >= 0 && memcmp(outer_post->src_addr, outer->src_addr, 16) == 0)
			memcpy(outer_post->src_addr, nat->rules[ri].out_addr, 16);
	}
	*rule = mr != 0 ? mr : (sr != 0 ? sr : dr);
	if (memcmp(outer_post, outer->src_addr, 32) != 0 ||
	    memcmp(quoted_post->src_addr, quoted->src_addr, 16) != 0 ||
	    memcmp(quoted_post->dst_addr, quoted->dst_addr, 16) != 0 ||
	    quoted_post->src_port != quoted->src_port ||
	    quoted_post->dst_port != quoted->dst_port || rid != quoted_id)
		return 1;
	return 0;
}
