/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay source (design.md section 4): reads a capture, computes the
 * symmetric Toeplitz hash in software exactly as a NIC would, sets hash.rss,
 * the RSS flag and the timestamp dynamic field, and feeds the queues of the
 * ring-backed port through a RETA. It never drops: when a queue's ring is
 * full it waits.
 *
 * After each chunk it publishes a watermark (the newest packet time
 * enqueued, release store) so that idle RX cores can close windows too, and
 * at the end of the file `source_done`.
 *
 * A packet whose time falls in a window earlier than the newest window
 * already read (a capture out of time order across a window boundary) is
 * counted as `late` here, in file order, so the result does not depend on
 * how queues were scheduled. So is a packet whose time is implausible
 * (`bad-time`, window.c): the capture's reference time is the median of its
 * first ANCHOR_FRAMES packets, read ahead before anything is sent, so a
 * single bad first packet does not anchor the run.
 *
 * A stop (signal) ends the reading at once; what was read is still sent, so
 * RX cores log it (nothing read is dropped). When packets of the last window
 * were left unread, that window is marked cut (app->replay_cut_window).
 *
 * Classic pcap files (the usual case) are mapped into memory and each
 * frame is attached to its mbuf as an external buffer, without a copy: the
 * RX cores read the frame where the page cache holds it, as they would read
 * a NIC's DMA buffer. Reading through libpcap and copying every frame cost
 * more than everything the RX core does with it. Other formats (pcapng) go
 * through libpcap and are copied into the mbuf.
 *
 * Captures of other link types than Ethernet — Linux cooked (SLL, SLL2:
 * what `tcpdump -i any` writes) and raw IP — reach the RX cores as the
 * Ethernet frames a NIC would deliver: the replay copies each into its mbuf
 * behind an Ethernet header made from the link header (source MAC: the SLL
 * address; ethertype: the SLL protocol, or the IP version of a raw frame;
 * destination MAC: zero, a cooked capture has none). The RX path, the parser
 * and forward mode thus see one link layer only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "dpf_rss.h"
#include "dpflow.h"
#include "log.h"

#define CHUNK 256
/* Packets read ahead to find the capture's reference time (their median). */
#define ANCHOR_FRAMES 64
/* At a stop, packets looked at to tell whether the last window was complete. */
#define CUT_PEEK_FRAMES 256

/* Classic pcap: file header, then a 16-byte header before every frame. */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HDR_LEN 24
#define PCAP_REC_HDR_LEN 16
/* LINKTYPE_ values of the pcap file header (libpcap's DLT_ values may differ). */
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_LINKTYPE_RAW 101
#define PCAP_LINKTYPE_LINUX_SLL 113
#define PCAP_LINKTYPE_IPV4 228
#define PCAP_LINKTYPE_IPV6 229
#define PCAP_LINKTYPE_LINUX_SLL2 276
/* Old files carry the platform's DLT_RAW in the header. */
#define PCAP_LINKTYPE_RAW_DLT12 12
#define PCAP_LINKTYPE_RAW_DLT14 14
/* Linux cooked headers: SLL (v1) and SLL2 (v2). */
#define SLL_HDR_LEN 16
#define SLL_HALEN_AT 4
#define SLL_ADDR_AT 6
#define SLL_PROTO_AT 14
#define SLL2_HDR_LEN 20
#define SLL2_PROTO_AT 0
#define SLL2_HALEN_AT 11
#define SLL2_ADDR_AT 12
/* libpcap rejects larger frames as a corrupt file; so do we. */
#define PCAP_MAX_CAPLEN 262144
/* How far ahead of the next record the mapped file is fetched into the cache. */
#define MAP_PREFETCH_BYTES 4096

/* The link layers the replay reads. */
enum link {
	LINK_ETHERNET = 0,
	LINK_SLL,  /* Linux cooked v1 */
	LINK_SLL2, /* Linux cooked v2 */
	LINK_RAW,  /* raw IP: the version nibble says which */
	LINK_IPV4,
	LINK_IPV6,
};

static struct {
	pthread_t tid;
	pcap_t *pc;            /* libpcap source, when the file is not mapped */
	const uint8_t *map;    /* mapped classic pcap */
	size_t map_len;
	size_t off;            /* next record in map */
	size_t prefetched;     /* map is being fetched up to here */
	uint32_t snaplen;
	bool swapped;          /* file written on a host of the other byte order */
	bool nanosecond;
	enum link link;
	struct dpf_rss *rss;
	bool started;
	bool failed;
	bool regular;          /* a regular file: peeking past a stop cannot block */
} rp;

struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint64_t t_ns;	 /* DPF_TIME_INVALID: outside 1970..2554 */
	int64_t raw_sec; /* seconds as the file has them, for messages */
};

/* Frames read ahead (ANCHOR_FRAMES), handed out before the rest of the file. */
static struct {
	struct frame f[ANCHOR_FRAMES];
	uint8_t *copy[ANCHOR_FRAMES]; /* libpcap reuses its buffer: frames are copied */
	unsigned int n, next;
	int end_rc; /* what next_frame() returned after them: 1 when the file goes on */
} ahead = {.end_rc = 1};

/* Seconds and a fraction in ns to ns since 1970, or DPF_TIME_INVALID. */
static uint64_t
time_ns(int64_t sec, uint64_t frac_ns)
{
	if (sec < 0 || frac_ns >= 1000000000ull ||
	    (uint64_t)sec > (DPF_TIME_INVALID - 1 - frac_ns) / 1000000000ull)
		return DPF_TIME_INVALID;
	return (uint64_t)sec * 1000000000ull + frac_ns;
}

static inline uint32_t
file_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rp.swapped ? rte_bswap32(v) : v;
}

/* @return 1 with a frame, 0 at the end of the file, -1 on error (printed) */
static int
next_frame(struct dpf_app *app, struct frame *f)
{
	const uint8_t *h;
	uint32_t caplen;

	if (rp.pc != NULL) {
		struct pcap_pkthdr *ph;
		const u_char *data;
		int rc = pcap_next_ex(rp.pc, &ph, &data);

		if (rc == 1) {
			f->data = data;
			f->caplen = ph->caplen;
			/* Opened with nanosecond precision: tv_usec holds nanoseconds.
			 * pcapng's if_tsoffset can make the seconds negative. */
			f->raw_sec = (int64_t)ph->ts.tv_sec;
			f->t_ns = ph->ts.tv_usec < 0
					  ? DPF_TIME_INVALID
					  : time_ns(f->raw_sec, (uint64_t)ph->ts.tv_usec);
			return 1;
		}
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		DPF_LOG(ERR, ports, "replay %s: %s\n", app->opt->replay, pcap_geterr(rp.pc));
		return -1;
	}
	if (rp.off == rp.map_len)
		return 0;
	/*
	 * Record headers form a chain (each one's length gives the next one's
	 * offset), so their cache misses would come one after the other: the
	 * replay thread spent nine tenths of its time waiting on them. The file
	 * is read front to back, so keep the next MAP_PREFETCH_BYTES of it on
	 * their way to the cache.
	 */
	while (rp.prefetched < rp.map_len && rp.prefetched < rp.off + MAP_PREFETCH_BYTES) {
		rte_prefetch0(rp.map + rp.prefetched);
		rp.prefetched += RTE_CACHE_LINE_SIZE;
	}
	if (rp.map_len - rp.off < PCAP_REC_HDR_LEN) {
		DPF_LOG(ERR, ports, "replay %s: truncated file: %zu bytes of a record header\n",
			app->opt->replay, rp.map_len - rp.off);
		return -1;
	}
	h = rp.map + rp.off;
	caplen = file_u32(h + 8);
	if (caplen > PCAP_MAX_CAPLEN) {
		DPF_LOG(ERR, ports,
			"replay %s: invalid packet capture length %u at offset %zu, bigger "
			"than the maximum of %u\n",
			app->opt->replay, caplen, rp.off, PCAP_MAX_CAPLEN);
		return -1;
	}
	if (rp.map_len - rp.off - PCAP_REC_HDR_LEN < caplen) {
		DPF_LOG(ERR, ports, "replay %s: truncated file: frame at offset %zu\n",
			app->opt->replay, rp.off);
		return -1;
	}
	f->data = h + PCAP_REC_HDR_LEN;
	/* As libpcap: bytes beyond the file's snapshot length are skipped. */
	f->caplen = rp.snaplen != 0 && caplen > rp.snaplen ? rp.snaplen : caplen;
	f->raw_sec = file_u32(h);
	/* A fraction of a second past its unit's range is no time either. */
	if (!rp.nanosecond && file_u32(h + 4) >= 1000000)
		f->t_ns = DPF_TIME_INVALID;
	else
		f->t_ns =
			time_ns(f->raw_sec, (uint64_t)file_u32(h + 4) * (rp.nanosecond ? 1 : 1000));
	rp.off += PCAP_REC_HDR_LEN + caplen;
	return 1;
}

/* The next frame: the ones read ahead first. Same returns as next_frame(). */
static int
pull_frame(struct dpf_app *app, struct frame *f)
{
	if (ahead.next < ahead.n) {
		*f = ahead.f[ahead.next++];
		return 1;
	}
	if (ahead.end_rc != 1)
		return ahead.end_rc;
	return next_frame(app, f);
}

/*
 * Read the first ANCHOR_FRAMES frames and take the median of their times that
 * are representable and not ahead of the clock as the capture's reference
 * time: a few bad packets at the start cannot anchor the run.
 */
static void
read_ahead(struct dpf_app *app)
{
	uint64_t t[ANCHOR_FRAMES];
	unsigned int n = 0;

	while (ahead.n < ANCHOR_FRAMES) {
		struct frame *f = &ahead.f[ahead.n];
		int rc = next_frame(app, f);

		if (rc != 1) {
			ahead.end_rc = rc;
			break;
		}
		if (rp.pc != NULL) {
			ahead.copy[ahead.n] = malloc(f->caplen > 0 ? f->caplen : 1);
			if (ahead.copy[ahead.n] == NULL) {
				DPF_LOG(ERR, ports, "replay: out of memory\n");
				ahead.end_rc = -1;
				break;
			}
			memcpy(ahead.copy[ahead.n], f->data, f->caplen);
			f->data = ahead.copy[ahead.n];
		}
		ahead.n++;
		if (dpf_timecheck_verdict(app->tc, f->t_ns, 0, 0) == DPF_TIME_OK)
			t[n++] = f->t_ns;
	}
	if (n > 0)
		dpf_timecheck_offer_anchor(app->tc, dpf_time_median(t, n));
}

static void
ahead_free(void)
{
	unsigned int i;

	for (i = 0; i < ahead.n; i++)
		free(ahead.copy[i]);
	memset(&ahead, 0, sizeof(ahead));
	ahead.end_rc = 1;
}

static void
extbuf_free(void *addr, void *opaque)
{
	/* The frame belongs to the mapped file, unmapped when replay ends. */
	(void)addr;
	(void)opaque;
}

/*
 * Point m at the frame. The shared info lives in m's own (unused) data room,
 * so its reference count is private to the mbuf and freeing it takes no
 * atomic operation.
 */
static void
attach_frame(struct rte_mbuf *m, const struct frame *f)
{
	struct rte_mbuf_ext_shared_info *shinfo = m->buf_addr;

	shinfo->free_cb = extbuf_free;
	shinfo->fcb_opaque = NULL;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)f->data, RTE_BAD_IOVA,
				  (uint16_t)f->caplen, shinfo);
	m->data_len = (uint16_t)f->caplen;
	m->pkt_len = f->caplen;
}

static inline uint16_t
load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

/*
 * Write into dst (room bytes) the Ethernet frame a NIC would have delivered
 * for f, a frame of the file's link type. @return its length; 0 when the
 * link header itself is cut short (the parser counts truncated-ethernet).
 */
static uint32_t
to_ethernet(const struct frame *f, uint8_t *dst, uint32_t room)
{
	struct rte_ether_hdr eth;
	const uint8_t *addr = NULL;
	uint32_t hdr_len = 0, len;
	uint16_t proto = RTE_ETHER_TYPE_IPV4;

	memset(&eth, 0, sizeof(eth));
	switch (rp.link) {
	case LINK_SLL:
		if (f->caplen < SLL_HDR_LEN)
			return 0;
		hdr_len = SLL_HDR_LEN;
		proto = load_be16(f->data + SLL_PROTO_AT);
		if (load_be16(f->data + SLL_HALEN_AT) == RTE_ETHER_ADDR_LEN)
			addr = f->data + SLL_ADDR_AT;
		break;
	case LINK_SLL2:
		if (f->caplen < SLL2_HDR_LEN)
			return 0;
		hdr_len = SLL2_HDR_LEN;
		proto = load_be16(f->data + SLL2_PROTO_AT);
		if (f->data[SLL2_HALEN_AT] == RTE_ETHER_ADDR_LEN)
			addr = f->data + SLL2_ADDR_AT;
		break;
	case LINK_RAW:
		/* Everything in it is IP: a version that is neither 4 nor 6 (or an
		 * empty frame) is parsed as IPv4 and counted malformed. */
		if (f->caplen > 0 && (f->data[0] >> 4) == 6)
			proto = RTE_ETHER_TYPE_IPV6;
		break;
	case LINK_IPV6:
		proto = RTE_ETHER_TYPE_IPV6;
		break;
	case LINK_IPV4:
	case LINK_ETHERNET:
		break;
	}
	if (addr != NULL)
		memcpy(&eth.src_addr, addr, RTE_ETHER_ADDR_LEN);
	eth.ether_type = rte_cpu_to_be_16(proto);
	if (room < sizeof(eth))
		return 0;
	memcpy(dst, &eth, sizeof(eth));
	len = RTE_MIN(f->caplen - hdr_len, room - (uint32_t)sizeof(eth));
	memcpy(dst + sizeof(eth), f->data + hdr_len, len);
	return (uint32_t)sizeof(eth) + len;
}

/* A frame that is not attached: copied, behind an Ethernet header if need be. */
static void
copy_frame(struct rte_mbuf *m, const struct frame *f)
{
	uint32_t room = (uint32_t)rte_pktmbuf_tailroom(m), len;
	uint8_t *dst = rte_pktmbuf_mtod(m, uint8_t *);

	if (rp.link == LINK_ETHERNET) {
		len = RTE_MIN(f->caplen, room);
		memcpy(dst, f->data, len);
	} else {
		len = to_ethernet(f, dst, room);
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

struct queue_batch {
	struct rte_mbuf *m[DPF_BURST];
	uint32_t n;
};

static void
enqueue_all(struct dpf_app *app, uint16_t q, struct queue_batch *qb)
{
	uint32_t done = 0;

	while (done < qb->n) {
		done += rte_ring_sp_enqueue_burst(app->replay_rings[q], (void **)&qb->m[done],
						  qb->n - done, NULL);
		/* Also during a stop: the RX cores drain the rings until this
		 * thread says it is done, so every frame read is logged. */
		if (done < qb->n) {
			app->rstats.ring_full_waits++;
			sched_yield();
		}
	}
	app->rstats.enqueued += qb->n;
	qb->n = 0;
}

/*
 * mbufs come from the pool in bursts: the replay thread is not an EAL lcore,
 * so it has no mempool cache and each allocation goes to the pool's ring.
 */
struct mbuf_stock {
	struct rte_mbuf *m[DPF_BURST];
	uint32_t n;
};

static struct rte_mbuf *
alloc_mbuf(struct dpf_app *app, struct mbuf_stock *st)
{
	while (st->n == 0) {
		if (rte_pktmbuf_alloc_bulk(app->replay_pool, st->m, DPF_BURST) == 0) {
			st->n = DPF_BURST;
			break;
		}
		/* RX cores free mbufs as they go, during a stop too. */
		sched_yield();
	}
	return st->m[--st->n];
}

/* File-order state of the classification (late, bad-time), for the main loop and the peek. */
struct order {
	uint64_t newest_ns;	/* newest time sent */
	uint64_t newest_window; /* its window */
	uint64_t win_start_ns;	/* window of the previous frame (cache) */
	uint64_t win_end_ns;
	bool any;			      /* a frame was sent */
	bool said[DPF_TIME_AFTER_NEWEST + 1]; /* each kind of bad time is logged once */
};

enum fate { FATE_SEND, FATE_LATE, FATE_BAD_TIME };

static enum fate
classify(struct dpf_app *app, struct order *o, const struct frame *f, uint64_t *window,
	 enum dpf_time_verdict *verdict)
{
	uint64_t anchor = dpf_timecheck_anchor(app->tc);
	uint64_t t_ns = f->t_ns;

	*verdict = dpf_timecheck_verdict(app->tc, t_ns, anchor, o->newest_ns);
	if (*verdict != DPF_TIME_OK)
		return FATE_BAD_TIME;
	/* The window plan is read only when the frame leaves the previous
	 * frame's window (a length change applies at a boundary, so the cached
	 * window stays right). */
	if (unlikely(t_ns < o->win_start_ns || t_ns >= o->win_end_ns))
		dpf_window_plan_bounds(app->plan, t_ns, &o->win_start_ns, &o->win_end_ns);
	*window = o->win_start_ns;
	if (o->any && *window < o->newest_window)
		return FATE_LATE;
	return FATE_SEND;
}

/* The first packet of each kind of bad time is named; the rest are counted. */
static void
say_bad_time(struct dpf_app *app, struct order *o, const struct frame *f, enum dpf_time_verdict v)
{
	char when[64] = "", gap[64];
	struct tm tm;
	time_t sec = (time_t)f->raw_sec;

	if (o->said[v])
		return;
	o->said[v] = true;
	if (v != DPF_TIME_UNREPRESENTABLE && gmtime_r(&sec, &tm) != NULL)
		strftime(when, sizeof(when), " (%Y-%m-%dT%H:%M:%SZ)", &tm);
	if (v == DPF_TIME_UNREPRESENTABLE)
		gap[0] = '\0';
	else
		snprintf(gap, sizeof(gap), " %" PRIu64 " s (--max-time-gap)",
			 app->opt->max_time_gap);
	DPF_LOG(WARNING, ports,
		"--replay %s: packet %" PRIu64 ": time %" PRId64 " s%s is %s%s: not "
		"logged, counted as bad-time (later packets like it are only counted)\n",
		app->opt->replay, app->rstats.read, f->raw_sec, when, dpf_time_verdict_text(v),
		gap);
}

/*
 * A stop ended the reading: was the last window complete? Look at what
 * follows (without sending it): the next frame that would have been sent
 * tells; late and bad-time frames in between do not count.
 */
static void
mark_cut(struct dpf_app *app, struct order *o)
{
	unsigned int i;

	if (!o->any)
		return;
	/* A pipe may hold nothing yet: the window counts as cut. */
	for (i = 0; rp.regular && i < CUT_PEEK_FRAMES; i++) {
		enum dpf_time_verdict v;
		struct frame f;
		uint64_t w;

		if (pull_frame(app, &f) != 1)
			return; /* the end of the file: nothing of it was left */
		if (classify(app, o, &f, &w, &v) == FATE_SEND) {
			if (w == o->newest_window)
				break;
			return; /* a later window: the last one was whole */
		}
	}
	__atomic_store_n(&app->source.cut_window, o->newest_window, __ATOMIC_RELAXED);
}

static void *
replay_main(void *arg)
{
	struct dpf_app *app = arg;
	uint16_t nq = (uint16_t)app->opt->rxq;
	struct queue_batch *qb;
	struct mbuf_stock stock = {.n = 0};
	uint16_t reta[DPF_RSS_RETA_SIZE];
	/* The window of the previous frame: an empty range until the first one. */
	struct order o = {.win_start_ns = 1, .win_end_ns = 0};
	bool running = true, stopped = false;
	uint16_t q;

	/* The RETA as an array: no division per frame. */
	for (q = 0; q < DPF_RSS_RETA_SIZE; q++)
		reta[q] = dpf_rss_queue(q, nq);
	qb = rte_zmalloc("replay_batches", nq * sizeof(*qb), RTE_CACHE_LINE_SIZE);
	if (qb == NULL) {
		DPF_LOG(ERR, ports, "replay: out of memory\n");
		rp.failed = true;
		running = false;
	}
	if (running)
		read_ahead(app);
	while (running) {
		unsigned int i;

		for (i = 0; i < CHUNK; i++) {
			enum dpf_time_verdict verdict;
			struct frame f;
			struct rte_mbuf *m;
			struct dpf_pkt_info pi;
			uint64_t w;
			uint32_t hash = 0;
			int rc;

			/* A stop ends the reading here; what was read goes on. */
			if (unlikely(dpf_run_stopping(&app->run))) {
				stopped = true;
				running = false;
				break;
			}
			rc = pull_frame(app, &f);
			if (rc != 1) {
				rp.failed = rc < 0;
				running = false;
				break;
			}
			app->rstats.read++;
			switch (classify(app, &o, &f, &w, &verdict)) {
			case FATE_BAD_TIME:
				app->rstats.bad_time++;
				say_bad_time(app, &o, &f, verdict);
				continue;
			case FATE_LATE:
				app->rstats.late++;
				continue;
			case FATE_SEND:
				break;
			}
			/* No reference time in the first frames: the first sent is it. */
			if (unlikely(dpf_timecheck_anchor(app->tc) == 0))
				dpf_timecheck_offer_anchor(app->tc, f.t_ns);
			o.any = true;
			o.newest_window = w;
			if (f.t_ns > o.newest_ns)
				o.newest_ns = f.t_ns;
			m = alloc_mbuf(app, &stock);
			if (rp.map != NULL && rp.link == LINK_ETHERNET && f.caplen <= UINT16_MAX)
				attach_frame(m, &f);
			else
				copy_frame(m, &f);
			m->port = (uint16_t)app->replay_port;
			m->ol_flags |= app->ts_flag;
			/* Microseconds, as net_pcap writes the field. */
			*RTE_MBUF_DYNFIELD(m, app->ts_offset, uint64_t *) = f.t_ns / 1000;
			/*
			 * The NIC's view: hash what parses, queue 0 for the rest. With
			 * one queue a NIC runs without RSS (ports.c) and delivers no
			 * hash; so does the replay, which then need not parse at all.
			 */
			q = 0;
			if (nq > 1) {
				if (dpf_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *),
						  rte_pktmbuf_data_len(m), &pi) == DPF_PKT_OK)
					hash = dpf_rss_hash_pkt(rp.rss, &pi);
				m->hash.rss = hash;
				m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
				q = reta[hash % DPF_RSS_RETA_SIZE];
			}
			qb[q].m[qb[q].n++] = m;
			if (qb[q].n == DPF_BURST)
				enqueue_all(app, q, &qb[q]);
		}
		for (q = 0; q < nq && qb != NULL; q++)
			if (qb[q].n > 0)
				enqueue_all(app, q, &qb[q]);
		/* Everything read so far is enqueued: publish its time. */
		if (o.newest_ns != 0)
			__atomic_store_n(&app->source.watermark_ns, o.newest_ns, __ATOMIC_RELEASE);
	}
	if (stopped)
		mark_cut(app, &o);
	if (stock.n > 0)
		rte_pktmbuf_free_bulk(stock.m, stock.n);
	rte_free(qb);
	/* After cut_window: RX cores read this with acquire. */
	__atomic_store_n(&app->source.done, true, __ATOMIC_RELEASE);
	return NULL;
}

static const char *
link_name(const char *name)
{
	return name != NULL ? name : "unknown";
}

/*
 * The link types read: the LINKTYPE_ value a pcap file header holds, and the
 * DLT_ value libpcap reports for pcapng and other formats (they differ for
 * raw IP; old files hold the platform's DLT_RAW, 12 or 14).
 */
static const struct {
	uint32_t linktype;
	int dlt;
	enum link link;
} links_read[] = {
	{PCAP_LINKTYPE_ETHERNET, DLT_EN10MB, LINK_ETHERNET},
	{PCAP_LINKTYPE_LINUX_SLL, DLT_LINUX_SLL, LINK_SLL},
	{PCAP_LINKTYPE_LINUX_SLL2, DLT_LINUX_SLL2, LINK_SLL2},
	{PCAP_LINKTYPE_RAW, DLT_RAW, LINK_RAW},
	{PCAP_LINKTYPE_RAW_DLT12, DLT_RAW, LINK_RAW},
	{PCAP_LINKTYPE_RAW_DLT14, DLT_RAW, LINK_RAW},
	{PCAP_LINKTYPE_IPV4, DLT_IPV4, LINK_IPV4},
	{PCAP_LINKTYPE_IPV6, DLT_IPV6, LINK_IPV6},
};

/* By file header value (dlt < 0) or by DLT_ value. @return 0, or -1: not read. */
static int
link_of(uint32_t linktype, int dlt, enum link *out)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(links_read); i++) {
		if (dlt < 0 ? links_read[i].linktype == linktype : links_read[i].dlt == dlt) {
			*out = links_read[i].link;
			return 0;
		}
	}
	return -1;
}

/*
 * Map a classic pcap file. @return 1 when mapped, 0 when the file is another
 * format (left to libpcap), -EINVAL on an unusable file (message printed)
 */
static int
map_classic_pcap(struct dpf_app *app)
{
	const char *path = app->opt->replay;
	uint8_t hdr[PCAP_FILE_HDR_LEN];
	uint32_t magic, linktype;
	struct stat st;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		if (fd >= 0)
			close(fd);
		return 0; /* libpcap reports what is wrong */
	}
	memcpy(&magic, hdr, sizeof(magic));
	rp.swapped = magic == rte_bswap32(PCAP_MAGIC_US) || magic == rte_bswap32(PCAP_MAGIC_NS);
	if (rp.swapped)
		magic = rte_bswap32(magic);
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
		close(fd);
		return 0;
	}
	rp.nanosecond = magic == PCAP_MAGIC_NS;
	rp.snaplen = file_u32(hdr + 16);
	/* The upper bits carry FCS information, not the link type. */
	linktype = file_u32(hdr + 20) & 0x03ffffff;
	if (link_of(linktype, -1, &rp.link) < 0) {
		DPF_LOG(ERR, ports,
			"--replay %s: link type %u (%s), not one dpflow reads: "
			"Ethernet, Linux cooked (SLL, SLL2) or raw IP\n",
			path, linktype, link_name(pcap_datalink_val_to_name((int)linktype)));
		close(fd);
		return -EINVAL;
	}
	/* Writable but private: a forwarding RX path may rewrite headers in place
	 * (the page is then copied); the file never changes. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 0;
	/* Read once, front to back: let the kernel read ahead. */
	madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	rp.map = map;
	rp.map_len = (size_t)st.st_size;
	rp.off = PCAP_FILE_HDR_LEN;
	rp.prefetched = 0;
	return 1;
}

int
dpf_replay_open(struct dpf_app *app)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct stat st;
	int rc;

	rp.regular = stat(app->opt->replay, &st) == 0 && S_ISREG(st.st_mode);
	rc = map_classic_pcap(app);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		rp.pc = pcap_open_offline_with_tstamp_precision(
			app->opt->replay, PCAP_TSTAMP_PRECISION_NANO, errbuf);
		if (rp.pc == NULL) {
			DPF_LOG(ERR, ports, "--replay %s: %s\n", app->opt->replay, errbuf);
			return -EINVAL;
		}
		if (link_of(0, pcap_datalink(rp.pc), &rp.link) < 0) {
			DPF_LOG(ERR, ports,
				"--replay %s: link type %s, not one dpflow reads: "
				"Ethernet, Linux cooked (SLL, SLL2) or raw IP\n",
				app->opt->replay,
				link_name(pcap_datalink_val_to_name(pcap_datalink(rp.pc))));
			pcap_close(rp.pc);
			rp.pc = NULL;
			return -EINVAL;
		}
	}
	rp.rss = rte_malloc("replay_rss", sizeof(*rp.rss), RTE_CACHE_LINE_SIZE);
	if (rp.rss == NULL)
		return -ENOMEM;
	dpf_rss_init(rp.rss, dpf_rss_symmetric_key);
	return 0;
}

int
dpf_replay_start(struct dpf_app *app)
{
	int rc = rte_ctrl_thread_create(&rp.tid, "dpf-replay", NULL, replay_main, app);

	if (rc != 0) {
		DPF_LOG(ERR, ports, "replay thread: %s\n", strerror(rc));
		return -rc;
	}
	rp.started = true;
	return 0;
}

bool
dpf_replay_failed(void)
{
	return rp.failed;
}

void
dpf_replay_join(struct dpf_app *app)
{
	(void)app;
	if (rp.started)
		pthread_join(rp.tid, NULL);
	rp.started = false;
	ahead_free();
	if (rp.pc != NULL)
		pcap_close(rp.pc);
	rp.pc = NULL;
	/* RX cores have stopped: no mbuf still attached to the file is read. */
	if (rp.map != NULL)
		munmap((void *)(uintptr_t)rp.map, rp.map_len);
	rp.map = NULL;
	rte_free(rp.rss);
	rp.rss = NULL;
}
