/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpf_util.h"
#include "sink_buf.h"

int
sink_buf_room(struct sink_buf *b)
{
	size_t cap;
	unsigned char *nb;

	if (b->cap - b->len >= SINK_BUF_ROOM)
		return 0;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= SINK_BUF_ROOM)
			return 0;
	}
	cap = b->cap != 0 ? b->cap * 2 : SINK_BUF_SIZE + SINK_BUF_ROOM;
	while (cap - b->len < SINK_BUF_ROOM)
		cap *= 2;
	nb = realloc(b->data, cap);
	if (nb == NULL)
		return -ENOMEM;
	b->data = nb;
	b->cap = cap;
	return 0;
}

int
sink_buf_write(struct sink_buf *b, int fd, uint64_t *written)
{
	size_t n = 0;
	int rc = dpf_write_all(fd, b->data + b->off, b->len - b->off, &n);

	b->off += n;
	*written += n;
	if (rc != 0)
		return rc;
	b->off = 0;
	b->len = 0;
	/* Back to the usual size after an outage grew the buffer. */
	if (b->cap > SINK_BUF_SIZE + SINK_BUF_ROOM) {
		unsigned char *nb = realloc(b->data, SINK_BUF_SIZE + SINK_BUF_ROOM);

		if (nb != NULL) {
			b->data = nb;
			b->cap = SINK_BUF_SIZE + SINK_BUF_ROOM;
		}
	}
	return 0;
}

size_t
sink_buf_discard(struct sink_buf *b)
{
	size_t n = b->len - b->off;

	b->len = 0;
	b->off = 0;
	return n;
}

void
sink_buf_free(struct sink_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
