/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_CMDFILE_H
#define DPFLOW_CMDFILE_H

/*
 * The line reader of --cmdline-file: plain C over a FILE *, no EAL and no
 * librte_cmdline, so the fuzz target (tests/fuzz/fuzz_cmdfile.c) runs it
 * alone. cli.c reads the whole file with it before the run starts, then
 * runs the lines it kept.
 */

#include <stddef.h>
#include <stdio.h>

/* Longest command line, in bytes (without its line ending). */
#define DPF_CMDFILE_LINE_MAX 4096
/* Longest file: the commands are kept in memory until they run. */
#define DPF_CMDFILE_SIZE_MAX (16u << 20)

/*
 * Called once per command line, in file order: leading blanks skipped, the
 * line ending ("\n", "\r\n") removed; blank lines and lines starting with '#'
 * are not passed on (their numbers still count). A non-zero return stops
 * the reading and is returned by dpf_cmdfile_read().
 */
typedef int (*dpf_cmdfile_line_cb)(void *arg, unsigned int lineno, const char *line);

/*
 * Read f to its end, passing each command line to cb.
 * @param name  shown in errors ("name:LINE: ...")
 * @return 0 at the end of the file; cb's non-zero return; or, with err
 *         filled: -E2BIG (a line longer than DPF_CMDFILE_LINE_MAX, or a file
 *         larger than DPF_CMDFILE_SIZE_MAX), -EINVAL (a NUL byte), -EIO (a
 *         read error; errno is kept in the message)
 */
int dpf_cmdfile_read(FILE *f, const char *name, dpf_cmdfile_line_cb cb, void *arg, char *err,
		     size_t err_len);

/*
 * Copy s to out for echoing on a terminal: control bytes (tab aside), DEL
 * and backslash written \xNN, so a command file can neither forge an output
 * line nor drive the terminal. out_len must be at least 4 * strlen(s) + 1;
 * the result is cut there otherwise. @return out
 */
char *dpf_cmdfile_escape(const char *s, char *out, size_t out_len);

#endif /* DPFLOW_CMDFILE_H */
