/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_cfg.h"
#include "dpf_util.h"

#define LINE_MAX_LEN 4096

/* One allocation: the handle, its entries, then the text they point into. */
struct dpf_cfg {
	char *text; /* private copy, NUL-terminated, after the entries */
	unsigned int n;
	unsigned int cap;
	struct dpf_cfg_entry entries[];
};

/*
 * Every entry is one line that holds a '=' (key = value) or a '[' (section
 * header): the entries can be no more than such lines, counted before
 * parsing so that they share the handle's allocation and are never moved.
 * A file of valid entries needs that many anyway.
 */
static unsigned int
max_entries(const char *text, size_t len)
{
	unsigned int n = 0;
	bool may = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (text[i] == '\n') {
			n += may;
			may = false;
		} else if (text[i] == '=' || text[i] == '[') {
			may = true;
		}
	}
	return n + may;
}

static int
push(struct dpf_cfg *cfg, const struct dpf_cfg_entry *e)
{
	/* Unreachable while max_entries() counts every line that makes an entry. */
	if (cfg->n == cfg->cap)
		return -ENOMEM;
	cfg->entries[cfg->n++] = *e;
	return 0;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* The header entry of an earlier [name arg] section, or NULL. */
static const struct dpf_cfg_entry *
find_section(const struct dpf_cfg *cfg, const char *name, const char *arg)
{
	unsigned int i;

	for (i = 0; i < cfg->n; i++) {
		const struct dpf_cfg_entry *e = &cfg->entries[i];

		if (e->key == NULL && strcmp(e->section, name) == 0 &&
		    strcmp(e->section_arg, arg) == 0)
			return e;
	}
	return NULL;
}

/* Where the parser is: the section entries belong to, and how errors name the line. */
struct cfg_parser {
	struct dpf_cfg *cfg;
	const char *name;
	char *err;
	size_t err_len;
	unsigned int line;
	const char *section;
	const char *section_arg;
	unsigned int section_line;
	char inline_comment; /* dpf_cfg_params.inline_comment */
};

/* Formats are checked like printf's: every message has a literal format. */
static void parse_err(const struct cfg_parser *ps, const char *fmt, ...) __rte_format_printf(2, 3);

/* "<name>:<line>: <problem>", as the header promises. */
static void
parse_err(const struct cfg_parser *ps, const char *fmt, ...)
{
	va_list ap;

	dpf_set_err(ps->err, ps->err_len, "%s:%u: ", ps->name, ps->line);
	va_start(ap, fmt);
	dpf_vadd_err(ps->err, ps->err_len, fmt, ap);
	va_end(ap);
}

/* An entry of the current section at the current line (key NULL: the header's). */
static int
push_entry(struct cfg_parser *ps, const char *key, const char *value)
{
	struct dpf_cfg_entry e = {
		.section = ps->section,
		.section_arg = ps->section_arg,
		.key = key,
		.value = value,
		.line = ps->line,
		.section_line = ps->section_line,
	};

	return push(ps->cfg, &e);
}

/* Values reach logs and messages: no byte there may forge a line or drive a
 * terminal. Tabs are blanks; a CR may end the line. */
static int
check_line(const struct cfg_parser *ps, const char *p)
{
	const char *s;

	if (strlen(p) > LINE_MAX_LEN) {
		parse_err(ps, "line longer than %d characters", LINE_MAX_LEN);
		return -EINVAL;
	}
	for (s = p; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t' && !(c == '\r' && s[1] == '\0')) || c == 0x7f) {
			parse_err(ps, "control character 0x%02x at column %zu", c,
				  (size_t)(s - p) + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* "[name]" or "[name argument]": a new section, once per file. */
static int
parse_section(struct cfg_parser *ps, char *s)
{
	char *close = strchr(s, ']'), *arg;
	const struct dpf_cfg_entry *prev;

	if (close == NULL || dpf_trim(close + 1)[0] != '\0') {
		parse_err(ps, "section header must be '[name]' or '[name argument]'");
		return -EINVAL;
	}
	*close = '\0';
	s = dpf_trim(s + 1);
	arg = strpbrk(s, " \t");
	if (arg != NULL) {
		*arg++ = '\0';
		arg = dpf_trim(arg);
	}
	if (!valid_name(s) || (arg != NULL && strpbrk(arg, " \t") != NULL)) {
		parse_err(ps, "bad section header '[%s%s%s]'", s, arg ? " " : "", arg ? arg : "");
		return -EINVAL;
	}
	/* Two blocks of one section would merge silently. */
	prev = find_section(ps->cfg, s, arg != NULL ? arg : "");
	if (prev != NULL) {
		parse_err(ps, "section [%s%s%s] repeated (first at line %u)", s, arg ? " " : "",
			  arg ? arg : "", prev->line);
		return -EINVAL;
	}
	ps->section = s;
	ps->section_arg = arg != NULL ? arg : "";
	ps->section_line = ps->line;
	return push_entry(ps, NULL, NULL);
}

/* "key = value", the value trimmed and its quotes removed. */
static int
parse_key_value(struct cfg_parser *ps, char *s)
{
	char *eq = strchr(s, '='), *key, *val;

	if (eq == NULL) {
		parse_err(ps, "expected 'key = value', got '%s'", s);
		return -EINVAL;
	}
	*eq = '\0';
	key = dpf_trim(s);
	val = dpf_trim(eq + 1);
	if (!valid_name(key)) {
		parse_err(ps, "bad key '%s'", key);
		return -EINVAL;
	}
	if (*val == '"') {
		size_t vl = strlen(val);

		if (vl < 2 || val[vl - 1] != '"') {
			parse_err(ps, "unterminated quote in value of '%s'", key);
			return -EINVAL;
		}
		val[vl - 1] = '\0';
		val++;
	}
	return push_entry(ps, key, val);
}

void
dpf_cfg_free(struct dpf_cfg *cfg)
{
	free(cfg);
}

struct dpf_cfg *
dpf_cfg_parse(const char *text, size_t len, const char *name, char *err, size_t err_len)
{
	const struct dpf_cfg_params params = {.name = name};

	return dpf_cfg_parse_with(text, len, &params, err, err_len);
}

struct dpf_cfg *
dpf_cfg_parse_with(const char *text, size_t len, const struct dpf_cfg_params *params, char *err,
		   size_t err_len)
{
	struct cfg_parser ps = {
		.name = params != NULL && params->name != NULL ? params->name : "config",
		.err = err,
		.err_len = err_len,
		.section = "dpflow",
		.section_arg = "",
		.inline_comment = params != NULL ? params->inline_comment : '\0',
	};
	unsigned int cap = max_entries(text, len);
	char *p, *next;
	int rc = 0;

	ps.cfg = malloc(sizeof(*ps.cfg) + (size_t)cap * sizeof(ps.cfg->entries[0]) + len + 1);
	if (ps.cfg == NULL)
		return dpf_null_errno(ENOMEM);
	memset(ps.cfg, 0, sizeof(*ps.cfg));
	ps.cfg->cap = cap;
	ps.cfg->text = (char *)&ps.cfg->entries[cap];
	memcpy(ps.cfg->text, text, len);
	ps.cfg->text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		ps.line = 1;
		parse_err(&ps, "file contains a NUL byte");
		rc = -EINVAL;
		goto fail;
	}

	/* A UTF-8 byte order mark, as some Windows editors write, is not text. */
	p = ps.cfg->text;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p != NULL && *p != '\0'; p = next) {
		char *s;

		ps.line++;
		next = strchr(p, '\n');
		if (next != NULL)
			*next++ = '\0';
		rc = check_line(&ps, p);
		if (rc < 0)
			goto fail;
		if (ps.inline_comment != '\0') {
			s = strchr(p, ps.inline_comment);
			if (s != NULL)
				*s = '\0';
		}
		s = dpf_trim(p);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		rc = *s == '[' ? parse_section(&ps, s) : parse_key_value(&ps, s);
		if (rc < 0)
			goto fail;
	}
	return ps.cfg;

fail:
	dpf_cfg_free(ps.cfg);
	return dpf_null_errno(-rc); /* EINVAL (syntax) or ENOMEM */
}

struct dpf_cfg *
dpf_cfg_load(const char *path, char *err, size_t err_len)
{
	return dpf_cfg_load_with(path, NULL, err, err_len);
}

struct dpf_cfg *
dpf_cfg_load_with(const char *path, const struct dpf_cfg_params *params, char *err, size_t err_len)
{
	struct dpf_cfg_params with_name = {.name = path};
	struct dpf_cfg *cfg;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL) {
		rte_errno = errno;
		if (err != NULL)
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				if (err != NULL)
					snprintf(err, err_len, "%s: larger than 64 MiB", path);
				rte_errno = EFBIG;
				goto fail;
			}
			nb = realloc(buf, cap);
			if (nb == NULL) {
				rte_errno = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rte_errno = EIO;
		if (err != NULL)
			snprintf(err, err_len, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	if (params != NULL) {
		with_name = *params;
		if (with_name.name == NULL)
			with_name.name = path;
	}
	cfg = dpf_cfg_parse_with(buf ? buf : "", len, &with_name, err, err_len);
	free(buf);
	return cfg;

fail:
	fclose(f);
	free(buf);
	return NULL;
}

unsigned int
dpf_cfg_count(const struct dpf_cfg *cfg)
{
	return cfg->n;
}

const struct dpf_cfg_entry *
dpf_cfg_get(const struct dpf_cfg *cfg, unsigned int i)
{
	return i < cfg->n ? &cfg->entries[i] : NULL;
}

int
dpf_cfg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int rc = dpf_parse_u64(s, max, &v);

	if (rc < 0)
		return rc;
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}
