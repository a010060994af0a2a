/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/fmt: format strings, the version rule, header lines and
 * record lines, checked byte for byte against the samples of formats.md.
 *
 * Manual throughput check (not a test, no timing assertion): run with
 * DPF_FMT_BENCH=1 in the environment: instead of the tests, test_fmt_bench runs
 * and prints records/s for the default and v3 sample formats.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "dpf_fmt.h"

#define V3_SAMPLE_FORMAT                                                                  \
	"${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} "  \
	"${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} " \
	"${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}"

static const struct dpf_iface_meta sample_iface = {
	.account_id = "123456789010",
	.interface_id = "eni-1235b8ca123456789",
	.vpc_id = "vpc-abcdefab012345678",
	.subnet_id = "subnet-aaaaaaaa012345678",
	.instance_id = "i-01234567890123456",
};

static const struct dpf_fmt_ctx sample_ctx = {
	.ifaces = &sample_iface,
	.n_ifaces = 1,
};

static struct dpf_fmt *
parse_ok(const char *format)
{
	char err[256] = "";
	struct dpf_fmt *f = dpf_fmt_parse(format, err, sizeof(err));

	if (f == NULL)
		fail_msg("parse of '%s' failed: %s", format, err);
	return f;
}

/* Parse must fail with EINVAL and a message containing `want`. */
static void
parse_fails_with(const char *format, const char *want)
{
	char err[256] = "";
	struct dpf_fmt *f;

	rte_errno = 0;
	f = dpf_fmt_parse(format, err, sizeof(err));
	if (f != NULL) {
		dpf_fmt_free(f);
		fail_msg("parse of '%s' succeeded, expected '%s'", format, want);
	}
	assert_int_equal(rte_errno, EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("parse of '%s': message '%s' lacks '%s'", format, err, want);
}

static void
addr_from_text(uint8_t *out, uint8_t family, const char *text)
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, text, out), 1);
}

/* An OK record with the post-NAT view equal to the packet's (no NAT). */
static struct dpf_record
flow_record(uint8_t family, const char *src, const char *dst, uint16_t sport, uint16_t dport,
	    uint8_t proto, uint64_t packets, uint64_t bytes, uint64_t start, uint64_t end)
{
	struct dpf_record r;

	memset(&r, 0, sizeof(r));
	r.key.family = family;
	addr_from_text(r.key.src_addr, family, src);
	addr_from_text(r.key.dst_addr, family, dst);
	r.key.src_port = sport;
	r.key.dst_port = dport;
	r.key.proto = proto;
	r.key.action = DPF_ACTION_ACCEPT;
	memcpy(r.post.src_addr, r.key.src_addr, 16);
	memcpy(r.post.dst_addr, r.key.dst_addr, 16);
	r.post.src_port = sport;
	r.post.dst_port = dport;
	r.packets = packets;
	r.bytes = bytes;
	r.start = start;
	r.end = end;
	r.log_status = DPF_LOG_OK;
	return r;
}

static void
assert_line(const struct dpf_fmt *f, const struct dpf_fmt_ctx *ctx, const struct dpf_record *r,
	    const char *want)
{
	char line[DPF_FMT_LINE_MAX];
	int n = dpf_fmt_record(f, ctx, r, line, sizeof(line));

	assert_true(n > 0);
	assert_string_equal(line, want);
	assert_int_equal(n, (int)strlen(want));
}

/* ---- parsing and the version rule ---- */

static void
test_fmt_parse_default_is_version_2(void **state)
{
	struct dpf_fmt *f = parse_ok(DPF_FMT_DEFAULT);

	(void)state;
	assert_true(dpf_fmt_is_default(f));
	assert_int_equal(dpf_fmt_version(f), 2);
	assert_int_equal(dpf_fmt_field_count(f), 14);
	dpf_fmt_free(f);
}

static void
test_fmt_parse_v3_sample_is_version_3(void **state)
{
	struct dpf_fmt *f = parse_ok(V3_SAMPLE_FORMAT);

	(void)state;
	assert_false(dpf_fmt_is_default(f));
	assert_int_equal(dpf_fmt_version(f), 3);
	assert_int_equal(dpf_fmt_field_count(f), 21);
	dpf_fmt_free(f);
}

static void
test_fmt_parse_custom_v2_fields_is_version_2(void **state)
{
	/* The default fields in another order: custom, still version 2. */
	struct dpf_fmt *f = parse_ok("${account-id} ${version} ${srcaddr}");

	(void)state;
	assert_false(dpf_fmt_is_default(f));
	assert_int_equal(dpf_fmt_version(f), 2);
	dpf_fmt_free(f);

	/* The default fields minus the last one are not the default format. */
	f = parse_ok("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
		     "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action}");
	assert_false(dpf_fmt_is_default(f));
	dpf_fmt_free(f);
}

static void
test_fmt_parse_v4_v5_fields_raise_version(void **state)
{
	static const struct {
		const char *format;
		unsigned int version;
	} cases[] = {
		{"${version} ${vpc-id}", 3},
		{"${version} ${tcp-flags}", 3},
		{"${version} ${region}", 4},
		{"${az-id} ${version}", 4},
		{"${version} ${sublocation-type} ${sublocation-id}", 4},
		{"${version} ${flow-direction}", 5},
		{"${traffic-path} ${region} ${vpc-id}", 5},
		{"${version} ${pkt-dst-aws-service} ${srcaddr}", 5},
		{DPF_FMT_DEFAULT " ${region}", 4},
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dpf_fmt *f = parse_ok(cases[i].format);

		assert_false(dpf_fmt_is_default(f));
		if (dpf_fmt_version(f) != cases[i].version)
			fail_msg("'%s': version %u, expected %u", cases[i].format,
				 dpf_fmt_version(f), cases[i].version);
		dpf_fmt_free(f);
	}
}

static void
test_fmt_parse_extension_fields_do_not_raise_version(void **state)
{
	struct dpf_fmt *f = parse_ok("${version} ${pkt-srcport} ${pkt-dstport} ${tcp-flags-all}");

	(void)state;
	assert_int_equal(dpf_fmt_version(f), 2);
	dpf_fmt_free(f);
	f = parse_ok("${version} ${pkt-srcaddr} ${pkt-srcport}");
	assert_int_equal(dpf_fmt_version(f), 3);
	dpf_fmt_free(f);
}

static void
test_fmt_parse_unknown_field_is_named(void **state)
{
	(void)state;
	parse_fails_with("${version} ${foo} ${srcaddr}", "unknown field 'foo'");
	parse_fails_with("${version} ${foo} ${srcaddr}", "position 2");
	parse_fails_with("${SRCADDR}", "unknown field 'SRCADDR'");
	parse_fails_with("${srcaddr-}", "unknown field 'srcaddr-'");
}

static void
test_fmt_parse_duplicate_field_is_named(void **state)
{
	(void)state;
	parse_fails_with("${srcaddr} ${dstaddr} ${srcaddr}", "duplicate field 'srcaddr'");
	parse_fails_with("${srcaddr} ${dstaddr} ${srcaddr}", "position 3");
}

static void
test_fmt_parse_empty_format_fails(void **state)
{
	char err[64];

	(void)state;
	parse_fails_with("", "empty format");
	rte_errno = 0;
	assert_null(dpf_fmt_parse(NULL, err, sizeof(err)));
	assert_int_equal(rte_errno, EINVAL);
	assert_string_equal(err, "empty format");
}

static void
test_fmt_parse_bad_spacing_fails_with_column(void **state)
{
	(void)state;
	parse_fails_with("${srcaddr}  ${dstaddr}", "double space at column 11");
	parse_fails_with("${srcaddr} ${dstaddr} ", "trailing space at column 22");
	parse_fails_with(" ${srcaddr}", "leading space at column 1");
	parse_fails_with(" ", "leading space");
	parse_fails_with("${srcaddr}\t${dstaddr}", "column 11");
	parse_fails_with("${srcaddr}${dstaddr}", "expected ' ' or end of format at column 11");
}

static void
test_fmt_parse_missing_or_unterminated_brace_fails_with_column(void **state)
{
	(void)state;
	parse_fails_with("srcaddr", "expected '${' at column 1");
	parse_fails_with("${srcaddr} dstaddr", "expected '${' at column 12");
	parse_fails_with("${srcaddr} $dstaddr", "expected '${' at column 12");
	parse_fails_with("${srcaddr} {dstaddr}", "expected '${' at column 12");
	parse_fails_with("${srcaddr} ${dstaddr", "unterminated '${' at column 12");
	parse_fails_with("${srcaddr ${dstaddr}", "unterminated '${' at column 1");
	parse_fails_with("${", "unterminated '${' at column 1");
	parse_fails_with("$", "expected '${' at column 1");
	parse_fails_with("${} ${srcaddr}", "empty field name");
}

static void
test_fmt_parse_error_buffer_optional_and_truncated(void **state)
{
	char err[8];

	(void)state;
	rte_errno = 0;
	assert_null(dpf_fmt_parse("${nope}", NULL, 0));
	assert_int_equal(rte_errno, EINVAL);
	memset(err, 'x', sizeof(err));
	assert_null(dpf_fmt_parse("${nope}", err, sizeof(err)));
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "unknown", 7);
}

static void
test_fmt_parse_every_field_once_succeeds(void **state)
{
	const char *const *names = dpf_fmt_field_names();
	char format[2048] = "";
	struct dpf_fmt *f;
	unsigned int n;

	(void)state;
	for (n = 0; names[n] != NULL; n++) {
		if (n != 0)
			strcat(format, " ");
		strcat(format, "${");
		strcat(format, names[n]);
		strcat(format, "}");
	}
	assert_int_equal(n, 36);
	f = parse_ok(format);
	assert_int_equal(dpf_fmt_field_count(f), n);
	assert_int_equal(dpf_fmt_version(f), 5);
	dpf_fmt_free(f);
}

static void
test_fmt_field_catalogue_queries(void **state)
{
	(void)state;
	assert_int_equal(dpf_fmt_field_version("srcaddr"), 2);
	assert_int_equal(dpf_fmt_field_version("pkt-srcaddr"), 3);
	assert_int_equal(dpf_fmt_field_version("az-id"), 4);
	assert_int_equal(dpf_fmt_field_version("traffic-path"), 5);
	assert_int_equal(dpf_fmt_field_version("tcp-flags-all"), 2);
	assert_int_equal(dpf_fmt_field_version("nope"), -ENOENT);
	assert_int_equal(dpf_fmt_field_version(NULL), -ENOENT);
	assert_true(dpf_fmt_field_is_extension("pkt-srcport"));
	assert_true(dpf_fmt_field_is_extension("pkt-dstport"));
	assert_true(dpf_fmt_field_is_extension("tcp-flags-all"));
	assert_false(dpf_fmt_field_is_extension("pkt-srcaddr"));
	assert_false(dpf_fmt_field_is_extension("nope"));
}

/* ---- header ---- */

static void
test_fmt_header_default_is_exact(void **state)
{
	struct dpf_fmt *f = parse_ok(DPF_FMT_DEFAULT);
	const char *want = "version account-id interface-id srcaddr dstaddr srcport dstport "
			   "protocol packets bytes start end action log-status\n";
	char buf[512];

	(void)state;
	assert_int_equal(dpf_fmt_header(f, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	dpf_fmt_free(f);
}

static void
test_fmt_header_v3_sample_is_exact(void **state)
{
	struct dpf_fmt *f = parse_ok(V3_SAMPLE_FORMAT);
	const char *want = "version vpc-id subnet-id instance-id interface-id account-id type "
			   "srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol "
			   "bytes packets start end action tcp-flags log-status\n";
	char buf[512];

	(void)state;
	assert_int_equal(dpf_fmt_header(f, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	dpf_fmt_free(f);
}

static void
test_fmt_header_small_buffer_returns_enospc_untouched(void **state)
{
	struct dpf_fmt *f = parse_ok("${srcaddr} ${dstaddr}");
	char buf[32];
	size_t len;

	(void)state;
	/* "srcaddr dstaddr\n" is 16 bytes; the NUL needs a 17th. */
	for (len = 0; len < 17; len++) {
		memset(buf, '#', sizeof(buf));
		assert_int_equal(dpf_fmt_header(f, buf, len), -ENOSPC);
		for (size_t i = 0; i < sizeof(buf); i++)
			assert_int_equal(buf[i], '#');
	}
	assert_int_equal(dpf_fmt_header(f, buf, 17), 16);
	assert_string_equal(buf, "srcaddr dstaddr\n");
	dpf_fmt_free(f);
}

/* ---- records: the samples of formats.md ---- */

static void
test_fmt_record_aws_v2_samples_byte_for_byte(void **state)
{
	struct dpf_fmt *f = parse_ok(DPF_FMT_DEFAULT);
	struct dpf_record r;

	(void)state;
	r = flow_record(4, "172.31.16.139", "172.31.16.21", 20641, 22, 6, 20, 4249, 1418530010,
			1418530070);
	assert_line(f, &sample_ctx, &r,
		    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 "
		    "20 4249 1418530010 1418530070 ACCEPT OK\n");

	r = flow_record(4, "203.0.113.12", "172.31.16.139", 0, 0, 1, 4, 336, 1432917027,
			1432917142);
	assert_line(f, &sample_ctx, &r,
		    "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 "
		    "1432917027 1432917142 ACCEPT OK\n");

	r = flow_record(6, "2001:db8:1234:a100:8d6e:3477:df66:f105",
			"2001:db8:1234:a102:3304:8879:34cf:4071", 34892, 22, 6, 54, 8855,
			1477913708, 1477913820);
	assert_line(f, &sample_ctx, &r,
		    "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 "
		    "2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 "
		    "1477913820 ACCEPT OK\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_aws_v3_samples_byte_for_byte(void **state)
{
	struct dpf_fmt *f = parse_ok(V3_SAMPLE_FORMAT);
	struct dpf_record r;

	(void)state;
	r = flow_record(4, "52.213.180.42", "10.0.0.62", 43638, 5001, 6, 17, 1260, 1566933133,
			1566933193);
	r.tcp_flags_aws = 3;
	assert_line(f, &sample_ctx, &r,
		    "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 "
		    "eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43638 5001 "
		    "52.213.180.42 10.0.0.62 6 1260 17 1566933133 1566933193 ACCEPT 3 OK\n");

	r = flow_record(4, "10.0.0.62", "52.213.180.42", 5001, 43638, 6, 14, 967, 1566933133,
			1566933193);
	r.tcp_flags_aws = 19;
	assert_line(f, &sample_ctx, &r,
		    "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 "
		    "eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638 "
		    "10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_nodata_default_prints_dashes_and_window(void **state)
{
	struct dpf_fmt *f = parse_ok(DPF_FMT_DEFAULT);
	struct dpf_record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.key.iface = 0;
	r.start = 1431280876;
	r.end = 1431280934;
	r.log_status = DPF_LOG_NODATA;
	assert_line(f, &sample_ctx, &r,
		    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - "
		    "NODATA\n");
	r.log_status = DPF_LOG_SKIPDATA;
	assert_line(f, &sample_ctx, &r,
		    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - "
		    "SKIPDATA\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_skipdata_hides_every_flow_field_keeps_metadata(void **state)
{
	static const char *const names[] = {"service-a", "service-b"};
	struct dpf_iface_meta meta = sample_iface;
	struct dpf_fmt_ctx ctx = {.ifaces = &meta, .n_ifaces = 1, .service_names = names,
				  .n_services = 2};
	struct dpf_fmt *f;
	struct dpf_record r;

	(void)state;
	meta.region = "eu-west-1";
	meta.az_id = "euw1-az1";
	meta.sublocation_type = "wavelength";
	meta.sublocation_id = "wl-1";
	f = parse_ok("${version} ${account-id} ${interface-id} ${vpc-id} ${subnet-id} "
		     "${instance-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} "
		     "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} "
		     "${start} ${end} ${action} ${log-status} ${tcp-flags} ${type} ${pkt-srcaddr} "
		     "${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} "
		     "${flow-direction} ${traffic-path} ${pkt-srcport} ${pkt-dstport} "
		     "${tcp-flags-all}");
	/* A record full of values: a SKIPDATA row must still hide every one of them. */
	r = flow_record(4, "10.0.0.1", "10.0.0.2", 1, 2, 6, 3, 4, 100, 160);
	r.tcp_flags_aws = 2;
	r.tcp_flags_all = 0x12;
	r.direction = DPF_DIR_INGRESS;
	r.traffic_path = 1;
	r.src_service = 1;
	r.dst_service = 2;
	r.log_status = DPF_LOG_SKIPDATA;
	assert_line(f, &ctx, &r,
		    "5 123456789010 eni-1235b8ca123456789 vpc-abcdefab012345678 "
		    "subnet-aaaaaaaa012345678 i-01234567890123456 eu-west-1 euw1-az1 wavelength "
		    "wl-1 - - - - - - - 100 160 - SKIPDATA - - - - - - - - - - -\n");
	dpf_fmt_free(f);
}

/* ---- records: every field ---- */

static unsigned int
split_tokens(char *line, char **tok, unsigned int max)
{
	unsigned int n = 0;
	char *save = NULL;
	char *t;

	assert_true(line[strlen(line) - 1] == '\n');
	line[strlen(line) - 1] = '\0';
	for (t = strtok_r(line, " ", &save); t != NULL && n < max; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	return n;
}

static void
test_fmt_record_all_fields_each_token_correct(void **state)
{
	static const char *const services[] = {"AMAZON", "S3", "EC2"};
	static const struct dpf_iface_meta ifaces[2] = {
		{.account_id = "unused"},
		{
			.account_id = "111122223333",
			.interface_id = "eni-0123456789abcdef0",
			.vpc_id = "vpc-1",
			.subnet_id = "subnet-2",
			.instance_id = "i-3",
			.region = "us-east-1",
			.az_id = "use1-az4",
			.sublocation_type = "outpost",
			.sublocation_id = "op-5",
		},
	};
	const struct dpf_fmt_ctx ctx = {.ifaces = ifaces, .n_ifaces = 2,
					.service_names = services, .n_services = 3};
	static const struct {
		const char *name;
		const char *value;
	} want[] = {
		{"version", "5"},
		{"account-id", "111122223333"},
		{"interface-id", "eni-0123456789abcdef0"},
		{"srcaddr", "2001:db8::99"},
		{"dstaddr", "::ffff:192.0.2.7"},
		{"srcport", "40000"},
		{"dstport", "8443"},
		{"protocol", "6"},
		{"packets", "12"},
		{"bytes", "3456"},
		{"start", "1700000000"},
		{"end", "1700000059"},
		{"action", "REJECT"},
		{"log-status", "OK"},
		{"vpc-id", "vpc-1"},
		{"subnet-id", "subnet-2"},
		{"instance-id", "i-3"},
		{"tcp-flags", "18"},
		{"type", "IPv6"},
		{"pkt-srcaddr", "fe80::1:0:0:1"},
		{"pkt-dstaddr", "2001:db8:0:1::"},
		{"region", "us-east-1"},
		{"az-id", "use1-az4"},
		{"sublocation-type", "outpost"},
		{"sublocation-id", "op-5"},
		{"pkt-src-aws-service", "S3"},
		{"pkt-dst-aws-service", "-"},
		{"flow-direction", "egress"},
		{"traffic-path", "8"},
		{"pkt-srcport", "1234"},
		{"pkt-dstport", "443"},
		{"tcp-flags-all", "27"},
		{"tunnel-type", "geneve"},
		{"tunnel-id", "16777215"},
		{"tunnel-src", "192.0.2.1"},
		{"tunnel-dst", "192.0.2.254"},
	};
	const char *const *names = dpf_fmt_field_names();
	char format[2048] = "";
	char line[DPF_FMT_LINE_MAX];
	char *tok[64];
	struct dpf_record r;
	struct dpf_fmt *f;
	unsigned int i, n, n_names;

	(void)state;
	for (n_names = 0; names[n_names] != NULL; n_names++) {
		if (n_names != 0)
			strcat(format, " ");
		strcat(format, "${");
		strcat(format, names[n_names]);
		strcat(format, "}");
	}
	assert_int_equal(n_names, sizeof(want) / sizeof(want[0]));
	f = parse_ok(format);

	memset(&r, 0, sizeof(r));
	r.key.family = 6;
	r.key.iface = 1;
	addr_from_text(r.key.src_addr, 6, "fe80::1:0:0:1");
	addr_from_text(r.key.dst_addr, 6, "2001:db8:0:1::");
	addr_from_text(r.post.src_addr, 6, "2001:db8::99");
	addr_from_text(r.post.dst_addr, 6, "::ffff:192.0.2.7");
	r.key.src_port = 1234;
	r.key.dst_port = 443;
	r.post.src_port = 40000;
	r.post.dst_port = 8443;
	r.key.proto = 6;
	r.key.action = DPF_ACTION_REJECT;
	r.packets = 12;
	r.bytes = 3456;
	r.start = 1700000000;
	r.end = 1700000059;
	r.tcp_flags_aws = 18;
	r.tcp_flags_all = 27;
	r.log_status = DPF_LOG_OK;
	r.direction = DPF_DIR_EGRESS;
	r.traffic_path = 8;
	r.src_service = 2;
	r.dst_service = 0;
	r.key.tun_type = DPF_TUN_GENEVE;
	r.key.tun_has_id = 1;
	r.key.tun_id = 16777215;
	r.tun.family = 4;
	addr_from_text(r.tun.src_addr, 4, "192.0.2.1");
	addr_from_text(r.tun.dst_addr, 4, "192.0.2.254");

	assert_true(dpf_fmt_record(f, &ctx, &r, line, sizeof(line)) > 0);
	n = split_tokens(line, tok, 64);
	assert_int_equal(n, n_names);
	for (i = 0; i < n_names; i++) {
		assert_string_equal(names[i], want[i].name);
		if (strcmp(tok[i], want[i].value) != 0)
			fail_msg("field %s: '%s', expected '%s'", names[i], tok[i], want[i].value);
	}
	dpf_fmt_free(f);
}

static void
test_fmt_record_enum_values_print_their_words(void **state)
{
	struct dpf_fmt *f = parse_ok("${action} ${flow-direction} ${type} ${traffic-path} "
				     "${tcp-flags} ${log-status}");
	struct dpf_record r = flow_record(4, "1.2.3.4", "5.6.7.8", 0, 0, 17, 1, 28, 1, 2);

	(void)state;
	assert_line(f, &sample_ctx, &r, "ACCEPT - IPv4 - 0 OK\n");
	r.key.action = DPF_ACTION_REJECT;
	r.direction = DPF_DIR_INGRESS;
	r.traffic_path = 3;
	assert_line(f, &sample_ctx, &r, "REJECT ingress IPv4 3 0 OK\n");
	r.direction = DPF_DIR_EGRESS;
	assert_line(f, &sample_ctx, &r, "REJECT egress IPv4 3 0 OK\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_missing_metadata_prints_dash(void **state)
{
	struct dpf_iface_meta meta = {.account_id = "", .interface_id = "eni-1",
				      .vpc_id = "has space", .subnet_id = "tab\there",
				      .instance_id = "caf\xc3\xa9"};
	struct dpf_fmt_ctx ctx = {.ifaces = &meta, .n_ifaces = 1};
	struct dpf_fmt *f = parse_ok("${account-id} ${interface-id} ${vpc-id} ${subnet-id} "
				     "${instance-id} ${region} ${az-id}");
	struct dpf_record r = flow_record(4, "1.2.3.4", "5.6.7.8", 0, 0, 1, 1, 84, 1, 2);
	char longest[DPF_FMT_META_MAX + 2];
	char want[DPF_FMT_META_MAX + 64];

	(void)state;
	assert_line(f, &ctx, &r, "- eni-1 - - - - -\n");
	/* An interface index outside the table, or no table at all. */
	r.key.iface = 1;
	assert_line(f, &ctx, &r, "- - - - - - -\n");
	assert_line(f, NULL, &r, "- - - - - - -\n");
	ctx.ifaces = NULL;
	r.key.iface = 0;
	assert_line(f, &ctx, &r, "- - - - - - -\n");

	/* DPF_FMT_META_MAX bytes print; one more prints '-'. */
	ctx.ifaces = &meta;
	memset(longest, 'a', DPF_FMT_META_MAX);
	longest[DPF_FMT_META_MAX] = '\0';
	meta.account_id = longest;
	snprintf(want, sizeof(want), "%s eni-1 - - - - -\n", longest);
	assert_line(f, &ctx, &r, want);
	assert_true(dpf_fmt_meta_valid(longest));
	longest[DPF_FMT_META_MAX] = 'a';
	longest[DPF_FMT_META_MAX + 1] = '\0';
	assert_line(f, &ctx, &r, "- eni-1 - - - - -\n");
	assert_false(dpf_fmt_meta_valid(longest));
	assert_false(dpf_fmt_meta_valid(NULL));
	assert_false(dpf_fmt_meta_valid(""));
	assert_false(dpf_fmt_meta_valid("a b"));
	assert_true(dpf_fmt_meta_valid("eni-1235b8ca123456789"));
	dpf_fmt_free(f);
}

/* The definition of a valid string, one byte at a time. */
static bool
meta_valid_reference(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return i >= 1 && i <= DPF_FMT_META_MAX;
}

static void
test_fmt_meta_valid_agrees_with_bytewise_rule_at_every_alignment(void **state)
{
	static const char bad[] = {' ', '\t', '\x7f', '\x80', '\xff', '\x01'};
	char buf[DPF_FMT_META_MAX + 64] __attribute__((aligned(16)));
	unsigned int off, len, pos, b;

	(void)state;
	for (off = 0; off < 16; off++) {
		for (len = 0; len <= DPF_FMT_META_MAX + 20; len++) {
			if (len > 40 && len < DPF_FMT_META_MAX - 20)
				continue;
			memset(buf, 'x', sizeof(buf));
			buf[off + len] = '\0';
			assert_int_equal(dpf_fmt_meta_valid(buf + off), meta_valid_reference(buf + off));
			for (pos = 0; pos < len && pos < 40; pos++) {
				for (b = 0; b < sizeof(bad); b++) {
					buf[off + pos] = bad[b];
					assert_int_equal(dpf_fmt_meta_valid(buf + off),
							 meta_valid_reference(buf + off));
				}
				buf[off + pos] = 'x';
			}
		}
		/* Bytes before the string, in the same 16-byte block, do not count. */
		memset(buf, ' ', 16);
		memcpy(buf + off, "eni-1", 6);
		assert_true(dpf_fmt_meta_valid(buf + off));
	}
}

static void
test_fmt_record_service_index_out_of_range_prints_dash(void **state)
{
	static const char *const services[] = {"AMAZON", "", NULL};
	struct dpf_fmt_ctx ctx = {.ifaces = &sample_iface, .n_ifaces = 1,
				  .service_names = services, .n_services = 3};
	struct dpf_fmt *f = parse_ok("${pkt-src-aws-service} ${pkt-dst-aws-service}");
	struct dpf_record r = flow_record(4, "1.2.3.4", "5.6.7.8", 0, 0, 1, 1, 84, 1, 2);

	(void)state;
	r.src_service = 1;
	r.dst_service = 4;
	assert_line(f, &ctx, &r, "AMAZON -\n");
	r.src_service = 2;
	r.dst_service = 3;
	assert_line(f, &ctx, &r, "- -\n");
	ctx.service_names = NULL;
	r.src_service = 1;
	assert_line(f, &ctx, &r, "- -\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_post_nat_and_pre_nat_views_differ(void **state)
{
	struct dpf_fmt *f = parse_ok("${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} "
				     "${pkt-dstaddr} ${pkt-srcport} ${pkt-dstport}");
	struct dpf_record r = flow_record(4, "10.0.0.5", "198.51.100.1", 5555, 80, 6, 1, 60, 1, 1);

	(void)state;
	addr_from_text(r.post.src_addr, 4, "203.0.113.5");
	r.post.src_port = 6666;
	assert_line(f, &sample_ctx, &r,
		    "203.0.113.5 198.51.100.1 6666 80 10.0.0.5 198.51.100.1 5555 80\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_max_values_print_in_full(void **state)
{
	struct dpf_fmt *f = parse_ok("${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
				     "${packets} ${bytes} ${start} ${end} ${tcp-flags} "
				     "${tcp-flags-all} ${traffic-path}");
	struct dpf_record r = flow_record(4, "255.255.255.255", "0.0.0.0", 65535, 65535, 255,
					  UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX);

	(void)state;
	r.tcp_flags_aws = 255;
	r.tcp_flags_all = 255;
	r.traffic_path = 255;
	assert_line(f, &sample_ctx, &r,
		    "255.255.255.255 0.0.0.0 65535 65535 255 18446744073709551615 "
		    "18446744073709551615 18446744073709551615 18446744073709551615 255 255 255\n");
	dpf_fmt_free(f);
}

static void
test_fmt_tunnel_fields_dash_unless_decapsulated(void **state)
{
	struct dpf_fmt *f = parse_ok("${tunnel-type} ${tunnel-id} ${tunnel-src} ${tunnel-dst}");
	struct dpf_record r = flow_record(4, "10.0.0.1", "10.0.0.2", 1, 2, 6, 1, 40, 0, 0);

	(void)state;
	assert_line(f, &sample_ctx, &r, "- - - -\n");
	/* IP-in-IP: no id; outer IPv6 addresses. */
	r.key.tun_type = DPF_TUN_IPIP;
	r.tun.family = 6;
	addr_from_text(r.tun.src_addr, 6, "2001:db8::1");
	addr_from_text(r.tun.dst_addr, 6, "2001:db8::2");
	assert_line(f, &sample_ctx, &r, "ipip - 2001:db8::1 2001:db8::2\n");
	r.key.tun_type = DPF_TUN_GRE;
	r.key.tun_has_id = 1;
	r.key.tun_id = 4294967295u;
	assert_line(f, &sample_ctx, &r, "gre 4294967295 2001:db8::1 2001:db8::2\n");
	dpf_fmt_free(f);
}

static void
test_fmt_record_integers_match_printf(void **state)
{
	struct dpf_fmt *f = parse_ok("${packets}");
	struct dpf_record r = flow_record(4, "1.2.3.4", "5.6.7.8", 0, 0, 1, 0, 0, 0, 0);
	char line[64], want[64];
	uint64_t p10 = 1;
	unsigned int i;

	(void)state;
	srand(7);
	for (i = 0; i < 20; i++) {
		uint64_t edges[3] = {p10 - 1, p10, p10 + 1};

		for (unsigned int k = 0; k < 3; k++) {
			r.packets = edges[k];
			snprintf(want, sizeof(want), "%" PRIu64 "\n", r.packets);
			assert_true(dpf_fmt_record(f, NULL, &r, line, sizeof(line)) > 0);
			assert_string_equal(line, want);
		}
		if (i < 19)
			p10 *= 10;
	}
	for (i = 0; i < 100000; i++) {
		r.packets = ((uint64_t)rand() << 62) ^ ((uint64_t)rand() << 31) ^ (uint64_t)rand();
		r.packets >>= rand() % 64;
		snprintf(want, sizeof(want), "%" PRIu64 "\n", r.packets);
		assert_true(dpf_fmt_record(f, NULL, &r, line, sizeof(line)) > 0);
		assert_string_equal(line, want);
	}
	dpf_fmt_free(f);
}

static void
test_fmt_record_small_buffer_returns_enospc_never_overflows(void **state)
{
	struct dpf_fmt *f = parse_ok(DPF_FMT_DEFAULT);
	struct dpf_record r = flow_record(6, "2001:db8:1234:a100:8d6e:3477:df66:f105",
					  "2001:db8:1234:a102:3304:8879:34cf:4071", 34892, 22, 6,
					  54, 8855, 1477913708, 1477913820);
	char full[DPF_FMT_LINE_MAX];
	char buf[DPF_FMT_LINE_MAX + 16];
	int n = dpf_fmt_record(f, &sample_ctx, &r, full, sizeof(full));
	size_t len;

	(void)state;
	assert_true(n > 0);
	for (len = 0; len <= (size_t)n + 1; len++) {
		int got;

		memset(buf, '#', sizeof(buf));
		got = dpf_fmt_record(f, &sample_ctx, &r, len == 0 ? NULL : buf, len);
		if (len < (size_t)n) {
			assert_int_equal(got, -ENOSPC);
		} else {
			assert_int_equal(got, n);
			assert_memory_equal(buf, full, (size_t)n);
			/* The NUL comes only when there is room for it. */
			assert_int_equal(buf[n], len > (size_t)n ? '\0' : '#');
		}
		for (size_t i = len; i < sizeof(buf); i++)
			if (buf[i] != '#' && !(i == (size_t)n && len > (size_t)n))
				fail_msg("len %zu: byte %zu written", len, i);
	}
	dpf_fmt_free(f);
}

/* ---- addresses against inet_ntop ---- */

static void
assert_addr_like_inet_ntop(uint8_t family, const uint8_t *addr)
{
	char want[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN];
	int n;

	assert_non_null(inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, want, sizeof(want)));
	n = dpf_fmt_addr(got, sizeof(got), family, addr);
	if (n < 0 || strcmp(got, want) != 0)
		fail_msg("address: got '%s' (%d), inet_ntop '%s'", n < 0 ? "" : got, n, want);
	assert_int_equal(n, (int)strlen(want));
}

static void
test_fmt_addr_ipv6_edge_cases_match_inet_ntop(void **state)
{
	static const char *const cases[] = {
		"::", "::1", "1::", "2001:db8::", "1:0:0:1:0:0:0:1", "1:0:0:0:1:0:0:1",
		"::ffff:1.2.3.4", "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::1.2.3.4",
		"::0.0.1.2", "::ffff:0:1.2.3.4", "0:0:0:0:1:ffff:1.2.3.4", "fe80::1:0:0:1",
		"1:2:3:4:5:6:7:8", "0:1:2:3:4:5:6:7", "1:2:3:4:5:6:7:0", "1:0:2:3:4:5:6:7",
		"1:2:0:0:3:4:0:0", "0:0:1:2:3:4:0:0", "1:0:0:2:0:0:3:4",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ABCD:EF01::10", "::ffff",
		"::ffff:0", "::1:ffff:1.2.3.4", "64:ff9b::192.0.2.33", "2001:db8:0:0:1:0:0:1",
		"0:0:1::", "1::1", "::2:3:4:5:6:7:8",
	};
	uint8_t a[16];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		addr_from_text(a, 6, cases[i]);
		assert_addr_like_inet_ntop(6, a);
	}
	/* The exact texts named by formats.md and RFC 5952. */
	addr_from_text(a, 6, "2001:0db8:0000:0000:0000:0000:0000:0000");
	{
		char got[INET6_ADDRSTRLEN];

		assert_int_equal(dpf_fmt_addr(got, sizeof(got), 6, a), 10);
		assert_string_equal(got, "2001:db8::");
	}
}

static void
test_fmt_addr_ipv6_every_zero_pattern_matches_inet_ntop(void **state)
{
	uint8_t a[16];
	unsigned int mask, round, w;

	(void)state;
	srand(11);
	/* Every choice of zero groups, with short, long and ffff nonzero groups. */
	for (mask = 0; mask < 256; mask++) {
		for (round = 0; round < 64; round++) {
			for (w = 0; w < 8; w++) {
				unsigned int v = 0;

				if (mask & (1u << w)) {
					switch (rand() % 4) {
					case 0: v = 0xffff; break;
					case 1: v = 1 + rand() % 0xf; break;
					case 2: v = 1 + rand() % 0xfff; break;
					default: v = 1 + rand() % 0xffff; break;
					}
				}
				a[2 * w] = (uint8_t)(v >> 8);
				a[2 * w + 1] = (uint8_t)v;
			}
			assert_addr_like_inet_ntop(6, a);
		}
	}
	/* Fully random addresses. */
	for (round = 0; round < 200000; round++) {
		for (w = 0; w < 16; w++)
			a[w] = (uint8_t)rand();
		assert_addr_like_inet_ntop(6, a);
	}
}

static void
test_fmt_addr_ipv4_matches_inet_ntop(void **state)
{
	uint8_t a[4];
	unsigned int i, b;

	(void)state;
	for (b = 0; b < 256; b++) {
		a[0] = (uint8_t)b;
		a[1] = (uint8_t)(255 - b);
		a[2] = (uint8_t)(b * 7);
		a[3] = (uint8_t)(b / 3);
		assert_addr_like_inet_ntop(4, a);
	}
	srand(5);
	for (i = 0; i < 100000; i++) {
		for (b = 0; b < 4; b++)
			a[b] = (uint8_t)rand();
		assert_addr_like_inet_ntop(4, a);
	}
}

static void
test_fmt_addr_small_buffer_or_bad_family_fails(void **state)
{
	uint8_t a[16];
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	addr_from_text(a, 4, "192.0.2.1");
	memset(buf, '#', sizeof(buf));
	assert_int_equal(dpf_fmt_addr(buf, 9, 4, a), -ENOSPC);
	assert_int_equal(buf[0], '#');
	assert_int_equal(dpf_fmt_addr(buf, 10, 4, a), 9);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(dpf_fmt_addr(buf, sizeof(buf), 5, a), -EAFNOSUPPORT);
}

/* ---- manual throughput note ---- */

static double
bench_one(const char *label, const char *format, const struct dpf_record *recs,
	  unsigned int n_recs)
{
	struct dpf_fmt *f = parse_ok(format);
	const unsigned int rounds = 200;
	static char out[1 << 20];
	struct timespec t0, t1;
	size_t off = 0, total = 0;
	unsigned int i, k;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < rounds; k++) {
		for (i = 0; i < n_recs; i++) {
			int n;

			if (sizeof(out) - off < DPF_FMT_LINE_MAX) {
				total += off;
				off = 0;
			}
			n = dpf_fmt_record(f, &sample_ctx, &recs[i], out + off, sizeof(out) - off);
			assert_true(n > 0);
			off += (size_t)n;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	total += off;
	dpf_fmt_free(f);
	print_message("  %s: %zu bytes written\n", label, total);
	return (double)rounds * n_recs /
	       ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void
test_fmt_bench(void **state)
{
	const unsigned int n_recs = 4096;
	struct dpf_record *recs;
	unsigned int i;

	(void)state;
	recs = calloc(n_recs, sizeof(*recs));
	assert_non_null(recs);
	srand(3);
	for (i = 0; i < n_recs; i++) {
		struct dpf_record *r = &recs[i];

		*r = flow_record(i % 4 ? 4 : 6, i % 4 ? "10.0.0.1" : "2001:db8::1",
				 i % 4 ? "10.0.0.2" : "2001:db8::2", 0, 0, 6, 0, 0, 0, 0);
		for (unsigned int b = 0; b < (i % 4 ? 4u : 16u); b++) {
			r->key.src_addr[b] = r->post.src_addr[b] = (uint8_t)rand();
			r->key.dst_addr[b] = r->post.dst_addr[b] = (uint8_t)rand();
		}
		r->post.src_port = r->key.src_port = (uint16_t)rand();
		r->post.dst_port = r->key.dst_port = (uint16_t)(rand() % 1024);
		r->packets = 1 + (uint64_t)rand() % 100000;
		r->bytes = r->packets * (40 + (uint64_t)rand() % 1460);
		r->start = 1700000000 + (uint64_t)rand() % 60;
		r->end = r->start + 5;
	}
	print_message("dpf_fmt_record: %.2f M records/s (default format)\n",
		      bench_one("default", DPF_FMT_DEFAULT, recs, n_recs) / 1e6);
	print_message("dpf_fmt_record: %.2f M records/s (v3 sample format)\n",
		      bench_one("v3 sample", V3_SAMPLE_FORMAT, recs, n_recs) / 1e6);
	free(recs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_parse_default_is_version_2),
		cmocka_unit_test(test_fmt_parse_v3_sample_is_version_3),
		cmocka_unit_test(test_fmt_parse_custom_v2_fields_is_version_2),
		cmocka_unit_test(test_fmt_parse_v4_v5_fields_raise_version),
		cmocka_unit_test(test_fmt_parse_extension_fields_do_not_raise_version),
		cmocka_unit_test(test_fmt_parse_unknown_field_is_named),
		cmocka_unit_test(test_fmt_parse_duplicate_field_is_named),
		cmocka_unit_test(test_fmt_parse_empty_format_fails),
		cmocka_unit_test(test_fmt_parse_bad_spacing_fails_with_column),
		cmocka_unit_test(test_fmt_parse_missing_or_unterminated_brace_fails_with_column),
		cmocka_unit_test(test_fmt_parse_error_buffer_optional_and_truncated),
		cmocka_unit_test(test_fmt_parse_every_field_once_succeeds),
		cmocka_unit_test(test_fmt_field_catalogue_queries),
		cmocka_unit_test(test_fmt_header_default_is_exact),
		cmocka_unit_test(test_fmt_header_v3_sample_is_exact),
		cmocka_unit_test(test_fmt_header_small_buffer_returns_enospc_untouched),
		cmocka_unit_test(test_fmt_record_aws_v2_samples_byte_for_byte),
		cmocka_unit_test(test_fmt_record_aws_v3_samples_byte_for_byte),
		cmocka_unit_test(test_fmt_record_nodata_default_prints_dashes_and_window),
		cmocka_unit_test(test_fmt_record_skipdata_hides_every_flow_field_keeps_metadata),
		cmocka_unit_test(test_fmt_record_all_fields_each_token_correct),
		cmocka_unit_test(test_fmt_record_enum_values_print_their_words),
		cmocka_unit_test(test_fmt_record_missing_metadata_prints_dash),
		cmocka_unit_test(test_fmt_meta_valid_agrees_with_bytewise_rule_at_every_alignment),
		cmocka_unit_test(test_fmt_record_service_index_out_of_range_prints_dash),
		cmocka_unit_test(test_fmt_record_post_nat_and_pre_nat_views_differ),
		cmocka_unit_test(test_fmt_record_max_values_print_in_full),
		cmocka_unit_test(test_fmt_record_integers_match_printf),
		cmocka_unit_test(test_fmt_tunnel_fields_dash_unless_decapsulated),
		cmocka_unit_test(test_fmt_record_small_buffer_returns_enospc_never_overflows),
		cmocka_unit_test(test_fmt_addr_ipv6_edge_cases_match_inet_ntop),
		cmocka_unit_test(test_fmt_addr_ipv6_every_zero_pattern_matches_inet_ntop),
		cmocka_unit_test(test_fmt_addr_ipv4_matches_inet_ntop),
		cmocka_unit_test(test_fmt_addr_small_buffer_or_bad_family_fails),
	};
	const struct CMUnitTest bench[] = {
		cmocka_unit_test(test_fmt_bench),
	};

	if (getenv("DPF_FMT_BENCH") != NULL)
		return cmocka_run_group_tests(bench, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
