/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Options: one table drives the command line, the [dpflow] section of the
 * configuration file (sections.c), the usage text and `show config`.
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

#include <rte_common.h>
#include <rte_eth_ring.h>

#include "config_internal.h"
#include "dpf_cfg.h"
#include "dpf_fmt.h"
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

const char *
dpf_config_shown(struct dpf_config_shown *b, const char *v)
{
	size_t o = 0, i;

	for (i = 0; v[i] != '\0' && i < DPF_CONFIG_SHOWN_MAX; i++) {
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

int
dpf_str_list_append(struct dpf_str_list *l, const char *val, const char *origin)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(char *));
	char **orig;
	char *v, *o;

	if (items == NULL)
		return -ENOMEM;
	l->items = items;
	orig = realloc(l->origin, (l->n + 1) * sizeof(char *));
	if (orig == NULL)
		return -ENOMEM;
	l->origin = orig;
	v = strdup(val);
	o = strdup(origin);
	if (v == NULL || o == NULL) {
		free(v);
		free(o);
		return -ENOMEM;
	}
	l->items[l->n] = v;
	l->origin[l->n] = o;
	l->n++;
	return 0;
}

int
dpf_str_list_copy(struct dpf_str_list *dst, const struct dpf_str_list *src)
{
	unsigned int i;
	int rc;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->n; i++) {
		rc = dpf_str_list_append(dst, src->items[i], src->origin[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
dpf_str_list_free(struct dpf_str_list *l)
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
	struct dpf_config_shown sv;
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
		return dpf_str_list_append(list_field(o, d), val, origin);
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
				 d->name, dpf_config_shown(&sv, val), DPF_FMT_META_MAX);
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
			snprintf(err, err_len, "%s '%s': not a number", d->name, dpf_config_shown(&sv, val));
			return rc;
		}
		if (rc == -ERANGE) {
			snprintf(err, err_len, "%s '%s': out of range %" PRIu64 "..%" PRIu64,
				 d->name, dpf_config_shown(&sv, val), d->min, d->max);
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
		snprintf(err, err_len, "%s '%s': expected %s", d->name, dpf_config_shown(&sv, val), d->arg);
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

int
dpf_config_opt_set(struct dpf_options *o, const char *name, bool file_only, const char *val,
		   const char *origin, char *err, size_t err_len)
{
	const struct opt_def *d = opt_find(name);

	if (d == NULL || (file_only && (d->flags & OPT_CLI_ONLY)))
		return -ENOENT;
	return opt_set(o, d, val, origin, err, err_len);
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

void
dpf_config_usage(FILE *f, const char *prog)
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
dpf_config_show(struct dpf_config *c, FILE *f)
{
	const struct dpf_options *o = &c->opt;
	size_t i;

	pthread_mutex_lock(&c->lock);
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
			/* Rules change at run time: the rules subsystem shows the current set. */
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

int
dpf_config_set(struct dpf_config *c, const char *name, const char *value, char *err,
	       size_t err_len)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = dpf_config_opt_set(&c->opt, name, false, value, "run time", err, err_len);
	pthread_mutex_unlock(&c->lock);
	if (rc == -ENOENT)
		snprintf(err, err_len, "%s: no such setting", name);
	return rc;
}

const struct dpf_options *
dpf_config_options(const struct dpf_config *c)
{
	return &c->opt;
}

uint16_t
dpf_config_iface_count(const struct dpf_config *c)
{
	return c->n_ifaces;
}

const struct dpf_iface *
dpf_config_iface(const struct dpf_config *c, uint16_t i)
{
	return i < c->n_ifaces ? &c->ifaces[i] : NULL;
}

void
dpf_config_free(struct dpf_config *c)
{
	size_t i;
	uint16_t k;

	if (c == NULL)
		return;
	for (i = 0; i < N_OPTS; i++) {
		if (opt_table[i].type == OPT_LIST)
			dpf_str_list_free(list_field(&c->opt, &opt_table[i]));
		if (opt_table[i].type == OPT_STR || opt_table[i].type == OPT_META ||
		    opt_table[i].type == OPT_PATH)
			free(*str_field(&c->opt, &opt_table[i]));
	}
	for (k = 0; k < c->n_ifaces; k++) {
		struct dpf_iface_meta *m = &c->ifaces[k].meta;

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
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/*
 * The value of setting `name` before EAL has run: from `--name V` or
 * `--name=V` after "--", else from the [dpflow] section of --config.
 * Quiet: dpf_config_parse() reports any problem later. NULL when unset.
 */
const char *
dpf_config_peek(int argc, char **argv, const char *name, char *buf, size_t len)
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

static void
long_options(struct option *longopts)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opt_table[i].name;
		longopts[i].has_arg = opt_table[i].type == OPT_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
	}
	longopts[N_OPTS] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[N_OPTS + 1] = (struct option){NULL, 0, NULL, 0};
}

/*
 * First pass: only --config, so the command line can override the file.
 * optind 0 resets glibc's getopt fully (1 keeps a stale position inside an
 * option cluster when an earlier parse stopped early).
 */
static int
find_config_file(int argc, char **argv, const struct option *longopts, const char **path)
{
	struct dpf_config_shown sv, sv2;
	int c, idx;

	*path = NULL;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hi", longopts, &idx)) != -1) {
		if (c < 256 || strcmp(opt_table[c - 256].name, "config") != 0)
			continue;
		/* A second file would replace the first, not add to it. */
		if (*path != NULL) {
			DPF_LOG(ERR, config, "--config given twice ('%s' and '%s'): give one file\n",
				dpf_config_shown(&sv, *path), dpf_config_shown(&sv2, optarg));
			return -EINVAL;
		}
		*path = optarg;
	}
	return 0;
}

/* Second pass: every option; 1 when help was printed. */
static int
apply_command_line(struct dpf_config *cfg, int argc, char **argv, const struct option *longopts)
{
	struct dpf_config_shown sv;
	char err[512], origin[64];
	int c, idx, rc;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":hi", longopts, &idx)) != -1) {
		const struct opt_def *d;

		if (c == 'h') {
			dpf_config_usage(stdout, argv[0]);
			return 1;
		}
		if (c == 'i') {
			cfg->opt.interactive = 1;
			continue;
		}
		if (c == '?') {
			DPF_LOG(ERR, config, "unknown option '%s' (see --help)\n",
				dpf_config_shown(&sv, argv[optind - 1]));
			return -EINVAL;
		}
		if (c == ':') {
			DPF_LOG(ERR, config, "option '%s' needs a value (see --help)\n",
				dpf_config_shown(&sv, argv[optind - 1]));
			return -EINVAL;
		}
		d = &opt_table[c - 256];
		snprintf(origin, sizeof(origin), "--%s #%u", d->name,
			 d->type == OPT_LIST ? list_field(&cfg->opt, d)->n + 1 : 1);
		rc = opt_set(&cfg->opt, d, optarg != NULL ? optarg : "1", origin, err, sizeof(err));
		if (rc < 0) {
			DPF_LOG(ERR, config, "--%s\n", err);
			return rc;
		}
	}
	if (optind < argc) {
		DPF_LOG(ERR, config, "unexpected argument '%s' (see --help)\n",
			dpf_config_shown(&sv, argv[optind]));
		return -EINVAL;
	}
	return 0;
}

/* The record format, checked before anything starts. */
static int
check_format(const struct dpf_options *o)
{
	char err[256];
	struct dpf_fmt *f = dpf_fmt_parse(o->log_format, err, sizeof(err));

	if (f == NULL) {
		DPF_LOG(ERR, config, "--log-format: %s\n", err);
		return -EINVAL;
	}
	dpf_fmt_free(f);
	return 0;
}

int
dpf_config_parse(int argc, char **argv, struct dpf_config **out)
{
	struct option longopts[N_OPTS + 2];
	const char *config_path;
	struct dpf_config *cfg;
	int rc;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		DPF_LOG(ERR, config, "out of memory\n");
		return -ENOMEM;
	}
	pthread_mutex_init(&cfg->lock, NULL);
	long_options(longopts);
	rc = set_defaults(&cfg->opt);
	if (rc == 0)
		rc = find_config_file(argc, argv, longopts, &config_path);
	if (rc == 0 && config_path != NULL)
		rc = dpf_config_read_file(cfg, config_path);
	if (rc == 0)
		rc = apply_command_line(cfg, argc, argv, longopts);
	/* Checked here, before EAL lcores are counted, so the limit is what is named. */
	if (rc == 0 && cfg->opt.replay != NULL && cfg->opt.rxq > RTE_PMD_RING_MAX_RX_RINGS) {
		DPF_LOG(ERR, config,
			"--rxq %" PRIu64 ": the replay source feeds at most %d queues (the "
			"limit of its net_ring port)\n",
			cfg->opt.rxq, RTE_PMD_RING_MAX_RX_RINGS);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = check_format(&cfg->opt);
	if (rc != 0) {
		dpf_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}
