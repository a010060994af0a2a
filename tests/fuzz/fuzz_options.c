/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the option table (app/config/options.c) through dpflow's own parser,
 * from the command line or from a configuration file.
 *
 * Input: a mode byte, then either NUL-separated arguments (even mode byte)
 * or the text of a configuration file given with --config (odd), read from a
 * memfd. Arguments that would make the parser open a file (--config and its
 * abbreviations) are skipped. After a successful parse every value is
 * inside its documented range; the options are always freed (leaks show).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "dpf_sink.h"
#include "fuzz_target.h"

#define MAX_ARGS 32
#define MAX_IN 16384

static void
check_parsed(const struct dpf_options *o)
{
	require(o->rxq >= 1 && o->rxq <= DPF_MAX_RX_CORES);
	require(o->window >= 1 && o->window <= 3600);
	require(o->clock <= DPF_CLOCK_WALL);
	require(o->compress <= DPF_COMPRESS_NONE);
	require(o->flows_per_core >= 1 && o->shards_per_core >= 2);
	require(o->hold_mb >= 1);
	require(o->log_format != NULL && o->output != NULL && o->account_id != NULL);
	require(dpf_fmt_meta_valid(o->account_id) && dpf_fmt_meta_valid(o->flow_log_id));
	require(strlen(o->output) < PATH_MAX && strchr(o->output, '\n') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[MAX_IN + 1];
	char *argv[MAX_ARGS + 2];
	struct dpf_config *cfg;
	char path[64];
	int argc = 0, fd = -1, rc;

	if (size < 1 || size > MAX_IN)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[argc++] = (char *)"dpflow";
	if (data[0] & 1) {
		fd = memfd_create("fuzz.conf", 0);
		if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		argv[argc++] = (char *)"--config";
		argv[argc++] = path;
	} else {
		char *p = buf;

		while (argc < MAX_ARGS && p < buf + (size - 1)) {
			/* No file is read from a fuzzed command line. */
			if (strncmp(p, "--con", 5) != 0)
				argv[argc++] = p;
			p += strlen(p) + 1;
		}
	}
	argv[argc] = NULL;
	rc = dpf_config_parse(argc, argv, &cfg);
	if (rc == 0)
		check_parsed(dpf_config_options(cfg));
	dpf_config_free(cfg);
	if (fd >= 0)
		close(fd);
	return 0;
}
