/*
 * check_cache.c - core's front cache (cache=N, core/cache.c): what it
 * serves, what it holds, how the walk, the stats and the checker see it,
 * the flush when memory runs out, and the spec syntax.  Misuse with the
 * cache on (double free, realloc after free, overruns) is in the
 * conformance suite, which runs every check with cache=7 too.
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "testutil.h"

static hl_heap *cached_heap(const struct hl_policy *pol, unsigned cache)
{
    ck_assert_ptr_nonnull(pol);
    struct hl_config cfg;
    hl_config_default(&cfg, pol);
    cfg.cache = cache;
    return tl_heap(&cfg);
}

START_TEST(a_freed_block_serves_the_next_request_of_its_size)
{
    TL_POLICY(pol);
    hl_heap *h = cached_heap(pol, 7);
    char *keep = hl_malloc(h, 40), *p = hl_malloc(h, 100), *q = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(keep);
    ck_assert_ptr_nonnull(q);
    struct hl_stats before = tl_stats(h);
    size_t size = hl_usable_size(h, p) + HL_HDR_BYTES;
    hl_free(h, p);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.cached_bytes, size);
    ck_assert_uint_eq(st.live_bytes, before.live_bytes - size);
    ck_assert_uint_eq(st.live_blocks, before.live_blocks - 1);
    ck_assert_uint_eq(st.free_bytes, before.free_bytes + size);
    TL_CHECK(h);
    /* LIFO, exact block size: the block comes back, whatever the policy
     * would choose, for a request of its size in core's terms (buddy and
     * pool round 100 bytes up further than core does) */
    ck_assert_ptr_eq(hl_malloc(h, size - HL_HDR_BYTES), p);
    st = tl_stats(h);
    ck_assert_uint_eq(st.cached_bytes, 0);
    ck_assert_uint_eq(st.live_bytes, before.live_bytes);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

static int count_state(const struct hl_block_info *bi, void *arg)
{
    const void **want = arg;
    if (bi->addr == want[0])
        want[1] = bi->state == HL_BLOCK_FREE ? "free" : bi->state == HL_BLOCK_USED ? "used" : "other";
    return 0;
}

START_TEST(the_walk_reports_a_cached_block_free)
{
    TL_POLICY(pol);
    hl_heap *h = cached_heap(pol, 3);
    char *a = hl_malloc(h, 64), *b = hl_malloc(h, 64), *c = hl_malloc(h, 64);
    ck_assert_ptr_nonnull(c);
    hl_free(h, b);
    const void *want[2] = {(char *)b - HL_HDR_BYTES, NULL};
    hl_walk(h, count_state, want);
    /* a policy may lay out a block with more header than core's word: the
     * walk then reports it from its own start; a free state is what counts */
    if (want[1])
        ck_assert_str_eq(want[1], "free");
    TL_CHECK(h);
    hl_free(h, a);
    hl_free(h, c);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(a_bin_holds_at_most_n_blocks)
{
    enum { N = 5, M = 12 };
    hl_heap *h = cached_heap(hl_policy_lookup("tlsf"), N);
    char *p[M], *sep[M];
    for (int i = 0; i < M; i++) {
        p[i] = hl_malloc(h, 200);
        sep[i] = hl_malloc(h, 24); /* no two of p[] are neighbours */
        ck_assert_ptr_nonnull(sep[i]);
    }
    size_t size = hl_usable_size(h, p[0]) + HL_HDR_BYTES;
    for (int i = 0; i < M; i++)
        hl_free(h, p[i]);
    ck_assert_uint_eq(tl_stats(h).cached_bytes, N * size);
    TL_CHECK(h);
    /* the bin took the first N; the rest went to the policy.  They come
     * back newest first */
    for (int i = N - 1; i >= 0; i--)
        ck_assert_ptr_eq(hl_malloc(h, 200), p[i]);
    ck_assert_uint_eq(tl_stats(h).cached_bytes, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* A heap that is full except for what the cache holds: the cache is given
 * back, coalesced, and the request that needs it succeeds. */
START_TEST(the_cache_is_flushed_before_a_request_fails)
{
    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("best-fit"));
    cfg.cache = 64;
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = HL_NO_TRIM;
    cfg.region_capacity = 1 << 20;
    hl_heap *h = tl_heap(&cfg);
    static char *p[2048];
    int n = 0;
    while (n < 2048 && (p[n] = hl_malloc(h, 1000)) != NULL)
        n++;
    ck_assert_int_gt(n, 200);
    ck_assert_int_lt(n, 2048);
    for (int i = 0; i < 60; i++) /* 60 neighbours, all into the cache */
        hl_free(h, p[i]);
    ck_assert_uint_ge(tl_stats(h).cached_bytes, 60 * 1000);
    errno = 0;
    char *big = hl_malloc(h, 50000);
    ck_assert_msg(big != NULL, "the cached blocks were not given back: %s", strerror(errno));
    ck_assert_uint_eq(tl_stats(h).cached_bytes, 0);
    ck_assert_ptr_eq(big, p[0]);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(the_checker_sees_a_clobbered_cached_block)
{
    hl_heap *h = cached_heap(hl_policy_lookup("tlsf"), 7);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(b);
    hl_free(h, a);
    TL_CHECK(h);
    memset(a, 0x5a, 16); /* a write after free: the bin's link and the key */
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_int_gt(hl_check(h, devnull), 0);
    fclose(devnull);
    hl_heap_destroy(h);
}
END_TEST

/* A write into a cached block (use after free) is diagnosed when the cache
 * hands the block out, before its link is followed: the key it clobbered,
 * or - the key intact - a link that leads out of the heap. */
START_TEST(malloc_of_a_clobbered_cached_block_aborts)
{
    hl_heap *h = cached_heap(hl_policy_at((size_t)_i / 2), 7);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(b);
    size_t n = hl_usable_size(h, a); /* a request of exactly a's block (a pool's slot, a buddy's power of two) */
    hl_free(h, a);
    char *gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(gone != MAP_FAILED);
    ck_assert_int_eq(munmap(gone, 4096), 0);
    if (_i % 2)
        memset(a, 0x5a, 16); /* the link and the key */
    else
        memcpy(a, &gone, sizeof gone); /* the link alone, to a page that is not mapped */
    tl_expect_abort("heaplab: malloc(): corrupted front cache block at 0x");
    char *c = hl_malloc(h, n);
    ck_abort_msg("malloc handed out a clobbered cached block (%p) and its link", (void *)c);
}
END_TEST

START_TEST(reset_empties_the_cache)
{
    hl_heap *h = cached_heap(hl_policy_lookup("rbtree"), 7);
    for (int i = 0; i < 20; i++)
        hl_free(h, hl_malloc(h, (size_t)(16 + 40 * i)));
    ck_assert_uint_gt(tl_stats(h).cached_bytes, 0);
    ck_assert_int_eq(hl_heap_reset(h), 0);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.cached_bytes, 0);
    ck_assert_uint_eq(st.extent_bytes, 0);
    char *p = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(p);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(every_policy_takes_cache_n)
{
    struct hl_policy_spec spec;
    char err[256];
    ck_assert_int_eq(hl_policy_parse("tlsf:cache=7", &spec, err, sizeof err), 0);
    ck_assert_uint_eq(spec.cache, 7);
    ck_assert_int_eq(hl_policy_parse("tlsf:sl=16,cache=3", &spec, err, sizeof err), 0);
    ck_assert_uint_eq(spec.cache, 3);
    ck_assert_int_eq(spec.params[0], 16);
    ck_assert_int_eq(hl_policy_parse("buddy", &spec, err, sizeof err), 0);
    ck_assert_uint_eq(spec.cache, 0);
    ck_assert_int_eq(hl_policy_parse("best-fit:cache=65", &spec, err, sizeof err), -1);
    ck_assert_str_eq(err, "best-fit: cache must be an integer in [0, 64]");
    ck_assert_int_eq(hl_policy_parse("pool:cache=x", &spec, err, sizeof err), -1);

    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("tlsf"));
    cfg.cache = HL_CACHE_MAX + 1;
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&cfg));
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

Suite *make_cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, a_freed_block_serves_the_next_request_of_its_size, 0, (int)hl_policy_count());
    tcase_add_loop_test(tc, the_walk_reports_a_cached_block_free, 0, (int)hl_policy_count());
    tcase_add_test(tc, a_bin_holds_at_most_n_blocks);
    tcase_add_test(tc, the_cache_is_flushed_before_a_request_fails);
    tcase_add_test(tc, the_checker_sees_a_clobbered_cached_block);
    for (int i = tl_loop_begin(); i < tl_loop_end(); i++) /* each policy twice: the key clobbered, the link */
        tcase_add_loop_test_raise_signal(tc, malloc_of_a_clobbered_cached_block_aborts, SIGABRT, 2 * i,
                                         2 * i + 2);
    tcase_add_test(tc, reset_empties_the_cache);
    tcase_add_test(tc, every_policy_takes_cache_n);
    suite_add_tcase(s, tc);
    return s;
}
