/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_FLOW_HASH_H
#define DPF_FLOW_HASH_H

/**
 * @file
 * What the two bucketed tables of flow keys share (lib/ft's flow table and
 * lib/conn's key index): the key's CRC32-C, the signature match in a bucket
 * of 8 slots, a free slot and the move of a key to another bucket, a key's
 * alternative bucket. Header only: both use them on their hot path.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_vect.h>

#include "dpf_flow.h"

/*
 * One 8-byte CRC32-C step. rte_hash_crc_8byte() checks at every call which
 * implementation to use; when the compiler already targets SSE4.2 the
 * instruction is used directly (same result).
 */
static inline uint32_t
dpf_crc32c_u64(uint64_t data, uint32_t h)
{
#if defined(RTE_ARCH_X86) && defined(__SSE4_2__)
	return (uint32_t)_mm_crc32_u64(h, data);
#else
	return rte_hash_crc_8byte(data, h);
#endif
}

/** CRC32-C of a key's 48 bytes: six 8-byte steps. */
static inline uint32_t
dpf_flow_key_hash(uint32_t seed, const struct dpf_flow_key *key)
{
	uint64_t w[6];
	uint32_t h = seed;

	_Static_assert(sizeof(*key) == sizeof(w), "a key is six words");
	memcpy(w, key, sizeof(w));
	h = dpf_crc32c_u64(w[0], h);
	h = dpf_crc32c_u64(w[1], h);
	h = dpf_crc32c_u64(w[2], h);
	h = dpf_crc32c_u64(w[3], h);
	h = dpf_crc32c_u64(w[4], h);
	h = dpf_crc32c_u64(w[5], h);
	return h;
}

/** Bit i set when sigs[i] (8 signatures, 16-byte aligned) equals sig. */
static inline uint32_t
dpf_sig8_match(const uint16_t *sigs, uint16_t sig)
{
	__m128i v = _mm_load_si128((const __m128i *)sigs);
	__m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16((short)sig));

	/* movemask gives two bits per 16-bit lane; keep one. */
	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()));
}

/** The first free slot of 8 signatures (signature 0: free), or -1 when all are taken. */
static inline int
dpf_sig8_free(const uint16_t *sigs)
{
	uint32_t m = dpf_sig8_match(sigs, 0);

	return m == 0 ? -1 : __builtin_ctz(m);
}

/**
 * One level of cuckoo displacement: move slot `slot` of a bucket (its 8
 * signatures and entry indexes) to the first free slot of another bucket,
 * and free it.
 * @return whether it moved (false: the other bucket is full, nothing changed)
 */
static inline bool
dpf_sig8_move(uint16_t *sigs, uint32_t *idx, unsigned int slot, uint16_t *to_sigs, uint32_t *to_idx)
{
	int f = dpf_sig8_free(to_sigs);

	if (f < 0)
		return false;
	to_idx[f] = idx[slot];
	to_sigs[f] = sigs[slot];
	sigs[slot] = 0;
	return true;
}

/** Two keys equal in all 48 bytes (three vector compares). */
static inline bool
dpf_flow_key_same(const struct dpf_flow_key *a, const struct dpf_flow_key *b)
{
	const __m128i *x = (const __m128i *)a, *y = (const __m128i *)b;
	__m128i d0 = _mm_xor_si128(_mm_loadu_si128(x), _mm_loadu_si128(y));
	__m128i d1 = _mm_xor_si128(_mm_loadu_si128(x + 1), _mm_loadu_si128(y + 1));
	__m128i d2 = _mm_xor_si128(_mm_loadu_si128(x + 2), _mm_loadu_si128(y + 2));

	return _mm_testz_si128(_mm_or_si128(_mm_or_si128(d0, d1), d2), _mm_set1_epi8((char)0xff));
}

/** A key's other bucket: depends only on its primary and its signature. */
static inline uint32_t
dpf_alt_bucket(uint32_t primary, uint16_t sig, uint32_t mask)
{
	uint32_t alt = (primary ^ ((uint32_t)sig * 0x9e3779b1u)) & mask;

	return alt == primary ? (primary ^ 1) & mask : alt;
}

#endif /* DPF_FLOW_HASH_H */
