/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_UTIL_H
#define DPF_UTIL_H

/**
 * @file
 * The small internals every other library needs and used to write again:
 * big-endian loads and stores, the NULL + rte_errno failure, one allocation
 * for a handle and its arrays, time units, error messages for parsers, text
 * trimming and decimal numbers, mkdir -p, IP addresses and prefixes,
 * protocol names, and unique names for DPDK objects and the rte_hash tables
 * built from them.
 *
 * It is the first library in lib/meson.build: it depends on no other dpflow
 * library, so any of them may use it. Like every library it never prints,
 * never exits and never reads a clock.
 *
 * Thread safety: every function is reentrant and may be called from any
 * thread, lcore or not; dpf_unique_name() draws from one process-wide atomic
 * counter. dpf_hash_create(), dpf_layout_new() and dpf_null_free() need EAL
 * (rte_hash, rte_malloc); nothing else does.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>

/* ------------------------------------------------------------ byte order */

/*
 * Loads and stores of big-endian (network order) values at any alignment:
 * a memcpy the compiler turns into one move, then a byte swap. Inline,
 * because the packet parser and the merge call them per packet and per flow.
 * One definition makes all six, so the widths cannot drift apart:
 *
 *   uint16_t dpf_load_be16(const void *p)     void dpf_store_be16(void *p, uint16_t v)
 *   uint32_t dpf_load_be32(const void *p)     void dpf_store_be32(void *p, uint32_t v)
 *   uint64_t dpf_load_be64(const void *p)     void dpf_store_be64(void *p, uint64_t v)
 *
 * dpf_load_beN() returns the value at p; dpf_store_beN() writes v at p.
 */
#define DPF_BE_ACCESSORS(bits)                                                                     \
	static inline uint##bits##_t dpf_load_be##bits(const void *p)                              \
	{                                                                                          \
		uint##bits##_t v;                                                                  \
		memcpy(&v, p, sizeof(v));                                                          \
		return rte_be_to_cpu_##bits(v);                                                    \
	}                                                                                          \
	static inline void dpf_store_be##bits(void *p, uint##bits##_t v)                           \
	{                                                                                          \
		v = rte_cpu_to_be_##bits(v);                                                       \
		memcpy(p, &v, sizeof(v));                                                          \
	}

DPF_BE_ACCESSORS(16)
DPF_BE_ACCESSORS(32)
DPF_BE_ACCESSORS(64)

/* ------------------------------------------------------------ failures */

/**
 * The failure of a function that returns a pointer (style: NULL and
 * rte_errno): sets rte_errno to err.
 * @return NULL, always
 */
static inline void *
dpf_null_errno(int err)
{
	rte_errno = err;
	return NULL;
}

/**
 * The failure of a create function in a step after its allocation (the
 * last, so nothing else is to be undone): rte_free(obj), then NULL with
 * rte_errno as the failed step set it. Needs EAL.
 * @return NULL, always
 */
void *dpf_null_free(void *obj);

/* ------------------------------------------------------------ one allocation */

/**
 * Lay out a handle and the arrays it owns in one allocation: place an array
 * of `bytes` at the first cache line past the `*size` bytes laid out so far,
 * and grow *size to its end. A create function starts from sizeof(handle),
 * places every array whose size it knows, allocates *size bytes once
 * (cache-line aligned) and sets each array to RTE_PTR_ADD(handle, offset):
 * one failure path, and a free that is one call. Arrays on the data path
 * keep a cache line to themselves at the start, as with their own allocation.
 * @return the offset of the array from the start of the allocation
 */
static inline size_t
dpf_layout_place(size_t *size, size_t bytes)
{
	size_t off = RTE_ALIGN_CEIL(*size, RTE_CACHE_LINE_SIZE);

	*size = off + bytes;
	return off;
}

/** One array a handle owns, for dpf_layout_new(). */
struct dpf_layout_part {
	size_t field; /**< offsetof() the handle's pointer to the array */
	size_t bytes; /**< the array's size (0: the pointer is left NULL) */
	bool zero;    /**< zeroed at create: the array is read before it is written */
};

/**
 * One allocation for a handle and the arrays it owns, laid out as
 * dpf_layout_place() does (each array from a cache line on), on socket_id
 * (rte_malloc, cache-line aligned), with each array's pointer field set. A
 * create function describes its arrays in a table of parts instead of
 * placing, allocating and pointing each by hand. The handle and the parts
 * marked zero are zeroed (rte_zmalloc: only where DPDK does not know the
 * memory to be zero already, so fresh pages stay untouched until used); the
 * others are not, so that a large table that is written before it is read
 * does not have all its pages touched at create.
 * Needs EAL; control path only. Free with rte_free().
 * @return the handle, or NULL and rte_errno ENOMEM (or EINVAL: more than
 *         DPF_LAYOUT_MAX_PARTS parts)
 */
void *dpf_layout_new(const char *name, size_t handle_size, const struct dpf_layout_part *parts,
		     unsigned int n_parts, int socket_id);

/** The most parts dpf_layout_new() takes. */
#define DPF_LAYOUT_MAX_PARTS 12

/**
 * Copy the first len bytes of s and a NUL to *tail, the handle's strings
 * after its arrays (they need no cache line of their own: the create
 * function adds len + 1 to the size it allocates for each), and move *tail
 * past the copy. The strings then go with the handle's one free().
 * @return the copy
 */
static inline char *
dpf_layout_str(char **tail, const char *s, size_t len)
{
	char *copy = *tail;

	memcpy(copy, s, len);
	copy[len] = '\0';
	*tail = copy + len + 1;
	return copy;
}

/* ------------------------------------------------------------ time */

/** Nanoseconds in a second: times are Unix nanoseconds below app/. */
#define DPF_NS_PER_SEC UINT64_C(1000000000)

/* ------------------------------------------------------------ error messages */

/**
 * Write a message into a caller's error buffer, the way every parser of
 * dpflow reports what it refused ("<token>: <problem>"). The text is cut to
 * fit and always NUL-terminated.
 *
 * @param err      the buffer; NULL (or err_len 0) writes nothing
 * @param err_len  its size
 */
void dpf_set_err(char *err, size_t err_len, const char *fmt, ...) __rte_format_printf(3, 4);

/** dpf_set_err() with a va_list. */
void dpf_vset_err(char *err, size_t err_len, const char *fmt, va_list ap) __rte_format_printf(3, 0);

/**
 * Append to the message already in err (a prefix such as "file:line: "),
 * cut to fit. Nothing happens when err is NULL, err_len is 0 or err is full.
 */
void dpf_vadd_err(char *err, size_t err_len, const char *fmt, va_list ap) __rte_format_printf(3, 0);

/* ------------------------------------------------------------ text */

/**
 * Trim a line in place: blanks (space, tab) at the start; blanks and the
 * carriage return of a CRLF line at the end.
 * @return s advanced past the leading blanks (s itself is cut at the end)
 */
char *dpf_trim(char *s);

/** True when s ends with suffix (every string ends with ""). */
bool dpf_has_suffix(const char *s, const char *suffix);

/**
 * Parse an unsigned decimal number: digits only (no sign, no blank, no
 * base prefix), at least one.
 * @return 0 and *out, -EINVAL (NULL, empty, or a character that is not a
 *         digit anywhere in s), -ERANGE (digits only, but above max)
 */
int dpf_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* ------------------------------------------------------------ files */

/**
 * mkdir -p: create path and every missing parent with mode (an existing
 * directory is fine). Symbolic links in path are followed: this is for a
 * directory the operator names, not for paths below it.
 * @return 0, -ENAMETOOLONG (path of PATH_MAX or more), or -errno of the
 *         mkdir that failed (EACCES, ENOTDIR, EROFS, ENOSPC, ...)
 */
int dpf_mkdir_p(const char *path, mode_t mode);

/**
 * read(2) of at most len bytes, again after EINTR.
 * @return bytes read (0 at the end of the file), or -errno of the read
 */
ssize_t dpf_read(int fd, void *buf, size_t len);

/**
 * Write all of buf: write(2) again after EINTR and after a partial write.
 * @param written  out (may be NULL): bytes written, also on failure
 * @return 0, or -errno of the failed write (-EIO for a write of 0 bytes)
 */
int dpf_write_all(int fd, const void *buf, size_t len, size_t *written);

/* ------------------------------------------------------------ addresses */

/** Text of the longest address dpf_addr_format() writes, NUL included. */
#define DPF_ADDR_TEXT_MAX 46

/**
 * Parse an IPv4 (dotted quad) or IPv6 address.
 * @param addr    out: 16 bytes, IPv4 in bytes 0..3 and the rest zero
 * @param family  out: 4 or 6
 * @return 0, or -EINVAL (neither; addr is then zero)
 */
int dpf_addr_parse(const char *text, uint8_t addr[16], uint8_t *family);

/**
 * Text of an address (inet_ntop), "?" when it cannot be written.
 * @param family  4, else IPv6
 * @param len     DPF_ADDR_TEXT_MAX is always enough
 * @return buf
 */
const char *dpf_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t len);

/**
 * Parse "<address>/<length>" or a bare address (length 32 or 128). Host
 * bits are allowed (an interface address keeps them): check them with
 * dpf_prefix_has_host_bits() where a prefix must not have any.
 * @param addr, family  out, as dpf_addr_parse()
 * @param len           out: the prefix length
 * @return 0, -ENAMETOOLONG (text of 64 characters or more), -EINVAL (the
 *         part before '/' is no address), -EDOM (the length is not a
 *         decimal number), -ERANGE (the length is above 32 or 128)
 */
int dpf_cidr_parse(const char *text, uint8_t addr[16], uint8_t *family, uint8_t *len);

/** Clear every bit of a 16-byte address past the first len bits. */
void dpf_prefix_mask(uint8_t addr[16], unsigned int len);

/** True when a 16-byte address has a bit set past its first len bits. */
bool dpf_prefix_has_host_bits(const uint8_t addr[16], unsigned int len);

/** True when the first len bits of the 16-byte addresses a and b agree. */
bool dpf_prefix_match(const uint8_t a[16], const uint8_t b[16], unsigned int len);

/* ------------------------------------------------------------ protocols */

/**
 * The IANA number of a protocol name: tcp, udp, icmp, icmpv6 (and its
 * alias ipv6-icmp), sctp, gre, esp.
 * @param any_case  true: "TCP" is tcp too
 * @return 0..255, or -EINVAL (no such name)
 */
int dpf_proto_by_name(const char *name, bool any_case);

/**
 * A protocol as a name (dpf_proto_by_name()) or a decimal number 0..255.
 * @return 0 and *proto, -ERANGE (a number above 255), -EINVAL (neither)
 */
int dpf_proto_parse(const char *text, bool any_case, uint8_t *proto);

/** The first name of a protocol number, or NULL when it has none. */
const char *dpf_proto_name(uint8_t proto);

/* ------------------------------------------------------------ DPDK objects */

/**
 * Unix seconds as UTC text in strftime's format fmt (e.g. "%Y-%m-%dT%H:%M:%SZ"
 * for RFC 3339), the one way dpflow writes a time for people and file names.
 * @return the length written; 0 with buf "" when sec is past what time_t and
 *         the C library can break down, or the text does not fit in len
 */
size_t dpf_utc_text(char *buf, size_t len, const char *fmt, uint64_t sec);

/**
 * Make a name for a DPDK object that no object of this process has yet:
 * "<tag><n>-<name>", n from a process-wide counter (first, so that a name
 * cut to size stays unique), cut to size - 1 characters. Tries again with
 * the next n while taken() says the name is in use.
 * @param taken  may be NULL (the first name is taken as it is)
 * @return 0, or -EEXIST when 16 names in a row were taken
 */
int dpf_unique_name(char *buf, size_t size, const char *tag, const char *name,
		    bool (*taken)(const char *name));

struct rte_hash;

/** Entries of rte_hash's smallest table: one bucket (RTE_HASH_BUCKET_ENTRIES is private). */
#define DPF_HASH_MIN_ENTRIES 8

/**
 * The entries to ask rte_hash for to hold up to `capacity` keys, a bound the
 * caller enforces itself: cuckoo insertion can fail before every bucket slot
 * is taken, so the hash gets an eighth more room (and at least one bucket).
 */
static inline uint32_t
dpf_hash_room(uint32_t capacity)
{
	return RTE_MAX(capacity + capacity / 8, (uint32_t)DPF_HASH_MIN_ENTRIES);
}

/**
 * rte_hash_create() for the tables of fixed-size keys dpflow keeps: keys
 * hashed with rte_hash_crc (seed 0), at least DPF_HASH_MIN_ENTRIES entries,
 * named "<name>_<suffix>" with name cut to 20 characters (rte_hash names a
 * ring "HT_<name>", and ring names hold 28), or name as it is when suffix
 * is NULL.
 * @param extra_flag  RTE_HASH_EXTRA_FLAGS_* (0: single writer, no reader
 *                    on other lcores)
 * @return the table, or NULL with rte_errno (EINVAL, EEXIST: the name is in
 *         use, ENOMEM, or what rte_hash_create() reported). Needs EAL;
 *         control path only.
 */
struct rte_hash *dpf_hash_create(const char *name, const char *suffix, uint32_t entries,
				 uint32_t key_len, int socket_id, uint8_t extra_flag);

/**
 * dpf_hash_create() under a name no object of the process has yet
 * (dpf_unique_name(): "<tag><n>-<name>"), for tables of which a process may
 * hold several.
 * @return the table, or NULL with rte_errno: EEXIST (no free name), EINVAL,
 *         ENOMEM. Needs EAL; control path only.
 */
struct rte_hash *dpf_hash_create_unique(const char *tag, const char *name, uint32_t entries,
					uint32_t key_len, int socket_id, uint8_t extra_flag);

#endif /* DPF_UTIL_H */
