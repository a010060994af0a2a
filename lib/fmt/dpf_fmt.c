/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_vect.h>

#include "dpf_fmt.h"
#include "dpf_util.h"

/* Widest text of an address: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 */
#define ADDR_WIDTH 45
#define U64_WIDTH 20

/*
 * The field catalogue. Every row drives parsing, the version rule, the header,
 * the line-length bound and the formatter's switch.
 * X(id, name, AWS version, flow field: '-' on NODATA / SKIPDATA rows,
 *   widest value in bytes, extension: ours, not AWS,
 *   how it is printed: an expression of put_field()'s p, version, meta, ctx
 *   and r that writes the value at p and returns the end)
 *
 * Our extensions have no AWS version. They count as version 2, that is, they
 * never raise the version: AWS consumers only know versions for AWS fields, and
 * the shared checker (tools/check-records) computes the expected version with
 * extensions counted as 2. In practice they travel with pkt-srcaddr, which is
 * version 3 anyway.
 */
#define DPF_FMT_FIELD_TABLE(X)                                                                     \
	X(VERSION, "version", 2, false, 1, false, put_u64(p, version))                             \
	X(ACCOUNT_ID, "account-id", 2, false, DPF_FMT_META_MAX, false,                             \
	  put_meta(p, META(account_id)))                                                           \
	X(INTERFACE_ID, "interface-id", 2, false, DPF_FMT_META_MAX, false,                         \
	  put_meta(p, META(interface_id)))                                                         \
	X(SRCADDR, "srcaddr", 2, true, ADDR_WIDTH, false,                                          \
	  put_addr(p, r->key.family, r->post.src_addr))                                            \
	X(DSTADDR, "dstaddr", 2, true, ADDR_WIDTH, false,                                          \
	  put_addr(p, r->key.family, r->post.dst_addr))                                            \
	X(SRCPORT, "srcport", 2, true, 5, false, put_u64(p, r->post.src_port))                     \
	X(DSTPORT, "dstport", 2, true, 5, false, put_u64(p, r->post.dst_port))                     \
	X(PROTOCOL, "protocol", 2, true, 3, false, put_u8(p, r->key.proto))                        \
	X(PACKETS, "packets", 2, true, U64_WIDTH, false, put_u64(p, r->packets))                   \
	X(BYTES, "bytes", 2, true, U64_WIDTH, false, put_u64(p, r->bytes))                         \
	X(START, "start", 2, false, U64_WIDTH, false, put_u64(p, r->start))                        \
	X(END, "end", 2, false, U64_WIDTH, false, put_u64(p, r->end))                              \
	X(ACTION, "action", 2, true, 6, false,                                                     \
	  PUT_WORD2(p, r->key.action, DPF_ACTION_ACCEPT, "ACCEPT", DPF_ACTION_REJECT, "REJECT"))   \
	X(LOG_STATUS, "log-status", 2, false, 8, false,                                            \
	  r->log_status == DPF_LOG_SKIPDATA                                                        \
		  ? PUT_LIT(p, "SKIPDATA")                                                         \
		  : PUT_WORD2(p, r->log_status, DPF_LOG_OK, "OK", DPF_LOG_NODATA, "NODATA"))       \
	X(VPC_ID, "vpc-id", 3, false, DPF_FMT_META_MAX, false, put_meta(p, META(vpc_id)))          \
	X(SUBNET_ID, "subnet-id", 3, false, DPF_FMT_META_MAX, false, put_meta(p, META(subnet_id))) \
	X(INSTANCE_ID, "instance-id", 3, false, DPF_FMT_META_MAX, false,                           \
	  put_meta(p, META(instance_id)))                                                          \
	X(TCP_FLAGS, "tcp-flags", 3, true, 3, false, put_u8(p, r->tcp_flags_aws))                  \
	X(TYPE, "type", 3, true, 4, false, PUT_WORD2(p, r->key.family, 4, "IPv4", 6, "IPv6"))      \
	X(PKT_SRCADDR, "pkt-srcaddr", 3, true, ADDR_WIDTH, false,                                  \
	  put_addr(p, r->key.family, r->key.src_addr))                                             \
	X(PKT_DSTADDR, "pkt-dstaddr", 3, true, ADDR_WIDTH, false,                                  \
	  put_addr(p, r->key.family, r->key.dst_addr))                                             \
	X(REGION, "region", 4, false, DPF_FMT_META_MAX, false, put_meta(p, META(region)))          \
	X(AZ_ID, "az-id", 4, false, DPF_FMT_META_MAX, false, put_meta(p, META(az_id)))             \
	X(SUBLOCATION_TYPE, "sublocation-type", 4, false, DPF_FMT_META_MAX, false,                 \
	  put_meta(p, META(sublocation_type)))                                                     \
	X(SUBLOCATION_ID, "sublocation-id", 4, false, DPF_FMT_META_MAX, false,                     \
	  put_meta(p, META(sublocation_id)))                                                       \
	X(PKT_SRC_AWS_SERVICE, "pkt-src-aws-service", 5, true, DPF_FMT_META_MAX, false,            \
	  put_service(p, ctx, r->src_service))                                                     \
	X(PKT_DST_AWS_SERVICE, "pkt-dst-aws-service", 5, true, DPF_FMT_META_MAX, false,            \
	  put_service(p, ctx, r->dst_service))                                                     \
	X(FLOW_DIRECTION, "flow-direction", 5, true, 7, false,                                     \
	  PUT_WORD2(p, r->direction, DPF_DIR_INGRESS, "ingress", DPF_DIR_EGRESS, "egress"))        \
	X(TRAFFIC_PATH, "traffic-path", 5, true, 3, false,                                         \
	  r->traffic_path == 0 ? put_dash(p) : put_u8(p, r->traffic_path))                         \
	X(PKT_SRCPORT, "pkt-srcport", 2, true, 5, true, put_u64(p, r->key.src_port))               \
	X(PKT_DSTPORT, "pkt-dstport", 2, true, 5, true, put_u64(p, r->key.dst_port))               \
	X(TCP_FLAGS_ALL, "tcp-flags-all", 2, true, 3, true, put_u8(p, r->tcp_flags_all))           \
	X(TUNNEL_TYPE, "tunnel-type", 2, true, 6, true,                                            \
	  TUNNELED(put_meta(p, dpf_pkt_tun_name(r->key.tun_type))))                                \
	X(TUNNEL_ID, "tunnel-id", 2, true, 10, true,                                               \
	  TUNNELED(r->key.tun_has_id ? put_u64(p, r->key.tun_id) : put_dash(p)))                   \
	X(TUNNEL_SRC, "tunnel-src", 2, true, ADDR_WIDTH, true,                                     \
	  TUNNELED(put_addr(p, r->tun.family, r->tun.src_addr)))                                   \
	X(TUNNEL_DST, "tunnel-dst", 2, true, ADDR_WIDTH, true,                                     \
	  TUNNELED(put_addr(p, r->tun.family, r->tun.dst_addr)))

enum field_id {
#define X_ENUM(id, name, ver, flow, width, ext, print) FIELD_##id,
	DPF_FMT_FIELD_TABLE(X_ENUM)
#undef X_ENUM
	FIELD_COUNT
};

struct field_def {
	const char *name;
	uint8_t name_len;
	uint8_t version;
	bool flow;
	bool extension;
	uint16_t width;
};

static const struct field_def catalogue[FIELD_COUNT] = {
#define X_DEF(id, nm, ver, fl, w, ext, print)                                                      \
	[FIELD_##id] = {                                                                           \
		.name = nm,                                                                        \
		.name_len = sizeof(nm) - 1,                                                        \
		.version = ver,                                                                    \
		.flow = fl,                                                                        \
		.extension = ext,                                                                  \
		.width = w,                                                                        \
	},
	DPF_FMT_FIELD_TABLE(X_DEF)
#undef X_DEF
};

static const char *const field_names[FIELD_COUNT + 1] = {
#define X_NAME(id, nm, ver, fl, w, ext, print) nm,
	DPF_FMT_FIELD_TABLE(X_NAME)
#undef X_NAME
	NULL
};

/* A line of every field, each at its widest, separators and '\n' included. */
enum {
#define X_WIDTH(id, nm, ver, fl, w, ext, print) +(w)
	ALL_FIELDS_WIDTH = 0 DPF_FMT_FIELD_TABLE(X_WIDTH)
#undef X_WIDTH
};
_Static_assert(ALL_FIELDS_WIDTH + FIELD_COUNT <= DPF_FMT_LINE_MAX,
	       "DPF_FMT_LINE_MAX must hold a line of every field at its widest");

static const uint8_t default_fields[] = {
	FIELD_VERSION, FIELD_ACCOUNT_ID, FIELD_INTERFACE_ID, FIELD_SRCADDR, FIELD_DSTADDR,
	FIELD_SRCPORT, FIELD_DSTPORT,	 FIELD_PROTOCOL,     FIELD_PACKETS, FIELD_BYTES,
	FIELD_START,   FIELD_END,	 FIELD_ACTION,	     FIELD_LOG_STATUS,
};

struct dpf_fmt {
	unsigned int n_fields;
	unsigned int version;
	/* Bound on a line of this format: a buffer this large is written directly. */
	unsigned int line_max;
	bool is_default;
	uint8_t fields[FIELD_COUNT]; /* enum field_id; no duplicates, so FIELD_COUNT is enough */
};

/* ---- parsing ---- */

static int
field_lookup(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < FIELD_COUNT; i++)
		if (catalogue[i].name_len == len && memcmp(catalogue[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Names quoted in messages are cut here so a garbage format gives a short message. */
#define ERR_NAME_MAX 64

/*
 * A field name as quoted in a message: cut at ERR_NAME_MAX, control bytes and
 * backslashes as \xNN, so a bad format cannot forge a log line. out holds
 * ERR_NAME_MAX * 4 + 1 bytes.
 */
static void
quote_name(char *out, const char *name, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len && i < ERR_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '\\') {
			*out++ = '\\';
			*out++ = 'x';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		} else {
			*out++ = (char)c;
		}
	}
	*out = '\0';
}

struct dpf_fmt *
dpf_fmt_parse(const char *format, char *err, size_t err_len)
{
	bool seen[FIELD_COUNT] = {false};
	struct dpf_fmt *f;
	size_t pos = 0;

	if (err != NULL && err_len > 0)
		err[0] = '\0';
	if (format == NULL || format[0] == '\0') {
		dpf_set_err(err, err_len, "empty format");
		goto fail;
	}
	if (format[0] == ' ') {
		dpf_set_err(err, err_len, "leading space at column 1");
		goto fail;
	}

	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		dpf_set_err(err, err_len, "out of memory");
		return dpf_null_errno(ENOMEM);
	}

	for (;;) {
		size_t name_start, name_end;
		int id;

		if (format[pos] != '$' || format[pos + 1] != '{') {
			dpf_set_err(err, err_len, "expected '${' at column %zu", pos + 1);
			goto free_fmt;
		}
		name_start = pos + 2;
		name_end = name_start;
		while (format[name_end] != '\0' && format[name_end] != '}' &&
		       format[name_end] != ' ' && format[name_end] != '$' &&
		       format[name_end] != '{')
			name_end++;
		if (format[name_end] != '}') {
			dpf_set_err(err, err_len, "unterminated '${' at column %zu", pos + 1);
			goto free_fmt;
		}
		if (name_end == name_start) {
			dpf_set_err(err, err_len, "empty field name '${}' at column %zu", pos + 1);
			goto free_fmt;
		}
		id = field_lookup(format + name_start, name_end - name_start);
		if (id < 0) {
			char shown[ERR_NAME_MAX * 4 + 1];

			quote_name(shown, format + name_start, name_end - name_start);
			dpf_set_err(err, err_len, "unknown field '%s' at position %u (column %zu)",
				shown, f->n_fields + 1, pos + 1);
			goto free_fmt;
		}
		if (seen[id]) {
			dpf_set_err(err, err_len, "duplicate field '%s' at position %u (column %zu)",
				catalogue[id].name, f->n_fields + 1, pos + 1);
			goto free_fmt;
		}
		seen[id] = true;
		f->fields[f->n_fields++] = (uint8_t)id;

		pos = name_end + 1;
		if (format[pos] == '\0')
			break;
		if (format[pos] != ' ') {
			dpf_set_err(err, err_len, "expected ' ' or end of format at column %zu",
				pos + 1);
			goto free_fmt;
		}
		if (format[pos + 1] == '\0') {
			dpf_set_err(err, err_len, "trailing space at column %zu", pos + 1);
			goto free_fmt;
		}
		if (format[pos + 1] == ' ') {
			dpf_set_err(err, err_len, "double space at column %zu", pos + 1);
			goto free_fmt;
		}
		pos++;
	}

	f->is_default = f->n_fields == RTE_DIM(default_fields) &&
			memcmp(f->fields, default_fields, sizeof(default_fields)) == 0;
	f->version = 2;
	f->line_max = f->n_fields; /* separators and '\n' */
	for (unsigned int i = 0; i < f->n_fields; i++) {
		const struct field_def *d = &catalogue[f->fields[i]];

		if (!f->is_default && d->version > f->version)
			f->version = d->version;
		f->line_max += d->width;
	}
	return f;

free_fmt:
	free(f);
fail:
	return dpf_null_errno(EINVAL);
}

void
dpf_fmt_free(struct dpf_fmt *f)
{
	free(f);
}

unsigned int
dpf_fmt_version(const struct dpf_fmt *f)
{
	return f->version;
}

int
dpf_fmt_is_default(const struct dpf_fmt *f)
{
	return f->is_default;
}

unsigned int
dpf_fmt_field_count(const struct dpf_fmt *f)
{
	return f->n_fields;
}

const char *const *
dpf_fmt_field_names(void)
{
	return field_names;
}

int
dpf_fmt_field_version(const char *name)
{
	int id = name != NULL ? field_lookup(name, strlen(name)) : -1;

	return id < 0 ? -ENOENT : catalogue[id].version;
}

bool
dpf_fmt_field_is_extension(const char *name)
{
	int id = name != NULL ? field_lookup(name, strlen(name)) : -1;

	return id >= 0 && catalogue[id].extension;
}

int
dpf_fmt_header(const struct dpf_fmt *f, char *buf, size_t len)
{
	size_t need = 0, off = 0;
	unsigned int i;

	for (i = 0; i < f->n_fields; i++)
		need += catalogue[f->fields[i]].name_len + 1;
	/* The header promises a NUL; it is not on the record path, so require the room. */
	if (need + 1 > len)
		return -ENOSPC;
	for (i = 0; i < f->n_fields; i++) {
		const struct field_def *d = &catalogue[f->fields[i]];

		memcpy(buf + off, d->name, d->name_len);
		off += d->name_len;
		buf[off++] = i + 1 < f->n_fields ? ' ' : '\n';
	}
	buf[off] = '\0';
	return (int)off;
}

/* ---- value writers: no printf; the caller guarantees room for the widest value ---- */

static const char digit_pairs[201] = "00010203040506070809"
				      "10111213141516171819"
				      "20212223242526272829"
				      "30313233343536373839"
				      "40414243444546474849"
				      "50515253545556575859"
				      "60616263646566676869"
				      "70717273747576777879"
				      "80818283848586878889"
				      "90919293949596979899";

static const uint64_t pow10_table[U64_WIDTH] = {
	1ULL,
	10ULL,
	100ULL,
	1000ULL,
	10000ULL,
	100000ULL,
	1000000ULL,
	10000000ULL,
	100000000ULL,
	1000000000ULL,
	10000000000ULL,
	100000000000ULL,
	1000000000000ULL,
	10000000000000ULL,
	100000000000000ULL,
	1000000000000000ULL,
	10000000000000000ULL,
	100000000000000000ULL,
	1000000000000000000ULL,
	10000000000000000000ULL,
};

/* Decimal digits of v: log10 from the bit length, corrected by one comparison. */
static inline unsigned int
dec_len(uint64_t v)
{
	uint64_t x = v | 1;
	unsigned int t = (unsigned int)(64 - __builtin_clzll(x)) * 1233 >> 12;

	return t - (x < pow10_table[t]) + 1;
}

/* Digits are produced two at a time from the end, so the length comes first. */
static inline char *
put_u64(char *p, uint64_t v)
{
	char *end = p + dec_len(v);
	char *q = end;

	while (v >= 100) {
		unsigned int pair = (unsigned int)(v % 100);

		v /= 100;
		q -= 2;
		memcpy(q, digit_pairs + 2 * pair, 2);
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, digit_pairs + 2 * v, 2);
	} else {
		*--q = (char)('0' + v);
	}
	return end;
}

static inline char *
put_u8(char *p, unsigned int v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		memcpy(p, digit_pairs + 2 * (v % 100), 2);
		return p + 2;
	}
	if (v >= 10) {
		memcpy(p, digit_pairs + 2 * v, 2);
		return p + 2;
	}
	*p = (char)('0' + v);
	return p + 1;
}

static inline char *
put_dash(char *p)
{
	*p = '-';
	return p + 1;
}

static inline char *
put_lit(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, s) put_lit(p, s, sizeof(s) - 1)

/*
 * The vector path reads whole aligned 16-byte blocks around the string: safe
 * (never crosses a page) but an out-of-bounds read to AddressSanitizer, so
 * sanitized builds take the scalar loop.
 */
#if defined(__SANITIZE_ADDRESS__)
#define DPF_FMT_SCALAR_META 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DPF_FMT_SCALAR_META 1
#endif
#endif

static inline __rte_unused bool
meta_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/*
 * Length of s when it prints as is (1..DPF_FMT_META_MAX bytes of printable
 * ASCII without space), else 0. Every record prints the account and
 * interface ids, so the check looks at 16 bytes at a time: aligned loads,
 * which never cross into the next page, bytes before s shifted out.
 */
static inline size_t
meta_len(const char *s)
{
#if defined(RTE_ARCH_X86) && !defined(DPF_FMT_SCALAR_META)
	const char *block = (const char *)((uintptr_t)s & ~(uintptr_t)15);
	unsigned int skip = (unsigned int)((uintptr_t)s & 15);
	const __m128i space = _mm_set1_epi8(0x21), del = _mm_set1_epi8(0x7f);
	size_t done = 0;

	for (;;) {
		__m128i v = _mm_load_si128((const __m128i *)block);
		/* Signed: bytes >= 0x80 are negative, so below 0x21 as well. */
		uint32_t bad = (uint32_t)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)));
		uint32_t nul = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));

		bad >>= skip;
		nul >>= skip;
		if (nul != 0) {
			unsigned int end = (unsigned int)__builtin_ctz(nul);
			size_t len = done + end;

			/* The NUL itself is "bad": only bytes before it count. */
			if ((bad & ((1u << end) - 1)) != 0 || len == 0 || len > DPF_FMT_META_MAX)
				return 0;
			return len;
		}
		if (bad != 0)
			return 0;
		done += 16 - skip;
		if (done > DPF_FMT_META_MAX)
			return 0;
		block += 16;
		skip = 0;
	}
#else
	size_t i;

	for (i = 0; i < DPF_FMT_META_MAX && s[i] != '\0'; i++)
		if (!meta_char_ok((unsigned char)s[i]))
			return 0;
	return s[i] == '\0' ? i : 0;
#endif
}

/* Copies when valid, and falls back to '-' so a bad string never breaks a line. */
static inline char *
put_meta(char *p, const char *s)
{
	size_t len;

	if (s == NULL)
		return put_dash(p);
	len = meta_len(s);
	if (len == 0)
		return put_dash(p);
	memcpy(p, s, len);
	return p + len;
}

bool
dpf_fmt_meta_valid(const char *s)
{
	return s != NULL && meta_len(s) != 0;
}

static inline char *
put_ipv4(char *p, const uint8_t *a)
{
	p = put_u8(p, a[0]);
	*p++ = '.';
	p = put_u8(p, a[1]);
	*p++ = '.';
	p = put_u8(p, a[2]);
	*p++ = '.';
	return put_u8(p, a[3]);
}

static inline char *
put_hex16(char *p, unsigned int w)
{
	static const char hex[16] = "0123456789abcdef";

	if (w >= 0x1000)
		*p++ = hex[w >> 12];
	if (w >= 0x100)
		*p++ = hex[(w >> 8) & 0xf];
	if (w >= 0x10)
		*p++ = hex[(w >> 4) & 0xf];
	*p++ = hex[w & 0xf];
	return p;
}

/*
 * RFC 5952 as glibc's inet_ntop writes it: the longest run of two or more zero
 * groups becomes "::" (the first one on a tie), and an address whose first 96
 * bits are zero with a nonzero group 6, or whose first 80 bits are zero
 * followed by ffff (IPv4-mapped), ends in dotted decimal.
 */
static char *
put_ipv6(char *p, const uint8_t *a)
{
	unsigned int words[8];
	int best_base = -1, best_len = 0, cur_base = -1, cur_len = 0;
	int i;

	for (i = 0; i < 8; i++) {
		words[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		if (words[i] == 0) {
			if (cur_base < 0) {
				cur_base = i;
				cur_len = 0;
			}
			cur_len++;
			if (cur_len > best_len) {
				best_base = cur_base;
				best_len = cur_len;
			}
		} else {
			cur_base = -1;
		}
	}
	if (best_len < 2)
		best_base = -1;

	for (i = 0; i < 8; i++) {
		if (best_base >= 0 && i >= best_base && i < best_base + best_len) {
			if (i == best_base)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		if (i == 6 && best_base == 0 &&
		    (best_len == 6 || (best_len == 5 && words[5] == 0xffff)))
			return put_ipv4(p, a + 12);
		p = put_hex16(p, words[i]);
	}
	/* A run reaching the last group leaves the second ':' to write. */
	if (best_base >= 0 && best_base + best_len == 8)
		*p++ = ':';
	return p;
}

int
dpf_fmt_addr(char *buf, size_t len, uint8_t family, const uint8_t *addr)
{
	char tmp[ADDR_WIDTH + 1];
	size_t n;

	if (family == 4)
		n = (size_t)(put_ipv4(tmp, addr) - tmp);
	else if (family == 6)
		n = (size_t)(put_ipv6(tmp, addr) - tmp);
	else
		return -EAFNOSUPPORT;
	if (n + 1 > len)
		return -ENOSPC;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}

static inline char *
put_addr(char *p, uint8_t family, const uint8_t *addr)
{
	if (family == 4)
		return put_ipv4(p, addr);
	if (family == 6)
		return put_ipv6(p, addr);
	return put_dash(p);
}

char *
dpf_fmt_put_u64(char *p, uint64_t v)
{
	return put_u64(p, v);
}

char *
dpf_fmt_put_addr(char *p, uint8_t family, const uint8_t *addr)
{
	return put_addr(p, family, addr);
}

static inline char *
put_service(char *p, const struct dpf_fmt_ctx *ctx, uint16_t service)
{
	if (service == 0 || ctx == NULL || ctx->service_names == NULL ||
	    service > ctx->n_services)
		return put_dash(p);
	return put_meta(p, ctx->service_names[service - 1]);
}

/* ---- records ---- */

/* A value of two words, "-" for any other (constant lengths: PUT_LIT). */
#define PUT_WORD2(p, v, a, word_a, b, word_b)                                                      \
	((v) == (a) ? PUT_LIT(p, word_a) : (v) == (b) ? PUT_LIT(p, word_b) : put_dash(p))
/* An interface's metadata member: NULL ("-") when the record has no interface. */
#define META(member) (meta != NULL ? meta->member : NULL)
/* The outer view of a decapsulated flow: "-" for every other record. */
#define TUNNELED(e) (r->key.tun_type == DPF_TUN_NONE ? put_dash(p) : (e))

static char *
put_field(char *p, enum field_id id, unsigned int version, const struct dpf_iface_meta *meta,
	  const struct dpf_fmt_ctx *ctx, const struct dpf_record *r)
{
	switch (id) {
#define X_PUT(id, nm, ver, fl, w, ext, print)                                                      \
	case FIELD_##id:                                                                           \
		return print;
	DPF_FMT_FIELD_TABLE(X_PUT)
#undef X_PUT
	case FIELD_COUNT:
		break;
	}
	return put_dash(p);
}

#undef TUNNELED
#undef META
#undef PUT_WORD2

int
dpf_fmt_record(const struct dpf_fmt *f, const struct dpf_fmt_ctx *ctx,
	       const struct dpf_record *r, char *buf, size_t len)
{
	/*
	 * Values are written without bounds checks, so a buffer that may be too
	 * small gets the line through this scratch copy: the writer's large
	 * buffers take the direct path, and an exact fit still succeeds.
	 */
	char scratch[DPF_FMT_LINE_MAX];
	const struct dpf_iface_meta *meta = NULL;
	bool no_flow = r->log_status != DPF_LOG_OK;
	char *out = len >= f->line_max ? buf : scratch;
	char *p = out;
	size_t n;
	unsigned int i;

	if (ctx != NULL && ctx->ifaces != NULL && r->key.iface < ctx->n_ifaces)
		meta = &ctx->ifaces[r->key.iface];

	for (i = 0; i < f->n_fields; i++) {
		enum field_id id = (enum field_id)f->fields[i];

		if (i != 0)
			*p++ = ' ';
		if (no_flow && catalogue[id].flow)
			p = put_dash(p);
		else
			p = put_field(p, id, f->version, meta, ctx, r);
	}
	*p++ = '\n';
	n = (size_t)(p - out);

	if (out == scratch) {
		if (n > len)
			return -ENOSPC;
		memcpy(buf, scratch, n);
	}
	if (n < len)
		buf[n] = '\0';
	return (int)n;
}
