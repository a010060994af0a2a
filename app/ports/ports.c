/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the replay source's ring-backed port, and every port EAL probed
 * (NICs, net_pcap, net_af_packet vdevs), configured from its driver profile
 * (drivers.c, drivers-cfg/) masked by what the device reports it can do.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dpf_cfg.h"
#include "dpf_rss.h"
#include "dpflow.h"
#include "drivers.h"
#include "log.h"

#define REPLAY_RING_SIZE 4096
#define MBUF_CACHE 256

static int
create_replay_port(struct dpf_app *app)
{
	struct rte_ring *tx[DPF_MAX_RX_CORES];
	char name[RTE_RING_NAMESIZE];
	uint16_t q;
	int port;

	for (q = 0; q < app->opt->rxq; q++) {
		snprintf(name, sizeof(name), "replay_rx%u", q);
		app->replay_rings[q] = rte_ring_create(name, REPLAY_RING_SIZE, rte_socket_id(),
						       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (app->replay_rings[q] == NULL) {
			DPF_LOG(ERR, ports, "replay ring %u: %s\n", q, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	/* What forward mode sends back towards the capture is dropped by the
	 * ring's consumer below (nobody): rings of one slot count it as a TX drop. */
	for (q = 0; q < app->opt->rxq; q++) {
		snprintf(name, sizeof(name), "replay_tx%u", q);
		tx[q] = rte_ring_create(name, 64, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (tx[q] == NULL) {
			DPF_LOG(ERR, ports, "replay tx ring: %s\n", rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	port = rte_eth_from_rings("dpflow_replay", app->replay_rings, (unsigned int)app->opt->rxq,
				  tx, (unsigned int)app->opt->rxq, rte_socket_id());
	if (port < 0) {
		DPF_LOG(ERR, ports, "replay port: %s\n", rte_strerror(rte_errno));
		return -rte_errno;
	}
	app->replay_port = port;
	return 0;
}

/* Masquerade picks ports whose replies hash to the creating core's queue:
 * the port must use exactly the key and RETA the software predicts with. */
static bool
needs_exact_steering(const struct dpf_app *app)
{
	unsigned int i;

	if (app->opt->forward == NULL)
		return false;
	for (i = 0; i < app->opt->nat_rules.n; i++) {
		const char *r = app->opt->nat_rules.items[i];

		r += strspn(r, " \t");
		if (strncmp(r, "masquerade", 10) == 0 && (r[10] == ' ' || r[10] == '\t'))
			return true;
	}
	return false;
}

/* The driver profile's notes (requested -> configured) are log messages. */
static void
print_notes(struct dpf_drv_port *dp)
{
	FILE *log = dpf_log_stream(dpf_logtype_ports, RTE_LOG_NOTICE);

	dpf_drivers_print_notes(log != NULL ? log : stderr, dp);
	if (log != NULL)
		fclose(log);
}

static int
configure_port(struct dpf_app *app, uint16_t port)
{
	struct rte_eth_dev_info info;
	struct dpf_drv_request req;
	struct dpf_drv_port *dp;
	struct rte_mempool *mp;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nq, ntxq, rxd, txd, q;
	unsigned int n_mbufs;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		DPF_LOG(ERR, ports, "port %u: cannot get device info: %s\n", port,
			rte_strerror(-rc));
		return rc;
	}
	ntxq = 1;
	if (app->forward && app->fwd_peer[port] != DPF_PORT_NONE) {
		/* Each RX core transmits on its own queue of the peer port. */
		ntxq = (uint16_t)app->opt->rxq;
		if (info.max_tx_queues < ntxq) {
			DPF_LOG(ERR, ports,
				"port %u (%s): forward mode with --rxq %u needs %u TX queues, "
				"the device has %u%s%s\n",
				port, info.driver_name, ntxq, ntxq, info.max_tx_queues,
				dpf_drivers_port_has_quirk(port, DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS)
					? "; "
					: "",
				dpf_drivers_port_has_quirk(port, DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS)
					? dpf_drivers_quirk_help(DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS)
					: "");
			return -EINVAL;
		}
	}
	req.rx_queues = (uint16_t)app->opt->rxq;
	req.tx_queues = ntxq;
	req.exact_steering = needs_exact_steering(app);
	dp = dpf_drivers_port_plan(port, &info, &req);
	if (dp == NULL) {
		DPF_LOG(ERR, ports, "port %u (%s): no driver profile selected\n", port,
			info.driver_name);
		return -EINVAL;
	}
	nq = dp->rx_queues;
	/* IPv4 packets above the peer's MTU leave as fragments: chains of a
	 * header mbuf and the payload (rte_ip_frag), where the port takes them. */
	app->port_multiseg[port] = false;
	if (app->forward && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
		dp->eth_conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		app->port_multiseg[port] = true;
	}
	rc = rte_eth_dev_configure(port, nq, ntxq, &dp->eth_conf);
	if (rc != 0) {
		print_notes(dp);
		DPF_LOG(ERR, ports, "port %u (%s): configure with %u RX queues: %s\n", port,
			info.driver_name, nq, rte_strerror(-rc));
		return rc;
	}
	rc = dpf_drivers_port_configured(dp);
	if (rc != 0)
		return rc;
	rxd = dp->configured.rx_desc;
	txd = dp->configured.tx_desc;
	if ((int)port == app->replay_port)
		n_mbufs = (unsigned int)(nq * (REPLAY_RING_SIZE + 2 * DPF_BURST) + 4096);
	else
		n_mbufs = (unsigned int)(nq * (rxd + 2 * DPF_BURST) + txd + 2048);
	snprintf(name, sizeof(name), "mbuf_p%u", port);
	mp = rte_pktmbuf_pool_create(name, n_mbufs, MBUF_CACHE, 0, dp->mbuf_data_room, socket);
	if (mp == NULL) {
		DPF_LOG(ERR, ports, "port %u: mbuf pool of %u: %s\n", port, n_mbufs,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned int)socket, NULL, mp);
		if (rc != 0) {
			DPF_LOG(ERR, ports, "port %u: RX queue %u: %s\n", port, q,
				rte_strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < ntxq; q++) {
		rc = rte_eth_tx_queue_setup(port, q, txd, (unsigned int)socket, NULL);
		if (rc != 0) {
			DPF_LOG(ERR, ports, "port %u: TX queue %u: %s\n", port, q,
				rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		DPF_LOG(ERR, ports, "port %u: start: %s\n", port, rte_strerror(-rc));
		return rc;
	}
	/* Promiscuous mode, the RETA and the symmetric hash function: what the
	 * device refuses becomes a note, not an error. */
	dpf_drivers_port_started(dp);
	print_notes(dp);
	if ((int)port == app->replay_port)
		app->replay_pool = mp;
	app->port_nq[port] = nq;
	app->port_reta_size[port] = dp->reta_size != 0 ? dp->reta_size : DPF_RSS_RETA_SIZE;
	if (rte_eth_dev_get_mtu(port, &app->port_mtu[port]) != 0)
		app->port_mtu[port] = dp->configured.mtu;
	return 0;
}

/*
 * Forward mode: mbufs for IPv4 fragments (rte_ipv4_fragment_packet): a small
 * direct one per fragment for its header (the Ethernet header is prepended
 * in its headroom), an indirect one for the payload it shares with the
 * packet. Enough for every RX core's TX ring and two bursts of fragments.
 */
static int
create_fragment_pools(struct dpf_app *app)
{
	unsigned int n = (unsigned int)app->n_cores * (2048 + 2 * DPF_BURST * 8) + 1024;

	app->frag_direct = rte_pktmbuf_pool_create(
		"frag_direct", n, MBUF_CACHE, 0, RTE_PKTMBUF_HEADROOM + 128, (int)rte_socket_id());
	app->frag_indirect =
		rte_pktmbuf_pool_create("frag_indirect", n, MBUF_CACHE, 0, 0, (int)rte_socket_id());
	if (app->frag_direct == NULL || app->frag_indirect == NULL) {
		DPF_LOG(ERR, ports, "fragment mbuf pools of %u: %s\n", n,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/*
 * Masquerade ports are chosen so that a reply's Toeplitz hash brings it to
 * the session's core (lib/nat): that only holds when every port's queues are
 * spread by exactly that hash, the key and the round-robin RETA dpflow
 * programmed (or the replay source's software RSS), one queue per RX core.
 * Anywhere else a reply may reach any core, and the sessions are shared.
 * Returns why not, or NULL.
 */
static const char *
not_steerable(const struct dpf_app *app, char *why, size_t len)
{
	uint16_t p;

	for (p = 0; p < app->n_ports; p++) {
		uint16_t port = app->ports[p];
		const struct dpf_drv_port *dp = dpf_drivers_port(port);
		const struct dpf_drv_settings *c = &dp->configured;

		if (dpf_drivers_port_has_quirk(port, DPF_DRV_QUIRK_SOFTWARE_RSS))
			continue;
		if (app->port_nq[port] != app->n_cores)
			snprintf(why, len, "port %u (%s) has %u RX queues for %u RX cores", port,
				 dp->driver, app->port_nq[port], app->n_cores);
		else if (dpf_drivers_port_has_quirk(port, DPF_DRV_QUIRK_KERNEL_FANOUT))
			snprintf(why, len,
				 "port %u (%s): RSS is the kernel's fanout, not dpflow's Toeplitz",
				 port, dp->driver);
		else if (c->rss_hash == 0)
			snprintf(why, len, "port %u (%s): no RSS", port, dp->driver);
		else if (!c->rss_key_symmetric || c->symmetric_hash_function ||
			 c->reta_spread != DPF_DRV_RETA_ROUND_ROBIN || dp->reta_size == 0)
			snprintf(why, len,
				 "port %u (%s): RSS is not the symmetric key with the round-robin "
				 "RETA dpflow predicts",
				 port, dp->driver);
		else if (app->port_reta_size[port] != app->port_reta_size[app->ports[0]])
			/* The prediction uses one RETA size for every port. */
			snprintf(why, len, "port %u (%s): a RETA of %u entries, port %u's has %u",
				 port, dp->driver, app->port_reta_size[port], app->ports[0],
				 app->port_reta_size[app->ports[0]]);
		else
			continue;
		return why;
	}
	return NULL;
}

/* Chosen in forward mode even without masquerade rules: the prompt may add
 * some; said at start when there are. */
static void
choose_masquerade_sessions(struct dpf_app *app)
{
	char why[192];
	const char *reason = app->n_cores > 1 ? not_steerable(app, why, sizeof(why)) : NULL;
	const char *how;

	switch (app->opt->nat_sessions) {
	case DPF_NAT_SESSIONS_SHARED:
		app->nat_shared = true;
		how = "sessions shared by all RX cores (--nat-sessions shared)";
		reason = NULL;
		break;
	case DPF_NAT_SESSIONS_PER_CORE:
		app->nat_shared = false;
		how = reason != NULL ? "sessions per RX core (--nat-sessions per-core); replies "
				       "may miss them: "
				     : "sessions per RX core (--nat-sessions per-core)";
		break;
	default:
		app->nat_shared = reason != NULL;
		if (reason != NULL)
			how = "sessions shared by all RX cores (";
		else if (app->n_cores > 1)
			how = "sessions per RX core, ports chosen so that replies hash to their "
			      "core (dpflow's Toeplitz RSS on every port)";
		else
			how = "sessions of the one RX core";
		break;
	}
	if (!needs_exact_steering(app))
		return;
	DPF_LOG(INFO, ports, "masquerade: %s%s%s\n", how, reason != NULL ? reason : "",
		reason != NULL && app->opt->nat_sessions == DPF_NAT_SESSIONS_AUTO ? ")" : "");
}

/* Ports whose driver stamps frames with their capture time (net_pcap reading
 * a file: the timestamp-unix-us quirk) run on the packet clock by default. */
static bool
all_ports_stamp_capture_time(const struct dpf_app *app)
{
	uint16_t p;

	for (p = 0; p < app->n_ports; p++)
		if (!dpf_drivers_port_has_quirk(app->ports[p], DPF_DRV_QUIRK_TIMESTAMP_UNIX_US))
			return false;
	return app->n_ports > 0;
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
	if (app->opt->forward == NULL)
		return 0;
	if (strlen(app->opt->forward) >= sizeof(buf))
		goto bad;
	strcpy(buf, app->opt->forward);
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
			DPF_LOG(ERR, ports,
				"--forward %s: port %" PRIu64 " or %" PRIu64
				" is paired twice or with itself\n",
				app->opt->forward, a, b);
			return -EINVAL;
		}
		for (k = 0; k < 2; k++) {
			uint64_t p = k == 0 ? a : b;
			uint16_t i;
			bool found = false;

			for (i = 0; i < app->n_ports; i++)
				found |= app->ports[i] == p;
			if (!found) {
				DPF_LOG(ERR, ports, "--forward %s: port %" PRIu64
						" does not exist (%u ports)\n",
					app->opt->forward, p, app->n_ports);
				return -EINVAL;
			}
		}
		app->fwd_peer[a] = (uint16_t)b;
		app->fwd_peer[b] = (uint16_t)a;
	}
	app->forward = true;
	return 0;
bad:
	DPF_LOG(ERR, ports, "--forward '%s': expected A:B[,C:D] with port numbers\n",
		app->opt->forward);
	return -EINVAL;
}

/*
 * A capture file's link type (rx_pcap=). @return 0 when it is Ethernet or
 * cannot be read here (the driver opened it: it says what is wrong), else
 * -EINVAL with a message.
 */
static int
check_pcap_file(uint16_t port, const char *driver, const char *key, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	int dlt;

	if (pc == NULL)
		return 0;
	dlt = pcap_datalink(pc);
	pcap_close(pc);
	if (dlt == DLT_EN10MB)
		return 0;
	DPF_LOG(ERR, ports,
		"port %u (%s): %s=%s: link type %s (%s), not Ethernet; replay the file "
		"with --replay, which reads Linux cooked (SLL, SLL2) and raw IP captures\n",
		port, driver, key, path,
		pcap_datalink_val_to_name(dlt) != NULL ? pcap_datalink_val_to_name(dlt) : "?",
		pcap_datalink_val_to_description(dlt) != NULL
			? pcap_datalink_val_to_description(dlt)
			: "unknown");
	return -EINVAL;
}

/* An interface's link layer (iface=), from its ARPHRD type in sysfs. */
static int
check_interface(uint16_t port, const char *driver, const char *key, const char *name)
{
	char path[128];
	unsigned int type;
	FILE *f;
	int n;

	/* libpcap's pseudo-interface of every interface gives cooked frames. */
	if (strcmp(name, "any") == 0) {
		DPF_LOG(ERR, ports,
			"port %u (%s): %s=any: Linux cooked frames, not Ethernet; name "
			"one Ethernet interface per port\n",
			port, driver, key);
		return -EINVAL;
	}
	if (strchr(name, '/') != NULL ||
	    snprintf(path, sizeof(path), "/sys/class/net/%s/type", name) >= (int)sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (f == NULL)
		return 0; /* another sysfs than the interface's namespace: cannot tell */
	n = fscanf(f, "%u", &type);
	fclose(f);
	/* Loopback frames carry an Ethernet header too (zero MACs). */
	if (n != 1 || type == 1 || type == 772)
		return 0;
	DPF_LOG(ERR, ports,
		"port %u (%s): %s=%s: link type ARPHRD %u, not Ethernet; dpflow reads "
		"Ethernet ports\n",
		port, driver, key, name, type);
	return -EINVAL;
}

/*
 * A vdev that passes on the frames of a file or an interface passes on its
 * link layer too: net_pcap reading a `tcpdump -i any` capture delivers cooked
 * headers that the parser would count as not-ip (or misread, for raw IP).
 * Check at start what the devargs name (link-from-devargs quirk).
 */
static int
check_link_layer(uint16_t port)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	struct rte_kvargs *kv;
	unsigned int i;
	int rc = 0;

	if (!dpf_drivers_port_has_quirk(port, DPF_DRV_QUIRK_LINK_FROM_DEVARGS) ||
	    rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
		return 0;
	da = rte_dev_devargs(info.device);
	if (da == NULL || da->args == NULL || da->args[0] == '\0')
		return 0;
	kv = rte_kvargs_parse(da->args, NULL);
	if (kv == NULL)
		return 0;
	for (i = 0; i < kv->count && rc == 0; i++) {
		const char *k = kv->pairs[i].key, *v = kv->pairs[i].value;

		if (v == NULL)
			continue;
		if (strcmp(k, "rx_pcap") == 0)
			rc = check_pcap_file(port, info.driver_name, k, v);
		else if (strcmp(k, "iface") == 0 || strcmp(k, "rx_iface") == 0 ||
			 strcmp(k, "rx_iface_in") == 0)
			rc = check_interface(port, info.driver_name, k, v);
	}
	rte_kvargs_free(kv);
	return rc;
}

/*
 * RX core c polls queue c of every port that has one. When the devices gave
 * fewer queues than --rxq asked for (net_pcap: one per rx_pcap=), the cores
 * past the largest queue count would poll nothing: run without them, and say
 * so, rather than start lcores that never see a packet.
 */
static void
cap_rx_cores(struct dpf_app *app)
{
	uint16_t p, most = 0, c;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0), first_idle;
	char idle[DPF_MAX_RX_CORES * 8] = "";
	int n = 0;

	for (p = 0; p < app->n_ports; p++)
		most = RTE_MAX(most, app->port_nq[app->ports[p]]);
	if (most == 0 || most >= app->n_cores)
		return;
	for (c = 0; c < most; c++)
		lcore = rte_get_next_lcore(lcore, 1, 0);
	first_idle = lcore;
	for (c = most + 1; c < app->n_cores; c++) {
		lcore = rte_get_next_lcore(lcore, 1, 0);
		n += snprintf(idle + n, sizeof(idle) - (size_t)n, ", %u", lcore);
	}
	DPF_LOG(WARNING, ports,
		"--rxq %u: no port has more than %u RX queue%s: running %u RX core%s "
		"(lcore%s %u%s left idle)\n",
		app->n_cores, most, most == 1 ? "" : "s", most, most == 1 ? "" : "s",
		app->n_cores - most > 1 ? "s" : "", first_idle, idle);
	app->n_cores = most;
}

int
dpf_ports_init(struct dpf_app *app)
{
	uint16_t p;
	int rc;

	app->replay_port = -1;
	if (app->opt->replay != NULL) {
		rc = rte_mbuf_dyn_rx_timestamp_register(&app->ts_offset, &app->ts_flag);
		if (rc != 0) {
			DPF_LOG(ERR, ports, "cannot register the mbuf timestamp field: %s\n",
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
			DPF_LOG(ERR, ports, "more than %d ports\n", DPF_MAX_PORTS);
			return -E2BIG;
		}
		app->ports[app->n_ports++] = p;
	}
	if (app->n_ports == 0) {
		DPF_LOG(ERR, ports,
			"no port to poll: bind a NIC to a DPDK driver, add a vdev "
			"(--vdev net_pcap0,rx_pcap=FILE) or use --replay FILE\n");
		return -ENODEV;
	}
	/* Configuration errors first: they stop the start before any port note. */
	{
		struct dpf_ifmap_params ip = {
			.cfg = app->cfg, .ports = app->ports, .n_ports = app->n_ports};

		app->ifmap = dpf_ifmap_create(&ip);
		if (app->ifmap == NULL)
			return -rte_errno;
	}
	rc = parse_forward(app);
	if (rc < 0)
		return rc;
	rc = dpf_drivers_select(app->opt->drivers_cfg, app->ports, app->n_ports);
	if (rc < 0)
		return rc;
	for (p = 0; p < app->n_ports; p++) {
		rc = check_link_layer(app->ports[p]);
		if (rc < 0)
			return rc;
	}
	if (app->clock == DPF_CLOCK_AUTO)
		app->clock = (app->opt->replay != NULL || all_ports_stamp_capture_time(app))
				     ? DPF_CLOCK_PACKET
				     : DPF_CLOCK_WALL;
	if (app->clock == DPF_CLOCK_PACKET && app->opt->replay == NULL) {
		/* A NIC's timestamp offload counts device clock ticks, not Unix
		 * time: only capture-time stamps can place frames in windows. */
		for (p = 0; p < app->n_ports; p++) {
			if (dpf_drivers_port_has_quirk(app->ports[p], DPF_DRV_QUIRK_TIMESTAMP_UNIX_US))
				continue;
			DPF_LOG(ERR, ports,
				"--clock packet: port %u gives no capture time (its driver "
				"profile has no timestamp-unix-us quirk); use --clock wall\n",
				app->ports[p]);
			return -ENOTSUP;
		}
	}
	for (p = 0; p < app->n_ports; p++) {
		rc = configure_port(app, app->ports[p]);
		if (rc != 0)
			return rc;
	}
	cap_rx_cores(app);
	if (app->forward) {
		rc = create_fragment_pools(app);
		if (rc != 0)
			return rc;
		choose_masquerade_sessions(app);
	}
	if (app->clock == DPF_CLOCK_PACKET && app->opt->replay == NULL) {
		/* net_pcap registers the field itself and sets it without advertising
		 * the offload: look it up rather than requesting it. */
		app->ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		rc = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
		if (app->ts_offset < 0 || rc < 0) {
			DPF_LOG(ERR, ports,
				"--clock packet: no port provides packet timestamps; use "
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
	dpf_drivers_close();
}
