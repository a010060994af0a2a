/* SPDX-License-Identifier: BSD-3-Clause */
/* show window, set window SEC */
#include <stdio.h>

#include "cli.h"

struct cmd_window_result {
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t window;
	cmdline_fixed_string_t sec;
};

static void
cmd_show_window_parsed(void *parsed, struct cmdline *cl, void *data)
{
	(void)parsed;
	(void)cl;
	(void)data;
	dpf_cli_done(dpf_ctl_show_window(stdout, &dpf_app));
}

static void
cmd_set_window_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_window_result *r = parsed;

	(void)cl;
	(void)data;
	dpf_cli_done(dpf_ctl_set_window(stdout, &dpf_app, r->sec));
}

static cmdline_parse_token_string_t window_show =
	TOKEN_STRING_INITIALIZER(struct cmd_window_result, verb, "show");
static cmdline_parse_token_string_t window_set =
	TOKEN_STRING_INITIALIZER(struct cmd_window_result, verb, "set");
static cmdline_parse_token_string_t window_window =
	TOKEN_STRING_INITIALIZER(struct cmd_window_result, window, "window");
static cmdline_parse_token_string_t window_sec =
	TOKEN_STRING_INITIALIZER(struct cmd_window_result, sec, NULL);

static cmdline_parse_inst_t cmd_show_window = {
	.f = cmd_show_window_parsed,
	.help_str = "show window: the current window, its boundary, flows so far",
	.tokens = {(void *)&window_show, (void *)&window_window, NULL},
};

static cmdline_parse_inst_t cmd_set_window = {
	.f = cmd_set_window_parsed,
	.help_str = "set window SEC: window length 1..3600 from the next boundary",
	.tokens = {(void *)&window_set, (void *)&window_window, (void *)&window_sec, NULL},
};

cmdline_parse_inst_t *const dpf_cli_window_cmds[] = {&cmd_show_window, &cmd_set_window, NULL};
