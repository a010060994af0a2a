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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpf_rss.h"
#include "dpflow.h"
#include "log.h"

static unsigned int ruleset_seq;

static int
build_nat(struct dpf_app *app, struct dpf_ruleset *rs, FILE *errf)
{
	const struct dpf_str_list *l = &rs->nat_text;
	struct dpf_nat_rule *rules;
	struct dpf_nat_params p;
	char err[256], name[32];
	unsigned int i;
	int rc = 0;

	/* Forward mode keeps a (possibly empty) rule set for its sessions. */
	if (l->n == 0 && !app->forward)
		return 0;
	if (l->n > DPF_NAT_MAX_RULES) {
		fprintf(errf, "dpflow: %s: nat rule %u: more than %d NAT rules (the limit)\n",
			l->origin[DPF_NAT_MAX_RULES], DPF_NAT_MAX_RULES + 1, DPF_NAT_MAX_RULES);
		return -E2BIG;
	}
	rules = calloc(l->n + 1, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (dpf_nat_rule_parse(l->items[i], &rules[i], err, sizeof(err)) < 0) {
			fprintf(errf, "dpflow: %s: nat rule '%s': %s\n", l->origin[i], l->items[i],
				err);
			rc = -EINVAL;
			goto out;
		}
		if (rules[i].type == DPF_NAT_MASQUERADE && !app->forward) {
			fprintf(errf,
				"dpflow: %s: masquerade is stateful NAPT done by the dataplane: it "
				"needs forward mode (--forward A:B)\n",
				l->origin[i]);
			rc = -EINVAL;
			goto out;
		}
	}
	snprintf(name, sizeof(name), "nat%u", ruleset_seq);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.socket_id = (int)rte_socket_id();
	p.rules = rules;
	p.n_rules = l->n;
	rs->nat = dpf_nat_create(&p, err, sizeof(err));
	if (rs->nat == NULL) {
		unsigned int bad = 0;

		/* "rule N: ..." names the rule by position: give its origin too. */
		if (sscanf(err, "rule %u:", &bad) == 1 && bad >= 1 && bad <= l->n)
			fprintf(errf, "dpflow: %s: nat %s\n", l->origin[bad - 1], err);
		else
			fprintf(errf, "dpflow: nat rules: %s\n", err);
		rc = -EINVAL;
		goto out;
	}
	rs->nat_rule_pkts = calloc(l->n + 1, sizeof(uint64_t));
	if (rs->nat_rule_pkts == NULL)
		rc = -ENOMEM;
out:
	free(rules);
	return rc;
}

static int
build_acl(struct dpf_app *app, struct dpf_ruleset *rs, FILE *errf)
{
	const struct dpf_str_list *l = &rs->acl_text;
	struct dpf_acl_rule *rules;
	struct dpf_acl_params p;
	char err[256], name[32];
	unsigned int i;
	int rc = 0;

	(void)app;
	if (l->n == 0 && rs->acl_default == DPF_ACTION_ACCEPT)
		return 0;
	if (l->n > DPF_ACL_RUNTIME_MAX_RULES) {
		fprintf(errf, "dpflow: %s: acl rule %u: more than %d ACL rules (the limit)\n",
			l->origin[DPF_ACL_RUNTIME_MAX_RULES], DPF_ACL_RUNTIME_MAX_RULES + 1,
			DPF_ACL_RUNTIME_MAX_RULES);
		return -E2BIG;
	}
	rules = calloc(l->n + 1, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (dpf_acl_rule_parse(l->items[i], &rules[i], err, sizeof(err)) < 0) {
			fprintf(errf, "dpflow: %s: acl rule '%s': %s\n", l->origin[i], l->items[i],
				err);
			rc = -EINVAL;
			goto out;
		}
	}
	snprintf(name, sizeof(name), "acl%u", ruleset_seq);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.socket_id = (int)rte_socket_id();
	p.default_action = rs->acl_default;
	p.rules = rules;
	p.n_rules = l->n;
	rs->acl = dpf_acl_create(&p);
	if (rs->acl == NULL) {
		fprintf(errf, "dpflow: acl rules: %s\n", rte_strerror(rte_errno));
		rc = -rte_errno;
	}
out:
	free(rules);
	return rc;
}

struct dpf_ruleset *
dpf_ruleset_build(struct dpf_app *app, const struct dpf_str_list *nat_rules,
		  const struct dpf_str_list *acl_rules, uint8_t acl_default, FILE *errf)
{
	struct dpf_ruleset *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	ruleset_seq++;
	rs->acl_default = acl_default;
	if (dpf_str_list_copy(&rs->nat_text, nat_rules) < 0 ||
	    dpf_str_list_copy(&rs->acl_text, acl_rules) < 0 ||
	    build_nat(app, rs, errf) < 0 || build_acl(app, rs, errf) < 0) {
		dpf_ruleset_free(rs);
		return NULL;
	}
	return rs;
}

void
dpf_ruleset_free(struct dpf_ruleset *rs)
{
	if (rs == NULL)
		return;
	dpf_acl_free(rs->acl);
	dpf_nat_free(rs->nat);
	free(rs->nat_rule_pkts);
	dpf_str_list_free(&rs->nat_text);
	dpf_str_list_free(&rs->acl_text);
	free(rs);
}

int
dpf_rules_setup(struct dpf_app *app)
{
	FILE *log = dpf_log_stream(dpf_logtype_pipeline, RTE_LOG_ERR);

	app->rs = dpf_ruleset_build(app, &app->opt->nat_rules, &app->opt->acl_rules,
				    (uint8_t)app->opt->acl_default, log != NULL ? log : stderr);
	if (log != NULL)
		fclose(log);
	if (app->rs == NULL)
		return -EINVAL;
	if (app->rs->acl == NULL && app->opt->acl_stateful)
		DPF_LOG(WARNING, pipeline, "acl-stateful without ACL rules: nothing to do\n");
	pthread_mutex_init(&app->rs_lock, NULL);
	if (app->forward) {
		/* Masquerade may be added at run time: forward mode always keeps
		 * session tables and steering ready. */
		app->nat_icmp = dpf_nat_icmp_create("dpf_nat_icmp",
						    (uint32_t)app->opt->nat_sessions_per_core,
						    (int)rte_socket_id());
		app->rss = rte_malloc("dpf_rss", sizeof(*app->rss), RTE_CACHE_LINE_SIZE);
		if (app->nat_icmp == NULL || app->rss == NULL) {
			DPF_LOG(ERR, pipeline,
				"masquerade ICMP table of %" PRIu64 " sessions: out of "
				"memory; lower --nat-sessions-per-core or give EAL more memory "
				"(-m)\n",
				app->opt->nat_sessions_per_core);
			return -ENOMEM;
		}
		dpf_rss_init(app->rss, dpf_rss_symmetric_key);
		if (app->nat_shared) {
			app->nat_group = dpf_nat_group_create(app->n_cores, (int)rte_socket_id());
			if (app->nat_group == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}

void
dpf_rules_free(struct dpf_app *app)
{
	dpf_ruleset_free(app->rs_next);
	dpf_ruleset_free(app->rs);
	dpf_nat_icmp_free(app->nat_icmp);
	rte_free(app->rss);
	app->rs = app->rs_next = NULL;
	app->nat_icmp = NULL;
	app->rss = NULL;
	/* The members (RX cores' sessions) live as long as the process. */
	app->nat_group = NULL;
}

static void
count_masquerade(struct dpf_ruleset *rs, const struct dpf_record *r)
{
	uint32_t i;

	for (i = 0; i < dpf_nat_rule_count(rs->nat); i++) {
		const struct dpf_nat_rule *nr = dpf_nat_rule_get(rs->nat, i);

		if (nr->type == DPF_NAT_MASQUERADE && nr->family == r->key.family &&
		    (memcmp(nr->out_addr, r->post.src_addr, 16) == 0 ||
		     memcmp(nr->out_addr, r->key.dst_addr, 16) == 0)) {
			rs->nat_rule_pkts[i] += r->packets;
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
	/* The rules of the window being merged (set by the pipeline). */
	struct dpf_ruleset *rs = app->rs_emit;
	uint32_t sr = 0, dr = 0;

	r->direction = dpf_ifmap_direction(app->ifmap, &r->key);
	if (rs == NULL || rs->nat == NULL || r->key.action != DPF_ACTION_ACCEPT)
		return;
	if (view != NULL) {
		r->post = *view;
		count_masquerade(rs, r);
		return;
	}
	dpf_nat_view(rs->nat, &r->key, &r->post, &sr, &dr);
	if (sr != 0)
		rs->nat_rule_pkts[sr - 1] += r->packets;
	if (dr != 0 && dr != sr)
		rs->nat_rule_pkts[dr - 1] += r->packets;
}

void
dpf_rules_print_stats(FILE *f, struct dpf_app *app)
{
	char text[DPF_ACL_RULE_TEXT_MAX + 64];
	struct dpf_ruleset *rs;
	uint32_t i;
	uint16_t c;

	pthread_mutex_lock(&app->rs_lock);
	rs = app->rs;
	for (i = 0; rs != NULL && i < dpf_nat_rule_count(rs->nat); i++) {
		dpf_nat_rule_format(dpf_nat_rule_get(rs->nat, i), text, sizeof(text));
		fprintf(f, "nat rule %u: %s\n", i + 1, text);
		fprintf(f, "nat rule %u packets: %" PRIu64 "\n", i + 1, rs->nat_rule_pkts[i]);
	}
	if (app->forward && rs != NULL && dpf_nat_has_masquerade(rs->nat)) {
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
			t.remote_hits += st.remote_hits;
			t.retired += st.retired;
		}
		fprintf(f, "nat sessions-created: %" PRIu64 "\n", t.created);
		fprintf(f, "nat sessions-active: %" PRIu64 "\n", t.active);
		fprintf(f, "nat sessions-expired: %" PRIu64 "\n", t.expired);
		fprintf(f, "nat port-exhausted: %" PRIu64 "\n", t.port_exhausted);
		fprintf(f, "nat sessions-table-full: %" PRIu64 "\n", t.table_full);
		fprintf(f, "nat no-session: %" PRIu64 "\n", t.no_session);
		fprintf(f, "nat port-tries-per-session: %.2f\n",
			t.created ? (double)t.port_tries / (double)t.created : 0.0);
		fprintf(f, "nat sessions: %s\n", app->nat_shared ? "shared" : "per-core");
		if (app->nat_shared) {
			fprintf(f, "nat remote-session-hits: %" PRIu64 "\n", t.remote_hits);
			fprintf(f, "nat sessions-retired: %" PRIu64 "\n", t.retired);
		}
	}
	if (rs != NULL && rs->acl != NULL) {
		uint32_t n = dpf_acl_rule_count(rs->acl);

		for (i = 0; i <= n; i++) {
			uint64_t hits = 0;

			for (c = 0; c < app->n_cores; c++)
				hits += __atomic_load_n(&app->cores[c].acl_rule_hits[i],
							__ATOMIC_RELAXED);
			if (i == 0) {
				fprintf(f, "acl default: %s\n",
					dpf_acl_default_action(rs->acl) == DPF_ACTION_ACCEPT
						? "allow"
						: "deny");
				fprintf(f, "acl default packets: %" PRIu64 "\n", hits);
				continue;
			}
			dpf_acl_rule_format(dpf_acl_rule_get(rs->acl, i - 1), text, sizeof(text));
			fprintf(f, "acl rule %u: %s\n", i, text);
			fprintf(f, "acl rule %u packets: %" PRIu64 "\n", i, hits);
		}
	}
	for (i = 0; i < app->ifmap->n_ifaces; i++) {
		uint64_t pk = 0;

		for (c = 0; c < app->n_cores; c++)
			pk += __atomic_load_n(&app->cores[c].iface_pkts[i], __ATOMIC_RELAXED);
		fprintf(f, "interface %s port %u logged-packets: %" PRIu64 "\n",
			app->ifmap->ifaces[i].meta.interface_id, app->ifmap->ifaces[i].port, pk);
	}
	pthread_mutex_unlock(&app->rs_lock);
}
