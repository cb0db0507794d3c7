/*
 * cmd_layout.c - heaplab layout: where things live in a process.
 *
 * Prints this process's own memory layout with real addresses, lowest
 * first: the code (text), initialised and uninitialised globals (data,
 * bss), the program break and what glibc's malloc and a heaplab heap on the
 * sbrk source put below it, a block over the mmap threshold in a mapping of
 * its own, a region heap's reservation, shared libraries, the stack and the
 * environment.  Then it reserves address space the way the region source
 * does (PROT_NONE, MAP_NORESERVE) and shows that virtual size grows while
 * resident memory does not - the overcommit that lets malloc(1.2 GiB)
 * succeed on a 1 GiB machine until the pages are touched.
 */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

int hl_cmd_layout(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"reserve", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t reserve_mib = 1229; /* 1.2 GiB */
    int c;
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "h", longopts, "layout")) != -1) {
        switch (c) {
        case 'r':
            if (hl_parse_u64(optarg, 1ull << 26, &reserve_mib) || reserve_mib == 0) {
                hl_cli_error("layout", "--reserve: expected MiB between 1 and %llu, got '%s'", 1ull << 26, optarg);
                return 2;
            }
            break;
        case 'h':
            fputs("usage: heaplab layout [--reserve MIB]\n"
                  "\n"
                  "Where this process's text, data, heap, mappings and stack live: the\n"
                  "program break before and after malloc, a large malloc served by mmap,\n"
                  "and a reservation of MIB mebibytes (default 1229, 1.2 GiB) that costs\n"
                  "no memory until touched (overcommit).\n",
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
        printf("\nOvercommit: mapping %llu MiB (MAP_NORESERVE) succeeds whatever the RAM,\n", (unsigned long long)reserve_mib);
        printf("because nothing is backed until it is touched:\n");
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
