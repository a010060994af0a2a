/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SINK_BUF_H
#define DPF_SINK_BUF_H

/*
 * Internal to lib/sink. The output buffer of one file: bytes the compressor
 * produced and the disk has not taken yet. It grows while the disk refuses
 * them (the sink's hold) and shrinks back once they are written.
 *
 * data[off, len) is pending; data[len, cap) is free room. Not thread-safe:
 * the sink's owner thread.
 */

#include <stddef.h>
#include <stdint.h>

/* A file's pending output is written once this much is there. */
#define SINK_BUF_SIZE (128 * 1024)
/* Free room made before each compressor call. */
#define SINK_BUF_ROOM (64 * 1024)

struct sink_buf {
	unsigned char *data;
	size_t cap;
	size_t len;
	size_t off;
};

/** Bytes produced and not yet written. */
static inline size_t
sink_buf_pending(const struct sink_buf *b)
{
	return b->len - b->off;
}

/**
 * Make SINK_BUF_ROOM bytes of room at data + len: move the pending bytes to
 * the front, then grow (doubling; the first allocation is SINK_BUF_SIZE +
 * SINK_BUF_ROOM).
 * @return 0, or -ENOMEM (the buffer is unchanged)
 */
int sink_buf_room(struct sink_buf *b);

/**
 * Write the pending bytes to fd (EINTR retried). On success the buffer is
 * empty and back to its usual size if an outage had grown it.
 * @param written  out: incremented by the bytes written, also on failure
 * @return 0, or -errno of the failed write (-EIO for a write of 0 bytes);
 *         what was not written stays pending
 */
int sink_buf_write(struct sink_buf *b, int fd, uint64_t *written);

/** Drop what is pending. @return the bytes dropped */
size_t sink_buf_discard(struct sink_buf *b);

/** Free the memory; the buffer is empty and may be used again. */
void sink_buf_free(struct sink_buf *b);

#endif /* DPF_SINK_BUF_H */
