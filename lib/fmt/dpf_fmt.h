/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_FMT_H
#define DPF_FMT_H

/**
 * @file
 * AWS VPC Flow Logs format strings and line formatting (formats.md).
 *
 * One table (the field catalogue) drives parsing, versions, the header line
 * and formatting. Formatting never uses printf on the record path.
 *
 * Thread safety: a parsed struct dpf_fmt is immutable; formatting functions
 * may be called from any thread concurrently.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpf_flow.h"

/** The AWS default (version 2) format string. */
#define DPF_FMT_DEFAULT                                                               \
	"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "   \
	"${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} "        \
	"${log-status}"

/** Longest line dpf_fmt_record() can produce for any format, '\n' included. */
#define DPF_FMT_LINE_MAX 4096

struct dpf_fmt;

/** What the formatter needs besides the record itself. */
struct dpf_fmt_ctx {
	const struct dpf_iface_meta *ifaces; /**< indexed by record key.iface */
	uint16_t n_ifaces;
	const char *const *service_names;    /**< record src/dst_service - 1 */
	uint16_t n_services;
};

/**
 * Parse a format string: `${field}` tokens separated by single spaces, at
 * least one field, no unknown field, no duplicate.
 *
 * @param format  the format string
 * @param err     on failure, a message naming the problem (for example
 *                "unknown field 'foo' at position 3"); may be NULL
 * @param err_len size of err
 * @return the parsed format, or NULL with rte_errno set (EINVAL bad format,
 *         ENOMEM)
 */
struct dpf_fmt *dpf_fmt_parse(const char *format, char *err, size_t err_len);

/** NULL-safe. */
void dpf_fmt_free(struct dpf_fmt *f);

/** Version printed in records: 2 for the default format, else the highest field version. */
unsigned int dpf_fmt_version(const struct dpf_fmt *f);

/** True when f is exactly the default format. */
int dpf_fmt_is_default(const struct dpf_fmt *f);

/** Number of fields. */
unsigned int dpf_fmt_field_count(const struct dpf_fmt *f);

/**
 * Write the header line (field names separated by single spaces, then '\n').
 * @return bytes written (not counting the terminating NUL), or -ENOSPC
 */
int dpf_fmt_header(const struct dpf_fmt *f, char *buf, size_t len);

/**
 * Format one record as a line ending in '\n' (NUL-terminated when room).
 * NODATA and SKIPDATA rows print '-' for every flow field.
 * @return bytes written (not counting NUL), or -ENOSPC when len is too small
 */
int dpf_fmt_record(const struct dpf_fmt *f, const struct dpf_fmt_ctx *ctx,
		   const struct dpf_record *r, char *buf, size_t len);

/**
 * The number writer of the formatter, for other text outputs (the IBM
 * objects): v in decimal at p, at most 20 characters, no NUL.
 * @return the end of what was written
 */
char *dpf_fmt_put_u64(char *p, uint64_t v);

/**
 * An address as records print it (dotted IPv4, RFC 5952 IPv6; `-` for
 * another family) at p, at most 39 characters, no NUL.
 * @return the end of what was written
 */
char *dpf_fmt_put_addr(char *p, uint8_t family, const uint8_t *addr);

/**
 * Names of every known field, NULL-terminated (for help and documentation).
 */
const char *const *dpf_fmt_field_names(void);

/**
 * Longest configured string (interface metadata, service name) printed as is.
 * DPF_FMT_LINE_MAX holds a line of every field with strings this long.
 */
#define DPF_FMT_META_MAX 255

/**
 * Whether a configured string (interface metadata, service name) prints as is:
 * 1 to DPF_FMT_META_MAX bytes of printable ASCII, no space. dpf_fmt_record()
 * prints '-' for any other string (NULL and "" included), so a line never
 * breaks; the application should reject such strings when it reads them.
 */
bool dpf_fmt_meta_valid(const char *s);

/**
 * Version a field contributes to the version rule.
 * @return 2..5, or -ENOENT for an unknown name. Our extensions (pkt-srcport,
 *         pkt-dstport, tcp-flags-all) have no AWS version and return 2.
 */
int dpf_fmt_field_version(const char *name);

/** True for our extension fields (not AWS fields); false for unknown names. */
bool dpf_fmt_field_is_extension(const char *name);

/**
 * Write an address as inet_ntop() does (IPv6: RFC 5952, lowercase, longest
 * zero run compressed, IPv4-mapped as ::ffff:a.b.c.d), then a NUL.
 *
 * @param family 4 or 6
 * @param addr   4 bytes (family 4) or 16 bytes (family 6), network order
 * @return length written (not counting the NUL), -ENOSPC when len cannot hold
 *         the text and its NUL (nothing written), -EAFNOSUPPORT for another family
 */
int dpf_fmt_addr(char *buf, size_t len, uint8_t family, const uint8_t *addr);

#endif /* DPF_FMT_H */
