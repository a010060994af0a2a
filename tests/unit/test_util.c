/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#include "dpf_test_eal.h"
#include "dpf_test_util.h"
#include "dpf_util.h"

static void
test_util_be_loads_read_network_order_at_any_alignment(void **state)
{
	/* One byte of offset: none of the loads may assume alignment. */
	static const uint8_t bytes[] = {0xee, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

	(void)state;
	assert_int_equal(dpf_load_be16(bytes + 1), 0x0102);
	assert_int_equal(dpf_load_be32(bytes + 1), 0x01020304);
	assert_true(dpf_load_be64(bytes + 1) == UINT64_C(0x0102030405060708));
	/* The C library's own conversion agrees. */
	assert_int_equal(dpf_load_be16(bytes + 3), ntohs((uint16_t)(bytes[3] | bytes[4] << 8)));
}

static void
test_util_be_stores_write_network_order_and_leave_neighbours(void **state)
{
	uint8_t buf[10];
	static const uint8_t want16[] = {0xaa, 0xbe, 0xef, 0xaa};
	static const uint8_t want32[] = {0xaa, 0xde, 0xad, 0xbe, 0xef, 0xaa};
	static const uint8_t want64[] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa};
	uint32_t n;

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	dpf_store_be16(buf + 1, 0xbeef);
	assert_memory_equal(buf, want16, sizeof(want16));
	memset(buf, 0xaa, sizeof(buf));
	dpf_store_be32(buf + 1, 0xdeadbeef);
	assert_memory_equal(buf, want32, sizeof(want32));
	n = htonl(0xdeadbeef);
	assert_memory_equal(buf + 1, &n, 4);
	memset(buf, 0xaa, sizeof(buf));
	dpf_store_be64(buf + 1, UINT64_C(0x0102030405060708));
	assert_memory_equal(buf, want64, sizeof(want64));
}

static void prefixed_err(char *err, size_t len, const char *fmt, ...) __rte_format_printf(3, 4);

/* A parser's message behind a "file:line: " prefix, as lib/cfg writes them. */
static void
prefixed_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	dpf_set_err(err, len, "f.conf:%u: ", 7u);
	va_start(ap, fmt);
	dpf_vadd_err(err, len, fmt, ap);
	va_end(ap);
}

static void
test_util_set_err_cuts_to_fit_and_ignores_missing_buffer(void **state)
{
	char err[8];

	(void)state;
	dpf_set_err(err, sizeof(err), "'%s': bad", "token");
	assert_string_equal(err, "'token'");
	dpf_set_err(NULL, 100, "%s", "nothing happens");
	memset(err, 'x', sizeof(err));
	dpf_set_err(err, 0, "%s", "nothing either");
	assert_int_equal(err[0], 'x');
}

static void
test_util_add_err_appends_after_a_prefix_and_stops_when_full(void **state)
{
	char err[64];
	char tiny[8];

	(void)state;
	prefixed_err(err, sizeof(err), "bad key '%s'", "k!");
	assert_string_equal(err, "f.conf:7: bad key 'k!'");
	/* The prefix alone fills it: nothing is appended, the text stays terminated. */
	prefixed_err(tiny, sizeof(tiny), "%s", "more");
	assert_string_equal(tiny, "f.conf:");
	prefixed_err(NULL, 0, "%s", "no buffer");
}

static void
test_util_trim_strips_blanks_and_the_cr_of_crlf(void **state)
{
	char a[] = " \t key = v \t\r";
	char b[] = "\r\n";
	char c[] = "   ";

	(void)state;
	assert_string_equal(dpf_trim(a), "key = v");
	/* A leading CR is text, not a blank; a trailing one goes. */
	assert_string_equal(dpf_trim(b), "\r\n");
	assert_string_equal(dpf_trim(c), "");
}

static void
test_util_has_suffix_compares_the_tail_only(void **state)
{
	(void)state;
	assert_true(dpf_has_suffix(".a.log.zst.tmp", ".tmp"));
	assert_true(dpf_has_suffix(".tmp", ".tmp"));
	assert_true(dpf_has_suffix("x", ""));
	assert_false(dpf_has_suffix("tmp", ".tmp"));
	assert_false(dpf_has_suffix("a.tmp.x", ".tmp"));
}

static void
test_util_parse_u64_takes_digits_only_and_checks_range(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(dpf_parse_u64("65535", 65535, &v), 0);
	assert_true(v == 65535);
	assert_int_equal(dpf_parse_u64("007", 10, &v), 0);
	assert_true(v == 7);
	assert_int_equal(dpf_parse_u64("65536", 65535, &v), -ERANGE);
	assert_int_equal(dpf_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(dpf_parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	/* Junk anywhere is not a number, even after an overflow. */
	assert_int_equal(dpf_parse_u64("99999999999999999999x", UINT64_MAX, &v), -EINVAL);
	assert_int_equal(dpf_parse_u64("+1", 10, &v), -EINVAL);
	assert_int_equal(dpf_parse_u64("-0", 10, &v), -EINVAL);
	assert_int_equal(dpf_parse_u64(" 1", 10, &v), -EINVAL);
	assert_int_equal(dpf_parse_u64("", 10, &v), -EINVAL);
	assert_int_equal(dpf_parse_u64(NULL, 10, &v), -EINVAL);
	assert_true(v == UINT64_MAX); /* untouched by every failure */
}

static void
test_util_mkdir_p_makes_parents_accepts_existing_and_names_failures(void **state)
{
	char root[] = "/tmp/dpf_util_XXXXXX";
	char path[PATH_MAX];
	char file[PATH_MAX];
	char *big;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/a//b/c/", root);
	assert_int_equal(dpf_mkdir_p(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777 & ~0750, 0);
	assert_int_equal(dpf_mkdir_p(path, 0750), 0); /* again: nothing to do */

	/* A file where a directory should be: the mkdir's own errno. */
	snprintf(file, sizeof(file), "%s/file", root);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub", root);
	assert_int_equal(dpf_mkdir_p(path, 0750), -ENOTDIR);

	big = malloc(PATH_MAX + 1);
	assert_non_null(big);
	memset(big, 'd', PATH_MAX);
	big[PATH_MAX] = '\0';
	assert_int_equal(dpf_mkdir_p(big, 0750), -ENAMETOOLONG);
	free(big);
	assert_int_equal(dpf_test_rmtree(root), 0);
}

static void
test_util_read_and_write_all_report_bytes_and_errno(void **state)
{
	static char big[256 * 1024];
	char back[16];
	size_t written = 7;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dpf_write_all(p[1], "hello", 5, &written), 0);
	assert_int_equal(written, 5);
	assert_int_equal(dpf_read(p[0], back, sizeof(back)), 5);
	assert_memory_equal(back, "hello", 5);
	/* A full non-blocking pipe takes part: the part is counted, the errno told. */
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(dpf_write_all(p[1], big, sizeof(big), &written), -EAGAIN);
	assert_true(written > 0 && written < sizeof(big));
	close(p[1]);
	assert_int_equal(dpf_read(-1, back, sizeof(back)), -EBADF);
	assert_int_equal(dpf_write_all(-1, "x", 1, NULL), -EBADF);
	close(p[0]);
}

static void
test_util_addr_parse_and_format_agree_with_inet_pton(void **state)
{
	uint8_t a[16], want[16] = {0};
	uint8_t family = 0;
	char text[DPF_ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(dpf_addr_parse("192.0.2.1", a, &family), 0);
	assert_int_equal(family, 4);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", want), 1);
	assert_memory_equal(a, want, 16); /* bytes 4..15 zero */
	assert_string_equal(dpf_addr_format(4, a, text, sizeof(text)), "192.0.2.1");

	assert_int_equal(dpf_addr_parse("2001:DB8:0:0::1", a, &family), 0);
	assert_int_equal(family, 6);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", want), 1);
	assert_memory_equal(a, want, 16);
	assert_string_equal(dpf_addr_format(6, a, text, sizeof(text)), "2001:db8::1");
	memset(want, 0xff, 16);
	assert_string_equal(dpf_addr_format(6, want, text, sizeof(text)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(strlen(text) + 1 <= DPF_ADDR_TEXT_MAX, 1);
	/* Too small a buffer: a marker, not garbage. */
	assert_string_equal(dpf_addr_format(6, want, text, 8), "?");

	memset(want, 0, 16);
	assert_int_equal(dpf_addr_parse("10.0.0.256", a, &family), -EINVAL);
	assert_memory_equal(a, want, 16);
	assert_int_equal(dpf_addr_parse("eth0", a, &family), -EINVAL);
	assert_int_equal(dpf_addr_parse("", a, &family), -EINVAL);
}

static void
test_util_cidr_parse_tells_each_problem_apart(void **state)
{
	uint8_t a[16], fam = 0, len = 0;
	char long_text[80];

	(void)state;
	assert_int_equal(dpf_cidr_parse("10.1.0.0/16", a, &fam, &len), 0);
	assert_int_equal(fam, 4);
	assert_int_equal(len, 16);
	assert_int_equal(a[0], 10);
	assert_int_equal(a[1], 1);
	assert_int_equal(dpf_cidr_parse("2001:db8::/32", a, &fam, &len), 0);
	assert_int_equal(fam, 6);
	assert_int_equal(len, 32);
	/* A bare address is a host; host bits are the caller's business. */
	assert_int_equal(dpf_cidr_parse("10.0.0.5", a, &fam, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(dpf_cidr_parse("10.0.0.5/24", a, &fam, &len), 0);
	assert_int_equal(len, 24);
	assert_int_equal(dpf_cidr_parse("::1", a, &fam, &len), 0);
	assert_int_equal(len, 128);
	assert_int_equal(dpf_cidr_parse("::/0", a, &fam, &len), 0);
	assert_int_equal(len, 0);

	assert_int_equal(dpf_cidr_parse("10.0.0.0/33", a, &fam, &len), -ERANGE);
	assert_int_equal(dpf_cidr_parse("::/129", a, &fam, &len), -ERANGE);
	assert_int_equal(dpf_cidr_parse("10.0.0.0/", a, &fam, &len), -EDOM);
	assert_int_equal(dpf_cidr_parse("10.0.0.0/+8", a, &fam, &len), -EDOM);
	assert_int_equal(dpf_cidr_parse("10.0.0.0/8x", a, &fam, &len), -EDOM);
	assert_int_equal(dpf_cidr_parse("10.0.0/8", a, &fam, &len), -EINVAL);
	assert_int_equal(dpf_cidr_parse("/8", a, &fam, &len), -EINVAL);
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(dpf_cidr_parse(long_text, a, &fam, &len), -ENAMETOOLONG);
}

static void
test_util_prefix_mask_host_bits_and_match_cut_at_the_length(void **state)
{
	uint8_t a[16], b[16];
	uint8_t fam;

	(void)state;
	assert_int_equal(dpf_addr_parse("10.1.2.3", a, &fam), 0);
	assert_true(dpf_prefix_has_host_bits(a, 16));
	assert_false(dpf_prefix_has_host_bits(a, 32));
	dpf_prefix_mask(a, 12);
	assert_int_equal(a[0], 10);
	assert_int_equal(a[1], 0); /* 0x01 is past /12 */
	assert_false(dpf_prefix_has_host_bits(a, 12));
	assert_false(dpf_prefix_has_host_bits(a, 16));

	assert_int_equal(dpf_addr_parse("10.1.2.3", a, &fam), 0);
	assert_int_equal(dpf_addr_parse("10.1.255.0", b, &fam), 0);
	assert_true(dpf_prefix_match(a, b, 16));
	/* Third bytes 2 = 0000 0010 and 255 = 1111 1111 differ in their first bit. */
	assert_false(dpf_prefix_match(a, b, 17));
	assert_false(dpf_prefix_match(a, b, 32));
	assert_true(dpf_prefix_match(a, b, 0));

	assert_int_equal(dpf_addr_parse("2001:db8::ff", a, &fam), 0);
	assert_int_equal(dpf_addr_parse("2001:db8::1", b, &fam), 0);
	assert_true(dpf_prefix_match(a, b, 120));
	assert_false(dpf_prefix_match(a, b, 128));
	assert_true(dpf_prefix_has_host_bits(a, 120));
	dpf_prefix_mask(a, 120);
	assert_false(dpf_prefix_has_host_bits(a, 120));
}

static void
test_util_protocol_names_match_the_system_protocols_file(void **state)
{
	static const char *const names[] = {"tcp", "udp", "icmp",     "sctp",
					    "gre", "esp", "ipv6-icmp"};
	uint8_t p = 0;
	size_t i;

	(void)state;
	/* The reference is netbase's /etc/protocols, not our own table. */
	for (i = 0; i < RTE_DIM(names); i++) {
		struct protoent *pe = getprotobyname(names[i]);

		if (pe == NULL)
			skip();
		assert_int_equal(dpf_proto_by_name(names[i], false), pe->p_proto);
	}
	assert_int_equal(dpf_proto_by_name("icmpv6", false), IPPROTO_ICMPV6);
	assert_string_equal(dpf_proto_name(IPPROTO_ICMPV6), "icmpv6");
	assert_string_equal(dpf_proto_name(IPPROTO_TCP), "tcp");
	assert_null(dpf_proto_name(253));

	assert_int_equal(dpf_proto_by_name("TCP", false), -EINVAL);
	assert_int_equal(dpf_proto_by_name("TCP", true), IPPROTO_TCP);
	assert_int_equal(dpf_proto_parse("udp", false, &p), 0);
	assert_int_equal(p, IPPROTO_UDP);
	assert_int_equal(dpf_proto_parse("255", false, &p), 0);
	assert_int_equal(p, 255);
	assert_int_equal(dpf_proto_parse("256", false, &p), -ERANGE);
	assert_int_equal(dpf_proto_parse("tcpx", false, &p), -EINVAL);
	assert_int_equal(dpf_proto_parse("any", false, &p), -EINVAL);
}

static int taken_calls;

static bool
first_two_taken(const char *name)
{
	(void)name;
	return ++taken_calls <= 2;
}

static bool
all_taken(const char *name)
{
	(void)name;
	return true;
}

static void
test_util_unique_name_skips_taken_names_and_gives_up(void **state)
{
	char a[32], b[32], c[12];
	unsigned int na, nb;

	(void)state;
	assert_int_equal(dpf_unique_name(a, sizeof(a), "ct", "rx0", NULL), 0);
	taken_calls = 0;
	assert_int_equal(dpf_unique_name(b, sizeof(b), "ct", "rx0", first_two_taken), 0);
	assert_int_equal(taken_calls, 3);
	assert_int_equal(sscanf(a, "ct%u-rx0", &na), 1);
	assert_int_equal(sscanf(b, "ct%u-rx0", &nb), 1);
	assert_true(nb >= na + 3); /* two refused names in between */
	/* Cut to size, the counter still tells names apart. */
	assert_int_equal(dpf_unique_name(c, sizeof(c), "acl4-", "a-very-long-name", NULL), 0);
	assert_int_equal(strlen(c), sizeof(c) - 1);
	assert_int_equal(strncmp(c, "acl4-", 5), 0);
	assert_int_equal(dpf_unique_name(c, sizeof(c), "x", "y", all_taken), -EEXIST);
}

static void
test_util_hash_create_names_the_table_and_keeps_one_bucket_at_least(void **state)
{
	struct rte_hash *h, *h2, *h3;
	uint64_t key = 7;
	int i;

	(void)state;
	h = dpf_hash_create("a-name-longer-than-twenty-chars", "sf", 1, sizeof(key), SOCKET_ID_ANY,
			    0);
	assert_non_null(h);
	assert_ptr_equal(rte_hash_find_existing("a-name-longer-than-t_sf"), h);
	/* Asked for one entry, it holds a bucket's worth. */
	for (i = 0; i < 8; i++) {
		key = (uint64_t)i;
		assert_true(rte_hash_add_key(h, &key) >= 0);
	}
	assert_int_equal(rte_hash_count(h), 8);
	/* The same name again is refused, not shared. */
	h2 = dpf_hash_create("a-name-longer-than-twenty-chars", "sf", 8, sizeof(key), SOCKET_ID_ANY,
			     0);
	assert_null(h2);
	assert_int_equal(rte_errno, EEXIST);
	h3 = dpf_hash_create("whole-name", NULL, 64, sizeof(key), SOCKET_ID_ANY,
			     RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF);
	assert_non_null(h3);
	assert_ptr_equal(rte_hash_find_existing("whole-name"), h3);
	assert_null(dpf_hash_create(NULL, "x", 8, 8, SOCKET_ID_ANY, 0));
	assert_int_equal(rte_errno, EINVAL);
	rte_hash_free(h3);
	rte_hash_free(h);
}

/* Two tables of one name each get their own: the second is not refused. */
static void
test_util_hash_create_unique_gives_each_table_a_free_name(void **state)
{
	struct rte_hash *a, *b;

	(void)state;
	a = dpf_hash_create_unique("t", "same", 8, 8, SOCKET_ID_ANY, 0);
	b = dpf_hash_create_unique("t", "same", 8, 8, SOCKET_ID_ANY, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_null(dpf_hash_create_unique("t", "bad", 8, 0, SOCKET_ID_ANY, 0));
	assert_int_equal(rte_errno, EINVAL);
	rte_hash_free(a);
	rte_hash_free(b);
}

/* Arrays laid out behind a handle start on cache lines and never overlap what came before. */
static void
test_util_layout_place_starts_each_array_on_a_cache_line(void **state)
{
	const size_t line = RTE_CACHE_LINE_SIZE;
	size_t size = line / 2; /* a handle smaller than a line */
	size_t a, b, c;

	(void)state;
	a = dpf_layout_place(&size, line + line / 2);
	assert_int_equal(a, line);
	assert_int_equal(size, 2 * line + line / 2);
	b = dpf_layout_place(&size, 0); /* an empty array still gets its own line */
	assert_int_equal(b, 3 * line);
	assert_int_equal(size, 3 * line);
	c = dpf_layout_place(&size, 8); /* already on a line: no gap */
	assert_int_equal(c, 3 * line);
	assert_int_equal(size, 3 * line + 8);
}

/*
 * A handle and its arrays from a table of parts: each array from a cache
 * line on, its pointer field set (NULL for an empty one), the handle and the
 * parts marked zero zeroed, the others left as rte_malloc gave them.
 */
struct layout_probe {
	uint32_t n;
	uint8_t *a;
	uint64_t *b;
	uint8_t *none;
};

static void
test_util_layout_new_points_each_part_and_zeroes_only_those_asked(void **state)
{
	const struct dpf_layout_part parts[] = {
		{offsetof(struct layout_probe, a), 100, true},
		{offsetof(struct layout_probe, none), 0, true},
		{offsetof(struct layout_probe, b), 3 * sizeof(uint64_t), false},
	};
	struct dpf_layout_part too_many[DPF_LAYOUT_MAX_PARTS + 1] = {{0}};
	struct layout_probe *h;
	size_t i;

	(void)state;
	h = dpf_layout_new("test_layout", sizeof(*h), parts, RTE_DIM(parts), SOCKET_ID_ANY);
	assert_non_null(h);
	assert_int_equal(h->n, 0);
	assert_ptr_equal(h->a, RTE_PTR_ADD(h, RTE_CACHE_LINE_SIZE));
	assert_null(h->none);
	/* The empty part still takes its line: b starts two lines after a. */
	assert_ptr_equal(h->b, RTE_PTR_ADD(h, 3 * RTE_CACHE_LINE_SIZE));
	for (i = 0; i < 100; i++)
		assert_int_equal(h->a[i], 0);
	h->b[2] = 7; /* inside the allocation: ASan builds check it */
	rte_free(h);

	rte_errno = 0;
	assert_null(dpf_layout_new("test_layout", sizeof(*h), too_many, RTE_DIM(too_many),
				   SOCKET_ID_ANY));
	assert_int_equal(rte_errno, EINVAL);
}

/* A create's failure after its allocation: the allocation is returned, and
 * rte_errno stays what the failed step set (rte_free() may not clear it). */
static void
test_util_null_free_frees_and_keeps_the_step_errno(void **state)
{
	void *h = rte_malloc("test_null_free", 64, 0);

	(void)state;
	assert_non_null(h);
	rte_errno = EEXIST;
	assert_null(dpf_null_free(h)); /* ASan builds report h if it leaked */
	assert_int_equal(rte_errno, EEXIST);
	rte_errno = ENOSPC;
	assert_null(dpf_null_free(NULL));
	assert_int_equal(rte_errno, ENOSPC);
}

/* Strings packed behind a handle: each a NUL-terminated copy of its first len bytes, back to back.
 */
static void
test_util_layout_str_packs_strings_back_to_back(void **state)
{
	char area[16];
	char *tail = area;
	char *a, *b;

	(void)state;
	memset(area, 'x', sizeof(area));
	a = dpf_layout_str(&tail, "host:80/path", 7);
	b = dpf_layout_str(&tail, "", 0);
	assert_ptr_equal(a, area);
	assert_string_equal(a, "host:80");
	assert_ptr_equal(b, area + 8);
	assert_string_equal(b, "");
	assert_ptr_equal(tail, area + 9);
	assert_int_equal(area[9], 'x'); /* nothing written past the copies */
}

static void
test_util_utc_text_formats_and_refuses_cleanly(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(dpf_utc_text(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", 1700000000), 20);
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
	assert_int_equal(dpf_utc_text(buf, sizeof(buf), "%m/%d/%Y %I:%M:%S %p", 1700000000), 22);
	assert_string_equal(buf, "11/14/2023 10:13:20 PM");
	/* Too small for the text: empty, not cut. */
	assert_int_equal(dpf_utc_text(buf, 8, "%Y-%m-%dT%H:%M:%SZ", 1700000000), 0);
	assert_string_equal(buf, "");
	/* Past time_t: empty. */
	assert_int_equal(dpf_utc_text(buf, sizeof(buf), "%Y", UINT64_MAX), 0);
	assert_string_equal(buf, "");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_be_loads_read_network_order_at_any_alignment),
		cmocka_unit_test(test_util_be_stores_write_network_order_and_leave_neighbours),
		cmocka_unit_test(test_util_set_err_cuts_to_fit_and_ignores_missing_buffer),
		cmocka_unit_test(test_util_add_err_appends_after_a_prefix_and_stops_when_full),
		cmocka_unit_test(test_util_trim_strips_blanks_and_the_cr_of_crlf),
		cmocka_unit_test(test_util_has_suffix_compares_the_tail_only),
		cmocka_unit_test(test_util_parse_u64_takes_digits_only_and_checks_range),
		cmocka_unit_test(
			test_util_mkdir_p_makes_parents_accepts_existing_and_names_failures),
		cmocka_unit_test(test_util_read_and_write_all_report_bytes_and_errno),
		cmocka_unit_test(test_util_addr_parse_and_format_agree_with_inet_pton),
		cmocka_unit_test(test_util_cidr_parse_tells_each_problem_apart),
		cmocka_unit_test(test_util_prefix_mask_host_bits_and_match_cut_at_the_length),
		cmocka_unit_test(test_util_protocol_names_match_the_system_protocols_file),
		cmocka_unit_test(test_util_unique_name_skips_taken_names_and_gives_up),
		cmocka_unit_test(
			test_util_hash_create_names_the_table_and_keeps_one_bucket_at_least),
		cmocka_unit_test(test_util_hash_create_unique_gives_each_table_a_free_name),
		cmocka_unit_test(test_util_layout_place_starts_each_array_on_a_cache_line),
		cmocka_unit_test(test_util_layout_str_packs_strings_back_to_back),
		cmocka_unit_test(test_util_layout_new_points_each_part_and_zeroes_only_those_asked),
		cmocka_unit_test(test_util_null_free_frees_and_keeps_the_step_errno),
		cmocka_unit_test(test_util_utc_text_formats_and_refuses_cleanly),
	};

	(void)argc;
	/* dpf_hash_create(), dpf_layout_new() and dpf_null_free() need EAL;
	 * nothing else here does. */
	if (dpf_test_eal_init(argv[0]) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
