/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_IFACE_H
#define DPFLOW_IFACE_H

/*
 * The interface map: the logged interfaces (vNICs) and which one a packet
 * belongs to.
 *
 * Precedence, per port: the interface whose MAC is the packet's source MAC
 * (its egress), else the one whose MAC is the destination MAC (its ingress),
 * else the one whose VLAN is the packet's outer VLAN id, else the port's
 * default interface (no vlan, no mac). With `unmatched = log` every port has
 * a default interface (configured, or eni-port<N>; port 0's is
 * --interface-id); with `drop` a packet that matches nothing is counted as
 * `unmatched` and not logged. Interfaces are numbered in port order, each
 * port's configured ones in file order; records name them by that index.
 *
 * Threads: built on the main thread at start; read-only afterwards, read by
 * any thread (RX cores per packet: dpf_ifmap_lookup() is inline and costs
 * one array read on a port without MAC or VLAN interfaces).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include "common.h"
#include "config.h"
#include "dpf_flow.h"
#include "dpf_fmt.h"
#include "dpf_pkt.h"

struct rte_hash;

/* port_tenant_by[]: no tenant interfaces; by tunnel id alone; also by inner MAC or VLAN. */
#define DPF_IFMAP_TENANT_NONE 0
#define DPF_IFMAP_TENANT_VNI 1
#define DPF_IFMAP_TENANT_INNER 2

/* Twice the interfaces: probes stay short. A power of two. */
#define DPF_IFMAP_VNI_SLOTS (2 * DPF_MAX_IFACES)

/* Read-only after dpf_ifmap_create(); the fields serve the inline lookup. */
struct dpf_ifmap {
	uint16_t default_iface[DPF_MAX_PORTS]; /* DPF_IFACE_NONE: unmatched */
	uint16_t *vlan_iface[DPF_MAX_PORTS];   /* [4096] when the port has vlan interfaces */
	bool port_has_mac[DPF_MAX_PORTS];
	struct rte_hash *mac; /* (port, mac) -> interface */
	/* Overlays: (port, tunnel id, inner mac or inner vlan) -> tenant interface. */
	struct rte_hash *tenant;
	/* (port << 24 | tunnel id) -> tenant interface of the id alone: open addressing, cheaper
	 * than a hash lookup for the common case. */
	struct dpf_ifmap_vni {
		uint32_t key;
		uint16_t iface; /* DPF_IFACE_NONE: empty */
		uint16_t pad;
	} tenant_vni[DPF_IFMAP_VNI_SLOTS];
	bool port_tenant_mac[DPF_MAX_PORTS];
	bool port_tenant_vlan[DPF_MAX_PORTS];
	/* How a port's tunnels find their tenant (DPF_IFMAP_TENANT_*): one byte per packet. */
	uint8_t port_tenant_by[DPF_MAX_PORTS];
	uint8_t port_decap[DPF_MAX_PORTS];   /* tunnels of no outer interface are opened */
	uint8_t iface_decap[DPF_MAX_IFACES]; /* outer interface i's tunnels are opened */
	uint16_t n_ifaces;
	struct dpf_iface ifaces[DPF_MAX_IFACES];     /* by index */
	struct dpf_iface_meta metas[DPF_MAX_IFACES]; /* their metadata, for the formatter */
	char default_ids[DPF_MAX_PORTS][24];	     /* eni-port<N> */
	struct dpf_fmt_ctx fmt_ctx;		     /* metas, as the formatter takes them */
};

struct dpf_ifmap_params {
	const struct dpf_config *cfg;
	const uint16_t *ports; /* the ports being polled */
	uint16_t n_ports;
};

/**
 * Resolve the interfaces of every port.
 * @return NULL + rte_errno: EINVAL (a configuration problem, logged: a
 *         section naming a port that does not exist, nothing to log), E2BIG
 *         (more than DPF_MAX_IFACES), ENOMEM. Needs EAL.
 */
struct dpf_ifmap *dpf_ifmap_create(const struct dpf_ifmap_params *p);

/** NULL-safe. */
void dpf_ifmap_free(struct dpf_ifmap *m);

static inline uint16_t
dpf_ifmap_count(const struct dpf_ifmap *m)
{
	return m->n_ifaces;
}

/* The interfaces' metadata as the formatter takes it; lives as long as m. */
static inline const struct dpf_fmt_ctx *
dpf_ifmap_fmt_ctx(const struct dpf_ifmap *m)
{
	return &m->fmt_ctx;
}

static inline const struct dpf_iface *
dpf_ifmap_iface(const struct dpf_ifmap *m, uint16_t i)
{
	return &m->ifaces[i];
}

/** The index of the interface with this interface-id, or -1. */
int dpf_ifmap_find(const struct dpf_ifmap *m, const char *id);

uint16_t dpf_ifmap_lookup_slow(const struct dpf_ifmap *m, uint16_t port, const uint8_t *frame,
			       const struct dpf_pkt_info *pi);

/** Whether every frame received on port is on its default interface (no MAC or VLAN ones). */
static inline bool
dpf_ifmap_port_fixed(const struct dpf_ifmap *m, uint16_t port)
{
	return !m->port_has_mac[port] && m->vlan_iface[port] == NULL;
}

/** The interface of a parsed frame received on port, or DPF_IFACE_NONE. */
static inline uint16_t
dpf_ifmap_lookup(const struct dpf_ifmap *m, uint16_t port, const uint8_t *frame,
		 const struct dpf_pkt_info *pi)
{
	if (dpf_ifmap_port_fixed(m, port))
		return m->default_iface[port];
	return dpf_ifmap_lookup_slow(m, port, frame, pi);
}

/** Whether tunnels that arrived on port and matched outer interface iface are opened. */
static inline bool
dpf_ifmap_decap_on(const struct dpf_ifmap *m, uint16_t port, uint16_t iface)
{
	return iface == DPF_IFACE_NONE ? m->port_decap[port] != 0 : m->iface_decap[iface] != 0;
}

/* Tunnel ids above 24 bits (GRE keys) never name a tenant interface. */
static inline uint32_t
dpf_ifmap_vni_key(uint16_t port, uint32_t vni)
{
	return vni > 0xffffff ? UINT32_MAX : (uint32_t)port << 24 | vni;
}

static inline uint32_t
dpf_ifmap_vni_slot(uint32_t key)
{
	return (key * 2654435761u) & (DPF_IFMAP_VNI_SLOTS - 1);
}

/* The tenant interface of (port, tunnel id) alone, or DPF_IFACE_NONE. */
static inline uint16_t
dpf_ifmap_tenant_vni(const struct dpf_ifmap *m, uint16_t port, uint32_t vni)
{
	uint32_t key = dpf_ifmap_vni_key(port, vni), s = dpf_ifmap_vni_slot(key);

	for (; m->tenant_vni[s].iface != DPF_IFACE_NONE; s = (s + 1) & (DPF_IFMAP_VNI_SLOTS - 1))
		if (m->tenant_vni[s].key == key)
			return m->tenant_vni[s].iface;
	return DPF_IFACE_NONE;
}

uint16_t dpf_ifmap_tenant_slow(const struct dpf_ifmap *m, uint16_t port, const uint8_t *frame,
			       const struct dpf_pkt_info *in, const struct dpf_pkt_tunnel *tun);

/**
 * The tenant interface of a decapsulated packet (in, tun: dpf_pkt_decap()'s
 * results for frame) received on port, or DPF_IFACE_NONE. Inline for ports
 * whose tenant interfaces have no inner mac or vlan: one probe of a table.
 */
static inline uint16_t
dpf_ifmap_tenant(const struct dpf_ifmap *m, uint16_t port, const uint8_t *frame,
		 const struct dpf_pkt_info *in, const struct dpf_pkt_tunnel *tun)
{
	/* IP-in-IP and GRE without a key: tun_id 0 (dpf_pkt_decap() leaves it 0). */
	if (likely(m->port_tenant_by[port] == DPF_IFMAP_TENANT_VNI))
		return dpf_ifmap_tenant_vni(m, port, in->tun_id);
	if (m->port_tenant_by[port] == DPF_IFMAP_TENANT_NONE)
		return DPF_IFACE_NONE;
	return dpf_ifmap_tenant_slow(m, port, frame, in, tun);
}

/** flow-direction of a flow relative to its interface's addresses (DPF_DIR_*). */
uint8_t dpf_ifmap_direction(const struct dpf_ifmap *m, const struct dpf_flow_key *k);

#endif /* DPFLOW_IFACE_H */
