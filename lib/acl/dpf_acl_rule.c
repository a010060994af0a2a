/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ACL rules as text: parse, check and format (the classifier that matches
 * packets against them is dpf_acl.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "dpf_acl.h"
#include "dpf_util.h"

/* Longest token the parser copies; anything longer is no valid token. */
#define TOKEN_MAX 64
#define N_TOKENS 6
enum { TOK_ACTION, TOK_PROTO, TOK_SRC, TOK_SPORT, TOK_DST, TOK_DPORT };

static const char *const token_names[N_TOKENS] = {
	"action", "proto", "src", "sport", "dst", "dport",
};

static bool
proto_has_ports(uint8_t proto)
{
	return proto == 0 || proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static uint8_t
max_prefix(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

static int
parse_action(const char *tok, struct dpf_acl_rule *r, char *err, size_t err_len)
{
	if (strcmp(tok, "allow") == 0) {
		r->action = DPF_ACTION_ACCEPT;
		return 0;
	}
	if (strcmp(tok, "deny") == 0) {
		r->action = DPF_ACTION_REJECT;
		return 0;
	}
	dpf_set_err(err, err_len, "action '%s': unknown action (allow or deny)", tok);
	return -EINVAL;
}

static int
parse_proto(const char *tok, struct dpf_acl_rule *r, char *err, size_t err_len)
{
	int rc;

	if (strcmp(tok, "any") == 0) {
		r->proto = 0;
		return 0;
	}
	rc = dpf_proto_parse(tok, false, &r->proto);
	if (rc == -ERANGE) {
		dpf_set_err(err, err_len, "proto '%s': protocol number above 255", tok);
		return -EINVAL;
	}
	if (rc < 0) {
		dpf_set_err(err, err_len,
			    "proto '%s': unknown protocol (any, tcp, udp, icmp, icmpv6, sctp, gre, "
			    "esp or 0..255)",
			    tok);
		return -EINVAL;
	}
	return 0;
}

/* "any", an address, or address/len. *family: 0 for any, else 4 or 6. */
static int
parse_cidr(int which, const char *tok, uint8_t *family, uint8_t *addr, uint8_t *len, char *err,
	   size_t err_len)
{
	const char *field = token_names[which];
	uint8_t prefix[16];
	char ptext[DPF_ADDR_TEXT_MAX];
	int rc;

	memset(addr, 0, 16);
	if (strcmp(tok, "any") == 0) {
		*family = 0;
		*len = 0;
		return 0;
	}
	rc = dpf_cidr_parse(tok, addr, family, len);
	if (rc == -ERANGE) {
		dpf_set_err(err, err_len, "%s '%s': prefix length above %u", field, tok,
			    max_prefix(*family));
		return -EINVAL;
	}
	if (rc == -EDOM) {
		dpf_set_err(err, err_len, "%s '%s': prefix length is not a number", field, tok);
		return -EINVAL;
	}
	if (rc < 0) {
		dpf_set_err(err, err_len, "%s '%s': not an IPv4 or IPv6 address, prefix or any",
			    field, tok);
		return -EINVAL;
	}
	if (dpf_prefix_has_host_bits(addr, *len)) {
		memcpy(prefix, addr, sizeof(prefix));
		dpf_prefix_mask(prefix, *len);
		dpf_set_err(err, err_len, "%s '%s': host bits set (prefix is %s/%u)", field, tok,
			    dpf_addr_format(*family, prefix, ptext, sizeof(ptext)), *len);
		return -EINVAL;
	}
	return 0;
}

/* "any", "N" or "N-M". */
static int
parse_range(int which, const char *tok, uint16_t *lo, uint16_t *hi, char *err, size_t err_len)
{
	const char *field = token_names[which];
	char text[TOKEN_MAX];
	char *dash;
	uint64_t a, b;
	int rc;

	if (strcmp(tok, "any") == 0) {
		*lo = 0;
		*hi = UINT16_MAX;
		return 0;
	}
	snprintf(text, sizeof(text), "%s", tok);
	dash = strchr(text, '-');
	if (dash != NULL)
		*dash = '\0';
	rc = dpf_parse_u64(text, UINT16_MAX, &a);
	if (rc == 0) {
		b = a;
		if (dash != NULL)
			rc = dpf_parse_u64(dash + 1, UINT16_MAX, &b);
	}
	if (rc == -ERANGE) {
		dpf_set_err(err, err_len, "%s '%s': port above 65535", field, tok);
		return -EINVAL;
	}
	if (rc < 0) {
		dpf_set_err(err, err_len, "%s '%s': not a port, a range N-M or any", field, tok);
		return -EINVAL;
	}
	if (a > b) {
		dpf_set_err(err, err_len, "%s '%s': range start above its end", field, tok);
		return -EINVAL;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static bool
range_is_any(uint16_t lo, uint16_t hi)
{
	return lo == 0 && hi == UINT16_MAX;
}

static const char *
family_name(uint8_t family)
{
	return family == 4 ? "IPv4" : "IPv6";
}

int
dpf_acl_rule_parse(const char *text, struct dpf_acl_rule *r, char *err, size_t err_len)
{
	char tok[N_TOKENS][TOKEN_MAX];
	struct dpf_acl_rule rule;
	uint8_t src_family, dst_family;
	const char *p;
	unsigned int n = 0;
	size_t len;

	dpf_set_err(err, err_len, "%s", "");
	if (text == NULL || r == NULL) {
		dpf_set_err(err, err_len, "no rule");
		return -EINVAL;
	}
	for (p = text;; p += len) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t\r\n");
		if (n == N_TOKENS) {
			dpf_set_err(err, err_len, "unexpected token '%.*s' after dport",
				    (int)RTE_MIN(len, (size_t)TOKEN_MAX), p);
			return -EINVAL;
		}
		if (len >= TOKEN_MAX) {
			dpf_set_err(err, err_len, "%s '%.*s...': token too long", token_names[n],
				    TOKEN_MAX - 1, p);
			return -EINVAL;
		}
		memcpy(tok[n], p, len);
		tok[n][len] = '\0';
		n++;
	}
	if (n < N_TOKENS) {
		dpf_set_err(err, err_len,
			    "missing %s (expected: allow|deny <proto> <src> <sport> <dst> <dport>)",
			    token_names[n]);
		return -EINVAL;
	}

	memset(&rule, 0, sizeof(rule));
	if (parse_action(tok[TOK_ACTION], &rule, err, err_len) < 0 ||
	    parse_proto(tok[TOK_PROTO], &rule, err, err_len) < 0 ||
	    parse_cidr(TOK_SRC, tok[TOK_SRC], &src_family, rule.src_addr, &rule.src_len, err,
		       err_len) < 0 ||
	    parse_range(TOK_SPORT, tok[TOK_SPORT], &rule.sport_lo, &rule.sport_hi, err, err_len) <
		    0 ||
	    parse_cidr(TOK_DST, tok[TOK_DST], &dst_family, rule.dst_addr, &rule.dst_len, err,
		       err_len) < 0 ||
	    parse_range(TOK_DPORT, tok[TOK_DPORT], &rule.dport_lo, &rule.dport_hi, err, err_len) <
		    0)
		return -EINVAL;
	if (src_family != 0 && dst_family != 0 && src_family != dst_family) {
		dpf_set_err(err, err_len, "dst '%s': %s address in a rule whose src '%s' is %s",
			    tok[TOK_DST], family_name(dst_family), tok[TOK_SRC],
			    family_name(src_family));
		return -EINVAL;
	}
	rule.family = src_family != 0 ? src_family : dst_family;
	if (!proto_has_ports(rule.proto)) {
		int which = !range_is_any(rule.sport_lo, rule.sport_hi)	  ? TOK_SPORT
			    : !range_is_any(rule.dport_lo, rule.dport_hi) ? TOK_DPORT
									  : -1;

		if (which >= 0) {
			dpf_set_err(err, err_len, "%s '%s': protocol %s has no ports (use any)",
				    token_names[which], tok[which], tok[TOK_PROTO]);
			return -EINVAL;
		}
	}
	*r = rule;
	return 0;
}

static int
check_addr(const char *field, uint8_t family, const uint8_t *addr, uint8_t len, char *err,
	   size_t err_len)
{
	static const uint8_t zero[16];

	if (family == 0) {
		if (len != 0 || memcmp(addr, zero, sizeof(zero)) != 0) {
			dpf_set_err(err, err_len, "%s: an address in a rule of family 0 (both)",
				    field);
			return -EINVAL;
		}
		return 0;
	}
	if (len > max_prefix(family)) {
		dpf_set_err(err, err_len, "%s: prefix length %u above %u", field, len,
			    max_prefix(family));
		return -EINVAL;
	}
	if (family == 4 && memcmp(addr + 4, zero, 12) != 0) {
		dpf_set_err(err, err_len, "%s: IPv4 address with bytes 4..15 not zero", field);
		return -EINVAL;
	}
	if (dpf_prefix_has_host_bits(addr, len)) {
		dpf_set_err(err, err_len, "%s: host bits set past /%u", field, len);
		return -EINVAL;
	}
	return 0;
}

int
dpf_acl_rule_check(const struct dpf_acl_rule *r, char *err, size_t err_len)
{
	dpf_set_err(err, err_len, "%s", "");
	if (r == NULL) {
		dpf_set_err(err, err_len, "no rule");
		return -EINVAL;
	}
	if (r->action != DPF_ACTION_ACCEPT && r->action != DPF_ACTION_REJECT) {
		dpf_set_err(err, err_len, "action: %u is neither accept (0) nor reject (1)",
			    r->action);
		return -EINVAL;
	}
	if (r->family != 0 && r->family != 4 && r->family != 6) {
		dpf_set_err(err, err_len, "family: %u is not 0, 4 or 6", r->family);
		return -EINVAL;
	}
	if (check_addr("src", r->family, r->src_addr, r->src_len, err, err_len) < 0 ||
	    check_addr("dst", r->family, r->dst_addr, r->dst_len, err, err_len) < 0)
		return -EINVAL;
	if (r->sport_lo > r->sport_hi || r->dport_lo > r->dport_hi) {
		dpf_set_err(err, err_len, "%s: range start above its end",
			    r->sport_lo > r->sport_hi ? "sport" : "dport");
		return -EINVAL;
	}
	if (!proto_has_ports(r->proto) &&
	    (!range_is_any(r->sport_lo, r->sport_hi) || !range_is_any(r->dport_lo, r->dport_hi))) {
		dpf_set_err(err, err_len, "%s: protocol %u has no ports",
			    !range_is_any(r->sport_lo, r->sport_hi) ? "sport" : "dport", r->proto);
		return -EINVAL;
	}
	return 0;
}

static void
cidr_to_text(uint8_t family, const uint8_t *addr, uint8_t len, bool force, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (family == 0 || (len == 0 && !force)) {
		snprintf(buf, size, "any");
		return;
	}
	snprintf(buf, size, "%s/%u", dpf_addr_format(family, addr, a, sizeof(a)), len);
}

static void
range_to_text(uint16_t lo, uint16_t hi, char *buf, size_t size)
{
	if (range_is_any(lo, hi))
		snprintf(buf, size, "any");
	else if (lo == hi)
		snprintf(buf, size, "%u", lo);
	else
		snprintf(buf, size, "%u-%u", lo, hi);
}

int
dpf_acl_rule_format(const struct dpf_acl_rule *r, char *buf, size_t len)
{
	char proto[8], src[INET6_ADDRSTRLEN + 4], dst[INET6_ADDRSTRLEN + 4];
	char sport[12], dport[12];
	const char *pname;
	int n;

	if (buf == NULL || dpf_acl_rule_check(r, NULL, 0) < 0)
		return -EINVAL;
	pname = r->proto == 0 ? "any" : dpf_proto_name(r->proto);
	if (pname != NULL)
		snprintf(proto, sizeof(proto), "%s", pname);
	else
		snprintf(proto, sizeof(proto), "%u", r->proto);
	/* A one-family rule without addresses keeps its family through src. */
	cidr_to_text(r->family, r->src_addr, r->src_len, r->src_len == 0 && r->dst_len == 0, src,
		     sizeof(src));
	cidr_to_text(r->family, r->dst_addr, r->dst_len, false, dst, sizeof(dst));
	range_to_text(r->sport_lo, r->sport_hi, sport, sizeof(sport));
	range_to_text(r->dport_lo, r->dport_hi, dport, sizeof(dport));
	n = snprintf(buf, len, "%s %s %s %s %s %s",
		     r->action == DPF_ACTION_ACCEPT ? "allow" : "deny", proto, src, sport, dst,
		     dport);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}
