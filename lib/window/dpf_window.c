/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dpf_util.h"
#include "dpf_window.h"

#define EMIT_CHUNK 256
/* Runs of equal sort keys up to this long are finished by insertion sort. */
#define SMALL_RUN 16
/* Entries read ahead of the walk that sums and emits them. */
#define WALK_PREFETCH 8
/* Records read ahead of the step that sorts ties on a further level. */
#define TIES_PREFETCH 16

/*
 * The merge sorts records of the flows, not the flow-table entries: each
 * record carries the key in an order-preserving integer form, so sorting is
 * an LSD radix sort over contiguous memory instead of a comparison sort that
 * chases pointers into the shards (qsort took ~450 ms for 1M flows, most of
 * it in cache misses).
 *
 * dpf_flow_key_cmp order is (iface, family, src, dst, proto, sport, dport,
 * action), addresses as big-endian bytes. `top` holds iface and family; `hi`
 * and `lo` the rest, at one of three levels:
 * - IPv4 (addresses zero past byte 4, as every key built from a packet):
 *   hi = src, dst; lo = proto, sport, dport, action, tunnel type. The whole
 *   key: equal (top, hi, lo) means equal keys (a tunnel's id is not in lo:
 *   the interface of a decapsulated flow, a tenant interface, has one id,
 *   so interface and tunnel type decide it).
 * - anything else, level 0: hi, lo = the 16 bytes of src; level 1: dst;
 *   level 2: lo = proto, sport, dport, action, tunnel type. Runs equal at
 *   one level are sorted again on the next one.
 */
struct sort_rec {
	uint64_t hi;
	uint64_t lo;
	const struct dpf_ft_entry *e;
	uint32_t top; /* iface << 8 | family */
	uint32_t level;
};

_Static_assert(sizeof(struct sort_rec) == 32, "sort record should stay half a cache line");

/* 8-bit digits: 8 of lo, 8 of hi, 3 of top. */
#define DIGITS_LO_HI 16
#define DIGITS_ALL 19
/* Parts of more records than this are split on their top digit first (see msd_sort()). */
#ifndef MSD_MIN
#define MSD_MIN 32768
#endif

struct dpf_merge {
	uint32_t max_flows;
	uint16_t n_ifaces;
	dpf_merge_finish_t finish;
	void *finish_arg;
	bool nodata;
	bool cut;
	struct sort_rec *recs;
	struct sort_rec *tmp;
	uint32_t hist[DIGITS_ALL][256];
	struct dpf_record chunk[EMIT_CHUNK];
};

void
dpf_shard_free(struct dpf_shard *s)
{
	rte_free(s);
}

/* One allocation: the shard, lost_pkts right behind it, the views from a cache line on. */
struct dpf_shard *
dpf_shard_create(uint16_t n_ifaces, uint32_t max_views, int socket_id)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct dpf_shard, views), max_views * sizeof(struct dpf_flow_nat), true},
	};
	struct dpf_shard *s;

	if (n_ifaces == 0 || max_views > DPF_SHARD_MAX_VIEWS)
		return dpf_null_errno(EINVAL);
	s = dpf_layout_new("dpf_shard", sizeof(struct dpf_shard) + n_ifaces * sizeof(uint64_t),
			   parts, RTE_DIM(parts), socket_id);
	if (s == NULL)
		return NULL;
	s->n_ifaces = n_ifaces;
	s->lost_pkts = (uint64_t *)(s + 1);
	s->max_views = max_views;
	return s;
}

void
dpf_shard_reset(struct dpf_shard *s)
{
	s->n_views = 0;
	memset(s->lost_pkts, 0, s->n_ifaces * sizeof(uint64_t));
	if (s->ft != NULL)
		dpf_ft_reset(s->ft);
}

uint64_t
dpf_shard_lost_total(const struct dpf_shard *s)
{
	uint64_t t = 0;
	uint16_t i;

	for (i = 0; i < s->n_ifaces; i++)
		t += s->lost_pkts[i];
	return t;
}

void
dpf_merge_free(struct dpf_merge *m)
{
	rte_free(m);
}

/*
 * One allocation for the merge and its two record arrays, each from a cache
 * line on; the arrays are written before they are read, so only the merge
 * itself is zeroed.
 */
static struct dpf_merge *
merge_alloc(const struct dpf_merge_params *p)
{
	const size_t bytes = (size_t)p->max_flows * sizeof(struct sort_rec);
	const struct dpf_layout_part parts[] = {
		{offsetof(struct dpf_merge, recs), bytes, false},
		{offsetof(struct dpf_merge, tmp), bytes, false},
	};

	return dpf_layout_new("dpf_merge", sizeof(struct dpf_merge), parts, RTE_DIM(parts),
			      p->socket_id);
}

struct dpf_merge *
dpf_merge_create(const struct dpf_merge_params *p)
{
	struct dpf_merge *m;

	if (p == NULL || p->max_flows == 0 || p->n_ifaces == 0)
		return dpf_null_errno(EINVAL);
	m = merge_alloc(p);
	if (m == NULL)
		return NULL;
	m->max_flows = p->max_flows;
	m->n_ifaces = p->n_ifaces;
	m->finish = p->finish;
	m->finish_arg = p->finish_arg;
	m->nodata = true;
	return m;
}

void
dpf_merge_set_nodata(struct dpf_merge *m, bool on)
{
	m->nodata = on;
}

void
dpf_merge_set_cut(struct dpf_merge *m, bool on)
{
	m->cut = on;
}

static inline uint64_t
ports_word(const struct dpf_flow_key *k)
{
	return (uint64_t)k->proto << 48 | (uint64_t)k->src_port << 32 |
	       (uint64_t)k->dst_port << 16 | (uint64_t)k->action << 8 | (uint64_t)k->tun_type << 2 |
	       k->tun_has_id;
}

static inline bool
is_short_v4(const struct dpf_flow_key *k)
{
	static const uint8_t zero[12];

	return k->family == 4 && memcmp(k->src_addr + 4, zero, 12) == 0 &&
	       memcmp(k->dst_addr + 4, zero, 12) == 0;
}

/*
 * Sort key of an entry at a level (see struct sort_rec). All keys of a
 * family must share one encoding, so short_v4 is false for the whole merge
 * as soon as one IPv4 key has a byte set past its address.
 */
static inline void
rec_set(struct sort_rec *r, const struct dpf_ft_entry *e, uint32_t level, bool short_v4)
{
	const struct dpf_flow_key *k = &e->key;

	r->e = e;
	r->top = (uint32_t)k->iface << 8 | k->family;
	r->level = level;
	if (level == 0 && short_v4 && k->family == 4) {
		r->hi = (uint64_t)dpf_load_be32(k->src_addr) << 32 | dpf_load_be32(k->dst_addr);
		r->lo = ports_word(k);
		r->level = 2; /* complete: no further level */
	} else if (level == 0) {
		r->hi = dpf_load_be64(k->src_addr);
		r->lo = dpf_load_be64(k->src_addr + 8);
	} else if (level == 1) {
		r->hi = dpf_load_be64(k->dst_addr);
		r->lo = dpf_load_be64(k->dst_addr + 8);
	} else {
		r->hi = 0;
		r->lo = ports_word(k);
	}
}

static inline uint32_t
digit(const struct sort_rec *r, unsigned int d)
{
	if (d < 8)
		return (uint32_t)(r->lo >> (8 * d)) & 0xff;
	if (d < 16)
		return (uint32_t)(r->hi >> (8 * (d - 8))) & 0xff;
	return (r->top >> (8 * (d - 16))) & 0xff;
}

/*
 * Stable LSD radix sort of n records on digits n_digits-1 .. 0 (see
 * digit()). Digits on which every record agrees cost no pass.
 * @return the buffer holding the result: a or tmp
 */
static struct sort_rec *
radix_sort(struct dpf_merge *m, struct sort_rec *a, struct sort_rec *tmp, uint32_t n,
	   unsigned int n_digits)
{
	const bool with_top = n_digits > DIGITS_LO_HI;
	uint32_t i;
	unsigned int d;

	memset(m->hist, 0, sizeof(m->hist[0]) * n_digits);
	for (i = 0; i < n; i++) {
		const struct sort_rec *r = &a[i];

		for (d = 0; d < 8; d++)
			m->hist[d][(r->lo >> (8 * d)) & 0xff]++;
		for (d = 0; d < 8; d++)
			m->hist[8 + d][(r->hi >> (8 * d)) & 0xff]++;
		if (with_top) {
			m->hist[16][r->top & 0xff]++;
			m->hist[17][(r->top >> 8) & 0xff]++;
			m->hist[18][(r->top >> 16) & 0xff]++;
		}
	}
	for (d = 0; d < n_digits; d++) {
		uint32_t *h = m->hist[d];
		uint32_t sum = 0, b;
		struct sort_rec *t;

		if (h[digit(&a[0], d)] == n)
			continue;
		for (b = 0; b < 256; b++) {
			uint32_t c = h[b];

			h[b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[h[digit(&a[i], d)]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/*
 * The most significant digit below `below` on which the records differ,
 * or -1 when they are all equal there.
 */
static int
top_varying_digit(const struct sort_rec *a, uint32_t n, unsigned int below)
{
	uint64_t dlo = 0, dhi = 0;
	uint32_t dtop = 0, i;
	int d;

	for (i = 1; i < n; i++) {
		dlo |= a[i].lo ^ a[0].lo;
		dhi |= a[i].hi ^ a[0].hi;
		dtop |= a[i].top ^ a[0].top;
	}
	for (d = (int)below - 1; d >= 0; d--) {
		uint64_t w = d < 8 ? dlo : d < 16 ? dhi : dtop;

		if ((w >> (8 * (d % 8))) & 0xff)
			return d;
	}
	return -1;
}

/*
 * Sort n records on digits below `below`: a radix sort from the most
 * significant digit while the records do not fit in the cache, then LSD
 * (radix_sort()) on each part that does. LSD alone over the whole window
 * moves every record through DRAM once per digit (14 passes for the usual
 * IPv4 key): past the L3 cache each pass costs more per record, so the sort
 * grew faster than the number of flows. Stable, like radix_sort().
 * @return the buffer holding the result: a or tmp
 */
static struct sort_rec *
msd_sort(struct dpf_merge *m, struct sort_rec *a, struct sort_rec *tmp, uint32_t n,
	 unsigned int below)
{
	uint32_t start[256], next[256] = {0}, i, b;
	int d;

	if (n <= MSD_MIN)
		return radix_sort(m, a, tmp, n, below);
	d = top_varying_digit(a, n, below);
	if (d < 0)
		return a;
	for (i = 0; i < n; i++)
		next[digit(&a[i], (unsigned int)d)]++;
	for (b = 0, i = 0; b < 256; b++) {
		start[b] = i;
		i += next[b];
		next[b] = start[b];
	}
	for (i = 0; i < n; i++)
		tmp[next[digit(&a[i], (unsigned int)d)]++] = a[i];
	for (b = 0; b < 256; b++) {
		uint32_t len = next[b] - start[b];
		struct sort_rec *out;

		if (len == 0)
			continue;
		out = msd_sort(m, tmp + start[b], a + start[b], len, (unsigned int)d);
		if (out != tmp + start[b])
			memcpy(tmp + start[b], out, len * sizeof(*out));
	}
	return tmp;
}

static int
rec_entry_cmp(const struct sort_rec *x, const struct sort_rec *y)
{
	return dpf_flow_key_cmp(&x->e->key, &y->e->key);
}

static void
insertion_sort(struct sort_rec *a, uint32_t n)
{
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		struct sort_rec v = a[i];

		for (j = i; j > 0 && rec_entry_cmp(&a[j - 1], &v) > 0; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static inline bool
same_sort_key(const struct sort_rec *x, const struct sort_rec *y)
{
	return x->hi == y->hi && x->lo == y->lo && x->top == y->top;
}

/* Whether a[i] ties with a neighbour on a level that is not the last. */
static inline bool
in_tie(const struct sort_rec *a, uint32_t n, uint32_t i)
{
	return a[i].level < 2 && ((i + 1 < n && same_sort_key(&a[i], &a[i + 1])) ||
				  (i > 0 && same_sort_key(&a[i - 1], &a[i])));
}

/* The key of an entry, which may straddle two cache lines. */
static inline void
prefetch_key(const struct dpf_ft_entry *e)
{
	rte_prefetch0(e);
	rte_prefetch0((const char *)e + sizeof(e->key) - 1);
}

/*
 * a[0..n) is sorted on (top, hi, lo). Records whose level is not the last
 * and that tie on it are sorted again on the next level, recursively; small
 * runs directly on the whole key. Both read the entries, in sort order:
 * their keys are fetched TIES_PREFETCH records ahead (*pf: the next one to
 * fetch), so that the misses overlap (without it this step grew 6x from 1M
 * to 4M flows).
 */
static void
sort_ties(struct dpf_merge *m, struct sort_rec *a, struct sort_rec *tmp, uint32_t n)
{
	uint32_t i = 0, pf = 0;

	while (i < n) {
		uint32_t j = i + 1, k;

		for (; pf < n && pf < i + TIES_PREFETCH; pf++)
			if (in_tie(a, n, pf))
				prefetch_key(a[pf].e);
		while (j < n && same_sort_key(&a[i], &a[j]))
			j++;
		if (j - i > 1 && a[i].level < 2) {
			uint32_t len = j - i;

			if (len <= SMALL_RUN) {
				insertion_sort(a + i, len);
			} else {
				struct sort_rec *out;

				for (k = i; k < j; k++) {
					if (k + TIES_PREFETCH < j)
						prefetch_key(a[k + TIES_PREFETCH].e);
					rec_set(&a[k], a[k].e, a[k].level + 1, false);
				}
				pf = RTE_MAX(pf, j);
				out = radix_sort(m, a + i, tmp + i, len, DIGITS_LO_HI);
				if (out != a + i)
					memcpy(a + i, out, len * sizeof(a[0]));
				sort_ties(m, a + i, tmp + i, len);
			}
		}
		i = j;
	}
}

/* Gather every entry of every shard and sort them in dpf_flow_key_cmp order. */
static struct sort_rec *
sort_entries(struct dpf_merge *m, uint32_t n)
{
	struct sort_rec *a = msd_sort(m, m->recs, m->tmp, n, DIGITS_ALL);
	struct sort_rec *tmp = a == m->recs ? m->tmp : m->recs;

	sort_ties(m, a, tmp, n);
	return a;
}

struct emitter {
	struct dpf_merge *m;
	uint32_t n;
	dpf_merge_emit_t emit;
	void *arg;
};

static int
emit_flush(struct emitter *em)
{
	int rc = 0;

	if (em->n > 0)
		rc = em->emit(em->arg, em->m->chunk, em->n);
	em->n = 0;
	return rc;
}

static struct dpf_record *
emit_slot(struct emitter *em, int *rc)
{
	struct dpf_record *r;

	*rc = 0;
	if (em->n == EMIT_CHUNK) {
		*rc = emit_flush(em);
		if (*rc < 0)
			return NULL;
	}
	r = &em->m->chunk[em->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void
record_from_flow(struct dpf_record *r, const struct dpf_flow_key *k,
		 const struct dpf_flow_counters *c)
{
	r->key = *k;
	/* Without NAT rules the post-NAT view is the packet's own. */
	memcpy(r->post.src_addr, k->src_addr, sizeof(r->post.src_addr));
	memcpy(r->post.dst_addr, k->dst_addr, sizeof(r->post.dst_addr));
	r->post.src_port = k->src_port;
	r->post.dst_port = k->dst_port;
	r->packets = c->packets;
	r->bytes = c->bytes;
	r->start = c->first_ns / DPF_NS_PER_SEC;
	r->end = c->last_ns / DPF_NS_PER_SEC;
	r->first_ns = c->first_ns;
	r->last_ns = c->last_ns;
	r->tcp_flags_aws = c->tcp_flags_aws;
	r->tcp_flags_all = c->tcp_flags_all;
	r->direction = c->direction;
	r->log_status = DPF_LOG_OK;
}

static void
record_status_row(struct dpf_record *r, uint16_t iface, uint8_t status, uint64_t start_sec,
		  uint32_t len_sec)
{
	r->key.iface = iface;
	r->log_status = status;
	r->start = start_sec;
	r->end = start_sec + len_sec;
}

static const struct dpf_flow_nat *
shard_view(struct dpf_shard *const *shards, uint32_t n_shards, uint32_t tag)
{
	uint16_t core = (uint16_t)((tag >> 24) & 0x7f);
	uint32_t idx = tag & 0xffffff, s;

	for (s = 0; s < n_shards; s++)
		if (shards[s]->core == core && idx < shards[s]->n_views)
			return &shards[s]->views[idx];
	return NULL;
}

/* The outer addresses a shard keeps for entry e, or NULL. */
static const struct dpf_flow_tun_ends *
entry_tun_ends(struct dpf_shard *const *shards, uint32_t n_shards, const struct dpf_ft_entry *e)
{
	uint32_t s;

	for (s = 0; s < n_shards; s++) {
		const struct dpf_ft *ft = shards[s]->ft;
		const struct dpf_ft_entry *base;
		uint32_t cnt = ft == NULL ? 0 : dpf_ft_count(ft);

		if (cnt == 0 || shards[s]->tun_ends == NULL)
			continue;
		base = dpf_ft_entry(ft, 0);
		if (e >= base && e < base + cnt)
			return &shards[s]->tun_ends[e - base];
	}
	return NULL;
}

/* A decapsulated flow's outer addresses: its earliest packet's over the n entries of its key. */
static void
pick_tun_ends(struct dpf_flow_tun_ends *out, struct dpf_shard *const *shards, uint32_t n_shards,
	      const struct sort_rec *run, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct dpf_flow_tun_ends *t = entry_tun_ends(shards, n_shards, run[i].e);

		if (t != NULL && t->family != 0 &&
		    dpf_flow_tun_ends_earlier(out, t->first_ns, t->family, t->src_addr))
			*out = *t;
	}
}

/*
 * Step 1: every entry of every shard as a sort record.
 * @return the records gathered, or -E2BIG (more than max_flows)
 */
static int64_t
gather(struct dpf_merge *m, struct dpf_shard *const *shards, uint32_t n_shards)
{
	uint32_t n = 0, i, s, long_v4 = 0;

	for (s = 0; s < n_shards; s++) {
		const struct dpf_ft *ft = shards[s]->ft;
		uint32_t cnt = ft == NULL ? 0 : dpf_ft_count(ft);

		if (cnt > m->max_flows - n)
			return -E2BIG;
		for (i = 0; i < cnt; i++) {
			const struct dpf_ft_entry *e = dpf_ft_entry(ft, i);

			long_v4 += e->key.family == 4 && !is_short_v4(&e->key);
			rec_set(&m->recs[n++], e, 0, true);
		}
	}
	if (unlikely(long_v4 != 0))
		for (i = 0; i < n; i++)
			rec_set(&m->recs[i], m->recs[i].e, 0, false);
	return n;
}

/*
 * A flow cut into segments (dpf_ft_segment(): connection records) gets one
 * DPF_LOG_SEGMENT row per segment after its record, each the record with the
 * segment's counters; sorted[from, to) are the flow's entries.
 */
static int
emit_segments(struct emitter *em, const struct dpf_record *flow, const struct sort_rec *sorted,
	      uint32_t from, uint32_t to, struct dpf_merge_stats *local)
{
	uint32_t i;
	int rc;

	for (i = from; i < to; i++) {
		const struct dpf_flow_counters *c = &sorted[i].e->c;
		struct dpf_record *r;

		if (c->packets == 0)
			continue;
		r = emit_slot(em, &rc);
		if (r == NULL)
			return rc;
		*r = *flow;
		record_from_flow(r, &flow->key, c);
		r->post = flow->post;
		r->direction = flow->direction;
		r->log_status = DPF_LOG_SEGMENT;
		r->segments = false;
		r->seg_flags = c->seg_flags & (DPF_SEG_SYN | DPF_SEG_GAP);
		local->segment_rows++;
	}
	return 0;
}

/*
 * Steps 3 and 4 for one interface's flows, sorted[*pos] onwards: equal keys
 * are adjacent after the sort, so they are summed into one row (a flow's
 * segments too: they differ in key.seg only, which the sort does not see).
 * The entries are read in sort order, so they are fetched ahead.
 * @return the rows emitted, or -errno of the emit callback
 */
static int64_t
emit_iface_flows(struct dpf_merge *m, struct emitter *em, struct dpf_shard *const *shards,
		 uint32_t n_shards, const struct sort_rec *sorted, uint32_t n, uint32_t *pos,
		 uint16_t iface, struct dpf_merge_stats *local)
{
	uint32_t p = *pos;
	int64_t rows = 0;
	int rc;

	while (p < n && sorted[p].e->key.iface == iface) {
		struct dpf_flow_counters c = sorted[p].e->c;
		const struct dpf_flow_key *k = &sorted[p].e->key;
		uint32_t tag = sorted[p].e->pad, from = p;
		bool segmented = k->seg != 0;
		struct dpf_record *r;

		if (p + WALK_PREFETCH < n) {
			rte_prefetch0(sorted[p + WALK_PREFETCH].e);
			rte_prefetch0((const char *)sorted[p + WALK_PREFETCH].e +
				      RTE_CACHE_LINE_SIZE);
		}
		for (p++; p < n && dpf_flow_key_same_flow(&sorted[p].e->key, k); p++) {
			dpf_flow_counters_merge(&c, &sorted[p].e->c);
			segmented |= sorted[p].e->key.seg != 0;
			/* Several shards with a view: the lowest core's, so the choice
			 * does not depend on the sort. */
			if (sorted[p].e->pad != 0 && (tag == 0 || sorted[p].e->pad < tag))
				tag = sorted[p].e->pad;
		}
		if (c.packets == 0)
			continue;
		r = emit_slot(em, &rc);
		if (r == NULL)
			return rc;
		record_from_flow(r, k, &c);
		if (unlikely(k->tun_type != 0))
			pick_tun_ends(&r->tun, shards, n_shards, sorted + from, p - from);
		r->key.seg = 0;
		if (m->finish != NULL)
			m->finish(m->finish_arg, r,
				  tag != 0 ? shard_view(shards, n_shards, tag) : NULL);
		rows++;
		local->packets += c.packets;
		if (segmented) {
			r->segments = true;
			rc = emit_segments(em, r, sorted, from, p, local);
			if (rc < 0)
				return rc;
		}
	}
	*pos = p;
	return rows;
}

/* Step 4's last row of an interface: SKIPDATA when packets were lost, NODATA when empty. */
static int
emit_status(struct dpf_merge *m, struct emitter *em, uint16_t iface, uint64_t lost,
	    uint64_t records, uint64_t start_sec, uint32_t len_sec, struct dpf_merge_stats *local)
{
	bool skip = lost > 0 || m->cut;
	struct dpf_record *r;
	int rc;

	if (!skip && !(records == 0 && m->nodata))
		return 0;
	r = emit_slot(em, &rc);
	if (r == NULL)
		return rc;
	record_status_row(r, iface, skip ? DPF_LOG_SKIPDATA : DPF_LOG_NODATA, start_sec, len_sec);
	if (skip) {
		local->skipdata_rows++;
		local->lost_pkts += lost;
	} else {
		local->nodata_rows++;
	}
	return 0;
}

int
dpf_merge_window(struct dpf_merge *m, struct dpf_shard *const *shards, uint32_t n_shards,
		 uint64_t start_sec, uint32_t len_sec, dpf_merge_emit_t emit, void *arg,
		 struct dpf_merge_stats *st)
{
	struct dpf_merge_stats local = {0};
	struct emitter em = {.m = m, .n = 0, .emit = emit, .arg = arg};
	const struct sort_rec *sorted;
	int64_t n = gather(m, shards, n_shards);
	uint32_t pos = 0, s;
	uint16_t iface;
	int rc;

	if (n < 0)
		return (int)n;
	local.flows_in = (uint64_t)n;
	sorted = n == 0 ? m->recs : sort_entries(m, (uint32_t)n);
	for (iface = 0; iface < m->n_ifaces; iface++) {
		uint64_t lost = 0;
		int64_t rows;

		for (s = 0; s < n_shards; s++)
			if (iface < shards[s]->n_ifaces)
				lost += shards[s]->lost_pkts[iface];
		rows = emit_iface_flows(m, &em, shards, n_shards, sorted, (uint32_t)n, &pos, iface,
					&local);
		if (rows < 0)
			return (int)rows;
		local.records += (uint64_t)rows;
		rc = emit_status(m, &em, iface, lost, (uint64_t)rows, start_sec, len_sec, &local);
		if (rc < 0)
			return rc;
	}
	rc = emit_flush(&em);
	if (st != NULL) {
		st->flows_in += local.flows_in;
		st->records += local.records;
		st->packets += local.packets;
		st->nodata_rows += local.nodata_rows;
		st->skipdata_rows += local.skipdata_rows;
		st->lost_pkts += local.lost_pkts;
		st->segment_rows += local.segment_rows;
	}
	return rc < 0 ? rc : 0;
}
