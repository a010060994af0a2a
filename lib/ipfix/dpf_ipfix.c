/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_ipfix.h"
#include "dpf_util.h"

#define MSG_HDR_LEN 16
#define SET_HDR_LEN 4
#define SET_ID_TEMPLATE 2
#define SET_ID_OPTIONS_TEMPLATE 3
#define VARLEN 65535

/* Information Element IDs (IANA IPFIX registry). */
enum {
	IE_OCTET_DELTA = 1,
	IE_PACKET_DELTA = 2,
	IE_PROTOCOL = 4,
	IE_TCP_FLAGS = 6,
	IE_SRC_PORT = 7,
	IE_SRC_V4 = 8,
	IE_INGRESS_IF = 10,
	IE_DST_PORT = 11,
	IE_DST_V4 = 12,
	IE_SRC_V6 = 27,
	IE_DST_V6 = 28,
	IE_IF_NAME = 82,
	IE_FWD_STATUS = 89,
	IE_FLOW_START_SEC = 150,
	IE_FLOW_END_SEC = 151,
	IE_FLOW_START_MSEC = 152,
	IE_FLOW_END_MSEC = 153,
	IE_POST_NAT_SRC_V4 = 225,
	IE_POST_NAT_DST_V4 = 226,
	IE_POST_NAPT_SRC_PORT = 227,
	IE_POST_NAPT_DST_PORT = 228,
	IE_NAT_EVENT = 230,
	IE_POST_NAT_SRC_V6 = 281,
	IE_POST_NAT_DST_V6 = 282,
	IE_OBSERVATION_TIME_MSEC = 323,
	IE_GRE_KEY = 296,
	IE_SUB_TEMPLATE_LIST = 292,
	IE_LAYER2_SEGMENT_ID = 351,
};

struct field {
	uint16_t id;
	uint16_t len;
};

/*
 * Field order here is the order in the records: keep encode_flow() in step.
 * Both families send the same fields but for the addresses' elements and
 * length, so one list makes both templates.
 */
/* clang-format off */
#define FLOW_FIELDS(src, dst, post_src, post_dst, addr_len) \
	{IE_FLOW_START_SEC, 4},                             \
	{IE_FLOW_END_SEC, 4},                               \
	{IE_FLOW_START_MSEC, 8},                            \
	{IE_FLOW_END_MSEC, 8},                              \
	{src, addr_len},                                    \
	{dst, addr_len},                                    \
	{IE_SRC_PORT, 2},                                   \
	{IE_DST_PORT, 2},                                   \
	{IE_PROTOCOL, 1},                                   \
	{IE_TCP_FLAGS, 2},                                  \
	{IE_PACKET_DELTA, 8},                               \
	{IE_OCTET_DELTA, 8},                                \
	{IE_INGRESS_IF, 4},                                 \
	{post_src, addr_len},                               \
	{post_dst, addr_len},                               \
	{IE_POST_NAPT_SRC_PORT, 2},                         \
	{IE_POST_NAPT_DST_PORT, 2},                         \
	{IE_FWD_STATUS, 1},                                 \
	{IE_NAT_EVENT, 1},                                  \
	{IE_OBSERVATION_TIME_MSEC, 8}
/* clang-format on */

static const struct field fields_v4[] = {
	FLOW_FIELDS(IE_SRC_V4, IE_DST_V4, IE_POST_NAT_SRC_V4, IE_POST_NAT_DST_V4, 4)};
static const struct field fields_v6[] = {
	FLOW_FIELDS(IE_SRC_V6, IE_DST_V6, IE_POST_NAT_SRC_V6, IE_POST_NAT_DST_V6, 16)};
/*
 * Decapsulated flows (dpf_ipfix_params.tunnels): the outer addresses as a
 * subTemplateList (RFC 6313) of one record of template OUTER_V4 or OUTER_V6
 * (the outer family need not be the inner one, and the list names its own
 * template, so one data template serves both), then the flow fields, then
 * the tunnel's id where IANA has an element for it.
 *
 * The list comes first: a collector that flattens structured data into the
 * record it nests in (nfdump 1.7 does: it decodes the sub-record's address
 * elements as if they were the flow's) then takes the flow's own addresses,
 * which come later, over the outer ones. Template order carries no meaning
 * in IPFIX (RFC 7011 3.4.1), so a collector that reads the list as RFC 6313
 * says loses nothing.
 */
#define V4_FLOW FLOW_FIELDS(IE_SRC_V4, IE_DST_V4, IE_POST_NAT_SRC_V4, IE_POST_NAT_DST_V4, 4)
#define V6_FLOW FLOW_FIELDS(IE_SRC_V6, IE_DST_V6, IE_POST_NAT_SRC_V6, IE_POST_NAT_DST_V6, 16)
/* clang-format off */
#define OUTER_LIST {IE_SUB_TEMPLATE_LIST, VARLEN}
/* clang-format on */
static const struct field fields_v4_l2seg[] = {OUTER_LIST, V4_FLOW, {IE_LAYER2_SEGMENT_ID, 8}};
static const struct field fields_v6_l2seg[] = {OUTER_LIST, V6_FLOW, {IE_LAYER2_SEGMENT_ID, 8}};
static const struct field fields_v4_gre_key[] = {OUTER_LIST, V4_FLOW, {IE_GRE_KEY, 4}};
static const struct field fields_v6_gre_key[] = {OUTER_LIST, V6_FLOW, {IE_GRE_KEY, 4}};
static const struct field fields_v4_tun[] = {OUTER_LIST, V4_FLOW};
static const struct field fields_v6_tun[] = {OUTER_LIST, V6_FLOW};
static const struct field fields_outer_v4[] = {{IE_SRC_V4, 4}, {IE_DST_V4, 4}};
static const struct field fields_outer_v6[] = {{IE_SRC_V6, 16}, {IE_DST_V6, 16}};
static const struct field fields_iface[] = {{IE_INGRESS_IF, 4}, {IE_IF_NAME, VARLEN}};
#define IFACE_SCOPE_FIELDS 1
/* RFC 6313 4.5.2: semantic (1 byte) and template id (2) before the records. */
#define SUB_TEMPLATE_LIST_HDR_LEN 3
#define SEMANTIC_UNDEFINED 0xff
#define SEMANTIC_ALL_OF 0x03

#define N_FIELDS(a) (sizeof(a) / sizeof((a)[0]))

struct dpf_ipfix {
	uint32_t domain_id;
	uint32_t max_len;
	uint32_t seq;	       /* data records taken before the open message */
	uint32_t len;	       /* bytes in buf, header included */
	uint32_t data_records; /* in the open message */
	bool tunnels;	       /* the overlay templates are in use */
	uint16_t set_id;       /* set open at set_off, 0 when none */
	uint32_t set_off;
	struct dpf_ipfix_stats stats;
	uint8_t buf[]; /* max_len bytes: the message being built */
};

static uint32_t
clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint8_t
dpf_ipfix_forwarding_status(uint8_t action)
{
	return action == DPF_ACTION_REJECT ? DPF_IPFIX_FWD_DROP_ACL_DENY : DPF_IPFIX_FWD_FORWARDED;
}

uint32_t
dpf_ipfix_ifindex(uint16_t iface)
{
	return (uint32_t)iface + 1;
}

void
dpf_ipfix_free(struct dpf_ipfix *x)
{
	free(x);
}

struct dpf_ipfix *
dpf_ipfix_create(const struct dpf_ipfix_params *p)
{
	struct dpf_ipfix *x;
	uint32_t max_len;

	if (p == NULL)
		return dpf_null_errno(EINVAL);
	max_len = p->max_msg_len != 0 ? p->max_msg_len : DPF_IPFIX_MSG_LEN_DEFAULT;
	/* The templates go in one set: a message must hold them all. */
	if (max_len < dpf_ipfix_min_msg_len(p->tunnels) || max_len > DPF_IPFIX_MSG_LEN_MAX)
		return dpf_null_errno(EINVAL);
	x = calloc(1, sizeof(*x) + max_len);
	if (x == NULL)
		return dpf_null_errno(ENOMEM);
	x->domain_id = p->domain_id;
	x->max_len = max_len;
	x->tunnels = p->tunnels;
	x->len = MSG_HDR_LEN;
	return x;
}

static void
set_close(struct dpf_ipfix *x)
{
	if (x->set_id != 0)
		dpf_store_be16(x->buf + x->set_off + 2, (uint16_t)(x->len - x->set_off));
	x->set_id = 0;
}

/*
 * Room for `need` bytes of set content in a set with id `set_id`, opening
 * that set when another one (or none) is open. Returns where to write.
 */
static uint8_t *
set_reserve(struct dpf_ipfix *x, uint16_t set_id, uint32_t need)
{
	uint32_t hdr = x->set_id == set_id ? 0 : SET_HDR_LEN;
	uint8_t *p;

	if (x->len + hdr + need > x->max_len)
		return NULL;
	if (hdr != 0) {
		set_close(x);
		x->set_id = set_id;
		x->set_off = x->len;
		dpf_store_be16(x->buf + x->len, set_id);
		x->len += SET_HDR_LEN;
	}
	p = x->buf + x->len;
	x->len += need;
	return p;
}

static uint8_t *
put_fields(uint8_t *p, const struct field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, p += 4) {
		dpf_store_be16(p, f[i].id);
		dpf_store_be16(p + 2, f[i].len);
	}
	return p;
}

/* One template record; scope_fields 0 for a template, > 0 for an options template. */
struct template_def {
	uint16_t id;
	uint16_t scope_fields;
	const struct field *fields;
	size_t n_fields;
};

/* Bytes of a set of these template records, its header included. */
static uint32_t
template_set_len(const struct template_def *t, size_t n)
{
	uint32_t len = SET_HDR_LEN;
	size_t i;

	for (i = 0; i < n; i++)
		len += (t[i].scope_fields != 0 ? 6 : 4) + 4 * (uint32_t)t[i].n_fields;
	return len;
}

/*
 * A set of template records of its own (RFC 7011 3.4.1, 3.4.2.2), closed so
 * that a later call starts its own set instead of growing this one.
 */
static int
add_template_set(struct dpf_ipfix *x, uint16_t set_id, const struct template_def *t, size_t n)
{
	uint8_t *p;
	size_t i;

	if (x == NULL)
		return -EINVAL;
	p = set_reserve(x, set_id, template_set_len(t, n) - SET_HDR_LEN);
	if (p == NULL)
		return -ENOBUFS;
	for (i = 0; i < n; i++) {
		dpf_store_be16(p, t[i].id);
		dpf_store_be16(p + 2, (uint16_t)t[i].n_fields);
		p += 4;
		if (t[i].scope_fields != 0) {
			dpf_store_be16(p, t[i].scope_fields);
			p += 2;
		}
		p = put_fields(p, t[i].fields, t[i].n_fields);
	}
	set_close(x);
	x->stats.template_sets++;
	return 0;
}

/* Every flow template; the first N_PLAIN_TEMPLATES without tunnels. */
static const struct template_def flow_templates[] = {
	{DPF_IPFIX_TEMPLATE_V4, 0, fields_v4, N_FIELDS(fields_v4)},
	{DPF_IPFIX_TEMPLATE_V6, 0, fields_v6, N_FIELDS(fields_v6)},
	{DPF_IPFIX_TEMPLATE_OUTER_V4, 0, fields_outer_v4, N_FIELDS(fields_outer_v4)},
	{DPF_IPFIX_TEMPLATE_OUTER_V6, 0, fields_outer_v6, N_FIELDS(fields_outer_v6)},
	{DPF_IPFIX_TEMPLATE_V4_L2SEG, 0, fields_v4_l2seg, N_FIELDS(fields_v4_l2seg)},
	{DPF_IPFIX_TEMPLATE_V6_L2SEG, 0, fields_v6_l2seg, N_FIELDS(fields_v6_l2seg)},
	{DPF_IPFIX_TEMPLATE_V4_GRE_KEY, 0, fields_v4_gre_key, N_FIELDS(fields_v4_gre_key)},
	{DPF_IPFIX_TEMPLATE_V6_GRE_KEY, 0, fields_v6_gre_key, N_FIELDS(fields_v6_gre_key)},
	{DPF_IPFIX_TEMPLATE_V4_TUNNEL, 0, fields_v4_tun, N_FIELDS(fields_v4_tun)},
	{DPF_IPFIX_TEMPLATE_V6_TUNNEL, 0, fields_v6_tun, N_FIELDS(fields_v6_tun)},
};
#define N_PLAIN_TEMPLATES 2

static size_t
n_flow_templates(bool tunnels)
{
	return tunnels ? N_FIELDS(flow_templates) : N_PLAIN_TEMPLATES;
}

uint32_t
dpf_ipfix_min_msg_len(bool tunnels)
{
	uint32_t len = MSG_HDR_LEN + template_set_len(flow_templates, n_flow_templates(tunnels));

	return RTE_MAX(len, (uint32_t)DPF_IPFIX_MSG_LEN_MIN);
}

int
dpf_ipfix_add_templates(struct dpf_ipfix *x)
{
	if (x == NULL)
		return -EINVAL;
	return add_template_set(x, SET_ID_TEMPLATE, flow_templates, n_flow_templates(x->tunnels));
}

int
dpf_ipfix_add_iface_template(struct dpf_ipfix *x)
{
	static const struct template_def t[] = {
		{DPF_IPFIX_TEMPLATE_IFACE, IFACE_SCOPE_FIELDS, fields_iface,
		 N_FIELDS(fields_iface)},
	};

	return add_template_set(x, SET_ID_OPTIONS_TEMPLATE, t, N_FIELDS(t));
}

int
dpf_ipfix_add_iface(struct dpf_ipfix *x, uint16_t iface, const char *name)
{
	size_t name_len;
	uint32_t need;
	uint8_t *p;

	if (x == NULL || name == NULL)
		return -EINVAL;
	name_len = strnlen(name, DPF_IPFIX_IFNAME_MAX);
	/* Variable length (RFC 7011 7): one length byte below 255 is enough. */
	need = 4 + 1 + (uint32_t)name_len;
	p = set_reserve(x, DPF_IPFIX_TEMPLATE_IFACE, need);
	if (p == NULL)
		return -ENOBUFS;
	dpf_store_be32(p, dpf_ipfix_ifindex(iface));
	p[4] = (uint8_t)name_len;
	memcpy(p + 5, name, name_len);
	x->data_records++;
	x->stats.option_records++;
	return 0;
}

static void
encode_flow(uint8_t *p, const struct dpf_record *r, size_t alen)
{
	const struct dpf_flow_key *k = &r->key;

	dpf_store_be32(p, clamp32(r->start));
	dpf_store_be32(p + 4, clamp32(r->end));
	dpf_store_be64(p + 8, r->start * 1000);
	dpf_store_be64(p + 16, r->end * 1000);
	p += 24;
	memcpy(p, k->src_addr, alen);
	memcpy(p + alen, k->dst_addr, alen);
	p += 2 * alen;
	dpf_store_be16(p, k->src_port);
	dpf_store_be16(p + 2, k->dst_port);
	p[4] = k->proto;
	dpf_store_be16(p + 5, k->proto == 6 ? r->tcp_flags_all : 0);
	dpf_store_be64(p + 7, r->packets);
	dpf_store_be64(p + 15, r->bytes);
	dpf_store_be32(p + 23, dpf_ipfix_ifindex(k->iface));
	p += 27;
	memcpy(p, r->post.src_addr, alen);
	memcpy(p + alen, r->post.dst_addr, alen);
	p += 2 * alen;
	dpf_store_be16(p, r->post.src_port);
	dpf_store_be16(p + 2, r->post.dst_port);
	p[4] = dpf_ipfix_forwarding_status(k->action);
	p[5] = DPF_IPFIX_NAT_EVENT_CREATE;
	dpf_store_be64(p + 6, r->start * 1000);
}

uint64_t
dpf_ipfix_l2seg(const struct dpf_record *r)
{
	uint64_t type;

	if (r->key.tun_type == DPF_TUN_VXLAN && r->key.tun_has_id == DPF_PKT_TUN_ID)
		type = DPF_IPFIX_L2SEG_VXLAN;
	else if (r->key.tun_type == DPF_TUN_GRE && r->key.tun_has_id == DPF_PKT_TUN_ID_VSID)
		type = DPF_IPFIX_L2SEG_NVGRE;
	else
		return 0;
	return type << 56 | (r->key.tun_id & 0xffffff);
}

/* What a decapsulated record adds around its flow fields, and its template. */
struct tunnel_part {
	uint16_t tmpl;
	uint8_t id_len;	   /* 8: layer2SegmentId, 4: greKey, 0: no id element */
	uint8_t outer_len; /* outer address length: 4, 16, 0 (none known: an empty list) */
	uint64_t id;
	uint32_t list_len; /* the list, its length byte included: before the flow fields */
};

static void
tunnel_part(const struct dpf_record *r, struct tunnel_part *t)
{
	bool v6 = r->key.family == 6;

	t->id = dpf_ipfix_l2seg(r);
	if (t->id != 0) {
		t->tmpl = v6 ? DPF_IPFIX_TEMPLATE_V6_L2SEG : DPF_IPFIX_TEMPLATE_V4_L2SEG;
		t->id_len = 8;
	} else if (r->key.tun_type == DPF_TUN_GRE && r->key.tun_has_id == DPF_PKT_TUN_ID) {
		t->tmpl = v6 ? DPF_IPFIX_TEMPLATE_V6_GRE_KEY : DPF_IPFIX_TEMPLATE_V4_GRE_KEY;
		t->id_len = 4;
		t->id = r->key.tun_id;
	} else {
		t->tmpl = v6 ? DPF_IPFIX_TEMPLATE_V6_TUNNEL : DPF_IPFIX_TEMPLATE_V4_TUNNEL;
		t->id_len = 0;
	}
	t->outer_len = r->tun.family == 4 ? 4 : r->tun.family == 6 ? 16 : 0;
	/* The short variable-length form (RFC 7011 7): one length byte, below 255. */
	t->list_len = 1 + SUB_TEMPLATE_LIST_HDR_LEN + 2u * t->outer_len;
}

/* The outer addresses' list at p. */
static void
encode_outer_list(uint8_t *p, const struct dpf_record *r, const struct tunnel_part *t)
{
	uint8_t alen = t->outer_len;

	p[0] = (uint8_t)(t->list_len - 1);
	/*
	 * allOf (RFC 6313 4.4): the one sub-record, the tunnel's endpoints, is
	 * a property of the flow. An empty list (no outer addresses known)
	 * states nothing: undefined.
	 */
	p[1] = alen != 0 ? SEMANTIC_ALL_OF : SEMANTIC_UNDEFINED;
	dpf_store_be16(p + 2,
		       alen == 16 ? DPF_IPFIX_TEMPLATE_OUTER_V6 : DPF_IPFIX_TEMPLATE_OUTER_V4);
	memcpy(p + 4, r->tun.src_addr, alen);
	memcpy(p + 4 + alen, r->tun.dst_addr, alen);
}

/* The tunnel's id element at p (nothing when its template has none). */
static void
encode_tunnel_id(uint8_t *p, const struct tunnel_part *t)
{
	if (t->id_len == 8)
		dpf_store_be64(p, t->id);
	else if (t->id_len == 4)
		dpf_store_be32(p, (uint32_t)t->id);
}

int
dpf_ipfix_add_record(struct dpf_ipfix *x, const struct dpf_record *r)
{
	struct tunnel_part tun = {0};
	uint16_t tmpl;
	uint32_t rec_len;
	size_t alen;
	uint8_t *p;

	if (x == NULL || r == NULL || r->log_status != DPF_LOG_OK)
		return -EINVAL;
	if (r->key.family == 4) {
		tmpl = DPF_IPFIX_TEMPLATE_V4;
		rec_len = DPF_IPFIX_RECORD_V4_LEN;
		alen = 4;
	} else if (r->key.family == 6) {
		tmpl = DPF_IPFIX_TEMPLATE_V6;
		rec_len = DPF_IPFIX_RECORD_V6_LEN;
		alen = 16;
	} else {
		return -EINVAL;
	}
	if (x->tunnels && r->key.tun_type != DPF_TUN_NONE) {
		tunnel_part(r, &tun);
		tmpl = tun.tmpl;
	}
	p = set_reserve(x, tmpl, tun.list_len + rec_len + tun.id_len);
	if (p == NULL)
		return -ENOBUFS;
	if (tun.list_len != 0)
		encode_outer_list(p, r, &tun);
	encode_flow(p + tun.list_len, r, alen);
	encode_tunnel_id(p + tun.list_len + rec_len, &tun);
	x->data_records++;
	x->stats.flow_records++;
	return 0;
}

size_t
dpf_ipfix_pending(const struct dpf_ipfix *x)
{
	if (x == NULL || x->len == MSG_HDR_LEN)
		return 0;
	return x->len;
}

int
dpf_ipfix_take(struct dpf_ipfix *x, uint32_t export_time, const uint8_t **msg)
{
	uint32_t len;

	if (x == NULL || msg == NULL)
		return -EINVAL;
	if (x->len == MSG_HDR_LEN)
		return 0;
	set_close(x);
	len = x->len;
	dpf_store_be16(x->buf, DPF_IPFIX_VERSION);
	dpf_store_be16(x->buf + 2, (uint16_t)len);
	dpf_store_be32(x->buf + 4, export_time);
	dpf_store_be32(x->buf + 8, x->seq);
	dpf_store_be32(x->buf + 12, x->domain_id);
	x->seq += x->data_records;
	x->data_records = 0;
	x->len = MSG_HDR_LEN;
	x->stats.messages++;
	*msg = x->buf;
	return (int)len;
}

void
dpf_ipfix_get_stats(const struct dpf_ipfix *x, struct dpf_ipfix_stats *st)
{
	if (x == NULL || st == NULL)
		return;
	*st = x->stats;
}
