/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CONFIG_H
#define DPFLOW_CONFIG_H

/*
 * The configuration subsystem: one option table drives the command line,
 * the [dpflow] section of the configuration file, the usage text and `show
 * config`; [interface ID], [nat] and [acl] sections add interfaces and rules.
 *
 * Threads: dpf_config_parse() runs on the main thread before anything else;
 * afterwards the settings are read-only for every subsystem, which reads
 * them while it starts. Two settings change at run time through their
 * subsystems (set window, set log-format); the control thread records them
 * with dpf_config_set() so that `show config` tells the truth, under the
 * configuration's own lock.
 *
 * Errors are logged (log type dpflow.config) with the file and line, or the
 * option, that caused them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "dpf_fmt.h"
#include "option_list.h"
#include "dpf_pkt.h"

/* A repeatable setting (rules); origin names where each came from. */
struct dpf_str_list {
	char **items;
	char **origin; /* "file.conf:12" or "--nat-rule #2" */
	unsigned int n;
};

/* Append a copy of val and origin: 0 or -ENOMEM (the list is left as it was). */
int dpf_str_list_append(struct dpf_str_list *l, const char *val, const char *origin);
/* dst becomes a copy of src: 0 or -ENOMEM (dst then holds what was copied; free it). */
int dpf_str_list_copy(struct dpf_str_list *dst, const struct dpf_str_list *src);
/* Frees the items and empties the list. */
void dpf_str_list_free(struct dpf_str_list *l);

/* Where masquerade keeps its sessions (--nat-sessions). */
enum dpf_nat_sessions_mode {
	DPF_NAT_SESSIONS_AUTO = 0, /* per core when every port is spread by our Toeplitz RSS */
	DPF_NAT_SESSIONS_PER_CORE, /* ports steered to the session's core */
	DPF_NAT_SESSIONS_SHARED,   /* one table per core, read by all (lib/nat) */
};

enum dpf_unmatched {
	DPF_UNMATCHED_LOG = 0, /* to the port's default interface */
	DPF_UNMATCHED_DROP,    /* counted as `unmatched`, not logged */
};

/* A setting's C type by its row type (option_list.h). */
#define DPF_OPTION_CTYPE_STR char *
#define DPF_OPTION_CTYPE_META char *
#define DPF_OPTION_CTYPE_PATH char *
#define DPF_OPTION_CTYPE_PATH_CLI char *
#define DPF_OPTION_CTYPE_STR_BY_OWNER char *
#define DPF_OPTION_CTYPE_UINT uint64_t
/* The index of the value in the row's names: the enum its comment names. */
#define DPF_OPTION_CTYPE_ENUM uint64_t
#define DPF_OPTION_CTYPE_FLAG_CLI uint64_t
#define DPF_OPTION_CTYPE_FLAG_SHORT uint64_t
#define DPF_OPTION_CTYPE_LIST struct dpf_str_list
#define DPF_OPTION_FIELD(type, name, field, ...) DPF_OPTION_CTYPE_##type field;

/* Every setting: the fields option_list.h names, in its order. */
struct dpf_options {
	DPF_OPTIONS(DPF_OPTION_FIELD)
};

#define DPF_IFACE_MAX_ADDRS 16

struct dpf_cidr {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
};

/*
 * A logged interface (a vNIC). A packet belongs to the interface of its
 * port whose MAC is the packet's source MAC, else its destination MAC, else
 * whose VLAN is the packet's outer VLAN id, else the port's default
 * interface (no vlan, no mac); without one it is `unmatched`
 * (dataplane/iface.h).
 */
struct dpf_iface {
	struct dpf_iface_meta meta;
	uint16_t port;
	int32_t vlan; /* -1: any */
	bool has_mac;
	uint8_t mac[6];
	struct dpf_cidr addrs[DPF_IFACE_MAX_ADDRS]; /* first is the primary */
	uint8_t n_addrs;
	bool from_config;
	unsigned int line; /* section line in the config file */
	int32_t vni;	   /* -1: an outer interface; else a tenant interface (tunnel id) */
	int8_t decap;	   /* outer interfaces: -1 unset, 0 no, 1 yes */
};

struct dpf_config;

/**
 * Parse the command line (after EAL's arguments) and the --config file.
 * @param out  the configuration, when the program is to run
 * @return 0 to run; 1 when help was printed (exit 0); negative on a bad
 *         option or file (logged)
 */
int dpf_config_parse(int argc, char **argv, struct dpf_config **out);

/** NULL-safe. */
void dpf_config_free(struct dpf_config *c);

/** The settings: read-only but for dpf_config_set(). */
const struct dpf_options *dpf_config_options(const struct dpf_config *c);

/** The tunnels --decap opens and the --vxlan-ports, as lib/pkt takes them. */
void dpf_config_decap(const struct dpf_options *o, struct dpf_pkt_decap_cfg *out);

/** [interface ID] sections, in file order. */
uint16_t dpf_config_iface_count(const struct dpf_config *c);
const struct dpf_iface *dpf_config_iface(const struct dpf_config *c, uint16_t i);

/**
 * Record a setting changed at run time by its subsystem (control thread).
 * The value is checked by the option table.
 * @return 0, or -EINVAL / -ENOMEM with err naming the problem
 */
int dpf_config_set(struct dpf_config *c, const char *name, const char *value, char *err,
		   size_t err_len);

/** show config: every setting of the table as `name: value` (rules aside). Any thread. */
void dpf_config_show(struct dpf_config *c, FILE *f);

/**
 * A setting's value before EAL runs (argv after "--", else --config), into
 * buf; NULL when not set. Quiet: the real parse reports problems.
 */
const char *dpf_config_peek(int argc, char **argv, const char *name, char *buf, size_t len);

void dpf_config_usage(FILE *f, const char *prog);

/* What the command line asks before anything starts. */
enum dpf_config_early {
	DPF_CONFIG_RUN,
	DPF_CONFIG_HELP,    /* -h, --help: anywhere, before or after "--" */
	DPF_CONFIG_VERSION, /* -V (after "--"), --version: anywhere */
};

/**
 * Whole argv (EAL's and ours), read before EAL starts and quietly (the real
 * parse reports problems): --help and --version need no EAL.
 */
enum dpf_config_early dpf_config_early(int argc, char **argv);

#endif /* DPFLOW_CONFIG_H */
