/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_DRV_PLAN_H
#define DPF_DRV_PLAN_H

/*
 * Driver profiles, part 2: the port planner. A profile (what dpflow asks),
 * the device's rte_eth_dev_info (what it says it can do) and the request
 * (what the run needs: queues, masquerade steering, the vdev's devargs) give
 * a plan: every key requested and configured, the reason of each
 * difference, the rte_eth_conf to configure the port with, and what to
 * program once it is started: the RETA's entries and the rte_flow rules of
 * the symmetric hash function.
 *
 * Pure: no EAL or device call, no printing, no state; the unit tests build
 * rte_eth_dev_info by hand (tests/unit/test_drv_plan.c). What only the
 * device can settle (the final descriptor counts, promiscuous mode, whether
 * it takes the RETA and the rules) is programmed afterwards (drv_program.h),
 * which records its outcome in the same plan.
 *
 * Threads: any; a plan is the caller's memory.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "dpf_pkt.h"
#include "drv_profile.h"

#define DPF_DRV_REASON_LEN 384
#define DPF_DRV_MAX_SYM_FLOWS 8
/* Inner RSS: (IPv4, IPv6 outer) x (each VXLAN port, GENEVE, GRE, IPv4 and IPv6 in IP). */
#define DPF_DRV_MAX_INNER_FLOWS (2 * (DPF_PKT_MAX_VXLAN_PORTS + 4))
#define DPF_DRV_RETA_MAX 4096 /* largest RETA dpflow programs */
#define DPF_DRV_RETA_GROUPS (DPF_DRV_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE)

/* What the run needs from a port, besides its profile. */
struct dpf_drv_request {
	uint16_t rx_queues;  /* --rxq */
	uint16_t tx_queues;  /* forward mode: one per RX core; else 1 */
	bool exact_steering; /* masquerade: a reply's queue is predicted with the 6d5a key
			      * and a round-robin RETA, so the port must use exactly those */
	/* The device's devargs as EAL holds them ("iface=eth0,framesz=4096"):
	 * framesz= under frame-size-from-devargs. NULL: none. */
	const char *devargs;
	/* What the profile's default_devargs added to this port's --vdev
	 * (dpf_drivers_vdev_defaults()), and the default keys the --vdev gave
	 * itself. added NULL: the port is not a --vdev that dpflow looked at. */
	const char *devargs_added;
	const char *devargs_given;
	/* The tunnels --decap opens (inner_rss hashes inside them); NULL: none. */
	const struct dpf_pkt_decap_cfg *decap;
};

/* One port: requested and configured values, and why they differ. */
struct dpf_drv_port {
	bool planned;
	uint16_t port;
	char driver[DPF_DRV_NAME_LEN];
	const struct dpf_drv_profile *profile;
	uint16_t rx_queues_requested;
	uint16_t rx_queues;
	char rx_queues_reason[DPF_DRV_REASON_LEN];
	bool rx_queues_logged;
	struct dpf_drv_settings requested;
	struct dpf_drv_settings configured;
	/* Why configured differs from requested, or a remark; "" when neither. */
	char reason[DPF_DRV_N_KEYS][DPF_DRV_REASON_LEN];
	bool quiet[DPF_DRV_N_KEYS];  /* a consequence (one queue, no RSS), not a device limit */
	bool logged[DPF_DRV_N_KEYS]; /* printed at start-up already */
	/* What the device reported (for show port info). */
	uint64_t rss_hash_capa;
	uint64_t rx_offload_capa;
	uint16_t reta_size;	 /* entries programmed round-robin; 0: none */
	uint16_t mbuf_data_room; /* mbuf data size the MTU needs (rte_pktmbuf_pool_create) */
	struct rte_eth_conf eth_conf;
	struct rte_flow *sym_flows[DPF_DRV_MAX_SYM_FLOWS];
	unsigned int n_sym_flows;
	struct dpf_pkt_decap_cfg decap; /* configured.inner_rss: the tunnels to hash inside */
	struct rte_flow *inner_flows[DPF_DRV_MAX_INNER_FLOWS];
	unsigned int n_inner_flows;
};

/**
 * Requested -> configured for a device: every key masked by what info says
 * the device can do, with the reason of each difference, and the
 * rte_eth_conf to configure it with. RETA, promiscuous mode and the
 * symmetric hash function are settled by programming (drv_program.h).
 * dp->port is kept; everything else is overwritten.
 */
void dpf_drivers_plan(struct dpf_drv_port *dp, const struct dpf_drv_profile *prof,
		      const struct rte_eth_dev_info *info, const struct dpf_drv_request *req);

/**
 * The round-robin RETA of a planned port (entry i -> queue i % rx_queues),
 * for a device whose table has reta_size entries. The size is an argument,
 * not the plan's: some drivers (vmxnet3) report it only once configured.
 * @param reta  DPF_DRV_RETA_GROUPS groups, filled (entries and masks) for
 *              rte_eth_dev_rss_reta_update(port, reta, return value)
 * @return the entries to program; 0 when there is nothing to program: the
 *         port has no RSS or keeps the driver's table (reta_spread driver),
 *         or the device's size is 0 or over DPF_DRV_RETA_MAX, which makes
 *         reta_spread "driver" with the reason
 */
uint16_t dpf_drivers_plan_reta(struct dpf_drv_port *dp, uint16_t reta_size,
			       struct rte_eth_rss_reta_entry64 *reta);

/* One rte_flow rule of the symmetric Toeplitz function: pattern
 * eth / l3 [/ l4] (l4 RTE_FLOW_ITEM_TYPE_END: none), action RSS of type. */
struct dpf_drv_sym_rule {
	enum rte_flow_item_type l3;
	enum rte_flow_item_type l4;
	uint64_t type; /* one RTE_ETH_RSS_* bit */
};

/**
 * The rte_flow rules that give a planned port the device's symmetric
 * Toeplitz function (DPDK 22.11 reaches it only through rte_flow): one per
 * packet type the port hashes, as ice and i40e expect.
 * @return how many (at most DPF_DRV_MAX_SYM_FLOWS); 0 when the plan does
 *         not use the function (the profile says no, masquerade steering,
 *         no RSS)
 */
unsigned int dpf_drivers_plan_sym_rules(const struct dpf_drv_port *dp,
					struct dpf_drv_sym_rule rules[DPF_DRV_MAX_SYM_FLOWS]);

/*
 * One rte_flow rule of inner RSS: pattern eth / l3 [/ udp to udp_dst] /
 * tunnel (for IP-in-IP, tunnel is the inner IPv4 or IPv6 item), action RSS
 * level 2 (the innermost headers) of the port's rss_hash types.
 */
struct dpf_drv_inner_rule {
	enum rte_flow_item_type l3;	/* outer IPV4 or IPV6 */
	enum rte_flow_item_type l4;	/* UDP (VXLAN, GENEVE) or END */
	uint16_t udp_dst;		/* with l4 UDP: the tunnel's port */
	enum rte_flow_item_type tunnel; /* VXLAN, GENEVE, GRE, IPV4, IPV6 */
};

/**
 * The rte_flow rules that make a planned port hash inside the tunnels
 * --decap opens (the profile's inner_rss, when the plan kept it).
 * @return how many (at most DPF_DRV_MAX_INNER_FLOWS); 0 when inner_rss is off
 */
unsigned int dpf_drivers_plan_inner_rules(const struct dpf_drv_port *dp,
					  struct dpf_drv_inner_rule rules[DPF_DRV_MAX_INNER_FLOWS]);

/**
 * Set why key k's configured value differs from the requested one (or a
 * remark), replacing any earlier reason; it is printed at start-up unless
 * quiet (a consequence of another difference, not a device limit).
 */
void dpf_drv_port_set_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet,
			     const char *fmt, ...) __rte_format_printf(4, 5);

/** Add a reason after "; "; the note is quiet only if every reason is. */
void dpf_drv_port_add_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet,
			     const char *fmt, ...) __rte_format_printf(4, 5);

#endif /* DPF_DRV_PLAN_H */
