/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port planner (app/ports/drv_plan.c): profile x rte_eth_dev_info x
 * request -> plan, on hand-built devices, with the RETA and the rte_flow
 * rules it plans, and profiles read from files by the loader
 * (drv_profiles.c). Neither needs EAL, so this binary never starts it. Expected reasons are the
 * texts of doc/drivers-cfg.md ("Requested and configured") and the quirk table.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dpf_test_drv.h"
#include "drv_plan.h"

#define QUEUES_FROM_DEVARGS_HELP                                                                   \
	"the vdev's arguments fix the number of queues (net_pcap: one rx_pcap=/tx_pcap= per "      \
	"queue; net_af_packet: qpairs=N)"
#define DESC_CAPPED_HELP                                                                           \
	"the host sets the ring size and the driver silently uses at most that many "              \
	"descriptors (QEMU: rx_queue_size=, tx_queue_size=)"

/* One planning case: a device, a profile, a request and the plan. Each test
 * starts from the built-in profile on a capable NIC with --rxq 2. */
struct fx {
	struct rte_eth_dev_info info;
	struct dpf_drv_profile p;
	struct dpf_drv_request req;
	struct dpf_drv_port dp;
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	dpf_test_nic_info(&f->info, "net_x");
	dpf_drivers_builtin(&f->p);
	f->req = (struct dpf_drv_request){.rx_queues = 2, .tx_queues = 1};
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	free(*state);
	return 0;
}

static const struct dpf_drv_port *
plan(struct fx *f)
{
	dpf_drivers_plan(&f->dp, &f->p, &f->info, &f->req);
	return &f->dp;
}

/* key = value in the profile, as a file would set it. */
static void
set(struct fx *f, const char *key, const char *value)
{
	char err[256];
	int k = dpf_drivers_key_find(key);

	assert_true(k >= 0);
	if (dpf_drivers_key_parse((enum dpf_drv_key)k, value, &f->p.s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* A key's configured value as show port info prints it, its reason, and
 * whether the reason stays out of the start-up notes. */
static void
expect_key(const struct dpf_drv_port *dp, enum dpf_drv_key k, const char *configured,
	   const char *reason, bool quiet)
{
	char v[256];

	dpf_drivers_key_format(k, &dp->configured, v, sizeof(v));
	if (strcmp(v, configured) != 0 || strcmp(dp->reason[k], reason) != 0 ||
	    (reason[0] != '\0' && dp->quiet[k] != quiet))
		fail_msg("%s: got '%s' (%s%s), want '%s' (%s%s)", dpf_drivers_key_name(k), v,
			 dp->reason[k], dp->quiet[k] ? ", quiet" : "", configured, reason,
			 quiet ? ", quiet" : "");
}

/* A 40..64-byte hex key 01 02 03 ... (not symmetric). */
static const char *
hex_key(unsigned int bytes)
{
	static char hex[2 * DPF_DRV_RSS_KEY_MAX + 1];
	unsigned int i;

	for (i = 0; i < bytes; i++)
		sprintf(hex + 2 * i, "%02x", i + 1);
	return hex;
}

static void
assert_symmetric_key(const struct dpf_drv_settings *s, unsigned int len)
{
	unsigned int i;

	assert_true(s->rss_key_symmetric);
	assert_int_equal(s->rss_key_len, len);
	for (i = 0; i < len; i++)
		assert_int_equal(s->rss_key[i], i % 2 == 0 ? 0x6d : 0x5a);
}

static void
test_drivers_device_without_rss_masks_rss_and_notes_it(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	f->req.rx_queues = 1;
	f->info.flow_type_rss_offloads = 0;
	f->info.max_rx_queues = 1;
	dp = plan(f);
	expect_key(dp, DPF_DRV_RSS_HASH, "none", "the device reports no RSS hash types", false);
	/* Consequences, not second limits. */
	expect_key(dp, DPF_DRV_RSS_KEY, "none", "no RSS", true);
	expect_key(dp, DPF_DRV_RETA_SPREAD, "none", "no RSS", true);
	assert_int_equal(dp->eth_conf.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE);
	assert_int_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_hf, 0);

	/* The replay ring's profile says who does the hashing instead. */
	set(f, "quirks", "software-rss");
	assert_non_null(strstr(plan(f)->reason[DPF_DRV_RSS_HASH],
			       "no RSS hash types; software-rss: the replay source computes"));
}

static void
test_drivers_rss_types_are_masked_by_name_and_partial_loss_is_noted(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;
	char why[128];

	/* i40e spells IPv4 as FRAG_IPV4 + NONFRAG_IPV4_OTHER: all of "ipv4". */
	f->req.rx_queues = 4;
	f->info.hash_key_size = 52;
	f->info.flow_type_rss_offloads =
		RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER |
		RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP |
		RTE_ETH_RSS_NONFRAG_IPV4_SCTP | RTE_ETH_RSS_FRAG_IPV6 |
		RTE_ETH_RSS_NONFRAG_IPV6_OTHER | RTE_ETH_RSS_NONFRAG_IPV6_TCP |
		RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_NONFRAG_IPV6_SCTP;
	dp = plan(f);
	snprintf(why, sizeof(why), "RTE_ETH_RSS bits 0x%" PRIx64 " of 0x%" PRIx64,
		 f->info.flow_type_rss_offloads, f->p.s.rss_hash);
	expect_key(dp, DPF_DRV_RSS_HASH, "ipv4 ipv6 tcp udp sctp", why, true);
	/* What ethdev will check: no bit beyond the device's. */
	assert_int_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_hf & ~f->info.flow_type_rss_offloads,
			 0);
	assert_int_equal(dp->eth_conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
	assert_symmetric_key(&dp->configured, 52);
	assert_ptr_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_key, dp->configured.rss_key);

	/* vmxnet3 before version 4: no UDP ports. */
	f->info.hash_key_size = 0;
	f->info.flow_type_rss_offloads = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP |
					 RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_TCP;
	dp = plan(f);
	snprintf(why, sizeof(why),
		 "the device hashes ipv4 ipv6 tcp (flow_type_rss_offloads 0x%" PRIx64 ")",
		 f->info.flow_type_rss_offloads);
	expect_key(dp, DPF_DRV_RSS_HASH, "ipv4 ipv6 tcp", why, false);
	assert_int_equal(dp->configured.rss_key_len, 40); /* no key size reported */

	/* One queue: nothing to spread, said quietly. */
	f->req.rx_queues = 1;
	dpf_test_nic_info(&f->info, "net_ice");
	expect_key(plan(f), DPF_DRV_RSS_HASH, "none", "one RX queue: nothing to spread", true);
}

static void
test_drivers_queues_descriptors_mtu_and_offloads_are_masked_with_reasons(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	f->req.rx_queues = 4;
	set(f, "rx_desc", "5000");
	set(f, "mtu", "9000");
	set(f, "rx_offloads", "timestamp");
	set(f, "quirks", "queues-from-devargs");
	f->info.max_rx_queues = 2;
	f->info.rx_desc_lim =
		(struct rte_eth_desc_lim){.nb_max = 4096, .nb_min = 64, .nb_align = 32};
	f->info.max_mtu = 1500;
	f->info.max_rx_pktlen = 1518;
	dp = plan(f);
	assert_int_equal(dp->rx_queues, 2);
	assert_non_null(strstr(dp->rx_queues_reason, "device maximum; queues-from-devargs: "));
	expect_key(dp, DPF_DRV_RX_DESC, "4096", "device limits 64..4096, multiple of 32", false);
	expect_key(dp, DPF_DRV_MTU, "1500", "device MTU range 68..1500", false);
	assert_int_equal(dp->eth_conf.rxmode.mtu, 1500);
	expect_key(dp, DPF_DRV_RX_OFFLOADS, "none",
		   "the device does not offer timestamp (rx_offload_capa 0x0)", false);
	assert_true(dp->eth_conf.rxmode.offloads == 0);
	assert_int_equal(dp->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);

	/* net_pcap stamps frames without the offload: configured, not requested of ethdev. */
	set(f, "quirks", "timestamp-unix-us");
	dp = plan(f);
	expect_key(dp, DPF_DRV_RX_OFFLOADS, "timestamp",
		   "timestamp-unix-us: the driver stamps the capture time itself", true);
	assert_true(dp->eth_conf.rxmode.offloads == 0);

	/* ice: the offload is there, and the note says what it costs. */
	set(f, "quirks", "timestamp-slow-path");
	f->info.rx_offload_capa = RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	dp = plan(f);
	assert_true(dp->eth_conf.rxmode.offloads == RTE_ETH_RX_OFFLOAD_TIMESTAMP);
	assert_false(dp->quiet[DPF_DRV_RX_OFFLOADS]);
	assert_non_null(strstr(dp->reason[DPF_DRV_RX_OFFLOADS], "timestamp-slow-path"));

	/* Jumbo frames: larger mbufs, unless scatter chains them. */
	f->info.max_mtu = 9702;
	f->info.max_rx_pktlen = 9728;
	dp = plan(f);
	assert_int_equal(dp->configured.mtu, 9000);
	assert_true(dp->mbuf_data_room >= 9000 + 26 + RTE_PKTMBUF_HEADROOM);
	set(f, "rx_offloads", "scatter");
	f->info.rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	assert_int_equal(plan(f)->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
}

static void
test_drivers_keys_of_another_size_and_masquerade_steering_fall_back_to_symmetric(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	f->req.rx_queues = 4;
	set(f, "rss_key", hex_key(40));
	f->info.hash_key_size = 52;
	dp = plan(f);
	assert_symmetric_key(&dp->configured, 52);
	expect_key(dp, DPF_DRV_RSS_KEY, "symmetric (52 bytes)",
		   "the device's key is 52 bytes, the profile's 40: using the symmetric key",
		   false);

	/* Same size: the profile's key as written. */
	f->info.hash_key_size = 40;
	expect_key(plan(f), DPF_DRV_RSS_KEY, hex_key(40), "", false);

	/* Masquerade steering: the 6d5a key, plain Toeplitz, round-robin RETA. */
	set(f, "symmetric_hash_function", "yes");
	set(f, "reta_spread", "driver");
	f->req.exact_steering = true;
	dp = plan(f);
	expect_key(dp, DPF_DRV_RSS_KEY, "symmetric (40 bytes)",
		   "masquerade steering predicts reply queues with the symmetric key", false);
	expect_key(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, "no",
		   "masquerade steering predicts reply queues with the plain Toeplitz hash", false);
	expect_key(dp, DPF_DRV_RETA_SPREAD, "round-robin",
		   "masquerade steering predicts reply queues with a round-robin RETA", false);
}

/* ---- one device capability or quirk at a time ---- */

static void
test_plan_capable_nic_gets_the_profile_as_asked_with_no_reason(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;
	char want[128], got[128];
	int k;

	f->dp.port = 7;
	f->req.rx_queues = 4;
	f->info.driver_name = "net_ice";
	dp = plan(f);
	assert_true(dp->planned);
	assert_int_equal(dp->port, 7);
	assert_string_equal(dp->driver, "net_ice");
	assert_ptr_equal(dp->profile, &f->p);
	assert_int_equal(dp->rx_queues, 4);
	assert_string_equal(dp->rx_queues_reason, "");
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->requested, want, sizeof(want));
		/* "symmetric" becomes 0x6d5a at the device's key size. */
		expect_key(dp, (enum dpf_drv_key)k,
			   k == DPF_DRV_RSS_KEY ? "symmetric (40 bytes)" : want, "", false);
	}
	assert_symmetric_key(&dp->configured, 40);
	/* The rte_eth_conf ethdev gets. */
	assert_int_equal(dp->eth_conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
	assert_true(dp->eth_conf.rx_adv_conf.rss_conf.rss_hf == f->p.s.rss_hash);
	assert_int_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_key_len, 40);
	assert_int_equal(dp->eth_conf.rxmode.mtu, 1500);
	assert_true(dp->eth_conf.rxmode.offloads == 0);
	assert_int_equal(dp->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
	assert_true(dp->rss_hash_capa == f->info.flow_type_rss_offloads);
	dpf_drivers_format_rss_hash(dp->rss_hash_capa, got, sizeof(got));
	assert_string_equal(got, "ipv4 ipv6 tcp udp sctp");
}

static void
test_plan_profile_key_longer_than_the_device_key_falls_back_to_symmetric(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "rss_key", hex_key(52));
	dp = plan(f);
	assert_symmetric_key(&dp->configured, 40);
	expect_key(dp, DPF_DRV_RSS_KEY, "symmetric (40 bytes)",
		   "the device's key is 40 bytes, the profile's 52: using the symmetric key",
		   false);
	assert_ptr_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_key, dp->configured.rss_key);
	assert_int_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_key_len, 40);

	/* A device that reports no key size is taken to have Toeplitz's 40 bytes. */
	set(f, "rss_key", hex_key(40));
	f->info.hash_key_size = 0;
	dp = plan(f);
	expect_key(dp, DPF_DRV_RSS_KEY, hex_key(40), "", false);
	assert_int_equal(dp->eth_conf.rx_adv_conf.rss_conf.rss_key_len, 40);
}

/* The function itself is settled by the device (rte_flow, drv_program.c);
 * the plan asks for it and keeps the profile's key, which it makes symmetric. */
static void
test_plan_symmetric_hash_function_is_asked_unless_steering_or_no_rss(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "rss_key", hex_key(40));
	set(f, "symmetric_hash_function", "yes");
	dp = plan(f);
	expect_key(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, "yes", "", false);
	expect_key(dp, DPF_DRV_RSS_KEY, hex_key(40), "", false);

	f->req.exact_steering = true;
	dp = plan(f);
	expect_key(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, "no",
		   "masquerade steering predicts reply queues with the plain Toeplitz hash", false);
	assert_symmetric_key(&dp->configured, 40);

	f->req.exact_steering = false;
	f->req.rx_queues = 1;
	expect_key(plan(f), DPF_DRV_SYMMETRIC_HASH_FUNCTION, "no", "no RSS", true);
}

static void
test_plan_fewer_queues_than_asked_names_the_device_maximum(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	f->req.rx_queues = 8;
	f->info.max_rx_queues = 2;
	dp = plan(f);
	assert_int_equal(dp->rx_queues_requested, 8);
	assert_int_equal(dp->rx_queues, 2);
	assert_string_equal(dp->rx_queues_reason, "device maximum");
	assert_true(dp->configured.rss_hash != 0); /* two queues still spread */

	set(f, "quirks", "queues-from-devargs");
	f->info.max_rx_queues = 1;
	dp = plan(f);
	assert_int_equal(dp->rx_queues, 1);
	assert_string_equal(dp->rx_queues_reason,
			    "device maximum; queues-from-devargs: " QUEUES_FROM_DEVARGS_HELP);
	/* One queue: no RSS, and so no key and no RETA, all said quietly. */
	expect_key(dp, DPF_DRV_RSS_HASH, "none", "one RX queue: nothing to spread", true);
	expect_key(dp, DPF_DRV_RETA_SPREAD, "none", "no RSS", true);

	/* A device that reports no queue at all still gets one. */
	f->info.max_rx_queues = 0;
	assert_int_equal(plan(f)->rx_queues, 1);
}

static void
test_plan_descriptors_round_to_the_device_limits_and_desc_capped_by_host(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "rx_desc", "1000");
	f->info.rx_desc_lim.nb_align = 64;
	f->info.tx_desc_lim = (struct rte_eth_desc_lim){.nb_max = 4096, .nb_min = 1024};
	dp = plan(f);
	expect_key(dp, DPF_DRV_RX_DESC, "1024", "device limits 0..65535, multiple of 64", false);
	expect_key(dp, DPF_DRV_TX_DESC, "1024", "device limits 1024..4096, multiple of 1", false);

	/* virtio: the host may cap the ring whatever the device reports; said
	 * even when nothing changed, after the device's own limit when both. */
	set(f, "rx_desc", "1024");
	set(f, "quirks", "desc-capped-by-host");
	dp = plan(f);
	expect_key(dp, DPF_DRV_RX_DESC, "1024", "desc-capped-by-host: " DESC_CAPPED_HELP, false);
	expect_key(
		dp, DPF_DRV_TX_DESC, "1024",
		"device limits 1024..4096, multiple of 1; desc-capped-by-host: " DESC_CAPPED_HELP,
		false);
}

static void
test_plan_mtu_is_clamped_to_the_device_range_and_sizes_mbufs(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "mtu", "576");
	f->info.min_mtu = 1280;
	dp = plan(f);
	expect_key(dp, DPF_DRV_MTU, "1280", "device MTU range 1280..65535", false);
	assert_int_equal(dp->eth_conf.rxmode.mtu, 1280);

	/* max_rx_pktlen less the device's overhead (here 22 bytes) bounds the MTU. */
	set(f, "mtu", "9500");
	f->info.min_mtu = 68;
	f->info.max_mtu = 9216;
	f->info.max_rx_pktlen = 9238;
	dp = plan(f);
	expect_key(dp, DPF_DRV_MTU, "9216", "device MTU range 68..9216", false);
	/* 9216 + 22 overhead + 8 (two VLAN tags) + headroom, in 1 KiB steps. */
	assert_int_equal(dp->mbuf_data_room, 10240);

	f->info.max_mtu = UINT16_MAX;
	f->info.max_rx_pktlen = 1518;
	dp = plan(f);
	expect_key(dp, DPF_DRV_MTU, "1500", "device MTU range 68..1500", false);
	assert_int_equal(dp->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
}

static void
test_plan_offloads_are_masked_by_the_capability_mask(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "rx_offloads", "timestamp scatter");
	f->info.rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER | RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	dp = plan(f);
	expect_key(dp, DPF_DRV_RX_OFFLOADS, "scatter",
		   "the device does not offer timestamp (rx_offload_capa 0x2001)", false);
	/* Only what was asked and offered reaches ethdev (never vlan-strip). */
	assert_true(dp->eth_conf.rxmode.offloads == RTE_ETH_RX_OFFLOAD_SCATTER);
	assert_true(dp->rx_offload_capa == f->info.rx_offload_capa);

	f->info.rx_offload_capa = 0;
	expect_key(plan(f), DPF_DRV_RX_OFFLOADS, "none",
		   "the device does not offer timestamp scatter (rx_offload_capa 0x0)", false);
}

static void
test_plan_frame_size_from_devargs_sizes_mbufs_for_the_ring_frame(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "quirks", "frame-size-from-devargs");
	/* No framesz=: net_af_packet's 2048, which the default mbuf holds. */
	assert_int_equal(plan(f)->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
	f->req.devargs = "iface=veth0,framesz=9000,qpairs=1";
	dp = plan(f);
	assert_int_equal(dp->mbuf_data_room, 9216); /* 9000 + headroom, in 1 KiB steps */
	assert_int_equal(dp->configured.mtu, 1500); /* the MTU is not the frame */
	/* An unreadable framesz= is the driver's default. */
	f->req.devargs = "iface=veth0,framesz=big";
	assert_int_equal(plan(f)->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
	/* With scatter the frame chains over default mbufs. */
	f->req.devargs = "iface=veth0,framesz=9000";
	set(f, "rx_offloads", "scatter");
	f->info.rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	assert_int_equal(plan(f)->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
	/* Without the quirk framesz= means nothing to dpflow. */
	set(f, "quirks", "none");
	set(f, "rx_offloads", "none");
	assert_int_equal(plan(f)->mbuf_data_room, RTE_MBUF_DEFAULT_BUF_SIZE);
}

static void
test_plan_default_devargs_show_what_the_vdev_got(void **state)
{
	struct fx *f = *state;

	set(f, "default_devargs", "framecnt=16384,blocksz=4096");
	f->req.devargs_added = "framecnt=16384,blocksz=4096";
	f->req.devargs_given = "";
	expect_key(plan(f), DPF_DRV_DEFAULT_DEVARGS, "framecnt=16384,blocksz=4096", "", false);

	f->req.devargs_added = "blocksz=4096";
	f->req.devargs_given = "framecnt";
	expect_key(plan(f), DPF_DRV_DEFAULT_DEVARGS, "blocksz=4096", "--vdev gave framecnt itself",
		   true);

	/* A port that is no --vdev (a PCI NIC with the same driver). */
	f->req.devargs_added = NULL;
	f->req.devargs_given = NULL;
	expect_key(plan(f), DPF_DRV_DEFAULT_DEVARGS, "none", "not a --vdev argument", true);

	/* Nothing to add, nothing to say. */
	set(f, "default_devargs", "none");
	expect_key(plan(f), DPF_DRV_DEFAULT_DEVARGS, "none", "", false);
}

/* Everything a plan holds but the quirks, as text, to compare two plans. */
static void
plan_text(const struct dpf_drv_port *dp, char *buf, size_t len)
{
	const struct rte_eth_rxmode *rx = &dp->eth_conf.rxmode;
	size_t used = (size_t)snprintf(
		buf, len, "q %u/%u %s|mbuf %u|mq %d mtu %u off %" PRIx64 " hf %" PRIx64 " kl %u|",
		dp->rx_queues, dp->rx_queues_requested, dp->rx_queues_reason, dp->mbuf_data_room,
		(int)rx->mq_mode, rx->mtu, rx->offloads, dp->eth_conf.rx_adv_conf.rss_conf.rss_hf,
		dp->eth_conf.rx_adv_conf.rss_conf.rss_key_len);
	char want[128], got[128];
	int k;

	for (k = 0; k < DPF_DRV_N_KEYS && used < len; k++) {
		if (k == DPF_DRV_QUIRKS)
			continue;
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->requested, want, sizeof(want));
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->configured, got, sizeof(got));
		used += (size_t)snprintf(buf + used, len - used, "%s %s->%s (%s%s)|",
					 dpf_drivers_key_name(k), want, got, dp->reason[k],
					 dp->quiet[k] ? ", quiet" : "");
	}
}

/*
 * Quirks the rest of dpflow acts on (kernel-fanout: masquerade sessions;
 * link-from-devargs: the link-type check; rx-drops-unreported: the warning
 * and the summary; timestamp-unix-us: the clock) change no planned value:
 * with RSS asked and with none (net_af_packet's profile), a plan with one of
 * them equals the plan without it but for the quirks line.
 */
static void
test_plan_quirks_acted_on_elsewhere_change_only_the_quirks(void **state)
{
	static const char *const quirks[] = {"kernel-fanout", "link-from-devargs",
					     "rx-drops-unreported", "timestamp-unix-us"};
	static const char *const rss[] = {"ipv4 ipv6 tcp udp sctp", "none"};
	struct fx *f = *state;
	char without[4096], with[4096], v[128];
	unsigned int q, r, k;

	f->req = (struct dpf_drv_request){
		.rx_queues = 4, .tx_queues = 4, .devargs = "iface=veth0,qpairs=4"};
	for (r = 0; r < RTE_DIM(rss); r++) {
		for (q = 0; q < RTE_DIM(quirks); q++) {
			set(f, "rss_hash", rss[r]);
			set(f, "quirks", "none");
			plan_text(plan(f), without, sizeof(without));
			set(f, "quirks", quirks[q]);
			plan_text(plan(f), with, sizeof(with));
			if (strcmp(without, with) != 0)
				fail_msg("%s (rss_hash %s):\n%s\n%s", quirks[q], rss[r], without,
					 with);
			dpf_drivers_key_format(DPF_DRV_QUIRKS, &f->dp.configured, v, sizeof(v));
			assert_string_equal(v, quirks[q]);
		}
	}
	/* net_af_packet asks for no RSS (the kernel's fanout spreads): then no
	 * key and no RETA, and no note at start, since nothing was refused. */
	for (k = 0; k < DPF_DRV_N_KEYS; k++)
		assert_true(f->dp.reason[k][0] == '\0' || f->dp.quiet[k]);
	assert_int_equal(f->dp.configured.reta_spread, DPF_DRV_RETA_NONE);
}

static void
test_plan_exact_steering_on_a_port_without_rss_forces_nothing(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "reta_spread", "driver");
	set(f, "symmetric_hash_function", "yes");
	f->req.exact_steering = true;
	f->info.flow_type_rss_offloads = 0;
	dp = plan(f);
	expect_key(dp, DPF_DRV_RETA_SPREAD, "none", "no RSS", true);
	expect_key(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, "no", "no RSS", true);
	expect_key(dp, DPF_DRV_RSS_KEY, "none", "no RSS", true);
	assert_int_equal(dp->eth_conf.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE);
}

static void
test_plan_rss_type_the_device_does_in_part_shows_partial(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_port *dp;

	set(f, "rss_hash", "ipv4 tcp");
	f->info.flow_type_rss_offloads = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP;
	dp = plan(f);
	expect_key(dp, DPF_DRV_RSS_HASH, "ipv4 tcp(partial)",
		   "the device hashes ipv4 tcp(partial) (flow_type_rss_offloads 0x14)", false);
	assert_true(dp->eth_conf.rx_adv_conf.rss_conf.rss_hf == f->info.flow_type_rss_offloads);
}

/* ---- what is programmed once the port is started ---- */

/* Entry i of a filled RETA (rte_eth_rss_reta_entry64 groups of 64). */
static uint16_t
reta_entry(const struct rte_eth_rss_reta_entry64 *reta, unsigned int i)
{
	return reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
}

static void
test_plan_reta_spreads_the_device_table_round_robin_over_the_queues(void **state)
{
	static const struct {
		uint16_t queues, size;
	} cases[] = {{4, 128}, {3, 512}, {16, 64}, {5, 4096}};
	struct rte_eth_rss_reta_entry64 reta[DPF_DRV_RETA_GROUPS];
	struct fx *f = *state;
	unsigned int c, i, g;

	for (c = 0; c < RTE_DIM(cases); c++) {
		f->req.rx_queues = cases[c].queues;
		plan(f);
		memset(reta, 0xa5, sizeof(reta));
		assert_int_equal(dpf_drivers_plan_reta(&f->dp, cases[c].size, reta), cases[c].size);
		/* Every entry of the device's table, and only those, is written. */
		for (g = 0; g < DPF_DRV_RETA_GROUPS; g++) {
			unsigned int first = g * RTE_ETH_RETA_GROUP_SIZE;
			uint64_t want = first >= cases[c].size ? 0 : UINT64_MAX;

			if (reta[g].mask != want)
				fail_msg("%u entries: group %u mask 0x%" PRIx64, cases[c].size, g,
					 reta[g].mask);
		}
		for (i = 0; i < cases[c].size; i++)
			if (reta_entry(reta, i) != i % cases[c].queues)
				fail_msg("%u queues, %u entries: entry %u -> %u", cases[c].queues,
					 cases[c].size, i, reta_entry(reta, i));
		expect_key(&f->dp, DPF_DRV_RETA_SPREAD, "round-robin", "", false);
	}
}

static void
test_plan_reta_of_no_usable_size_or_the_driver_spread_programs_nothing(void **state)
{
	struct rte_eth_rss_reta_entry64 reta[DPF_DRV_RETA_GROUPS];
	struct fx *f = *state;

	/* A device that reports no table, or one larger than dpflow programs. */
	plan(f);
	assert_int_equal(dpf_drivers_plan_reta(&f->dp, 0, reta), 0);
	expect_key(&f->dp, DPF_DRV_RETA_SPREAD, "driver", "the device reports a RETA of 0 entries",
		   false);
	plan(f);
	assert_int_equal(dpf_drivers_plan_reta(&f->dp, DPF_DRV_RETA_MAX * 2, reta), 0);
	expect_key(&f->dp, DPF_DRV_RETA_SPREAD, "driver",
		   "the device reports a RETA of 8192 entries", false);

	/* The profile keeps the driver's table: nothing to program, nothing to say. */
	set(f, "reta_spread", "driver");
	plan(f);
	assert_int_equal(dpf_drivers_plan_reta(&f->dp, 128, reta), 0);
	expect_key(&f->dp, DPF_DRV_RETA_SPREAD, "driver", "", false);

	/* ... unless masquerade steering needs round-robin. */
	f->req.exact_steering = true;
	plan(f);
	assert_int_equal(dpf_drivers_plan_reta(&f->dp, 128, reta), 128);
	assert_int_equal(reta_entry(reta, 127), 1);

	/* One queue: no RSS, so no RETA. */
	f->req.rx_queues = 1;
	plan(f);
	assert_int_equal(dpf_drivers_plan_reta(&f->dp, 128, reta), 0);
	expect_key(&f->dp, DPF_DRV_RETA_SPREAD, "none", "no RSS", true);
}

/* The planned rules in testpmd's words ("flow create 0 ingress pattern eth /
 * ipv4 / tcp / end actions rss func symmetric_toeplitz types ipv4-tcp end"),
 * written "eth / ipv4 / tcp: ipv4-tcp", joined by " | ". */
static void
rules_text(struct fx *f, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} types[] = {
		{RTE_ETH_RSS_IPV4, "ipv4"},
		{RTE_ETH_RSS_NONFRAG_IPV4_TCP, "ipv4-tcp"},
		{RTE_ETH_RSS_NONFRAG_IPV4_UDP, "ipv4-udp"},
		{RTE_ETH_RSS_NONFRAG_IPV4_SCTP, "ipv4-sctp"},
		{RTE_ETH_RSS_IPV6, "ipv6"},
		{RTE_ETH_RSS_NONFRAG_IPV6_TCP, "ipv6-tcp"},
		{RTE_ETH_RSS_NONFRAG_IPV6_UDP, "ipv6-udp"},
		{RTE_ETH_RSS_NONFRAG_IPV6_SCTP, "ipv6-sctp"},
	};
	struct dpf_drv_sym_rule rules[DPF_DRV_MAX_SYM_FLOWS];
	unsigned int n = dpf_drivers_plan_sym_rules(plan(f), rules), i, t;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		const char *type = "?";
		enum rte_flow_item_type l4 = rules[i].l4;

		for (t = 0; t < RTE_DIM(types); t++)
			if (rules[i].type == types[t].bit)
				type = types[t].name;
		used += (size_t)snprintf(buf + used, len - used, "%seth / %s%s: %s", i ? " | " : "",
					 rules[i].l3 == RTE_FLOW_ITEM_TYPE_IPV4	  ? "ipv4"
					 : rules[i].l3 == RTE_FLOW_ITEM_TYPE_IPV6 ? "ipv6"
										  : "?",
					 l4 == RTE_FLOW_ITEM_TYPE_END	 ? ""
					 : l4 == RTE_FLOW_ITEM_TYPE_TCP	 ? " / tcp"
					 : l4 == RTE_FLOW_ITEM_TYPE_UDP	 ? " / udp"
					 : l4 == RTE_FLOW_ITEM_TYPE_SCTP ? " / sctp"
									 : " / ?",
					 type);
	}
}

static void
expect_rules(struct fx *f, const char *want)
{
	char got[1024];

	rules_text(f, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
test_plan_rte_flow_rules_only_when_the_profile_asks_for_the_function(void **state)
{
	struct fx *f = *state;

	/* The built-in profile does not ask: no rule. */
	expect_rules(f, "");

	set(f, "symmetric_hash_function", "yes");
	expect_rules(f,
		     "eth / ipv4: ipv4 | eth / ipv4 / tcp: ipv4-tcp | eth / ipv4 / udp: ipv4-udp "
		     "| eth / ipv4 / sctp: ipv4-sctp | eth / ipv6: ipv6 | eth / ipv6 / tcp: "
		     "ipv6-tcp | eth / ipv6 / udp: ipv6-udp | eth / ipv6 / sctp: ipv6-sctp");
	/* One rule per type the port hashes: the profile's, masked by the device's. */
	set(f, "rss_hash", "ipv4 tcp");
	expect_rules(f,
		     "eth / ipv4: ipv4 | eth / ipv4 / tcp: ipv4-tcp | eth / ipv6 / tcp: ipv6-tcp");
	set(f, "rss_hash", "ipv4 ipv6 tcp udp sctp");
	f->info.flow_type_rss_offloads = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_TCP;
	expect_rules(f,
		     "eth / ipv4: ipv4 | eth / ipv4 / tcp: ipv4-tcp | eth / ipv6 / tcp: ipv6-tcp");

	/* Masquerade steering predicts with plain Toeplitz; one queue has no RSS. */
	f->req.exact_steering = true;
	expect_rules(f, "");
	f->req.exact_steering = false;
	f->req.rx_queues = 1;
	expect_rules(f, "");
}

/* Inner RSS as the planner words it: "<outer> [/ udp <port>] / <tunnel>" per rule. */
static void
expect_inner_rules(struct fx *f, const char *want)
{
	struct dpf_drv_inner_rule rules[DPF_DRV_MAX_INNER_FLOWS];
	unsigned int n = dpf_drivers_plan_inner_rules(plan(f), rules), i;
	char got[2048];
	size_t used = 0;

	got[0] = '\0';
	for (i = 0; i < n; i++) {
		enum rte_flow_item_type t = rules[i].tunnel;
		char udp[16] = "";

		if (rules[i].l4 == RTE_FLOW_ITEM_TYPE_UDP)
			snprintf(udp, sizeof(udp), " / udp %u", rules[i].udp_dst);
		used += (size_t)snprintf(
			got + used, sizeof(got) - used, "%s%s%s / %s", i ? " | " : "",
			rules[i].l3 == RTE_FLOW_ITEM_TYPE_IPV4 ? "ipv4" : "ipv6", udp,
			t == RTE_FLOW_ITEM_TYPE_VXLAN	 ? "vxlan"
			: t == RTE_FLOW_ITEM_TYPE_GENEVE ? "geneve"
			: t == RTE_FLOW_ITEM_TYPE_GRE	 ? "gre"
			: t == RTE_FLOW_ITEM_TYPE_IPV4	 ? "ipv4"
			: t == RTE_FLOW_ITEM_TYPE_IPV6	 ? "ipv6"
							 : "?");
	}
	assert_string_equal(got, want);
}

/* inner_rss: rules for the tunnels --decap opens, only with tunnels and RSS. */
static void
test_plan_inner_rss_rules_for_the_tunnels_decap_opens(void **state)
{
	struct fx *f = *state;
	struct dpf_pkt_decap_cfg decap = {.types = DPF_PKT_TUN_BIT(DPF_TUN_VXLAN) |
						   DPF_PKT_TUN_BIT(DPF_TUN_GRE),
					  .n_vxlan_ports = 2,
					  .vxlan_ports = {4789, 8472}};

	/* The built-in profile does not ask. */
	f->req.decap = &decap;
	expect_inner_rules(f, "");
	expect_key(plan(f), DPF_DRV_INNER_RSS, "no", "", false);

	set(f, "inner_rss", "yes");
	expect_key(plan(f), DPF_DRV_INNER_RSS, "yes", "", false);
	expect_inner_rules(f, "ipv4 / udp 4789 / vxlan | ipv4 / udp 8472 / vxlan | ipv4 / gre | "
			      "ipv6 / udp 4789 / vxlan | ipv6 / udp 8472 / vxlan | ipv6 / gre");
	decap.types = DPF_PKT_TUN_BIT(DPF_TUN_GENEVE) | DPF_PKT_TUN_BIT(DPF_TUN_IPIP);
	expect_inner_rules(f, "ipv4 / udp 6081 / geneve | ipv4 / ipv4 | ipv4 / ipv6 | "
			      "ipv6 / udp 6081 / geneve | ipv6 / ipv4 | ipv6 / ipv6");

	/* No tunnel opened, or no RSS (one queue): nothing to program, said quietly. */
	decap.types = 0;
	expect_key(plan(f), DPF_DRV_INNER_RSS, "no", "no tunnel is opened (--decap none)", true);
	expect_inner_rules(f, "");
	f->req.decap = NULL;
	expect_key(plan(f), DPF_DRV_INNER_RSS, "no", "no tunnel is opened (--decap none)", true);
	decap.types = DPF_PKT_TUN_BIT(DPF_TUN_VXLAN);
	f->req.decap = &decap;
	f->req.rx_queues = 1;
	expect_key(plan(f), DPF_DRV_INNER_RSS, "no", "no RSS", true);
	expect_inner_rules(f, "");
}

/* ---- profiles as files: the loader's profile through the planner ---- */

static void
test_plan_profile_files_are_planned_and_a_driver_without_one_gets_defaults(void **state)
{
	struct fx *f = *state;
	const struct dpf_drv_profile *p;
	struct dpf_drv_profiles *ps;
	char err[512];

	write_file("default.ini", "[port]\nrx_desc = 2048\nsymmetric_hash_function = yes\n");
	write_file("net_x.ini", "[port]\n# asks what the device lacks\nrx_offloads = timestamp\n"
				"rss_hash = ipv4 tcp\n");
	ps = dpf_drv_profiles_open(tmp_dir, err, sizeof(err));
	if (ps == NULL)
		fail_msg("%s", err);

	/* net_x's file over default.ini, masked by a device without timestamp. */
	p = dpf_drv_profiles_get(ps, "net_x", err, sizeof(err));
	assert_non_null(p);
	assert_true(p->own_file);
	f->p = *p;
	f->req.rx_queues = 4;
	expect_key(plan(f), DPF_DRV_RX_DESC, "2048", "", false);
	expect_key(&f->dp, DPF_DRV_RX_OFFLOADS, "none",
		   "the device does not offer timestamp (rx_offload_capa 0x0)", false);
	expect_key(&f->dp, DPF_DRV_RSS_HASH, "ipv4 tcp", "", false);
	expect_key(&f->dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, "yes", "", false);

	/* A driver with no file: default.ini's values, planned the same way. */
	p = dpf_drv_profiles_get(ps, "net_other", err, sizeof(err));
	assert_non_null(p);
	assert_false(p->own_file);
	f->p = *p;
	expect_key(plan(f), DPF_DRV_RX_DESC, "2048", "", false);
	expect_key(&f->dp, DPF_DRV_RX_OFFLOADS, "none", "", false);
	expect_key(&f->dp, DPF_DRV_RSS_HASH, "ipv4 ipv6 tcp udp sctp", "", false);
	dpf_drv_profiles_free(ps);

	/* No default.ini either: the built-in defaults (the shipped default.ini's). */
	remove_file("default.ini");
	ps = dpf_drv_profiles_open(tmp_dir, err, sizeof(err));
	assert_non_null(ps);
	p = dpf_drv_profiles_get(ps, "net_other", err, sizeof(err));
	assert_non_null(p);
	f->p = *p;
	expect_key(plan(f), DPF_DRV_RX_DESC, "1024", "", false);
	expect_key(&f->dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, "no", "", false);
	dpf_drv_profiles_free(ps);
	remove_file("net_x.ini");
}

static void
test_plan_bad_profile_keys_are_refused_naming_the_file_line_and_key(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"[port]\nrx_desc = 1024\nreta_size = 128\n",
		 "/net_bad.ini:3: unknown key 'reta_size' (keys: rx_desc, tx_desc,"},
		{"[port]\n\n\nrss_hash = ipv4 gre\n",
		 "/net_bad.ini:4: rss_hash 'ipv4 gre': unknown name 'gre'"},
		{"[port]\nrx_offloads = lro\n", "/net_bad.ini:2: rx_offloads 'lro': unknown name"},
	};
	struct dpf_drv_profiles *ps;
	char err[512], want[512];
	size_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(bad); i++) {
		write_file("net_bad.ini", bad[i].text);
		ps = dpf_drv_profiles_open(tmp_dir, err, sizeof(err));
		assert_non_null(ps);
		err[0] = '\0';
		if (dpf_drv_profiles_get(ps, "net_bad", err, sizeof(err)) != NULL)
			fail_msg("'%s': accepted", bad[i].text);
		snprintf(want, sizeof(want), "%s%s", tmp_dir, bad[i].msg);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("got '%s', want '%s...'", err, want);
		/* Other drivers still get their profile. */
		assert_non_null(dpf_drv_profiles_get(ps, "net_x", err, sizeof(err)));
		dpf_drv_profiles_free(ps);
	}
	remove_file("net_bad.ini");
}

#define FX_TEST(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_drivers_device_without_rss_masks_rss_and_notes_it),
		FX_TEST(test_drivers_rss_types_are_masked_by_name_and_partial_loss_is_noted),
		FX_TEST(test_drivers_queues_descriptors_mtu_and_offloads_are_masked_with_reasons),
		FX_TEST(test_drivers_keys_of_another_size_and_masquerade_steering_fall_back_to_symmetric),
		FX_TEST(test_plan_capable_nic_gets_the_profile_as_asked_with_no_reason),
		FX_TEST(test_plan_profile_key_longer_than_the_device_key_falls_back_to_symmetric),
		FX_TEST(test_plan_symmetric_hash_function_is_asked_unless_steering_or_no_rss),
		FX_TEST(test_plan_fewer_queues_than_asked_names_the_device_maximum),
		FX_TEST(test_plan_descriptors_round_to_the_device_limits_and_desc_capped_by_host),
		FX_TEST(test_plan_mtu_is_clamped_to_the_device_range_and_sizes_mbufs),
		FX_TEST(test_plan_offloads_are_masked_by_the_capability_mask),
		FX_TEST(test_plan_frame_size_from_devargs_sizes_mbufs_for_the_ring_frame),
		FX_TEST(test_plan_default_devargs_show_what_the_vdev_got),
		FX_TEST(test_plan_quirks_acted_on_elsewhere_change_only_the_quirks),
		FX_TEST(test_plan_exact_steering_on_a_port_without_rss_forces_nothing),
		FX_TEST(test_plan_rss_type_the_device_does_in_part_shows_partial),
		FX_TEST(test_plan_reta_spreads_the_device_table_round_robin_over_the_queues),
		FX_TEST(test_plan_reta_of_no_usable_size_or_the_driver_spread_programs_nothing),
		FX_TEST(test_plan_rte_flow_rules_only_when_the_profile_asks_for_the_function),
		FX_TEST(test_plan_inner_rss_rules_for_the_tunnels_decap_opens),
		FX_TEST(test_plan_profile_files_are_planned_and_a_driver_without_one_gets_defaults),
		FX_TEST(test_plan_bad_profile_keys_are_refused_naming_the_file_line_and_key),
	};

	return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
