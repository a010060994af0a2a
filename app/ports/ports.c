/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the replay source's ring-backed port, and every port EAL probed
 * (NICs, net_pcap, net_af_packet vdevs), configured from its driver profile
 * (drivers.c, drivers-cfg/) masked by what the device reports it can do.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "drivers.h"
#include "log.h"
#include "ports.h"
#include "replay.h"
#include "dpf_util.h"

#define REPLAY_RING_SIZE 4096 /* as the replay's rings (replay.c) */
#define MBUF_CACHE 256

struct dpf_ports {
	const struct dpf_options *opt;
	struct dpf_drivers *drivers;		  /* not owned: main frees it after EAL */
	struct dpf_port_conf conf[DPF_MAX_PORTS]; /* by port id */
	struct rte_mempool *pool[DPF_MAX_PORTS];  /* by port id */
	struct rte_ring *replay_tx[DPF_MAX_RX_CORES];
	uint16_t n_replay_tx;
	struct dpf_ports_settled s; /* ports.h: what probe and start settled */
	bool started[DPF_MAX_PORTS];
	bool replay_attaches; /* params: the replay's mbufs need no data room */
};

/* The replay source's queues as a port (rte_eth_from_rings). */
static int
create_replay_port(struct dpf_ports *ps, struct rte_ring **rx, uint16_t nq)
{
	char name[RTE_RING_NAMESIZE];
	uint16_t q;
	int port;

	/* What forward mode sends back towards the capture is dropped by the
	 * ring's consumer below (nobody): rings of one slot count it as a TX drop. */
	for (q = 0; q < nq; q++) {
		snprintf(name, sizeof(name), "replay_tx%u", q);
		ps->replay_tx[q] =
			rte_ring_create(name, 64, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (ps->replay_tx[q] == NULL) {
			DPF_LOG(ERR, ports, "replay tx ring: %s\n", rte_strerror(rte_errno));
			return -rte_errno;
		}
		ps->n_replay_tx++;
	}
	port = rte_eth_from_rings("dpflow_replay", rx, nq, ps->replay_tx, nq, rte_socket_id());
	if (port < 0) {
		DPF_LOG(ERR, ports, "replay port: %s\n", rte_strerror(rte_errno));
		return -rte_errno;
	}
	ps->s.replay_port = port;
	return 0;
}

/* Masquerade picks ports whose replies hash to the creating core's queue:
 * the port must use exactly the key and RETA the software predicts with. */
static bool
needs_exact_steering(const struct dpf_ports *ps)
{
	unsigned int i;

	if (ps->opt->forward == NULL)
		return false;
	for (i = 0; i < ps->opt->nat_rules.n; i++) {
		const char *r = ps->opt->nat_rules.items[i];

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

/* Forward mode: each RX core transmits on its own queue of the peer port. */
static int
tx_queues(const struct dpf_ports *ps, uint16_t port, const struct rte_eth_dev_info *info,
	  uint16_t *ntxq)
{
	bool devargs =
		dpf_drivers_port_has_quirk(ps->drivers, port, DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS);

	*ntxq = 1;
	if (!ps->s.forward || ps->conf[port].peer == DPF_PORT_NONE)
		return 0;
	*ntxq = (uint16_t)ps->opt->rxq;
	if (info->max_tx_queues >= *ntxq)
		return 0;
	DPF_LOG(ERR, ports,
		"port %u (%s): forward mode with --rxq %u needs %u TX queues, "
		"the device has %u%s%s\n",
		port, info->driver_name, *ntxq, *ntxq, info->max_tx_queues, devargs ? "; " : "",
		devargs ? dpf_drivers_quirk_help(DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS) : "");
	return -EINVAL;
}

/* The profile's plan for a port, configured on the device. */
static struct dpf_drv_port *
plan_port(struct dpf_ports *ps, uint16_t port, uint16_t *ntxq, int *rc)
{
	struct rte_eth_dev_info info;
	struct dpf_pkt_decap_cfg decap;
	struct dpf_drv_request req;
	struct dpf_drv_port *dp;

	*rc = rte_eth_dev_info_get(port, &info);
	if (*rc != 0) {
		DPF_LOG(ERR, ports, "port %u: cannot get device info: %s\n", port,
			rte_strerror(-*rc));
		return NULL;
	}
	*rc = tx_queues(ps, port, &info, ntxq);
	if (*rc != 0)
		return NULL;
	req.rx_queues = (uint16_t)ps->opt->rxq;
	req.tx_queues = *ntxq;
	req.exact_steering = needs_exact_steering(ps);
	dpf_config_decap(ps->opt, &decap);
	req.decap = &decap;
	dp = dpf_drivers_port_plan(ps->drivers, port, &info, &req);
	if (dp == NULL) {
		DPF_LOG(ERR, ports, "port %u (%s): no driver profile selected\n", port,
			info.driver_name);
		*rc = -EINVAL;
		return NULL;
	}
	/* IPv4 packets above the peer's MTU leave as fragments: chains of a
	 * header mbuf and the payload (rte_ip_frag), where the port takes them. */
	ps->conf[port].multiseg = false;
	if (ps->s.forward && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
		dp->eth_conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		ps->conf[port].multiseg = true;
	}
	*rc = rte_eth_dev_configure(port, dp->rx_queues, *ntxq, &dp->eth_conf);
	if (*rc != 0) {
		print_notes(dp);
		DPF_LOG(ERR, ports, "port %u (%s): configure with %u RX queues: %s\n", port,
			info.driver_name, dp->rx_queues, rte_strerror(-*rc));
		return NULL;
	}
	*rc = dpf_drivers_port_configured(dp);
	return *rc == 0 ? dp : NULL;
}

/*
 * The mbufs' data room: the planned one, but an attaching replay's mbufs
 * only hold the attachment's shared info (the frames stay in the mapped
 * file). A full-sized pool was most of a small replay's start-up: creating
 * it writes every mbuf's header, so every page of ~19 MB was touched.
 * Forward mode keeps the planned room: fragments are copied into mbufs of
 * the packet's own pool when the peer takes no chains (engine_forward.c).
 */
static uint16_t
pool_data_room(struct dpf_ports *ps, uint16_t port, const struct dpf_drv_port *dp)
{
	if ((int)port != ps->s.replay_port)
		return dp->mbuf_data_room;
	ps->s.replay_frame_room = (uint32_t)(dp->mbuf_data_room - RTE_PKTMBUF_HEADROOM);
	if (!ps->replay_attaches || ps->s.forward)
		return dp->mbuf_data_room;
	return (uint16_t)(RTE_PKTMBUF_HEADROOM + DPF_REPLAY_ATTACH_ROOM);
}

/* The port's mbuf pool and its RX and TX queues. */
static int
setup_queues(struct dpf_ports *ps, uint16_t port, const struct dpf_drv_port *dp, uint16_t ntxq)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nq = dp->rx_queues, rxd = dp->configured.rx_desc, txd = dp->configured.tx_desc;
	int socket = rte_eth_dev_socket_id(port);
	unsigned int n_mbufs;
	uint16_t q;
	int rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	if ((int)port == ps->s.replay_port)
		n_mbufs = (unsigned int)(nq * (REPLAY_RING_SIZE + 2 * DPF_BURST) + 4096);
	else
		n_mbufs = (unsigned int)(nq * (rxd + 2 * DPF_BURST) + txd + 2048);
	snprintf(name, sizeof(name), "mbuf_p%u", port);
	ps->pool[port] = rte_pktmbuf_pool_create(name, n_mbufs, MBUF_CACHE, 0,
						 pool_data_room(ps, port, dp), socket);
	if (ps->pool[port] == NULL) {
		DPF_LOG(ERR, ports, "port %u: mbuf pool of %u: %s\n", port, n_mbufs,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned int)socket, NULL,
					    ps->pool[port]);
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
	return 0;
}

static int
configure_port(struct dpf_ports *ps, uint16_t port)
{
	struct dpf_drv_port *dp;
	uint16_t ntxq;
	int rc;

	dp = plan_port(ps, port, &ntxq, &rc);
	if (dp == NULL)
		return rc;
	rc = setup_queues(ps, port, dp, ntxq);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		DPF_LOG(ERR, ports, "port %u: start: %s\n", port, rte_strerror(-rc));
		return rc;
	}
	ps->started[port] = true;
	/* Promiscuous mode, the RETA and the symmetric hash function: what the
	 * device refuses becomes a note, not an error. */
	dpf_drivers_port_started(dp);
	print_notes(dp);
	ps->conf[port].n_rxq = dp->rx_queues;
	ps->conf[port].reta_size = dp->reta_size != 0 ? dp->reta_size : DPF_RSS_RETA_SIZE;
	if (rte_eth_dev_get_mtu(port, &ps->conf[port].mtu) != 0)
		ps->conf[port].mtu = dp->configured.mtu;
	return 0;
}

/*
 * Forward mode: mbufs for IPv4 fragments (rte_ipv4_fragment_packet): a small
 * direct one per fragment for its header (the Ethernet header is prepended
 * in its headroom), an indirect one for the payload it shares with the
 * packet. Enough for every RX core's TX ring and two bursts of fragments.
 */
static int
create_fragment_pools(struct dpf_ports *ps)
{
	unsigned int n = (unsigned int)ps->s.n_cores * (2048 + 2 * DPF_BURST * 8) + 1024;

	ps->s.frag_direct = rte_pktmbuf_pool_create(
		"frag_direct", n, MBUF_CACHE, 0, RTE_PKTMBUF_HEADROOM + 128, (int)rte_socket_id());
	ps->s.frag_indirect =
		rte_pktmbuf_pool_create("frag_indirect", n, MBUF_CACHE, 0, 0, (int)rte_socket_id());
	if (ps->s.frag_direct == NULL || ps->s.frag_indirect == NULL) {
		DPF_LOG(ERR, ports, "fragment mbuf pools of %u: %s\n", n, rte_strerror(rte_errno));
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
not_steerable(const struct dpf_ports *ps, char *why, size_t len)
{
	uint16_t p;

	for (p = 0; p < ps->s.n_ports; p++) {
		uint16_t port = ps->s.ids[p];
		const struct dpf_drv_port *dp = dpf_drivers_port(ps->drivers, port);
		const struct dpf_drv_settings *c = &dp->configured;

		if (dpf_drivers_port_has_quirk(ps->drivers, port, DPF_DRV_QUIRK_SOFTWARE_RSS))
			continue;
		if (ps->conf[port].n_rxq != ps->s.n_cores)
			snprintf(why, len, "port %u (%s) has %u RX queues for %u RX cores", port,
				 dp->driver, ps->conf[port].n_rxq, ps->s.n_cores);
		else if (dpf_drivers_port_has_quirk(ps->drivers, port, DPF_DRV_QUIRK_KERNEL_FANOUT))
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
		else if (ps->conf[port].reta_size != ps->conf[ps->s.ids[0]].reta_size)
			/* The prediction uses one RETA size for every port. */
			snprintf(why, len, "port %u (%s): a RETA of %u entries, port %u's has %u",
				 port, dp->driver, ps->conf[port].reta_size, ps->s.ids[0],
				 ps->conf[ps->s.ids[0]].reta_size);
		else
			continue;
		return why;
	}
	return NULL;
}

/* Chosen in forward mode even without masquerade rules: the prompt may add
 * some; said at start when there are. */
static void
choose_masquerade_sessions(struct dpf_ports *ps)
{
	char why[192];
	const char *reason = ps->s.n_cores > 1 ? not_steerable(ps, why, sizeof(why)) : NULL;
	const char *how;

	switch (ps->opt->nat_sessions) {
	case DPF_NAT_SESSIONS_SHARED:
		ps->s.nat_shared = true;
		how = "sessions shared by all RX cores (--nat-sessions shared)";
		reason = NULL;
		break;
	case DPF_NAT_SESSIONS_PER_CORE:
		ps->s.nat_shared = false;
		how = reason != NULL ? "sessions per RX core (--nat-sessions per-core); replies "
				       "may miss them: "
				     : "sessions per RX core (--nat-sessions per-core)";
		break;
	default:
		ps->s.nat_shared = reason != NULL;
		if (reason != NULL)
			how = "sessions shared by all RX cores (";
		else if (ps->s.n_cores > 1)
			how = "sessions per RX core, ports chosen so that replies hash to their "
			      "core (dpflow's Toeplitz RSS on every port)";
		else
			how = "sessions of the one RX core";
		break;
	}
	if (!needs_exact_steering(ps))
		return;
	DPF_LOG(INFO, ports, "masquerade: %s%s%s\n", how, reason != NULL ? reason : "",
		reason != NULL && ps->opt->nat_sessions == DPF_NAT_SESSIONS_AUTO ? ")" : "");
}

/* Ports whose driver stamps frames with their capture time (net_pcap reading
 * a file: the timestamp-unix-us quirk) run on the packet clock by default. */
static bool
all_ports_stamp_capture_time(const struct dpf_ports *ps)
{
	uint16_t p;

	for (p = 0; p < ps->s.n_ports; p++)
		if (!dpf_drivers_port_has_quirk(ps->drivers, ps->s.ids[p],
						DPF_DRV_QUIRK_TIMESTAMP_UNIX_US))
			return false;
	return ps->s.n_ports > 0;
}

/* --forward A:B[,C:D]: each port in at most one pair, the two ports distinct. */
static int
parse_forward(struct dpf_ports *ps)
{
	char buf[256];
	char *save = NULL, *tok;
	uint16_t k;

	for (k = 0; k < DPF_MAX_PORTS; k++)
		ps->conf[k].peer = DPF_PORT_NONE;
	if (ps->opt->forward == NULL)
		return 0;
	if (strlen(ps->opt->forward) >= sizeof(buf))
		goto bad;
	strcpy(buf, ps->opt->forward);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint64_t a, b;
		char *colon = strchr(tok, ':');

		if (colon == NULL)
			goto bad;
		*colon = '\0';
		if (dpf_cfg_parse_u64(tok, 0, DPF_MAX_PORTS - 1, &a) < 0 ||
		    dpf_cfg_parse_u64(colon + 1, 0, DPF_MAX_PORTS - 1, &b) < 0)
			goto bad;
		if (a == b || ps->conf[a].peer != DPF_PORT_NONE ||
		    ps->conf[b].peer != DPF_PORT_NONE) {
			DPF_LOG(ERR, ports,
				"--forward %s: port %" PRIu64 " or %" PRIu64
				" is paired twice or with itself\n",
				ps->opt->forward, a, b);
			return -EINVAL;
		}
		for (k = 0; k < 2; k++) {
			uint64_t p = k == 0 ? a : b;
			uint16_t i;
			bool found = false;

			for (i = 0; i < ps->s.n_ports; i++)
				found |= ps->s.ids[i] == p;
			if (!found) {
				DPF_LOG(ERR, ports,
					"--forward %s: port %" PRIu64
					" does not exist (%u ports)\n",
					ps->opt->forward, p, ps->s.n_ports);
				return -EINVAL;
			}
		}
		ps->conf[a].peer = (uint16_t)b;
		ps->conf[b].peer = (uint16_t)a;
	}
	ps->s.forward = true;
	return 0;
bad:
	DPF_LOG(ERR, ports, "--forward '%s': expected A:B[,C:D] with port numbers\n",
		ps->opt->forward);
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
check_link_layer(const struct dpf_drivers *drivers, uint16_t port)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	struct rte_kvargs *kv;
	unsigned int i;
	int rc = 0;

	if (!dpf_drivers_port_has_quirk(drivers, port, DPF_DRV_QUIRK_LINK_FROM_DEVARGS) ||
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
cap_rx_cores(struct dpf_ports *ps)
{
	uint16_t p, most = 0, c;
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0), first_idle;
	char idle[DPF_MAX_RX_CORES * 8] = "";
	int n = 0;

	for (p = 0; p < ps->s.n_ports; p++)
		most = RTE_MAX(most, ps->conf[ps->s.ids[p]].n_rxq);
	if (most == 0 || most >= ps->s.n_cores)
		return;
	for (c = 0; c < most; c++)
		lcore = rte_get_next_lcore(lcore, 1, 0);
	first_idle = lcore;
	for (c = most + 1; c < ps->s.n_cores; c++) {
		lcore = rte_get_next_lcore(lcore, 1, 0);
		n += snprintf(idle + n, sizeof(idle) - (size_t)n, ", %u", lcore);
	}
	DPF_LOG(WARNING, ports,
		"--rxq %u: no port has more than %u RX queue%s: running %u RX core%s "
		"(lcore%s %u%s left idle)\n",
		ps->s.n_cores, most, most == 1 ? "" : "s", most, most == 1 ? "" : "s",
		ps->s.n_cores - most > 1 ? "s" : "", first_idle, idle);
	ps->s.n_cores = most;
}

struct dpf_ports *
dpf_ports_probe(const struct dpf_ports_params *p)
{
	struct dpf_ports *ps = calloc(1, sizeof(*ps));
	uint16_t port;
	int rc = 0;

	if (ps == NULL)
		return dpf_null_errno(ENOMEM);
	ps->opt = p->opt;
	ps->drivers = p->drivers;
	ps->replay_attaches = p->replay_attaches;
	ps->s.replay_port = -1;
	ps->s.ts_offset = -1;
	for (port = 0; port < DPF_MAX_PORTS; port++)
		ps->conf[port].peer = DPF_PORT_NONE;
	if (p->replay_rings != NULL) {
		rc = rte_mbuf_dyn_rx_timestamp_register(&ps->s.ts_offset, &ps->s.ts_flag);
		if (rc != 0)
			DPF_LOG(ERR, ports, "cannot register the mbuf timestamp field: %s\n",
				rte_strerror(rte_errno));
		else
			rc = create_replay_port(ps, p->replay_rings, p->n_replay_rings);
	}
	RTE_ETH_FOREACH_DEV(port)
	{
		if (rc != 0)
			break;
		if (ps->s.n_ports == DPF_MAX_PORTS || port >= DPF_MAX_PORTS) {
			DPF_LOG(ERR, ports, "more than %d ports\n", DPF_MAX_PORTS);
			rc = -E2BIG;
			break;
		}
		ps->s.ids[ps->s.n_ports++] = port;
	}
	if (rc == 0 && ps->s.n_ports == 0) {
		DPF_LOG(ERR, ports,
			"no port to poll: bind a NIC to a DPDK driver, add a vdev "
			"(--vdev net_pcap0,rx_pcap=FILE) or use --replay FILE\n");
		rc = -ENODEV;
	}
	if (rc != 0) {
		dpf_ports_free(ps);
		rte_errno = -rc;
		return NULL;
	}
	return ps;
}

/*
 * The clock: packet for the replay and for ports that stamp frames with
 * their capture time, wall otherwise. A NIC's timestamp offload counts
 * device clock ticks, not Unix time: only capture-time stamps can place
 * frames in windows.
 */
static int
settle_clock(struct dpf_ports *ps)
{
	uint16_t p;

	if (ps->s.clock == DPF_CLOCK_AUTO)
		ps->s.clock = (ps->opt->replay != NULL || all_ports_stamp_capture_time(ps))
				      ? DPF_CLOCK_PACKET
				      : DPF_CLOCK_WALL;
	if (ps->s.clock != DPF_CLOCK_PACKET || ps->opt->replay != NULL)
		return 0;
	for (p = 0; p < ps->s.n_ports; p++) {
		if (dpf_drivers_port_has_quirk(ps->drivers, ps->s.ids[p],
					       DPF_DRV_QUIRK_TIMESTAMP_UNIX_US))
			continue;
		DPF_LOG(ERR, ports,
			"--clock packet: port %u gives no capture time (its driver "
			"profile has no timestamp-unix-us quirk); use --clock wall\n",
			ps->s.ids[p]);
		return -ENOTSUP;
	}
	return 0;
}

/* net_pcap registers the timestamp field itself and sets it without
 * advertising the offload: look it up rather than requesting it. */
static int
find_timestamps(struct dpf_ports *ps)
{
	int flag;

	if (ps->s.clock != DPF_CLOCK_PACKET || ps->opt->replay != NULL)
		return 0;
	ps->s.ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	flag = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	if (ps->s.ts_offset < 0 || flag < 0) {
		DPF_LOG(ERR, ports,
			"--clock packet: no port provides packet timestamps; use "
			"--clock wall\n");
		return -ENOTSUP;
	}
	ps->s.ts_flag = 1ull << flag;
	return 0;
}

int
dpf_ports_start(struct dpf_ports *ps)
{
	uint16_t p;
	int rc;

	ps->s.clock = (enum dpf_clock)ps->opt->clock;
	ps->s.n_cores = (uint16_t)ps->opt->rxq;
	rc = parse_forward(ps);
	if (rc == 0)
		rc = dpf_drivers_select(ps->drivers, ps->opt->drivers_cfg, ps->s.ids,
					ps->s.n_ports);
	for (p = 0; p < ps->s.n_ports && rc == 0; p++)
		rc = check_link_layer(ps->drivers, ps->s.ids[p]);
	if (rc == 0)
		rc = settle_clock(ps);
	for (p = 0; p < ps->s.n_ports && rc == 0; p++)
		rc = configure_port(ps, ps->s.ids[p]);
	if (rc != 0)
		return rc;
	cap_rx_cores(ps);
	if (ps->s.forward) {
		rc = create_fragment_pools(ps);
		if (rc != 0)
			return rc;
		choose_masquerade_sessions(ps);
	}
	return find_timestamps(ps);
}

void
dpf_ports_free(struct dpf_ports *ps)
{
	uint16_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->s.n_ports; i++) {
		if (ps->started[ps->s.ids[i]])
			rte_eth_dev_stop(ps->s.ids[i]);
		rte_eth_dev_close(ps->s.ids[i]);
	}
	dpf_drivers_close(ps->drivers);
	for (i = 0; i < DPF_MAX_PORTS; i++)
		rte_mempool_free(ps->pool[i]);
	rte_mempool_free(ps->s.frag_direct);
	rte_mempool_free(ps->s.frag_indirect);
	for (i = 0; i < ps->n_replay_tx; i++)
		rte_ring_free(ps->replay_tx[i]);
	free(ps);
}

const struct dpf_ports_settled *
dpf_ports_settled(const struct dpf_ports *ps)
{
	return &ps->s;
}

const struct dpf_port_conf *
dpf_ports_conf(const struct dpf_ports *ps, uint16_t port)
{
	return &ps->conf[port];
}

struct rte_mempool *
dpf_ports_replay_pool(const struct dpf_ports *ps)
{
	return ps->s.replay_port >= 0 ? ps->pool[ps->s.replay_port] : NULL;
}

bool
dpf_ports_drops_unreported(const struct dpf_ports *ps, uint16_t port)
{
	return dpf_drivers_port_has_quirk(ps->drivers, port, DPF_DRV_QUIRK_RX_DROPS_UNREPORTED);
}

void
dpf_ports_show_config(const struct dpf_ports *ps, FILE *f)
{
	dpf_drivers_show_config(f, ps->drivers);
}

void
dpf_ports_show_info(const struct dpf_ports *ps, FILE *f, uint16_t port)
{
	const struct dpf_port_conf *c = &ps->conf[port];
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];

	if (rte_eth_dev_info_get(port, &info) != 0)
		return;
	rte_eth_dev_get_name_by_port(port, name);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(port, &link);
	fprintf(f, "port %u name: %s\n", port, name);
	fprintf(f, "port %u driver: %s\n", port, info.driver_name);
	fprintf(f, "port %u socket: %d\n", port, rte_eth_dev_socket_id(port));
	fprintf(f, "port %u link: %s\n", port, link.link_status ? "up" : "down");
	fprintf(f, "port %u link-speed-mbps: %u\n", port, link.link_speed);
	fprintf(f, "port %u rx-queues: %u\n", port, c->n_rxq);
	fprintf(f, "port %u max-rx-queues: %u\n", port, info.max_rx_queues);
	fprintf(f, "port %u rss-offloads: 0x%" PRIx64 "\n", port, info.flow_type_rss_offloads);
	fprintf(f, "port %u reta-size: %u\n", port, c->reta_size);
	if (ps->s.forward && c->peer != DPF_PORT_NONE)
		fprintf(f, "port %u forward-peer: %u\n", port, c->peer);
	else
		fprintf(f, "port %u forward-peer: -\n", port);
}

void
dpf_ports_show_profile(const struct dpf_ports *ps, FILE *f, uint16_t port)
{
	/* The driver profile: requested -> configured, with the reason. */
	dpf_drivers_show(f, ps->drivers, port);
}
