/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port planner: profile x rte_eth_dev_info x request -> the plan
 * (drv_plan.h). Every rule here is ethdev's or the device's as reported;
 * the reason texts are what the start-up notes and show port info print
 * (doc/drivers-cfg.md "Requested and configured").
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_kvargs.h>
#include <rte_mbuf.h>

#include "dpf_cfg.h"
#include "dpf_rss.h"
#include "drv_plan.h"

#define DEFAULT_KEY_LEN 40 /* when a device does not report its key size */
#define VLAN_TAGS_LEN 8	   /* QinQ on top of what the device counts as overhead */
/* net_af_packet's framesz= devarg (its default 2048 when absent or unreadable). */
#define AF_PACKET_FRAME_SIZE_DEFAULT 2048

void
dpf_drv_port_set_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet, const char *fmt,
			...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dp->reason[k], sizeof(dp->reason[k]), fmt, ap);
	va_end(ap);
	dp->quiet[k] = quiet;
	dp->logged[k] = false;
}

void
dpf_drv_port_add_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet, const char *fmt,
			...)
{
	char more[DPF_DRV_REASON_LEN];
	size_t used = strlen(dp->reason[k]);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(more, sizeof(more), fmt, ap);
	va_end(ap);
	snprintf(dp->reason[k] + used, sizeof(dp->reason[k]) - used, "%s%s", used ? "; " : "",
		 more);
	dp->quiet[k] = used != 0 ? dp->quiet[k] && quiet : quiet;
	dp->logged[k] = false;
}

static bool
has_quirk(const struct dpf_drv_settings *s, enum dpf_drv_quirk q)
{
	return (s->quirks & (1ull << q)) != 0;
}

static void
plan_queues(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info,
	    const struct dpf_drv_request *req)
{
	bool devargs = has_quirk(&dp->requested, DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS);

	dp->rx_queues_requested = req->rx_queues;
	dp->rx_queues = (uint16_t)RTE_MIN(req->rx_queues, info->max_rx_queues);
	if (dp->rx_queues == 0)
		dp->rx_queues = 1;
	if (dp->rx_queues < req->rx_queues)
		snprintf(dp->rx_queues_reason, sizeof(dp->rx_queues_reason), "device maximum%s%s",
			 devargs ? "; queues-from-devargs: " : "",
			 devargs ? dpf_drivers_quirk_help(DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS) : "");
}

static uint16_t
adjust_desc(uint16_t want, const struct rte_eth_desc_lim *lim)
{
	/* rte_eth_dev_adjust_nb_rx_tx_desc's rule, so the plan can say why. */
	uint32_t n = want;

	if (lim->nb_align != 0)
		n = RTE_ALIGN_CEIL(n, lim->nb_align);
	if (lim->nb_max != 0)
		n = RTE_MIN(n, (uint32_t)lim->nb_max);
	n = RTE_MAX(n, (uint32_t)lim->nb_min);
	return (uint16_t)RTE_MIN(n, (uint32_t)UINT16_MAX);
}

static void
plan_desc(struct dpf_drv_port *dp, enum dpf_drv_key k, const struct rte_eth_desc_lim *lim)
{
	uint16_t *want = k == DPF_DRV_RX_DESC ? &dp->requested.rx_desc : &dp->requested.tx_desc;
	uint16_t *got = k == DPF_DRV_RX_DESC ? &dp->configured.rx_desc : &dp->configured.tx_desc;

	*got = adjust_desc(*want, lim);
	if (*got != *want)
		dpf_drv_port_set_reason(dp, k, false, "device limits %u..%u, multiple of %u",
					lim->nb_min, lim->nb_max,
					lim->nb_align ? lim->nb_align : 1);
	if (has_quirk(&dp->requested, DPF_DRV_QUIRK_DESC_CAPPED_BY_HOST))
		dpf_drv_port_add_reason(dp, k, false, "desc-capped-by-host: %s",
					dpf_drivers_quirk_help(DPF_DRV_QUIRK_DESC_CAPPED_BY_HOST));
}

/* The hash types: requested ∩ what the device hashes; none with one queue. */
static uint64_t
plan_rss_hash(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info)
{
	const struct dpf_drv_settings *want = &dp->requested;
	uint64_t hf = want->rss_hash & info->flow_type_rss_offloads;
	bool sw = has_quirk(want, DPF_DRV_QUIRK_SOFTWARE_RSS);
	char names[128], have[128];

	dp->rss_hash_capa = info->flow_type_rss_offloads;
	dpf_drivers_format_rss_hash(want->rss_hash, names, sizeof(names));
	dpf_drivers_format_rss_hash(hf, have, sizeof(have));
	if (hf != want->rss_hash && strcmp(names, have) == 0) {
		/* The device's own spelling of the same packet types. */
		dpf_drv_port_set_reason(dp, DPF_DRV_RSS_HASH, true,
					"RTE_ETH_RSS bits 0x%" PRIx64 " of 0x%" PRIx64, hf,
					want->rss_hash);
	} else if (hf != want->rss_hash && hf == 0) {
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RSS_HASH, false, "the device reports no RSS hash types%s%s",
			sw ? "; software-rss: " : "",
			sw ? dpf_drivers_quirk_help(DPF_DRV_QUIRK_SOFTWARE_RSS) : "");
	} else if (hf != want->rss_hash) {
		dpf_drivers_format_rss_hash(info->flow_type_rss_offloads, names, sizeof(names));
		dpf_drv_port_set_reason(dp, DPF_DRV_RSS_HASH, false,
					"the device hashes %s (flow_type_rss_offloads 0x%" PRIx64
					")",
					names, info->flow_type_rss_offloads);
	}
	if (hf != 0 && dp->rx_queues < 2) {
		hf = 0;
		dpf_drv_port_set_reason(dp, DPF_DRV_RSS_HASH, true,
					"one RX queue: nothing to spread");
	}
	dp->configured.rss_hash = hf;
	return hf;
}

/* Without RSS there is no key, no hash function and no RETA: said quietly. */
static void
plan_no_rss(struct dpf_drv_port *dp)
{
	const struct dpf_drv_settings *want = &dp->requested;
	struct dpf_drv_settings *got = &dp->configured;

	got->rss_key_symmetric = false;
	got->rss_key_len = 0;
	memset(got->rss_key, 0, sizeof(got->rss_key));
	if (want->rss_key_symmetric || want->rss_key_len != 0)
		dpf_drv_port_set_reason(dp, DPF_DRV_RSS_KEY, true, "no RSS");
	got->symmetric_hash_function = false;
	if (want->symmetric_hash_function)
		dpf_drv_port_set_reason(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, true, "no RSS");
	got->reta_spread = DPF_DRV_RETA_NONE;
	dpf_drv_port_set_reason(dp, DPF_DRV_RETA_SPREAD, true, "no RSS");
}

/* The key: the profile's hex key at the device's size, else the symmetric one. */
static void
plan_rss_key(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info,
	     const struct dpf_drv_request *req)
{
	const struct dpf_drv_settings *want = &dp->requested;
	struct dpf_drv_settings *got = &dp->configured;
	unsigned int key_len, i;

	key_len = info->hash_key_size != 0 ? info->hash_key_size : DEFAULT_KEY_LEN;
	if (key_len > DPF_DRV_RSS_KEY_MAX)
		key_len = DPF_DRV_RSS_KEY_MAX;
	if (!want->rss_key_symmetric && want->rss_key_len != key_len)
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RSS_KEY, false,
			"the device's key is %u bytes, the profile's %u: using the symmetric key",
			key_len, want->rss_key_len);
	else if (!want->rss_key_symmetric && req->exact_steering)
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RSS_KEY, false,
			"masquerade steering predicts reply queues with the symmetric key");
	if (want->rss_key_symmetric || dp->reason[DPF_DRV_RSS_KEY][0] != '\0') {
		/* 0x6d5a repeated is symmetric at any length (design.md section 1). */
		for (i = 0; i < key_len; i++)
			got->rss_key[i] = dpf_rss_symmetric_key[i % 2];
		got->rss_key_symmetric = true;
	} else {
		memcpy(got->rss_key, want->rss_key, key_len);
		got->rss_key_symmetric = false;
	}
	got->rss_key_len = (uint8_t)key_len;
}

/* Masquerade predicts reply queues with the plain Toeplitz hash and a
 * round-robin RETA: a port under it uses exactly those. */
static void
plan_steering(struct dpf_drv_port *dp, const struct dpf_drv_request *req)
{
	const struct dpf_drv_settings *want = &dp->requested;
	struct dpf_drv_settings *got = &dp->configured;

	if (!req->exact_steering)
		return;
	if (want->symmetric_hash_function) {
		got->symmetric_hash_function = false;
		dpf_drv_port_set_reason(
			dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, false,
			"masquerade steering predicts reply queues with the plain Toeplitz hash");
	}
	if (want->reta_spread != DPF_DRV_RETA_ROUND_ROBIN) {
		got->reta_spread = DPF_DRV_RETA_ROUND_ROBIN;
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RETA_SPREAD, false,
			"masquerade steering predicts reply queues with a round-robin RETA");
	}
}

static void
plan_rss(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info,
	 const struct dpf_drv_request *req)
{
	struct rte_eth_rss_conf *rss = &dp->eth_conf.rx_adv_conf.rss_conf;
	uint64_t hf = plan_rss_hash(dp, info);

	if (hf == 0) {
		plan_no_rss(dp);
		return;
	}
	plan_rss_key(dp, info, req);
	plan_steering(dp, req);
	dp->eth_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	rss->rss_key = dp->configured.rss_key;
	rss->rss_key_len = dp->configured.rss_key_len;
	rss->rss_hf = hf;
}

static uint32_t
frame_overhead(const struct rte_eth_dev_info *info)
{
	/* ethdev's rule for what an MTU adds up to on the wire. */
	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		return info->max_rx_pktlen - info->max_mtu;
	return RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
}

static void
plan_mtu(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info)
{
	uint32_t max_mtu = info->max_mtu, overhead = frame_overhead(info);
	uint16_t want = dp->requested.mtu, *got = &dp->configured.mtu;

	if (info->max_rx_pktlen > overhead)
		max_mtu = RTE_MIN(max_mtu, info->max_rx_pktlen - overhead);
	if (max_mtu == 0 || max_mtu < info->min_mtu)
		max_mtu = info->min_mtu;
	*got = want;
	if (*got > max_mtu)
		*got = (uint16_t)max_mtu;
	if (*got < info->min_mtu)
		*got = info->min_mtu;
	if (*got != want)
		dpf_drv_port_set_reason(dp, DPF_DRV_MTU, false, "device MTU range %u..%u",
					info->min_mtu, max_mtu);
	dp->eth_conf.rxmode.mtu = *got;
}

/* @return the offloads asked of the device (the configured ones less those a
 * quirk provides without it). */
static uint64_t
plan_offloads(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info)
{
	const struct dpf_drv_settings *want = &dp->requested;
	uint64_t hw = want->rx_offloads & info->rx_offload_capa, by_quirk = 0, missing;
	char names[128];

	dp->rx_offload_capa = info->rx_offload_capa;
	if ((want->rx_offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    !(hw & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    has_quirk(want, DPF_DRV_QUIRK_TIMESTAMP_UNIX_US)) {
		by_quirk = RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RX_OFFLOADS, true,
			"timestamp-unix-us: the driver stamps the capture time itself");
	}
	dp->configured.rx_offloads = hw | by_quirk;
	missing = want->rx_offloads & ~dp->configured.rx_offloads;
	if (missing != 0) {
		dpf_drivers_format_rx_offloads(missing, names, sizeof(names));
		dpf_drv_port_add_reason(dp, DPF_DRV_RX_OFFLOADS, false,
					"the device does not offer %s (rx_offload_capa 0x%" PRIx64
					")",
					names, info->rx_offload_capa);
	}
	if ((hw & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    has_quirk(want, DPF_DRV_QUIRK_TIMESTAMP_SLOW_PATH))
		dpf_drv_port_add_reason(dp, DPF_DRV_RX_OFFLOADS, false, "timestamp-slow-path: %s",
					dpf_drivers_quirk_help(DPF_DRV_QUIRK_TIMESTAMP_SLOW_PATH));
	dp->eth_conf.rxmode.offloads = hw;
	return hw;
}

static uint32_t
devargs_frame_size(const char *devargs)
{
	struct rte_kvargs *kv;
	const char *v;
	uint64_t size = AF_PACKET_FRAME_SIZE_DEFAULT;

	if (devargs == NULL)
		return (uint32_t)size;
	kv = rte_kvargs_parse(devargs, NULL);
	if (kv == NULL)
		return (uint32_t)size;
	v = rte_kvargs_get(kv, "framesz");
	if (v != NULL && dpf_cfg_parse_u64(v, 1, UINT16_MAX, &size) < 0)
		size = AF_PACKET_FRAME_SIZE_DEFAULT;
	rte_kvargs_free(kv);
	return (uint32_t)size;
}

/* A frame of the MTU, two VLAN tags included, fits one mbuf unless the port
 * chains segments. */
static void
plan_mbuf(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info, uint64_t hw_offloads,
	  const struct dpf_drv_request *req)
{
	uint32_t overhead = frame_overhead(info), need;

	need = dp->configured.mtu +
	       RTE_MAX(overhead, (uint32_t)(RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN)) +
	       VLAN_TAGS_LEN + RTE_PKTMBUF_HEADROOM;
	/* The driver delivers frames up to its ring frame, which can exceed the
	 * MTU (af_packet: IPv4 datagrams the kernel reassembled). */
	if (has_quirk(&dp->requested, DPF_DRV_QUIRK_FRAME_SIZE_FROM_DEVARGS))
		need = RTE_MAX(need, devargs_frame_size(req->devargs) + RTE_PKTMBUF_HEADROOM);
	dp->mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	if (need > RTE_MBUF_DEFAULT_BUF_SIZE && !(hw_offloads & RTE_ETH_RX_OFFLOAD_SCATTER))
		dp->mbuf_data_room =
			(uint16_t)RTE_MIN(RTE_ALIGN_CEIL(need, 1024), (uint32_t)UINT16_MAX);
}

/* default_devargs: what dpf_drivers_vdev_defaults() added to this port's --vdev. */
static void
plan_default_devargs(struct dpf_drv_port *dp, const struct dpf_drv_request *req)
{
	struct dpf_drv_settings *got = &dp->configured;

	snprintf(got->default_devargs, sizeof(got->default_devargs), "%s",
		 req->devargs_added != NULL ? req->devargs_added : "");
	if (req->devargs_added != NULL && req->devargs_given != NULL &&
	    req->devargs_given[0] != '\0')
		dpf_drv_port_set_reason(dp, DPF_DRV_DEFAULT_DEVARGS, true, "--vdev gave %s itself",
					req->devargs_given);
	else if (req->devargs_added == NULL && dp->requested.default_devargs[0] != '\0')
		dpf_drv_port_set_reason(dp, DPF_DRV_DEFAULT_DEVARGS, true, "not a --vdev argument");
}

/* Inner RSS needs tunnels to open and RSS on the port; the device decides when started. */
static void
plan_inner_rss(struct dpf_drv_port *dp, const struct dpf_drv_request *req)
{
	struct dpf_drv_settings *got = &dp->configured;

	if (!dp->requested.inner_rss)
		return;
	got->inner_rss = false;
	if (req->decap == NULL || req->decap->types == 0)
		dpf_drv_port_set_reason(dp, DPF_DRV_INNER_RSS, true,
					"no tunnel is opened (--decap none)");
	else if (got->rss_hash == 0)
		dpf_drv_port_set_reason(dp, DPF_DRV_INNER_RSS, true, "no RSS");
	else
		got->inner_rss = true;
	if (got->inner_rss)
		dp->decap = *req->decap;
}

void
dpf_drivers_plan(struct dpf_drv_port *dp, const struct dpf_drv_profile *prof,
		 const struct rte_eth_dev_info *info, const struct dpf_drv_request *req)
{
	uint16_t port = dp->port;
	uint64_t hw_offloads;

	memset(dp, 0, sizeof(*dp));
	dp->port = port;
	dp->planned = true;
	snprintf(dp->driver, sizeof(dp->driver), "%s",
		 info->driver_name != NULL ? info->driver_name : "?");
	dp->profile = prof;
	dp->requested = prof->s;
	dp->configured = prof->s;

	plan_queues(dp, info, req);
	plan_desc(dp, DPF_DRV_RX_DESC, &info->rx_desc_lim);
	plan_desc(dp, DPF_DRV_TX_DESC, &info->tx_desc_lim);
	plan_rss(dp, info, req);
	plan_inner_rss(dp, req);
	plan_mtu(dp, info);
	hw_offloads = plan_offloads(dp, info);
	plan_mbuf(dp, info, hw_offloads, req);
	plan_default_devargs(dp, req);
}

uint16_t
dpf_drivers_plan_reta(struct dpf_drv_port *dp, uint16_t reta_size,
		      struct rte_eth_rss_reta_entry64 *reta)
{
	uint16_t i;

	if (dp->configured.rss_hash == 0 || dp->configured.reta_spread != DPF_DRV_RETA_ROUND_ROBIN)
		return 0;
	if (reta_size == 0 || reta_size > DPF_DRV_RETA_MAX) {
		dp->configured.reta_spread = DPF_DRV_RETA_DRIVER;
		dpf_drv_port_set_reason(dp, DPF_DRV_RETA_SPREAD, false,
					"the device reports a RETA of %u entries", reta_size);
		return 0;
	}
	memset(reta, 0, DPF_DRV_RETA_GROUPS * sizeof(*reta));
	for (i = 0; i < reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			i % dp->rx_queues;
	}
	return reta_size;
}

unsigned int
dpf_drivers_plan_sym_rules(const struct dpf_drv_port *dp,
			   struct dpf_drv_sym_rule rules[DPF_DRV_MAX_SYM_FLOWS])
{
	/* The RSS type of each pattern eth / l3 [/ l4]: a row an l3, a column an l4. */
	static const enum rte_flow_item_type l4[] = {
		RTE_FLOW_ITEM_TYPE_END, RTE_FLOW_ITEM_TYPE_TCP, RTE_FLOW_ITEM_TYPE_UDP,
		RTE_FLOW_ITEM_TYPE_SCTP};
	static const struct {
		enum rte_flow_item_type l3;
		uint64_t type[RTE_DIM(l4)];
	} by_l3[] = {
		{RTE_FLOW_ITEM_TYPE_IPV4,
		 {RTE_ETH_RSS_IPV4, RTE_ETH_RSS_NONFRAG_IPV4_TCP, RTE_ETH_RSS_NONFRAG_IPV4_UDP,
		  RTE_ETH_RSS_NONFRAG_IPV4_SCTP}},
		{RTE_FLOW_ITEM_TYPE_IPV6,
		 {RTE_ETH_RSS_IPV6, RTE_ETH_RSS_NONFRAG_IPV6_TCP, RTE_ETH_RSS_NONFRAG_IPV6_UDP,
		  RTE_ETH_RSS_NONFRAG_IPV6_SCTP}},
	};
	unsigned int n = 0;

	RTE_BUILD_BUG_ON(RTE_DIM(by_l3) * RTE_DIM(l4) > DPF_DRV_MAX_SYM_FLOWS);
	if (!dp->configured.symmetric_hash_function || dp->configured.rss_hash == 0)
		return 0;
	for (unsigned int i = 0; i < RTE_DIM(by_l3); i++)
		for (unsigned int j = 0; j < RTE_DIM(l4); j++)
			if ((dp->configured.rss_hash & by_l3[i].type[j]) != 0)
				rules[n++] = (struct dpf_drv_sym_rule){by_l3[i].l3, l4[j],
								       by_l3[i].type[j]};
	return n;
}

static unsigned int
inner_rules_of(const struct dpf_pkt_decap_cfg *d, enum rte_flow_item_type l3,
	       struct dpf_drv_inner_rule *r)
{
	unsigned int n = 0, i;

	if (d->types & DPF_PKT_TUN_BIT(DPF_TUN_VXLAN))
		for (i = 0; i < d->n_vxlan_ports; i++)
			r[n++] = (struct dpf_drv_inner_rule){l3, RTE_FLOW_ITEM_TYPE_UDP,
							     d->vxlan_ports[i],
							     RTE_FLOW_ITEM_TYPE_VXLAN};
	if (d->types & DPF_PKT_TUN_BIT(DPF_TUN_GENEVE))
		r[n++] = (struct dpf_drv_inner_rule){
			l3, RTE_FLOW_ITEM_TYPE_UDP, DPF_PKT_GENEVE_PORT, RTE_FLOW_ITEM_TYPE_GENEVE};
	if (d->types & DPF_PKT_TUN_BIT(DPF_TUN_GRE))
		r[n++] = (struct dpf_drv_inner_rule){l3, RTE_FLOW_ITEM_TYPE_END, 0,
						     RTE_FLOW_ITEM_TYPE_GRE};
	if (d->types & DPF_PKT_TUN_BIT(DPF_TUN_IPIP)) {
		r[n++] = (struct dpf_drv_inner_rule){l3, RTE_FLOW_ITEM_TYPE_END, 0,
						     RTE_FLOW_ITEM_TYPE_IPV4};
		r[n++] = (struct dpf_drv_inner_rule){l3, RTE_FLOW_ITEM_TYPE_END, 0,
						     RTE_FLOW_ITEM_TYPE_IPV6};
	}
	return n;
}

unsigned int
dpf_drivers_plan_inner_rules(const struct dpf_drv_port *dp,
			     struct dpf_drv_inner_rule rules[DPF_DRV_MAX_INNER_FLOWS])
{
	unsigned int n;

	if (!dp->configured.inner_rss || dp->configured.rss_hash == 0)
		return 0;
	n = inner_rules_of(&dp->decap, RTE_FLOW_ITEM_TYPE_IPV4, rules);
	return n + inner_rules_of(&dp->decap, RTE_FLOW_ITEM_TYPE_IPV6, rules + n);
}
