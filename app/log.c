/* SPDX-License-Identifier: BSD-3-Clause */
/* dpflow's log types and log stream (log.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "dpf_util.h"
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

/*
 * The terminal the prompt shares with the log. Process-wide, as rte_log's
 * stream is: one prompt at most, on the main thread. The lock is recursive:
 * a record the prompt's own thread logs while it handles a key must not
 * wait for itself.
 */
static struct {
	pthread_mutex_t lock;
	void (*redraw)(void *arg); /* NULL: no prompt attached */
	void *arg;
	bool paused;   /* a typed command is running */
	bool mid_line; /* the last write did not end a line */
	FILE *stream;  /* made at the first attach, kept: a logger may hold it */
} prompt = {.lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP};

static ssize_t
prompt_write(void *arg, const char *buf, size_t size)
{
	bool redraw;

	RTE_SET_USED(arg);
	pthread_mutex_lock(&prompt.lock);
	redraw = prompt.redraw != NULL && !prompt.paused;
	/* Erase the typed line (cursor to its start, clear to the end). */
	if (redraw && !prompt.mid_line)
		(void)dpf_write_all(STDERR_FILENO, "\r\033[K", 4, NULL);
	(void)dpf_write_all(STDERR_FILENO, buf, size, NULL);
	prompt.mid_line = size > 0 && buf[size - 1] != '\n';
	if (redraw && !prompt.mid_line)
		prompt.redraw(prompt.arg);
	pthread_mutex_unlock(&prompt.lock);
	return (ssize_t)size;
}

void
dpf_log_prompt_attach(void (*redraw)(void *arg), void *arg)
{
	cookie_io_functions_t io = {.write = prompt_write};

	if (prompt.stream == NULL) {
		prompt.stream = fopencookie(NULL, "w", io);
		if (prompt.stream == NULL)
			return; /* the log stays on stderr as it is */
	}
	pthread_mutex_lock(&prompt.lock);
	prompt.redraw = redraw;
	prompt.arg = arg;
	prompt.paused = false;
	pthread_mutex_unlock(&prompt.lock);
	rte_openlog_stream(prompt.stream);
}

void
dpf_log_prompt_detach(void)
{
	rte_openlog_stream(stderr);
	pthread_mutex_lock(&prompt.lock);
	prompt.redraw = NULL;
	prompt.arg = NULL;
	pthread_mutex_unlock(&prompt.lock);
}

void
dpf_log_prompt_lock(void)
{
	pthread_mutex_lock(&prompt.lock);
}

void
dpf_log_prompt_unlock(void)
{
	pthread_mutex_unlock(&prompt.lock);
}

void
dpf_log_prompt_pause(bool paused)
{
	pthread_mutex_lock(&prompt.lock);
	prompt.paused = paused;
	pthread_mutex_unlock(&prompt.lock);
}
