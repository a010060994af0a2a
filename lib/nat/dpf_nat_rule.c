/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT rules as text (parse, format) and the checks a list of rules must pass
 * as a set before dpf_nat_create() builds lookups from it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nat_private.h"

#define MAX_TOKENS 8

/* "<cidr>": address and prefix length, host bits clear. */
static int
parse_cidr(const char *tok, uint8_t *addr, uint8_t *len, uint8_t *family, char *err, size_t err_len)
{
	int rc = dpf_cidr_parse(tok, addr, family, len);

	switch (rc) {
	case 0:
		break;
	case -ENAMETOOLONG:
		dpf_set_err(err, err_len, "'%s': not a prefix", tok);
		return -EINVAL;
	case -EINVAL:
		dpf_set_err(err, err_len, "'%s': not an IPv4 or IPv6 address", tok);
		return -EINVAL;
	default: /* -EDOM, -ERANGE */
		dpf_set_err(err, err_len, "'%s': prefix length must be 0..%u", tok,
			    *family == 4 ? 32 : 128);
		return -EINVAL;
	}
	if (dpf_prefix_has_host_bits(addr, *len)) {
		dpf_set_err(err, err_len, "'%s': host bits set beyond /%u", tok, *len);
		return -EINVAL;
	}
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (dpf_parse_u64(s, 65535, &v) < 0 || v == 0)
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
	if (dpf_addr_parse(a, addr, family) < 0)
		goto bad;
	if (parse_port(colon + 1, port) < 0) {
		dpf_set_err(err, err_len, "'%s': port must be 1..65535", tok);
		return -EINVAL;
	}
	return 0;
bad:
	dpf_set_err(err, err_len, "'%s': expected ADDR:PORT (IPv6 as [ADDR]:PORT)", tok);
	return -EINVAL;
}

/* "LO-HI" with 1 <= LO <= HI <= 65535. */
static int
parse_port_range(const char *tok, uint16_t *lo, uint16_t *hi, char *err, size_t err_len)
{
	char buf[64];
	char *dash;
	uint64_t a, b;

	if (strlen(tok) >= sizeof(buf))
		goto bad;
	strcpy(buf, tok);
	dash = strchr(buf, '-');
	if (dash == NULL)
		goto bad;
	*dash = '\0';
	if (dpf_parse_u64(buf, 65535, &a) < 0 || dpf_parse_u64(dash + 1, 65535, &b) < 0 || a < 1 ||
	    a > b)
		goto bad;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
bad:
	dpf_set_err(err, err_len, "'%s': port range must be LO-HI with 1 <= LO <= HI <= 65535",
		    tok);
	return -EINVAL;
}

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

static int
same_family(uint8_t a, uint8_t b, const char *ta, const char *tb, char *err, size_t err_len)
{
	if (a == b)
		return 0;
	dpf_set_err(err, err_len, "'%s' and '%s' are of different families", ta, tb);
	return -EINVAL;
}

static int
parse_static(char **tok, int n, struct dpf_nat_rule *r, char *err, size_t err_len)
{
	uint8_t fam2;

	if (n != 3) {
		dpf_set_err(err, err_len, "expected 'static <inside-cidr> <outside-cidr>'");
		return -EINVAL;
	}
	r->type = DPF_NAT_STATIC;
	if (parse_cidr(tok[1], r->in_addr, &r->in_len, &r->family, err, err_len) < 0 ||
	    parse_cidr(tok[2], r->out_addr, &r->out_len, &fam2, err, err_len) < 0 ||
	    same_family(r->family, fam2, tok[1], tok[2], err, err_len) < 0)
		return -EINVAL;
	if (r->in_len != r->out_len) {
		dpf_set_err(err, err_len, "static needs prefixes of the same length: /%u and /%u",
			    r->in_len, r->out_len);
		return -EINVAL;
	}
	return 0;
}

static int
parse_dnat(char **tok, int n, struct dpf_nat_rule *r, char *err, size_t err_len)
{
	uint8_t fam2;
	int proto;

	if (n != 4) {
		dpf_set_err(err, err_len,
			    "expected 'dnat <tcp|udp|sctp> <addr>:<port> <to-addr>:<port>'");
		return -EINVAL;
	}
	r->type = DPF_NAT_DNAT;
	proto = dpf_proto_by_name(tok[1], false);
	if (proto < 0 || !nat_has_ports((uint8_t)proto)) {
		dpf_set_err(err, err_len, "'%s': dnat protocol must be tcp, udp or sctp", tok[1]);
		return -EINVAL;
	}
	r->proto = (uint8_t)proto;
	if (parse_addr_port(tok[2], r->out_addr, &r->family, &r->out_port, err, err_len) < 0 ||
	    parse_addr_port(tok[3], r->in_addr, &fam2, &r->in_port, err, err_len) < 0 ||
	    same_family(r->family, fam2, tok[2], tok[3], err, err_len) < 0)
		return -EINVAL;
	return 0;
}

static int
parse_masquerade(char **tok, int n, struct dpf_nat_rule *r, char *err, size_t err_len)
{
	uint8_t len, fam2;

	if (n != 3 && n != 4) {
		dpf_set_err(err, err_len,
			    "expected 'masquerade <inside-cidr> <outside-addr> [<lo>-<hi>]'");
		return -EINVAL;
	}
	r->type = DPF_NAT_MASQUERADE;
	if (parse_cidr(tok[1], r->in_addr, &r->in_len, &r->family, err, err_len) < 0 ||
	    parse_cidr(tok[2], r->out_addr, &len, &fam2, err, err_len) < 0)
		return -EINVAL;
	if (len != (fam2 == 4 ? 32 : 128)) {
		dpf_set_err(err, err_len, "'%s': the outside must be one address", tok[2]);
		return -EINVAL;
	}
	if (same_family(r->family, fam2, tok[1], tok[2], err, err_len) < 0)
		return -EINVAL;
	r->port_lo = 1024;
	r->port_hi = 65535;
	if (n == 4)
		return parse_port_range(tok[3], &r->port_lo, &r->port_hi, err, err_len);
	return 0;
}

int
dpf_nat_rule_parse(const char *text, struct dpf_nat_rule *r, char *err, size_t err_len)
{
	char buf[256];
	char *tok[MAX_TOKENS];
	int n;

	memset(r, 0, sizeof(*r));
	if (strlen(text) >= sizeof(buf)) {
		dpf_set_err(err, err_len, "rule too long");
		return -EINVAL;
	}
	strcpy(buf, text);
	n = split(buf, tok);
	if (n == 0) {
		dpf_set_err(err, err_len, "empty rule");
		return -EINVAL;
	}
	if (strcmp(tok[0], "static") == 0)
		return parse_static(tok, n, r, err, err_len);
	if (strcmp(tok[0], "dnat") == 0)
		return parse_dnat(tok, n, r, err, err_len);
	if (strcmp(tok[0], "masquerade") == 0)
		return parse_masquerade(tok, n, r, err, err_len);
	dpf_set_err(err, err_len, "'%s': unknown NAT rule (static, dnat, masquerade)", tok[0]);
	return -EINVAL;
}

int
dpf_nat_rule_format(const struct dpf_nat_rule *r, char *buf, size_t len)
{
	char a[DPF_ADDR_TEXT_MAX], b[DPF_ADDR_TEXT_MAX];
	const char *proto = dpf_proto_name(r->proto);
	int n;

	dpf_addr_format(r->family, r->in_addr, a, sizeof(a));
	dpf_addr_format(r->family, r->out_addr, b, sizeof(b));
	switch (r->type) {
	case DPF_NAT_STATIC:
		n = snprintf(buf, len, "static %s/%u %s/%u", a, r->in_len, b, r->out_len);
		break;
	case DPF_NAT_DNAT:
		if (proto == NULL || !nat_has_ports(r->proto))
			return -EINVAL;
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

/* Two prefixes overlap when they agree on the shorter one's bits. */
static bool
prefixes_overlap(const uint8_t *a, unsigned int alen, const uint8_t *b, unsigned int blen)
{
	return dpf_prefix_match(a, b, alen < blen ? alen : blen);
}

/* The conflict between rule a (index i) and an earlier rule b (index j), if any. */
static int
check_pair(const struct dpf_nat_rule *a, uint32_t i, const struct dpf_nat_rule *b, uint32_t j,
	   char *err, size_t err_len)
{
	if (a->family != b->family)
		return 0;
	if (a->type == DPF_NAT_STATIC && b->type == DPF_NAT_STATIC) {
		if (prefixes_overlap(a->in_addr, a->in_len, b->in_addr, b->in_len)) {
			dpf_set_err(err, err_len,
				    "rule %u: static inside prefix overlaps rule %u's", i + 1,
				    j + 1);
			return -EINVAL;
		}
		if (prefixes_overlap(a->out_addr, a->out_len, b->out_addr, b->out_len)) {
			dpf_set_err(err, err_len,
				    "rule %u: static outside prefix overlaps rule %u's", i + 1,
				    j + 1);
			return -EINVAL;
		}
	}
	if (a->type == DPF_NAT_DNAT && b->type == DPF_NAT_DNAT && a->proto == b->proto &&
	    a->out_port == b->out_port && memcmp(a->out_addr, b->out_addr, 16) == 0) {
		dpf_set_err(err, err_len, "rule %u: same public address and port as rule %u", i + 1,
			    j + 1);
		return -EINVAL;
	}
	if (a->type == DPF_NAT_MASQUERADE && b->type != DPF_NAT_DNAT &&
	    prefixes_overlap(a->in_addr, a->in_len, b->in_addr, b->in_len)) {
		dpf_set_err(err, err_len, "rule %u: masquerade inside prefix overlaps rule %u's",
			    i + 1, j + 1);
		return -EINVAL;
	}
	if (b->type == DPF_NAT_MASQUERADE && a->type == DPF_NAT_STATIC &&
	    prefixes_overlap(a->in_addr, a->in_len, b->in_addr, b->in_len)) {
		dpf_set_err(err, err_len, "rule %u: static inside prefix overlaps rule %u's", i + 1,
			    j + 1);
		return -EINVAL;
	}
	return 0;
}

int
nat_rules_validate(const struct dpf_nat_rule *rules, uint32_t n, char *err, size_t err_len)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		const struct dpf_nat_rule *a = &rules[i];

		if (a->type < DPF_NAT_STATIC || a->type > DPF_NAT_MASQUERADE ||
		    (a->family != 4 && a->family != 6)) {
			dpf_set_err(err, err_len, "rule %u: not a parsed rule", i + 1);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (check_pair(a, i, &rules[j], j, err, err_len) < 0)
				return -EINVAL;
	}
	return 0;
}
