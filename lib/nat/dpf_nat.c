/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rib.h>
#include <rte_rib6.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "dpf_nat.h"

#define MAX_RULES DPF_NAT_MAX_RULES

/* ------------------------------------------------------------------ */
/* Parsing                                                              */

static void __rte_format_printf(3, 4)
set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Mask the host bits of addr beyond len. */
static void
mask_addr(uint8_t *addr, unsigned int len, unsigned int alen)
{
	unsigned int i;

	for (i = 0; i < alen; i++) {
		unsigned int bits = len > i * 8 ? len - i * 8 : 0;

		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00 >> bits);
	}
}

static int
parse_addr(const char *s, uint8_t *addr, uint8_t *family)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return 0;
	}
	return -EINVAL;
}

static int
parse_cidr(const char *tok, uint8_t *addr, uint8_t *len, uint8_t *family, char *err,
	   size_t err_len)
{
	char buf[64];
	char *slash, *end;
	unsigned long l;
	uint8_t copy[16];
	unsigned int max;

	if (strlen(tok) >= sizeof(buf)) {
		set_err(err, err_len, "'%s': not a prefix", tok);
		return -EINVAL;
	}
	strcpy(buf, tok);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (parse_addr(buf, addr, family) < 0) {
		set_err(err, err_len, "'%s': not an IPv4 or IPv6 address", tok);
		return -EINVAL;
	}
	max = *family == 4 ? 32 : 128;
	if (slash == NULL) {
		l = max;
	} else {
		l = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || l > max) {
			set_err(err, err_len, "'%s': prefix length must be 0..%u", tok, max);
			return -EINVAL;
		}
	}
	memcpy(copy, addr, 16);
	mask_addr(copy, (unsigned int)l, 16);
	if (memcmp(copy, addr, 16) != 0) {
		set_err(err, err_len, "'%s': host bits set beyond /%lu", tok, l);
		return -EINVAL;
	}
	*len = (uint8_t)l;
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s == '\0' || *s == '+' || *s == '-')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "1.2.3.4:80" or "[2001:db8::1]:80" */
static int
parse_addr_port(const char *tok, uint8_t *addr, uint8_t *family, uint16_t *port, char *err,
		size_t err_len)
{
	char buf[80];
	char *colon, *a = buf;

	if (strlen(tok) >= sizeof(buf))
		goto bad;
	strcpy(buf, tok);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		*close = '\0';
		a = buf + 1;
		colon = close + 1;
	} else {
		colon = strrchr(buf, ':');
		if (colon == NULL || strchr(buf, ':') != colon)
			goto bad;
	}
	*colon = '\0';
	if (parse_addr(a, addr, family) < 0)
		goto bad;
	if (parse_port(colon + 1, port) < 0) {
		set_err(err, err_len, "'%s': port must be 1..65535", tok);
		return -EINVAL;
	}
	return 0;
bad:
	set_err(err, err_len, "'%s': expected ADDR:PORT (IPv6 as [ADDR]:PORT)", tok);
	return -EINVAL;
}

#define MAX_TOKENS 8

static int
split(char *s, char **tok)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_TOKENS)
			return MAX_TOKENS + 1;
		tok[n++] = t;
	}
	return n;
}

int
dpf_nat_rule_parse(const char *text, struct dpf_nat_rule *r, char *err, size_t err_len)
{
	char buf[256];
	char *tok[MAX_TOKENS];
	uint8_t fam2;
	int n;

	memset(r, 0, sizeof(*r));
	if (strlen(text) >= sizeof(buf)) {
		set_err(err, err_len, "rule too long");
		return -EINVAL;
	}
	strcpy(buf, text);
	n = split(buf, tok);
	if (n == 0) {
		set_err(err, err_len, "empty rule");
		return -EINVAL;
	}
	if (strcmp(tok[0], "static") == 0) {
		if (n != 3) {
			set_err(err, err_len, "expected 'static <inside-cidr> <outside-cidr>'");
			return -EINVAL;
		}
		r->type = DPF_NAT_STATIC;
		if (parse_cidr(tok[1], r->in_addr, &r->in_len, &r->family, err, err_len) < 0 ||
		    parse_cidr(tok[2], r->out_addr, &r->out_len, &fam2, err, err_len) < 0)
			return -EINVAL;
		if (fam2 != r->family) {
			set_err(err, err_len, "'%s' and '%s' are of different families", tok[1],
				tok[2]);
			return -EINVAL;
		}
		if (r->in_len != r->out_len) {
			set_err(err, err_len,
				"static needs prefixes of the same length: /%u and /%u", r->in_len,
				r->out_len);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(tok[0], "dnat") == 0) {
		if (n != 4) {
			set_err(err, err_len,
				"expected 'dnat <tcp|udp|sctp> <addr>:<port> <to-addr>:<port>'");
			return -EINVAL;
		}
		r->type = DPF_NAT_DNAT;
		if (strcmp(tok[1], "tcp") == 0)
			r->proto = 6;
		else if (strcmp(tok[1], "udp") == 0)
			r->proto = 17;
		else if (strcmp(tok[1], "sctp") == 0)
			r->proto = 132;
		else {
			set_err(err, err_len, "'%s': dnat protocol must be tcp, udp or sctp", tok[1]);
			return -EINVAL;
		}
		if (parse_addr_port(tok[2], r->out_addr, &r->family, &r->out_port, err, err_len) < 0 ||
		    parse_addr_port(tok[3], r->in_addr, &fam2, &r->in_port, err, err_len) < 0)
			return -EINVAL;
		if (fam2 != r->family) {
			set_err(err, err_len, "'%s' and '%s' are of different families", tok[2],
				tok[3]);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(tok[0], "masquerade") == 0) {
		char *dash, *end;
		unsigned long lo, hi;
		uint8_t len;

		if (n != 3 && n != 4) {
			set_err(err, err_len,
				"expected 'masquerade <inside-cidr> <outside-addr> [<lo>-<hi>]'");
			return -EINVAL;
		}
		r->type = DPF_NAT_MASQUERADE;
		if (parse_cidr(tok[1], r->in_addr, &r->in_len, &r->family, err, err_len) < 0)
			return -EINVAL;
		if (parse_cidr(tok[2], r->out_addr, &len, &fam2, err, err_len) < 0)
			return -EINVAL;
		if (len != (fam2 == 4 ? 32 : 128)) {
			set_err(err, err_len, "'%s': the outside must be one address", tok[2]);
			return -EINVAL;
		}
		if (fam2 != r->family) {
			set_err(err, err_len, "'%s' and '%s' are of different families", tok[1],
				tok[2]);
			return -EINVAL;
		}
		r->port_lo = 1024;
		r->port_hi = 65535;
		if (n == 4) {
			dash = strchr(tok[3], '-');
			lo = strtoul(tok[3], &end, 10);
			if (dash == NULL || end != dash || tok[3][0] == '-')
				goto bad_range;
			hi = strtoul(dash + 1, &end, 10);
			if (*end != '\0' || dash[1] == '\0' || lo < 1 || hi > 65535 || lo > hi)
				goto bad_range;
			r->port_lo = (uint16_t)lo;
			r->port_hi = (uint16_t)hi;
		}
		return 0;
bad_range:
		set_err(err, err_len, "'%s': port range must be LO-HI with 1 <= LO <= HI <= 65535",
			tok[3]);
		return -EINVAL;
	}
	set_err(err, err_len, "'%s': unknown NAT rule (static, dnat, masquerade)", tok[0]);
	return -EINVAL;
}

static void
addr_text(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len);
}

int
dpf_nat_rule_format(const struct dpf_nat_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *proto = r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : "sctp";
	int n;

	addr_text(r->family, r->in_addr, a, sizeof(a));
	addr_text(r->family, r->out_addr, b, sizeof(b));
	switch (r->type) {
	case DPF_NAT_STATIC:
		n = snprintf(buf, len, "static %s/%u %s/%u", a, r->in_len, b, r->out_len);
		break;
	case DPF_NAT_DNAT:
		if (r->family == 6)
			n = snprintf(buf, len, "dnat %s [%s]:%u [%s]:%u", proto, b, r->out_port, a,
				     r->in_port);
		else
			n = snprintf(buf, len, "dnat %s %s:%u %s:%u", proto, b, r->out_port, a,
				     r->in_port);
		break;
	case DPF_NAT_MASQUERADE:
		n = snprintf(buf, len, "masquerade %s/%u %s %u-%u", a, r->in_len, b, r->port_lo,
			     r->port_hi);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* ------------------------------------------------------------------ */
/* Rule set                                                             */

struct dnat_key {
	uint8_t family;
	uint8_t proto;
	uint16_t port;
	uint8_t addr[16];
};

/*
 * rte_rib tries rather than rte_lpm: a DIR-24-8 table costs 64 MB each and
 * NAT rule sets are small; monitor mode looks prefixes up once per flow at
 * merge time, forward mode once per translated packet.
 */
struct prefix_table {
	struct rte_rib *v4;
	struct rte_rib6 *v6;
};

struct dpf_nat {
	struct dpf_nat_rule *rules;
	uint32_t n_rules;
	bool has_masquerade;
	struct prefix_table static_in;  /* source side, outbound */
	struct prefix_table static_out; /* destination side, inbound */
	struct prefix_table masq_in;
	struct rte_hash *dnat_pub;      /* (proto, public addr, port) -> rule */
	struct rte_hash *dnat_to;       /* (proto, to-addr, to-port) -> rule */
};

static bool
prefixes_overlap(const uint8_t *a, unsigned int alen, const uint8_t *b, unsigned int blen)
{
	uint8_t x[16], y[16];
	unsigned int len = alen < blen ? alen : blen;

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	mask_addr(x, len, 16);
	mask_addr(y, len, 16);
	return memcmp(x, y, 16) == 0;
}

static int
validate(const struct dpf_nat_rule *rules, uint32_t n, char *err, size_t err_len)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		const struct dpf_nat_rule *a = &rules[i];

		if (a->type < DPF_NAT_STATIC || a->type > DPF_NAT_MASQUERADE ||
		    (a->family != 4 && a->family != 6)) {
			set_err(err, err_len, "rule %u: not a parsed rule", i + 1);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			const struct dpf_nat_rule *b = &rules[j];

			if (a->family != b->family)
				continue;
			if (a->type == DPF_NAT_STATIC && b->type == DPF_NAT_STATIC) {
				if (prefixes_overlap(a->in_addr, a->in_len, b->in_addr, b->in_len)) {
					set_err(err, err_len,
						"rule %u: static inside prefix overlaps rule %u's",
						i + 1, j + 1);
					return -EINVAL;
				}
				if (prefixes_overlap(a->out_addr, a->out_len, b->out_addr,
						     b->out_len)) {
					set_err(err, err_len,
						"rule %u: static outside prefix overlaps rule %u's",
						i + 1, j + 1);
					return -EINVAL;
				}
			}
			if (a->type == DPF_NAT_DNAT && b->type == DPF_NAT_DNAT &&
			    a->proto == b->proto && a->out_port == b->out_port &&
			    memcmp(a->out_addr, b->out_addr, 16) == 0) {
				set_err(err, err_len, "rule %u: same public address and port as rule %u",
					i + 1, j + 1);
				return -EINVAL;
			}
			if (a->type == DPF_NAT_MASQUERADE && b->type != DPF_NAT_DNAT &&
			    prefixes_overlap(a->in_addr, a->in_len, b->in_addr, b->in_len)) {
				set_err(err, err_len, "rule %u: masquerade inside prefix overlaps rule %u's",
					i + 1, j + 1);
				return -EINVAL;
			}
			if (b->type == DPF_NAT_MASQUERADE && a->type == DPF_NAT_STATIC &&
			    prefixes_overlap(a->in_addr, a->in_len, b->in_addr, b->in_len)) {
				set_err(err, err_len, "rule %u: static inside prefix overlaps rule %u's",
					i + 1, j + 1);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int
prefix_add(struct prefix_table *t, const char *name, int socket, uint8_t family,
	   const uint8_t *addr, uint8_t len, uint32_t rule)
{
	struct rte_rib_conf c = {.ext_sz = 0, .max_nodes = 2 * MAX_RULES + 2};
	char n[RTE_MEMZONE_NAMESIZE];

	if (family == 4) {
		struct rte_rib_node *node;
		uint32_t a;

		if (t->v4 == NULL) {
			snprintf(n, sizeof(n), "%s4", name);
			t->v4 = rte_rib_create(n, socket, &c);
			if (t->v4 == NULL)
				return -rte_errno;
		}
		memcpy(&a, addr, 4);
		node = rte_rib_insert(t->v4, rte_be_to_cpu_32(a), len);
		if (node == NULL)
			return -rte_errno;
		return rte_rib_set_nh(node, rule);
	} else {
		struct rte_rib6_conf c6 = {.ext_sz = 0, .max_nodes = 2 * MAX_RULES + 2};
		struct rte_rib6_node *node;

		if (t->v6 == NULL) {
			snprintf(n, sizeof(n), "%s6", name);
			t->v6 = rte_rib6_create(n, socket, &c6);
			if (t->v6 == NULL)
				return -rte_errno;
		}
		node = rte_rib6_insert(t->v6, addr, len);
		if (node == NULL)
			return -rte_errno;
		return rte_rib6_set_nh(node, rule);
	}
}

/* Rule index of the longest prefix holding addr, or -1. */
static inline int64_t
prefix_lookup(const struct prefix_table *t, uint8_t family, const uint8_t *addr)
{
	uint64_t hop;

	if (family == 4) {
		struct rte_rib_node *node;
		uint32_t a;

		if (t->v4 == NULL)
			return -1;
		memcpy(&a, addr, 4);
		node = rte_rib_lookup(t->v4, rte_be_to_cpu_32(a));
		return node != NULL && rte_rib_get_nh(node, &hop) == 0 ? (int64_t)hop : -1;
	} else {
		struct rte_rib6_node *node;

		if (t->v6 == NULL)
			return -1;
		node = rte_rib6_lookup(t->v6, addr);
		return node != NULL && rte_rib6_get_nh(node, &hop) == 0 ? (int64_t)hop : -1;
	}
}

static void
prefix_free(struct prefix_table *t)
{
	rte_rib_free(t->v4);
	rte_rib6_free(t->v6);
}

static struct rte_hash *
dnat_hash(const char *name, const char *suffix, int socket)
{
	char n[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = n,
		.entries = MAX_RULES,
		.key_len = sizeof(struct dnat_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
	};

	snprintf(n, sizeof(n), "%s_%s", name, suffix);
	return rte_hash_create(&hp);
}

static void
dnat_key_make(struct dnat_key *k, uint8_t family, uint8_t proto, const uint8_t *addr,
	      uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->port = port;
	memcpy(k->addr, addr, 16);
}

struct dpf_nat *
dpf_nat_create(const struct dpf_nat_params *p, char *err, size_t err_len)
{
	struct dpf_nat *nat;
	uint32_t i;
	int rc;

	if (p == NULL || p->name == NULL || p->n_rules > MAX_RULES ||
	    (p->n_rules > 0 && p->rules == NULL)) {
		set_err(err, err_len, "bad parameters (at most %d rules)", MAX_RULES);
		rte_errno = EINVAL;
		return NULL;
	}
	if (validate(p->rules, p->n_rules, err, err_len) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	nat = rte_zmalloc_socket("dpf_nat", sizeof(*nat), 0, p->socket_id);
	if (nat == NULL)
		goto nomem;
	nat->rules = rte_malloc_socket("dpf_nat_rules", (p->n_rules + 1) * sizeof(*nat->rules), 0,
				       p->socket_id);
	if (nat->rules == NULL)
		goto free_nat;
	memcpy(nat->rules, p->rules, p->n_rules * sizeof(*nat->rules));
	nat->n_rules = p->n_rules;
	for (i = 0; i < p->n_rules; i++) {
		const struct dpf_nat_rule *r = &p->rules[i];
		char name[32];
		struct dnat_key k;

		rc = 0;
		switch (r->type) {
		case DPF_NAT_STATIC:
			snprintf(name, sizeof(name), "%.16s_si", p->name);
			rc = prefix_add(&nat->static_in, name, p->socket_id, r->family, r->in_addr,
					r->in_len, i);
			snprintf(name, sizeof(name), "%.16s_so", p->name);
			if (rc == 0)
				rc = prefix_add(&nat->static_out, name, p->socket_id, r->family,
						r->out_addr, r->out_len, i);
			break;
		case DPF_NAT_MASQUERADE:
			nat->has_masquerade = true;
			snprintf(name, sizeof(name), "%.16s_mi", p->name);
			rc = prefix_add(&nat->masq_in, name, p->socket_id, r->family, r->in_addr,
					r->in_len, i);
			break;
		case DPF_NAT_DNAT:
			if (nat->dnat_pub == NULL) {
				nat->dnat_pub = dnat_hash(p->name, "dp", p->socket_id);
				nat->dnat_to = dnat_hash(p->name, "dt", p->socket_id);
				if (nat->dnat_pub == NULL || nat->dnat_to == NULL) {
					rc = -rte_errno;
					break;
				}
			}
			dnat_key_make(&k, r->family, r->proto, r->out_addr, r->out_port);
			rc = rte_hash_add_key_data(nat->dnat_pub, &k, (void *)(uintptr_t)i);
			dnat_key_make(&k, r->family, r->proto, r->in_addr, r->in_port);
			/* Two forwards to one server port: replies take the first. */
			if (rc == 0 && rte_hash_lookup(nat->dnat_to, &k) < 0)
				rc = rte_hash_add_key_data(nat->dnat_to, &k, (void *)(uintptr_t)i);
			break;
		}
		if (rc < 0) {
			set_err(err, err_len, "rule %u: cannot build lookup: %s", i + 1,
				rte_strerror(-rc));
			dpf_nat_free(nat);
			rte_errno = -rc;
			return NULL;
		}
	}
	return nat;

free_nat:
	rte_free(nat);
nomem:
	rte_errno = ENOMEM;
	return NULL;
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
	rte_free(nat->rules);
	rte_free(nat);
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

static bool
has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

void
dpf_nat_view(const struct dpf_nat *nat, const struct dpf_flow_key *k, struct dpf_flow_nat *post,
	     uint32_t *src_rule, uint32_t *dst_rule)
{
	uint32_t sr = 0, dr = 0;
	int64_t ri;

	memcpy(post->src_addr, k->src_addr, 16);
	memcpy(post->dst_addr, k->dst_addr, 16);
	post->src_port = k->src_port;
	post->dst_port = k->dst_port;
	if (nat != NULL && nat->n_rules != 0) {
		/* Destination side: port forward, then static inbound. */
		if (nat->dnat_pub != NULL && has_ports(k->proto)) {
			struct dnat_key dk;
			void *data;

			dnat_key_make(&dk, k->family, k->proto, k->dst_addr, k->dst_port);
			if (rte_hash_lookup_data(nat->dnat_pub, &dk, &data) >= 0) {
				const struct dpf_nat_rule *r = &nat->rules[(uintptr_t)data];

				memcpy(post->dst_addr, r->in_addr, 16);
				post->dst_port = r->in_port;
				dr = (uint32_t)(uintptr_t)data + 1;
			}
		}
		if (dr == 0 && (ri = prefix_lookup(&nat->static_out, k->family, k->dst_addr)) >= 0) {
			const struct dpf_nat_rule *r = &nat->rules[ri];

			map_prefix(post->dst_addr, k->dst_addr, r->in_addr, r->in_len);
			dr = (uint32_t)ri + 1;
		}
		/* Source side: port-forward replies, then static outbound. */
		if (nat->dnat_to != NULL && has_ports(k->proto)) {
			struct dnat_key dk;
			void *data;

			dnat_key_make(&dk, k->family, k->proto, k->src_addr, k->src_port);
			if (rte_hash_lookup_data(nat->dnat_to, &dk, &data) >= 0) {
				const struct dpf_nat_rule *r = &nat->rules[(uintptr_t)data];

				memcpy(post->src_addr, r->out_addr, 16);
				post->src_port = r->out_port;
				sr = (uint32_t)(uintptr_t)data + 1;
			}
		}
		if (sr == 0 && (ri = prefix_lookup(&nat->static_in, k->family, k->src_addr)) >= 0) {
			const struct dpf_nat_rule *r = &nat->rules[ri];

			map_prefix(post->src_addr, k->src_addr, r->out_addr, r->out_len);
			sr = (uint32_t)ri + 1;
		}
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

/* ------------------------------------------------------------------ */
/* Masquerade sessions                                                  */

struct sess_key {
	uint8_t family;
	uint8_t proto;
	uint16_t local_port; /* inside port (fwd) or outside port (rev) */
	uint16_t remote_port;
	uint16_t pad;
	uint8_t local[16]; /* inside addr (fwd) or outside addr (rev) */
	uint8_t remote[16];
};

struct session {
	struct sess_key fwd;
	struct sess_key rev;
	uint64_t last_ns; /* shared mode: refreshed by any core (relaxed atomics) */
	uint32_t rule;
	uint32_t used;
};

/* Shared mode: a session whose keys were deleted, reusable after a grace period. */
struct retired_session {
	uint64_t token; /* rte_rcu_qsbr_start() after the deletion */
	uint32_t idx;
	int32_t fwd_pos; /* key slots, freed with the session */
	int32_t rev_pos;
};

struct dpf_nat_group {
	uint16_t n_members;
	struct rte_rcu_qsbr *qsbr;
	struct dpf_nat_sessions *members[DPF_NAT_GROUP_MAX]; /* published at create */
};

struct dpf_nat_sessions {
	const struct dpf_nat *nat;
	struct dpf_nat_icmp *icmp;
	const struct dpf_rss *rss;
	struct dpf_nat_group *group; /* NULL: sessions of this core only */
	struct rte_hash *fwd;
	struct rte_hash *rev;
	struct session *sess;
	uint32_t *free_stack;
	uint32_t n_free;
	uint32_t capacity;
	uint32_t *cursor;		 /* per rule */
	struct retired_session *retired; /* shared mode: FIFO of capacity entries */
	uint32_t retired_head;
	uint32_t retired_n;
	uint16_t n_queues;
	uint16_t queue;
	uint16_t reta_size;
	uint64_t timeout_ns;
	uint64_t touch_ns; /* last_ns is rewritten when it is older than this */
	struct dpf_nat_sessions_stats st;
};

struct icmp_entry {
	uint8_t inside[16];
	uint16_t inside_id;
	uint16_t outside_id;
	uint32_t rule;
	uint64_t last_ns;
};

struct dpf_nat_icmp {
	rte_spinlock_t lock;
	struct rte_hash *fwd; /* (inside, remote, inside id) -> entry */
	struct rte_hash *rev; /* (outside, remote, outside id) -> entry */
	struct icmp_entry *entries;
	uint32_t *free_stack;
	uint32_t n_free;
	uint32_t capacity;
	uint16_t next_id;
};

static struct rte_hash *
sess_hash(const char *name, const char *suffix, uint32_t entries, int socket, uint8_t flags)
{
	char n[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = n,
		.entries = entries < 8 ? 8 : entries,
		.key_len = sizeof(struct sess_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		.extra_flag = flags,
	};

	snprintf(n, sizeof(n), "%.20s_%s", name, suffix);
	return rte_hash_create(&hp);
}

struct dpf_nat_icmp *
dpf_nat_icmp_create(const char *name, uint32_t capacity, int socket_id)
{
	struct dpf_nat_icmp *t;
	uint32_t i;

	if (name == NULL || capacity == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("dpf_nat_icmp", sizeof(*t), 0, socket_id);
	if (t == NULL)
		goto nomem;
	rte_spinlock_init(&t->lock);
	t->capacity = capacity;
	t->fwd = sess_hash(name, "if", capacity, socket_id, 0);
	t->rev = sess_hash(name, "ir", capacity, socket_id, 0);
	t->entries =
		rte_zmalloc_socket("dpf_nat_icmp_e", capacity * sizeof(*t->entries), 0, socket_id);
	t->free_stack =
		rte_malloc_socket("dpf_nat_icmp_f", capacity * sizeof(uint32_t), 0, socket_id);
	if (t->fwd == NULL || t->rev == NULL || t->entries == NULL || t->free_stack == NULL) {
		dpf_nat_icmp_free(t);
		goto nomem;
	}
	for (i = 0; i < capacity; i++)
		t->free_stack[i] = capacity - 1 - i;
	t->n_free = capacity;
	t->next_id = 1;
	return t;
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
dpf_nat_icmp_free(struct dpf_nat_icmp *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->fwd);
	rte_hash_free(t->rev);
	rte_free(t->entries);
	rte_free(t->free_stack);
	rte_free(t);
}

struct dpf_nat_group *
dpf_nat_group_create(uint16_t n_members, int socket_id)
{
	struct dpf_nat_group *g;
	size_t sz;

	if (n_members == 0 || n_members > DPF_NAT_GROUP_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	g = rte_zmalloc_socket("dpf_nat_group", sizeof(*g), RTE_CACHE_LINE_SIZE, socket_id);
	if (g == NULL)
		goto nomem;
	g->n_members = n_members;
	sz = rte_rcu_qsbr_get_memsize(n_members);
	g->qsbr = rte_zmalloc_socket("dpf_nat_qsbr", sz, RTE_CACHE_LINE_SIZE, socket_id);
	if (g->qsbr == NULL) {
		rte_free(g);
		goto nomem;
	}
	if (rte_rcu_qsbr_init(g->qsbr, n_members) != 0) {
		rte_free(g->qsbr);
		rte_free(g);
		return NULL;
	}
	return g;
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
dpf_nat_group_free(struct dpf_nat_group *g)
{
	if (g == NULL)
		return;
	rte_free(g->qsbr);
	rte_free(g);
}

struct dpf_nat_sessions *
dpf_nat_sessions_create(const struct dpf_nat_sessions_params *p)
{
	struct dpf_nat_sessions *s;
	uint8_t flags = 0;
	uint32_t i;

	if (p == NULL || p->name == NULL || p->nat == NULL || p->capacity == 0 ||
	    p->n_queues == 0 || p->queue >= p->n_queues ||
	    (p->group == NULL && p->n_queues > 1 && p->rss == NULL) ||
	    (p->group != NULL &&
	     (p->queue >= p->group->n_members || p->group->members[p->queue] != NULL))) {
		rte_errno = EINVAL;
		return NULL;
	}
	s = rte_zmalloc_socket("dpf_nat_sessions", sizeof(*s), 0, p->socket_id);
	if (s == NULL)
		goto nomem;
	s->nat = p->nat;
	s->icmp = p->icmp;
	s->rss = p->rss;
	s->group = p->group;
	s->capacity = p->capacity;
	s->n_queues = p->n_queues;
	s->queue = p->queue;
	s->reta_size = p->reta_size ? p->reta_size : DPF_RSS_RETA_SIZE;
	s->timeout_ns = p->timeout_ns;
	/* Idle time is measured to an eighth of the timeout: other cores then
	 * rarely write a session's cache line. */
	s->touch_ns = p->timeout_ns / 8;
	/* Shared mode: every core reads the tables lock-free while their owner
	 * writes them; deleted keys keep their slots until a grace period. */
	if (s->group != NULL)
		flags = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
	s->fwd = sess_hash(p->name, "sf", p->capacity, p->socket_id, flags);
	s->rev = sess_hash(p->name, "sr", p->capacity, p->socket_id, flags);
	s->sess =
		rte_zmalloc_socket("dpf_nat_sess", p->capacity * sizeof(*s->sess), 0, p->socket_id);
	s->free_stack =
		rte_malloc_socket("dpf_nat_free", p->capacity * sizeof(uint32_t), 0, p->socket_id);
	/* Room for any rule set: dpf_nat_sessions_reset() may bring more rules. */
	s->cursor = rte_zmalloc_socket("dpf_nat_cursor", (MAX_RULES + 1) * sizeof(uint32_t), 0,
				       p->socket_id);
	if (s->group != NULL)
		s->retired = rte_malloc_socket("dpf_nat_retired", p->capacity * sizeof(*s->retired),
					       0, p->socket_id);
	if (s->fwd == NULL || s->rev == NULL || s->sess == NULL || s->free_stack == NULL ||
	    s->cursor == NULL || (s->group != NULL && s->retired == NULL)) {
		s->group = NULL; /* not registered yet */
		dpf_nat_sessions_free(s);
		goto nomem;
	}
	for (i = 0; i < p->capacity; i++)
		s->free_stack[i] = p->capacity - 1 - i;
	s->n_free = p->capacity;
	if (s->group != NULL) {
		/* Each member reads every table: it is a reader thread of the group. */
		rte_rcu_qsbr_thread_register(s->group->qsbr, s->queue);
		rte_rcu_qsbr_thread_online(s->group->qsbr, s->queue);
		__atomic_store_n(&s->group->members[s->queue], s, __ATOMIC_RELEASE);
	}
	return s;
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
dpf_nat_sessions_free(struct dpf_nat_sessions *s)
{
	if (s == NULL)
		return;
	if (s->group != NULL) {
		__atomic_store_n(&s->group->members[s->queue], NULL, __ATOMIC_RELEASE);
		rte_rcu_qsbr_thread_offline(s->group->qsbr, s->queue);
		rte_rcu_qsbr_thread_unregister(s->group->qsbr, s->queue);
	}
	rte_hash_free(s->fwd);
	rte_hash_free(s->rev);
	rte_free(s->sess);
	rte_free(s->free_stack);
	rte_free(s->cursor);
	rte_free(s->retired);
	rte_free(s);
}

void
dpf_nat_sessions_quiescent(struct dpf_nat_sessions *s)
{
	if (s != NULL && s->group != NULL)
		rte_rcu_qsbr_quiescent(s->group->qsbr, s->queue);
}

void
dpf_nat_sessions_offline(struct dpf_nat_sessions *s)
{
	if (s != NULL && s->group != NULL)
		rte_rcu_qsbr_thread_offline(s->group->qsbr, s->queue);
}

static void
sess_key_make(struct sess_key *k, uint8_t family, uint8_t proto, const uint8_t *local,
	      uint16_t local_port, const uint8_t *remote, uint16_t remote_port)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->local_port = local_port;
	k->remote_port = remote_port;
	memcpy(k->local, local, 16);
	memcpy(k->remote, remote, 16);
}

/* The queue a NIC with our key and RETA gives the reply remote -> outside:port. */
static uint16_t
reply_queue(const struct dpf_nat_sessions *s, uint8_t family, const uint8_t *remote, uint16_t rport,
	    const uint8_t *outside, uint16_t oport)
{
	uint8_t t[DPF_RSS_TUPLE_MAX];
	uint32_t alen = family == 4 ? 4 : 16;
	rte_be16_t a = rte_cpu_to_be_16(rport), b = rte_cpu_to_be_16(oport);

	memcpy(t, remote, alen);
	memcpy(t + alen, outside, alen);
	memcpy(t + 2 * alen, &a, 2);
	memcpy(t + 2 * alen + 2, &b, 2);
	return (uint16_t)((dpf_rss_hash(s->rss, t, 2 * alen + 4) % s->reta_size) % s->n_queues);
}

/* Shared mode: sessions whose grace period has passed become free again. */
static void
reclaim(struct dpf_nat_sessions *s)
{
	while (s->retired_n != 0) {
		struct retired_session *r = &s->retired[s->retired_head];

		if (rte_rcu_qsbr_check(s->group->qsbr, r->token, false) != 1)
			break;
		if (r->fwd_pos >= 0)
			rte_hash_free_key_with_position(s->fwd, r->fwd_pos);
		if (r->rev_pos >= 0)
			rte_hash_free_key_with_position(s->rev, r->rev_pos);
		s->free_stack[s->n_free++] = r->idx;
		s->retired_head = (s->retired_head + 1) % s->capacity;
		s->retired_n--;
	}
}

/*
 * Take a session out of the tables. Per core it is free at once; shared,
 * another core may still be reading it: it waits for a grace period (every
 * member reported a quiescent state after the deletion) in the retired FIFO.
 */
static void
session_unlink(struct dpf_nat_sessions *s, uint32_t idx, bool rev_added)
{
	struct session *se = &s->sess[idx];
	int32_t fwd_pos = rte_hash_del_key(s->fwd, &se->fwd);
	int32_t rev_pos = rev_added ? rte_hash_del_key(s->rev, &se->rev) : -1;
	struct retired_session *r;

	se->used = 0;
	if (s->group == NULL) {
		s->free_stack[s->n_free++] = idx;
		return;
	}
	/* The FIFO holds every session at most once: it cannot overflow. */
	r = &s->retired[(s->retired_head + s->retired_n) % s->capacity];
	r->idx = idx;
	r->fwd_pos = fwd_pos;
	r->rev_pos = rev_pos;
	r->token = rte_rcu_qsbr_start(s->group->qsbr);
	s->retired_n++;
}

static int
session_new(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint32_t ri, uint64_t now_ns,
	    uint16_t *oport)
{
	const struct dpf_nat_rule *r = &s->nat->rules[ri];
	uint32_t range = (uint32_t)r->port_hi - r->port_lo + 1;
	uint32_t step = 1, first = 0, count = range;
	struct sess_key rev;
	uint32_t t, idx;

	if (s->group != NULL) {
		/* Shared: port p belongs to member (p - lo) % members, so the
		 * reply's destination port names the table to look in. */
		step = s->group->n_members;
		first = s->queue;
		count = range > first ? (range - first + step - 1) / step : 0;
		if (s->n_free == 0)
			reclaim(s);
	}
	if (s->n_free == 0) {
		s->st.table_full++;
		return -ENOSPC;
	}
	for (t = 0; t < count; t++) {
		uint32_t j = (s->cursor[ri] + t) % count;
		uint16_t p = (uint16_t)(r->port_lo + first + j * step);

		s->st.port_tries++;
		if (s->group == NULL && s->n_queues > 1 &&
		    reply_queue(s, k->family, k->dst_addr, k->dst_port, r->out_addr, p) != s->queue)
			continue;
		sess_key_make(&rev, k->family, k->proto, r->out_addr, p, k->dst_addr, k->dst_port);
		if (rte_hash_lookup(s->rev, &rev) >= 0)
			continue;
		idx = s->free_stack[--s->n_free];
		sess_key_make(&s->sess[idx].fwd, k->family, k->proto, k->src_addr, k->src_port,
			      k->dst_addr, k->dst_port);
		s->sess[idx].rev = rev;
		s->sess[idx].rule = ri;
		s->sess[idx].last_ns = now_ns;
		s->sess[idx].used = 1;
		/* rev first: a core that finds fwd may look rev up at once. */
		if (rte_hash_add_key_data(s->rev, &rev, (void *)(uintptr_t)idx) < 0) {
			s->sess[idx].used = 0;
			s->free_stack[s->n_free++] = idx;
			s->st.table_full++;
			return -ENOSPC;
		}
		if (rte_hash_add_key_data(s->fwd, &s->sess[idx].fwd, (void *)(uintptr_t)idx) < 0) {
			session_unlink(s, idx, true);
			s->st.table_full++;
			return -ENOSPC;
		}
		s->cursor[ri] = (j + 1) % count;
		s->st.created++;
		s->st.active++;
		*oport = p;
		return 0;
	}
	s->st.port_exhausted++;
	return -ENOSPC;
}

static inline void
touch(struct dpf_nat_sessions *s, struct session *se, uint64_t now_ns)
{
	uint64_t last = __atomic_load_n(&se->last_ns, __ATOMIC_RELAXED);

	if (now_ns > last + s->touch_ns)
		__atomic_store_n(&se->last_ns, now_ns, __ATOMIC_RELAXED);
}

/* The masquerade rule whose outside address:port range holds addr:port. */
static const struct dpf_nat_rule *
masq_rule_of(const struct dpf_nat *nat, uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < nat->n_rules; i++) {
		const struct dpf_nat_rule *r = &nat->rules[i];

		if (r->type == DPF_NAT_MASQUERADE && r->family == family && port >= r->port_lo &&
		    port <= r->port_hi && memcmp(r->out_addr, addr, 16) == 0)
			return r;
	}
	return NULL;
}

/*
 * The session of a reply (rev key). Per core: this core's table. Shared:
 * the table of the member that owns the port.
 */
static struct session *
find_rev(struct dpf_nat_sessions *s, const struct sess_key *key)
{
	struct dpf_nat_sessions *owner = s;
	void *data;

	if (s->group != NULL) {
		const struct dpf_nat_rule *r =
			masq_rule_of(s->nat, key->family, key->local, key->local_port);

		if (r == NULL)
			return NULL;
		owner = __atomic_load_n(
			&s->group->members[(key->local_port - r->port_lo) % s->group->n_members],
			__ATOMIC_ACQUIRE);
		if (owner == NULL)
			return NULL;
		if (owner != s)
			s->st.remote_hits++;
	}
	if (rte_hash_lookup_data(owner->rev, key, &data) < 0)
		return NULL;
	return &owner->sess[(uintptr_t)data];
}

/* The session of an outbound packet (fwd key): this core's, else (shared) any member's. */
static struct session *
find_fwd(struct dpf_nat_sessions *s, const struct sess_key *key)
{
	void *data;
	uint16_t m;

	if (rte_hash_lookup_data(s->fwd, key, &data) >= 0)
		return &s->sess[(uintptr_t)data];
	if (s->group == NULL)
		return NULL;
	for (m = 0; m < s->group->n_members; m++) {
		struct dpf_nat_sessions *o =
			__atomic_load_n(&s->group->members[m], __ATOMIC_ACQUIRE);

		if (o == NULL || o == s || rte_hash_lookup_data(o->fwd, key, &data) < 0)
			continue;
		s->st.remote_hits++;
		return &o->sess[(uintptr_t)data];
	}
	return NULL;
}

/*
 * ICMP echo sessions (shared table, locked). is_echo 1: an echo request from
 * inside (create: may make a session); 2: a reply from outside.
 */
static int
icmp_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint8_t is_echo,
	   uint16_t icmp_id, uint64_t now_ns, bool create, struct dpf_flow_nat *post,
	   uint16_t *post_id, uint32_t *rule)
{
	struct dpf_nat_icmp *t = s->icmp;
	struct sess_key key;
	void *data;
	int64_t ri;
	int rc = 0;

	if (t == NULL)
		return 0;
	rte_spinlock_lock(&t->lock);
	if (is_echo == 1 && (ri = prefix_lookup(&s->nat->masq_in, k->family, k->src_addr)) >= 0 &&
	    memcmp(post->src_addr, k->src_addr, 16) == 0) {
		const struct dpf_nat_rule *r = &s->nat->rules[ri];
		struct icmp_entry *e;
		uint32_t idx;

		sess_key_make(&key, k->family, k->proto, k->src_addr, icmp_id, k->dst_addr, 0);
		if (rte_hash_lookup_data(t->fwd, &key, &data) >= 0) {
			e = &t->entries[(uintptr_t)data];
		} else {
			struct sess_key rk;
			uint32_t tries;

			if (!create) {
				rc = -ENOENT;
				goto out;
			}
			if (t->n_free == 0) {
				s->st.table_full++;
				rc = -ENOSPC;
				goto out;
			}
			for (tries = 0; tries < 65535; tries++) {
				uint16_t id = t->next_id++;

				if (id == 0)
					continue;
				sess_key_make(&rk, k->family, k->proto, r->out_addr, id,
					      k->dst_addr, 0);
				if (rte_hash_lookup(t->rev, &rk) < 0)
					break;
			}
			if (tries == 65535) {
				s->st.port_exhausted++;
				rc = -ENOSPC;
				goto out;
			}
			idx = t->free_stack[--t->n_free];
			e = &t->entries[idx];
			memcpy(e->inside, k->src_addr, 16);
			e->inside_id = icmp_id;
			e->outside_id = rk.local_port;
			e->rule = (uint32_t)ri;
			if (rte_hash_add_key_data(t->fwd, &key, (void *)(uintptr_t)idx) < 0 ||
			    rte_hash_add_key_data(t->rev, &rk, (void *)(uintptr_t)idx) < 0) {
				rte_hash_del_key(t->fwd, &key);
				t->free_stack[t->n_free++] = idx;
				s->st.table_full++;
				rc = -ENOSPC;
				goto out;
			}
			s->st.created++;
		}
		if (create)
			e->last_ns = now_ns;
		memcpy(post->src_addr, r->out_addr, 16);
		*post_id = e->outside_id;
		*rule = e->rule + 1;
		rc = 1;
	} else if (is_echo == 2 && dpf_nat_is_masquerade_outside(s->nat, k->family, k->dst_addr)) {
		sess_key_make(&key, k->family, k->proto, k->dst_addr, icmp_id, k->src_addr, 0);
		if (rte_hash_lookup_data(t->rev, &key, &data) < 0) {
			if (create)
				s->st.no_session++;
			rc = -ENOENT;
			goto out;
		}
		struct icmp_entry *e = &t->entries[(uintptr_t)data];

		if (create)
			e->last_ns = now_ns;
		memcpy(post->dst_addr, e->inside, 16);
		*post_id = e->inside_id;
		*rule = e->rule + 1;
		rc = 1;
	}
out:
	rte_spinlock_unlock(&t->lock);
	return rc;
}

/*
 * Masquerade for TCP, UDP, SCTP. create: an outbound packet may open a
 * session and counts what it misses (false: ICMP errors only look up).
 */
static int
ports_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint64_t now_ns, bool create,
	    struct dpf_flow_nat *post, uint32_t *rule)
{
	struct sess_key key;
	struct session *se;
	int64_t ri;

	/* Inbound: a reply to one of our outside addresses. */
	if (dpf_nat_is_masquerade_outside(s->nat, k->family, k->dst_addr)) {
		sess_key_make(&key, k->family, k->proto, k->dst_addr, k->dst_port, k->src_addr,
			      k->src_port);
		se = find_rev(s, &key);
		if (se == NULL) {
			if (create)
				s->st.no_session++;
			return -ENOENT;
		}
		if (create)
			touch(s, se, now_ns);
		memcpy(post->dst_addr, se->fwd.local, 16);
		post->dst_port = se->fwd.local_port;
		*rule = se->rule + 1;
		return 1;
	}
	/* Outbound: only when no stateless rule already rewrote the source. */
	if (memcmp(post->src_addr, k->src_addr, 16) != 0 || post->src_port != k->src_port)
		return 0;
	ri = prefix_lookup(&s->nat->masq_in, k->family, k->src_addr);
	if (ri < 0)
		return 0;
	sess_key_make(&key, k->family, k->proto, k->src_addr, k->src_port, k->dst_addr,
		      k->dst_port);
	se = find_fwd(s, &key);
	if (se != NULL) {
		if (create)
			touch(s, se, now_ns);
		memcpy(post->src_addr, se->rev.local, 16);
		post->src_port = se->rev.local_port;
		*rule = se->rule + 1;
		return 1;
	} else {
		uint16_t oport;
		int rc;

		if (!create)
			return -ENOENT;
		rc = session_new(s, k, (uint32_t)ri, now_ns, &oport);
		if (rc < 0)
			return rc;
		memcpy(post->src_addr, s->nat->rules[ri].out_addr, 16);
		post->src_port = oport;
		*rule = (uint32_t)ri + 1;
		return 1;
	}
}

int
dpf_nat_sessions_apply(struct dpf_nat_sessions *s, const struct dpf_flow_key *k, uint8_t is_echo,
		       uint16_t icmp_id, uint64_t now_ns, struct dpf_flow_nat *post,
		       uint16_t *post_icmp_id, uint32_t *rule)
{
	*post_icmp_id = icmp_id;
	if (is_echo != 0)
		return icmp_apply(s, k, is_echo, icmp_id, now_ns, true, post, post_icmp_id, rule);
	if (!has_ports(k->proto))
		return 0;
	return ports_apply(s, k, now_ns, true, post, rule);
}

int
dpf_nat_icmp_error_view(const struct dpf_nat *nat, struct dpf_nat_sessions *s,
			const struct dpf_flow_key *outer, const struct dpf_flow_key *quoted,
			uint8_t quoted_echo, uint16_t quoted_id, struct dpf_flow_nat *outer_post,
			struct dpf_flow_nat *quoted_post, uint16_t *quoted_post_id, uint32_t *rule)
{
	struct dpf_flow_key r;
	struct dpf_flow_nat rpost;
	uint32_t sr = 0, dr = 0, mr = 0;
	uint16_t rid = quoted_id;
	int rc = 0;

	*quoted_post_id = quoted_id;
	*rule = 0;
	/* The quoted packet crossed the NAT the other way: it gets the inverse of
	 * its own translation, which is the translation of a reply to it. */
	memset(&r, 0, sizeof(r));
	r.family = quoted->family;
	r.proto = quoted->proto;
	memcpy(r.src_addr, quoted->dst_addr, 16);
	memcpy(r.dst_addr, quoted->src_addr, 16);
	r.src_port = quoted->dst_port;
	r.dst_port = quoted->src_port;
	dpf_nat_view(nat, &r, &rpost, &sr, &dr);
	if (s != NULL && nat != NULL && nat->has_masquerade) {
		if (quoted_echo != 0)
			/* A quoted request is answered by a reply, and the other way. */
			rc = icmp_apply(s, &r, quoted_echo == 1 ? 2 : 1, quoted_id, 0, false,
					&rpost, &rid, &mr);
		else if (has_ports(r.proto))
			rc = ports_apply(s, &r, 0, false, &rpost, &mr);
		if (rc < 0 && dpf_nat_is_masquerade_outside(nat, r.family, r.dst_addr))
			return -ENOENT;
		if (rc < 0)
			rc = 0;
	}
	memcpy(quoted_post->src_addr, rpost.dst_addr, 16);
	memcpy(quoted_post->dst_addr, rpost.src_addr, 16);
	quoted_post->src_port = rpost.dst_port;
	quoted_post->dst_port = rpost.src_port;
	*quoted_post_id = rid;

	/* The outer header: the message goes to the quoted packet's source, from
	 * its destination or from a node on the way (RFC 5508 4.2). */
	dpf_nat_view(nat, outer, outer_post, NULL, NULL);
	if (memcmp(outer->dst_addr, quoted->src_addr, 16) == 0)
		memcpy(outer_post->dst_addr, quoted_post->src_addr, 16);
	if (memcmp(outer->src_addr, quoted->dst_addr, 16) == 0)
		memcpy(outer_post->src_addr, quoted_post->dst_addr, 16);
	outer_post->src_port = outer_post->dst_port = 0;
	if (s != NULL && nat != NULL && nat->has_masquerade) {
		int64_t ri = prefix_lookup(&nat->masq_in, outer->family, outer->src_addr);

		/* RFC 5508 4.1: an error about a packet the NAT has no mapping for
		 * is dropped, from either side: to an outside address it would go
		 * nowhere, from inside it would show inside addresses. */
		if (dpf_nat_is_masquerade_outside(nat, outer->family, outer->dst_addr) &&
		    memcmp(outer_post->dst_addr, outer->dst_addr, 16) == 0)
			return -ENOENT;
		if (ri >= 0 && rc != 1 && sr == 0 && dr == 0)
			return -ENOENT;
		/* A router inside the prefix speaks with the outside address. */
		if (ri >= 0 && memcmp(outer_post->src_addr, outer->src_addr, 16) == 0)
			memcpy(outer_post->src_addr, nat->rules[ri].out_addr, 16);
	}
	*rule = mr != 0 ? mr : (sr != 0 ? sr : dr);
	if (memcmp(outer_post, outer->src_addr, 32) != 0 ||
	    memcmp(quoted_post->src_addr, quoted->src_addr, 16) != 0 ||
	    memcmp(quoted_post->dst_addr, quoted->dst_addr, 16) != 0 ||
	    quoted_post->src_port != quoted->src_port ||
	    quoted_post->dst_port != quoted->dst_port || rid != quoted_id)
		return 1;
	return 0;
}

int
dpf_nat_sessions_reset(struct dpf_nat_sessions *s, const struct dpf_nat *nat)
{
	uint32_t i;

	if (nat == NULL || nat->n_rules > MAX_RULES)
		return -E2BIG;
	if (s->group != NULL) {
		/* Other cores may be reading: one key at a time, through the grace period. */
		for (i = 0; i < s->capacity; i++)
			if (s->sess[i].used)
				session_unlink(s, i, true);
	} else {
		rte_hash_reset(s->fwd);
		rte_hash_reset(s->rev);
		for (i = 0; i < s->capacity; i++) {
			s->sess[i].used = 0;
			s->free_stack[i] = s->capacity - 1 - i;
		}
		s->n_free = s->capacity;
	}
	memset(s->cursor, 0, (MAX_RULES + 1) * sizeof(uint32_t));
	s->st.active = 0;
	s->nat = nat;
	if (s->icmp != NULL && s->queue == 0) {
		struct dpf_nat_icmp *t = s->icmp;

		rte_spinlock_lock(&t->lock);
		rte_hash_reset(t->fwd);
		rte_hash_reset(t->rev);
		for (i = 0; i < t->capacity; i++)
			t->free_stack[i] = t->capacity - 1 - i;
		t->n_free = t->capacity;
		rte_spinlock_unlock(&t->lock);
	}
	return 0;
}

uint32_t
dpf_nat_sessions_expire(struct dpf_nat_sessions *s, uint64_t now_ns)
{
	uint32_t i, n = 0;

	if (s->group != NULL)
		reclaim(s);
	for (i = 0; i < s->capacity; i++) {
		struct session *se = &s->sess[i];
		uint64_t last = __atomic_load_n(&se->last_ns, __ATOMIC_RELAXED);

		if (!se->used || now_ns < last || now_ns - last <= s->timeout_ns)
			continue;
		session_unlink(s, i, true);
		n++;
	}
	s->st.expired += n;
	s->st.active -= n;
	/* The shared ICMP table is expired by the core of queue 0. */
	if (s->icmp != NULL && s->queue == 0) {
		struct dpf_nat_icmp *t = s->icmp;

		const void *key;
		void *data;
		uint32_t it = 0;

		rte_spinlock_lock(&t->lock);
		/* Deleting the key just returned keeps the iteration valid. */
		while (rte_hash_iterate(t->rev, &key, &data, &it) >= 0) {
			struct icmp_entry *e = &t->entries[(uintptr_t)data];
			const struct sess_key *rk = key;
			struct sess_key fk, rk_copy;

			if (now_ns < e->last_ns || now_ns - e->last_ns <= s->timeout_ns)
				continue;
			rk_copy = *rk;
			sess_key_make(&fk, rk_copy.family, rk_copy.proto, e->inside, e->inside_id,
				      rk_copy.remote, 0);
			rte_hash_del_key(t->fwd, &fk);
			rte_hash_del_key(t->rev, &rk_copy);
			t->free_stack[t->n_free++] = (uint32_t)(uintptr_t)data;
		}
		rte_spinlock_unlock(&t->lock);
	}
	return n;
}

void
dpf_nat_sessions_get_stats(const struct dpf_nat_sessions *s, struct dpf_nat_sessions_stats *st)
{
	*st = s->st;
	st->retired = s->retired_n;
}
