/* SPDX-License-Identifier: BSD-3-Clause */
/* The interface map (iface.h): which interface a packet belongs to. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "iface.h"
#include "log.h"
#include "dpf_util.h"

struct mac_key {
	uint16_t port;
	uint8_t mac[6];
};

/* A tenant interface's match in the hash: by inner MAC or by inner VLAN (the
 * tunnel id alone: tenant_vni[]). */
enum tenant_kind { TENANT_MAC = 1, TENANT_VLAN };

struct tenant_key {
	uint32_t vni;
	uint16_t port;
	uint16_t vlan;
	uint8_t mac[6];
	uint8_t kind;
	uint8_t pad;
};

static bool
port_exists(const struct dpf_ifmap_params *p, uint16_t port)
{
	uint16_t k;

	for (k = 0; k < p->n_ports; k++)
		if (p->ports[k] == port)
			return true;
	return false;
}

/* A port's interfaces: its configured ones, then its default one if it needs one. */
static int
add_port_ifaces(struct dpf_ifmap *m, const struct dpf_ifmap_params *p, uint16_t port)
{
	const struct dpf_options *o = dpf_config_options(p->cfg);
	bool have_default = false;
	uint16_t i;

	m->default_iface[port] = DPF_IFACE_NONE;
	for (i = 0; i < dpf_config_iface_count(p->cfg); i++) {
		const struct dpf_iface *ifc = dpf_config_iface(p->cfg, i);

		if (ifc->port != port)
			continue;
		if (m->n_ifaces == DPF_MAX_IFACES)
			return -E2BIG;
		m->ifaces[m->n_ifaces] = *ifc;
		if (ifc->vlan < 0 && !ifc->has_mac && ifc->vni < 0) {
			m->default_iface[port] = m->n_ifaces;
			have_default = true;
		}
		m->n_ifaces++;
	}
	if (have_default || o->unmatched != DPF_UNMATCHED_LOG)
		return 0;
	if (m->n_ifaces == DPF_MAX_IFACES)
		return -E2BIG;
	memset(&m->ifaces[m->n_ifaces], 0, sizeof(m->ifaces[0]));
	m->ifaces[m->n_ifaces].port = port;
	m->ifaces[m->n_ifaces].vlan = -1;
	m->ifaces[m->n_ifaces].vni = -1;
	m->ifaces[m->n_ifaces].decap = -1;
	if (port == 0) {
		m->ifaces[m->n_ifaces].meta.interface_id = o->interface_id;
	} else {
		snprintf(m->default_ids[port], sizeof(m->default_ids[port]), "eni-port%u", port);
		m->ifaces[m->n_ifaces].meta.interface_id = m->default_ids[port];
	}
	m->default_iface[port] = m->n_ifaces++;
	return 0;
}

/* Interface metadata not set in its section comes from the global options. */
static void
inherit_meta(struct dpf_ifmap *m, const struct dpf_options *o)
{
	uint16_t i;

	for (i = 0; i < m->n_ifaces; i++) {
		struct dpf_iface_meta *mt = &m->ifaces[i].meta;

#define INHERIT(field)                                                                             \
	if (mt->field == NULL)                                                                     \
	mt->field = o->field
		INHERIT(account_id);
		INHERIT(vpc_id);
		INHERIT(subnet_id);
		INHERIT(instance_id);
		INHERIT(region);
		INHERIT(az_id);
		INHERIT(sublocation_type);
		INHERIT(sublocation_id);
#undef INHERIT
		if (mt->collector_crn == NULL)
			mt->collector_crn = o->ibm_collector_crn;
		m->metas[i] = *mt;
	}
}

static void
tenant_key_of(struct tenant_key *k, uint16_t port, uint32_t vni, enum tenant_kind kind)
{
	memset(k, 0, sizeof(*k));
	k->port = port;
	k->vni = vni;
	k->kind = (uint8_t)kind;
}

static void
add_tenant_vni(struct dpf_ifmap *m, uint16_t port, uint32_t vni, uint16_t i)
{
	uint32_t key = dpf_ifmap_vni_key(port, vni), s = dpf_ifmap_vni_slot(key);

	/* At most DPF_MAX_IFACES keys in twice as many slots: a free one exists. */
	while (m->tenant_vni[s].iface != DPF_IFACE_NONE)
		s = (s + 1) & (DPF_IFMAP_VNI_SLOTS - 1);
	m->tenant_vni[s].key = key;
	m->tenant_vni[s].iface = i;
}

/* A lookup hash (MAC or tenant keys), made at its first interface: maps with
 * neither kind of interface make none. */
static int
lookup_hash(struct rte_hash **h, const char *name, uint32_t key_len)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = DPF_MAX_IFACES * 2,
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
	};

	if (*h == NULL)
		*h = rte_hash_create(&hp);
	return *h == NULL ? -ENOMEM : 0;
}

static int
add_tenant(struct dpf_ifmap *m, uint16_t i)
{
	const struct dpf_iface *ifc = &m->ifaces[i];
	struct tenant_key k;

	if (!ifc->has_mac && ifc->vlan < 0) {
		add_tenant_vni(m, ifc->port, (uint32_t)ifc->vni, i);
		if (m->port_tenant_by[ifc->port] == DPF_IFMAP_TENANT_NONE)
			m->port_tenant_by[ifc->port] = DPF_IFMAP_TENANT_VNI;
		return 0;
	}
	m->port_tenant_by[ifc->port] = DPF_IFMAP_TENANT_INNER;
	if (lookup_hash(&m->tenant, "dpf_iface_tenant", sizeof(struct tenant_key)) < 0)
		return -ENOMEM;
	if (ifc->has_mac) {
		tenant_key_of(&k, ifc->port, (uint32_t)ifc->vni, TENANT_MAC);
		memcpy(k.mac, ifc->mac, 6);
		m->port_tenant_mac[ifc->port] = true;
	} else if (ifc->vlan >= 0) {
		tenant_key_of(&k, ifc->port, (uint32_t)ifc->vni, TENANT_VLAN);
		k.vlan = (uint16_t)ifc->vlan;
		m->port_tenant_vlan[ifc->port] = true;
	}
	return rte_hash_add_key_data(m->tenant, &k, (void *)(uintptr_t)i) < 0 ? -ENOMEM : 0;
}

/* Where tunnels are opened: an outer interface's decap, else its port default's, else yes. */
static void
resolve_decap(struct dpf_ifmap *m, const struct dpf_ifmap_params *p)
{
	uint16_t i, k;

	for (k = 0; k < p->n_ports; k++) {
		uint16_t port = p->ports[k], d = m->default_iface[port];

		m->port_decap[port] = d != DPF_IFACE_NONE && m->ifaces[d].decap >= 0
					      ? (uint8_t)m->ifaces[d].decap
					      : 1;
	}
	for (i = 0; i < m->n_ifaces; i++) {
		const struct dpf_iface *ifc = &m->ifaces[i];

		m->iface_decap[i] = ifc->vni >= 0     ? 0
				    : ifc->decap >= 0 ? (uint8_t)ifc->decap
						      : m->port_decap[ifc->port];
	}
}

/* The lookup structures: a (port, MAC) hash, a VLAN array per port, the tenants' hash. */
static int
build_lookup(struct dpf_ifmap *m)
{
	uint16_t i;

	for (i = 0; i < m->n_ifaces; i++) {
		const struct dpf_iface *ifc = &m->ifaces[i];

		if (ifc->vni >= 0) {
			if (add_tenant(m, i) < 0)
				return -ENOMEM;
		} else if (ifc->has_mac) {
			struct mac_key mk;

			if (lookup_hash(&m->mac, "dpf_iface_mac", sizeof(struct mac_key)) < 0)
				return -ENOMEM;
			memset(&mk, 0, sizeof(mk));
			mk.port = ifc->port;
			memcpy(mk.mac, ifc->mac, 6);
			if (rte_hash_add_key_data(m->mac, &mk, (void *)(uintptr_t)i) < 0)
				return -ENOMEM;
			m->port_has_mac[ifc->port] = true;
		} else if (ifc->vlan >= 0) {
			if (m->vlan_iface[ifc->port] == NULL) {
				m->vlan_iface[ifc->port] =
					rte_malloc("dpf_vlan_iface", 4096 * sizeof(uint16_t), 0);
				if (m->vlan_iface[ifc->port] == NULL)
					return -ENOMEM;
				memset(m->vlan_iface[ifc->port], 0xff, 4096 * sizeof(uint16_t));
			}
			m->vlan_iface[ifc->port][ifc->vlan] = i;
		}
	}
	return 0;
}

struct dpf_ifmap *
dpf_ifmap_create(const struct dpf_ifmap_params *p)
{
	struct dpf_ifmap *m;
	uint16_t i, k;
	int rc = 0;

	for (i = 0; i < dpf_config_iface_count(p->cfg); i++) {
		const struct dpf_iface *ifc = dpf_config_iface(p->cfg, i);

		if (!port_exists(p, ifc->port)) {
			DPF_LOG(ERR, dataplane,
				"[interface %s]: port %u does not exist (%u ports)\n",
				ifc->meta.interface_id, ifc->port, p->n_ports);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	m = rte_zmalloc("dpf_ifmap", sizeof(*m), RTE_CACHE_LINE_SIZE);
	if (m == NULL)
		return dpf_null_errno(ENOMEM);
	for (i = 0; i < DPF_IFMAP_VNI_SLOTS; i++)
		m->tenant_vni[i].iface = DPF_IFACE_NONE;
	for (k = 0; k < p->n_ports && rc == 0; k++)
		rc = add_port_ifaces(m, p, p->ports[k]);
	if (rc == -E2BIG)
		DPF_LOG(ERR, dataplane, "more than %d interfaces\n", DPF_MAX_IFACES);
	if (rc == 0 && m->n_ifaces == 0) {
		DPF_LOG(ERR, dataplane,
			"no interface to log (unmatched = drop and no [interface])\n");
		rc = -EINVAL;
	}
	if (rc == 0) {
		inherit_meta(m, dpf_config_options(p->cfg));
		resolve_decap(m, p);
		rc = build_lookup(m);
	}
	if (rc != 0) {
		dpf_ifmap_free(m);
		rte_errno = -rc;
		return NULL;
	}
	m->fmt_ctx.ifaces = m->metas;
	m->fmt_ctx.n_ifaces = m->n_ifaces;
	return m;
}

void
dpf_ifmap_free(struct dpf_ifmap *m)
{
	uint16_t p;

	if (m == NULL)
		return;
	rte_hash_free(m->mac);
	rte_hash_free(m->tenant);
	for (p = 0; p < DPF_MAX_PORTS; p++)
		rte_free(m->vlan_iface[p]);
	rte_free(m);
}

int
dpf_ifmap_find(const struct dpf_ifmap *m, const char *id)
{
	uint16_t i;

	for (i = 0; i < m->n_ifaces; i++)
		if (strcmp(m->ifaces[i].meta.interface_id, id) == 0)
			return i;
	return -1;
}

uint16_t
dpf_ifmap_lookup_slow(const struct dpf_ifmap *map, uint16_t port, const uint8_t *frame,
		      const struct dpf_pkt_info *pi)
{
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

static uint16_t
tenant_find(const struct dpf_ifmap *map, const struct tenant_key *k)
{
	void *data;

	return rte_hash_lookup_data(map->tenant, k, &data) >= 0 ? (uint16_t)(uintptr_t)data
								: DPF_IFACE_NONE;
}

uint16_t
dpf_ifmap_tenant_slow(const struct dpf_ifmap *map, uint16_t port, const uint8_t *frame,
		      const struct dpf_pkt_info *in, const struct dpf_pkt_tunnel *tun)
{
	/* IP-in-IP and GRE without a key: id 0. */
	uint32_t vni = in->tun_has_id ? in->tun_id : 0;
	struct tenant_key k;
	uint16_t v;

	if (map->port_tenant_mac[port] && tun->has_eth) {
		const uint8_t *eth = frame + tun->eth_offset;

		tenant_key_of(&k, port, vni, TENANT_MAC);
		memcpy(k.mac, eth + 6, 6);
		v = tenant_find(map, &k);
		if (v != DPF_IFACE_NONE)
			return v;
		memcpy(k.mac, eth, 6);
		v = tenant_find(map, &k);
		if (v != DPF_IFACE_NONE)
			return v;
	}
	if (map->port_tenant_vlan[port] && in->n_vlans > 0) {
		tenant_key_of(&k, port, vni, TENANT_VLAN);
		k.vlan = in->vlan[0] & 0xfff;
		v = tenant_find(map, &k);
		if (v != DPF_IFACE_NONE)
			return v;
	}
	return dpf_ifmap_tenant_vni(map, port, vni);
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
dpf_ifmap_direction(const struct dpf_ifmap *m, const struct dpf_flow_key *k)
{
	const struct dpf_iface *ifc;
	uint8_t i;

	if (k->iface >= m->n_ifaces)
		return DPF_DIR_UNKNOWN;
	ifc = &m->ifaces[k->iface];
	for (i = 0; i < ifc->n_addrs; i++)
		if (cidr_contains(&ifc->addrs[i], k->family, k->src_addr))
			return DPF_DIR_EGRESS;
	for (i = 0; i < ifc->n_addrs; i++)
		if (cidr_contains(&ifc->addrs[i], k->family, k->dst_addr))
			return DPF_DIR_INGRESS;
	return DPF_DIR_UNKNOWN;
}
