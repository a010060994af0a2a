/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dpf_util.h"

/* Longest "<address>/<length>" any caller accepts; anything longer is no prefix. */
#define CIDR_TEXT_MAX 64
/* Names tried by dpf_unique_name() before giving up. */
#define UNIQUE_NAME_ATTEMPTS 16
/* Room for "<name>_<suffix>" in a ring name "HT_..." of 28 characters. */
#define HASH_NAME_PREFIX_MAX 20

void
dpf_vset_err(char *err, size_t err_len, const char *fmt, va_list ap)
{
	if (err == NULL || err_len == 0)
		return;
	vsnprintf(err, err_len, fmt, ap);
}

void
dpf_set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dpf_vset_err(err, err_len, fmt, ap);
	va_end(ap);
}

void
dpf_vadd_err(char *err, size_t err_len, const char *fmt, va_list ap)
{
	size_t used;

	if (err == NULL || err_len == 0)
		return;
	used = strnlen(err, err_len);
	if (used + 1 >= err_len)
		return;
	vsnprintf(err + used, err_len - used, fmt, ap);
}

char *
dpf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

bool
dpf_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s);
	size_t k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int
dpf_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool over = false;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	/* Every character is looked at: "70000x" is not a number, not a range error. */
	for (; *s != '\0'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
dpf_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	size_t i;

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	/* Each prefix that ends a component, once: "a//b/" makes "a" and "a//b". */
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

ssize_t
dpf_read(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

int
dpf_write_all(int fd, const void *buf, size_t len, size_t *written)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int rc = 0;

	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (written != NULL)
		*written = off;
	return rc;
}

int
dpf_addr_parse(const char *text, uint8_t addr[16], uint8_t *family)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = 6;
		return 0;
	}
	memset(addr, 0, 16);
	return -EINVAL;
}

const char *
dpf_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len) == NULL &&
	    len > 0)
		snprintf(buf, len, "?");
	return buf;
}

int
dpf_cidr_parse(const char *text, uint8_t addr[16], uint8_t *family, uint8_t *len)
{
	char buf[CIDR_TEXT_MAX];
	char *slash;
	uint64_t l;
	int rc;

	if (strlen(text) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (dpf_addr_parse(buf, addr, family) < 0)
		return -EINVAL;
	l = *family == 4 ? 32 : 128;
	if (slash != NULL) {
		rc = dpf_parse_u64(slash, l, &l);
		if (rc < 0)
			return rc == -ERANGE ? -ERANGE : -EDOM;
	}
	*len = (uint8_t)l;
	return 0;
}

/* The bits of byte i that the first len bits of an address keep. */
static inline uint8_t
prefix_byte_mask(unsigned int i, unsigned int len)
{
	unsigned int bits = len > i * 8 ? len - i * 8 : 0;

	return bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
}

void
dpf_prefix_mask(uint8_t addr[16], unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		addr[i] &= prefix_byte_mask(i, len);
}

bool
dpf_prefix_has_host_bits(const uint8_t addr[16], unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		if ((addr[i] & (uint8_t)~prefix_byte_mask(i, len)) != 0)
			return true;
	return false;
}

bool
dpf_prefix_match(const uint8_t a[16], const uint8_t b[16], unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		if (((a[i] ^ b[i]) & prefix_byte_mask(i, len)) != 0)
			return false;
	return true;
}

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	/* The first name of a number is the one dpf_proto_name() gives. */
	{"tcp", 6},	   {"udp", 17},	  {"icmp", 1}, {"icmpv6", 58},
	{"ipv6-icmp", 58}, {"sctp", 132}, {"gre", 47}, {"esp", 50},
};

int
dpf_proto_by_name(const char *name, bool any_case)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(proto_names); i++)
		if ((any_case ? strcasecmp(name, proto_names[i].name)
			      : strcmp(name, proto_names[i].name)) == 0)
			return proto_names[i].proto;
	return -EINVAL;
}

int
dpf_proto_parse(const char *text, bool any_case, uint8_t *proto)
{
	uint64_t v;
	int rc = dpf_proto_by_name(text, any_case);

	if (rc >= 0) {
		*proto = (uint8_t)rc;
		return 0;
	}
	rc = dpf_parse_u64(text, UINT8_MAX, &v);
	if (rc < 0)
		return rc;
	*proto = (uint8_t)v;
	return 0;
}

const char *
dpf_proto_name(uint8_t proto)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(proto_names); i++)
		if (proto_names[i].proto == proto)
			return proto_names[i].name;
	return NULL;
}

/* Process-wide: names of every library's objects come from one sequence. */
static uint32_t name_generation;

int
dpf_unique_name(char *buf, size_t size, const char *tag, const char *name,
		bool (*taken)(const char *name))
{
	unsigned int attempt;

	for (attempt = 0; attempt < UNIQUE_NAME_ATTEMPTS; attempt++) {
		uint32_t gen = __atomic_fetch_add(&name_generation, 1, __ATOMIC_RELAXED);
		int n = snprintf(buf, size, "%s%u-", tag, gen);

		if (n > 0 && (size_t)n < size)
			snprintf(buf + n, size - (size_t)n, "%s", name);
		if (taken == NULL || !taken(buf))
			return 0;
	}
	return -EEXIST;
}

void *
dpf_null_free(void *obj)
{
	int err = rte_errno;

	rte_free(obj);
	return dpf_null_errno(err);
}

void *
dpf_layout_new(const char *name, size_t handle_size, const struct dpf_layout_part *parts,
	       unsigned int n_parts, int socket_id)
{
	size_t size = handle_size, off[DPF_LAYOUT_MAX_PARTS];
	bool zero = false;
	unsigned int i;
	void *h;

	if (n_parts > DPF_LAYOUT_MAX_PARTS)
		return dpf_null_errno(EINVAL);
	for (i = 0; i < n_parts; i++) {
		off[i] = dpf_layout_place(&size, parts[i].bytes);
		zero |= parts[i].zero;
	}
	/*
	 * rte_zmalloc() writes only memory that is not known to be zero
	 * already (DPDK clears what rte_free() returns, and fresh pages are
	 * zero): a table's zeroed buckets are then touched by their first use,
	 * not all at create (at --flows-per-core 1048576, 16 MB per table).
	 */
	h = zero ? rte_zmalloc_socket(name, size, RTE_CACHE_LINE_SIZE, socket_id)
		 : rte_malloc_socket(name, size, RTE_CACHE_LINE_SIZE, socket_id);
	if (h == NULL)
		return dpf_null_errno(ENOMEM);
	memset(h, 0, handle_size);
	for (i = 0; i < n_parts; i++) {
		void *array = parts[i].bytes > 0 ? RTE_PTR_ADD(h, off[i]) : NULL;

		memcpy(RTE_PTR_ADD(h, parts[i].field), &array, sizeof(array));
	}
	return h;
}

struct rte_hash *
dpf_hash_create(const char *name, const char *suffix, uint32_t entries, uint32_t key_len,
		int socket_id, uint8_t extra_flag)
{
	char n[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = n,
		.entries = RTE_MAX(entries, (uint32_t)DPF_HASH_MIN_ENTRIES),
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = socket_id,
		.extra_flag = extra_flag,
	};

	if (name == NULL)
		return dpf_null_errno(EINVAL);
	if (suffix != NULL)
		snprintf(n, sizeof(n), "%.*s_%s", HASH_NAME_PREFIX_MAX, name, suffix);
	else
		snprintf(n, sizeof(n), "%s", name);
	return rte_hash_create(&hp);
}

static bool
hash_name_taken(const char *name)
{
	return rte_hash_find_existing(name) != NULL;
}

struct rte_hash *
dpf_hash_create_unique(const char *tag, const char *name, uint32_t entries, uint32_t key_len,
		       int socket_id, uint8_t extra_flag)
{
	/* rte_hash names end up in "HT_<name>" ring names, which hold 28 characters. */
	char n[25];
	struct rte_hash *h;

	if (dpf_unique_name(n, sizeof(n), tag, name, hash_name_taken) < 0)
		return dpf_null_errno(EEXIST);
	h = dpf_hash_create(n, NULL, entries, key_len, socket_id, extra_flag);
	if (h != NULL)
		return h;
	/* The name is free: what is left is a bad parameter or memory, which
	 * rte_hash_create() may report with a stale rte_errno (ENOENT from its
	 * own look-ups). */
	return dpf_null_errno(rte_errno == EINVAL || rte_errno == EEXIST ? rte_errno : ENOMEM);
}

size_t
dpf_utc_text(char *buf, size_t len, const char *fmt, uint64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	size_t n = 0;

	if (len == 0)
		return 0;
	if (sec <= (uint64_t)INT64_MAX && gmtime_r(&t, &tm) != NULL)
		n = strftime(buf, len, fmt, &tm);
	if (n == 0)
		buf[0] = '\0';
	return n;
}
