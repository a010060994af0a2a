/* SPDX-License-Identifier: BSD-3-Clause */
/* start, stop, quit, flush, wait */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cmd_word_result {
	cmdline_fixed_string_t word;
};

static void
cmd_word_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_word_result *r = parsed;
	struct dpf_app *app = &dpf_app;
	int rc;

	(void)data;
	if (strcmp(r->word, "start") == 0) {
		rc = dpf_ctl_start(stdout, app);
	} else if (strcmp(r->word, "stop") == 0) {
		rc = dpf_ctl_stop(stdout, app);
	} else if (strcmp(r->word, "flush") == 0) {
		rc = dpf_ctl_flush(stdout, app);
	} else if (strcmp(r->word, "wait") == 0) {
		rc = dpf_ctl_wait(stdout, app);
	} else {
		rc = dpf_ctl_quit(stdout, app);
		cmdline_quit(cl);
	}
	dpf_cli_done(rc);
}

#define WORD_CMD(name, text, help)                                                      \
	static cmdline_parse_token_string_t name##_tok =                                 \
		TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, text);            \
	static cmdline_parse_inst_t name = {                                             \
		.f = cmd_word_parsed,                                                     \
		.help_str = help,                                                         \
		.tokens = {(void *)&name##_tok, NULL},                                    \
	}

WORD_CMD(cmd_start, "start", "start: poll the ports again");
WORD_CMD(cmd_stop, "stop", "stop: stop polling the ports; counted data is kept");
WORD_CMD(cmd_quit, "quit", "quit: flush the open window, publish the files, exit 0");
WORD_CMD(cmd_flush, "flush", "flush: close the current window now (its records are written)");
WORD_CMD(cmd_wait, "wait",
	 "wait: wait until the replay (or --idle-exit run) has ended and every window is "
	 "flushed");

cmdline_parse_inst_t *const dpf_cli_run_cmds[] = {
	&cmd_start, &cmd_stop, &cmd_quit, &cmd_flush, &cmd_wait, NULL,
};
