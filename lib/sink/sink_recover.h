/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SINK_RECOVER_H
#define DPF_SINK_RECOVER_H

/*
 * Internal to lib/sink. Recovery of the temporaries an earlier run left
 * (dpf_sink_recover() in dpf_sink.h is its contract): the line checker
 * that decides what of a leftover is kept, and the parser of leftover
 * names. Both are pure and tested on their own (test_sink_recover).
 * The sink's owner thread, before it writes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line recovery accepts; formatted lines are far shorter. */
#define SINK_RECOVER_LINE_MAX 65536

/*
 * Lines of a leftover, checked one by one as decoded bytes come: the header
 * (field names: lowercase letters, digits, '-', single spaces), then lines
 * with as many fields, printable ASCII, no control character. The first
 * line that fails, or is SINK_RECOVER_LINE_MAX long, ends what is kept.
 * After `keep` record lines, the well-formed ones are counted as dropped
 * (the window a kill cut), not kept.
 */
struct sink_lines {
	unsigned int fields; /* 0 until the header was seen */
	bool stopped;	     /* a line failed: nothing after it counts */
	char *part;	     /* SINK_RECOVER_LINE_MAX + 1 bytes of the caller's */
	size_t part_len;     /* incomplete line carried over between chunks */
	uint64_t lines;	     /* record lines kept */
	uint64_t keep;	     /* record lines the name says are whole */
	uint64_t dropped;    /* well-formed record lines after those */
	/* A line kept (header included), its '\n' included. Non-zero: stop. */
	int (*keep_line)(void *arg, const char *line, size_t len);
	void *arg;
	int rc; /* first non-zero keep_line() result */
};

/**
 * Feed decoded bytes; only complete lines count.
 * @return true while more lines are wanted (neither stopped nor failed)
 */
bool sink_lines_feed(struct sink_lines *lc, const char *p, size_t len);

/**
 * Parse a leftover's name: the part between its leading '.' and the last
 * suffix_len bytes is "<final>.<lines>" (a temporary of this version: the
 * record lines written before its last window end) or "<final>" (an older
 * version's, which had no count: *keep is UINT64_MAX).
 * @param stem, final  out: NAME_MAX + 1 bytes each
 * @return false when the name is too short, too long or the count overflows
 */
bool sink_leftover_name(const char *name, size_t suffix_len, char *stem, char *final,
			uint64_t *keep);

#endif /* DPF_SINK_RECOVER_H */
