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

/* Every setting; options.c's table maps names to these fields. */
struct dpf_options {
	char *replay;
	uint64_t rxq;
	uint64_t window;
	uint64_t clock; /* enum dpf_clock */
	char *log_format;
	char *output;
	uint64_t compress; /* enum dpf_compress */
	uint64_t compress_level;
	char *account_id;
	char *interface_id;
	char *vpc_id;
	char *subnet_id;
	char *instance_id;
	char *region;
	char *az_id;
	char *sublocation_type;
	char *sublocation_id;
	char *flow_log_id;
	uint64_t idle_exit;
	uint64_t flows_per_core;
	uint64_t shards_per_core;
	uint64_t stats_period;
	char *metrics; /* ADDR:PORT of the Prometheus endpoint (control/metrics_http.c) */
	char *forward;
	uint64_t unmatched; /* enum dpf_unmatched */
	char *decap;	    /* none, all, or vxlan,geneve,gre,ipip (overlay.c) */
	char *vxlan_ports;  /* VXLAN UDP destination ports, comma list */
	struct dpf_str_list nat_rules;
	uint64_t nat_sessions_per_core;
	uint64_t nat_timeout;
	uint64_t nat_sessions; /* enum dpf_nat_sessions_mode */
	struct dpf_str_list acl_rules;
	uint64_t acl_default;  /* 0 allow, 1 deny (= enum dpf_action) */
	uint64_t acl_stateful; /* 0 no, 1 yes */
	uint64_t conntrack_per_core;
	uint64_t conntrack_timeout;
	uint64_t interactive; /* -i */
	uint64_t stats_detail;	       /* the exit summary's lines of value 0 too */
	uint64_t exit_status_on_loss; /* exit DPF_EXIT_LOSS when the run lost packets or records */
	char *cmdline_file;
	uint64_t flow_store; /* records kept for show/export flows */
	char *config;
	/* IPFIX export (output/export_ipfix.c) */
	char *ipfix;
	uint64_t ipfix_domain_id;
	uint64_t ipfix_message_size;
	uint64_t ipfix_template_refresh;
	uint64_t ipfix_interface_names; /* 0 no, 1 yes */
	uint64_t ipfix_rate;		/* UDP messages per second after a burst, 0: no pacing */
	/* Connection records (output/export_ibm.c, lib/conn) */
	char *ibm_output;
	uint64_t ibm_max_flows;
	uint64_t ibm_compress_level;
	char *ibm_collector_crn;
	uint64_t ibm_nat_view; /* 0 no, 1 yes */
	uint64_t connections;  /* 0 no, 1 yes: connection records without --ibm-output */
	uint64_t conn_timeout;
	uint64_t conn_max;
	/* Object storage upload (output/export_s3.c); no secret is ever an option. */
	char *s3_bucket;
	char *s3_endpoint;
	char *s3_region;
	char *s3_prefix;
	uint64_t s3_url_style; /* enum dpf_s3_url_style */
	uint64_t s3_layout;    /* enum dpf_s3_layout */
	char *s3_credentials;
	char *s3_profile;
	char *s3_ca_file;
	char *s3_spool;
	uint64_t s3_spool_max_mb;
	uint64_t s3_spool_max_files;
	uint64_t s3_keep_local; /* 0 no, 1 yes */
	uint64_t s3_retry_min_ms;
	uint64_t s3_retry_max_sec;
	uint64_t s3_drain_sec;
	uint64_t s3_timeout_sec;
	char *drivers_cfg; /* driver profile directory (ports/drivers.c) */
	/* reliability (doc/reliability.md) */
	uint64_t hold_mb;	    /* output held in memory while the disk refuses it */
	uint64_t test_writer_delay; /* test knob: ms the writer waits per batch */
	uint64_t max_time_gap;	    /* packet clock: implausible times are bad-time */
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
