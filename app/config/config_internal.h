/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CONFIG_INTERNAL_H
#define DPFLOW_CONFIG_INTERNAL_H

/* Between options.c (the option table) and sections.c (the file's sections). */

#include <pthread.h>

#include "config.h"

struct dpf_config {
	struct dpf_options opt;
	struct dpf_iface ifaces[DPF_MAX_IFACES];
	uint16_t n_ifaces;
	/* set window / set log-format (control thread) vs show config. */
	pthread_mutex_t lock;
};

/* Values echoed in messages: cut, with control bytes escaped, so bad input
 * can neither forge a log line nor drive the terminal. */
#define DPF_CONFIG_SHOWN_MAX 64

struct dpf_config_shown {
	char s[DPF_CONFIG_SHOWN_MAX * 4 + 4];
};

const char *dpf_config_shown(struct dpf_config_shown *b, const char *v);

/*
 * Set option `name` from text. OPT_CLI_ONLY options are refused when
 * file_only. @return 0; -ENOENT for an unknown name (err not set); else
 * -errno with err naming the option and the problem.
 */
int dpf_config_opt_set(struct dpf_options *o, const char *name, bool file_only, const char *val,
		       const char *origin, char *err, size_t err_len);

/* Free the strings of an interface's metadata (sections.c's table names them). */
void dpf_config_iface_meta_free(struct dpf_iface_meta *m);

/* --decap and --vxlan-ports text (overlay.c): 0, or -EINVAL with err set. */
int dpf_config_decap_parse(const char *val, uint32_t *types, char *err, size_t err_len);
int dpf_config_vxlan_ports_parse(const char *val, struct dpf_pkt_decap_cfg *out, char *err,
				 size_t err_len);
/* Checks the value of option `name` when it is an overlay setting: 0 or -EINVAL (err set). */
int dpf_config_overlay_check(const char *name, const char *val, char *err, size_t err_len);

/* --decap with the rest: tenant interfaces need it, forward mode refuses it.
 * 0 or -EINVAL (logged). */
int dpf_config_overlay_check_all(const struct dpf_config *cfg);

/* Read --config FILE into c: 0, or negative (logged). */
int dpf_config_read_file(struct dpf_config *c, const char *path);

#endif /* DPFLOW_CONFIG_INTERNAL_H */
