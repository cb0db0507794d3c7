/*
 * check_tracebuild.c - the trace builder: pointer events to ops, every rule
 * in tracebuild.h's table and list, id reuse, balancing, and a random event
 * stream from a model allocator whose trace must load through the reader
 * and agree with the model's live bytes.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "testutil.h"
#include "trace.h"
#include "tracebuild.h"

/* ---- helpers ------------------------------------------------------------- */

static struct hl_tracebuild *tb(int no_balance, int keep_free_null)
{
    struct hl_tb_opts o = {no_balance, keep_free_null};
    struct hl_tracebuild *b = hl_tb_new(&o);
    ck_assert_ptr_nonnull(b);
    return b;
}

static void finish(struct hl_tracebuild *b, struct hl_trace *t)
{
    ck_assert_int_eq(hl_tb_finish(b, "built", t), 0);
    ck_assert_str_eq(t->path, "built");
    ck_assert_uint_eq(t->nops, t->num_ops);
}

/* The trace's text as hl_trace_write gives it. */
static char *text_of(const struct hl_trace *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(hl_trace_write(t, f), 0);
    fclose(f);
    return buf;
}

/* The ops after the 4 header lines, as text. */
static const char *ops_text(const char *text)
{
    for (int i = 0; i < 4; i++) {
        text = strchr(text, '\n');
        ck_assert_ptr_nonnull(text);
        text++;
    }
    return text;
}

/* Written, read back by the reader (which checks every id's life), and the
 * ops text compared with `want`. */
static void assert_trace(const struct hl_trace *t, const char *want)
{
    char *text = text_of(t);
    ck_assert_str_eq(ops_text(text), want);
    struct hl_trace back;
    char err[512];
    int r = hl_trace_parse("back", text, strlen(text), NULL, &back, err, sizeof err);
    ck_assert_msg(r == 0, "the reader refuses the built trace: %s\n%s", err, text);
    ck_assert_uint_eq(back.nops, t->nops);
    ck_assert_uint_eq(back.num_ids, t->num_ids);
    ck_assert_uint_eq(back.sugg_heapsize, hl_trace_peak_live(t));
    ck_assert_int_eq(memcmp(back.ops, t->ops, t->nops * sizeof *t->ops), 0);
    hl_trace_free(&back);
    free(text);
}

/* ---- the table ----------------------------------------------------------- */

START_TEST(each_kind_of_call)
{
    struct hl_tracebuild *b = tb(0, 0);
    ck_assert_int_eq(hl_tb_malloc(b, 16, 0x1000), 0);
    ck_assert_int_eq(hl_tb_calloc(b, 3, 10, 0x2000), 0);
    ck_assert_int_eq(hl_tb_memalign(b, 64, 100, 0x3000), 0);
    ck_assert_uint_eq(hl_tb_live_blocks(b), 3);
    ck_assert_uint_eq(hl_tb_live_bytes(b), 146);
    ck_assert_int_eq(hl_tb_realloc(b, 0x1000, 40, 0x1000), 0); /* in place */
    ck_assert_int_eq(hl_tb_realloc(b, 0x1000, 400, 0x4000), 0); /* moved */
    ck_assert_int_eq(hl_tb_free(b, 0x2000), 0);
    ck_assert_int_eq(hl_tb_realloc(b, 0, 8, 0x1000), 0); /* realloc(NULL): the old address again */
    ck_assert_int_eq(hl_tb_free(b, 0x4000), 0);
    ck_assert_int_eq(hl_tb_free(b, 0x3000), 0);
    ck_assert_int_eq(hl_tb_free(b, 0x1000), 0);
    ck_assert_uint_eq(hl_tb_live_blocks(b), 0);
    ck_assert_uint_eq(hl_tb_live_bytes(b), 0);
    struct hl_trace t;
    finish(b, &t);
    /* ids: 0x1000 -> 0 (moves to 0x4000), 0x2000 -> 1, 0x3000 -> 2; the
     * realloc(NULL) reuses the freed id 1 */
    assert_trace(&t, "a 0 16\nc 1 1 30\nm 2 64 100\nr 0 40\nr 0 400\nf 1\na 1 8\nf 0\nf 2\nf 1\n");
    ck_assert_uint_eq(t.num_ids, 3);
    ck_assert_uint_eq(t.sugg_heapsize, 30 + 100 + 400); /* after the move */
    const struct hl_tb_stats *s = hl_tb_stats(b);
    ck_assert_uint_eq(s->events, 10);
    struct hl_tb_stats zero;
    memset(&zero, 0, sizeof zero);
    zero.events = 10;
    ck_assert_int_eq(memcmp(s, &zero, sizeof zero), 0); /* nothing dropped */
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(realloc_to_zero)
{
    struct hl_tracebuild *b = tb(0, 0);
    hl_tb_malloc(b, 16, 0x1000);
    hl_tb_malloc(b, 16, 0x2000);
    ck_assert_int_eq(hl_tb_realloc(b, 0x1000, 0, 0), 0);      /* glibc: freed, NULL */
    ck_assert_int_eq(hl_tb_realloc(b, 0x2000, 0, 0x5000), 0); /* another allocator: a 0-byte block */
    ck_assert_uint_eq(hl_tb_live_blocks(b), 1);
    hl_tb_free(b, 0x5000);
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "a 0 16\na 1 16\nf 0\nf 1\na 1 0\nf 1\n");
    ck_assert_uint_eq(hl_tb_stats(b)->realloc_zero, 2);
    ck_assert_uint_eq(hl_tb_stats(b)->failed, 0);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(failed_calls_are_dropped)
{
    struct hl_tracebuild *b = tb(0, 0);
    hl_tb_malloc(b, 1u << 30, 0);
    hl_tb_calloc(b, 1u << 20, 1u << 20, 0);
    hl_tb_memalign(b, 4096, 1u << 30, 0);
    hl_tb_malloc(b, 32, 0x1000);
    hl_tb_realloc(b, 0x1000, 1u << 30, 0); /* fails: 0x1000 stays live */
    hl_tb_realloc(b, 0, 1u << 30, 0);      /* realloc(NULL) that fails */
    ck_assert_uint_eq(hl_tb_live_blocks(b), 1);
    ck_assert_uint_eq(hl_tb_live_bytes(b), 32);
    hl_tb_free(b, 0x1000);
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "a 0 32\nf 0\n");
    ck_assert_uint_eq(hl_tb_stats(b)->failed, 5);
    ck_assert_uint_eq(hl_tb_stats(b)->events, 7);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(free_null_dropped_or_kept)
{
    for (int keep = 0; keep <= 1; keep++) {
        struct hl_tracebuild *b = tb(0, keep);
        hl_tb_free(b, 0);
        hl_tb_malloc(b, 8, 0x10);
        hl_tb_free(b, 0);
        hl_tb_free(b, 0x10);
        struct hl_trace t;
        finish(b, &t);
        assert_trace(&t, keep ? "f -1\na 0 8\nf -1\nf 0\n" : "a 0 8\nf 0\n");
        ck_assert_uint_eq(hl_tb_stats(b)->free_null, 2);
        hl_trace_free(&t);
        hl_tb_destroy(b);
    }
}
END_TEST

/* ---- what cannot be carried over ----------------------------------------- */

START_TEST(pointers_never_seen)
{
    struct hl_tracebuild *b = tb(0, 0);
    hl_tb_free(b, 0x9000);              /* allocated before recording */
    hl_tb_realloc(b, 0x9100, 24, 0x9200); /* likewise: a malloc of what is left */
    hl_tb_realloc(b, 0x9300, 0, 0);     /* realloc(old, 0): a free of it */
    hl_tb_free(b, 0x9200);
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "a 0 24\nf 0\n");
    const struct hl_tb_stats *s = hl_tb_stats(b);
    ck_assert_uint_eq(s->unknown_free, 2);
    ck_assert_uint_eq(s->unknown_realloc, 1);
    ck_assert_uint_eq(s->double_free, 0);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(double_free_and_realloc_of_freed)
{
    struct hl_tracebuild *b = tb(0, 0);
    hl_tb_malloc(b, 8, 0x10);
    hl_tb_free(b, 0x10);
    hl_tb_free(b, 0x10);               /* double */
    hl_tb_realloc(b, 0x10, 16, 0x20);  /* of a freed block: a malloc */
    hl_tb_realloc(b, 0x10, 0, 0);      /* realloc(freed, 0): a double free */
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "a 0 8\nf 0\na 0 16\nf 0\n");
    const struct hl_tb_stats *s = hl_tb_stats(b);
    ck_assert_uint_eq(s->double_free, 2);
    ck_assert_uint_eq(s->freed_realloc, 1);
    ck_assert_uint_eq(s->unknown_free, 0);
    ck_assert_uint_eq(s->left_live, 1);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(allocation_over_a_live_pointer)
{
    struct hl_tracebuild *b = tb(0, 0);
    hl_tb_malloc(b, 8, 0x10);
    hl_tb_malloc(b, 8, 0x20);
    hl_tb_calloc(b, 2, 4, 0x10);          /* 0x10's free was not seen */
    hl_tb_realloc(b, 0x20, 100, 0x10);    /* moves onto the live calloc block */
    ck_assert_uint_eq(hl_tb_live_blocks(b), 1);
    ck_assert_uint_eq(hl_tb_live_bytes(b), 100);
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "a 0 8\na 1 8\nf 0\nc 0 1 8\nf 0\nr 1 100\nf 1\n");
    ck_assert_uint_eq(hl_tb_stats(b)->missed_free, 2);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(alignment_rounded_up)
{
    struct hl_tracebuild *b = tb(0, 0);
    hl_tb_memalign(b, 8, 1, 0x100);
    hl_tb_memalign(b, 4096, 1, 0x1000);
    hl_tb_memalign(b, 1, 1, 0x2000);  /* memalign(1, n): 8 */
    hl_tb_memalign(b, 24, 1, 0x3000); /* not a power of two: 32 */
    hl_tb_memalign(b, 0, 1, 0x4000);  /* memalign(0, n): 8 */
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "m 0 8 1\nm 1 4096 1\nm 2 8 1\nm 3 32 1\nm 4 8 1\nf 0\nf 1\nf 2\nf 3\nf 4\n");
    ck_assert_uint_eq(hl_tb_stats(b)->align_changed, 3);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(sizes_too_large)
{
    struct hl_tracebuild *b = tb(0, 0);
    uint64_t big = (uint64_t)PTRDIFF_MAX + 1;
    hl_tb_malloc(b, big, 0x10);
    hl_tb_calloc(b, UINT64_C(1) << 32, UINT64_C(1) << 32, 0x20); /* the product overflows */
    hl_tb_calloc(b, UINT64_C(1) << 31, UINT64_C(1) << 32, 0x30); /* 2^63 */
    hl_tb_memalign(b, 16, big, 0x40);
    hl_tb_malloc(b, 8, 0x50);
    hl_tb_realloc(b, 0x50, big, 0x60); /* dropped: 0x50 stays live with 8 bytes */
    ck_assert_uint_eq(hl_tb_live_bytes(b), 8);
    struct hl_trace t;
    finish(b, &t);
    assert_trace(&t, "a 0 8\nf 0\n");
    ck_assert_uint_eq(hl_tb_stats(b)->too_large, 5);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

/* ---- ids and the end ----------------------------------------------------- */

START_TEST(ids_are_reused)
{
    struct hl_tracebuild *b = tb(0, 0);
    /* 10000 allocations, at most 3 live at once, at ever new addresses */
    for (uint64_t i = 0; i < 10000; i++) {
        hl_tb_malloc(b, i % 50, 0x1000 + 16 * i);
        if (i >= 2)
            hl_tb_free(b, 0x1000 + 16 * (i - 2));
    }
    struct hl_trace t;
    finish(b, &t);
    ck_assert_uint_eq(t.num_ids, 3);
    ck_assert_uint_eq(t.nops, 20000);
    char *text = text_of(&t);
    struct hl_trace back;
    char err[512];
    ck_assert_msg(hl_trace_parse("back", text, strlen(text), NULL, &back, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(back.sugg_heapsize, 49 + 48 + 47);
    hl_trace_free(&back);
    free(text);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

START_TEST(balanced_or_not)
{
    for (int nb = 0; nb <= 1; nb++) {
        struct hl_tracebuild *b = tb(nb, 0);
        hl_tb_malloc(b, 1, 0x10);
        hl_tb_malloc(b, 2, 0x20);
        hl_tb_malloc(b, 3, 0x30);
        hl_tb_free(b, 0x10);
        hl_tb_malloc(b, 4, 0x40); /* id 0 again */
        struct hl_trace t;
        finish(b, &t);
        ck_assert_uint_eq(hl_tb_stats(b)->left_live, 3);
        assert_trace(&t, nb ? "a 0 1\na 1 2\na 2 3\nf 0\na 0 4\n" : "a 0 1\na 1 2\na 2 3\nf 0\na 0 4\nf 0\nf 1\nf 2\n");
        hl_trace_free(&t);
        hl_tb_destroy(b);
    }
}
END_TEST

START_TEST(empty_stream)
{
    struct hl_tracebuild *b = tb(0, 0);
    struct hl_trace t;
    finish(b, &t);
    ck_assert_uint_eq(t.nops, 0);
    ck_assert_uint_eq(t.num_ids, 0);
    ck_assert_ptr_nonnull(t.ops);
    assert_trace(&t, "");
    hl_trace_free(&t);
    errno = 0;
    ck_assert_int_eq(hl_tb_finish(b, NULL, &t), -1); /* spent */
    ck_assert_int_eq(errno, EINVAL);
    hl_tb_destroy(b);
    hl_tb_destroy(NULL);
}
END_TEST

START_TEST(stats_printed_one_line_each)
{
    struct hl_tracebuild *b = tb(1, 0);
    hl_tb_free(b, 0);
    hl_tb_free(b, 0x99);
    hl_tb_free(b, 0x98);
    hl_tb_malloc(b, 1, 0x10);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct hl_trace t;
    finish(b, &t);
    ck_assert_int_eq(hl_tb_print_stats(hl_tb_stats(b), "x.log", f), 3);
    fclose(f);
    ck_assert_str_eq(buf, "x.log: 1 free(NULL) dropped\n"
                          "x.log: 2 frees of pointers never seen (allocated before recording) dropped\n"
                          "x.log: 1 blocks live at the end (freed at the end unless no_balance)\n");
    free(buf);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

/* ---- a model allocator --------------------------------------------------- */

/* A random stream from a toy allocator (addresses from a bump pointer and a
 * free list, so they are reused), with events the builder must drop mixed
 * in.  The trace must load through the reader, and its live bytes replayed
 * by hl_trace_peak_live must equal the model's peak. */
START_TEST(random_stream_against_a_model)
{
    enum { SLOTS = 300, EVENTS = 60000 };
    uint64_t ptr[SLOTS] = {0}, size[SLOTS] = {0};
    uint64_t freed[4096];
    size_t nfreed = 0;
    uint64_t bump = 0x10000, live = 0, peak = 0, nlive = 0, peak_blocks = 0;
    struct pat_rng rng = {12345};
    struct hl_tracebuild *b = tb(0, 0);
    for (int e = 0; e < EVENTS; e++) {
        uint64_t r = pat_next(&rng);
        int k = (int)(r % SLOTS);
        int what = (int)((r >> 20) % 100);
        uint64_t sz = (r >> 32) % 2000;
        if (ptr[k] == 0) {
            uint64_t p;
            if (nfreed && what % 2)
                p = freed[--nfreed];
            else
                p = bump += 4096;
            if (what < 5) {
                hl_tb_malloc(b, sz, 0); /* failed */
                continue;
            }
            if (what < 40)
                hl_tb_malloc(b, sz, p);
            else if (what < 60)
                hl_tb_calloc(b, 1 + sz % 7, sz, p), sz = (1 + sz % 7) * sz;
            else if (what < 70)
                hl_tb_memalign(b, UINT64_C(1) << (3 + what % 10), sz, p);
            else
                hl_tb_realloc(b, 0, sz, p);
            ptr[k] = p;
            size[k] = sz;
            live += sz;
            nlive++;
        } else if (what < 40) {
            hl_tb_free(b, ptr[k]);
            if (nfreed < 4096)
                freed[nfreed++] = ptr[k];
            live -= size[k];
            ptr[k] = 0;
            nlive--;
        } else if (what < 45) {
            hl_tb_free(b, 0x7f0000000000 + r % 1000 * 16); /* never seen */
            continue;
        } else if (what < 50) {
            hl_tb_realloc(b, ptr[k], sz + 1, 0); /* failed */
            continue;
        } else {
            uint64_t np = what < 75 ? ptr[k] : (bump += 4096);
            if (np != ptr[k] && nfreed < 4096)
                freed[nfreed++] = ptr[k];
            hl_tb_realloc(b, ptr[k], sz + 1, np);
            live += sz + 1 - size[k];
            size[k] = sz + 1;
            ptr[k] = np;
        }
        if (live > peak)
            peak = live;
        if (nlive > peak_blocks)
            peak_blocks = nlive;
        ck_assert_uint_eq(hl_tb_live_bytes(b), live);
        ck_assert_uint_eq(hl_tb_live_blocks(b), nlive);
    }
    struct hl_trace t;
    finish(b, &t);
    const struct hl_tb_stats *s = hl_tb_stats(b);
    ck_assert_uint_eq(s->left_live, nlive);
    ck_assert_uint_eq(s->double_free + s->missed_free + s->freed_realloc + s->unknown_realloc, 0);
    ck_assert_uint_gt(s->failed, 0);
    ck_assert_uint_gt(s->unknown_free, 0);
    ck_assert_uint_le(t.num_ids, peak_blocks);
    ck_assert_uint_eq(t.sugg_heapsize, peak);
    char *text = text_of(&t);
    struct hl_trace back;
    char err[512];
    ck_assert_msg(hl_trace_parse("back", text, strlen(text), NULL, &back, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(hl_trace_peak_live(&back), peak);
    ck_assert_uint_eq(back.nops, t.nops);
    hl_trace_free(&back);
    free(text);
    hl_trace_free(&t);
    hl_tb_destroy(b);
}
END_TEST

Suite *make_tracebuild_suite(void)
{
    Suite *s = suite_create("tracebuild");
    TCase *tc = tcase_create("calls");
    tcase_add_test(tc, each_kind_of_call);
    tcase_add_test(tc, realloc_to_zero);
    tcase_add_test(tc, failed_calls_are_dropped);
    tcase_add_test(tc, free_null_dropped_or_kept);
    suite_add_tcase(s, tc);

    tc = tcase_create("dropped");
    tcase_add_test(tc, pointers_never_seen);
    tcase_add_test(tc, double_free_and_realloc_of_freed);
    tcase_add_test(tc, allocation_over_a_live_pointer);
    tcase_add_test(tc, alignment_rounded_up);
    tcase_add_test(tc, sizes_too_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("ids");
    tcase_add_test(tc, ids_are_reused);
    tcase_add_test(tc, balanced_or_not);
    tcase_add_test(tc, empty_stream);
    tcase_add_test(tc, stats_printed_one_line_each);
    tcase_add_test(tc, random_stream_against_a_model);
    suite_add_tcase(s, tc);
    return s;
}
