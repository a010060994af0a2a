/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dpf_acl.h"

/* Longest token the parser copies; anything longer is no valid token. */
#define TOKEN_MAX 64
#define N_TOKENS 6
/* Name attempts before giving up on finding an unused context name. */
#define NAME_ATTEMPTS 16

enum { TOK_ACTION, TOK_PROTO, TOK_SRC, TOK_SPORT, TOK_DST, TOK_DPORT };

static const char *const token_names[N_TOKENS] = {
	"action", "proto", "src", "sport", "dst", "dport",
};

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	/* The first name of a number is the one dpf_acl_rule_format() prints. */
	{"any", 0},	   {"tcp", 6},	  {"udp", 17}, {"icmp", 1}, {"icmpv6", 58},
	{"ipv6-icmp", 58}, {"sctp", 132}, {"gre", 47}, {"esp", 50},
};

/* Process-wide counter that makes rte_acl and rte_hash names unique. */
static uint32_t name_generation;

static void set_err(char *err, size_t err_len, const char *fmt, ...) __rte_format_printf(3, 4);

static void
set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static bool
proto_has_ports(uint8_t proto)
{
	return proto == 0 || proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static const char *
proto_name(uint8_t proto)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(proto_names); i++)
		if (proto_names[i].proto == proto)
			return proto_names[i].name;
	return NULL;
}

/* Decimal without sign or blanks. 0, -EINVAL (not a number) or -ERANGE (> max). */
static int
parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max) {
			/* Keep checking that the rest is digits: "70000x" is not a number. */
			while (*s >= '0' && *s <= '9')
				s++;
			return *s == '\0' ? -ERANGE : -EINVAL;
		}
	}
	*out = (uint32_t)v;
	return 0;
}

static uint8_t
addr_bytes(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static uint8_t
max_prefix(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

/* True when addr has a bit set past the first len bits of its family's width. */
static bool
host_bits_set(const uint8_t *addr, uint8_t family, uint8_t len)
{
	unsigned int i;

	for (i = len / 8; i < addr_bytes(family); i++) {
		uint8_t keep = i == len / 8u ? (uint8_t)(0xff00 >> (len % 8)) : 0;

		if ((addr[i] & (uint8_t)~keep) != 0)
			return true;
	}
	return false;
}

static void
clear_host_bits(uint8_t *addr, uint8_t family, uint8_t len)
{
	unsigned int i;

	for (i = len / 8; i < addr_bytes(family); i++)
		addr[i] &= i == len / 8u ? (uint8_t)(0xff00 >> (len % 8)) : 0;
}

static void
addr_to_text(const uint8_t *addr, uint8_t family, char *buf, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
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
	set_err(err, err_len, "action '%s': unknown action (allow or deny)", tok);
	return -EINVAL;
}

static int
parse_proto(const char *tok, struct dpf_acl_rule *r, char *err, size_t err_len)
{
	unsigned int i;
	uint32_t v;
	int rc;

	for (i = 0; i < RTE_DIM(proto_names); i++) {
		if (strcmp(tok, proto_names[i].name) == 0) {
			r->proto = proto_names[i].proto;
			return 0;
		}
	}
	rc = parse_uint(tok, UINT8_MAX, &v);
	if (rc == -ERANGE) {
		set_err(err, err_len, "proto '%s': protocol number above 255", tok);
		return -EINVAL;
	}
	if (rc < 0) {
		set_err(err, err_len,
			"proto '%s': unknown protocol (any, tcp, udp, icmp, icmpv6, sctp, gre, "
			"esp or 0..255)",
			tok);
		return -EINVAL;
	}
	r->proto = (uint8_t)v;
	return 0;
}

/* "any", an address, or address/len. *family: 0 for any, else 4 or 6. */
static int
parse_cidr(int which, const char *tok, uint8_t *family, uint8_t *addr, uint8_t *len, char *err,
	   size_t err_len)
{
	const char *field = token_names[which];
	char text[TOKEN_MAX];
	char *slash;
	uint32_t v;
	int rc;

	memset(addr, 0, 16);
	if (strcmp(tok, "any") == 0) {
		*family = 0;
		*len = 0;
		return 0;
	}
	snprintf(text, sizeof(text), "%s", tok);
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	*family = strchr(text, ':') != NULL ? 6 : 4;
	if (inet_pton(*family == 4 ? AF_INET : AF_INET6, text, addr) != 1) {
		set_err(err, err_len, "%s '%s': not an IPv4 or IPv6 address, prefix or any", field,
			tok);
		return -EINVAL;
	}
	if (slash == NULL) {
		*len = max_prefix(*family);
		return 0;
	}
	rc = parse_uint(slash + 1, max_prefix(*family), &v);
	if (rc == -ERANGE) {
		set_err(err, err_len, "%s '%s': prefix length above %u", field, tok,
			max_prefix(*family));
		return -EINVAL;
	}
	if (rc < 0) {
		set_err(err, err_len, "%s '%s': prefix length is not a number", field, tok);
		return -EINVAL;
	}
	*len = (uint8_t)v;
	if (host_bits_set(addr, *family, *len)) {
		uint8_t prefix[16];
		char ptext[INET6_ADDRSTRLEN];

		memcpy(prefix, addr, sizeof(prefix));
		clear_host_bits(prefix, *family, *len);
		addr_to_text(prefix, *family, ptext, sizeof(ptext));
		set_err(err, err_len, "%s '%s': host bits set (prefix is %s/%u)", field, tok, ptext,
			*len);
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
	uint32_t a, b;
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
	rc = parse_uint(text, UINT16_MAX, &a);
	if (rc == 0) {
		b = a;
		if (dash != NULL)
			rc = parse_uint(dash + 1, UINT16_MAX, &b);
	}
	if (rc == -ERANGE) {
		set_err(err, err_len, "%s '%s': port above 65535", field, tok);
		return -EINVAL;
	}
	if (rc < 0) {
		set_err(err, err_len, "%s '%s': not a port, a range N-M or any", field, tok);
		return -EINVAL;
	}
	if (a > b) {
		set_err(err, err_len, "%s '%s': range start above its end", field, tok);
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

	set_err(err, err_len, "%s", "");
	if (text == NULL || r == NULL) {
		set_err(err, err_len, "no rule");
		return -EINVAL;
	}
	for (p = text;; p += len) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t\r\n");
		if (n == N_TOKENS) {
			set_err(err, err_len, "unexpected token '%.*s' after dport",
				(int)RTE_MIN(len, (size_t)TOKEN_MAX), p);
			return -EINVAL;
		}
		if (len >= TOKEN_MAX) {
			set_err(err, err_len, "%s '%.*s...': token too long", token_names[n],
				TOKEN_MAX - 1, p);
			return -EINVAL;
		}
		memcpy(tok[n], p, len);
		tok[n][len] = '\0';
		n++;
	}
	if (n < N_TOKENS) {
		set_err(err, err_len,
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
		set_err(err, err_len, "dst '%s': %s address in a rule whose src '%s' is %s",
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
			set_err(err, err_len, "%s '%s': protocol %s has no ports (use any)",
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
			set_err(err, err_len, "%s: an address in a rule of family 0 (both)", field);
			return -EINVAL;
		}
		return 0;
	}
	if (len > max_prefix(family)) {
		set_err(err, err_len, "%s: prefix length %u above %u", field, len,
			max_prefix(family));
		return -EINVAL;
	}
	if (family == 4 && memcmp(addr + 4, zero, 12) != 0) {
		set_err(err, err_len, "%s: IPv4 address with bytes 4..15 not zero", field);
		return -EINVAL;
	}
	if (host_bits_set(addr, family, len)) {
		set_err(err, err_len, "%s: host bits set past /%u", field, len);
		return -EINVAL;
	}
	return 0;
}

int
dpf_acl_rule_check(const struct dpf_acl_rule *r, char *err, size_t err_len)
{
	set_err(err, err_len, "%s", "");
	if (r == NULL) {
		set_err(err, err_len, "no rule");
		return -EINVAL;
	}
	if (r->action != DPF_ACTION_ACCEPT && r->action != DPF_ACTION_REJECT) {
		set_err(err, err_len, "action: %u is neither accept (0) nor reject (1)", r->action);
		return -EINVAL;
	}
	if (r->family != 0 && r->family != 4 && r->family != 6) {
		set_err(err, err_len, "family: %u is not 0, 4 or 6", r->family);
		return -EINVAL;
	}
	if (check_addr("src", r->family, r->src_addr, r->src_len, err, err_len) < 0 ||
	    check_addr("dst", r->family, r->dst_addr, r->dst_len, err, err_len) < 0)
		return -EINVAL;
	if (r->sport_lo > r->sport_hi || r->dport_lo > r->dport_hi) {
		set_err(err, err_len, "%s: range start above its end",
			r->sport_lo > r->sport_hi ? "sport" : "dport");
		return -EINVAL;
	}
	if (!proto_has_ports(r->proto) &&
	    (!range_is_any(r->sport_lo, r->sport_hi) || !range_is_any(r->dport_lo, r->dport_hi))) {
		set_err(err, err_len, "%s: protocol %u has no ports",
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
	addr_to_text(addr, family, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, len);
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
	pname = proto_name(r->proto);
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

/*
 * rte_acl search tuples. The first field is one byte (the classifier reads it
 * on its own); every later input index covers 4 consecutive bytes, which is
 * why both ports share one. Values are in network byte order.
 */
struct acl_v4_tuple {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
};

struct acl_v6_tuple {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
};

enum { V4_PROTO, V4_SRC, V4_DST, V4_SPORT, V4_DPORT, V4_FIELDS };
enum { V6_PROTO, V6_SRC0, V6_DST0 = V6_SRC0 + 4, V6_SPORT = V6_DST0 + 4, V6_DPORT, V6_FIELDS };

RTE_ACL_RULE_DEF(acl_rule_buf, V6_FIELDS);

static void
field_defs(uint8_t family, struct rte_acl_config *cfg)
{
	struct rte_acl_field_def *d = cfg->defs;
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->num_categories = 1;
	if (family == 4) {
		cfg->num_fields = V4_FIELDS;
		d[V4_PROTO] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_BITMASK,
			.size = sizeof(uint8_t),
			.field_index = V4_PROTO,
			.input_index = 0,
			.offset = offsetof(struct acl_v4_tuple, proto),
		};
		d[V4_SRC] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK,
			.size = sizeof(uint32_t),
			.field_index = V4_SRC,
			.input_index = 1,
			.offset = offsetof(struct acl_v4_tuple, src),
		};
		d[V4_DST] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK,
			.size = sizeof(uint32_t),
			.field_index = V4_DST,
			.input_index = 2,
			.offset = offsetof(struct acl_v4_tuple, dst),
		};
		d[V4_SPORT] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_RANGE,
			.size = sizeof(uint16_t),
			.field_index = V4_SPORT,
			.input_index = 3,
			.offset = offsetof(struct acl_v4_tuple, sport),
		};
		d[V4_DPORT] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_RANGE,
			.size = sizeof(uint16_t),
			.field_index = V4_DPORT,
			.input_index = 3,
			.offset = offsetof(struct acl_v4_tuple, dport),
		};
		return;
	}
	cfg->num_fields = V6_FIELDS;
	d[V6_PROTO] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_BITMASK,
		.size = sizeof(uint8_t),
		.field_index = V6_PROTO,
		.input_index = 0,
		.offset = offsetof(struct acl_v6_tuple, proto),
	};
	for (i = 0; i < 4; i++) {
		d[V6_SRC0 + i] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK,
			.size = sizeof(uint32_t),
			.field_index = (uint8_t)(V6_SRC0 + i),
			.input_index = (uint8_t)(1 + i),
			.offset = (uint32_t)(offsetof(struct acl_v6_tuple, src) + 4 * i),
		};
		d[V6_DST0 + i] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK,
			.size = sizeof(uint32_t),
			.field_index = (uint8_t)(V6_DST0 + i),
			.input_index = (uint8_t)(5 + i),
			.offset = (uint32_t)(offsetof(struct acl_v6_tuple, dst) + 4 * i),
		};
	}
	d[V6_SPORT] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_RANGE,
		.size = sizeof(uint16_t),
		.field_index = V6_SPORT,
		.input_index = 9,
		.offset = offsetof(struct acl_v6_tuple, sport),
	};
	d[V6_DPORT] = (struct rte_acl_field_def){
		.type = RTE_ACL_FIELD_TYPE_RANGE,
		.size = sizeof(uint16_t),
		.field_index = V6_DPORT,
		.input_index = 9,
		.offset = offsetof(struct acl_v6_tuple, dport),
	};
}

/* Host-order 32-bit word w of an address and the part of a prefix inside it. */
static void
addr_word(struct rte_acl_field *f, const uint8_t *addr, uint8_t len, unsigned int w)
{
	uint32_t be;
	int bits = (int)len - 32 * (int)w;

	memcpy(&be, addr + 4 * w, sizeof(be));
	f->value.u32 = rte_be_to_cpu_32(be);
	if (bits <= 0)
		f->mask_range.u32 = 0;
	else
		f->mask_range.u32 = bits >= 32 ? 32 : (uint32_t)bits;
}

static void
rule_to_acl(const struct dpf_acl_rule *r, uint8_t family, uint32_t i, uint32_t n,
	    struct acl_rule_buf *ar)
{
	struct rte_acl_field *f = ar->field;
	unsigned int w;

	memset(ar, 0, sizeof(*ar));
	ar->data.category_mask = 1;
	ar->data.priority = (int32_t)(n - i);
	ar->data.userdata = i + 1;
	f[0].value.u8 = r->proto;
	f[0].mask_range.u8 = r->proto != 0 ? 0xff : 0;
	if (family == 4) {
		addr_word(&f[V4_SRC], r->src_addr, r->src_len, 0);
		addr_word(&f[V4_DST], r->dst_addr, r->dst_len, 0);
		f[V4_SPORT].value.u16 = r->sport_lo;
		f[V4_SPORT].mask_range.u16 = r->sport_hi;
		f[V4_DPORT].value.u16 = r->dport_lo;
		f[V4_DPORT].mask_range.u16 = r->dport_hi;
		return;
	}
	for (w = 0; w < 4; w++) {
		addr_word(&f[V6_SRC0 + w], r->src_addr, r->src_len, w);
		addr_word(&f[V6_DST0 + w], r->dst_addr, r->dst_len, w);
	}
	f[V6_SPORT].value.u16 = r->sport_lo;
	f[V6_SPORT].mask_range.u16 = r->sport_hi;
	f[V6_DPORT].value.u16 = r->dport_lo;
	f[V6_DPORT].mask_range.u16 = r->dport_hi;
}

/*
 * "<tag><generation>-<name>": the generation comes first so that names cut
 * to size stay unique.
 */
static void
unique_name(char *buf, size_t size, const char *tag, const char *name)
{
	uint32_t gen = __atomic_fetch_add(&name_generation, 1, __ATOMIC_RELAXED);
	int n = snprintf(buf, size, "%s%u-", tag, gen);

	if (n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "%s", name);
}

struct dpf_acl {
	struct rte_acl_ctx *ctx4; /* NULL when no rule applies to IPv4 */
	struct rte_acl_ctx *ctx6;
	uint32_t n_rules;
	uint8_t default_action;
	struct dpf_acl_rule rules[];
};

/* 0 and *out (NULL when no rule applies to the family), or a positive errno. */
static int
build_family(const struct dpf_acl_params *p, uint8_t family, struct rte_acl_ctx **out)
{
	struct rte_acl_param ap;
	struct rte_acl_config cfg;
	struct rte_acl_ctx *ctx;
	struct acl_rule_buf ar;
	char name[RTE_ACL_NAMESIZE];
	uint32_t i, n_family = 0;
	int attempt, rc;

	*out = NULL;
	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].family == 0 || p->rules[i].family == family)
			n_family++;
	/* rte_acl cannot classify without a built trie; the family gets the default. */
	if (n_family == 0)
		return 0;

	/* rte_acl_create hands back an existing context of the same name: avoid one. */
	for (attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
		unique_name(name, sizeof(name), family == 4 ? "acl4-" : "acl6-",
			    p->name != NULL ? p->name : "acl");
		if (rte_acl_find_existing(name) == NULL)
			break;
	}
	if (attempt == NAME_ATTEMPTS)
		return EEXIST;

	memset(&ap, 0, sizeof(ap));
	ap.name = name;
	ap.socket_id = p->socket_id;
	ap.rule_size = RTE_ACL_RULE_SZ(family == 4 ? V4_FIELDS : V6_FIELDS);
	ap.max_rule_num = n_family;
	rte_errno = 0;
	ctx = rte_acl_create(&ap);
	if (ctx == NULL)
		return rte_errno != 0 ? rte_errno : ENOMEM;

	for (i = 0; i < p->n_rules; i++) {
		if (p->rules[i].family != 0 && p->rules[i].family != family)
			continue;
		rule_to_acl(&p->rules[i], family, i, p->n_rules, &ar);
		rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&ar, 1);
		if (rc < 0)
			goto free_ctx;
	}
	field_defs(family, &cfg);
	rc = rte_acl_build(ctx, &cfg);
	if (rc < 0)
		goto free_ctx;
	*out = ctx;
	return 0;

free_ctx:
	rte_acl_free(ctx);
	return -rc;
}

struct dpf_acl *
dpf_acl_create(const struct dpf_acl_params *p)
{
	struct dpf_acl *acl;
	uint32_t i;
	int rc;

	if (p == NULL || (p->rules == NULL && p->n_rules > 0) || p->n_rules > DPF_ACL_MAX_RULES ||
	    (p->default_action != DPF_ACTION_ACCEPT && p->default_action != DPF_ACTION_REJECT)) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < p->n_rules; i++) {
		if (dpf_acl_rule_check(&p->rules[i], NULL, 0) < 0) {
			rte_errno = EINVAL;
			return NULL;
		}
	}
	acl = rte_zmalloc_socket(p->name, sizeof(*acl) + (size_t)p->n_rules * sizeof(acl->rules[0]),
				 RTE_CACHE_LINE_SIZE, p->socket_id);
	if (acl == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	acl->n_rules = p->n_rules;
	acl->default_action = p->default_action;
	if (p->n_rules > 0)
		memcpy(acl->rules, p->rules, (size_t)p->n_rules * sizeof(acl->rules[0]));
	rc = build_family(p, 4, &acl->ctx4);
	if (rc != 0)
		goto free_acl;
	rc = build_family(p, 6, &acl->ctx6);
	if (rc != 0)
		goto free_ctx4;
	return acl;

free_ctx4:
	rte_acl_free(acl->ctx4);
free_acl:
	rte_free(acl);
	rte_errno = rc;
	return NULL;
}

void
dpf_acl_free(struct dpf_acl *acl)
{
	if (acl == NULL)
		return;
	rte_acl_free(acl->ctx4);
	rte_acl_free(acl->ctx6);
	rte_free(acl);
}

uint32_t
dpf_acl_rule_count(const struct dpf_acl *acl)
{
	return acl == NULL ? 0 : acl->n_rules;
}

const struct dpf_acl_rule *
dpf_acl_rule_get(const struct dpf_acl *acl, uint32_t i)
{
	return i < acl->n_rules ? &acl->rules[i] : NULL;
}

uint8_t
dpf_acl_default_action(const struct dpf_acl *acl)
{
	return acl->default_action;
}

static void
apply_results(const struct dpf_acl *acl, const uint32_t *results, const uint8_t *pkt_index,
	      uint32_t n, uint8_t *actions, uint32_t *rule_ids)
{
	uint32_t j;

	for (j = 0; j < n; j++) {
		uint32_t id = results[j];

		/* userdata is the rule index + 1; 0 means no rule matched. */
		if (id == 0 || id > acl->n_rules)
			continue;
		actions[pkt_index[j]] = acl->rules[id - 1].action;
		if (rule_ids != NULL)
			rule_ids[pkt_index[j]] = id;
	}
}

static void
classify_slice(const struct dpf_acl *acl, const struct dpf_pkt_info *const *pis, uint32_t n,
	       uint8_t *actions, uint32_t *rule_ids)
{
	struct acl_v4_tuple t4[DPF_ACL_MAX_BURST];
	struct acl_v6_tuple t6[DPF_ACL_MAX_BURST];
	const uint8_t *d4[DPF_ACL_MAX_BURST], *d6[DPF_ACL_MAX_BURST];
	uint32_t res4[DPF_ACL_MAX_BURST], res6[DPF_ACL_MAX_BURST];
	uint8_t idx4[DPF_ACL_MAX_BURST], idx6[DPF_ACL_MAX_BURST];
	uint32_t i, n4 = 0, n6 = 0;

	for (i = 0; i < n; i++) {
		const struct dpf_pkt_info *pi = pis[i];

		actions[i] = acl->default_action;
		if (rule_ids != NULL)
			rule_ids[i] = 0;
		if (pi->family == 4 && acl->ctx4 != NULL) {
			struct acl_v4_tuple *t = &t4[n4];

			t->proto = pi->proto;
			memset(t->pad, 0, sizeof(t->pad));
			memcpy(&t->src, pi->src_addr, sizeof(t->src));
			memcpy(&t->dst, pi->dst_addr, sizeof(t->dst));
			t->sport = rte_cpu_to_be_16(pi->src_port);
			t->dport = rte_cpu_to_be_16(pi->dst_port);
			d4[n4] = (const uint8_t *)t;
			idx4[n4++] = (uint8_t)i;
		} else if (pi->family == 6 && acl->ctx6 != NULL) {
			struct acl_v6_tuple *t = &t6[n6];

			t->proto = pi->proto;
			memset(t->pad, 0, sizeof(t->pad));
			memcpy(t->src, pi->src_addr, sizeof(t->src));
			memcpy(t->dst, pi->dst_addr, sizeof(t->dst));
			t->sport = rte_cpu_to_be_16(pi->src_port);
			t->dport = rte_cpu_to_be_16(pi->dst_port);
			d6[n6] = (const uint8_t *)t;
			idx6[n6++] = (uint8_t)i;
		}
	}
	/* rte_acl_classify fails only on bad arguments; then the defaults stay. */
	if (n4 > 0 && rte_acl_classify(acl->ctx4, d4, res4, n4, 1) == 0)
		apply_results(acl, res4, idx4, n4, actions, rule_ids);
	if (n6 > 0 && rte_acl_classify(acl->ctx6, d6, res6, n6, 1) == 0)
		apply_results(acl, res6, idx6, n6, actions, rule_ids);
}

void
dpf_acl_classify_burst(const struct dpf_acl *acl, const struct dpf_pkt_info *const *pis, uint32_t n,
		       uint8_t *actions, uint32_t *rule_ids)
{
	uint32_t off, len;

	for (off = 0; off < n; off += len) {
		len = RTE_MIN(n - off, (uint32_t)DPF_ACL_MAX_BURST);
		classify_slice(acl, pis + off, len, actions + off,
			       rule_ids != NULL ? rule_ids + off : NULL);
	}
}

/* Connection tracking. */

/* last_ns of a hash position that holds no key. */
#define CT_SLOT_FREE UINT64_MAX
/* rte_hash's smallest table: one bucket (RTE_HASH_BUCKET_ENTRIES is private). */
#define CT_MIN_ENTRIES 8
/* rte_hash names end up in "HT_<name>" ring names, which hold 28 characters. */
#define CT_NAME_MAX 24

struct dpf_conntrack {
	struct rte_hash *hash;
	uint64_t *last_ns; /* by hash position; CT_SLOT_FREE when unused */
	uint64_t timeout_ns;
	uint32_t n_slots; /* positions the hash can return */
	uint32_t capacity;
	uint32_t count;
};

struct dpf_conntrack *
dpf_conntrack_create(const struct dpf_conntrack_params *p)
{
	struct rte_hash_parameters hp;
	struct dpf_conntrack *ct;
	char name[CT_NAME_MAX + 1];
	uint32_t i, entries;
	int attempt, err;

	if (p == NULL || p->capacity == 0 || p->capacity > DPF_CONNTRACK_MAX_CAPACITY ||
	    p->timeout_ns == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	ct = rte_zmalloc_socket(p->name, sizeof(*ct), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ct == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ct->capacity = p->capacity;
	ct->timeout_ns = p->timeout_ns;
	/*
	 * Cuckoo insertion can fail before every bucket slot is taken: give the
	 * hash an eighth more room than the capacity we enforce ourselves.
	 */
	entries = RTE_MAX(p->capacity + p->capacity / 8, (uint32_t)CT_MIN_ENTRIES);
	/* Positions run from 0 to entries - 1; one spare slot costs nothing. */
	ct->n_slots = entries + 1;
	ct->last_ns = rte_malloc_socket(p->name, (size_t)ct->n_slots * sizeof(ct->last_ns[0]),
					RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ct->last_ns == NULL) {
		err = ENOMEM;
		goto free_ct;
	}
	for (i = 0; i < ct->n_slots; i++)
		ct->last_ns[i] = CT_SLOT_FREE;

	for (attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
		unique_name(name, sizeof(name), "ct", p->name != NULL ? p->name : "ct");
		if (rte_hash_find_existing(name) == NULL)
			break;
	}
	if (attempt == NAME_ATTEMPTS) {
		err = EEXIST;
		goto free_slots;
	}
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = entries;
	hp.key_len = sizeof(struct dpf_flow_key);
	hp.hash_func = rte_hash_crc;
	hp.hash_func_init_val = 0;
	hp.socket_id = p->socket_id;
	ct->hash = rte_hash_create(&hp);
	if (ct->hash == NULL) {
		/* The parameters were checked and the name is free: what is left is
		 * memory, which rte_hash_create() may report with a stale rte_errno
		 * (ENOENT from its own look-ups). */
		err = rte_errno == EINVAL || rte_errno == EEXIST ? rte_errno : ENOMEM;
		goto free_slots;
	}
	return ct;

free_slots:
	rte_free(ct->last_ns);
free_ct:
	rte_free(ct);
	rte_errno = err;
	return NULL;
}

void
dpf_conntrack_free(struct dpf_conntrack *ct)
{
	if (ct == NULL)
		return;
	rte_hash_free(ct->hash);
	rte_free(ct->last_ns);
	rte_free(ct);
}

/* The tuple only: keys are compared in full, so action and pad must not differ. */
static void
ct_key(struct dpf_flow_key *out, const struct dpf_flow_key *k, bool reverse)
{
	memset(out, 0, sizeof(*out));
	if (reverse) {
		memcpy(out->src_addr, k->dst_addr, sizeof(out->src_addr));
		memcpy(out->dst_addr, k->src_addr, sizeof(out->dst_addr));
		out->src_port = k->dst_port;
		out->dst_port = k->src_port;
	} else {
		memcpy(out->src_addr, k->src_addr, sizeof(out->src_addr));
		memcpy(out->dst_addr, k->dst_addr, sizeof(out->dst_addr));
		out->src_port = k->src_port;
		out->dst_port = k->dst_port;
	}
	out->iface = k->iface;
	out->proto = k->proto;
	out->family = k->family;
}

static bool
ct_idle(const struct dpf_conntrack *ct, uint64_t last_ns, uint64_t now_ns)
{
	/* A time behind the entry's (another lcore's clock read) is not idleness. */
	return now_ns > last_ns && now_ns - last_ns > ct->timeout_ns;
}

static void
ct_touch(struct dpf_conntrack *ct, uint32_t pos, uint64_t now_ns)
{
	if (ct->last_ns[pos] == CT_SLOT_FREE || now_ns > ct->last_ns[pos])
		ct->last_ns[pos] = now_ns;
}

int
dpf_conntrack_add(struct dpf_conntrack *ct, const struct dpf_flow_key *k, uint64_t now_ns)
{
	struct dpf_flow_key key;
	hash_sig_t sig;
	int32_t pos;

	ct_key(&key, k, false);
	sig = rte_hash_hash(ct->hash, &key);
	pos = rte_hash_lookup_with_hash(ct->hash, &key, sig);
	if (pos < 0) {
		if (ct->count >= ct->capacity)
			return -ENOSPC;
		pos = rte_hash_add_key_with_hash(ct->hash, &key, sig);
		if (pos < 0)
			return pos == -EINVAL ? -EINVAL : -ENOSPC;
		if ((uint32_t)pos >= ct->n_slots) {
			/* Cannot happen with rte_hash's layout; never index past the array. */
			rte_hash_del_key_with_hash(ct->hash, &key, sig);
			return -ENOSPC;
		}
		ct->count++;
		ct->last_ns[pos] = CT_SLOT_FREE;
	}
	ct_touch(ct, (uint32_t)pos, now_ns);
	return 0;
}

bool
dpf_conntrack_is_reply(struct dpf_conntrack *ct, const struct dpf_flow_key *k, uint64_t now_ns)
{
	struct dpf_flow_key key;
	int32_t pos;

	ct_key(&key, k, true);
	pos = rte_hash_lookup(ct->hash, &key);
	if (pos < 0 || (uint32_t)pos >= ct->n_slots || ct_idle(ct, ct->last_ns[pos], now_ns))
		return false;
	ct_touch(ct, (uint32_t)pos, now_ns);
	return true;
}

uint32_t
dpf_conntrack_expire(struct dpf_conntrack *ct, uint64_t now_ns)
{
	struct dpf_flow_key key;
	void *stored;
	uint32_t pos, dropped = 0;

	/*
	 * Walk our own time array rather than rte_hash_iterate: deleting while
	 * iterating is not part of rte_hash's contract.
	 */
	for (pos = 0; pos < ct->n_slots; pos++) {
		if (ct->last_ns[pos] == CT_SLOT_FREE || !ct_idle(ct, ct->last_ns[pos], now_ns))
			continue;
		if (rte_hash_get_key_with_position(ct->hash, (int32_t)pos, &stored) < 0)
			continue;
		memcpy(&key, stored, sizeof(key));
		if (rte_hash_del_key(ct->hash, &key) < 0)
			continue;
		ct->last_ns[pos] = CT_SLOT_FREE;
		ct->count--;
		dropped++;
	}
	return dropped;
}

uint32_t
dpf_conntrack_count(const struct dpf_conntrack *ct)
{
	return ct->count;
}

uint32_t
dpf_conntrack_capacity(const struct dpf_conntrack *ct)
{
	return ct->capacity;
}
