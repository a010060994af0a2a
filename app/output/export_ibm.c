/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection records as IBM Cloud VPC flow log objects (--ibm-output DIR|-):
 * the writer's rows feed the connection table (lib/conn); at each window end
 * every interface gets one gzip JSON object (several past --ibm-max-flows,
 * an empty flow_logs array without traffic) under IBM's object key, written
 * to a hidden temporary name and renamed; with `-` each object is one JSON
 * line on stdout. doc/records.md, "Connection records", has the semantics.
 *
 * One exporter of the writer (output.h): every callback runs in the writer
 * thread but counters (any thread: relaxed loads). The connection pass runs
 * here, never on an RX core. Each window's flow logs also go to the
 * recent-connections store of show connections (lib/store, dpf_connstore.h);
 * with --connections yes and no --ibm-output that is all this exporter does.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "dpf_conn.h"
#include "dpf_connstore.h"
#include "dpf_fmt.h"
#include "dpf_util.h"
#include "dpf_window_plan.h"
#include "gzip.h"
#include "iface.h"
#include "log.h"
#include "output.h"
#include "tg_day.h"

#define IBM_VERSION "0.0.1"
/* First size of the object buffer. */
#define OUT_BUF_LEN (64 * 1024)
#define FIELD_MAX 256
#define KEY_MAX 2048
#define CRN_MAX 600
/* Longer than any flow log: its text (under 700 bytes), three times, four
 * addresses of 39 and 13 numbers of up to 20 characters. */
#define LOG_JSON_MAX 1280
#define TIME_CACHE 8
#define NO_HOUR UINT64_MAX
/* Retries of held objects: every RETRY_NS; at stop for STOP_RETRY_NS (as the AWS files). */
#define RETRY_NS (250 * 1000 * 1000ull)
#define STOP_RETRY_NS (5 * NS_PER_SEC)
/* Records handed to the connection table at once. */
#define ROWS_CHUNK 64

/* An object the disk refused, waiting for a retry. */
struct held_obj {
	struct held_obj *next;
	size_t len;
	uint32_t n_logs;
	char *path;	/* after the data */
	uint8_t data[]; /* the gzip stream */
};

struct time_text {
	uint64_t sec;
	char text[24];
};

/* Each interface's object names and where its folder's stream stands. */
struct ibm_iface {
	char prefix[KEY_MAX - 128]; /* ibm_vpc_flowlogs_v1/account=.../record-type=all */
	char instance_crn[CRN_MAX];
	char vpc_crn[CRN_MAX];
	char collector_crn[CRN_MAX];
	const char *vnic_id;
	uint64_t hour; /* the hour folder the stream belongs to, NO_HOUR before the first */
	char stream_id[20];
	uint32_t seq;
	bool skip;     /* records lost in the open window: state "skip data" */
	uint32_t logs; /* the open window's flow logs (one a connection) */
};

/*
 * The counters of the exit summary, in its order, each a uint64_t of struct
 * ibm: X(field, name, COUNT or LEVEL). A LEVEL is a level or a maximum, not
 * a count (Prometheus types it a gauge). One list makes the fields and the
 * summary's table, so a counter cannot be kept and never shown.
 */
#define IBM_COUNTERS(X)                                                                            \
	X(records, "records", COUNT)                                                               \
	X(flow_logs, "flow-logs", COUNT)                                                           \
	X(logged_packets, "logged-packets", COUNT)                                                 \
	X(objects, "objects", COUNT)                                                               \
	X(objects_failed, "objects-failed", COUNT)                                                 \
	X(flow_logs_lost, "flow-logs-lost", COUNT)                                                 \
	X(outages, "outages", COUNT)                                                               \
	X(held_now, "held-bytes", LEVEL)                                                           \
	X(other_proto_records, "other-proto-records", COUNT)                                       \
	X(other_proto_packets, "other-proto-packets", COUNT)                                       \
	X(skipped_records, "table-full-records", COUNT)                                            \
	X(skipped_packets, "table-full-packets", COUNT)                                            \
	/* The connection table's counters, published after each window end. */                    \
	X(conns_active, "connections", LEVEL)                                                      \
	X(conns_opened, "connections-opened", COUNT)                                               \
	X(conns_expired, "connections-expired", COUNT)                                             \
	/* Flows cut inside a window, kept apart (lib/conn); summed: more in a window than the     \
	 * pass holds. */                                                                          \
	X(conn_segments, "conn-segments", COUNT)                                                   \
	X(conn_segments_merged, "conn-segments-merged", COUNT)                                     \
	/* Temporary objects of a killed run, removed at start. */                                 \
	X(leftovers_removed, "leftovers-removed", COUNT)                                           \
	/* CPU time (us): records into the connection table, the longest connection pass of a      \
	 * window, formatting, compressing and writing the objects. */                             \
	X(rows_us_total, "rows-cpu-us", COUNT)                                                     \
	X(pass_us_max, "pass-cpu-us-max", LEVEL)                                                   \
	X(write_us_total, "write-cpu-us", COUNT)

struct ibm {
	struct dpf_writer *writer; /* told of every object published (S3 uploads them) */
	const struct dpf_options *opt;
	const struct dpf_ifmap *ifmap;
	const struct dpf_window_plan *plan;
	struct dpf_conn_table *conns;
	struct dpf_store *store; /* show connections' flow logs (shared with control) */
	bool store_only;	 /* --connections yes without --ibm-output: no objects */
	struct dpf_tg_day *day;	 /* the daily tg-flow-logs file; NULL: no directory */
	struct dpf_connstore_rec staged[ROWS_CHUNK];
	uint32_t n_staged;
	uint32_t keep_skip; /* the window's first logs the store would overwrite in it */
	bool stream;	    /* --ibm-output - */
	bool nat_view;
	uint32_t max_flows;
	uint16_t n_ifaces;
	struct ibm_iface *ifs;
	struct time_text times[TIME_CACHE];
	/* The object being written: its final path. */
	char path[KEY_MAX + PATH_MAX];
	int fd;
	const uint8_t *z; /* its gzip stream (gz's buffer) */
	size_t zlen;
	/* Objects the disk refused, oldest first (--hold-mb in all). */
	struct held_obj *held_head;
	struct held_obj *held_tail;
	uint64_t held_bytes;
	uint64_t hold_max;
	uint64_t held_since_ns;
	uint64_t next_retry_ns;
	bool hold_full_logged;
	bool failed;
	struct dpf_gzip gz;
	char *out; /* the object's JSON; grows to the largest object */
	size_t out_len;
	size_t out_cap;
	int last_errno; /* last error logged */
	/* Counters: written by the writer thread, read with relaxed loads. */
	uint64_t rows;
	IBM_COUNTERS(DPF_COUNTER_FIELD)
};

/* ------------------------------------------------------------ text helpers */

/* The writer thread's CPU time: what the pass costs, whatever else runs on
 * the machine (its wall time would count other threads' slices). */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* RFC 3339 UTC, whole seconds. */
static void
time_text(uint64_t sec, char *buf, size_t len)
{
	dpf_utc_text(buf, len, "%Y-%m-%dT%H:%M:%SZ", sec);
}

/* A key segment: everything but unreserved characters percent-encoded. */
static void
key_part(char *out, size_t len, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *v != '\0' && o + 4 < len; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static const char *
meta_or(const char *v, const char *dflt)
{
	return v != NULL && v[0] != '\0' ? v : dflt;
}

/* --------------------------------------------------------------- writing */

static void
obj_error(struct ibm *x, const char *what, int err)
{
	x->failed = true;
	if (err != x->last_errno)
		DPF_LOG(ERR, output, "ibm-output: %s: %s\n", what, strerror(err));
	x->last_errno = err;
}

static void
obj_emit(struct ibm *x, const void *buf, size_t len)
{
	if (x->failed || len == 0)
		return;
	if (dpf_write_all(x->fd, buf, len, NULL) < 0)
		obj_error(x, "write", errno);
}

/* Room for len more bytes of JSON (an allocation failure drops the object). */
static bool
obj_room(struct ibm *x, size_t len)
{
	size_t cap = x->out_cap;
	char *p;

	if (x->out_len + len <= x->out_cap)
		return true;
	while (cap < x->out_len + len)
		cap = cap == 0 ? OUT_BUF_LEN : cap * 2;
	p = realloc(x->out, cap);
	if (p == NULL) {
		obj_error(x, "object buffer", ENOMEM);
		x->out_len = 0;
		return false;
	}
	x->out = p;
	x->out_cap = cap;
	return true;
}

/*
 * The object as a whole: gzip in one call (gzip.h: igzip at level 1,
 * libdeflate above: both measured faster than zlib's stream at a smaller
 * size, doc/performance.md), or the JSON line written to stdout.
 */
static void
obj_finish(struct ibm *x)
{
	ssize_t n;

	if (x->failed)
		return;
	if (x->stream) {
		obj_emit(x, x->out, x->out_len);
		return;
	}
	n = dpf_gzip_member(&x->gz, x->out, x->out_len, &x->z);
	if (n < 0)
		obj_error(x, n == -ENOMEM ? "gzip buffer" : "gzip", (int)-n);
	else
		x->zlen = (size_t)n;
}

static void
obj_put(struct ibm *x, const char *s, size_t len)
{
	if (!obj_room(x, len))
		return;
	memcpy(x->out + x->out_len, s, len);
	x->out_len += len;
}

static void
obj_puts(struct ibm *x, const char *s)
{
	obj_put(x, s, strlen(s));
}

/*
 * A JSON string's content: '"' and '\\' escaped. Ids are printable without
 * spaces (dpf_fmt_meta_valid()) but may hold both, and the default CRNs are
 * built from them.
 */
static void
obj_put_json(struct ibm *x, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		if (*s != '"' && *s != '\\')
			continue;
		obj_put(x, run, (size_t)(s - run));
		obj_put(x, "\\", 1);
		run = s;
	}
	obj_put(x, run, (size_t)(s - run));
}

/* ------------------------------------------------------------- flow logs */

/* An RFC 3339 time: the last few seconds seen are kept (a window's flow logs
 * share few), the rest formatted. */
static char *
put_time(struct ibm *x, char *p, uint64_t sec)
{
	struct time_text *c = &x->times[sec % TIME_CACHE];

	if (c->sec != sec || c->text[0] == '\0') {
		time_text(sec, c->text, sizeof(c->text));
		c->sec = sec;
	}
	memcpy(p, c->text, 20);
	return p + 20;
}

#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* The eight counters, in IBM's order, by their place in the flow log. */
#define COUNTER_KEY(name)                                                                          \
	{                                                                                          \
		",\"" #name "\":", sizeof(",\"" #name "\":") - 1,                                  \
			offsetof(struct dpf_conn_log, name)                                        \
	}
static const struct {
	const char *key;
	size_t key_len;
	size_t off;
} counter_keys[] = {
	COUNTER_KEY(bytes_from_initiator),
	COUNTER_KEY(packets_from_initiator),
	COUNTER_KEY(bytes_from_target),
	COUNTER_KEY(packets_from_target),
	COUNTER_KEY(cumulative_bytes_from_initiator),
	COUNTER_KEY(cumulative_packets_from_initiator),
	COUNTER_KEY(cumulative_bytes_from_target),
	COUNTER_KEY(cumulative_packets_from_target),
};
#undef COUNTER_KEY

static char *
put_counters(char *p, const struct dpf_conn_log *l)
{
	size_t i;

	for (i = 0; i < RTE_DIM(counter_keys); i++) {
		uint64_t v;

		memcpy(p, counter_keys[i].key, counter_keys[i].key_len);
		p += counter_keys[i].key_len;
		memcpy(&v, (const char *)l + counter_keys[i].off, sizeof(v));
		p = dpf_fmt_put_u64(p, v);
	}
	return p;
}

static char *
put_nat_view(char *p, const struct dpf_conn_log *l)
{
	p = PUT_LIT(p, ",\"dpflow_nat_initiator_ip\":\"");
	p = dpf_fmt_put_addr(p, l->family, l->post.src_addr);
	p = PUT_LIT(p, "\",\"dpflow_nat_target_ip\":\"");
	p = dpf_fmt_put_addr(p, l->family, l->post.dst_addr);
	p = PUT_LIT(p, "\",\"dpflow_nat_initiator_port\":");
	p = dpf_fmt_put_u64(p, l->post.src_port);
	p = PUT_LIT(p, ",\"dpflow_nat_target_port\":");
	return dpf_fmt_put_u64(p, l->post.dst_port);
}

/* 'O' as flow-direction says egress: the initiator is the interface's. */
static bool
outbound(const struct ibm *x, const struct dpf_conn_log *l)
{
	struct dpf_flow_key k = {0};

	k.iface = l->iface;
	k.family = l->family;
	memcpy(k.src_addr, l->initiator_addr, 16);
	memcpy(k.dst_addr, l->target_addr, 16);
	return dpf_ifmap_direction(x->ifmap, &k) == DPF_DIR_EGRESS;
}

/* One flow log at p (at most LOG_JSON_MAX bytes). @return the end */
static char *
put_log(struct ibm *x, char *p, const struct dpf_conn_log *l)
{
	p = PUT_LIT(p, "{\"start_time\":\"");
	p = put_time(x, p, l->start_ns / NS_PER_SEC);
	p = PUT_LIT(p, "\",\"end_time\":\"");
	p = put_time(x, p, l->end_ns / NS_PER_SEC);
	p = PUT_LIT(p, "\",\"connection_start_time\":\"");
	p = put_time(x, p, l->connection_start_ns / NS_PER_SEC);
	if (outbound(x, l))
		p = PUT_LIT(p, "\",\"direction\":\"O\",\"action\":\"");
	else
		p = PUT_LIT(p, "\",\"direction\":\"I\",\"action\":\"");
	if (l->action == DPF_ACTION_ACCEPT)
		p = PUT_LIT(p, "accepted\",\"initiator_ip\":\"");
	else
		p = PUT_LIT(p, "rejected\",\"initiator_ip\":\"");
	p = dpf_fmt_put_addr(p, l->family, l->initiator_addr);
	p = PUT_LIT(p, "\",\"target_ip\":\"");
	p = dpf_fmt_put_addr(p, l->family, l->target_addr);
	p = PUT_LIT(p, "\",\"initiator_port\":");
	p = dpf_fmt_put_u64(p, l->initiator_port);
	p = PUT_LIT(p, ",\"target_port\":");
	p = dpf_fmt_put_u64(p, l->target_port);
	p = PUT_LIT(p, ",\"transport_protocol\":");
	p = dpf_fmt_put_u64(p, l->proto);
	if (l->family == 6)
		p = PUT_LIT(p, ",\"ether_type\":\"IPv6\",\"was_initiated\":");
	else
		p = PUT_LIT(p, ",\"ether_type\":\"IPv4\",\"was_initiated\":");
	p = l->was_initiated ? PUT_LIT(p, "true") : PUT_LIT(p, "false");
	p = PUT_LIT(p, ",\"was_terminated\":");
	p = l->was_terminated ? PUT_LIT(p, "true") : PUT_LIT(p, "false");
	p = put_counters(p, l);
	if (x->nat_view)
		p = put_nat_view(p, l);
	*p++ = '}';
	return p;
}

/* ---------------------------------------------------------------- objects */

/* The object's key below DIR, and its folder's stream (a new hour: a new stream). */
static void
object_key(struct ibm_iface *f, uint64_t start_sec, char *key, size_t len)
{
	time_t t = (time_t)start_sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	if (f->hour != start_sec / 3600) {
		f->hour = start_sec / 3600;
		strftime(f->stream_id, sizeof(f->stream_id), "%Y%m%dT%H%M%SZ", &tm);
		f->seq = 0;
	}
	/* The prefix is shorter than KEY_MAX - 128: nothing is cut (the return is
	 * checked to tell the compiler so). */
	if (snprintf(key, len,
		     "%s/year=%04d/month=%02d/day=%02d/hour=%02d/stream-id=%s/%08" PRIu32 ".gz",
		     f->prefix, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     f->stream_id, f->seq++) >= (int)len)
		key[0] = '\0';
}

/* Name the object and write its header. */
static void
object_begin(struct ibm *x, struct ibm_iface *f, uint64_t start_sec, uint64_t end_sec,
	     uint32_t n_logs)
{
	char key[KEY_MAX], tail[256], cst[24], cet[24];

	x->failed = false;
	x->out_len = 0;
	x->zlen = 0;
	object_key(f, start_sec, key, sizeof(key));
	x->fd = x->stream ? STDOUT_FILENO : -1;
	if (!x->stream && snprintf(x->path, sizeof(x->path), "%s/%s", x->opt->ibm_output, key) >=
				  (int)sizeof(x->path))
		obj_error(x, "object path", ENAMETOOLONG);
	time_text(start_sec, cst, sizeof(cst));
	time_text(end_sec, cet, sizeof(cet));
	obj_puts(x, "{\"version\":\"" IBM_VERSION "\",\"collector_crn\":\"");
	obj_put_json(x, f->collector_crn);
	obj_puts(x, "\",\"attached_endpoint_type\":\"vnic\",\"network_interface_id\":\"");
	obj_put_json(x, f->vnic_id);
	obj_puts(x, "\",\"instance_crn\":\"");
	obj_put_json(x, f->instance_crn);
	obj_puts(x, "\",\"vpc_crn\":\"");
	obj_put_json(x, f->vpc_crn);
	snprintf(tail, sizeof(tail),
		 "\",\"capture_start_time\":\"%s\",\"capture_end_time\":\"%s\",\"state\":\"%s\","
		 "\"number_of_flow_logs\":%" PRIu32 ",\"flow_logs\":[",
		 cst, cet, f->skip ? "skip data" : "ok", n_logs);
	obj_puts(x, tail);
}

static void
count_published(struct ibm *x, const char *path, uint32_t n_logs)
{
	if (path != NULL)
		dpf_writer_published(x->writer, path);
	__atomic_fetch_add(&x->objects, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&x->flow_logs, n_logs, __ATOMIC_RELAXED);
}

static void
count_lost(struct ibm *x, uint32_t n_logs)
{
	__atomic_fetch_add(&x->objects_failed, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&x->flow_logs_lost, n_logs, __ATOMIC_RELAXED);
}

/*
 * Write an object under a hidden temporary name in its folder, then rename
 * it: nothing half-written is ever published. @return 0 or an errno
 */
static int
publish(const char *path, const void *data, size_t len)
{
	char dir[KEY_MAX + PATH_MAX], tmp[KEY_MAX + PATH_MAX + 8];
	const char *slash = strrchr(path, '/');
	int fd, err = 0;

	if (slash == NULL ||
	    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return ENAMETOOLONG;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, slash + 1) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	if (dpf_mkdir_p(dir, 0755) < 0)
		return errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (dpf_write_all(fd, data, len, NULL) < 0)
		err = errno;
	if (close(fd) < 0 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) < 0)
		err = errno;
	if (err != 0)
		unlink(tmp);
	return err;
}

/* Keep an object the disk refused, up to --hold-mb; beyond it, lost. */
static void
hold(struct ibm *x, const void *data, size_t len, uint32_t n_logs, int err)
{
	size_t plen = strlen(x->path) + 1;
	struct held_obj *h;

	if (x->held_bytes + len > x->hold_max || (h = malloc(sizeof(*h) + plen + len)) == NULL) {
		if (!x->hold_full_logged)
			DPF_LOG(ERR, output,
				"ibm-output: %" PRIu64 " MB held, the --hold-mb limit: objects are "
				"now counted as lost\n",
				x->opt->hold_mb);
		x->hold_full_logged = true;
		count_lost(x, n_logs);
		return;
	}
	h->next = NULL;
	h->len = len;
	h->n_logs = n_logs;
	memcpy(h->data, data, len);
	h->path = (char *)h->data + len;
	memcpy(h->path, x->path, plen);
	if (x->held_head == NULL) {
		DPF_LOG(ERR, output,
			"ibm-output: %s: %s; holding objects in memory (up to %" PRIu64
			" MB, --hold-mb) and retrying\n",
			x->path, strerror(err), x->opt->hold_mb);
		x->held_head = h;
		x->held_since_ns = dpf_mono_ns();
		__atomic_fetch_add(&x->outages, 1, __ATOMIC_RELAXED);
	} else {
		x->held_tail->next = h;
	}
	x->held_tail = h;
	x->held_bytes += len;
	__atomic_store_n(&x->held_now, x->held_bytes, __ATOMIC_RELAXED);
}

/* Write what is held, oldest first, until the disk refuses again. */
static void
retry_held(struct ibm *x, bool now)
{
	uint64_t t = dpf_mono_ns();
	struct held_obj *h;

	if (x->held_head == NULL || (!now && t < x->next_retry_ns))
		return;
	x->next_retry_ns = t + RETRY_NS;
	while ((h = x->held_head) != NULL && publish(h->path, h->data, h->len) == 0) {
		count_published(x, h->path, h->n_logs);
		x->held_head = h->next;
		x->held_bytes -= h->len;
		free(h);
	}
	__atomic_store_n(&x->held_now, x->held_bytes, __ATOMIC_RELAXED);
	if (x->held_head == NULL) {
		DPF_LOG(NOTICE, output,
			"ibm-output: writable again after %.1f s; held objects written\n",
			(double)(t - x->held_since_ns) / 1e9);
		x->hold_full_logged = false;
	}
}

/* Close the array and publish: stdout, or the file (held when refused). */
static void
object_end(struct ibm *x, uint32_t n_logs)
{
	int err;

	obj_puts(x, x->stream ? "]}\n" : "]}");
	obj_finish(x);
	if (x->failed) {
		count_lost(x, n_logs);
		return;
	}
	if (x->stream) {
		x->last_errno = 0;
		count_published(x, NULL, n_logs);
		return;
	}
	/* Behind held objects the disk is known to refuse: queue, keep the order. */
	err = x->held_head != NULL ? EAGAIN : publish(x->path, x->z, x->zlen);
	if (err == 0)
		count_published(x, x->path, n_logs);
	else
		hold(x, x->z, x->zlen, n_logs, err);
}

static void
on_idle(void *ctx)
{
	retry_held(ctx, false);
}

/*
 * Let go of every held object, each counted lost (a free without a stop
 * counts into a handle nobody reads again). @return the objects dropped;
 * *n_logs: their flow logs
 */
static uint64_t
drop_held(struct ibm *x, uint64_t *n_logs)
{
	struct held_obj *h;
	uint64_t n = 0;

	*n_logs = 0;
	while ((h = x->held_head) != NULL) {
		x->held_head = h->next;
		count_lost(x, h->n_logs);
		*n_logs += h->n_logs;
		n++;
		free(h);
	}
	x->held_bytes = 0;
	__atomic_store_n(&x->held_now, 0, __ATOMIC_RELAXED);
	return n;
}

/* A stop keeps retrying for STOP_RETRY_NS, then counts what is held as lost. */
static int
on_stop(void *ctx)
{
	struct ibm *x = ctx;
	uint64_t end = dpf_mono_ns() + STOP_RETRY_NS, lost, n;

	while (x->held_head != NULL && dpf_mono_ns() < end) {
		retry_held(x, true);
		if (x->held_head != NULL)
			usleep(50 * 1000);
	}
	n = drop_held(x, &lost);
	if (n > 0)
		DPF_LOG(ERR, output,
			"ibm-output: still blocked after %u s at stop: %" PRIu64
			" objects (%" PRIu64 " flow logs) lost\n",
			(unsigned int)(STOP_RETRY_NS / NS_PER_SEC), n, lost);
	return dpf_counter_read(&x->flow_logs_lost) > 0 ? -EIO : 0;
}

/*
 * Write the objects of one interface: its logs come next from the
 * connection table (grouped by interface); an interface without any gets one
 * object with an empty array.
 */
static void
write_iface(struct ibm *x, uint16_t i, uint64_t start_sec, uint64_t end_sec)
{
	struct ibm_iface *f = &x->ifs[i];
	uint32_t left = f->logs, in_obj;
	struct dpf_conn_log l;

	do {
		in_obj = RTE_MIN(left, x->max_flows);
		object_begin(x, f, start_sec, end_sec, in_obj);
		for (uint32_t k = 0; k < in_obj && dpf_conn_log_next(x->conns, &l); k++) {
			if (!obj_room(x, LOG_JSON_MAX + 1))
				continue;
			if (k > 0)
				x->out[x->out_len++] = ',';
			x->out_len = (size_t)(put_log(x, x->out + x->out_len, &l) - x->out);
			__atomic_fetch_add(&x->logged_packets,
					   l.packets_from_initiator + l.packets_from_target,
					   __ATOMIC_RELAXED);
		}
		object_end(x, in_obj);
		left -= in_obj;
	} while (left > 0);
}

/* The staged flow logs into show connections' store, under its lock once. */
static void
keep_flush(struct ibm *x)
{
	if (x->n_staged > 0)
		dpf_store_add(x->store, x->staged, x->n_staged);
	x->n_staged = 0;
}

/*
 * A flow log of the window just closed, for show connections. Without
 * objects (store_only) it is counted here as logged, so that conservation
 * (logged + other protocols + table full = record packets) holds the same.
 */
static void
keep_log(struct ibm *x, const struct dpf_conn_log *l)
{
	if (x->store_only) {
		__atomic_fetch_add(&x->flow_logs, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&x->logged_packets,
				   l->packets_from_initiator + l->packets_from_target,
				   __ATOMIC_RELAXED);
	}
	if (x->store == NULL)
		return;
	if (x->keep_skip > 0) {
		x->keep_skip--;
		return;
	}
	x->staged[x->n_staged].log = *l;
	x->staged[x->n_staged].outbound = outbound(x, l);
	if (++x->n_staged == RTE_DIM(x->staged))
		keep_flush(x);
}

static void
on_window_end(void *ctx, uint64_t window_end)
{
	struct ibm *x = ctx;
	uint64_t start_ns, end_ns;
	struct dpf_conn_stats st;
	struct dpf_conn_log l;
	uint32_t n_conns;
	uint16_t i;

	uint64_t t0 = thread_cpu_ns(), t1;

	retry_held(x, false);
	dpf_window_plan_bounds(x->plan, window_end * NS_PER_SEC - 1, &start_ns, &end_ns);
	n_conns = dpf_conn_window_close(x->conns, window_end * NS_PER_SEC);
	if (x->day != NULL)
		dpf_tg_day_window(x->day, start_ns / NS_PER_SEC);
	/* A window of more connections than the store holds: its first logs
	 * (at least one a connection) would be overwritten by its own later
	 * ones, so they are not copied in at all. */
	x->keep_skip = 0;
	if (x->store != NULL && n_conns > dpf_store_capacity(x->store))
		x->keep_skip = n_conns - dpf_store_capacity(x->store);
	for (i = 0; i < x->n_ifaces; i++)
		x->ifs[i].logs = 0;
	while (dpf_conn_log_next(x->conns, &l)) {
		if (l.iface < x->n_ifaces)
			x->ifs[l.iface].logs++;
		keep_log(x, &l);
		if (x->day != NULL) {
			struct dpf_connstore_rec r = {.log = l, .outbound = outbound(x, &l)};

			dpf_tg_day_add(x->day, &r);
		}
	}
	keep_flush(x);
	if (x->day != NULL)
		dpf_tg_day_window_end(x->day);
	dpf_conn_log_rewind(x->conns);
	t1 = thread_cpu_ns();
	for (i = 0; i < x->n_ifaces; i++) {
		if (!x->store_only)
			write_iface(x, i, start_ns / NS_PER_SEC, window_end);
		x->ifs[i].skip = false;
	}
	if ((t1 - t0) / 1000 > x->pass_us_max)
		__atomic_store_n(&x->pass_us_max, (t1 - t0) / 1000, __ATOMIC_RELAXED);
	__atomic_fetch_add(&x->write_us_total, (thread_cpu_ns() - t1) / 1000, __ATOMIC_RELAXED);
	/* The table is the writer thread's: other threads read these copies. */
	dpf_conn_stats_get(x->conns, &st);
	__atomic_store_n(&x->conns_active, st.active, __ATOMIC_RELAXED);
	__atomic_store_n(&x->conns_opened, st.opened, __ATOMIC_RELAXED);
	__atomic_store_n(&x->conns_expired, st.expired, __ATOMIC_RELAXED);
	__atomic_store_n(&x->conn_segments, st.segments, __ATOMIC_RELAXED);
	__atomic_store_n(&x->conn_segments_merged, st.segments_merged, __ATOMIC_RELAXED);
}

/* The records the connection table did not take: other protocols, or a full table. */
static void
count_refused(struct ibm *x, const struct dpf_record *r, int rc)
{
	if (rc == -EINVAL && r->log_status == DPF_LOG_OK) {
		__atomic_fetch_add(&x->other_proto_records, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&x->other_proto_packets, r->packets, __ATOMIC_RELAXED);
	} else if (rc == -ENOSPC) {
		x->ifs[r->key.iface].skip = true;
		__atomic_fetch_add(&x->skipped_records, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&x->skipped_packets, r->packets, __ATOMIC_RELAXED);
	}
}

static void
on_rows(void *ctx, const struct dpf_record *recs, uint32_t n)
{
	struct ibm *x = ctx;
	uint64_t t0 = thread_cpu_ns();
	int rc[ROWS_CHUNK];
	uint32_t i, done;

	__atomic_fetch_add(&x->rows, n, __ATOMIC_RELAXED);
	for (done = 0; done < n; done += ROWS_CHUNK) {
		const struct dpf_record *r = recs + done;
		uint32_t c = RTE_MIN(n - done, (uint32_t)ROWS_CHUNK);

		dpf_conn_add_burst(x->conns, r, c, rc);
		for (i = 0; i < c; i++) {
			if (r[i].key.iface >= x->n_ifaces)
				continue;
			if (r[i].log_status == DPF_LOG_SKIPDATA)
				x->ifs[r[i].key.iface].skip = true;
			if (r[i].log_status == DPF_LOG_OK)
				__atomic_fetch_add(&x->records, 1, __ATOMIC_RELAXED);
			if (rc[i] != 0)
				count_refused(x, &r[i], rc[i]);
		}
	}
	__atomic_fetch_add(&x->rows_us_total, (thread_cpu_ns() - t0) / 1000, __ATOMIC_RELAXED);
}

#define IBM_GAUGE_COUNT false
#define IBM_GAUGE_LEVEL true
#define IBM_COUNTER_ROW(field, name, kind) {name, offsetof(struct ibm, field), IBM_GAUGE_##kind},

static const struct {
	const char *name;
	size_t field;
	bool gauge;
} ibm_counters[] = {IBM_COUNTERS(IBM_COUNTER_ROW)};

#undef IBM_COUNTER_ROW

static void
on_counters(void *ctx, struct dpf_export_counters *c)
{
	const struct ibm *x = ctx;
	size_t i;

	c->rows = dpf_counter_read(&x->rows);
	for (i = 0; i < sizeof(ibm_counters) / sizeof(ibm_counters[0]); i++) {
		uint64_t v = dpf_counter_read(
			(const uint64_t *)((const char *)x + ibm_counters[i].field));

		/* One read: the lost count and its line agree. */
		if (ibm_counters[i].field == offsetof(struct ibm, flow_logs_lost))
			c->lost = v;
		if (ibm_counters[i].gauge)
			dpf_export_gauge(c, ibm_counters[i].name, v);
		else
			dpf_export_counter(c, ibm_counters[i].name, v);
	}
	if (x->day != NULL) {
		struct dpf_tg_day_counters d;

		dpf_tg_day_counters_get(x->day, &d);
#define SHOW(field, name, what) dpf_export_counter(c, "tg-day-" name, d.field);
		DPF_TG_DAY_COUNTERS(SHOW)
#undef SHOW
	}
}

static void
on_finish(void *ctx)
{
	struct ibm *x = ctx;

	if (x->day != NULL)
		dpf_tg_day_finish(x->day);
}

static void
on_free(void *ctx)
{
	struct ibm *x = ctx;
	uint64_t n_logs;

	drop_held(x, &n_logs);
	dpf_tg_day_free(x->day);
	dpf_conn_free(x->conns);
	dpf_gzip_release(&x->gz);
	free(x->out);
	free(x->ifs);
	free(x);
}

/* One line of record callbacks, one of life callbacks (output.h's order). */
static const struct dpf_exporter_ops ibm_ops = {
	.name = "ibm",
	.segments = true,
	.rows = on_rows, .window_end = on_window_end, .idle = on_idle, .finish = on_finish,
	.stop = on_stop, .counters = on_counters, .free = on_free,
};

/*
 * A CRN as IBM writes them (crn:v1:...: ten ':'-separated segments), in
 * characters that need no escaping in JSON or in a CSV field.
 */
static bool
crn_valid(const char *s)
{
	unsigned int colons = 0;
	const char *p;

	if (strncmp(s, "crn:", 4) != 0 || strlen(s) >= CRN_MAX)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\\' || *p == ',')
			return false;
		colons += *p == ':';
	}
	return colons == 9;
}

/* A CRN the configuration gave (key, e.g. "instance-crn"), else the default
 * of that resource type (e.g. "instance") and id. */
static int
iface_crn(char *out, const char *given, const char *key, const char *iface, const char *type,
	  const char *region, const char *account, const char *id)
{
	if (given == NULL) {
		snprintf(out, CRN_MAX, "crn:v1:bluemix:public:is:%s:a/%s::%s:%s", region, account,
			 type, id);
		return 0;
	}
	if (!crn_valid(given)) {
		DPF_LOG(ERR, output,
			"[interface %s] %s '%s': not a CRN (crn:v1:...: ten ':'-separated "
			"segments, printable, no '\"', '\\' or ',', under %d characters)\n",
			iface, key, given, CRN_MAX);
		return -EINVAL;
	}
	snprintf(out, CRN_MAX, "%s", given);
	return 0;
}

/* Names and CRNs of one interface, from its metadata. @return 0 or -EINVAL (logged) */
static int
iface_names(struct ibm_iface *f, const struct dpf_iface_meta *m, const struct dpf_options *o)
{
	char acc[FIELD_MAX], reg[FIELD_MAX], vpc[FIELD_MAX], sub[FIELD_MAX], ins[FIELD_MAX],
		vnic[FIELD_MAX];
	const char *region = meta_or(m->region, "unknown");

	key_part(acc, sizeof(acc), m->account_id);
	key_part(reg, sizeof(reg), region);
	key_part(vpc, sizeof(vpc), meta_or(m->vpc_id, "unknown"));
	key_part(sub, sizeof(sub), meta_or(m->subnet_id, "unknown"));
	key_part(ins, sizeof(ins), meta_or(m->instance_id, "unknown"));
	key_part(vnic, sizeof(vnic), m->interface_id);
	snprintf(f->prefix, sizeof(f->prefix),
		 "ibm_vpc_flowlogs_v1/account=%s/region=%s/vpc-id=%s/subnet-id=%s/"
		 "endpoint-type=vnics/instance-id=%s/vnic-id=%s/record-type=all",
		 acc, reg, vpc, sub, ins, vnic);
	f->vnic_id = m->interface_id;
	f->hour = NO_HOUR;
	if (iface_crn(f->instance_crn, m->instance_crn, "instance-crn", m->interface_id, "instance",
		      region, m->account_id, meta_or(m->instance_id, "unknown")) < 0 ||
	    iface_crn(f->vpc_crn, m->vpc_crn, "vpc-crn", m->interface_id, "vpc", region,
		      m->account_id, meta_or(m->vpc_id, "unknown")) < 0)
		return -EINVAL;
	/* --ibm-collector-crn is inherited: an interface section overrides it. */
	return iface_crn(f->collector_crn, m->collector_crn,
			 m->collector_crn == o->ibm_collector_crn ? "--ibm-collector-crn"
								  : "collector-crn",
			 m->interface_id, "flow-log-collector", meta_or(o->region, "unknown"),
			 o->account_id, o->flow_log_id);
}

static int
ibm_setup(struct ibm *x, const struct dpf_options *o, const struct dpf_ifmap *ifmap)
{
	const struct dpf_fmt_ctx *fc = dpf_ifmap_fmt_ctx(ifmap);
	struct dpf_conn_params cp = {
		.name = "ibm",
		.capacity = (uint32_t)o->conn_max,
		.timeout_ns = o->conn_timeout * NS_PER_SEC,
		.socket_id = SOCKET_ID_ANY,
	};
	uint16_t i;

	x->n_ifaces = dpf_ifmap_count(ifmap);
	x->ifs = calloc(RTE_MAX(x->n_ifaces, 1), sizeof(x->ifs[0]));
	if (x->ifs == NULL)
		return -ENOMEM;
	for (i = 0; i < x->n_ifaces; i++)
		if (iface_names(&x->ifs[i], &fc->ifaces[i], o) < 0)
			return -EINVAL;
	/* No time in the gzip header: objects are byte-identical from run to run. */
	if (dpf_gzip_init(&x->gz, (int)o->ibm_compress_level, true) < 0)
		return -ENOMEM;
	x->conns = dpf_conn_create(&cp);
	if (x->conns == NULL) {
		DPF_LOG(ERR, output, "ibm-output: connection table of %" PRIu64 " entries: %s\n",
			o->conn_max, rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/*
 * A run killed while writing leaves a hidden temporary object: never
 * published, never complete (its window's flow logs are lost; the AWS files
 * say which). Remove them at start so that nothing half-written stays. The
 * key layout is 14 folders deep; depth bounds the walk.
 */
static uint64_t
remove_leftovers_in(const char *dir, unsigned int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	if (depth > 16 || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (de->d_type == DT_DIR)
			n += remove_leftovers_in(path, depth + 1);
		else if (de->d_type == DT_REG && de->d_name[0] == '.' &&
			 dpf_has_suffix(de->d_name, ".gz.tmp") && unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
remove_leftovers(struct ibm *x)
{
	char root[PATH_MAX];

	if (snprintf(root, sizeof(root), "%s/ibm_vpc_flowlogs_v1", x->opt->ibm_output) >=
	    (int)sizeof(root))
		return;
	x->leftovers_removed = remove_leftovers_in(root, 0);
	if (x->leftovers_removed > 0)
		DPF_LOG(WARNING, output,
			"ibm-output: removed %" PRIu64
			" unfinished objects of an earlier run (their windows are lost)\n",
			x->leftovers_removed);
}

/*
 * The daily tg-flow-logs file goes to the output directory (--output; S3
 * uploads what is published there under --s3-prefix), else to the
 * --ibm-output directory; with both on stdout there is none.
 */
static int
day_setup(struct ibm *x, struct dpf_writer *w)
{
	const struct dpf_fmt_ctx *fc = dpf_ifmap_fmt_ctx(x->ifmap);
	const char *dir = x->opt->output;

	if (strcmp(dir, "-") == 0)
		dir = x->store_only || x->stream ? NULL : x->opt->ibm_output;
	if (dir == NULL) {
		DPF_LOG(NOTICE, output,
			"tg-flow-logs: no output directory (--output - and no --ibm-output DIR): "
			"no daily file\n");
		return 0;
	}
	if (dpf_mkdir_p(dir, 0755) < 0) {
		DPF_LOG(ERR, output, "tg-flow-logs: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	x->day =
		dpf_tg_day_create(dir, w, fc->ifaces, x->n_ifaces, (int)x->opt->ibm_compress_level);
	if (x->day == NULL) {
		DPF_LOG(ERR, output, "tg-flow-logs: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int
dpf_export_ibm_add(struct dpf_writer *w, const struct dpf_export_ibm_params *p)
{
	const struct dpf_options *o = p->opt;
	struct ibm *x;
	int rc;

	if (o->ibm_output == NULL && o->connections == 0)
		return 0;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->writer = w;
	x->store = p->store;
	x->store_only = o->ibm_output == NULL;
	x->opt = o;
	x->ifmap = p->ifmap;
	x->plan = p->plan;
	x->fd = -1;
	x->stream = !x->store_only && strcmp(o->ibm_output, "-") == 0;
	x->nat_view = o->ibm_nat_view != 0;
	x->max_flows = (uint32_t)o->ibm_max_flows;
	x->hold_max = o->hold_mb << 20;
	if (x->stream && strcmp(o->output, "-") == 0) {
		DPF_LOG(ERR, output,
			"--ibm-output -: stdout already carries the records of --output -; give "
			"one of them a directory\n");
		free(x);
		return -EINVAL;
	}
	rc = ibm_setup(x, o, p->ifmap);
	if (rc == 0 && !x->stream && !x->store_only && dpf_mkdir_p(o->ibm_output, 0755) < 0) {
		rc = -errno;
		DPF_LOG(ERR, output, "--ibm-output %s: %s\n", o->ibm_output, strerror(errno));
	}
	if (rc != 0) {
		on_free(x);
		return rc;
	}
	if (!x->stream && !x->store_only)
		remove_leftovers(x);
	rc = day_setup(x, w);
	if (rc != 0) {
		on_free(x);
		return rc;
	}
	return dpf_writer_add(w, &ibm_ops, x);
}
