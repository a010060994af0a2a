/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Masquerade sessions of TCP, UDP and SCTP: per RX core, steered by the
 * reply's Toeplitz hash, or shared by a group of cores (rte_hash lock-free
 * readers, rte_rcu_qsbr grace periods before a session is reused). The
 * ICMP echo table shared by all cores is dpf_nat_icmp.c.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#include "nat_private.h"

void
dpf_nat_group_free(struct dpf_nat_group *g)
{
	rte_free(g);
}

/* One allocation: the group, its QSBR variable from a cache line on. */
struct dpf_nat_group *
dpf_nat_group_create(uint16_t n_members, int socket_id)
{
	size_t size = sizeof(struct dpf_nat_group), qsbr_off;
	struct dpf_nat_group *g;

	if (n_members == 0 || n_members > DPF_NAT_GROUP_MAX)
		return dpf_null_errno(EINVAL);
	qsbr_off = dpf_layout_place(&size, rte_rcu_qsbr_get_memsize(n_members));
	g = rte_zmalloc_socket("dpf_nat_group", size, RTE_CACHE_LINE_SIZE, socket_id);
	if (g == NULL)
		return dpf_null_errno(ENOMEM);
	g->n_members = n_members;
	g->qsbr = RTE_PTR_ADD(g, qsbr_off);
	if (rte_rcu_qsbr_init(g->qsbr, n_members) != 0) {
		rte_free(g);
		return dpf_null_errno(EINVAL);
	}
	return g;
}

void
dpf_nat_sessions_free(struct dpf_nat_sessions *s)
{
	if (s == NULL)
		return;
	if (s->group != NULL) {
		__atomic_store_n(&s->group->members[s->queue], NULL, __ATOMIC_RELEASE);
		rte_rcu_qsbr_thread_offline(s->group->qsbr, s->queue);
		rte_rcu_qsbr_thread_unregister(s->group->qsbr, s->queue);
	}
	rte_hash_free(s->fwd);
	rte_hash_free(s->rev);
	rte_free(s);
}

static bool
sessions_params_ok(const struct dpf_nat_sessions_params *p)
{
	return p != NULL && p->name != NULL && p->nat != NULL && p->capacity != 0 &&
	       p->n_queues != 0 && p->queue < p->n_queues &&
	       (p->group != NULL || p->n_queues == 1 || p->rss != NULL) &&
	       (p->group == NULL ||
		(p->queue < p->group->n_members && p->group->members[p->queue] == NULL));
}

/*
 * One allocation: the handle, then the sessions, the free stack, the
 * per-rule cursors (room for any rule set: dpf_nat_sessions_reset() may
 * bring more rules) and, shared mode only, the retired FIFO, each from a
 * cache line on as with allocations of their own.
 */
static struct dpf_nat_sessions *
sessions_alloc(const struct dpf_nat_sessions_params *p)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct dpf_nat_sessions, sess), p->capacity * sizeof(struct session),
		 true},
		{offsetof(struct dpf_nat_sessions, free_stack), p->capacity * sizeof(uint32_t),
		 true},
		{offsetof(struct dpf_nat_sessions, cursor), (MAX_RULES + 1) * sizeof(uint32_t),
		 true},
		{offsetof(struct dpf_nat_sessions, retired),
		 p->group != NULL ? p->capacity * sizeof(struct retired_session) : 0, true},
	};

	return dpf_layout_new("dpf_nat_sessions", sizeof(struct dpf_nat_sessions), parts,
			      RTE_DIM(parts), p->socket_id);
}

struct dpf_nat_sessions *
dpf_nat_sessions_create(const struct dpf_nat_sessions_params *p)
{
	struct dpf_nat_sessions *s;
	uint8_t flags = 0;
	uint32_t i;

	if (!sessions_params_ok(p))
		return dpf_null_errno(EINVAL);
	s = sessions_alloc(p);
	if (s == NULL)
		return dpf_null_errno(ENOMEM);
	s->nat = p->nat;
	s->icmp = p->icmp;
	s->rss = p->rss;
	s->capacity = p->capacity;
	s->n_queues = p->n_queues;
	s->queue = p->queue;
	s->reta_size = p->reta_size ? p->reta_size : DPF_RSS_RETA_SIZE;
	s->timeout_ns = p->timeout_ns;
	/* Idle time is measured to an eighth of the timeout: other cores then
	 * rarely write a session's cache line. */
	s->touch_ns = p->timeout_ns / 8;
	/* Shared mode: every core reads the tables lock-free while their owner
	 * writes them; deleted keys keep their slots until a grace period. */
	if (p->group != NULL)
		flags = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
	s->fwd = dpf_hash_create(p->name, "sf", p->capacity, sizeof(struct sess_key), p->socket_id,
				 flags);
	s->rev = dpf_hash_create(p->name, "sr", p->capacity, sizeof(struct sess_key), p->socket_id,
				 flags);
	if (s->fwd == NULL || s->rev == NULL) {
		dpf_nat_sessions_free(s); /* not registered in the group yet */
		return dpf_null_errno(ENOMEM);
	}
	for (i = 0; i < p->capacity; i++)
		s->free_stack[i] = p->capacity - 1 - i;
	s->n_free = p->capacity;
	s->group = p->group;
	if (s->group != NULL) {
		/* Each member reads every table: it is a reader thread of the group. */
		rte_rcu_qsbr_thread_register(s->group->qsbr, s->queue);
		rte_rcu_qsbr_thread_online(s->group->qsbr, s->queue);
		__atomic_store_n(&s->group->members[s->queue], s, __ATOMIC_RELEASE);
	}
	return s;
}

void
dpf_nat_sessions_quiescent(struct dpf_nat_sessions *s)
{
	if (s != NULL && s->group != NULL)
		rte_rcu_qsbr_quiescent(s->group->qsbr, s->queue);
}

void
dpf_nat_sessions_offline(struct dpf_nat_sessions *s)
{
	if (s != NULL && s->group != NULL)
		rte_rcu_qsbr_thread_offline(s->group->qsbr, s->queue);
}

/* The queue a NIC with our key and RETA gives the reply remote -> outside:port. */
static uint16_t
reply_queue(const struct dpf_nat_sessions *s, uint8_t family, const uint8_t *remote, uint16_t rport,
	    const uint8_t *outside, uint16_t oport)
{
	uint8_t t[DPF_RSS_TUPLE_MAX];
	uint32_t alen = family == 4 ? 4 : 16;

	memcpy(t, remote, alen);
	memcpy(t + alen, outside, alen);
	dpf_store_be16(t + 2 * alen, rport);
	dpf_store_be16(t + 2 * alen + 2, oport);
	return (uint16_t)((dpf_rss_hash(s->rss, t, 2 * alen + 4) % s->reta_size) % s->n_queues);
}

/* Shared mode: sessions whose grace period has passed become free again. */
static void
reclaim(struct dpf_nat_sessions *s)
{
	while (s->retired_n != 0) {
		struct retired_session *r = &s->retired[s->retired_head];

		if (rte_rcu_qsbr_check(s->group->qsbr, r->token, false) != 1)
			break;
		if (r->fwd_pos >= 0)
			rte_hash_free_key_with_position(s->fwd, r->fwd_pos);
		if (r->rev_pos >= 0)
			rte_hash_free_key_with_position(s->rev, r->rev_pos);
		s->free_stack[s->n_free++] = r->idx;
		s->retired_head = (s->retired_head + 1) % s->capacity;
		__atomic_store_n(&s->retired_n, s->retired_n - 1, __ATOMIC_RELAXED);
	}
}

/*
 * Take a session out of the tables. Per core it is free at once; shared,
 * another core may still be reading it: it waits for a grace period (every
 * member reported a quiescent state after the deletion) in the retired FIFO.
 */
static void
session_unlink(struct dpf_nat_sessions *s, uint32_t idx, bool rev_added)
{
	struct session *se = &s->sess[idx];
	int32_t fwd_pos = rte_hash_del_key(s->fwd, &se->fwd);
	int32_t rev_pos = rev_added ? rte_hash_del_key(s->rev, &se->rev) : -1;
	struct retired_session *r;

	se->used = 0;
	if (s->group == NULL) {
		s->free_stack[s->n_free++] = idx;
		return;
	}
	/* The FIFO holds every session at most once: it cannot overflow. */
	r = &s->retired[(s->retired_head + s->retired_n) % s->capacity];
	r->idx = idx;
	r->fwd_pos = fwd_pos;
	r->rev_pos = rev_pos;
	r->token = rte_rcu_qsbr_start(s->group->qsbr);
	__atomic_store_n(&s->retired_n, s->retired_n + 1, __ATOMIC_RELAXED);
}

static int
session_new(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint32_t ri, uint64_t now_ns,
	    uint16_t *oport)
{
	const struct dpf_nat_rule *r = &s->nat->rules[ri];
	uint32_t range = (uint32_t)r->port_hi - r->port_lo + 1;
	uint32_t step = 1, first = 0, count = range;
	struct sess_key rev;
	uint32_t t, idx;

	if (s->group != NULL) {
		/* Shared: port p belongs to member (p - lo) % members, so the
		 * reply's destination port names the table to look in. */
		step = s->group->n_members;
		first = s->queue;
		count = range > first ? (range - first + step - 1) / step : 0;
		if (s->n_free == 0)
			reclaim(s);
	}
	if (s->n_free == 0) {
		nat_stat_inc(&s->st.table_full);
		return -ENOSPC;
	}
	for (t = 0; t < count; t++) {
		uint32_t j = (s->cursor[ri] + t) % count;
		uint16_t p = (uint16_t)(r->port_lo + first + j * step);

		nat_stat_inc(&s->st.port_tries);
		if (s->group == NULL && s->n_queues > 1 &&
		    reply_queue(s, k->family, k->dst_addr, k->dst_port, r->out_addr, p) != s->queue)
			continue;
		sess_key_make(&rev, k->family, k->proto, r->out_addr, p, k->dst_addr, k->dst_port);
		if (rte_hash_lookup(s->rev, &rev) >= 0)
			continue;
		idx = s->free_stack[--s->n_free];
		sess_key_make(&s->sess[idx].fwd, k->family, k->proto, k->src_addr, k->src_port,
			      k->dst_addr, k->dst_port);
		s->sess[idx].rev = rev;
		s->sess[idx].rule = ri;
		s->sess[idx].last_ns = now_ns;
		s->sess[idx].used = 1;
		/* rev first: a core that finds fwd may look rev up at once. */
		if (rte_hash_add_key_data(s->rev, &rev, (void *)(uintptr_t)idx) < 0) {
			s->sess[idx].used = 0;
			s->free_stack[s->n_free++] = idx;
			nat_stat_inc(&s->st.table_full);
			return -ENOSPC;
		}
		if (rte_hash_add_key_data(s->fwd, &s->sess[idx].fwd, (void *)(uintptr_t)idx) < 0) {
			session_unlink(s, idx, true);
			nat_stat_inc(&s->st.table_full);
			return -ENOSPC;
		}
		s->cursor[ri] = (j + 1) % count;
		nat_stat_inc(&s->st.created);
		nat_stat_inc(&s->st.active);
		*oport = p;
		return 0;
	}
	nat_stat_inc(&s->st.port_exhausted);
	return -ENOSPC;
}

static inline void
touch(struct dpf_nat_sessions *s, struct session *se, uint64_t now_ns)
{
	uint64_t last = __atomic_load_n(&se->last_ns, __ATOMIC_RELAXED);

	if (now_ns > last + s->touch_ns)
		__atomic_store_n(&se->last_ns, now_ns, __ATOMIC_RELAXED);
}

/* The masquerade rule whose outside address:port range holds addr:port. */
static const struct dpf_nat_rule *
masq_rule_of(const struct dpf_nat *nat, uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < nat->n_rules; i++) {
		const struct dpf_nat_rule *r = &nat->rules[i];

		if (r->type == DPF_NAT_MASQUERADE && r->family == family && port >= r->port_lo &&
		    port <= r->port_hi && memcmp(r->out_addr, addr, 16) == 0)
			return r;
	}
	return NULL;
}

/*
 * The session of a reply (rev key). Per core: this core's table. Shared:
 * the table of the member that owns the port.
 */
static struct session *
find_rev(struct dpf_nat_sessions *s, const struct sess_key *key)
{
	struct dpf_nat_sessions *owner = s;
	void *data;

	if (s->group != NULL) {
		const struct dpf_nat_rule *r =
			masq_rule_of(s->nat, key->family, key->local, key->local_port);

		if (r == NULL)
			return NULL;
		owner = __atomic_load_n(
			&s->group->members[(key->local_port - r->port_lo) % s->group->n_members],
			__ATOMIC_ACQUIRE);
		if (owner == NULL)
			return NULL;
		if (owner != s)
			nat_stat_inc(&s->st.remote_hits);
	}
	if (rte_hash_lookup_data(owner->rev, key, &data) < 0)
		return NULL;
	return &owner->sess[(uintptr_t)data];
}

/* The session of an outbound packet (fwd key): this core's, else (shared) any member's. */
static struct session *
find_fwd(struct dpf_nat_sessions *s, const struct sess_key *key)
{
	void *data;
	uint16_t m;

	if (rte_hash_lookup_data(s->fwd, key, &data) >= 0)
		return &s->sess[(uintptr_t)data];
	if (s->group == NULL)
		return NULL;
	for (m = 0; m < s->group->n_members; m++) {
		struct dpf_nat_sessions *o =
			__atomic_load_n(&s->group->members[m], __ATOMIC_ACQUIRE);

		if (o == NULL || o == s || rte_hash_lookup_data(o->fwd, key, &data) < 0)
			continue;
		nat_stat_inc(&s->st.remote_hits);
		return &o->sess[(uintptr_t)data];
	}
	return NULL;
}

/* Masquerade for TCP, UDP, SCTP (nat_private.h). */
int
nat_ports_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint64_t now_ns,
		bool create, struct dpf_flow_nat *post, uint32_t *rule)
{
	struct sess_key key;
	struct session *se;
	int64_t ri;

	/* Inbound: a reply to one of our outside addresses. */
	if (dpf_nat_is_masquerade_outside(s->nat, k->family, k->dst_addr)) {
		sess_key_make(&key, k->family, k->proto, k->dst_addr, k->dst_port, k->src_addr,
			      k->src_port);
		se = find_rev(s, &key);
		if (se == NULL) {
			if (create)
				nat_stat_inc(&s->st.no_session);
			return -ENOENT;
		}
		if (create)
			touch(s, se, now_ns);
		memcpy(post->dst_addr, se->fwd.local, 16);
		post->dst_port = se->fwd.local_port;
		*rule = se->rule + 1;
		return 1;
	}
	/* Outbound: only when no stateless rule already rewrote the source. */
	if (memcmp(post->src_addr, k->src_addr, 16) != 0 || post->src_port != k->src_port)
		return 0;
	ri = prefix_lookup(&s->nat->masq_in, k->family, k->src_addr);
	if (ri < 0)
		return 0;
	sess_key_make(&key, k->family, k->proto, k->src_addr, k->src_port, k->dst_addr,
		      k->dst_port);
	se = find_fwd(s, &key);
	if (se != NULL) {
		if (create)
			touch(s, se, now_ns);
		memcpy(post->src_addr, se->rev.local, 16);
		post->src_port = se->rev.local_port;
		*rule = se->rule + 1;
		return 1;
	} else {
		uint16_t oport;
		int rc;

		if (!create)
			return -ENOENT;
		rc = session_new(s, k, (uint32_t)ri, now_ns, &oport);
		if (rc < 0)
			return rc;
		memcpy(post->src_addr, s->nat->rules[ri].out_addr, 16);
		post->src_port = oport;
		*rule = (uint32_t)ri + 1;
		return 1;
	}
}

int
dpf_nat_sessions_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint8_t is_echo,
		       uint16_t icmp_id, uint64_t now_ns, struct dpf_flow_nat *post,
		       uint16_t *post_icmp_id, uint32_t *rule)
{
	*post_icmp_id = icmp_id;
	if (is_echo != 0)
		return nat_icmp_apply(s, k, is_echo, icmp_id, now_ns, true, post, post_icmp_id,
				      rule);
	if (!nat_has_ports(k->proto))
		return 0;
	return nat_ports_apply(s, k, now_ns, true, post, rule);
}

int
dpf_nat_sessions_reset(struct dpf_nat_sessions *s, const struct dpf_nat *nat)
{
	uint32_t i;

	if (nat == NULL || nat->n_rules > MAX_RULES)
		return -E2BIG;
	if (s->group != NULL) {
		/* Other cores may be reading: one key at a time, through the grace period. */
		for (i = 0; i < s->capacity; i++)
			if (s->sess[i].used)
				session_unlink(s, i, true);
	} else {
		rte_hash_reset(s->fwd);
		rte_hash_reset(s->rev);
		for (i = 0; i < s->capacity; i++) {
			s->sess[i].used = 0;
			s->free_stack[i] = s->capacity - 1 - i;
		}
		s->n_free = s->capacity;
	}
	memset(s->cursor, 0, (MAX_RULES + 1) * sizeof(uint32_t));
	nat_stat_set(&s->st.active, 0);
	s->nat = nat;
	/* The shared ICMP table is emptied once, by the core of queue 0. */
	if (s->icmp != NULL && s->queue == 0)
		nat_icmp_reset(s->icmp);
	return 0;
}

uint32_t
dpf_nat_sessions_expire(struct dpf_nat_sessions *s, uint64_t now_ns)
{
	uint32_t i, n = 0;

	if (s->group != NULL)
		reclaim(s);
	for (i = 0; i < s->capacity; i++) {
		struct session *se = &s->sess[i];
		uint64_t last = __atomic_load_n(&se->last_ns, __ATOMIC_RELAXED);

		if (!se->used || now_ns < last || now_ns - last <= s->timeout_ns)
			continue;
		session_unlink(s, i, true);
		n++;
	}
	nat_stat_set(&s->st.expired, s->st.expired + n);
	nat_stat_set(&s->st.active, s->st.active - n);
	/* The shared ICMP table is expired by the core of queue 0. */
	if (s->icmp != NULL && s->queue == 0)
		nat_icmp_expire(s->icmp, now_ns, s->timeout_ns);
	return n;
}

void
dpf_nat_sessions_get_stats(const struct dpf_nat_sessions *s, struct dpf_nat_sessions_stats *st)
{
	/* One writer, the owning lcore: each counter is read whole. */
	st->created = __atomic_load_n(&s->st.created, __ATOMIC_RELAXED);
	st->active = __atomic_load_n(&s->st.active, __ATOMIC_RELAXED);
	st->expired = __atomic_load_n(&s->st.expired, __ATOMIC_RELAXED);
	st->port_exhausted = __atomic_load_n(&s->st.port_exhausted, __ATOMIC_RELAXED);
	st->table_full = __atomic_load_n(&s->st.table_full, __ATOMIC_RELAXED);
	st->no_session = __atomic_load_n(&s->st.no_session, __ATOMIC_RELAXED);
	st->port_tries = __atomic_load_n(&s->st.port_tries, __ATOMIC_RELAXED);
	st->remote_hits = __atomic_load_n(&s->st.remote_hits, __ATOMIC_RELAXED);
	st->retired = __atomic_load_n(&s->retired_n, __ATOMIC_RELAXED);
}
