/* SPDX-License-Identifier: BSD-3-Clause */
/* dpflow's log types and log stream (log.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "log.h"

/* INFO by default: every message dpflow has always printed still shows. */
RTE_LOG_REGISTER(dpf_logtype_main, dpflow.main, INFO);
RTE_LOG_REGISTER(dpf_logtype_config, dpflow.config, INFO);
RTE_LOG_REGISTER(dpf_logtype_dataplane, dpflow.dataplane, INFO);
RTE_LOG_REGISTER(dpf_logtype_pipeline, dpflow.pipeline, INFO);
RTE_LOG_REGISTER(dpf_logtype_output, dpflow.output, INFO);
RTE_LOG_REGISTER(dpf_logtype_ports, dpflow.ports, INFO);
RTE_LOG_REGISTER(dpf_logtype_control, dpflow.control, INFO);

void
dpf_log_init(void)
{
	rte_openlog_stream(stderr);
}

/* A line being assembled from a report's writes. */
struct log_cookie {
	int logtype;
	uint32_t level;
	char line[1024];
	size_t len;
};

static void
cookie_emit(struct log_cookie *c)
{
	if (c->len == 0)
		return;
	c->line[c->len] = '\0';
	rte_log(c->level, (uint32_t)c->logtype, "%s", c->line);
	c->len = 0;
}

static ssize_t
cookie_write(void *arg, const char *buf, size_t size)
{
	struct log_cookie *c = arg;
	size_t i;

	for (i = 0; i < size; i++) {
		c->line[c->len++] = buf[i];
		/* A line longer than the buffer is cut into several messages. */
		if (buf[i] == '\n' || c->len == sizeof(c->line) - 1)
			cookie_emit(c);
	}
	return (ssize_t)size;
}

static int
cookie_close(void *arg)
{
	struct log_cookie *c = arg;

	cookie_emit(c);
	free(c);
	return 0;
}

FILE *
dpf_log_stream(int logtype, uint32_t level)
{
	cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
	struct log_cookie *c = calloc(1, sizeof(*c));
	FILE *f;

	if (c == NULL)
		return NULL;
	c->logtype = logtype;
	c->level = level;
	f = fopencookie(c, "w", io);
	if (f == NULL) {
		free(c);
		return NULL;
	}
	/* Each line is handed on when it is complete. */
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}
