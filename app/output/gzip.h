/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_GZIP_H
#define DPFLOW_GZIP_H

/*
 * One gzip member of a whole buffer, in one call, into an output buffer the
 * compressor keeps and grows to the largest member: what the IBM objects
 * (export_ibm.c) and the daily Trustgrid file's members (tg_day.c) both
 * write. libdeflate at any level, or ISA-L's igzip (one stateless call) at
 * level 1 where the owner asks for it. Neither gzip header holds a time:
 * the same input gives the same bytes from run to run.
 *
 * Not thread-safe: one owner (the writer thread).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Embedded in its owner; the fields are gzip.c's. */
struct dpf_gzip {
	struct libdeflate_compressor *deflate; /* NULL: igzip at level 1 */
	uint8_t *igzip_level_buf;	       /* igzip's level buffer */
	uint8_t *out;			       /* the last member */
	size_t cap;
};

/**
 * Make g a compressor at level (1..12). igzip_at_level1: level 1 with
 * igzip, 3 to 6 times faster than libdeflate on the IBM objects and smaller
 * than its level 1 (doc/performance.md, "Connection records"); without it
 * libdeflate serves every level.
 * @return 0, or -ENOMEM (out of memory, or a level libdeflate refuses:
 *         g then holds nothing)
 */
int dpf_gzip_init(struct dpf_gzip *g, int level, bool igzip_at_level1);

/**
 * Compress the len bytes of in as one gzip member. *out points into g's
 * buffer, valid until its next call.
 * @return the member's length (> 0); -ENOMEM when the output buffer could
 *         not grow, -EIO when the compressor failed
 */
ssize_t dpf_gzip_member(struct dpf_gzip *g, const void *in, size_t len, const uint8_t **out);

/** What g holds; a zeroed g too. */
void dpf_gzip_release(struct dpf_gzip *g);

#endif /* DPFLOW_GZIP_H */
