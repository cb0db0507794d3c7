/*
 * check_core.c - core's own mechanisms, apart from any policy: exact growth
 * on the region source, trim, the stats counters and their dump, the
 * checker's reports on a heap the test corrupts, configuration checks,
 * locking a heap from outside (hl_heap_lock, around fork).
 *
 * White-box where it must be: the segment header and epilogue sizes come
 * from core.h.
 */
#include <check.h>
#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "testutil.h"

#define KiB ((size_t)1024)
#define MiB ((size_t)1024 * 1024)

static struct hl_config core_config(size_t align)
{
    struct hl_config c;
    hl_config_default(&c, hl_policy_lookup("first-fit"));
    ck_assert_ptr_nonnull(c.policy);
    c.align = align;
    return c;
}

/* ---- growth -------------------------------------------------------------------- */

START_TEST(region_grows_by_exactly_what_is_needed)
{
    struct hl_config cfg = core_config(_i ? 8 : 16);
    hl_heap *h = tl_heap(&cfg);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, 0);
    ck_assert_uint_eq(st.grow_calls, 0);
    ck_assert_uint_eq(st.segments, 0);

    const size_t seg = HL_SEG_HDR + HL_EPILOGUE;
    size_t b100 = hl_request_size(h, 100);
    ck_assert_uint_eq(b100 % cfg.align, 0);
    ck_assert_uint_ge(b100, 108);
    char *p = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(p);
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, seg + b100);
    ck_assert_uint_eq(st.grow_calls, 1);
    ck_assert_uint_eq(st.segments, 1);
    ck_assert_uint_eq(st.overhead_bytes, seg);
    ck_assert_uint_eq(st.live_bytes, b100);
    ck_assert_uint_eq(st.free_bytes, 0);
    ck_assert_uint_eq(st.peak_extent_bytes, st.extent_bytes);
    ck_assert_ptr_eq(p, (char *)hl_heap_base(h) + HL_SEG_HDR + HL_HDR_BYTES);

    size_t b200 = hl_request_size(h, 200);
    char *q = hl_malloc(h, 200);
    ck_assert_ptr_eq(q, p + b100); /* right behind p */
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, seg + b100 + b200);
    ck_assert_uint_eq(st.grow_calls, 2);

    /* a hole that fits: no growth */
    hl_free(h, p);
    char *r = hl_malloc(h, 50);
    ck_assert_ptr_eq(r, p);
    st = tl_stats(h);
    ck_assert_uint_eq(st.grow_calls, 2);
    ck_assert_uint_eq(st.extent_bytes, seg + b100 + b200);

    /* a free top block is topped up by the difference only */
    size_t b1000 = hl_request_size(h, 1000), b3000 = hl_request_size(h, 3000);
    char *t = hl_malloc(h, 1000);
    ck_assert_uint_eq(tl_stats(h).extent_bytes, seg + b100 + b200 + b1000);
    hl_free(h, t); /* far below the trim threshold: stays */
    char *u = hl_malloc(h, 3000);
    ck_assert_ptr_eq(u, t);
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, seg + b100 + b200 + b3000);
    ck_assert_uint_eq(st.grow_calls, 4);

    /* realloc of the top block grows it in place by the difference */
    size_t b5000 = hl_request_size(h, 5000);
    char *v = hl_realloc(h, u, 5000);
    ck_assert_ptr_eq(v, u);
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, seg + b100 + b200 + b5000);
    ck_assert_uint_eq(st.grow_calls, 5);
    ck_assert_uint_eq(st.segments, 1);
    TL_CHECK(h);
    hl_free(h, v);
    hl_free(h, q);
    hl_free(h, r);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* grow_min is a floor on each growth; whatever its value, a region heap
 * stays one segment that grows in place, and its blocks stay aligned. */
START_TEST(region_stays_one_segment_whatever_grow_min)
{
    static const size_t mins[] = {1000, 4100, 8, 65536 + 4};
    struct hl_config cfg = core_config(16);
    cfg.grow_min = mins[_i];
    hl_heap *h = tl_heap(&cfg);
    char *v[200];
    for (int i = 0; i < 200; i++) {
        v[i] = hl_malloc(h, 100 + 37 * (size_t)i);
        ck_assert_ptr_nonnull(v[i]);
        pat_fill(v[i], 100 + 37 * (size_t)i, (uint64_t)i);
    }
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.segments, 1);
    TL_CHECK(h);
    for (int i = 0; i < 200; i++) {
        TL_ASSERT_PATTERN(v[i], 100 + 37 * (size_t)i, (uint64_t)i);
        hl_free(h, v[i]);
    }
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- trim ----------------------------------------------------------------------- */

/* glibc's M_TOP_PAD: a trim leaves the pad free at the top, so a heap whose
 * live size swings around the threshold does not give memory back and take
 * it again on every swing. */
START_TEST(trim_keeps_the_top_pad)
{
    const size_t T = 64 * KiB, PAD = 32 * KiB;
    struct hl_config cfg = core_config(16);
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = T;
    cfg.top_pad = PAD;
    hl_heap *h = tl_heap(&cfg);
    char *first = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(first);
    const uint64_t e0 = tl_stats(h).extent_bytes;
    char *x = hl_malloc(h, 200 * KiB);
    ck_assert_ptr_nonnull(x);
    hl_free(h, x);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.shrink_calls, 1);
    ck_assert_uint_eq(st.extent_bytes, e0 + PAD); /* the pad is still there, free */
    ck_assert_uint_eq(st.free_bytes, PAD);
    /* a request within the pad needs no growth */
    uint64_t grows = st.grow_calls;
    x = hl_malloc(h, PAD - 64);
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_eq(tl_stats(h).grow_calls, grows);
    hl_free(h, x);
    /* a top block no bigger than the pad is never trimmed */
    ck_assert_uint_eq(tl_stats(h).shrink_calls, 1);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(trim_gives_back_the_top_at_the_threshold_and_not_below)
{
    const size_t T = 64 * KiB;
    struct hl_config cfg = core_config(16);
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = T;
    cfg.top_pad = 0;
    hl_heap *h = tl_heap(&cfg);
    char *first = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(first);
    const uint64_t e0 = tl_stats(h).extent_bytes;

    /* a top block of exactly the threshold goes back */
    char *x = hl_malloc(h, T - 8);
    ck_assert_uint_eq(hl_usable_size(h, x), T - 8);
    ck_assert_uint_eq(tl_stats(h).extent_bytes, e0 + T);
    hl_free(h, x);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, e0);
    ck_assert_uint_eq(st.shrink_calls, 1);
    TL_CHECK(h);

    /* one alignment unit less stays */
    x = hl_malloc(h, T - 24);
    ck_assert_uint_eq(hl_usable_size(h, x), T - 24);
    hl_free(h, x);
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, e0 + T - 16);
    ck_assert_uint_eq(st.shrink_calls, 1);
    ck_assert_uint_eq(st.free_bytes, T - 16);
    TL_CHECK(h);

    /* two frees that coalesce into a top block past the threshold */
    char *a = hl_malloc(h, T / 2 - 8), *b = hl_malloc(h, T / 2 - 8);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_eq(b, a + T / 2);
    hl_free(h, a);
    ck_assert_uint_eq(tl_stats(h).shrink_calls, 1); /* a is not the top */
    hl_free(h, b);
    st = tl_stats(h);
    ck_assert_uint_eq(st.shrink_calls, 2);
    ck_assert_uint_eq(st.extent_bytes, e0);
    ck_assert_uint_eq(st.free_bytes, 0);
    TL_CHECK(h);

    /* a free block that is not the top is never given back */
    char *c = hl_malloc(h, 2 * T), *d = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(d);
    uint64_t e1 = tl_stats(h).extent_bytes;
    hl_free(h, c);
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, e1);
    ck_assert_uint_eq(st.shrink_calls, 2);
    hl_free(h, d); /* now c and d make one top block */
    st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, e0);
    ck_assert_uint_eq(st.shrink_calls, 3);
    TL_CHECK(h);
    hl_free(h, first);
    hl_heap_destroy(h);
}
END_TEST

/* Trimming is lazy on the region source (source.c): the extent shrinks as
 * before, and the pages go back with madvise - fewer of them, then none,
 * once the heap has grown back into what it gave back a few times. */
START_TEST(trim_learns_to_keep_what_the_heap_grows_back_into)
{
    enum { N = 1024, CYCLES = 14 };
    static char *p[N];
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    uint64_t extent_after_trim = 0, decommits[CYCLES];
    for (int c = 0; c < CYCLES; c++) {
        for (int i = 0; i < N; i++) {
            p[i] = hl_malloc(h, 4000); /* 4 MiB in all, none mmapped */
            ck_assert_ptr_nonnull(p[i]);
            memset(p[i], c, 4000);
        }
        ck_assert_uint_eq(tl_stats(h).mapped_blocks, 0);
        for (int i = 0; i < N; i++) /* the top goes last: one trim */
            hl_free(h, p[i]);
        struct hl_stats st = tl_stats(h);
        ck_assert_uint_eq(st.shrink_calls, (uint64_t)c + 1); /* every cycle trims ... */
        if (c == 0)
            extent_after_trim = st.extent_bytes;
        ck_assert_uint_eq(st.extent_bytes, extent_after_trim); /* ... to the same extent */
        ck_assert_uint_lt(st.extent_bytes, 1 * MiB);
        decommits[c] = st.decommit_calls;
        TL_CHECK(h);
    }
    ck_assert_uint_eq(decommits[0], 1);
    /* the second cycle grows back into the ~4 MiB the first gave back:
     * from then on a trim keeps that much, and gives nothing back */
    for (int c = 1; c < CYCLES; c++)
        ck_assert_uint_eq(decommits[c], 1);
    /* what was kept is still resident and usable */
    ck_assert_uint_ge(hl_resident_bytes(h), (uint64_t)N * 4000);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(resident_bytes_count_touched_pages_and_mappings)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    ck_assert_uint_eq(hl_resident_bytes(h), 0);
    char *small = hl_malloc(h, 100 * KiB);
    ck_assert_ptr_nonnull(small);
    memset(small, 1, 100 * KiB);
    uint64_t r1 = hl_resident_bytes(h);
    ck_assert_uint_ge(r1, 100 * KiB);
    ck_assert_uint_le(r1, 192 * KiB); /* one 64 KiB commit step beyond, at most */
    char *big = hl_malloc(h, 2 * MiB);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq(tl_stats(h).mapped_blocks, 1);
    ck_assert_uint_lt(hl_resident_bytes(h), r1 + 64 * KiB); /* untouched: not resident */
    memset(big, 2, 2 * MiB);
    ck_assert_uint_ge(hl_resident_bytes(h), r1 + 2 * MiB);
    hl_heap_destroy(h);
}
END_TEST

/* glibc keeps the thresholds it learned for the life of the process; a
 * heap keeps them across hl_heap_reset (a replay's timed passes). */
START_TEST(reset_keeps_the_learned_thresholds)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    char *big = hl_malloc(h, 1 * MiB);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq(tl_stats(h).mapped_blocks, 1);
    hl_free(h, big);
    uint64_t learned = tl_stats(h).mmap_threshold;
    ck_assert_uint_gt(learned, 1 * MiB);
    ck_assert_int_eq(hl_heap_reset(h), 0);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.mmap_threshold, learned);
    ck_assert_uint_eq(st.mmap_calls, 0);
    ck_assert_uint_eq(st.decommit_calls, 0);
    big = hl_malloc(h, 1 * MiB);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq(tl_stats(h).mapped_blocks, 0); /* served from the heap now */
    hl_free(h, big);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(no_trim_keeps_everything)
{
    struct hl_config cfg = core_config(16);
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = HL_NO_TRIM;
    hl_heap *h = tl_heap(&cfg);
    char *p = hl_malloc(h, 4 * MiB);
    ck_assert_ptr_nonnull(p);
    uint64_t e = tl_stats(h).extent_bytes;
    hl_free(h, p);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.extent_bytes, e);
    ck_assert_uint_eq(st.shrink_calls, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/*
 * A top block given back whole while its header sits in the last 8 bytes
 * of a page: its node space starts on the next page, which the trim
 * decommits.  The policy must have unfiled it before that.  Every policy,
 * since each reads its node in its own way.
 */
START_TEST(trim_of_a_block_whose_node_starts_a_page)
{
    TL_POLICY(pol);
    if (!tl_core_mechanism(pol))
        return; /* lays out its own blocks: core's top-block trim does not apply */
    struct hl_config cfg;
    hl_config_default(&cfg, pol);
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = 64 * KiB;
    cfg.top_pad = 0;
    hl_heap *h = tl_heap(&cfg);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *base = hl_heap_base(h);
    /* first block from base + HL_SEG_HDR up to 8 bytes below the page end */
    char *first = hl_malloc(h, page - HL_SEG_HDR - 2 * HL_HDR_BYTES);
    ck_assert_ptr_nonnull(first);
    char *top = hl_malloc(h, 100 * KiB);
    ck_assert_ptr_eq(top, base + page); /* its header is the last word of page 0 */
    uint64_t e = tl_stats(h).extent_bytes;
    hl_free(h, top);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.shrink_calls, 1);
    ck_assert_uint_lt(st.extent_bytes, e);
    TL_CHECK(h);
    /* and the heap goes on */
    top = hl_malloc(h, 100 * KiB);
    ck_assert_ptr_eq(top, base + page);
    pat_fill(top, 100 * KiB, 1);
    TL_CHECK(h);
    hl_free(h, top);
    hl_free(h, first);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- stats ---------------------------------------------------------------------- */

START_TEST(stats_count_what_happened)
{
    struct hl_config cfg = core_config(16);
    cfg.mmap_dynamic = 0;
    hl_heap *h = tl_heap(&cfg);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_gt(st.meta_bytes, 0);
    ck_assert_uint_eq(st.heap_bytes, 0);
    ck_assert_uint_eq(st.mmap_threshold, HL_DEFAULT_MMAP_THRESHOLD);

    char *p = hl_malloc(h, 1000);
    char *big = hl_malloc(h, 1 * MiB);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(big);
    pat_fill(big, 1 * MiB, 1);
    st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 1);
    ck_assert_uint_eq(st.live_bytes, hl_request_size(h, 1000));
    ck_assert_uint_eq(st.mapped_blocks, 1);
    ck_assert_uint_ge(st.mapped_bytes, 1 * MiB);
    ck_assert_uint_eq(st.mapped_bytes % (uint64_t)sysconf(_SC_PAGESIZE), 0);
    ck_assert_uint_eq(st.mmap_calls, 1);
    ck_assert_uint_eq(st.heap_bytes, st.extent_bytes + st.mapped_bytes);
    ck_assert_uint_eq(st.peak_live_bytes, st.live_bytes + st.mapped_bytes);
    ck_assert_uint_eq(st.peak_heap_bytes, st.heap_bytes);
    ck_assert_uint_eq(st.peak_mapped_bytes, st.mapped_bytes);
    ck_assert_uint_eq(st.free_bytes, st.extent_bytes - st.live_bytes - st.overhead_bytes);

    big = hl_realloc(h, big, 3 * MiB); /* a mapped block is resized with mremap */
    ck_assert_ptr_nonnull(big);
    TL_ASSERT_PATTERN(big, 1 * MiB, 1);
    st = tl_stats(h);
    ck_assert_uint_eq(st.mremap_calls, 1);
    ck_assert_uint_eq(st.mmap_calls, 1);
    ck_assert_uint_ge(st.mapped_bytes, 3 * MiB);
    uint64_t peak_mapped = st.mapped_bytes, peak_heap = st.heap_bytes, peak_live = st.peak_live_bytes;

    hl_free(h, big);
    hl_free(h, p);
    st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_uint_eq(st.live_bytes, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.mapped_bytes, 0);
    ck_assert_uint_eq(st.munmap_calls, 1);
    /* peaks stay */
    ck_assert_uint_eq(st.peak_mapped_bytes, peak_mapped);
    ck_assert_uint_eq(st.peak_heap_bytes, peak_heap);
    ck_assert_uint_eq(st.peak_live_bytes, peak_live);
    ck_assert_uint_eq(st.segments, 1);
    ck_assert_uint_eq(st.shrink_calls, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(stats_print_names_every_field)
{
    static const char *const names[] = {
#define NAME(name, doc) #name,
        HL_STATS_FIELDS(NAME)
#undef NAME
    };
    enum { NF = sizeof names / sizeof names[0] };
    ck_assert_uint_eq(sizeof(struct hl_stats), NF * sizeof(uint64_t));
    struct hl_stats st;
    uint64_t *field = (uint64_t *)(void *)&st;
    for (int i = 0; i < NF; i++)
        field[i] = 1000003u * (uint64_t)(i + 1);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    hl_stats_print(&st, f);
    ck_assert_int_eq(fclose(f), 0);

    /* one "name value" line per field, in the list's order */
    char *line = text;
    for (int i = 0; i < NF; i++) {
        ck_assert_msg(line && *line, "the dump ends before field %s", names[i]);
        char name[64];
        unsigned long long value;
        ck_assert_int_eq(sscanf(line, "%63s %llu", name, &value), 2);
        ck_assert_str_eq(name, names[i]);
        ck_assert_uint_eq(value, 1000003u * (uint64_t)(i + 1));
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    ck_assert_msg(line && *line == 0, "more lines than fields");
    free(text);
}
END_TEST

/* ---- the checker on a heap the test corrupts --------------------------------------------- */

static int check_report(hl_heap *h, const char *expect)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    int v = hl_check(h, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_msg(strstr(text, expect) != NULL, "the report does not mention \"%s\":\n%s", expect, text);
    free(text);
    return v;
}

START_TEST(check_reports_a_corrupted_footer)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    char *a = hl_malloc(h, 200), *b = hl_malloc(h, 200), *c = hl_malloc(h, 200);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(c);
    size_t bs = hl_usable_size(h, b) + HL_HDR_BYTES;
    hl_free(h, b);
    TL_CHECK(h);
    size_t *footer = (size_t *)(void *)(b - HL_HDR_BYTES + bs - 8);
    ck_assert_uint_eq(*footer, bs);
    *footer = bs + 64;
    ck_assert_int_gt(check_report(h, "footer"), 0);
    hl_heap_destroy(h); /* not used again: destroy does not walk the blocks */
}
END_TEST

START_TEST(check_reports_a_corrupted_header)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    char *a = hl_malloc(h, 200), *b = hl_malloc(h, 200), *c = hl_malloc(h, 200);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(c);
    TL_CHECK(h);
    hl_word *hdr = (hl_word *)(void *)(b - HL_HDR_BYTES);
    *hdr ^= (hl_word)16 << 4; /* the size grows by 256: the tag no longer matches */
    ck_assert_int_gt(check_report(h, "tag"), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(check_reports_a_wrong_prev_free_bit)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    char *a = hl_malloc(h, 200), *b = hl_malloc(h, 200), *c = hl_malloc(h, 200);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    TL_CHECK(h);
    /* PREV_FREE is outside the tag: only the walk can tell it lies */
    *(hl_word *)(void *)(c - HL_HDR_BYTES) |= HL_F_PREV_FREE;
    ck_assert_int_gt(check_report(h, "PREV_FREE"), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(check_reports_every_violation_not_just_the_first)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    char *v[6];
    for (int i = 0; i < 6; i++)
        v[i] = hl_malloc(h, 200);
    hl_free(h, v[1]);
    hl_free(h, v[3]);
    TL_CHECK(h);
    size_t bs = hl_usable_size(h, v[0]) + HL_HDR_BYTES;
    *(size_t *)(void *)(v[1] - HL_HDR_BYTES + bs - 8) = 1; /* footer of hole 1 */
    *(size_t *)(void *)(v[3] - HL_HDR_BYTES + bs - 8) = 2; /* footer of hole 3 */
    ck_assert_int_ge(check_report(h, "footer"), 2);
    hl_heap_destroy(h);
}
END_TEST

/* ---- configuration -------------------------------------------------------------------------- */

static int no_init(hl_heap *h, void *st, const long *params)
{
    (void)h;
    (void)st;
    (void)params;
    errno = EDOM;
    return -1;
}

START_TEST(config_is_validated)
{
    const struct hl_policy *ff = hl_policy_lookup("first-fit");
    struct hl_config def;
    hl_config_default(&def, ff);
    ck_assert_ptr_eq(def.policy, ff);
    ck_assert_int_eq(def.source, HL_SOURCE_REGION);
    ck_assert_uint_eq(def.mmap_threshold, HL_DEFAULT_MMAP_THRESHOLD);
    ck_assert_int_eq(def.mmap_dynamic, 1);
    ck_assert_uint_eq(def.align, 16);
    ck_assert_uint_eq(def.trim_threshold, HL_DEFAULT_TRIM_THRESHOLD);
    ck_assert_uint_eq(def.top_pad, HL_DEFAULT_TOP_PAD);
    ck_assert_int_eq(def.lock, 1);

    static const size_t bad_align[] = {0, 1, 4, 12, 24, 32, 64, 4096};
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
        struct hl_config c = def;
        c.align = bad_align[i];
        errno = 0;
        ck_assert_msg(hl_heap_create(&c) == NULL, "align %zu accepted", bad_align[i]);
        ck_assert_int_eq(errno, EINVAL);
    }
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(NULL));
    ck_assert_int_eq(errno, EINVAL);

    struct hl_config c = def;
    c.policy = NULL;
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&c));
    ck_assert_int_eq(errno, EINVAL);

    struct hl_policy other = *ff;
    other.abi = HL_POLICY_ABI + 1; /* built against another layout */
    c = def;
    c.policy = &other;
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&c));
    ck_assert_int_eq(errno, EINVAL);

    other = *ff;
    other.find = NULL; /* neither an index nor whole-block hooks */
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&c));
    ck_assert_int_eq(errno, EINVAL);

    other = *ff;
    other.init = no_init; /* the policy's init error comes through */
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&c));
    ck_assert_int_eq(errno, EDOM);

    c = def;
    c.source = (enum hl_source_kind)7;
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&c));
    ck_assert_int_eq(errno, EINVAL);

    c = def;
    c.region_capacity = (size_t)1 << 62; /* no address space that large */
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&c));
    ck_assert_int_eq(errno, ENOMEM);

    for (size_t a = 8; a <= 16; a *= 2) {
        c = def;
        c.align = a;
        hl_heap *h = hl_heap_create(&c);
        ck_assert_ptr_nonnull(h);
        ck_assert_ptr_eq(hl_heap_policy(h), ff);
        ck_assert_uint_eq(hl_heap_align(h), a);
        ck_assert_uint_eq((uintptr_t)hl_heap_base(h) % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
        hl_heap_destroy(h);
    }
    hl_heap_destroy(NULL);
}
END_TEST

/* ---- locking from outside ------------------------------------------------------ */

struct lock_waiter {
    hl_heap *h;
    sem_t started;      /* posted just before the waiter's hl_malloc */
    atomic_int done;    /* its hl_malloc has returned */
    atomic_int holder_done; /* the lock holder's work was finished when it did */
    atomic_int holder_finished;
};

static void *lock_waiter_run(void *arg)
{
    struct lock_waiter *w = arg;
    sem_post(&w->started);
    void *p = hl_malloc(w->h, 100);
    atomic_store(&w->holder_done, atomic_load(&w->holder_finished));
    atomic_store(&w->done, 1);
    hl_free(w->h, p);
    return p;
}

/* While one thread holds hl_heap_lock, another thread's hl_malloc does not
 * return: the holder works on the heap through the unlocked calls, and the
 * waiter, once let in, sees that work finished.  The waiter's start is
 * known by a semaphore; nothing here waits by the clock. */
START_TEST(heap_lock_holds_off_other_threads)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    struct lock_waiter w = {.h = h};
    ck_assert_int_eq(sem_init(&w.started, 0, 0), 0);
    atomic_init(&w.done, 0);
    atomic_init(&w.holder_done, 0);
    atomic_init(&w.holder_finished, 0);

    hl_heap_lock(h);
    ck_assert_int_eq(pthread_mutex_trylock(&h->mu), EBUSY);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, lock_waiter_run, &w), 0);
    while (sem_wait(&w.started) != 0)
        ck_assert_int_eq(errno, EINTR);
    void *held[1000];
    for (int i = 0; i < 1000; i++) {
        held[i] = hl_malloc_unlocked(h, (size_t)(16 + i % 200));
        ck_assert_ptr_nonnull(held[i]);
    }
    for (int i = 0; i < 1000; i++)
        hl_free_unlocked(h, held[i]);
    ck_assert_int_eq(atomic_load(&w.done), 0);
    atomic_store(&w.holder_finished, 1);
    hl_heap_unlock(h);

    void *ret;
    ck_assert_int_eq(pthread_join(t, &ret), 0);
    ck_assert_ptr_nonnull(ret);
    ck_assert_int_eq(atomic_load(&w.done), 1);
    ck_assert_int_eq(atomic_load(&w.holder_done), 1);
    ck_assert_int_eq(pthread_mutex_trylock(&h->mu), 0); /* unlocked again */
    pthread_mutex_unlock(&h->mu);
    TL_CHECK(h);
    sem_destroy(&w.started);
    hl_heap_destroy(h);
}
END_TEST

/* A heap made with lock = 0 has no lock to take: hl_heap_lock leaves the
 * mutex alone. */
START_TEST(heap_lock_is_a_no_op_without_locking)
{
    struct hl_config cfg = core_config(16);
    cfg.lock = 0;
    hl_heap *h = tl_heap(&cfg);
    hl_heap_lock(h);
    ck_assert_int_eq(pthread_mutex_trylock(&h->mu), 0);
    pthread_mutex_unlock(&h->mu);
    void *p = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(p);
    hl_free(h, p);
    hl_heap_unlock(h);
    hl_heap_destroy(h);
}
END_TEST

/* The pthread_atfork sequence: lock before fork, unlock in the parent,
 * hl_heap_after_fork_child in the child, which can then use the heap (it
 * inherited a mutex held by the thread that forked).  The child reports
 * by its exit status: 0 all well, 1 no memory, 2 the checker's count. */
START_TEST(heap_after_fork_child_lets_the_child_allocate)
{
    struct hl_config cfg = core_config(16);
    hl_heap *h = tl_heap(&cfg);
    void *before = hl_malloc(h, 300);
    ck_assert_ptr_nonnull(before);

    hl_heap_lock(h);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        hl_heap_after_fork_child(h);
        char *p = hl_malloc(h, 1000);
        if (!p)
            _exit(1);
        memset(p, 0x5a, 1000);
        hl_free(h, before);
        hl_free(h, p);
        _exit(hl_check(h, stderr) == 0 ? 0 : 2);
    }
    hl_heap_unlock(h);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %#x", status);

    /* the parent's heap is its own, unchanged by the child */
    ck_assert_int_eq(pthread_mutex_trylock(&h->mu), 0);
    pthread_mutex_unlock(&h->mu);
    ck_assert_uint_eq(tl_stats(h).live_blocks, 1);
    hl_free(h, before);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* HEAPLAB_FAIL_AT=N: hl_config_default takes fault injection from the
 * environment (digits only), and the heap's Nth request for memory fails. */
START_TEST(fail_at_comes_from_the_environment)
{
    const struct { const char *value; uint64_t want; } cases[] = {
        {"3", 3}, {"0", 0}, {"", 0}, {"x", 0}, {"3x", 0}, {"-1", 0}, {"18446744073709551615", 0},
    };
    struct hl_config cfg;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(setenv("HEAPLAB_FAIL_AT", cases[i].value, 1), 0);
        hl_config_default(&cfg, hl_policy_lookup("first-fit"));
        ck_assert_msg(cfg.fail_at == cases[i].want, "HEAPLAB_FAIL_AT='%s': fail_at %llu", cases[i].value,
                      (unsigned long long)cfg.fail_at);
    }
    ck_assert_int_eq(setenv("HEAPLAB_FAIL_AT", "2", 1), 0);
    hl_config_default(&cfg, hl_policy_lookup("first-fit"));
    unsetenv("HEAPLAB_FAIL_AT");
    hl_heap *h = tl_heap(&cfg);
    char *a = hl_malloc(h, 100); /* request 1: the region grows */
    ck_assert_ptr_nonnull(a);
    errno = 0;
    ck_assert_ptr_null(hl_malloc(h, 100)); /* request 2 fails */
    ck_assert_int_eq(errno, ENOMEM);
    char *b = hl_malloc(h, 100); /* and the heap goes on */
    ck_assert_ptr_nonnull(b);
    TL_CHECK(h);
    hl_free(h, a);
    hl_free(h, b);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- an address space limit ------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__) || TL_THREAD_SANITIZER
#define TL_SHADOW_MEMORY 1 /* the sanitizer's shadow needs terabytes of address space */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_SHADOW_MEMORY 1
#endif
#endif
#ifndef TL_SHADOW_MEMORY
#define TL_SHADOW_MEMORY 0
#endif

/* Bytes of address space the process has mapped (/proc/self/statm). */
static size_t mapped_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long pages = 0;
    ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Under an address space limit (ulimit -v) that leaves 256 MiB, a region
 * heap cannot reserve its default 1 GiB: it reserves what the limit
 * allows, serves what fits - 16 bytes, and 160 MiB of blocks, more than
 * its first reservation (half of what fitted), so it goes on in new ones -
 * and fails with ENOMEM, cleanly, only for what truly does not fit.  In a
 * child of its own: the limit stays there.
 */
START_TEST(address_space_limit_shrinks_the_reservation)
{
    if (TL_SHADOW_MEMORY) {
        fprintf(stderr, "core: address_space_limit_shrinks_the_reservation: SKIPPED: a sanitizer's shadow "
                        "memory does not fit under an address space limit\n");
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        size_t limit = mapped_now() + 256 * MiB;
        struct rlimit rl = {limit, limit};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(10);
        struct hl_config cfg;
        hl_config_default(&cfg, hl_policy_lookup("tlsf"));
        hl_heap *h = hl_heap_create(&cfg);
        if (!h)
            _exit(11); /* the 1 GiB reservation, refused */
        char *small = hl_malloc(h, 16);
        if (!small)
            _exit(12);
        enum { N = 1600 };
        static char *v[N];
        for (int i = 0; i < N; i++)
            if (!(v[i] = hl_malloc(h, 100 * KiB)))
                _exit(13);
        for (int i = 0; i < N; i++)
            pat_fill(v[i], 100 * KiB, (uint64_t)i);
        struct hl_stats st;
        hl_stats(h, &st);
        if (st.segments < 2)
            _exit(18); /* all in the first reservation: the limit did not cut it */
        errno = 0;
        if (hl_malloc(h, 512 * MiB) != NULL || errno != ENOMEM)
            _exit(14); /* a mapped block past the limit */
        errno = 0;
        char *q = NULL;
        for (int i = 0; i < 10000 && (q = hl_malloc(h, 100 * KiB)) != NULL; i++)
            ;
        if (q || errno != ENOMEM)
            _exit(15); /* the region, full */
        if (hl_check(h, stderr) != 0)
            _exit(16);
        for (int i = 0; i < N; i++)
            if (pat_verify(v[i], 100 * KiB, (uint64_t)i) >= 0)
                _exit(17);
        hl_heap_destroy(h);
        _exit(0);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "the child under the limit: %s %d (10 setrlimit, 11 create, 12 16 bytes, 13 160 MiB of blocks, "
                  "14 no ENOMEM past the limit, 15 the region never full, 16 checker, 17 contents, 18 one region)",
                  WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}
END_TEST

Suite *make_core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("growth");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, region_grows_by_exactly_what_is_needed, 0, 2);
    tcase_add_loop_test(tc, region_stays_one_segment_whatever_grow_min, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("trim");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, trim_gives_back_the_top_at_the_threshold_and_not_below);
    tcase_add_test(tc, trim_keeps_the_top_pad);
    tcase_add_test(tc, no_trim_keeps_everything);
    tcase_add_test(tc, trim_learns_to_keep_what_the_heap_grows_back_into);
    tcase_add_test(tc, resident_bytes_count_touched_pages_and_mappings);
    tcase_add_test(tc, reset_keeps_the_learned_thresholds);
    tcase_add_loop_test(tc, trim_of_a_block_whose_node_starts_a_page, 0, hl_policy_count());
    suite_add_tcase(s, tc);

    tc = tcase_create("stats");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, stats_count_what_happened);
    tcase_add_test(tc, stats_print_names_every_field);
    suite_add_tcase(s, tc);

    tc = tcase_create("checker");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, check_reports_a_corrupted_footer);
    tcase_add_test(tc, check_reports_a_corrupted_header);
    tcase_add_test(tc, check_reports_a_wrong_prev_free_bit);
    tcase_add_test(tc, check_reports_every_violation_not_just_the_first);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, address_space_limit_shrinks_the_reservation);
    tcase_add_test(tc, fail_at_comes_from_the_environment);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_is_validated);
    suite_add_tcase(s, tc);

    tc = tcase_create("locking");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, heap_lock_holds_off_other_threads);
    tcase_add_test(tc, heap_lock_is_a_no_op_without_locking);
    tcase_add_test(tc, heap_after_fork_child_lets_the_child_allocate);
    suite_add_tcase(s, tc);
    return s;
}
