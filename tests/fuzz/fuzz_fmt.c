/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: format strings (lib/fmt parse) and line formatting with any
 * record contents and interface metadata. Input: the format string, a NUL,
 * then bytes for the record and, NUL-separated, metadata strings.
 *
 * Checked: an error message is one printable line; a header and every line
 * end in '\n', have exactly one space between fields and no empty field, no
 * control character and fit DPF_FMT_LINE_MAX; a buffer one byte short gives
 * -ENOSPC and an exact one succeeds. Whatever the record holds (packet bytes
 * included), it never changes the shape of a line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpf_flow.h"
#include "dpf_fmt.h"
#include "fuzz_target.h"

#define MAX_IN 8192

static void
check_line(const char *l, int n, unsigned int fields)
{
	unsigned int spaces = 0;
	int i;

	require(n > 0 && n < DPF_FMT_LINE_MAX && l[n - 1] == '\n');
	require(l[0] != ' ' && (n < 2 || l[n - 2] != ' '));
	for (i = 0; i < n - 1; i++) {
		unsigned char c = (unsigned char)l[i];

		require(c >= 0x20 && c < 0x7f);
		if (c == ' ') {
			require(l[i + 1] != ' ');
			spaces++;
		}
	}
	require(spaces + 1 == fields);
}

static void
check_message(const char *err)
{
	size_t i, n = strnlen(err, 512);

	require(n > 0 && n < 512);
	for (i = 0; i < n; i++)
		require((unsigned char)err[i] >= 0x20 && (unsigned char)err[i] != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char fmt_text[MAX_IN + 1];
	char strs[MAX_IN + 1];
	const char *meta[16] = {NULL};
	char err[512];
	char line[DPF_FMT_LINE_MAX];
	char small[DPF_FMT_LINE_MAX];
	struct dpf_iface_meta ifaces[2];
	struct dpf_fmt_ctx ctx;
	struct dpf_record rec;
	struct dpf_fmt *f;
	const uint8_t *nul;
	size_t flen, rest, k, m = 0;
	unsigned int fields;
	int n;

	if (size > MAX_IN)
		return 0;
	nul = memchr(data, '\0', size);
	flen = nul != NULL ? (size_t)(nul - data) : size;
	memcpy(fmt_text, data, flen);
	fmt_text[flen] = '\0';
	rest = nul != NULL ? size - flen - 1 : 0;

	memset(err, 0x55, sizeof(err));
	f = dpf_fmt_parse(fmt_text, err, sizeof(err));
	if (f == NULL) {
		check_message(err);
		return 0;
	}
	fields = dpf_fmt_field_count(f);
	require(fields >= 1);
	n = dpf_fmt_header(f, line, sizeof(line));
	check_line(line, n, fields);

	/* The record from the input; metadata strings after it. */
	memset(&rec, 0, sizeof(rec));
	k = rest < sizeof(rec) ? rest : sizeof(rec);
	if (k > 0)
		memcpy(&rec, nul + 1, k);
	if (rest > k) {
		char *p = strs;

		memcpy(strs, nul + 1 + k, rest - k);
		strs[rest - k] = '\0';
		while (m < 16 && p <= strs + (rest - k)) {
			meta[m++] = p;
			p += strlen(p) + 1;
		}
	}
	memset(ifaces, 0, sizeof(ifaces));
	ifaces[0].account_id = meta[0];
	ifaces[0].interface_id = meta[1];
	ifaces[0].vpc_id = meta[2];
	ifaces[0].subnet_id = meta[3];
	ifaces[0].instance_id = meta[4];
	ifaces[0].region = meta[5];
	ifaces[0].az_id = meta[6];
	ifaces[0].sublocation_type = meta[7];
	ifaces[0].sublocation_id = meta[8];
	ifaces[1].interface_id = "eni-1";
	memset(&ctx, 0, sizeof(ctx));
	ctx.ifaces = ifaces;
	ctx.n_ifaces = 2;
	ctx.service_names = &meta[9];
	ctx.n_services = (uint16_t)(m > 9 ? m - 9 : 0);

	n = dpf_fmt_record(f, &ctx, &rec, line, sizeof(line));
	check_line(line, n, fields);
	/* An exact buffer fits; one byte less does not, and nothing overflows. */
	require(dpf_fmt_record(f, &ctx, &rec, small, (size_t)n) == n);
	require(memcmp(small, line, (size_t)n) == 0);
	require(dpf_fmt_record(f, &ctx, &rec, small, (size_t)n - 1) == -ENOSPC);
	dpf_fmt_free(f);

	/* Addresses of any bytes, in any buffer size. */
	n = dpf_fmt_addr(small, 1 + (rest % 64), rec.key.family, rec.key.src_addr);
	require(n == -ENOSPC || n == -EAFNOSUPPORT || (n > 0 && (size_t)n < 1 + (rest % 64)));
	return 0;
}
