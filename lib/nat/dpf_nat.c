/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A NAT rule set: the lookup structures built from checked rules
 * (dpf_nat_rule.c) and the stateless views they give; masquerade's state is
 * in dpf_nat_session.c and dpf_nat_icmp.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include "nat_private.h"

struct dnat_key {
	uint8_t family;
	uint8_t proto;
	uint16_t port;
	uint8_t addr[16];
};

static bool
prefix_has_trie(const struct prefix_table *t, uint8_t family)
{
	return family == 4 ? t->v4 != NULL : t->v6 != NULL;
}

/*
 * The family's trie, made with its first prefix ("<name>4" / "<name>6"):
 * rte_rib and rte_rib6 are two APIs with their own types, so only their
 * create calls differ. @return 0 or -rte_errno
 */
static int
prefix_trie_make(struct prefix_table *t, const char *name, int socket, uint8_t family)
{
	const struct rte_rib_conf c = {.ext_sz = 0, .max_nodes = 2 * MAX_RULES + 2};
	const struct rte_rib6_conf c6 = {.ext_sz = c.ext_sz, .max_nodes = c.max_nodes};
	char n[RTE_MEMZONE_NAMESIZE];

	if (prefix_has_trie(t, family))
		return 0;
	snprintf(n, sizeof(n), "%s%u", name, family);
	if (family == 4)
		t->v4 = rte_rib_create(n, socket, &c);
	else
		t->v6 = rte_rib6_create(n, socket, &c6);
	return prefix_has_trie(t, family) ? 0 : -rte_errno;
}

/* Rule `rule` as the next hop of addr/len in the family's trie. @return 0 or -errno */
static int
prefix_add(struct prefix_table *t, const char *name, int socket, uint8_t family,
	   const uint8_t *addr, uint8_t len, uint32_t rule)
{
	struct rte_rib6_node *node6;
	struct rte_rib_node *node;
	int rc = prefix_trie_make(t, name, socket, family);

	if (rc != 0)
		return rc;
	if (family == 4) {
		node = rte_rib_insert(t->v4, dpf_load_be32(addr), len);
		return node != NULL ? rte_rib_set_nh(node, rule) : -rte_errno;
	}
	node6 = rte_rib6_insert(t->v6, addr, len);
	return node6 != NULL ? rte_rib6_set_nh(node6, rule) : -rte_errno;
}

static void
prefix_free(struct prefix_table *t)
{
	rte_rib_free(t->v4);
	rte_rib6_free(t->v6);
}

static inline void
dnat_key_make(struct dnat_key *k, uint8_t family, uint8_t proto, const uint8_t *addr, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->port = port;
	memcpy(k->addr, addr, 16);
}

/* Both tables of port forwards, made with the first dnat rule. */
static int
dnat_tables_create(struct dpf_nat *nat, const char *name, int socket)
{
	nat->dnat_pub = dpf_hash_create(name, "dp", MAX_RULES, sizeof(struct dnat_key), socket, 0);
	nat->dnat_to = dpf_hash_create(name, "dt", MAX_RULES, sizeof(struct dnat_key), socket, 0);
	return nat->dnat_pub != NULL && nat->dnat_to != NULL ? 0 : -rte_errno;
}

static int
dnat_add(struct dpf_nat *nat, const struct dpf_nat_rule *r, uint32_t i)
{
	struct dnat_key k;
	int rc;

	dnat_key_make(&k, r->family, r->proto, r->out_addr, r->out_port);
	rc = rte_hash_add_key_data(nat->dnat_pub, &k, (void *)(uintptr_t)i);
	dnat_key_make(&k, r->family, r->proto, r->in_addr, r->in_port);
	/* Two forwards to one server port: replies take the first. */
	if (rc == 0 && rte_hash_lookup(nat->dnat_to, &k) < 0)
		rc = rte_hash_add_key_data(nat->dnat_to, &k, (void *)(uintptr_t)i);
	return rc;
}

/* Put rule i into the lookup structures of its type. @return 0 or -errno */
static int
rule_add(struct dpf_nat *nat, const struct dpf_nat_params *p, uint32_t i)
{
	const struct dpf_nat_rule *r = &p->rules[i];
	char name[32];
	int rc;

	switch (r->type) {
	case DPF_NAT_STATIC:
		snprintf(name, sizeof(name), "%.16s_si", p->name);
		rc = prefix_add(&nat->static_in, name, p->socket_id, r->family, r->in_addr,
				r->in_len, i);
		if (rc != 0)
			return rc;
		snprintf(name, sizeof(name), "%.16s_so", p->name);
		return prefix_add(&nat->static_out, name, p->socket_id, r->family, r->out_addr,
				  r->out_len, i);
	case DPF_NAT_MASQUERADE:
		nat->has_masquerade = true;
		snprintf(name, sizeof(name), "%.16s_mi", p->name);
		return prefix_add(&nat->masq_in, name, p->socket_id, r->family, r->in_addr,
				  r->in_len, i);
	case DPF_NAT_DNAT:
		if (nat->dnat_pub == NULL) {
			rc = dnat_tables_create(nat, p->name, p->socket_id);
			if (rc != 0)
				return rc;
		}
		return dnat_add(nat, r, i);
	}
	return 0;
}

void
dpf_nat_free(struct dpf_nat *nat)
{
	if (nat == NULL)
		return;
	prefix_free(&nat->static_in);
	prefix_free(&nat->static_out);
	prefix_free(&nat->masq_in);
	rte_hash_free(nat->dnat_pub);
	rte_hash_free(nat->dnat_to);
	rte_free(nat);
}

struct dpf_nat *
dpf_nat_create(const struct dpf_nat_params *p, char *err, size_t err_len)
{
	struct dpf_nat *nat;
	uint32_t i;
	int rc;

	if (p == NULL || p->name == NULL || p->n_rules > MAX_RULES ||
	    (p->n_rules > 0 && p->rules == NULL)) {
		dpf_set_err(err, err_len, "bad parameters (at most %d rules)", MAX_RULES);
		return dpf_null_errno(EINVAL);
	}
	if (nat_rules_validate(p->rules, p->n_rules, err, err_len) < 0)
		return dpf_null_errno(EINVAL);
	nat = rte_zmalloc_socket("dpf_nat", sizeof(*nat) + p->n_rules * sizeof(nat->rules[0]),
				 RTE_CACHE_LINE_SIZE, p->socket_id);
	if (nat == NULL)
		return dpf_null_errno(ENOMEM);
	if (p->n_rules > 0)
		memcpy(nat->rules, p->rules, p->n_rules * sizeof(nat->rules[0]));
	nat->n_rules = p->n_rules;
	for (i = 0; i < p->n_rules; i++) {
		rc = rule_add(nat, p, i);
		if (rc < 0) {
			dpf_set_err(err, err_len, "rule %u: cannot build lookup: %s", i + 1,
				    rte_strerror(-rc));
			dpf_nat_free(nat);
			return dpf_null_errno(-rc);
		}
	}
	return nat;
}

uint32_t
dpf_nat_rule_count(const struct dpf_nat *nat)
{
	return nat == NULL ? 0 : nat->n_rules;
}

const struct dpf_nat_rule *
dpf_nat_rule_get(const struct dpf_nat *nat, uint32_t i)
{
	return nat != NULL && i < nat->n_rules ? &nat->rules[i] : NULL;
}

bool
dpf_nat_has_masquerade(const struct dpf_nat *nat)
{
	return nat != NULL && nat->has_masquerade;
}

/* Same host in the other prefix of a static rule. */
static void
map_prefix(uint8_t *out, const uint8_t *addr, const uint8_t *to_prefix, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		unsigned int bits = len > i * 8 ? len - i * 8 : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		out[i] = (uint8_t)((to_prefix[i] & m) | (addr[i] & ~m));
	}
}

/* Rule index of (proto, addr, port) in one table of port forwards, or -1. */
static inline int64_t
dnat_lookup(const struct rte_hash *h, const struct dpf_flow_key *k, const uint8_t *addr,
	    uint16_t port)
{
	struct dnat_key dk;
	void *data;

	if (h == NULL || !nat_has_ports(k->proto))
		return -1;
	dnat_key_make(&dk, k->family, k->proto, addr, port);
	return rte_hash_lookup_data(h, &dk, &data) >= 0 ? (int64_t)(uintptr_t)data : -1;
}

/*
 * One side of the stateless view: a port forward first, then a static
 * prefix. inbound: the destination side (public -> to-address, outside ->
 * inside prefix); else the source side, the other way.
 * @return rule index + 1 of the rule that rewrote out_addr (and out_port), 0 none
 */
static inline uint32_t
view_side(const struct dpf_nat *nat, const struct rte_hash *dnat, const struct prefix_table *pt,
	  const struct dpf_flow_key *k, const uint8_t *addr, uint16_t port, bool inbound,
	  uint8_t *out_addr, uint16_t *out_port)
{
	const struct dpf_nat_rule *r;
	int64_t ri = dnat_lookup(dnat, k, addr, port);

	if (ri >= 0) {
		r = &nat->rules[ri];
		memcpy(out_addr, inbound ? r->in_addr : r->out_addr, 16);
		*out_port = inbound ? r->in_port : r->out_port;
		return (uint32_t)ri + 1;
	}
	ri = prefix_lookup(pt, k->family, addr);
	if (ri < 0)
		return 0;
	r = &nat->rules[ri];
	map_prefix(out_addr, addr, inbound ? r->in_addr : r->out_addr,
		   inbound ? r->in_len : r->out_len);
	return (uint32_t)ri + 1;
}

void
dpf_nat_view(const struct dpf_nat *nat, const struct dpf_flow_key *k, struct dpf_flow_nat *post,
	     uint32_t *src_rule, uint32_t *dst_rule)
{
	uint32_t sr = 0, dr = 0;

	memcpy(post->src_addr, k->src_addr, 16);
	memcpy(post->dst_addr, k->dst_addr, 16);
	post->src_port = k->src_port;
	post->dst_port = k->dst_port;
	if (nat != NULL && nat->n_rules != 0) {
		/* Destination side: port forward, then static inbound. */
		dr = view_side(nat, nat->dnat_pub, &nat->static_out, k, k->dst_addr, k->dst_port,
			       true, post->dst_addr, &post->dst_port);
		/* Source side: port-forward replies, then static outbound. */
		sr = view_side(nat, nat->dnat_to, &nat->static_in, k, k->src_addr, k->src_port,
			       false, post->src_addr, &post->src_port);
	}
	if (src_rule != NULL)
		*src_rule = sr;
	if (dst_rule != NULL)
		*dst_rule = dr;
}

bool
dpf_nat_is_masquerade_outside(const struct dpf_nat *nat, uint8_t family, const uint8_t *addr)
{
	uint32_t i;

	if (nat == NULL || !nat->has_masquerade)
		return false;
	for (i = 0; i < nat->n_rules; i++)
		if (nat->rules[i].type == DPF_NAT_MASQUERADE && nat->rules[i].family == family &&
		    memcmp(nat->rules[i].out_addr, addr, 16) == 0)
			return true;
	return false;
}

bool
dpf_nat_needs_ports(const struct dpf_nat *nat, const struct dpf_flow_key *k)
{
	uint32_t i;

	if (nat == NULL)
		return false;
	if (nat->has_masquerade && (prefix_lookup(&nat->masq_in, k->family, k->src_addr) >= 0 ||
				    dpf_nat_is_masquerade_outside(nat, k->family, k->dst_addr)))
		return true;
	for (i = 0; i < nat->n_rules; i++) {
		const struct dpf_nat_rule *r = &nat->rules[i];

		if (r->type == DPF_NAT_DNAT && r->family == k->family && r->proto == k->proto &&
		    (memcmp(r->out_addr, k->dst_addr, 16) == 0 ||
		     memcmp(r->in_addr, k->src_addr, 16) == 0))
			return true;
	}
	return false;
}

/* Multicast, broadcast and link-local destinations: traffic of the link (ND,
 * MLD, DHCP, ...), which no NAT translates. */
static bool
link_scope(uint8_t family, const uint8_t *dst)
{
	if (family == 4)
		return (dst[0] & 0xf0) == 224 || (dst[0] == 169 && dst[1] == 254) ||
		       (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255);
	return dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80);
}

bool
dpf_nat_masquerade_missed(const struct dpf_nat *nat, const struct dpf_flow_key *k,
			  const struct dpf_flow_nat *post)
{
	if (nat == NULL || !nat->has_masquerade || link_scope(k->family, k->dst_addr))
		return false;
	if (memcmp(post->src_addr, k->src_addr, 16) == 0 &&
	    prefix_lookup(&nat->masq_in, k->family, k->src_addr) >= 0)
		return true;
	return memcmp(post->dst_addr, k->dst_addr, 16) == 0 &&
	       dpf_nat_is_masquerade_outside(nat, k->family, k->dst_addr);
}
