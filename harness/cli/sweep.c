/*
 * sweep.c - the plan file, cell ids, provenance and CSV records that
 * heaplab sweep and heaplab merge share (sweep.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cli.h"
#include "sweep.h"

/* ---- words ------------------------------------------------------------------------------ */

static int push(char ***v, int *n, int *cap, char *s)
{
    if (*n + 2 > *cap) {
        int c = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, (size_t)c * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
    return 0;
}

int hl_args_split(const char *line, char ***argv, int *argc, char *err, size_t errlen)
{
    char **v = NULL;
    int n = 0, cap = 0;
    size_t len = strlen(line);
    char *word = malloc(len + 1);
    const char *s = line;
    if (!word || push(&v, &n, &cap, NULL) != 0)
        goto nomem;
    n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t k = 0;
        while (*s && *s != ' ' && *s != '\t') {
            if (*s == '\'') {
                const char *end = strchr(s + 1, '\'');
                if (!end) {
                    snprintf(err, errlen, "a single quote is not closed");
                    goto fail;
                }
                memcpy(word + k, s + 1, (size_t)(end - s - 1));
                k += (size_t)(end - s - 1);
                s = end + 1;
            } else if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                    if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                        s++;
                    word[k++] = *s;
                }
                if (!*s) {
                    snprintf(err, errlen, "a double quote is not closed");
                    goto fail;
                }
                s++;
            } else if (*s == '\\') {
                if (!s[1]) {
                    snprintf(err, errlen, "a backslash at the end of the line");
                    goto fail;
                }
                word[k++] = s[1];
                s += 2;
            } else {
                word[k++] = *s++;
            }
        }
        word[k] = 0;
        char *w = strdup(word);
        if (!w || push(&v, &n, &cap, w) != 0) {
            free(w);
            goto nomem;
        }
    }
    free(word);
    *argv = v;
    *argc = n;
    return 0;
nomem:
    snprintf(err, errlen, "%s", strerror(ENOMEM));
fail:
    free(word);
    hl_args_free(v);
    return -1;
}

void hl_args_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

void hl_arg_write(const char *s, FILE *out)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:=/+@%") == strlen(s)) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    fputc('\'', out);
}

/* ---- ids -------------------------------------------------------------------------------- */

/* FNV-1a, 64 bits, over the words each followed by a 0 byte: the spaces
 * between words do not count, a word boundary does. */
void hl_cell_id(char *const *argv, int argc, char out[HL_CELL_ID_LEN + 1])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < argc; i++) {
        for (const unsigned char *p = (const unsigned char *)argv[i];; p++) {
            h ^= *p;
            h *= 0x100000001b3ull;
            if (!*p)
                break;
        }
    }
    h ^= h >> 29; /* the low bits of FNV mix poorly; fold the high ones in */
    snprintf(out, HL_CELL_ID_LEN + 1, "%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

/* ---- the plan ----------------------------------------------------------------------------- */

/* Options a cell may not set: the sweep writes its CSV. */
static const char *sweep_owned(const char *arg)
{
    static const char *const owned[] = {"-f", "--format", "-o", "--output", "--save", "--timeline",
                                        "--heapmap", "-h", "--help"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        const char *o = owned[i];
        size_t l = strlen(o);
        if (strncmp(arg, o, l) != 0)
            continue;
        if (!arg[l] || (o[1] == '-' && arg[l] == '=') || o[1] != '-') /* -o, --output=F, -oFILE */
            return o;
    }
    return NULL;
}

static int plan_error(const char *cmd, const char *path, unsigned long line, const char *what)
{
    if (line)
        hl_cli_error(cmd, "%s:%lu: %s", path, line, what);
    else
        hl_cli_error(cmd, "%s: %s", path, what);
    return 2;
}

int hl_plan_load(const char *path, const char *cmd, struct hl_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->path = path;
    FILE *f = fopen(path, "r");
    if (!f)
        return plan_error(cmd, path, 0, strerror(errno));
    char *line = NULL, err[256], msg[512];
    size_t cap = 0, ncap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (strlen(line) != (size_t)len) {
            rc = plan_error(cmd, path, lineno, "binary data (a NUL byte): not a plan");
            break;
        }
        if (lineno == 1) {
            if (strcmp(line, HL_SWEEP_FORMAT) != 0) {
                rc = plan_error(cmd, path, 1, "not a heaplab sweep plan (the first line is not '" HL_SWEEP_FORMAT
                                              "'; heaplab sweep plan writes one)");
                break;
            }
            continue;
        }
        const char *s = line + strspn(line, " \t");
        if (*s == '#') {
            if (strncmp(s, "# plan: ", 8) == 0)
                snprintf(plan->id, sizeof plan->id, "%s", s + 8);
            else if (strncmp(s, "# heaplab: ", 11) == 0)
                snprintf(plan->version, sizeof plan->version, "%s", s + 11);
            continue;
        }
        if (!*s)
            continue;
        struct hl_cell c = {.lineno = lineno};
        if (hl_args_split(s, &c.argv, &c.argc, err, sizeof err) != 0) {
            rc = plan_error(cmd, path, lineno, err);
            break;
        }
        const char *bad = NULL;
        for (int i = 0; i < c.argc && !bad; i++)
            bad = sweep_owned(c.argv[i]);
        if (bad) {
            snprintf(msg, sizeof msg, "%s is the sweep's to set (a cell's results go to RESULTS/ID.csv)", bad);
            rc = plan_error(cmd, path, lineno, msg);
        }
        if (rc) {
            hl_args_free(c.argv);
            break;
        }
        hl_cell_id(c.argv, c.argc, c.id);
        for (size_t k = 0; k < plan->n; k++)
            if (strcmp(plan->cells[k].id, c.id) == 0) {
                snprintf(msg, sizeof msg, "the same cell as line %lu (id %s)", plan->cells[k].lineno, c.id);
                rc = plan_error(cmd, path, lineno, msg);
                break;
            }
        if (!rc && !(c.line = strdup(s)))
            rc = plan_error(cmd, path, lineno, strerror(ENOMEM));
        if (!rc && plan->n == ncap) {
            size_t nc = ncap ? ncap * 2 : 64;
            struct hl_cell *v = realloc(plan->cells, nc * sizeof *v);
            if (!v)
                rc = plan_error(cmd, path, lineno, strerror(ENOMEM));
            else {
                plan->cells = v;
                ncap = nc;
            }
        }
        if (rc) {
            free(c.line);
            hl_args_free(c.argv);
            break;
        }
        plan->cells[plan->n++] = c;
    }
    if (!rc && ferror(f))
        rc = plan_error(cmd, path, 0, strerror(errno));
    if (!rc && lineno == 0)
        rc = plan_error(cmd, path, 0, "empty: not a heaplab sweep plan");
    if (!rc && !plan->id[0])
        rc = plan_error(cmd, path, 0, "no '# plan: ID' line (heaplab sweep plan writes one)");
    free(line);
    fclose(f);
    return rc;
}

void hl_plan_free(struct hl_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->cells[i].line);
        hl_args_free(plan->cells[i].argv);
    }
    free(plan->cells);
    memset(plan, 0, sizeof *plan);
}

const struct hl_cell *hl_plan_find(const struct hl_plan *plan, const char *id)
{
    for (size_t i = 0; i < plan->n; i++)
        if (strcmp(plan->cells[i].id, id) == 0)
            return &plan->cells[i];
    return NULL;
}

/* ---- provenance ------------------------------------------------------------------------------ */

void hl_machine_name(char *buf, size_t len)
{
    struct utsname u;
    snprintf(buf, len, "%s", uname(&u) == 0 ? u.nodename : "unknown");
}

void hl_cpu_model(char *buf, size_t len)
{
    /* x86: "model name"; arm64 and others: "Model", "cpu model", "Processor" */
    static const char *const keys[] = {"model name", "cpu model", "Model", "Processor", "cpu"};
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, len, "unknown");
    if (!f)
        return;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            size_t kl = strlen(keys[k]);
            if (strncmp(line, keys[k], kl) != 0 || strspn(line + kl, " \t") + kl >= strlen(line) ||
                line[kl + strspn(line + kl, " \t")] != ':')
                continue;
            char *v = line + kl + strspn(line + kl, " \t") + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\r\n")] = 0;
            if (*v) {
                snprintf(buf, len, "%s", v);
                fclose(f);
                return;
            }
        }
    }
    fclose(f);
}

int hl_strs_add(struct hl_strs *s, const char *text)
{
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, c * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = c;
    }
    if (!(s->v[s->n] = strdup(text)))
        return -1;
    s->n++;
    return 0;
}

void hl_strs_free(struct hl_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

int hl_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char keep = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = keep;
            if (!keep)
                break;
        }
    }
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
