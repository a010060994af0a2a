/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "dpf_acl.h"
#include "dpf_test_eal.h"
#include "dpf_test_util.h"

/* Helpers */

static void
addr_of(const char *text, uint8_t *addr)
{
	assert_int_equal(dpf_test_addr(text, addr), 0);
}

static void
mk_pkt(struct dpf_pkt_info *pi, uint8_t proto, const char *src, uint16_t sport, const char *dst,
       uint16_t dport)
{
	memset(pi, 0, sizeof(*pi));
	pi->family = strchr(src, ':') != NULL ? 6 : 4;
	pi->proto = proto;
	addr_of(src, pi->src_addr);
	addr_of(dst, pi->dst_addr);
	pi->l4.src_port = sport;
	pi->l4.dst_port = dport;
	pi->has_l4 = 1;
}

static struct dpf_acl *
acl_from_text(const char *const *texts, uint32_t n, uint8_t default_action)
{
	struct dpf_acl_rule rules[16];
	struct dpf_acl_params p;
	struct dpf_acl *acl;
	char err[128];
	uint32_t i;

	assert_true(n <= 16);
	for (i = 0; i < n; i++) {
		int rc = dpf_acl_rule_parse(texts[i], &rules[i], err, sizeof(err));

		if (rc != 0)
			fail_msg("rule '%s': %s", texts[i], err);
	}
	memset(&p, 0, sizeof(p));
	p.name = "test";
	p.socket_id = SOCKET_ID_ANY;
	p.default_action = default_action;
	p.rules = rules;
	p.n_rules = n;
	acl = dpf_acl_create(&p);
	if (acl == NULL)
		fail_msg("dpf_acl_create: %s", rte_strerror(rte_errno));
	return acl;
}

static uint8_t
classify_one(const struct dpf_acl *acl, const struct dpf_pkt_info *pi, uint32_t *rule_id)
{
	const struct dpf_pkt_info *pis[1] = {pi};
	uint8_t action = 0xee;

	*rule_id = 0xeeeeeeee;
	dpf_acl_classify_burst(acl, pis, 1, &action, rule_id);
	return action;
}

/* Classify one packet and check both the action and the rule (0: default). */
static void
expect(const struct dpf_acl *acl, uint8_t proto, const char *src, uint16_t sport, const char *dst,
       uint16_t dport, uint8_t action, uint32_t rule_id)
{
	struct dpf_pkt_info pi;
	uint32_t id;
	uint8_t a;

	mk_pkt(&pi, proto, src, sport, dst, dport);
	a = classify_one(acl, &pi, &id);
	if (a != action || id != rule_id)
		fail_msg("%u %s:%u -> %s:%u: action %u rule %u, expected action %u rule %u", proto,
			 src, sport, dst, dport, a, id, action, rule_id);
}

/* Parsing */

static void
test_acl_parse_reads_action_cidrs_and_ranges(void **state)
{
	struct dpf_acl_rule r;
	uint8_t a[16];
	char err[128];

	(void)state;
	assert_int_equal(dpf_acl_rule_parse("allow tcp 10.0.0.0/8 1024-65535 192.168.1.1 443", &r,
					    err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(r.action, DPF_ACTION_ACCEPT);
	assert_int_equal(r.proto, 6);
	assert_int_equal(r.family, 4);
	addr_of("10.0.0.0", a);
	assert_memory_equal(r.src_addr, a, 16);
	assert_int_equal(r.src_len, 8);
	addr_of("192.168.1.1", a);
	assert_memory_equal(r.dst_addr, a, 16);
	assert_int_equal(r.dst_len, 32);
	assert_int_equal(r.sport_lo, 1024);
	assert_int_equal(r.sport_hi, 65535);
	assert_int_equal(r.dport_lo, 443);
	assert_int_equal(r.dport_hi, 443);

	assert_int_equal(dpf_acl_rule_parse(" \tdeny udp 2001:db8::/32 any ::1 53-53 \n", &r, err,
					    sizeof(err)),
			 0);
	assert_int_equal(r.action, DPF_ACTION_REJECT);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.family, 6);
	addr_of("2001:db8::", a);
	assert_memory_equal(r.src_addr, a, 16);
	assert_int_equal(r.src_len, 32);
	addr_of("::1", a);
	assert_memory_equal(r.dst_addr, a, 16);
	assert_int_equal(r.dst_len, 128);
	assert_int_equal(r.sport_lo, 0);
	assert_int_equal(r.sport_hi, 65535);
	assert_int_equal(r.dport_lo, 53);
	assert_int_equal(r.dport_hi, 53);
}

static void
test_acl_parse_any_addresses_give_family_0_and_one_address_sets_family(void **state)
{
	static const uint8_t zero[16];
	struct dpf_acl_rule r;

	(void)state;
	assert_int_equal(dpf_acl_rule_parse("allow any any any any any", &r, NULL, 0), 0);
	assert_int_equal(r.family, 0);
	assert_int_equal(r.proto, 0);
	assert_int_equal(r.src_len, 0);
	assert_int_equal(r.dst_len, 0);
	assert_memory_equal(r.src_addr, zero, 16);
	assert_memory_equal(r.dst_addr, zero, 16);

	assert_int_equal(dpf_acl_rule_parse("allow any any any 10.1.0.0/16 any", &r, NULL, 0), 0);
	assert_int_equal(r.family, 4);
	assert_int_equal(r.src_len, 0);
	assert_int_equal(r.dst_len, 16);

	assert_int_equal(dpf_acl_rule_parse("allow any 0.0.0.0/0 any any any", &r, NULL, 0), 0);
	assert_int_equal(r.family, 4);
	assert_int_equal(r.src_len, 0);

	assert_int_equal(dpf_acl_rule_parse("allow any any any ::/0 any", &r, NULL, 0), 0);
	assert_int_equal(r.family, 6);
	assert_int_equal(r.dst_len, 0);

	assert_int_equal(dpf_acl_rule_parse("allow any 10.0.0.0/8 any 10.0.0.0/0 any", &r, NULL, 0),
			 -EINVAL); /* host bits set for /0 */
}

static void
test_acl_parse_reads_every_protocol_name_and_number(void **state)
{
	static const struct {
		const char *token;
		uint8_t proto;
	} cases[] = {
		{"any", 0},	   {"tcp", 6},	  {"udp", 17}, {"icmp", 1}, {"icmpv6", 58},
		{"ipv6-icmp", 58}, {"sctp", 132}, {"gre", 47}, {"esp", 50}, {"0", 0},
		{"89", 89},	   {"255", 255},  {"006", 6},
	};
	struct dpf_acl_rule r;
	char text[64];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "deny %s any any any any", cases[i].token);
		assert_int_equal(dpf_acl_rule_parse(text, &r, NULL, 0), 0);
		assert_int_equal(r.proto, cases[i].proto);
	}
}

static void
test_acl_parse_errors_name_the_token_and_leave_rule_untouched(void **state)
{
	static const struct {
		const char *text;
		const char *msg; /* must appear in the error */
	} cases[] = {
		{"", "missing action"},
		{"   ", "missing action"},
		{"allow", "missing proto"},
		{"allow tcp", "missing src"},
		{"allow tcp any", "missing sport"},
		{"allow tcp any any", "missing dst"},
		{"allow tcp any any any", "missing dport"},
		{"allow tcp any any any any extra", "unexpected token 'extra'"},
		{"permit tcp any any any any", "action 'permit'"},
		{"ALLOW tcp any any any any", "action 'ALLOW'"},
		{"allow foo any any any any", "proto 'foo': unknown protocol"},
		{"allow 256 any any any any", "proto '256': protocol number above 255"},
		{"allow -1 any any any any", "proto '-1'"},
		{"allow 6x any any any any", "proto '6x'"},
		{"allow tcp 10.0.0.1/8 any any any",
		 "src '10.0.0.1/8': host bits set (prefix is 10.0.0.0/8)"},
		{"allow tcp 10.0.0.0/33 any any any", "src '10.0.0.0/33': prefix length above 32"},
		{"allow tcp 10.0.0.0/ any any any",
		 "src '10.0.0.0/': prefix length is not a number"},
		{"allow tcp 10.0.0.0/x any any any", "src '10.0.0.0/x'"},
		{"allow tcp 10.0.0.0/-1 any any any", "src '10.0.0.0/-1'"},
		{"allow tcp 10.0.0.256 any any any",
		 "src '10.0.0.256': not an IPv4 or IPv6 address"},
		{"allow tcp 10.0.0 any any any", "src '10.0.0'"},
		{"allow tcp host any any any", "src 'host'"},
		{"allow tcp any any 2001:db8::1/129 any",
		 "dst '2001:db8::1/129': prefix length above 128"},
		{"allow tcp any any 2001:db8::1/64 any",
		 "dst '2001:db8::1/64': host bits set (prefix is 2001:db8::/64)"},
		{"allow tcp any any 2001:db8:::1 any", "dst '2001:db8:::1'"},
		{"allow tcp 10.0.0.0/8 any 2001:db8::/32 any",
		 "dst '2001:db8::/32': IPv6 address in a rule whose src '10.0.0.0/8' is IPv4"},
		{"allow tcp ::1 any 10.0.0.1 any",
		 "dst '10.0.0.1': IPv4 address in a rule whose src '::1' is IPv6"},
		{"allow tcp any 80-20 any any", "sport '80-20': range start above its end"},
		{"allow tcp any 65536 any any", "sport '65536': port above 65535"},
		{"allow tcp any any any 1-70000", "dport '1-70000': port above 65535"},
		{"allow tcp any 1- any any", "sport '1-': not a port"},
		{"allow tcp any -5 any any", "sport '-5': not a port"},
		{"allow tcp any 1-2-3 any any", "sport '1-2-3': not a port"},
		{"allow tcp any http any any", "sport 'http': not a port"},
		{"allow icmp any 80 any any", "sport '80': protocol icmp has no ports"},
		{"allow gre any any any 0", "dport '0': protocol gre has no ports"},
		{"allow 47 any any any 1-2", "dport '1-2': protocol 47 has no ports"},
		{"allow tcp 0123456789012345678901234567890123456789012345678901234567890123456789"
		 " any any any",
		 "src '012345"},
	};
	struct dpf_acl_rule r, before;
	char err[160];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0xa5, sizeof(r));
		before = r;
		if (dpf_acl_rule_parse(cases[i].text, &r, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' parsed", cases[i].text);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", cases[i].text, err, cases[i].msg);
		assert_memory_equal(&r, &before, sizeof(r));
	}
	assert_int_equal(dpf_acl_rule_parse(NULL, &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(dpf_acl_rule_parse("allow any any any any any", NULL, NULL, 0), -EINVAL);
	/* A tiny error buffer is cut, never overrun. */
	err[4] = 'x';
	assert_int_equal(dpf_acl_rule_parse("allow foo any any any any", &r, err, 4), -EINVAL);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(err[4], 'x');
}

/* Formatting */

static void
test_acl_format_round_trips_to_canonical_text(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{"allow tcp 10.0.0.0/8 1024-65535 192.168.1.1/32 443",
		 "allow tcp 10.0.0.0/8 1024-65535 192.168.1.1/32 443"},
		{"deny udp 2001:db8::/32 any ::1 53", "deny udp 2001:db8::/32 any ::1/128 53"},
		{"allow any any any any any", "allow any any any any any"},
		{"allow tcp 0.0.0.0/0 any any any", "allow tcp 0.0.0.0/0 any any any"},
		{"allow tcp any any ::/0 any", "allow tcp ::/0 any any any"},
		{"allow tcp any any 10.0.0.0/8 any", "allow tcp any any 10.0.0.0/8 any"},
		{"deny 89 any any any any", "deny 89 any any any any"},
		{"deny 0 any any any any", "deny any any any any any"},
		{"allow ipv6-icmp fe80::/10 any any any", "allow icmpv6 fe80::/10 any any any"},
		{"allow icmp any 0-65535 any any", "allow icmp any any any any"},
		{"deny tcp 10.0.0.1 0-65535 any 80-80", "deny tcp 10.0.0.1/32 any any 80"},
		{"allow sctp any 0 any 65535", "allow sctp any 0 any 65535"},
		{"allow gre any any any any", "allow gre any any any any"},
		{"allow esp any any any any", "allow esp any any any any"},
		{"allow 136 any 5 any 6-7", "allow 136 any 5 any 6-7"},
	};
	struct dpf_acl_rule r, again;
	char buf[DPF_ACL_RULE_TEXT_MAX];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dpf_acl_rule_parse(cases[i].in, &r, NULL, 0), 0);
		assert_int_equal(dpf_acl_rule_format(&r, buf, sizeof(buf)), strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(dpf_acl_rule_parse(buf, &again, NULL, 0), 0);
		assert_memory_equal(&r, &again, sizeof(r));
	}
}

static void
test_acl_format_longest_rule_fits_and_small_buffer_fails_enospc(void **state)
{
	const char *longest = "allow sctp ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 65534-65535 "
			      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128 65533-65535";
	struct dpf_acl_rule r;
	char buf[DPF_ACL_RULE_TEXT_MAX];

	(void)state;
	assert_int_equal(dpf_acl_rule_parse(longest, &r, NULL, 0), 0);
	assert_int_equal(dpf_acl_rule_format(&r, buf, sizeof(buf)), strlen(longest));
	assert_string_equal(buf, longest);
	assert_int_equal(dpf_acl_rule_format(&r, buf, strlen(longest)), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(dpf_acl_rule_format(&r, NULL, 0), -EINVAL);
	assert_int_equal(dpf_acl_rule_format(NULL, buf, sizeof(buf)), -EINVAL);
}

static void
test_acl_check_rejects_invalid_rule_structs(void **state)
{
	struct dpf_acl_rule good, r;
	char err[128], buf[DPF_ACL_RULE_TEXT_MAX];

	(void)state;
	assert_int_equal(dpf_acl_rule_parse("allow tcp 10.0.0.0/8 any any 80", &good, NULL, 0), 0);
	assert_int_equal(dpf_acl_rule_check(&good, err, sizeof(err)), 0);

	r = good;
	r.action = 2;
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "action"));
	assert_int_equal(dpf_acl_rule_format(&r, buf, sizeof(buf)), -EINVAL);

	r = good;
	r.family = 5;
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "family"));

	r = good;
	r.src_addr[3] = 1; /* 10.0.0.1/8 */
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "src: host bits"));

	r = good;
	r.src_addr[9] = 1; /* past an IPv4 address */
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "src"));

	r = good;
	r.dst_len = 33;
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dst: prefix length 33"));

	r = good;
	r.family = 0; /* family 0 with an address */
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "src"));

	r = good;
	r.dport_lo = 81;
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dport: range"));

	r = good;
	r.proto = 1;
	assert_int_equal(dpf_acl_rule_check(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dport: protocol 1 has no ports"));

	assert_int_equal(dpf_acl_rule_check(NULL, err, sizeof(err)), -EINVAL);
}

/* Classification */

static void
test_acl_first_match_wins_deny_before_allow(void **state)
{
	const char *rules[] = {
		"deny tcp any any 10.0.0.0/24 80-90",
		"allow tcp any any 10.0.0.0/16 any",
	};
	struct dpf_acl *acl = acl_from_text(rules, 2, DPF_ACTION_REJECT);

	(void)state;
	expect(acl, 6, "192.0.2.1", 1000, "10.0.0.5", 85, DPF_ACTION_REJECT, 1);
	expect(acl, 6, "192.0.2.1", 1000, "10.0.1.5", 85, DPF_ACTION_ACCEPT, 2);
	expect(acl, 6, "192.0.2.1", 1000, "10.0.0.5", 91, DPF_ACTION_ACCEPT, 2);
	expect(acl, 6, "192.0.2.1", 1000, "10.1.0.5", 85, DPF_ACTION_REJECT, 0);
	dpf_acl_free(acl);
}

static void
test_acl_first_match_wins_allow_before_deny(void **state)
{
	const char *rules[] = {
		"allow tcp any any 10.0.0.0/24 80-90",
		"deny tcp any any 10.0.0.0/16 any",
	};
	struct dpf_acl *acl = acl_from_text(rules, 2, DPF_ACTION_ACCEPT);

	(void)state;
	expect(acl, 6, "192.0.2.1", 1000, "10.0.0.5", 85, DPF_ACTION_ACCEPT, 1);
	expect(acl, 6, "192.0.2.1", 1000, "10.0.0.5", 91, DPF_ACTION_REJECT, 2);
	expect(acl, 6, "192.0.2.1", 1000, "10.0.200.5", 85, DPF_ACTION_REJECT, 2);
	expect(acl, 6, "192.0.2.1", 1000, "10.1.0.5", 85, DPF_ACTION_ACCEPT, 0);
	/* The same rule set reversed: the broad deny now shadows the allow. */
	{
		const char *reversed[] = {rules[1], rules[0]};
		struct dpf_acl *rev = acl_from_text(reversed, 2, DPF_ACTION_ACCEPT);

		expect(rev, 6, "192.0.2.1", 1000, "10.0.0.5", 85, DPF_ACTION_REJECT, 1);
		dpf_acl_free(rev);
	}
	dpf_acl_free(acl);
}

static void
test_acl_unmatched_packets_get_default_action_either_way(void **state)
{
	const char *rules[] = {"allow udp any any any 53"};
	struct dpf_acl *reject = acl_from_text(rules, 1, DPF_ACTION_REJECT);
	struct dpf_acl *accept = acl_from_text(rules, 1, DPF_ACTION_ACCEPT);
	struct dpf_acl *empty_reject = acl_from_text(NULL, 0, DPF_ACTION_REJECT);
	struct dpf_acl *empty_accept = acl_from_text(NULL, 0, DPF_ACTION_ACCEPT);

	(void)state;
	expect(reject, 6, "10.0.0.1", 1, "10.0.0.2", 53, DPF_ACTION_REJECT, 0);
	expect(reject, 17, "10.0.0.1", 1, "10.0.0.2", 53, DPF_ACTION_ACCEPT, 1);
	expect(reject, 17, "2001:db8::1", 1, "2001:db8::2", 54, DPF_ACTION_REJECT, 0);
	expect(accept, 6, "10.0.0.1", 1, "10.0.0.2", 53, DPF_ACTION_ACCEPT, 0);
	expect(accept, 17, "2001:db8::1", 1, "2001:db8::2", 53, DPF_ACTION_ACCEPT, 1);
	expect(empty_reject, 6, "10.0.0.1", 1, "10.0.0.2", 53, DPF_ACTION_REJECT, 0);
	expect(empty_reject, 6, "::1", 1, "::2", 53, DPF_ACTION_REJECT, 0);
	expect(empty_accept, 6, "10.0.0.1", 1, "10.0.0.2", 53, DPF_ACTION_ACCEPT, 0);
	expect(empty_accept, 6, "::1", 1, "::2", 53, DPF_ACTION_ACCEPT, 0);
	assert_int_equal(dpf_acl_rule_count(empty_accept), 0);
	assert_int_equal(dpf_acl_default_action(empty_reject), DPF_ACTION_REJECT);
	dpf_acl_free(reject);
	dpf_acl_free(accept);
	dpf_acl_free(empty_reject);
	dpf_acl_free(empty_accept);
}

static void
test_acl_port_ranges_include_both_ends(void **state)
{
	const char *rules[] = {
		"allow tcp any 1000-2000 any any",
		"allow udp any any any 0-10",
		"allow udp any any any 65535",
		"allow sctp any 7 any 9",
	};
	struct dpf_acl *acl = acl_from_text(rules, 4, DPF_ACTION_REJECT);

	(void)state;
	expect(acl, 6, "10.0.0.1", 999, "10.0.0.2", 1, DPF_ACTION_REJECT, 0);
	expect(acl, 6, "10.0.0.1", 1000, "10.0.0.2", 1, DPF_ACTION_ACCEPT, 1);
	expect(acl, 6, "10.0.0.1", 2000, "10.0.0.2", 1, DPF_ACTION_ACCEPT, 1);
	expect(acl, 6, "10.0.0.1", 2001, "10.0.0.2", 1, DPF_ACTION_REJECT, 0);
	expect(acl, 17, "10.0.0.1", 5, "10.0.0.2", 0, DPF_ACTION_ACCEPT, 2);
	expect(acl, 17, "10.0.0.1", 5, "10.0.0.2", 10, DPF_ACTION_ACCEPT, 2);
	expect(acl, 17, "10.0.0.1", 5, "10.0.0.2", 11, DPF_ACTION_REJECT, 0);
	expect(acl, 17, "::1", 5, "::2", 65535, DPF_ACTION_ACCEPT, 3);
	expect(acl, 17, "::1", 5, "::2", 65534, DPF_ACTION_REJECT, 0);
	expect(acl, 132, "::1", 7, "::2", 9, DPF_ACTION_ACCEPT, 4);
	expect(acl, 132, "::1", 9, "::2", 7, DPF_ACTION_REJECT, 0);
	dpf_acl_free(acl);
}

static void
test_acl_proto_any_matches_every_protocol_and_tcp_only_tcp(void **state)
{
	const char *rules[] = {
		"deny tcp any any any 22",
		"allow any any any any 22",
		"allow icmp any any any any",
	};
	struct dpf_acl *acl = acl_from_text(rules, 3, DPF_ACTION_REJECT);

	(void)state;
	expect(acl, 6, "10.0.0.1", 5000, "10.0.0.2", 22, DPF_ACTION_REJECT, 1);
	expect(acl, 17, "10.0.0.1", 5000, "10.0.0.2", 22, DPF_ACTION_ACCEPT, 2);
	expect(acl, 132, "10.0.0.1", 5000, "10.0.0.2", 22, DPF_ACTION_ACCEPT, 2);
	expect(acl, 17, "10.0.0.1", 5000, "10.0.0.2", 23, DPF_ACTION_REJECT, 0);
	expect(acl, 1, "10.0.0.1", 0, "10.0.0.2", 0, DPF_ACTION_ACCEPT, 3);
	expect(acl, 58, "::1", 0, "::2", 0, DPF_ACTION_REJECT, 0);
	expect(acl, 6, "::1", 5000, "::2", 22, DPF_ACTION_REJECT, 1);
	dpf_acl_free(acl);
}

static void
test_acl_rules_of_one_family_never_match_the_other(void **state)
{
	const char *rules[] = {
		"allow any 10.0.0.0/8 any any any",
		"allow any ::/0 any any any",
	};
	const char *v4_only[] = {"allow any 0.0.0.0/0 any any any"};
	struct dpf_acl *acl = acl_from_text(rules, 2, DPF_ACTION_REJECT);
	struct dpf_acl *v4 = acl_from_text(v4_only, 1, DPF_ACTION_REJECT);

	(void)state;
	expect(acl, 6, "10.1.2.3", 1, "192.0.2.1", 2, DPF_ACTION_ACCEPT, 1);
	expect(acl, 6, "11.1.2.3", 1, "192.0.2.1", 2, DPF_ACTION_REJECT, 0);
	/* An IPv6 address whose first bytes read 10.x is not in 10.0.0.0/8. */
	expect(acl, 6, "a00::1", 1, "2001:db8::1", 2, DPF_ACTION_ACCEPT, 2);
	expect(v4, 6, "a00::1", 1, "2001:db8::1", 2, DPF_ACTION_REJECT, 0);
	expect(v4, 6, "::ffff:10.0.0.1", 1, "::1", 2, DPF_ACTION_REJECT, 0);
	expect(v4, 17, "0.0.0.0", 1, "255.255.255.255", 2, DPF_ACTION_ACCEPT, 1);
	dpf_acl_free(acl);
	dpf_acl_free(v4);
}

static void
test_acl_any_addresses_match_both_families(void **state)
{
	const char *rules[] = {
		"deny any 2001:db8:1::/48 any any any",
		"deny any any any 2001:db8:0:1::/64 any",
		"deny any any any 2001:db8::ff00/120 any",
		"allow tcp any any any 443",
	};
	struct dpf_acl *acl = acl_from_text(rules, 4, DPF_ACTION_REJECT);

	(void)state;
	expect(acl, 6, "192.0.2.1", 1000, "198.51.100.1", 443, DPF_ACTION_ACCEPT, 4);
	expect(acl, 6, "2001:db8:2::1", 1000, "2001:db8::1", 443, DPF_ACTION_ACCEPT, 4);
	expect(acl, 6, "2001:db8:2::1", 1000, "2001:db8::1", 80, DPF_ACTION_REJECT, 0);
	/* IPv6 prefixes across the classifier's 32-bit words. */
	expect(acl, 6, "2001:db8:1:ffff::1", 1000, "2001:db8::1", 443, DPF_ACTION_REJECT, 1);
	expect(acl, 6, "2001:db8:2::1", 1000, "2001:db8:0:1:ffff::", 443, DPF_ACTION_REJECT, 2);
	expect(acl, 6, "2001:db8:2::1", 1000, "2001:db8:0:2::", 443, DPF_ACTION_ACCEPT, 4);
	expect(acl, 6, "2001:db8:2::1", 1000, "2001:db8::ffff", 443, DPF_ACTION_REJECT, 3);
	expect(acl, 6, "2001:db8:2::1", 1000, "2001:db8::feff", 443, DPF_ACTION_ACCEPT, 4);
	dpf_acl_free(acl);
}

static void
test_acl_packets_of_unknown_family_get_default(void **state)
{
	const char *rules[] = {"deny any any any any any"};
	struct dpf_acl *acl = acl_from_text(rules, 1, DPF_ACTION_ACCEPT);
	struct dpf_pkt_info pi;
	uint32_t id;

	(void)state;
	mk_pkt(&pi, 6, "10.0.0.1", 1, "10.0.0.2", 2);
	assert_int_equal(classify_one(acl, &pi, &id), DPF_ACTION_REJECT);
	assert_int_equal(id, 1);
	pi.family = 0;
	assert_int_equal(classify_one(acl, &pi, &id), DPF_ACTION_ACCEPT);
	assert_int_equal(id, 0);
	pi.family = 5;
	assert_int_equal(classify_one(acl, &pi, &id), DPF_ACTION_ACCEPT);
	assert_int_equal(id, 0);
	dpf_acl_free(acl);
}

static void
test_acl_create_with_invalid_params_fails_einval(void **state)
{
	struct dpf_acl_rule r;
	struct dpf_acl_params p;

	(void)state;
	assert_null(dpf_acl_create(NULL));
	assert_int_equal(rte_errno, EINVAL);

	memset(&p, 0, sizeof(p));
	p.socket_id = SOCKET_ID_ANY;
	p.n_rules = 1;
	assert_null(dpf_acl_create(&p));
	assert_int_equal(rte_errno, EINVAL);

	assert_int_equal(dpf_acl_rule_parse("allow tcp any any any 80", &r, NULL, 0), 0);
	p.rules = &r;
	p.default_action = 7;
	assert_null(dpf_acl_create(&p));
	assert_int_equal(rte_errno, EINVAL);

	p.default_action = DPF_ACTION_ACCEPT;
	p.n_rules = DPF_ACL_MAX_RULES + 1;
	assert_null(dpf_acl_create(&p));
	assert_int_equal(rte_errno, EINVAL);

	p.n_rules = 1;
	r.dst_len = 8; /* family 0 with a prefix */
	assert_null(dpf_acl_create(&p));
	assert_int_equal(rte_errno, EINVAL);

	dpf_acl_free(NULL);
}

static void
test_acl_handles_with_same_name_coexist_and_keep_rules(void **state)
{
	const char *deny_all[] = {"deny any any any any any"};
	const char *allow_all[] = {"allow any any any any any", "deny tcp any any any any"};
	struct dpf_acl *a = acl_from_text(deny_all, 1, DPF_ACTION_ACCEPT);
	struct dpf_acl *b = acl_from_text(allow_all, 2, DPF_ACTION_REJECT);
	char buf[DPF_ACL_RULE_TEXT_MAX];

	(void)state;
	expect(a, 6, "10.0.0.1", 1, "10.0.0.2", 2, DPF_ACTION_REJECT, 1);
	expect(b, 6, "10.0.0.1", 1, "10.0.0.2", 2, DPF_ACTION_ACCEPT, 1);
	expect(a, 6, "::1", 1, "::2", 2, DPF_ACTION_REJECT, 1);
	expect(b, 6, "::1", 1, "::2", 2, DPF_ACTION_ACCEPT, 1);
	assert_int_equal(dpf_acl_rule_count(a), 1);
	assert_int_equal(dpf_acl_rule_count(b), 2);
	assert_non_null(dpf_acl_rule_get(b, 1));
	assert_null(dpf_acl_rule_get(b, 2));
	assert_true(dpf_acl_rule_format(dpf_acl_rule_get(b, 1), buf, sizeof(buf)) > 0);
	assert_string_equal(buf, allow_all[1]);
	dpf_acl_free(a);
	expect(b, 6, "::1", 1, "::2", 2, DPF_ACTION_ACCEPT, 1);
	dpf_acl_free(b);
}

/* Random rules against a reference matcher */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Addresses from a small pool so that prefixes of every length match now and then. */
static void
rnd_addr(uint8_t family, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == 4) {
		a[0] = 10;
		a[1] = (uint8_t)(rnd() % 2);
		a[2] = (uint8_t)(rnd() % 4);
		a[3] = (uint8_t)(rnd() % 8);
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[5] = (uint8_t)(rnd() % 2);
	a[9] = (uint8_t)(rnd() % 4);
	a[12] = (uint8_t)(rnd() % 2 ? 0x80 : 0);
	a[15] = (uint8_t)(rnd() % 8);
}

static uint8_t
rnd_len(uint8_t family)
{
	uint32_t max = family == 4 ? 32 : 128;

	/* Long prefixes are the interesting ones in a small pool. */
	return (uint8_t)(rnd() % 3 == 0 ? max - rnd() % 8 : rnd() % (max + 1));
}

static void
mask_addr(uint8_t *a, uint8_t len)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (i * 8 >= len)
			a[i] = 0;
		else if (i * 8 + 8 > len)
			a[i] &= (uint8_t)(0xff00 >> (len - i * 8));
	}
}

static void
rnd_range(uint16_t *lo, uint16_t *hi)
{
	if (rnd() % 3 == 0) {
		*lo = 0;
		*hi = 65535;
		return;
	}
	*lo = (uint16_t)(rnd() % 64);
	*hi = (uint16_t)(*lo + rnd() % 16);
	if (rnd() % 8 == 0)
		*hi = 65535;
}

static void
rnd_rule(struct dpf_acl_rule *r)
{
	static const uint8_t families[] = {0, 4, 4, 6, 6};
	static const uint8_t protos[] = {0, 0, 6, 17, 1, 58, 132};

	memset(r, 0, sizeof(*r));
	r->action = (uint8_t)(rnd() % 2);
	r->family = families[rnd() % sizeof(families)];
	r->proto = protos[rnd() % sizeof(protos)];
	if (r->family != 0) {
		if (rnd() % 4 != 0) {
			rnd_addr(r->family, r->src_addr);
			r->src_len = rnd_len(r->family);
			mask_addr(r->src_addr, r->src_len);
		}
		if (rnd() % 4 != 0) {
			rnd_addr(r->family, r->dst_addr);
			r->dst_len = rnd_len(r->family);
			mask_addr(r->dst_addr, r->dst_len);
		}
	}
	r->sport_hi = r->dport_hi = 65535;
	if (r->proto != 1 && r->proto != 58) {
		rnd_range(&r->sport_lo, &r->sport_hi);
		rnd_range(&r->dport_lo, &r->dport_hi);
	}
}

static void
rnd_pkt(struct dpf_pkt_info *pi)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 132};
	uint32_t f = rnd() % 20;

	memset(pi, 0, sizeof(*pi));
	pi->family = f < 9 ? 4 : f < 18 ? 6 : 0;
	pi->proto = protos[rnd() % sizeof(protos)];
	rnd_addr(pi->family == 6 ? 6 : 4, pi->src_addr);
	rnd_addr(pi->family == 6 ? 6 : 4, pi->dst_addr);
	if (pi->proto != 1 && pi->proto != 58) {
		pi->l4.src_port = (uint16_t)(rnd() % 10 == 0 ? rnd() : rnd() % 80);
		pi->l4.dst_port = (uint16_t)(rnd() % 10 == 0 ? rnd() : rnd() % 80);
	}
}

static bool
ref_prefix(const uint8_t *addr, const uint8_t *prefix, uint8_t len)
{
	unsigned int bit;

	for (bit = 0; bit < len; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((addr[bit / 8] & m) != (prefix[bit / 8] & m))
			return false;
	}
	return true;
}

static uint32_t
ref_classify(const struct dpf_acl_rule *rules, uint32_t n, const struct dpf_pkt_info *pi)
{
	uint32_t i;

	if (pi->family != 4 && pi->family != 6)
		return 0;
	for (i = 0; i < n; i++) {
		const struct dpf_acl_rule *r = &rules[i];

		if (r->family != 0 && r->family != pi->family)
			continue;
		if (r->proto != 0 && r->proto != pi->proto)
			continue;
		if (!ref_prefix(pi->src_addr, r->src_addr, r->src_len) ||
		    !ref_prefix(pi->dst_addr, r->dst_addr, r->dst_len))
			continue;
		if (pi->l4.src_port < r->sport_lo || pi->l4.src_port > r->sport_hi ||
		    pi->l4.dst_port < r->dport_lo || pi->l4.dst_port > r->dport_hi)
			continue;
		return i + 1;
	}
	return 0;
}

#define N_RANDOM_RULES 50
#define N_RANDOM_PKTS 10000

static void
test_acl_random_bursts_match_reference_matcher(void **state)
{
	static struct dpf_pkt_info pkts[N_RANDOM_PKTS];
	struct dpf_acl_rule rules[N_RANDOM_RULES];
	const struct dpf_pkt_info *pis[DPF_ACL_MAX_BURST];
	uint8_t actions[DPF_ACL_MAX_BURST];
	uint32_t ids[DPF_ACL_MAX_BURST];
	uint32_t matched_rules[N_RANDOM_RULES + 1] = {0};
	struct dpf_acl_params p;
	struct dpf_acl *acl;
	uint32_t round, i, off, n, distinct = 0;

	(void)state;
	for (round = 0; round < 4; round++) {
		for (i = 0; i < N_RANDOM_RULES; i++) {
			char text[DPF_ACL_RULE_TEXT_MAX];
			struct dpf_acl_rule again;

			rnd_rule(&rules[i]);
			/* Every random rule also survives a format / parse round trip. */
			assert_true(dpf_acl_rule_format(&rules[i], text, sizeof(text)) > 0);
			assert_int_equal(dpf_acl_rule_parse(text, &again, NULL, 0), 0);
			assert_memory_equal(&again, &rules[i], sizeof(again));
		}
		memset(&p, 0, sizeof(p));
		p.name = "random";
		p.socket_id = SOCKET_ID_ANY;
		p.default_action = (uint8_t)(round % 2);
		p.rules = rules;
		p.n_rules = N_RANDOM_RULES;
		acl = dpf_acl_create(&p);
		assert_non_null(acl);
		for (i = 0; i < N_RANDOM_PKTS; i++)
			rnd_pkt(&pkts[i]);
		/* Bursts of 64 and a 16-packet tail. */
		for (off = 0; off < N_RANDOM_PKTS; off += n) {
			n = N_RANDOM_PKTS - off < DPF_ACL_MAX_BURST ? N_RANDOM_PKTS - off
								    : DPF_ACL_MAX_BURST;
			for (i = 0; i < n; i++)
				pis[i] = &pkts[off + i];
			dpf_acl_classify_burst(acl, pis, n, actions, ids);
			for (i = 0; i < n; i++) {
				uint32_t want = ref_classify(rules, N_RANDOM_RULES, pis[i]);
				uint8_t want_action =
					want != 0 ? rules[want - 1].action : p.default_action;

				if (ids[i] != want || actions[i] != want_action) {
					char text[DPF_ACL_RULE_TEXT_MAX] = "-";

					if (want != 0)
						dpf_acl_rule_format(&rules[want - 1], text,
								    sizeof(text));
					fail_msg("round %u packet %u: rule %u action %u, reference "
						 "rule %u (%s) action %u",
						 round, off + i, ids[i], actions[i], want, text,
						 want_action);
				}
				matched_rules[want]++;
			}
		}
		dpf_acl_free(acl);
	}
	/* The test means something only if many rules and the default were hit. */
	for (i = 0; i <= N_RANDOM_RULES; i++)
		distinct += matched_rules[i] != 0;
	assert_true(matched_rules[0] > 0);
	assert_true(distinct > N_RANDOM_RULES / 2);
}

static void
test_acl_burst_longer_than_max_is_classified_in_slices(void **state)
{
	const char *rules[] = {"deny udp any any any 53", "allow any any any any any"};
	struct dpf_acl *acl = acl_from_text(rules, 2, DPF_ACTION_REJECT);
	struct dpf_pkt_info pkts[150];
	const struct dpf_pkt_info *pis[150];
	uint8_t actions[150];
	uint32_t i;

	(void)state;
	for (i = 0; i < 150; i++) {
		mk_pkt(&pkts[i], i % 3 == 0 ? 17 : 6, i % 2 ? "::1" : "::2", 1,
		       i % 2 ? "::3" : "::4", 53);
		if (i % 2 == 0)
			mk_pkt(&pkts[i], i % 3 == 0 ? 17 : 6, "10.0.0.1", 1, "10.0.0.2", 53);
		pis[i] = &pkts[i];
	}
	dpf_acl_classify_burst(acl, pis, 150, actions, NULL);
	for (i = 0; i < 150; i++)
		assert_int_equal(actions[i], i % 3 == 0 ? DPF_ACTION_REJECT : DPF_ACTION_ACCEPT);
	dpf_acl_free(acl);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_parse_reads_action_cidrs_and_ranges),
		cmocka_unit_test(
			test_acl_parse_any_addresses_give_family_0_and_one_address_sets_family),
		cmocka_unit_test(test_acl_parse_reads_every_protocol_name_and_number),
		cmocka_unit_test(test_acl_parse_errors_name_the_token_and_leave_rule_untouched),
		cmocka_unit_test(test_acl_format_round_trips_to_canonical_text),
		cmocka_unit_test(test_acl_format_longest_rule_fits_and_small_buffer_fails_enospc),
		cmocka_unit_test(test_acl_check_rejects_invalid_rule_structs),
		cmocka_unit_test(test_acl_first_match_wins_deny_before_allow),
		cmocka_unit_test(test_acl_first_match_wins_allow_before_deny),
		cmocka_unit_test(test_acl_unmatched_packets_get_default_action_either_way),
		cmocka_unit_test(test_acl_port_ranges_include_both_ends),
		cmocka_unit_test(test_acl_proto_any_matches_every_protocol_and_tcp_only_tcp),
		cmocka_unit_test(test_acl_rules_of_one_family_never_match_the_other),
		cmocka_unit_test(test_acl_any_addresses_match_both_families),
		cmocka_unit_test(test_acl_packets_of_unknown_family_get_default),
		cmocka_unit_test(test_acl_create_with_invalid_params_fails_einval),
		cmocka_unit_test(test_acl_handles_with_same_name_coexist_and_keep_rules),
		cmocka_unit_test(test_acl_random_bursts_match_reference_matcher),
		cmocka_unit_test(test_acl_burst_longer_than_max_is_classified_in_slices),
	};

	(void)argc;
	/* EAL without hugepages needs nothing this machine could lack: a
	 * failure to start is a failure, as in the other test binaries. */
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
