/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_DRIVERS_H
#define DPF_DRIVERS_H

/*
 * Driver profiles (drivers-cfg/, doc/drivers-cfg.md): what dpflow asks of a
 * port, one INI file per PMD, and what each port actually got once the
 * device's reported capabilities were applied.
 *
 * A profile is <driver_name>.ini in the profile directory, else default.ini;
 * keys missing from a driver's profile come from default.ini, keys missing
 * there from the built-in defaults (the key table's, equal to the shipped
 * default.ini). The directory is --drivers-cfg DIR, else the installed one
 * (DPF_DRIVERS_CFG_DIR), else the source tree's (DPF_DRIVERS_CFG_SRC).
 *
 * Files are read twice on purpose: dpflow's own reader (lib/cfg) checks the
 * syntax and every value and names the file and line of any problem;
 * rte_cfgfile then loads the file and its values are the ones used. Both
 * readings must agree, or loading fails naming the line.
 *
 * Threads: everything here runs on the main lcore at start-up; afterwards
 * the per-port records (dpf_drivers_port()) are read-only and any thread
 * may read them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>

#define DPF_DRV_RSS_KEY_MAX 64
#define DPF_DRV_NAME_LEN 64
#define DPF_DRV_PATH_LEN 512
#define DPF_DRV_SOURCE_LEN 96
#define DPF_DRV_REASON_LEN 384
#define DPF_DRV_MAX_SYM_FLOWS 8
#define DPF_DRV_DEVARGS_LEN 128

/* The keys of a [port] section, in the order files, show and docs use. */
enum dpf_drv_key {
	DPF_DRV_RX_DESC = 0,
	DPF_DRV_TX_DESC,
	DPF_DRV_RSS_HASH,
	DPF_DRV_RSS_KEY,
	DPF_DRV_SYMMETRIC_HASH_FUNCTION,
	DPF_DRV_RETA_SPREAD,
	DPF_DRV_MTU,
	DPF_DRV_PROMISCUOUS,
	DPF_DRV_RX_OFFLOADS,
	DPF_DRV_QUIRKS,
	DPF_DRV_DEFAULT_DEVARGS,
	DPF_DRV_N_KEYS,
};

enum dpf_drv_reta_spread {
	DPF_DRV_RETA_ROUND_ROBIN = 0, /* entry i -> queue i % queues, programmed by dpflow */
	DPF_DRV_RETA_DRIVER,	      /* whatever table the driver fills in */
	DPF_DRV_RETA_NONE,	      /* configured only: no RSS on the port */
};

/*
 * Known quirks: facts about a driver that change what dpflow does. A profile
 * lists the ones its driver has (quirks = ...); the notes and show port info
 * quote the text. X(enum suffix, name in profiles, what it means and does).
 */
#define DPF_DRV_QUIRKS(X)                                                                          \
	X(TIMESTAMP_UNIX_US, "timestamp-unix-us",                                                  \
	  "the driver writes each frame's capture time, Unix microseconds, in the mbuf "           \
	  "timestamp field without offering the timestamp offload; --clock packet needs "          \
	  "this on every port, and --clock auto then picks the packet clock")                      \
	X(SOFTWARE_RSS, "software-rss",                                                            \
	  "the replay source computes the symmetric Toeplitz hash in software and picks "          \
	  "each frame's queue itself")                                                             \
	X(QUEUES_FROM_DEVARGS, "queues-from-devargs",                                              \
	  "the vdev's arguments fix the number of queues (net_pcap: one rx_pcap=/tx_pcap= "        \
	  "per queue; net_af_packet: qpairs=N)")                                                   \
	X(TIMESTAMP_SLOW_PATH, "timestamp-slow-path",                                              \
	  "with the timestamp offload on, the driver leaves its vector RX path")                   \
	X(DESC_CAPPED_BY_HOST, "desc-capped-by-host",                                              \
	  "the host sets the ring size and the driver silently uses at most that many "            \
	  "descriptors (QEMU: rx_queue_size=, tx_queue_size=)")                                    \
	X(LINK_FROM_DEVARGS, "link-from-devargs",                                                  \
	  "the vdev's arguments name where its frames come from (net_pcap: rx_pcap= files, "       \
	  "iface=, rx_iface=, rx_iface_in= interfaces; net_af_packet: iface=) and the driver "     \
	  "passes on whatever link layer that is; dpflow reads each one's link type at start "     \
	  "and refuses what is not Ethernet")                                                     \
	X(KERNEL_FANOUT, "kernel-fanout",                                                          \
	  "the kernel's PACKET_FANOUT hash, not dpflow's Toeplitz key, spreads packets over the "  \
	  "queues, so forward mode shares masquerade sessions between RX cores")                   \
	X(FRAME_SIZE_FROM_DEVARGS, "frame-size-from-devargs",                                      \
	  "the vdev's framesz= argument (default 2048) is the largest frame a queue delivers, "    \
	  "longer ones arrive cut (net_af_packet); dpflow sizes its mbufs to hold a whole frame")                                                     \
	X(RX_DROPS_UNREPORTED, "rx-drops-unreported",                                              \
	  "the driver does not count frames its receive ring dropped (imissed stays 0): a loss "   \
	  "before dpflow shows in no counter and the conservation check still says ok; size the "  \
	  "ring for the traffic's bursts (net_af_packet: framecnt=)")

/* clang-format cannot see the enumerators the macro makes. */
/* clang-format off */
enum dpf_drv_quirk {
#define DPF_X_ENUM(e, name, help) DPF_DRV_QUIRK_##e,
	DPF_DRV_QUIRKS(DPF_X_ENUM)
#undef DPF_X_ENUM
		DPF_DRV_N_QUIRKS,
};
/* clang-format on */

/* Values of every key; requested (a profile) or configured (a port). */
struct dpf_drv_settings {
	uint16_t rx_desc;
	uint16_t tx_desc;
	uint64_t rss_hash;	/* RTE_ETH_RSS_* bits; configured 0: no RSS */
	bool rss_key_symmetric; /* 0x6d5a repeated to the device's key size */
	uint8_t rss_key_len;	/* bytes of rss_key (configured: the key in use) */
	uint8_t rss_key[DPF_DRV_RSS_KEY_MAX];
	bool symmetric_hash_function; /* RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ */
	uint8_t reta_spread;	      /* enum dpf_drv_reta_spread */
	uint16_t mtu;
	bool promiscuous;
	uint64_t rx_offloads; /* RTE_ETH_RX_OFFLOAD_* bits */
	uint64_t quirks;      /* 1 << enum dpf_drv_quirk */
	/* "key=value,..." added to --vdev arguments that lack the keys; "" none.
	 * Configured: what was added to this port's --vdev. */
	char default_devargs[DPF_DRV_DEVARGS_LEN];
};

/* A loaded profile and where each value came from. */
struct dpf_drv_profile {
	char name[DPF_DRV_NAME_LEN]; /* "net_ice", "default" */
	char path[DPF_DRV_PATH_LEN]; /* file read last; "" when built in */
	bool own_file;		     /* false: the driver has no file, default.ini's values */
	struct dpf_drv_settings s;
	char source[DPF_DRV_N_KEYS][DPF_DRV_SOURCE_LEN]; /* "net_ice.ini:12", "built-in" */
};

/* What the rest of the program needs from a port, besides its profile. */
struct dpf_drv_request {
	uint16_t rx_queues; /* --rxq */
	uint16_t tx_queues;
	bool exact_steering; /* masquerade: a reply's queue is predicted with the 6d5a key
			      * and a round-robin RETA, so the port must use exactly those */
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
};

/* ---- profiles ---- */

/** The built-in defaults: every key's table default (the shipped default.ini). */
void dpf_drivers_builtin(struct dpf_drv_profile *p);

/**
 * Read one profile over base: keys the file sets replace base's values.
 * @param name  the profile's name ("net_ice")
 * @param err   on failure "<path>:<line>: <problem>" (or "<path>: <problem>")
 * @return 0, -EINVAL (syntax, unknown key or section, bad value, the two
 *         readers disagree), -ENOENT / -EACCES / ... (cannot read), -ENOMEM
 */
int dpf_drivers_profile_load(const char *path, const char *name, const struct dpf_drv_profile *base,
			     struct dpf_drv_profile *out, char *err, size_t err_len);

/**
 * Parse one value into s (the key table's rules).
 * @param err  "<key> '<text>': <problem>"
 * @return 0 or -EINVAL
 */
int dpf_drivers_key_parse(enum dpf_drv_key k, const char *text, struct dpf_drv_settings *s,
			  char *err, size_t err_len);

/** Format one key's value as a profile would write it (configured: as set). */
void dpf_drivers_key_format(enum dpf_drv_key k, const struct dpf_drv_settings *s, char *buf,
			    size_t len);

/** Name of a key; NULL when out of range. */
const char *dpf_drivers_key_name(enum dpf_drv_key k);

/** Name of a quirk; NULL when out of range. */
const char *dpf_drivers_quirk_name(enum dpf_drv_quirk q);

/**
 * Choose the profile directory and read its default.ini (and [aliases]).
 * @param dir  --drivers-cfg, or NULL to search the installed then the source
 *             tree's directory; when neither exists the built-in defaults apply
 * @return 0, or -errno with err naming the directory or file and line
 */
int dpf_drivers_open(const char *dir, char *err, size_t err_len);

/** default.ini over the built-in defaults (after dpf_drivers_open()). */
const struct dpf_drv_profile *dpf_drivers_base(void);

/** The directory in use ("" with the built-in defaults) and how it was chosen. */
const char *dpf_drivers_dir(void);
const char *dpf_drivers_dir_origin(void);

/**
 * The profile of a driver: <dir>/<profile>.ini over default.ini, where
 * profile is the driver's alias from default.ini's [aliases] or its name;
 * default.ini's when there is no such file. Cached.
 * @return NULL with err on a bad file
 */
const struct dpf_drv_profile *dpf_drivers_profile(const char *driver_name, char *err,
						  size_t err_len);

/** Forget every profile and port record (NULL-safe to call twice). */
void dpf_drivers_close(void);

/* ---- planning: pure, no device access ---- */

/**
 * Requested -> configured for a device: every key masked by what info says
 * the device can do, with the reason of each difference, and the
 * rte_eth_conf to configure it with. RETA, promiscuous mode and the
 * symmetric hash function are settled by dpf_drivers_port_started().
 */
void dpf_drivers_plan(struct dpf_drv_port *dp, const struct dpf_drv_profile *prof,
		      const struct rte_eth_dev_info *info, const struct dpf_drv_request *req);

/** `key: requested -> configured (reason)` lines of a port record. */
void dpf_drivers_show_record(FILE *f, const struct dpf_drv_port *dp);

/** The key and quirk reference tables of doc/drivers-cfg.md (markdown). */
void dpf_drivers_doc(FILE *f);

/* ---- before EAL: devargs of vdevs ---- */

/**
 * Add the default_devargs of each --vdev's driver profile to the --vdev
 * arguments that lack those keys (devargs given on the command line win).
 * A vdev's profile is the one whose name, or an alias of default.ini's
 * [aliases], is the longest prefix of the vdev's name (as the vdev bus
 * matches drivers). Runs before rte_eal_init; what was added is printed
 * with the port's start-up lines (dpf_drivers_select). A profile that does
 * not load adds nothing: the port's start-up names the problem.
 * @param dir       --drivers-cfg, or NULL (as dpf_drivers_open())
 * @param argc      arguments of main() (EAL's end at "--")
 * @param eal_argv  the arguments to give rte_eal_init: argv itself when
 *                  nothing was added, else a copy valid until
 *                  dpf_drivers_vdev_free()
 * @return 0, or -ENOMEM
 */
int dpf_drivers_vdev_defaults(const char *dir, int argc, char **argv, char ***eal_argv);

/** Free what dpf_drivers_vdev_defaults() made (after rte_eal_cleanup). */
void dpf_drivers_vdev_free(void);

/* ---- ports: the application's start-up steps (main lcore) ---- */

/**
 * Select each port's profile and print which file it uses. Prints errors.
 * @return 0 or -errno
 */
int dpf_drivers_select(const char *dir, const uint16_t *ports, uint16_t n_ports);

/** Plan a port from its selected profile (before rte_eth_dev_configure). */
struct dpf_drv_port *dpf_drivers_port_plan(uint16_t port, const struct rte_eth_dev_info *info,
					   const struct dpf_drv_request *req);

/**
 * After rte_eth_dev_configure: the driver's final descriptor counts and
 * RETA size. @return 0 or -errno (printed)
 */
int dpf_drivers_port_configured(struct dpf_drv_port *dp);

/**
 * After rte_eth_dev_start: descriptors in use, promiscuous mode, the RETA,
 * the symmetric hash function (rte_flow). Failures become notes, not errors.
 */
void dpf_drivers_port_started(struct dpf_drv_port *dp);

/** Print the notes not printed yet: "dpflow: port P (drv): key: requested X, configured Y (why)".
 */
void dpf_drivers_print_notes(FILE *f, struct dpf_drv_port *dp);

/** A port's record, or NULL before it was planned. */
const struct dpf_drv_port *dpf_drivers_port(uint16_t port);

/** Whether the profile selected for a port lists a quirk. */
bool dpf_drivers_port_has_quirk(uint16_t port, enum dpf_drv_quirk q);

/** The text of a quirk (for messages). */
const char *dpf_drivers_quirk_help(enum dpf_drv_quirk q);

/**
 * show port info: for a port, `driver:`, `profile:` and one
 * `key: requested -> configured` line per setting (a reason in parentheses
 * when they differ). Prints "port N: not configured" for an unknown port.
 */
void dpf_drivers_show(FILE *f, uint16_t port);

/**
 * show config: the profile directory and, for each profile in use, every
 * key as `drivers-cfg.<profile>.<key>: <value> (<file:line>|built-in)`.
 */
void dpf_drivers_show_config(FILE *f);

#endif /* DPF_DRIVERS_H */
