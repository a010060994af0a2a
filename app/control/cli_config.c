/* SPDX-License-Identifier: BSD-3-Clause */
/* show config, set log-format FMT, show lcores, show flow-table */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cmd_config_result {
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t noun;
	cmdline_multi_string_t rest;
};

static void
cmd_show_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_config_result *r = parsed;
	int rc;

	(void)cl;
	(void)data;
	if (strcmp(r->noun, "config") == 0)
		rc = dpf_ctl_show_config(stdout, &dpf_app);
	else if (strcmp(r->noun, "lcores") == 0)
		rc = dpf_ctl_show_lcores(stdout, &dpf_app);
	else
		rc = dpf_ctl_show_flow_table(stdout, &dpf_app);
	dpf_cli_done(rc);
}

static void
cmd_set_log_format_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_config_result *r = parsed;

	(void)cl;
	(void)data;
	dpf_cli_done(dpf_ctl_set_log_format(stdout, &dpf_app, r->rest));
}

static cmdline_parse_token_string_t config_show =
	TOKEN_STRING_INITIALIZER(struct cmd_config_result, verb, "show");
static cmdline_parse_token_string_t config_noun =
	TOKEN_STRING_INITIALIZER(struct cmd_config_result, noun, "config#lcores#flow-table");

static cmdline_parse_inst_t cmd_show_config = {
	.f = cmd_show_parsed,
	.help_str = "show config|lcores|flow-table: settings; which lcore does what; per-core "
		    "table fill and losses",
	.tokens = {(void *)&config_show, (void *)&config_noun, NULL},
};

static cmdline_parse_token_string_t config_set =
	TOKEN_STRING_INITIALIZER(struct cmd_config_result, verb, "set");
static cmdline_parse_token_string_t config_log_format =
	TOKEN_STRING_INITIALIZER(struct cmd_config_result, noun, "log-format");
static cmdline_parse_token_string_t config_rest =
	TOKEN_STRING_INITIALIZER(struct cmd_config_result, rest, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_set_log_format = {
	.f = cmd_set_log_format_parsed,
	.help_str = "set log-format FMT: AWS format string from the next window boundary",
	.tokens = {(void *)&config_set, (void *)&config_log_format, (void *)&config_rest, NULL},
};

cmdline_parse_inst_t *const dpf_cli_config_cmds[] = {&cmd_show_config, &cmd_set_log_format,
						      NULL};
