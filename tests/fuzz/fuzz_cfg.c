/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the configuration file reader (lib/cfg) and its value parser.
 * Checked: an error names the file and a line; entries are well formed (a
 * section, a key of [A-Za-z0-9._-] or none, a value without control
 * characters, line numbers in order).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpf_cfg.h"
#include "fuzz_target.h"

static void
check_text(const char *s, int allow_space)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		require(c >= 0x20 || (allow_space && c == '\t'));
		require(c != 0x7f);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct dpf_cfg *c;
	unsigned int i, last = 0;

	memset(err, 0x55, sizeof(err));
	c = dpf_cfg_parse((const char *)data, size, "fuzz.conf", err, sizeof(err));
	if (c == NULL) {
		require(memchr(err, '\0', sizeof(err)) != NULL);
		require(strncmp(err, "fuzz.conf:", 10) == 0);
		return 0;
	}
	for (i = 0; i < dpf_cfg_count(c); i++) {
		const struct dpf_cfg_entry *e = dpf_cfg_get(c, i);
		uint64_t v;

		require(e != NULL && e->section != NULL && e->section[0] != '\0');
		require(e->section_arg != NULL);
		require(e->line >= last && e->line >= 1);
		last = e->line;
		check_text(e->section_arg, 0);
		if (e->key == NULL) {
			require(e->value == NULL);
			continue;
		}
		require(e->key[0] != '\0' && e->value != NULL);
		require(strspn(e->key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-_.") == strlen(e->key));
		check_text(e->value, 1);
		(void)dpf_cfg_parse_u64(e->value, 0, UINT64_MAX, &v);
	}
	require(dpf_cfg_get(c, dpf_cfg_count(c)) == NULL);
	dpf_cfg_free(c);
	return 0;
}
