/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The classifier: one rte_acl context per family, built from checked rules
 * (dpf_acl_rule.c), classifying bursts of parsed packets.
 */
#include <errno.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_acl.h"
#include "dpf_util.h"

/*
 * rte_acl search tuples. The first field is one byte (the classifier reads it
 * on its own); every later input index covers 4 consecutive bytes, which is
 * why both ports share one. Values are in network byte order.
 */
struct acl_v4_tuple {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
};

struct acl_v6_tuple {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
};

enum { V4_PROTO, V4_SRC, V4_DST, V4_SPORT, V4_DPORT, V4_FIELDS };
enum { V6_PROTO, V6_SRC0, V6_DST0 = V6_SRC0 + 4, V6_SPORT = V6_DST0 + 4, V6_DPORT, V6_FIELDS };

RTE_ACL_RULE_DEF(acl_rule_buf, V6_FIELDS);

static struct rte_acl_field_def
field_def(uint8_t type, uint8_t size, uint8_t field, uint8_t input, size_t offset)
{
	struct rte_acl_field_def d = {
		.type = type,
		.size = size,
		.field_index = field,
		.input_index = input,
		.offset = (uint32_t)offset,
	};

	return d;
}

static void
field_defs(uint8_t family, struct rte_acl_config *cfg)
{
	struct rte_acl_field_def *d = cfg->defs;
	uint8_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->num_categories = 1;
	if (family == 4) {
		cfg->num_fields = V4_FIELDS;
		d[V4_PROTO] = field_def(RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), V4_PROTO, 0,
					offsetof(struct acl_v4_tuple, proto));
		d[V4_SRC] = field_def(RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), V4_SRC, 1,
				      offsetof(struct acl_v4_tuple, src));
		d[V4_DST] = field_def(RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), V4_DST, 2,
				      offsetof(struct acl_v4_tuple, dst));
		d[V4_SPORT] = field_def(RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), V4_SPORT, 3,
					offsetof(struct acl_v4_tuple, sport));
		d[V4_DPORT] = field_def(RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), V4_DPORT, 3,
					offsetof(struct acl_v4_tuple, dport));
		return;
	}
	cfg->num_fields = V6_FIELDS;
	d[V6_PROTO] = field_def(RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), V6_PROTO, 0,
				offsetof(struct acl_v6_tuple, proto));
	/* An IPv6 address is four 32-bit fields, each an input index of its own. */
	for (i = 0; i < 4; i++) {
		d[V6_SRC0 + i] = field_def(RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), V6_SRC0 + i,
					   1 + i, offsetof(struct acl_v6_tuple, src) + 4 * i);
		d[V6_DST0 + i] = field_def(RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), V6_DST0 + i,
					   5 + i, offsetof(struct acl_v6_tuple, dst) + 4 * i);
	}
	d[V6_SPORT] = field_def(RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), V6_SPORT, 9,
				offsetof(struct acl_v6_tuple, sport));
	d[V6_DPORT] = field_def(RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), V6_DPORT, 9,
				offsetof(struct acl_v6_tuple, dport));
}

/* Host-order 32-bit word w of an address and the part of a prefix inside it. */
static void
addr_word(struct rte_acl_field *f, const uint8_t *addr, uint8_t len, unsigned int w)
{
	int bits = (int)len - 32 * (int)w;

	f->value.u32 = dpf_load_be32(addr + 4 * w);
	if (bits <= 0)
		f->mask_range.u32 = 0;
	else
		f->mask_range.u32 = bits >= 32 ? 32 : (uint32_t)bits;
}

static void
rule_to_acl(const struct dpf_acl_rule *r, uint8_t family, uint32_t i, uint32_t n,
	    struct acl_rule_buf *ar)
{
	struct rte_acl_field *f = ar->field;
	unsigned int w;

	memset(ar, 0, sizeof(*ar));
	ar->data.category_mask = 1;
	ar->data.priority = (int32_t)(n - i);
	ar->data.userdata = i + 1;
	f[0].value.u8 = r->proto;
	f[0].mask_range.u8 = r->proto != 0 ? 0xff : 0;
	if (family == 4) {
		addr_word(&f[V4_SRC], r->src_addr, r->src_len, 0);
		addr_word(&f[V4_DST], r->dst_addr, r->dst_len, 0);
		f[V4_SPORT].value.u16 = r->sport_lo;
		f[V4_SPORT].mask_range.u16 = r->sport_hi;
		f[V4_DPORT].value.u16 = r->dport_lo;
		f[V4_DPORT].mask_range.u16 = r->dport_hi;
		return;
	}
	for (w = 0; w < 4; w++) {
		addr_word(&f[V6_SRC0 + w], r->src_addr, r->src_len, w);
		addr_word(&f[V6_DST0 + w], r->dst_addr, r->dst_len, w);
	}
	f[V6_SPORT].value.u16 = r->sport_lo;
	f[V6_SPORT].mask_range.u16 = r->sport_hi;
	f[V6_DPORT].value.u16 = r->dport_lo;
	f[V6_DPORT].mask_range.u16 = r->dport_hi;
}

static bool
acl_name_taken(const char *name)
{
	return rte_acl_find_existing(name) != NULL;
}

/* The families a rule set classifies, each with a classifier of its own. */
static const uint8_t acl_families[] = {4, 6};
enum { ACL_V4, ACL_V6 }; /* index of each in acl_families[] and dpf_acl.ctx[] */

struct dpf_acl {
	struct rte_acl_ctx *ctx[RTE_DIM(acl_families)]; /* NULL when no rule applies */
	uint32_t n_rules;
	uint8_t default_action;
	struct dpf_acl_rule rules[];
};

/* 0 and *out (NULL when no rule applies to the family), or a positive errno. */
static int
build_family(const struct dpf_acl_params *p, uint8_t family, struct rte_acl_ctx **out)
{
	struct rte_acl_param ap;
	struct rte_acl_config cfg;
	struct rte_acl_ctx *ctx;
	struct acl_rule_buf ar;
	char name[RTE_ACL_NAMESIZE];
	uint32_t i, n_family = 0;
	int rc;

	*out = NULL;
	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].family == 0 || p->rules[i].family == family)
			n_family++;
	/* rte_acl cannot classify without a built trie; the family gets the default. */
	if (n_family == 0)
		return 0;

	/* rte_acl_create hands back an existing context of the same name: avoid one. */
	if (dpf_unique_name(name, sizeof(name), family == 4 ? "acl4-" : "acl6-",
			    p->name != NULL ? p->name : "acl", acl_name_taken) < 0)
		return EEXIST;

	memset(&ap, 0, sizeof(ap));
	ap.name = name;
	ap.socket_id = p->socket_id;
	ap.rule_size = RTE_ACL_RULE_SZ(family == 4 ? V4_FIELDS : V6_FIELDS);
	ap.max_rule_num = n_family;
	rte_errno = 0;
	ctx = rte_acl_create(&ap);
	if (ctx == NULL)
		return rte_errno != 0 ? rte_errno : ENOMEM;

	for (i = 0; i < p->n_rules; i++) {
		if (p->rules[i].family != 0 && p->rules[i].family != family)
			continue;
		rule_to_acl(&p->rules[i], family, i, p->n_rules, &ar);
		rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&ar, 1);
		if (rc < 0)
			goto free_ctx;
	}
	field_defs(family, &cfg);
	rc = rte_acl_build(ctx, &cfg);
	if (rc < 0)
		goto free_ctx;
	*out = ctx;
	return 0;

free_ctx:
	rte_acl_free(ctx);
	return -rc;
}

void
dpf_acl_free(struct dpf_acl *acl)
{
	unsigned int f;

	if (acl == NULL)
		return;
	for (f = 0; f < RTE_DIM(acl->ctx); f++)
		rte_acl_free(acl->ctx[f]);
	rte_free(acl);
}

struct dpf_acl *
dpf_acl_create(const struct dpf_acl_params *p)
{
	struct dpf_acl *acl;
	unsigned int f;
	uint32_t i;
	int rc;

	if (p == NULL || (p->rules == NULL && p->n_rules > 0) || p->n_rules > DPF_ACL_MAX_RULES ||
	    (p->default_action != DPF_ACTION_ACCEPT && p->default_action != DPF_ACTION_REJECT))
		return dpf_null_errno(EINVAL);
	for (i = 0; i < p->n_rules; i++) {
		if (dpf_acl_rule_check(&p->rules[i], NULL, 0) < 0)
			return dpf_null_errno(EINVAL);
	}
	acl = rte_zmalloc_socket(p->name, sizeof(*acl) + (size_t)p->n_rules * sizeof(acl->rules[0]),
				 RTE_CACHE_LINE_SIZE, p->socket_id);
	if (acl == NULL)
		return dpf_null_errno(ENOMEM);
	acl->n_rules = p->n_rules;
	acl->default_action = p->default_action;
	if (p->n_rules > 0)
		memcpy(acl->rules, p->rules, (size_t)p->n_rules * sizeof(acl->rules[0]));
	for (f = 0; f < RTE_DIM(acl_families); f++) {
		rc = build_family(p, acl_families[f], &acl->ctx[f]);
		if (rc != 0)
			goto free_acl;
	}
	return acl;

free_acl:
	dpf_acl_free(acl);
	return dpf_null_errno(rc);
}

uint32_t
dpf_acl_rule_count(const struct dpf_acl *acl)
{
	return acl == NULL ? 0 : acl->n_rules;
}

const struct dpf_acl_rule *
dpf_acl_rule_get(const struct dpf_acl *acl, uint32_t i)
{
	return i < acl->n_rules ? &acl->rules[i] : NULL;
}

uint8_t
dpf_acl_default_action(const struct dpf_acl *acl)
{
	return acl->default_action;
}

static void
apply_results(const struct dpf_acl *acl, const uint32_t *results, const uint8_t *pkt_index,
	      uint32_t n, uint8_t *actions, uint32_t *rule_ids)
{
	uint32_t j;

	for (j = 0; j < n; j++) {
		uint32_t id = results[j];

		/* userdata is the rule index + 1; 0 means no rule matched. */
		if (id == 0 || id > acl->n_rules)
			continue;
		actions[pkt_index[j]] = acl->rules[id - 1].action;
		if (rule_ids != NULL)
			rule_ids[pkt_index[j]] = id;
	}
}

static void
classify_slice(const struct dpf_acl *acl, const struct dpf_pkt_info *const *pis, uint32_t n,
	       uint8_t *actions, uint32_t *rule_ids)
{
	struct acl_v4_tuple t4[DPF_ACL_MAX_BURST];
	struct acl_v6_tuple t6[DPF_ACL_MAX_BURST];
	const uint8_t *d4[DPF_ACL_MAX_BURST], *d6[DPF_ACL_MAX_BURST];
	uint32_t res4[DPF_ACL_MAX_BURST], res6[DPF_ACL_MAX_BURST];
	uint8_t idx4[DPF_ACL_MAX_BURST], idx6[DPF_ACL_MAX_BURST];
	uint32_t i, n4 = 0, n6 = 0;

	for (i = 0; i < n; i++) {
		const struct dpf_pkt_info *pi = pis[i];

		actions[i] = acl->default_action;
		if (rule_ids != NULL)
			rule_ids[i] = 0;
		if (pi->family == 4 && acl->ctx[ACL_V4] != NULL) {
			struct acl_v4_tuple *t = &t4[n4];

			t->proto = pi->proto;
			memset(t->pad, 0, sizeof(t->pad));
			memcpy(&t->src, pi->src_addr, sizeof(t->src));
			memcpy(&t->dst, pi->dst_addr, sizeof(t->dst));
			t->sport = rte_cpu_to_be_16(pi->l4.src_port);
			t->dport = rte_cpu_to_be_16(pi->l4.dst_port);
			d4[n4] = (const uint8_t *)t;
			idx4[n4++] = (uint8_t)i;
		} else if (pi->family == 6 && acl->ctx[ACL_V6] != NULL) {
			struct acl_v6_tuple *t = &t6[n6];

			t->proto = pi->proto;
			memset(t->pad, 0, sizeof(t->pad));
			memcpy(t->src, pi->src_addr, sizeof(t->src));
			memcpy(t->dst, pi->dst_addr, sizeof(t->dst));
			t->sport = rte_cpu_to_be_16(pi->l4.src_port);
			t->dport = rte_cpu_to_be_16(pi->l4.dst_port);
			d6[n6] = (const uint8_t *)t;
			idx6[n6++] = (uint8_t)i;
		}
	}
	/* rte_acl_classify fails only on bad arguments; then the defaults stay. */
	if (n4 > 0 && rte_acl_classify(acl->ctx[ACL_V4], d4, res4, n4, 1) == 0)
		apply_results(acl, res4, idx4, n4, actions, rule_ids);
	if (n6 > 0 && rte_acl_classify(acl->ctx[ACL_V6], d6, res6, n6, 1) == 0)
		apply_results(acl, res6, idx6, n6, actions, rule_ids);
}

void
dpf_acl_classify_burst(const struct dpf_acl *acl, const struct dpf_pkt_info *const *pis, uint32_t n,
		       uint8_t *actions, uint32_t *rule_ids)
{
	uint32_t off, len;

	for (off = 0; off < n; off += len) {
		len = RTE_MIN(n - off, (uint32_t)DPF_ACL_MAX_BURST);
		classify_slice(acl, pis + off, len, actions + off,
			       rule_ids != NULL ? rule_ids + off : NULL);
	}
}
