/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT and ACL rule sets: built once at start from the rule lists (config
 * file [nat]/[acl] sections, --nat-rule/--acl-rule), shared read-only by
 * every RX core. Also completes records in the pipeline: post-NAT view,
 * flow-direction, per-rule counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_rss.h"
#include "dpflow.h"

static int
build_nat(struct dpf_app *app)
{
	const struct dpf_str_list *l = &app->cfg.opt.nat_rules;
	struct dpf_nat_rule *rules;
	struct dpf_nat_params p;
	char err[256];
	unsigned int i;
	int rc = 0;

	if (l->n == 0)
		return 0;
	rules = calloc(l->n, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (dpf_nat_rule_parse(l->items[i], &rules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "dpflow: %s: nat rule '%s': %s\n", l->origin[i], l->items[i],
				err);
			rc = -EINVAL;
			goto out;
		}
		if (rules[i].type == DPF_NAT_MASQUERADE && !app->forward) {
			fprintf(stderr,
				"dpflow: %s: masquerade is stateful NAPT done by the dataplane: it "
				"needs forward mode (--forward A:B)\n",
				l->origin[i]);
			rc = -EINVAL;
			goto out;
		}
	}
	memset(&p, 0, sizeof(p));
	p.name = "dpf_nat";
	p.socket_id = (int)rte_socket_id();
	p.rules = rules;
	p.n_rules = l->n;
	app->nat = dpf_nat_create(&p, err, sizeof(err));
	if (app->nat == NULL) {
		unsigned int bad = 0;

		/* "rule N: ..." names the rule by position: give its origin too. */
		if (sscanf(err, "rule %u:", &bad) == 1 && bad >= 1 && bad <= l->n)
			fprintf(stderr, "dpflow: %s: nat %s\n", l->origin[bad - 1], err);
		else
			fprintf(stderr, "dpflow: nat rules: %s\n", err);
		rc = -EINVAL;
		goto out;
	}
	app->nat_rule_pkts = rte_zmalloc("dpf_nat_pkts", l->n * sizeof(uint64_t), 0);
	if (app->nat_rule_pkts == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (app->forward && dpf_nat_has_masquerade(app->nat)) {
		app->nat_icmp = dpf_nat_icmp_create("dpf_nat_icmp",
						    (uint32_t)app->cfg.opt.nat_sessions_per_core,
						    (int)rte_socket_id());
		if (app->nat_icmp == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	free(rules);
	return rc;
}

static int
build_acl(struct dpf_app *app)
{
	const struct dpf_str_list *l = &app->cfg.opt.acl_rules;
	struct dpf_acl_rule *rules;
	struct dpf_acl_params p;
	char err[256];
	unsigned int i;
	int rc = 0;

	if (l->n == 0 && app->cfg.opt.acl_default == DPF_ACTION_ACCEPT) {
		if (app->cfg.opt.acl_stateful)
			fprintf(stderr, "dpflow: acl-stateful without ACL rules: nothing to do\n");
		return 0;
	}
	rules = calloc(l->n + 1, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (dpf_acl_rule_parse(l->items[i], &rules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "dpflow: %s: acl rule '%s': %s\n", l->origin[i], l->items[i],
				err);
			rc = -EINVAL;
			goto out;
		}
	}
	memset(&p, 0, sizeof(p));
	p.name = "dpf_acl";
	p.socket_id = (int)rte_socket_id();
	p.default_action = (uint8_t)app->cfg.opt.acl_default;
	p.rules = rules;
	p.n_rules = l->n;
	app->acl = dpf_acl_create(&p);
	if (app->acl == NULL) {
		fprintf(stderr, "dpflow: acl rules: %s\n", rte_strerror(rte_errno));
		rc = -rte_errno;
	}
out:
	free(rules);
	return rc;
}

int
dpf_rules_setup(struct dpf_app *app)
{
	int rc = build_nat(app);

	if (rc == 0)
		rc = build_acl(app);
	if (rc == 0 && dpf_nat_has_masquerade(app->nat)) {
		app->rss = rte_malloc("dpf_rss", sizeof(*app->rss), RTE_CACHE_LINE_SIZE);
		if (app->rss == NULL)
			return -ENOMEM;
		dpf_rss_init(app->rss, dpf_rss_symmetric_key);
	}
	return rc;
}

void
dpf_rules_free(struct dpf_app *app)
{
	dpf_acl_free(app->acl);
	dpf_nat_free(app->nat);
	dpf_nat_icmp_free(app->nat_icmp);
	rte_free(app->nat_rule_pkts);
	rte_free(app->rss);
	app->acl = NULL;
	app->nat = NULL;
	app->nat_icmp = NULL;
}

static void
count_masquerade(struct dpf_app *app, const struct dpf_record *r)
{
	uint32_t i;

	for (i = 0; i < dpf_nat_rule_count(app->nat); i++) {
		const struct dpf_nat_rule *nr = dpf_nat_rule_get(app->nat, i);

		if (nr->type == DPF_NAT_MASQUERADE && nr->family == r->key.family &&
		    (memcmp(nr->out_addr, r->post.src_addr, 16) == 0 ||
		     memcmp(nr->out_addr, r->key.dst_addr, 16) == 0)) {
			app->nat_rule_pkts[i] += r->packets;
			return;
		}
	}
}

/*
 * Merge finisher (pipeline thread): the post-NAT view and flow-direction of
 * an OK record. Rejected flows were not translated: their post view is the
 * packet's own.
 */
void
dpf_rules_finish_record(void *arg, struct dpf_record *r, const struct dpf_flow_nat *view)
{
	struct dpf_app *app = arg;
	uint32_t sr = 0, dr = 0;

	r->direction = dpf_iface_direction(app, &r->key);
	if (app->nat == NULL || r->key.action != DPF_ACTION_ACCEPT)
		return;
	if (view != NULL) {
		r->post = *view;
		count_masquerade(app, r);
		return;
	}
	dpf_nat_view(app->nat, &r->key, &r->post, &sr, &dr);
	if (sr != 0)
		app->nat_rule_pkts[sr - 1] += r->packets;
	if (dr != 0 && dr != sr)
		app->nat_rule_pkts[dr - 1] += r->packets;
}

void
dpf_rules_print_stats(FILE *f, const struct dpf_app *app)
{
	char text[DPF_ACL_RULE_TEXT_MAX + 64];
	uint32_t i;
	uint16_t c;

	for (i = 0; i < dpf_nat_rule_count(app->nat); i++) {
		dpf_nat_rule_format(dpf_nat_rule_get(app->nat, i), text, sizeof(text));
		fprintf(f, "nat rule %u: %s\n", i + 1, text);
		fprintf(f, "nat rule %u packets: %" PRIu64 "\n", i + 1, app->nat_rule_pkts[i]);
	}
	if (app->forward && dpf_nat_has_masquerade(app->nat)) {
		struct dpf_nat_sessions_stats t = {0};

		for (c = 0; c < app->n_cores; c++) {
			struct dpf_nat_sessions_stats st;

			if (app->cores[c].nat == NULL)
				continue;
			dpf_nat_sessions_get_stats(app->cores[c].nat, &st);
			fprintf(f, "core %u nat sessions-created: %" PRIu64 "\n",
				app->cores[c].lcore_id, st.created);
			t.created += st.created;
			t.active += st.active;
			t.expired += st.expired;
			t.port_exhausted += st.port_exhausted;
			t.table_full += st.table_full;
			t.no_session += st.no_session;
			t.port_tries += st.port_tries;
		}
		fprintf(f, "nat sessions-created: %" PRIu64 "\n", t.created);
		fprintf(f, "nat sessions-active: %" PRIu64 "\n", t.active);
		fprintf(f, "nat sessions-expired: %" PRIu64 "\n", t.expired);
		fprintf(f, "nat port-exhausted: %" PRIu64 "\n", t.port_exhausted);
		fprintf(f, "nat sessions-table-full: %" PRIu64 "\n", t.table_full);
		fprintf(f, "nat no-session: %" PRIu64 "\n", t.no_session);
		fprintf(f, "nat port-tries-per-session: %.2f\n",
			t.created ? (double)t.port_tries / (double)t.created : 0.0);
	}
	if (app->acl != NULL) {
		uint32_t n = dpf_acl_rule_count(app->acl);

		for (i = 0; i <= n; i++) {
			uint64_t hits = 0;

			for (c = 0; c < app->n_cores; c++)
				hits += __atomic_load_n(&app->cores[c].acl_rule_hits[i],
							__ATOMIC_RELAXED);
			if (i == 0) {
				fprintf(f, "acl default: %s\n",
					dpf_acl_default_action(app->acl) == DPF_ACTION_ACCEPT
						? "allow"
						: "deny");
				fprintf(f, "acl default packets: %" PRIu64 "\n", hits);
				continue;
			}
			dpf_acl_rule_format(dpf_acl_rule_get(app->acl, i - 1), text, sizeof(text));
			fprintf(f, "acl rule %u: %s\n", i, text);
			fprintf(f, "acl rule %u packets: %" PRIu64 "\n", i, hits);
		}
	}
	for (i = 0; i < app->n_ifaces; i++) {
		uint64_t pk = 0;

		for (c = 0; c < app->n_cores; c++)
			pk += __atomic_load_n(&app->cores[c].iface_pkts[i], __ATOMIC_RELAXED);
		fprintf(f, "interface %s port %u logged-packets: %" PRIu64 "\n",
			app->ifaces[i].meta.interface_id, app->ifaces[i].port, pk);
	}
}
