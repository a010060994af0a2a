/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file's sections: [dpflow] (the option table's keys),
 * [interface ID], [nat] and [acl]. Every problem is logged with the file and
 * line; the first one stops the reading.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "config_internal.h"
#include "dpf_cfg.h"
#include "dpf_fmt.h"
#include "log.h"

/* Metadata keys of an [interface ID] section, and the field each sets. */
static const struct {
	const char *key;
	size_t off;
} iface_meta_keys[] = {
#define META_KEY(field, key) {key, offsetof(struct dpf_iface_meta, field)},
	DPF_IFACE_META_KEYS(META_KEY)
#undef META_KEY
};

void
dpf_config_iface_meta_free(struct dpf_iface_meta *m)
{
	size_t i;

	free((char *)m->interface_id);
	for (i = 0; i < RTE_DIM(iface_meta_keys); i++)
		free(*(char **)((char *)m + iface_meta_keys[i].off));
}

static const char **
iface_meta_slot(struct dpf_iface_meta *m, const char *key)
{
	size_t i;

	for (i = 0; i < RTE_DIM(iface_meta_keys); i++)
		if (strcmp(iface_meta_keys[i].key, key) == 0)
			return (const char **)((char *)m + iface_meta_keys[i].off);
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
	cfg->ifaces[cfg->n_ifaces].vni = -1;
	cfg->ifaces[cfg->n_ifaces].decap = -1;
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
iface_set_l2l3(struct dpf_iface *ifc, const char *key, const char *val, char *err, size_t err_len)
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
			   &b[5], &tail) != 6 ||
		    strlen(val) != 17) {
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

/* [nat] rule = ...; [acl] rule = ..., default = allow|deny, stateful = yes|no */
static int
apply_rule_entry(struct dpf_config *cfg, const struct dpf_cfg_entry *e, const char *path)
{
	bool nat = strcmp(e->section, "nat") == 0;
	char origin[PATH_MAX + 16], err[256];
	const char *opt = NULL;
	int rc;

	if (e->section_arg[0] != '\0') {
		DPF_LOG(ERR, config, "%s:%u: [%s] takes no argument\n", path, e->section_line,
			e->section);
		return -EINVAL;
	}
	if (e->key == NULL)
		return 0;
	if (strcmp(e->key, "rule") == 0)
		opt = nat ? "nat-rule" : "acl-rule";
	else if (!nat && strcmp(e->key, "default") == 0)
		opt = "acl-default";
	else if (!nat && strcmp(e->key, "stateful") == 0)
		opt = "acl-stateful";
	if (opt == NULL) {
		DPF_LOG(ERR, config, "%s:%u: unknown key '%s' in [%s] (expected %s)\n", path,
			e->line, e->key, e->section, nat ? "rule" : "rule, default, stateful");
		return -EINVAL;
	}
	snprintf(origin, sizeof(origin), "%s:%u", path, e->line);
	rc = dpf_config_opt_set(&cfg->opt, opt, false, e->value, origin, err, sizeof(err));
	if (rc < 0)
		DPF_LOG(ERR, config, "%s: %s\n", origin, err);
	return rc;
}

/* [dpflow] key = value: the option table's settings (not the command line's own). */
static int
apply_dpflow_entry(struct dpf_config *cfg, const struct dpf_cfg_entry *e, const char *path)
{
	char origin[PATH_MAX + 16], err[512];
	int rc;

	if (e->section_arg[0] != '\0') {
		DPF_LOG(ERR, config, "%s:%u: [dpflow] takes no argument\n", path, e->section_line);
		return -EINVAL;
	}
	if (e->key == NULL)
		return 0;
	snprintf(origin, sizeof(origin), "%s:%u", path, e->line);
	/* Checked here, where the file and line are known (the command line's is checked later). */
	if (strcmp(e->key, "log-format") == 0) {
		struct dpf_fmt *f = dpf_fmt_parse(e->value, err, sizeof(err));

		if (f == NULL) {
			DPF_LOG(ERR, config, "%s: log-format: %s\n", origin, err);
			return -EINVAL;
		}
		dpf_fmt_free(f);
	}
	rc = dpf_config_opt_set(&cfg->opt, e->key, true, e->value, origin, err, sizeof(err));
	if (rc == -ENOENT)
		DPF_LOG(ERR, config, "%s:%u: unknown setting '%s' in [dpflow]\n", path, e->line,
			e->key);
	else if (rc < 0)
		DPF_LOG(ERR, config, "%s: %s\n", origin, err);
	return rc;
}

/* [interface ID] vni = N (a tenant interface), decap = yes|no (an outer one's tunnels). */
static int
iface_set_overlay(struct dpf_iface *ifc, const char *key, const char *val, char *err,
		  size_t err_len)
{
	struct dpf_config_shown sv;
	uint64_t v;

	if (strcmp(key, "vni") == 0) {
		if (dpf_cfg_parse_u64(val, 0, 16777215, &v) < 0) {
			snprintf(err, err_len, "vni '%s': expected 0..16777215",
				 dpf_config_shown(&sv, val));
			return -EINVAL;
		}
		ifc->vni = (int32_t)v;
		return 0;
	}
	if (strcmp(val, "yes") == 0 || strcmp(val, "no") == 0) {
		ifc->decap = strcmp(val, "yes") == 0;
		return 0;
	}
	snprintf(err, err_len, "decap '%s': expected yes or no", dpf_config_shown(&sv, val));
	return -EINVAL;
}

/* [interface ID] key = value */
static int
apply_iface_entry(struct dpf_config *cfg, const struct dpf_cfg_entry *e, const char *path)
{
	struct dpf_iface *ifc = iface_for_section(cfg, e, path);
	struct dpf_config_shown sv;
	const char **slot;
	char err[512];
	uint64_t port;
	int rc;

	if (ifc == NULL)
		return -EINVAL;
	if (e->key == NULL)
		return 0;
	if (strcmp(e->key, "port") == 0) {
		if (dpf_cfg_parse_u64(e->value, 0, DPF_MAX_PORTS - 1, &port) < 0) {
			DPF_LOG(ERR, config, "%s:%u: port '%s': expected 0..%d\n", path, e->line,
				dpf_config_shown(&sv, e->value), DPF_MAX_PORTS - 1);
			return -EINVAL;
		}
		ifc->port = (uint16_t)port;
		return 0;
	}
	if (strcmp(e->key, "vlan") == 0 || strcmp(e->key, "mac") == 0 ||
	    strcmp(e->key, "addresses") == 0 || strcmp(e->key, "vni") == 0 ||
	    strcmp(e->key, "decap") == 0) {
		rc = strcmp(e->key, "vni") == 0 || strcmp(e->key, "decap") == 0
			     ? iface_set_overlay(ifc, e->key, e->value, err, sizeof(err))
			     : iface_set_l2l3(ifc, e->key, e->value, err, sizeof(err));
		if (rc < 0)
			DPF_LOG(ERR, config, "%s:%u: %s\n", path, e->line, err);
		return rc;
	}
	slot = iface_meta_slot(&ifc->meta, e->key);
	if (slot == NULL) {
		DPF_LOG(ERR, config, "%s:%u: unknown key '%s' in [interface %s]\n", path, e->line,
			e->key, e->section_arg);
		return -EINVAL;
	}
	if (!dpf_fmt_meta_valid(e->value)) {
		DPF_LOG(ERR, config, "%s:%u: %s '%s': must be printable without spaces\n", path,
			e->line, e->key, dpf_config_shown(&sv, e->value));
		return -EINVAL;
	}
	free((char *)*slot);
	*slot = strdup(e->value);
	return *slot == NULL ? -ENOMEM : 0;
}

/* Every interface section says which port it logs, and no two match the same packets. */
static int
check_ifaces(const struct dpf_config *cfg, const char *path)
{
	uint16_t i, j;

	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct dpf_iface *b = &cfg->ifaces[i];

		if (b->port == UINT16_MAX) {
			DPF_LOG(ERR, config, "%s: [interface %s] has no 'port = N'\n", path,
				b->meta.interface_id);
			return -EINVAL;
		}
		if (b->vni >= 0 && b->decap >= 0) {
			DPF_LOG(ERR, config,
				"%s:%u: [interface %s]: decap is for outer interfaces (those that "
				"see the tunnels), not for a tenant interface (vni)\n",
				path, b->line, b->meta.interface_id);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			const struct dpf_iface *a = &cfg->ifaces[j];

			/* Tenant interfaces match inside their tunnel id only. */
			if (a->port != b->port || a->vni != b->vni)
				continue;
			if ((a->has_mac && b->has_mac && memcmp(a->mac, b->mac, 6) == 0) ||
			    (!a->has_mac && !b->has_mac && a->vlan == b->vlan)) {
				DPF_LOG(ERR, config,
					"%s:%u: [interface %s] matches the same packets as "
					"[interface %s] (line %u): give each its own vlan or mac\n",
					path, b->line, b->meta.interface_id, a->meta.interface_id,
					a->line);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int
dpf_config_read_file(struct dpf_config *cfg, const char *path)
{
	char err[512];
	struct dpf_cfg *c = dpf_cfg_load(path, err, sizeof(err));
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
			DPF_LOG(ERR, config,
				"%s:%u: '%s' repeated in [%s%s%s] (first at line %u)\n", path,
				e->line, e->key, e->section, e->section_arg[0] ? " " : "",
				e->section_arg, first->line);
			rc = -EINVAL;
		} else if (strcmp(e->section, "dpflow") == 0) {
			rc = apply_dpflow_entry(cfg, e, path);
		} else if (strcmp(e->section, "nat") == 0 || strcmp(e->section, "acl") == 0) {
			rc = apply_rule_entry(cfg, e, path);
		} else if (strcmp(e->section, "interface") == 0) {
			rc = apply_iface_entry(cfg, e, path);
		} else {
			DPF_LOG(ERR, config,
				"%s:%u: unknown section [%s] (expected [dpflow], "
				"[interface ID], [nat] or [acl])\n",
				path, e->section_line, e->section);
			rc = -EINVAL;
		}
	}
	if (rc == 0)
		rc = check_ifaces(cfg, path);
	dpf_cfg_free(c);
	return rc;
}
