/*
 * mm_build.c - a CS:APP malloc-lab solution (-p mm:FILE) built and loaded:
 * the declarations read from its source, the compile cache, dlopen
 * (hl_mm_load; malloclab.h).
 *
 * An mm.c is compiled once per content into the cache
 * ($XDG_CACHE_HOME/heaplab, else ~/.cache/heaplab, else a folder of ours
 * under $TMPDIR) as mm-<key>.so, the key a hash of the source bytes, the
 * compiler (its path, size and date) and the command line, our headers
 * included.  The compiler gets a copy of the source in the cache that
 * starts with a #line naming the original, so its messages name the
 * student's file while `#include "mm.h"` finds heaplab's headers and not a
 * handout's mm.h that may sit beside the student's file (the student's
 * folder is still searched for other headers, after ours).  Handouts
 * declare mm_init and mm_checkheap differently (int mm_init or bool
 * mm_init; void, int or bool mm_checkheap(int)), so the source is read for
 * how it defines them: the compile line passes the matching declarations
 * to mm.h, and heaplab calls each function with the type it really has.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "mm_internal.h"
#include "util.h"

#ifndef HEAPLAB_MALLOCLAB_INCLUDE
#define HEAPLAB_MALLOCLAB_INCLUDE ""
#endif

const char *const hl_mm_cflags[] = {"-std=gnu11", "-O2", "-g", "-Wall", "-shared", "-fPIC", "-DDRIVER", NULL};

/* ---- reading the source for the declarations ---------------------------------------- */

/* A token of C, as far as declarations go: an identifier or number, or one
 * punctuation character.  Comments, string and character literals and
 * preprocessor lines are skipped. */
struct tok {
    const char *s;
    size_t n;
};

struct lexer {
    const char *s;
    size_t len, i;
    int line_start; /* only blanks since the last newline */
};

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int next_tok(struct lexer *lx, struct tok *t)
{
    const char *s = lx->s;
    size_t n = lx->len;
    while (lx->i < n) {
        char c = s[lx->i];
        if (c == '\n') {
            lx->line_start = 1;
            lx->i++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->i++;
        } else if (c == '\\' && lx->i + 1 < n && s[lx->i + 1] == '\n') {
            lx->i += 2;
        } else if (c == '#' && lx->line_start) { /* a directive, with its continuation lines */
            while (lx->i < n && s[lx->i] != '\n') {
                if (s[lx->i] == '\\' && lx->i + 1 < n && s[lx->i + 1] == '\n')
                    lx->i++;
                else if (s[lx->i] == '/' && lx->i + 1 < n && s[lx->i + 1] == '*') {
                    lx->i += 2;
                    while (lx->i + 1 < n && !(s[lx->i] == '*' && s[lx->i + 1] == '/'))
                        lx->i++;
                    lx->i++;
                }
                lx->i++;
            }
        } else if (c == '/' && lx->i + 1 < n && s[lx->i + 1] == '/') {
            while (lx->i < n && s[lx->i] != '\n')
                lx->i++;
        } else if (c == '/' && lx->i + 1 < n && s[lx->i + 1] == '*') {
            lx->i += 2;
            while (lx->i + 1 < n && !(s[lx->i] == '*' && s[lx->i + 1] == '/'))
                lx->i++;
            lx->i += 2;
        } else if (c == '"' || c == '\'') {
            lx->line_start = 0;
            t->s = s + lx->i;
            t->n = 1;
            for (lx->i++; lx->i < n && s[lx->i] != c && s[lx->i] != '\n'; lx->i++)
                if (s[lx->i] == '\\')
                    lx->i++;
            lx->i++;
            return 1;
        } else {
            lx->line_start = 0;
            t->s = s + lx->i;
            t->n = 1;
            if (is_word(c))
                while (lx->i + t->n < n && is_word(s[lx->i + t->n]))
                    t->n++;
            lx->i += t->n;
            return 1;
        }
    }
    return 0;
}

static int tok_is(const struct tok *t, const char *w) { return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0; }

struct decl {
    int found;
    int is_static;
    enum hl_mm_ret ret;
    int bool_word; /* the return type is spelled `bool` */
    int arg;       /* 0: (void) or (); 1: one integer parameter; -1: anything else */
};

/* The first file-scope declaration or definition of `name`: the word
 * before it is its return type, the parentheses after it its parameters. */
static struct decl find_decl(const char *src, size_t len, const char *name)
{
    struct decl d = {0, 0, HL_MM_RET_UNKNOWN, 0, 0};
    struct lexer lx = {src, len, 0, 1};
    struct tok t, prev = {"", 0};
    int depth = 0, is_static = 0;
    while (next_tok(&lx, &t)) {
        if (tok_is(&t, "{"))
            depth++;
        else if (tok_is(&t, "}"))
            depth = depth > 0 ? depth - 1 : 0;
        if (tok_is(&t, ";") || tok_is(&t, "{") || tok_is(&t, "}"))
            is_static = 0;
        else if (tok_is(&t, "static"))
            is_static = 1;
        if (depth == 0 && tok_is(&t, name) &&
            (tok_is(&prev, "int") || tok_is(&prev, "bool") || tok_is(&prev, "_Bool") || tok_is(&prev, "void"))) {
            struct tok p;
            if (!next_tok(&lx, &p) || !tok_is(&p, "("))
                continue;
            d.found = 1;
            d.is_static = is_static;
            d.bool_word = tok_is(&prev, "bool");
            d.ret = tok_is(&prev, "int") ? HL_MM_RET_INT : tok_is(&prev, "void") ? HL_MM_RET_VOID : HL_MM_RET_BOOL;
            /* parameters: none, or one of an integer type */
            int ntok = 0, commas = 0, star = 0, integer = 0, voidp = 0, nest = 1;
            while (nest > 0 && next_tok(&lx, &p)) {
                if (tok_is(&p, "("))
                    nest++;
                else if (tok_is(&p, ")") && --nest == 0)
                    break;
                ntok++;
                commas += tok_is(&p, ",");
                star += tok_is(&p, "*") || tok_is(&p, "[");
                if (ntok == 1)
                    voidp = tok_is(&p, "void");
                integer |= tok_is(&p, "int") || tok_is(&p, "long") || tok_is(&p, "short") || tok_is(&p, "unsigned") ||
                           tok_is(&p, "signed") || tok_is(&p, "int32_t") || tok_is(&p, "int64_t");
            }
            if (ntok == 0 || (ntok == 1 && voidp))
                d.arg = 0;
            else
                d.arg = !commas && !star && integer ? 1 : -1;
            return d;
        }
        prev = t;
    }
    return d;
}

static const char *ret_word(enum hl_mm_ret r)
{
    return r == HL_MM_RET_INT ? "int" : r == HL_MM_RET_BOOL ? "_Bool" : "void";
}

/* ---- the compile cache ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return (h ^ 0xff) * 0x100000001b3u; /* a separator: ("ab","c") differs from ("a","bc") */
}

static uint64_t fnv_file(uint64_t h, const char *path)
{
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fnv(h, path, strlen(path));
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        h = fnv(h, buf, (size_t)k);
    close(fd);
    return h;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                *p = '/';
                return -1;
            }
            *p = '/';
        }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return access(path, W_OK | X_OK);
}

/* $XDG_CACHE_HOME/heaplab, ~/.cache/heaplab, or $TMPDIR/heaplab-cache-UID
 * (a folder this user owns, not a link someone planted). */
static int cache_dir(char *out, size_t len)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (x && x[0] == '/' && (size_t)snprintf(out, len, "%s/heaplab", x) < len && mkdirs(out) == 0)
        return 0;
    if (home && home[0] == '/' && (size_t)snprintf(out, len, "%s/.cache/heaplab", home) < len && mkdirs(out) == 0)
        return 0;
    const char *tmp = getenv("TMPDIR");
    if ((size_t)snprintf(out, len, "%s/heaplab-cache-%u", tmp && tmp[0] == '/' ? tmp : "/tmp", (unsigned)getuid()) >=
        len)
        return -1;
    struct stat st;
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return -1;
    if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

/* heaplab's include/malloclab: $HEAPLAB_MM_INCLUDE, the project's as the
 * build knew it, or beside the executable (../include/malloclab). */
static int include_dir(char *out, size_t len)
{
    char mm[PATH_MAX + 8];
    const char *env = getenv("HEAPLAB_MM_INCLUDE");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        snprintf(mm, sizeof mm, "%s/mm.h", out);
        return access(mm, R_OK);
    }
    snprintf(out, len, "%s", HEAPLAB_MALLOCLAB_INCLUDE);
    snprintf(mm, sizeof mm, "%s/mm.h", out);
    if (out[0] && access(mm, R_OK) == 0)
        return 0;
    char exe[PATH_MAX - 32];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0)
        return -1;
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    snprintf(out, len, "%s/../include/malloclab", exe);
    snprintf(mm, sizeof mm, "%s/mm.h", out);
    return access(mm, R_OK);
}

static int read_all(const char *path, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)64 << 20) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        return -1;
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len + 1);
    size_t got = 0;
    while (*buf && got < *len) {
        ssize_t k = read(fd, *buf + got, *len - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!*buf || got != *len) {
        free(*buf);
        *buf = NULL;
        errno = errno ? errno : EIO;
        return -1;
    }
    (*buf)[*len] = 0;
    return 0;
}

static int write_all(const char *path, const char *a, size_t alen, const char *b, size_t blen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *part[2] = {a, b};
    size_t plen[2] = {alen, blen};
    for (int i = 0; i < 2; i++)
        for (size_t done = 0; done < plen[i];) {
            ssize_t k = write(fd, part[i] + done, plen[i] - done);
            if (k <= 0) {
                close(fd);
                return -1;
            }
            done += (size_t)k;
        }
    return close(fd);
}

#define MAX_ARGS 32
#define MAX_USER_FLAGS 32 /* words of $HEAPLAB_MM_CFLAGS */

/* Run argv (the compiler), its output on our stderr; its exit status, or -1. */
static int run_compiler(char *const argv[])
{
    int status;
    pid_t pid = hl_child_spawn(argv[0], argv, NULL, 0);
    if (pid < 0 || hl_child_wait(pid, &status) < 0)
        return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Compile file (its bytes in src) into the cache unless it is there:
 * the .so's path in so. */
static int compile(const char *file, const char *src, size_t len, struct hl_mm *m, char *err, size_t errlen)
{
    char cc[PATH_MAX], inc[PATH_MAX], dir[PATH_MAX], cache[PATH_MAX - 64];
    const char *ccname = getenv("HEAPLAB_MM_CC");
    if (!ccname || !*ccname)
        ccname = "cc";
    if (hl_path_search(ccname, cc, sizeof cc) != 0) {
        snprintf(err, errlen, "mm:%s: no C compiler '%s' (set HEAPLAB_MM_CC)", file, ccname);
        return -1;
    }
    if (include_dir(inc, sizeof inc) != 0) {
        snprintf(err, errlen, "mm:%s: cannot find heaplab's include/malloclab headers (set HEAPLAB_MM_INCLUDE)", file);
        return -1;
    }
    if (cache_dir(cache, sizeof cache) != 0) {
        snprintf(err, errlen, "mm:%s: no folder to cache the compiled solution in: %s", file, strerror(errno));
        return -1;
    }
    /* the student's folder, for headers of its own (after ours) */
    char given[PATH_MAX];
    snprintf(given, sizeof given, "%s", file);
    char *slash = strrchr(given, '/');
    if (slash)
        *(slash == given ? slash + 1 : slash) = 0;
    else
        snprintf(given, sizeof given, ".");
    if (!realpath(given, dir))
        snprintf(dir, sizeof dir, "%s", given);

    /* how the solution declares mm_init and its checker */
    struct decl init = find_decl(src, len, "mm_init");
    struct decl chk = find_decl(src, len, "mm_checkheap");
    m->init_ret = init.found ? init.ret : HL_MM_RET_UNKNOWN;
    m->check_name = NULL;
    if (chk.found && !chk.is_static && chk.arg >= 0) {
        m->check_name = "mm_checkheap";
    } else {
        struct decl alt = find_decl(src, len, "mm_check");
        if (alt.found && !alt.is_static && alt.arg >= 0) {
            chk = alt;
            m->check_name = "mm_check";
        } /* else none, or one whose parameters we cannot pass: never called */
    }
    m->check_ret = m->check_name ? chk.ret : HL_MM_RET_UNKNOWN;
    m->check_arg = chk.arg > 0;

    char def_init[64] = "", def_ret[64] = "", def_args[64] = "";
    char *argv[MAX_ARGS + MAX_USER_FLAGS];
    int k = 0;
    argv[k++] = cc;
    for (int i = 0; hl_mm_cflags[i]; i++)
        argv[k++] = (char *)hl_mm_cflags[i];
    if (init.found) {
        snprintf(def_init, sizeof def_init, "-DHEAPLAB_MM_INIT_RET=%s", ret_word(init.ret));
        argv[k++] = def_init;
    }
    if (m->check_name && strcmp(m->check_name, "mm_checkheap") == 0) {
        snprintf(def_ret, sizeof def_ret, "-DHEAPLAB_MM_CHECKHEAP_RET=%s", ret_word(chk.ret));
        snprintf(def_args, sizeof def_args, "-DHEAPLAB_MM_CHECKHEAP_ARGS=%s", chk.arg ? "int" : "void");
        argv[k++] = def_ret;
        argv[k++] = def_args;
    }
    if (init.bool_word || (chk.found && chk.bool_word))
        argv[k++] = "-DHEAPLAB_MM_STDBOOL";
    argv[k++] = "-I";
    argv[k++] = inc;
    argv[k++] = "-I";
    argv[k++] = dir;
    /* the student's own flags, after ours so they win (-O0, -DDEBUG, -Werror) */
    char user[4096];
    const char *env = getenv("HEAPLAB_MM_CFLAGS");
    snprintf(user, sizeof user, "%s", env ? env : "");
    int nuser = 0;
    for (char *save = NULL, *w = strtok_r(user, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        if (++nuser > MAX_USER_FLAGS) {
            snprintf(err, errlen, "mm:%s: HEAPLAB_MM_CFLAGS: more than %d words", file, MAX_USER_FLAGS);
            return -1;
        }
        argv[k++] = w;
    }
    int nflags = k;

    /* the key: the source, the compiler, the command line, our headers */
    struct stat st;
    uint64_t h = 0xcbf29ce484222325u;
    h = fnv(h, "heaplab-mm-1", 12);
    h = fnv(h, src, len);
    if (stat(cc, &st) == 0) {
        h = fnv(h, &st.st_size, sizeof st.st_size);
        h = fnv(h, &st.st_mtime, sizeof st.st_mtime);
    }
    for (int i = 0; i < nflags; i++)
        h = fnv(h, argv[i], strlen(argv[i]));
    static const char *const headers[] = {"mm.h", "memlib.h", "config.h"};
    for (size_t i = 0; i < 3; i++) {
        char hp[PATH_MAX + 16];
        snprintf(hp, sizeof hp, "%s/%s", inc, headers[i]);
        h = fnv_file(h, hp);
    }
    char c_path[PATH_MAX + 64], tmp_c[PATH_MAX + 96], tmp_so[PATH_MAX + 96];
    snprintf(m->so, sizeof m->so, "%s/mm-%016llx.so", cache, (unsigned long long)h);
    if (access(m->so, R_OK) == 0) {
        m->compiled = 0;
        return 0;
    }

    /* the copy the compiler reads: a #line naming the original first */
    snprintf(c_path, sizeof c_path, "%s/mm-%016llx.c", cache, (unsigned long long)h);
    snprintf(tmp_c, sizeof tmp_c, "%s.%ld.tmp", c_path, (long)getpid());
    snprintf(tmp_so, sizeof tmp_so, "%s.%ld.tmp", m->so, (long)getpid());
    char line[PATH_MAX * 2 + 32];
    size_t ll = (size_t)snprintf(line, sizeof line, "#line 1 \"");
    for (const char *p = file; *p && ll + 4 < sizeof line; p++) {
        if (*p == '"' || *p == '\\')
            line[ll++] = '\\';
        line[ll++] = *p;
    }
    ll += (size_t)snprintf(line + ll, sizeof line - ll, "\"\n");
    if (write_all(tmp_c, line, ll, src, len) != 0 || rename(tmp_c, c_path) != 0) {
        snprintf(err, errlen, "mm:%s: cannot write %s: %s", file, c_path, strerror(errno));
        unlink(tmp_c);
        return -1;
    }
    argv[k++] = "-o";
    argv[k++] = tmp_so;
    argv[k++] = c_path;
    argv[k] = NULL;
    fprintf(stderr, "heaplab: compiling %s -> %s\n", file, m->so);
    int rc = run_compiler(argv);
    if (rc != 0) {
        unlink(tmp_so);
        if (rc < 0)
            snprintf(err, errlen, "mm:%s: cannot run %s: %s", file, cc, strerror(errno));
        else
            snprintf(err, errlen, "mm:%s: compilation failed (%s exited with status %d)", file, cc, rc);
        return -1;
    }
    if (rename(tmp_so, m->so) != 0) {
        snprintf(err, errlen, "mm:%s: cannot write %s: %s", file, m->so, strerror(errno));
        unlink(tmp_so);
        return -1;
    }
    m->compiled = 1;
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

pid_t mm_loader_pid;

static hl_mm_fn sym(void *handle, const char *name)
{
    hl_mm_fn f;
    void *p = dlsym(handle, name);
    memcpy(&f, &p, sizeof f);
    return f;
}

int hl_mm_load(const char *file, size_t max_heap, struct hl_mm *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    mm_loader_pid = getpid();
    snprintf(m->path, sizeof m->path, "%s", file);
    const char *base = strrchr(file, '/');
    snprintf(m->label, sizeof m->label, "mm:%s", base ? base + 1 : file);
    m->max_heap = max_heap ? max_heap : HL_MM_DEFAULT_MAX_HEAP;
    m->timeout = HL_MM_DEFAULT_TIMEOUT;
    if (!*file) {
        snprintf(err, errlen, "mm:: expected mm:FILE (an mm.c or a built .so)");
        return -1;
    }
    int is_so = hl_ends_with(file, ".so") || strstr(file, ".so.") != NULL;
    if (is_so) {
        if (access(file, R_OK) != 0) {
            snprintf(err, errlen, "mm:%s: %s", file, strerror(errno));
            return -1;
        }
        /* dlopen searches the library path for a name without a slash */
        snprintf(m->so, sizeof m->so, "%s%s", strchr(file, '/') ? "" : "./", file);
        m->init_ret = HL_MM_RET_UNKNOWN;
        m->check_ret = HL_MM_RET_UNKNOWN;
    } else {
        char *src = NULL;
        size_t len = 0;
        if (read_all(file, &src, &len) != 0) {
            snprintf(err, errlen, "mm:%s: cannot read it: %s", file, strerror(errno));
            return -1;
        }
        int rc = compile(file, src, len, m, err, errlen);
        free(src);
        if (rc != 0)
            return -1;
    }
    m->handle = dlopen(m->so, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        const char *why = dlerror();
        const char *undef = why ? strstr(why, "undefined symbol: mm_") : NULL;
        if (undef)
            snprintf(err, errlen, "mm:%s: the solution calls %s but does not define it", file,
                     undef + strlen("undefined symbol: "));
        else
            snprintf(err, errlen, "mm:%s: cannot load %s: %s", file, m->so, why ? why : "unknown error");
        return -1;
    }
    static const char *const required[] = {"mm_init", "mm_malloc", "mm_free", "mm_realloc"};
    hl_mm_fn *slot[] = {&m->init, &m->malloc, &m->free, &m->realloc};
    for (size_t i = 0; i < 4; i++) {
        *slot[i] = sym(m->handle, required[i]);
        if (!*slot[i]) {
            Dl_info info;
            void *libc_name = dlsym(m->handle, required[i] + 3);
            int renamed = libc_name && dladdr(libc_name, &info) && info.dli_fname && hl_ends_with(info.dli_fname, m->so);
            snprintf(err, errlen, "mm:%s: the solution does not define %s%s", file, required[i],
                     renamed ? " (it defines the libc name: a CMU solution renames it under #ifdef DRIVER)" : "");
            hl_mm_unload(m);
            return -1;
        }
    }
    m->calloc = sym(m->handle, "mm_calloc");
    if (is_so) { /* the checker by its usual name, called as void (int): its result is not read */
        m->check_name = sym(m->handle, "mm_checkheap") ? "mm_checkheap" : NULL;
        m->check_arg = 1;
        m->check_ret = HL_MM_RET_UNKNOWN;
    }
    m->check = m->check_name ? sym(m->handle, m->check_name) : NULL;
    return 0;
}

void hl_mm_unload(struct hl_mm *m)
{
    if (m->handle)
        dlclose(m->handle);
    m->handle = NULL;
}
