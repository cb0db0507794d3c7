/*
 * check_rbtree.c - the rbtree policy: it must place every block exactly
 * where best fit does (differential runs on long fixed-seed sequences), and
 * its check must notice a damaged tree.
 *
 * The differential runs are correctness tests, not benchmarks: they compare
 * addresses and stats, never time.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heaplab/heap.h"
#include "heaplab/policies.h"
#include "rb.h"
#include "testutil.h"
#include "trace.h"

/* ---- operation sequences ------------------------------------------------------ */

/* Operations are the harness's own (struct hl_op), so random sequences and
 * the malloc-lab traces go through the same differential. */
#define op hl_op

static uint64_t next_rand(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Mostly small requests, some medium, a few big and some above the default
 * mmap threshold (128 KiB). */
static uint64_t random_size(uint64_t *s)
{
    uint64_t r = next_rand(s) % 100;
    if (r < 2)
        return 0;
    if (r < 60)
        return 1 + next_rand(s) % 256;
    if (r < 85)
        return 257 + next_rand(s) % 3840;
    if (r < 96)
        return 4096 + next_rand(s) % 61440;
    return 65536 + next_rand(s) % (448 * 1024);
}

/* A legal sequence of n operations on num_ids ids (every free and realloc
 * names a live id, every malloc and memalign a dead one). */
static struct op *random_ops(uint64_t seed, size_t n, uint32_t num_ids)
{
    struct op *ops = malloc(n * sizeof *ops);
    uint64_t *size = calloc(num_ids, sizeof *size);
    unsigned char *live = calloc(num_ids, 1);
    ck_assert(ops && size && live);
    for (size_t i = 0; i < n; i++) {
        struct op *o = &ops[i];
        uint32_t id = (uint32_t)(next_rand(&seed) % num_ids);
        uint64_t r = next_rand(&seed) % 100;
        memset(o, 0, sizeof *o);
        o->id = id;
        if (!live[id]) {
            o->type = r < 80 ? 'a' : r < 95 ? 'm' : 'r';
            o->size = random_size(&seed);
            if (o->type == 'm')
                o->align_log2 = (uint8_t)(3 + next_rand(&seed) % 10); /* 8 .. 4096 */
            live[id] = 1;
        } else if (r < 55) {
            o->type = 'f';
            live[id] = 0;
        } else {
            o->type = 'r';
            if (r < 80) { /* a step or two up or down: in-place growth and shrinking */
                int64_t step = 8 * ((int64_t)(next_rand(&seed) % 9) - 4);
                o->size = (int64_t)size[id] + step > 0 ? (uint64_t)((int64_t)size[id] + step) : 1;
            } else {
                o->size = random_size(&seed);
            }
            live[id] = o->size != 0; /* realloc(p, 0) frees */
        }
        size[id] = o->size;
    }
    free(size);
    free(live);
    return ops;
}

/* ---- differential runs ---------------------------------------------------------- */

#define REGION ((size_t)1 << 30)

/* Where p lies, comparable across heaps: its offset from the heap base, or
 * for a block with its own mapping, its offset in the page (tagged). */
static int64_t where(hl_heap *h, const void *p)
{
    if (!p)
        return -1;
    uintptr_t base = (uintptr_t)hl_heap_base(h), a = (uintptr_t)p;
    if (a >= base && a < base + REGION)
        return (int64_t)(a - base);
    return ((int64_t)1 << 62) | (int64_t)(a & 4095);
}

/* Every stat but meta_bytes, the mapping that holds the policy's own state
 * (rbtree's class table is larger than best fit's list head): the heaps
 * themselves must agree to the byte. */
static void stats_equal(hl_heap *a, hl_heap *b, size_t at)
{
    struct hl_stats x, y;
    hl_stats(a, &x);
    hl_stats(b, &y);
#define HL_STATS_SAME(name, doc)                                                                   \
    ck_assert_msg(x.name == y.name || strcmp(#name, "meta_bytes") == 0,                          \
                  "op %zu: %s: best-fit %llu, rbtree %llu", at, #name, (unsigned long long)x.name, \
                  (unsigned long long)y.name);
    HL_STATS_FIELDS(HL_STATS_SAME)
#undef HL_STATS_SAME
}

/* The byte a block holds at both ends while live. */
static unsigned char mark(uint32_t id, size_t i) { return (unsigned char)(id * 31u + i * 7u + 1u); }

static void put_marks(unsigned char *p, uint64_t n, uint32_t id, size_t i)
{
    if (n) {
        p[0] = mark(id, i);
        p[n - 1] = mark(id, i);
    }
}

/*
 * Replay ops on a best-fit heap and an rbtree heap made from cfg (policy
 * replaced): every operation must return the same address relative to its
 * heap's base, the same usable size, and leave the same stats; both heaps
 * are checked every check_every operations and at the end.  Each live block
 * is marked at both ends; the marks must survive until it is freed or
 * reallocated (where the first byte must move along).
 */
static void diff_run(const struct op *ops, size_t nops, uint32_t num_ids, const struct hl_config *cfg,
                     size_t check_every)
{
    const char *names[2] = {"best-fit", "rbtree"};
    hl_heap *h[2];
    unsigned char **ptr[2];
    uint64_t *size = calloc(num_ids, sizeof *size);
    size_t *stamp = calloc(num_ids, sizeof *stamp); /* op index that wrote the marks */
    ck_assert(size && stamp);
    for (int k = 0; k < 2; k++) {
        struct hl_config c = *cfg;
        c.policy = hl_policy_lookup(names[k]);
        c.region_capacity = REGION;
        ck_assert_ptr_nonnull(c.policy);
        h[k] = hl_heap_create(&c);
        ck_assert_ptr_nonnull(h[k]);
        ptr[k] = calloc(num_ids, sizeof *ptr[k]);
        ck_assert_ptr_nonnull(ptr[k]);
    }
    for (size_t i = 0; i < nops; i++) {
        const struct op *o = &ops[i];
        uint32_t id = o->id;
        if (id == HL_ID_NULL) { /* free(NULL) */
            hl_free(h[0], NULL);
            hl_free(h[1], NULL);
            continue;
        }
        for (int k = 0; k < 2; k++) {
            unsigned char *p = ptr[k][id], *q = NULL;
            unsigned char m = mark(id, stamp[id]);
            if (p && size[id])
                ck_assert_msg(p[0] == m && p[size[id] - 1] == m, "op %zu: %s: block %u was overwritten", i,
                              names[k], id);
            switch (o->type) {
            case 'a':
                q = hl_malloc(h[k], o->size);
                break;
            case 'c':
                q = hl_calloc(h[k], 1, o->size);
                break;
            case 'm':
                q = hl_memalign(h[k], (size_t)1 << o->align_log2, o->size);
                if (q)
                    ck_assert_msg(((uintptr_t)q & (((uintptr_t)1 << o->align_log2) - 1)) == 0,
                                  "op %zu: %s: memalign misaligned", i, names[k]);
                break;
            case 'r':
                q = hl_realloc(h[k], p, o->size);
                if (p && q && size[id])
                    ck_assert_msg(q[0] == m, "op %zu: %s: realloc lost block %u's contents", i, names[k], id);
                break;
            case 'f':
                hl_free(h[k], p);
                break;
            default:
                ck_abort_msg("op %zu: unknown type %d", i, o->type);
            }
            ck_assert_msg(o->type == 'f' || q || (o->type == 'r' && o->size == 0), "op %zu: %s: out of memory", i,
                          names[k]);
            ptr[k][id] = q;
        }
        int64_t w0 = where(h[0], ptr[0][id]), w1 = where(h[1], ptr[1][id]);
        ck_assert_msg(w0 == w1, "op %zu (%c id %u size %llu): best-fit at %#llx, rbtree at %#llx", i, o->type, id,
                      (unsigned long long)o->size, (unsigned long long)w0, (unsigned long long)w1);
        if (ptr[0][id]) {
            ck_assert_uint_eq(hl_usable_size(h[0], ptr[0][id]), hl_usable_size(h[1], ptr[1][id]));
            size[id] = o->size;
            stamp[id] = i;
            put_marks(ptr[0][id], o->size, id, i);
            put_marks(ptr[1][id], o->size, id, i);
        } else {
            size[id] = 0;
        }
        if (check_every && (i + 1) % check_every == 0) {
            ck_assert_msg(hl_check(h[0], stderr) == 0, "op %zu: best-fit heap check failed", i);
            ck_assert_msg(hl_check(h[1], stderr) == 0, "op %zu: rbtree heap check failed", i);
            stats_equal(h[0], h[1], i);
        }
    }
    ck_assert_int_eq(hl_check(h[0], stderr), 0);
    ck_assert_int_eq(hl_check(h[1], stderr), 0);
    stats_equal(h[0], h[1], nops);
    for (int k = 0; k < 2; k++) {
        hl_heap_destroy(h[k]);
        free(ptr[k]);
    }
    free(size);
    free(stamp);
}

/* seed, mmap path (0 off, 1 glibc's dynamic threshold, 2 fixed at 128 KiB:
 * the dynamic threshold soon climbs past most requests), alignment, least
 * growth: every seed meets the mmap path on and off and both alignments. */
static const struct diff_case {
    uint64_t seed;
    int mmap;
    size_t align;
    size_t grow_min;
} diff_cases[] = {
    {1, 1, 16, 0},      {1, 0, 16, 0},      {1, 2, 8, 0},      {1, 0, 8, 0},
    {2024, 2, 16, 0},   {2024, 0, 16, 0},   {2024, 1, 8, 0},   {2024, 0, 8, 0},
    {77, 2, 16, 65536}, {77, 0, 16, 65536}, {77, 2, 8, 65536}, {77, 0, 8, 65536},
};
#define NCASES (int)(sizeof diff_cases / sizeof diff_cases[0])

START_TEST(same_placement_as_best_fit)
{
    enum { NOPS = 100000, NIDS = 2000 };
    const struct diff_case *dc = &diff_cases[_i];
    struct hl_config cfg;
    hl_config_default(&cfg, NULL);
    cfg.mmap_threshold = dc->mmap ? HL_DEFAULT_MMAP_THRESHOLD : 0;
    cfg.mmap_dynamic = dc->mmap == 1;
    cfg.align = dc->align;
    cfg.grow_min = dc->grow_min;
    struct op *ops = random_ops(dc->seed, NOPS, NIDS);
    diff_run(ops, NOPS, NIDS, &cfg, 1000);
    free(ops);
}
END_TEST

/* The CS:APP malloc-lab traces (the classic set and the CMU 15-213 set,
 * when they sit beside the project), under the replay's default
 * configuration and the malloc-lab one (8-byte alignment, no mmap path). */
static void diff_folder(const char *dir, const char *sub, int lab)
{
    char path[1536];
    snprintf(path, sizeof path, "%s%s%s", dir, *sub ? "/" : "", sub);
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".rep") != 0)
            continue;
        char file[2048], err[512];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        struct hl_trace t;
        ck_assert_msg(hl_trace_load(file, NULL, &t, err, sizeof err) == 0, "%s", err);
        struct hl_config cfg;
        hl_config_default(&cfg, NULL);
        if (lab) {
            cfg.align = 8;
            cfg.mmap_threshold = 0;
            cfg.trim_threshold = HL_NO_TRIM;
        }
        diff_run(t.ops, t.nops, t.num_ids ? t.num_ids : 1, &cfg, 0);
        hl_trace_free(&t);
        n++;
    }
    closedir(d);
    ck_assert_int_gt(n, 0);
}

START_TEST(same_placement_on_malloclab_traces)
{
    const char *dir = tl_malloclab_dir("rbtree", "same_placement_on_malloclab_traces");
    if (!dir)
        return;
    diff_folder(dir, "", _i);
    diff_folder(dir, "cmu-15213", _i);
}
END_TEST

/* ---- placement, directed ----------------------------------------------------------- */

/* Free blocks of 160, 96, 96, 64 and 96 bytes (address order), each between
 * blocks in use.  Blocks of 80, 96, 96, 48 and 112 bytes take the first 96,
 * the second and third 96 (ties go to the lower address), the 64 and the
 * front of the 160; then a 208-byte block must grow the heap. */
START_TEST(smallest_fit_lowest_address)
{
    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("rbtree"));
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    static const size_t sizes[] = {152, 88, 88, 56, 88};
    void *freed[5], *guard[6];
    guard[0] = hl_malloc(h, 8);
    for (int i = 0; i < 5; i++) {
        freed[i] = hl_malloc(h, sizes[i]);
        guard[i + 1] = hl_malloc(h, 8);
    }
    for (int i = 0; i < 5; i++)
        hl_free(h, freed[i]);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    ck_assert_ptr_eq(hl_malloc(h, 72), freed[1]);
    ck_assert_ptr_eq(hl_malloc(h, 88), freed[2]);
    ck_assert_ptr_eq(hl_malloc(h, 88), freed[4]);
    ck_assert_ptr_eq(hl_malloc(h, 40), freed[3]);
    ck_assert_ptr_eq(hl_malloc(h, 100), freed[0]); /* split: 112 of 160 */
    void *top = hl_malloc(h, 200);
    ck_assert((uintptr_t)top > (uintptr_t)guard[5]);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

/* realloc growing a block by one alignment step into a free neighbour: the
 * remainder b starts 8 or 16 bytes into the old neighbour, so the old and
 * new nodes overlap (a policy with replace, like best fit's list, gets both
 * at once).  Both policies, both alignments. */
START_TEST(grow_into_neighbour_by_one_step)
{
    static const char *const pol[] = {"best-fit", "rbtree"};
    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup(pol[_i / 2]));
    cfg.align = _i % 2 ? 8 : 16;
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    /* several free blocks so the neighbour has links on both sides */
    void *x[8];
    for (int i = 0; i < 8; i++)
        x[i] = hl_malloc(h, 40 + 48 * (size_t)i);
    char *a = hl_malloc(h, 24), *b = hl_malloc(h, 300), *c = hl_malloc(h, 24);
    for (int i = 0; i < 8; i += 2)
        hl_free(h, x[i]);
    hl_free(h, b);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    size_t n = hl_usable_size(h, a);
    for (int step = 0; step < 4; step++) {
        n += cfg.align;
        ck_assert_ptr_eq(hl_realloc(h, a, n), a);
        ck_assert_int_eq(hl_check(h, stderr), 0);
    }
    /* the remainder is still found: best fit for its size is itself */
    void *rest = (char *)a + n + 8;
    ck_assert_ptr_eq(hl_malloc(h, (size_t)((char *)c - (char *)rest) - 8), rest);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, c);
    hl_heap_destroy(h);
}
END_TEST

/* ---- the checker -------------------------------------------------------------------- */

static struct hl_rb_node *root_of(struct hl_rb_node *n)
{
    while (hl_rb_parent(n))
        n = hl_rb_parent(n);
    return n;
}

/* A heap whose index holds 32 free blocks of 31 sizes, all in one tree:
 * the policy keeps a tree per size class (the block sizes from 16 KiB up
 * to 16.5 KiB are one), and sorts a class's blocks into it only when a
 * search needs the class - as the request for a block that none of the
 * 32 fits does, before the heap grows for it. */
static hl_heap *heap_with_free_blocks(void *freed[32])
{
    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("rbtree"));
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    void *p[64];
    for (int i = 0; i < 64; i++)
        p[i] = hl_malloc(h, 16376 + 16 * (size_t)((i / 2 * 37) % 31));
    for (int i = 0; i < 32; i++) {
        freed[i] = p[2 * i];
        hl_free(h, freed[i]);
    }
    void *big = hl_malloc(h, 16376 + 16 * 31); /* the class's last size: no block has it */
    ck_assert_ptr_nonnull(big);
    for (int i = 0; i < 32; i++)
        ck_assert_ptr_ne(big, freed[i]);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    return h;
}

/* Damage the tree through a free block's node space, expect hl_check to
 * count it, undo, expect a clean check again. */
START_TEST(check_catches_a_damaged_tree)
{
    void *freed[32];
    hl_heap *h = heap_with_free_blocks(freed);
    struct hl_rb_node *root = root_of(freed[0]);
    ck_assert_ptr_nonnull(root->left);
    ck_assert_ptr_nonnull(root->right);

    /* a colour flipped, on every node */
    for (int i = 0; i < 32; i++) {
        struct hl_rb_node *n = freed[i];
        n->parent_color ^= 1;
        ck_assert_msg(hl_check(h, NULL) > 0, "colour of node %d flipped, check saw nothing", i);
        n->parent_color ^= 1;
    }
    ck_assert_int_eq(hl_check(h, NULL), 0);

    /* children swapped: the order breaks */
    struct hl_rb_node *l = root->left, *r = root->right;
    root->left = r;
    root->right = l;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    root->left = l;
    root->right = r;
    ck_assert_int_eq(hl_check(h, NULL), 0);

    /* a subtree cut off: the tree no longer holds every free block */
    root->left = NULL;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    root->left = l;

    /* a leaf's parent link pointing at itself: the in-order walk would
     * never end, the check must */
    struct hl_rb_node *leaf = root;
    while (leaf->left || leaf->right)
        leaf = leaf->left ? leaf->left : leaf->right;
    uintptr_t saved = leaf->parent_color;
    leaf->parent_color = (uintptr_t)leaf | (saved & 1);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    leaf->parent_color = saved;

    /* a cycle: a leaf's child link back to the root */
    leaf->left = root;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    leaf->left = NULL;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    hl_heap_destroy(h);
}
END_TEST

/* Blocks filed beside a non-empty tree wait on a pending list: a wrong
 * back link, or a pending block that says it is in the tree, must be
 * counted too. */
START_TEST(check_catches_a_damaged_pending_list)
{
    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("rbtree"));
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    void *p[16];
    for (int i = 0; i < 16; i++)
        p[i] = hl_malloc(h, 40);
    for (int i = 0; i < 16; i += 2)
        hl_free(h, p[i]);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    int damaged = 0;
    for (int i = 0; i < 16; i += 2) {
        uintptr_t *w = p[i], saved = *w;
        if (!(saved & 2)) /* the one in the tree */
            continue;
        *w = saved ^ 8; /* back link off by a word */
        ck_assert_msg(hl_check(h, NULL) > 0, "block %d: a wrong back link went unseen", i);
        *w = saved & ~(uintptr_t)2; /* says it is a tree node */
        ck_assert_msg(hl_check(h, NULL) > 0, "block %d: a pending block outside the tree went unseen", i);
        *w = saved;
        ck_assert_int_eq(hl_check(h, NULL), 0);
        damaged++;
    }
    ck_assert_int_eq(damaged, 7);
    hl_heap_destroy(h);
}
END_TEST

/* A filed block whose header says it is in use (a valid header, so only
 * the tree's check can object to it being in the tree). */
START_TEST(check_catches_a_used_block_in_the_tree)
{
    void *freed[32];
    hl_heap *h = heap_with_free_blocks(freed);
    hl_block *b = hl_payload_block(freed[5]);
    hl_word saved = hl_hdr(b);
    hl_block_set(b, hl_block_size(b), HL_F_USED, HL_KIND_CORE, hl_heap_cookie(h));
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_gt(hl_check(h, out), 0);
    fclose(out);
    ck_assert_msg(strstr(text, "rbtree: block") && strstr(text, "is in use"), "check said: %s", text);
    free(text);
    *(hl_word *)(void *)b = saved;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(registered)
{
    const struct hl_policy *p = hl_policy_lookup("rbtree");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->abi, HL_POLICY_ABI);
    ck_assert_ptr_nonnull(p->summary);
    ck_assert_ptr_nonnull(p->check);
    size_t i = 0;
    while (i < hl_policy_count() && hl_policy_at(i) != p)
        i++;
    ck_assert_uint_lt(i, hl_policy_count());
}
END_TEST

Suite *make_rbtree_suite(void)
{
    Suite *s = suite_create("rbtree");
    TCase *tc = tcase_create("policy");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, registered);
    tcase_add_test(tc, smallest_fit_lowest_address);
    tcase_add_loop_test(tc, grow_into_neighbour_by_one_step, 0, 4);
    tcase_add_test(tc, check_catches_a_damaged_tree);
    tcase_add_test(tc, check_catches_a_damaged_pending_list);
    tcase_add_test(tc, check_catches_a_used_block_in_the_tree);
    suite_add_tcase(s, tc);

    tc = tcase_create("differential");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, same_placement_as_best_fit, 0, NCASES);
    tcase_add_loop_test(tc, same_placement_on_malloclab_traces, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
