/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT and ACL rule sets, their versions and the changes the prompt queues
 * (rules.h). Also completes records in the pipeline: post-NAT view,
 * flow-direction, per-rule counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "common.h"
#include "log.h"
#include "rules.h"

/* Versions alive at once: the one in effect, a pending one, and what waits for a grace period. */
#define MAX_VERSIONS 256
/* The head word: the newest version's slot, and the newest window any RX core has opened. */
#define HEAD_SLOT_SHIFT 56
#define HEAD_OPENED_MASK ((UINT64_C(1) << HEAD_SLOT_SHIFT) - 1)

/* Unlinked versions, freed once every RX core has reported after the token. */
struct retired {
	struct retired *next;
	struct dpf_ruleset *rs;
	bool chain; /* rs and every older version, else rs alone */
	uint64_t token;
};

struct dpf_rules {
	uint64_t head __rte_cache_aligned; /* CAS: RX cores (opened) and the control thread */
	struct dpf_ruleset *slot[MAX_VERSIONS] __rte_cache_aligned; /* release stores */
	struct rte_rcu_qsbr *qsbr;
	uint16_t n_readers;
	pthread_mutex_t lock; /* the control thread vs the pipeline's reclaim */
	struct retired *retired;
	bool forward;
	int socket_id;
	unsigned int seq; /* names of rte_acl contexts and NAT tables */
};

static inline uint8_t
head_slot(uint64_t h)
{
	return (uint8_t)(h >> HEAD_SLOT_SHIFT);
}

static inline uint64_t
head_opened_ns(uint64_t h)
{
	return (h & HEAD_OPENED_MASK) * NS_PER_SEC;
}

/* ---------------------------------------------------------------- building */

typedef int (*rule_parse_t)(const char *text, void *rule, char *err, size_t err_len);

static int
nat_parse(const char *text, void *rule, char *err, size_t err_len)
{
	return dpf_nat_rule_parse(text, rule, err, err_len);
}

static int
acl_parse(const char *text, void *rule, char *err, size_t err_len)
{
	return dpf_acl_rule_parse(text, rule, err, err_len);
}

/* Every rule of a list parsed into an array of `size`-byte rules (freed by the caller). */
static void *
parse_rules(const struct dpf_str_list *l, const char *kind, unsigned int max, size_t size,
	    rule_parse_t parse, int *rc, char *err, size_t err_len)
{
	char why[256];
	unsigned int i;
	char *rules;

	*rc = 0;
	if (l->n > max) {
		snprintf(err, err_len, "%s: %s rule %u: more than %u %s rules (the limit)",
			 l->origin[max], kind, max + 1, max, kind[0] == 'n' ? "NAT" : "ACL");
		*rc = -E2BIG;
		return NULL;
	}
	rules = calloc(l->n + 1, size);
	if (rules == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < l->n; i++) {
		if (parse(l->items[i], rules + i * size, why, sizeof(why)) < 0) {
			snprintf(err, err_len, "%s: %s rule '%s': %s", l->origin[i], kind,
				 l->items[i], why);
			*rc = -EINVAL;
			free(rules);
			return NULL;
		}
	}
	return rules;
}

static int
build_nat(struct dpf_rules *r, struct dpf_ruleset *rs, char *err, size_t err_len)
{
	const struct dpf_str_list *l = &rs->nat_text;
	struct dpf_nat_rule *rules;
	struct dpf_nat_params p;
	char why[256], name[32];
	unsigned int i, bad = 0;
	int rc;

	/* Forward mode keeps a (possibly empty) rule set for its sessions. */
	if (l->n == 0 && !r->forward)
		return 0;
	rules = parse_rules(l, "nat", DPF_NAT_MAX_RULES, sizeof(*rules), nat_parse, &rc, err,
			    err_len);
	if (rules == NULL)
		return rc;
	for (i = 0; i < l->n; i++) {
		if (rules[i].type == DPF_NAT_MASQUERADE && !r->forward) {
			snprintf(err, err_len,
				 "%s: masquerade is stateful NAPT done by the dataplane: it "
				 "needs forward mode (--forward A:B)",
				 l->origin[i]);
			free(rules);
			return -EINVAL;
		}
	}
	snprintf(name, sizeof(name), "nat%u", r->seq);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.socket_id = r->socket_id;
	p.rules = rules;
	p.n_rules = l->n;
	rs->nat = dpf_nat_create(&p, why, sizeof(why));
	free(rules);
	if (rs->nat == NULL) {
		/* "rule N: ..." names the rule by position: give its origin too. */
		if (sscanf(why, "rule %u:", &bad) == 1 && bad >= 1 && bad <= l->n)
			snprintf(err, err_len, "%s: nat %s", l->origin[bad - 1], why);
		else
			snprintf(err, err_len, "nat rules: %s", why);
		return -EINVAL;
	}
	rs->nat_rule_pkts = calloc(l->n + 1, sizeof(uint64_t));
	return rs->nat_rule_pkts == NULL ? -ENOMEM : 0;
}

static int
build_acl(struct dpf_rules *r, struct dpf_ruleset *rs, char *err, size_t err_len)
{
	const struct dpf_str_list *l = &rs->acl_text;
	struct dpf_acl_rule *rules;
	struct dpf_acl_params p;
	char name[32];
	int rc;

	if (l->n == 0 && rs->acl_default == DPF_ACTION_ACCEPT)
		return 0;
	rules = parse_rules(l, "acl", DPF_ACL_RUNTIME_MAX_RULES, sizeof(*rules), acl_parse, &rc,
			    err, err_len);
	if (rules == NULL)
		return rc;
	snprintf(name, sizeof(name), "acl%u", r->seq);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.socket_id = r->socket_id;
	p.default_action = rs->acl_default;
	p.rules = rules;
	p.n_rules = l->n;
	rs->acl = dpf_acl_create(&p);
	free(rules);
	if (rs->acl == NULL) {
		snprintf(err, err_len, "acl rules: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static void
ruleset_free(struct dpf_ruleset *rs)
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

/* A rule set from its texts, in a free slot (not published). */
static struct dpf_ruleset *
ruleset_build(struct dpf_rules *r, const struct dpf_str_list *nat_rules,
	      const struct dpf_str_list *acl_rules, uint8_t acl_default, int *rc, char *err,
	      size_t err_len)
{
	struct dpf_ruleset *rs;
	unsigned int s;

	for (s = 0; s < MAX_VERSIONS && r->slot[s] != NULL; s++)
		;
	if (s == MAX_VERSIONS) {
		snprintf(err, err_len, "%d rule versions wait to be freed; try again",
			 MAX_VERSIONS);
		*rc = -EBUSY;
		return NULL;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	r->seq++;
	rs->slot = (uint8_t)s;
	rs->acl_default = acl_default;
	*rc = dpf_str_list_copy(&rs->nat_text, nat_rules);
	if (*rc == 0)
		*rc = dpf_str_list_copy(&rs->acl_text, acl_rules);
	if (*rc == 0)
		*rc = build_nat(r, rs, err, err_len);
	if (*rc == 0)
		*rc = build_acl(r, rs, err, err_len);
	if (*rc != 0) {
		if (*rc == -ENOMEM)
			snprintf(err, err_len, "out of memory");
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

struct dpf_rules *
dpf_rules_create(const struct dpf_rules_params *p)
{
	struct dpf_rules *r =
		rte_zmalloc_socket("dpf_rules", sizeof(*r), RTE_CACHE_LINE_SIZE, p->socket_id);
	struct dpf_ruleset *rs;
	char err[512];
	uint16_t i;
	int rc = -ENOMEM;

	if (r == NULL)
		goto fail;
	pthread_mutex_init(&r->lock, NULL);
	r->forward = p->forward;
	r->socket_id = p->socket_id;
	r->n_readers = p->n_readers;
	r->qsbr = rte_zmalloc_socket("dpf_rules_qsbr", rte_rcu_qsbr_get_memsize(p->n_readers),
				     RTE_CACHE_LINE_SIZE, p->socket_id);
	if (r->qsbr == NULL || rte_rcu_qsbr_init(r->qsbr, p->n_readers) != 0)
		goto fail;
	/* Every RX core reads the versions until its loop ends. */
	for (i = 0; i < p->n_readers; i++) {
		rte_rcu_qsbr_thread_register(r->qsbr, i);
		rte_rcu_qsbr_thread_online(r->qsbr, i);
	}
	rs = ruleset_build(r, p->nat_rules, p->acl_rules, p->acl_default, &rc, err, sizeof(err));
	if (rs == NULL) {
		if (rc != -ENOMEM)
			DPF_LOG(ERR, pipeline, "%s\n", err);
		goto fail;
	}
	if (rs->acl == NULL && p->acl_stateful)
		DPF_LOG(WARNING, pipeline, "acl-stateful without ACL rules: nothing to do\n");
	r->slot[rs->slot] = rs;
	r->head = (uint64_t)rs->slot << HEAD_SLOT_SHIFT;
	return r;
fail:
	dpf_rules_free(r);
	rte_errno = -rc;
	return NULL;
}

void
dpf_rules_free(struct dpf_rules *r)
{
	struct retired *t;
	unsigned int s;

	if (r == NULL)
		return;
	while ((t = r->retired) != NULL) {
		r->retired = t->next;
		free(t);
	}
	/* Every version still has its slot, in the chain or retired. */
	for (s = 0; s < MAX_VERSIONS; s++)
		ruleset_free(r->slot[s]);
	rte_free(r->qsbr);
	pthread_mutex_destroy(&r->lock);
	rte_free(r);
}

const struct dpf_ruleset *
dpf_rules_first(const struct dpf_rules *r)
{
	return r->slot[head_slot(r->head)];
}

/* ---------------------------------------------------------------- readers */

/* The newest version of the chain from rs that applies to window w. */
static struct dpf_ruleset *
select_version(struct dpf_ruleset *rs, uint64_t w)
{
	while (rs->from_ns > w)
		rs = __atomic_load_n(&rs->older, __ATOMIC_ACQUIRE);
	return rs;
}

const struct dpf_ruleset *
dpf_rules_enter_window(struct dpf_rules *r, uint64_t w)
{
	uint64_t w_sec = w / NS_PER_SEC;
	uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	/* Raise the newest opened window: no version is published for it after this. */
	while ((h & HEAD_OPENED_MASK) < w_sec &&
	       !__atomic_compare_exchange_n(&r->head, &h, (h & ~HEAD_OPENED_MASK) | w_sec, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
	return select_version(__atomic_load_n(&r->slot[head_slot(h)], __ATOMIC_ACQUIRE), w);
}

void
dpf_rules_quiescent(struct dpf_rules *r, uint16_t reader)
{
	rte_rcu_qsbr_quiescent(r->qsbr, reader);
}

void
dpf_rules_offline(struct dpf_rules *r, uint16_t reader)
{
	rte_rcu_qsbr_thread_offline(r->qsbr, reader);
}

struct dpf_ruleset *
dpf_rules_for_window(struct dpf_rules *r, uint64_t w)
{
	uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	return select_version(__atomic_load_n(&r->slot[head_slot(h)], __ATOMIC_ACQUIRE), w);
}

/* Caller holds the lock. */
static int
retire(struct dpf_rules *r, struct dpf_ruleset *rs, bool chain)
{
	struct retired *t = malloc(sizeof(*t));

	if (t == NULL)
		return -ENOMEM; /* freed with the rules instead */
	t->rs = rs;
	t->chain = chain;
	t->token = rte_rcu_qsbr_start(r->qsbr);
	t->next = r->retired;
	r->retired = t;
	return 0;
}

static void
release(struct dpf_rules *r, struct dpf_ruleset *rs)
{
	r->slot[rs->slot] = NULL;
	ruleset_free(rs);
}

void
dpf_rules_reclaim(struct dpf_rules *r, uint64_t oldest)
{
	struct retired **pt, *t;
	struct dpf_ruleset *keep, *older;

	pthread_mutex_lock(&r->lock);
	/* Every window from `oldest` on selects `keep` or a newer version. */
	keep = dpf_rules_for_window(r, oldest);
	older = keep->older;
	if (older != NULL && retire(r, older, true) == 0)
		__atomic_store_n(&keep->older, NULL, __ATOMIC_RELEASE);
	for (pt = &r->retired; (t = *pt) != NULL;) {
		if (rte_rcu_qsbr_check(r->qsbr, t->token, false) != 1) {
			pt = &t->next;
			continue;
		}
		*pt = t->next;
		while (t->rs != NULL) {
			struct dpf_ruleset *next = t->chain ? t->rs->older : NULL;

			release(r, t->rs);
			t->rs = next;
		}
		free(t);
	}
	pthread_mutex_unlock(&r->lock);
}

/* ---------------------------------------------------------------- records */

static void
count_masquerade(struct dpf_ruleset *rs, const struct dpf_record *rec)
{
	uint32_t i;

	for (i = 0; i < dpf_nat_rule_count(rs->nat); i++) {
		const struct dpf_nat_rule *nr = dpf_nat_rule_get(rs->nat, i);

		if (nr->type == DPF_NAT_MASQUERADE && nr->family == rec->key.family &&
		    (memcmp(nr->out_addr, rec->post.src_addr, 16) == 0 ||
		     memcmp(nr->out_addr, rec->key.dst_addr, 16) == 0)) {
			rs->nat_rule_pkts[i] += rec->packets;
			return;
		}
	}
}

/*
 * Rejected flows were not translated: their post view is the packet's own
 * (the merge filled it in).
 */
void
dpf_rules_finish_record(void *finish, struct dpf_record *rec, const struct dpf_flow_nat *view)
{
	const struct dpf_rules_finish *f = finish;
	struct dpf_ruleset *rs = f->rs;
	uint32_t sr = 0, dr = 0;

	rec->direction = dpf_ifmap_direction(f->ifmap, &rec->key);
	if (rs == NULL || rs->nat == NULL || rec->key.action != DPF_ACTION_ACCEPT)
		return;
	if (view != NULL) {
		rec->post = *view;
		count_masquerade(rs, rec);
		return;
	}
	dpf_nat_view(rs->nat, &rec->key, &rec->post, &sr, &dr);
	if (sr != 0)
		rs->nat_rule_pkts[sr - 1] += rec->packets;
	if (dr != 0 && dr != sr)
		rs->nat_rule_pkts[dr - 1] += rec->packets;
}

/* ---------------------------------------------------------------- changes */

/* list with rule `idx` (1-based) left out, or with `add` at its end: pointers into list. */
static int
changed_list(const struct dpf_str_list *list, const char *add, const char *origin, unsigned int del,
	     struct dpf_str_list *out)
{
	unsigned int i, n = 0;

	out->items = malloc((list->n + 1) * sizeof(char *));
	out->origin = malloc((list->n + 1) * sizeof(char *));
	if (out->items == NULL || out->origin == NULL) {
		free(out->items);
		free(out->origin);
		return -ENOMEM;
	}
	for (i = 0; i < list->n; i++) {
		if (add == NULL && i + 1 == del)
			continue;
		out->items[n] = list->items[i];
		out->origin[n++] = list->origin[i];
	}
	if (add != NULL) {
		out->items[n] = (char *)(uintptr_t)add;
		out->origin[n++] = (char *)(uintptr_t)origin;
	}
	out->n = n;
	return 0;
}

/* The rule set `cur` would be after the change (built, in a slot, not published). */
static struct dpf_ruleset *
build_change(struct dpf_rules *r, const struct dpf_ruleset *cur, const struct dpf_rules_change *c,
	     int *rc, char *err, size_t err_len)
{
	bool nat = c->kind == DPF_RULES_NAT;
	const struct dpf_str_list *list = nat ? &cur->nat_text : &cur->acl_text;
	struct dpf_str_list changed;
	struct dpf_ruleset *nv;
	char origin[32];

	if (c->add == NULL && (c->del < 1 || c->del > list->n)) {
		snprintf(err, err_len, "%s del '%u': expected a rule number 1..%u",
			 nat ? "nat" : "acl", c->del, list->n);
		*rc = -EINVAL;
		return NULL;
	}
	snprintf(origin, sizeof(origin), "cli %s add", nat ? "nat" : "acl");
	*rc = changed_list(list, c->add, origin, c->del, &changed);
	if (*rc != 0)
		return NULL;
	nv = ruleset_build(r, nat ? &changed : &cur->nat_text, nat ? &cur->acl_text : &changed,
			   cur->acl_default, rc, err, err_len);
	free(changed.items);
	free(changed.origin);
	return nv;
}

/*
 * Publish nv: into the pending version when no core has reached its
 * boundary (it replaces it), else as a new version from the boundary after
 * every window opened and after now.
 */
static void
publish(struct dpf_rules *r, struct dpf_ruleset *nv, const struct dpf_rules_change *c)
{
	uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	struct dpf_ruleset *cur = r->slot[head_slot(h)];
	bool pending;

	__atomic_store_n(&r->slot[nv->slot], nv, __ATOMIC_RELEASE);
	do {
		uint64_t t = RTE_MAX(c->now_ns, head_opened_ns(h)), s, e;

		pending = cur->from_ns > head_opened_ns(h);
		dpf_window_plan_bounds(c->plan, t, &s, &e);
		nv->from_ns = pending ? cur->from_ns : e;
		nv->older = pending ? cur->older : cur;
		nv->changes = pending ? cur->changes + 1 : 1;
	} while (!__atomic_compare_exchange_n(
		&r->head, &h, ((uint64_t)nv->slot << HEAD_SLOT_SHIFT) | (h & HEAD_OPENED_MASK),
		false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	/* A replaced pending version: no core took it, but one may be reading it.
	 * Without memory for the list it keeps its slot until the rules are freed. */
	if (pending)
		retire(r, cur, false);
}

int
dpf_rules_change(struct dpf_rules *r, const struct dpf_rules_change *c, uint64_t *at,
		 unsigned int *n_rules, char *err, size_t err_len)
{
	struct dpf_ruleset *cur, *nv;
	int rc;

	pthread_mutex_lock(&r->lock);
	cur = r->slot[head_slot(__atomic_load_n(&r->head, __ATOMIC_ACQUIRE))];
	nv = build_change(r, cur, c, &rc, err, err_len);
	if (nv != NULL) {
		publish(r, nv, c);
		*at = nv->from_ns;
		*n_rules = c->kind == DPF_RULES_NAT ? nv->nat_text.n : nv->acl_text.n;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* ---------------------------------------------------------------- showing */

void
dpf_rules_show(struct dpf_rules *r, enum dpf_rules_kind kind, FILE *f)
{
	bool nat = kind == DPF_RULES_NAT;
	const char *name = nat ? "nat" : "acl";
	const struct dpf_str_list *list;
	const struct dpf_ruleset *cur;
	uint64_t h;
	unsigned int i;

	pthread_mutex_lock(&r->lock);
	h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	cur = r->slot[head_slot(h)];
	list = nat ? &cur->nat_text : &cur->acl_text;
	fprintf(f, "%s rules: %u\n", name, list->n);
	for (i = 0; i < list->n; i++)
		fprintf(f, "%s rule %u: %s\n", name, i + 1, list->items[i]);
	if (!nat)
		fprintf(f, "acl default: %s\n", cur->acl_default ? "deny" : "allow");
	if (cur->from_ns > head_opened_ns(h)) {
		fprintf(f, "pending-from: %" PRIu64 "\n", cur->from_ns / NS_PER_SEC);
		fprintf(f, "pending-changes: %u\n", cur->changes);
	}
	pthread_mutex_unlock(&r->lock);
}

void
dpf_rules_show_config(struct dpf_rules *r, FILE *f)
{
	const struct dpf_ruleset *cur;
	unsigned int k;

	pthread_mutex_lock(&r->lock);
	cur = r->slot[head_slot(__atomic_load_n(&r->head, __ATOMIC_ACQUIRE))];
	for (k = 0; k < cur->nat_text.n; k++)
		fprintf(f, "nat-rule %u: %s\n", k + 1, cur->nat_text.items[k]);
	for (k = 0; k < cur->acl_text.n; k++)
		fprintf(f, "acl-rule %u: %s\n", k + 1, cur->acl_text.items[k]);
	pthread_mutex_unlock(&r->lock);
}

void
dpf_rules_with_current(struct dpf_rules *r, void (*fn)(void *arg, const struct dpf_ruleset *rs),
		       void *arg)
{
	uint64_t h;

	pthread_mutex_lock(&r->lock);
	h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	fn(arg, select_version(r->slot[head_slot(h)], head_opened_ns(h)));
	pthread_mutex_unlock(&r->lock);
}
