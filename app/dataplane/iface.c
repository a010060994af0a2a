/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logged interfaces (vNICs): which interface a packet belongs to, and the
 * direction of a flow relative to it.
 *
 * Precedence, per port: the interface whose MAC is the packet's source MAC
 * (its egress), else the one whose MAC is the destination MAC (its ingress),
 * else the one whose VLAN is the packet's outer VLAN id, else the port's
 * default interface (no vlan, no mac). With `unmatched = log` every port has
 * a default interface (configured, or eni-port<N>); with `drop` a packet that
 * matches nothing is counted as `unmatched` and not logged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dpflow.h"
#include "log.h"

struct mac_key {
	uint16_t port;
	uint8_t mac[6];
};

static bool
port_exists(const struct dpf_app *app, uint16_t port)
{
	uint16_t k;

	for (k = 0; k < app->n_ports; k++)
		if (app->ports[k] == port)
			return true;
	return false;
}

int
dpf_ifaces_build(struct dpf_app *app)
{
	struct dpf_config *cfg = &app->cfg;
	static char default_ids[DPF_MAX_PORTS][24];
	struct dpf_iface_map *map = &app->ifmap;
	uint16_t n = 0, i, k;

	for (i = 0; i < cfg->n_ifaces; i++) {
		if (!port_exists(app, cfg->ifaces[i].port)) {
			DPF_LOG(ERR, dataplane, "[interface %s]: port %u does not exist (%u ports)\n",
				cfg->ifaces[i].meta.interface_id, cfg->ifaces[i].port, app->n_ports);
			return -EINVAL;
		}
	}
	/* Interfaces in port order, each port's configured ones in file order. */
	for (k = 0; k < app->n_ports; k++) {
		uint16_t port = app->ports[k];
		bool have_default = false;

		map->default_iface[port] = DPF_IFACE_NONE;
		for (i = 0; i < cfg->n_ifaces; i++) {
			if (cfg->ifaces[i].port != port)
				continue;
			if (n == DPF_MAX_IFACES)
				goto too_many;
			app->ifaces[n] = cfg->ifaces[i];
			if (cfg->ifaces[i].vlan < 0 && !cfg->ifaces[i].has_mac) {
				map->default_iface[port] = n;
				have_default = true;
			}
			n++;
		}
		if (!have_default && cfg->opt.unmatched == DPF_UNMATCHED_LOG) {
			if (n == DPF_MAX_IFACES)
				goto too_many;
			memset(&app->ifaces[n], 0, sizeof(app->ifaces[n]));
			app->ifaces[n].port = port;
			app->ifaces[n].vlan = -1;
			if (port == 0) {
				app->ifaces[n].meta.interface_id = cfg->opt.interface_id;
			} else {
				snprintf(default_ids[port], sizeof(default_ids[port]), "eni-port%u",
					 port);
				app->ifaces[n].meta.interface_id = default_ids[port];
			}
			map->default_iface[port] = n;
			n++;
		}
	}
	app->n_ifaces = n;
	if (n == 0) {
		DPF_LOG(ERR, dataplane, "no interface to log (unmatched = drop and no [interface])\n");
		return -EINVAL;
	}
	/* Interface metadata not set in its section comes from the global options. */
	for (i = 0; i < n; i++) {
		struct dpf_iface_meta *m = &app->ifaces[i].meta;

#define INHERIT(field) if (m->field == NULL) m->field = cfg->opt.field
		INHERIT(account_id);
		INHERIT(vpc_id);
		INHERIT(subnet_id);
		INHERIT(instance_id);
		INHERIT(region);
		INHERIT(az_id);
		INHERIT(sublocation_type);
		INHERIT(sublocation_id);
#undef INHERIT
	}
	for (i = 0; i < n; i++) {
		const struct dpf_iface *ifc = &app->ifaces[i];

		if (ifc->has_mac) {
			struct mac_key mk;

			if (map->mac == NULL) {
				struct rte_hash_parameters hp = {
					.name = "dpf_iface_mac",
					.entries = DPF_MAX_IFACES * 2,
					.key_len = sizeof(struct mac_key),
					.hash_func = rte_hash_crc,
					.socket_id = (int)rte_socket_id(),
				};

				map->mac = rte_hash_create(&hp);
				if (map->mac == NULL)
					return -ENOMEM;
			}
			memset(&mk, 0, sizeof(mk));
			mk.port = ifc->port;
			memcpy(mk.mac, ifc->mac, 6);
			if (rte_hash_add_key_data(map->mac, &mk, (void *)(uintptr_t)i) < 0)
				return -ENOMEM;
			map->port_has_mac[ifc->port] = true;
		} else if (ifc->vlan >= 0) {
			if (map->vlan_iface[ifc->port] == NULL) {
				map->vlan_iface[ifc->port] =
					rte_malloc("dpf_vlan_iface", 4096 * sizeof(uint16_t), 0);
				if (map->vlan_iface[ifc->port] == NULL)
					return -ENOMEM;
				memset(map->vlan_iface[ifc->port], 0xff, 4096 * sizeof(uint16_t));
			}
			map->vlan_iface[ifc->port][ifc->vlan] = i;
		}
	}
	return 0;

too_many:
	DPF_LOG(ERR, dataplane, "more than %d interfaces\n", DPF_MAX_IFACES);
	return -E2BIG;
}

uint16_t
dpf_iface_lookup_slow(const struct dpf_app *app, uint16_t port, const uint8_t *frame,
		      const struct dpf_pkt_info *pi)
{
	const struct dpf_iface_map *map = &app->ifmap;
	uint16_t v;

	if (map->port_has_mac[port]) {
		struct mac_key mk;
		void *data;

		memset(&mk, 0, sizeof(mk));
		mk.port = port;
		memcpy(mk.mac, frame + 6, 6);
		if (rte_hash_lookup_data(map->mac, &mk, &data) >= 0)
			return (uint16_t)(uintptr_t)data;
		memcpy(mk.mac, frame, 6);
		if (rte_hash_lookup_data(map->mac, &mk, &data) >= 0)
			return (uint16_t)(uintptr_t)data;
	}
	if (map->vlan_iface[port] != NULL && pi->n_vlans > 0) {
		v = map->vlan_iface[port][pi->vlan[0] & 0xfff];
		if (v != DPF_IFACE_NONE)
			return v;
	}
	return map->default_iface[port];
}

static bool
cidr_contains(const struct dpf_cidr *c, uint8_t family, const uint8_t *addr)
{
	unsigned int full = c->len / 8, rest = c->len % 8;

	if (c->family != family || memcmp(c->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

uint8_t
dpf_iface_direction(const struct dpf_app *app, const struct dpf_flow_key *k)
{
	const struct dpf_iface *ifc;
	uint8_t i;

	if (k->iface >= app->n_ifaces)
		return DPF_DIR_UNKNOWN;
	ifc = &app->ifaces[k->iface];
	for (i = 0; i < ifc->n_addrs; i++)
		if (cidr_contains(&ifc->addrs[i], k->family, k->src_addr))
			return DPF_DIR_EGRESS;
	for (i = 0; i < ifc->n_addrs; i++)
		if (cidr_contains(&ifc->addrs[i], k->family, k->dst_addr))
			return DPF_DIR_INGRESS;
	return DPF_DIR_UNKNOWN;
}
