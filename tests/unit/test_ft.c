/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "dpf_ft.h"
#include <rte_malloc.h>

#include "dpf_test_eal.h"

static void
make_key(struct dpf_flow_key *k, uint32_t n)
{
	memset(k, 0, sizeof(*k));
	k->family = 4;
	k->proto = 6;
	memcpy(k->src_addr, &n, sizeof(n));
	k->dst_addr[0] = 10;
	k->src_port = (uint16_t)(n * 7);
	k->dst_port = 443;
}

static struct dpf_ft *
new_table(uint32_t capacity)
{
	struct dpf_ft_params p = {
		.name = "test_ft", .capacity = capacity, .socket_id = -1, .seed = 0x1234};
	struct dpf_ft *ft = dpf_ft_create(&p);

	assert_non_null(ft);
	return ft;
}

static void
test_ft_create_with_zero_capacity_fails_einval(void **state)
{
	struct dpf_ft_params p = {.capacity = 0, .socket_id = -1};

	(void)state;
	assert_null(dpf_ft_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(dpf_ft_create(NULL));
	dpf_ft_free(NULL);
}

static void
test_ft_insert_then_update_same_flow(void **state)
{
	struct dpf_ft *ft = new_table(1024);
	struct dpf_flow_key keys[3];
	struct dpf_flow_counters *out[3];

	(void)state;
	make_key(&keys[0], 1);
	make_key(&keys[1], 2);
	keys[2] = keys[0];
	/* A key repeated inside one burst is inserted once. */
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, keys, 3, out), 2);
	assert_ptr_equal(out[0], out[2]);
	assert_ptr_not_equal(out[0], out[1]);
	dpf_flow_counters_add(out[0], 100, 5, 0x02);
	dpf_flow_counters_add(out[2], 60, 3, 0x12);
	assert_int_equal(dpf_ft_count(ft), 2);
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, keys, 1, out), 0);
	assert_int_equal(out[0]->packets, 2);
	assert_int_equal(out[0]->bytes, 160);
	assert_int_equal(out[0]->first_ns, 3);
	assert_int_equal(out[0]->last_ns, 5);
	assert_int_equal(out[0]->tcp_flags_aws, 0x12);
	assert_ptr_equal(dpf_ft_lookup(ft, &keys[1]), out[1]);
	dpf_ft_free(ft);
}

static void
test_ft_keys_differing_in_one_byte_are_distinct_flows(void **state)
{
	struct dpf_ft *ft = new_table(4096);
	struct dpf_flow_key base, k;
	struct dpf_flow_counters *out;
	size_t byte;

	(void)state;
	make_key(&base, 42);
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &base, 1, &out), 1);
	for (byte = 0; byte < sizeof(k); byte++) {
		k = base;
		((uint8_t *)&k)[byte] ^= 0x01;
		assert_null(dpf_ft_lookup(ft, &k));
		assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k, 1, &out), 1);
	}
	assert_int_equal(dpf_ft_count(ft), 1 + sizeof(k));
	dpf_ft_free(ft);
}

static void
test_ft_insert_when_full_returns_null_and_existing_flows_keep_counting(void **state)
{
	const uint32_t cap = 1000;
	struct dpf_ft *ft = new_table(cap);
	struct dpf_flow_key k;
	struct dpf_flow_counters *out;
	uint32_t i, inserted = 0;

	(void)state;
	for (i = 0; i < cap; i++) {
		make_key(&k, i);
		inserted += dpf_ft_lookup_or_insert_burst(ft, &k, 1, &out);
		assert_non_null(out);
	}
	assert_int_equal(inserted, cap);
	assert_true(dpf_ft_is_full(ft));
	make_key(&k, cap + 1);
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k, 1, &out), 0);
	assert_null(out);
	/* An existing flow is still found and updated. */
	make_key(&k, 17);
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k, 1, &out), 0);
	assert_non_null(out);
	assert_int_equal(dpf_ft_count(ft), cap);
	dpf_ft_free(ft);
}

static void
test_ft_reset_empties_table_and_allows_reuse(void **state)
{
	struct dpf_ft *ft = new_table(50000);
	struct dpf_flow_key k;
	struct dpf_flow_counters *out;
	uint32_t round, i;

	(void)state;
	/* Small and large fills exercise both reset strategies. */
	for (round = 0; round < 3; round++) {
		uint32_t n = round == 1 ? 50000 : 100;

		for (i = 0; i < n; i++) {
			make_key(&k, i + round * 1000000);
			assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k, 1, &out), 1);
		}
		assert_int_equal(dpf_ft_count(ft), n);
		dpf_ft_reset(ft);
		assert_int_equal(dpf_ft_count(ft), 0);
		make_key(&k, round * 1000000);
		assert_null(dpf_ft_lookup(ft, &k));
	}
	dpf_ft_free(ft);
}

static void
test_ft_iteration_returns_every_entry_in_insertion_order(void **state)
{
	struct dpf_ft *ft = new_table(300);
	struct dpf_flow_key keys[64];
	struct dpf_flow_counters *out[64];
	uint32_t i, base;

	(void)state;
	for (base = 0; base < 256; base += 64) {
		for (i = 0; i < 64; i++)
			make_key(&keys[i], base + i);
		assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, keys, 64, out), 64);
	}
	for (i = 0; i < 256; i++) {
		struct dpf_flow_key k;

		make_key(&k, i);
		assert_true(dpf_flow_key_equal(&dpf_ft_entry(ft, i)->key, &k));
	}
	assert_null(dpf_ft_entry(ft, 256));
	dpf_ft_free(ft);
}

/* The i-th of the random keys below (the same sequence for the same seed). */
static void
random_key(struct dpf_flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	for (uint32_t j = 0; j < 32; j++)
		k->src_addr[j % 16] ^= (uint8_t)rand();
	k->src_port = (uint16_t)i;
	k->dst_port = (uint16_t)(i >> 16);
	k->family = 6;
}

/* Full takes displacements (make_room()): each key, wherever it was moved,
 * still finds its own counters. */
static void
test_ft_holds_full_capacity_of_random_keys(void **state)
{
	const uint32_t cap = 200000;
	struct dpf_ft *ft = new_table(cap);
	struct dpf_flow_key k;
	struct dpf_flow_counters *out;
	uint32_t i;

	(void)state;
	srand(99);
	for (i = 0; i < cap; i++) {
		random_key(&k, i);
		assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k, 1, &out), 1);
		out->packets = i + 1;
	}
	assert_true(dpf_ft_is_full(ft));
	assert_true(dpf_ft_bytes_per_flow(cap) <= 128);
	srand(99);
	for (i = 0; i < cap; i++) {
		random_key(&k, i);
		out = dpf_ft_lookup(ft, &k);
		assert_non_null(out);
		assert_int_equal(out->packets, i + 1);
	}
	dpf_ft_free(ft);
}

/* A cut moves the counters to a new entry (key.seg 1, 2, ...) and empties
 * the live one; with no room, nothing changes. */
static void
test_ft_segment_moves_counters_and_fails_when_full(void **state)
{
	struct dpf_ft *ft = new_table(2);
	struct dpf_flow_key k, k2;
	struct dpf_flow_counters *c, *old;

	(void)state;
	make_key(&k, 1);
	dpf_ft_lookup_or_insert_burst(ft, &k, 1, &c);
	dpf_flow_counters_add(c, 100, 10, 0x02);
	dpf_flow_counters_add(c, 40, 20, 0x10);
	assert_int_equal(dpf_ft_segment(ft, &k, c, DPF_SEG_GAP), 0);
	assert_int_equal(c->packets, 0);
	assert_int_equal(c->segs, 1);
	assert_int_equal(c->seg_flags, DPF_SEG_GAP);
	k2 = k;
	k2.seg = 1;
	old = dpf_ft_lookup(ft, &k2);
	assert_non_null(old);
	assert_int_equal(old->packets, 2);
	assert_int_equal(old->bytes, 140);
	assert_int_equal(old->last_ns, 20);
	assert_int_equal(old->segs, 0);
	assert_true(dpf_flow_key_same_flow(&k, &k2));
	/* The lookup of the packet's key still finds the live entry. */
	assert_ptr_equal(dpf_ft_lookup(ft, &k), c);
	dpf_flow_counters_add(c, 60, 30, 0x02);
	assert_int_equal(dpf_ft_segment(ft, &k, c, DPF_SEG_SYN), -ENOSPC);
	assert_int_equal(c->packets, 1);
	assert_int_equal(c->segs, 1);
	assert_int_equal(dpf_ft_count(ft), 2);
	dpf_ft_free(ft);
}

/* With a segments' room, cuts never take a flow's place, nor flows the room. */
static void
test_ft_segment_room_is_kept_apart_from_flows(void **state)
{
	struct dpf_ft_params p = {
		.name = "test_ft_room", .capacity = 2, .segments = 1, .socket_id = -1, .seed = 7};
	struct dpf_ft *ft = dpf_ft_create(&p);
	struct dpf_flow_key k[3];
	struct dpf_flow_counters *c[3];
	unsigned int i;

	(void)state;
	assert_non_null(ft);
	for (i = 0; i < 3; i++)
		make_key(&k[i], i + 1);
	dpf_ft_lookup_or_insert_burst(ft, &k[0], 1, &c[0]);
	dpf_flow_counters_add(c[0], 100, 10, 0x02);
	assert_int_equal(dpf_ft_segment(ft, &k[0], c[0], DPF_SEG_SYN), 0);
	dpf_flow_counters_add(c[0], 100, 20, 0x02);
	/* The cut took the room: both flows still fit, a third does not. */
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k[1], 1, &c[1]), 1);
	assert_non_null(c[1]);
	assert_true(dpf_ft_is_full(ft));
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, &k[2], 1, &c[2]), 0);
	assert_null(c[2]);
	assert_int_equal(dpf_ft_count(ft), 3);
	/* No room left for another cut. */
	assert_int_equal(dpf_ft_segment(ft, &k[1], c[1], DPF_SEG_GAP), -ENOSPC);
	dpf_ft_reset(ft);
	assert_int_equal(dpf_ft_count(ft), 0);
	assert_false(dpf_ft_is_full(ft));
	dpf_ft_free(ft);
}

/* Heap bytes a table of this capacity and segments' room allocates. */
static size_t
table_bytes(uint32_t capacity, uint32_t segments)
{
	struct dpf_ft_params p = {.name = "test_ft_bytes",
				  .capacity = capacity,
				  .segments = segments,
				  .socket_id = 0,
				  .seed = 3};
	struct rte_malloc_socket_stats before, after;
	struct dpf_ft *ft;

	assert_int_equal(rte_malloc_get_socket_stats(0, &before), 0);
	ft = dpf_ft_create(&p);
	assert_non_null(ft);
	assert_int_equal(rte_malloc_get_socket_stats(0, &after), 0);
	dpf_ft_free(ft);
	return after.heap_allocsz_bytes - before.heap_allocsz_bytes;
}

/*
 * The segments' room adds entries, not buckets: sizing the buckets for
 * capacity + room doubled them at every power-of-two capacity, and the
 * sparser table cost 13% a packet at 1M flows.
 */
static void
test_ft_segment_room_adds_entries_not_buckets(void **state)
{
	const uint32_t cap = 1u << 16, room = dpf_ft_segment_room(cap);
	size_t plain = table_bytes(cap, 0), with_room = table_bytes(cap, room);

	(void)state;
	assert_true(with_room > plain);
	/* The room's entries and allocator rounding, never a second bucket array. */
	assert_true(with_room - plain <= (size_t)room * sizeof(struct dpf_ft_entry) + 4096);
}

/* A small table's room is mostly the 64: every cut it promises fits. */
static void
test_ft_small_table_fills_its_whole_room(void **state)
{
	const uint32_t cap = 16, room = dpf_ft_segment_room(cap);
	struct dpf_ft_params p = {.name = "test_ft_small",
				  .capacity = cap,
				  .segments = room,
				  .socket_id = -1,
				  .seed = 9};
	struct dpf_ft *ft = dpf_ft_create(&p);
	struct dpf_flow_key k[16];
	struct dpf_flow_counters *c[16];
	uint32_t i, cuts = 0;

	(void)state;
	assert_non_null(ft);
	for (i = 0; i < cap; i++)
		make_key(&k[i], i + 100);
	assert_int_equal(dpf_ft_lookup_or_insert_burst(ft, k, cap, c), cap);
	for (i = 0; cuts < room; i = (i + 1) % cap) {
		dpf_flow_counters_add(c[i], 60, 10 + cuts, 0x02);
		assert_int_equal(dpf_ft_segment(ft, &k[i], c[i], DPF_SEG_SYN), 0);
		cuts++;
	}
	assert_int_equal(dpf_ft_count(ft), cap + room);
	assert_int_equal(dpf_ft_segment(ft, &k[0], c[0], DPF_SEG_GAP), -ENOSPC);
	dpf_ft_free(ft);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ft_create_with_zero_capacity_fails_einval),
		cmocka_unit_test(test_ft_insert_then_update_same_flow),
		cmocka_unit_test(test_ft_keys_differing_in_one_byte_are_distinct_flows),
		cmocka_unit_test(
			test_ft_insert_when_full_returns_null_and_existing_flows_keep_counting),
		cmocka_unit_test(test_ft_reset_empties_table_and_allows_reuse),
		cmocka_unit_test(test_ft_iteration_returns_every_entry_in_insertion_order),
		cmocka_unit_test(test_ft_holds_full_capacity_of_random_keys),
		cmocka_unit_test(test_ft_segment_moves_counters_and_fails_when_full),
		cmocka_unit_test(test_ft_segment_room_is_kept_apart_from_flows),
		cmocka_unit_test(test_ft_segment_room_adds_entries_not_buckets),
		cmocka_unit_test(test_ft_small_table_fills_its_whole_room),
	};

	(void)argc;
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
