/*
 * check_rb.c - the red-black tree: random inserts and erases with the
 * checker run after every step (after Linux's lib/rbtree_test.c).
 */
#include <check.h>
#include <stdlib.h>

#include "rb.h"

struct item {
    struct hl_rb_node rb;
    unsigned key;
    int in;
};

static int cmp(const struct hl_rb_node *a, const struct hl_rb_node *b)
{
    const struct item *x = (const void *)a, *y = (const void *)b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static void insert(struct hl_rb_root *root, struct item *it)
{
    struct hl_rb_node **link = &root->node, *parent = NULL;
    while (*link) {
        parent = *link;
        link = cmp(&it->rb, parent) < 0 ? &parent->left : &parent->right;
    }
    hl_rb_link(&it->rb, parent, link);
    hl_rb_insert_color(&it->rb, root);
}

static unsigned long long lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

START_TEST(random_insert_erase_checked_every_step)
{
    enum { N = 2000, STEPS = 20000 };
    static struct item items[N];
    struct hl_rb_root root = {NULL};
    unsigned long long seed = 42;
    size_t live = 0;
    for (unsigned i = 0; i < N; i++) {
        items[i].key = i * 7919u % 100003u; /* distinct keys */
        items[i].in = 0;
    }
    for (int step = 0; step < STEPS; step++) {
        struct item *it = &items[lcg(&seed) % N];
        if (it->in) {
            hl_rb_erase(&it->rb, &root);
            live--;
        } else {
            insert(&root, it);
            live++;
        }
        it->in = !it->in;
        struct hl_check c = {stderr, 0};
        size_t count;
        hl_rb_check(&root, cmp, &c, &count);
        ck_assert_int_eq(c.violations, 0);
        ck_assert_uint_eq(count, live);
    }
    /* in-order walk both ways visits the live keys in order */
    size_t n = 0;
    unsigned prev = 0;
    for (struct hl_rb_node *x = hl_rb_first(&root); x; x = hl_rb_next(x), n++) {
        ck_assert(n == 0 || ((struct item *)(void *)x)->key > prev);
        prev = ((struct item *)(void *)x)->key;
    }
    ck_assert_uint_eq(n, live);
    n = 0;
    for (struct hl_rb_node *x = hl_rb_last(&root); x; x = hl_rb_prev(x))
        n++;
    ck_assert_uint_eq(n, live);
}
END_TEST

START_TEST(checker_catches_a_broken_tree)
{
    struct item a = {.key = 1}, b = {.key = 2}, c3 = {.key = 3};
    struct hl_rb_root root = {NULL};
    insert(&root, &a);
    insert(&root, &b);
    insert(&root, &c3);
    struct hl_check c = {NULL, 0};
    hl_rb_check(&root, cmp, &c, NULL);
    ck_assert_int_eq(c.violations, 0);
    b.rb.parent_color &= ~(uintptr_t)1; /* paint the black root red */
    hl_rb_check(&root, cmp, &c, NULL);
    ck_assert_int_gt(c.violations, 0);
    b.rb.parent_color |= 1;
    c.violations = 0;
    a.key = 5; /* break the order */
    hl_rb_check(&root, cmp, &c, NULL);
    ck_assert_int_gt(c.violations, 0);
}
END_TEST

Suite *make_rb_suite(void)
{
    Suite *s = suite_create("rb");
    TCase *tc = tcase_create("tree");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_insert_erase_checked_every_step);
    tcase_add_test(tc, checker_catches_a_broken_tree);
    suite_add_tcase(s, tc);
    return s;
}
