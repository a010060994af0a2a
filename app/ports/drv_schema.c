/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The profile schema: one table of keys (key_table) drives parsing,
 * validation, formatting and doc/drivers-cfg.md; the names tables say what
 * each list value means in RTE_ETH_* bits.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>

#include "dpf_cfg.h"
#include "dpf_rss.h"
#include "drv_profile.h"

enum drv_type {
	DRV_U16, /* number in [min, max] */
	DRV_YESNO,
	DRV_ENUM,    /* one name of names[], stored as that name's bits (an enum value) */
	DRV_FLAGS,   /* names of names[] separated by spaces or commas, or "none" */
	DRV_KEY,     /* symmetric | hex */
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

/* How a key is read: its type, where it goes, its bounds or names, its default. */
struct drv_key_def {
	const char *name;
	enum drv_type type;
	size_t off; /* into struct dpf_drv_settings (not for DRV_KEY, DRV_DEVARGS) */
	uint64_t min, max;
	const struct drv_name *names;
	const char *def; /* built-in default; the shipped default.ini says the same */
};

/* What doc/drivers-cfg.md says of a key. */
struct drv_key_doc {
	const char *values;    /* what a profile may write */
	const char *masked_by; /* what limits it on a device */
	const char *help;
};

#define S(field) offsetof(struct dpf_drv_settings, field)

static const struct drv_key_def key_table[DPF_DRV_N_KEYS] = {
	[DPF_DRV_RX_DESC] = {"rx_desc", DRV_U16, S(rx_desc), 32, 32768, NULL, "1024"},
	[DPF_DRV_TX_DESC] = {"tx_desc", DRV_U16, S(tx_desc), 32, 32768, NULL, "512"},
	[DPF_DRV_RSS_HASH] = {"rss_hash", DRV_FLAGS, S(rss_hash), 0, 0, rss_hash_names,
			      "ipv4 ipv6 tcp udp sctp"},
	[DPF_DRV_RSS_KEY] = {"rss_key", DRV_KEY, 0, 0, 0, NULL, "symmetric"},
	[DPF_DRV_SYMMETRIC_HASH_FUNCTION] = {"symmetric_hash_function", DRV_YESNO,
					     S(symmetric_hash_function), 0, 0, NULL, "no"},
	[DPF_DRV_RETA_SPREAD] = {"reta_spread", DRV_ENUM, S(reta_spread), 0, 0, reta_names,
				 "round-robin"},
	[DPF_DRV_MTU] = {"mtu", DRV_U16, S(mtu), 68, 65535, NULL, "1500"},
	[DPF_DRV_PROMISCUOUS] = {"promiscuous", DRV_YESNO, S(promiscuous), 0, 0, NULL, "yes"},
	[DPF_DRV_RX_OFFLOADS] = {"rx_offloads", DRV_FLAGS, S(rx_offloads), 0, 0, rx_offload_names,
				 "none"},
	[DPF_DRV_QUIRKS] = {"quirks", DRV_FLAGS, S(quirks), 0, 0, quirk_names, "none"},
	[DPF_DRV_DEFAULT_DEVARGS] = {"default_devargs", DRV_DEVARGS, 0, 0, 0, NULL, "none"},
	[DPF_DRV_INNER_RSS] = {"inner_rss", DRV_YESNO, S(inner_rss), 0, 0, NULL, "no"},
};

#undef S

static const struct drv_key_doc key_doc[DPF_DRV_N_KEYS] = {
	[DPF_DRV_RX_DESC] = {"32..32768",
			     "`rx_desc_lim` (min, max, multiple of); the descriptors the queue "
			     "reports",
			     "descriptors per RX queue"},
	[DPF_DRV_TX_DESC] = {"32..32768", "`tx_desc_lim`; the descriptors the queue reports",
			     "descriptors per TX queue (TX is used in forward mode only)"},
	[DPF_DRV_RSS_HASH] = {"names below, or `none`",
			      "`flow_type_rss_offloads`; no RSS with one RX queue",
			      "what RSS hashes to spread frames over the RX queues"},
	[DPF_DRV_RSS_KEY] = {"`symmetric`, or 80..128 hex digits",
			     "`hash_key_size` (a hex key of another size falls back to "
			     "`symmetric`)",
			     "the Toeplitz key; `symmetric` is 0x6d5a repeated to the device's key "
			     "size, so both directions of a connection reach the same RX core"},
	[DPF_DRV_SYMMETRIC_HASH_FUNCTION] = {"`yes`, `no`",
					     "whether the device accepts rte_flow RSS rules with "
					     "`RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ`",
					     "use the device's symmetric Toeplitz function (then "
					     "any key is symmetric)"},
	[DPF_DRV_RETA_SPREAD] = {"`round-robin`, `driver`",
				 "`reta_size` and whether the RETA update succeeds",
				 "how the redirection table maps hashes to queues"},
	[DPF_DRV_MTU] = {"68..65535", "`min_mtu`, `max_mtu`, `max_rx_pktlen`",
			 "largest IP packet received; mbufs grow to hold the frame unless "
			 "`scatter` is on"},
	[DPF_DRV_PROMISCUOUS] = {"`yes`, `no`",
				 "whether the driver enables it (the state it reports after start)",
				 "receive every frame, not only those for the port's MAC; `no` "
				 "leaves the driver's default"},
	[DPF_DRV_RX_OFFLOADS] = {"names below, or `none`", "`rx_offload_capa`",
				 "RX offloads to enable"},
	[DPF_DRV_QUIRKS] = {"names below, or `none`", "-",
			    "known quirks of the driver (the quirk table below)"},
	[DPF_DRV_DEFAULT_DEVARGS] = {"`key=value[,key=value...]`, or `none`",
				     "the `--vdev` argument: a key it gives itself is not added",
				     "devargs added to the `--vdev` arguments of this driver's "
				     "virtual devices before EAL starts, printed at start-up "
				     "(net_af_packet: the ring size)"},
	[DPF_DRV_INNER_RSS] = {"`yes`, `no`",
			       "`--decap` (no tunnel opened: nothing to do), RSS on the port, "
			       "and whether the device accepts the rte_flow rules",
			       "the device hashes the headers inside the tunnels `--decap` opens "
			       "(rte_flow RSS level 2), so both directions of an inner connection "
			       "reach one RX core"},
};

static void *
field(struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (char *)s + d->off;
}

static const void *
const_field(const struct dpf_drv_settings *s, const struct drv_key_def *d)
{
	return (const char *)s + d->off;
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

int
dpf_drivers_key_find(const char *name)
{
	int k;

	for (k = 0; k < DPF_DRV_N_KEYS; k++)
		if (strcmp(key_table[k].name, name) == 0)
			return k;
	return -1;
}

void
dpf_drivers_key_list(char *buf, size_t len)
{
	size_t used = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < DPF_DRV_N_KEYS && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? ", " : "",
					 key_table[k].name);
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

		if (!isxdigit((unsigned char)text[i]) || !isxdigit((unsigned char)text[i + 1]))
			return -EINVAL;
		key[i / 2] = (uint8_t)strtoul(byte, NULL, 16);
	}
	s->rss_key_symmetric = false;
	s->rss_key_len = (uint8_t)(n / 2);
	memcpy(s->rss_key, key, n / 2);
	return 0;
}

static int
parse_key(const struct drv_key_def *d, const char *text, struct dpf_drv_settings *s, char *err,
	  size_t err_len)
{
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
		size_t k = strspn(
			p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		size_t v = k > 0 && p[k] == '=' ? strcspn(p + k + 1, ",= \t") : 0;

		if (v == 0 || (p[k + 1 + v] != '\0' && p[k + 1 + v] != ',')) {
			snprintf(
				err, err_len,
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
	char buf[DPF_DRV_VALUE_LEN];
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

static int
parse_u16(const struct drv_key_def *d, const char *text, uint16_t *out, char *err, size_t err_len)
{
	uint64_t v;
	int rc = dpf_cfg_parse_u64(text, d->min, d->max, &v);

	if (rc == -EINVAL) {
		snprintf(err, err_len, "%s '%s': not a number", d->name, text);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, err_len, "%s '%s': out of range %" PRIu64 "..%" PRIu64, d->name, text,
			 d->min, d->max);
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

static int
parse_enum(const struct drv_key_def *d, const char *text, uint8_t *out, char *err, size_t err_len)
{
	char list[256];
	int i;

	for (i = 0; d->names[i].name != NULL; i++) {
		if (strcmp(d->names[i].name, text) == 0) {
			*out = (uint8_t)d->names[i].bits;
			return 0;
		}
	}
	names_list(d->names, list, sizeof(list));
	snprintf(err, err_len, "%s '%s': expected one of %s", d->name, text, list);
	return -EINVAL;
}

int
dpf_drivers_key_parse(enum dpf_drv_key k, const char *text, struct dpf_drv_settings *s, char *err,
		      size_t err_len)
{
	const struct drv_key_def *d;

	if ((unsigned int)k >= DPF_DRV_N_KEYS) {
		snprintf(err, err_len, "key %d: no such key", (int)k);
		return -EINVAL;
	}
	d = &key_table[k];
	switch (d->type) {
	case DRV_U16:
		return parse_u16(d, text, field(s, d), err, err_len);
	case DRV_YESNO:
		if (strcmp(text, "yes") == 0 || strcmp(text, "no") == 0) {
			*(bool *)field(s, d) = text[0] == 'y';
			return 0;
		}
		snprintf(err, err_len, "%s '%s': expected yes or no", d->name, text);
		return -EINVAL;
	case DRV_ENUM:
		return parse_enum(d, text, field(s, d), err, err_len);
	case DRV_FLAGS:
		return parse_flags(d, text, field(s, d), err, err_len);
	case DRV_DEVARGS:
		return parse_devargs(d, text, s->default_devargs, err, err_len);
	case DRV_KEY:
		return parse_key(d, text, s, err, err_len);
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

void
dpf_drivers_format_rss_hash(uint64_t bits, char *buf, size_t len)
{
	format_flags(rss_hash_names, bits, buf, len);
}

void
dpf_drivers_format_rx_offloads(uint64_t bits, char *buf, size_t len)
{
	format_flags(rx_offload_names, bits, buf, len);
}

static void
format_key(const struct dpf_drv_settings *s, char *buf, size_t len)
{
	unsigned int i;
	size_t used = 0;

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
	buf[0] = '\0';
	for (i = 0; i < s->rss_key_len && used + 2 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%02x", s->rss_key[i]);
}

static void
format_enum(const struct drv_name *names, uint8_t value, char *buf, size_t len)
{
	int n;

	/* Values outside the names (DPF_DRV_RETA_NONE) exist only once configured. */
	snprintf(buf, len, "none");
	for (n = 0; names[n].name != NULL; n++)
		if (names[n].bits == value)
			snprintf(buf, len, "%s", names[n].name);
}

void
dpf_drivers_key_format(enum dpf_drv_key k, const struct dpf_drv_settings *s, char *buf, size_t len)
{
	const struct drv_key_def *d;

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
		format_enum(d->names, *(const uint8_t *)const_field(s, d), buf, len);
		return;
	case DRV_FLAGS:
		format_flags(d->names, *(const uint64_t *)const_field(s, d), buf, len);
		return;
	case DRV_DEVARGS:
		snprintf(buf, len, "%s", s->default_devargs[0] ? s->default_devargs : "none");
		return;
	case DRV_KEY:
		format_key(s, buf, len);
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
		fprintf(f, "| `%s` | %s | `%s` | %s | %s |\n", key_table[k].name, key_doc[k].values,
			key_table[k].def, key_doc[k].masked_by, key_doc[k].help);
	doc_names(f, "`rss_hash` name", rss_hash_names);
	doc_names(f, "`rx_offloads` name", rx_offload_names);
	doc_names(f, "`reta_spread`", reta_names);
	doc_names(f, "quirk", quirk_names);
}
