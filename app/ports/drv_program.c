/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Programming a port as planned: descriptors, promiscuous mode, the RETA and
 * the symmetric hash function through rte_flow (drv_program.h).
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "dpf_rss.h"
#include "drv_program.h"

int
dpf_drv_program_configured(struct dpf_drv_port *dp)
{
	uint16_t rxd = dp->configured.rx_desc, txd = dp->configured.tx_desc;
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port, &rxd, &txd);
	if (rc != 0)
		return rc;
	if (rxd != dp->configured.rx_desc)
		dpf_drv_port_set_reason(dp, DPF_DRV_RX_DESC, false,
					"the driver adjusted it after configure");
	if (txd != dp->configured.tx_desc)
		dpf_drv_port_set_reason(dp, DPF_DRV_TX_DESC, false,
					"the driver adjusted it after configure");
	dp->configured.rx_desc = rxd;
	dp->configured.tx_desc = txd;
	return 0;
}

/* What the queues report beats what was asked (virtio caps silently). */
static void
program_queue_report(struct dpf_drv_port *dp)
{
	struct dpf_drv_settings *got = &dp->configured;
	struct rte_eth_rxq_info rxq;
	struct rte_eth_txq_info txq;

	if (rte_eth_rx_queue_info_get(dp->port, 0, &rxq) == 0 && rxq.nb_desc != 0 &&
	    rxq.nb_desc != got->rx_desc) {
		got->rx_desc = rxq.nb_desc;
		dpf_drv_port_set_reason(dp, DPF_DRV_RX_DESC, false, "the queue reports %u",
					rxq.nb_desc);
	}
	if (rte_eth_tx_queue_info_get(dp->port, 0, &txq) == 0 && txq.nb_desc != 0 &&
	    txq.nb_desc != got->tx_desc) {
		got->tx_desc = txq.nb_desc;
		dpf_drv_port_set_reason(dp, DPF_DRV_TX_DESC, false, "the queue reports %u",
					txq.nb_desc);
	}
}

static void
program_promiscuous(struct dpf_drv_port *dp)
{
	bool want = dp->requested.promiscuous;
	int rc = 0;

	if (want)
		rc = rte_eth_promiscuous_enable(dp->port);
	dp->configured.promiscuous = rte_eth_promiscuous_get(dp->port) == 1;
	if (want && !dp->configured.promiscuous)
		dpf_drv_port_set_reason(dp, DPF_DRV_PROMISCUOUS, false, "the driver refused it: %s",
					rte_strerror(rc < 0 ? -rc : ENOTSUP));
	else if (!want && dp->configured.promiscuous)
		dpf_drv_port_set_reason(dp, DPF_DRV_PROMISCUOUS, true, "the driver's default");
}

static void
program_reta(struct dpf_drv_port *dp)
{
	struct rte_eth_rss_reta_entry64 reta[DPF_DRV_RETA_GROUPS];
	struct rte_eth_dev_info info;
	uint16_t n;
	int rc;

	/* Some drivers (vmxnet3) know their RETA size only once configured. */
	rc = rte_eth_dev_info_get(dp->port, &info);
	n = dpf_drivers_plan_reta(dp, rc == 0 ? info.reta_size : 0, reta);
	if (n == 0)
		return;
	rc = rte_eth_dev_rss_reta_update(dp->port, reta, n);
	if (rc != 0) {
		dp->configured.reta_spread = DPF_DRV_RETA_DRIVER;
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RETA_SPREAD, false,
			"the RETA update of %u entries failed: %s; masquerade steering may miss", n,
			rte_strerror(-rc));
		return;
	}
	dp->reta_size = n;
}

static void
destroy_flows(uint16_t port, struct rte_flow **flows, unsigned int *n)
{
	struct rte_flow_error ferr;

	while (*n > 0)
		rte_flow_destroy(port, flows[--*n], &ferr);
}

/*
 * One RSS rule, validated then created and kept in flows[*n]. A refusal says
 * in why what the device said and undoes every rule in flows: a port gets a
 * whole set of rules or none.
 */
static int
rss_flow_add(uint16_t port, const struct rte_flow_item *pattern,
	     const struct rte_flow_action_rss *rss, const char *what, struct rte_flow **flows,
	     unsigned int *n, char *why, size_t why_len)
{
	const struct rte_flow_attr attr = {.ingress = 1};
	const struct rte_flow_action actions[] = {
		{.type = RTE_FLOW_ACTION_TYPE_RSS, .conf = rss},
		{.type = RTE_FLOW_ACTION_TYPE_END},
	};
	struct rte_flow_error ferr;
	struct rte_flow *flow = NULL;

	memset(&ferr, 0, sizeof(ferr));
	if (rte_flow_validate(port, &attr, pattern, actions, &ferr) == 0)
		flow = rte_flow_create(port, &attr, pattern, actions, &ferr);
	if (flow == NULL) {
		snprintf(why, why_len, "the device refused an rte_flow %s rule: %s", what,
			 ferr.message != NULL ? ferr.message : rte_strerror(rte_errno));
		destroy_flows(port, flows, n);
		return -ENOTSUP;
	}
	flows[(*n)++] = flow;
	return 0;
}

/*
 * The device's symmetric Toeplitz function is reached through rte_flow in
 * DPDK 22.11 (ethdev gained rss_conf.algorithm only in 23.11): the planned
 * rules (no queue list, no key). Any refusal undoes every rule made.
 */
static int
create_symmetric_flows(struct dpf_drv_port *dp, const struct dpf_drv_sym_rule *rules,
		       unsigned int n, char *why, size_t why_len)
{
	unsigned int r;

	for (r = 0; r < n; r++) {
		struct rte_flow_action_rss rss = {
			.func = RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ,
			.level = 0,
			.types = rules[r].type,
		};
		struct rte_flow_item pattern[] = {
			{.type = RTE_FLOW_ITEM_TYPE_ETH},
			{.type = rules[r].l3},
			{.type = rules[r].l4},
			{.type = RTE_FLOW_ITEM_TYPE_END},
		};

		if (rss_flow_add(dp->port, pattern, &rss, "symmetric_toeplitz", dp->sym_flows,
				 &dp->n_sym_flows, why, why_len) < 0)
			return -ENOTSUP;
	}
	return 0;
}

/*
 * Inner RSS (--decap): one rule per tunnel and outer family, RSS level 2 of
 * the port's types, over every RX queue, with the port's hash function and
 * key (symmetric either way). Any refusal undoes every rule made.
 */
static int
create_inner_flows(struct dpf_drv_port *dp, const struct dpf_drv_inner_rule *rules, unsigned int n,
		   char *why, size_t why_len)
{
	const struct dpf_drv_settings *got = &dp->configured;
	uint16_t queues[RTE_MAX_QUEUES_PER_PORT];
	unsigned int r, q;

	for (q = 0; q < dp->rx_queues && q < RTE_DIM(queues); q++)
		queues[q] = (uint16_t)q;
	for (r = 0; r < n; r++) {
		struct rte_flow_item_udp udp = {.hdr.dst_port = rte_cpu_to_be_16(rules[r].udp_dst)};
		struct rte_flow_item_udp udp_mask = {.hdr.dst_port = RTE_BE16(0xffff)};
		struct rte_flow_action_rss rss = {
			.func = got->symmetric_hash_function
					? RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ
					: RTE_ETH_HASH_FUNCTION_DEFAULT,
			.level = 2,
			.types = got->rss_hash,
			.key_len = got->symmetric_hash_function ? 0 : got->rss_key_len,
			.key = got->symmetric_hash_function ? NULL : got->rss_key,
			.queue_num = q,
			.queue = queues,
		};
		struct rte_flow_item pattern[] = {
			{.type = RTE_FLOW_ITEM_TYPE_ETH},
			{.type = rules[r].l3},
			{.type = rules[r].l4, .spec = &udp, .mask = &udp_mask},
			{.type = rules[r].tunnel},
			{.type = RTE_FLOW_ITEM_TYPE_END},
		};

		/* Without a UDP item the tunnel item follows the outer IP header. */
		if (rules[r].l4 != RTE_FLOW_ITEM_TYPE_UDP) {
			pattern[2] = pattern[3];
			pattern[3] = pattern[4];
		}
		if (rss_flow_add(dp->port, pattern, &rss, "inner RSS (level 2)", dp->inner_flows,
				 &dp->n_inner_flows, why, why_len) < 0)
			return -ENOTSUP;
	}
	return 0;
}

/* Without the function only a symmetric key keeps both directions of a
 * connection on one core: program it instead of the profile's. */
static void
fall_back_to_symmetric_key(struct dpf_drv_port *dp)
{
	struct dpf_drv_settings *got = &dp->configured;
	struct rte_eth_rss_conf conf = {
		.rss_key = got->rss_key,
		.rss_key_len = got->rss_key_len,
		.rss_hf = got->rss_hash,
	};
	unsigned int i;
	int rc;

	for (i = 0; i < got->rss_key_len; i++)
		got->rss_key[i] = dpf_rss_symmetric_key[i % 2];
	rc = rte_eth_dev_rss_hash_update(dp->port, &conf);
	if (rc == 0) {
		got->rss_key_symmetric = true;
		dpf_drv_port_set_reason(dp, DPF_DRV_RSS_KEY, false,
					"no symmetric hash function: the symmetric key instead");
		return;
	}
	memcpy(got->rss_key, dp->requested.rss_key, got->rss_key_len);
	dpf_drv_port_set_reason(dp, DPF_DRV_RSS_KEY, false,
				"no symmetric hash function, and the key update failed (%s): the "
				"directions of a connection may reach different RX cores",
				rte_strerror(-rc));
}

static bool
key_is_symmetric(const uint8_t *key, unsigned int len)
{
	unsigned int i;

	/* Toeplitz over (src, dst, sport, dport) is symmetric when the key
	 * repeats every 16 bits: swapping 32-bit addresses and 16-bit ports then
	 * selects the same key windows. */
	for (i = 2; i < len; i++)
		if (key[i] != key[i - 2])
			return false;
	return true;
}

static void
program_inner_rss(struct dpf_drv_port *dp)
{
	struct dpf_drv_inner_rule rules[DPF_DRV_MAX_INNER_FLOWS];
	unsigned int n = dpf_drivers_plan_inner_rules(dp, rules);
	char why[DPF_DRV_REASON_LEN];

	if (n > 0 && create_inner_flows(dp, rules, n, why, sizeof(why)) < 0) {
		dp->configured.inner_rss = false;
		dpf_drv_port_set_reason(dp, DPF_DRV_INNER_RSS, false,
					"%s; the directions of an inner connection may reach "
					"different RX cores",
					why);
	}
}

void
dpf_drv_program_started(struct dpf_drv_port *dp)
{
	struct dpf_drv_settings *got = &dp->configured;
	struct dpf_drv_sym_rule rules[DPF_DRV_MAX_SYM_FLOWS];
	unsigned int n_rules = dpf_drivers_plan_sym_rules(dp, rules);
	char why[DPF_DRV_REASON_LEN];

	program_queue_report(dp);
	program_promiscuous(dp);
	if (got->rss_hash == 0)
		return;
	program_reta(dp);
	if (n_rules > 0 && create_symmetric_flows(dp, rules, n_rules, why, sizeof(why)) < 0) {
		got->symmetric_hash_function = false;
		dpf_drv_port_set_reason(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, false, "%s", why);
		if (!got->rss_key_symmetric)
			fall_back_to_symmetric_key(dp);
	}
	program_inner_rss(dp);
	if (!got->rss_key_symmetric && !got->symmetric_hash_function &&
	    !key_is_symmetric(got->rss_key, got->rss_key_len) &&
	    dp->reason[DPF_DRV_RSS_KEY][0] == '\0')
		dpf_drv_port_set_reason(
			dp, DPF_DRV_RSS_KEY, false,
			"not symmetric: the two directions of a connection may reach different "
			"RX cores (records still merge; stateful ACL and NAT sessions need "
			"symmetry)");
}
