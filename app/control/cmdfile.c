/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --cmdline-file line reader. Reads byte by byte into a fixed buffer, so a
 * line is always one line: a long one is an error naming it, never split
 * into several commands (an earlier fgets() loop ran the tail of a long
 * comment as a command, under the wrong line number).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdfile.h"

int
dpf_cmdfile_read(FILE *f, const char *name, dpf_cmdfile_line_cb cb, void *arg, char *err,
		 size_t err_len)
{
	/* The longest line, a CR before its newline, and the NUL. */
	char line[DPF_CMDFILE_LINE_MAX + 2];
	unsigned int lineno = 0;
	size_t len = 0, total = 0;
	const char *s;
	int c, rc;

	for (;;) {
		c = getc(f);
		if (c == EOF && ferror(f)) {
			snprintf(err, err_len, "%s: read error: %s", name, strerror(errno));
			return -EIO;
		}
		if (c != EOF && ++total > DPF_CMDFILE_SIZE_MAX) {
			snprintf(err, err_len, "%s: larger than %u MiB", name,
				 DPF_CMDFILE_SIZE_MAX >> 20);
			return -E2BIG;
		}
		if (c != EOF && c != '\n') {
			if (c == '\0') {
				snprintf(err, err_len, "%s:%u: NUL byte at column %zu", name,
					 lineno + 1, len + 1);
				return -EINVAL;
			}
			if (len == DPF_CMDFILE_LINE_MAX + 1)
				goto too_long;
			line[len++] = (char)c;
			continue;
		}
		if (c == EOF && len == 0)
			return 0;
		lineno++;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > DPF_CMDFILE_LINE_MAX) {
			lineno--;
			goto too_long;
		}
		line[len] = '\0';
		s = line + strspn(line, " \t");
		if (*s != '\0' && *s != '#') {
			rc = cb(arg, lineno, s);
			if (rc != 0)
				return rc;
		}
		if (c == EOF)
			return 0;
		len = 0;
	}
too_long:
	snprintf(err, err_len, "%s:%u: line longer than %d bytes", name, lineno + 1,
		 DPF_CMDFILE_LINE_MAX);
	return -E2BIG;
}

char *
dpf_cmdfile_escape(const char *s, char *out, size_t out_len)
{
	size_t o = 0;

	if (out_len == 0)
		return out;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f || c == '\\') {
			if (out_len - o < 5)
				break;
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			if (out_len - o < 2)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}
