/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_window.h"

#define EMIT_CHUNK 256

struct dpf_merge {
	uint32_t max_flows;
	uint16_t n_ifaces;
	dpf_merge_finish_t finish;
	void *finish_arg;
	const struct dpf_ft_entry **sorted;
	struct dpf_record chunk[EMIT_CHUNK];
};

struct dpf_shard *
dpf_shard_create(uint16_t n_ifaces, uint32_t max_views, int socket_id)
{
	struct dpf_shard *s;

	if (n_ifaces == 0 || max_views > DPF_SHARD_MAX_VIEWS) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = rte_zmalloc_socket("dpf_shard", sizeof(*s) + n_ifaces * sizeof(uint64_t),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (s == NULL)
		goto nomem;
	s->n_ifaces = n_ifaces;
	s->lost_pkts = (uint64_t *)(s + 1);
	if (max_views > 0) {
		s->views = rte_malloc_socket("dpf_shard_views", max_views * sizeof(*s->views),
					     RTE_CACHE_LINE_SIZE, socket_id);
		if (s->views == NULL)
			goto free_shard;
		s->max_views = max_views;
	}
	return s;

free_shard:
	rte_free(s);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
dpf_shard_free(struct dpf_shard *s)
{
	if (s == NULL)
		return;
	rte_free(s->views);
	rte_free(s);
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

struct dpf_merge *
dpf_merge_create(const struct dpf_merge_params *p)
{
	struct dpf_merge *m;

	if (p == NULL || p->max_flows == 0 || p->n_ifaces == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	m = rte_zmalloc_socket("dpf_merge", sizeof(*m), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (m == NULL)
		goto nomem;
	m->sorted = rte_malloc_socket("dpf_merge_sorted", (size_t)p->max_flows * sizeof(void *),
				      RTE_CACHE_LINE_SIZE, p->socket_id);
	if (m->sorted == NULL)
		goto free_merge;
	m->max_flows = p->max_flows;
	m->n_ifaces = p->n_ifaces;
	m->finish = p->finish;
	m->finish_arg = p->finish_arg;
	return m;

free_merge:
	rte_free(m);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
dpf_merge_free(struct dpf_merge *m)
{
	if (m == NULL)
		return;
	rte_free(m->sorted);
	rte_free(m);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct dpf_ft_entry *x = *(const struct dpf_ft_entry *const *)a;
	const struct dpf_ft_entry *y = *(const struct dpf_ft_entry *const *)b;

	return dpf_flow_key_cmp(&x->key, &y->key);
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
	r->start = c->first_ns / 1000000000ull;
	r->end = c->last_ns / 1000000000ull;
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

int
dpf_merge_window(struct dpf_merge *m, struct dpf_shard *const *shards, uint32_t n_shards,
		 uint64_t start_sec, uint32_t len_sec, dpf_merge_emit_t emit, void *arg,
		 struct dpf_merge_stats *st)
{
	struct dpf_merge_stats local = {0};
	struct emitter em = {.m = m, .n = 0, .emit = emit, .arg = arg};
	uint32_t n = 0, i, s, pos;
	uint16_t iface;
	int rc;

	for (s = 0; s < n_shards; s++) {
		const struct dpf_ft *ft = shards[s]->ft;
		uint32_t cnt = ft == NULL ? 0 : dpf_ft_count(ft);

		if (cnt > m->max_flows - n)
			return -E2BIG;
		for (i = 0; i < cnt; i++)
			m->sorted[n++] = dpf_ft_entry(ft, i);
	}
	local.flows_in = n;
	qsort(m->sorted, n, sizeof(m->sorted[0]), entry_cmp);

	pos = 0;
	for (iface = 0; iface < m->n_ifaces; iface++) {
		uint64_t lost = 0;
		uint64_t iface_records = 0;
		struct dpf_record *r;

		for (s = 0; s < n_shards; s++)
			if (iface < shards[s]->n_ifaces)
				lost += shards[s]->lost_pkts[iface];

		/* Equal keys are adjacent after the sort: sum them into one row. */
		while (pos < n && m->sorted[pos]->key.iface == iface) {
			struct dpf_flow_counters c = m->sorted[pos]->c;
			const struct dpf_flow_key *k = &m->sorted[pos]->key;
			const struct dpf_flow_nat *view = NULL;
			uint32_t tag = m->sorted[pos]->pad;

			for (pos++; pos < n && dpf_flow_key_equal(&m->sorted[pos]->key, k); pos++) {
				dpf_flow_counters_merge(&c, &m->sorted[pos]->c);
				/* Several shards with a view: the lowest core's, so
				 * the choice does not depend on the sort. */
				if (m->sorted[pos]->pad != 0 &&
				    (tag == 0 || m->sorted[pos]->pad < tag))
					tag = m->sorted[pos]->pad;
			}
			if (c.packets == 0)
				continue;
			if (tag != 0)
				view = shard_view(shards, n_shards, tag);
			r = emit_slot(&em, &rc);
			if (r == NULL)
				return rc;
			record_from_flow(r, k, &c);
			if (m->finish != NULL)
				m->finish(m->finish_arg, r, view);
			iface_records++;
			local.packets += c.packets;
		}
		local.records += iface_records;
		if (lost > 0 || iface_records == 0) {
			r = emit_slot(&em, &rc);
			if (r == NULL)
				return rc;
			record_status_row(r, iface, lost > 0 ? DPF_LOG_SKIPDATA : DPF_LOG_NODATA,
					  start_sec, len_sec);
			if (lost > 0) {
				local.skipdata_rows++;
				local.lost_pkts += lost;
			} else {
				local.nodata_rows++;
			}
		}
	}
	rc = emit_flush(&em);
	if (st != NULL) {
		st->flows_in += local.flows_in;
		st->records += local.records;
		st->packets += local.packets;
		st->nodata_rows += local.nodata_rows;
		st->skipdata_rows += local.skipdata_rows;
		st->lost_pkts += local.lost_pkts;
	}
	return rc < 0 ? rc : 0;
}
