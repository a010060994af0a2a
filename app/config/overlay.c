/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Overlay settings (--decap, --vxlan-ports): their text checked where it is
 * set (so a file's error names its line) and turned into what the parser
 * takes (struct dpf_pkt_decap_cfg).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "config_internal.h"
#include "dpf_cfg.h"
#include "log.h"

#define OVERLAY_TEXT_MAX 256

/* Words of --decap besides the tunnel names: none and all. */
static int
decap_word(const char *w, uint32_t *types)
{
	unsigned int t;

	if (strcmp(w, "all") == 0) {
		for (t = DPF_TUN_NONE + 1; t < DPF_TUN_MAX; t++)
			*types |= DPF_PKT_TUN_BIT(t);
		return 0;
	}
	for (t = DPF_TUN_NONE + 1; t < DPF_TUN_MAX; t++) {
		if (strcmp(w, dpf_pkt_tun_name(t)) == 0) {
			*types |= DPF_PKT_TUN_BIT(t);
			return 0;
		}
	}
	return -EINVAL;
}

int
dpf_config_decap_parse(const char *val, uint32_t *types, char *err, size_t err_len)
{
	char buf[OVERLAY_TEXT_MAX], *save = NULL, *w;
	struct dpf_config_shown sv, sw;

	*types = 0;
	if (strlen(val) >= sizeof(buf) || val[0] == '\0') {
		snprintf(err, err_len,
			 "decap: expected none, all, or a comma list of "
			 "vxlan,geneve,gre,ipip");
		return -EINVAL;
	}
	if (strcmp(val, "none") == 0)
		return 0;
	strcpy(buf, val);
	for (w = strtok_r(buf, ", \t", &save); w != NULL; w = strtok_r(NULL, ", \t", &save)) {
		if (decap_word(w, types) < 0) {
			snprintf(err, err_len,
				 "decap '%s': unknown tunnel '%s' (expected none, all, or a comma "
				 "list of vxlan,geneve,gre,ipip)",
				 dpf_config_shown(&sv, val), dpf_config_shown(&sw, w));
			return -EINVAL;
		}
	}
	if (*types == 0) {
		snprintf(err, err_len, "decap '%s': no tunnel named", dpf_config_shown(&sv, val));
		return -EINVAL;
	}
	return 0;
}

int
dpf_config_vxlan_ports_parse(const char *val, struct dpf_pkt_decap_cfg *out, char *err,
			     size_t err_len)
{
	char buf[OVERLAY_TEXT_MAX], *save = NULL, *w;
	struct dpf_config_shown sv, sw;
	uint64_t port;

	out->n_vxlan_ports = 0;
	if (strlen(val) >= sizeof(buf)) {
		snprintf(err, err_len, "vxlan-ports: too long");
		return -EINVAL;
	}
	strcpy(buf, val);
	for (w = strtok_r(buf, ", \t", &save); w != NULL; w = strtok_r(NULL, ", \t", &save)) {
		if (dpf_cfg_parse_u64(w, 1, 65535, &port) < 0) {
			snprintf(err, err_len, "vxlan-ports '%s': '%s' is not a port 1..65535",
				 dpf_config_shown(&sv, val), dpf_config_shown(&sw, w));
			return -EINVAL;
		}
		if (port == DPF_PKT_GENEVE_PORT) {
			snprintf(err, err_len, "vxlan-ports: %u is GENEVE's port",
				 DPF_PKT_GENEVE_PORT);
			return -EINVAL;
		}
		if (out->n_vxlan_ports == DPF_PKT_MAX_VXLAN_PORTS) {
			snprintf(err, err_len, "vxlan-ports: more than %d ports",
				 DPF_PKT_MAX_VXLAN_PORTS);
			return -EINVAL;
		}
		out->vxlan_ports[out->n_vxlan_ports++] = (uint16_t)port;
	}
	if (out->n_vxlan_ports == 0) {
		snprintf(err, err_len, "vxlan-ports: no port given");
		return -EINVAL;
	}
	return 0;
}

int
dpf_config_overlay_check(const char *name, const char *val, char *err, size_t err_len)
{
	struct dpf_pkt_decap_cfg d;

	if (strcmp(name, "decap") == 0)
		return dpf_config_decap_parse(val, &d.types, err, err_len);
	if (strcmp(name, "vxlan-ports") == 0)
		return dpf_config_vxlan_ports_parse(val, &d, err, err_len);
	return 0;
}

void
dpf_config_decap(const struct dpf_options *o, struct dpf_pkt_decap_cfg *out)
{
	char err[256];

	memset(out, 0, sizeof(*out));
	/* Both were checked when they were set. */
	if (dpf_config_decap_parse(o->decap, &out->types, err, sizeof(err)) < 0 ||
	    dpf_config_vxlan_ports_parse(o->vxlan_ports, out, err, sizeof(err)) < 0)
		memset(out, 0, sizeof(*out));
}

int
dpf_config_overlay_check_all(const struct dpf_config *cfg)
{
	struct dpf_pkt_decap_cfg d;
	uint16_t i;

	dpf_config_decap(&cfg->opt, &d);
	/*
	 * Forward mode translates, fragments and sends a packet by the headers it
	 * logged: for a tunnel those would be the inner ones, inside a frame
	 * whose outer headers (lengths, UDP checksum) nothing would update.
	 */
	if (d.types != 0 && cfg->opt.forward != NULL) {
		DPF_LOG(ERR, config,
			"--decap %s with --forward: forward mode sends packets by the headers it "
			"logs, and does not rewrite tunnels; open tunnels in monitor mode only\n",
			cfg->opt.decap);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_ifaces && d.types == 0; i++) {
		const struct dpf_iface *ifc = &cfg->ifaces[i];

		if (ifc->vni < 0)
			continue;
		/* A setting that would be ignored is an error. */
		DPF_LOG(ERR, config,
			"[interface %s] vni = %d: no tunnel is opened (--decap none); give --decap "
			"the tunnels that carry it\n",
			ifc->meta.interface_id, ifc->vni);
		return -EINVAL;
	}
	return 0;
}
