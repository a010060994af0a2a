/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver profiles: one table of keys (key_table) drives parsing,
 * validation, show config, show port info and doc/drivers-cfg.md.
 *
 * Why two readers: the issue wants profiles parsed with DPDK's rte_cfgfile,
 * but rte_cfgfile gives no line numbers and silently skips a line without
 * '=' (a typo such as "rx_desc 2048" would vanish). So each file is first
 * read with lib/cfg, which knows lines: every syntax error, unknown key and
 * bad value is reported as "file:line: problem". Then rte_cfgfile loads the
 * same file and its values are the ones applied; if the two readings differ
 * in any entry (quotes, a ';' comment holding '=', ...) loading fails, naming
 * the line, rather than guessing which reading the author meant.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cfgfile.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_kvargs.h>
#include <rte_mbuf.h>

#include "dpf_cfg.h"
#include "dpf_rss.h"
#include "drivers.h"

#ifndef DPF_DRIVERS_CFG_DIR
#define DPF_DRIVERS_CFG_DIR "/usr/local/share/dpflow/drivers-cfg"
#endif
#ifndef DPF_DRIVERS_CFG_SRC
#define DPF_DRIVERS_CFG_SRC "drivers-cfg"
#endif

/* rte_cfgfile reads a line into CFG_NAME_LEN + CFG_VALUE_LEN + 4 bytes,
 * newline and NUL included, and fails on a longer one. */
#define LINE_MAX_CHARS (CFG_NAME_LEN + CFG_VALUE_LEN)
#define PROFILE_SECTION "port"
#define ALIAS_SECTION "aliases"
#define MAX_ALIASES 32
#define MAX_PROFILES RTE_MAX_ETHPORTS
#define DEFAULT_KEY_LEN 40 /* when a device does not report its key size */
#define VLAN_TAGS_LEN 8	   /* QinQ on top of what the device counts as overhead */
#define RETA_MAX 4096

/* ---- the key table ---- */

enum drv_type {
	DRV_U16, /* number in [min, max] */
	DRV_YESNO,
	DRV_ENUM,  /* one name of names[], stored as that name's bits (an enum value) */
	DRV_FLAGS, /* names of names[] separated by spaces or commas, or "none" */
	DRV_KEY,   /* symmetric | hex */
	DRV_DEVARGS, /* key=value[,key=value...] | none */
};

struct drv_name {
	const char *name;
	uint64_t bits;
	const char *doc;
	/* A device that has all bits of one of these does everything the name
	 * means, even without every bit (i40e hashes every IPv4 packet through
	 * FRAG_IPV4 + NONFRAG_IPV4_OTHER and has no IPV4 bit; ixgbe the other
	 * way round). Zero: only all of bits will do. */
	uint64_t complete[2];
};

#define RSS_IPV4 (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER)
#define RSS_IPV6                                                                                   \
	(RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER |               \
	 RTE_ETH_RSS_IPV6_EX)
#define RSS_TCP (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP)
#define RSS_UDP (RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV6_UDP)
#define RSS_SCTP (RTE_ETH_RSS_NONFRAG_IPV4_SCTP | RTE_ETH_RSS_NONFRAG_IPV6_SCTP)

static const struct drv_name rss_hash_names[] = {
	{"ipv4",
	 RSS_IPV4,
	 "IPv4 addresses (`IPV4`, `FRAG_IPV4`, `NONFRAG_IPV4_OTHER`)",
	 {RTE_ETH_RSS_IPV4, RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER}},
	{"ipv6",
	 RSS_IPV6,
	 "IPv6 addresses (`IPV6`, `FRAG_IPV6`, `NONFRAG_IPV6_OTHER`, `IPV6_EX`)",
	 {RTE_ETH_RSS_IPV6, RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER}},
	{"tcp", RSS_TCP,
	 "TCP ports too, over IPv4 and IPv6 (`NONFRAG_IPV4_TCP`, `NONFRAG_IPV6_TCP`)"},
	{"udp", RSS_UDP, "UDP ports too (`NONFRAG_IPV4_UDP`, `NONFRAG_IPV6_UDP`)"},
	{"sctp", RSS_SCTP, "SCTP ports too (`NONFRAG_IPV4_SCTP`, `NONFRAG_IPV6_SCTP`)"},
	{NULL, 0, NULL, {0, 0}},
};

static const struct drv_name rx_offload_names[] = {
	{"timestamp", RTE_ETH_RX_OFFLOAD_TIMESTAMP,
	 "the NIC stamps each frame in the mbuf timestamp field (device clock units)"},
	{"scatter", RTE_ETH_RX_OFFLOAD_SCATTER,
	 "frames larger than one mbuf are chained instead of needing larger mbufs"},
	{NULL, 0, NULL, {0, 0}},
};

static const struct drv_name reta_names[] = {
	{"round-robin", DPF_DRV_RETA_ROUND_ROBIN,
	 "dpflow programs entry i to queue i % queues (needed by masquerade steering)"},
	{"driver", DPF_DRV_RETA_DRIVER, "the driver's own table"},
	{NULL, 0, NULL, {0, 0}},
};

/* clang-format cannot see the initialisers the macro makes. */
/* clang-format off */
static const struct drv_name quirk_names[] = {
#define DPF_X_NAME(e, name, help) {name, 1ull << DPF_DRV_QUIRK_##e, help, {0, 0}},
	DPF_DRV_QUIRKS(DPF_X_NAME)
#undef DPF_X_NAME
	{NULL, 0, NULL, {0, 0}},
};
/* clang-format on */

struct drv_key_def {
	const char *name;
	enum drv_type type;
	size_t off; /* into struct dpf_drv_settings (not for DRV_KEY) */
	uint64_t min, max;
	const struct drv_name *names;
	const char *def;       /* built-in default; the shipped default.ini says the same */
	const char *values;    /* doc: what a profile may write */
	const char *masked_by; /* doc: what limits it on a device */
	const char *help;      /* doc */
};

#define S(field) offsetof(struct dpf_drv_settings, field)

static const struct drv_key_def key_table[DPF_DRV_N_KEYS] = {
	[DPF_DRV_RX_DESC] =
		{"rx_desc", DRV_U16, S(rx_desc), 32, 32768, NULL, "1024", "32..32768",
		 "`rx_desc_lim` (min, max, multiple of); the descriptors the queue reports",
		 "descriptors per RX queue"},
	[DPF_DRV_TX_DESC] = {"tx_desc", DRV_U16, S(tx_desc), 32, 32768, NULL, "512", "32..32768",
			     "`tx_desc_lim`; the descriptors the queue reports",
			     "descriptors per TX queue (TX is used in forward mode only)"},
	[DPF_DRV_RSS_HASH] = {"rss_hash", DRV_FLAGS, S(rss_hash), 0, 0, rss_hash_names,
			      "ipv4 ipv6 tcp udp sctp", "names below, or `none`",
			      "`flow_type_rss_offloads`; no RSS with one RX queue",
			      "what RSS hashes to spread frames over the RX queues"},
	[DPF_DRV_RSS_KEY] =
		{"rss_key", DRV_KEY, 0, 0, 0, NULL, "symmetric",
		 "`symmetric`, or 80..128 hex digits",
		 "`hash_key_size` (a hex key of another size falls back to `symmetric`)",
		 "the Toeplitz key; `symmetric` is 0x6d5a repeated to the device's key "
		 "size, so both directions of a connection reach the same RX core"},
	[DPF_DRV_SYMMETRIC_HASH_FUNCTION] =
		{"symmetric_hash_function", DRV_YESNO, S(symmetric_hash_function), 0, 0, NULL, "no",
		 "`yes`, `no`",
		 "whether the device accepts rte_flow RSS rules with "
		 "`RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ`",
		 "use the device's symmetric Toeplitz function (then any "
		 "key is symmetric)"},
	[DPF_DRV_RETA_SPREAD] = {"reta_spread", DRV_ENUM, S(reta_spread), 0, 0, reta_names,
				 "round-robin", "`round-robin`, `driver`",
				 "`reta_size` and whether the RETA update succeeds",
				 "how the redirection table maps hashes to queues"},
	[DPF_DRV_MTU] = {"mtu", DRV_U16, S(mtu), 68, 65535, NULL, "1500", "68..65535",
			 "`min_mtu`, `max_mtu`, `max_rx_pktlen`",
			 "largest IP packet received; mbufs grow to hold the frame unless "
			 "`scatter` is on"},
	[DPF_DRV_PROMISCUOUS] =
		{"promiscuous", DRV_YESNO, S(promiscuous), 0, 0, NULL, "yes", "`yes`, `no`",
		 "whether the driver enables it (the state it reports after start)",
		 "receive every frame, not only those for the port's MAC; `no` leaves "
		 "the driver's default"},
	[DPF_DRV_RX_OFFLOADS] = {"rx_offloads", DRV_FLAGS, S(rx_offloads), 0, 0, rx_offload_names,
				 "none", "names below, or `none`", "`rx_offload_capa`",
				 "RX offloads to enable"},
	[DPF_DRV_QUIRKS] = {"quirks", DRV_FLAGS, S(quirks), 0, 0, quirk_names, "none",
			    "names below, or `none`", "-",
			    "known quirks of the driver (the quirk table below)"},
	[DPF_DRV_DEFAULT_DEVARGS] =
		{"default_devargs", DRV_DEVARGS, 0, 0, 0, NULL, "none",
		 "`key=value[,key=value...]`, or `none`",
		 "the `--vdev` argument: a key it gives itself is not added",
		 "devargs added to the `--vdev` arguments of this driver's virtual devices before "
		 "EAL starts, printed at start-up (net_af_packet: the ring size)"},
};

#undef S

static uint16_t *
u16_field(struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (uint16_t *)((char *)s + d->off);
}

static const void *
const_field(const struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (const char *)s + d->off;
}

static bool *
bool_field(struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (bool *)((char *)s + d->off);
}

static uint8_t *
enum_field(struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (uint8_t *)((char *)s + d->off);
}

static uint64_t *
flags_field(struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (uint64_t *)((char *)s + d->off);
}

const char *
dpf_drivers_key_name(enum dpf_drv_key k)
{
	return (unsigned int)k < DPF_DRV_N_KEYS ? key_table[k].name : NULL;
}

const char *
dpf_drivers_quirk_name(enum dpf_drv_quirk q)
{
	return (unsigned int)q < DPF_DRV_N_QUIRKS ? quirk_names[q].name : NULL;
}

const char *
dpf_drivers_quirk_help(enum dpf_drv_quirk q)
{
	return (unsigned int)q < DPF_DRV_N_QUIRKS ? quirk_names[q].doc : NULL;
}

static int
key_find(const char *name)
{
	int k;

	for (k = 0; k < DPF_DRV_N_KEYS; k++)
		if (strcmp(key_table[k].name, name) == 0)
			return k;
	return -1;
}

/* "a, b or c" of a names table, for messages. */
static void
names_list(const struct drv_name *names, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; names[i].name != NULL && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 names[i].name);
}

static int
parse_hex_key(const char *text, struct dpf_drv_settings *s)
{
	size_t n = strlen(text), i;
	uint8_t key[DPF_DRV_RSS_KEY_MAX];

	if (n % 2 != 0 || n / 2 < DPF_RSS_KEY_LEN || n / 2 > DPF_DRV_RSS_KEY_MAX)
		return -EINVAL;
	for (i = 0; i < n; i += 2) {
		char byte[3] = {text[i], text[i + 1], '\0'};
		char *end;

		if (!isxdigit((unsigned char)text[i]) || !isxdigit((unsigned char)text[i + 1]))
			return -EINVAL;
		key[i / 2] = (uint8_t)strtoul(byte, &end, 16);
	}
	s->rss_key_symmetric = false;
	s->rss_key_len = (uint8_t)(n / 2);
	memcpy(s->rss_key, key, n / 2);
	return 0;
}

/* key=value[,key=value...]: keys of letters, digits and '_', values without
 * ',', '=' or blanks, as rte_kvargs reads them. */
static int
parse_devargs(const struct drv_key_def *d, const char *text, char *out, char *err, size_t err_len)
{
	const char *p = text;

	if (strcmp(text, "none") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (strlen(text) >= DPF_DRV_DEVARGS_LEN) {
		snprintf(err, err_len, "%s: longer than %d characters", d->name,
			 DPF_DRV_DEVARGS_LEN - 1);
		return -EINVAL;
	}
	for (;;) {
		size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		size_t v = k > 0 && p[k] == '=' ? strcspn(p + k + 1, ",= \t") : 0;

		if (v == 0 || (p[k + 1 + v] != '\0' && p[k + 1 + v] != ',')) {
			snprintf(err, err_len,
				 "%s '%s': expected key=value[,key=value...] (as on --vdev) or none",
				 d->name, text);
			return -EINVAL;
		}
		p += k + 1 + v;
		if (*p == '\0')
			break;
		p++;
	}
	strcpy(out, text);
	return 0;
}

static int
parse_flags(const struct drv_key_def *d, const char *text, uint64_t *out, char *err, size_t err_len)
{
	char buf[CFG_VALUE_LEN];
	char list[256];
	char *save = NULL, *tok;
	uint64_t bits = 0;
	bool none = false, any = false;
	int i;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, err_len, "%s: longer than %zu characters", d->name, sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, text);
	for (tok = strtok_r(buf, " \t,", &save); tok != NULL; tok = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(tok, "none") == 0) {
			none = true;
			continue;
		}
		for (i = 0; d->names[i].name != NULL; i++)
			if (strcmp(d->names[i].name, tok) == 0)
				break;
		if (d->names[i].name == NULL) {
			names_list(d->names, list, sizeof(list));
			snprintf(err, err_len, "%s '%s': unknown name '%s' (known: %s; or none)",
				 d->name, text, tok, list);
			return -EINVAL;
		}
		bits |= d->names[i].bits;
		any = true;
	}
	if (none && any) {
		snprintf(err, err_len, "%s '%s': 'none' cannot be combined with names", d->name,
			 text);
		return -EINVAL;
	}
	if (!none && !any) {
		snprintf(err, err_len, "%s: empty value (write none)", d->name);
		return -EINVAL;
	}
	*out = bits;
	return 0;
}

int
dpf_drivers_key_parse(enum dpf_drv_key k, const char *text, struct dpf_drv_settings *s, char *err,
		      size_t err_len)
{
	const struct drv_key_def *d;
	char list[256];
	uint64_t v;
	int rc, i;

	if ((unsigned int)k >= DPF_DRV_N_KEYS) {
		snprintf(err, err_len, "key %d: no such key", (int)k);
		return -EINVAL;
	}
	d = &key_table[k];
	switch (d->type) {
	case DRV_U16:
		rc = dpf_cfg_parse_u64(text, d->min, d->max, &v);
		if (rc == -EINVAL) {
			snprintf(err, err_len, "%s '%s': not a number", d->name, text);
			return rc;
		}
		if (rc < 0) {
			snprintf(err, err_len, "%s '%s': out of range %" PRIu64 "..%" PRIu64,
				 d->name, text, d->min, d->max);
			return -EINVAL;
		}
		*u16_field(s, d) = (uint16_t)v;
		return 0;
	case DRV_YESNO:
		if (strcmp(text, "yes") == 0 || strcmp(text, "no") == 0) {
			*bool_field(s, d) = text[0] == 'y';
			return 0;
		}
		snprintf(err, err_len, "%s '%s': expected yes or no", d->name, text);
		return -EINVAL;
	case DRV_ENUM:
		for (i = 0; d->names[i].name != NULL; i++) {
			if (strcmp(d->names[i].name, text) == 0) {
				*enum_field(s, d) = (uint8_t)d->names[i].bits;
				return 0;
			}
		}
		names_list(d->names, list, sizeof(list));
		snprintf(err, err_len, "%s '%s': expected one of %s", d->name, text, list);
		return -EINVAL;
	case DRV_FLAGS:
		return parse_flags(d, text, flags_field(s, d), err, err_len);
	case DRV_DEVARGS:
		return parse_devargs(d, text, s->default_devargs, err, err_len);
	case DRV_KEY:
		if (strcmp(text, "symmetric") == 0) {
			s->rss_key_symmetric = true;
			s->rss_key_len = 0;
			memset(s->rss_key, 0, sizeof(s->rss_key));
			return 0;
		}
		if (parse_hex_key(text, s) == 0)
			return 0;
		snprintf(err, err_len,
			 "%s '%.40s%s': expected symmetric or a key of %d..%d bytes in hex "
			 "(%d..%d digits, no 0x)",
			 d->name, text, strlen(text) > 40 ? "..." : "", DPF_RSS_KEY_LEN,
			 DPF_DRV_RSS_KEY_MAX, 2 * DPF_RSS_KEY_LEN, 2 * DPF_DRV_RSS_KEY_MAX);
		return -EINVAL;
	}
	return -EINVAL;
}

static bool
name_complete(const struct drv_name *n, uint64_t have)
{
	unsigned int j;

	if (have == n->bits)
		return true;
	for (j = 0; j < RTE_DIM(n->complete); j++)
		if (n->complete[j] != 0 && (have & n->complete[j]) == n->complete[j])
			return true;
	return false;
}

/* The names bits stand for; a name with only some of its bits set is
 * "name(partial)". Bits no name covers are left out: nobody can ask them. */
static void
format_flags(const struct drv_name *names, uint64_t bits, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; names[i].name != NULL && used < len; i++) {
		uint64_t have = bits & names[i].bits;

		if (have == 0)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s", used ? " " : "",
					 names[i].name,
					 name_complete(&names[i], have) ? "" : "(partial)");
	}
	if (used == 0)
		snprintf(buf, len, "none");
}

static bool
key_is_symmetric(const uint8_t *key, unsigned int len)
{
	unsigned int i;

	/* Toeplitz over (src, dst, sport, dport) is symmetric when the key
	 * repeats every 16 bits: swapping 32-bit addresses and 16-bit ports then
	 * selects the same key windows. */
	for (i = 2; i < len; i++)
		if (key[i] != key[i - 2])
			return false;
	return true;
}

void
dpf_drivers_key_format(enum dpf_drv_key k, const struct dpf_drv_settings *s, char *buf, size_t len)
{
	const struct drv_key_def *d;
	unsigned int i;
	size_t used;
	int n;

	if ((unsigned int)k >= DPF_DRV_N_KEYS) {
		snprintf(buf, len, "?");
		return;
	}
	d = &key_table[k];
	switch (d->type) {
	case DRV_U16:
		snprintf(buf, len, "%u", *(const uint16_t *)const_field(s, d));
		return;
	case DRV_YESNO:
		snprintf(buf, len, "%s", *(const bool *)const_field(s, d) ? "yes" : "no");
		return;
	case DRV_ENUM:
		/* Values outside the names (DPF_DRV_RETA_NONE) exist only once configured. */
		snprintf(buf, len, "none");
		for (n = 0; d->names[n].name != NULL; n++)
			if (d->names[n].bits == *(const uint8_t *)const_field(s, d))
				snprintf(buf, len, "%s", d->names[n].name);
		return;
	case DRV_FLAGS:
		format_flags(d->names, *(const uint64_t *)const_field(s, d), buf, len);
		return;
	case DRV_DEVARGS:
		snprintf(buf, len, "%s", s->default_devargs[0] ? s->default_devargs : "none");
		return;
	case DRV_KEY:
		if (s->rss_key_symmetric) {
			if (s->rss_key_len == 0)
				snprintf(buf, len, "symmetric");
			else
				snprintf(buf, len, "symmetric (%u bytes)", s->rss_key_len);
			return;
		}
		if (s->rss_key_len == 0) {
			snprintf(buf, len, "none");
			return;
		}
		used = 0;
		buf[0] = '\0';
		for (i = 0; i < s->rss_key_len && used + 2 < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%02x", s->rss_key[i]);
		return;
	}
}

void
dpf_drivers_builtin(struct dpf_drv_profile *p)
{
	char err[256];
	int k;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "default");
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		/* The table's defaults are constants checked by the unit tests. */
		if (dpf_drivers_key_parse((enum dpf_drv_key)k, key_table[k].def, &p->s, err,
					  sizeof(err)) != 0)
			abort();
		snprintf(p->source[k], sizeof(p->source[k]), "built-in");
	}
}

/* ---- reading a profile file ---- */

struct alias {
	char from[DPF_DRV_NAME_LEN];
	char to[DPF_DRV_NAME_LEN];
};

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static int
read_text(const char *path, char **text, size_t *len, char *err, size_t err_len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int rc;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			char *nb;

			cap = cap ? cap * 2 : 4096;
			if (cap > (1u << 20)) {
				snprintf(err, err_len, "%s: larger than 1 MiB", path);
				rc = -EFBIG;
				goto fail;
			}
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: read error", path);
		rc = -EIO;
		goto fail;
	}
	fclose(f);
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL)
			return -ENOMEM;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(buf);
	return rc;
}

/* The line rte_cfgfile read a key from, when lib/cfg did not see it there. */
static unsigned int
line_of_key(const char *text, const char *key)
{
	unsigned int line = 1;
	const char *p = text;
	size_t kl = strlen(key);

	while (*p != '\0') {
		const char *s = p;

		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, key, kl) == 0) {
			s += kl;
			while (*s == ' ' || *s == '\t')
				s++;
			if (*s == '=')
				return line;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
		line++;
	}
	return 0;
}

/*
 * What rte_cfgfile makes of a value: cut at the first '#' that is not
 * escaped, blanks trimmed. Backslashes are refused: rte_cfgfile gives them
 * a meaning lib/cfg does not, and no value needs one.
 */
static int
value_as_rte_cfgfile(const char *raw, char *out, size_t len)
{
	const char *hash = strchr(raw, '#');
	size_t n;

	if (hash != NULL && hash != raw && hash[-1] == '\\')
		return -EINVAL;
	n = hash != NULL ? (size_t)(hash - raw) : strlen(raw);
	while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\r'))
		n--;
	if (memchr(raw, '\\', n) != NULL || n >= len)
		return -EINVAL;
	memcpy(out, raw, n);
	out[n] = '\0';
	return 0;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, err_len, __VA_ARGS__);                                               \
		rc = -EINVAL;                                                                      \
		goto out;                                                                          \
	} while (0)

/*
 * Read a profile over base; with aliases != NULL (default.ini) an
 * [aliases] section is allowed too.
 */
static int
load_file(const char *path, const char *name, const struct dpf_drv_profile *base,
	  struct dpf_drv_profile *out, struct alias *aliases, unsigned int *n_aliases, char *err,
	  size_t err_len)
{
	static const struct rte_cfgfile_parameters params = {.comment_character = '#'};
	struct dpf_drv_profile p = *base;
	unsigned int key_line[DPF_DRV_N_KEYS] = {0};
	char key_value[DPF_DRV_N_KEYS][CFG_VALUE_LEN];
	unsigned int port_line = 0, alias_line = 0, line = 1, i, n;
	struct dpf_cfg *cfg = NULL;
	struct rte_cfgfile *rcf = NULL;
	char *text = NULL, *s;
	const char *file = base_name(path);
	size_t len;
	int rc, k, sec;

	rc = read_text(path, &text, &len, err, err_len);
	if (rc < 0)
		return rc;
	for (s = text; *s != '\0'; line++) {
		char *nl = strchr(s, '\n');
		size_t l = nl != NULL ? (size_t)(nl - s) : strlen(s);

		if (l > LINE_MAX_CHARS)
			FAIL("%s:%u: line longer than %d characters (rte_cfgfile's limit)", path,
			     line, LINE_MAX_CHARS);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	cfg = dpf_cfg_parse(text, len, path, err, err_len);
	if (cfg == NULL) {
		rc = rte_errno == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}

	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.path, sizeof(p.path), "%s", path);
	p.own_file = true;
	n = dpf_cfg_count(cfg);
	for (i = 0; i < n; i++) {
		const struct dpf_cfg_entry *e = dpf_cfg_get(cfg, i);
		char value[CFG_VALUE_LEN], msg[384];

		if (e->key == NULL) {
			bool is_port = strcmp(e->section, PROFILE_SECTION) == 0;
			bool is_alias = aliases != NULL && strcmp(e->section, ALIAS_SECTION) == 0;
			unsigned int *seen = is_port ? &port_line : &alias_line;

			if ((!is_port && !is_alias) || e->section_arg[0] != '\0')
				FAIL("%s:%u: unknown section [%s%s%s] (a profile has one [%s] "
				     "section%s)",
				     path, e->line, e->section, e->section_arg[0] ? " " : "",
				     e->section_arg, PROFILE_SECTION,
				     aliases != NULL ? "; default.ini may add [aliases]" : "");
			/* lib/cfg already refused a second [port] or [aliases]. */
			*seen = e->line;
			continue;
		}
		if (e->section_line == 0)
			FAIL("%s:%u: '%s' before the [%s] section", path, e->line, e->key,
			     PROFILE_SECTION);
		if (value_as_rte_cfgfile(e->value, value, sizeof(value)) < 0)
			FAIL("%s:%u: %s: value has a backslash or is longer than %d characters",
			     path, e->line, e->key, CFG_VALUE_LEN - 1);
		if (strcmp(e->section, ALIAS_SECTION) == 0) {
			unsigned int a;

			for (a = 0; a < *n_aliases; a++)
				if (strcmp(aliases[a].from, e->key) == 0)
					FAIL("%s:%u: alias '%s' set twice", path, e->line, e->key);
			if (*n_aliases == MAX_ALIASES)
				FAIL("%s:%u: more than %d aliases", path, e->line, MAX_ALIASES);
			if (strlen(e->key) >= DPF_DRV_NAME_LEN ||
			    strlen(value) >= DPF_DRV_NAME_LEN || value[0] == '\0' ||
			    strpbrk(value, "/ \t") != NULL)
				FAIL("%s:%u: alias '%s = %s': expected driver_name = profile_name",
				     path, e->line, e->key, value);
			snprintf(aliases[*n_aliases].from, DPF_DRV_NAME_LEN, "%s", e->key);
			snprintf(aliases[*n_aliases].to, DPF_DRV_NAME_LEN, "%s", value);
			(*n_aliases)++;
			continue;
		}
		k = key_find(e->key);
		if (k < 0) {
			size_t used = 0;
			int j;

			for (j = 0; j < DPF_DRV_N_KEYS; j++)
				used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s",
							 j ? ", " : "", key_table[j].name);
			FAIL("%s:%u: unknown key '%s' (keys: %s)", path, e->line, e->key, msg);
		}
		if (key_line[k] != 0)
			FAIL("%s:%u: '%s' set twice (first on line %u)", path, e->line, e->key,
			     key_line[k]);
		if (dpf_drivers_key_parse((enum dpf_drv_key)k, value, &p.s, msg, sizeof(msg)) < 0)
			FAIL("%s:%u: %s", path, e->line, msg);
		key_line[k] = e->line;
		strcpy(key_value[k], value);
	}
	if (port_line == 0 && alias_line == 0)
		FAIL("%s: no [%s] section", path, PROFILE_SECTION);

	/* The load the values come from. */
	rcf = rte_cfgfile_load_with_params(path, 0, &params);
	if (rcf == NULL)
		FAIL("%s: rte_cfgfile cannot read the file", path);
	for (sec = 0; sec < rte_cfgfile_num_sections(rcf, NULL, 0); sec++) {
		char sname[CFG_NAME_LEN];
		struct rte_cfgfile_entry entries[64];
		int ne = rte_cfgfile_section_entries_by_index(rcf, sec, sname, entries,
							      (int)RTE_DIM(entries));

		for (k = 0; k < ne; k++) {
			bool known = false;

			if (strcmp(sname, PROFILE_SECTION) == 0) {
				int kk = key_find(entries[k].name);

				known = kk >= 0 && key_line[kk] != 0;
			} else if (strcmp(sname, ALIAS_SECTION) == 0 && aliases != NULL) {
				unsigned int a;

				for (a = 0; a < *n_aliases; a++)
					known |= strcmp(aliases[a].from, entries[k].name) == 0;
			}
			if (!known)
				FAIL("%s:%u: rte_cfgfile reads a key '%s' in [%s] that dpflow's "
				     "reader does not (a ';' comment holding '='? profiles use '#' "
				     "comments)",
				     path, line_of_key(text, entries[k].name), entries[k].name,
				     sname);
		}
	}
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		const char *v;
		char msg[384];

		if (key_line[k] == 0)
			continue;
		v = rte_cfgfile_get_entry(rcf, PROFILE_SECTION, key_table[k].name);
		if (v == NULL || strcmp(v, key_value[k]) != 0)
			FAIL("%s:%u: rte_cfgfile reads %s '%s' where dpflow's reader reads '%s' "
			     "(quotes? write values without them)",
			     path, key_line[k], key_table[k].name, v != NULL ? v : "(nothing)",
			     key_value[k]);
		if (dpf_drivers_key_parse((enum dpf_drv_key)k, v, &p.s, msg, sizeof(msg)) < 0)
			FAIL("%s:%u: %s", path, key_line[k], msg);
		snprintf(p.source[k], sizeof(p.source[k]), "%s:%u", file, key_line[k]);
	}
	for (i = 0; aliases != NULL && i < *n_aliases; i++) {
		const char *v = rte_cfgfile_get_entry(rcf, ALIAS_SECTION, aliases[i].from);

		if (v == NULL || strcmp(v, aliases[i].to) != 0)
			FAIL("%s:%u: rte_cfgfile reads alias %s '%s' where dpflow's reader reads "
			     "'%s'",
			     path, line_of_key(text, aliases[i].from), aliases[i].from,
			     v != NULL ? v : "(nothing)", aliases[i].to);
	}
	*out = p;
	rc = 0;
out:
	if (rcf != NULL)
		rte_cfgfile_close(rcf);
	dpf_cfg_free(cfg);
	free(text);
	return rc;
}

#undef FAIL

int
dpf_drivers_profile_load(const char *path, const char *name, const struct dpf_drv_profile *base,
			 struct dpf_drv_profile *out, char *err, size_t err_len)
{
	return load_file(path, name, base, out, NULL, NULL, err, err_len);
}

/* ---- the profile directory and the profiles in use ---- */

static struct {
	char dir[DPF_DRV_PATH_LEN];
	const char *origin;
	bool open;
	struct dpf_drv_profile base; /* default.ini over the built-in defaults */
	struct alias aliases[MAX_ALIASES];
	unsigned int n_aliases;
	struct dpf_drv_profile *profiles[MAX_PROFILES];
	unsigned int n_profiles;
	const struct dpf_drv_profile *port_profile[RTE_MAX_ETHPORTS];
	struct dpf_drv_port ports[RTE_MAX_ETHPORTS];
} drv;

static bool
has_default_ini(const char *dir)
{
	char path[DPF_DRV_PATH_LEN + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/default.ini", dir);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void
dpf_drivers_close(void)
{
	unsigned int i;

	for (i = 0; i < drv.n_profiles; i++)
		free(drv.profiles[i]);
	memset(&drv, 0, sizeof(drv));
}

int
dpf_drivers_open(const char *dir, char *err, size_t err_len)
{
	char path[DPF_DRV_PATH_LEN + 16];
	int rc;

	dpf_drivers_close();
	dpf_drivers_builtin(&drv.base);
	if (dir != NULL) {
		if (strlen(dir) >= sizeof(drv.dir)) {
			snprintf(err, err_len, "--drivers-cfg: path longer than %zu characters",
				 sizeof(drv.dir) - 1);
			return -ENAMETOOLONG;
		}
		struct stat st;

		if (stat(dir, &st) != 0) {
			rc = -errno;
			snprintf(err, err_len, "--drivers-cfg %s: %s", dir, strerror(errno));
			return rc;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, err_len, "--drivers-cfg %s: not a directory", dir);
			return -ENOTDIR;
		}
		snprintf(drv.dir, sizeof(drv.dir), "%s", dir);
		drv.origin = "--drivers-cfg";
	} else if (has_default_ini(DPF_DRIVERS_CFG_DIR)) {
		snprintf(drv.dir, sizeof(drv.dir), "%s", DPF_DRIVERS_CFG_DIR);
		drv.origin = "installed";
	} else if (has_default_ini(DPF_DRIVERS_CFG_SRC)) {
		snprintf(drv.dir, sizeof(drv.dir), "%s", DPF_DRIVERS_CFG_SRC);
		drv.origin = "source tree";
	} else {
		drv.dir[0] = '\0';
		drv.origin = "built-in";
	}
	if (drv.dir[0] != '\0' && has_default_ini(drv.dir)) {
		snprintf(path, sizeof(path), "%s/default.ini", drv.dir);
		rc = load_file(path, "default", &drv.base, &drv.base, drv.aliases, &drv.n_aliases,
			       err, err_len);
		if (rc < 0)
			return rc;
	}
	drv.open = true;
	return 0;
}

const struct dpf_drv_profile *
dpf_drivers_base(void)
{
	return &drv.base;
}

const char *
dpf_drivers_dir(void)
{
	return drv.dir;
}

const char *
dpf_drivers_dir_origin(void)
{
	return drv.origin != NULL ? drv.origin : "not opened";
}

static const char *
profile_name_of(const char *driver_name)
{
	unsigned int a;

	for (a = 0; a < drv.n_aliases; a++)
		if (strcmp(drv.aliases[a].from, driver_name) == 0)
			return drv.aliases[a].to;
	return driver_name;
}

const struct dpf_drv_profile *
dpf_drivers_profile(const char *driver_name, char *err, size_t err_len)
{
	const char *name = profile_name_of(driver_name);
	char path[DPF_DRV_PATH_LEN + DPF_DRV_NAME_LEN + 8];
	struct dpf_drv_profile *p;
	unsigned int i;
	int rc;

	if (!drv.open) {
		snprintf(err, err_len, "driver profiles: not opened");
		return NULL;
	}
	for (i = 0; i < drv.n_profiles; i++)
		if (strcmp(drv.profiles[i]->name, name) == 0)
			return drv.profiles[i];
	if (drv.n_profiles == MAX_PROFILES) {
		snprintf(err, err_len, "driver profiles: more than %d drivers", MAX_PROFILES);
		return NULL;
	}
	p = malloc(sizeof(*p));
	if (p == NULL) {
		snprintf(err, err_len, "driver profiles: out of memory");
		return NULL;
	}
	*p = drv.base;
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* A driver name is a file name only if it cannot leave the directory. */
	snprintf(path, sizeof(path), "%s/%s.ini", drv.dir, name);
	if (drv.dir[0] != '\0' && strchr(name, '/') == NULL && name[0] != '.' &&
	    strcmp(name, "default") != 0 && access(path, F_OK) == 0) {
		rc = dpf_drivers_profile_load(path, name, &drv.base, p, err, err_len);
		if (rc < 0) {
			free(p);
			return NULL;
		}
	} else {
		/* default.ini's values; path still names default.ini (or is ""). */
		p->own_file = false;
	}
	drv.profiles[drv.n_profiles++] = p;
	return p;
}

/* ---- before EAL: devargs of vdevs ---- */

#define MAX_VDEVS 32

struct vdev_note {
	char name[DPF_DRV_NAME_LEN];	       /* "net_af_packet0" */
	char profile[DPF_DRV_PATH_LEN];	       /* the file the defaults came from */
	char added[DPF_DRV_DEVARGS_LEN];       /* "" when none */
	char given[DPF_DRV_DEVARGS_LEN];       /* default keys the --vdev set itself */
};

static struct {
	struct vdev_note notes[MAX_VDEVS];
	unsigned int n;
	char **argv;	/* given to rte_eal_init; NULL when argv was used */
	char **owned;	/* the --vdev strings made here */
	unsigned int n_owned;
} vd;

/* The length of a kvargs key at p (up to '=' or ','). */
static size_t
kv_key_len(const char *p)
{
	return strcspn(p, "=,");
}

/* Whether devargs (after the vdev name) set key. */
static bool
devargs_have(const char *devargs, const char *key, size_t key_len)
{
	const char *p = devargs;

	while (p != NULL && *p != '\0') {
		if (kv_key_len(p) == key_len && strncmp(p, key, key_len) == 0)
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static void
append_item(char *buf, size_t len, const char *item, size_t item_len)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%.*s", used ? "," : "", (int)item_len, item);
}

/* The profile for a vdev name: the longest profile file name or alias that
 * begins it (the vdev bus matches driver names and aliases as prefixes). */
static bool
vdev_profile_name(const char *vdev, char *out, size_t len)
{
	size_t best = 0, l;
	struct dirent *de;
	unsigned int a;
	DIR *d;

	out[0] = '\0';
	if (drv.dir[0] == '\0')
		return false;
	d = opendir(drv.dir);
	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".ini") != 0 ||
		    strcmp(de->d_name, "default.ini") == 0)
			continue;
		l -= 4;
		if (l > best && l < len && strncmp(vdev, de->d_name, l) == 0) {
			best = l;
			snprintf(out, len, "%.*s", (int)l, de->d_name);
		}
	}
	closedir(d);
	for (a = 0; a < drv.n_aliases; a++) {
		l = strlen(drv.aliases[a].from);
		if (l > best && strncmp(vdev, drv.aliases[a].from, l) == 0) {
			best = l;
			snprintf(out, len, "%s", drv.aliases[a].to);
		}
	}
	return best > 0;
}

/* A --vdev value with the profile's defaults it lacks; NULL when it lacks
 * none (or on no memory: the value stays as given). */
static char *
vdev_with_defaults(const char *value)
{
	const char *comma = strchr(value, ','), *p;
	char name[DPF_DRV_NAME_LEN], pname[DPF_DRV_NAME_LEN], err[512];
	const struct dpf_drv_profile *prof;
	struct vdev_note *note;
	size_t name_len = comma != NULL ? (size_t)(comma - value) : strlen(value);
	char *out;

	if (name_len == 0 || name_len >= sizeof(name) || vd.n == MAX_VDEVS)
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)name_len, value);
	if (!vdev_profile_name(name, pname, sizeof(pname)))
		return NULL;
	prof = dpf_drivers_profile(pname, err, sizeof(err));
	if (prof == NULL || prof->s.default_devargs[0] == '\0')
		return NULL;
	note = &vd.notes[vd.n];
	memset(note, 0, sizeof(*note));
	snprintf(note->name, sizeof(note->name), "%s", name);
	snprintf(note->profile, sizeof(note->profile), "%s", prof->path);
	for (p = prof->s.default_devargs; *p != '\0';) {
		size_t item = strcspn(p, ",");

		if (devargs_have(comma != NULL ? comma + 1 : NULL, p, kv_key_len(p)))
			append_item(note->given, sizeof(note->given), p, kv_key_len(p));
		else
			append_item(note->added, sizeof(note->added), p, item);
		p += item;
		if (*p == ',')
			p++;
	}
	vd.n++;
	if (note->added[0] == '\0')
		return NULL;
	out = malloc(strlen(value) + strlen(note->added) + 2);
	if (out != NULL)
		sprintf(out, "%s,%s", value, note->added);
	return out;
}

void
dpf_drivers_vdev_free(void)
{
	unsigned int i;

	for (i = 0; i < vd.n_owned; i++)
		free(vd.owned[i]);
	free(vd.owned);
	free(vd.argv);
	memset(&vd, 0, sizeof(vd));
}

int
dpf_drivers_vdev_defaults(const char *dir, int argc, char **argv, char ***eal_argv)
{
	char err[512];
	int i, end;

	*eal_argv = argv;
	dpf_drivers_vdev_free();
	for (end = 1; end < argc && strcmp(argv[end], "--") != 0; end++)
		;
	for (i = 1; i < end; i++)
		if (strcmp(argv[i], "--vdev") == 0 || strncmp(argv[i], "--vdev=", 7) == 0)
			break;
	if (i == end || dpf_drivers_open(dir, err, sizeof(err)) < 0)
		return 0; /* no vdev; or dpf_drivers_select() will name the problem */
	vd.argv = calloc((size_t)argc + 1, sizeof(*vd.argv));
	vd.owned = calloc((size_t)argc, sizeof(*vd.owned));
	if (vd.argv == NULL || vd.owned == NULL) {
		dpf_drivers_vdev_free();
		dpf_drivers_close();
		return -ENOMEM;
	}
	memcpy(vd.argv, argv, (size_t)argc * sizeof(*argv));
	for (i = 1; i < end; i++) {
		bool sep = strcmp(argv[i], "--vdev") == 0;
		const char *value;
		char *with;

		if (sep && i + 1 < end)
			value = argv[++i];
		else if (strncmp(argv[i], "--vdev=", 7) == 0)
			value = argv[i] + 7;
		else
			continue;
		with = vdev_with_defaults(value);
		if (with == NULL)
			continue;
		if (!sep) {
			char *opt = malloc(strlen(with) + 8);

			if (opt != NULL)
				sprintf(opt, "--vdev=%s", with);
			free(with);
			with = opt;
			if (with == NULL)
				continue;
		}
		vd.owned[vd.n_owned++] = with;
		vd.argv[i] = with;
	}
	dpf_drivers_close();
	if (vd.n_owned == 0) {
		free(vd.argv);
		vd.argv = NULL;
		return 0;
	}
	*eal_argv = vd.argv;
	return 0;
}

static const struct vdev_note *
vdev_note_of(uint16_t port)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	unsigned int i;

	if (rte_eth_dev_get_name_by_port(port, name) != 0)
		return NULL;
	for (i = 0; i < vd.n; i++)
		if (strcmp(vd.notes[i].name, name) == 0)
			return &vd.notes[i];
	return NULL;
}

/* The devargs dpf_drivers_vdev_defaults() added to the port's --vdev. */
static void
print_vdev_note(uint16_t port, const char *driver)
{
	const struct vdev_note *n = vdev_note_of(port);

	if (n == NULL)
		return;
	if (n->added[0] != '\0')
		fprintf(stderr,
			"dpflow: port %u (%s): devargs: added %s (default_devargs of %s)%s%s%s\n",
			port, driver, n->added, n->profile, n->given[0] ? "; --vdev gave " : "",
			n->given, n->given[0] ? " itself" : "");
	else
		fprintf(stderr, "dpflow: port %u (%s): devargs: none added (--vdev gave %s itself)\n",
			port, driver, n->given);
}

/* ---- planning ---- */

static void set_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet, const char *fmt,
		       ...) __rte_format_printf(4, 5);

static void
set_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dp->reason[k], sizeof(dp->reason[k]), fmt, ap);
	va_end(ap);
	dp->quiet[k] = quiet;
	dp->logged[k] = false;
}

/* A second reason for the same key, after "; ". Quiet only if both are. */
static void add_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet, const char *fmt,
		       ...) __rte_format_printf(4, 5);

static void
add_reason(struct dpf_drv_port *dp, enum dpf_drv_key k, bool quiet, const char *fmt, ...)
{
	char more[DPF_DRV_REASON_LEN];
	size_t used = strlen(dp->reason[k]);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(more, sizeof(more), fmt, ap);
	va_end(ap);
	snprintf(dp->reason[k] + used, sizeof(dp->reason[k]) - used, "%s%s", used ? "; " : "",
		 more);
	dp->quiet[k] = used != 0 ? dp->quiet[k] && quiet : quiet;
	dp->logged[k] = false;
}

static uint16_t
adjust_desc(uint16_t want, const struct rte_eth_desc_lim *lim)
{
	/* rte_eth_dev_adjust_nb_rx_tx_desc's rule, so the plan can say why. */
	uint32_t n = want;

	if (lim->nb_align != 0)
		n = RTE_ALIGN_CEIL(n, lim->nb_align);
	if (lim->nb_max != 0)
		n = RTE_MIN(n, (uint32_t)lim->nb_max);
	n = RTE_MAX(n, (uint32_t)lim->nb_min);
	return (uint16_t)RTE_MIN(n, (uint32_t)UINT16_MAX);
}

static uint32_t
frame_overhead(const struct rte_eth_dev_info *info)
{
	/* ethdev's rule for what an MTU adds up to on the wire. */
	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		return info->max_rx_pktlen - info->max_mtu;
	return RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
}

static void
plan_desc(struct dpf_drv_port *dp, enum dpf_drv_key k, const struct rte_eth_desc_lim *lim)
{
	uint16_t *want = k == DPF_DRV_RX_DESC ? &dp->requested.rx_desc : &dp->requested.tx_desc;
	uint16_t *got = k == DPF_DRV_RX_DESC ? &dp->configured.rx_desc : &dp->configured.tx_desc;

	*got = adjust_desc(*want, lim);
	if (*got != *want)
		set_reason(dp, k, false, "device limits %u..%u, multiple of %u", lim->nb_min,
			   lim->nb_max, lim->nb_align ? lim->nb_align : 1);
	if (dp->requested.quirks & (1ull << DPF_DRV_QUIRK_DESC_CAPPED_BY_HOST))
		add_reason(dp, k, false, "desc-capped-by-host: %s",
			   quirk_names[DPF_DRV_QUIRK_DESC_CAPPED_BY_HOST].doc);
}

static void
plan_rss(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info,
	 const struct dpf_drv_request *req)
{
	struct dpf_drv_settings *want = &dp->requested, *got = &dp->configured;
	struct rte_eth_conf *conf = &dp->eth_conf;
	uint64_t hf = want->rss_hash & info->flow_type_rss_offloads;
	unsigned int key_len, i;
	char names[128], have[128];

	dp->rss_hash_capa = info->flow_type_rss_offloads;
	format_flags(rss_hash_names, want->rss_hash, names, sizeof(names));
	format_flags(rss_hash_names, hf, have, sizeof(have));
	if (hf != want->rss_hash && strcmp(names, have) == 0) {
		/* The device's own spelling of the same packet types. */
		set_reason(dp, DPF_DRV_RSS_HASH, true,
			   "RTE_ETH_RSS bits 0x%" PRIx64 " of 0x%" PRIx64, hf, want->rss_hash);
	} else if (hf != want->rss_hash) {
		bool sw = want->quirks & (1ull << DPF_DRV_QUIRK_SOFTWARE_RSS);

		if (hf == 0) {
			set_reason(dp, DPF_DRV_RSS_HASH, false,
				   "the device reports no RSS hash types%s%s",
				   sw ? "; software-rss: " : "",
				   sw ? quirk_names[DPF_DRV_QUIRK_SOFTWARE_RSS].doc : "");
		} else {
			format_flags(rss_hash_names, info->flow_type_rss_offloads, names,
				     sizeof(names));
			set_reason(dp, DPF_DRV_RSS_HASH, false,
				   "the device hashes %s (flow_type_rss_offloads 0x%" PRIx64 ")",
				   names, info->flow_type_rss_offloads);
		}
	}
	if (hf != 0 && dp->rx_queues < 2) {
		hf = 0;
		set_reason(dp, DPF_DRV_RSS_HASH, true, "one RX queue: nothing to spread");
	}
	got->rss_hash = hf;

	/* The key, the hash function and the RETA only exist with RSS. */
	if (hf == 0) {
		got->rss_key_symmetric = false;
		got->rss_key_len = 0;
		memset(got->rss_key, 0, sizeof(got->rss_key));
		if (want->rss_key_symmetric || want->rss_key_len != 0)
			set_reason(dp, DPF_DRV_RSS_KEY, true, "no RSS");
		got->symmetric_hash_function = false;
		if (want->symmetric_hash_function)
			set_reason(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, true, "no RSS");
		got->reta_spread = DPF_DRV_RETA_NONE;
		set_reason(dp, DPF_DRV_RETA_SPREAD, true, "no RSS");
		return;
	}
	key_len = info->hash_key_size != 0 ? info->hash_key_size : DEFAULT_KEY_LEN;
	if (key_len > DPF_DRV_RSS_KEY_MAX)
		key_len = DPF_DRV_RSS_KEY_MAX;
	if (!want->rss_key_symmetric && want->rss_key_len != key_len)
		set_reason(
			dp, DPF_DRV_RSS_KEY, false,
			"the device's key is %u bytes, the profile's %u: using the symmetric key",
			key_len, want->rss_key_len);
	else if (!want->rss_key_symmetric && req->exact_steering)
		set_reason(dp, DPF_DRV_RSS_KEY, false,
			   "masquerade steering predicts reply queues with the symmetric key");
	if (want->rss_key_symmetric || dp->reason[DPF_DRV_RSS_KEY][0] != '\0') {
		/* 0x6d5a repeated is symmetric at any length (design.md section 1). */
		for (i = 0; i < key_len; i++)
			got->rss_key[i] = dpf_rss_symmetric_key[i % 2];
		got->rss_key_symmetric = true;
	} else {
		memcpy(got->rss_key, want->rss_key, key_len);
		got->rss_key_symmetric = false;
	}
	got->rss_key_len = (uint8_t)key_len;

	if (want->symmetric_hash_function && req->exact_steering) {
		got->symmetric_hash_function = false;
		set_reason(
			dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, false,
			"masquerade steering predicts reply queues with the plain Toeplitz hash");
	}
	if (want->reta_spread != DPF_DRV_RETA_ROUND_ROBIN && req->exact_steering) {
		got->reta_spread = DPF_DRV_RETA_ROUND_ROBIN;
		set_reason(dp, DPF_DRV_RETA_SPREAD, false,
			   "masquerade steering predicts reply queues with a round-robin RETA");
	}
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_key = got->rss_key;
	conf->rx_adv_conf.rss_conf.rss_key_len = got->rss_key_len;
	conf->rx_adv_conf.rss_conf.rss_hf = hf;
}

/* net_af_packet's framesz= devarg (its default 2048 when absent or unreadable). */
#define AF_PACKET_FRAME_SIZE_DEFAULT 2048

static uint32_t
devargs_frame_size(const struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	struct rte_kvargs *kv;
	const char *v;
	uint64_t size = AF_PACKET_FRAME_SIZE_DEFAULT;

	if (da == NULL || da->args == NULL)
		return (uint32_t)size;
	kv = rte_kvargs_parse(da->args, NULL);
	if (kv == NULL)
		return (uint32_t)size;
	v = rte_kvargs_get(kv, "framesz");
	if (v != NULL && dpf_cfg_parse_u64(v, 1, UINT16_MAX, &size) < 0)
		size = AF_PACKET_FRAME_SIZE_DEFAULT;
	rte_kvargs_free(kv);
	return (uint32_t)size;
}

static void
plan_mtu_offloads(struct dpf_drv_port *dp, const struct rte_eth_dev_info *info)
{
	struct dpf_drv_settings *want = &dp->requested, *got = &dp->configured;
	uint32_t overhead = frame_overhead(info), max_mtu = info->max_mtu, need;
	uint64_t hw, by_quirk = 0, missing;
	char names[128];

	if (info->max_rx_pktlen > overhead)
		max_mtu = RTE_MIN(max_mtu, info->max_rx_pktlen - overhead);
	if (max_mtu == 0 || max_mtu < info->min_mtu)
		max_mtu = info->min_mtu;
	got->mtu = want->mtu;
	if (got->mtu > max_mtu)
		got->mtu = (uint16_t)max_mtu;
	if (got->mtu < info->min_mtu)
		got->mtu = info->min_mtu;
	if (got->mtu != want->mtu)
		set_reason(dp, DPF_DRV_MTU, false, "device MTU range %u..%u", info->min_mtu,
			   max_mtu);
	dp->eth_conf.rxmode.mtu = got->mtu;

	dp->rx_offload_capa = info->rx_offload_capa;
	hw = want->rx_offloads & info->rx_offload_capa;
	if ((want->rx_offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    !(hw & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    (want->quirks & (1ull << DPF_DRV_QUIRK_TIMESTAMP_UNIX_US))) {
		by_quirk = RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		set_reason(dp, DPF_DRV_RX_OFFLOADS, true,
			   "timestamp-unix-us: the driver stamps the capture time itself");
	}
	got->rx_offloads = hw | by_quirk;
	missing = want->rx_offloads & ~got->rx_offloads;
	if (missing != 0) {
		format_flags(rx_offload_names, missing, names, sizeof(names));
		add_reason(dp, DPF_DRV_RX_OFFLOADS, false,
			   "the device does not offer %s (rx_offload_capa 0x%" PRIx64 ")", names,
			   info->rx_offload_capa);
	}
	if ((hw & RTE_ETH_RX_OFFLOAD_TIMESTAMP) &&
	    (want->quirks & (1ull << DPF_DRV_QUIRK_TIMESTAMP_SLOW_PATH)))
		add_reason(dp, DPF_DRV_RX_OFFLOADS, false, "timestamp-slow-path: %s",
			   quirk_names[DPF_DRV_QUIRK_TIMESTAMP_SLOW_PATH].doc);
	dp->eth_conf.rxmode.offloads = hw;

	/* A frame of the MTU, two VLAN tags included, fits one mbuf unless the
	 * port chains segments. */
	need = got->mtu + RTE_MAX(overhead, (uint32_t)(RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN)) +
	       VLAN_TAGS_LEN + RTE_PKTMBUF_HEADROOM;
	/* The driver delivers frames up to its ring frame, which can exceed the
	 * MTU (af_packet: IPv4 datagrams the kernel reassembled). */
	if (want->quirks & (1ull << DPF_DRV_QUIRK_FRAME_SIZE_FROM_DEVARGS))
		need = RTE_MAX(need, devargs_frame_size(info) + RTE_PKTMBUF_HEADROOM);
	dp->mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	if (need > RTE_MBUF_DEFAULT_BUF_SIZE && !(hw & RTE_ETH_RX_OFFLOAD_SCATTER))
		dp->mbuf_data_room =
			(uint16_t)RTE_MIN(RTE_ALIGN_CEIL(need, 1024), (uint32_t)UINT16_MAX);
}

void
dpf_drivers_plan(struct dpf_drv_port *dp, const struct dpf_drv_profile *prof,
		 const struct rte_eth_dev_info *info, const struct dpf_drv_request *req)
{
	uint16_t port = dp->port;

	memset(dp, 0, sizeof(*dp));
	dp->port = port;
	dp->planned = true;
	snprintf(dp->driver, sizeof(dp->driver), "%s",
		 info->driver_name != NULL ? info->driver_name : "?");
	dp->profile = prof;
	dp->requested = prof->s;
	dp->configured = prof->s;

	dp->rx_queues_requested = req->rx_queues;
	dp->rx_queues = (uint16_t)RTE_MIN(req->rx_queues, info->max_rx_queues);
	if (dp->rx_queues == 0)
		dp->rx_queues = 1;
	if (dp->rx_queues < req->rx_queues) {
		bool devargs = prof->s.quirks & (1ull << DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS);

		snprintf(dp->rx_queues_reason, sizeof(dp->rx_queues_reason), "device maximum%s%s",
			 devargs ? "; queues-from-devargs: " : "",
			 devargs ? quirk_names[DPF_DRV_QUIRK_QUEUES_FROM_DEVARGS].doc : "");
	}
	plan_desc(dp, DPF_DRV_RX_DESC, &info->rx_desc_lim);
	plan_desc(dp, DPF_DRV_TX_DESC, &info->tx_desc_lim);
	plan_rss(dp, info, req);
	plan_mtu_offloads(dp, info);
}

/* ---- ports ---- */

int
dpf_drivers_select(const char *dir, const uint16_t *ports, uint16_t n_ports)
{
	char err[512];
	uint16_t i;
	int rc;

	rc = dpf_drivers_open(dir, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "dpflow: %s\n", err);
		return rc;
	}
	for (i = 0; i < n_ports; i++) {
		struct rte_eth_dev_info info;
		const struct dpf_drv_profile *p;

		rc = rte_eth_dev_info_get(ports[i], &info);
		if (rc != 0) {
			fprintf(stderr, "dpflow: port %u: cannot get device info: %s\n", ports[i],
				rte_strerror(-rc));
			return rc;
		}
		p = dpf_drivers_profile(info.driver_name, err, sizeof(err));
		if (p == NULL) {
			fprintf(stderr, "dpflow: port %u (%s): driver profile: %s\n", ports[i],
				info.driver_name, err);
			return -EINVAL;
		}
		if (ports[i] < RTE_MAX_ETHPORTS)
			drv.port_profile[ports[i]] = p;
		if (p->own_file)
			fprintf(stderr, "dpflow: port %u (%s): driver profile %s\n", ports[i],
				info.driver_name, p->path);
		else
			fprintf(stderr, "dpflow: port %u (%s): driver profile %s (no %s%s%s.ini)\n",
				ports[i], info.driver_name,
				p->path[0] ? p->path : "built-in defaults", drv.dir,
				drv.dir[0] ? "/" : "", p->name);
		print_vdev_note(ports[i], info.driver_name);
		if (p->s.quirks & (1ull << DPF_DRV_QUIRK_RX_DROPS_UNREPORTED))
			fprintf(stderr, "dpflow: port %u (%s): warning: rx-drops-unreported: %s\n",
				ports[i], info.driver_name,
				quirk_names[DPF_DRV_QUIRK_RX_DROPS_UNREPORTED].doc);
	}
	return 0;
}

struct dpf_drv_port *
dpf_drivers_port_plan(uint16_t port, const struct rte_eth_dev_info *info,
		      const struct dpf_drv_request *req)
{
	struct dpf_drv_port *dp;

	if (port >= RTE_MAX_ETHPORTS || drv.port_profile[port] == NULL)
		return NULL;
	dp = &drv.ports[port];
	dp->port = port;
	dpf_drivers_plan(dp, drv.port_profile[port], info, req);
	return dp;
}

int
dpf_drivers_port_configured(struct dpf_drv_port *dp)
{
	uint16_t rxd = dp->configured.rx_desc, txd = dp->configured.tx_desc;
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port, &rxd, &txd);
	if (rc != 0) {
		fprintf(stderr, "dpflow: port %u (%s): descriptors: %s\n", dp->port, dp->driver,
			rte_strerror(-rc));
		return rc;
	}
	if (rxd != dp->configured.rx_desc)
		set_reason(dp, DPF_DRV_RX_DESC, false, "the driver adjusted it after configure");
	if (txd != dp->configured.tx_desc)
		set_reason(dp, DPF_DRV_TX_DESC, false, "the driver adjusted it after configure");
	dp->configured.rx_desc = rxd;
	dp->configured.tx_desc = txd;
	return 0;
}

/*
 * The device's symmetric Toeplitz function is reached through rte_flow in
 * DPDK 22.11 (ethdev gained rss_conf.algorithm only in 23.11): one RSS rule
 * per hashed packet type, as ice and i40e expect (no queue list, no key,
 * types of the pattern). Any refusal undoes every rule made.
 */
static int
create_symmetric_flows(struct dpf_drv_port *dp, char *why, size_t why_len)
{
	static const struct {
		uint64_t types;
		enum rte_flow_item_type l3;
		enum rte_flow_item_type l4;
	} rules[] = {
		{RTE_ETH_RSS_IPV4, RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_END},
		{RTE_ETH_RSS_NONFRAG_IPV4_TCP, RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_TCP},
		{RTE_ETH_RSS_NONFRAG_IPV4_UDP, RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_UDP},
		{RTE_ETH_RSS_NONFRAG_IPV4_SCTP, RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_SCTP},
		{RTE_ETH_RSS_IPV6, RTE_FLOW_ITEM_TYPE_IPV6, RTE_FLOW_ITEM_TYPE_END},
		{RTE_ETH_RSS_NONFRAG_IPV6_TCP, RTE_FLOW_ITEM_TYPE_IPV6, RTE_FLOW_ITEM_TYPE_TCP},
		{RTE_ETH_RSS_NONFRAG_IPV6_UDP, RTE_FLOW_ITEM_TYPE_IPV6, RTE_FLOW_ITEM_TYPE_UDP},
		{RTE_ETH_RSS_NONFRAG_IPV6_SCTP, RTE_FLOW_ITEM_TYPE_IPV6, RTE_FLOW_ITEM_TYPE_SCTP},
	};
	const struct rte_flow_attr attr = {.ingress = 1};
	unsigned int r;

	RTE_BUILD_BUG_ON(RTE_DIM(rules) > DPF_DRV_MAX_SYM_FLOWS);
	for (r = 0; r < RTE_DIM(rules); r++) {
		struct rte_flow_action_rss rss = {
			.func = RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ,
			.level = 0,
			.types = rules[r].types,
		};
		struct rte_flow_item pattern[] = {
			{.type = RTE_FLOW_ITEM_TYPE_ETH},
			{.type = rules[r].l3},
			{.type = rules[r].l4},
			{.type = RTE_FLOW_ITEM_TYPE_END},
		};
		struct rte_flow_action actions[] = {
			{.type = RTE_FLOW_ACTION_TYPE_RSS, .conf = &rss},
			{.type = RTE_FLOW_ACTION_TYPE_END},
		};
		struct rte_flow_error ferr;
		struct rte_flow *flow;

		if ((dp->configured.rss_hash & rules[r].types) == 0)
			continue;
		memset(&ferr, 0, sizeof(ferr));
		flow = NULL;
		if (rte_flow_validate(dp->port, &attr, pattern, actions, &ferr) == 0)
			flow = rte_flow_create(dp->port, &attr, pattern, actions, &ferr);
		if (flow == NULL) {
			snprintf(why, why_len,
				 "the device refused an rte_flow symmetric_toeplitz rule: %s",
				 ferr.message != NULL ? ferr.message : rte_strerror(rte_errno));
			while (dp->n_sym_flows > 0)
				rte_flow_destroy(dp->port, dp->sym_flows[--dp->n_sym_flows], &ferr);
			return -ENOTSUP;
		}
		dp->sym_flows[dp->n_sym_flows++] = flow;
	}
	return 0;
}

static void
program_reta(struct dpf_drv_port *dp)
{
	static struct rte_eth_rss_reta_entry64 reta[RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_dev_info info;
	uint16_t i;
	int rc;

	/* Some drivers (vmxnet3) know their RETA size only once configured. */
	rc = rte_eth_dev_info_get(dp->port, &info);
	if (rc != 0 || info.reta_size == 0 || info.reta_size > RETA_MAX) {
		dp->configured.reta_spread = DPF_DRV_RETA_DRIVER;
		set_reason(dp, DPF_DRV_RETA_SPREAD, false,
			   "the device reports a RETA of %u entries", rc == 0 ? info.reta_size : 0);
		return;
	}
	memset(reta, 0, sizeof(reta));
	for (i = 0; i < info.reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			i % dp->rx_queues;
	}
	rc = rte_eth_dev_rss_reta_update(dp->port, reta, info.reta_size);
	if (rc != 0) {
		dp->configured.reta_spread = DPF_DRV_RETA_DRIVER;
		set_reason(dp, DPF_DRV_RETA_SPREAD, false,
			   "the RETA update of %u entries failed: %s; masquerade steering may miss",
			   info.reta_size, rte_strerror(-rc));
		return;
	}
	dp->reta_size = info.reta_size;
}

void
dpf_drivers_port_started(struct dpf_drv_port *dp)
{
	struct dpf_drv_settings *want = &dp->requested, *got = &dp->configured;
	struct rte_eth_rxq_info rxq;
	struct rte_eth_txq_info txq;
	char why[DPF_DRV_REASON_LEN];
	int rc;

	/* default_devargs: what was added to this port's --vdev. */
	{
		const struct vdev_note *n = vdev_note_of(dp->port);

		snprintf(got->default_devargs, sizeof(got->default_devargs), "%s",
			 n != NULL ? n->added : "");
		if (n != NULL && n->given[0] != '\0')
			set_reason(dp, DPF_DRV_DEFAULT_DEVARGS, true, "--vdev gave %s itself",
				   n->given);
		else if (n == NULL && want->default_devargs[0] != '\0')
			set_reason(dp, DPF_DRV_DEFAULT_DEVARGS, true, "not a --vdev argument");
	}

	/* What the queues report beats what was asked (virtio caps silently). */
	if (rte_eth_rx_queue_info_get(dp->port, 0, &rxq) == 0 && rxq.nb_desc != 0 &&
	    rxq.nb_desc != got->rx_desc) {
		got->rx_desc = rxq.nb_desc;
		set_reason(dp, DPF_DRV_RX_DESC, false, "the queue reports %u", rxq.nb_desc);
	}
	if (rte_eth_tx_queue_info_get(dp->port, 0, &txq) == 0 && txq.nb_desc != 0 &&
	    txq.nb_desc != got->tx_desc) {
		got->tx_desc = txq.nb_desc;
		set_reason(dp, DPF_DRV_TX_DESC, false, "the queue reports %u", txq.nb_desc);
	}

	rc = 0;
	if (want->promiscuous)
		rc = rte_eth_promiscuous_enable(dp->port);
	got->promiscuous = rte_eth_promiscuous_get(dp->port) == 1;
	if (want->promiscuous && !got->promiscuous)
		set_reason(dp, DPF_DRV_PROMISCUOUS, false, "the driver refused it: %s",
			   rte_strerror(rc < 0 ? -rc : ENOTSUP));
	else if (!want->promiscuous && got->promiscuous)
		set_reason(dp, DPF_DRV_PROMISCUOUS, true, "the driver's default");

	if (got->rss_hash == 0)
		return;
	if (got->reta_spread == DPF_DRV_RETA_ROUND_ROBIN)
		program_reta(dp);
	if (got->symmetric_hash_function && create_symmetric_flows(dp, why, sizeof(why)) < 0) {
		got->symmetric_hash_function = false;
		set_reason(dp, DPF_DRV_SYMMETRIC_HASH_FUNCTION, false, "%s", why);
		if (!got->rss_key_symmetric) {
			/* Without the function only a symmetric key keeps both
			 * directions of a connection on one core. */
			struct rte_eth_rss_conf rc_conf = {
				.rss_key = got->rss_key,
				.rss_key_len = got->rss_key_len,
				.rss_hf = got->rss_hash,
			};
			unsigned int i;

			for (i = 0; i < got->rss_key_len; i++)
				got->rss_key[i] = dpf_rss_symmetric_key[i % 2];
			rc = rte_eth_dev_rss_hash_update(dp->port, &rc_conf);
			if (rc == 0) {
				got->rss_key_symmetric = true;
				set_reason(dp, DPF_DRV_RSS_KEY, false,
					   "no symmetric hash function: the symmetric key instead");
			} else {
				memcpy(got->rss_key, want->rss_key, got->rss_key_len);
				set_reason(
					dp, DPF_DRV_RSS_KEY, false,
					"no symmetric hash function, and the key update failed "
					"(%s): the directions of a connection may reach different "
					"RX cores",
					rte_strerror(-rc));
			}
		}
	}
	if (!got->rss_key_symmetric && !got->symmetric_hash_function &&
	    !key_is_symmetric(got->rss_key, got->rss_key_len) &&
	    dp->reason[DPF_DRV_RSS_KEY][0] == '\0')
		set_reason(dp, DPF_DRV_RSS_KEY, false,
			   "not symmetric: the two directions of a connection may reach different "
			   "RX cores (records still merge; stateful ACL and NAT sessions need "
			   "symmetry)");
}

void
dpf_drivers_print_notes(FILE *f, struct dpf_drv_port *dp)
{
	char want[DPF_DRV_REASON_LEN], got[DPF_DRV_REASON_LEN];
	int k;

	if (dp->rx_queues_reason[0] != '\0' && !dp->rx_queues_logged) {
		fprintf(f, "dpflow: port %u (%s): rx_queues: requested %u, configured %u (%s)\n",
			dp->port, dp->driver, dp->rx_queues_requested, dp->rx_queues,
			dp->rx_queues_reason);
		dp->rx_queues_logged = true;
	}
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		if (dp->reason[k][0] == '\0' || dp->quiet[k] || dp->logged[k])
			continue;
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->requested, want, sizeof(want));
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->configured, got, sizeof(got));
		fprintf(f, "dpflow: port %u (%s): %s: requested %s, configured %s (%s)\n", dp->port,
			dp->driver, key_table[k].name, want, got, dp->reason[k]);
		dp->logged[k] = true;
	}
}

const struct dpf_drv_port *
dpf_drivers_port(uint16_t port)
{
	if (port >= RTE_MAX_ETHPORTS || !drv.ports[port].planned)
		return NULL;
	return &drv.ports[port];
}

bool
dpf_drivers_port_has_quirk(uint16_t port, enum dpf_drv_quirk q)
{
	if (port >= RTE_MAX_ETHPORTS || drv.port_profile[port] == NULL ||
	    (unsigned int)q >= DPF_DRV_N_QUIRKS)
		return false;
	return (drv.port_profile[port]->s.quirks & (1ull << q)) != 0;
}

/* ---- show and doc ---- */

void
dpf_drivers_show_record(FILE *f, const struct dpf_drv_port *dp)
{
	char want[DPF_DRV_REASON_LEN], got[DPF_DRV_REASON_LEN];
	int k;

	fprintf(f, "driver: %s\n", dp->driver);
	if (dp->profile == NULL)
		fprintf(f, "profile: -\n");
	else if (dp->profile->own_file)
		fprintf(f, "profile: %s\n", dp->profile->path);
	else
		fprintf(f, "profile: %s (no %s.ini)\n",
			dp->profile->path[0] ? dp->profile->path : "built-in defaults",
			dp->profile->name);
	fprintf(f, "rx_queues: %u -> %u%s%s%s\n", dp->rx_queues_requested, dp->rx_queues,
		dp->rx_queues_reason[0] ? " (" : "", dp->rx_queues_reason,
		dp->rx_queues_reason[0] ? ")" : "");
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->requested, want, sizeof(want));
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->configured, got, sizeof(got));
		fprintf(f, "%s: %s -> %s%s%s%s\n", key_table[k].name, want, got,
			dp->reason[k][0] ? " (" : "", dp->reason[k], dp->reason[k][0] ? ")" : "");
	}
	format_flags(rss_hash_names, dp->rss_hash_capa, want, sizeof(want));
	fprintf(f, "device rss_hash: %s (0x%" PRIx64 ")\n", want, dp->rss_hash_capa);
	format_flags(rx_offload_names, dp->rx_offload_capa, want, sizeof(want));
	fprintf(f, "device rx_offloads: %s (0x%" PRIx64 ")\n", want, dp->rx_offload_capa);
	fprintf(f, "reta entries programmed: %u\n", dp->reta_size);
	fprintf(f, "mbuf data room: %u\n", dp->mbuf_data_room);
}

void
dpf_drivers_show(FILE *f, uint16_t port)
{
	const struct dpf_drv_port *dp = dpf_drivers_port(port);

	if (dp == NULL) {
		fprintf(f, "port %u: not configured\n", port);
		return;
	}
	dpf_drivers_show_record(f, dp);
}

static void
show_profile(FILE *f, const struct dpf_drv_profile *p)
{
	char v[DPF_DRV_REASON_LEN];
	int k;

	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		dpf_drivers_key_format((enum dpf_drv_key)k, &p->s, v, sizeof(v));
		fprintf(f, "drivers-cfg.%s.%s: %s (%s)\n", p->name, key_table[k].name, v,
			p->source[k]);
	}
}

void
dpf_drivers_show_config(FILE *f)
{
	unsigned int i;

	fprintf(f, "drivers-cfg: %s (%s)\n", drv.dir[0] ? drv.dir : "-", dpf_drivers_dir_origin());
	for (i = 0; i < drv.n_aliases; i++)
		fprintf(f, "drivers-cfg.aliases.%s: %s\n", drv.aliases[i].from, drv.aliases[i].to);
	show_profile(f, &drv.base);
	for (i = 0; i < drv.n_profiles; i++)
		show_profile(f, drv.profiles[i]);
}

static void
doc_names(FILE *f, const char *what, const struct drv_name *names)
{
	int i;

	fprintf(f, "\n| %s | meaning |\n|---|---|\n", what);
	for (i = 0; names[i].name != NULL; i++)
		fprintf(f, "| `%s` | %s |\n", names[i].name, names[i].doc);
}

void
dpf_drivers_doc(FILE *f)
{
	int k;

	fprintf(f, "| key | values | default | masked by | meaning |\n|---|---|---|---|---|\n");
	for (k = 0; k < DPF_DRV_N_KEYS; k++)
		fprintf(f, "| `%s` | %s | `%s` | %s | %s |\n", key_table[k].name,
			key_table[k].values, key_table[k].def, key_table[k].masked_by,
			key_table[k].help);
	doc_names(f, "`rss_hash` name", rss_hash_names);
	doc_names(f, "`rx_offloads` name", rx_offload_names);
	doc_names(f, "`reta_spread`", reta_names);
	doc_names(f, "quirk", quirk_names);
}
