/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * default_devargs of --vdev arguments, before EAL (drv_vdev.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_vdev.h"

#define MAX_VDEVS 32

struct dpf_drv_vdevs {
	struct dpf_drv_vdev_note notes[MAX_VDEVS];
	unsigned int n;
	char **argv;  /* given to rte_eal_init; NULL when main()'s argv was used */
	char **owned; /* the --vdev strings made here */
	unsigned int n_owned;
};

/* The length of a kvargs key at p (up to '=' or ','). */
static size_t
kv_key_len(const char *p)
{
	return strcspn(p, "=,");
}

/* Whether devargs (after the vdev name) set key. */
static bool
devargs_have(const char *devargs, const char *key, size_t key_len)
{
	const char *p = devargs;

	while (p != NULL && *p != '\0') {
		if (kv_key_len(p) == key_len && strncmp(p, key, key_len) == 0)
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static void
append_item(char *buf, size_t len, const char *item, size_t item_len)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%.*s", used ? "," : "", (int)item_len, item);
}

void
dpf_drv_devargs_split(const char *defaults, const char *vdev_args, char *added, size_t added_len,
		      char *given, size_t given_len)
{
	const char *p;

	added[0] = '\0';
	given[0] = '\0';
	for (p = defaults; *p != '\0';) {
		size_t item = strcspn(p, ",");

		if (devargs_have(vdev_args, p, kv_key_len(p)))
			append_item(given, given_len, p, kv_key_len(p));
		else
			append_item(added, added_len, p, item);
		p += item;
		if (*p == ',')
			p++;
	}
}

/* A --vdev value with the profile's defaults it lacks; NULL when it lacks
 * none (or on no memory: the value stays as given). */
static char *
vdev_with_defaults(struct dpf_drv_vdevs *v, struct dpf_drv_profiles *ps, const char *value)
{
	const char *comma = strchr(value, ',');
	char name[DPF_DRV_NAME_LEN], pname[DPF_DRV_NAME_LEN], err[512];
	const struct dpf_drv_profile *prof;
	struct dpf_drv_vdev_note *note;
	size_t name_len = comma != NULL ? (size_t)(comma - value) : strlen(value);
	char *out;

	if (name_len == 0 || name_len >= sizeof(name) || v->n == MAX_VDEVS)
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)name_len, value);
	if (!dpf_drv_profiles_match_vdev(ps, name, pname, sizeof(pname)))
		return NULL;
	prof = dpf_drv_profiles_get(ps, pname, err, sizeof(err));
	if (prof == NULL || prof->s.default_devargs[0] == '\0')
		return NULL;
	note = &v->notes[v->n++];
	memset(note, 0, sizeof(*note));
	snprintf(note->name, sizeof(note->name), "%s", name);
	snprintf(note->profile, sizeof(note->profile), "%s", prof->path);
	dpf_drv_devargs_split(prof->s.default_devargs, comma != NULL ? comma + 1 : NULL,
			      note->added, sizeof(note->added), note->given, sizeof(note->given));
	if (note->added[0] == '\0')
		return NULL;
	out = malloc(strlen(value) + strlen(note->added) + 2);
	if (out != NULL)
		sprintf(out, "%s,%s", value, note->added);
	return out;
}

void
dpf_drv_vdevs_free(struct dpf_drv_vdevs *v)
{
	if (v == NULL)
		return;
	for (unsigned int i = 0; i < v->n_owned; i++)
		free(v->owned[i]);
	free(v->owned);
	free(v->argv);
	free(v);
}

/* argv[i] with its vdev's defaults, as "--vdev=..." when it was written so. */
static void
rewrite_vdev(struct dpf_drv_vdevs *v, struct dpf_drv_profiles *ps, int i, const char *value,
	     bool separate)
{
	char *with = vdev_with_defaults(v, ps, value);

	if (with != NULL && !separate) {
		char *opt = malloc(strlen(with) + 8);

		if (opt != NULL)
			sprintf(opt, "--vdev=%s", with);
		free(with);
		with = opt;
	}
	if (with == NULL)
		return;
	v->owned[v->n_owned++] = with;
	v->argv[i] = with;
}

int
dpf_drv_vdevs_apply(struct dpf_drv_profiles *ps, int argc, char **argv, char ***eal_argv,
		    struct dpf_drv_vdevs **out)
{
	struct dpf_drv_vdevs *v;
	int i, end;

	*eal_argv = argv;
	*out = NULL;
	for (end = 1; end < argc && strcmp(argv[end], "--") != 0; end++)
		;
	for (i = 1; i < end; i++)
		if (strcmp(argv[i], "--vdev") == 0 || strncmp(argv[i], "--vdev=", 7) == 0)
			break;
	if (i == end || ps == NULL)
		return 0;
	v = calloc(1, sizeof(*v));
	if (v != NULL) {
		v->argv = calloc((size_t)argc + 1, sizeof(*v->argv));
		v->owned = calloc((size_t)argc, sizeof(*v->owned));
	}
	if (v == NULL || v->argv == NULL || v->owned == NULL) {
		dpf_drv_vdevs_free(v);
		return -ENOMEM;
	}
	memcpy(v->argv, argv, (size_t)argc * sizeof(*argv));
	for (i = 1; i < end; i++) {
		if (strcmp(argv[i], "--vdev") == 0 && i + 1 < end) {
			rewrite_vdev(v, ps, i + 1, argv[i + 1], true);
			i++;
		} else if (strncmp(argv[i], "--vdev=", 7) == 0) {
			rewrite_vdev(v, ps, i, argv[i] + 7, false);
		}
	}
	if (v->n_owned == 0) {
		free(v->argv);
		v->argv = NULL;
	} else {
		*eal_argv = v->argv;
	}
	*out = v;
	return 0;
}

const struct dpf_drv_vdev_note *
dpf_drv_vdevs_find(const struct dpf_drv_vdevs *v, const char *dev_name)
{
	unsigned int i;

	for (i = 0; v != NULL && i < v->n; i++)
		if (strcmp(v->notes[i].name, dev_name) == 0)
			return &v->notes[i];
	return NULL;
}
