/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_DRV_PROFILE_H
#define DPF_DRV_PROFILE_H

/*
 * Driver profiles, part 1: the schema (which keys a profile has, what values
 * they take, the quirks) and loading (the .ini files of drivers-cfg/,
 * doc/drivers-cfg.md).
 *
 * Schema (drv_schema.c): one table of keys drives parsing, validation,
 * formatting (show config, show port info, the start-up notes) and the
 * tables of doc/drivers-cfg.md. Pure functions: no state, no I/O.
 *
 * Loading (drv_profiles.c): a profile set is the profile directory,
 * default.ini over the built-in defaults, default.ini's [aliases], and the
 * profiles read so far. A profile is <dir>/<profile>.ini over default.ini,
 * where <profile> is the driver's alias or its name; default.ini's values
 * when there is no such file. Files are read once, with lib/cfg (dpf_cfg,
 * '#' comments anywhere on a line), which keeps line numbers: every error
 * names "<path>:<line>: <problem>".
 *
 * Threads: a profile set is built and read on the main lcore at start-up;
 * the profiles it returns stay valid, unchanged, until the set is freed, and
 * any thread may read them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DPF_DRV_RSS_KEY_MAX 64
#define DPF_DRV_NAME_LEN 64
#define DPF_DRV_PATH_LEN 512
#define DPF_DRV_SOURCE_LEN 96
#define DPF_DRV_DEVARGS_LEN 128
#define DPF_DRV_VALUE_LEN 256 /* longest value of a list key (rss_hash, quirks, ...) */

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
	DPF_DRV_INNER_RSS,
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
	  "and refuses what is not Ethernet")                                                      \
	X(KERNEL_FANOUT, "kernel-fanout",                                                          \
	  "the kernel's PACKET_FANOUT hash, not dpflow's Toeplitz key, spreads packets over the "  \
	  "queues, so forward mode shares masquerade sessions between RX cores")                   \
	X(FRAME_SIZE_FROM_DEVARGS, "frame-size-from-devargs",                                      \
	  "the vdev's framesz= argument (default 2048) is the largest frame a queue delivers, "    \
	  "longer ones arrive cut (net_af_packet); dpflow sizes its mbufs to hold a whole frame")  \
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
	bool inner_rss; /* with --decap: rte_flow RSS level 2 on the tunnels opened */
};

/* A loaded profile and where each value came from. */
struct dpf_drv_profile {
	char name[DPF_DRV_NAME_LEN]; /* "net_ice", "default" */
	char path[DPF_DRV_PATH_LEN]; /* file read last; "" when built in */
	bool own_file;		     /* false: the driver has no file, default.ini's values */
	struct dpf_drv_settings s;
	char source[DPF_DRV_N_KEYS][DPF_DRV_SOURCE_LEN]; /* "net_ice.ini:12", "built-in" */
};

/* ---- schema (drv_schema.c): pure ---- */

/** The built-in defaults: every key's table default (the shipped default.ini). */
void dpf_drivers_builtin(struct dpf_drv_profile *p);

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

/** The key of a name ("rx_desc"); -1 when there is none. */
int dpf_drivers_key_find(const char *name);

/** Name of a key; NULL when out of range. */
const char *dpf_drivers_key_name(enum dpf_drv_key k);

/** "rx_desc, tx_desc, ..." (for messages). */
void dpf_drivers_key_list(char *buf, size_t len);

/** Name of a quirk; NULL when out of range. */
const char *dpf_drivers_quirk_name(enum dpf_drv_quirk q);

/** The text of a quirk (for messages); NULL when out of range. */
const char *dpf_drivers_quirk_help(enum dpf_drv_quirk q);

/**
 * RTE_ETH_RSS_* bits as rss_hash names ("ipv4 tcp", "none"); a name the
 * bits cover only in part is "name(partial)".
 */
void dpf_drivers_format_rss_hash(uint64_t bits, char *buf, size_t len);

/** RTE_ETH_RX_OFFLOAD_* bits as rx_offloads names ("timestamp", "none"). */
void dpf_drivers_format_rx_offloads(uint64_t bits, char *buf, size_t len);

/** The key and quirk reference tables of doc/drivers-cfg.md (markdown). */
void dpf_drivers_doc(FILE *f);

/* ---- loading (drv_profiles.c) ---- */

/**
 * Read one profile over base: keys the file sets replace base's values.
 * @param name  the profile's name ("net_ice")
 * @param err   on failure "<path>:<line>: <problem>" (or "<path>: <problem>")
 * @return 0, -EINVAL (syntax, unknown key or section, bad value),
 *         -ENOENT / -EACCES / ... (cannot read), -ENOMEM
 */
int dpf_drivers_profile_load(const char *path, const char *name, const struct dpf_drv_profile *base,
			     struct dpf_drv_profile *out, char *err, size_t err_len);

struct dpf_drv_profiles;

/**
 * Choose the profile directory and read its default.ini (and [aliases]).
 * @param dir  --drivers-cfg, or NULL to search the installed then the source
 *             tree's directory; when neither exists the built-in defaults apply
 * @param err  on failure, the directory or "<file>:<line>: <problem>"
 * @return the set, or NULL with rte_errno: ENOENT, ENOTDIR, ENAMETOOLONG
 *         (dir), EINVAL (a bad default.ini), ENOMEM, or an errno of reading
 */
struct dpf_drv_profiles *dpf_drv_profiles_open(const char *dir, char *err, size_t err_len);

/** Free a set and every profile it returned. NULL-safe. */
void dpf_drv_profiles_free(struct dpf_drv_profiles *ps);

/**
 * The profile of a driver: <dir>/<profile>.ini over default.ini, where
 * profile is the driver's alias from default.ini's [aliases] or its name;
 * default.ini's when there is no such file. Read once, then cached.
 * @return the profile (valid until the set is freed), or NULL with err on a
 *         bad file or more than RTE_MAX_ETHPORTS profiles
 */
const struct dpf_drv_profile *dpf_drv_profiles_get(struct dpf_drv_profiles *ps,
						   const char *driver_name, char *err,
						   size_t err_len);

/* What dpf_drv_profiles_open() settled: where the set comes from and its base. */
struct dpf_drv_profiles_loaded {
	char dir[DPF_DRV_PATH_LEN]; /* the directory in use ("" with the built-in defaults) */
	/* How it was chosen: "--drivers-cfg", "installed", "source tree", "built-in". */
	const char *origin;
	struct dpf_drv_profile base; /* default.ini over the built-in defaults */
};

/** Valid until the set is freed; read-only. */
const struct dpf_drv_profiles_loaded *dpf_drv_profiles_loaded(const struct dpf_drv_profiles *ps);

/**
 * The profile a virtual device's name selects, as the vdev bus matches
 * drivers: the longest profile file name, or alias of default.ini's
 * [aliases], that begins the vdev's name ("net_af_packet0" -> net_af_packet).
 * @return true with out set; false when none matches
 */
bool dpf_drv_profiles_match_vdev(const struct dpf_drv_profiles *ps, const char *vdev_name,
				 char *out, size_t len);

/**
 * show config: the directory, the aliases and, for default.ini and every
 * profile read so far, each key as
 * `drivers-cfg.<profile>.<key>: <value> (<file:line>|built-in)`.
 */
void dpf_drv_profiles_show(FILE *f, const struct dpf_drv_profiles *ps);

#endif /* DPF_DRV_PROFILE_H */
