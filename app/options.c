/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Options: one table drives the command line, the [dpflow] section of the
 * configuration file, the usage text and the configuration dump.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpf_cfg.h"
#include "dpf_fmt.h"
#include "dpflow.h"

enum opt_type {
	OPT_STR,   /* free text (format strings) */
	OPT_PATH,  /* a file or directory: checked by path_check() */
	OPT_META,  /* printed in records: printable ASCII, no space */
	OPT_UINT,
	OPT_ENUM,
};

#define OPT_CLI_ONLY 0x1

static const char *const clock_names[] = {"auto", "packet", "wall", NULL};
static const char *const compress_names[] = {"zstd", "gzip", "none", NULL};

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
	{"config", OPT_PATH, O(config), 0, 0, NULL, NULL, "FILE",
	 "read settings from FILE ([dpflow] keys as above, [interface ID] sections); "
	 "command-line options win", OPT_CLI_ONLY},
	{"hold-mb", OPT_UINT, O(hold_mb), 1, 1u << 20, NULL, "64", "MB",
	 "output kept in memory while the output directory cannot be written (full, "
	 "read-only, unwritable), retried every 250 ms; beyond it records are counted as lost", 0},
	{"test-writer-delay", OPT_UINT, O(test_writer_delay), 0, 60000, NULL, "0", "MS",
	 "test knob: the writer waits MS ms before each record batch until a stop, like a slow "
	 "disk (doc/reliability.md)", 0},
};

#define N_OPTS RTE_DIM(opt_table)

/* Keys of an [interface ID] section. */
static const char *const iface_keys[] = {
	"port", "account-id", "vpc-id", "subnet-id", "instance-id", "region", "az-id",
	"sublocation-type", "sublocation-id", NULL,
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
static int
opt_set(struct dpf_options *o, const struct opt_def *d, const char *val, char *err,
	size_t err_len)
{
	struct shown sv;
	uint64_t v;
	char **sp;
	int rc, i;

	switch (d->type) {
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
		if (opt_set(o, &opt_table[i], opt_table[i].def, err, sizeof(err)) < 0) {
			fprintf(stderr, "dpflow: internal default: %s\n", err);
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
		fprintf(stderr, "dpflow: %s:%u: more than %d interfaces\n", file, e->section_line,
			DPF_MAX_IFACES);
		return NULL;
	}
	if (!dpf_fmt_meta_valid(e->section_arg)) {
		fprintf(stderr,
			"dpflow: %s:%u: interface section needs an id: [interface eni-...] "
			"(printable, no spaces)\n",
			file, e->section_line);
		return NULL;
	}
	cfg->ifaces[cfg->n_ifaces].meta.interface_id = strdup(e->section_arg);
	cfg->ifaces[cfg->n_ifaces].port = UINT16_MAX;
	cfg->ifaces[cfg->n_ifaces].from_config = true;
	return &cfg->ifaces[cfg->n_ifaces++];
}

static int
apply_config_file(struct dpf_config *cfg, const char *path)
{
	char err[512];
	struct dpf_cfg *c = dpf_cfg_load(path, err, sizeof(err));
	struct shown sv;
	unsigned int i;
	int rc = 0;

	if (c == NULL) {
		fprintf(stderr, "dpflow: --config: %s\n", err);
		return -EINVAL;
	}
	for (i = 0; i < dpf_cfg_count(c) && rc == 0; i++) {
		const struct dpf_cfg_entry *e = dpf_cfg_get(c, i);

		if (strcmp(e->section, "dpflow") == 0) {
			const struct opt_def *d = e->key ? opt_find(e->key) : NULL;

			if (e->section_arg[0] != '\0') {
				fprintf(stderr, "dpflow: %s:%u: [dpflow] takes no argument\n", path,
					e->section_line);
				rc = -EINVAL;
			} else if (e->key == NULL) {
				continue;
			} else if (d == NULL || (d->flags & OPT_CLI_ONLY)) {
				fprintf(stderr, "dpflow: %s:%u: unknown setting '%s' in [dpflow]\n",
					path, e->line, e->key);
				rc = -EINVAL;
			} else if ((rc = opt_set(&cfg->opt, d, e->value, err, sizeof(err))) < 0) {
				fprintf(stderr, "dpflow: %s:%u: %s\n", path, e->line, err);
			}
		} else if (strcmp(e->section, "interface") == 0) {
			struct dpf_iface *ifc = iface_for_section(cfg, e, path);
			uint64_t port;

			if (ifc == NULL) {
				rc = -EINVAL;
			} else if (e->key == NULL) {
				continue;
			} else if (!is_iface_key(e->key)) {
				fprintf(stderr,
					"dpflow: %s:%u: unknown key '%s' in [interface %s]\n",
					path, e->line, e->key, e->section_arg);
				rc = -EINVAL;
			} else if (strcmp(e->key, "port") == 0) {
				if (dpf_cfg_parse_u64(e->value, 0, DPF_MAX_PORTS - 1, &port) < 0) {
					fprintf(stderr,
						"dpflow: %s:%u: port '%s': expected 0..%d\n",
						path, e->line, shown(&sv, e->value),
						DPF_MAX_PORTS - 1);
					rc = -EINVAL;
				} else {
					ifc->port = (uint16_t)port;
				}
			} else if (!dpf_fmt_meta_valid(e->value)) {
				fprintf(stderr,
					"dpflow: %s:%u: %s '%s': must be printable without spaces\n",
					path, e->line, e->key, shown(&sv, e->value));
				rc = -EINVAL;
			} else {
				const char **slot = iface_meta_slot(&ifc->meta, e->key);

				free((char *)*slot);
				*slot = strdup(e->value);
			}
		} else {
			fprintf(stderr,
				"dpflow: %s:%u: unknown section [%s] (expected [dpflow] or "
				"[interface ID])\n",
				path, e->section_line, e->section);
			rc = -EINVAL;
		}
	}
	/* Every interface section must say which port it logs. */
	for (i = 0; rc == 0 && i < cfg->n_ifaces; i++) {
		uint16_t j;

		if (cfg->ifaces[i].port == UINT16_MAX) {
			fprintf(stderr, "dpflow: %s: [interface %s] has no 'port = N'\n", path,
				cfg->ifaces[i].meta.interface_id);
			rc = -EINVAL;
		}
		for (j = 0; rc == 0 && j < i; j++) {
			if (cfg->ifaces[j].port == cfg->ifaces[i].port) {
				fprintf(stderr,
					"dpflow: %s: [interface %s] and [interface %s] both log "
					"port %u\n",
					path, cfg->ifaces[j].meta.interface_id,
					cfg->ifaces[i].meta.interface_id, cfg->ifaces[i].port);
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

		snprintf(lhs, sizeof(lhs), "--%s %s", d->name, d->arg);
		fprintf(f, "  %-32s %s", lhs, d->help);
		if (d->def != NULL && d->type != OPT_STR && d->type != OPT_PATH)
			fprintf(f, " (default %s)", d->def);
		fputc('\n', f);
	}
	fprintf(f, "  %-32s %s\n", "-h, --help", "this text");
}

void
dpf_options_free(struct dpf_config *cfg)
{
	size_t i;
	uint16_t k;

	for (i = 0; i < N_OPTS; i++) {
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
		longopts[i].has_arg = required_argument;
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
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1)
		if (c >= 256 && strcmp(opt_table[c - 256].name, "config") == 0)
			config_path = optarg;
	if (config_path != NULL) {
		rc = apply_config_file(cfg, config_path);
		if (rc < 0)
			return rc;
	}

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		if (c == 'h') {
			dpf_options_usage(stdout, argv[0]);
			return 1;
		}
		if (c == '?') {
			fprintf(stderr, "dpflow: unknown option '%s' (see --help)\n",
				shown(&sv, argv[optind - 1]));
			return -EINVAL;
		}
		if (c == ':') {
			fprintf(stderr, "dpflow: option '%s' needs a value (see --help)\n",
				shown(&sv, argv[optind - 1]));
			return -EINVAL;
		}
		rc = opt_set(&cfg->opt, &opt_table[c - 256], optarg, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "dpflow: --%s\n", err);
			return rc;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dpflow: unexpected argument '%s' (see --help)\n",
			shown(&sv, argv[optind]));
		return -EINVAL;
	}
	return 0;
}
