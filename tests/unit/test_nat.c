/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "dpf_nat.h"
#include "dpf_nat_session.h"
#include "dpf_test_eal.h"

static unsigned int name_seq;

static struct dpf_nat *
make_nat(const char *const *texts, uint32_t n, char *err, size_t err_len)
{
	struct dpf_nat_rule rules[16];
	struct dpf_nat_params p;
	char name[32];
	uint32_t i;

	for (i = 0; i < n; i++)
		if (dpf_nat_rule_parse(texts[i], &rules[i], err, err_len) != 0)
			fail_msg("parse '%s': %s", texts[i], err);
	snprintf(name, sizeof(name), "tn%u", name_seq++);
	p.name = name;
	p.socket_id = -1;
	p.rules = rules;
	p.n_rules = n;
	return dpf_nat_create(&p, err, err_len);
}

static void
key_of(struct dpf_flow_key *k, uint8_t proto, const char *src, uint16_t sport, const char *dst,
       uint16_t dport)
{
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	memset(k, 0, sizeof(*k));
	k->family = af == AF_INET ? 4 : 6;
	k->proto = proto;
	assert_int_equal(inet_pton(af, src, k->src_addr), 1);
	assert_int_equal(inet_pton(af, dst, k->dst_addr), 1);
	k->src_port = sport;
	k->dst_port = dport;
}

static const char *
txt(uint8_t family, const uint8_t *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static unsigned int i;

	i = (i + 1) % 4;
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf[i], sizeof(buf[i]));
	return buf[i];
}

static void
test_nat_parse_formats_round_trip(void **state)
{
	static const char *const ok[] = {
		"static 10.0.0.0/24 100.64.0.0/24",
		"dnat tcp 203.0.113.10:443 10.0.0.5:8443",
		"dnat udp [2001:db8::1]:53 [fd00::53]:5353",
		"masquerade 10.0.1.0/24 10.0.0.220 20000-20999",
		"static 2001:db8:1::/48 2001:db8:2::/48",
	};
	struct dpf_nat_rule r, r2;
	char err[128], buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(ok); i++) {
		assert_int_equal(dpf_nat_rule_parse(ok[i], &r, err, sizeof(err)), 0);
		assert_true(dpf_nat_rule_format(&r, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, ok[i]);
		assert_int_equal(dpf_nat_rule_parse(buf, &r2, err, sizeof(err)), 0);
		assert_memory_equal(&r, &r2, sizeof(r));
	}
	assert_int_equal(dpf_nat_rule_parse("masquerade 10.0.1.0/24 10.0.0.220", &r, err,
					    sizeof(err)), 0);
	assert_int_equal(r.port_lo, 1024);
	assert_int_equal(r.port_hi, 65535);
}

static void
test_nat_parse_errors_name_the_token(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{"", "empty rule"},
		{"snat 1.2.3.4 5.6.7.8", "'snat': unknown NAT rule"},
		{"static 10.0.0.0/24", "expected 'static"},
		{"static 10.0.0.1/24 100.64.0.0/24", "'10.0.0.1/24': host bits set"},
		{"static 10.0.0.0/24 100.64.0.0/16", "same length"},
		{"static 10.0.0.0/33 100.64.0.0/24", "prefix length must be 0..32"},
		{"static 10.0.0.0/24 2001:db8::/120", "different families"},
		{"static nonsense/8 10.0.0.0/8", "'nonsense/8': not an IPv4 or IPv6 address"},
		{"dnat icmp 1.2.3.4:1 5.6.7.8:2", "'icmp': dnat protocol"},
		{"dnat tcp 1.2.3.4 5.6.7.8:2", "'1.2.3.4': expected ADDR:PORT"},
		{"dnat tcp 1.2.3.4:0 5.6.7.8:2", "'1.2.3.4:0': port must be 1..65535"},
		{"dnat tcp 1.2.3.4:70000 5.6.7.8:2", "port must be 1..65535"},
		{"masquerade 10.0.0.0/8 192.0.2.0/24", "the outside must be one address"},
		{"masquerade 10.0.0.0/8 192.0.2.1 3000-2000", "'3000-2000': port range"},
		{"masquerade 10.0.0.0/8 192.0.2.1 0-2000", "port range"},
		{"masquerade 10.0.0.0/8 192.0.2.1 1000", "port range"},
		/* Numbers are digits only, as in ACL rules: no sign. */
		{"static 10.0.0.0/+8 100.0.0.0/8", "'10.0.0.0/+8': prefix length must be 0..32"},
		{"masquerade 10.0.0.0/8 192.0.2.1 +1000-2000", "'+1000-2000': port range"},
		{"masquerade 10.0.0.0/8 192.0.2.1 1000-+2000", "'1000-+2000': port range"},
	};
	struct dpf_nat_rule r;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(bad); i++) {
		err[0] = '\0';
		assert_int_equal(dpf_nat_rule_parse(bad[i].text, &r, err, sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].msg);
	}
}

static void
test_nat_create_rejects_conflicting_rules(void **state)
{
	static const struct {
		const char *rules[2];
		const char *msg;
	} bad[] = {
		{{"static 10.0.0.0/24 100.64.0.0/24", "static 10.0.0.128/25 100.65.0.0/25"},
		 "rule 2: static inside prefix overlaps rule 1's"},
		{{"static 10.0.0.0/24 100.64.0.0/24", "static 10.1.0.0/24 100.64.0.0/24"},
		 "rule 2: static outside prefix overlaps rule 1's"},
		{{"dnat tcp 1.2.3.4:80 10.0.0.1:80", "dnat tcp 1.2.3.4:80 10.0.0.2:80"},
		 "rule 2: same public address and port as rule 1"},
		{{"masquerade 10.0.0.0/8 192.0.2.1", "static 10.1.0.0/16 100.64.0.0/16"},
		 "rule 2: static inside prefix overlaps rule 1's"},
		{{"static 10.1.0.0/16 100.64.0.0/16", "masquerade 10.0.0.0/8 192.0.2.1"},
		 "rule 2: masquerade inside prefix overlaps rule 1's"},
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(bad); i++) {
		err[0] = '\0';
		assert_null(make_nat(bad[i].rules, 2, err, sizeof(err)));
		assert_int_equal(rte_errno, EINVAL);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].msg);
	}
}

/* Trustgrid: Node2 maps the remote source to a local address and the
 * virtual destination to the real server; replies get both back. */
static void
test_nat_view_static_both_sides_and_replies(void **state)
{
	static const char *const rules[] = {
		"static 10.100.2.1/32 172.16.1.100/32",
		"static 172.16.1.20/32 10.100.1.1/32",
	};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 2, err, sizeof(err));
	struct dpf_flow_key k;
	struct dpf_flow_nat post;
	uint32_t sr, dr;

	(void)state;
	assert_non_null(nat);
	key_of(&k, 6, "10.100.2.1", 40000, "10.100.1.1", 22);
	dpf_nat_view(nat, &k, &post, &sr, &dr);
	assert_string_equal(txt(4, post.src_addr), "172.16.1.100");
	assert_string_equal(txt(4, post.dst_addr), "172.16.1.20");
	assert_int_equal(post.src_port, 40000);
	assert_int_equal(sr, 1);
	assert_int_equal(dr, 2);
	key_of(&k, 6, "172.16.1.20", 22, "172.16.1.100", 40000);
	dpf_nat_view(nat, &k, &post, &sr, &dr);
	assert_string_equal(txt(4, post.src_addr), "10.100.1.1");
	assert_string_equal(txt(4, post.dst_addr), "10.100.2.1");
	/* No rule: the post view is the packet's own. */
	key_of(&k, 17, "192.0.2.1", 1, "192.0.2.2", 2);
	dpf_nat_view(nat, &k, &post, &sr, &dr);
	assert_memory_equal(post.src_addr, k.src_addr, 16);
	assert_int_equal(sr + dr, 0);
	dpf_nat_free(nat);
}

static void
test_nat_view_prefix_keeps_host_bits_v4_and_v6(void **state)
{
	static const char *const rules[] = {
		"static 10.0.0.0/24 100.64.7.0/24",
		"static 2001:db8:1::/48 2001:db8:ffff::/48",
	};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 2, err, sizeof(err));
	struct dpf_flow_key k;
	struct dpf_flow_nat post;

	(void)state;
	if (nat == NULL)
		fail_msg("%s", err);
	key_of(&k, 17, "10.0.0.77", 1, "8.8.8.8", 53);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_string_equal(txt(4, post.src_addr), "100.64.7.77");
	key_of(&k, 17, "8.8.8.8", 53, "100.64.7.9", 1);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_string_equal(txt(4, post.dst_addr), "10.0.0.9");
	key_of(&k, 6, "2001:db8:1:2::3", 1, "2001:db8:9::1", 80);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_string_equal(txt(6, post.src_addr), "2001:db8:ffff:2::3");
	dpf_nat_free(nat);
}

static void
test_nat_view_dnat_forward_and_reply(void **state)
{
	static const char *const rules[] = {"dnat tcp 203.0.113.10:443 10.0.0.5:8443"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_flow_key k;
	struct dpf_flow_nat post;
	uint32_t sr, dr;

	(void)state;
	assert_non_null(nat);
	key_of(&k, 6, "198.51.100.7", 50000, "203.0.113.10", 443);
	dpf_nat_view(nat, &k, &post, &sr, &dr);
	assert_string_equal(txt(4, post.dst_addr), "10.0.0.5");
	assert_int_equal(post.dst_port, 8443);
	assert_int_equal(dr, 1);
	key_of(&k, 6, "10.0.0.5", 8443, "198.51.100.7", 50000);
	dpf_nat_view(nat, &k, &post, &sr, &dr);
	assert_string_equal(txt(4, post.src_addr), "203.0.113.10");
	assert_int_equal(post.src_port, 443);
	assert_int_equal(sr, 1);
	/* Another protocol or port does not match. */
	key_of(&k, 17, "198.51.100.7", 50000, "203.0.113.10", 443);
	dpf_nat_view(nat, &k, &post, &sr, &dr);
	assert_int_equal(dr, 0);
	dpf_nat_free(nat);
}

static struct dpf_rss rss;

static struct dpf_nat_sessions *
make_sessions(struct dpf_nat *nat, uint16_t nq, uint16_t q, uint32_t cap,
	      struct dpf_nat_icmp *icmp)
{
	struct dpf_nat_sessions_params p = {
		.capacity = cap, .socket_id = -1, .nat = nat, .icmp = icmp, .rss = &rss,
		.n_queues = nq, .queue = q, .timeout_ns = 1000,
	};
	char name[32];

	snprintf(name, sizeof(name), "ts%u", name_seq++);
	p.name = name;
	return dpf_nat_sessions_create(&p);
}

/* Member m of a shared group: no steering, the port range split by member. */
static struct dpf_nat_sessions *
make_member(struct dpf_nat *nat, struct dpf_nat_group *g, uint16_t m, uint32_t cap,
	    struct dpf_nat_icmp *icmp)
{
	struct dpf_nat_sessions_params p = {
		.capacity = cap,
		.socket_id = -1,
		.nat = nat,
		.icmp = icmp,
		.rss = NULL,
		.n_queues = DPF_NAT_GROUP_MAX,
		.queue = m,
		.timeout_ns = 1000,
		.group = g,
	};
	char name[32];

	snprintf(name, sizeof(name), "tm%u", name_seq++);
	p.name = name;
	return dpf_nat_sessions_create(&p);
}

/* Apply to a packet whose stateless view comes first, as the RX path does. */
static int
apply(struct dpf_nat_sessions *s, const struct dpf_nat *nat, const struct dpf_flow_key *k,
      uint64_t now, struct dpf_flow_nat *post)
{
	uint16_t id;
	uint32_t rule;

	dpf_nat_view(nat, k, post, NULL, NULL);
	return dpf_nat_sessions_apply(s, k, 0, 0, now, post, &id, &rule);
}

static void
test_nat_masquerade_session_created_reused_and_replies_detranslated(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.1.0/24 10.0.0.220 20000-20999"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_sessions *s;
	struct dpf_nat_sessions_stats st;
	struct dpf_flow_key k, reply;
	struct dpf_flow_nat post, post2;
	uint16_t id;
	uint32_t rule = 0;

	(void)state;
	assert_non_null(nat);
	assert_true(dpf_nat_has_masquerade(nat));
	s = make_sessions(nat, 1, 0, 64, NULL);
	assert_non_null(s);
	key_of(&k, 6, "10.0.1.5", 33000, "203.0.113.5", 443);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(s, &k, 0, 0, 10, &post, &id, &rule), 1);
	assert_string_equal(txt(4, post.src_addr), "10.0.0.220");
	assert_true(post.src_port >= 20000 && post.src_port <= 20999);
	assert_int_equal(rule, 1);
	dpf_nat_view(nat, &k, &post2, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(s, &k, 0, 0, 11, &post2, &id, &rule), 1);
	assert_int_equal(post2.src_port, post.src_port);
	key_of(&reply, 6, "203.0.113.5", 443, "10.0.0.220", post.src_port);
	dpf_nat_view(nat, &reply, &post2, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(s, &reply, 0, 0, 12, &post2, &id, &rule), 1);
	assert_string_equal(txt(4, post2.dst_addr), "10.0.1.5");
	assert_int_equal(post2.dst_port, 33000);
	/* A packet to the outside address without a session. */
	key_of(&reply, 6, "203.0.113.5", 443, "10.0.0.220", 1);
	dpf_nat_view(nat, &reply, &post2, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(s, &reply, 0, 0, 12, &post2, &id, &rule), -ENOENT);
	/* Not from the inside prefix: untouched. */
	key_of(&k, 6, "10.9.9.9", 1, "203.0.113.5", 443);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(s, &k, 0, 0, 12, &post, &id, &rule), 0);
	dpf_nat_sessions_get_stats(s, &st);
	assert_int_equal(st.created, 1);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.no_session, 1);
	/* Expiry after the idle timeout (1000 ns here). */
	assert_int_equal(dpf_nat_sessions_expire(s, 500), 0);
	assert_int_equal(dpf_nat_sessions_expire(s, 5000), 1);
	dpf_nat_sessions_free(s);
	dpf_nat_free(nat);
}

static void
test_nat_masquerade_port_makes_reply_hash_to_the_same_queue(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.0.0/8 192.0.2.1"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_sessions *s[4];
	struct dpf_nat_sessions_stats st;
	uint64_t tries = 0;
	uint16_t q, id;
	uint32_t rule, i;

	(void)state;
	assert_non_null(nat);
	for (q = 0; q < 4; q++) {
		s[q] = make_sessions(nat, 4, q, 4096, NULL);
		assert_non_null(s[q]);
	}
	srand(17);
	for (i = 0; i < 2000; i++) {
		struct dpf_flow_key k, reply;
		struct dpf_flow_nat post;
		struct dpf_pkt_info pi;
		char src[32], dst[32];

		snprintf(src, sizeof(src), "10.%d.%d.%d", rand() % 256, rand() % 256, rand() % 256);
		snprintf(dst, sizeof(dst), "198.51.%d.%d", rand() % 256, rand() % 256);
		key_of(&k, (i & 1) ? 6 : 17, src, (uint16_t)(1024 + rand() % 60000), dst,
		       (uint16_t)(1 + rand() % 1000));
		/* The core that owns the outbound packet, as the NIC picks it. */
		memset(&pi, 0, sizeof(pi));
		pi.family = 4;
		pi.proto = k.proto;
		memcpy(pi.src_addr, k.src_addr, 16);
		memcpy(pi.dst_addr, k.dst_addr, 16);
		pi.l4.src_port = k.src_port;
		pi.l4.dst_port = k.dst_port;
		q = dpf_rss_queue(dpf_rss_hash_pkt(&rss, &pi), 4);
		dpf_nat_view(nat, &k, &post, NULL, NULL);
		assert_int_equal(dpf_nat_sessions_apply(s[q], &k, 0, 0, 1, &post, &id, &rule), 1);
		/* The reply, as the NIC sees it, must land on the same queue. */
		memset(&pi, 0, sizeof(pi));
		pi.family = 4;
		pi.proto = k.proto;
		memcpy(pi.src_addr, k.dst_addr, 16);
		memcpy(pi.dst_addr, post.src_addr, 16);
		pi.l4.src_port = k.dst_port;
		pi.l4.dst_port = post.src_port;
		assert_int_equal(dpf_rss_queue(dpf_rss_hash_pkt(&rss, &pi), 4), q);
		key_of(&reply, k.proto, dst, k.dst_port, "192.0.2.1", post.src_port);
		dpf_nat_view(nat, &reply, &post, NULL, NULL);
		assert_int_equal(dpf_nat_sessions_apply(s[q], &reply, 0, 0, 2, &post, &id, &rule), 1);
		assert_memory_equal(post.dst_addr, k.src_addr, 16);
		assert_int_equal(post.dst_port, k.src_port);
	}
	for (q = 0; q < 4; q++) {
		dpf_nat_sessions_get_stats(s[q], &st);
		tries += st.port_tries;
		dpf_nat_sessions_free(s[q]);
	}
	/* About n_queues candidates per session with a uniform hash. */
	assert_true(tries < 2000 * 8);
	dpf_nat_free(nat);
}

static void
test_nat_masquerade_exhausted_range_fails_enospc_and_counts(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.0.0/8 192.0.2.1 5000-5002"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_sessions *s;
	struct dpf_nat_sessions_stats st;
	struct dpf_flow_key k;
	struct dpf_flow_nat post;
	uint16_t id, port;
	uint32_t rule;

	(void)state;
	s = make_sessions(nat, 1, 0, 64, NULL);
	assert_non_null(s);
	for (port = 1; port <= 4; port++) {
		key_of(&k, 17, "10.0.0.1", port, "198.51.100.1", 53);
		dpf_nat_view(nat, &k, &post, NULL, NULL);
		assert_int_equal(dpf_nat_sessions_apply(s, &k, 0, 0, 1, &post, &id, &rule),
				 port <= 3 ? 1 : -ENOSPC);
	}
	/* The same remote on another port still has all three ports free. */
	key_of(&k, 17, "10.0.0.1", 9, "198.51.100.1", 54);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(s, &k, 0, 0, 1, &post, &id, &rule), 1);
	dpf_nat_sessions_get_stats(s, &st);
	assert_int_equal(st.port_exhausted, 1);
	dpf_nat_sessions_free(s);
	dpf_nat_free(nat);
}

static void
test_nat_masquerade_icmp_echo_shared_across_cores(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.0.0/8 192.0.2.1"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_icmp *icmp = dpf_nat_icmp_create("ticmp", 64, -1);
	struct dpf_nat_sessions *a, *b;
	struct dpf_flow_key k, reply;
	struct dpf_flow_nat post;
	uint16_t out_id, in_id;
	uint32_t rule;

	(void)state;
	assert_non_null(icmp);
	a = make_sessions(nat, 2, 0, 64, icmp);
	b = make_sessions(nat, 2, 1, 64, icmp);
	key_of(&k, 1, "10.0.0.9", 0, "198.51.100.1", 0);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(a, &k, 1, 777, 1, &post, &out_id, &rule), 1);
	assert_string_equal(txt(4, post.src_addr), "192.0.2.1");
	/* The reply reaches the other core (ICMP is hashed on addresses). */
	key_of(&reply, 1, "198.51.100.1", 0, "192.0.2.1", 0);
	dpf_nat_view(nat, &reply, &post, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(b, &reply, 2, out_id, 2, &post, &in_id, &rule), 1);
	assert_int_equal(in_id, 777);
	assert_string_equal(txt(4, post.dst_addr), "10.0.0.9");
	assert_int_equal(dpf_nat_sessions_expire(a, 100000), 0);
	assert_int_equal(dpf_nat_sessions_apply(b, &reply, 2, out_id, 100001, &post, &in_id, &rule),
			 -ENOENT);
	dpf_nat_sessions_free(a);
	dpf_nat_sessions_free(b);
	dpf_nat_icmp_free(icmp);
	dpf_nat_free(nat);
}

static void
test_nat_shared_reply_found_in_the_owners_table(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.1.0/24 10.0.0.220 20000-20999"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_group *g = dpf_nat_group_create(2, -1);
	struct dpf_nat_sessions *a, *b;
	struct dpf_nat_sessions_stats st;
	struct dpf_flow_key k, reply;
	struct dpf_flow_nat post, post2;

	(void)state;
	assert_non_null(g);
	a = make_member(nat, g, 0, 64, NULL);
	b = make_member(nat, g, 1, 64, NULL);
	assert_non_null(a);
	assert_non_null(b);
	/* Member 0 opens the session: an even offset in the range. */
	key_of(&k, 17, "10.0.1.5", 33000, "203.0.113.5", 53);
	assert_int_equal(apply(a, nat, &k, 10, &post), 1);
	assert_int_equal((post.src_port - 20000) % 2, 0);
	/* The reply reaches member 1 (the kernel's fanout chose its queue). */
	key_of(&reply, 17, "203.0.113.5", 53, "10.0.0.220", post.src_port);
	assert_int_equal(apply(b, nat, &reply, 11, &post2), 1);
	assert_string_equal(txt(4, post2.dst_addr), "10.0.1.5");
	assert_int_equal(post2.dst_port, 33000);
	/* The next outbound packet on member 1 uses the same session. */
	assert_int_equal(apply(b, nat, &k, 12, &post2), 1);
	assert_int_equal(post2.src_port, post.src_port);
	dpf_nat_sessions_get_stats(b, &st);
	assert_int_equal(st.created, 0);
	assert_int_equal(st.remote_hits, 2);
	/* A port of member 1's share without a session: not found, counted. */
	key_of(&reply, 17, "203.0.113.5", 53, "10.0.0.220", post.src_port + 1);
	assert_int_equal(apply(a, nat, &reply, 13, &post2), -ENOENT);
	dpf_nat_sessions_get_stats(a, &st);
	assert_int_equal(st.no_session, 1);
	dpf_nat_sessions_free(a);
	dpf_nat_sessions_free(b);
	dpf_nat_group_free(g);
	dpf_nat_free(nat);
}

static void
test_nat_shared_members_split_the_port_range(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.0.0/8 192.0.2.1 5000-5004"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_group *g = dpf_nat_group_create(2, -1);
	struct dpf_nat_sessions *m[2];
	struct dpf_flow_key k;
	struct dpf_flow_nat post;
	uint16_t port;
	int seen[5] = {0};
	uint16_t i;

	(void)state;
	m[0] = make_member(nat, g, 0, 64, NULL);
	m[1] = make_member(nat, g, 1, 64, NULL);
	/* Member 0 owns 5000, 5002, 5004; member 1 5001, 5003. */
	for (i = 0; i < 2; i++) {
		for (port = 1; port <= 4; port++) {
			key_of(&k, 17, "10.0.0.1", (uint16_t)(i * 100 + port), "198.51.100.1", 53);
			if (port > (i == 0 ? 3 : 2)) {
				assert_int_equal(apply(m[i], nat, &k, 1, &post), -ENOSPC);
				continue;
			}
			assert_int_equal(apply(m[i], nat, &k, 1, &post), 1);
			assert_int_equal((post.src_port - 5000) % 2, i);
			seen[post.src_port - 5000]++;
		}
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(seen[i], 1);
	dpf_nat_sessions_free(m[0]);
	dpf_nat_sessions_free(m[1]);
	dpf_nat_group_free(g);
	dpf_nat_free(nat);
}

static void
test_nat_shared_expired_session_reused_after_grace_period(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.0.0/8 192.0.2.1 6000-6001"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 1, err, sizeof(err));
	struct dpf_nat_group *g = dpf_nat_group_create(2, -1);
	struct dpf_nat_sessions *a, *b;
	struct dpf_nat_sessions_stats st;
	struct dpf_flow_key k, k2, reply;
	struct dpf_flow_nat post, post2;

	(void)state;
	/* One session slot on member 0. */
	a = make_member(nat, g, 0, 1, NULL);
	b = make_member(nat, g, 1, 8, NULL);
	dpf_nat_sessions_quiescent(a);
	dpf_nat_sessions_quiescent(b);
	key_of(&k, 6, "10.0.0.1", 1000, "198.51.100.1", 80);
	assert_int_equal(apply(a, nat, &k, 10, &post), 1);
	key_of(&reply, 6, "198.51.100.1", 80, "192.0.2.1", post.src_port);
	assert_int_equal(apply(b, nat, &reply, 11, &post2), 1);
	/* Idle past the timeout: deleted, but member 1 may still hold it. */
	assert_int_equal(dpf_nat_sessions_expire(a, 5000), 1);
	assert_int_equal(apply(b, nat, &reply, 5001, &post2), -ENOENT);
	dpf_nat_sessions_get_stats(a, &st);
	assert_int_equal(st.retired, 1);
	key_of(&k2, 6, "10.0.0.2", 1000, "198.51.100.1", 80);
	assert_int_equal(apply(a, nat, &k2, 5002, &post), -ENOSPC);
	/* Member 1 passes a quiescent state, but the owner has not yet. */
	dpf_nat_sessions_quiescent(b);
	assert_int_equal(apply(a, nat, &k2, 5003, &post), -ENOSPC);
	/* Both have: the slot comes back. */
	dpf_nat_sessions_quiescent(a);
	assert_int_equal(apply(a, nat, &k2, 5004, &post), 1);
	dpf_nat_sessions_get_stats(a, &st);
	assert_int_equal(st.retired, 0);
	assert_int_equal(st.created, 2);
	/* An offline member does not hold grace periods back. */
	dpf_nat_sessions_offline(b);
	assert_int_equal(dpf_nat_sessions_expire(a, 100000), 1);
	dpf_nat_sessions_quiescent(a);
	assert_int_equal(apply(a, nat, &k, 100001, &post), 1);
	dpf_nat_sessions_free(a);
	dpf_nat_sessions_free(b);
	dpf_nat_group_free(g);
	dpf_nat_free(nat);
}

/* An ICMP error's view: outer tuple and quoted tuple (echo: id). */
static int
error_view(const struct dpf_nat *nat, struct dpf_nat_sessions *s, const char *osrc,
	   const char *odst, const struct dpf_flow_key *quoted, uint8_t echo, uint16_t id,
	   struct dpf_flow_nat *opost, struct dpf_flow_nat *qpost, uint16_t *qid)
{
	struct dpf_flow_key outer;
	uint32_t rule;

	key_of(&outer, quoted->family == 4 ? 1 : 58, osrc, 0, odst, 0);
	return dpf_nat_icmp_error_view(nat, s, &outer, quoted, echo, id, opost, qpost, qid, &rule);
}

static void
test_nat_icmp_error_masquerade_quoted_source_detranslated(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.1.0/24 10.0.0.220 20000-20999",
					    "masquerade fd88::/64 2001:db8::1"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 2, err, sizeof(err));
	struct dpf_nat_icmp *icmp = dpf_nat_icmp_create("ticmp2", 64, -1);
	struct dpf_nat_group *g = dpf_nat_group_create(2, -1);
	struct dpf_nat_sessions *a, *b;
	struct dpf_nat_sessions_stats st, st2;
	struct dpf_flow_key k, q;
	struct dpf_flow_nat post, opost, qpost;
	uint16_t id, out_id, qid;
	uint32_t rule;

	(void)state;
	a = make_member(nat, g, 0, 64, icmp);
	b = make_member(nat, g, 1, 64, icmp);
	key_of(&k, 17, "10.0.1.5", 33000, "203.0.113.5", 9);
	assert_int_equal(apply(a, nat, &k, 10, &post), 1);
	/* Port unreachable from the remote, to the outside address, quoting the
	 * translated datagram; it reaches the other member. */
	key_of(&q, 17, "10.0.0.220", post.src_port, "203.0.113.5", 9);
	assert_int_equal(
		error_view(nat, b, "203.0.113.5", "10.0.0.220", &q, 0, 0, &opost, &qpost, &qid), 1);
	assert_string_equal(txt(4, opost.src_addr), "203.0.113.5");
	assert_string_equal(txt(4, opost.dst_addr), "10.0.1.5");
	assert_string_equal(txt(4, qpost.src_addr), "10.0.1.5");
	assert_int_equal(qpost.src_port, 33000);
	assert_string_equal(txt(4, qpost.dst_addr), "203.0.113.5");
	assert_int_equal(qpost.dst_port, 9);
	/* A router on the way reports it (outer source is not the quoted destination). */
	assert_int_equal(
		error_view(nat, a, "198.51.100.254", "10.0.0.220", &q, 0, 0, &opost, &qpost, &qid),
		1);
	assert_string_equal(txt(4, opost.src_addr), "198.51.100.254");
	assert_string_equal(txt(4, opost.dst_addr), "10.0.1.5");
	/* A router inside the prefix reports a reply it could not deliver: it
	 * speaks with the outside address, the quote shows the translated port. */
	key_of(&q, 17, "203.0.113.5", 9, "10.0.1.5", 33000);
	assert_int_equal(
		error_view(nat, b, "10.0.1.254", "203.0.113.5", &q, 0, 0, &opost, &qpost, &qid), 1);
	assert_string_equal(txt(4, opost.src_addr), "10.0.0.220");
	assert_string_equal(txt(4, qpost.dst_addr), "10.0.0.220");
	assert_int_equal(qpost.dst_port, post.src_port);
	/* No session for the quoted port: drop. */
	key_of(&q, 17, "10.0.0.220", post.src_port + 2, "203.0.113.5", 9);
	assert_int_equal(
		error_view(nat, b, "203.0.113.5", "10.0.0.220", &q, 0, 0, &opost, &qpost, &qid),
		-ENOENT);
	/* ICMPv6: an echo request quoted with the outside identifier. */
	key_of(&k, 58, "fd88::1", 0, "2001:db8:1::100", 0);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_int_equal(dpf_nat_sessions_apply(a, &k, 1, 4242, 20, &post, &out_id, &rule), 1);
	key_of(&q, 58, "2001:db8::1", 0, "2001:db8:1::100", 0);
	assert_int_equal(error_view(nat, b, "2001:db8:1::100", "2001:db8::1", &q, 1, out_id, &opost,
				    &qpost, &qid),
			 1);
	assert_string_equal(txt(6, opost.dst_addr), "fd88::1");
	assert_string_equal(txt(6, qpost.src_addr), "fd88::1");
	assert_int_equal(qid, 4242);
	/* From inside, about a packet without a mapping: dropped (RFC 5508 4.1),
	 * and no session is opened for it. */
	dpf_nat_sessions_get_stats(a, &st);
	key_of(&q, 17, "203.0.113.7", 7, "10.0.1.9", 7000);
	assert_int_equal(
		error_view(nat, a, "10.0.1.9", "203.0.113.7", &q, 0, 0, &opost, &qpost, &qid),
		-ENOENT);
	dpf_nat_sessions_get_stats(a, &st2);
	assert_int_equal(st2.created, st.created);
	(void)id;
	dpf_nat_sessions_free(a);
	dpf_nat_sessions_free(b);
	dpf_nat_group_free(g);
	dpf_nat_icmp_free(icmp);
	dpf_nat_free(nat);
}

static void
test_nat_icmp_error_static_and_dnat_both_directions(void **state)
{
	static const char *const rules[] = {"static 10.99.0.0/24 100.64.0.0/24",
					    "dnat udp 100.64.1.10:9090 10.99.0.1:19"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 2, err, sizeof(err));
	struct dpf_flow_key q;
	struct dpf_flow_nat opost, qpost;
	uint16_t qid;

	(void)state;
	assert_non_null(nat);
	/* Outside answers a statically translated datagram: both de-translated. */
	key_of(&q, 17, "100.64.0.1", 40003, "203.0.113.100", 9);
	assert_int_equal(error_view(nat, NULL, "203.0.113.100", "100.64.0.1", &q, 0, 0, &opost,
				    &qpost, &qid),
			 1);
	assert_string_equal(txt(4, opost.dst_addr), "10.99.0.1");
	assert_string_equal(txt(4, qpost.src_addr), "10.99.0.1");
	assert_int_equal(qpost.src_port, 40003);
	assert_string_equal(txt(4, qpost.dst_addr), "203.0.113.100");
	/* The inside host refuses a datagram that came in by the static rule. */
	key_of(&q, 17, "203.0.113.102", 5000, "10.99.0.1", 9);
	assert_int_equal(
		error_view(nat, NULL, "10.99.0.1", "203.0.113.102", &q, 0, 0, &opost, &qpost, &qid),
		1);
	assert_string_equal(txt(4, opost.src_addr), "100.64.0.1");
	assert_string_equal(txt(4, qpost.dst_addr), "100.64.0.1");
	assert_int_equal(qpost.dst_port, 9);
	/* ... and one that came in by the port forward: the public address:port. */
	key_of(&q, 17, "203.0.113.101", 5001, "10.99.0.1", 19);
	assert_int_equal(
		error_view(nat, NULL, "10.99.0.1", "203.0.113.101", &q, 0, 0, &opost, &qpost, &qid),
		1);
	assert_string_equal(txt(4, opost.src_addr), "100.64.1.10");
	assert_string_equal(txt(4, qpost.dst_addr), "100.64.1.10");
	assert_int_equal(qpost.dst_port, 9090);
	/* Nothing of ours: unchanged. */
	key_of(&q, 17, "198.51.100.1", 1, "198.51.100.2", 2);
	assert_int_equal(error_view(nat, NULL, "198.51.100.2", "198.51.100.1", &q, 0, 0, &opost,
				    &qpost, &qid),
			 0);
	dpf_nat_free(nat);
}

static void
test_nat_needs_ports_and_masquerade_missed(void **state)
{
	static const char *const rules[] = {"masquerade 10.0.1.0/24 10.0.0.220",
					    "dnat udp 203.0.113.10:53 10.0.2.5:5353",
					    "static 10.0.3.0/24 100.64.0.0/24"};
	char err[256];
	struct dpf_nat *nat = make_nat(rules, 3, err, sizeof(err));
	struct dpf_flow_key k;
	struct dpf_flow_nat post;

	(void)state;
	assert_non_null(nat);
	/* Ports matter: masquerade either way, a port forward's two addresses. */
	key_of(&k, 17, "10.0.1.5", 0, "198.51.100.1", 0);
	assert_true(dpf_nat_needs_ports(nat, &k));
	key_of(&k, 17, "198.51.100.1", 0, "10.0.0.220", 0);
	assert_true(dpf_nat_needs_ports(nat, &k));
	key_of(&k, 17, "198.51.100.1", 0, "203.0.113.10", 0);
	assert_true(dpf_nat_needs_ports(nat, &k));
	key_of(&k, 17, "10.0.2.5", 0, "198.51.100.1", 0);
	assert_true(dpf_nat_needs_ports(nat, &k));
	/* Not the forward's protocol; static only: addresses suffice. */
	key_of(&k, 6, "198.51.100.1", 0, "203.0.113.10", 0);
	assert_false(dpf_nat_needs_ports(nat, &k));
	key_of(&k, 17, "10.0.3.9", 0, "198.51.100.1", 0);
	assert_false(dpf_nat_needs_ports(nat, &k));
	/* A GRE packet from the masquerade prefix: no rule translates it. */
	key_of(&k, 47, "10.0.1.5", 0, "198.51.100.1", 0);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_true(dpf_nat_masquerade_missed(nat, &k, &post));
	key_of(&k, 47, "198.51.100.1", 0, "10.0.0.220", 0);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_true(dpf_nat_masquerade_missed(nat, &k, &post));
	key_of(&k, 47, "10.0.3.9", 0, "198.51.100.1", 0);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_false(dpf_nat_masquerade_missed(nat, &k, &post));
	/* The link's own traffic from the prefix passes as it is. */
	key_of(&k, 2, "10.0.1.5", 0, "224.0.0.22", 0);
	dpf_nat_view(nat, &k, &post, NULL, NULL);
	assert_false(dpf_nat_masquerade_missed(nat, &k, &post));
	dpf_nat_free(nat);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_parse_formats_round_trip),
		cmocka_unit_test(test_nat_parse_errors_name_the_token),
		cmocka_unit_test(test_nat_create_rejects_conflicting_rules),
		cmocka_unit_test(test_nat_view_static_both_sides_and_replies),
		cmocka_unit_test(test_nat_view_prefix_keeps_host_bits_v4_and_v6),
		cmocka_unit_test(test_nat_view_dnat_forward_and_reply),
		cmocka_unit_test(
			test_nat_masquerade_session_created_reused_and_replies_detranslated),
		cmocka_unit_test(test_nat_masquerade_port_makes_reply_hash_to_the_same_queue),
		cmocka_unit_test(test_nat_masquerade_exhausted_range_fails_enospc_and_counts),
		cmocka_unit_test(test_nat_masquerade_icmp_echo_shared_across_cores),
		cmocka_unit_test(test_nat_shared_reply_found_in_the_owners_table),
		cmocka_unit_test(test_nat_shared_members_split_the_port_range),
		cmocka_unit_test(test_nat_shared_expired_session_reused_after_grace_period),
		cmocka_unit_test(test_nat_icmp_error_masquerade_quoted_source_detranslated),
		cmocka_unit_test(test_nat_icmp_error_static_and_dnat_both_directions),
		cmocka_unit_test(test_nat_needs_ports_and_masquerade_missed),
	};

	(void)argc;
	dpf_rss_init(&rss, dpf_rss_symmetric_key);
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
