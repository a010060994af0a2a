/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "dpf_cfg.h"

static struct dpf_cfg *
parse(const char *text, char *err, size_t len)
{
	return dpf_cfg_parse(text, strlen(text), "t.conf", err, len);
}

static void
test_cfg_parse_sections_keys_quotes_and_lines(void **state)
{
	const char *text = "# comment\nwindow = 60\n\n[dpflow]\n  log-format = \"${a} ${b}\"  \n"
			   "; other comment\n[interface eni-1]\nport=0\n";
	char err[128];
	struct dpf_cfg *c = parse(text, err, sizeof(err));
	const struct dpf_cfg_entry *e;

	(void)state;
	assert_non_null(c);
	assert_int_equal(dpf_cfg_count(c), 5);
	e = dpf_cfg_get(c, 0);
	assert_string_equal(e->section, "dpflow");
	assert_string_equal(e->key, "window");
	assert_string_equal(e->value, "60");
	assert_int_equal(e->line, 2);
	e = dpf_cfg_get(c, 1);
	assert_null(e->key); /* the [dpflow] header */
	assert_int_equal(e->line, 4);
	e = dpf_cfg_get(c, 2);
	assert_string_equal(e->key, "log-format");
	assert_string_equal(e->value, "${a} ${b}");
	assert_int_equal(e->line, 5);
	e = dpf_cfg_get(c, 3);
	assert_null(e->key);
	assert_string_equal(e->section, "interface");
	assert_string_equal(e->section_arg, "eni-1");
	e = dpf_cfg_get(c, 4);
	assert_string_equal(e->key, "port");
	assert_string_equal(e->value, "0");
	assert_int_equal(e->section_line, 7);
	assert_null(dpf_cfg_get(c, 5));
	dpf_cfg_free(c);
}

static void
test_cfg_syntax_errors_name_the_line(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{"a = 1\nno equals here\n", "t.conf:2: expected 'key = value'"},
		{"[dpflow\n", "t.conf:1: section header"},
		{"[a b c]\n", "t.conf:1: bad section header"},
		{"x = \"open\n", "t.conf:1: unterminated quote"},
		{"\n\nbad key! = 1\n", "t.conf:3: bad key"},
		{"[]\n", "t.conf:1: bad section header"},
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(parse(bad[i].text, err, sizeof(err)));
		assert_int_equal(rte_errno, EINVAL);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].msg);
	}
}

static void
test_cfg_rejects_nul_bytes_and_long_lines(void **state)
{
	char err[256];
	char *big = malloc(5000);

	(void)state;
	assert_null(dpf_cfg_parse("a = 1\0b", 7, "t.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "NUL"));
	memset(big, 'a', 4999);
	big[4999] = '\0';
	assert_null(parse(big, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than"));
	free(big);
}

static void
test_cfg_skips_utf8_bom_at_start_only(void **state)
{
	char err[256];
	struct dpf_cfg *c = parse("\xef\xbb\xbf[dpflow]\nwindow = 60\n", err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(dpf_cfg_count(c), 2);
	assert_string_equal(dpf_cfg_get(c, 0)->section, "dpflow");
	assert_int_equal(dpf_cfg_get(c, 1)->line, 2);
	dpf_cfg_free(c);
	/* Inside the file it is text like any other. */
	assert_null(parse("[dpflow]\n\xef\xbb\xbfwindow = 60\n", err, sizeof(err)));
	assert_non_null(strstr(err, "t.conf:2: bad key"));
}

static void
test_cfg_repeated_section_is_an_error_naming_both_lines(void **state)
{
	char err[256];
	struct dpf_cfg *c;

	(void)state;
	assert_null(parse("[interface eni-1]\nport = 0\n\n[interface eni-1]\nvlan = 5\n", err,
			  sizeof(err)));
	assert_int_equal(rte_errno, EINVAL);
	assert_string_equal(err, "t.conf:4: section [interface eni-1] repeated (first at line 1)");
	assert_null(parse("[nat]\n[acl]\n[nat]\n", err, sizeof(err)));
	assert_string_equal(err, "t.conf:3: section [nat] repeated (first at line 1)");
	/* Same name, other argument: two sections. Keys before any header are
	 * [dpflow]'s without a header of their own. */
	c = parse("window = 5\n[dpflow]\n[interface eni-1]\n[interface eni-2]\n", err, sizeof(err));
	assert_non_null(c);
	dpf_cfg_free(c);
}

static void
test_cfg_load_missing_file_reports_errno(void **state)
{
	char err[256];

	(void)state;
	assert_null(dpf_cfg_load("/nonexistent/dpflow.conf", err, sizeof(err)));
	assert_int_equal(rte_errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dpflow.conf"));
}

static void
test_cfg_parse_u64_checks_digits_and_range(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(dpf_cfg_parse_u64("600", 1, 3600, &v), 0);
	assert_int_equal(v, 600);
	assert_int_equal(dpf_cfg_parse_u64("0", 1, 3600, &v), -ERANGE);
	assert_int_equal(dpf_cfg_parse_u64("3601", 1, 3600, &v), -ERANGE);
	assert_int_equal(dpf_cfg_parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(dpf_cfg_parse_u64("12x", 0, 100, &v), -EINVAL);
	assert_int_equal(dpf_cfg_parse_u64("", 0, 100, &v), -EINVAL);
	assert_int_equal(dpf_cfg_parse_u64(" 5", 0, 100, &v), -EINVAL);
	assert_int_equal(dpf_cfg_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(dpf_cfg_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

/* Driver profiles allow a '#' comment after a value or a section header; the
 * --config syntax does not (its values may hold '#'). */
static void
test_cfg_inline_comments_only_when_asked(void **state)
{
	const struct dpf_cfg_params hash = {.name = "p.ini", .inline_comment = '#'};
	const char *text =
		"[port]   # the port\nrx_desc = 2048  # ring\nrss_hash = \"ipv4 tcp\" # q\n"
		"# whole line\n; also whole\nmtu = 1500\n";
	char err[256];
	struct dpf_cfg *c;

	(void)state;
	c = dpf_cfg_parse_with(text, strlen(text), &hash, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(dpf_cfg_count(c), 4);
	assert_null(dpf_cfg_get(c, 0)->key);
	assert_string_equal(dpf_cfg_get(c, 0)->section, "port");
	assert_string_equal(dpf_cfg_get(c, 1)->value, "2048");
	assert_int_equal(dpf_cfg_get(c, 1)->line, 2);
	assert_string_equal(dpf_cfg_get(c, 2)->value, "ipv4 tcp");
	assert_string_equal(dpf_cfg_get(c, 3)->key, "mtu");
	assert_int_equal(dpf_cfg_get(c, 3)->line, 6);
	dpf_cfg_free(c);
	/* A line that is only a key and a comment still needs '='. */
	assert_null(
		dpf_cfg_parse_with("[port]\nrx_desc 2048 # = x\n", 26, &hash, err, sizeof(err)));
	assert_string_equal(err, "p.ini:2: expected 'key = value', got 'rx_desc 2048'");
	/* Without the parameter '#' is part of the value, and a header must end at ']'. */
	c = parse("x = a # b\n", err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(dpf_cfg_get(c, 0)->value, "a # b");
	dpf_cfg_free(c);
	assert_null(parse("[port] # c\n", err, sizeof(err)));
	assert_non_null(strstr(err, "t.conf:1: section header"));
}

static void
test_cfg_load_with_names_the_path_unless_given_a_name(void **state)
{
	const struct dpf_cfg_params hash = {.inline_comment = '#'};
	char path[] = "/tmp/dpf_cfg_XXXXXX";
	char err[256], want[64];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[port]\nmtu = 9000 # jumbo\nbad\n", 30), 30);
	close(fd);
	assert_null(dpf_cfg_load_with(path, &hash, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: expected 'key = value'", path);
	assert_non_null(strstr(err, want));
	unlink(path);
}

/*
 * The entries share the handle's allocation, sized before parsing: a file of
 * many entries (far more than one growth step), sections among them, '='
 * in comments and values, and a last line without '\n' all come back in
 * order, each value pointing into the copy of the text.
 */
static void
test_cfg_many_entries_come_back_in_order(void **state)
{
	enum { N = 3000 };
	char *text = malloc(N * 40), err[128];
	const struct dpf_cfg_entry *e;
	struct dpf_cfg *cfg;
	size_t len = 0;
	unsigned int i, n_sections = 0;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < N; i++) {
		if (i % 500 == 0) {
			len += (size_t)sprintf(text + len, "# a = comment\n[s%u]\n\n", i);
			n_sections++;
		}
		len += (size_t)sprintf(text + len, "k%u = v=%u%s", i, i, i + 1 < N ? "\n" : "");
	}
	cfg = dpf_cfg_parse(text, len, "many", err, sizeof(err));
	assert_non_null(cfg);
	assert_int_equal(dpf_cfg_count(cfg), N + n_sections);
	for (i = 0; i < dpf_cfg_count(cfg); i++) {
		char want[32];
		unsigned int k = i - (i / 501 + 1); /* entries before it that are section headers */

		e = dpf_cfg_get(cfg, i);
		if (i % 501 == 0) {
			assert_null(e->key);
			continue;
		}
		snprintf(want, sizeof(want), "k%u", k);
		assert_string_equal(e->key, want);
		snprintf(want, sizeof(want), "v=%u", k);
		assert_string_equal(e->value, want);
		assert_true(e->value < text ||
			    e->value >= text + len); /* the copy, not the input */
	}
	assert_null(dpf_cfg_get(cfg, dpf_cfg_count(cfg)));
	dpf_cfg_free(cfg);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_parse_sections_keys_quotes_and_lines),
		cmocka_unit_test(test_cfg_syntax_errors_name_the_line),
		cmocka_unit_test(test_cfg_rejects_nul_bytes_and_long_lines),
		cmocka_unit_test(test_cfg_skips_utf8_bom_at_start_only),
		cmocka_unit_test(test_cfg_repeated_section_is_an_error_naming_both_lines),
		cmocka_unit_test(test_cfg_load_missing_file_reports_errno),
		cmocka_unit_test(test_cfg_parse_u64_checks_digits_and_range),
		cmocka_unit_test(test_cfg_inline_comments_only_when_asked),
		cmocka_unit_test(test_cfg_load_with_names_the_path_unless_given_a_name),
		cmocka_unit_test(test_cfg_many_entries_come_back_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
