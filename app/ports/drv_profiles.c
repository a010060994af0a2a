/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading driver profiles: the profile directory, default.ini and its
 * [aliases], and each driver's file over default.ini.
 *
 * One reader: lib/cfg, with '#' comments anywhere on a line. It keeps every
 * entry's line, refuses a line without '=' (DPDK's rte_cfgfile, which
 * profiles were once also read with, drops such a line silently), a
 * repeated section and control characters, and names the file and line of
 * each problem. The schema (drv_schema.c) checks every key and value here.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "dpf_cfg.h"
#include "drv_profile.h"

#ifndef DPF_DRIVERS_CFG_DIR
#define DPF_DRIVERS_CFG_DIR "/usr/local/share/dpflow/drivers-cfg"
#endif
#ifndef DPF_DRIVERS_CFG_SRC
#define DPF_DRIVERS_CFG_SRC "drivers-cfg"
#endif

#define PROFILE_SECTION "port"
#define ALIAS_SECTION "aliases"
#define MAX_ALIASES 32
#define MAX_PROFILES RTE_MAX_ETHPORTS

struct alias {
	char from[DPF_DRV_NAME_LEN];
	char to[DPF_DRV_NAME_LEN];
};

struct dpf_drv_profiles {
	struct dpf_drv_profiles_loaded l; /* drv_profile.h: directory, origin, base */
	struct alias aliases[MAX_ALIASES];
	unsigned int n_aliases;
	/* Profiles read so far; inline, so that the pointers handed out stay
	 * valid as the set grows. */
	struct dpf_drv_profile profiles[MAX_PROFILES];
	unsigned int n_profiles;
};

/* ---- one file ---- */

/* What reading one file has seen so far. */
struct load {
	const char *path;
	struct dpf_drv_profile p;
	unsigned int key_line[DPF_DRV_N_KEYS];
	unsigned int port_line, alias_line;
	struct alias *aliases; /* default.ini only: its [aliases] go here */
	unsigned int *n_aliases;
	char *err;
	size_t err_len;
};

static int load_fail(struct load *l, unsigned int line, const char *fmt, ...)
	__rte_format_printf(3, 4);

/* "<path>:<line>: <problem>" (line 0: "<path>: <problem>"); -EINVAL. */
static int
load_fail(struct load *l, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (line != 0)
		n = snprintf(l->err, l->err_len, "%s:%u: ", l->path, line);
	else
		n = snprintf(l->err, l->err_len, "%s: ", l->path);
	if (n >= 0 && (size_t)n < l->err_len) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
load_section(struct load *l, const struct dpf_cfg_entry *e)
{
	bool is_port = strcmp(e->section, PROFILE_SECTION) == 0;
	bool is_alias = l->aliases != NULL && strcmp(e->section, ALIAS_SECTION) == 0;

	if ((!is_port && !is_alias) || e->section_arg[0] != '\0')
		return load_fail(
			l, e->line, "unknown section [%s%s%s] (a profile has one [%s] section%s)",
			e->section, e->section_arg[0] ? " " : "", e->section_arg, PROFILE_SECTION,
			l->aliases != NULL ? "; default.ini may add [aliases]" : "");
	/* lib/cfg already refused a second [port] or [aliases]. */
	*(is_port ? &l->port_line : &l->alias_line) = e->line;
	return 0;
}

static int
load_alias(struct load *l, const struct dpf_cfg_entry *e)
{
	unsigned int a;

	for (a = 0; a < *l->n_aliases; a++)
		if (strcmp(l->aliases[a].from, e->key) == 0)
			return load_fail(l, e->line, "alias '%s' set twice", e->key);
	if (*l->n_aliases == MAX_ALIASES)
		return load_fail(l, e->line, "more than %d aliases", MAX_ALIASES);
	if (strlen(e->key) >= DPF_DRV_NAME_LEN || strlen(e->value) >= DPF_DRV_NAME_LEN ||
	    e->value[0] == '\0' || strpbrk(e->value, "/ \t") != NULL)
		return load_fail(l, e->line, "alias '%s = %s': expected driver_name = profile_name",
				 e->key, e->value);
	snprintf(l->aliases[a].from, DPF_DRV_NAME_LEN, "%s", e->key);
	snprintf(l->aliases[a].to, DPF_DRV_NAME_LEN, "%s", e->value);
	(*l->n_aliases)++;
	return 0;
}

static int
load_key(struct load *l, const struct dpf_cfg_entry *e)
{
	char msg[384];
	int k = dpf_drivers_key_find(e->key);

	if (k < 0) {
		dpf_drivers_key_list(msg, sizeof(msg));
		return load_fail(l, e->line, "unknown key '%s' (keys: %s)", e->key, msg);
	}
	if (l->key_line[k] != 0)
		return load_fail(l, e->line, "'%s' set twice (first on line %u)", e->key,
				 l->key_line[k]);
	if (dpf_drivers_key_parse((enum dpf_drv_key)k, e->value, &l->p.s, msg, sizeof(msg)) < 0)
		return load_fail(l, e->line, "%s", msg);
	l->key_line[k] = e->line;
	return 0;
}

static int
load_entry(struct load *l, const struct dpf_cfg_entry *e)
{
	if (e->key == NULL)
		return load_section(l, e);
	if (e->section_line == 0)
		return load_fail(l, e->line, "'%s' before the [%s] section", e->key,
				 PROFILE_SECTION);
	/* '#' always starts a comment: a backslash escapes nothing, and no
	 * value needs one. */
	if (strchr(e->value, '\\') != NULL)
		return load_fail(l, e->line,
				 "%s: value has a backslash (profile values have no escapes; "
				 "'#' always starts a comment)",
				 e->key);
	if (strcmp(e->section, ALIAS_SECTION) == 0)
		return load_alias(l, e);
	return load_key(l, e);
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * Read a profile over base; with aliases != NULL (default.ini) an
 * [aliases] section is allowed too, its entries appended there.
 */
static int
load_file(const char *path, const char *name, const struct dpf_drv_profile *base,
	  struct dpf_drv_profile *out, struct alias *aliases, unsigned int *n_aliases, char *err,
	  size_t err_len)
{
	const struct dpf_cfg_params params = {.name = path, .inline_comment = '#'};
	struct load l = {.path = path,
			 .p = *base,
			 .aliases = aliases,
			 .n_aliases = n_aliases,
			 .err = err,
			 .err_len = err_len};
	struct dpf_cfg *cfg;
	unsigned int i, n;
	int rc = 0, k;

	cfg = dpf_cfg_load_with(path, &params, err, err_len);
	if (cfg == NULL)
		return -rte_errno;
	snprintf(l.p.name, sizeof(l.p.name), "%s", name);
	snprintf(l.p.path, sizeof(l.p.path), "%s", path);
	l.p.own_file = true;
	n = dpf_cfg_count(cfg);
	for (i = 0; i < n && rc == 0; i++)
		rc = load_entry(&l, dpf_cfg_get(cfg, i));
	dpf_cfg_free(cfg);
	if (rc < 0)
		return rc;
	if (l.port_line == 0 && l.alias_line == 0)
		return load_fail(&l, 0, "no [%s] section", PROFILE_SECTION);
	for (k = 0; k < DPF_DRV_N_KEYS; k++)
		if (l.key_line[k] != 0)
			snprintf(l.p.source[k], sizeof(l.p.source[k]), "%s:%u", base_name(path),
				 l.key_line[k]);
	*out = l.p;
	return 0;
}

int
dpf_drivers_profile_load(const char *path, const char *name, const struct dpf_drv_profile *base,
			 struct dpf_drv_profile *out, char *err, size_t err_len)
{
	return load_file(path, name, base, out, NULL, NULL, err, err_len);
}

/* ---- the profile directory and the profiles in use ---- */

static bool
has_default_ini(const char *dir)
{
	char path[DPF_DRV_PATH_LEN + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/default.ini", dir);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* --drivers-cfg DIR must be a directory; -errno with err naming it. */
static int
check_dir(const char *dir, char *err, size_t err_len)
{
	struct stat st;
	int rc;

	if (strlen(dir) >= DPF_DRV_PATH_LEN) {
		snprintf(err, err_len, "--drivers-cfg: path longer than %d characters",
			 DPF_DRV_PATH_LEN - 1);
		return -ENAMETOOLONG;
	}
	if (stat(dir, &st) != 0) {
		rc = -errno;
		snprintf(err, err_len, "--drivers-cfg %s: %s", dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, err_len, "--drivers-cfg %s: not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

static void
choose_dir(struct dpf_drv_profiles *ps, const char *dir)
{
	if (dir != NULL) {
		snprintf(ps->l.dir, sizeof(ps->l.dir), "%s", dir);
		ps->l.origin = "--drivers-cfg";
	} else if (has_default_ini(DPF_DRIVERS_CFG_DIR)) {
		snprintf(ps->l.dir, sizeof(ps->l.dir), "%s", DPF_DRIVERS_CFG_DIR);
		ps->l.origin = "installed";
	} else if (has_default_ini(DPF_DRIVERS_CFG_SRC)) {
		snprintf(ps->l.dir, sizeof(ps->l.dir), "%s", DPF_DRIVERS_CFG_SRC);
		ps->l.origin = "source tree";
	} else {
		ps->l.dir[0] = '\0';
		ps->l.origin = "built-in";
	}
}

void
dpf_drv_profiles_free(struct dpf_drv_profiles *ps)
{
	free(ps);
}

struct dpf_drv_profiles *
dpf_drv_profiles_open(const char *dir, char *err, size_t err_len)
{
	char path[DPF_DRV_PATH_LEN + 16];
	struct dpf_drv_profiles *ps;
	int rc;

	if (dir != NULL) {
		rc = check_dir(dir, err, err_len);
		if (rc < 0)
			goto fail;
	}
	ps = calloc(1, sizeof(*ps));
	if (ps == NULL) {
		snprintf(err, err_len, "driver profiles: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	dpf_drivers_builtin(&ps->l.base);
	choose_dir(ps, dir);
	if (ps->l.dir[0] != '\0' && has_default_ini(ps->l.dir)) {
		snprintf(path, sizeof(path), "%s/default.ini", ps->l.dir);
		rc = load_file(path, "default", &ps->l.base, &ps->l.base, ps->aliases,
			       &ps->n_aliases, err, err_len);
		if (rc < 0)
			goto free_set;
	}
	return ps;
free_set:
	dpf_drv_profiles_free(ps);
fail:
	rte_errno = -rc;
	return NULL;
}

const struct dpf_drv_profiles_loaded *
dpf_drv_profiles_loaded(const struct dpf_drv_profiles *ps)
{
	return &ps->l;
}

static const char *
profile_name_of(const struct dpf_drv_profiles *ps, const char *driver_name)
{
	unsigned int a;

	for (a = 0; a < ps->n_aliases; a++)
		if (strcmp(ps->aliases[a].from, driver_name) == 0)
			return ps->aliases[a].to;
	return driver_name;
}

const struct dpf_drv_profile *
dpf_drv_profiles_get(struct dpf_drv_profiles *ps, const char *driver_name, char *err,
		     size_t err_len)
{
	const char *name = profile_name_of(ps, driver_name);
	char path[DPF_DRV_PATH_LEN + DPF_DRV_NAME_LEN + 8];
	struct dpf_drv_profile *p;
	unsigned int i;

	for (i = 0; i < ps->n_profiles; i++)
		if (strcmp(ps->profiles[i].name, name) == 0)
			return &ps->profiles[i];
	if (ps->n_profiles == MAX_PROFILES) {
		snprintf(err, err_len, "driver profiles: more than %d drivers", MAX_PROFILES);
		return NULL;
	}
	p = &ps->profiles[ps->n_profiles];
	*p = ps->l.base;
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* A driver name is a file name only if it cannot leave the directory. */
	snprintf(path, sizeof(path), "%s/%s.ini", ps->l.dir, name);
	if (ps->l.dir[0] != '\0' && strchr(name, '/') == NULL && name[0] != '.' &&
	    strcmp(name, "default") != 0 && access(path, F_OK) == 0) {
		if (dpf_drivers_profile_load(path, name, &ps->l.base, p, err, err_len) < 0)
			return NULL;
	} else {
		/* default.ini's values; path still names default.ini (or is ""). */
		p->own_file = false;
	}
	ps->n_profiles++;
	return p;
}

bool
dpf_drv_profiles_match_vdev(const struct dpf_drv_profiles *ps, const char *vdev_name, char *out,
			    size_t len)
{
	size_t best = 0, l;
	struct dirent *de;
	unsigned int a;
	DIR *d;

	out[0] = '\0';
	if (ps->l.dir[0] == '\0')
		return false;
	d = opendir(ps->l.dir);
	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".ini") != 0 ||
		    strcmp(de->d_name, "default.ini") == 0)
			continue;
		l -= 4;
		if (l > best && l < len && strncmp(vdev_name, de->d_name, l) == 0) {
			best = l;
			snprintf(out, len, "%.*s", (int)l, de->d_name);
		}
	}
	closedir(d);
	for (a = 0; a < ps->n_aliases; a++) {
		l = strlen(ps->aliases[a].from);
		if (l > best && strncmp(vdev_name, ps->aliases[a].from, l) == 0) {
			best = l;
			snprintf(out, len, "%s", ps->aliases[a].to);
		}
	}
	return best > 0;
}

static void
show_profile(FILE *f, const struct dpf_drv_profile *p)
{
	char v[384];
	int k;

	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		dpf_drivers_key_format((enum dpf_drv_key)k, &p->s, v, sizeof(v));
		fprintf(f, "drivers-cfg.%s.%s: %s (%s)\n", p->name, dpf_drivers_key_name(k), v,
			p->source[k]);
	}
}

void
dpf_drv_profiles_show(FILE *f, const struct dpf_drv_profiles *ps)
{
	unsigned int i;

	fprintf(f, "drivers-cfg: %s (%s)\n", ps->l.dir[0] ? ps->l.dir : "-", ps->l.origin);
	for (i = 0; i < ps->n_aliases; i++)
		fprintf(f, "drivers-cfg.aliases.%s: %s\n", ps->aliases[i].from, ps->aliases[i].to);
	show_profile(f, &ps->l.base);
	for (i = 0; i < ps->n_profiles; i++)
		show_profile(f, &ps->profiles[i]);
}
