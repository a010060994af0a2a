/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "conn_index.h"
#include "dpf_conn.h"
#include "dpf_util.h"

/* Records looked up together (conn_index_lookup_bulk() takes at most 64). */
#define CONN_BURST 64
/* last_seen of a position without a connection. */
#define SLOT_FREE UINT64_MAX
/* Entries prefetched ahead in the passes over the window's connections. */
#define PREFETCH_AHEAD 8

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* What one direction carried with one action in the open window (its
 * TCP flags are in the entry's head, beside the other small fields). */
struct conn_side {
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_ns;
	uint64_t last_ns;
};

/* A side with its TCP flags, as the rare passes over a cut tuple's segments
 * use it (conn_close_pieces(); the entry keeps the flags apart). */
struct conn_tally {
	struct conn_side s;
	uint8_t flags_all;
	uint8_t flags_aws;
};

/*
 * A connection, by entry number (conn_index.h). Direction 0 goes from the
 * key's src (the lower endpoint) to its dst; init_dir names the initiator's.
 *
 * A record's look-up and update touch the first line (the key the index
 * compares, the flags) and the line of its action's sides: two cache lines
 * (the entries are cache-aligned). The pass is bound by how many lines and
 * pages the look-ups have in flight, so the fewer a record needs, the faster
 * it goes: with the post-NAT views before the sides, and rte_hash's own key
 * store and two buckets, a record touched six to seven lines.
 */
struct conn_entry {
	struct dpf_flow_key key; /* canonical: lower endpoint first, action 0 */
	uint32_t win_gen;	 /* the window win[], flags and post_* belong to */
	uint8_t flags_all[2][2]; /* [action][direction], the open window */
	uint8_t flags_aws[2][2];
	uint8_t post_set;     /* bit per direction: its view is set */
	uint8_t post_own;     /* bit per direction: its view is the packets' own */
	uint8_t init_dir : 1; /* the initiator's direction */
	uint8_t fins : 2;     /* bit per direction that sent a FIN */
	bool live : 1;	      /* holds a connection (not only this window's records) */
	bool terminated : 1;
	bool initiated : 1;    /* began in the window just closed */
	uint8_t sides_set : 2; /* bit per action: win[action] holds the window's */
	/* Its flows were cut in the open window: cuts[cut_of[pos] - 1]. Of the
	 * open window like sides_set: cleared by its first record. */
	bool cut : 1;
	struct conn_side win[2][2];  /* [action][direction], the open window; see side() */
	struct dpf_flow_nat post[2]; /* post-NAT view per direction, first seen in the window */
	uint64_t cum[2][2][2];	     /* [action][initiator 0, target 1][bytes 0, packets 1] */
	uint64_t start_ns;	     /* first packet of the connection */
	uint64_t last_ns;	     /* last packet of the closed windows */
	uint64_t win_first_ns;	     /* this window's first and last packet */
	uint64_t win_last_ns;
} __rte_cache_aligned;

_Static_assert(offsetof(struct conn_entry, win) == RTE_CACHE_LINE_SIZE &&
		       sizeof(((struct conn_entry *)0)->win[0]) == RTE_CACHE_LINE_SIZE,
	       "a record's update should touch the first line and one line of sides");

/* A tuple whose flows were cut in the open window (kept beside the entries,
 * which stay 384 bytes: six cache lines). */
struct conn_cut {
	uint32_t piece_head; /* its segments: a list in pieces, index + 1 (0: none) */
	/* Flow logs of connections of this tuple that ended inside the window
	 * just closed (before the one in win): early[early_first, + early_n). */
	uint32_t early_first;
	uint32_t early_n;
};

/* One segment of a direction's flow (a DPF_LOG_SEGMENT row), or a record's
 * side, as the window-close pass orders them by time. */
struct conn_piece {
	struct conn_tally s;
	uint32_t next; /* the entry's next piece, index + 1 (0: none) */
	uint8_t action;
	uint8_t dir;
	uint8_t why; /* DPF_SEG_SYN / DPF_SEG_GAP: a connection may restart here */
};

struct dpf_conn_table {
	struct conn_index *index;
	uint64_t timeout_ns;
	uint32_t capacity;
	uint32_t n_slots;
	uint32_t count;
	uint32_t n_touched;
	uint32_t gen;	   /* the open window's number (entries' win_gen), from 1 */
	bool closed;	   /* the touched entries belong to the window just closed */
	uint32_t iter_pos; /* the flow log iterator: touched index and action */
	uint8_t iter_action;
	struct dpf_conn_stats st;
	uint32_t *touched;   /* positions with records in the window, in first-record order */
	uint32_t *sorted;    /* scratch for sorting touched by interface */
	uint32_t *per_iface; /* [UINT16_MAX + 1] counts, then offsets, for that sort */
	struct conn_entry *entries; /* n_slots, by entry number */
	/* The window's segments (max_pieces), their order at close (+ 4 sides),
	 * and the flow logs of connections that ended inside it (2 a piece). */
	struct conn_piece *pieces;
	const struct conn_piece **order;
	struct dpf_conn_log *early;
	struct conn_cut *cuts; /* max_pieces */
	uint32_t *cut_of;      /* n_slots, by entry number: index + 1 in cuts, when entry.cut */
	uint32_t max_pieces;
	uint32_t n_pieces;
	uint32_t n_cuts;
	uint32_t n_early;
	uint32_t iter_early;
	/* n_slots, by entry number: a live connection's last packet, SLOT_FREE
	 * otherwise. The expiry scan reads this, not the entries (50 times larger). */
	uint64_t *last_seen;
};

void
dpf_conn_free(struct dpf_conn_table *t)
{
	if (t == NULL)
		return;
	conn_index_free(t->index);
	rte_free(t); /* the arrays are in the same allocation */
}

/* Segments a window holds apart: flows cut inside a window are few (port
 * reuse, idle gaps); beyond this they are summed as before (segments_merged). */
static uint32_t
conn_max_pieces(const struct dpf_conn_params *p)
{
	return p->capacity / 16 + 256;
}

/*
 * One allocation: the handle, then the entries, the touched and sorted
 * indexes, the per-interface counts and the last-seen times, each from a
 * cache line on. Only the entries are read before they are written.
 */
static struct dpf_conn_table *
conn_alloc(const struct dpf_conn_params *p, uint32_t n_slots)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct dpf_conn_table, entries), n_slots * sizeof(struct conn_entry),
		 true},
		{offsetof(struct dpf_conn_table, touched), p->capacity * sizeof(uint32_t), false},
		{offsetof(struct dpf_conn_table, sorted), p->capacity * sizeof(uint32_t), false},
		{offsetof(struct dpf_conn_table, per_iface), (UINT16_MAX + 1) * sizeof(uint32_t),
		 false},
		{offsetof(struct dpf_conn_table, last_seen), n_slots * sizeof(uint64_t), false},
		{offsetof(struct dpf_conn_table, pieces),
		 conn_max_pieces(p) * sizeof(struct conn_piece), false},
		{offsetof(struct dpf_conn_table, order),
		 (conn_max_pieces(p) + 4) * sizeof(struct conn_piece *), false},
		{offsetof(struct dpf_conn_table, early),
		 2 * conn_max_pieces(p) * sizeof(struct dpf_conn_log), false},
		{offsetof(struct dpf_conn_table, cuts),
		 conn_max_pieces(p) * sizeof(struct conn_cut), false},
		{offsetof(struct dpf_conn_table, cut_of), n_slots * sizeof(uint32_t), false},
	};

	return dpf_layout_new(p->name, sizeof(struct dpf_conn_table), parts, RTE_DIM(parts),
			      p->socket_id);
}

struct dpf_conn_table *
dpf_conn_create(const struct dpf_conn_params *p)
{
	struct dpf_conn_table *t;

	if (p == NULL || p->capacity == 0 || p->capacity > DPF_CONN_MAX_CAPACITY ||
	    p->timeout_ns == 0)
		return dpf_null_errno(EINVAL);
	t = conn_alloc(p, p->capacity);
	if (t == NULL)
		return NULL; /* rte_errno set */
	t->capacity = p->capacity;
	t->timeout_ns = p->timeout_ns;
	t->max_pieces = conn_max_pieces(p);
	t->n_slots = p->capacity;
	t->gen = 1;
	for (uint32_t i = 0; i < t->n_slots; i++)
		t->last_seen[i] = SLOT_FREE;
	t->index = conn_index_create(p->name, p->capacity, 0, t->entries, sizeof(t->entries[0]),
				     p->socket_id);
	if (t->index == NULL)
		return dpf_null_free(t);
	return t;
}

/*
 * The window's records start over. What the closed window left in an entry
 * is forgotten when the entry's first record of the new window arrives
 * (conn_apply(), win_gen): no pass over the closed window's entries.
 */
static void
conn_reset_window(struct dpf_conn_table *t)
{
	t->n_touched = 0;
	t->n_pieces = 0;
	t->n_cuts = 0;
	t->n_early = 0;
	t->closed = false;
	/* Never 0, a new entry's win_gen (and an idle entry expires long
	 * before its number comes round again). */
	if (++t->gen == 0)
		t->gen = 1;
}

/* Canonical key: the lower (address, port) endpoint first. @return the record's direction */
static unsigned int
conn_key(struct dpf_flow_key *out, const struct dpf_flow_key *k)
{
	int c = memcmp(k->src_addr, k->dst_addr, sizeof(k->src_addr));
	unsigned int dir = c > 0 || (c == 0 && k->src_port > k->dst_port);

	memset(out, 0, sizeof(*out));
	memcpy(out->src_addr, dir ? k->dst_addr : k->src_addr, sizeof(out->src_addr));
	memcpy(out->dst_addr, dir ? k->src_addr : k->dst_addr, sizeof(out->dst_addr));
	out->src_port = dir ? k->dst_port : k->src_port;
	out->dst_port = dir ? k->src_port : k->dst_port;
	out->iface = k->iface;
	out->proto = k->proto;
	out->family = k->family;
	/*
	 * A connection is (interface, protocol, endpoint pair): the tunnel
	 * (--decap) is left out, so a tenant's connection is one whether its
	 * packets came in VXLAN or GENEVE (the tenant interface already tells
	 * tenants apart).
	 */
	return dir;
}

static struct conn_entry *
conn_find_or_add(struct dpf_conn_table *t, const struct dpf_flow_key *key, uint32_t h)
{
	int32_t pos = conn_index_lookup(t->index, key, h);
	struct conn_entry *e;

	if (pos >= 0)
		return &t->entries[pos];
	if (t->count >= t->capacity)
		return NULL;
	pos = conn_index_add(t->index, key, h);
	if (pos < 0)
		return NULL;
	t->count++;
	e = &t->entries[pos];
	/* Only the first line: the rest is set by the first record (the sides,
	 * conn_first_of_window()) and by the close (a connection that is not
	 * live is new there), so a new connection costs no write of lines the
	 * pass would otherwise not read. */
	memset(e, 0, offsetof(struct conn_entry, win));
	e->key = *key;
	return e;
}

/* A flow record, or a segment of one (the record of a flow cut into segments
 * is taken as its segments, which follow it: the record itself is skipped). */
static bool
conn_record_ok(const struct dpf_record *r)
{
	return (r->log_status == DPF_LOG_OK || r->log_status == DPF_LOG_SEGMENT) &&
	       dpf_conn_proto(r->key.proto) && r->packets != 0 &&
	       r->key.action <= DPF_ACTION_REJECT;
}

static bool
conn_record_skip(const struct dpf_record *r)
{
	return r->log_status == DPF_LOG_OK && r->segments;
}

/* Whether a record's post-NAT view is its own addresses and ports. */
static bool
post_is_own(const struct dpf_record *r)
{
	return r->post.src_port == r->key.src_port && r->post.dst_port == r->key.dst_port &&
	       memcmp(r->post.src_addr, r->key.src_addr, sizeof(r->post.src_addr)) == 0 &&
	       memcmp(r->post.dst_addr, r->key.dst_addr, sizeof(r->post.dst_addr)) == 0;
}

/* The entry's first record of the open window: forget the last one's. */
static void
conn_first_of_window(struct dpf_conn_table *t, struct conn_entry *e)
{
	e->win_gen = t->gen;
	e->post_set = 0;
	e->post_own = 0;
	e->initiated = false;
	memset(e->flags_all, 0, sizeof(e->flags_all));
	memset(e->flags_aws, 0, sizeof(e->flags_aws));
	e->sides_set = 0;
	e->cut = false;
	t->touched[t->n_touched++] = (uint32_t)(e - t->entries);
}

/*
 * A side of the open window. An action's sides are cleared by its first
 * record (conn_apply()), so a window of accepted records never writes, nor
 * reads, the rejected sides' line.
 */
static inline const struct conn_side *
side(const struct conn_entry *e, unsigned int a, unsigned int d)
{
	static const struct conn_side none;

	return e->sides_set & (1u << a) ? &e->win[a][d] : &none;
}

static void
conn_tally_add(struct conn_tally *s, const struct conn_tally *x)
{
	if (x->s.packets == 0)
		return;
	if (s->s.packets == 0 || x->s.first_ns < s->s.first_ns)
		s->s.first_ns = x->s.first_ns;
	s->s.last_ns = RTE_MAX(s->s.last_ns, x->s.last_ns);
	s->s.packets += x->s.packets;
	s->s.bytes += x->s.bytes;
	s->flags_all |= x->flags_all;
	s->flags_aws |= x->flags_aws;
}

/* The open window's sides with their flags (the rare passes over segments). */
static void
conn_win_get(const struct conn_entry *e, struct conn_tally w[2][2])
{
	unsigned int a, d;

	for (a = 0; a < 2; a++)
		for (d = 0; d < 2; d++)
			w[a][d] = (struct conn_tally){.s = *side(e, a, d),
						      .flags_all = e->flags_all[a][d],
						      .flags_aws = e->flags_aws[a][d]};
}

static void
conn_win_set(struct conn_entry *e, const struct conn_tally w[2][2])
{
	unsigned int a, d;

	for (a = 0; a < 2; a++)
		for (d = 0; d < 2; d++) {
			e->win[a][d] = w[a][d].s;
			e->flags_all[a][d] = w[a][d].flags_all;
			e->flags_aws[a][d] = w[a][d].flags_aws;
		}
	e->sides_set = 3;
}

/* The entry's cut record, made on its first segment. NULL: no room (segments summed). */
static struct conn_cut *
conn_cut_of(struct dpf_conn_table *t, struct conn_entry *e)
{
	uint32_t pos = (uint32_t)(e - t->entries);

	if (!e->cut) {
		if (t->n_cuts == t->max_pieces)
			return NULL;
		t->cuts[t->n_cuts] = (struct conn_cut){0};
		t->cut_of[pos] = ++t->n_cuts;
		e->cut = true;
	}
	return &t->cuts[t->cut_of[pos] - 1];
}

/* A segment row: one more piece of the tuple, or summed when there is no room. */
static bool
conn_apply_piece(struct dpf_conn_table *t, struct conn_entry *e, unsigned int dir,
		 const struct dpf_record *r)
{
	struct conn_cut *c = t->n_pieces < t->max_pieces ? conn_cut_of(t, e) : NULL;
	struct conn_piece *p;

	if (c == NULL) {
		t->st.segments_merged++;
		return false;
	}
	p = &t->pieces[t->n_pieces++];
	p->s = (struct conn_tally){.s = {.packets = r->packets,
					 .bytes = r->bytes,
					 .first_ns = r->first_ns,
					 .last_ns = r->last_ns},
				   .flags_all = r->tcp_flags_all,
				   .flags_aws = r->tcp_flags_aws};
	p->action = r->key.action;
	p->dir = (uint8_t)dir;
	p->why = r->seg_flags;
	p->next = c->piece_head;
	c->piece_head = t->n_pieces;
	t->st.segments++;
	return true;
}

/* A record into its side of the window (two lines: the first, the action's sides). */
static void
conn_side_add_record(struct conn_entry *e, unsigned int dir, const struct dpf_record *r)
{
	const unsigned int a = r->key.action;
	struct conn_side *s = &e->win[a][dir];

	if (!(e->sides_set & (1u << a))) {
		memset(e->win[a], 0, sizeof(e->win[a]));
		e->sides_set |= (uint8_t)(1u << a);
	}
	if (s->packets == 0 || r->first_ns < s->first_ns)
		s->first_ns = r->first_ns;
	s->last_ns = RTE_MAX(s->last_ns, r->last_ns);
	s->packets += r->packets;
	s->bytes += r->bytes;
	e->flags_all[a][dir] |= r->tcp_flags_all;
	e->flags_aws[a][dir] |= r->tcp_flags_aws;
}

/* Add a record to its connection's side of the window (a segment to its pieces). */
static void
conn_apply(struct dpf_conn_table *t, struct conn_entry *e, unsigned int dir,
	   const struct dpf_record *r)
{
	t->st.records++;
	if (e->win_gen != t->gen)
		conn_first_of_window(t, e);
	if (likely(r->log_status != DPF_LOG_SEGMENT) || !conn_apply_piece(t, e, dir, r))
		conn_side_add_record(e, dir, r);
	if (!(e->post_set & (1u << dir))) {
		/* Without NAT the view is the packets' own: a bit, not 36 bytes
		 * on two more cache lines. */
		if (post_is_own(r))
			e->post_own |= (uint8_t)(1u << dir);
		else
			e->post[dir] = r->post;
		e->post_set |= (uint8_t)(1u << dir);
	}
}

static int
conn_add_one(struct dpf_conn_table *t, const struct dpf_record *r, const struct dpf_flow_key *key,
	     uint32_t h, unsigned int dir)
{
	struct conn_entry *e = conn_find_or_add(t, key, h);

	if (e == NULL) {
		t->st.records_full++;
		t->st.packets_full += r->packets;
		return -ENOSPC;
	}
	conn_apply(t, e, dir, r);
	return 0;
}

int
dpf_conn_add(struct dpf_conn_table *t, const struct dpf_record *r)
{
	struct dpf_flow_key key;
	unsigned int dir;

	if (!conn_record_ok(r))
		return -EINVAL;
	if (t->closed)
		conn_reset_window(t);
	if (conn_record_skip(r))
		return 0;
	dir = conn_key(&key, &r->key);
	return conn_add_one(t, r, &key, conn_index_hash(&key), dir);
}

/*
 * A burst: the keys looked up together (conn_index_lookup_bulk() prefetches
 * their buckets and keys), the entries found prefetched before they are updated, so
 * that the cache misses of a burst overlap instead of following each other.
 * The chunks of a burst are pipelined: the next chunk is looked up (and its
 * entries prefetched) before this one's entries are updated, so the lines
 * prefetched have arrived by then.
 */
struct conn_chunk {
	struct dpf_flow_key keys[CONN_BURST];
	int32_t pos[CONN_BURST];
	uint32_t hash[CONN_BURST];
	uint32_t idx[CONN_BURST];
	uint8_t dir[CONN_BURST];
	uint32_t m; /* records looked up: keys[0..m) */
	const struct dpf_record *r;
	int *rc;
};

/* The lines a record's update touches: the first one and its action's sides. */
static void
conn_prefetch_update(const struct conn_entry *e, unsigned int action)
{
	rte_prefetch0(e);
	rte_prefetch0(&e->win[action]);
}

static void
conn_prefetch(const struct conn_entry *e)
{
	size_t off;

	for (off = 0; off < sizeof(*e); off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0((const char *)e + off);
}

static void
conn_chunk_lookup(struct dpf_conn_table *t, struct conn_chunk *c, const struct dpf_record *r,
		  uint32_t n, int *rc)
{
	uint32_t i, m = 0;

	c->r = r;
	c->rc = rc;
	for (i = 0; i < n; i++) {
		if (rc != NULL)
			rc[i] = 0;
		if (!conn_record_ok(&r[i])) {
			if (rc != NULL)
				rc[i] = -EINVAL;
			continue;
		}
		if (conn_record_skip(&r[i]))
			continue;
		c->dir[m] = (uint8_t)conn_key(&c->keys[m], &r[i].key);
		c->idx[m++] = i;
	}
	c->m = m;
	if (m == 0)
		return;
	conn_index_lookup_bulk(t->index, c->keys, m, c->hash, c->pos);
	for (i = 0; i < m; i++)
		if (c->pos[i] >= 0)
			conn_prefetch_update(&t->entries[c->pos[i]], r[c->idx[i]].key.action);
}

/*
 * A position found by the look-up stays valid while earlier chunks are
 * applied: those only add keys, and an entry's number never changes.
 */
static uint32_t
conn_chunk_apply(struct dpf_conn_table *t, const struct conn_chunk *c)
{
	uint32_t i, taken = 0;

	for (i = 0; i < c->m; i++) {
		const struct dpf_record *r = &c->r[c->idx[i]];
		int err = 0;

		/* Not found: new, or added by an earlier record of this burst. */
		if (c->pos[i] >= 0)
			conn_apply(t, &t->entries[c->pos[i]], c->dir[i], r);
		else
			err = conn_add_one(t, r, &c->keys[i], c->hash[i], c->dir[i]);
		if (c->rc != NULL)
			c->rc[c->idx[i]] = err;
		taken += err == 0;
	}
	return taken;
}

uint32_t
dpf_conn_add_burst(struct dpf_conn_table *t, const struct dpf_record *recs, uint32_t n, int *rc)
{
	struct conn_chunk ch[2];
	uint32_t done = 0, taken = 0, cur = 0;
	bool pending = false;

	if (t->closed)
		conn_reset_window(t);
	for (;;) {
		bool next = done < n;

		if (next) {
			uint32_t len = RTE_MIN(n - done, (uint32_t)CONN_BURST);

			conn_chunk_lookup(t, &ch[!cur], recs + done, len,
					  rc != NULL ? rc + done : NULL);
			done += len;
		}
		if (pending)
			taken += conn_chunk_apply(t, &ch[cur]);
		if (!next)
			break;
		cur = !cur;
		pending = true;
	}
	return taken;
}

/* What a direction did over both actions in the window. */
struct conn_dir_view {
	uint64_t packets;
	uint64_t first_ns;
	uint64_t last_ns;
	uint8_t flags_all;
	bool pure_syn; /* sent a SYN without ACK (from the AWS flags: SYN-ACK sets 0x10) */
};

static void
conn_dir_view(const struct conn_entry *e, unsigned int dir, struct conn_dir_view *v)
{
	unsigned int a;

	memset(v, 0, sizeof(*v));
	for (a = 0; a < 2; a++) {
		const struct conn_side *s = side(e, a, dir);

		if (s->packets == 0)
			continue;
		if (v->packets == 0 || s->first_ns < v->first_ns)
			v->first_ns = s->first_ns;
		v->last_ns = RTE_MAX(v->last_ns, s->last_ns);
		v->packets += s->packets;
		v->flags_all |= e->flags_all[a][dir];
		v->pure_syn |= (e->flags_aws[a][dir] & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	}
}

/*
 * The direction of the connection's first packet: the earlier first
 * packet; at the same nanosecond the one that sent a bare SYN; else the
 * lower endpoint (any fixed choice keeps the output deterministic).
 */
static uint8_t
conn_first_dir(const struct conn_dir_view v[2])
{
	if (v[0].packets == 0 || v[1].packets == 0)
		return v[0].packets == 0;
	if (v[0].first_ns != v[1].first_ns)
		return v[1].first_ns < v[0].first_ns;
	return !v[0].pure_syn && v[1].pure_syn;
}

/*
 * syn: whether the packets begin with a TCP SYN without ACK: 1 or 0 for a
 * segment that begins where a connection may restart (its first packet is
 * known), -1 for the window's first packets of a tuple, where a bare SYN
 * anywhere in them counts (records carry no more).
 */
static bool
conn_is_new(const struct dpf_conn_table *t, const struct conn_entry *e,
	    const struct conn_dir_view v[2], uint64_t first_ns, int syn)
{
	if (!e->live)
		return true;
	if (first_ns > e->last_ns && first_ns - e->last_ns > t->timeout_ns)
		return true;
	if (syn < 0)
		syn = v[0].pure_syn || v[1].pure_syn;
	return e->terminated && e->key.proto == 6 && syn;
}

/* The views of the window's sides, and the window's first and last packet. */
static void
conn_views(struct conn_entry *e, struct conn_dir_view v[2])
{
	conn_dir_view(e, 0, &v[0]);
	conn_dir_view(e, 1, &v[1]);
	e->win_first_ns = v[0].packets == 0   ? v[1].first_ns
			  : v[1].packets == 0 ? v[0].first_ns
					      : RTE_MIN(v[0].first_ns, v[1].first_ns);
	e->win_last_ns = RTE_MAX(v[0].last_ns, v[1].last_ns);
}

/* The window's sides (e->win) into the connection: a new one, or more of it. */
static void
conn_close_one(struct dpf_conn_table *t, struct conn_entry *e, int syn)
{
	struct conn_dir_view v[2];
	unsigned int a, d;

	conn_views(e, v);
	if (conn_is_new(t, e, v, e->win_first_ns, syn)) {
		if (!e->live)
			e->last_ns = 0; /* a new entry: nothing before */
		e->live = true;
		e->initiated = true;
		e->init_dir = conn_first_dir(v);
		e->start_ns = e->win_first_ns;
		e->terminated = false;
		e->fins = 0;
		memset(e->cum, 0, sizeof(e->cum));
		t->st.opened++;
	}
	for (a = 0; a < 2; a++)
		for (d = 0; d < 2; d++) {
			const struct conn_side *s = side(e, a, d);
			unsigned int role = d != e->init_dir;

			e->cum[a][role][0] += s->bytes;
			e->cum[a][role][1] += s->packets;
		}
	if (e->key.proto == 6) {
		for (d = 0; d < 2; d++) {
			if (v[d].flags_all & TCP_RST)
				e->terminated = true;
			if (v[d].flags_all & TCP_FIN)
				e->fins |= (uint8_t)(1u << d);
		}
		if (e->fins == 3)
			e->terminated = true;
	}
	e->last_ns = RTE_MAX(e->last_ns, e->win_last_ns);
}

/*
 * Drop connections idle longer than the timeout at the window's end. One
 * with packets in this window may go too (a timeout shorter than the
 * window): its flow logs are still read from its entry, which only the next
 * window's first record can reuse, after conn_reset_window().
 */
static void
conn_expire(struct dpf_conn_table *t, uint64_t window_end_ns)
{
	uint32_t pos;

	for (pos = 0; pos < t->n_slots && t->count > 0; pos++) {
		uint64_t last = t->last_seen[pos];

		if (last == SLOT_FREE || window_end_ns < last ||
		    window_end_ns - last <= t->timeout_ns)
			continue;
		if (conn_index_del(t->index, pos) < 0)
			continue;
		t->entries[pos].live = false;
		t->last_seen[pos] = SLOT_FREE;
		t->count--;
		t->st.expired++;
	}
}

/*
 * Group the touched connections by interface, keeping their order within
 * one (a stable counting sort), so that each interface's flow logs come
 * together. Records arrive sorted by interface, so this is rarely needed
 * (the close checks the order while it has the entries in cache); a
 * flushed window (records of one window in several passes) needs the sort.
 */
static void
conn_group_by_iface(struct dpf_conn_table *t)
{
	uint32_t i, sum = 0, *tmp;
	unsigned int f;

	memset(t->per_iface, 0, (UINT16_MAX + 1) * sizeof(t->per_iface[0]));
	for (i = 0; i < t->n_touched; i++)
		t->per_iface[t->entries[t->touched[i]].key.iface]++;
	for (f = 0; f <= UINT16_MAX; f++) {
		uint32_t c = t->per_iface[f];

		t->per_iface[f] = sum;
		sum += c;
	}
	for (i = 0; i < t->n_touched; i++)
		t->sorted[t->per_iface[t->entries[t->touched[i]].key.iface]++] = t->touched[i];
	tmp = t->touched;
	t->touched = t->sorted;
	t->sorted = tmp;
}

void
dpf_conn_log_rewind(struct dpf_conn_table *t)
{
	t->iter_pos = 0;
	t->iter_action = 0;
	t->iter_early = 0;
}

static void conn_fill_log(const struct conn_entry *e, unsigned int a, struct dpf_conn_log *l);

/* Time order; a piece that is no restart point first at the same time (it
 * belongs to what came before), then by direction and action. */
static bool
piece_before(const struct conn_piece *x, const struct conn_piece *y)
{
	if (x->s.s.first_ns != y->s.s.first_ns)
		return x->s.s.first_ns < y->s.s.first_ns;
	if ((x->why != 0) != (y->why != 0))
		return x->why == 0;
	return x->dir != y->dir ? x->dir < y->dir : x->action < y->action;
}

/* The entry's pieces and its sides (records of flows not cut), in time order. */
static uint32_t
conn_order_pieces(struct dpf_conn_table *t, const struct conn_entry *e, const struct conn_cut *c,
		  struct conn_piece sides[4])
{
	struct conn_tally w[2][2];
	uint32_t n = 0, i, j, k = 0, pi;
	unsigned int a, d;

	for (pi = c->piece_head; pi != 0; pi = t->pieces[pi - 1].next)
		t->order[n++] = &t->pieces[pi - 1];
	conn_win_get(e, w);
	for (a = 0; a < 2; a++)
		for (d = 0; d < 2; d++)
			if (w[a][d].s.packets != 0) {
				sides[k] = (struct conn_piece){
					.s = w[a][d], .action = (uint8_t)a, .dir = (uint8_t)d};
				t->order[n++] = &sides[k++];
			}
	for (i = 1; i < n; i++) { /* few: a tuple has a segment per restart point */
		const struct conn_piece *v = t->order[i];

		for (j = i; j > 0 && piece_before(v, t->order[j - 1]); j--)
			t->order[j] = t->order[j - 1];
		t->order[j] = v;
	}
	return n;
}

/* The flow logs of the connection in e->win, which ended inside the window. */
static void
conn_keep_early(struct dpf_conn_table *t, struct conn_entry *e, struct conn_cut *c)
{
	struct conn_dir_view v[2];
	unsigned int a;

	conn_views(e, v);
	if (c->early_n == 0)
		c->early_first = t->n_early;
	for (a = 0; a < 2; a++)
		if (side(e, a, 0)->packets + side(e, a, 1)->packets != 0) {
			conn_fill_log(e, a, &t->early[t->n_early++]);
			c->early_n++;
		}
}

/*
 * A tuple whose flows were cut inside the window (dpf_ft_segment()): its
 * pieces in time order, an epoch from each restart point to the next, each
 * epoch into the connection as a window's records would be. An epoch that
 * begins a new connection first sets the one before aside as flow logs of
 * its own (early); the last connection stays in the entry, for the next
 * window and the ordinary flow logs.
 */
static void
conn_close_pieces(struct dpf_conn_table *t, struct conn_entry *e, struct conn_cut *c)
{
	struct conn_tally conn[2][2], epoch[2][2];
	struct conn_piece sides[4];
	uint32_t n = conn_order_pieces(t, e, c, sides), i = 0, j, k;
	bool have = false;

	memset(conn, 0, sizeof(conn));
	while (i < n) {
		int syn = i == 0 ? -1 : (t->order[i]->why & DPF_SEG_SYN) != 0;
		struct conn_dir_view v[2];

		memset(epoch, 0, sizeof(epoch));
		for (j = i; j < n && (j == i || t->order[j]->why == 0); j++)
			conn_tally_add(&epoch[t->order[j]->action][t->order[j]->dir],
				       &t->order[j]->s);
		conn_win_set(e, epoch);
		conn_views(e, v);
		if (have && conn_is_new(t, e, v, e->win_first_ns, syn)) {
			conn_win_set(e, conn);
			conn_keep_early(t, e, c);
			memset(conn, 0, sizeof(conn));
			conn_win_set(e, epoch);
		}
		conn_close_one(t, e, syn);
		for (k = 0; k < 4; k++)
			conn_tally_add(&conn[k / 2][k % 2], &epoch[k / 2][k % 2]);
		have = true;
		i = j;
	}
	conn_win_set(e, conn);
	conn_views(e, (struct conn_dir_view[2]){0});
}

uint32_t
dpf_conn_window_close(struct dpf_conn_table *t, uint64_t window_end_ns)
{
	uint32_t i, prev_iface = 0;
	bool grouped = true;

	if (t->closed)
		conn_reset_window(t);
	for (i = 0; i < t->n_touched; i++) {
		uint32_t pos = t->touched[i];
		struct conn_entry *e = &t->entries[pos];

		if (i + PREFETCH_AHEAD < t->n_touched)
			conn_prefetch(&t->entries[t->touched[i + PREFETCH_AHEAD]]);
		if (e->cut)
			conn_close_pieces(t, e, &t->cuts[t->cut_of[pos] - 1]);
		else
			conn_close_one(t, e, -1);
		t->last_seen[pos] = e->last_ns;
		grouped &= e->key.iface >= prev_iface;
		prev_iface = e->key.iface;
	}
	conn_expire(t, window_end_ns);
	if (!grouped)
		conn_group_by_iface(t);
	t->closed = true;
	dpf_conn_log_rewind(t);
	return t->n_touched + t->n_early;
}

/* The post-NAT view direction d's first record of the window had. */
static void
conn_dir_post(const struct conn_entry *e, unsigned int d, struct dpf_flow_nat *out)
{
	const struct dpf_flow_key *k = &e->key;

	if (!(e->post_own & (1u << d))) {
		*out = e->post[d];
		return;
	}
	memcpy(out->src_addr, d ? k->dst_addr : k->src_addr, sizeof(out->src_addr));
	memcpy(out->dst_addr, d ? k->src_addr : k->dst_addr, sizeof(out->dst_addr));
	out->src_port = d ? k->dst_port : k->src_port;
	out->dst_port = d ? k->src_port : k->dst_port;
}

static void
conn_post_view(const struct conn_entry *e, struct dpf_flow_nat *out)
{
	unsigned int i = e->init_dir, r = !i;
	struct dpf_flow_nat v;

	if (e->post_set & (1u << i)) {
		conn_dir_post(e, i, out);
		return;
	}
	/* Only the target's packets in this window: their view, turned round. */
	conn_dir_post(e, r, &v);
	memcpy(out->src_addr, v.dst_addr, sizeof(out->src_addr));
	memcpy(out->dst_addr, v.src_addr, sizeof(out->dst_addr));
	out->src_port = v.dst_port;
	out->dst_port = v.src_port;
}

/* The initiator's and the target's address and port as the packets arrived,
 * and the post-NAT view from the initiator to the target. */
static void
conn_log_ends(const struct conn_entry *e, struct dpf_conn_log *l)
{
	const struct dpf_flow_key *k = &e->key;
	unsigned int i = e->init_dir;

	memcpy(l->initiator_addr, i ? k->dst_addr : k->src_addr, 16);
	memcpy(l->target_addr, i ? k->src_addr : k->dst_addr, 16);
	l->initiator_port = i ? k->dst_port : k->src_port;
	l->target_port = i ? k->src_port : k->dst_port;
	conn_post_view(e, &l->post);
}

/* Bytes and packets from each side under action a: the window's, then the
 * cumulative ones since the connection began. */
static void
conn_log_counts(const struct conn_entry *e, unsigned int a, struct dpf_conn_log *l)
{
	const struct conn_side *si = side(e, a, e->init_dir), *st = side(e, a, !e->init_dir);

	l->bytes_from_initiator = si->bytes;
	l->packets_from_initiator = si->packets;
	l->bytes_from_target = st->bytes;
	l->packets_from_target = st->packets;
	l->cumulative_bytes_from_initiator = e->cum[a][0][0];
	l->cumulative_packets_from_initiator = e->cum[a][0][1];
	l->cumulative_bytes_from_target = e->cum[a][1][0];
	l->cumulative_packets_from_target = e->cum[a][1][1];
}

static void
conn_fill_log(const struct conn_entry *e, unsigned int a, struct dpf_conn_log *l)
{
	const struct dpf_flow_key *k = &e->key;

	memset(l, 0, sizeof(*l));
	l->iface = k->iface;
	l->proto = k->proto;
	l->family = k->family;
	l->action = (uint8_t)a;
	l->was_initiated = e->initiated;
	l->was_terminated = e->terminated;
	l->tcp_flags_initiator = e->flags_all[a][e->init_dir];
	l->tcp_flags_target = e->flags_all[a][!e->init_dir];
	conn_log_ends(e, l);
	l->connection_start_ns = e->start_ns;
	l->start_ns = e->win_first_ns;
	l->end_ns = e->win_last_ns;
	conn_log_counts(e, a, l);
}

bool
dpf_conn_log_next(struct dpf_conn_table *t, struct dpf_conn_log *l)
{
	while (t->closed && t->iter_pos < t->n_touched) {
		const struct conn_entry *e = &t->entries[t->touched[t->iter_pos]];
		unsigned int a = t->iter_action;

		if (a == 0 && e->cut &&
		    t->iter_early < t->cuts[t->cut_of[t->touched[t->iter_pos]] - 1].early_n) {
			/* Connections of this tuple that ended inside the window: first. */
			const struct conn_cut *c = &t->cuts[t->cut_of[t->touched[t->iter_pos]] - 1];

			*l = t->early[c->early_first + t->iter_early++];
			t->st.logs++;
			return true;
		}
		if (a == 0 && t->iter_pos + PREFETCH_AHEAD < t->n_touched)
			conn_prefetch(&t->entries[t->touched[t->iter_pos + PREFETCH_AHEAD]]);
		if (++t->iter_action == 2) {
			t->iter_action = 0;
			t->iter_early = 0;
			t->iter_pos++;
		}
		if (side(e, a, 0)->packets + side(e, a, 1)->packets == 0)
			continue;
		conn_fill_log(e, a, l);
		t->st.logs++;
		return true;
	}
	return false;
}

void
dpf_conn_stats_get(const struct dpf_conn_table *t, struct dpf_conn_stats *s)
{
	*s = t->st;
	s->active = t->count;
}
