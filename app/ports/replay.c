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
 * were left unread, that window is marked cut (the source's cut_window).
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

#include "common.h"
#include "dpf_pkt.h"
#include "dpf_rss.h"
#include "log.h"
#include "replay.h"
#include "dpf_util.h"

#define CHUNK 256
#define REPLAY_RING_SIZE 4096
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
/*
 * The mapping's pages this far behind the reader are given back
 * (MADV_DONTNEED), this many bytes at a time. Frames still in flight there
 * (at most the pool's mbufs) read the file's page again on their next
 * access: the mapping is private and nothing wrote it (not forward mode).
 */
#define MAP_RELEASE_LAG (64u << 20)
#define MAP_RELEASE_STEP (16u << 20)

/* The link layers the replay reads. */
enum link {
	LINK_ETHERNET = 0,
	LINK_SLL,  /* Linux cooked v1 */
	LINK_SLL2, /* Linux cooked v2 */
	LINK_RAW,  /* raw IP: the version nibble says which */
	LINK_IPV4,
	LINK_IPV6,
};

struct frame {
	const uint8_t *data;
	uint32_t caplen;
	uint64_t t_ns;	 /* DPF_TIME_INVALID: outside 1970..2554 */
	int64_t raw_sec; /* seconds as the file has them, for messages */
};

struct dpf_replay {
	struct dpf_replay_params p; /* as given to dpf_replay_open() */
	struct dpf_source source;
	struct rte_ring *rings[DPF_MAX_RX_CORES];
	struct rte_mempool *pool;
	uint16_t port;
	int ts_offset;
	uint64_t ts_flag;
	uint32_t frame_room;	    /* an attached frame longer than an mbuf holds is cut here */
	struct dpf_replay_stats st; /* one writer: the replay thread */
	pthread_t tid;
	pcap_t *pc;            /* libpcap source, when the file is not mapped */
	const uint8_t *map;    /* mapped classic pcap */
	size_t map_len;
	size_t off;            /* next record in map */
	size_t prefetched;     /* map is being fetched up to here */
	size_t released;       /* map is given back up to here (page-aligned) */
	uint32_t snaplen;
	bool swapped;          /* file written on a host of the other byte order */
	bool nanosecond;
	enum link link;
	struct dpf_rss *rss;
	bool started;
	bool failed;
	bool regular;          /* a regular file: peeking past a stop cannot block */
	/* Frames read ahead (ANCHOR_FRAMES), handed out before the rest of the file. */
	struct {
		struct frame f[ANCHOR_FRAMES];
		uint8_t *copy[ANCHOR_FRAMES]; /* libpcap reuses its buffer: frames are copied */
		unsigned int n, next;
		int end_rc; /* what next_frame() returned after them: 1 when the file goes on */
	} ahead;
};



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
file_u32(const struct dpf_replay *rp, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rp->swapped ? rte_bswap32(v) : v;
}

/* @return 1 with a frame, 0 at the end of the file, -1 on error (printed) */
static int
next_frame(struct dpf_replay *rp, struct frame *f)
{
	const uint8_t *h;
	uint32_t caplen;

	if (rp->pc != NULL) {
		struct pcap_pkthdr *ph;
		const u_char *data;
		int rc = pcap_next_ex(rp->pc, &ph, &data);

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
		DPF_LOG(ERR, ports, "replay %s: %s\n", rp->p.path, pcap_geterr(rp->pc));
		return -1;
	}
	if (rp->off == rp->map_len)
		return 0;
	/*
	 * Record headers form a chain (each one's length gives the next one's
	 * offset), so their cache misses would come one after the other: the
	 * replay thread spent nine tenths of its time waiting on them. The file
	 * is read front to back, so keep the next MAP_PREFETCH_BYTES of it on
	 * their way to the cache.
	 */
	while (rp->prefetched < rp->map_len && rp->prefetched < rp->off + MAP_PREFETCH_BYTES) {
		rte_prefetch0(rp->map + rp->prefetched);
		rp->prefetched += RTE_CACHE_LINE_SIZE;
	}
	if (rp->map_len - rp->off < PCAP_REC_HDR_LEN) {
		DPF_LOG(ERR, ports, "replay %s: truncated file: %zu bytes of a record header\n",
			rp->p.path, rp->map_len - rp->off);
		return -1;
	}
	h = rp->map + rp->off;
	caplen = file_u32(rp, h + 8);
	if (caplen > PCAP_MAX_CAPLEN) {
		DPF_LOG(ERR, ports,
			"replay %s: invalid packet capture length %u at offset %zu, bigger "
			"than the maximum of %u\n",
			rp->p.path, caplen, rp->off, PCAP_MAX_CAPLEN);
		return -1;
	}
	if (rp->map_len - rp->off - PCAP_REC_HDR_LEN < caplen) {
		DPF_LOG(ERR, ports, "replay %s: truncated file: frame at offset %zu\n",
			rp->p.path, rp->off);
		return -1;
	}
	f->data = h + PCAP_REC_HDR_LEN;
	/* As libpcap: bytes beyond the file's snapshot length are skipped. */
	f->caplen = rp->snaplen != 0 && caplen > rp->snaplen ? rp->snaplen : caplen;
	f->raw_sec = file_u32(rp, h);
	/* A fraction of a second past its unit's range is no time either. */
	if (!rp->nanosecond && file_u32(rp, h + 4) >= 1000000)
		f->t_ns = DPF_TIME_INVALID;
	else
		f->t_ns =
			time_ns(f->raw_sec, (uint64_t)file_u32(rp, h + 4) * (rp->nanosecond ? 1 : 1000));
	rp->off += PCAP_REC_HDR_LEN + caplen;
	return 1;
}

/* The next frame: the ones read ahead first. Same returns as next_frame(). */
static int
pull_frame(struct dpf_replay *rp, struct frame *f)
{
	if (rp->ahead.next < rp->ahead.n) {
		*f = rp->ahead.f[rp->ahead.next++];
		return 1;
	}
	if (rp->ahead.end_rc != 1)
		return rp->ahead.end_rc;
	return next_frame(rp, f);
}

/*
 * Read the first ANCHOR_FRAMES frames and take the median of their times that
 * are representable and not ahead of the clock as the capture's reference
 * time: a few bad packets at the start cannot anchor the run.
 */
static void
read_ahead(struct dpf_replay *rp)
{
	uint64_t t[ANCHOR_FRAMES];
	unsigned int n = 0;

	while (rp->ahead.n < ANCHOR_FRAMES) {
		struct frame *f = &rp->ahead.f[rp->ahead.n];
		int rc = next_frame(rp, f);

		if (rc != 1) {
			rp->ahead.end_rc = rc;
			break;
		}
		if (rp->pc != NULL) {
			rp->ahead.copy[rp->ahead.n] = malloc(f->caplen > 0 ? f->caplen : 1);
			if (rp->ahead.copy[rp->ahead.n] == NULL) {
				DPF_LOG(ERR, ports, "replay: out of memory\n");
				rp->ahead.end_rc = -1;
				break;
			}
			memcpy(rp->ahead.copy[rp->ahead.n], f->data, f->caplen);
			f->data = rp->ahead.copy[rp->ahead.n];
		}
		rp->ahead.n++;
		if (dpf_timecheck_verdict(rp->p.tc, f->t_ns, 0, 0) == DPF_TIME_OK)
			t[n++] = f->t_ns;
	}
	if (n > 0)
		dpf_timecheck_offer_anchor(rp->p.tc, dpf_time_median(t, n));
}

static void
ahead_free(struct dpf_replay *rp)
{
	unsigned int i;

	for (i = 0; i < rp->ahead.n; i++)
		free(rp->ahead.copy[i]);
	memset(&rp->ahead, 0, sizeof(rp->ahead));
	rp->ahead.end_rc = 1;
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
attach_frame(const struct dpf_replay *rp, struct rte_mbuf *m, const struct frame *f)
{
	struct rte_mbuf_ext_shared_info *shinfo = m->buf_addr;
	/* An mbuf points at 64 KiB at most: a longer frame (a capture of a
	 * segmentation offload super-packet) is cut where a copy into a
	 * planned mbuf would have cut it. */
	uint16_t len = (uint16_t)(f->caplen <= UINT16_MAX ? f->caplen
							  : RTE_MIN(f->caplen, rp->frame_room));

	shinfo->free_cb = extbuf_free;
	shinfo->fcb_opaque = NULL;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)f->data, RTE_BAD_IOVA, len, shinfo);
	m->data_len = len;
	m->pkt_len = len;
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
to_ethernet(const struct dpf_replay *rp, const struct frame *f, uint8_t *dst, uint32_t room)
{
	struct rte_ether_hdr eth;
	const uint8_t *addr = NULL;
	uint32_t hdr_len = 0, len;
	uint16_t proto = RTE_ETHER_TYPE_IPV4;

	memset(&eth, 0, sizeof(eth));
	switch (rp->link) {
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
copy_frame(const struct dpf_replay *rp, struct rte_mbuf *m, const struct frame *f)
{
	uint32_t room = (uint32_t)rte_pktmbuf_tailroom(m), len;
	uint8_t *dst = rte_pktmbuf_mtod(m, uint8_t *);

	if (rp->link == LINK_ETHERNET) {
		len = RTE_MIN(f->caplen, room);
		memcpy(dst, f->data, len);
	} else {
		len = to_ethernet(rp, f, dst, room);
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

struct queue_batch {
	struct rte_mbuf *m[DPF_BURST];
	uint32_t n;
};

static void
enqueue_all(struct dpf_replay *rp, uint16_t q, struct queue_batch *qb)
{
	uint32_t done = 0;

	while (done < qb->n) {
		done += rte_ring_sp_enqueue_burst(rp->rings[q], (void **)&qb->m[done],
						  qb->n - done, NULL);
		/* Also during a stop: the RX cores drain the rings until this
		 * thread says it is done, so every frame read is logged. */
		if (done < qb->n) {
			rp->st.ring_full_waits++;
			sched_yield();
		}
	}
	rp->st.enqueued += qb->n;
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
alloc_mbuf(struct dpf_replay *rp, struct mbuf_stock *st)
{
	while (st->n == 0) {
		if (rte_pktmbuf_alloc_bulk(rp->pool, st->m, DPF_BURST) == 0) {
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
classify(struct dpf_replay *rp, struct order *o, const struct frame *f, uint64_t *window,
	 enum dpf_time_verdict *verdict)
{
	uint64_t anchor = dpf_timecheck_anchor(rp->p.tc);
	uint64_t t_ns = f->t_ns;

	*verdict = dpf_timecheck_verdict(rp->p.tc, t_ns, anchor, o->newest_ns);
	if (*verdict != DPF_TIME_OK)
		return FATE_BAD_TIME;
	/* The window plan is read only when the frame leaves the previous
	 * frame's window (a length change applies at a boundary, so the cached
	 * window stays right). */
	if (unlikely(t_ns < o->win_start_ns || t_ns >= o->win_end_ns))
		dpf_window_plan_bounds(rp->p.plan, t_ns, &o->win_start_ns, &o->win_end_ns);
	*window = o->win_start_ns;
	if (o->any && *window < o->newest_window)
		return FATE_LATE;
	return FATE_SEND;
}

/* The first packet of each kind of bad time is named; the rest are counted. */
static void
say_bad_time(struct dpf_replay *rp, struct order *o, const struct frame *f, enum dpf_time_verdict v)
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
			 dpf_timecheck_gap_sec(rp->p.tc));
	DPF_LOG(WARNING, ports,
		"--replay %s: packet %" PRIu64 ": time %" PRId64 " s%s is %s%s: not "
		"logged, counted as bad-time (later packets like it are only counted)\n",
		rp->p.path, rp->st.read, f->raw_sec, when, dpf_time_verdict_text(v),
		gap);
}

/*
 * A stop ended the reading: was the last window complete? Look at what
 * follows (without sending it): the next frame that would have been sent
 * tells; late and bad-time frames in between do not count.
 */
static void
mark_cut(struct dpf_replay *rp, struct order *o)
{
	unsigned int i;

	if (!o->any)
		return;
	/* A pipe may hold nothing yet: the window counts as cut. */
	for (i = 0; rp->regular && i < CUT_PEEK_FRAMES; i++) {
		enum dpf_time_verdict v;
		struct frame f;
		uint64_t w;

		if (pull_frame(rp, &f) != 1)
			return; /* the end of the file: nothing of it was left */
		if (classify(rp, o, &f, &w, &v) == FATE_SEND) {
			if (w == o->newest_window)
				break;
			return; /* a later window: the last one was whole */
		}
	}
	__atomic_store_n(&rp->source.cut_window, o->newest_window, __ATOMIC_RELAXED);
}

/* The replay thread's state between chunks. */
struct feed {
	struct queue_batch *qb; /* [nq] */
	struct mbuf_stock stock;
	uint16_t reta[DPF_RSS_RETA_SIZE]; /* the RETA as an array: no division per frame */
	struct order o;
};

/* A frame to be sent: into an mbuf, hashed and queued as a NIC would. */
static void
send_frame(struct dpf_replay *rp, struct feed *fd, const struct frame *f)
{
	struct rte_mbuf *m = alloc_mbuf(rp, &fd->stock);
	uint32_t hash = 0;
	uint16_t q = 0;

	if (dpf_replay_attaches(rp))
		attach_frame(rp, m, f);
	else
		copy_frame(rp, m, f);
	m->port = rp->port;
	m->ol_flags |= rp->ts_flag;
	/* Microseconds, as net_pcap writes the field. */
	*RTE_MBUF_DYNFIELD(m, rp->ts_offset, uint64_t *) = f->t_ns / 1000;
	/*
	 * The NIC's view: hash what parses, queue 0 for the rest. With one
	 * queue a NIC runs without RSS (ports.c) and delivers no hash; so does
	 * the replay, which then need not parse at all.
	 */
	if (rp->p.n_queues > 1) {
		hash = dpf_rss_hash_frame(rp->rss, rte_pktmbuf_mtod(m, const uint8_t *),
					  rte_pktmbuf_data_len(m), &rp->p.decap);
		m->hash.rss = hash;
		m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		q = fd->reta[hash % DPF_RSS_RETA_SIZE];
	}
	fd->qb[q].m[fd->qb[q].n++] = m;
	if (fd->qb[q].n == DPF_BURST)
		enqueue_all(rp, q, &fd->qb[q]);
}

enum chunk_end { CHUNK_MORE, CHUNK_EOF, CHUNK_STOPPED };

/* Up to CHUNK frames, in file order: each is sent, or counted late or bad-time. */
static enum chunk_end
read_chunk(struct dpf_replay *rp, struct feed *fd)
{
	struct order *o = &fd->o;
	unsigned int i;

	for (i = 0; i < CHUNK; i++) {
		enum dpf_time_verdict verdict;
		struct frame f;
		uint64_t w;
		int rc;

		/* A stop ends the reading here; what was read goes on. */
		if (unlikely(dpf_run_stopping(rp->p.run)))
			return CHUNK_STOPPED;
		rc = pull_frame(rp, &f);
		if (rc != 1) {
			rp->failed = rc < 0;
			return CHUNK_EOF;
		}
		rp->st.read++;
		switch (classify(rp, o, &f, &w, &verdict)) {
		case FATE_BAD_TIME:
			rp->st.bad_time++;
			say_bad_time(rp, o, &f, verdict);
			continue;
		case FATE_LATE:
			rp->st.late++;
			continue;
		case FATE_SEND:
			break;
		}
		/* No reference time in the first frames: the first sent is it. */
		if (unlikely(dpf_timecheck_anchor(rp->p.tc) == 0))
			dpf_timecheck_offer_anchor(rp->p.tc, f.t_ns);
		o->any = true;
		o->newest_window = w;
		if (f.t_ns > o->newest_ns)
			o->newest_ns = f.t_ns;
		send_frame(rp, fd, &f);
	}
	return CHUNK_MORE;
}

/*
 * Give back the pages of the mapping the reader has long passed: the
 * process's resident memory then holds a window of the capture, not all of
 * it, and the page tables are torn down here, on the replay thread, along
 * the way rather than all at once by munmap() at exit (600 ms for 4.7 GB on
 * a loaded machine).
 */
static void
release_behind(struct dpf_replay *rp)
{
	size_t upto;

	if (rp->map == NULL || rp->p.frames_written || rp->off < MAP_RELEASE_LAG)
		return;
	upto = RTE_ALIGN_FLOOR(rp->off - MAP_RELEASE_LAG, (size_t)MAP_RELEASE_STEP);
	if (upto <= rp->released)
		return;
	/* Advisory: a refusal leaves the pages mapped, nothing else. */
	(void)madvise((void *)(uintptr_t)(rp->map + rp->released), upto - rp->released,
		      MADV_DONTNEED);
	rp->released = upto;
}

static void *
replay_main(void *arg)
{
	struct dpf_replay *rp = arg;
	/* The window of the previous frame: an empty range until the first one. */
	struct feed fd = {.o = {.win_start_ns = 1, .win_end_ns = 0}};
	enum chunk_end end = CHUNK_MORE;
	uint16_t q;

	for (q = 0; q < DPF_RSS_RETA_SIZE; q++)
		fd.reta[q] = dpf_rss_queue(q, rp->p.n_queues);
	fd.qb = rte_zmalloc("replay_batches", rp->p.n_queues * sizeof(*fd.qb), RTE_CACHE_LINE_SIZE);
	if (fd.qb == NULL) {
		DPF_LOG(ERR, ports, "replay: out of memory\n");
		rp->failed = true;
		end = CHUNK_EOF;
	} else {
		read_ahead(rp);
	}
	while (end == CHUNK_MORE) {
		end = read_chunk(rp, &fd);
		for (q = 0; q < rp->p.n_queues && fd.qb != NULL; q++)
			if (fd.qb[q].n > 0)
				enqueue_all(rp, q, &fd.qb[q]);
		/* Everything read so far is enqueued: publish its time. */
		if (fd.o.newest_ns != 0)
			__atomic_store_n(&rp->source.watermark_ns, fd.o.newest_ns, __ATOMIC_RELEASE);
		release_behind(rp);
	}
	if (end == CHUNK_STOPPED)
		mark_cut(rp, &fd.o);
	if (fd.stock.n > 0)
		rte_pktmbuf_free_bulk(fd.stock.m, fd.stock.n);
	rte_free(fd.qb);
	/* After cut_window: RX cores read this with acquire. */
	__atomic_store_n(&rp->source.done, true, __ATOMIC_RELEASE);
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
map_classic_pcap(struct dpf_replay *rp)
{
	const char *path = rp->p.path;
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
	rp->swapped = magic == rte_bswap32(PCAP_MAGIC_US) || magic == rte_bswap32(PCAP_MAGIC_NS);
	if (rp->swapped)
		magic = rte_bswap32(magic);
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
		close(fd);
		return 0;
	}
	rp->nanosecond = magic == PCAP_MAGIC_NS;
	rp->snaplen = file_u32(rp, hdr + 16);
	/* The upper bits carry FCS information, not the link type. */
	linktype = file_u32(rp, hdr + 20) & 0x03ffffff;
	if (link_of(linktype, -1, &rp->link) < 0) {
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
	/* Read once, front to back: let the kernel read rp->ahead. */
	madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	rp->map = map;
	rp->map_len = (size_t)st.st_size;
	rp->off = PCAP_FILE_HDR_LEN;
	rp->prefetched = 0;
	return 1;
}

/* The file: mapped when it is a classic pcap, else opened with libpcap. */
static int
open_file(struct dpf_replay *rp)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct stat st;
	int rc;

	rp->regular = stat(rp->p.path, &st) == 0 && S_ISREG(st.st_mode);
	rc = map_classic_pcap(rp);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return 0;
	rp->pc = pcap_open_offline_with_tstamp_precision(rp->p.path, PCAP_TSTAMP_PRECISION_NANO,
							 errbuf);
	if (rp->pc == NULL) {
		DPF_LOG(ERR, ports, "--replay %s: %s\n", rp->p.path, errbuf);
		return -EINVAL;
	}
	if (link_of(0, pcap_datalink(rp->pc), &rp->link) < 0) {
		DPF_LOG(ERR, ports,
			"--replay %s: link type %s, not one dpflow reads: "
			"Ethernet, Linux cooked (SLL, SLL2) or raw IP\n",
			rp->p.path, link_name(pcap_datalink_val_to_name(pcap_datalink(rp->pc))));
		return -EINVAL;
	}
	return 0;
}

/* One ring per RX core: the queues of the ring-backed port. */
static int
create_rings(struct dpf_replay *rp)
{
	char name[RTE_RING_NAMESIZE];
	uint16_t q;

	for (q = 0; q < rp->p.n_queues; q++) {
		snprintf(name, sizeof(name), "replay_rx%u", q);
		rp->rings[q] = rte_ring_create(name, REPLAY_RING_SIZE, rte_socket_id(),
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rp->rings[q] == NULL) {
			DPF_LOG(ERR, ports, "replay ring %u: %s\n", q, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

struct dpf_replay *
dpf_replay_open(const struct dpf_replay_params *p)
{
	struct dpf_replay *rp = rte_zmalloc("dpf_replay", sizeof(*rp), RTE_CACHE_LINE_SIZE);
	int rc;

	if (rp == NULL)
		return dpf_null_errno(ENOMEM);
	rp->p = *p;
	rp->source.cut_window = DPF_WINDOW_NONE;
	rp->ahead.end_rc = 1;
	rc = open_file(rp);
	if (rc == 0) {
		rp->rss = rte_malloc("replay_rss", sizeof(*rp->rss), RTE_CACHE_LINE_SIZE);
		rc = rp->rss == NULL ? -ENOMEM : 0;
	}
	if (rc == 0) {
		dpf_rss_init(rp->rss, dpf_rss_symmetric_key);
		rc = create_rings(rp);
	}
	if (rc != 0) {
		dpf_replay_free(rp);
		rte_errno = -rc;
		return NULL;
	}
	return rp;
}

struct rte_ring **
dpf_replay_rings(struct dpf_replay *rp)
{
	return rp->rings;
}

bool
dpf_replay_attaches(const struct dpf_replay *rp)
{
	return rp->map != NULL && rp->link == LINK_ETHERNET;
}

struct dpf_source *
dpf_replay_source(struct dpf_replay *rp)
{
	return &rp->source;
}

int
dpf_replay_start(struct dpf_replay *rp, struct rte_mempool *pool, uint16_t port, int ts_offset,
		 uint64_t ts_flag, uint32_t frame_room)
{
	int rc;

	rp->frame_room = frame_room;
	rp->pool = pool;
	rp->port = port;
	rp->ts_offset = ts_offset;
	rp->ts_flag = ts_flag;
	rc = rte_ctrl_thread_create(&rp->tid, "dpf-replay", NULL, replay_main, rp);
	if (rc != 0) {
		DPF_LOG(ERR, ports, "replay thread: %s\n", strerror(rc));
		/* No replay thread to say so: RX cores wait for it to end. */
		__atomic_store_n(&rp->source.done, true, __ATOMIC_RELEASE);
		return -rc;
	}
	rp->started = true;
	return 0;
}

bool
dpf_replay_failed(const struct dpf_replay *rp)
{
	return rp->failed;
}

void
dpf_replay_stats_get(const struct dpf_replay *rp, struct dpf_replay_stats *st)
{
#define READ(field, name, what) st->field = dpf_counter_read(&rp->st.field);
	DPF_REPLAY_STATS(READ)
#undef READ
}

void
dpf_replay_join(struct dpf_replay *rp)
{
	if (rp->started)
		pthread_join(rp->tid, NULL);
	rp->started = false;
}

void
dpf_replay_free(struct dpf_replay *rp)
{
	uint16_t q;

	if (rp == NULL)
		return;
	dpf_replay_join(rp);
	ahead_free(rp);
	if (rp->pc != NULL)
		pcap_close(rp->pc);
	/* RX cores have stopped: no mbuf still attached to the file is read. */
	if (rp->map != NULL)
		munmap((void *)(uintptr_t)rp->map, rp->map_len);
	rte_free(rp->rss);
	for (q = 0; q < rp->p.n_queues; q++)
		rte_ring_free(rp->rings[q]);
	rte_free(rp);
}
