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
	struct rte_ring *tx[1];
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
	tx[0] = rte_ring_create("replay_tx", 64, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (tx[0] == NULL) {
		fprintf(stderr, "dpflow: replay tx ring: %s\n", rte_strerror(rte_errno));
		return -rte_errno;
	}
	port = rte_eth_from_rings("dpflow_replay", app->replay_rings, (unsigned int)app->cfg.opt.rxq,
				  tx, 1, rte_socket_id());
	if (port < 0) {
		fprintf(stderr, "dpflow: replay port: %s\n", rte_strerror(rte_errno));
		return -rte_errno;
	}
	app->replay_port = port;
	return 0;
}

static int
configure_port(struct dpf_app *app, uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_mempool *mp;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nq, rxd = RX_DESC, txd = TX_DESC, q;
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
	rc = rte_eth_dev_configure(port, nq, 1, &conf);
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
	rc = rte_eth_tx_queue_setup(port, 0, txd, (unsigned int)socket, NULL);
	if (rc != 0) {
		fprintf(stderr, "dpflow: port %u: TX queue: %s\n", port, rte_strerror(-rc));
		return rc;
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

/* One logged interface per port: from an [interface] section, or a default. */
static int
build_interfaces(struct dpf_app *app)
{
	struct dpf_config *cfg = &app->cfg;
	struct dpf_iface sorted[DPF_MAX_IFACES];
	uint16_t n = 0, i, k;
	static char default_ids[DPF_MAX_PORTS][24];

	for (i = 0; i < cfg->n_ifaces; i++) {
		bool found = false;

		for (k = 0; k < app->n_ports; k++)
			found |= app->ports[k] == cfg->ifaces[i].port;
		if (!found) {
			fprintf(stderr, "dpflow: [interface %s]: port %u does not exist (%u ports)\n",
				cfg->ifaces[i].meta.interface_id, cfg->ifaces[i].port, app->n_ports);
			return -EINVAL;
		}
	}
	for (k = 0; k < app->n_ports; k++) {
		uint16_t port = app->ports[k];
		struct dpf_iface *src = NULL;

		for (i = 0; i < cfg->n_ifaces; i++)
			if (cfg->ifaces[i].port == port)
				src = &cfg->ifaces[i];
		if (src != NULL) {
			sorted[n] = *src;
		} else {
			memset(&sorted[n], 0, sizeof(sorted[n]));
			sorted[n].port = port;
			if (port == 0) {
				sorted[n].meta.interface_id = cfg->opt.interface_id;
			} else {
				snprintf(default_ids[port], sizeof(default_ids[port]), "eni-port%u",
					 port);
				sorted[n].meta.interface_id = default_ids[port];
			}
		}
		n++;
	}
	/* Interface metadata not set in its section comes from the global options. */
	for (i = 0; i < n; i++) {
		struct dpf_iface_meta *m = &sorted[i].meta;

#define INHERIT(field) if (m->field == NULL) m->field = cfg->opt.field
		INHERIT(account_id);
		INHERIT(vpc_id);
		INHERIT(subnet_id);
		INHERIT(instance_id);
		INHERIT(region);
		INHERIT(az_id);
		INHERIT(sublocation_type);
		INHERIT(sublocation_id);
#undef INHERIT
	}
	/* Keep the config's allocations owned by cfg->ifaces; app->ifaces borrows. */
	memcpy(app->ifaces, sorted, n * sizeof(sorted[0]));
	app->n_ifaces = n;
	for (i = 0; i < n; i++)
		app->port_iface[sorted[i].port] = i;
	return 0;
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
	rc = build_interfaces(app);
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
