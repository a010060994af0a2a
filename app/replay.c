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
 * how queues were scheduled.
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>

#include "dpf_rss.h"
#include "dpflow.h"

#define CHUNK 256

static struct {
	pthread_t tid;
	pcap_t *pc;
	struct dpf_rss *rss;
	bool started;
	bool failed;
} rp;

struct queue_batch {
	struct rte_mbuf *m[DPF_BURST];
	uint32_t n;
};

static bool
enqueue_all(struct dpf_app *app, uint16_t q, struct queue_batch *qb)
{
	uint32_t done = 0;

	while (done < qb->n) {
		done += rte_ring_sp_enqueue_burst(app->replay_rings[q], (void **)&qb->m[done],
						  qb->n - done, NULL);
		if (done < qb->n) {
			if (app->stop) {
				rte_pktmbuf_free_bulk(&qb->m[done], qb->n - done);
				qb->n = 0;
				return false;
			}
			app->rstats.ring_full_waits++;
			sched_yield();
		}
	}
	app->rstats.enqueued += qb->n;
	qb->n = 0;
	return true;
}

static struct rte_mbuf *
alloc_mbuf(struct dpf_app *app)
{
	struct rte_mbuf *m;

	while ((m = rte_pktmbuf_alloc(app->replay_pool)) == NULL) {
		if (app->stop)
			return NULL;
		sched_yield();
	}
	return m;
}

static void *
replay_main(void *arg)
{
	struct dpf_app *app = arg;
	uint16_t nq = (uint16_t)app->cfg.opt.rxq;
	struct queue_batch *qb;
	uint64_t newest_ns = 0, newest_window = 0;
	bool running = true, any = false;
	uint16_t q;

	qb = rte_zmalloc("replay_batches", nq * sizeof(*qb), RTE_CACHE_LINE_SIZE);
	if (qb == NULL) {
		fprintf(stderr, "dpflow: replay: out of memory\n");
		rp.failed = true;
		running = false;
	}
	while (running) {
		unsigned int i;

		for (i = 0; i < CHUNK; i++) {
			struct pcap_pkthdr *h;
			const u_char *data;
			struct rte_mbuf *m;
			struct dpf_pkt_info pi;
			uint64_t t_ns, w;
			uint32_t copy, hash = 0;
			int rc = pcap_next_ex(rp.pc, &h, &data);

			if (rc != 1) {
				if (rc != PCAP_ERROR_BREAK) {
					fprintf(stderr, "dpflow: replay %s: %s\n",
						app->cfg.opt.replay, pcap_geterr(rp.pc));
					rp.failed = true;
				}
				running = false;
				break;
			}
			app->rstats.read++;
			/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
			t_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
			w = dpf_window_start(t_ns);
			if (any && w < newest_window) {
				app->rstats.late++;
				continue;
			}
			any = true;
			newest_window = w;
			if (t_ns > newest_ns)
				newest_ns = t_ns;
			m = alloc_mbuf(app);
			if (m == NULL) {
				running = false;
				break;
			}
			copy = RTE_MIN(h->caplen, (uint32_t)rte_pktmbuf_tailroom(m));
			memcpy(rte_pktmbuf_mtod(m, void *), data, copy);
			m->data_len = (uint16_t)copy;
			m->pkt_len = copy;
			m->port = (uint16_t)app->replay_port;
			/* The NIC's view: hash what parses, queue 0 for the rest. */
			if (dpf_pkt_parse(data, h->caplen, &pi) == DPF_PKT_OK)
				hash = dpf_rss_hash_pkt(rp.rss, &pi);
			m->hash.rss = hash;
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH | app->ts_flag;
			/* Microseconds, as net_pcap writes the field. */
			*RTE_MBUF_DYNFIELD(m, app->ts_offset, uint64_t *) = t_ns / 1000;
			q = dpf_rss_queue(hash, nq);
			qb[q].m[qb[q].n++] = m;
			if (qb[q].n == DPF_BURST && !enqueue_all(app, q, &qb[q])) {
				running = false;
				break;
			}
		}
		for (q = 0; q < nq && qb != NULL; q++)
			if (qb[q].n > 0 && !enqueue_all(app, q, &qb[q]))
				running = false;
		/* Everything read so far is enqueued: publish its time. */
		if (newest_ns != 0)
			__atomic_store_n(&app->watermark_ns, newest_ns, __ATOMIC_RELEASE);
	}
	rte_free(qb);
	__atomic_store_n(&app->source_done, true, __ATOMIC_RELEASE);
	return NULL;
}

int
dpf_replay_open(struct dpf_app *app)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	rp.pc = pcap_open_offline_with_tstamp_precision(app->cfg.opt.replay,
							PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (rp.pc == NULL) {
		fprintf(stderr, "dpflow: --replay %s: %s\n", app->cfg.opt.replay, errbuf);
		return -EINVAL;
	}
	if (pcap_datalink(rp.pc) != DLT_EN10MB) {
		fprintf(stderr, "dpflow: --replay %s: link type %s, only Ethernet is supported\n",
			app->cfg.opt.replay, pcap_datalink_val_to_name(pcap_datalink(rp.pc)));
		pcap_close(rp.pc);
		rp.pc = NULL;
		return -EINVAL;
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
		fprintf(stderr, "dpflow: replay thread: %s\n", strerror(rc));
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
	if (rp.pc != NULL)
		pcap_close(rp.pc);
	rp.pc = NULL;
	rte_free(rp.rss);
	rp.rss = NULL;
}
