/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One gzip member of a buffer (gzip.h): libdeflate, or ISA-L's igzip at
 * level 1, into an output buffer that grows to the largest member and is
 * kept for the next one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include <rte_common.h>

#include "gzip.h"

int
dpf_gzip_init(struct dpf_gzip *g, int level, bool igzip_at_level1)
{
	memset(g, 0, sizeof(*g));
	if (level == 1 && igzip_at_level1)
		g->igzip_level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
	else
		g->deflate = libdeflate_alloc_compressor(level);
	return g->deflate == NULL && g->igzip_level_buf == NULL ? -ENOMEM : 0;
}

/* Room for len bytes of output. */
static bool
out_room(struct dpf_gzip *g, size_t len)
{
	uint8_t *p;

	if (len <= g->cap)
		return true;
	p = realloc(g->out, len);
	if (p == NULL)
		return false;
	g->out = p;
	g->cap = len;
	return true;
}

/*
 * igzip, one stateless call. ISA-L gives no bound: the buffer grows and the
 * call is repeated in the (incompressible) case where it did not fit.
 */
static ssize_t
member_igzip(struct dpf_gzip *g, const void *in, size_t len)
{
	size_t cap = len + len / 8 + 4096;
	struct isal_zstream s;
	int rc;

	do {
		if (!out_room(g, cap))
			return -ENOMEM;
		isal_deflate_stateless_init(&s);
		s.level = 1;
		s.level_buf = g->igzip_level_buf;
		s.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
		s.gzip_flag = IGZIP_GZIP;
		s.end_of_stream = 1;
		s.flush = NO_FLUSH;
		s.next_in = (uint8_t *)in; /* not const in ISA-L's struct; only read */
		s.avail_in = (uint32_t)len;
		s.next_out = g->out;
		s.avail_out = (uint32_t)RTE_MIN(g->cap, (size_t)UINT32_MAX);
		rc = isal_deflate_stateless(&s);
		cap *= 2;
	} while (rc == STATELESS_OVERFLOW && cap < ((size_t)1 << 32));
	return rc == COMP_OK && s.total_out != 0 ? (ssize_t)s.total_out : -EIO;
}

ssize_t
dpf_gzip_member(struct dpf_gzip *g, const void *in, size_t len, const uint8_t **out)
{
	ssize_t n;

	if (g->deflate == NULL) {
		n = member_igzip(g, in, len);
	} else if (!out_room(g, libdeflate_gzip_compress_bound(g->deflate, len))) {
		n = -ENOMEM;
	} else {
		n = (ssize_t)libdeflate_gzip_compress(g->deflate, in, len, g->out, g->cap);
		if (n == 0)
			n = -EIO;
	}
	*out = g->out;
	return n;
}

void
dpf_gzip_release(struct dpf_gzip *g)
{
	libdeflate_free_compressor(g->deflate);
	free(g->igzip_level_buf);
	free(g->out);
	memset(g, 0, sizeof(*g));
}
