/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CFG_H
#define DPF_CFG_H

/**
 * @file
 * Configuration file reader and value parsers.
 *
 * The file is INI-like:
 *
 *     # comment            ; comment
 *     [dpflow]             global settings (keys are the long option names)
 *     window = 60
 *     log-format = "${version} ${srcaddr}"    quotes are optional
 *     [interface eni-0123] a section with an argument
 *     port = 0
 *
 * With dpf_cfg_params.inline_comment ('#', driver profiles) a comment may
 * also follow a value or a section header.
 *
 * Keys before the first section belong to "dpflow". Each section header
 * also gives an entry, with key == NULL, so empty sections can be checked
 * too. A section header may appear once ("[interface eni-1]" twice is an
 * error naming both lines). A UTF-8 byte order mark at the start is skipped.
 * Whether a key may repeat is the application's business. Every entry keeps its
 * line number so the application can name the line in its errors. What the
 * keys mean is the application's business (its option table); this library
 * only reads the syntax.
 *
 * Thread safety: a parsed struct dpf_cfg is immutable.
 */

#include <stddef.h>
#include <stdint.h>

struct dpf_cfg_entry {
	const char *section;     /**< "dpflow", "interface", ... */
	const char *section_arg; /**< "eni-0123" for "[interface eni-0123]"; "" when none */
	const char *key;         /**< NULL for the entry of a section header */
	const char *value;       /**< trimmed, quotes removed; NULL with key */
	unsigned int line;
	unsigned int section_line; /**< line of the section header (0: implicit) */
};

struct dpf_cfg;

/** How to read a file; zero means the defaults. */
struct dpf_cfg_params {
	const char *name; /**< shown in error messages (file name); NULL: "config" (parse) or
			   *   the path (load) */
	/**
	 * 0: a comment is a whole line starting with '#' or ';'. A character
	 * ('#'): it also starts a comment anywhere on a line, after a value or a
	 * section header, quoted or not (driver profiles, doc/drivers-cfg.md).
	 */
	char inline_comment;
};

/**
 * Parse configuration text (a copy is kept: text may go). Needs no EAL.
 * @param name   shown in error messages (file name); NULL gives "config"
 * @param err    on failure: "<name>:<line>: <problem>"; may be NULL
 * @return the parsed file, or NULL with rte_errno = EINVAL (syntax: a NUL
 *         byte, a control character, a line over 4096 characters, a bad
 *         section header or key, a repeated section, an unterminated quote)
 *         or ENOMEM
 */
struct dpf_cfg *dpf_cfg_parse(const char *text, size_t len, const char *name, char *err,
			      size_t err_len);

/** dpf_cfg_parse() with parameters (p may be NULL: the defaults). */
struct dpf_cfg *dpf_cfg_parse_with(const char *text, size_t len, const struct dpf_cfg_params *p,
				   char *err, size_t err_len);

/**
 * Read and parse a file (at most 64 MiB), as dpf_cfg_parse().
 * @return NULL with rte_errno also the errno of a failed open, EFBIG (too
 *         large) or EIO (read error); err names the path
 */
struct dpf_cfg *dpf_cfg_load(const char *path, char *err, size_t err_len);

/** dpf_cfg_load() with parameters (p may be NULL: the defaults). */
struct dpf_cfg *dpf_cfg_load_with(const char *path, const struct dpf_cfg_params *p, char *err,
				  size_t err_len);

/** NULL-safe. */
void dpf_cfg_free(struct dpf_cfg *cfg);

/** Entries (section headers included). */
unsigned int dpf_cfg_count(const struct dpf_cfg *cfg);

/** Entry i in file order, or NULL. */
const struct dpf_cfg_entry *dpf_cfg_get(const struct dpf_cfg *cfg, unsigned int i);

/**
 * Parse an unsigned decimal integer in [min, max]; no sign, no blank, no
 * trailing junk (dpf_parse_u64() of lib/util, with a minimum).
 * @return 0 and *out, -EINVAL (NULL, empty, or not digits only) or -ERANGE
 *         (digits only, but outside [min, max])
 */
int dpf_cfg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif /* DPF_CFG_H */
