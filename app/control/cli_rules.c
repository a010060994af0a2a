/* SPDX-License-Identifier: BSD-3-Clause */
/* nat show|add RULE|del N, acl show|add RULE|del N */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cmd_rules_result {
	cmdline_fixed_string_t kind;
	cmdline_fixed_string_t verb;
	cmdline_multi_string_t arg;
};

static void
cmd_rules_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_rules_result *r = parsed;

	(void)cl;
	if (data == DPF_CLI_NO_REST)
		r->arg[0] = '\0';
	if (strcmp(r->verb, "show") != 0 && r->arg[0] == '\0') {
		printf("error: %s %s needs %s\n", r->kind, r->verb,
		       strcmp(r->verb, "add") == 0 ? "a rule" : "a rule number");
		dpf_cli_done(-1);
		return;
	}
	dpf_cli_done(dpf_ctl_rules(stdout, &dpf_app, r->kind, r->verb, r->arg));
}

static cmdline_parse_token_string_t rules_kind =
	TOKEN_STRING_INITIALIZER(struct cmd_rules_result, kind, "nat#acl");
static cmdline_parse_token_string_t rules_verb =
	TOKEN_STRING_INITIALIZER(struct cmd_rules_result, verb, "show#add#del");
static cmdline_parse_token_string_t rules_arg =
	TOKEN_STRING_INITIALIZER(struct cmd_rules_result, arg, TOKEN_STRING_MULTI);

static const char cmd_rules_help[] =
	"nat|acl show | add RULE | del N: rules, changed atomically at the next window boundary";

static cmdline_parse_inst_t cmd_rules = {
	.f = cmd_rules_parsed,
	.help_str = cmd_rules_help,
	.tokens = {(void *)&rules_kind, (void *)&rules_verb, (void *)&rules_arg, NULL},
};

static cmdline_parse_inst_t cmd_rules_bare = {
	.f = cmd_rules_parsed,
	.data = DPF_CLI_NO_REST,
	.help_str = cmd_rules_help,
	.tokens = {(void *)&rules_kind, (void *)&rules_verb, NULL},
};

cmdline_parse_inst_t *const dpf_cli_rules_cmds[] = {&cmd_rules, &cmd_rules_bare, NULL};
