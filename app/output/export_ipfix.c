/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX exporter (--ipfix udp://HOST:PORT | tcp://HOST:PORT): the writer's
 * rows, encoded by lib/ipfix, sent to one collector. Runs in the writer
 * thread, never on an RX core; every socket call is bounded (send timeouts
 * on both transports, a TCP connect timeout), so a slow or absent collector
 * slows the writer by at most those timeouts and costs records, which are
 * counted.
 *
 * One exporter of the writer (output.h): every callback runs in the writer
 * thread but counters (any thread: relaxed loads).
 *
 * Templates go first on every TCP connection, and over UDP in the first
 * message and again every --ipfix-template-refresh seconds (RFC 7011 8.4);
 * with --ipfix-interface-names the interface-name options template and its
 * records follow them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_meter.h>

#include "dpf_ipfix.h"
#include "log.h"
#include "output.h"

#define TCP_CONNECT_TIMEOUT_MS 1000
#define TCP_SEND_TIMEOUT_MS 2000
/* A full UDP send buffer drains at the link's rate: wait that long, not more. */
#define UDP_SEND_TIMEOUT_MS 200
/*
 * UDP pacing: messages a window close may send at once before --ipfix-rate
 * applies. 32 messages of 1400 bytes take about 75 KB of a receive buffer
 * (kernel overhead included), a third of Linux's default 208 KB.
 */
#define UDP_PACE_BURST 32
#define RECONNECT_MIN_NS NS_PER_SEC
#define RECONNECT_MAX_NS (60 * NS_PER_SEC)

/*
 * The exporter's counters, X(field, name): the field and the line the summary,
 * the CLI and Prometheus show, so a counter cannot be kept and never shown.
 * records-dropped is also the exporter's lost.
 */
#define IPFIX_COUNTERS(X)                                                                          \
	X(messages_sent, "messages")                                                               \
	X(records_sent, "records")                                                                 \
	X(records_dropped, "records-dropped")                                                      \
	X(rows_not_flows, "rows-not-flows")                                                        \
	X(send_errors, "send-errors")                                                              \
	X(connects, "connects")                                                                    \
	X(templates_sent, "template-sends")                                                        \
	X(pace_waits, "pace-waits")

struct ipfix {
	bool tcp;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char dest[300];
	int fd;
	struct dpf_ipfix *enc;
	const struct dpf_fmt_ctx *ifaces; /* interface names */
	uint64_t refresh_ns;
	bool paced;	       /* UDP with --ipfix-rate > 0 */
	uint64_t pace_wait_ns; /* one token's time: how long to wait for the next */
	struct rte_meter_srtcm_profile pace_profile;
	struct rte_meter_srtcm pace_meter;
	bool iface_names;
	bool templates_due;
	uint64_t last_templates_ns;
	uint64_t reconnect_at_ns;
	uint64_t reconnect_delay_ns;
	uint32_t records_in_msg;
	uint64_t conn_gen;     /* successful connects so far */
	uint64_t msg_gen;      /* conn_gen when the open message began, 0: not connected */
	int last_errno;
	/* Counters: written by the writer thread, read with relaxed loads. */
	uint64_t rows;
	IPFIX_COUNTERS(DPF_COUNTER_FIELD)
};

static uint32_t
export_time(void)
{
	return (uint32_t)time(NULL);
}

/* "udp://HOST:PORT", "tcp://[V6]:PORT". 0, or -EINVAL with a message. */
static int
parse_dest(struct ipfix *ix, const char *spec)
{
	char host[256], port[16];
	const char *rest, *colon;
	struct addrinfo hints, *res = NULL;
	size_t hlen;
	int rc;

	if (strncmp(spec, "udp://", 6) == 0) {
		ix->tcp = false;
	} else if (strncmp(spec, "tcp://", 6) == 0) {
		ix->tcp = true;
	} else {
		goto bad;
	}
	rest = spec + 6;
	if (rest[0] == '[') {
		const char *end = strchr(rest, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - rest - 1);
		rest++;
		colon = end + 1;
	} else {
		colon = strrchr(rest, ':');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - rest);
	}
	if (hlen == 0 || hlen >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port))
		goto bad;
	memcpy(host, rest, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	if (strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = ix->tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		DPF_LOG(ERR, output, "--ipfix %s: %s\n", spec, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&ix->addr, res->ai_addr, res->ai_addrlen);
	ix->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(ix->dest, sizeof(ix->dest), "%s", spec);
	return 0;

bad:
	DPF_LOG(ERR, output, "--ipfix '%s': expected udp://HOST:PORT or tcp://HOST:PORT\n",
		spec);
	return -EINVAL;
}

static void
report_error(struct ipfix *ix, const char *what, int err)
{
	/* Once per kind of failure, not once per message. */
	if (err != ix->last_errno)
		DPF_LOG(WARNING, output, "ipfix %s %s: %s\n", what, ix->dest, strerror(err));
	ix->last_errno = err;
}

static void
close_fd(struct ipfix *ix)
{
	if (ix->fd >= 0)
		close(ix->fd);
	ix->fd = -1;
}

/* Bounded TCP connect: non-blocking connect, poll, then blocking with a send timeout. */
static int
tcp_connect(struct ipfix *ix, int fd)
{
	struct timeval tv = {TCP_SEND_TIMEOUT_MS / 1000, (TCP_SEND_TIMEOUT_MS % 1000) * 1000};
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	int flags = fcntl(fd, F_GETFL);
	int err = 0;
	socklen_t el = sizeof(err);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&ix->addr, ix->addr_len) != 0) {
		if (errno != EINPROGRESS)
			return -errno;
		if (poll(&pfd, 1, TCP_CONNECT_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			return -errno;
		if (err != 0)
			return -err;
	}
	if (fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -errno;
	return 0;
}

/* A socket to the collector, or -errno (TCP: not before the backoff expires). */
static int
ensure_socket(struct ipfix *ix)
{
	uint64_t now = dpf_mono_ns();
	int fd, rc;

	if (ix->fd >= 0)
		return 0;
	if (now < ix->reconnect_at_ns)
		return -EAGAIN;
	fd = socket(ix->addr.ss_family, (ix->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ix->tcp) {
		rc = tcp_connect(ix, fd);
	} else {
		struct timeval tv = {0, UDP_SEND_TIMEOUT_MS * 1000};

		/* Connected UDP: the kernel reports an unreachable port on later sends. */
		rc = connect(fd, (const struct sockaddr *)&ix->addr, ix->addr_len) == 0 ? 0 : -errno;
		if (rc == 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
			rc = -errno;
	}
	if (rc != 0) {
		close(fd);
		ix->reconnect_at_ns = now + ix->reconnect_delay_ns;
		ix->reconnect_delay_ns = RTE_MIN(ix->reconnect_delay_ns * 2, RECONNECT_MAX_NS);
		report_error(ix, "connect", -rc);
		return rc;
	}
	ix->fd = fd;
	ix->connects++;
	ix->conn_gen++;
	ix->reconnect_delay_ns = RECONNECT_MIN_NS;
	ix->templates_due = true;
	if (ix->last_errno != 0 && ix->tcp)
		DPF_LOG(NOTICE, output, "ipfix connected to %s\n", ix->dest);
	return 0;
}

/*
 * UDP pacing: a window's records would leave as one burst, more than a
 * collector's receive buffer holds. A token bucket (DPDK's meter, one token
 * a message, UDP_PACE_BURST deep) lets a short burst go at once, then one
 * message per token at --ipfix-rate. The writer thread waits here, never an
 * RX core.
 */
static void
pace(struct ipfix *ix)
{
	struct timespec ts = {(time_t)(ix->pace_wait_ns / NS_PER_SEC),
			      (long)(ix->pace_wait_ns % NS_PER_SEC)};

	if (!ix->paced)
		return;
	while (rte_meter_srtcm_color_blind_check(&ix->pace_meter, &ix->pace_profile,
						 rte_get_tsc_cycles(), 1) != RTE_COLOR_GREEN) {
		ix->pace_waits++;
		nanosleep(&ts, NULL);
	}
}

/* The bucket of --ipfix-rate (UDP only: TCP has its own flow control). 0, or -errno. */
static int
pace_init(struct ipfix *ix, uint64_t rate)
{
	struct rte_meter_srtcm_params mp = {.cir = rate, .cbs = UDP_PACE_BURST, .ebs = 0};
	int rc;

	if (ix->tcp || rate == 0)
		return 0;
	rc = rte_meter_srtcm_profile_config(&ix->pace_profile, &mp);
	if (rc == 0)
		rc = rte_meter_srtcm_config(&ix->pace_meter, &ix->pace_profile);
	if (rc != 0) {
		DPF_LOG(ERR, output, "--ipfix-rate %" PRIu64 ": %s\n", rate, strerror(-rc));
		return rc;
	}
	ix->paced = true;
	ix->pace_wait_ns = RTE_MAX(NS_PER_SEC / rate, (uint64_t)1000);
	return 0;
}

static int
send_all(struct ipfix *ix, const uint8_t *msg, size_t len)
{
	while (len > 0) {
		ssize_t n = send(ix->fd, msg, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		msg += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send the open message; its records count as dropped when it cannot go. */
static void
flush_message(struct ipfix *ix)
{
	const uint8_t *msg;
	uint32_t records = ix->records_in_msg;
	int len = dpf_ipfix_take(ix->enc, export_time(), &msg);
	int rc;

	ix->records_in_msg = 0;
	if (len <= 0)
		return;
	rc = ensure_socket(ix);
	/*
	 * A TCP message begun before this connection existed lacks its
	 * templates; the collector could not read it. The next one starts with
	 * them.
	 */
	if (rc == 0 && ix->tcp && ix->msg_gen != ix->conn_gen)
		rc = -ENOTCONN;
	if (rc == 0 && !ix->tcp)
		pace(ix);
	if (rc == 0)
		rc = send_all(ix, msg, (size_t)len);
	if (rc == 0) {
		ix->messages_sent++;
		ix->records_sent += records;
		if (ix->last_errno != 0 && !ix->tcp)
			DPF_LOG(NOTICE, output, "ipfix sending to %s again\n", ix->dest);
		ix->last_errno = 0;
		return;
	}
	ix->records_dropped += records;
	ix->send_errors++;
	if (rc == -ENOTCONN)
		return;
	if (rc != -EAGAIN)
		report_error(ix, "send to", -rc);
	if (ix->tcp) {
		/* The stream may hold half a message: start over on a new one. */
		close_fd(ix);
		if (ix->reconnect_at_ns < dpf_mono_ns())
			ix->reconnect_at_ns = dpf_mono_ns() + ix->reconnect_delay_ns;
	}
	ix->templates_due = true;
}

/* Templates and interface names at the head of an empty message, when due. */
static void
maybe_add_templates(struct ipfix *ix)
{
	uint64_t now = dpf_mono_ns();
	uint16_t i;

	if (dpf_ipfix_pending(ix->enc) != 0)
		return;
	ix->msg_gen = 0;
	if (ix->fd < 0 && ensure_socket(ix) != 0)
		return; /* the message will be dropped anyway; templates go with the next */
	ix->msg_gen = ix->conn_gen;
	if (!ix->templates_due && !(!ix->tcp && now - ix->last_templates_ns >= ix->refresh_ns))
		return;
	if (dpf_ipfix_add_templates(ix->enc) != 0)
		return;
	ix->templates_due = false;
	ix->last_templates_ns = now;
	ix->templates_sent++;
	if (!ix->iface_names || dpf_ipfix_add_iface_template(ix->enc) != 0)
		return;
	for (i = 0; i < ix->ifaces->n_ifaces; i++) {
		const char *name = ix->ifaces->ifaces[i].interface_id;

		if (dpf_ipfix_add_iface(ix->enc, i, name) == -ENOBUFS) {
			flush_message(ix);
			dpf_ipfix_add_iface(ix->enc, i, name);
		}
	}
}

static void
on_rows(void *ctx, const struct dpf_record *recs, uint32_t n)
{
	struct ipfix *ix = ctx;
	uint32_t i;

	ix->rows += n;
	for (i = 0; i < n; i++) {
		int rc;

		if (recs[i].log_status != DPF_LOG_OK) {
			ix->rows_not_flows++;
			continue;
		}
		maybe_add_templates(ix);
		rc = dpf_ipfix_add_record(ix->enc, &recs[i]);
		if (rc == -ENOBUFS) {
			flush_message(ix);
			maybe_add_templates(ix);
			rc = dpf_ipfix_add_record(ix->enc, &recs[i]);
		}
		if (rc == 0)
			ix->records_in_msg++;
		else
			ix->records_dropped++;
	}
}

static void
on_window_end(void *ctx, uint64_t window_end)
{
	/* The collector gets each window as soon as it is complete. */
	flush_message(ctx);
}

static int
on_stop(void *ctx)
{
	flush_message(ctx);
	close_fd(ctx);
	return 0;
}

static void
on_counters(void *ctx, struct dpf_export_counters *c)
{
	const struct ipfix *ix = ctx;

	c->rows = dpf_counter_read(&ix->rows);
	c->lost = dpf_counter_read(&ix->records_dropped);
#define IPFIX_COUNTER_SHOW(field, name) dpf_export_counter(c, name, dpf_counter_read(&ix->field));
	IPFIX_COUNTERS(IPFIX_COUNTER_SHOW)
#undef IPFIX_COUNTER_SHOW
}

static void
on_free(void *ctx)
{
	struct ipfix *ix = ctx;

	close_fd(ix);
	dpf_ipfix_free(ix->enc);
	free(ix);
}

/* One line of record callbacks, one of life callbacks (output.h's order). */
static const struct dpf_exporter_ops ipfix_ops = {
	.name = "ipfix",
	.rows = on_rows, .window_end = on_window_end,
	.stop = on_stop, .counters = on_counters, .free = on_free,
};

int
dpf_export_ipfix_add(struct dpf_writer *w, const struct dpf_options *o,
		     const struct dpf_fmt_ctx *fmt_ctx)
{
	struct dpf_pkt_decap_cfg decap;
	struct dpf_ipfix_params p;
	struct ipfix *ix;
	int rc;

	if (o->ipfix == NULL)
		return 0;
	ix = calloc(1, sizeof(*ix));
	if (ix == NULL)
		return -ENOMEM;
	ix->fd = -1;
	rc = parse_dest(ix, o->ipfix);
	if (rc != 0) {
		free(ix);
		return rc;
	}
	memset(&p, 0, sizeof(p));
	p.domain_id = (uint32_t)o->ipfix_domain_id;
	p.max_msg_len = (uint32_t)o->ipfix_message_size;
	/* Decapsulated records: their tunnel id and outer addresses (dpf_ipfix.h). */
	dpf_config_decap(o, &decap);
	p.tunnels = decap.types != 0;
	ix->enc = dpf_ipfix_create(&p);
	if (ix->enc == NULL && p.max_msg_len != 0 &&
	    p.max_msg_len < dpf_ipfix_min_msg_len(p.tunnels)) {
		DPF_LOG(ERR, output,
			"--ipfix-message-size %u: with --decap the templates need at least %u "
			"bytes\n",
			p.max_msg_len, dpf_ipfix_min_msg_len(p.tunnels));
		free(ix);
		return -EINVAL;
	}
	if (ix->enc == NULL) {
		DPF_LOG(ERR, output, "ipfix encoder: %s\n", strerror(rte_errno));
		free(ix);
		return -rte_errno;
	}
	ix->ifaces = fmt_ctx;
	ix->refresh_ns = o->ipfix_template_refresh * NS_PER_SEC;
	ix->iface_names = o->ipfix_interface_names != 0;
	rc = pace_init(ix, o->ipfix_rate);
	if (rc != 0) {
		dpf_ipfix_free(ix->enc);
		free(ix);
		return rc;
	}
	ix->reconnect_delay_ns = RECONNECT_MIN_NS;
	ix->templates_due = true;
	rc = dpf_writer_add(w, &ipfix_ops, ix);
	if (rc != 0) {
		DPF_LOG(ERR, output, "ipfix: %s\n", strerror(-rc));
		return rc;
	}
	/* A first connection now, so a wrong address shows at start; it is not
	 * fatal: the collector may come up later. */
	ensure_socket(ix);
	DPF_LOG(INFO, output, "ipfix export to %s (%s, domain %" PRIu64 ")\n", ix->dest,
		ix->tcp ? "tcp" : "udp", o->ipfix_domain_id);
	return 0;
}
