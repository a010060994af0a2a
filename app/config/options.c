/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Options: one table drives the command line, the [dpflow] section of the
 * configuration file, the usage text and the configuration dump.
 */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpf_cfg.h"
#include "dpf_fmt.h"
#include "dpflow.h"
#include "log.h"

enum opt_type {
	OPT_STR,   /* free text (format strings) */
	OPT_PATH,  /* a file or directory: checked by path_check() */
	OPT_META,  /* printed in records: printable ASCII, no space */
	OPT_UINT,
	OPT_ENUM,
	OPT_LIST,  /* repeatable: each use appends */
	OPT_FLAG,  /* no value: set to 1 */
};

#define OPT_CLI_ONLY 0x1

static const char *const clock_names[] = {"auto", "packet", "wall", NULL};
static const char *const compress_names[] = {"zstd", "gzip", "none", NULL};
static const char *const unmatched_names[] = {"log", "drop", NULL};
static const char *const acl_default_names[] = {"allow", "deny", NULL};
static const char *const yes_no_names[] = {"no", "yes", NULL};
/* Same order as enum dpf_nat_sessions_mode. */
static const char *const nat_sessions_names[] = {"auto", "per-core", "shared", NULL};
/* Same order as enum dpf_s3_url_style and enum dpf_s3_layout (lib/s3). */
static const char *const s3_url_style_names[] = {"path", "virtual", NULL};
static const char *const s3_layout_names[] = {"plain", "hourly", "hive", "hive-hourly", NULL};

struct opt_def {
	const char *name;
	enum opt_type type;
	size_t off;
	uint64_t min, max;
	const char *const *values;
	const char *def;
	const char *arg;
	const char *help;
	unsigned int flags;
};

#define O(field) offsetof(struct dpf_options, field)

static const struct opt_def opt_table[] = {
	{"replay", OPT_PATH, O(replay), 0, 0, NULL, NULL, "FILE",
	 "replay a pcap through the software-RSS source; exits once every window is flushed", 0},
	{"rxq", OPT_UINT, O(rxq), 1, DPF_MAX_RX_CORES, NULL, "1", "N",
	 "RX queues per port, one RX lcore each", 0},
	{"window", OPT_UINT, O(window), 1, 3600, NULL, "600", "SEC",
	 "capture window length, aligned to Unix time", 0},
	{"clock", OPT_ENUM, O(clock), 0, 0, clock_names, "auto", "packet|wall",
	 "window clock; auto: packet for --replay and net_pcap ports, wall otherwise", 0},
	{"log-format", OPT_STR, O(log_format), 0, 0, NULL, DPF_FMT_DEFAULT, "FMT",
	 "AWS flow log format string", 0},
	{"output", OPT_PATH, O(output), 0, 0, NULL, "-", "DIR|-",
	 "DIR: files in the AWS object layout; -: header and records on stdout", 0},
	{"compress", OPT_ENUM, O(compress), 0, 0, compress_names, "zstd", "zstd|gzip|none",
	 "file compression (files only)", 0},
	{"compress-level", OPT_UINT, O(compress_level), 0, 22, NULL, "0", "N",
	 "compression level; 0: zstd 3, gzip 6", 0},
	{"account-id", OPT_META, O(account_id), 0, 0, NULL, "unknown", "ID",
	 "account-id of every interface (and the object path)", 0},
	{"interface-id", OPT_META, O(interface_id), 0, 0, NULL, "eni-port0", "ID",
	 "interface-id of port 0 (other ports: eni-port<N>, or [interface] sections)", 0},
	{"vpc-id", OPT_META, O(vpc_id), 0, 0, NULL, NULL, "ID", "vpc-id field", 0},
	{"subnet-id", OPT_META, O(subnet_id), 0, 0, NULL, NULL, "ID", "subnet-id field", 0},
	{"instance-id", OPT_META, O(instance_id), 0, 0, NULL, NULL, "ID", "instance-id field", 0},
	{"region", OPT_META, O(region), 0, 0, NULL, NULL, "R",
	 "region field (and the object path, where unset is 'unknown')", 0},
	{"az-id", OPT_META, O(az_id), 0, 0, NULL, NULL, "A", "az-id field", 0},
	{"sublocation-type", OPT_META, O(sublocation_type), 0, 0, NULL, NULL, "T",
	 "sublocation-type field", 0},
	{"sublocation-id", OPT_META, O(sublocation_id), 0, 0, NULL, NULL, "ID",
	 "sublocation-id field", 0},
	{"flow-log-id", OPT_META, O(flow_log_id), 0, 0, NULL, "fl-dpflow", "ID",
	 "flow log id in object names", 0},
	{"idle-exit", OPT_UINT, O(idle_exit), 0, 86400 * 365, NULL, "0", "SEC",
	 "flush everything and exit after SEC seconds without packets (0: never)", 0},
	{"flows-per-core", OPT_UINT, O(flows_per_core), 1, 1u << 27, NULL, "65536", "N",
	 "flow table capacity of each RX core, per window", 0},
	{"shards-per-core", OPT_UINT, O(shards_per_core), 2, 16, NULL, "3", "N",
	 "flow tables per RX core (open window plus windows being merged)", 0},
	{"stats-period", OPT_UINT, O(stats_period), 0, 86400, NULL, "0", "SEC",
	 "print a progress line every SEC seconds (0: only the summary at exit)", 0},
	{"forward", OPT_STR, O(forward), 0, 0, NULL, NULL, "A:B[,C:D]",
	 "forward mode: pair ports like testpmd io forwarding; accepted packets are NAT-rewritten "
	 "and sent on the peer port, rejected ones dropped", 0},
	{"unmatched", OPT_ENUM, O(unmatched), 0, 0, unmatched_names, "log", "log|drop",
	 "packets matching no interface: log on the port's default interface, or count and drop",
	 0},
	{"nat-rule", OPT_LIST, O(nat_rules), 0, 0, NULL, NULL, "RULE",
	 "NAT rule (repeatable): static IN-CIDR OUT-CIDR | dnat PROTO ADDR:PORT TO:PORT | "
	 "masquerade IN-CIDR OUT-ADDR [LO-HI]", 0},
	{"nat-sessions-per-core", OPT_UINT, O(nat_sessions_per_core), 1, 1u << 24, NULL, "65536",
	 "N", "masquerade sessions each RX core can hold", 0},
	{"nat-timeout", OPT_UINT, O(nat_timeout), 1, 86400, NULL, "300", "SEC",
	 "idle masquerade sessions expire after SEC seconds", 0},
	{"nat-sessions", OPT_ENUM, O(nat_sessions), 0, 0, nat_sessions_names, "auto",
	 "auto|per-core|shared",
	 "masquerade sessions: per-core (ports chosen so replies hash to their core: needs "
	 "dpflow's Toeplitz RSS on every port), shared (every RX core finds every session), "
	 "auto: per-core where the ports allow it", 0},
	{"acl-rule", OPT_LIST, O(acl_rules), 0, 0, NULL, NULL, "RULE",
	 "ACL rule (repeatable, first match wins): allow|deny PROTO SRC SPORTS DST DPORTS", 0},
	{"acl-default", OPT_ENUM, O(acl_default), 0, 0, acl_default_names, "allow", "allow|deny",
	 "verdict when no ACL rule matches", 0},
	{"acl-stateful", OPT_ENUM, O(acl_stateful), 0, 0, yes_no_names, "no", "yes|no",
	 "accept replies to accepted connections, like a security group", 0},
	{"conntrack-per-core", OPT_UINT, O(conntrack_per_core), 1, 1u << 24, NULL, "65536", "N",
	 "connections each RX core tracks in stateful ACL mode", 0},
	{"conntrack-timeout", OPT_UINT, O(conntrack_timeout), 1, 86400, NULL, "300", "SEC",
	 "idle tracked connections expire after SEC seconds", 0},
	{"interactive", OPT_FLAG, O(interactive), 0, 1, NULL, "0", "",
	 "-i: the dpflow> prompt (testpmd style); with it the program exits on quit", OPT_CLI_ONLY},
	{"cmdline-file", OPT_PATH, O(cmdline_file), 0, 0, NULL, NULL, "FILE",
	 "run the prompt's commands from FILE, printing their output", OPT_CLI_ONLY},
	{"flow-store", OPT_UINT, O(flow_store), 1, 10000000, NULL, "100000", "N",
	 "records of recent windows kept for show flows / export flows", 0},
	{"config", OPT_PATH, O(config), 0, 0, NULL, NULL, "FILE",
	 "read settings from FILE ([dpflow] keys as above, [interface ID] sections); "
	 "command-line options win", OPT_CLI_ONLY},
	{"ipfix", OPT_STR, O(ipfix), 0, 0, NULL, NULL, "udp://HOST:PORT|tcp://HOST:PORT",
	 "also export the records as IPFIX (RFC 7011) to this collector", 0},
	{"ipfix-domain-id", OPT_UINT, O(ipfix_domain_id), 0, UINT32_MAX, NULL, "1", "N",
	 "IPFIX observation domain id", 0},
	{"ipfix-message-size", OPT_UINT, O(ipfix_message_size), 512, 65535, NULL, "1400", "BYTES",
	 "largest IPFIX message (UDP: keep under the path MTU)", 0},
	{"ipfix-template-refresh", OPT_UINT, O(ipfix_template_refresh), 1, 86400, NULL, "300",
	 "SEC", "resend IPFIX templates over UDP every SEC seconds", 0},
	{"ipfix-interface-names", OPT_ENUM, O(ipfix_interface_names), 0, 0, yes_no_names, "no",
	 "no|yes", "also send interface-id names as IPFIX option records (interfaceName)", 0},
	{"ipfix-rate", OPT_UINT, O(ipfix_rate), 0, 10000000, NULL, "0", "MSGS",
	 "UDP: at most MSGS IPFIX messages a second, so a collector is not flooded at each "
	 "window end (0: no limit)", 0},
	{"s3-bucket", OPT_STR, O(s3_bucket), 0, 0, NULL, NULL, "NAME",
	 "upload every published file to this S3 bucket (needs --output DIR)", 0},
	{"s3-endpoint", OPT_STR, O(s3_endpoint), 0, 0, NULL, NULL, "URL",
	 "S3-compatible service URL (default https://s3.<s3-region>.amazonaws.com)", 0},
	{"s3-region", OPT_META, O(s3_region), 0, 0, NULL, NULL, "R",
	 "signing region (default --region, else us-east-1)", 0},
	{"s3-prefix", OPT_STR, O(s3_prefix), 0, 0, NULL, NULL, "PREFIX",
	 "key prefix in the bucket (objects go under PREFIX/AWSLogs/...)", 0},
	{"s3-url-style", OPT_ENUM, O(s3_url_style), 0, 0, s3_url_style_names, "path",
	 "path|virtual", "bucket in the URL path, or as a host name label", 0},
	{"s3-layout", OPT_ENUM, O(s3_layout), 0, 0, s3_layout_names, "plain",
	 "plain|hourly|hive|hive-hourly", "object key layout (AWS flow log delivery options)", 0},
	{"s3-credentials", OPT_STR, O(s3_credentials), 0, 0, NULL, NULL, "FILE",
	 "AWS shared credentials file (default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
	 "else AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)", 0},
	{"s3-profile", OPT_META, O(s3_profile), 0, 0, NULL, NULL, "NAME",
	 "profile in the credentials file (default AWS_PROFILE, else default)", 0},
	{"s3-ca-file", OPT_STR, O(s3_ca_file), 0, 0, NULL, NULL, "FILE",
	 "PEM CA bundle for an https endpoint with a private CA", 0},
	{"s3-spool", OPT_STR, O(s3_spool), 0, 0, NULL, NULL, "DIR",
	 "files wait here until their upload is confirmed (default <output>/.s3-spool)", 0},
	{"s3-spool-max-mb", OPT_UINT, O(s3_spool_max_mb), 1, 1u << 30, NULL, "1024", "MB",
	 "spool size limit; a file that does not fit stays in --output, not uploaded", 0},
	{"s3-spool-max-files", OPT_UINT, O(s3_spool_max_files), 1, 10000000, NULL, "10000", "N",
	 "spool file-count limit", 0},
	{"s3-keep-local", OPT_ENUM, O(s3_keep_local), 0, 0, yes_no_names, "no", "no|yes",
	 "keep the published file in --output besides the spool", 0},
	{"s3-retry-min-ms", OPT_UINT, O(s3_retry_min_ms), 1, 600000, NULL, "1000", "MS",
	 "first retry delay; doubles per failure", 0},
	{"s3-retry-max-sec", OPT_UINT, O(s3_retry_max_sec), 1, 86400, NULL, "300", "SEC",
	 "longest retry delay", 0},
	{"s3-drain-sec", OPT_UINT, O(s3_drain_sec), 0, 86400, NULL, "30", "SEC",
	 "at stop, keep uploading the spool for up to SEC seconds (the rest waits for the "
	 "next start)", 0},
	{"s3-timeout-sec", OPT_UINT, O(s3_timeout_sec), 1, 3600, NULL, "30", "SEC",
	 "connect timeout, and abort a transfer stalled for SEC seconds", 0},
	{"drivers-cfg", OPT_STR, O(drivers_cfg), 0, 0, NULL, NULL, "DIR",
	 "driver profile directory (default: the installed drivers-cfg, else the source "
	 "tree's); see doc/drivers-cfg.md", 0},
	{"hold-mb", OPT_UINT, O(hold_mb), 1, 1u << 20, NULL, "64", "MB",
	 "output kept in memory while the output directory cannot be written (full, "
	 "read-only, unwritable), retried every 250 ms; beyond it records are counted as lost", 0},
	{"max-time-gap", OPT_UINT, O(max_time_gap), 0, 100ull * 366 * 86400, NULL, "86400", "SEC",
	 "packet clock: a packet more than SEC ahead of this host's clock or of the newest "
	 "plausible time, or more than SEC before the first window, is counted bad-time and not "
	 "logged; times outside 1970..2554 always are (0: only those)", 0},
	{"test-writer-delay", OPT_UINT, O(test_writer_delay), 0, 60000, NULL, "0", "MS",
	 "test knob: the writer waits MS ms before each record batch until a stop, like a slow "
	 "disk (doc/reliability.md)", 0},
};

#define N_OPTS RTE_DIM(opt_table)

/* Keys of an [interface ID] section. */
static const char *const iface_keys[] = {
	"port", "vlan", "mac", "addresses", "account-id", "vpc-id", "subnet-id", "instance-id",
	"region", "az-id", "sublocation-type", "sublocation-id", NULL,
};

static char **
str_field(struct dpf_options *o, const struct opt_def *d)
{
	return (char **)((char *)o + d->off);
}

static uint64_t *
uint_field(struct dpf_options *o, const struct opt_def *d)
{
	return (uint64_t *)((char *)o + d->off);
}

/* Values echoed in messages: cut, with control bytes escaped, so bad input
 * can neither forge a log line nor drive the terminal. */
#define SHOWN_MAX 64

struct shown {
	char s[SHOWN_MAX * 4 + 4];
};

static const char *
shown(struct shown *b, const char *v)
{
	size_t o = 0, i;

	for (i = 0; v[i] != '\0' && i < SHOWN_MAX; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(b->s + o, sizeof(b->s) - o, "\\x%02x", c);
		else
			b->s[o++] = (char)c;
	}
	if (v[i] != '\0')
		o += (size_t)snprintf(b->s + o, sizeof(b->s) - o, "...");
	b->s[o] = '\0';
	return b->s;
}

/*
 * Paths reach logs, error messages and the file system: non-empty, shorter
 * than PATH_MAX, no control character (a newline would forge a log line).
 */
static int
path_check(const struct opt_def *d, const char *val, char *err, size_t err_len)
{
	size_t i, len = strlen(val);

	if (len == 0) {
		snprintf(err, err_len, "%s: empty value", d->name);
		return -EINVAL;
	}
	if (len >= PATH_MAX) {
		snprintf(err, err_len, "%s: path longer than %d bytes", d->name, PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(err, err_len, "%s: control character 0x%02x at byte %zu of the path",
				 d->name, c, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* Set one option from text; on error write a message naming it. */
static struct dpf_str_list *
list_field(struct dpf_options *o, const struct opt_def *d)
{
	return (struct dpf_str_list *)((char *)o + d->off);
}

static int
list_append(struct dpf_str_list *l, const char *val, const char *origin)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(char *));
	char **orig;

	if (items == NULL)
		return -ENOMEM;
	l->items = items;
	orig = realloc(l->origin, (l->n + 1) * sizeof(char *));
	if (orig == NULL)
		return -ENOMEM;
	l->origin = orig;
	l->items[l->n] = strdup(val);
	l->origin[l->n] = strdup(origin);
	if (l->items[l->n] == NULL || l->origin[l->n] == NULL)
		return -ENOMEM;
	l->n++;
	return 0;
}

static void
list_free(struct dpf_str_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i]);
		free(l->origin[i]);
	}
	free(l->items);
	free(l->origin);
	memset(l, 0, sizeof(*l));
}

static int
opt_set(struct dpf_options *o, const struct opt_def *d, const char *val, const char *origin,
	char *err, size_t err_len)
{
	struct shown sv;
	uint64_t v;
	char **sp;
	int rc, i;

	switch (d->type) {
	case OPT_FLAG:
		/* Given: on. The table's default reads "0". */
		*uint_field(o, d) = strcmp(val, "0") != 0;
		return 0;
	case OPT_LIST:
		if (val[0] == '\0') {
			snprintf(err, err_len, "%s: empty value", d->name);
			return -EINVAL;
		}
		return list_append(list_field(o, d), val, origin);
	case OPT_PATH:
		rc = path_check(d, val, err, err_len);
		if (rc < 0)
			return rc;
		sp = str_field(o, d);
		free(*sp);
		*sp = strdup(val);
		return *sp == NULL ? -ENOMEM : 0;
	case OPT_META:
		if (!dpf_fmt_meta_valid(val)) {
			snprintf(err, err_len,
				 "%s '%s': must be 1..%d printable characters without spaces",
				 d->name, shown(&sv, val), DPF_FMT_META_MAX);
			return -EINVAL;
		}
		/* fall through */
	case OPT_STR:
		if (val[0] == '\0') {
			snprintf(err, err_len, "%s: empty value", d->name);
			return -EINVAL;
		}
		sp = str_field(o, d);
		free(*sp);
		*sp = strdup(val);
		return *sp == NULL ? -ENOMEM : 0;
	case OPT_UINT:
		rc = dpf_cfg_parse_u64(val, d->min, d->max, &v);
		if (rc == -EINVAL) {
			snprintf(err, err_len, "%s '%s': not a number", d->name, shown(&sv, val));
			return rc;
		}
		if (rc == -ERANGE) {
			snprintf(err, err_len, "%s '%s': out of range %" PRIu64 "..%" PRIu64,
				 d->name, shown(&sv, val), d->min, d->max);
			return rc;
		}
		*uint_field(o, d) = v;
		return 0;
	case OPT_ENUM:
		for (i = 0; d->values[i] != NULL; i++) {
			if (strcmp(d->values[i], val) == 0) {
				*uint_field(o, d) = (uint64_t)i;
				return 0;
			}
		}
		snprintf(err, err_len, "%s '%s': expected %s", d->name, shown(&sv, val), d->arg);
		return -EINVAL;
	}
	return -EINVAL;
}

static const struct opt_def *
opt_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (strcmp(opt_table[i].name, name) == 0)
			return &opt_table[i];
	return NULL;
}

static int
set_defaults(struct dpf_options *o)
{
	char err[256];
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < N_OPTS; i++) {
		if (opt_table[i].def == NULL)
			continue;
		if (opt_set(o, &opt_table[i], opt_table[i].def, "default", err, sizeof(err)) < 0) {
			DPF_LOG(ERR, config, "internal default: %s\n", err);
			return -EINVAL;
		}
	}
	return 0;
}

static int
is_iface_key(const char *k)
{
	int i;

	for (i = 0; iface_keys[i] != NULL; i++)
		if (strcmp(iface_keys[i], k) == 0)
			return 1;
	return 0;
}

static const char **
iface_meta_slot(struct dpf_iface_meta *m, const char *key)
{
	if (strcmp(key, "account-id") == 0)
		return &m->account_id;
	if (strcmp(key, "vpc-id") == 0)
		return &m->vpc_id;
	if (strcmp(key, "subnet-id") == 0)
		return &m->subnet_id;
	if (strcmp(key, "instance-id") == 0)
		return &m->instance_id;
	if (strcmp(key, "region") == 0)
		return &m->region;
	if (strcmp(key, "az-id") == 0)
		return &m->az_id;
	if (strcmp(key, "sublocation-type") == 0)
		return &m->sublocation_type;
	if (strcmp(key, "sublocation-id") == 0)
		return &m->sublocation_id;
	return NULL;
}

static struct dpf_iface *
iface_for_section(struct dpf_config *cfg, const struct dpf_cfg_entry *e, const char *file)
{
	uint16_t i;

	for (i = 0; i < cfg->n_ifaces; i++)
		if (strcmp(cfg->ifaces[i].meta.interface_id, e->section_arg) == 0)
			return &cfg->ifaces[i];
	if (cfg->n_ifaces == DPF_MAX_IFACES) {
		DPF_LOG(ERR, config, "%s:%u: more than %d interfaces\n", file, e->section_line,
			DPF_MAX_IFACES);
		return NULL;
	}
	if (!dpf_fmt_meta_valid(e->section_arg)) {
		DPF_LOG(ERR, config,
			"%s:%u: interface section needs an id: [interface eni-...] "
			"(printable, no spaces)\n",
			file, e->section_line);
		return NULL;
	}
	cfg->ifaces[cfg->n_ifaces].meta.interface_id = strdup(e->section_arg);
	cfg->ifaces[cfg->n_ifaces].port = UINT16_MAX;
	cfg->ifaces[cfg->n_ifaces].vlan = -1;
	cfg->ifaces[cfg->n_ifaces].from_config = true;
	cfg->ifaces[cfg->n_ifaces].line = e->section_line;
	return &cfg->ifaces[cfg->n_ifaces++];
}

static int
parse_cidr_text(const char *tok, struct dpf_cidr *c)
{
	char buf[64];
	char *slash, *end;
	unsigned long len;
	unsigned int max;

	if (strlen(tok) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, tok);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1)
		c->family = 4;
	else if (inet_pton(AF_INET6, buf, c->addr) == 1)
		c->family = 6;
	else
		return -EINVAL;
	max = c->family == 4 ? 32 : 128;
	len = max;
	if (slash != NULL) {
		len = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || len > max)
			return -EINVAL;
	}
	c->len = (uint8_t)len;
	/* An interface address keeps its host bits (10.0.0.5/24 is fine). */
	return 0;
}

static int
iface_set_l2l3(struct dpf_iface *ifc, const char *key, const char *val, char *err,
	       size_t err_len)
{
	if (strcmp(key, "vlan") == 0) {
		uint64_t v;

		if (dpf_cfg_parse_u64(val, 0, 4095, &v) < 0) {
			snprintf(err, err_len, "vlan '%s': expected 0..4095", val);
			return -EINVAL;
		}
		ifc->vlan = (int32_t)v;
		return 0;
	}
	if (strcmp(key, "mac") == 0) {
		unsigned int b[6];
		char tail;
		int i;

		if (sscanf(val, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
			   &b[5], &tail) != 6 || strlen(val) != 17) {
			snprintf(err, err_len, "mac '%s': expected xx:xx:xx:xx:xx:xx", val);
			return -EINVAL;
		}
		for (i = 0; i < 6; i++)
			ifc->mac[i] = (uint8_t)b[i];
		ifc->has_mac = true;
		return 0;
	}
	/* addresses = CIDR[, CIDR...] (spaces or commas); the first is the primary. */
	{
		char buf[1024];
		char *save = NULL, *tok;

		if (strlen(val) >= sizeof(buf)) {
			snprintf(err, err_len, "addresses: too long");
			return -EINVAL;
		}
		strcpy(buf, val);
		ifc->n_addrs = 0;
		for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (ifc->n_addrs == DPF_IFACE_MAX_ADDRS) {
				snprintf(err, err_len, "addresses: more than %d",
					 DPF_IFACE_MAX_ADDRS);
				return -EINVAL;
			}
			if (parse_cidr_text(tok, &ifc->addrs[ifc->n_addrs]) < 0) {
				snprintf(err, err_len, "addresses: '%s' is not an address or CIDR",
					 tok);
				return -EINVAL;
			}
			ifc->n_addrs++;
		}
		if (ifc->n_addrs == 0) {
			snprintf(err, err_len, "addresses: empty");
			return -EINVAL;
		}
	}
	return 0;
}

/* [nat] rule = ...; [acl] rule = ..., default = allow|deny, stateful = yes|no */
static int
apply_rule_section(struct dpf_config *cfg, const struct dpf_cfg_entry *e, const char *path)
{
	bool nat = strcmp(e->section, "nat") == 0;
	char origin[PATH_MAX + 16], err[256];
	const struct opt_def *d = NULL;
	int rc;

	if (e->section_arg[0] != '\0') {
		DPF_LOG(ERR, config, "%s:%u: [%s] takes no argument\n", path, e->section_line,
			e->section);
		return -EINVAL;
	}
	if (e->key == NULL)
		return 0;
	if (strcmp(e->key, "rule") == 0)
		d = opt_find(nat ? "nat-rule" : "acl-rule");
	else if (!nat && strcmp(e->key, "default") == 0)
		d = opt_find("acl-default");
	else if (!nat && strcmp(e->key, "stateful") == 0)
		d = opt_find("acl-stateful");
	if (d == NULL) {
		DPF_LOG(ERR, config, "%s:%u: unknown key '%s' in [%s] (expected %s)\n", path,
			e->line, e->key, e->section, nat ? "rule" : "rule, default, stateful");
		return -EINVAL;
	}
	snprintf(origin, sizeof(origin), "%s:%u", path, e->line);
	rc = opt_set(&cfg->opt, d, e->value, origin, err, sizeof(err));
	if (rc < 0)
		DPF_LOG(ERR, config, "%s: %s\n", origin, err);
	return rc;
}

/* Rules add up ([nat] and [acl] take many); any other key set twice in one
 * section would silently keep the last value. */
static const struct dpf_cfg_entry *
repeated_key(const struct dpf_cfg *c, unsigned int i)
{
	const struct dpf_cfg_entry *e = dpf_cfg_get(c, i);
	unsigned int j;

	if (e->key == NULL || strcmp(e->key, "rule") == 0)
		return NULL;
	for (j = 0; j < i; j++) {
		const struct dpf_cfg_entry *p = dpf_cfg_get(c, j);

		if (p->key != NULL && strcmp(p->key, e->key) == 0 &&
		    strcmp(p->section, e->section) == 0 &&
		    strcmp(p->section_arg, e->section_arg) == 0)
			return p;
	}
	return NULL;
}

static int
apply_config_file(struct dpf_config *cfg, const char *path)
{
	char err[512];
	struct dpf_cfg *c = dpf_cfg_load(path, err, sizeof(err));
	char origin[PATH_MAX + 16];
	struct shown sv;
	unsigned int i;
	int rc = 0;

	if (c == NULL) {
		DPF_LOG(ERR, config, "--config: %s\n", err);
		return -EINVAL;
	}
	for (i = 0; i < dpf_cfg_count(c) && rc == 0; i++) {
		const struct dpf_cfg_entry *e = dpf_cfg_get(c, i);
		const struct dpf_cfg_entry *first = repeated_key(c, i);

		if (first != NULL) {
			DPF_LOG(ERR, config, "%s:%u: '%s' repeated in [%s%s%s] (first at line %u)\n",
				path, e->line, e->key, e->section, e->section_arg[0] ? " " : "",
				e->section_arg, first->line);
			rc = -EINVAL;
		} else if (strcmp(e->section, "dpflow") == 0) {
			const struct opt_def *d = e->key ? opt_find(e->key) : NULL;

			if (e->section_arg[0] != '\0') {
				DPF_LOG(ERR, config, "%s:%u: [dpflow] takes no argument\n", path,
					e->section_line);
				rc = -EINVAL;
			} else if (e->key == NULL) {
				continue;
			} else if (d == NULL || (d->flags & OPT_CLI_ONLY)) {
				DPF_LOG(ERR, config, "%s:%u: unknown setting '%s' in [dpflow]\n",
					path, e->line, e->key);
				rc = -EINVAL;
			} else {
				snprintf(origin, sizeof(origin), "%s:%u", path, e->line);
				rc = opt_set(&cfg->opt, d, e->value, origin, err, sizeof(err));
				if (rc < 0)
					DPF_LOG(ERR, config, "%s: %s\n", origin, err);
			}
		} else if (strcmp(e->section, "nat") == 0 || strcmp(e->section, "acl") == 0) {
			rc = apply_rule_section(cfg, e, path);
		} else if (strcmp(e->section, "interface") == 0) {
			struct dpf_iface *ifc = iface_for_section(cfg, e, path);
			uint64_t port;

			if (ifc == NULL) {
				rc = -EINVAL;
			} else if (e->key == NULL) {
				continue;
			} else if (!is_iface_key(e->key)) {
				DPF_LOG(ERR, config,
					"%s:%u: unknown key '%s' in [interface %s]\n",
					path, e->line, e->key, e->section_arg);
				rc = -EINVAL;
			} else if (strcmp(e->key, "port") == 0) {
				if (dpf_cfg_parse_u64(e->value, 0, DPF_MAX_PORTS - 1, &port) < 0) {
					DPF_LOG(ERR, config,
						"%s:%u: port '%s': expected 0..%d\n",
						path, e->line, shown(&sv, e->value),
						DPF_MAX_PORTS - 1);
					rc = -EINVAL;
				} else {
					ifc->port = (uint16_t)port;
				}
			} else if (strcmp(e->key, "vlan") == 0 || strcmp(e->key, "mac") == 0 ||
				   strcmp(e->key, "addresses") == 0) {
				rc = iface_set_l2l3(ifc, e->key, e->value, err, sizeof(err));
				if (rc < 0)
					DPF_LOG(ERR, config, "%s:%u: %s\n", path, e->line, err);
			} else if (!dpf_fmt_meta_valid(e->value)) {
				DPF_LOG(ERR, config,
					"%s:%u: %s '%s': must be printable without spaces\n",
					path, e->line, e->key, shown(&sv, e->value));
				rc = -EINVAL;
			} else {
				const char **slot = iface_meta_slot(&ifc->meta, e->key);

				free((char *)*slot);
				*slot = strdup(e->value);
			}
		} else {
			DPF_LOG(ERR, config,
				"%s:%u: unknown section [%s] (expected [dpflow], "
				"[interface ID], [nat] or [acl])\n",
				path, e->section_line, e->section);
			rc = -EINVAL;
		}
	}
	/* Every interface section must say which port it logs. */
	for (i = 0; rc == 0 && i < cfg->n_ifaces; i++) {
		uint16_t j;

		if (cfg->ifaces[i].port == UINT16_MAX) {
			DPF_LOG(ERR, config, "%s: [interface %s] has no 'port = N'\n", path,
				cfg->ifaces[i].meta.interface_id);
			rc = -EINVAL;
		}
		for (j = 0; rc == 0 && j < i; j++) {
			const struct dpf_iface *a = &cfg->ifaces[j], *b = &cfg->ifaces[i];

			if (a->port != b->port)
				continue;
			if ((a->has_mac && b->has_mac && memcmp(a->mac, b->mac, 6) == 0) ||
			    (!a->has_mac && !b->has_mac && a->vlan == b->vlan)) {
				DPF_LOG(ERR, config,
					"%s:%u: [interface %s] matches the same packets as "
					"[interface %s] (line %u): give each its own vlan or mac\n",
					path, b->line, b->meta.interface_id, a->meta.interface_id,
					a->line);
				rc = -EINVAL;
			}
		}
	}
	dpf_cfg_free(c);
	return rc;
}

void
dpf_options_usage(FILE *f, const char *prog)
{
	size_t i;

	fprintf(f, "usage: %s [EAL options] -- [options]\n\noptions:\n", prog);
	for (i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		char lhs[64];

		if (d->type == OPT_FLAG)
			snprintf(lhs, sizeof(lhs), "-%c, --%s", d->name[0], d->name);
		else
			snprintf(lhs, sizeof(lhs), "--%s %s", d->name, d->arg);
		fprintf(f, "  %-32s %s", lhs, d->help);
		if (d->def != NULL && d->type != OPT_STR && d->type != OPT_FLAG &&
		    d->type != OPT_PATH)
			fprintf(f, " (default %s)", d->def);
		fputc('\n', f);
	}
	fprintf(f, "  %-32s %s\n", "-h, --help", "this text");
}

/* show config: every setting from the table, as key: value. */
void
dpf_options_show(FILE *f, const struct dpf_options *o)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];
		const char *base = (const char *)o + d->off;

		switch (d->type) {
		case OPT_STR:
		case OPT_PATH:
		case OPT_META: {
			const char *v = *(char *const *)base;

			fprintf(f, "%s: %s\n", d->name, v != NULL ? v : "-");
			break;
		}
		case OPT_UINT:
		case OPT_FLAG:
			fprintf(f, "%s: %" PRIu64 "\n", d->name, *(const uint64_t *)base);
			break;
		case OPT_ENUM:
			fprintf(f, "%s: %s\n", d->name, d->values[*(const uint64_t *)base]);
			break;
		case OPT_LIST:
			/* Rules can change at run time: control.c prints the current set. */
			break;
		}
	}
}

void
dpf_options_free(struct dpf_config *cfg)
{
	size_t i;
	uint16_t k;

	for (i = 0; i < N_OPTS; i++) {
		if (opt_table[i].type == OPT_LIST)
			list_free(list_field(&cfg->opt, &opt_table[i]));
		if (opt_table[i].type == OPT_STR || opt_table[i].type == OPT_META ||
		    opt_table[i].type == OPT_PATH) {
			char **sp = str_field(&cfg->opt, &opt_table[i]);

			free(*sp);
			*sp = NULL;
		}
	}
	for (k = 0; k < cfg->n_ifaces; k++) {
		struct dpf_iface_meta *m = &cfg->ifaces[k].meta;

		if (!cfg->ifaces[k].from_config)
			continue;
		free((char *)m->interface_id);
		free((char *)m->account_id);
		free((char *)m->vpc_id);
		free((char *)m->subnet_id);
		free((char *)m->instance_id);
		free((char *)m->region);
		free((char *)m->az_id);
		free((char *)m->sublocation_type);
		free((char *)m->sublocation_id);
	}
	cfg->n_ifaces = 0;
}

/*
 * The value of setting `name` before EAL has run: from `--name V` or
 * `--name=V` after "--", else from the [dpflow] section of --config.
 * Quiet: dpf_options_parse() reports any problem later. NULL when unset.
 */
const char *
dpf_options_peek(int argc, char **argv, const char *name, char *buf, size_t len)
{
	const char *config = NULL;
	size_t nl = strlen(name);
	struct dpf_cfg *c;
	char err[256];
	unsigned int k;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	for (i++; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (strncmp(a, "--", 2) != 0)
			continue;
		if (strncmp(a + 2, name, nl) == 0 && a[2 + nl] == '=')
			v = a + 3 + nl;
		else if (strcmp(a + 2, name) == 0 && i + 1 < argc)
			v = argv[i + 1];
		if (v != NULL) {
			snprintf(buf, len, "%s", v);
			return buf;
		}
		if (strncmp(a, "--config=", 9) == 0)
			config = a + 9;
		else if (strcmp(a, "--config") == 0 && i + 1 < argc)
			config = argv[i + 1];
	}
	if (config == NULL || (c = dpf_cfg_load(config, err, sizeof(err))) == NULL)
		return NULL;
	for (k = 0; k < dpf_cfg_count(c); k++) {
		const struct dpf_cfg_entry *e = dpf_cfg_get(c, k);

		if (e->key != NULL && strcmp(e->section, "dpflow") == 0 &&
		    strcmp(e->key, name) == 0) {
			snprintf(buf, len, "%s", e->value);
			dpf_cfg_free(c);
			return buf;
		}
	}
	dpf_cfg_free(c);
	return NULL;
}

/*
 * Returns 0 to run, 1 when help was printed (exit 0), negative on a bad
 * option (message already printed).
 */
int
dpf_options_parse(struct dpf_config *cfg, int argc, char **argv)
{
	struct option longopts[N_OPTS + 2];
	const char *config_path = NULL;
	struct shown sv;
	char err[512];
	size_t i;
	int c, idx, rc;

	memset(cfg, 0, sizeof(*cfg));
	if (set_defaults(&cfg->opt) < 0)
		return -EINVAL;
	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opt_table[i].name;
		longopts[i].has_arg = opt_table[i].type == OPT_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
	}
	longopts[N_OPTS] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[N_OPTS + 1] = (struct option){NULL, 0, NULL, 0};

	/* First pass: only --config, so the command line can override the file.
	 * optind 0 resets glibc's getopt fully (1 keeps a stale position inside an
	 * option cluster when an earlier parse stopped early). */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hi", longopts, &idx)) != -1) {
		if (c < 256 || strcmp(opt_table[c - 256].name, "config") != 0)
			continue;
		/* A second file would replace the first, not add to it. */
		if (config_path != NULL) {
			struct shown sv2;

			DPF_LOG(ERR, config, "--config given twice ('%s' and '%s'): give one file\n",
				shown(&sv, config_path), shown(&sv2, optarg));
			return -EINVAL;
		}
		config_path = optarg;
	}
	if (config_path != NULL) {
		rc = apply_config_file(cfg, config_path);
		if (rc < 0)
			return rc;
	}

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":hi", longopts, &idx)) != -1) {
		if (c == 'h') {
			dpf_options_usage(stdout, argv[0]);
			return 1;
		}
		if (c == 'i') {
			cfg->opt.interactive = 1;
			continue;
		}
		if (c == '?') {
			DPF_LOG(ERR, config, "unknown option '%s' (see --help)\n",
				shown(&sv, argv[optind - 1]));
			return -EINVAL;
		}
		if (c == ':') {
			DPF_LOG(ERR, config, "option '%s' needs a value (see --help)\n",
				shown(&sv, argv[optind - 1]));
			return -EINVAL;
		}
		{
			const struct opt_def *d = &opt_table[c - 256];
			char origin[64];

			snprintf(origin, sizeof(origin), "--%s #%u", d->name,
				 d->type == OPT_LIST ? list_field(&cfg->opt, d)->n + 1 : 1);
			rc = opt_set(&cfg->opt, d, optarg != NULL ? optarg : "1", origin, err, sizeof(err));
		}
		if (rc < 0) {
			DPF_LOG(ERR, config, "--%s\n", err);
			return rc;
		}
	}
	if (optind < argc) {
		DPF_LOG(ERR, config, "unexpected argument '%s' (see --help)\n",
			shown(&sv, argv[optind]));
		return -EINVAL;
	}
	/* Checked here, before EAL lcores are counted, so the limit is what is named. */
	if (cfg->opt.replay != NULL && cfg->opt.rxq > RTE_PMD_RING_MAX_RX_RINGS) {
		DPF_LOG(ERR, config,
			"--rxq %" PRIu64 ": the replay source feeds at most %d queues (the "
			"limit of its net_ring port)\n",
			cfg->opt.rxq, RTE_PMD_RING_MAX_RX_RINGS);
		return -EINVAL;
	}
	return 0;
}
