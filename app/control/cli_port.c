/* SPDX-License-Identifier: BSD-3-Clause */
/* show port info|stats|xstats <port>|all, clear port stats <port>|all */
#include <stdio.h>

#include "cli.h"

struct cmd_port_result {
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t what;
	cmdline_fixed_string_t which;
};

static void
cmd_show_port_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_port_result *r = parsed;

	(void)cl;
	(void)data;
	dpf_cli_done(dpf_ctl_show_port(stdout, &dpf_app, r->what, r->which));
}

static void
cmd_clear_port_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_port_result *r = parsed;

	(void)cl;
	(void)data;
	dpf_cli_done(dpf_ctl_clear_port_stats(stdout, &dpf_app, r->which));
}

static cmdline_parse_token_string_t show_port_show =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, verb, "show");
static cmdline_parse_token_string_t show_port_port =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, port, "port");
static cmdline_parse_token_string_t show_port_what =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, what, "info#stats#xstats");
static cmdline_parse_token_string_t show_port_which =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, which, NULL);

static cmdline_parse_inst_t cmd_show_port = {
	.f = cmd_show_port_parsed,
	.help_str = "show port info|stats|xstats <port>|all: device, counters, driver counters",
	.tokens = {(void *)&show_port_show, (void *)&show_port_port, (void *)&show_port_what,
		   (void *)&show_port_which, NULL},
};

static cmdline_parse_token_string_t clear_port_clear =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, verb, "clear");
static cmdline_parse_token_string_t clear_port_stats =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, what, "stats");

static cmdline_parse_inst_t cmd_clear_port = {
	.f = cmd_clear_port_parsed,
	.help_str = "clear port stats <port>|all: reset the NIC counters",
	.tokens = {(void *)&clear_port_clear, (void *)&show_port_port, (void *)&clear_port_stats,
		   (void *)&show_port_which, NULL},
};

cmdline_parse_inst_t *const dpf_cli_port_cmds[] = {&cmd_show_port, &cmd_clear_port, NULL};
