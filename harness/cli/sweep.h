/*
 * sweep.h - what heaplab sweep and heaplab merge share: the plan file, a
 * cell's id, the provenance a result row carries, and a CSV record reader.
 *
 * A plan is a plain text file, one cell a line: the arguments of one
 * `heaplab replay` (without -f, -o: the sweep writes the cell's CSV).
 * Lines starting with '#' are comments, the first of them the format line
 * "# heaplab sweep plan 1"; "# plan: ID" names the plan (a hash of the
 * lines it was made with, kept when the lines are edited) and
 * "# heaplab: VERSION" the heaplab that made it.  Arguments are split as
 * a shell splits them ('...', "...", backslash), so a line is also what
 * you would type after `heaplab replay`.
 *
 * A cell's id is a hash of its arguments (the words, not the spaces
 * between them): a line left alone keeps its id, and its result, when
 * others are edited, added or removed.
 */
#ifndef HEAPLAB_SWEEP_H
#define HEAPLAB_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#define HL_SWEEP_FORMAT "# heaplab sweep plan 1"
#define HL_CELL_ID_LEN 12

struct hl_cell {
    char id[HL_CELL_ID_LEN + 1];
    char *line;          /* the line as written, without its newline */
    char **argv;         /* its words, NULL-terminated */
    int argc;
    unsigned long lineno;
};

struct hl_plan {
    const char *path;
    char id[64];       /* "# plan: ID" */
    char version[256]; /* "# heaplab: VERSION", or "" */
    struct hl_cell *cells;
    size_t n;
};

/* Read a plan.  0, or 2 after "heaplab: CMD: FILE:LINE: what is wrong" on
 * stderr (not a plan, a quote left open, an option the sweep sets itself,
 * the same cell twice).  hl_plan_free either way. */
int hl_plan_load(const char *path, const char *cmd, struct hl_plan *plan);
void hl_plan_free(struct hl_plan *plan);

/* The cell with this id, or NULL. */
const struct hl_cell *hl_plan_find(const struct hl_plan *plan, const char *id);

/* The id of the argument list argv[0..argc-1]: 12 hex digits. */
void hl_cell_id(char *const *argv, int argc, char out[HL_CELL_ID_LEN + 1]);

/* Split line into words as a shell does ('...', "..." with \" and \\,
 * backslash outside quotes); *argv malloc'ed, NULL-terminated, each word
 * in it too.  0, or -1 with what is wrong in err. */
int hl_args_split(const char *line, char ***argv, int *argc, char *err, size_t errlen);
void hl_args_free(char **argv);

/* s as one shell word: as it is when it needs no quoting, else in single
 * quotes ('\'' for a quote inside). */
void hl_arg_write(const char *s, FILE *out);

/* ---- provenance ------------------------------------------------------------------------ */

/* The columns a sweep's result rows carry after replay's, in this order. */
#define HL_SWEEP_COLUMNS(X)                                                                        \
    X(machine, "the machine's name (uname -n)")                                                   \
    X(cpu_model, "its CPU model (/proc/cpuinfo)")                                                 \
    X(heaplab_version, "heaplab --version of the heaplab that ran the cell")                      \
    X(plan, "the plan's id")                                                                      \
    X(cell, "the cell's id")

#define HL_SWEEP_NCOLUMNS 5

/* The machine's name and CPU model, as the columns hold them. */
void hl_machine_name(char *buf, size_t len);
void hl_cpu_model(char *buf, size_t len);

/* A growing list of strings, each a copy. */
struct hl_strs {
    char **v;
    size_t n, cap;
};

/* Append a copy of text.  0, or -1 (ENOMEM). */
int hl_strs_add(struct hl_strs *s, const char *text);
void hl_strs_free(struct hl_strs *s);

/* mkdir -p.  0, or -1 with errno. */
int hl_mkdirs(const char *path);

#endif
