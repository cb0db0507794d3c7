/*
 * check_placement.c - which hole each textbook policy picks (Knuth, TAOCP
 * vol. 1, 2.5; Wilson et al. 1995, section 3.2).
 *
 * On a heap built for it - region source, no mmap path, no trim, 16-byte
 * alignment - a row of blocks separated by small blocks in use is freed in
 * chosen places, leaving holes of known sizes at known addresses, and no
 * other free memory.  Every request below names the block size it needs
 * (header included), so the expected address is exact: the start of a
 * hole, or the part of a hole left after an earlier placement (core keeps
 * the front of a hole and leaves the rest free).
 */
#include <check.h>

#include "testutil.h"

enum { SEP = 32, MAX_HOLES = 8 };

struct row {
    size_t n;
    char *hole[MAX_HOLES]; /* payload of each hole as it was allocated */
    size_t size[MAX_HOLES];
    char *end; /* one past the last separator's block */
};

static hl_heap *placement_heap(const char *name)
{
    const struct hl_policy *p = hl_policy_lookup(name);
    ck_assert_msg(p != NULL, "policy %s is not registered", name);
    struct hl_config cfg;
    hl_config_default(&cfg, p);
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = HL_NO_TRIM;
    cfg.align = 16;
    cfg.lock = 0;
    return tl_heap(&cfg);
}

/* A request for a block of `block` bytes (a multiple of 16, >= 32).  It
 * gets the whole hole when less than a minimum block would be left. */
static char *place(hl_heap *h, size_t block)
{
    char *p = hl_malloc(h, block - 8);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(hl_usable_size(h, p), block - 8);
    ck_assert_uint_lt(hl_usable_size(h, p), block - 8 + HL_MIN_BLOCK);
    return p;
}

static int collect_free(const struct hl_block_info *bi, void *arg)
{
    struct row *fr = arg;
    if (bi->state == HL_BLOCK_FREE) {
        ck_assert_uint_lt(fr->n, MAX_HOLES);
        fr->hole[fr->n] = (char *)bi->addr + 8;
        fr->size[fr->n++] = bi->size;
    }
    return 0;
}

/* hole, separator, hole, separator, ...; then the holes are freed. */
static void make_row(hl_heap *h, const size_t *sizes, size_t n, struct row *r)
{
    ck_assert_uint_le(n, MAX_HOLES);
    r->n = n;
    char *expect = NULL;
    for (size_t i = 0; i < n; i++) {
        r->size[i] = sizes[i];
        r->hole[i] = place(h, sizes[i]);
        char *sep = place(h, SEP);
        ck_assert_uint_eq(hl_usable_size(h, r->hole[i]), sizes[i] - 8);
        if (expect)
            ck_assert_ptr_eq(r->hole[i], expect); /* the row is contiguous */
        ck_assert_ptr_eq(sep, r->hole[i] + sizes[i]);
        expect = sep + SEP;
    }
    r->end = expect - 8;
    for (size_t i = 0; i < n; i++)
        hl_free(h, r->hole[i]);
    /* the holes are exactly the free memory of the heap */
    struct row fr = {0};
    ck_assert_int_eq(hl_walk(h, collect_free, &fr), 0);
    ck_assert_uint_eq(fr.n, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_eq(fr.hole[i], r->hole[i]);
        ck_assert_uint_eq(fr.size[i], r->size[i]);
    }
    TL_CHECK(h);
}

/* Where a request must land: hole i, `off` bytes into it. */
#define ASSERT_AT(p, r, i, off)                                                                    \
    ck_assert_msg((p) == (r).hole[i] + (off), "placed at offset %td from the row start, expected hole %d + %d", \
                  (char *)(p) - (r).hole[0], (int)(i), (int)(off))

static const size_t mixed[] = {64, 160, 512, 128, 128, 512};

START_TEST(first_fit_takes_the_lowest_hole_that_fits)
{
    hl_heap *h = placement_heap("first-fit");
    struct row r;
    make_row(h, mixed, 6, &r);
    char *a = place(h, 112);
    ASSERT_AT(a, r, 1, 0); /* 64 is too small; 160 is the first that fits */
    char *b = place(h, 112);
    ASSERT_AT(b, r, 2, 0); /* what is left of hole 1 (48) is too small */
    char *c = place(h, 48);
    ASSERT_AT(c, r, 0, 0); /* the lowest hole fits now */
    char *d = place(h, 48);
    ASSERT_AT(d, r, 1, 112); /* the rest of hole 1 */
    char *e = place(h, 1024);
    ck_assert_msg(e >= r.end, "no hole fits, yet the block went below the end of the row");
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(best_fit_takes_the_smallest_hole_that_fits)
{
    hl_heap *h = placement_heap("best-fit");
    struct row r;
    make_row(h, mixed, 6, &r);
    char *a = place(h, 112);
    ASSERT_AT(a, r, 3, 0); /* 128 is the smallest that fits; holes 3 and 4 tie: lowest */
    char *b = place(h, 112);
    ASSERT_AT(b, r, 4, 0);
    char *c = place(h, 112);
    ASSERT_AT(c, r, 1, 0); /* then 160 */
    char *d = place(h, 512);
    ASSERT_AT(d, r, 2, 0); /* exact fit; holes 2 and 5 tie: lowest */
    char *e = place(h, 48);
    ASSERT_AT(e, r, 1, 112); /* the 48 left of hole 1 beats the 64 of hole 0 */
    char *f = place(h, 64);
    ASSERT_AT(f, r, 0, 0);
    char *g = place(h, 1024);
    ck_assert_msg(g >= r.end, "no hole fits, yet the block went below the end of the row");
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(worst_fit_takes_the_largest_hole)
{
    hl_heap *h = placement_heap("worst-fit");
    struct row r;
    make_row(h, mixed, 6, &r);
    char *a = place(h, 112);
    ASSERT_AT(a, r, 2, 0); /* 512; holes 2 and 5 tie: lowest */
    char *b = place(h, 112);
    ASSERT_AT(b, r, 5, 0); /* 512 beats the 400 left of hole 2 */
    char *c = place(h, 112);
    ASSERT_AT(c, r, 2, 112); /* 400 and 400: lowest */
    char *d = place(h, 112);
    ASSERT_AT(d, r, 5, 112); /* 400 beats 288 */
    char *e = place(h, 64);
    ASSERT_AT(e, r, 2, 224); /* 288 and 288: lowest, never the 64 that fits exactly */
    char *f = place(h, 1024);
    ck_assert_msg(f >= r.end, "no hole fits, yet the block went below the end of the row");
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

static const size_t roving[] = {64, 256, 256, 256};

START_TEST(next_fit_resumes_after_the_last_placement)
{
    hl_heap *h = placement_heap("next-fit");
    struct row r;
    make_row(h, roving, 4, &r);
    char *a = place(h, 208);
    ASSERT_AT(a, r, 1, 0); /* the search starts at the lowest hole; 64 is too small */
    char *b = place(h, 64);
    ASSERT_AT(b, r, 2, 0); /* resumes at the 48 left after a: too small; next is hole 2, not hole 0 */
    char *c = place(h, 224);
    ASSERT_AT(c, r, 3, 0); /* the 192 left of hole 2 is too small */
    char *d = place(h, 64);
    ASSERT_AT(d, r, 0, 0); /* only 32 left in hole 3, then the end: wraps around to hole 0 */
    char *e = place(h, 48);
    ASSERT_AT(e, r, 1, 208); /* hole 0 is used up: the search goes on after it */
    char *f = place(h, 1024);
    ck_assert_msg(f >= r.end, "no hole fits, yet the block went below the end of the row");
    TL_CHECK(h);
    hl_heap_destroy(h);

    /* the same requests under first fit land at the lowest hole instead */
    h = placement_heap("first-fit");
    make_row(h, roving, 4, &r);
    a = place(h, 208);
    ASSERT_AT(a, r, 1, 0);
    b = place(h, 64);
    ASSERT_AT(b, r, 0, 0);
    hl_heap_destroy(h);
}
END_TEST

Suite *make_placement_suite(void)
{
    Suite *s = suite_create("placement");
    TCase *tc = tcase_create("fits");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, first_fit_takes_the_lowest_hole_that_fits);
    tcase_add_test(tc, best_fit_takes_the_smallest_hole_that_fits);
    tcase_add_test(tc, worst_fit_takes_the_largest_hole);
    tcase_add_test(tc, next_fit_resumes_after_the_last_placement);
    suite_add_tcase(s, tc);
    return s;
}
