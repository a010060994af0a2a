/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the replay source's ring-backed port, and every port EAL probed
 * (NICs, net_pcap, net_af_packet vdevs), configured with a symmetric RSS
 * key masked by what the device reports it can do.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dpf_cfg.h"
#include "dpf_rss.h"
#include "dpflow.h"

#define RX_DESC 1024
#define TX_DESC 512
#define REPLAY_RING_SIZE 4096
#define MBUF_CACHE 256

/* What we ask of a NIC's RSS: IP addresses plus TCP/UDP/SCTP ports. */
#define WANTED_RSS_HF                                                                \
	(RTE_ETH_RSS_IP | RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP |   \
	 RTE_ETH_RSS_NONFRAG_IPV4_SCTP | RTE_ETH_RSS_NONFRAG_IPV6_TCP |                   \
	 RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_NONFRAG_IPV6_SCTP)

static uint8_t rss_key[64];

static int
create_replay_port(struct dpf_app *app)
{
	struct rte_ring *tx[DPF_MAX_RX_CORES];
	char name[RTE_RING_NAMESIZE];
	uint16_t q;
	int port;

	for (q = 0; q < app->cfg.opt.rxq; q++) {
		snprintf(name, sizeof(name), "replay_rx%u", q);
		app->replay_rings[q] = rte_ring_create(name, REPLAY_RING_SIZE, rte_socket_id(),
						       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (app->replay_rings[q] == NULL) {
			fprintf(stderr, "dpflow: replay ring %u: %s\n", q, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	/* What forward mode sends back towards the capture is dropped by the
	 * ring's consumer below (nobody): rings of one slot count it as a TX drop. */
	for (q = 0; q < app->cfg.opt.rxq; q++) {
		snprintf(name, sizeof(name), "replay_tx%u", q);
		tx[q] = rte_ring_create(name, 64, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (tx[q] == NULL) {
			fprintf(stderr, "dpflow: replay tx ring: %s\n", rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	port = rte_eth_from_rings("dpflow_replay", app->replay_rings, (unsigned int)app->cfg.opt.rxq,
				  tx, (unsigned int)app->cfg.opt.rxq, rte_socket_id());
	if (port < 0) {
		fprintf(stderr, "dpflow: replay port: %s\n", rte_strerror(rte_errno));
		return -rte_errno;
	}
	app->replay_port = port;
	return 0;
}

/*
 * Fill the RETA round-robin ourselves rather than trusting the driver's
 * default: masquerade chooses ports whose replies hash to the creating
 * core's queue, which needs the exact table.
 */
static void
program_reta(uint16_t port, const struct rte_eth_dev_info *info, uint16_t nq,
	     struct dpf_app *app)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t i;
	int rc;

	if (info->reta_size > RTE_ETH_RSS_RETA_SIZE_512)
		return;
	memset(reta, 0, sizeof(reta));
	for (i = 0; i < info->reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % nq;
	}
	rc = rte_eth_dev_rss_reta_update(port, reta, info->reta_size);
	if (rc == 0)
		app->port_reta_size[port] = info->reta_size;
	else
		fprintf(stderr,
			"dpflow: port %u (%s): requested a round-robin RETA of %u entries, "
			"configured the driver's default (%s); masquerade steering may miss\n",
			port, info->driver_name, info->reta_size, rte_strerror(-rc));
}

static int
configure_port(struct dpf_app *app, uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_mempool *mp;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nq, ntxq, rxd = RX_DESC, txd = TX_DESC, q;
	unsigned int n_mbufs;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		fprintf(stderr, "dpflow: port %u: cannot get device info: %s\n", port,
			rte_strerror(-rc));
		return rc;
	}
	nq = (uint16_t)RTE_MIN(app->cfg.opt.rxq, (uint64_t)info.max_rx_queues);
	if (nq < app->cfg.opt.rxq)
		fprintf(stderr,
			"dpflow: port %u (%s): requested %" PRIu64 " RX queues, configured %u "
			"(device maximum)\n",
			port, info.driver_name, app->cfg.opt.rxq, nq);

	memset(&conf, 0, sizeof(conf));
	if (nq > 1) {
		uint64_t hf = WANTED_RSS_HF & info.flow_type_rss_offloads;
		uint8_t key_len = info.hash_key_size ? info.hash_key_size : DPF_RSS_KEY_LEN;
		unsigned int i;

		/* 0x6d5a repeated is symmetric at any key length (40 or 52 bytes). */
		for (i = 0; i < sizeof(rss_key); i++)
			rss_key[i] = dpf_rss_symmetric_key[i % 2];
		if (key_len > sizeof(rss_key))
			key_len = sizeof(rss_key);
		if (hf == 0) {
			fprintf(stderr,
				"dpflow: port %u (%s): requested RSS on IP/TCP/UDP/SCTP, configured "
				"none (device offers no RSS); queues are filled by the driver\n",
				port, info.driver_name);
		} else {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_key = rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = key_len;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
			if (hf != WANTED_RSS_HF)
				fprintf(stderr,
					"dpflow: port %u (%s): requested RSS hash types 0x%" PRIx64
					", configured 0x%" PRIx64 "\n",
					port, info.driver_name, (uint64_t)WANTED_RSS_HF, hf);
		}
	}
	ntxq = 1;
	if (app->forward && app->fwd_peer[port] != DPF_PORT_NONE) {
		/* Each RX core transmits on its own queue of the peer port. */
		ntxq = (uint16_t)app->cfg.opt.rxq;
		if (info.max_tx_queues < ntxq) {
			fprintf(stderr,
				"dpflow: port %u (%s): forward mode with --rxq %u needs %u TX queues, "
				"the device has %u%s\n",
				port, info.driver_name, ntxq, ntxq, info.max_tx_queues,
				strcmp(info.driver_name, "net_pcap") == 0
					? " (net_pcap: one tx_pcap= per queue)"
					: "");
			return -EINVAL;
		}
	}
	rc = rte_eth_dev_configure(port, nq, ntxq, &conf);
	if (rc != 0) {
		fprintf(stderr, "dpflow: port %u (%s): configure with %u RX queues: %s\n", port,
			info.driver_name, nq, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc != 0) {
		fprintf(stderr, "dpflow: port %u: descriptors: %s\n", port, rte_strerror(-rc));
		return rc;
	}
	if ((int)port == app->replay_port)
		n_mbufs = (unsigned int)(nq * (REPLAY_RING_SIZE + 2 * DPF_BURST) + 4096);
	else
		n_mbufs = (unsigned int)(nq * (rxd + 2 * DPF_BURST) + txd + 2048);
	snprintf(name, sizeof(name), "mbuf_p%u", port);
	mp = rte_pktmbuf_pool_create(name, n_mbufs, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     socket);
	if (mp == NULL) {
		fprintf(stderr, "dpflow: port %u: mbuf pool of %u: %s\n", port, n_mbufs,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned int)socket, NULL, mp);
		if (rc != 0) {
			fprintf(stderr, "dpflow: port %u: RX queue %u: %s\n", port, q,
				rte_strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < ntxq; q++) {
		rc = rte_eth_tx_queue_setup(port, q, txd, (unsigned int)socket, NULL);
		if (rc != 0) {
			fprintf(stderr, "dpflow: port %u: TX queue %u: %s\n", port, q,
				rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		fprintf(stderr, "dpflow: port %u: start: %s\n", port, rte_strerror(-rc));
		return rc;
	}
	/* A probe must see every frame; drivers without the knob are fine. */
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0 && rc != -ENOTSUP)
		fprintf(stderr, "dpflow: port %u: promiscuous mode: %s\n", port, rte_strerror(-rc));
	if ((int)port == app->replay_port)
		app->replay_pool = mp;
	app->port_nq[port] = nq;
	app->port_reta_size[port] = DPF_RSS_RETA_SIZE;
	if (nq > 1 && conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS && info.reta_size > 0)
		program_reta(port, &info, nq, app);
	return 0;
}

static bool
all_ports_are_pcap(void)
{
	struct rte_eth_dev_info info;
	uint16_t p;
	bool any = false;

	RTE_ETH_FOREACH_DEV(p) {
		if (rte_eth_dev_info_get(p, &info) != 0 || strcmp(info.driver_name, "net_pcap") != 0)
			return false;
		any = true;
	}
	return any;
}

/* --forward A:B[,C:D]: each port in at most one pair, the two ports distinct. */
static int
parse_forward(struct dpf_app *app)
{
	char buf[256];
	char *save = NULL, *tok;
	uint16_t k;

	for (k = 0; k < DPF_MAX_PORTS; k++)
		app->fwd_peer[k] = DPF_PORT_NONE;
	if (app->cfg.opt.forward == NULL)
		return 0;
	if (strlen(app->cfg.opt.forward) >= sizeof(buf))
		goto bad;
	strcpy(buf, app->cfg.opt.forward);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint64_t a, b;
		char *colon = strchr(tok, ':');

		if (colon == NULL)
			goto bad;
		*colon = '\0';
		if (dpf_cfg_parse_u64(tok, 0, DPF_MAX_PORTS - 1, &a) < 0 ||
		    dpf_cfg_parse_u64(colon + 1, 0, DPF_MAX_PORTS - 1, &b) < 0)
			goto bad;
		if (a == b || app->fwd_peer[a] != DPF_PORT_NONE || app->fwd_peer[b] != DPF_PORT_NONE) {
			fprintf(stderr,
				"dpflow: --forward %s: port %" PRIu64 " or %" PRIu64
				" is paired twice or with itself\n",
				app->cfg.opt.forward, a, b);
			return -EINVAL;
		}
		for (k = 0; k < 2; k++) {
			uint64_t p = k == 0 ? a : b;
			uint16_t i;
			bool found = false;

			for (i = 0; i < app->n_ports; i++)
				found |= app->ports[i] == p;
			if (!found) {
				fprintf(stderr, "dpflow: --forward %s: port %" PRIu64
						" does not exist (%u ports)\n",
					app->cfg.opt.forward, p, app->n_ports);
				return -EINVAL;
			}
		}
		app->fwd_peer[a] = (uint16_t)b;
		app->fwd_peer[b] = (uint16_t)a;
	}
	app->forward = true;
	return 0;
bad:
	fprintf(stderr, "dpflow: --forward '%s': expected A:B[,C:D] with port numbers\n",
		app->cfg.opt.forward);
	return -EINVAL;
}

int
dpf_ports_init(struct dpf_app *app)
{
	uint16_t p;
	int rc;

	app->replay_port = -1;
	if (app->cfg.opt.replay != NULL) {
		rc = rte_mbuf_dyn_rx_timestamp_register(&app->ts_offset, &app->ts_flag);
		if (rc != 0) {
			fprintf(stderr, "dpflow: cannot register the mbuf timestamp field: %s\n",
				rte_strerror(rte_errno));
			return -rte_errno;
		}
		rc = create_replay_port(app);
		if (rc < 0)
			return rc;
	}
	app->n_ports = 0;
	RTE_ETH_FOREACH_DEV(p) {
		if (app->n_ports == DPF_MAX_PORTS || p >= DPF_MAX_PORTS) {
			fprintf(stderr, "dpflow: more than %d ports\n", DPF_MAX_PORTS);
			return -E2BIG;
		}
		app->ports[app->n_ports++] = p;
	}
	if (app->n_ports == 0) {
		fprintf(stderr,
			"dpflow: no port to poll: bind a NIC to a DPDK driver, add a vdev "
			"(--vdev net_pcap0,rx_pcap=FILE) or use --replay FILE\n");
		return -ENODEV;
	}
	rc = dpf_ifaces_build(app);
	if (rc < 0)
		return rc;
	rc = parse_forward(app);
	if (rc < 0)
		return rc;
	if (app->clock == DPF_CLOCK_AUTO)
		app->clock = (app->cfg.opt.replay != NULL || all_ports_are_pcap()) ? DPF_CLOCK_PACKET
										     : DPF_CLOCK_WALL;
	for (p = 0; p < app->n_ports; p++) {
		rc = configure_port(app, app->ports[p]);
		if (rc != 0)
			return rc;
	}
	if (app->clock == DPF_CLOCK_PACKET && app->cfg.opt.replay == NULL) {
		/* net_pcap registers the field itself and sets it without advertising
		 * the offload: look it up rather than requesting it. */
		app->ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		rc = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
		if (app->ts_offset < 0 || rc < 0) {
			fprintf(stderr,
				"dpflow: --clock packet: no port provides packet timestamps; use "
				"--clock wall\n");
			return -ENOTSUP;
		}
		app->ts_flag = 1ull << rc;
	}
	return 0;
}

void
dpf_ports_close(struct dpf_app *app)
{
	uint16_t i;

	for (i = 0; i < app->n_ports; i++) {
		rte_eth_dev_stop(app->ports[i]);
		rte_eth_dev_close(app->ports[i]);
	}
}
