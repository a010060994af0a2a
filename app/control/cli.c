/* SPDX-License-Identifier: BSD-3-Clause */
/* The prompt: assembles the nouns' command tables, `help`, and the loops. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmdline_rdline.h>
#include <cmdline_socket.h>

#include "cli.h"
#include "cmdfile.h"
#include "log.h"

#define MAX_CMDS 64

static cmdline_parse_ctx_t main_ctx[MAX_CMDS + 1];
/* The terminal's commands: main_ctx's, then the one that explains rejections. */
static cmdline_parse_ctx_t prompt_ctx[MAX_CMDS + 2];

static cmdline_parse_inst_t *const *const tables[] = {
	dpf_cli_run_cmds, dpf_cli_port_cmds, dpf_cli_flows_cmds, dpf_cli_window_cmds,
	dpf_cli_config_cmds, dpf_cli_rules_cmds,
};

int
dpf_cli_split(char *s, char **argv, int max)
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(s, " \t", &save); t != NULL && n < max; t = strtok_r(NULL, " \t", &save))
		argv[n++] = t;
	return n;
}

void
dpf_cli_done(int rc)
{
	(void)rc;
	fflush(stdout);
}

/* help [WORD]: every command whose help starts with WORD. */
struct cmd_help_result {
	cmdline_fixed_string_t help;
	cmdline_multi_string_t word;
};

static void
cmd_help_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_help_result *r = parsed;
	size_t i, shown = 0;

	const char *word = data != NULL ? "" : r->word;

	(void)cl;
	for (i = 0; main_ctx[i] != NULL; i++) {
		const char *h = main_ctx[i]->help_str;

		/* Argument-less twins of commands share their help text. */
		if (i > 0 && main_ctx[i - 1]->help_str == h)
			continue;
		if (word[0] != '\0' && strncmp(h, word, strlen(word)) != 0)
			continue;
		printf("%s\n", h);
		shown++;
	}
	if (shown == 0)
		printf("error: no command starts with '%s' (type 'help')\n", word);
	dpf_cli_done(0);
}

static cmdline_parse_token_string_t cmd_help_help =
	TOKEN_STRING_INITIALIZER(struct cmd_help_result, help, "help");
static cmdline_parse_token_string_t cmd_help_word =
	TOKEN_STRING_INITIALIZER(struct cmd_help_result, word, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.help_str = "help [COMMAND]: list the commands, or those starting with COMMAND",
	.tokens = {(void *)&cmd_help_help, (void *)&cmd_help_word, NULL},
};

/* A MULTI token needs one word at least: the bare command is its own entry. */
static cmdline_parse_inst_t cmd_help_bare = {
	.f = cmd_help_parsed,
	.data = (void *)1,
	.help_str = "help [COMMAND]: list the commands, or those starting with COMMAND",
	.tokens = {(void *)&cmd_help_help, NULL},
};

static void
build_ctx(void)
{
	size_t t, i, n = 0;

	for (t = 0; t < RTE_DIM(tables); t++)
		for (i = 0; tables[t][i] != NULL && n < MAX_CMDS - 1; i++)
			main_ctx[n++] = tables[t][i];
	main_ctx[n++] = &cmd_help;
	main_ctx[n++] = &cmd_help_bare;
	main_ctx[n] = NULL;
}

static void explain(const char *line, int rc);

/*
 * librte_cmdline answers a line no command takes in its own words ("Command
 * not found", "Bad arguments") at the terminal. The prompt's last command
 * takes exactly those lines instead: its one token parses the line with a
 * twin of every other command whose callback does nothing (check_ctx), takes
 * all of it only when they reject it, and its callback names the problem
 * the `error:` way.
 */
struct cmd_rejected_result {
	int code; /* CMDLINE_PARSE_NOMATCH, _BAD_ARGS or _AMBIGUOUS */
	char line[256];
};

static cmdline_parse_ctx_t check_ctx[MAX_CMDS + 1];
static struct cmdline *checker;

static void
cmd_check_only(void *parsed, struct cmdline *cl, void *data)
{
	(void)parsed;
	(void)cl;
	(void)data;
}

/* A twin of inst that only checks: same tokens, no action. */
static cmdline_parse_inst_t *
check_twin(const cmdline_parse_inst_t *inst)
{
	cmdline_parse_inst_t *t;
	size_t n = 0;

	while (inst->tokens[n] != NULL)
		n++;
	t = calloc(1, sizeof(*t) + (n + 1) * sizeof(t->tokens[0]));
	if (t == NULL)
		return NULL;
	t->f = cmd_check_only;
	t->help_str = inst->help_str;
	memcpy(t->tokens, inst->tokens, (n + 1) * sizeof(t->tokens[0]));
	return t;
}

static int
rejected_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res, unsigned int ressize)
{
	size_t len = strcspn(buf, "\r\n");
	int rc;

	(void)tk;
	if (len == 0 || checker == NULL)
		return -1;
	rc = cmdline_parse(checker, buf);
	if (rc >= 0)
		return -1; /* a command takes it */
	if (res != NULL && ressize >= sizeof(struct cmd_rejected_result)) {
		struct cmd_rejected_result *r = res;

		r->code = rc;
		snprintf(r->line, sizeof(r->line), "%.*s", (int)len, buf);
	}
	return (int)len;
}

static struct cmdline_token_ops rejected_ops = {.parse = rejected_parse};

static cmdline_parse_token_hdr_t cmd_rejected_line = {
	.ops = &rejected_ops,
	.offset = 0,
};

static void
cmd_rejected_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_rejected_result *r = parsed;

	(void)cl;
	(void)data;
	explain(r->line, r->code);
	dpf_cli_done(-1);
}

static cmdline_parse_inst_t cmd_rejected = {
	.f = cmd_rejected_parsed,
	.help_str = "",
	.tokens = {&cmd_rejected_line, NULL},
};

/* The terminal's table: the commands, then cmd_rejected. NULL when memory runs out. */
static cmdline_parse_ctx_t *
build_prompt_ctx(void)
{
	size_t i;

	for (i = 0; main_ctx[i] != NULL; i++) {
		if (check_ctx[i] == NULL)
			check_ctx[i] = check_twin(main_ctx[i]);
		if (check_ctx[i] == NULL)
			return NULL;
		prompt_ctx[i] = main_ctx[i];
	}
	check_ctx[i] = NULL;
	prompt_ctx[i] = &cmd_rejected;
	prompt_ctx[i + 1] = NULL;
	return prompt_ctx;
}

/* The first word that the command table does not know, for the message. */
static void
explain(const char *line, int rc)
{
	if (rc == CMDLINE_PARSE_AMBIGUOUS)
		printf("error: ambiguous command '%s' (type help)\n", line);
	else if (rc == CMDLINE_PARSE_BAD_ARGS)
		printf("error: bad arguments in '%s' (type help %.*s)\n", line,
		       (int)strcspn(line, " "), line);
	else
		printf("error: unknown command '%s' (type help)\n", line);
}

/* --cmdline-file, read whole before the run starts (dpf_cli_load). */
struct file_cmd {
	unsigned int lineno;
	char *text;
};

static struct {
	char *name;
	struct file_cmd *cmds;
	unsigned int n, cap;
} cmd_file;

static int
keep_line(void *arg, unsigned int lineno, const char *line)
{
	(void)arg;
	if (cmd_file.n == cmd_file.cap) {
		unsigned int cap = cmd_file.cap ? cmd_file.cap * 2 : 64;
		struct file_cmd *nc = realloc(cmd_file.cmds, cap * sizeof(*nc));

		if (nc == NULL)
			return -ENOMEM;
		cmd_file.cmds = nc;
		cmd_file.cap = cap;
	}
	cmd_file.cmds[cmd_file.n].lineno = lineno;
	cmd_file.cmds[cmd_file.n].text = strdup(line);
	if (cmd_file.cmds[cmd_file.n].text == NULL)
		return -ENOMEM;
	cmd_file.n++;
	return 0;
}

void
dpf_cli_unload(void)
{
	unsigned int i;

	for (i = 0; i < cmd_file.n; i++)
		free(cmd_file.cmds[i].text);
	free(cmd_file.cmds);
	free(cmd_file.name);
	memset(&cmd_file, 0, sizeof(cmd_file));
}

int
dpf_cli_load(const char *file)
{
	char err[PATH_MAX + 128];
	struct stat st;
	FILE *f;
	int rc;

	f = fopen(file, "re");
	if (f == NULL) {
		DPF_LOG(ERR, control, "--cmdline-file %s: %s\n", file, strerror(errno));
		return -1;
	}
	/* A directory opens, then fails each read: say so before the run. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		DPF_LOG(ERR, control, "--cmdline-file %s: %s\n", file, strerror(EISDIR));
		fclose(f);
		return -1;
	}
	cmd_file.name = strdup(file);
	rc = cmd_file.name == NULL ? -ENOMEM
				   : dpf_cmdfile_read(f, file, keep_line, NULL, err, sizeof(err));
	fclose(f);
	if (rc == -ENOMEM)
		snprintf(err, sizeof(err), "%s: out of memory", file);
	if (rc != 0) {
		DPF_LOG(ERR, control, "--cmdline-file %s\n", err);
		dpf_cli_unload();
		return -1;
	}
	return 0;
}

/*
 * librte_cmdline's file mode has no output, so run each kept line through
 * cmdline_parse() here, echo it like the prompt, and name failures.
 */
static int
run_file(struct dpf_app *app)
{
	/* The line, the "\n" cmdline_parse() wants, the NUL. */
	char line[DPF_CMDFILE_LINE_MAX + 2];
	char shown[4 * DPF_CMDFILE_LINE_MAX + 1];
	struct cmdline *cl;
	unsigned int i;

	/* No descriptors: callbacks print on stdout themselves. */
	cl = cmdline_new(main_ctx, "dpflow> ", -1, -1);
	if (cl == NULL)
		return -1;
	for (i = 0; i < cmd_file.n && !dpf_run_stopping(&app->run); i++) {
		const struct file_cmd *fc = &cmd_file.cmds[i];
		int rc;

		dpf_cmdfile_escape(fc->text, shown, sizeof(shown));
		printf("dpflow> %s\n", shown);
		fflush(stdout);
		snprintf(line, sizeof(line), "%s\n", fc->text);
		rc = cmdline_parse(cl, line);
		/* cmdline_parse() returns the parsed length on success. */
		if (rc < 0) {
			printf("%s:%u: ", cmd_file.name, fc->lineno);
			explain(shown, rc);
		}
		fflush(stdout);
	}
	cmdline_free(cl);
	return 0;
}

int
dpf_cli_run(struct dpf_app *app, bool interactive)
{
	struct cmdline *cl;

	build_ctx();
	if (cmd_file.n > 0 && run_file(app) < 0)
		return -1;
	if (interactive && !dpf_run_stopping(&app->run)) {
		cmdline_parse_ctx_t *ctx = build_prompt_ctx();

		/* No descriptors: it only checks lines, it never reads or writes. */
		checker = ctx != NULL ? cmdline_new(check_ctx, "", -1, -1) : NULL;
		cl = cmdline_stdin_new(checker != NULL ? ctx : main_ctx, "dpflow> ");
		if (cl == NULL) {
			cmdline_free(checker);
			return -1;
		}
		cmdline_interact(cl);
		cmdline_stdin_exit(cl);
		cmdline_free(checker);
		checker = NULL;
		printf("\n");
	}
	return 0;
}
