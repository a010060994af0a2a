/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CLI_H
#define DPFLOW_CLI_H

/*
 * The interactive prompt (librte_cmdline). One file per command noun; each
 * callback parses its tokens and calls one action function of control.c,
 * which writes `key: value` lines to stdout.
 */

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>

#include "dpflow.h"

/* Command tables of each noun file, NULL-terminated. */
extern cmdline_parse_inst_t *const dpf_cli_run_cmds[];
extern cmdline_parse_inst_t *const dpf_cli_port_cmds[];
extern cmdline_parse_inst_t *const dpf_cli_flows_cmds[];
extern cmdline_parse_inst_t *const dpf_cli_window_cmds[];
extern cmdline_parse_inst_t *const dpf_cli_config_cmds[];
extern cmdline_parse_inst_t *const dpf_cli_rules_cmds[];

/*
 * A MULTI token (the rest of the line) needs at least one word: commands
 * whose rest is optional get a twin instance without it, with .data = this
 * marker and the same help text (help lists it once).
 */
#define DPF_CLI_NO_REST ((void *)1)

/* Split s in place on spaces; returns the word count (at most max). */
int dpf_cli_split(char *s, char **argv, int max);

/* Print the result of an action and flush, so scripts see it in order. */
void dpf_cli_done(int rc);

/*
 * --cmdline-file: read the whole file before the run starts, so that a
 * missing file, a directory or a bad line stops dpflow there (message
 * printed, -1). dpf_cli_run() then runs its commands.
 */
int dpf_cli_load(const char *file);
void dpf_cli_unload(void);

/* Run the commands of the loaded file, then (interactive) from the terminal. */
int dpf_cli_run(struct dpf_app *app, bool interactive);

#endif /* DPFLOW_CLI_H */
