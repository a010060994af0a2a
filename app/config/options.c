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
	OPT_STR,  /* free text (format strings) */
	OPT_PATH, /* a file or directory: checked by path_check() */
	OPT_META, /* printed in records: printable ASCII, no space */
	OPT_UINT,
	OPT_ENUM,
	OPT_LIST, /* repeatable: each use appends */
	OPT_FLAG, /* no value: set to 1 */
};

#define OPT_CLI_ONLY 0x1
/* show config leaves it to its subsystem, which shows the value in use and its origin. */
#define OPT_SHOWN_BY_OWNER 0x2
/* A flag with a one-letter form, -<its first letter> (-i). */
#define OPT_SHORT 0x4

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

/*
 * A row of each type names only what the type uses (O_UINT its range, O_ENUM
 * its names; _CLI: not a [dpflow] key): one option a row, its help below.
 */
#define O_ROW(name, type, field, min, max, values, def, arg, flags, help)                          \
	{                                                                                          \
		name, type, offsetof(struct dpf_options, field), min, max, values, def, arg, help, \
			flags                                                                      \
	}
#define O_STR(name, field, def, arg, help)                                                         \
	O_ROW(name, OPT_STR, field, 0, 0, NULL, def, arg, 0, help)
#define O_META(name, field, def, arg, help)                                                        \
	O_ROW(name, OPT_META, field, 0, 0, NULL, def, arg, 0, help)
#define O_PATH(name, field, def, arg, help)                                                        \
	O_ROW(name, OPT_PATH, field, 0, 0, NULL, def, arg, 0, help)
#define O_PATH_CLI(name, field, def, arg, help)                                                    \
	O_ROW(name, OPT_PATH, field, 0, 0, NULL, def, arg, OPT_CLI_ONLY, help)
#define O_UINT(name, field, min, max, def, arg, help)                                              \
	O_ROW(name, OPT_UINT, field, min, max, NULL, def, arg, 0, help)
#define O_ENUM(name, field, values, def, arg, help)                                                \
	O_ROW(name, OPT_ENUM, field, 0, 0, values, def, arg, 0, help)
#define O_STR_BY_OWNER(name, field, def, arg, help)                                                \
	O_ROW(name, OPT_STR, field, 0, 0, NULL, def, arg, OPT_SHOWN_BY_OWNER, help)
#define O_LIST(name, field, arg, help) O_ROW(name, OPT_LIST, field, 0, 0, NULL, NULL, arg, 0, help)
#define O_FLAG_CLI(name, field, help)                                                              \
	O_ROW(name, OPT_FLAG, field, 0, 1, NULL, "0", "", OPT_CLI_ONLY, help)
#define O_FLAG_SHORT(name, field, help)                                                            \
	O_ROW(name, OPT_FLAG, field, 0, 1, NULL, "0", "", OPT_CLI_ONLY | OPT_SHORT, help)

#define O_TABLE_ROW(type, ...) O_##type(__VA_ARGS__),

static const struct opt_def opt_table[] = {DPF_OPTIONS(O_TABLE_ROW)};

#undef O_TABLE_ROW

#undef O_ROW
#undef O_STR
#undef O_META
#undef O_PATH
#undef O_PATH_CLI
#undef O_UINT
#undef O_ENUM
#undef O_LIST
#undef O_FLAG_CLI
#undef O_FLAG_SHORT
#undef O_STR_BY_OWNER

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
			snprintf(err, err_len,
				 "%s: control character 0x%02x at byte %zu of the path", d->name, c,
				 i + 1);
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

	/* Texts with a grammar of their own (overlay.c) are checked before they are kept. */
	rc = dpf_config_overlay_check(d->name, val, err, err_len);
	if (rc < 0)
		return rc;
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
			snprintf(err, err_len, "%s '%s': not a number", d->name,
				 dpf_config_shown(&sv, val));
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
		snprintf(err, err_len, "%s '%s': expected %s", d->name, dpf_config_shown(&sv, val),
			 d->arg);
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

		if (d->flags & OPT_SHORT)
			snprintf(lhs, sizeof(lhs), "-%c, --%s", d->name[0], d->name);
		else if (d->type == OPT_FLAG)
			snprintf(lhs, sizeof(lhs), "--%s", d->name);
		else
			snprintf(lhs, sizeof(lhs), "--%s %s", d->name, d->arg);
		fprintf(f, "  %-32s %s", lhs, d->help);
		if (d->def != NULL && d->type != OPT_STR && d->type != OPT_FLAG &&
		    d->type != OPT_PATH)
			fprintf(f, " (default %s)", d->def);
		fputc('\n', f);
	}
	fprintf(f, "  %-32s %s\n", "-h, --help", "this text");
	fprintf(f, "  %-32s %s\n", "-V, --version", "the version of dpflow and of DPDK");
	fprintf(f, "\nEAL options (before --): DPDK's, e.g. -l, --lcores, -a, --vdev, --no-huge; "
		   "--help and --version need none of them (nor hugepages)\n");
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

		if (d->flags & OPT_SHOWN_BY_OWNER)
			continue;
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
dpf_config_set(struct dpf_config *c, const char *name, const char *value, char *err, size_t err_len)
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
	for (k = 0; k < c->n_ifaces; k++)
		dpf_config_iface_meta_free(&c->ifaces[k].meta);
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
		longopts[i].has_arg =
			opt_table[i].type == OPT_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
	}
	longopts[N_OPTS] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[N_OPTS + 1] = (struct option){"version", no_argument, NULL, 'V'};
	longopts[N_OPTS + 2] = (struct option){NULL, 0, NULL, 0};
}

/*
 * --help and --version are answered before EAL starts, so they work on any
 * machine (no hugepages, no NIC, no EAL option). Before "--" (EAL's part)
 * only the literal words count; after it, getopt reads our options, so an
 * option's value that happens to read "--help" is not taken for it.
 */
enum dpf_config_early
dpf_config_early(int argc, char **argv)
{
	struct option longopts[N_OPTS + 3];
	enum dpf_config_early res = DPF_CONFIG_RUN;
	int i, c, idx;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return DPF_CONFIG_HELP;
		if (strcmp(argv[i], "--version") == 0)
			return DPF_CONFIG_VERSION;
	}
	if (i >= argc)
		return DPF_CONFIG_RUN;
	long_options(longopts);
	opterr = 0;
	optind = 0;
	/* Our options as getopt sees them: argv[i] ("--") stands for the program name. */
	while (res == DPF_CONFIG_RUN &&
	       (c = getopt_long(argc - i, argv + i, ":hiV", longopts, &idx)) != -1) {
		if (c == 'h')
			res = DPF_CONFIG_HELP;
		else if (c == 'V')
			res = DPF_CONFIG_VERSION;
	}
	optind = 0;
	return res;
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
	while ((c = getopt_long(argc, argv, "hiV", longopts, &idx)) != -1) {
		if (c < 256 || strcmp(opt_table[c - 256].name, "config") != 0)
			continue;
		/* A second file would replace the first, not add to it. */
		if (*path != NULL) {
			DPF_LOG(ERR, config,
				"--config given twice ('%s' and '%s'): give one file\n",
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
	while ((c = getopt_long(argc, argv, ":hiV", longopts, &idx)) != -1) {
		const struct opt_def *d;

		/* Answered before EAL (dpf_config_early); here only if called without it. */
		if (c == 'h' || c == 'V') {
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

/* A setting that still holds its table default (never given, or given as the default). */
static bool
opt_is_default(const struct dpf_options *o, const struct opt_def *d)
{
	const char *base = (const char *)o + d->off;
	uint64_t v = *(const uint64_t *)base;
	size_t i;

	switch (d->type) {
	case OPT_STR:
	case OPT_PATH:
	case OPT_META:
		return *(char *const *)base == NULL ||
		       (d->def != NULL && strcmp(*(char *const *)base, d->def) == 0);
	case OPT_UINT:
	case OPT_FLAG:
		return d->def == NULL || dpf_cfg_parse_u64(d->def, 0, UINT64_MAX, &v) < 0 ||
		       v == *(const uint64_t *)base;
	case OPT_ENUM:
		for (i = 0; d->values[i] != NULL; i++)
			if (strcmp(d->values[i], d->def) == 0)
				return v == i;
		return true;
	case OPT_LIST:
		return ((const struct dpf_str_list *)base)->n == 0;
	}
	return true;
}

/*
 * Settings that would be ignored are errors: compression of a stream that is
 * never compressed, upload settings without a bucket, and ids that name a
 * folder of the object path (--output DIR) but could not be one.
 */
static int
check_combinations(const struct dpf_options *o)
{
	static const char *const path_ids[] = {"account-id", "region", "flow-log-id"};
	/* Options named PREFIX* configure what OPTION turns on. */
	static const struct {
		const char *prefix, *option, *what;
		size_t off;
		bool or_connections; /* --connections yes turns it on too */
	} needs[] = {
		{"s3-", "s3-bucket", "the upload", offsetof(struct dpf_options, s3_bucket)},
		{"ipfix-", "ipfix", "the IPFIX export", offsetof(struct dpf_options, ipfix)},
		{"ibm-", "ibm-output", "the IBM objects", offsetof(struct dpf_options, ibm_output)},
		{"conn-", "ibm-output or --connections yes", "the connection records",
		 offsetof(struct dpf_options, ibm_output), true},
	};
	struct dpf_config_shown sv;
	size_t i, k;

	for (i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];

		if (opt_is_default(o, d))
			continue;
		if (strcmp(o->output, "-") == 0 && strncmp(d->name, "compress", 8) == 0) {
			DPF_LOG(ERR, config,
				"--%s: --output - writes uncompressed text to stdout; compression "
				"applies to --output DIR files only\n",
				d->name);
			return -EINVAL;
		}
		for (k = 0; k < RTE_DIM(needs); k++) {
			const char *base = (const char *)o + needs[k].off;

			if (*(char *const *)base != NULL ||
			    (needs[k].or_connections && o->connections != 0) ||
			    strncmp(d->name, needs[k].prefix, strlen(needs[k].prefix)) != 0)
				continue;
			DPF_LOG(ERR, config,
				"--%s: has no effect without --%s (it configures %s)\n", d->name,
				needs[k].option, needs[k].what);
			return -EINVAL;
		}
	}
	for (i = 0; i < RTE_DIM(path_ids) && strcmp(o->output, "-") != 0; i++) {
		const char *v = *str_field((struct dpf_options *)o, opt_find(path_ids[i]));

		if (v != NULL &&
		    (strchr(v, '/') != NULL || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)) {
			DPF_LOG(ERR, config,
				"--%s '%s': is part of the object path of --output DIR files, "
				"so it cannot contain '/' or be '.' or '..'\n",
				path_ids[i], dpf_config_shown(&sv, v));
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The progress line is a log line from the run loop's thread: at the prompt
 * it would land in the middle of the line being typed. dpdk-testpmd shows
 * --stats-period only without -i; dpflow says so instead of ignoring it.
 */
static int
check_prompt(const struct dpf_options *o)
{
	if (o->interactive == 0 || o->stats_period == 0)
		return 0;
	DPF_LOG(ERR, config,
		"--stats-period %" PRIu64 " and -i: the progress lines would break the line being "
		"typed at the prompt; ask there instead (show window, show flow-table, show port "
		"stats all), or run without -i (--cmdline-file works with --stats-period)\n",
		o->stats_period);
	return -EINVAL;
}

int
dpf_config_parse(int argc, char **argv, struct dpf_config **out)
{
	struct option longopts[N_OPTS + 3];
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
	if (rc == 0)
		rc = check_combinations(&cfg->opt);
	if (rc == 0)
		rc = check_prompt(&cfg->opt);
	if (rc == 0)
		rc = dpf_config_overlay_check_all(cfg);
	if (rc != 0) {
		dpf_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}
