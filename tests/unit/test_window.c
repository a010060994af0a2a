/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpf_test_eal.h"
#include "dpf_window.h"

#define MAX_ROWS 4096

struct collected {
	struct dpf_record rows[MAX_ROWS];
	uint32_t n;
};

static struct collected got;

static int
collect(void *arg, const struct dpf_record *recs, uint32_t n)
{
	struct collected *c = arg;

	assert_true(c->n + n <= MAX_ROWS);
	memcpy(&c->rows[c->n], recs, n * sizeof(*recs));
	c->n += n;
	return 0;
}

static struct dpf_shard *
new_shard(uint16_t n_ifaces, uint32_t capacity)
{
	struct dpf_ft_params p = {.capacity = capacity, .socket_id = -1, .seed = 7};
	struct dpf_shard *s = dpf_shard_create(n_ifaces, 0, -1);

	assert_non_null(s);
	s->ft = dpf_ft_create(&p);
	assert_non_null(s->ft);
	return s;
}

static void
free_shard(struct dpf_shard *s)
{
	dpf_ft_free(s->ft);
	dpf_shard_free(s);
}

static void
add_pkt(struct dpf_shard *s, uint16_t iface, uint8_t last_octet, uint16_t sport, uint32_t len,
	uint64_t t_ns, uint8_t flags)
{
	struct dpf_flow_key k;
	struct dpf_flow_counters *c;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.proto = 6;
	k.iface = iface;
	k.src_addr[0] = 10;
	k.src_addr[3] = last_octet;
	k.dst_addr[0] = 192;
	k.dst_addr[3] = 1;
	k.src_port = sport;
	k.dst_port = 80;
	dpf_ft_lookup_or_insert_burst(s->ft, &k, 1, &c);
	assert_non_null(c);
	dpf_flow_counters_add(c, len, t_ns, flags);
}

static struct dpf_merge *
new_merge(uint16_t n_ifaces)
{
	struct dpf_merge_params p = {.max_flows = 4096, .n_ifaces = n_ifaces, .socket_id = -1};
	struct dpf_merge *m = dpf_merge_create(&p);

	assert_non_null(m);
	memset(&got, 0, sizeof(got));
	return m;
}

static void
test_merge_same_key_in_several_shards_is_summed(void **state)
{
	struct dpf_shard *a = new_shard(1, 64), *b = new_shard(1, 64), *c = new_shard(1, 64);
	struct dpf_shard *shards[3] = {a, b, c};
	struct dpf_merge *m = new_merge(1);
	struct dpf_merge_stats st = {0};

	(void)state;
	add_pkt(a, 0, 5, 1000, 60, 1700000005500000000ull, 0x02);
	add_pkt(b, 0, 5, 1000, 40, 1700000001200000000ull, 0x10);
	add_pkt(c, 0, 5, 1000, 1500, 1700000059900000000ull, 0x01);
	add_pkt(b, 0, 6, 1000, 100, 1700000010000000000ull, 0);
	assert_int_equal(dpf_merge_window(m, shards, 3, 1699999980, 60, collect, &got, &st), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.rows[0].key.src_addr[3], 5);
	assert_int_equal(got.rows[0].packets, 3);
	assert_int_equal(got.rows[0].bytes, 1600);
	assert_int_equal(got.rows[0].start, 1700000001);
	assert_int_equal(got.rows[0].end, 1700000059);
	assert_int_equal(got.rows[0].tcp_flags_aws, 0x03);
	assert_int_equal(got.rows[0].tcp_flags_all, 0x13);
	assert_int_equal(got.rows[0].log_status, DPF_LOG_OK);
	/* No NAT: the post-NAT view equals the packet's. */
	assert_memory_equal(got.rows[0].post.src_addr, got.rows[0].key.src_addr, 16);
	assert_int_equal(got.rows[0].post.src_port, 1000);
	assert_int_equal(got.rows[1].key.src_addr[3], 6);
	assert_int_equal(st.flows_in, 4);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.packets, 4);
	dpf_merge_free(m);
	free_shard(a);
	free_shard(b);
	free_shard(c);
}

static void
test_merge_result_does_not_depend_on_shard_spread(void **state)
{
	struct dpf_shard *one = new_shard(2, 1024);
	struct dpf_shard *four[4];
	struct dpf_merge *m = new_merge(2);
	static struct collected ref;
	uint32_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		four[i] = new_shard(2, 1024);
	srand(3);
	for (i = 0; i < 5000; i++) {
		uint16_t iface = (uint16_t)(rand() % 2);
		uint8_t host = (uint8_t)(rand() % 50);
		uint16_t sport = (uint16_t)(rand() % 5);
		uint32_t len = 40 + (uint32_t)(rand() % 1400);
		uint64_t t = 1700000000000000000ull + (uint64_t)(rand() % 60) * 1000000000ull;
		uint8_t fl = (uint8_t)rand();

		add_pkt(one, iface, host, sport, len, t, fl);
		add_pkt(four[rand() % 4], iface, host, sport, len, t, fl);
	}
	assert_int_equal(dpf_merge_window(m, &one, 1, 1699999980, 60, collect, &got, NULL), 0);
	ref = got;
	memset(&got, 0, sizeof(got));
	assert_int_equal(dpf_merge_window(m, four, 4, 1699999980, 60, collect, &got, NULL), 0);
	assert_int_equal(got.n, ref.n);
	assert_memory_equal(got.rows, ref.rows, got.n * sizeof(got.rows[0]));
	/* Output order: interface, then key order, strictly increasing. */
	for (i = 1; i < got.n; i++)
		if (got.rows[i].log_status == DPF_LOG_OK &&
		    got.rows[i - 1].log_status == DPF_LOG_OK)
			assert_true(dpf_flow_key_cmp(&got.rows[i - 1].key, &got.rows[i].key) < 0);
	dpf_merge_free(m);
	free_shard(one);
	for (i = 0; i < 4; i++)
		free_shard(four[i]);
}

static void
test_merge_without_shards_gives_nodata_row_per_interface(void **state)
{
	struct dpf_merge *m = new_merge(3);
	struct dpf_merge_stats st = {0};
	uint16_t i;

	(void)state;
	assert_int_equal(dpf_merge_window(m, NULL, 0, 1700000400, 600, collect, &got, &st), 0);
	assert_int_equal(got.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(got.rows[i].key.iface, i);
		assert_int_equal(got.rows[i].log_status, DPF_LOG_NODATA);
		assert_int_equal(got.rows[i].start, 1700000400);
		assert_int_equal(got.rows[i].end, 1700001000);
	}
	assert_int_equal(st.nodata_rows, 3);
	dpf_merge_free(m);
}

static void
test_merge_with_losses_adds_skipdata_after_the_interface_records(void **state)
{
	struct dpf_shard *a = new_shard(2, 64), *b = new_shard(2, 64);
	struct dpf_shard *shards[2] = {a, b};
	struct dpf_merge *m = new_merge(2);
	struct dpf_merge_stats st = {0};

	(void)state;
	add_pkt(a, 0, 1, 1, 100, 1700000001000000000ull, 0);
	a->lost_pkts[0] = 5;
	b->lost_pkts[0] = 2;
	b->lost_pkts[1] = 1;
	assert_int_equal(dpf_merge_window(m, shards, 2, 1699999980, 60, collect, &got, &st), 0);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.rows[0].log_status, DPF_LOG_OK);
	assert_int_equal(got.rows[1].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(got.rows[1].key.iface, 0);
	assert_int_equal(got.rows[1].start, 1699999980);
	assert_int_equal(got.rows[1].end, 1700000040);
	/* An interface with only losses gets SKIPDATA, not NODATA. */
	assert_int_equal(got.rows[2].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(got.rows[2].key.iface, 1);
	assert_int_equal(st.lost_pkts, 8);
	assert_int_equal(st.skipdata_rows, 2);
	assert_int_equal(dpf_shard_lost_total(b), 3);
	dpf_shard_reset(b);
	assert_int_equal(dpf_shard_lost_total(b), 0);
	dpf_merge_free(m);
	free_shard(a);
	free_shard(b);
}

static void
test_merge_more_flows_than_sized_fails_e2big(void **state)
{
	struct dpf_merge_params p = {.max_flows = 2, .n_ifaces = 1, .socket_id = -1};
	struct dpf_merge *m = dpf_merge_create(&p);
	struct dpf_shard *a = new_shard(1, 64);

	(void)state;
	assert_non_null(m);
	add_pkt(a, 0, 1, 1, 100, 1, 0);
	add_pkt(a, 0, 2, 1, 100, 1, 0);
	add_pkt(a, 0, 3, 1, 100, 1, 0);
	assert_int_equal(dpf_merge_window(m, &a, 1, 0, 60, collect, &got, NULL), -E2BIG);
	dpf_merge_free(m);
	free_shard(a);
}

static int
stop_early(void *arg, const struct dpf_record *recs, uint32_t n)
{
	(void)arg;
	(void)recs;
	(void)n;
	return -EPIPE;
}

static void
test_merge_emit_error_is_returned(void **state)
{
	struct dpf_merge *m = new_merge(1);

	(void)state;
	assert_int_equal(dpf_merge_window(m, NULL, 0, 0, 60, stop_early, NULL, NULL), -EPIPE);
	dpf_merge_free(m);
}

/* Keys drawn from small pools, so that every kind of tie and near-tie occurs. */
static void
random_key(struct dpf_flow_key *k, bool odd_keys)
{
	static const uint16_t ports[] = {0, 1, 80, 255, 256, 443, 65535};
	static const uint8_t protos[] = {1, 6, 17, 58};
	int fam = rand() % 10;

	memset(k, 0, sizeof(*k));
	k->iface = (uint16_t)(rand() % 3);
	k->family = fam < 5 ? 4 : 6;
	if (odd_keys && fam == 9)
		k->family = (uint8_t)(rand() % 2 ? 0 : 200);
	if (k->family == 4) {
		k->src_addr[0] = (uint8_t)(rand() % 2 ? 10 : 192);
		k->src_addr[3] = (uint8_t)(rand() % 4);
		k->dst_addr[0] = (uint8_t)(rand() % 2 ? 10 : 255);
		k->dst_addr[3] = (uint8_t)(rand() % 3);
		/* Not built from a packet: bytes past the IPv4 address (the
		 * merge must then compare them like any other). */
		if (odd_keys && rand() % 50 == 0)
			k->dst_addr[4 + rand() % 12] = (uint8_t)(1 + rand() % 255);
	} else {
		/* Sources share their first 8 bytes, so levels 0 and 1 tie. */
		memset(k->src_addr, 0x20, 8);
		k->src_addr[15] = (uint8_t)(rand() % 3);
		k->src_addr[8] = (uint8_t)(rand() % 2 ? 0 : 0x80);
		memset(k->dst_addr, 0xfe, 4);
		k->dst_addr[15] = (uint8_t)(rand() % 3);
	}
	k->proto = protos[rand() % 4];
	k->src_port = ports[rand() % 7];
	k->dst_port = ports[rand() % 7];
	k->action = (uint8_t)(rand() % 2);
	/* Decapsulated flows: as from the RX path, interface and type decide the id. */
	k->tun_type = (uint8_t)(rand() % 5);
	k->tun_has_id = k->tun_type != 0 && k->tun_type != DPF_TUN_IPIP ? (uint8_t)(rand() % 3) : 0;
	k->tun_id = k->tun_has_id ? 1000u * k->iface + k->tun_type : 0;
}

static int
ref_cmp(const void *a, const void *b)
{
	return dpf_flow_key_cmp(a, b);
}

static void
check_merge_order_against_qsort(bool odd_keys)
{
	enum { N_PKTS = 3000, N_SHARDS = 3 };
	static struct dpf_flow_key all[N_PKTS];
	struct dpf_shard *sh[N_SHARDS];
	struct dpf_merge *m = new_merge(3);
	uint32_t i, n_ref = 0, row = 0;

	for (i = 0; i < N_SHARDS; i++)
		sh[i] = new_shard(3, N_PKTS);
	for (i = 0; i < N_PKTS; i++) {
		struct dpf_flow_counters *c;

		random_key(&all[i], odd_keys);
		dpf_ft_lookup_or_insert_burst(sh[rand() % N_SHARDS]->ft, &all[i], 1, &c);
		assert_non_null(c);
		dpf_flow_counters_add(c, 100, 1700000000000000000ull, 0);
	}
	qsort(all, N_PKTS, sizeof(all[0]), ref_cmp);
	assert_int_equal(dpf_merge_window(m, sh, N_SHARDS, 1699999980, 60, collect, &got, NULL), 0);
	/* Distinct keys in qsort order, each with its packet count. */
	for (i = 0; i < N_PKTS; i = n_ref) {
		uint64_t pkts = 0;

		for (n_ref = i; n_ref < N_PKTS && dpf_flow_key_equal(&all[n_ref], &all[i]); n_ref++)
			pkts++;
		while (row < got.n && got.rows[row].log_status != DPF_LOG_OK)
			row++;
		if (all[i].iface >= 3)
			continue;
		assert_true(row < got.n);
		assert_memory_equal(&got.rows[row].key, &all[i], sizeof(all[i]));
		assert_int_equal(got.rows[row].packets, pkts);
		row++;
	}
	for (; row < got.n; row++)
		assert_int_not_equal(got.rows[row].log_status, DPF_LOG_OK);
	dpf_merge_free(m);
	for (i = 0; i < N_SHARDS; i++)
		free_shard(sh[i]);
}

/* A decapsulated flow in shard s, its outer source ending in src_octet, at t_ns. */
static void
add_tun_pkt(struct dpf_shard *s, uint8_t src_octet, uint64_t t_ns)
{
	struct dpf_flow_tun_ends *te;
	struct dpf_flow_counters *c;
	struct dpf_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.proto = 6;
	k.src_addr[0] = 10;
	k.dst_addr[0] = 11;
	k.tun_type = DPF_TUN_VXLAN;
	k.tun_has_id = 1;
	k.tun_id = 100;
	dpf_ft_lookup_or_insert_burst(s->ft, &k, 1, &c);
	assert_non_null(c);
	te = &s->tun_ends[(const struct dpf_ft_entry *)((const char *)c -
						       offsetof(struct dpf_ft_entry, c)) -
			  dpf_ft_entry(s->ft, 0)];
	if (c->packets == 0)
		te->family = 0;
	if (dpf_flow_tun_ends_earlier(te, t_ns, 4, (const uint8_t[16]){192, 0, 2, src_octet})) {
		memset(te, 0, sizeof(*te));
		te->family = 4;
		te->first_ns = t_ns;
		te->src_addr[0] = 192;
		te->src_addr[2] = 2;
		te->src_addr[3] = src_octet;
		te->dst_addr[0] = 198;
	}
	dpf_flow_counters_add(c, 100, t_ns, 0);
}

/* Whatever the shard order, the earliest packet's outer addresses; at a tie the lower source. */
static void
test_merge_tunnel_ends_are_the_earliest_packets(void **state)
{
	static struct dpf_flow_tun_ends ends[3][64];
	struct dpf_shard *sh[3];
	struct dpf_merge *m = new_merge(1);
	unsigned int i, order;

	(void)state;
	for (order = 0; order < 2; order++) {
		for (i = 0; i < 3; i++) {
			sh[i] = new_shard(1, 64);
			sh[i]->tun_ends = ends[i];
		}
		/* Shard 1 holds the earliest packet (twice: sources 9 and 4 at the same time). */
		add_tun_pkt(sh[order == 0 ? 0 : 2], 7, 3000);
		add_tun_pkt(sh[1], 9, 1000);
		add_tun_pkt(sh[1], 4, 1000);
		add_tun_pkt(sh[1], 3, 2000);
		add_tun_pkt(sh[order == 0 ? 2 : 0], 1, 1500);
		memset(&got, 0, sizeof(got));
		assert_int_equal(dpf_merge_window(m, sh, 3, 0, 60, collect, &got, NULL), 0);
		assert_int_equal(got.n, 1);
		assert_int_equal(got.rows[0].packets, 5);
		assert_int_equal(got.rows[0].key.tun_id, 100);
		assert_int_equal(got.rows[0].tun.family, 4);
		assert_int_equal(got.rows[0].tun.src_addr[3], 4);
		assert_int_equal(got.rows[0].tun.dst_addr[0], 198);
		for (i = 0; i < 3; i++)
			free_shard(sh[i]);
	}
	dpf_merge_free(m);
}

static void
test_merge_order_equals_qsort_by_key_cmp(void **state)
{
	(void)state;
	srand(11);
	check_merge_order_against_qsort(false);
}

static void
test_merge_order_equals_qsort_for_keys_not_built_from_packets(void **state)
{
	(void)state;
	srand(12);
	check_merge_order_against_qsort(true);
}

/* A key from a wide domain: most keys distinct, spread over every digit. */
static void
wide_key(struct dpf_flow_key *k)
{
	uint32_t i, r = (uint32_t)rand();

	memset(k, 0, sizeof(*k));
	k->iface = (uint16_t)(r % 3);
	k->family = r % 5 == 0 ? 6 : 4;
	for (i = 0; i < (k->family == 4 ? 4u : 16u); i++) {
		/* Few first bytes (10.x and 172.16.x, a /32 of IPv6), varied last ones. */
		k->src_addr[i] = (uint8_t)(i < 2 ? (rand() % 2 ? 10 : 172) : rand());
		k->dst_addr[i] = (uint8_t)(i < 2 ? 0x20 : rand() % (i + 2));
	}
	k->proto = r % 7 == 0 ? 17 : 6;
	k->src_port = (uint16_t)rand();
	k->dst_port = (uint16_t)(rand() % 4 == 0 ? 443 : rand());
}

static struct {
	const struct dpf_flow_key *ref;
	uint32_t n_ref, next, rows, wrong;
} stream;

/* Compares each row with the next distinct key of the sorted reference. */
static int
check_stream(void *arg, const struct dpf_record *recs, uint32_t n)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < n; i++) {
		uint32_t pkts = 0;

		if (recs[i].log_status != DPF_LOG_OK)
			continue;
		while (stream.next < stream.n_ref &&
		       (pkts == 0 || dpf_flow_key_equal(&stream.ref[stream.next],
							&stream.ref[stream.next - 1]))) {
			pkts++;
			stream.next++;
		}
		stream.rows++;
		if (pkts == 0 || recs[i].packets != pkts ||
		    memcmp(&recs[i].key, &stream.ref[stream.next - 1], sizeof(recs[i].key)) != 0)
			stream.wrong++;
	}
	return 0;
}

/*
 * More flows than the sort handles in cache at once, so the window is split
 * on its most significant digits first (dpf_window.c msd_sort()): the rows
 * still come in dpf_flow_key_cmp order, equal keys summed, whether keys are
 * distinct or repeated.
 */
static void
test_merge_order_equals_qsort_for_a_window_past_the_cache_split(void **state)
{
	enum { N_KEYS = 120000, N_SHARDS = 3 };
	static struct dpf_flow_key all[N_KEYS];
	struct dpf_merge_params p = {.max_flows = N_KEYS, .n_ifaces = 3, .socket_id = -1};
	struct dpf_shard *sh[N_SHARDS];
	struct dpf_merge *m = dpf_merge_create(&p);
	uint32_t i, distinct = 0;

	(void)state;
	assert_non_null(m);
	srand(13);
	for (i = 0; i < N_SHARDS; i++)
		sh[i] = new_shard(3, N_KEYS);
	for (i = 0; i < N_KEYS; i++) {
		struct dpf_flow_counters *c;

		/* A third from the narrow domain: long runs of equal keys. */
		if (i % 3 == 0)
			random_key(&all[i], false);
		else
			wide_key(&all[i]);
		dpf_ft_lookup_or_insert_burst(sh[rand() % N_SHARDS]->ft, &all[i], 1, &c);
		assert_non_null(c);
		dpf_flow_counters_add(c, 100, 1700000000000000000ull, 0);
	}
	qsort(all, N_KEYS, sizeof(all[0]), ref_cmp);
	for (i = 0; i < N_KEYS; i++)
		distinct += i == 0 || !dpf_flow_key_equal(&all[i], &all[i - 1]);
	memset(&stream, 0, sizeof(stream));
	stream.ref = all;
	stream.n_ref = N_KEYS;
	assert_int_equal(
		dpf_merge_window(m, sh, N_SHARDS, 1699999980, 60, check_stream, NULL, NULL), 0);
	assert_int_equal(stream.wrong, 0);
	assert_int_equal(stream.rows, distinct);
	assert_int_equal(stream.next, N_KEYS);
	assert_true(distinct > 40000);
	dpf_merge_free(m);
	for (i = 0; i < N_SHARDS; i++)
		free_shard(sh[i]);
}

static unsigned int finished_with_view, finished_without;

static void
finish_rec(void *arg, struct dpf_record *r, const struct dpf_flow_nat *view)
{
	(void)arg;
	if (view == NULL) {
		finished_without++;
		return;
	}
	finished_with_view++;
	r->post = *view;
	r->direction = DPF_DIR_EGRESS;
}

static void
test_merge_resolves_session_views_from_the_lowest_core(void **state)
{
	struct dpf_ft_params ftp = {.capacity = 64, .socket_id = -1, .seed = 7};
	struct dpf_shard *a = dpf_shard_create(1, 8, -1), *b = dpf_shard_create(1, 8, -1);
	struct dpf_shard *shards[2];
	struct dpf_merge_params mp = {
		.max_flows = 256, .n_ifaces = 1, .socket_id = -1, .finish = finish_rec};
	struct dpf_merge *m = dpf_merge_create(&mp);
	struct dpf_ft_entry *e;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(m);
	a->ft = dpf_ft_create(&ftp);
	b->ft = dpf_ft_create(&ftp);
	a->core = 2;
	b->core = 1;
	shards[0] = a;
	shards[1] = b;
	add_pkt(a, 0, 5, 1000, 60, 1, 0);
	add_pkt(b, 0, 5, 1000, 60, 2, 0);
	add_pkt(b, 0, 6, 1000, 60, 2, 0);
	memset(&a->views[0], 0, sizeof(a->views[0]));
	a->views[0].src_port = 2222;
	a->n_views = 1;
	memset(&b->views[0], 0, sizeof(b->views[0]));
	b->views[0].src_port = 1111;
	b->n_views = 1;
	e = (struct dpf_ft_entry *)dpf_ft_entry(a->ft, 0);
	e->pad = dpf_shard_view_tag(a->core, 0);
	e = (struct dpf_ft_entry *)dpf_ft_entry(b->ft, 0);
	e->pad = dpf_shard_view_tag(b->core, 0);
	memset(&got, 0, sizeof(got));
	finished_with_view = finished_without = 0;
	assert_int_equal(dpf_merge_window(m, shards, 2, 0, 60, collect, &got, NULL), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.rows[0].packets, 2);
	assert_int_equal(got.rows[0].post.src_port, 1111);
	assert_int_equal(got.rows[0].direction, DPF_DIR_EGRESS);
	assert_int_equal(finished_with_view, 1);
	assert_int_equal(finished_without, 1);
	/* Reset forgets the views. */
	dpf_shard_reset(b);
	assert_int_equal(b->n_views, 0);
	dpf_merge_free(m);
	free_shard(a);
	free_shard(b);
}

static void
test_merge_cut_window_gives_every_interface_a_skipdata_row(void **state)
{
	struct dpf_shard *a = new_shard(3, 64);
	struct dpf_shard *shards[1] = {a};
	struct dpf_merge *m = new_merge(3);
	struct dpf_merge_stats st = {0};

	(void)state;
	/* Interface 0 has a record, 1 lost packets, 2 nothing. */
	add_pkt(a, 0, 5, 1000, 60, 1700000005500000000ull, 0x02);
	a->lost_pkts[1] = 7;
	dpf_merge_set_cut(m, true);
	assert_int_equal(dpf_merge_window(m, shards, 1, 1699999980, 60, collect, &got, &st), 0);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.rows[0].log_status, DPF_LOG_OK);
	assert_int_equal(got.rows[1].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(got.rows[1].key.iface, 0);
	assert_int_equal(got.rows[2].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(got.rows[2].key.iface, 1);
	assert_int_equal(got.rows[3].log_status, DPF_LOG_SKIPDATA);
	assert_int_equal(got.rows[3].key.iface, 2);
	assert_int_equal(got.rows[3].start, 1699999980);
	assert_int_equal(got.rows[3].end, 1700000040);
	assert_int_equal(st.skipdata_rows, 3);
	assert_int_equal(st.nodata_rows, 0);
	/* Only the packets shards report are counted as lost. */
	assert_int_equal(st.lost_pkts, 7);
	/* Off again: the next window is an ordinary one. */
	dpf_merge_set_cut(m, false);
	memset(&got, 0, sizeof(got));
	assert_int_equal(dpf_merge_window(m, NULL, 0, 1700000040, 60, collect, &got, NULL), 0);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.rows[0].log_status, DPF_LOG_NODATA);
	dpf_merge_free(m);
	free_shard(a);
}

/*
 * A flow cut into segments (dpf_ft_segment(), connection records): one
 * record, the sum of its segments, as if it had never been cut, then one
 * SEGMENT row per segment, in the order they were cut; not counted as records.
 */
static void
test_merge_segments_of_a_flow_give_its_record_then_segment_rows(void **state)
{
	struct dpf_shard *a = new_shard(1, 64);
	struct dpf_shard *shards[1] = {a};
	struct dpf_merge *m = new_merge(1);
	struct dpf_merge_stats st = {0};
	struct dpf_flow_key k;
	struct dpf_flow_counters *c;

	(void)state;
	add_pkt(a, 0, 5, 1000, 60, 1700000001000000000ull, 0x02);
	add_pkt(a, 0, 5, 1000, 40, 1700000002000000000ull, 0x11);
	add_pkt(a, 0, 7, 1000, 10, 1700000003000000000ull, 0x10);
	k = dpf_ft_entry(a->ft, 0)->key;
	c = dpf_ft_lookup(a->ft, &k);
	assert_int_equal(dpf_ft_segment(a->ft, &k, c, DPF_SEG_SYN), 0);
	assert_int_equal(c->packets, 0);
	assert_int_equal(c->segs, 1);
	add_pkt(a, 0, 5, 1000, 60, 1700000005000000000ull, 0x02);
	assert_int_equal(dpf_ft_count(a->ft), 3);
	assert_int_equal(dpf_merge_window(m, shards, 1, 1699999980, 60, collect, &got, &st), 0);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.rows[0].log_status, DPF_LOG_OK);
	assert_true(got.rows[0].segments);
	assert_int_equal(got.rows[0].key.seg, 0);
	assert_int_equal(got.rows[0].packets, 3);
	assert_int_equal(got.rows[0].bytes, 160);
	assert_int_equal(got.rows[0].start, 1700000001);
	assert_int_equal(got.rows[0].end, 1700000005);
	assert_int_equal(got.rows[0].tcp_flags_all, 0x13);
	/* The live entry was inserted first, its cut-off segment after it. */
	assert_int_equal(got.rows[1].log_status, DPF_LOG_SEGMENT);
	assert_int_equal(got.rows[1].packets, 1);
	assert_int_equal(got.rows[1].first_ns, 1700000005000000000ull);
	assert_int_equal(got.rows[1].seg_flags, DPF_SEG_SYN);
	assert_int_equal(got.rows[2].log_status, DPF_LOG_SEGMENT);
	assert_int_equal(got.rows[2].packets, 2);
	assert_int_equal(got.rows[2].last_ns, 1700000002000000000ull);
	assert_int_equal(got.rows[2].seg_flags, 0);
	assert_int_equal(got.rows[3].key.src_addr[3], 7);
	assert_false(got.rows[3].segments);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.packets, 4);
	assert_int_equal(st.segment_rows, 2);
	dpf_merge_free(m);
	free_shard(a);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_same_key_in_several_shards_is_summed),
		cmocka_unit_test(test_merge_segments_of_a_flow_give_its_record_then_segment_rows),
		cmocka_unit_test(test_merge_result_does_not_depend_on_shard_spread),
		cmocka_unit_test(test_merge_without_shards_gives_nodata_row_per_interface),
		cmocka_unit_test(test_merge_with_losses_adds_skipdata_after_the_interface_records),
		cmocka_unit_test(test_merge_more_flows_than_sized_fails_e2big),
		cmocka_unit_test(test_merge_emit_error_is_returned),
		cmocka_unit_test(test_merge_order_equals_qsort_by_key_cmp),
		cmocka_unit_test(test_merge_tunnel_ends_are_the_earliest_packets),
		cmocka_unit_test(test_merge_order_equals_qsort_for_keys_not_built_from_packets),
		cmocka_unit_test(test_merge_order_equals_qsort_for_a_window_past_the_cache_split),
		cmocka_unit_test(test_merge_resolves_session_views_from_the_lowest_core),
		cmocka_unit_test(test_merge_cut_window_gives_every_interface_a_skipdata_row),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
