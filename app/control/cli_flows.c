/* SPDX-License-Identifier: BSD-3-Clause */
/* show flows [filters], export flows csv FILE [filters] */
#include <stdio.h>

#include "cli.h"

#define FILTER_HELP                                                                     \
	"[iface ID] [src CIDR] [dst CIDR] [port N] [proto P] [action ACCEPT|REJECT] "     \
	"[oldest] [limit N]"

struct cmd_flows_result {
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t flows;
	cmdline_fixed_string_t csv;
	cmdline_fixed_string_t file;
	cmdline_multi_string_t filters;
};

static void
cmd_show_flows_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_flows_result *r = parsed;
	char *argv[32];
	int argc = data == DPF_CLI_NO_REST ? 0 : dpf_cli_split(r->filters, argv, 32);

	(void)cl;
	dpf_cli_done(dpf_ctl_show_flows(stdout, &dpf_app, argc, argv));
}

static void
cmd_export_flows_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_flows_result *r = parsed;
	char *argv[32];
	int argc = data == DPF_CLI_NO_REST ? 0 : dpf_cli_split(r->filters, argv, 32);

	(void)cl;
	dpf_cli_done(dpf_ctl_export_flows(stdout, &dpf_app, r->file, argc, argv));
}

static cmdline_parse_token_string_t flows_show =
	TOKEN_STRING_INITIALIZER(struct cmd_flows_result, verb, "show");
static cmdline_parse_token_string_t flows_flows =
	TOKEN_STRING_INITIALIZER(struct cmd_flows_result, flows, "flows");
static cmdline_parse_token_string_t flows_filters =
	TOKEN_STRING_INITIALIZER(struct cmd_flows_result, filters, TOKEN_STRING_MULTI);

static const char cmd_show_flows_help[] =
	"show flows " FILTER_HELP
	": newest flows of the recent closed windows first (limit 100, at most 10000)";

static cmdline_parse_inst_t cmd_show_flows = {
	.f = cmd_show_flows_parsed,
	.help_str = cmd_show_flows_help,
	.tokens = {(void *)&flows_show, (void *)&flows_flows, (void *)&flows_filters, NULL},
};

static cmdline_parse_token_string_t flows_export =
	TOKEN_STRING_INITIALIZER(struct cmd_flows_result, verb, "export");
static cmdline_parse_token_string_t flows_csv =
	TOKEN_STRING_INITIALIZER(struct cmd_flows_result, csv, "csv");
static cmdline_parse_token_string_t flows_file =
	TOKEN_STRING_INITIALIZER(struct cmd_flows_result, file, NULL);

static const char cmd_export_flows_help[] =
	"export flows csv FILE " FILTER_HELP
	": write the matching flows as CSV (times as MM/DD/YYYY HH:MM:SS AM/PM and epoch ms)";

static cmdline_parse_inst_t cmd_export_flows = {
	.f = cmd_export_flows_parsed,
	.help_str = cmd_export_flows_help,
	.tokens = {(void *)&flows_export, (void *)&flows_flows, (void *)&flows_csv,
		   (void *)&flows_file, (void *)&flows_filters, NULL},
};

static cmdline_parse_inst_t cmd_show_flows_bare = {
	.f = cmd_show_flows_parsed,
	.data = DPF_CLI_NO_REST,
	.help_str = cmd_show_flows_help,
	.tokens = {(void *)&flows_show, (void *)&flows_flows, NULL},
};

static cmdline_parse_inst_t cmd_export_flows_bare = {
	.f = cmd_export_flows_parsed,
	.data = DPF_CLI_NO_REST,
	.help_str = cmd_export_flows_help,
	.tokens = {(void *)&flows_export, (void *)&flows_flows, (void *)&flows_csv,
		   (void *)&flows_file, NULL},
};

cmdline_parse_inst_t *const dpf_cli_flows_cmds[] = {
	&cmd_show_flows, &cmd_show_flows_bare, &cmd_export_flows, &cmd_export_flows_bare, NULL,
};
