/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The prompt (librte_cmdline, as in dpdk-testpmd): one table of commands,
 * each a row of tokens, a help text and the control action it calls
 * (control.h); the tokens and instances librte_cmdline parses with are made
 * from the table when the prompt starts. Also `help`, the explanation of a
 * line no command takes, and --cmdline-file.
 */
/* cmdline_get_rdline() is experimental in DPDK 22.11 (struct cmdline is
 * opaque since 22.02): the prompt redraws its line after a log record. */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>
#include <cmdline_rdline.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "cmdfile.h"
#include "control.h"
#include "dpf_connstore.h"
#include "dpf_store.h"
#include "dpf_util.h"
#include "log.h"

#define PROMPT "dpflow> "
#define MAX_TOKENS 6
#define MAX_ARGS 32

/* Tokens of a row: a keyword ("a#b": one of them), or these, told apart by address. */
static const char arg_token[] = "ARG";	 /* one word, given to the action */
static const char rest_token[] = "REST"; /* the rest of the line, at least one word */
#define ARG arg_token
#define REST rest_token

/* How a row's action is called. */
enum call {
	CALL_NONE, /* fn(ctl, f) */
	CALL_ARG,  /* fn(ctl, f, the ARG word) */
	CALL_REST, /* fn(ctl, f, argc, argv): the REST words; optional */
	CALL_LINE, /* fn(ctl, f, the REST text) */
	CALL_ARG_REST, /* fn(ctl, f, ARG word, argc, argv); REST optional */
	CALL_RULES, /* dpf_ctl_rules(ctl, f, fn.rules, the ARG word, the REST text or NULL) */
};

struct command {
	const char *tokens[MAX_TOKENS + 1];
	enum call call;
	union {
		int (*none)(struct dpf_ctl *, FILE *);
		int (*arg)(struct dpf_ctl *, FILE *, const char *);
		int (*rest)(struct dpf_ctl *, FILE *, int, char **);
		int (*arg_rest)(struct dpf_ctl *, FILE *, const char *, int, char **);
		struct {
			enum dpf_rules_kind kind;
			enum dpf_ctl_rules_verb verb;
		} rules; /* the one rules action's data: which set, what to do */
	} fn;
	const char *help; /* NULL: the previous row's (listed once) */
	bool quit;	  /* ends the prompt */
};

#define HELP_HELP "help [COMMAND]: list the commands, or those starting with COMMAND"

#define FILTER_HELP                                                                                \
	"[iface ID] [src CIDR] [dst CIDR] [port N] [proto P] [action ACCEPT|REJECT] "              \
	"[since TIME] [until TIME] [oldest] [limit N]"

#define CONN_FILTER_HELP                                                                           \
	"[since TIME] [until TIME] [proto P] [src-node ID] [src CIDR] [sport N] "                  \
	"[dst-node ID] [dst CIDR] [dport N] [sent BYTES] [recv BYTES] [flags F[,F...]] "           \
	"[oldest] [limit N]"

/* Filter words Tab completes after `show flows` (keywords at any even place). */
#define MAX_FILTER_WORDS 24

static const struct command commands[] = {
	{{"start"}, CALL_NONE, {.none = dpf_ctl_start}, "start: poll the ports again"},
	{{"stop"}, CALL_NONE, {.none = dpf_ctl_stop},
	 "stop: stop polling the ports; counted data is kept, windows keep closing on the clock "
	 "(nothing is flushed)"},
	{{"quit"}, CALL_NONE, {.none = dpf_ctl_quit},
	 "quit: flush the open window, publish the files, exit 0", true},
	{{"flush"}, CALL_NONE, {.none = dpf_ctl_flush},
	 "flush: write what the open window holds now; the window stays open (what comes "
	 "later is written when it closes)"},
	{{"wait"}, CALL_NONE, {.none = dpf_ctl_wait},
	 "wait: wait until the replay (or --idle-exit run) has ended and every window is "
	 "flushed"},
	{{"show", "port", "info", ARG}, CALL_ARG, {.arg = dpf_ctl_show_port_info},
	 "show port info|stats|xstats <port>|all: device, counters, driver counters"},
	{{"show", "port", "stats", ARG}, CALL_ARG, {.arg = dpf_ctl_show_port_stats}},
	{{"show", "port", "xstats", ARG}, CALL_ARG, {.arg = dpf_ctl_show_port_xstats}},
	{{"clear", "port", "stats", ARG}, CALL_ARG, {.arg = dpf_ctl_clear_port_stats},
	 "clear port stats <port>|all: reset the NIC counters"},
	{{"show", "flows", REST}, CALL_REST, {.rest = dpf_ctl_show_flows},
	 "show flows " FILTER_HELP
	 ": newest flows of the recent closed windows first (limit 100, at most 10000)"},
	{{"export", "flows", "csv", ARG, REST}, CALL_ARG_REST, {.arg_rest = dpf_ctl_export_flows},
	 "export flows csv FILE " FILTER_HELP
	 ": write the matching flows as CSV (times as MM/DD/YYYY HH:MM:SS AM/PM and epoch ms)"},
	{{"show", "connections", REST}, CALL_REST, {.rest = dpf_ctl_show_connections},
	 "show connections " CONN_FILTER_HELP
	 ": newest connection flow logs of the recent closed windows first (limit 100, at "
	 "most 10000; needs --ibm-output or --connections yes)"},
	{{"export", "connections", "csv", ARG, REST}, CALL_ARG_REST,
	 {.arg_rest = dpf_ctl_export_connections},
	 "export connections csv FILE " CONN_FILTER_HELP
	 ": write the matching connection flow logs as CSV (Trustgrid's columns)"},
	{{"show", "window"}, CALL_NONE, {.none = dpf_ctl_show_window},
	 "show window: the open window (its own length), the length set, its boundary, flows "
	 "so far"},
	{{"set", "window", ARG}, CALL_ARG, {.arg = dpf_ctl_set_window},
	 "set window SEC: window length 1..3600 from the next boundary (show window: "
	 "window-seconds-set)"},
	{{"show", "config"}, CALL_NONE, {.none = dpf_ctl_show_config},
	 "show config|lcores|flow-table: settings; which lcore does what; per-core "
	 "table fill and losses"},
	{{"show", "lcores"}, CALL_NONE, {.none = dpf_ctl_show_lcores}},
	{{"show", "flow-table"}, CALL_NONE, {.none = dpf_ctl_show_flow_table}},
	{{"set", "log-format", REST}, CALL_LINE, {.arg = dpf_ctl_set_log_format},
	 "set log-format FMT: AWS format string from the next window boundary"},
	{{"nat", "show"}, CALL_RULES, {.rules = {DPF_RULES_NAT, DPF_CTL_RULES_SHOW}},
	 "nat|acl show | add RULE | del N: rules, checked when entered, queued for the next "
	 "window boundary"},
	{{"nat", "add", REST}, CALL_RULES, {.rules = {DPF_RULES_NAT, DPF_CTL_RULES_ADD}}},
	{{"nat", "del", ARG}, CALL_RULES, {.rules = {DPF_RULES_NAT, DPF_CTL_RULES_DEL}}},
	{{"acl", "show"}, CALL_RULES, {.rules = {DPF_RULES_ACL, DPF_CTL_RULES_SHOW}}},
	{{"acl", "add", REST}, CALL_RULES, {.rules = {DPF_RULES_ACL, DPF_CTL_RULES_ADD}}},
	{{"acl", "del", ARG}, CALL_RULES, {.rules = {DPF_RULES_ACL, DPF_CTL_RULES_DEL}}},
};

/* Room for every row, a twin without its optional REST, and help's two. */
#define MAX_INSTS (2 * RTE_DIM(commands) + 2)

/* What librte_cmdline fills: a row's words, then its REST. */
struct parsed {
	cmdline_fixed_string_t word[MAX_TOKENS];
	cmdline_multi_string_t rest;
};

/* An instance's data: its row (NULL: help), and whether REST was left out. */
struct inst_data {
	struct dpf_cli *cli;
	const struct command *cmd;
	bool no_rest;
};

/* --cmdline-file, read whole before the run starts. */
struct file_cmd {
	unsigned int lineno;
	char *text;
};

/* A filter word of show flows or connections, for completion (completion below). */
struct word_token {
	cmdline_parse_token_hdr_t hdr;
	const char *const *words; /* the command's filter keywords, NULL-terminated */
	bool before_keyword;	  /* the word before a keyword: not one that takes a value */
};

/* Where Tab offers the filter keywords (never parses). */
struct keyword_token {
	cmdline_parse_token_hdr_t hdr;
	const char *const *words;
};

/* The completion of one filtered command's keywords: `show NOUN` + words + a keyword. */
struct filter_completion {
	cmdline_parse_token_string_t noun_tok;
	struct word_token any_word, prev_word;
	struct keyword_token keyword_tok;
};

/* The commands whose filters Tab completes: show flows, show connections. */
#define N_COMPLETIONS 2

/* A token whose parse checks a line against every command (cmd_rejected below). */
struct rejected_token {
	cmdline_parse_token_hdr_t hdr;
	struct dpf_cli *cli;
};

struct dpf_cli {
	struct dpf_ctl *ctl;
	/* Where the echoes and answers go: stdout, or with records there the
	 * terminal (tty, opened by name) or stderr (dpf_cli_run). */
	FILE *out;
	FILE *tty;
	struct termios old_term; /* the terminal's mode, while the prompt has it raw */
	bool term_saved;
	cmdline_parse_ctx_t main_ctx[MAX_INSTS + 1];
	/* The terminal's: main_ctx's, the completion rows, the one that explains rejections. */
	cmdline_parse_ctx_t prompt_ctx[MAX_INSTS + N_COMPLETIONS * MAX_FILTER_WORDS + 2];
	cmdline_parse_ctx_t check_ctx[MAX_INSTS + 1];
	struct cmdline *checker;
	cmdline_parse_inst_t *insts[MAX_INSTS + 1]; /* owned: every instance made */
	unsigned int n_insts;
	struct rejected_token rejected_tok;
	cmdline_parse_inst_t *rejected;
	/* Completion of show flows' and show connections' filter keywords (the prompt's
	 * table only). */
	cmdline_parse_token_string_t show_tok;
	struct filter_completion comp[N_COMPLETIONS];
	cmdline_parse_inst_t *completers[N_COMPLETIONS * MAX_FILTER_WORDS + 1];
	/* --cmdline-file */
	char *file;
	struct file_cmd *cmds;
	unsigned int n, cap;
};

/* Split s in place on spaces; returns the word count (at most max). */
static int
split(char *s, char **argv, int max)
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(s, " \t", &save); t != NULL && n < max; t = strtok_r(NULL, " \t", &save))
		argv[n++] = t;
	return n;
}

/* The first ARG word of a parsed row. */
static const char *
arg_word(const struct command *cmd, const struct parsed *r)
{
	unsigned int i;

	for (i = 0; cmd->tokens[i] != NULL; i++)
		if (cmd->tokens[i] == ARG)
			return r->word[i];
	return "";
}

/* A rules row's argument: its ARG word (del), its REST text (add), none (show). */
static const char *
rules_arg(const struct command *cmd, const struct parsed *r)
{
	unsigned int i;

	for (i = 0; cmd->tokens[i] != NULL; i++)
		if (cmd->tokens[i] == REST)
			return r->rest;
	return cmd->tokens[i - 1] == ARG ? arg_word(cmd, r) : NULL;
}

static void
cmd_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct inst_data *d = data;
	const struct command *cmd = d->cmd;
	struct parsed *r = parsed;
	FILE *out = d->cli->out;
	char *argv[MAX_ARGS];
	int argc = 0;

	if (d->no_rest)
		r->rest[0] = '\0';
	else if (cmd->call == CALL_REST || cmd->call == CALL_ARG_REST)
		argc = split(r->rest, argv, MAX_ARGS);
	switch (cmd->call) {
	case CALL_NONE:
		cmd->fn.none(d->cli->ctl, out);
		break;
	case CALL_ARG:
		cmd->fn.arg(d->cli->ctl, out, arg_word(cmd, r));
		break;
	case CALL_LINE:
		cmd->fn.arg(d->cli->ctl, out, r->rest);
		break;
	case CALL_REST:
		cmd->fn.rest(d->cli->ctl, out, argc, argv);
		break;
	case CALL_ARG_REST:
		cmd->fn.arg_rest(d->cli->ctl, out, arg_word(cmd, r), argc, argv);
		break;
	case CALL_RULES:
		dpf_ctl_rules(d->cli->ctl, out, cmd->fn.rules.kind, cmd->fn.rules.verb,
			      rules_arg(cmd, r));
		break;
	}
	if (cmd->quit)
		cmdline_quit(cl);
	/* Flushed, so that scripts see each answer in order. */
	fflush(out);
}

/* help [WORD]: every command whose help starts with WORD. */
static void
cmd_help_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct inst_data *d = data;
	struct parsed *r = parsed;
	const char *word = d->no_rest ? "" : r->rest;
	FILE *out = d->cli->out;
	size_t i, shown = 0;

	for (i = 0; i < RTE_DIM(commands); i++) {
		const char *h = commands[i].help;

		if (h == NULL || (word[0] != '\0' && strncmp(h, word, strlen(word)) != 0))
			continue;
		fprintf(out, "%s\n", h);
		shown++;
	}
	if (word[0] == '\0' || strncmp(HELP_HELP, word, strlen(word)) == 0) {
		fprintf(out, "%s\n", HELP_HELP);
		shown++;
	}
	if (shown == 0)
		fprintf(out, "error: no command starts with '%s' (type 'help')\n", word);
	fflush(out);
}

/* A REST command's help line (completion rows show it at `?`). */
static const char *
rest_help(int (*fn)(struct dpf_ctl *, FILE *, int, char **))
{
	size_t i;

	for (i = 0; i < RTE_DIM(commands); i++)
		if (commands[i].fn.rest == fn)
			return commands[i].help;
	return "";
}

/* ---------------------------------------------------------------- the table */

static cmdline_parse_token_hdr_t *
make_token(const char *word, unsigned int slot)
{
	cmdline_parse_token_string_t *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->hdr.ops = &cmdline_token_string_ops;
	if (word == REST) {
		t->hdr.offset = offsetof(struct parsed, rest);
		t->string_data.str = TOKEN_STRING_MULTI;
	} else {
		t->hdr.offset = (unsigned int)(offsetof(struct parsed, word) +
					       slot * sizeof(cmdline_fixed_string_t));
		t->string_data.str = word == ARG ? NULL : word;
	}
	return &t->hdr;
}

/* An instance of cmd (without its REST when no_rest), with its data. */
static cmdline_parse_inst_t *
make_inst(struct dpf_cli *cli, const struct command *cmd, const char *const *tokens,
	  bool no_rest, void (*f)(void *, struct cmdline *, void *), const char *help)
{
	cmdline_parse_inst_t *inst;
	struct inst_data *d;
	unsigned int n = 0, i;

	while (tokens[n] != NULL && !(no_rest && tokens[n] == REST))
		n++;
	inst = calloc(1, sizeof(*inst) + (n + 1) * sizeof(inst->tokens[0]) + sizeof(*d));
	if (inst == NULL || cli->n_insts == MAX_INSTS) {
		free(inst);
		return NULL;
	}
	d = (struct inst_data *)(void *)&inst->tokens[n + 1];
	d->cli = cli;
	d->cmd = cmd;
	d->no_rest = no_rest;
	inst->f = f;
	inst->data = d;
	inst->help_str = help;
	cli->insts[cli->n_insts++] = inst;
	for (i = 0; i < n; i++) {
		inst->tokens[i] = make_token(tokens[i], i);
		if (inst->tokens[i] == NULL)
			return NULL;
	}
	return inst;
}

static bool
rest_optional(const struct command *cmd)
{
	return cmd->call == CALL_REST || cmd->call == CALL_ARG_REST;
}

/* Every row as librte_cmdline instances, then help. */
static int
build_ctx(struct dpf_cli *cli)
{
	static const char *const help_tokens[] = {"help", REST, NULL};
	const char *help = NULL;
	size_t i, n = 0;

	for (i = 0; i < RTE_DIM(commands); i++) {
		const struct command *cmd = &commands[i];

		help = cmd->help != NULL ? cmd->help : help;
		cli->main_ctx[n] = make_inst(cli, cmd, cmd->tokens, false, cmd_parsed, help);
		if (cli->main_ctx[n++] == NULL)
			return -ENOMEM;
		/* A REST token needs one word: the bare command is its own entry. */
		if (!rest_optional(cmd))
			continue;
		cli->main_ctx[n] = make_inst(cli, cmd, cmd->tokens, true, cmd_parsed, help);
		if (cli->main_ctx[n++] == NULL)
			return -ENOMEM;
	}
	cli->main_ctx[n] = make_inst(cli, NULL, help_tokens, false, cmd_help_parsed, HELP_HELP);
	cli->main_ctx[n + 1] = make_inst(cli, NULL, help_tokens, true, cmd_help_parsed, HELP_HELP);
	if (cli->main_ctx[n] == NULL || cli->main_ctx[n + 1] == NULL)
		return -ENOMEM;
	cli->main_ctx[n + 2] = NULL;
	return 0;
}

/* ---------------------------------------------------------------- rejected lines */

/* The first word that the command table does not know, for the message. */
static void
explain(FILE *f, const char *line, int rc)
{
	if (rc == CMDLINE_PARSE_AMBIGUOUS)
		fprintf(f, "error: ambiguous command '%s' (type help)\n", line);
	else if (rc == CMDLINE_PARSE_BAD_ARGS)
		fprintf(f, "error: bad arguments in '%s' (type help %.*s)\n", line,
			(int)strcspn(line, " "), line);
	else
		fprintf(f, "error: unknown command '%s' (type help)\n", line);
}

/*
 * librte_cmdline answers a line no command takes in its own words ("Command
 * not found", "Bad arguments") at the terminal. The prompt's last command
 * takes exactly those lines instead: its one token parses the line with a
 * twin of every other command whose callback does nothing (check_ctx), takes
 * all of it only when they reject it, and its callback names the problem
 * the `error:` way.
 */
struct rejected_result {
	int code; /* CMDLINE_PARSE_NOMATCH, _BAD_ARGS or _AMBIGUOUS */
	char line[256];
};

static void
cmd_check_only(void *parsed, struct cmdline *cl, void *data)
{
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
	const struct rejected_token *rt = container_of(tk, struct rejected_token, hdr);
	size_t len = strcspn(buf, "\r\n");
	int rc;

	if (len == 0 || rt->cli->checker == NULL)
		return -1;
	rc = cmdline_parse(rt->cli->checker, buf);
	if (rc >= 0)
		return -1; /* a command takes it */
	if (res != NULL && ressize >= sizeof(struct rejected_result)) {
		struct rejected_result *r = res;

		r->code = rc;
		snprintf(r->line, sizeof(r->line), "%.*s", (int)len, buf);
	}
	return (int)len;
}

static struct cmdline_token_ops rejected_ops = {.parse = rejected_parse};

static void
cmd_rejected_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct rejected_result *r = parsed;
	const struct dpf_cli *cli = data;

	explain(cli->out, r->line, r->code);
	fflush(cli->out);
}

/* ---------------------------------------------------------------- completion */

/*
 * show flows and show connections take their filters as one REST token,
 * which librte_cmdline cannot complete past its first word. The prompt's
 * table also holds, for k = 0..MAX_FILTER_WORDS, `show flows` (or `show
 * connections`) + k words + a keyword token: Tab
 * after k typed filter words offers the keywords (not after a keyword that
 * takes a value). The keyword token never parses, so these rows never run
 * and never make a line ambiguous.
 */
static bool
takes_value(const char *const *words, const char *w, size_t len)
{
	size_t i;

	for (i = 0; words[i] != NULL; i++)
		if (strlen(words[i]) == len && strncmp(words[i], w, len) == 0)
			return strcmp(words[i], "oldest") != 0;
	return false;
}

static int
word_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res, unsigned int ressize)
{
	const struct word_token *wt = container_of(tk, struct word_token, hdr);
	size_t len = 0;

	while (!cmdline_isendoftoken(buf[len]))
		len++;
	if (len == 0 || (wt->before_keyword && takes_value(wt->words, buf, len)))
		return -1;
	return (int)len;
}

static int
keyword_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res, unsigned int ressize)
{
	return -1;
}

static int
keyword_count(cmdline_parse_token_hdr_t *tk)
{
	const struct keyword_token *kt = container_of(tk, struct keyword_token, hdr);
	int n = 0;

	while (kt->words[n] != NULL)
		n++;
	return n;
}

static int
keyword_get(cmdline_parse_token_hdr_t *tk, int i, char *dst, unsigned int size)
{
	if (i < 0 || i >= keyword_count(tk))
		return -1;
	snprintf(dst, size, "%s", container_of(tk, struct keyword_token, hdr)->words[i]);
	return 0;
}

static int
keyword_help(cmdline_parse_token_hdr_t *tk, char *dst, unsigned int size)
{
	snprintf(dst, size, "filter");
	return 0;
}

static struct cmdline_token_ops word_ops = {.parse = word_parse};
static struct cmdline_token_ops keyword_ops = {
	.parse = keyword_parse,
	.complete_get_nb = keyword_count,
	.complete_get_elt = keyword_get,
	.get_help = keyword_help,
};

static void
string_token(cmdline_parse_token_string_t *t, const char *word)
{
	t->hdr.ops = &cmdline_token_string_ops;
	t->hdr.offset = 0;
	t->string_data.str = word;
}

/* One command's completion tokens: `show NOUN`, its keywords. */
static void
completion_init(struct filter_completion *c, const char *noun, const char *const *words)
{
	string_token(&c->noun_tok, noun);
	c->any_word.hdr.ops = &word_ops;
	c->any_word.words = words;
	c->prev_word.hdr.ops = &word_ops;
	c->prev_word.words = words;
	c->prev_word.before_keyword = true;
	c->keyword_tok.hdr.ops = &keyword_ops;
	c->keyword_tok.words = words;
}

/* The completion rows, NULL-terminated in cli->completers. @return 0 or -ENOMEM */
static int
build_completers(struct dpf_cli *cli)
{
	const char *help[N_COMPLETIONS] = {rest_help(dpf_ctl_show_flows),
					   rest_help(dpf_ctl_show_connections)};
	unsigned int c, k, i, n = 0;

	string_token(&cli->show_tok, "show");
	completion_init(&cli->comp[0], "flows", dpf_store_filter_words);
	completion_init(&cli->comp[1], "connections", dpf_connstore_filter_words);
	for (c = 0; c < N_COMPLETIONS; c++) {
		struct filter_completion *fc = &cli->comp[c];

		for (k = 0; k < MAX_FILTER_WORDS; k++) {
			cmdline_parse_inst_t *inst =
				calloc(1, sizeof(*inst) + (k + 4) * sizeof(inst->tokens[0]));

			if (inst == NULL)
				return -ENOMEM;
			cli->completers[n++] = inst;
			inst->f = cmd_check_only;
			inst->help_str = help[c];
			inst->tokens[0] = &cli->show_tok.hdr;
			inst->tokens[1] = &fc->noun_tok.hdr;
			for (i = 0; i < k; i++)
				inst->tokens[2 + i] =
					i + 1 == k ? &fc->prev_word.hdr : &fc->any_word.hdr;
			inst->tokens[2 + k] = &fc->keyword_tok.hdr;
		}
	}
	cli->completers[n] = NULL;
	return 0;
}

/* The terminal's table: the commands, the completion rows, then the rejected-line one. NULL
 * when memory runs out. */
static cmdline_parse_ctx_t *
build_prompt_ctx(struct dpf_cli *cli)
{
	size_t i, k;

	cli->rejected_tok.hdr.ops = &rejected_ops;
	cli->rejected_tok.cli = cli;
	cli->rejected = calloc(1, sizeof(*cli->rejected) + 2 * sizeof(cli->rejected->tokens[0]));
	if (cli->rejected == NULL)
		return NULL;
	cli->rejected->f = cmd_rejected_parsed;
	cli->rejected->data = cli;
	cli->rejected->help_str = "";
	cli->rejected->tokens[0] = &cli->rejected_tok.hdr;
	for (i = 0; cli->main_ctx[i] != NULL; i++) {
		if (cli->check_ctx[i] == NULL)
			cli->check_ctx[i] = check_twin(cli->main_ctx[i]);
		if (cli->check_ctx[i] == NULL)
			return NULL;
		cli->prompt_ctx[i] = cli->main_ctx[i];
	}
	cli->check_ctx[i] = NULL;
	if (build_completers(cli) < 0)
		return NULL;
	for (k = 0; cli->completers[k] != NULL; k++)
		cli->prompt_ctx[i++] = cli->completers[k];
	cli->prompt_ctx[i] = cli->rejected;
	cli->prompt_ctx[i + 1] = NULL;
	return cli->prompt_ctx;
}

/* ---------------------------------------------------------------- --cmdline-file */

static int
keep_line(void *arg, unsigned int lineno, const char *line)
{
	struct dpf_cli *cli = arg;

	if (cli->n == cli->cap) {
		unsigned int cap = cli->cap ? cli->cap * 2 : 64;
		struct file_cmd *nc = realloc(cli->cmds, cap * sizeof(*nc));

		if (nc == NULL)
			return -ENOMEM;
		cli->cmds = nc;
		cli->cap = cap;
	}
	cli->cmds[cli->n].lineno = lineno;
	cli->cmds[cli->n].text = strdup(line);
	if (cli->cmds[cli->n].text == NULL)
		return -ENOMEM;
	cli->n++;
	return 0;
}

static int
load_file(struct dpf_cli *cli, const char *file)
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
	cli->file = strdup(file);
	rc = cli->file == NULL ? -ENOMEM
			       : dpf_cmdfile_read(f, file, keep_line, cli, err, sizeof(err));
	fclose(f);
	if (rc == -ENOMEM)
		snprintf(err, sizeof(err), "%s: out of memory", file);
	if (rc != 0) {
		DPF_LOG(ERR, control, "--cmdline-file %s\n", err);
		return -1;
	}
	return 0;
}

struct dpf_cli *
dpf_cli_create(const char *file)
{
	struct dpf_cli *cli = calloc(1, sizeof(*cli));

	if (cli == NULL)
		return dpf_null_errno(ENOMEM);
	if (file != NULL && load_file(cli, file) < 0) {
		dpf_cli_free(cli);
		return dpf_null_errno(EINVAL);
	}
	return cli;
}

void
dpf_cli_free(struct dpf_cli *cli)
{
	unsigned int i, k;

	if (cli == NULL)
		return;
	for (i = 0; i < cli->n; i++)
		free(cli->cmds[i].text);
	free(cli->cmds);
	free(cli->file);
	for (i = 0; i < cli->n_insts; i++) {
		for (k = 0; cli->insts[i]->tokens[k] != NULL; k++)
			free(cli->insts[i]->tokens[k]);
		free(cli->insts[i]);
	}
	for (i = 0; cli->check_ctx[i] != NULL; i++)
		free(cli->check_ctx[i]);
	for (i = 0; cli->completers[i] != NULL; i++)
		free(cli->completers[i]);
	free(cli->rejected);
	if (cli->tty != NULL)
		fclose(cli->tty);
	free(cli);
}

/*
 * librte_cmdline's file mode has no output, so run each kept line through
 * cmdline_parse() here, echo it like the prompt, and name failures.
 */
static int
run_file(struct dpf_cli *cli, struct dpf_run *run)
{
	/* The line, the "\n" cmdline_parse() wants, the NUL. */
	char line[DPF_CMDFILE_LINE_MAX + 2];
	char shown[4 * DPF_CMDFILE_LINE_MAX + 1];
	struct cmdline *cl;
	unsigned int i;

	/* No descriptors: callbacks print on stdout themselves. */
	cl = cmdline_new(cli->main_ctx, PROMPT, -1, -1);
	if (cl == NULL)
		return -1;
	for (i = 0; i < cli->n && !dpf_run_stopping(run); i++) {
		const struct file_cmd *fc = &cli->cmds[i];
		int rc;

		dpf_cmdfile_escape(fc->text, shown, sizeof(shown));
		fprintf(cli->out, PROMPT "%s\n", shown);
		fflush(cli->out);
		snprintf(line, sizeof(line), "%s\n", fc->text);
		rc = cmdline_parse(cl, line);
		/* cmdline_parse() returns the parsed length on success. */
		if (rc < 0) {
			fprintf(cli->out, "%s:%u: ", cli->file, fc->lineno);
			explain(cli->out, shown, rc);
		}
		fflush(cli->out);
	}
	cmdline_free(cl);
	return 0;
}

/* Records on stdout (--output -): the terminal the commands come from, else stderr. */
static FILE *
prompt_stream(struct dpf_cli *cli)
{
	const char *tty;

	if (!dpf_ctl_records_on_stdout(cli->ctl))
		return stdout;
	tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;
	if (tty != NULL && cli->tty == NULL)
		cli->tty = fopen(tty, "we");
	return cli->tty != NULL ? cli->tty : stderr;
}

/*
 * cmdline_stdin_new()'s terminal mode (keys one by one, no echo), set before
 * the prompt is printed (cmdline_stdin_new() prints it first, so keys typed
 * at once were echoed by the terminal and again by the prompt), and the
 * prompt on cli->out. On failure the terminal is as it was.
 */
static struct cmdline *
prompt_open(struct dpf_cli *cli, cmdline_parse_ctx_t *ctx)
{
	struct termios raw;
	struct cmdline *cl;

	if (tcgetattr(STDIN_FILENO, &cli->old_term) == 0) {
		raw = cli->old_term;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
		cli->term_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	cl = cmdline_new(ctx, PROMPT, STDIN_FILENO, fileno(cli->out));
	if (cl == NULL && cli->term_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &cli->old_term);
		cli->term_saved = false;
	}
	return cl;
}

static void
prompt_close(struct dpf_cli *cli, struct cmdline *cl)
{
	cmdline_free(cl);
	if (cli->term_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &cli->old_term);
	cli->term_saved = false;
}

static void
prompt_redraw(void *arg)
{
	rdline_redisplay(cmdline_get_rdline(arg));
}

/*
 * cmdline_interact()'s loop, with the log kept off the typed line: each key
 * is handled under the log's prompt lock (a record waits, then erases the
 * line and the prompt redraws it), except the key that runs the command,
 * during which records are written as they come (the command prints its
 * answer and the next prompt itself). Only when the prompt and the log
 * both go to a terminal.
 */
static void
prompt_interact(struct dpf_cli *cli, struct cmdline *cl)
{
	bool shared = isatty(STDERR_FILENO) && isatty(fileno(cli->out));
	char c;

	if (shared)
		dpf_log_prompt_attach(prompt_redraw, cl);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);
		bool runs;
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		runs = c == '\r' || c == '\n';
		if (runs)
			dpf_log_prompt_pause(true);
		else
			dpf_log_prompt_lock();
		rc = cmdline_in(cl, &c, 1);
		if (runs)
			dpf_log_prompt_pause(false);
		else
			dpf_log_prompt_unlock();
		if (rc < 0)
			break;
	}
	if (shared)
		dpf_log_prompt_detach();
}

int
dpf_cli_run(struct dpf_cli *cli, struct dpf_ctl *ctl, bool interactive)
{
	struct dpf_run *run = dpf_ctl_run_flags(ctl);
	cmdline_parse_ctx_t *ctx;
	struct cmdline *cl;

	cli->ctl = ctl;
	cli->out = prompt_stream(cli);
	if (build_ctx(cli) < 0)
		return -1;
	if (cli->n > 0 && run_file(cli, run) < 0)
		return -1;
	if (!interactive || dpf_run_stopping(run))
		return 0;
	ctx = build_prompt_ctx(cli);
	/* No descriptors: it only checks lines, it never reads or writes. */
	cli->checker = ctx != NULL ? cmdline_new(cli->check_ctx, "", -1, -1) : NULL;
	cl = prompt_open(cli, cli->checker != NULL ? ctx : cli->main_ctx);
	if (cl == NULL) {
		cmdline_free(cli->checker);
		cli->checker = NULL;
		return -1;
	}
	prompt_interact(cli, cl);
	prompt_close(cli, cl);
	cmdline_free(cli->checker);
	cli->checker = NULL;
	fprintf(cli->out, "\n");
	fflush(cli->out);
	return 0;
}
