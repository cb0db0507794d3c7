/*
 * check_plot.c - heaplab plot, through the binary ($HEAPLAB_BIN): every
 * chart kind with both backends, drawn from small CSVs (and a trace) the
 * tests write, must give a PNG of the requested size that is not one flat
 * colour, and an SVG that says that size and holds colours; bad input gets
 * one line and exit status 2; a missing plotting stack names the Debian
 * package; a script that fails leaves no chart behind; the data handed to
 * the scripts is what the CSV said (lines grouped per policy, the heap map
 * binned by majority, a cell with used and free bytes mixed, a malloc-lab
 * solution's gaps unknown and never free, --addr and --ops zooming in);
 * every registry policy, and a variant of each, gets a style of its own in
 * both backends, the heap map's states stay apart in greyscale, and
 * heaplab hands the scripts the registry.
 *
 * A backend that is not installed is skipped with a line saying so
 * (scripts/install-deps installs both).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "heaplab/policies.h"
#include "output.h"
#include "testutil.h"

#define W 800
#define H 600

static char tmpdir[512];

static void make_tmpdir(void) { tl_make_tmpdir(tmpdir, sizeof tmpdir, "plot-test"); }

/* tmp_path's strings, freed when the test ends */
static char *paths[256];
static size_t npaths;

static void setup_tmp(void) { make_tmpdir(); }
static void teardown_tmp(void)
{
    tl_remove_tree(tmpdir);
    while (npaths)
        free(paths[--npaths]);
}

/* tmpdir/name, valid until the test ends. */
static const char *tmp_path(const char *name)
{
    ck_assert_uint_lt(npaths, sizeof paths / sizeof paths[0]);
    char *b = malloc(strlen(tmpdir) + strlen(name) + 2);
    ck_assert_ptr_nonnull(b);
    sprintf(b, "%s/%s", tmpdir, name);
    return paths[npaths++] = b;
}

__attribute__((format(printf, 2, 3))) static void write_text(const char *name, const char *fmt, ...)
{
    FILE *f = fopen(tmp_path(name), "w");
    ck_assert_msg(f != NULL, "%s: %s", name, strerror(errno));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    ck_assert_ptr_nonnull(b);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
            ck_assert_ptr_nonnull(b);
        }
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

/* ---- running heaplab ---------------------------------------------------------------- */

static const char *heaplab(void)
{
    const char *bin = getenv("HEAPLAB_BIN");
    return bin && *bin ? bin : NULL;
}

#define NEED_BIN()                                                                                 \
    do {                                                                                           \
        if (!heaplab()) {                                                                          \
            fprintf(stderr, "plot: %s: SKIPPED: HEAPLAB_BIN is not set (run 'make test')\n", __func__); \
            return;                                                                                \
        }                                                                                          \
    } while (0)

struct result {
    int status; /* exit status, or -1 when killed */
    char err[4096];
    int err_lines;
    char out[4096]; /* stdout */
};

/* Run heaplab with argv (NULL-terminated, without the program) and
 * optional NAME=VALUE settings (several: one a line) in its environment;
 * its stdout and stderr are kept. */
static struct result run_env(const char *env, const char *const *argv)
{
    struct result r;
    memset(&r, 0, sizeof r);
    char errpath[1024], outpath[1024];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
    snprintf(outpath, sizeof outpath, "%s/stdout.txt", tmpdir);
    const char *args[32];
    int n = 0;
    args[n++] = heaplab();
    for (; argv[n - 1] && n < 31; n++)
        args[n] = argv[n - 1];
    args[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fo = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || fo < 0)
            _exit(126);
        dup2(fd, 2);
        dup2(fo, 1);
        if (env) {
            char kv[2048];
            snprintf(kv, sizeof kv, "%s", env);
            for (char *save = NULL, *one = strtok_r(kv, "\n", &save); one; one = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(one, '=');
                *eq = '\0';
                setenv(one, eq + 1, 1);
            }
        }
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char *e = slurp(errpath, NULL), *o = slurp(outpath, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(o);
    snprintf(r.out, sizeof r.out, "%s", o);
    free(o);
    snprintf(r.err, sizeof r.err, "%s", e);
    for (char *p = e; *p; p++)
        r.err_lines += *p == '\n';
    free(e);
    return r;
}

#define RUN(...) run_env(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_ENV(env, ...) run_env(env, (const char *const[]){__VA_ARGS__, NULL})

/* A run that must fail with exit status 2 and one line holding `frag`. */
#define ASSERT_ONE_LINE_ERROR(r, frag)                                                             \
    do {                                                                                           \
        ck_assert_msg((r).status == 2, "exit status %d, want 2; stderr: %s", (r).status, (r).err); \
        ck_assert_msg((r).err_lines == 1, "%d lines on stderr, want 1: %s", (r).err_lines, (r).err); \
        ck_assert_msg(strstr((r).err, frag) != NULL, "want \"%s\" in: %s", frag, (r).err);         \
    } while (0)

/* Whether a run failed only because its plotting stack is missing; then
 * the test says SKIPPED. */
static int stack_missing(const struct result *r, const char *what)
{
    if (r->status == 2 && strstr(r->err, "is not installed: apt-get install")) {
        fprintf(stderr, "plot: %s: SKIPPED: %s", what, r->err);
        return 1;
    }
    return 0;
}

/* ---- PNG ------------------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

struct image {
    uint32_t w, h;
    int colours;   /* distinct pixel values, counted up to 16 */
    int chromatic; /* a pixel with a hue: max - min of R, G, B above 60 */
};

/* Decode an 8-bit, non-interlaced PNG (what cairo and Agg write) far
 * enough to count its colours.  0, or -1 with a reason in why. */
static int png_read(const char *path, struct image *im, char *why, size_t whylen)
{
    size_t len;
    unsigned char *b = (unsigned char *)slurp(path, &len);
    unsigned char *idat = NULL, *raw = NULL, palette[768];
    size_t nidat = 0, npal = 0;
    int depth = 0, ctype = -1, interlace = 0, rc = -1;
    memset(im, 0, sizeof *im);
    if (!b) {
        snprintf(why, whylen, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (len < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0) {
        snprintf(why, whylen, "no PNG signature");
        goto out;
    }
    for (size_t at = 8; at + 12 <= len;) {
        uint32_t n = be32(b + at);
        const unsigned char *type = b + at + 4, *d = b + at + 8;
        if (n > len - at - 12) {
            snprintf(why, whylen, "a chunk runs past the end of the file");
            goto out;
        }
        if (memcmp(type, "IHDR", 4) == 0 && n >= 13) {
            im->w = be32(d);
            im->h = be32(d + 4);
            depth = d[8];
            ctype = d[9];
            interlace = d[12];
        } else if (memcmp(type, "PLTE", 4) == 0 && n <= sizeof palette) {
            memcpy(palette, d, n);
            npal = n / 3;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            idat = realloc(idat, nidat + n);
            ck_assert_ptr_nonnull(idat);
            memcpy(idat + nidat, d, n);
            nidat += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            break;
        }
        at += 12 + (size_t)n;
    }
    int ch = ctype == 0 ? 1 : ctype == 2 ? 3 : ctype == 3 ? 1 : ctype == 4 ? 2 : ctype == 6 ? 4 : 0;
    if (!im->w || !im->h || depth != 8 || !ch || interlace) {
        snprintf(why, whylen, "IHDR %ux%u depth %d colour type %d interlace %d: not what the test decodes",
                 im->w, im->h, depth, ctype, interlace);
        goto out;
    }
    size_t stride = (size_t)im->w * (size_t)ch;
    uLongf rawlen = (uLongf)((stride + 1) * im->h);
    raw = malloc(rawlen);
    ck_assert_ptr_nonnull(raw);
    if (uncompress(raw, &rawlen, idat, (uLong)nidat) != Z_OK || rawlen != (stride + 1) * im->h) {
        snprintf(why, whylen, "the image data does not inflate to %ux%u pixels", im->w, im->h);
        goto out;
    }
    uint32_t seen[16];
    for (uint32_t y = 0; y < im->h; y++) {
        unsigned char *row = raw + y * (stride + 1), *cur = row + 1;
        unsigned char *prev = y ? raw + (y - 1) * (stride + 1) + 1 : NULL;
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)ch ? cur[i - ch] : 0, up = prev ? prev[i] : 0;
            int c = i >= (size_t)ch && prev ? prev[i - ch] : 0;
            switch (row[0]) {
            case 0: break;
            case 1: cur[i] = (unsigned char)(cur[i] + a); break;
            case 2: cur[i] = (unsigned char)(cur[i] + up); break;
            case 3: cur[i] = (unsigned char)(cur[i] + (a + up) / 2); break;
            case 4: cur[i] = (unsigned char)(cur[i] + paeth(a, up, c)); break;
            default:
                snprintf(why, whylen, "row %u: filter type %d", y, row[0]);
                goto out;
            }
        }
        for (uint32_t x = 0; x < im->w; x++) {
            const unsigned char *px = cur + (size_t)x * ch;
            unsigned r, g, bl;
            if (ctype == 3) {
                if (px[0] >= npal) {
                    snprintf(why, whylen, "palette index %d out of range", px[0]);
                    goto out;
                }
                r = palette[3 * px[0]], g = palette[3 * px[0] + 1], bl = palette[3 * px[0] + 2];
            } else if (ch >= 3) {
                r = px[0], g = px[1], bl = px[2];
            } else {
                r = g = bl = px[0];
            }
            uint32_t v = r << 16 | g << 8 | bl;
            unsigned hi = r > g ? (r > bl ? r : bl) : (g > bl ? g : bl);
            unsigned lo = r < g ? (r < bl ? r : bl) : (g < bl ? g : bl);
            if (hi - lo > 60 && (ctype != 6 || px[3] > 128))
                im->chromatic = 1;
            int known = 0;
            for (int k = 0; k < im->colours; k++)
                known |= seen[k] == v;
            if (!known && im->colours < 16)
                seen[im->colours++] = v;
        }
    }
    rc = 0;
out:
    free(b);
    free(idat);
    free(raw);
    return rc;
}

/* ---- SVG ------------------------------------------------------------------------------ */

/* The number in attribute `name` of the tag at `tag` (up to its '>'). */
static long svg_attr(const char *tag, const char *name)
{
    const char *end = strchr(tag, '>');
    size_t n = strlen(name);
    for (const char *p = tag; end && p < end; p++)
        if ((p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\t') && strncmp(p, name, n) == 0 && p[n] == '=' &&
            (p[n + 1] == '"' || p[n + 1] == '\''))
            return strtol(p + n + 2, NULL, 10);
    return -1;
}

/* The colour written at p - #rrggbb or rgb(r, g, b) - into *v: 1, or 0
 * when none starts there. */
static int svg_colour(const char *p, uint32_t *v)
{
    unsigned r, g, b;
    if (*p == '#' && strspn(p + 1, "0123456789abcdefABCDEF") == 6) {
        *v = (uint32_t)strtoul((char[]){p[1], p[2], p[3], p[4], p[5], p[6], 0}, NULL, 16);
        return 1;
    }
    if (strncmp(p, "rgb(", 4) == 0 && sscanf(p + 4, "%u ,%u ,%u", &r, &g, &b) == 3) {
        *v = r << 16 | g << 8 | b;
        return 1;
    }
    return 0;
}

/* Whether the SVG at path draws anything in colour 0xRRGGBB. */
static int svg_has_colour(const char *path, uint32_t want)
{
    char *s = slurp(path, NULL);
    ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
    uint32_t v;
    int has = 0;
    for (const char *p = s; *p && !has; p++)
        has = svg_colour(p, &v) && v == want;
    free(s);
    return has;
}

static void svg_read(const char *path, struct image *im)
{
    memset(im, 0, sizeof *im);
    char *s = slurp(path, NULL);
    ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
    const char *tag = s;
    while ((tag = strstr(tag, "<svg")) && tag[4] != ' ' && tag[4] != '\n' && tag[4] != '\t')
        tag += 4;
    ck_assert_msg(tag != NULL, "%s: no <svg> element", path);
    long w = svg_attr(tag, "width"), h = svg_attr(tag, "height");
    im->w = w > 0 ? (uint32_t)w : 0;
    im->h = h > 0 ? (uint32_t)h : 0;
    /* colours: #rrggbb and rgb(r, g, b) */
    uint32_t seen[16];
    for (const char *p = s; *p; p++) {
        uint32_t v;
        if (!svg_colour(p, &v))
            continue;
        unsigned r = v >> 16, g = v >> 8 & 255, b = v & 255;
        unsigned hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
        unsigned lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
        im->chromatic |= hi - lo > 60;
        int known = 0;
        for (int k = 0; k < im->colours; k++)
            known |= seen[k] == v;
        if (!known && im->colours < 16)
            seen[im->colours++] = v;
    }
    free(s);
}

/* ---- the inputs ------------------------------------------------------------------------ */

static const char *const policies[] = {"first-fit", "best-fit", "tlsf", "buddy"};
#define NPOL (sizeof policies / sizeof policies[0])

/* results.csv as heaplab replay -f csv writes it: two traces, four
 * policies, and baseline:glibc rows (no heap columns) when `glibc`. */
static void write_results(const char *name, int glibc, const char *first_column)
{
    FILE *f = fopen(tmp_path(name), "w");
    ck_assert_ptr_nonnull(f);
    if (first_column)
        fprintf(f, "%s,", first_column);
    hl_output_csv_header(f);
    fputc('\n', f);
    static const char *const traces[] = {"traces/a-bal.rep", "traces/b-bal.rep"};
    for (int t = 0; t < 2; t++)
        for (size_t p = 0; p < NPOL + (size_t)(glibc != 0); p++) {
            struct hl_result r;
            hl_result_init(&r);
            snprintf(r.trace, sizeof r.trace, "%s", traces[t]);
            snprintf(r.policy, sizeof r.policy, "%s", p < NPOL ? policies[p] : "baseline:glibc");
            snprintf(r.status, sizeof r.status, "ok");
            r.ops = 1000;
            if (p < NPOL) {
                r.util = 0.5 + 0.1 * (double)p + 0.05 * t;
                r.peak_live_bytes = 1000;
                r.peak_heap_bytes = (uint64_t)(1000 / r.util);
            }
            r.ops_per_sec = 1e6 * (double)(p + 1) * (t + 1);
            r.ops_per_sec_median = r.ops_per_sec * 0.9;
            r.ops_per_sec_min = r.ops_per_sec * 0.8;
            if (first_column)
                fprintf(f, "%d,", t ? 10000 : 1000);
            hl_output_csv_row(&r, f);
        }
    ck_assert_int_eq(fclose(f), 0);
}

static void write_timeline(const char *name)
{
    FILE *f = fopen(tmp_path(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs("trace,policy,op,live_bytes,heap_bytes,free_bytes,largest_free,internal_frag,external_frag\n", f);
    for (int t = 0; t < 2; t++)
        for (size_t p = 0; p < NPOL; p++)
            for (int op = 0; op <= 200; op += 10) {
                unsigned live = (unsigned)(op * 100), heap = live + (unsigned)(p * op * 20) + 4096;
                fprintf(f, "t%d.rep,%s,%d,%u,%u,%u,%u,%.4f,%.4f\n", t, policies[p], op, live, heap, heap - live,
                        (heap - live) / 2, 0.05 * (double)p, op ? 0.5 + 0.1 * (double)p * (op % 30) / 30.0 : 0);
            }
    ck_assert_int_eq(fclose(f), 0);
}

/* Snapshots every 10 ops of a heap that grows; each policy leaves its own
 * holes; the last block of buddy is mapped. */
static void write_heapmap(const char *name)
{
    FILE *f = fopen(tmp_path(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs("trace,policy,op,offset,size,header_bytes,state\n", f);
    for (size_t p = 0; p < NPOL; p++)
        for (int op = 10; op <= 100; op += 10) {
            uint64_t off = 0;
            fprintf(f, "t.rep,%s,%d,0,16,16,used\n", policies[p], op);
            off = 16;
            for (int b = 0; b < op / 5; b++) {
                uint64_t size = 64 + 32 * (uint64_t)((b + p) % 4);
                int is_free = (b + (int)p) % 3 == 0;
                fprintf(f, "t.rep,%s,%d,%llu,%llu,%d,%s\n", policies[p], op, (unsigned long long)off,
                        (unsigned long long)size, is_free ? 0 : 8, is_free ? "free" : "used");
                off += size;
            }
            if (p == 3)
                fprintf(f, "t.rep,%s,%d,%llu,4096,16,mapped\n", policies[p], op, (unsigned long long)off);
        }
    ck_assert_int_eq(fclose(f), 0);
}

/* A heap map of two malloc-lab solutions and a policy, a byte a column:
 * mm:m.c as heaplab writes it now (its gaps unknown), mm:old.c as it was
 * written before (its gaps free), ff with headers and a free block. */
static void write_unknown_map(const char *name)
{
    write_text(name, "trace,policy,op,offset,size,header_bytes,state\n"
                     "t.rep,mm:m.c,5,0,8,0,unknown\n"
                     "t.rep,mm:m.c,5,8,16,0,used\n"
                     "t.rep,mm:m.c,5,24,24,0,unknown\n"
                     "t.rep,mm:old.c,5,0,8,0,free\n"
                     "t.rep,mm:old.c,5,8,40,0,used\n"
                     "t.rep,ff,5,0,8,8,used\n"
                     "t.rep,ff,5,8,16,4,used\n"
                     "t.rep,ff,5,24,24,0,free\n");
}

static void write_trace(const char *name)
{
    FILE *f = fopen(tmp_path(name), "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "0\n%d\n%d\n1\n", 60, 120);
    for (int i = 0; i < 60; i++)
        fprintf(f, "a %d %d\n", i, 8 << (i % 9));
    for (int i = 0; i < 60; i++)
        fprintf(f, "f %d\n", i);
    ck_assert_int_eq(fclose(f), 0);
}

static const char *const kinds[] = {"timeline", "frag", "util", "throughput", "heapmap", "sizes", "scaling"};
#define NKINDS (sizeof kinds / sizeof kinds[0])
static const char *const backends[] = {"matplotlib", "gnuplot"};

/* The input a kind's test draws (written into tmpdir). */
static const char *input_for(const char *kind)
{
    if (strcmp(kind, "timeline") == 0 || strcmp(kind, "frag") == 0) {
        write_timeline("timeline.csv");
        return tmp_path("timeline.csv");
    }
    if (strcmp(kind, "util") == 0 || strcmp(kind, "throughput") == 0) {
        write_results("results.csv", 1, NULL);
        return tmp_path("results.csv");
    }
    if (strcmp(kind, "heapmap") == 0) {
        write_heapmap("heapmap.csv");
        return tmp_path("heapmap.csv");
    }
    if (strcmp(kind, "sizes") == 0) {
        write_trace("t.rep");
        return tmp_path("t.rep");
    }
    write_results("scaling.csv", 1, "live_blocks");
    return tmp_path("scaling.csv");
}

/* ---- every kind with both backends --------------------------------------------------- */

START_TEST(every_kind_draws_a_png_and_an_svg_of_the_size_asked)
{
    NEED_BIN();
    const char *kind = kinds[_i / 2], *backend = backends[_i % 2];
    const char *in = input_for(kind);
    const char *png = tmp_path("chart.png"), *svg = tmp_path("chart.svg");
    char what[128];
    snprintf(what, sizeof what, "%s with %s", kind, backend);

    struct result r = RUN("plot", kind, in, "-o", png, "--backend", backend, "--size", "800x600");
    if (stack_missing(&r, what))
        return;
    ck_assert_msg(r.status == 0, "%s: exit status %d: %s", what, r.status, r.err);
    struct image im;
    char why[256];
    ck_assert_msg(png_read(png, &im, why, sizeof why) == 0, "%s: %s: %s", what, png, why);
    ck_assert_msg(im.w == W && im.h == H, "%s: the PNG is %ux%u, asked for %dx%d", what, im.w, im.h, W, H);
    ck_assert_msg(im.colours > 1, "%s: the PNG is one flat colour", what);
    ck_assert_msg(im.chromatic, "%s: the PNG has no coloured pixel: no data drawn?", what);

    r = RUN("plot", kind, in, "-o", svg, "-b", backend, "-s", "800x600");
    ck_assert_msg(r.status == 0, "%s (svg): exit status %d: %s", what, r.status, r.err);
    svg_read(svg, &im);
    ck_assert_msg(im.w == W && im.h == H, "%s: the SVG says %ux%u, asked for %dx%d", what, im.w, im.h, W, H);
    ck_assert_msg(im.colours >= 3, "%s: the SVG has %d colours", what, im.colours);
    ck_assert_msg(im.chromatic, "%s: the SVG has no colour with a hue: no data drawn?", what);

    /* nothing left behind beside the chart */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(d)))
        ck_assert_msg(!strstr(e->d_name, ".partial-"), "%s: %s left behind", what, e->d_name);
    closedir(d);
}
END_TEST

START_TEST(other_sizes_are_honoured)
{
    NEED_BIN();
    const char *in = input_for("util");
    const char *png = tmp_path("wide.png");
    for (int b = 0; b < 2; b++) {
        struct result r = RUN("plot", "util", in, "-o", png, "-b", backends[b], "-s", "1234x517");
        if (stack_missing(&r, backends[b]))
            continue;
        ck_assert_msg(r.status == 0, "%s: %s", backends[b], r.err);
        struct image im;
        char why[256];
        ck_assert_msg(png_read(png, &im, why, sizeof why) == 0, "%s", why);
        ck_assert_msg(im.w == 1234 && im.h == 517, "%s: %ux%u", backends[b], im.w, im.h);
    }
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------- */

START_TEST(unknown_kind_and_bad_options)
{
    NEED_BIN();
    const char *in = input_for("util"), *png = tmp_path("x.png");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "pie", in, "-o", png), "unknown chart kind 'pie'");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in, "-o", tmp_path("x.jpg")), ".png, .svg or .pdf");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in), "no output file");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", "-o", png), "no input");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in, "-o", png, "--size", "800"), "--size");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in, "-o", png, "--size", "10x10"), "--size");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in, "-o", png, "--backend", "excel"), "--backend");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in, "-o", png, "--trace", "nope.rep"), "--trace nope.rep: not in");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", in, "-o", tmp_path("no/such/dir/x.png")), "cannot write there");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

START_TEST(missing_and_malformed_csvs_get_one_line)
{
    NEED_BIN();
    const char *png = tmp_path("x.png");
    const char *missing = tmp_path("missing.csv");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", missing, "-o", png), "missing.csv: cannot open: No such file");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmpdir, "-o", png), "cannot open: Is a directory");

    write_text("empty.csv", "%s", "");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("empty.csv"), "-o", png), "empty.csv: empty");
    write_text("header.csv", "trace,policy,util\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("header.csv"), "-o", png), "header.csv: no rows");
    write_text("nocol.csv", "trace,policy,utilisation\nt,first-fit,0.5\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("nocol.csv"), "-o", png), "nocol.csv: missing column util");
    write_text("nan.csv", "trace,policy,util\nt,first-fit,0.5\nt,best-fit,abc\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("nan.csv"), "-o", png),
                          "nan.csv:3: util: 'abc' is not a number");
    write_text("inf.csv", "trace,policy,util\nt,first-fit,inf\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("inf.csv"), "-o", png), "inf.csv:2: util");
    write_text("fields.csv", "trace,policy,util\nt,first-fit\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("fields.csv"), "-o", png),
                          "fields.csv:2: 2 fields, the header has 3");
    write_text("quote.csv", "trace,policy,util\nt,\"first-fit,0.5\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("quote.csv"), "-o", png),
                          "quote.csv:2: a quoted field is not closed");
    write_text("stray.csv", "trace,policy,util\nt,first\"fit,0.5\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("stray.csv"), "-o", png), "stray.csv:2: a quote inside");
    write_text("bin.csv", "trace,policy,util\nt,first-fit,0.5\x01\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("bin.csv"), "-o", png), "bin.csv:2: binary data");
    write_text("noutil.csv", "trace,policy,util\nt,baseline:glibc,\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("noutil.csv"), "-o", png), "no row has a util value");
    write_text("op.csv", "trace,policy,op,live_bytes,heap_bytes\nt,ff,-3,1,2\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "timeline", tmp_path("op.csv"), "-o", png), "op.csv:2: op: '-3'");
    write_text("state.csv", "trace,policy,op,offset,size,header_bytes,state\nt,ff,1,0,16,8,busy\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "heapmap", tmp_path("state.csv"), "-o", png), "state.csv:2: state: 'busy'");
    write_text("hdr.csv", "trace,policy,op,offset,size,header_bytes,state\nt,ff,1,0,16,32,used\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "heapmap", tmp_path("hdr.csv"), "-o", png), "hdr.csv:2: header_bytes 32");
    write_text("bad.rep", "20000\n2\n2\n1\na 0 16\nf 1\n");
    struct result r = RUN("plot", "sizes", tmp_path("bad.rep"), "-o", png);
    ASSERT_ONE_LINE_ERROR(r, "bad.rep:6:");
    /* a good file after a bad one changes nothing */
    write_results("results.csv", 0, NULL);
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("results.csv"), tmp_path("nan.csv"), "-o", png), "nan.csv:3:");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

START_TEST(throughput_needs_glibc_everywhere_or_nowhere)
{
    NEED_BIN();
    const char *png = tmp_path("x.png");
    write_results("with.csv", 1, NULL);
    write_results("without.csv", 0, NULL);
    /* one trace with glibc rows, one without: which scale? refused */
    char *a = slurp(tmp_path("with.csv"), NULL), *b = slurp(tmp_path("without.csv"), NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    FILE *f = fopen(tmp_path("mixed.csv"), "w");
    ck_assert_ptr_nonnull(f);
    for (char *line = strtok(a, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, "b-bal.rep"))
            fprintf(f, "%s\n", line);
    for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "b-bal.rep"))
            fprintf(f, "%s\n", line);
    fclose(f);
    free(a);
    free(b);
    ASSERT_ONE_LINE_ERROR(RUN("plot", "throughput", tmp_path("mixed.csv"), "-o", png),
                          "trace traces/b-bal.rep has no ok baseline:glibc row");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

START_TEST(trace_is_chosen_by_path_or_file_name)
{
    NEED_BIN();
    write_timeline("timeline.csv");
    const char *in = tmp_path("timeline.csv"), *png = tmp_path("x.png");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "timeline", in, "-o", png, "--trace", "nope.rep"), "--trace nope.rep: not in");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "heapmap", in, "-o", png), "missing column offset");
    struct result r = RUN("plot", "timeline", in, "-o", png, "--trace", "t1.rep", "--keep-data", tmp_path("kept"));
    if (stack_missing(&r, "timeline --trace"))
        return;
    ck_assert_msg(r.status == 0, "%s", r.err);
}
END_TEST

START_TEST(missing_stack_names_the_debian_package)
{
    NEED_BIN();
    const char *in = input_for("util"), *png = tmp_path("x.png");
    ASSERT_ONE_LINE_ERROR(RUN_ENV("HEAPLAB_PYTHON=/nonexistent/python3", "plot", "util", in, "-o", png),
                          "heaplab: plot: matplotlib is not installed: apt-get install python3-matplotlib");
    ASSERT_ONE_LINE_ERROR(RUN_ENV("HEAPLAB_PYTHON=/bin/false", "plot", "util", in, "-o", png),
                          "apt-get install python3-matplotlib");
    ASSERT_ONE_LINE_ERROR(RUN_ENV("HEAPLAB_GNUPLOT=/nonexistent/gnuplot", "plot", "util", in, "-o", png, "-b",
                                  "gnuplot"),
                          "heaplab: plot: gnuplot is not installed: apt-get install gnuplot-nox");
    /* the input is checked first: bad input gets the same answer anywhere */
    ASSERT_ONE_LINE_ERROR(RUN_ENV("HEAPLAB_PYTHON=/nonexistent/python3", "plot", "util", tmp_path("none.csv"),
                                  "-o", png),
                          "none.csv: cannot open");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

START_TEST(a_failing_script_leaves_no_chart)
{
    NEED_BIN();
    const char *in = input_for("util"), *png = tmp_path("x.png");
    char dir[1024], env[1100];
    snprintf(dir, sizeof dir, "%s/plots", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    write_text("plots/util.py", "import sys\nopen(sys.argv[2], 'w').write('half')\nsys.exit(3)\n");
    write_text("plots/util.gp", "set print '-'\nundefined_command_here\n");
    snprintf(env, sizeof env, "HEAPLAB_PLOTS=%s", dir);
    for (int b = 0; b < 2; b++) {
        struct result r = RUN_ENV(env, "plot", "util", in, "-o", png, "-b", backends[b]);
        if (stack_missing(&r, backends[b]))
            continue;
        ck_assert_msg(r.status == 1, "%s: exit status %d: %s", backends[b], r.status, r.err);
        ck_assert_msg(strstr(r.err, "failed (exit status"), "%s: %s", backends[b], r.err);
        ck_assert_int_eq(access(png, F_OK), -1);
    }
    snprintf(env, sizeof env, "HEAPLAB_PLOTS=%s/nowhere", tmpdir);
    ASSERT_ONE_LINE_ERROR(RUN_ENV(env, "plot", "util", in, "-o", png), "HEAPLAB_PLOTS");
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(d)))
        ck_assert_msg(!strstr(e->d_name, ".partial-"), "%s left behind", e->d_name);
    closedir(d);
}
END_TEST

/* ---- what the scripts get -------------------------------------------------------------- */

/* Run with --keep-data DIR under a backend that does nothing (the data is
 * written before the script runs); `more`: further options, NULL-ended,
 * or NULL. */
static void keep_data_with(const char *kind, const char *in, const char *extra, const char *size,
                           const char *const *more)
{
    const char *png = tmp_path("k.png");
    const char *args[32] = {"plot", kind, in, "-o", png, "-b", "gnuplot", "--keep-data", tmp_path("kept"), "-s", size};
    size_t n = 11;
    if (extra) {
        args[n++] = "--trace";
        args[n++] = extra;
    }
    for (; more && *more && n < 31; more++)
        args[n++] = *more;
    args[n] = NULL;
    struct result r = run_env("HEAPLAB_GNUPLOT=/bin/true", args);
    /* /bin/true draws nothing: heaplab says so and leaves no chart */
    ck_assert_msg(r.status == 1 && strstr(r.err, "wrote no chart"), "exit status %d: %s", r.status, r.err);
    ck_assert_int_eq(access(png, F_OK), -1);
}

static void keep_data(const char *kind, const char *in, const char *extra, const char *size)
{
    keep_data_with(kind, in, extra, size, NULL);
}

START_TEST(interleaved_rows_reach_the_script_grouped_per_policy)
{
    NEED_BIN();
    write_text("mixed.csv", "trace,policy,op,live_bytes,heap_bytes,internal_frag,external_frag,status\n"
                            "t.rep,ff,10,1,2,0,0,ok\n"
                            "t.rep,bf,10,1,3,0,0,ok\n"
                            "u.rep,ff,10,1,9,0,0,ok\n"
                            "t.rep,ff,0,0,1,0,0,ok\n"
                            "t.rep,bf,0,0,1,0,0,ok\n"
                            "t.rep,ff,20,2,4,0,0,failed\n"
                            "t.rep,\"a,b\",5,1,1,0,0,ok\n");
    keep_data("timeline", tmp_path("mixed.csv"), NULL, "800x600");
    char *d = slurp(tmp_path("kept/data.tsv"), NULL);
    ck_assert_ptr_nonnull(d);
    /* the trace drawn (t.rep, the first) only; a series' label and style name follow */
    ck_assert_str_eq(d, "trace\tpolicy\top\tlive_bytes\theap_bytes\tseries\tstyle\n"
                        "t.rep\tff\t0\t0\t1\tff\tff\n"
                        "t.rep\tff\t10\t1\t2\tff\tff\n"
                        "t.rep\tbf\t0\t0\t1\tbf\tbf\n"
                        "t.rep\tbf\t10\t1\t3\tbf\tbf\n"
                        "t.rep\ta,b\t5\t1\t1\ta,b\ta,b\n");
    free(d);
}
END_TEST

START_TEST(request_sizes_are_counted_from_the_trace)
{
    NEED_BIN();
    write_text("s.rep", "# sizes\n0\n4\n8\n1\na 0 100\na 1 100\nr 0 300\nc 2 2 50\nm 3 64 7\nf 1\nr 0 0\nf 2\n");
    keep_data("sizes", tmp_path("s.rep"), NULL, "800x600");
    char *d = slurp(tmp_path("kept/data.tsv"), NULL);
    ck_assert_ptr_nonnull(d);
    char want[2048];
    const char *t = tmp_path("s.rep");
    snprintf(want, sizeof want, "trace\tsize\tcount\tseries\tstyle\n%s\t7\t1\ts.rep\t%s\n%s\t100\t3\ts.rep\t%s\n"
             "%s\t300\t1\ts.rep\t%s\n", t, t, t, t, t, t);
    ck_assert_str_eq(d, want);
    free(d);
}
END_TEST

#define PANELS_HEAD                                                                                \
    "policy\top_first\top_last\trows\tcols\toffset_first\toffset_last\tbytes\tbytes_per_col\t"     \
    "mixed_cells\tunknown_cells\tpayload_unknown_cells\n"

START_TEST(heap_map_cells_show_the_state_with_most_bytes)
{
    NEED_BIN();
    /* one byte per column: headers, payloads, free and mapped bytes exactly */
    write_text("hm.csv", "trace,policy,op,offset,size,header_bytes,state\n"
                         "t.rep,ff,5,0,8,8,used\n"
                         "t.rep,ff,5,8,16,4,used\n"
                         "t.rep,ff,5,24,8,0,free\n"
                         "t.rep,ff,5,32,16,0,mapped\n"
                         "t.rep,ff,9,0,8,8,used\n"
                         "t.rep,ff,9,8,24,0,free\n"
                         "t.rep,bf,5,0,24,8,used\n");
    keep_data("heapmap", tmp_path("hm.csv"), "t.rep", "800x600");
    char *p = slurp(tmp_path("kept/panels.tsv"), NULL), *r = slurp(tmp_path("kept/raster.txt"), NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(p, PANELS_HEAD "ff\t5\t9\t2\t48\t0\t47\t48\t1\t0\t0\t0\n"
                                    "bf\t5\t5\t1\t48\t0\t47\t48\t1\t0\t0\t0\n");
    /* 0 beyond, 1 payload, 2 header, 3 free, 4 mapped (5 mixed: never, a
     * byte a cell) */
    char want[2048], *w = want;
    const char *rows[] = {"222222222222111111111111333333334444444444444444", /* ff at 5 */
                          "222222223333333333333333333333330000000000000000", /* ff at 9 */
                          "222222221111111111111111000000000000000000000000"}; /* bf at 5 */
    for (int i = 0; i < 3; i++) {
        if (i == 0)
            w += sprintf(w, "# ff\n");
        if (i == 2)
            w += sprintf(w, "\n\n# bf\n");
        for (int c = 0; c < 48; c++)
            w += sprintf(w, "%c%c", rows[i][c], c == 47 ? '\n' : ' ');
    }
    ck_assert_str_eq(r, want);
    free(p);
    free(r);
}
END_TEST

/* The first n cells of row `row` of the raster's first panel, as digits. */
static void row_cells(const char *raster, int row, char *out, size_t n)
{
    const char *p = strchr(raster, '\n'); /* after "# policy" */
    for (int i = 0; p && i < row; i++)
        p = strchr(p + 1, '\n');
    ck_assert_ptr_nonnull(p);
    size_t i = 0;
    for (p++; *p && *p != '\n' && i < n; p++)
        if (*p != ' ')
            out[i++] = *p;
    out[i] = '\0';
}

START_TEST(heap_map_cell_with_used_and_free_bytes_is_mixed)
{
    NEED_BIN();
    /* 160 pixels wide: 120 columns of 40 bytes.  Column 0 holds 30 used and
     * 10 free bytes, column 1 10 free, 12 used and 18 free: both mixed,
     * where a majority would say used and free.  Column 2 is one block in
     * use, mostly header: header.  Column 3: payload.  Column 4 is a free
     * block's 16-byte header and 24 free bytes: free, not mixed (a header
     * counts with its block).  Column 5: 30 free and 10 mapped bytes, free
     * (mapped blocks take no part); the rest is mapped. */
    write_text("big.csv", "trace,policy,op,offset,size,header_bytes,state\n"
                          "t,ff,1,0,30,0,used\nt,ff,1,30,20,0,free\nt,ff,1,50,12,0,used\nt,ff,1,62,18,0,free\n"
                          "t,ff,1,80,40,24,used\nt,ff,1,120,40,8,used\nt,ff,1,160,40,16,free\n"
                          "t,ff,1,200,30,0,free\nt,ff,1,230,4570,48,mapped\n");
    keep_data("heapmap", tmp_path("big.csv"), NULL, "160x600");
    char *p = slurp(tmp_path("kept/panels.tsv"), NULL), *r = slurp(tmp_path("kept/raster.txt"), NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(p, PANELS_HEAD "ff\t1\t1\t1\t120\t0\t4799\t4800\t40\t2\t0\t0\n");
    char cells[16];
    row_cells(r, 0, cells, 8);
    ck_assert_str_eq(cells, "55213344");
    free(p);
    free(r);
}
END_TEST

/* Snapshots at ops 10, 20, ..., 100 of a heap of 40-byte blocks, one more
 * each time: used, free, used, free...; policy bf only at op 10. */
static void write_zoom_map(const char *name)
{
    FILE *f = fopen(tmp_path(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs("trace,policy,op,offset,size,header_bytes,state\n", f);
    for (int op = 10; op <= 100; op += 10)
        for (int b = 0; b < op / 10; b++)
            fprintf(f, "t,ff,%d,%d,40,8,%s\n", op, 40 * b, b % 2 ? "free" : "used");
    fputs("t,bf,10,0,40,8,used\n", f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Append --addr addr and --ops ops (each when not NULL) to args[0..n) and
 * a NULL; the new n. */
static size_t add_zoom(const char **args, size_t n, const char *addr, const char *ops)
{
    if (addr) {
        args[n++] = "--addr";
        args[n++] = addr;
    }
    if (ops) {
        args[n++] = "--ops";
        args[n++] = ops;
    }
    args[n] = NULL;
    return n;
}

/* Keep the heap map of write_zoom_map's CSV under --addr and --ops; its
 * panels.tsv and raster.txt in *panels and *raster. */
static void zoom(const char *addr, const char *ops, char **panels, char **raster)
{
    const char *more[5];
    add_zoom(more, 0, addr, ops);
    keep_data_with("heapmap", tmp_path("zoom.csv"), NULL, "800x600", more);
    *panels = slurp(tmp_path("kept/panels.tsv"), NULL);
    *raster = slurp(tmp_path("kept/raster.txt"), NULL);
    ck_assert_ptr_nonnull(*panels);
    ck_assert_ptr_nonnull(*raster);
}

START_TEST(heap_map_zooms_into_addr_and_ops)
{
    NEED_BIN();
    write_zoom_map("zoom.csv");
    char *p, *r, cells[128];

    /* bytes 100 to 180 and ops 30 to 70, HI left out: a cell a byte; bf
     * has no snapshot there and no panel */
    zoom("100:180", "30:70", &p, &r);
    ck_assert_str_eq(p, PANELS_HEAD "ff\t30\t60\t4\t80\t100\t179\t80\t1\t0\t0\t0\n");
    ck_assert_ptr_null(strstr(r, "# bf"));
    /* op 30: block 2's payload (80-119, used) and the heap's end */
    row_cells(r, 0, cells, 80);
    ck_assert_str_eq(cells, "11111111111111111111"
                            "000000000000000000000000000000000000000000000000000000000000");
    /* op 60: then block 3 (free: 8 header bytes, 32 free), block 4 (used) */
    row_cells(r, 3, cells, 80);
    ck_assert_str_eq(cells, "11111111111111111111"
                            "2222222233333333333333333333333333333333"
                            "22222222111111111111");
    free(p);
    free(r);

    /* an empty HI: to the end of the heap at the ops drawn (op 100: 400
     * bytes) */
    zoom("200:", "50:", &p, &r);
    ck_assert_str_eq(p, PANELS_HEAD "ff\t50\t100\t6\t200\t200\t399\t200\t1\t0\t0\t0\n");
    free(p);
    free(r);

    /* an empty LO, k: to 64k, clipped to the heap's 400 bytes; two panels,
     * 200 columns of 2 bytes */
    zoom(":64k", NULL, &p, &r);
    ck_assert_str_eq(p, PANELS_HEAD "ff\t10\t100\t10\t200\t0\t399\t400\t2\t0\t0\t0\n"
                                    "bf\t10\t10\t1\t200\t0\t399\t400\t2\t0\t0\t0\n");
    free(p);
    free(r);
}
END_TEST

START_TEST(bad_zooms_get_one_line)
{
    NEED_BIN();
    write_zoom_map("zoom.csv");
    const char *in = tmp_path("zoom.csv"), *png = tmp_path("x.png");
    static const struct {
        const char *addr, *ops, *want;
    } bad[] = {
        {"64k:32k", NULL, "heaplab: plot: --addr: 64k:32k is empty: LO must be below HI"},
        {"40:40", NULL, "--addr: 40:40 is empty"},
        {"abc:1k", NULL, "heaplab: plot: --addr: 'abc:1k' is not a range of numbers"},
        {"-8:64", NULL, "--addr: '-8:64' is not"},
        {"64", NULL, "heaplab: plot: --addr: expected LO:HI"},
        {"1:2:3", NULL, "--addr: expected LO:HI"},
        {NULL, "1k:2k", "heaplab: plot: --ops: '1k:2k' is not a range of numbers"},
        {NULL, "9:3", "--ops: 9:3 is empty"},
        /* ranges that hold nothing */
        {"400:1m", NULL, "heaplab: plot: --addr: no block of trace t lies in 400:1m (its heap ends at offset 400)"},
        {"100:", ":30", "--addr: no block of trace t lies in 100: at the ops drawn (its heap ends at offset 80)"},
        {NULL, "101:", "heaplab: plot: --ops: no snapshot of trace t is in 101: (its snapshots run from op 10 "
                       "to op 100)"},
        {NULL, "11:20", "--ops: no snapshot"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[10] = {"plot", "heapmap", in, "-o", png};
        add_zoom(args, 5, bad[i].addr, bad[i].ops);
        ASSERT_ONE_LINE_ERROR(run_env(NULL, args), bad[i].want);
    }
    /* only the heap map zooms */
    write_timeline("timeline.csv");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "timeline", tmp_path("timeline.csv"), "-o", png, "--addr", ":64k"),
                          "heaplab: plot: --addr: a timeline chart does not zoom (--addr and --ops are for heapmap)");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", input_for("util"), "-o", png, "--ops", "1:2"),
                          "heaplab: plot: --ops: a util chart does not zoom");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

/* png is a W x H chart, drawn in colour by `backend`. */
static void assert_drawn(const char *png, const char *backend)
{
    struct image im;
    char why[256];
    ck_assert_msg(png_read(png, &im, why, sizeof why) == 0, "%s: %s", backend, why);
    ck_assert_msg(im.w == W && im.h == H && im.chromatic, "%s: %ux%u", backend, im.w, im.h);
}

/* Both scripts draw a zoomed heap map: offsets that do not start at 0. */
START_TEST(a_zoomed_heap_map_draws_in_both_backends)
{
    NEED_BIN();
    write_zoom_map("zoom.csv");
    const char *png = tmp_path("zoom.png");
    for (int b = 0; b < 2; b++) {
        struct result r = RUN("plot", "heapmap", tmp_path("zoom.csv"), "-o", png, "-b", backends[b], "-s", "800x600",
                              "--addr", "100:300", "--ops", "40:");
        if (stack_missing(&r, backends[b]))
            continue;
        ck_assert_msg(r.status == 0, "%s: %s", backends[b], r.err);
        assert_drawn(png, backends[b]);
        unlink(png);
    }
}
END_TEST

/* Both scripts draw a heap map with unknown bytes, with every legend entry
 * and the note inside the chart; unknown is in the legend only when a
 * panel has it (the SVG's vector colours are the legend's: the raster is
 * an embedded image). */
START_TEST(unknown_bytes_draw_in_both_backends)
{
    NEED_BIN();
    write_unknown_map("unknown.csv");
    write_heapmap("policies.csv");
    const char *png = tmp_path("u.png"), *svg = tmp_path("u.svg");
    for (int b = 0; b < 2; b++) {
        struct result r = RUN_ENV("HEAPLAB_PLOT_CHECK=1", "plot", "heapmap", tmp_path("unknown.csv"), "-o", png,
                                  "-b", backends[b], "-s", "800x600");
        if (stack_missing(&r, backends[b]))
            continue;
        ck_assert_msg(r.status == 0, "%s: %s", backends[b], r.err);
        assert_drawn(png, backends[b]);
        r = RUN("plot", "heapmap", tmp_path("unknown.csv"), "-o", svg, "-b", backends[b], "-s", "800x600");
        ck_assert_msg(r.status == 0, "%s: %s", backends[b], r.err);
        ck_assert_msg(svg_has_colour(svg, 0xE8E8E8), "%s: no unknown in the legend", backends[b]);
        ck_assert_msg(!svg_has_colour(svg, 0x9DC3E6), "%s: payload + unknown in the legend, not drawn", backends[b]);
        r = RUN("plot", "heapmap", tmp_path("policies.csv"), "-o", svg, "-b", backends[b], "-s", "800x600");
        ck_assert_msg(r.status == 0, "%s: %s", backends[b], r.err);
        ck_assert_msg(!svg_has_colour(svg, 0xE8E8E8), "%s: unknown in a policy's legend", backends[b]);
        unlink(png);
        unlink(svg);
    }
}
END_TEST

/* ---- what a chart must say: mm rows, the mean, presets, duplicates ----------------------------- */

/* Run `heaplab plot ARGS... --keep-data kept -b gnuplot` under a gnuplot
 * that draws nothing, which must get as far as the script (the data is
 * written before it runs): the kept files are then what a script gets. */
#define KEEP(...) keep_run((const char *const[]){__VA_ARGS__, NULL})
static void keep_run(const char *const *args)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = "plot";
    for (; *args && n < 26; args++)
        argv[n++] = *args;
    argv[n++] = "-o";
    argv[n++] = tmp_path("k.png");
    argv[n++] = "-b";
    argv[n++] = "gnuplot";
    argv[n++] = "--keep-data";
    argv[n++] = tmp_path("kept");
    argv[n] = NULL;
    struct result r = run_env("HEAPLAB_GNUPLOT=/bin/true", argv);
    ck_assert_msg(r.status == 1 && strstr(r.err, "wrote no chart"), "exit status %d: %s", r.status, r.err);
}

/* A kept file, freed when the test ends (by the fixture's paths). */
static char *kept(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "kept/%s", name);
    char *d = slurp(tmp_path(rel), NULL);
    ck_assert_msg(d != NULL, "no %s kept", name);
    ck_assert_uint_lt(npaths, sizeof paths / sizeof paths[0]);
    return paths[npaths++] = d;
}

/* The lines of text (each with its newline) holding `frag`. */
static int count_lines_with(const char *text, const char *frag)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        n += strstr(buf, frag) != NULL;
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* Replay best-fit and the implicit-list solution (tests/data/mm-implicit.c,
 * 8-byte alignment: --preset malloclab) on a small trace with a timeline,
 * a results CSV and (when not NULL) a heap map; the solution is compiled
 * into tmpdir's cache. */
static void replay_mm(const char *timeline, const char *results, const char *heapmap)
{
    const char *src = getenv("HEAPLAB_SRCDIR");
    char sol[1200], env[1200];
    snprintf(sol, sizeof sol, "mm:%s/tests/data/mm-implicit.c", src && *src ? src : ".");
    snprintf(env, sizeof env, "XDG_CACHE_HOME=%s/cache", tmpdir);
    write_trace("t.rep");
    const char *args[24] = {"replay", "--preset", "malloclab", "-p", "best-fit", "-p", sol, "--timeline",
                            tmp_path(timeline), "--every", "10", "-f", "csv", "-o", tmp_path(results)};
    size_t n = 15;
    if (heapmap) {
        args[n++] = "--heapmap";
        args[n++] = tmp_path(heapmap);
    }
    args[n++] = tmp_path("t.rep");
    args[n] = NULL;
    struct result r = run_env(env, args);
    ck_assert_msg(r.status == 0, "replay: exit status %d: %s", r.status, r.err);
}

/* heaplab sees a solution's heap size and its payloads, not its headers,
 * footers or free blocks: the timeline leaves its free bytes and
 * fragmentation empty, the frag chart draws none for it and says so on
 * the chart - even from a timeline written before, which still had them -
 * and the timeline chart still draws its heap bytes. */
START_TEST(mm_rows_have_no_fragmentation_and_the_chart_says_so)
{
    NEED_BIN();
    replay_mm("tl.csv", "r.csv", NULL);
    char *tl = slurp(tmp_path("tl.csv"), NULL);
    ck_assert_ptr_nonnull(tl);
    int mm = count_lines_with(tl, ",mm:mm-implicit.c,");
    /* every mm row ends ...,heap,,,, and no best-fit row does */
    ck_assert_msg(mm > 5, "%d mm rows in:\n%s", mm, tl);
    for (const char *line = tl; (line = strstr(line, ",mm:mm-implicit.c,")) != NULL; line++) {
        const char *end = strchr(line, '\n');
        ck_assert_msg(end && end - line > 4 && strncmp(end - 4, ",,,,", 4) == 0, "an mm row with figures: %.80s", line);
    }
    free(tl);
    /* the result row's at-peak fragmentation is empty too */
    char *res = slurp(tmp_path("r.csv"), NULL);
    ck_assert_ptr_nonnull(res);
    const char *row = strstr(res, ",mm:mm-implicit.c,malloclab,");
    ck_assert_msg(row != NULL, "no mm row in:\n%s", res);
    int in_col = -1, col = 0;
    for (const char *h = res; *h != '\n'; h++) {
        if (strncmp(h, "internal_frag,external_frag,", 28) == 0 && (h == res || h[-1] == ','))
            in_col = col;
        col += *h == ',';
    }
    ck_assert_int_ge(in_col, 0);
    while (row > res && row[-1] != '\n')
        row--;
    for (col = 0; col < in_col; row++)
        col += *row == ',';
    ck_assert_msg(strncmp(row, ",,", 2) == 0, "the mm row has a fragmentation figure: %.60s", row);
    free(res);

    KEEP("frag", tmp_path("tl.csv"));
    char *d = kept("data.tsv"), *c = kept("chart.tsv");
    ck_assert_msg(!strstr(d, "mm:mm-implicit.c"), "mm rows handed to the frag script:\n%s", d);
    ck_assert_msg(count_lines_with(d, "\tbest-fit\t") > 5, "best-fit is not drawn:\n%s", d);
    ck_assert_msg(strstr(c, "note\tmm:mm-implicit.c: block layout unknown to heaplab, fragmentation not drawn\n"),
                  "no note on the chart:\n%s", c);

    /* the solution alone: nothing to draw, and one line that says why */
    ASSERT_ONE_LINE_ERROR(RUN("plot", "frag", tmp_path("tl.csv"), "-o", tmp_path("x.png"), "--only",
                              "mm:mm-implicit.c"),
                          "no fragmentation to draw: heaplab does not know a malloc-lab solution's block layout");

    /* an older timeline gave the solution's gaps as free blocks: still not drawn */
    write_text("old.csv", "trace,policy,op,live_bytes,heap_bytes,free_bytes,largest_free,internal_frag,external_frag\n"
                          "t.rep,best-fit,0,0,4096,4096,4096,,0\nt.rep,best-fit,10,100,4096,3900,3900,0.1,0\n"
                          "t.rep,mm:mm.c,0,0,4112,4112,4112,,0\nt.rep,mm:mm.c,10,100,4112,3980,3900,,0.98\n");
    KEEP("frag", tmp_path("old.csv"));
    d = kept("data.tsv");
    c = kept("chart.tsv");
    ck_assert_msg(!strstr(d, "mm:mm.c"), "an mm row's fragmentation handed to the script:\n%s", d);
    ck_assert_msg(strstr(c, "note\tmm:mm.c: block layout unknown"), "no note:\n%s", c);

    /* the timeline chart: the solution's heap is known, drawn like a policy's */
    KEEP("timeline", tmp_path("tl.csv"));
    d = kept("data.tsv");
    ck_assert_msg(count_lines_with(d, "\tmm:mm-implicit.c\tmm:mm-implicit.c") > 5, "no mm line:\n%s", d);
    ck_assert_msg(!strstr(kept("chart.tsv"), "note\t"), "a note on the timeline chart");
}
END_TEST

/* heaplab knows a solution's payloads, not what lies between them: those
 * bytes are unknown - also where an older heap map called them free -
 * and never make a cell free or mixed; a cell with payload and unknown
 * bytes is payload + unknown.  The policy beside them is drawn as before,
 * and each solution's panel gets a note under its label. */
START_TEST(heap_map_unknown_bytes_are_never_free)
{
    NEED_BIN();
    write_unknown_map("hm.csv");
    KEEP("heapmap", tmp_path("hm.csv"), "--label", "mm:m.c=mine");
    ck_assert_str_eq(kept("panels.tsv"), PANELS_HEAD "mm:m.c\t5\t5\t1\t48\t0\t47\t48\t1\t0\t32\t0\n"
                                                     "mm:old.c\t5\t5\t1\t48\t0\t47\t48\t1\t0\t8\t0\n"
                                                     "ff\t5\t5\t1\t48\t0\t47\t48\t1\t0\t0\t0\n");
    /* 6 unknown (7 payload + unknown: never, a byte a cell) */
    static const char *const rows[] = {"666666661111111111111111666666666666666666666666", /* mm:m.c */
                                       "666666661111111111111111111111111111111111111111", /* mm:old.c */
                                       "222222222222111111111111333333333333333333333333"}; /* ff */
    static const char *const names[] = {"mm:m.c", "mm:old.c", "ff"};
    char want[2048], *w = want;
    for (int i = 0; i < 3; i++) {
        w += sprintf(w, "%s# %s\n", i ? "\n\n" : "", names[i]);
        for (int c = 0; c < 48; c++)
            w += sprintf(w, "%c%c", rows[i][c], c == 47 ? '\n' : ' ');
    }
    ck_assert_str_eq(kept("raster.txt"), want);
    ck_assert_str_eq(kept("chart.tsv"), "key\tvalue\nkind\theapmap\n"
                                        "note\tmine: block layout unknown to heaplab: gaps drawn as unknown\n"
                                        "note\tmm:old.c: block layout unknown to heaplab: gaps drawn as unknown\n");

    /* 320 pixels, two panels: 120 columns of 40 bytes.  Column 0 holds 30
     * payload and 10 unknown bytes: payload + unknown, where ff's 30 used
     * and 10 free bytes are mixed; column 1 is all unknown, column 2 all
     * payload, the rest unknown. */
    write_text("big.csv", "trace,policy,op,offset,size,header_bytes,state\n"
                          "t,mm:m.c,1,0,30,0,used\nt,mm:m.c,1,30,50,0,unknown\nt,mm:m.c,1,80,40,0,used\n"
                          "t,mm:m.c,1,120,4680,0,unknown\n"
                          "t,ff,1,0,30,0,used\nt,ff,1,30,20,0,free\nt,ff,1,50,12,0,used\nt,ff,1,62,4738,0,free\n");
    KEEP("heapmap", tmp_path("big.csv"), "-s", "320x600");
    ck_assert_str_eq(kept("panels.tsv"), PANELS_HEAD "mm:m.c\t1\t1\t1\t120\t0\t4799\t4800\t40\t0\t118\t1\n"
                                                     "ff\t1\t1\t1\t120\t0\t4799\t4800\t40\t2\t0\t0\n");
    char *r = kept("raster.txt"), cells[8];
    row_cells(r, 0, cells, 5);
    ck_assert_str_eq(cells, "76166");
    row_cells(strstr(r, "# ff\n"), 0, cells, 5);
    ck_assert_str_eq(cells, "55333");
}
END_TEST

/* The cells of `policy`'s panel in a kept raster.txt whose digit is one of
 * `digits`. */
static size_t panel_cells(const char *raster, const char *policy, const char *digits)
{
    char head[256];
    snprintf(head, sizeof head, "# %s\n", policy);
    const char *p = strstr(raster, head);
    ck_assert_msg(p != NULL, "no panel %s in:\n%.200s", policy, raster);
    const char *end = strstr(p, "\n\n");
    size_t n = 0;
    for (p += strlen(head); *p && (!end || p < end); p++)
        n += *p != ' ' && *p != '\n' && strchr(digits, *p) != NULL;
    return n;
}

/* The implicit-list solution's heap map, end to end: its payloads are used
 * and every other byte unknown, never free; its panel has no free or mixed
 * cell and the chart says why, and best-fit's panel, beside it, has no
 * unknown cell. */
START_TEST(mm_heap_map_gaps_are_unknown_and_the_chart_says_so)
{
    NEED_BIN();
    replay_mm("tl.csv", "r.csv", "hm.csv");
    char *hm = slurp(tmp_path("hm.csv"), NULL);
    ck_assert_ptr_nonnull(hm);
    int mm = count_lines_with(hm, ",mm:mm-implicit.c,"), bf = count_lines_with(hm, ",best-fit,");
    ck_assert_msg(mm > 10 && bf > 10, "%d mm and %d best-fit rows in:\n%.400s", mm, bf, hm);
    ck_assert_int_eq(count_lines_with(hm, ",used\n") + count_lines_with(hm, ",unknown\n") +
                         count_lines_with(hm, ",free\n"),
                     mm + bf);
    for (const char *line = hm; (line = strstr(line, ",mm:mm-implicit.c,")) != NULL; line++) {
        const char *end = strchr(line, '\n');
        ck_assert_msg(end && strncmp(end - 5, ",free", 5) != 0, "a solution's gap called free: %.80s", line);
    }
    ck_assert_int_gt(count_lines_with(hm, ",unknown\n"), 0);
    for (const char *line = hm; (line = strstr(line, ",best-fit,")) != NULL; line++) {
        const char *end = strchr(line, '\n');
        ck_assert_msg(end && strncmp(end - 8, ",unknown", 8) != 0, "a policy's block called unknown: %.80s", line);
    }
    free(hm);

    KEEP("heapmap", tmp_path("hm.csv"));
    char *r = kept("raster.txt"), *p = kept("panels.tsv");
    ck_assert_uint_eq(panel_cells(r, "mm:mm-implicit.c", "35"), 0);
    ck_assert_uint_gt(panel_cells(r, "mm:mm-implicit.c", "67"), 0);
    ck_assert_uint_gt(panel_cells(r, "mm:mm-implicit.c", "1"), 0);
    ck_assert_uint_eq(panel_cells(r, "best-fit", "67"), 0);
    ck_assert_uint_gt(panel_cells(r, "best-fit", "3"), 0);
    const char *row = strstr(p, "\nmm:mm-implicit.c\t");
    ck_assert_msg(row != NULL, "no mm panel:\n%s", p);
    int fields = 0;
    const char *mixed = row + 1;
    for (; *mixed && fields < 9; mixed++)
        fields += *mixed == '\t';
    ck_assert_msg(strncmp(mixed, "0\t", 2) == 0, "the mm panel has mixed cells: %.80s", row + 1);
    ck_assert_msg(strstr(kept("chart.tsv"),
                         "note\tmm:mm-implicit.c: block layout unknown to heaplab: gaps drawn as unknown\n"),
                  "no note on the heap map");
}
END_TEST

/* Rows whose status is not ok are left out; the mean averages the traces
 * on which every series has a value, and says so when that is not all. */
START_TEST(the_mean_averages_the_same_traces_for_every_series)
{
    NEED_BIN();
    write_text("r.csv", "trace,policy,preset,util,status\n"
                        "a.rep,best-fit,linux,0.9,ok\na.rep,mm:mm.c,linux,0.8,ok\n"
                        "b.rep,best-fit,linux,0.7,ok\nb.rep,mm:mm.c,linux,,crashed by signal 11 at op 5\n"
                        "c.rep,best-fit,linux,0.5,ok\nc.rep,mm:mm.c,linux,0.6,ok\n");
    KEEP("util", tmp_path("r.csv"));
    char *d = kept("data.tsv"), *c = kept("chart.tsv");
    ck_assert_str_eq(d, "trace\tpolicy\tutil\tseries\tstyle\tin_mean\n"
                        "a.rep\tbest-fit\t0.9\tbest-fit\tbest-fit\t1\n"
                        "a.rep\tmm:mm.c\t0.8\tmm:mm.c\tmm:mm.c\t1\n"
                        "b.rep\tbest-fit\t0.7\tbest-fit\tbest-fit\t0\n"
                        "c.rep\tbest-fit\t0.5\tbest-fit\tbest-fit\t1\n"
                        "c.rep\tmm:mm.c\t0.6\tmm:mm.c\tmm:mm.c\t1\n");
    ck_assert_msg(strstr(c, "mean_label\tmean (2 of 3 traces)\n"), "%s", c);
    ck_assert_msg(strstr(c, "note\tmm:mm.c: failed on b.rep (status not ok), not drawn there\n"), "%s", c);
    ck_assert_msg(strstr(c, "note\tmean: over the 2 traces on which every series has a value\n"), "%s", c);

    /* every row ok: every trace in the mean, and a plain label */
    write_results("all.csv", 0, NULL);
    KEEP("util", tmp_path("all.csv"));
    d = kept("data.tsv");
    ck_assert_int_eq(count_lines_with(d, "\t0\n"), 0);
    ck_assert_int_eq(count_lines_with(d, "\t1\n"), 2 * (int)NPOL);
    ck_assert_msg(strstr(kept("chart.tsv"), "mean_label\tmean\n"), "no plain mean label");
}
END_TEST

/* The same policy under two presets is two series, labelled with their
 * presets and styled apart; the same series twice cannot be told apart and
 * is refused with one line naming the files. */
START_TEST(presets_are_told_apart_and_duplicates_refused)
{
    NEED_BIN();
    write_text("lin.csv", "trace,policy,preset,util,status\na.rep,best-fit,linux,0.9,ok\n"
                          "a.rep,baseline:glibc,,,ok\n");
    write_text("lab.csv", "trace,policy,preset,util,status\na.rep,best-fit,malloclab,0.8,ok\n");
    KEEP("util", tmp_path("lin.csv"), tmp_path("lab.csv"));
    ck_assert_str_eq(kept("data.tsv"), "trace\tpolicy\tutil\tseries\tstyle\tin_mean\n"
                                       "a.rep\tbest-fit\t0.9\tbest-fit [linux]\tbest-fit\t1\n"
                                       "a.rep\tbest-fit\t0.8\tbest-fit [malloclab]\tbest-fit:preset=malloclab\t1\n");
    /* one preset: no label changes */
    KEEP("util", tmp_path("lab.csv"));
    ck_assert_msg(strstr(kept("data.tsv"), "\tbest-fit\tbest-fit\t1\n"), "a label with a lone preset");

    const char *png = tmp_path("x.png"), *lin = tmp_path("lin.csv");
    struct result r = RUN("plot", "util", lin, lin, "-o", png);
    ASSERT_ONE_LINE_ERROR(r, "heaplab: plot: ");
    ck_assert_msg(strstr(r.err, "lin.csv:2: trace a.rep, policy best-fit, preset linux is also in") &&
                      strstr(r.err, "(the same file given twice)"),
                  "%s", r.err);
    write_text("twice.csv", "trace,policy,preset,util\na.rep,best-fit,linux,0.9\nb.rep,ff,linux,1\n"
                            "a.rep,best-fit,linux,0.8\n");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", tmp_path("twice.csv"), "-o", png),
                          "twice.csv:4: trace a.rep, policy best-fit, preset linux again (first at line 2)");
    /* --only can leave the doubled series out */
    KEEP("util", tmp_path("twice.csv"), "--only", "ff");

    /* timelines record no preset: two of one series cannot be told apart */
    write_timeline("tl.csv");
    const char *tl = tmp_path("tl.csv");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "timeline", tl, tl, "-o", png), "(the same file given twice)");
    char *t = slurp(tl, NULL);
    ck_assert_ptr_nonnull(t);
    FILE *f = fopen(tmp_path("runs.csv"), "w");
    ck_assert_ptr_nonnull(f);
    fputs(t, f);
    fputs(strchr(t, '\n') + 1, f); /* a second run, its rows after the first's */
    fclose(f);
    free(t);
    ASSERT_ONE_LINE_ERROR(RUN("plot", "frag", tmp_path("runs.csv"), "-o", png), "a second row for op 0");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

/* --title, --label, --only and --trace reach the data; a bad one is one
 * line. */
START_TEST(title_label_only_and_trace)
{
    NEED_BIN();
    write_results("r.csv", 1, NULL);
    const char *r = tmp_path("r.csv"), *png = tmp_path("x.png");
    KEEP("util", r, "--title", "My allocator against best fit", "--label", "tlsf=two-level",
         "--only", "tlsf,best-fit", "--trace", "b-bal.rep");
    char *d = kept("data.tsv");
    ck_assert_str_eq(d, "trace\tpolicy\tutil\tseries\tstyle\tin_mean\n"
                        "traces/b-bal.rep\tbest-fit\t0.65\tbest-fit\tbest-fit\t1\n"
                        "traces/b-bal.rep\ttlsf\t0.75\ttwo-level\ttlsf\t1\n");
    ck_assert_msg(strstr(kept("chart.tsv"), "title\tMy allocator against best fit\n"), "no title");
    /* a policy that holds commas and '=' */
    write_text("p.csv", "trace,policy,util\nt.rep,\"tlsf:sl=4,cache=7\",0.5\nt.rep,best-fit,0.6\n");
    KEEP("util", tmp_path("p.csv"), "--only", "tlsf:sl=4,cache=7", "--label", "tlsf:sl=4,cache=7=mine");
    ck_assert_str_eq(kept("data.tsv"), "trace\tpolicy\tutil\tseries\tstyle\tin_mean\n"
                                       "t.rep\ttlsf:sl=4,cache=7\t0.5\tmine\ttlsf:sl=4,cache=7\t1\n");

    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", r, "-o", png, "--label", "tlsf"), "--label tlsf: expected OLD=NEW");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", r, "-o", png, "--label", "nope=x"),
                          "--label nope: no such series in the inputs (they have first-fit, best-fit");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", r, "-o", png, "--label", "tlsf=x", "--label", "buddy=x"),
                          "two series would both be called 'x'");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", r, "-o", png, "--only", "best-fit,nope"),
                          "--only nope: no such series in the inputs");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "util", r, "-o", png, "--trace", "c-bal.rep"), "--trace c-bal.rep: not in");
    write_trace("t.rep");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "sizes", tmp_path("t.rep"), "-o", png, "--trace", "t.rep"),
                          "--trace: a sizes chart draws the trace files it is given");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "sizes", tmp_path("t.rep"), "-o", png, "--only", "t.rep"),
                          "--only: a sizes chart's series are the trace files it is given");
    write_results("s.csv", 1, "live_blocks");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "scaling", tmp_path("s.csv"), "-o", png, "--trace", "a"),
                          "--trace: a scaling chart has no traces");
    write_timeline("tl.csv");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "frag", tmp_path("tl.csv"), "-o", png, "-t", "t0.rep", "-t", "t1.rep"),
                          "--trace: a frag chart draws one trace (given 2)");
    /* the sizes chart's series are traces: --label renames one */
    KEEP("sizes", tmp_path("t.rep"), "--label", "t.rep=steady");
    ck_assert_msg(count_lines_with(kept("data.tsv"), "\tsteady\t") > 3, "the trace is not relabelled");
    ck_assert_int_eq(access(png, F_OK), -1);
}
END_TEST

/* The heap map takes the same options: --only leaves panels out, --label
 * names them (labels.tsv), --title. */
START_TEST(heap_map_takes_the_common_options)
{
    NEED_BIN();
    write_heapmap("hm.csv");
    KEEP("heapmap", tmp_path("hm.csv"), "--only", "best-fit,tlsf", "--label", "tlsf=two-level", "--title", "Maps");
    char *p = kept("panels.tsv");
    ck_assert_int_eq(count_lines_with(p, "\n"), 3); /* the header and two panels */
    ck_assert_msg(strstr(p, "\nbest-fit\t") && strstr(p, "\ntlsf\t") && !strstr(p, "first-fit"), "%s", p);
    ck_assert_str_eq(kept("labels.tsv"), "policy\tlabel\nbest-fit\tbest-fit\ntlsf\ttwo-level\n");
    ck_assert_msg(strstr(kept("chart.tsv"), "title\tMaps\n"), "no title");
    ASSERT_ONE_LINE_ERROR(RUN("plot", "heapmap", tmp_path("hm.csv"), "-o", tmp_path("x.png"), "--only", "nope"),
                          "--only nope: no such series in the inputs");
}
END_TEST

/* make scaling's CSV lists every policy at one live_blocks value, then the
 * next: the script gets each series' rows together, in order, so that its
 * line joins them. */
START_TEST(scaling_rows_reach_the_script_grouped_per_series)
{
    NEED_BIN();
    write_text("s.csv", "live_blocks,policy,ops_per_sec,ops_per_sec_min\n"
                        "1000,ff,5,4\n1000,tlsf,9,8\n10000,ff,3,2\n10000,tlsf,9,8\n100,ff,6,5\n");
    KEEP("scaling", tmp_path("s.csv"));
    ck_assert_str_eq(kept("data.tsv"), "live_blocks\tpolicy\tops_per_sec\tops_per_sec_min\tseries\tstyle\n"
                                       "100\tff\t6\t5\tff\tff\n1000\tff\t5\t4\tff\tff\n10000\tff\t3\t2\tff\tff\n"
                                       "1000\ttlsf\t9\t8\ttlsf\ttlsf\n10000\ttlsf\t9\t8\ttlsf\ttlsf\n");
}
END_TEST

/* ---- output ---------------------------------------------------------------------------------- */

/* -o X.pdf writes a PDF with either backend; heaplab prints each file it
 * wrote. */
START_TEST(pdf_output_and_the_paths_printed)
{
    NEED_BIN();
    const char *in = input_for("util"), *pdf = tmp_path("u.pdf");
    for (int b = 0; b < 2; b++) {
        struct result r = RUN("plot", "util", in, "-o", pdf, "-b", backends[b]);
        if (stack_missing(&r, backends[b]))
            continue;
        ck_assert_msg(r.status == 0, "%s: %s", backends[b], r.err);
        char *d = slurp(pdf, NULL);
        ck_assert_msg(d && strncmp(d, "%PDF", 4) == 0, "%s: %s is not a PDF", backends[b], pdf);
        free(d);
        char want[1200];
        snprintf(want, sizeof want, "wrote %s\n", pdf);
        ck_assert_str_eq(r.out, want);
        ck_assert_int_eq(unlink(pdf), 0);
    }
    /* with --keep-data, the data files too */
    struct result r = RUN_ENV("HEAPLAB_GNUPLOT=/bin/true", "plot", "util", in, "-o", pdf, "-b", "gnuplot",
                              "--keep-data", tmp_path("kept"));
    ck_assert_int_eq(r.status, 1);
    char want[3000];
    snprintf(want, sizeof want, "wrote %s/kept/data.tsv\nwrote %s/kept/chart.tsv\n", tmpdir, tmpdir);
    ck_assert_str_eq(r.out, want);
}
END_TEST

/* --help names every option the command takes. */
START_TEST(help_lists_every_option)
{
    NEED_BIN();
    struct result r = RUN("plot", "--help");
    ck_assert_int_eq(r.status, 0);
    static const char *const opts[] = {"-o, --output", "-b, --backend", "-s, --size", "-t, --trace", "--only",
                                       "--label", "--title", "--keep-data", "-h, --help", ".pdf", "mean ("};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        ck_assert_msg(strstr(r.out, opts[i]), "--help does not name %s:\n%s", opts[i], r.out);
}
END_TEST

/* Twelve series at 480x320: every legend entry and note stays inside the
 * chart (hlplot.py checks its own layout under HEAPLAB_PLOT_CHECK=1;
 * gnuplot must at least draw). */
START_TEST(small_charts_keep_every_legend_entry)
{
    NEED_BIN();
    static const char *const names[] = {"first-fit", "next-fit", "best-fit", "worst-fit", "rbtree", "tlsf",
                                        "buddy", "pool", "./goodfit.so", "mm:mm.c", "mm:another-solution.c",
                                        "baseline:glibc"};
    FILE *r = fopen(tmp_path("r12.csv"), "w"), *t = fopen(tmp_path("t12.csv"), "w");
    ck_assert(r && t);
    fputs("trace,policy,util,ops_per_sec,ops_per_sec_min,status\n", r);
    fputs("trace,policy,op,live_bytes,heap_bytes,internal_frag,external_frag\n", t);
    for (int i = 0; i < 12; i++) {
        for (int k = 0; k < 3; k++)
            fprintf(r, "%c-bal.rep,%s,%.2f,%d,%d,%s\n", 'a' + k, names[i], 0.5 + 0.04 * i, 1000000 * (i + 1),
                    900000 * (i + 1), i == 9 && k == 1 ? "crashed by signal 11" : "ok");
        for (int op = 0; op <= 100; op += 10)
            fprintf(t, "t.rep,%s,%d,%d,%d,%.2f,%.2f\n", names[i], op, op * 100, op * 100 + 4096 + i * op * 10,
                    0.02 * i, 0.3 + 0.03 * i);
    }
    fclose(r);
    fclose(t);
    static const char *const kinds12[] = {"util", "throughput", "timeline", "frag"};
    for (int b = 0; b < 2; b++)
        for (size_t k = 0; k < 4; k++) {
            const char *in = tmp_path(k < 2 ? "r12.csv" : "t12.csv");
            struct result res = RUN_ENV("HEAPLAB_PLOT_CHECK=1", "plot", kinds12[k], in, "-o", tmp_path("s.png"),
                                        "-b", backends[b], "-s", "480x320");
            if (stack_missing(&res, backends[b]))
                break;
            ck_assert_msg(res.status == 0, "%s %s: %s", backends[b], kinds12[k], res.err);
            struct image im;
            char why[256];
            ck_assert_msg(png_read(tmp_path("s.png"), &im, why, sizeof why) == 0, "%s", why);
            ck_assert_msg(im.w == 480 && im.h == 320, "%s %s: %ux%u", backends[b], kinds12[k], im.w, im.h);
        }
}
END_TEST

/* ---- styles ------------------------------------------------------------------------------ */

/* The registry's policy names, in order, space-separated. */
static void registry_names(char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < hl_policy_count(); i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? " " : "", hl_policy_at(i)->name);
}

/* Each of `names`' style under a backend's style printer (hlplot.py
 * NAME..., styles.gp "NAME..."), with the registry in $HEAPLAB_POLICIES:
 * a line per name, "name<TAB>style...".  NULL when the backend is not
 * installed. */
static char *print_styles(const char *backend, const char *names)
{
    const char *src = getenv("HEAPLAB_SRCDIR");
    char reg[1024], cmd[8192];
    registry_names(reg, sizeof reg);
    if (strcmp(backend, "matplotlib") == 0) {
        if (system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") != 0)
            return NULL;
        snprintf(cmd, sizeof cmd, "HEAPLAB_POLICIES='%s' /usr/bin/python3 -B '%s/plots/hlplot.py' %s", reg,
                 src && *src ? src : ".", names);
    } else {
        if (system("command -v gnuplot >/dev/null 2>&1") != 0)
            return NULL;
        snprintf(cmd, sizeof cmd, "HEAPLAB_POLICIES='%s' gnuplot -c '%s/plots/styles.gp' '%s'", reg,
                 src && *src ? src : ".", names);
    }
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    ck_assert_msg(pclose(f) == 0, "%s failed", cmd);
    return out;
}

/* Every registry policy, a variant of each (NAME:cache=7), the baselines
 * and a plugin: each line's style differs from every other's. */
START_TEST(every_registry_policy_gets_a_style_of_its_own)
{
    const char *backend = backends[_i];
    char names[4096] = "", *lines[256];
    for (size_t i = 0; i < hl_policy_count(); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s ", hl_policy_at(i)->name);
    for (size_t i = 0; i < hl_policy_count(); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s:cache=7 ", hl_policy_at(i)->name);
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s",
             "baseline:glibc baseline:jemalloc baseline:mimalloc baseline:tcmalloc ./my_policy.so");
    char *out = print_styles(backend, names);
    if (!out) {
        fprintf(stderr, "plot: styles: SKIPPED: %s is not installed\n", backend);
        return;
    }
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    ck_assert_uint_eq(n, 2 * hl_policy_count() + 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strchr(lines[i], '\t'), "%s: no style: %s", backend, lines[i]);
        if (i < hl_policy_count())
            ck_assert_msg(strncmp(lines[i], hl_policy_at(i)->name, strlen(hl_policy_at(i)->name)) == 0 &&
                              lines[i][strlen(hl_policy_at(i)->name)] == '\t',
                          "%s: line %zu is not %s's: %s", backend, i + 1, hl_policy_at(i)->name, lines[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(strchr(lines[i], '\t'), strchr(lines[j], '\t')) != 0,
                          "%s: the same style for two series:\n%s\n%s", backend, lines[j], lines[i]);
    }
    free(out);
}
END_TEST

/* Luma (Rec. 601: 0.299 R + 0.587 G + 0.114 B) of "#RRGGBB", 0-1: the
 * grey a colour prints as. */
static double luma(const char *hex)
{
    unsigned long v = strtoul(hex + 1, NULL, 16);
    return (0.299 * (double)(v >> 16) + 0.587 * (double)(v >> 8 & 255) + 0.114 * (double)(v & 255)) / 255.0;
}

#define MIN_GREY_STEP 0.06

/* The first twelve styles - the registry's policies, then series that are
 * not policies (plugins, mm:FILE) - are twelve grey levels at least
 * MIN_GREY_STEP apart and have twelve markers, in both backends, and the
 * two backends give a series the same colour. */
START_TEST(twelve_styles_stay_apart_in_greyscale)
{
    char names[4096] = "";
    ck_assert_uint_le(hl_policy_count(), 12);
    for (size_t i = 0; i < hl_policy_count(); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s ", hl_policy_at(i)->name);
    for (size_t i = hl_policy_count(); i < 12; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "./plugin%zu.so ", i);
    char colours[2][12][8];
    int have[2] = {0, 0};
    for (int b = 0; b < 2; b++) {
        char *out = print_styles(backends[b], names);
        if (!out) {
            fprintf(stderr, "plot: styles: SKIPPED: %s is not installed\n", backends[b]);
            continue;
        }
        char marker[12][32];
        size_t n = 0;
        for (char *save = NULL, *l = strtok_r(out, "\n", &save); l && n < 12; l = strtok_r(NULL, "\n", &save), n++) {
            char *f[8];
            size_t nf = 0;
            for (char *s2 = NULL, *x = strtok_r(l, "\t", &s2); x && nf < 8; x = strtok_r(NULL, "\t", &s2))
                f[nf++] = x;
            ck_assert_msg(nf >= 5 && f[1][0] == '#' && strlen(f[1]) == 7, "%s: no colour in line %zu", backends[b],
                          n + 1);
            snprintf(colours[b][n], sizeof colours[b][n], "%s", f[1]);
            /* matplotlib: shape and fill; gnuplot: the point type (shape and fill in one) */
            snprintf(marker[n], sizeof marker[n], "%s/%s", f[2], b == 0 ? f[3] : "");
            /* the printed luma is the colour's */
            ck_assert_msg(fabs(strtod(f[nf - 1], NULL) - luma(f[1])) < 0.001, "%s: %s's luma printed as %s",
                          backends[b], f[1], f[nf - 1]);
        }
        ck_assert_uint_eq(n, 12);
        for (size_t i = 0; i < 12; i++)
            for (size_t j = 0; j < i; j++) {
                double d = fabs(luma(colours[b][i]) - luma(colours[b][j]));
                ck_assert_msg(d >= MIN_GREY_STEP, "%s: styles %zu (%s) and %zu (%s) are %.3f apart in grey", backends[b],
                              j + 1, colours[b][j], i + 1, colours[b][i], d);
                ck_assert_msg(strcmp(marker[i], marker[j]) != 0, "%s: styles %zu and %zu share the marker %s",
                              backends[b], j + 1, i + 1, marker[i]);
            }
        have[b] = 1;
        free(out);
    }
    if (have[0] && have[1])
        for (size_t i = 0; i < 12; i++)
            ck_assert_msg(strcmp(colours[0][i], colours[1][i]) == 0, "style %zu: %s in matplotlib, %s in gnuplot",
                          i + 1, colours[0][i], colours[1][i]);
}
END_TEST

/* The colours a script lists for the heap map's states: each "#RRGGBB"
 * after `from` up to the next `to`, in order, into c; how many. */
static size_t state_colours(const char *script, const char *from, const char *to, char c[16][8])
{
    const char *src = getenv("HEAPLAB_SRCDIR");
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/%s", src && *src ? src : ".", script);
    char *text = slurp(path, NULL);
    ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
    const char *p = strstr(text, from), *end = p ? strstr(p, to) : NULL;
    ck_assert_msg(p && end, "%s: no %s...%s", path, from, to);
    size_t n = 0;
    for (; p < end && n < 16; p++)
        if (*p == '#' && strspn(p + 1, "0123456789abcdefABCDEF") == 6)
            snprintf(c[n++], 8, "%.7s", p);
    free(text);
    return n;
}

/* The heap map's states - beyond the heap, payload, headers, free, mapped,
 * mixed, unknown, payload + unknown - are as many grey levels at least
 * MIN_GREY_STEP apart, and the same colours in both scripts. */
START_TEST(heap_map_states_stay_apart_in_greyscale)
{
    char py[16][8], gp[16][8];
    size_t n = state_colours("heapmap.py", "STATES = [", "]\n", py);
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(state_colours("heapmap.gp", "array SCOL[", "]\n", gp), n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strcasecmp(py[i], gp[i]) == 0, "state %zu: %s in heapmap.py, %s in heapmap.gp", i, py[i],
                      gp[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(fabs(luma(py[i]) - luma(py[j])) >= MIN_GREY_STEP, "states %zu (%s) and %zu (%s) are %.3f "
                          "apart in grey", j, py[j], i, py[i], fabs(luma(py[i]) - luma(py[j])));
    }
}
END_TEST

/* heaplab plot hands the script the registry's names in $HEAPLAB_POLICIES
 * (the "gnuplot" here writes what it got). */
START_TEST(the_scripts_get_the_registry)
{
    NEED_BIN();
    write_results("r.csv", 0, NULL);
    const char *got = tmp_path("env.txt");
    char fake[1024], env[1100], want[1024];
    snprintf(fake, sizeof fake, "%s", tmp_path("fake-gnuplot"));
    write_text("fake-gnuplot", "#!/bin/sh\nprintf '%%s' \"$HEAPLAB_POLICIES\" >'%s'\n", got);
    ck_assert_int_eq(chmod(fake, 0755), 0);
    snprintf(env, sizeof env, "HEAPLAB_GNUPLOT=%s", fake);
    struct result r = RUN_ENV(env, "plot", "util", tmp_path("r.csv"), "-o", tmp_path("u.png"), "-b", "gnuplot");
    ck_assert_msg(r.status == 1 && strstr(r.err, "wrote no chart"), "exit status %d: %s", r.status, r.err);
    char *text = slurp(got, NULL);
    ck_assert_ptr_nonnull(text);
    registry_names(want, sizeof want);
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

Suite *make_plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("charts");
    /* each draws two charts: a Python start-up or two, on a busy machine */
    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_loop_test(tc, every_kind_draws_a_png_and_an_svg_of_the_size_asked, 0, (int)NKINDS * 2);
    tcase_add_test(tc, other_sizes_are_honoured);
    tcase_add_test(tc, a_zoomed_heap_map_draws_in_both_backends);
    tcase_add_test(tc, unknown_bytes_draw_in_both_backends);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, unknown_kind_and_bad_options);
    tcase_add_test(tc, missing_and_malformed_csvs_get_one_line);
    tcase_add_test(tc, throughput_needs_glibc_everywhere_or_nowhere);
    tcase_add_test(tc, trace_is_chosen_by_path_or_file_name);
    tcase_add_test(tc, missing_stack_names_the_debian_package);
    tcase_add_test(tc, a_failing_script_leaves_no_chart);
    tcase_add_test(tc, bad_zooms_get_one_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("data");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, interleaved_rows_reach_the_script_grouped_per_policy);
    tcase_add_test(tc, request_sizes_are_counted_from_the_trace);
    tcase_add_test(tc, heap_map_cells_show_the_state_with_most_bytes);
    tcase_add_test(tc, heap_map_cell_with_used_and_free_bytes_is_mixed);
    tcase_add_test(tc, heap_map_zooms_into_addr_and_ops);
    tcase_add_test(tc, the_scripts_get_the_registry);
    suite_add_tcase(s, tc);

    tc = tcase_create("truthful");
    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, mm_rows_have_no_fragmentation_and_the_chart_says_so);
    tcase_add_test(tc, heap_map_unknown_bytes_are_never_free);
    tcase_add_test(tc, mm_heap_map_gaps_are_unknown_and_the_chart_says_so);
    tcase_add_test(tc, the_mean_averages_the_same_traces_for_every_series);
    tcase_add_test(tc, presets_are_told_apart_and_duplicates_refused);
    tcase_add_test(tc, title_label_only_and_trace);
    tcase_add_test(tc, heap_map_takes_the_common_options);
    tcase_add_test(tc, scaling_rows_reach_the_script_grouped_per_series);
    tcase_add_test(tc, pdf_output_and_the_paths_printed);
    tcase_add_test(tc, help_lists_every_option);
    tcase_add_test(tc, small_charts_keep_every_legend_entry);
    suite_add_tcase(s, tc);

    tc = tcase_create("styles");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_registry_policy_gets_a_style_of_its_own, 0, 2);
    tcase_add_test(tc, twelve_styles_stay_apart_in_greyscale);
    tcase_add_test(tc, heap_map_states_stay_apart_in_greyscale);
    suite_add_tcase(s, tc);
    return s;
}
