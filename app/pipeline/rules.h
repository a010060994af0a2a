/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_RULES_H
#define DPFLOW_RULES_H

/*
 * NAT and ACL rules: the rule set every RX core applies and the pipeline
 * completes records with, and the changes the prompt makes to it.
 *
 * Versions. A rule set (struct dpf_ruleset) never changes once published;
 * each has the first window it applies to (from_ns), and the versions form
 * a chain from the newest to older ones. A window uses the newest version
 * whose from_ns is at or before its start: every RX core and the pipeline
 * apply one rule set per window (doc/records.md).
 *
 * Changes. `nat add RULE` and the like are checked when they are entered:
 * the change is applied to the newest version's rules and the new set is
 * built at once (lib/nat, lib/acl), so a bad rule is refused with its
 * reason and nothing changes. A valid change becomes the pending version,
 * effective at the next window boundary. Changes entered before that
 * boundary go into the same pending version: any number may be queued, and
 * they take effect together at the boundary.
 *
 * The boundary is agreed on without a lock: one word holds the newest
 * version and the newest window any RX core has opened. A core opening a
 * window raises that window with a compare-and-swap, and a change is
 * published with a compare-and-swap for a boundary after it; whichever
 * comes second sees the first. So no version is ever published for a
 * window some core already opened, and a pending version is replaced only
 * while no core has reached its boundary.
 *
 * Reclamation (rte_rcu_qsbr). RX cores report a quiescent state once per
 * loop (dpf_rules_quiescent(), the reporting point they share with lib/nat's
 * shared sessions). A version no window can select any more, or a pending
 * one a newer one replaced, is freed by the pipeline thread once every RX
 * core has reported after it was unlinked.
 *
 * Threads:
 *   create, free, first: main thread, RX cores not running;
 *   enter_window, quiescent, offline: RX core `reader` only;
 *   for_window, reclaim, finish_record: the pipeline thread;
 *   change, show, show_config, current_*: the control thread (a mutex the
 *   pipeline's reclaim also takes, never the RX path).
 * Errors are -errno; messages name the rule and its origin.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "dpf_acl.h"
#include "dpf_flow.h"
#include "dpf_nat.h"
#include "dpf_window_plan.h"
#include "iface.h"

#define DPF_ACL_RUNTIME_MAX_RULES 4096

struct dpf_ruleset {
	struct dpf_acl *acl; /* NULL: every packet ACCEPT */
	struct dpf_nat *nat; /* NULL: no rule */
	uint64_t from_ns;    /* first window start it applies to */
	uint8_t acl_default;
	struct dpf_str_list nat_text; /* the rules as given, with their origin */
	struct dpf_str_list acl_text;
	uint64_t *nat_rule_pkts; /* [nat rules]: packets of records a rule rewrote (pipeline) */
	uint32_t changes;	 /* changes this version holds over the one before it */
	/* The chain and the version's slot (rules.c). */
	struct dpf_ruleset *older;
	uint8_t slot;
};

struct dpf_rules_params {
	const struct dpf_str_list *nat_rules;
	const struct dpf_str_list *acl_rules;
	uint8_t acl_default; /* enum dpf_action */
	bool acl_stateful;   /* only for the warning when there is no ACL rule */
	bool forward;	     /* masquerade needs forward mode, which always keeps a NAT set */
	uint16_t n_readers;  /* RX cores, readers 0 .. n-1 */
	int socket_id;
};

struct dpf_rules;

/**
 * Build the first rule set (its problems are logged with their origin).
 * @return NULL + rte_errno: EINVAL (a bad rule), E2BIG (too many), ENOMEM
 */
struct dpf_rules *dpf_rules_create(const struct dpf_rules_params *p);

/** Frees every version. NULL-safe; RX cores and the pipeline have ended. */
void dpf_rules_free(struct dpf_rules *r);

/** The first rule set (what masquerade sessions are created with). */
const struct dpf_ruleset *dpf_rules_first(const struct dpf_rules *r);

/* ---- RX cores ---- */

/**
 * The rule set of the window starting at w, which this core opens now (at
 * a window flip, or when it advances idle). Windows a core opens only grow.
 */
const struct dpf_ruleset *dpf_rules_enter_window(struct dpf_rules *r, uint64_t w);

/** The core holds no reference it took before now but its current set. Once per loop. */
void dpf_rules_quiescent(struct dpf_rules *r, uint16_t reader);

/** The core's loop has ended: it reads no rule set any more. */
void dpf_rules_offline(struct dpf_rules *r, uint16_t reader);

/* ---- the pipeline ---- */

/** The rule set of window w (whose shards are being merged). */
struct dpf_ruleset *dpf_rules_for_window(struct dpf_rules *r, uint64_t w);

/**
 * Free what no window can select any more.
 * @param oldest  the oldest window any RX core may still open or the
 *                pipeline still merge (DPF_WINDOW_NONE: none)
 */
void dpf_rules_reclaim(struct dpf_rules *r, uint64_t oldest);

/* Completes a record while windows merge (dpf_merge_finish_t). */
struct dpf_rules_finish {
	struct dpf_ruleset *rs;	       /* the window's rule set (the pipeline sets it) */
	const struct dpf_ifmap *ifmap; /* flow-direction */
};

/** Post-NAT view, flow-direction and per-rule counters of an OK record. */
void dpf_rules_finish_record(void *finish, struct dpf_record *rec, const struct dpf_flow_nat *view);

/* ---- the prompt ---- */

enum dpf_rules_kind {
	DPF_RULES_NAT = 0,
	DPF_RULES_ACL,
};

struct dpf_rules_change {
	enum dpf_rules_kind kind;
	const char *add;  /* the rule to add, or NULL */
	unsigned int del; /* else the rule number to delete (1..) */
	uint64_t now_ns;  /* the run's clock now: the change takes effect after it */
	const struct dpf_window_plan *plan;
};

/**
 * Check a change and queue it for the next window boundary.
 * @param at       out: when it takes effect (a window start, ns)
 * @param n_rules  out: rules of that kind once it does
 * @return 0; -EINVAL (err: the rule's problem, or a rule number out of
 *         range), -E2BIG (too many rules), -EBUSY (too many versions wait
 *         to be freed: the pipeline is behind), -ENOMEM
 */
int dpf_rules_change(struct dpf_rules *r, const struct dpf_rules_change *c, uint64_t *at,
		     unsigned int *n_rules, char *err, size_t err_len);

/**
 * `nat rules: N`, `nat rule K: RULE` ... of the newest version (pending
 * changes included), `acl default: allow|deny` for the ACL, and with a
 * pending version `pending-from: SEC` and `pending-changes: N`.
 */
void dpf_rules_show(struct dpf_rules *r, enum dpf_rules_kind kind, FILE *f);

/** show config: `nat-rule K: RULE` and `acl-rule K: RULE` of the newest version. */
void dpf_rules_show_config(struct dpf_rules *r, FILE *f);

/**
 * Call fn with the rule set in effect now (the newest window an RX core has
 * opened), under the rules' mutex: fn reads the set's texts and counters
 * (relaxed loads).
 */
void dpf_rules_with_current(struct dpf_rules *r,
			    void (*fn)(void *arg, const struct dpf_ruleset *rs), void *arg);

#endif /* DPFLOW_RULES_H */
