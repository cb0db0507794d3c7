/*
 * cmd_layout.c - heaplab layout: where things live in a process, and what
 * malloc does with a request larger than the machine.
 *
 * Prints this process's own memory layout with real addresses, lowest
 * first: the code (text), initialised and uninitialised globals (data,
 * bss), the program break and what glibc's malloc and a heaplab heap on the
 * sbrk source put below it, a block over the mmap threshold in a mapping of
 * its own, a region heap's reservation, shared libraries, the stack and the
 * environment.  Then it reserves address space the way the region source
 * does (MAP_NORESERVE) and shows that virtual size grows while resident
 * memory does not.
 *
 * --overcommit asks glibc's malloc itself for sizes chosen from this
 * machine's figures (half the free RAM, past the commit limit, past RAM +
 * swap, 1.2 x RAM) and says, for each, what the kernel's overcommit policy
 * (/proc/sys/vm/overcommit_memory) made of the mapping malloc asked for.
 * The rules are __vm_enough_memory's in mm/util.c (Linux 5.2 and later):
 *   0  heuristic: refuse one request of more pages than RAM + swap;
 *   1  always: refuse nothing;
 *   2  never: refuse when Committed_AS would pass CommitLimit, which is
 *      swap + overcommit_ratio % of RAM (or overcommit_kbytes), less a
 *      small reserve (refused_by_rule says which).
 * Nothing large is touched: a few MiB of one granted block, to show that
 * only written pages become resident.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <gnu/lib-names.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "heaplab/policies.h"
#include "util.h"

static int initialised_global = 42; /* .data */
static char uninitialised_global[64]; /* .bss */

struct place {
    const void *addr;
    const char *what;
};

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct place *)a)->addr, y = (uintptr_t)((const struct place *)b)->addr;
    return (x > y) - (x < y);
}

/* VmSize and VmRSS of this process, in KiB. */
static void vm(long *size, long *rss)
{
    *size = *rss = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmSize:", 7) == 0)
            *size = strtol(line + 7, NULL, 10);
        else if (strncmp(line, "VmRSS:", 6) == 0)
            *rss = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

/* The /proc/self/maps line holding addr, trimmed to its permissions and name. */
static void mapping_of(const void *addr, char *out, size_t len)
{
    snprintf(out, len, "?");
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &name_at) < 3)
            continue;
        if ((uintptr_t)addr < lo || (uintptr_t)addr >= hi)
            continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = 0;
        const char *base = strrchr(name, '/');
        snprintf(out, len, "%s %s", perms, *name ? (base ? base + 1 : name) : "[anonymous]");
        break;
    }
    fclose(f);
}

/* ---- --overcommit: what malloc does past RAM ---------------------------------------- */

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define TOUCH_MAX (4 * MIB) /* the most this command writes into a granted block */

/* The figures the kernel's decision depends on. Sizes in bytes. */
struct overcommit {
    long mode;              /* /proc/sys/vm/overcommit_memory: 0, 1 or 2 */
    long ratio;             /* overcommit_ratio, percent of RAM (mode 2) */
    long kbytes;            /* overcommit_kbytes, instead of the ratio when not 0 (mode 2) */
    uint64_t ram;           /* MemTotal */
    uint64_t swap;          /* SwapTotal */
    uint64_t available;     /* MemAvailable: what can be had without swapping */
    uint64_t commit_limit;  /* CommitLimit: what mode 2 lets be committed */
    uint64_t committed;     /* Committed_AS: what is committed now */
};

/* One number from a file of its own in /proc/sys. 0, or -1 with errno. */
static int read_sysctl(const char *path, long *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%ld", out) == 1;
    fclose(f);
    if (!ok)
        errno = EINVAL;
    return ok ? 0 : -1;
}

/* The figures, or -1 with errno and the file that failed in *what. */
static int read_overcommit(struct overcommit *oc, const char **what)
{
    static const char *const sysctl[] = {"/proc/sys/vm/overcommit_memory", "/proc/sys/vm/overcommit_ratio",
                                         "/proc/sys/vm/overcommit_kbytes"};
    long *const into[] = {&oc->mode, &oc->ratio, &oc->kbytes};
    for (size_t i = 0; i < 3; i++)
        if (read_sysctl(sysctl[i], into[i]) != 0) {
            *what = sysctl[i];
            return -1;
        }
    static const char *const field[] = {"MemTotal:", "SwapTotal:", "MemAvailable:", "CommitLimit:",
                                        "Committed_AS:"};
    uint64_t *const value[] = {&oc->ram, &oc->swap, &oc->available, &oc->commit_limit, &oc->committed};
    unsigned found = 0;
    *what = "/proc/meminfo";
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1;
    char line[256];
    while (fgets(line, sizeof line, f))
        for (size_t i = 0; i < 5; i++)
            if (strncmp(line, field[i], strlen(field[i])) == 0) {
                *value[i] = strtoull(line + strlen(field[i]), NULL, 10) * KIB; /* "kB" */
                found |= 1u << i;
            }
    fclose(f);
    if (found != 0x1f) {
        errno = ENODATA;
        return -1;
    }
    return 0;
}

/* bytes as "20.0 TiB", "23.5 GiB", "4.0 MiB" or "12 KiB", with its sign when sign (or
 * negative).  The text lives in one of a few static buffers, enough for a
 * printf's arguments. */
static const char *human(long long bytes, int sign)
{
    static char ring[8][32];
    static unsigned next;
    char *buf = ring[next++ % 8];
    unsigned long long a = bytes < 0 ? 0ull - (unsigned long long)bytes : (unsigned long long)bytes;
    const char *s = bytes < 0 ? "-" : sign ? "+" : "";
    if (a >= 1024 * GIB)
        snprintf(buf, sizeof ring[0], "%s%.1f TiB", s, (double)a / GIB / 1024);
    else if (a >= GIB)
        snprintf(buf, sizeof ring[0], "%s%.1f GiB", s, (double)a / GIB);
    else if (a >= MIB)
        snprintf(buf, sizeof ring[0], "%s%.1f MiB", s, (double)a / MIB);
    else
        snprintf(buf, sizeof ring[0], "%s%llu KiB", s, a / KIB);
    return buf;
}

/* A VmSize or VmRSS figure (KiB) as human does bytes. */
static const char *kib(long k, int sign)
{
    return human((long long)k * (long long)KIB, sign);
}

/* CommitLimit - Committed_AS: negative when more is committed than mode 2 would allow. */
static long long headroom(const struct overcommit *oc)
{
    return (long long)oc->commit_limit - (long long)oc->committed;
}

/* What the rule of oc->mode says of one request: 1 refuse, 0 grant.
 * (Mode 2 also keeps back min(VmSize / 32, user_reserve_kbytes), a few MiB
 * here, and admin_reserve_kbytes from a process without CAP_SYS_ADMIN: the
 * requests are chosen far enough from the line for that not to matter.) */
static int refused_by_rule(const struct overcommit *oc, uint64_t bytes)
{
    switch (oc->mode) {
    case 0: /* OVERCOMMIT_GUESS: only an obvious overcommit */
        return bytes > oc->ram + oc->swap;
    case 2: /* OVERCOMMIT_NEVER: against what is committed already */
        return oc->committed + bytes > oc->commit_limit;
    default: /* OVERCOMMIT_ALWAYS */
        return 0;
    }
}

/* The one line that says why, from the mode read. */
static void explain(const struct overcommit *oc, uint64_t bytes, int refused, char *buf, size_t len)
{
    int rule = refused_by_rule(oc, bytes);
    const char *ram_swap = human((long long)(oc->ram + oc->swap), 0);
    const char *committed = human((long long)oc->committed, 0), *limit = human((long long)oc->commit_limit, 0);
    switch (oc->mode) {
    case 0:
        if (rule)
            snprintf(buf, len,
                     "mode 0 refuses it: more than RAM + swap (%s), an obvious overcommit however much is free",
                     ram_swap);
        else
            snprintf(buf, len, "mode 0 grants it: not more than RAM + swap (%s), the heuristic's one test%s", ram_swap,
                     bytes > oc->available                ? "; less is free"
                     : (long long)bytes > headroom(oc) ? "; CommitLimit binds in mode 2 only"
                                                          : "");
        break;
    case 1:
        snprintf(buf, len, "mode 1 grants anything: nothing is checked; touching more than RAM + swap calls the OOM "
                           "killer");
        break;
    case 2:
        if (rule)
            snprintf(buf, len, "mode 2 refuses it: Committed_AS (%s) + this passes CommitLimit (%s), free RAM or not",
                     committed, limit);
        else
            snprintf(buf, len, "mode 2 grants it: Committed_AS (%s) + this stays within CommitLimit (%s)", committed,
                     limit);
        break;
    default:
        snprintf(buf, len, "mode %ld is not one this command knows", oc->mode);
        return;
    }
    if (refused != rule) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, " - yet malloc %s (a limit of its own: ulimit -v?)",
                 refused ? "refused" : "granted");
    }
}

/* glibc's malloc and free, looked up in libc itself: under a sanitizer or a
 * preloaded allocator, plain malloc is theirs. */
static void *(*glibc_malloc)(size_t);
static void (*glibc_free)(void *);

static const char *find_glibc_malloc(void)
{
    void *libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_NOLOAD);
    void *m = libc ? dlsym(libc, "malloc") : NULL, *f = libc ? dlsym(libc, "free") : NULL;
    if (libc)
        dlclose(libc); /* only the reference NOLOAD took: libc stays */
    if (m && f) {
        /* a function pointer through a data pointer, as dlsym(3) does it */
        memcpy(&glibc_malloc, &m, sizeof m);
        memcpy(&glibc_free, &f, sizeof f);
        return "glibc's malloc (" LIBC_SO ")";
    }
    glibc_malloc = malloc;
    glibc_free = free;
    return "this process's malloc (glibc's not found)";
}

static int show_overcommit(void)
{
    struct overcommit oc;
    const char *what;
    if (read_overcommit(&oc, &what) != 0) {
        hl_cli_error("layout", "--overcommit: %s: %s", what, strerror(errno));
        return 1;
    }
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "?");
    const char *whose = find_glibc_malloc();
    static const char *const mode_name[] = {"heuristic", "always", "never"};
    long long room = headroom(&oc);

    printf("Overcommit: what %s does with large requests here (Linux %s).\n\n", whose, u.release);
    printf("  overcommit_memory  %ld (%s)    overcommit_ratio %ld%%    overcommit_kbytes %ld\n", oc.mode,
           oc.mode >= 0 && oc.mode <= 2 ? mode_name[oc.mode] : "?", oc.ratio, oc.kbytes);
    printf("  MemTotal      %10s    SwapTotal     %10s    MemAvailable  %10s\n", human((long long)oc.ram, 0),
           human((long long)oc.swap, 0), human((long long)oc.available, 0));
    printf("  CommitLimit   %10s    Committed_AS  %10s    headroom      %10s\n", human((long long)oc.commit_limit, 0),
           human((long long)oc.committed, 0), human(room, 0));

    /* the requests, from the figures, each far from the line its mode draws */
    struct {
        uint64_t bytes;
        const char *what;
    } req[4];
    uint64_t half = oc.available / 2;
    req[0].what = "half the free RAM (MemAvailable / 2)";
    if (oc.mode == 2 && room < (long long)oc.available) { /* one that mode 2 grants too */
        half = room > 0 ? (uint64_t)room / 2 : 0;
        req[0].what = "half the commit headroom ((CommitLimit - Committed_AS) / 2)";
    }
    req[0].bytes = half > MIB ? half : MIB;
    req[1].bytes = (room > 0 ? (uint64_t)room : 0) + 256 * MIB;
    req[1].what = "past the commit headroom (CommitLimit - Committed_AS + 256 MiB)";
    req[2].bytes = oc.ram + oc.swap + GIB;
    req[2].what = "more than RAM + swap (MemTotal + SwapTotal + 1 GiB)";
    req[3].bytes = oc.ram / 5 * 6;
    req[3].what = "1.2 x RAM (malloc(1.2 GiB) on a 1 GiB machine, scaled)";

    long size0, rss0;
    vm(&size0, &rss0);
    printf("\nEach request is made, looked at and freed before the next (VmSize %s, VmRSS %s before):\n",
           kib(size0, 0), kib(rss0, 0));
    int touched = 0;
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        errno = 0;
        char *p = glibc_malloc(req[i].bytes);
        int err = errno;
        long size1, rss1;
        vm(&size1, &rss1);
        printf("\n  malloc(%s)  %s\n", human((long long)req[i].bytes, 0), req[i].what);
        if (p)
            printf("    granted: VmSize %s (%s), VmRSS %s (%s)\n", kib(size1, 0), kib(size1 - size0, 1), kib(rss1, 0),
                   kib(rss1 - rss0, 1));
        else
            printf("    NULL (errno %s): VmSize %s, VmRSS %s\n", err == ENOMEM ? "ENOMEM" : strerror(err),
                   kib(size1, 0), kib(rss1, 0));
        char why[256];
        explain(&oc, req[i].bytes, p == NULL, why, sizeof why);
        printf("    %s\n", why);
        if (p && !touched) { /* a page is backed when it is first written */
            size_t n = req[i].bytes < TOUCH_MAX ? (size_t)req[i].bytes : TOUCH_MAX;
            size_t page = (size_t)sysconf(_SC_PAGESIZE);
            for (size_t off = 0; off < n; off += page)
                p[off] = 1;
            long size2, rss2;
            vm(&size2, &rss2);
            printf("    touched %s of it: VmRSS %s (%s): only written pages are backed\n", human((long long)n, 0),
                   kib(rss2, 0), kib(rss2 - rss1, 1));
            touched = 1;
        }
        glibc_free(p);
    }
    long size3, rss3;
    vm(&size3, &rss3);
    printf("\nAll freed: VmSize %s, VmRSS %s (glibc unmaps blocks this large on free).\n", kib(size3, 0),
           kib(rss3, 0));
    return 0;
}

int hl_cmd_layout(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"reserve", required_argument, NULL, 'r'},
        {"overcommit", no_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t reserve_mib = 1229; /* 1.2 GiB */
    int c, have_reserve = 0, overcommit = 0;
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "h", longopts, "layout")) != -1) {
        switch (c) {
        case 'r':
            if (hl_parse_u64(optarg, 1ull << 26, &reserve_mib) || reserve_mib == 0) {
                hl_cli_error("layout", "--reserve: expected MiB between 1 and %llu, got '%s'", 1ull << 26, optarg);
                return 2;
            }
            have_reserve = 1;
            break;
        case 'o':
            overcommit = 1;
            break;
        case 'h':
            fputs("usage: heaplab layout [--reserve MIB]\n"
                  "       heaplab layout --overcommit\n"
                  "\n"
                  "Where this process's text, data, heap, mappings and stack live: the\n"
                  "program break before and after malloc, a large malloc served by mmap,\n"
                  "and a reservation of MIB mebibytes (default 1229, 1.2 GiB) made the way\n"
                  "a region heap reserves (MAP_NORESERVE), which costs no memory until touched.\n"
                  "\n"
                  "  --overcommit  instead, what glibc's malloc itself does with requests sized\n"
                  "                from this machine (half the free RAM, past the commit limit,\n"
                  "                past RAM + swap, 1.2 x RAM) under the kernel's overcommit mode\n"
                  "                (/proc/sys/vm/overcommit_memory: 0 heuristic, 1 always, 2 never):\n"
                  "                granted or NULL, VmSize and VmRSS after, and why. Touches at\n"
                  "                most 4 MiB and frees everything.\n",
                  stdout);
            return 0;
        default: /* hl_cli_getopt said what is wrong */
            return 2;
        }
    }
    if (optind < argc) {
        hl_cli_error("layout", "unexpected argument '%s' (see 'heaplab layout --help')", argv[optind]);
        return 2;
    }
    if (overcommit && have_reserve) {
        hl_cli_error("layout", "--reserve belongs to the layout, --overcommit shows malloc alone: give one of them");
        return 2;
    }
    if (overcommit)
        return show_overcommit();
    int local = 0;
    void *brk_before = sbrk(0);
    char *small = malloc(100);         /* glibc: below the break */
    char *large = malloc(1024 * 1024); /* glibc: over its threshold, mmapped */

    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("first-fit"));
    cfg.source = HL_SOURCE_SBRK;
    hl_heap *hs = hl_heap_create(&cfg);
    cfg.source = HL_SOURCE_REGION;
    cfg.region_capacity = 64u << 20;
    hl_heap *hr = hl_heap_create(&cfg);
    if (!small || !large || !hs || !hr) {
        fprintf(stderr, "heaplab: layout: %s\n", strerror(errno));
        return 1;
    }
    void *in_sbrk = hl_malloc(hs, 100);
    void *in_region = hl_malloc(hr, 100);
    void *mapped = hl_malloc(hr, 200 * 1024);
    void *brk_after = sbrk(0);

    struct place places[] = {
        {(const void *)(uintptr_t)hl_cmd_layout, "text: this function's code"},
        {&initialised_global, "data: an initialised global"},
        {uninitialised_global, "bss: a global without initialiser (zeroed at start)"},
        {brk_before, "the program break when this command started"},
        {small, "glibc malloc(100): just below the break (brk heap)"},
        {in_sbrk, "heaplab sbrk-source heap, hl_malloc(100): moved the break itself"},
        {brk_after, "the program break now"},
        {large, "glibc malloc(1 MiB): over its 128 KiB threshold, a mapping of its own"},
        {in_region, "heaplab region-source heap, hl_malloc(100): inside an mmap reservation"},
        {mapped, "heaplab hl_malloc(200 KiB): over the threshold, its own mapping"},
        {(const void *)(uintptr_t)printf, "text of a shared library (printf in libc)"},
        {&local, "stack: a local variable"},
        {argv[0], "argv and the environment, above the stack"},
    };
    size_t n = sizeof places / sizeof places[0];
    qsort(places, n, sizeof places[0], by_address);

    printf("This process's memory, highest address first (addresses differ per run: ASLR).\n\n");
    printf("  %-18s  %-26s  %s\n", "address", "mapping (perms, name)", "what");
    for (size_t i = n; i-- > 0;) {
        char map[128];
        mapping_of(places[i].addr, map, sizeof map);
        if (places[i].addr == brk_after && strcmp(map, "?") == 0)
            snprintf(map, sizeof map, "(end of [heap])");
        printf("  %18p  %-26.26s  %s\n", places[i].addr, map, places[i].what);
    }
    printf("\nThe stack grows down from the top; the brk heap grows up from above bss;\n"
           "mappings (large blocks, region heaps, libraries) sit in between.\n");

    /* overcommit: reserve, then touch a little */
    long size0, rss0, size1, rss1, size2, rss2;
    vm(&size0, &rss0);
    size_t len = (size_t)reserve_mib << 20;
    char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) {
        printf("\nReserving %llu MiB failed: %s\n", (unsigned long long)reserve_mib, strerror(errno));
    } else {
        vm(&size1, &rss1);
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        for (size_t off = 0; off < ((size_t)8 << 20) && off < len; off += page)
            r[off] = 1;
        vm(&size2, &rss2);
        printf("\nOvercommit: mapping %llu MiB as a region heap reserves (MAP_NORESERVE) costs no memory\n"
               "until it is touched (malloc maps without MAP_NORESERVE: heaplab layout --overcommit):\n",
               (unsigned long long)reserve_mib);
        printf("  after the mmap:         VmSize %+8ld KiB   VmRSS %+6ld KiB\n", size1 - size0, rss1 - rss0);
        printf("  after touching 8 MiB:   VmSize %+8ld KiB   VmRSS %+6ld KiB\n", size2 - size0, rss2 - rss0);
        munmap(r, len);
    }
    hl_free(hr, mapped);
    hl_free(hr, in_region);
    hl_free(hs, in_sbrk);
    hl_heap_destroy(hr);
    hl_heap_destroy(hs);
    free(large);
    free(small);
    return 0;
}
