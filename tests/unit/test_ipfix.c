/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The encoder's messages are read back by a small decoder written from
 * RFC 7011 (not from the encoder): header, sets, templates, records.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_ipfix.h"

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* What the decoder found in one message. */
struct decoded {
	uint16_t version, length;
	uint32_t export_time, seq, domain;
	unsigned int n_sets;
	uint16_t set_ids[64];
	unsigned int n_tmpl;
	uint16_t tmpl_id[16], tmpl_n[16], tmpl_scope[16];
	uint16_t tmpl_fields[16][32][2];
	unsigned int n_v4, n_v6, n_iface, n_tun;
	const uint8_t *v4[64];
	const uint8_t *v6[64];
	struct tun_rec { /* a record of 259..264, read through its template */
		uint16_t tmpl;
		const uint8_t *flow; /* its flow fields: the layout of 256 / 257 */
		uint16_t id_ie;	     /* 351, 296, or 0: no id element */
		uint64_t id;
		uint16_t list_len; /* the subTemplateList's content */
		uint8_t semantic;
		uint16_t sub_tmpl;
		uint16_t outer_len; /* one address of the sub-record */
		const uint8_t *outer;
	} tun[64];
	uint32_t iface_idx[16];
	char iface_name[16][256];
};

static unsigned int
find_tmpl(const struct decoded *d, uint16_t id)
{
	unsigned int t;

	for (t = 0; t < d->n_tmpl; t++)
		if (d->tmpl_id[t] == id)
			return t;
	fail_msg("no template %u before its records", id);
	return 0;
}

/* A variable-length field (RFC 7011 7): its length, and p moved past the length bytes. */
static uint16_t
varlen(const uint8_t *m, int *p)
{
	uint16_t l = m[*p];

	*p += 1;
	if (l == 255) {
		l = get16(m + *p);
		*p += 2;
	}
	return l;
}

/*
 * One record of template t at m + p, walked through its fields; the
 * subTemplateList read as RFC 6313 4.5.2 says. Returns the next record's offset.
 */
static int
decode_tun(const uint8_t *m, int p, unsigned int t, struct tun_rec *r, const struct decoded *d)
{
	unsigned int i, s, k;

	memset(r, 0, sizeof(*r));
	r->tmpl = d->tmpl_id[t];
	for (i = 0; i < d->tmpl_n[t]; i++) {
		uint16_t ie = d->tmpl_fields[t][i][0], flen = d->tmpl_fields[t][i][1];

		if (ie == 292) {
			assert_int_equal(flen, 65535);
			r->list_len = varlen(m, &p);
			r->semantic = m[p];
			r->sub_tmpl = get16(m + p + 1);
			s = find_tmpl(d, r->sub_tmpl);
			/* The sub-template: a source and a destination address of one length. */
			assert_int_equal(d->tmpl_n[s], 2);
			for (k = 0; k < 2; k++)
				r->outer_len = d->tmpl_fields[s][k][1];
			r->outer = m + p + 3;
			p += r->list_len;
			continue;
		}
		if (ie == 150)
			r->flow = m + p;
		if (ie == 351 || ie == 296) {
			r->id_ie = ie;
			r->id = flen == 8 ? get64(m + p) : get32(m + p);
		}
		p += flen;
	}
	return p;
}

static void
decode(const uint8_t *m, int len, struct decoded *d)
{
	int off = 16;

	memset(d, 0, sizeof(*d));
	assert_true(len >= 16);
	d->version = get16(m);
	d->length = get16(m + 2);
	d->export_time = get32(m + 4);
	d->seq = get32(m + 8);
	d->domain = get32(m + 12);
	assert_int_equal(d->length, len);
	while (off < len) {
		uint16_t id = get16(m + off), slen = get16(m + off + 2);
		int p = off + 4, end = off + slen;

		assert_true(slen >= 4 && end <= len);
		d->set_ids[d->n_sets++] = id;
		if (id == 2 || id == 3) {
			while (p + 4 <= end) {
				unsigned int t = d->n_tmpl++, i;

				d->tmpl_id[t] = get16(m + p);
				d->tmpl_n[t] = get16(m + p + 2);
				p += 4;
				if (id == 3) {
					d->tmpl_scope[t] = get16(m + p);
					p += 2;
				}
				for (i = 0; i < d->tmpl_n[t]; i++, p += 4) {
					d->tmpl_fields[t][i][0] = get16(m + p);
					d->tmpl_fields[t][i][1] = get16(m + p + 2);
				}
			}
		} else if (id == 256) {
			for (; p + 81 <= end; p += 81)
				d->v4[d->n_v4++] = m + p;
		} else if (id == 257) {
			for (; p + 129 <= end; p += 129)
				d->v6[d->n_v6++] = m + p;
		} else if (id >= 259 && id <= 264) {
			while (p < end)
				p = decode_tun(m, p, find_tmpl(d, id), &d->tun[d->n_tun++], d);
		} else if (id == 258) {
			while (p < end) {
				unsigned int n = d->n_iface++;
				uint8_t l;

				d->iface_idx[n] = get32(m + p);
				l = m[p + 4];
				assert_true(l < 255);
				memcpy(d->iface_name[n], m + p + 5, l);
				d->iface_name[n][l] = '\0';
				p += 5 + l;
			}
		} else {
			fail_msg("unexpected set id %u", id);
		}
		assert_int_equal(p, end);
		off = end;
	}
	assert_int_equal(off, len);
}

static struct dpf_ipfix *
encoder(uint32_t max_len)
{
	struct dpf_ipfix_params p = {.domain_id = 77, .max_msg_len = max_len};
	struct dpf_ipfix *x = dpf_ipfix_create(&p);

	assert_non_null(x);
	return x;
}

static struct dpf_record
v4_record(uint8_t last_octet, uint8_t proto, uint8_t action)
{
	struct dpf_record r;

	memset(&r, 0, sizeof(r));
	r.key.family = 4;
	r.key.proto = proto;
	r.key.action = action;
	r.key.iface = 3;
	memcpy(r.key.src_addr, (uint8_t[]){10, 0, 0, last_octet}, 4);
	memcpy(r.key.dst_addr, (uint8_t[]){192, 0, 2, 10}, 4);
	r.key.src_port = 40000;
	r.key.dst_port = 80;
	/* A NAT view that differs from the packet in every element. */
	memcpy(r.post.src_addr, (uint8_t[]){203, 0, 113, 7}, 4);
	memcpy(r.post.dst_addr, (uint8_t[]){10, 9, 8, 7}, 4);
	r.post.src_port = 61000;
	r.post.dst_port = 8080;
	r.packets = 5000000000ULL;
	r.bytes = 7000000000ULL;
	r.start = 1700000000;
	r.end = 1700000059;
	r.tcp_flags_all = 0x1b;
	r.tcp_flags_aws = 3;
	r.log_status = DPF_LOG_OK;
	return r;
}

static struct dpf_record
v6_record(void)
{
	struct dpf_record r;
	unsigned int i;

	memset(&r, 0, sizeof(r));
	r.key.family = 6;
	r.key.proto = 17;
	r.key.iface = 1;
	for (i = 0; i < 16; i++) {
		r.key.src_addr[i] = (uint8_t)(0x20 + i);
		r.key.dst_addr[i] = (uint8_t)(0x40 + i);
		r.post.src_addr[i] = (uint8_t)(0x60 + i);
		r.post.dst_addr[i] = (uint8_t)(0x80 + i);
	}
	r.key.src_port = 5353;
	r.key.dst_port = 53;
	r.post.src_port = 5354;
	r.post.dst_port = 54;
	r.packets = 2;
	r.bytes = 180;
	r.start = 1700000001;
	r.end = 1700000002;
	r.tcp_flags_all = 0x12; /* never exported for UDP */
	r.log_status = DPF_LOG_OK;
	return r;
}

static void
test_ipfix_create_rejects_bad_params(void **state)
{
	struct dpf_ipfix_params p = {.max_msg_len = DPF_IPFIX_MSG_LEN_MIN - 1};

	(void)state;
	assert_null(dpf_ipfix_create(NULL));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(dpf_ipfix_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.max_msg_len = DPF_IPFIX_MSG_LEN_MAX + 1;
	assert_null(dpf_ipfix_create(&p));
	dpf_ipfix_free(NULL);
}

static void
test_ipfix_templates_list_iana_elements_in_record_order(void **state)
{
	static const uint16_t v4[][2] = {
		{150, 4}, {151, 4}, {152, 8}, {153, 8}, {8, 4},	  {12, 4},  {7, 2},
		{11, 2},  {4, 1},   {6, 2},   {2, 8},	{1, 8},	  {10, 4},  {225, 4},
		{226, 4}, {227, 2}, {228, 2}, {89, 1},	{230, 1}, {323, 8},
	};
	static const uint16_t v6[][2] = {
		{150, 4},  {151, 4}, {152, 8}, {153, 8}, {27, 16}, {28, 16}, {7, 2},
		{11, 2},   {4, 1},   {6, 2},   {2, 8},	 {1, 8},   {10, 4},  {281, 16},
		{282, 16}, {227, 2}, {228, 2}, {89, 1},	 {230, 1}, {323, 8},
	};
	struct dpf_ipfix *x = encoder(0);
	const uint8_t *m;
	struct decoded d;
	unsigned int i, sum4 = 0, sum6 = 0;
	int len;

	(void)state;
	assert_int_equal(dpf_ipfix_add_templates(x), 0);
	assert_int_equal(dpf_ipfix_add_iface_template(x), 0);
	len = dpf_ipfix_take(x, 1234, &m);
	decode(m, len, &d);
	assert_int_equal(d.version, 10);
	assert_int_equal(d.export_time, 1234);
	assert_int_equal(d.domain, 77);
	assert_int_equal(d.seq, 0);
	assert_int_equal(d.n_sets, 2);
	assert_int_equal(d.set_ids[0], 2);
	assert_int_equal(d.set_ids[1], 3);
	assert_int_equal(d.n_tmpl, 3);
	assert_int_equal(d.tmpl_id[0], 256);
	assert_int_equal(d.tmpl_id[1], 257);
	assert_int_equal(d.tmpl_id[2], 258);
	assert_int_equal(d.tmpl_n[0], 20);
	assert_int_equal(d.tmpl_n[1], 20);
	for (i = 0; i < 20; i++) {
		assert_int_equal(d.tmpl_fields[0][i][0], v4[i][0]);
		assert_int_equal(d.tmpl_fields[0][i][1], v4[i][1]);
		assert_int_equal(d.tmpl_fields[1][i][0], v6[i][0]);
		assert_int_equal(d.tmpl_fields[1][i][1], v6[i][1]);
		sum4 += v4[i][1];
		sum6 += v6[i][1];
	}
	assert_int_equal(sum4, DPF_IPFIX_RECORD_V4_LEN);
	assert_int_equal(sum6, DPF_IPFIX_RECORD_V6_LEN);
	/* Options template: scope ingressInterface, then interfaceName (variable). */
	assert_int_equal(d.tmpl_n[2], 2);
	assert_int_equal(d.tmpl_scope[2], 1);
	assert_int_equal(d.tmpl_fields[2][0][0], 10);
	assert_int_equal(d.tmpl_fields[2][1][0], 82);
	assert_int_equal(d.tmpl_fields[2][1][1], 65535);
	dpf_ipfix_free(x);
}

static void
test_ipfix_v4_record_carries_both_nat_views_and_counters(void **state)
{
	struct dpf_ipfix *x = encoder(0);
	struct dpf_record r = v4_record(1, 6, DPF_ACTION_ACCEPT);
	const uint8_t *m, *p;
	struct decoded d;
	int len;

	(void)state;
	assert_int_equal(dpf_ipfix_add_record(x, &r), 0);
	len = dpf_ipfix_take(x, 1700000100, &m);
	decode(m, len, &d);
	assert_int_equal(d.n_v4, 1);
	p = d.v4[0];
	assert_int_equal(get32(p), 1700000000);
	assert_int_equal(get32(p + 4), 1700000059);
	assert_int_equal(get64(p + 8), 1700000000000ULL);
	assert_int_equal(get64(p + 16), 1700000059000ULL);
	p += 16; /* the rest as in the seconds-only layout */
	assert_memory_equal(p + 8, ((uint8_t[]){10, 0, 0, 1}), 4);
	assert_memory_equal(p + 12, ((uint8_t[]){192, 0, 2, 10}), 4);
	assert_int_equal(get16(p + 16), 40000);
	assert_int_equal(get16(p + 18), 80);
	assert_int_equal(p[20], 6);
	assert_int_equal(get16(p + 21), 0x1b);
	assert_int_equal(get64(p + 23), 5000000000ULL);
	assert_int_equal(get64(p + 31), 7000000000ULL);
	assert_int_equal(get32(p + 39), 4); /* key.iface 3: ifIndex numbering starts at 1 */
	assert_memory_equal(p + 43, ((uint8_t[]){203, 0, 113, 7}), 4);
	assert_memory_equal(p + 47, ((uint8_t[]){10, 9, 8, 7}), 4);
	assert_int_equal(get16(p + 51), 61000);
	assert_int_equal(get16(p + 53), 8080);
	assert_int_equal(p[55], DPF_IPFIX_FWD_FORWARDED);
	assert_int_equal(p[56], 1); /* natEvent: NAT translation create */
	assert_int_equal(get64(p + 57), 1700000000000ULL);
	dpf_ipfix_free(x);
}

static void
test_ipfix_v6_record_and_reject_marked_dropped_acl_deny(void **state)
{
	struct dpf_ipfix *x = encoder(0);
	struct dpf_record r6 = v6_record();
	struct dpf_record rej = v4_record(2, 17, DPF_ACTION_REJECT);
	const uint8_t *m, *p;
	struct decoded d;
	int len;

	(void)state;
	assert_int_equal(dpf_ipfix_add_record(x, &r6), 0);
	assert_int_equal(dpf_ipfix_add_record(x, &rej), 0);
	len = dpf_ipfix_take(x, 1, &m);
	decode(m, len, &d);
	assert_int_equal(d.n_sets, 2);
	assert_int_equal(d.set_ids[0], 257);
	assert_int_equal(d.set_ids[1], 256);
	p = d.v6[0] + 16;
	assert_memory_equal(p + 8, r6.key.src_addr, 16);
	assert_memory_equal(p + 24, r6.key.dst_addr, 16);
	assert_int_equal(get16(p + 40), 5353);
	assert_int_equal(get16(p + 42), 53);
	assert_int_equal(p[44], 17);
	assert_int_equal(get16(p + 45), 0); /* no TCP flags for UDP */
	assert_int_equal(get64(p + 47), 2);
	assert_int_equal(get64(p + 55), 180);
	assert_int_equal(get32(p + 63), 2);
	assert_memory_equal(p + 67, r6.post.src_addr, 16);
	assert_memory_equal(p + 83, r6.post.dst_addr, 16);
	assert_int_equal(get16(p + 99), 5354);
	assert_int_equal(get16(p + 101), 54);
	assert_int_equal(p[103], DPF_IPFIX_FWD_FORWARDED);
	assert_int_equal(p[104], 1);
	assert_int_equal(get64(p + 105), 1700000001000ULL);
	assert_int_equal(d.v4[0][71], DPF_IPFIX_FWD_DROP_ACL_DENY);
	assert_int_equal(dpf_ipfix_forwarding_status(DPF_ACTION_REJECT), 129);
	assert_int_equal(dpf_ipfix_forwarding_status(DPF_ACTION_ACCEPT), 64);
	dpf_ipfix_free(x);
}

static void
test_ipfix_nodata_and_skipdata_rows_are_not_flows(void **state)
{
	struct dpf_ipfix *x = encoder(0);
	struct dpf_record r = v4_record(1, 6, DPF_ACTION_ACCEPT);
	const uint8_t *m = NULL;

	(void)state;
	r.log_status = DPF_LOG_NODATA;
	assert_int_equal(dpf_ipfix_add_record(x, &r), -EINVAL);
	r.log_status = DPF_LOG_SKIPDATA;
	assert_int_equal(dpf_ipfix_add_record(x, &r), -EINVAL);
	r.log_status = DPF_LOG_OK;
	r.key.family = 0;
	assert_int_equal(dpf_ipfix_add_record(x, &r), -EINVAL);
	assert_int_equal(dpf_ipfix_pending(x), 0);
	assert_int_equal(dpf_ipfix_take(x, 1, &m), 0);
	assert_null(m);
	dpf_ipfix_free(x);
}

static void
test_ipfix_full_message_returns_enobufs_and_sequence_counts_records(void **state)
{
	struct dpf_ipfix *x = encoder(DPF_IPFIX_MSG_LEN_MIN);
	struct dpf_record r = v4_record(1, 6, DPF_ACTION_ACCEPT);
	struct dpf_ipfix_stats st;
	unsigned int added = 0, msgs = 0, total = 100, in_msg = 0;
	uint32_t want_seq = 0;
	const uint8_t *m;
	struct decoded d;
	int len;

	(void)state;
	while (added < total) {
		int rc = dpf_ipfix_add_record(x, &r);

		if (rc == -ENOBUFS) {
			assert_true(in_msg > 0);
			len = dpf_ipfix_take(x, 5, &m);
			assert_true(len <= DPF_IPFIX_MSG_LEN_MIN);
			/* No room was wasted: another record would not have fit. */
			assert_true(len + DPF_IPFIX_RECORD_V4_LEN > DPF_IPFIX_MSG_LEN_MIN);
			decode(m, len, &d);
			assert_int_equal(d.seq, want_seq);
			assert_int_equal(d.n_v4, in_msg);
			want_seq += in_msg;
			in_msg = 0;
			msgs++;
			continue;
		}
		assert_int_equal(rc, 0);
		added++;
		in_msg++;
	}
	len = dpf_ipfix_take(x, 5, &m);
	decode(m, len, &d);
	assert_int_equal(d.seq, want_seq);
	assert_int_equal(want_seq + d.n_v4, total);
	msgs++;
	/* Templates and a message of templates only do not move the sequence. */
	assert_int_equal(dpf_ipfix_add_templates(x), 0);
	len = dpf_ipfix_take(x, 6, &m);
	decode(m, len, &d);
	assert_int_equal(d.seq, total);
	dpf_ipfix_get_stats(x, &st);
	assert_int_equal(st.flow_records, total);
	assert_int_equal(st.messages, msgs + 1);
	assert_int_equal(st.template_sets, 1);
	dpf_ipfix_free(x);
}

static void
test_ipfix_iface_names_are_option_records_counted_in_sequence(void **state)
{
	struct dpf_ipfix *x = encoder(0);
	struct dpf_record r = v4_record(1, 6, DPF_ACTION_ACCEPT);
	char longname[400];
	const uint8_t *m;
	struct decoded d;
	int len;

	(void)state;
	memset(longname, 'e', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(dpf_ipfix_add_templates(x), 0);
	assert_int_equal(dpf_ipfix_add_iface_template(x), 0);
	assert_int_equal(dpf_ipfix_add_iface(x, 0, "eni-1235b8ca123456789"), 0);
	assert_int_equal(dpf_ipfix_add_iface(x, 1, longname), 0);
	assert_int_equal(dpf_ipfix_add_iface(x, 2, NULL), -EINVAL);
	assert_int_equal(dpf_ipfix_add_record(x, &r), 0);
	len = dpf_ipfix_take(x, 9, &m);
	decode(m, len, &d);
	assert_int_equal(d.n_iface, 2);
	assert_int_equal(d.iface_idx[0], 1); /* as ingressInterface: index + 1 */
	assert_string_equal(d.iface_name[0], "eni-1235b8ca123456789");
	assert_int_equal(d.iface_idx[1], 2);
	assert_int_equal(strlen(d.iface_name[1]), DPF_IPFIX_IFNAME_MAX);
	assert_int_equal(d.n_v4, 1);
	assert_int_equal(dpf_ipfix_add_record(x, &r), 0);
	len = dpf_ipfix_take(x, 9, &m);
	decode(m, len, &d);
	assert_int_equal(d.seq, 3);
	dpf_ipfix_free(x);
}

static void
set_tunnel(struct dpf_record *r, uint8_t type, uint8_t has_id, uint32_t id, uint8_t outer_family)
{
	unsigned int i;

	r->key.tun_type = type;
	r->key.tun_has_id = has_id;
	r->key.tun_id = id;
	r->tun.family = outer_family;
	for (i = 0; i < (outer_family == 6 ? 16u : 4u); i++) {
		r->tun.src_addr[i] = (uint8_t)(0xa0 + i);
		r->tun.dst_addr[i] = (uint8_t)(0xc0 + i);
	}
}

/*
 * --decap templates: 265 / 266 (outer addresses), then per inner family
 * the subTemplateList first, the plain template's fields, and the id element
 * IANA has for the tunnel: layer2SegmentId (259 / 260), greKey (261 / 262),
 * none (263 / 264).
 */
static void
test_ipfix_overlay_templates_list_then_flow_then_id(void **state)
{
	static const struct {
		uint16_t id, id_ie, id_len, plain;
	} want[] = {
		{259, 351, 8, 0}, {260, 351, 8, 1}, {261, 296, 4, 0},
		{262, 296, 4, 1}, {263, 0, 0, 0},   {264, 0, 0, 1},
	};
	struct dpf_ipfix_params p = {.tunnels = true, .max_msg_len = 755};
	struct dpf_ipfix *x;
	const uint8_t *m;
	struct decoded d;
	unsigned int i;
	int len;

	(void)state;
	/* The templates go in one set: a message smaller than that is refused. */
	assert_int_equal(dpf_ipfix_min_msg_len(false), DPF_IPFIX_MSG_LEN_MIN);
	assert_int_equal(dpf_ipfix_min_msg_len(true), 756);
	assert_null(dpf_ipfix_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.max_msg_len = 756;
	x = dpf_ipfix_create(&p);
	assert_non_null(x);
	assert_int_equal(dpf_ipfix_add_templates(x), 0);
	len = dpf_ipfix_take(x, 1, &m);
	assert_int_equal(len, 756);
	decode(m, len, &d);
	assert_int_equal(d.n_sets, 1);
	assert_int_equal(d.n_tmpl, 10);
	assert_int_equal(d.tmpl_id[2], 265);
	assert_int_equal(d.tmpl_id[3], 266);
	assert_memory_equal(d.tmpl_fields[2], ((uint16_t[][2]){{8, 4}, {12, 4}}), 8);
	assert_memory_equal(d.tmpl_fields[3], ((uint16_t[][2]){{27, 16}, {28, 16}}), 8);
	for (i = 0; i < RTE_DIM(want); i++) {
		unsigned int t = 4 + i, n = 20 + 1 + (want[i].id_ie != 0);

		assert_int_equal(d.tmpl_id[t], want[i].id);
		assert_int_equal(d.tmpl_n[t], n);
		assert_int_equal(d.tmpl_fields[t][0][0], 292);
		assert_int_equal(d.tmpl_fields[t][0][1], 65535);
		assert_memory_equal(d.tmpl_fields[t][1], d.tmpl_fields[want[i].plain], 20 * 4);
		if (want[i].id_ie != 0) {
			assert_int_equal(d.tmpl_fields[t][21][0], want[i].id_ie);
			assert_int_equal(d.tmpl_fields[t][21][1], want[i].id_len);
		}
	}
	dpf_ipfix_free(x);
}

/*
 * --decap records: VXLAN and NVGRE carry layer2SegmentId (top byte 0x01 /
 * 0x02, the VNI or VSID below), a GRE key greKey, GENEVE and IP-in-IP no id;
 * every one the outer addresses of its own family in a subTemplateList
 * (allOf, one record of 265 or 266); a record with no outer addresses an
 * empty list (undefined). Without --decap the same records use 256 / 257.
 */
static void
test_ipfix_overlay_records_carry_tunnel_id_and_outer_addresses(void **state)
{
	struct dpf_ipfix_params p = {.domain_id = 77, .max_msg_len = 4096, .tunnels = true};
	struct dpf_ipfix *x = dpf_ipfix_create(&p), *plain = encoder(0);
	struct dpf_record r[6] = {v4_record(1, 6, DPF_ACTION_ACCEPT),
				  v6_record(),
				  v4_record(2, 17, DPF_ACTION_ACCEPT),
				  v4_record(3, 6, 0),
				  v6_record(),
				  v4_record(4, 6, 0)};
	static const struct {
		uint16_t tmpl, id_ie, sub, outer_len;
		uint64_t id;
		uint8_t semantic;
	} want[6] = {
		{259, 351, 265, 4, 0x0100000000abcdefULL, 3},
		{260, 351, 265, 4, 0x0200000000123456ULL, 3},
		{261, 296, 266, 16, 0xdeadbeef, 3},
		{263, 0, 266, 16, 0, 3},
		{264, 0, 265, 4, 0, 3},
		{263, 0, 265, 0, 0, 0xff},
	};
	const uint8_t *m;
	struct decoded d;
	unsigned int i;
	int len;

	(void)state;
	assert_non_null(x);
	set_tunnel(&r[0], DPF_TUN_VXLAN, DPF_PKT_TUN_ID, 0xabcdef, 4);
	set_tunnel(&r[1], DPF_TUN_GRE, DPF_PKT_TUN_ID_VSID, 0x123456, 4);
	set_tunnel(&r[2], DPF_TUN_GRE, DPF_PKT_TUN_ID, 0xdeadbeef, 6);
	set_tunnel(&r[3], DPF_TUN_GENEVE, DPF_PKT_TUN_ID, 7, 6);
	set_tunnel(&r[4], DPF_TUN_IPIP, DPF_PKT_TUN_ID_NONE, 0, 4);
	set_tunnel(&r[5], DPF_TUN_GRE, DPF_PKT_TUN_ID_NONE, 0, 0);
	assert_int_equal(dpf_ipfix_add_templates(x), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(dpf_ipfix_add_record(x, &r[i]), 0);
	len = dpf_ipfix_take(x, 1, &m);
	decode(m, len, &d);
	assert_int_equal(d.n_tun, 6);
	assert_int_equal(d.n_v4 + d.n_v6, 0);
	for (i = 0; i < 6; i++) {
		const struct tun_rec *t = &d.tun[i];
		unsigned int alen = r[i].key.family == 4 ? 4 : 16;

		assert_int_equal(t->tmpl, want[i].tmpl);
		assert_int_equal(t->id_ie, want[i].id_ie);
		assert_int_equal(t->id, want[i].id);
		assert_int_equal(t->semantic, want[i].semantic);
		assert_int_equal(t->sub_tmpl, want[i].sub);
		/* The list: semantic, template id, one record or none. */
		assert_int_equal(t->list_len, 3 + 2 * want[i].outer_len);
		if (want[i].outer_len != 0) {
			assert_int_equal(t->outer_len, want[i].outer_len);
			assert_memory_equal(t->outer, r[i].tun.src_addr, want[i].outer_len);
			assert_memory_equal(t->outer + want[i].outer_len, r[i].tun.dst_addr,
					    want[i].outer_len);
		}
		/* The flow part is the plain record's: the inner flow. */
		assert_memory_equal(t->flow + 24, r[i].key.src_addr, alen);
		assert_memory_equal(t->flow + 24 + alen, r[i].key.dst_addr, alen);
		assert_int_equal(get64(t->flow + 24 + 2 * alen + 7), r[i].packets);
	}

	assert_int_equal(dpf_ipfix_add_templates(plain), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(dpf_ipfix_add_record(plain, &r[i]), 0);
	len = dpf_ipfix_take(plain, 1, &m);
	decode(m, len, &d);
	assert_int_equal(d.n_tmpl, 2);
	assert_int_equal(d.n_v4, 4);
	assert_int_equal(d.n_v6, 2);
	assert_int_equal(d.n_tun, 0);
	dpf_ipfix_free(x);
	dpf_ipfix_free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipfix_create_rejects_bad_params),
		cmocka_unit_test(test_ipfix_templates_list_iana_elements_in_record_order),
		cmocka_unit_test(test_ipfix_overlay_templates_list_then_flow_then_id),
		cmocka_unit_test(test_ipfix_overlay_records_carry_tunnel_id_and_outer_addresses),
		cmocka_unit_test(test_ipfix_v4_record_carries_both_nat_views_and_counters),
		cmocka_unit_test(test_ipfix_v6_record_and_reject_marked_dropped_acl_deny),
		cmocka_unit_test(test_ipfix_nodata_and_skipdata_rows_are_not_flows),
		cmocka_unit_test(
			test_ipfix_full_message_returns_enobufs_and_sequence_counts_records),
		cmocka_unit_test(test_ipfix_iface_names_are_option_records_counted_in_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
