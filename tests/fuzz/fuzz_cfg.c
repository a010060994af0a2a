/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the configuration file reader (lib/cfg) and its value parser.
 * Checked: an error names the file and a line; entries are well formed (a
 * section, a key of [A-Za-z0-9._-] or none, a value without control
 * characters, line numbers in order). Each input is read twice: as a
 * --config file, and as a driver profile ('#' comments anywhere on a line),
 * where no value or section argument may hold a '#'.
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

static void
read_as(const uint8_t *data, size_t size, char inline_comment)
{
	const struct dpf_cfg_params params = {.name = "fuzz.conf",
					      .inline_comment = inline_comment};
	char err[512];
	struct dpf_cfg *c;
	unsigned int i, last = 0;

	memset(err, 0x55, sizeof(err));
	c = dpf_cfg_parse_with((const char *)data, size, &params, err, sizeof(err));
	if (c == NULL) {
		require(memchr(err, '\0', sizeof(err)) != NULL);
		require(strncmp(err, "fuzz.conf:", 10) == 0);
		return;
	}
	for (i = 0; i < dpf_cfg_count(c); i++) {
		const struct dpf_cfg_entry *e = dpf_cfg_get(c, i);
		uint64_t v;

		require(e != NULL && e->section != NULL && e->section[0] != '\0');
		require(e->section_arg != NULL);
		require(e->line >= last && e->line >= 1);
		last = e->line;
		check_text(e->section_arg, 0);
		require(inline_comment == '\0' || strchr(e->section_arg, inline_comment) == NULL);
		if (e->key == NULL) {
			require(e->value == NULL);
			continue;
		}
		require(e->key[0] != '\0' && e->value != NULL);
		require(strspn(e->key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-_.") == strlen(e->key));
		check_text(e->value, 1);
		require(inline_comment == '\0' || strchr(e->value, inline_comment) == NULL);
		(void)dpf_cfg_parse_u64(e->value, 0, UINT64_MAX, &v);
	}
	require(dpf_cfg_get(c, dpf_cfg_count(c)) == NULL);
	dpf_cfg_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_as(data, size, '\0');
	read_as(data, size, '#');
	return 0;
}
