/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the --cmdline-file line reader (app/control/cmdfile.c) on any bytes.
 * Checks what the prompt relies on: each command handed over is exactly
 * its line of the input (found again here by counting newlines), at most
 * DPF_CMDFILE_LINE_MAX bytes, never a blank or comment line, never split;
 * line numbers increase; errors name the file and a line that exists; the
 * echo escape leaves no control byte and fits its documented size.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdfile.h"
#include "fuzz_target.h"

struct seen {
	const uint8_t *data;
	size_t size;
	unsigned int last_lineno;
	unsigned int n_lines; /* newlines in the input, plus one */
};

/* Start and length of line `lineno` (1-based) of the input, without "\n". */
static void
input_line(const struct seen *s, unsigned int lineno, size_t *start, size_t *len)
{
	size_t i = 0, b = 0;
	unsigned int l = 1;

	while (l < lineno && i < s->size) {
		if (s->data[i++] == '\n') {
			l++;
			b = i;
		}
	}
	require(l == lineno);
	for (i = b; i < s->size && s->data[i] != '\n'; i++)
		;
	*start = b;
	*len = i - b;
}

static int
check_line(void *arg, unsigned int lineno, const char *line)
{
	struct seen *s = arg;
	char esc[4 * DPF_CMDFILE_LINE_MAX + 1];
	size_t start, len, skip, n = strlen(line), i;

	require(lineno > s->last_lineno && lineno <= s->n_lines);
	s->last_lineno = lineno;
	require(n >= 1 && n <= DPF_CMDFILE_LINE_MAX);
	require(line[0] != ' ' && line[0] != '\t' && line[0] != '#');
	input_line(s, lineno, &start, &len);
	if (len > 0 && s->data[start + len - 1] == '\r')
		len--;
	for (skip = 0;
	     skip < len && (s->data[start + skip] == ' ' || s->data[start + skip] == '\t'); skip++)
		;
	require(n == len - skip && memcmp(line, s->data + start + skip, n) == 0);

	dpf_cmdfile_escape(line, esc, sizeof(esc));
	require(strlen(esc) <= 4 * n);
	for (i = 0; esc[i] != '\0'; i++) {
		unsigned char c = (unsigned char)esc[i];

		require((c >= 0x20 || c == '\t') && c != 0x7f);
	}
	/* Cut, never overrun, when the buffer is short. */
	dpf_cmdfile_escape(line, esc, 5);
	require(strlen(esc) <= 4);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {.data = data, .size = size, .n_lines = 1};
	char err[256] = "";
	unsigned int at;
	size_t i;
	FILE *f;
	int rc;

	for (i = 0; i < size; i++)
		s.n_lines += data[i] == '\n';
	/* fmemopen() refuses an empty buffer: an empty file is /dev/null. */
	f = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "r") : fopen("/dev/null", "r");
	if (f == NULL)
		return 0;
	rc = dpf_cmdfile_read(f, "fuzz", check_line, &s, err, sizeof(err));
	fclose(f);
	require(rc == 0 || rc == -E2BIG || rc == -EINVAL);
	if (rc == 0) {
		require(err[0] == '\0');
		return 0;
	}
	require(strncmp(err, "fuzz:", 5) == 0);
	/* "fuzz:LINE: ..." names a line of the input, after every line handed over. */
	if (sscanf(err, "fuzz:%u:", &at) == 1)
		require(at >= 1 && at <= s.n_lines && at > s.last_lineno);
	else
		require(rc == -E2BIG && strstr(err, "MiB") != NULL);
	return 0;
}
