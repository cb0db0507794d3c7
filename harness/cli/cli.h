/*
 * cli.h - the habits every heaplab subcommand shares: one-line errors that
 * start with "heaplab: COMMAND:", "did you mean" for a mistyped option or
 * policy, and policy specs checked before anything runs.
 */
#ifndef HEAPLAB_CLI_H
#define HEAPLAB_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "heaplab/policies.h"

/* "heaplab: CMD: message" on stderr (cmd NULL: "heaplab: message"). */
__attribute__((format(printf, 2, 3))) void hl_cli_error(const char *cmd, const char *fmt, ...);

/* getopt_long (argv is permuted as it does) with heaplab's messages: an
 * unknown option, an ambiguous abbreviation or a missing value is one line
 * naming the option, the nearest valid one when there is one, and where
 * the help is.  Returns what getopt_long returns, or '?' once that line is
 * written (the command then exits with status 2).  shortopts starting with
 * '+' stop at the first operand, as for a command and its own options. */
int hl_cli_getopt(int argc, char *argv[], const char *shortopts, const struct option *longopts, const char *cmd);

/* -p TEXT for a built-in policy or a plugin: an unknown name gets the
 * nearest registry name; "mm" and "mm:FILE", the malloc-lab rows, are
 * named as such.  0, or 2 after one line on stderr. */
int hl_cli_policy(const char *cmd, const char *text, struct hl_policy_spec *out);

/* A parsed spec as a heap will take it (payload alignment align; 0: the
 * default): a heap is created once, so a value in range that the policy
 * refuses (tlsf:sl=7) is reported before anything runs, with what the
 * parameters given allow.  0, or 2 after one line on stderr. */
int hl_cli_policy_check(const char *cmd, const struct hl_policy_spec *spec, size_t align);

/* A library to preload, by absolute path into buf: the file that the
 * variable env_name names, or the file `name` beside the heaplab binary.
 * 0, or 2 after one line (a path LD_PRELOAD cannot carry included). */
int hl_cli_find_library(const char *cmd, const char *env_name, const char *name, char *buf, size_t len);

/* LD_PRELOAD with lib in front of what is there already (once).  0, or -1
 * with errno. */
int hl_cli_set_preload(const char *lib);

/* The version string heaplab --version prints. */
extern const char hl_version[];

#endif
