/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --metrics ADDR:PORT: GET /metrics answers with metrics.c's text. The
 * listening socket is ours (so that a bad address or a port in use is named
 * before the run starts); libmicrohttpd serves it from one DPDK control
 * thread ("dpf-metrics": on the CPUs no lcore uses, never an RX core), which
 * reads the counters with the same relaxed loads as the prompt and never
 * waits for the data path.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <rte_lcore.h>

#include "ctl_internal.h"
#include "dpf_util.h"
#include "log.h"

/* The serving thread wakes this often to see a stop (ms). */
#define METRICS_POLL_MS 100
#define METRICS_CONNECTIONS 16
#define METRICS_TIMEOUT_SEC 10

struct dpf_metrics {
	struct dpf_ctl *ctl; /* release-stored once by attach */
	struct MHD_Daemon *daemon;
	pthread_t tid;
	bool stop; /* relaxed: the thread ends at its next wake-up */
};

/* ADDR:PORT into host and port strings: "[v6]:p", "v4:p", "name:p". */
static int
split_spec(const char *spec, char *host, size_t host_len, char *port, size_t port_len, char *err,
	   size_t err_len)
{
	const char *colon = strrchr(spec, ':');
	const char *h = spec;
	size_t hl;
	char *end;
	long p;

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		snprintf(err, err_len, "expected ADDR:PORT (e.g. 127.0.0.1:9464, [::1]:9464)");
		return -EINVAL;
	}
	hl = (size_t)(colon - spec);
	if (spec[0] == '[') {
		if (colon[-1] != ']' || hl < 3) {
			snprintf(err, err_len, "an IPv6 address goes in brackets: [ADDR]:PORT");
			return -EINVAL;
		}
		h++;
		hl -= 2;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p < 1 || p > 65535) {
		snprintf(err, err_len, "port '%s': expected 1..65535", colon + 1);
		return -EINVAL;
	}
	if (spec[0] != '[' && memchr(spec, ':', hl) != NULL) {
		snprintf(err, err_len, "an IPv6 address goes in brackets: [ADDR]:PORT");
		return -EINVAL;
	}
	if (hl >= host_len) {
		snprintf(err, err_len, "address too long");
		return -EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, port_len, "%ld", p);
	return 0;
}

/* A listening TCP socket on spec's first address, or -errno with err written. */
static int
listen_on(const char *spec, char *err, size_t err_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	char host[256], port[8];
	struct addrinfo *ai;
	int fd, rc, one = 1;

	rc = split_spec(spec, host, sizeof(host), port, sizeof(port), err, err_len);
	if (rc < 0)
		return rc;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, err_len, "address '%s': %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, METRICS_CONNECTIONS) < 0) {
		rc = -errno;
		snprintf(err, err_len, "cannot listen: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = rc;
	}
	freeaddrinfo(ai);
	return fd;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int status, char *body, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	char *body = strdup(text);

	return body == NULL ? MHD_NO
			    : reply(conn, status, body, strlen(body), "text/plain; charset=utf-8");
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct dpf_metrics *m = cls;
	struct dpf_ctl *ctl = __atomic_load_n(&m->ctl, __ATOMIC_ACQUIRE);
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics only\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "dpflow: the metrics are at /metrics\n");
	if (ctl == NULL)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "dpflow is starting\n");
	f = open_memstream(&body, &len);
	if (f == NULL)
		return MHD_NO;
	rc = dpf_ctl_metrics(ctl, f);
	if (fclose(f) != 0 || rc < 0) {
		free(body);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return reply(conn, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

static void *
metrics_main(void *arg)
{
	struct dpf_metrics *m = arg;

	while (!__atomic_load_n(&m->stop, __ATOMIC_RELAXED))
		/* An error (out of file descriptors) is retried, not spun on. */
		if (MHD_run_wait(m->daemon, METRICS_POLL_MS) != MHD_YES)
			usleep(METRICS_POLL_MS * 1000);
	return NULL;
}

struct dpf_metrics *
dpf_metrics_start(const char *spec)
{
	struct dpf_metrics *m;
	char err[512];
	int fd;

	fd = listen_on(spec, err, sizeof(err));
	if (fd < 0) {
		DPF_LOG(ERR, control, "--metrics '%s': %s\n", spec, err);
		return dpf_null_errno(-fd);
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		close(fd);
		DPF_LOG(ERR, control, "--metrics: out of memory\n");
		return dpf_null_errno(ENOMEM);
	}
	/* No thread of its own: metrics_main runs it (MHD_run_wait). */
	m->daemon = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, answer, m, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_SEC, MHD_OPTION_END);
	if (m->daemon == NULL ||
	    rte_ctrl_thread_create(&m->tid, "dpf-metrics", NULL, metrics_main, m) != 0) {
		DPF_LOG(ERR, control, "--metrics '%s': cannot start the HTTP server\n", spec);
		/* A daemon that failed to start may have closed fd already: left to the exit. */
		if (m->daemon != NULL)
			MHD_stop_daemon(m->daemon);
		free(m);
		return dpf_null_errno(ENOMEM);
	}
	DPF_LOG(INFO, control, "metrics: http://%s/metrics\n", spec);
	return m;
}

void
dpf_metrics_attach(struct dpf_metrics *m, struct dpf_ctl *ctl)
{
	if (m != NULL)
		__atomic_store_n(&m->ctl, ctl, __ATOMIC_RELEASE);
}

void
dpf_metrics_stop(struct dpf_metrics *m)
{
	if (m == NULL)
		return;
	__atomic_store_n(&m->stop, true, __ATOMIC_RELAXED);
	pthread_join(m->tid, NULL);
	/* It closes the listening socket too. */
	MHD_stop_daemon(m->daemon);
	free(m);
}
