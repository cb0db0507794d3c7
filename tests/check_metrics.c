/*
 * check_metrics.c - the numbers heaplab replay prints, each checked on a
 * trace small enough that the test works out the expected figure by hand,
 * in the comments next to the assertion.
 *
 * The rules the hand computations use (docs/metrics.md, core/heap.c):
 *   - a block is the request + 8 (its header) rounded up to the heap's
 *     alignment (16 in the linux preset, 8 in malloclab), at least 32;
 *   - the region source grows by exactly what is missing; the first growth
 *     is a segment: 24 bytes of segment header + the blocks + 8 bytes of
 *     epilogue, so 32 bytes of overhead; the next growths extend it;
 *   - a request at or above the mmap threshold (128 KiB in linux) gets a
 *     mapping of page_up(48 + request) bytes: 32 bytes of list links and
 *     length, the offset word and the header, then the payload;
 *   - a free block reports 16 header bytes (header + footer) when it is
 *     larger than 32 bytes, 8 when it is exactly 32;
 *   - the heap map's offsets count from the region's base, where the
 *     segment header is.
 * The page size is the machine's (sysconf), so the figures that involve a
 * mapping are written in terms of it.
 *
 * Also here: a policy that crashes, allocators that misbehave, running out
 * of memory, the command line (exit codes, sample files the same for any
 * -j), and docs/metrics.md naming every result column.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "output.h"
#include "replay.h"
#include "result.h"
#include "runner.h"
#include "testutil.h"
#include "trace.h"

#define KiB ((size_t)1024)

static size_t page_up(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) & ~(page - 1);
}

static void parse(const char *name, const char *text, struct hl_trace *t)
{
    char err[256];
    int rc = hl_trace_parse(name, text, strlen(text), NULL, t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
}

static struct hl_replay_config preset(const char *name)
{
    struct hl_replay_config cfg;
    ck_assert_int_eq(hl_replay_preset(&cfg, name), 0);
    cfg.repeat = 1;
    return cfg;
}

static struct hl_policy_spec spec_of(const char *text)
{
    struct hl_policy_spec sp;
    char err[256];
    ck_assert_msg(hl_policy_parse(text, &sp, err, sizeof err) == 0, "%s", err);
    return sp;
}

/* The checked pass alone, as the runner does it: 0 when the row is ok. */
static int measure(const struct hl_trace *t, const char *policy, const struct hl_replay_config *cfg,
                   struct hl_result *r)
{
    struct hl_policy_spec sp = spec_of(policy);
    hl_replay_begin(t, sp.label, cfg, r);
    return hl_replay_measure(t, &sp, cfg, r);
}

#define ASSERT_F(got, want) ck_assert_msg(fabs((got) - (want)) < 1e-12, "%s = %.12g, expected %.12g", #got, \
                                          (double)(got), (double)(want))

/* What a fraction looks like in the CSV files (%.9g, as output.c). */
static const char *g9(double v)
{
    static char buf[8][32];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, 32, "%.9g", v);
    return b;
}

/* Samples written to memory. */
struct capture {
    char *tl, *hm;
    size_t tln, hmn;
};

static void capture_open(struct capture *c, struct hl_replay_config *cfg, int timeline, int heapmap)
{
    memset(c, 0, sizeof *c);
    cfg->timeline = timeline ? open_memstream(&c->tl, &c->tln) : NULL;
    cfg->heapmap = heapmap ? open_memstream(&c->hm, &c->hmn) : NULL;
    ck_assert(!timeline || cfg->timeline);
    ck_assert(!heapmap || cfg->heapmap);
}

static void capture_close(struct capture *c, struct hl_replay_config *cfg)
{
    if (cfg->timeline)
        fclose(cfg->timeline);
    if (cfg->heapmap)
        fclose(cfg->heapmap);
    cfg->timeline = cfg->heapmap = NULL;
    if (!c->tl)
        c->tl = strdup("");
    if (!c->hm)
        c->hm = strdup("");
}

static void capture_free(struct capture *c)
{
    free(c->tl);
    free(c->hm);
}

/* ---- the hand-made traces ------------------------------------------------------------ */

/*
 * T2 on the linux preset (16-byte alignment).  Blocks, offsets from the
 * region base, live requested bytes and extent after each operation:
 *
 *   op  request    block at   size                 live   extent
 *    1  a 0 300    24         320 (300+8 -> 320)    300    24+320+8 = 352
 *    2  a 1 200    344        208                   500    352+208  = 560
 *    3  a 2 100    552        112                   600    560+112  = 672
 *    4  a 3 40     664         48                   640    672+48   = 720
 *    5  f 0        hole 320 at 24                    340
 *    6  f 2        hole 112 at 552                   240
 *    7  a 4 50     64 (58 -> 64): first fit takes the hole at 24 (256 left at
 *                  88); best fit the 112 at 552 (48 left at 616); worst fit
 *                  the 320 at 24, as first fit
 *                                                    290
 *    8  a 5 1000   1008 at 712: no hole is that big, the top block (id 3)
 *                  is in use, so the heap grows by 1008
 *                                                   1290   720+1008 = 1728
 *    9  f 5        the top block 1008 is free; below the trim threshold,
 *                  so it stays                       290   1728
 *
 * Peak live: 1290 at op 8; peak heap 1728; 5 growths (ops 1-4 and 8).
 */
static const char T2[] = "20000\n6\n9\n1\n"
                         "a 0 300\na 1 200\na 2 100\na 3 40\nf 0\nf 2\na 4 50\na 5 1000\nf 5\n";

START_TEST(first_fit_by_hand)
{
    struct hl_trace t;
    parse("t2.rep", T2, &t);
    struct hl_replay_config cfg = preset("linux");
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    ck_assert_str_eq(r.status, "ok");
    ck_assert_uint_eq(r.ops, 9);
    ck_assert_uint_eq(r.peak_live_bytes, 200 + 40 + 50 + 1000); /* ids 1, 3, 4, 5 at op 8 */
    ck_assert_uint_eq(r.peak_heap_bytes, 1728);
    ASSERT_F(r.util, 1290.0 / 1728.0);
    ASSERT_F(r.frag, 1728.0 / 1290.0 - 1);
    /* at op 8 the blocks in use are 64 (id 4) + 208 + 48 + 1008 = 1328 bytes
     * for 1290 requested */
    ASSERT_F(r.internal_frag, (1328.0 - 1290.0) / 1328.0);
    /* free: 256 at 88 and 112 at 552; the largest is 256 of 368 */
    ASSERT_F(r.external_frag, 1 - 256.0 / 368.0);
    ck_assert_uint_eq(r.sbrk_calls, 5);
    ck_assert_uint_eq(r.mmap_calls, 0);
    ck_assert_uint_eq(r.munmap_calls, 0);
    /* the timed passes are not run: their columns stay not available */
    ck_assert(isnan(r.ops_per_sec));
    hl_trace_free(&t);
}
END_TEST

START_TEST(best_worst_next_fit_by_hand)
{
    struct hl_trace t;
    parse("t2.rep", T2, &t);
    struct hl_replay_config cfg = preset("linux");
    struct hl_result r;

    /* best fit puts id 4 in the 112 hole: free at the peak is 320 at 24
     * and 48 at 616, the largest 320 of 368 */
    ck_assert_int_eq(measure(&t, "best-fit", &cfg, &r), 0);
    ck_assert_uint_eq(r.peak_heap_bytes, 1728);
    ASSERT_F(r.internal_frag, (1328.0 - 1290.0) / 1328.0);
    ASSERT_F(r.external_frag, 1 - 320.0 / 368.0);
    ck_assert_uint_eq(r.sbrk_calls, 5);

    /* worst fit takes the largest hole, the 320 at 24: as first fit */
    ck_assert_int_eq(measure(&t, "worst-fit", &cfg, &r), 0);
    ASSERT_F(r.external_frag, 1 - 256.0 / 368.0);

    /* next fit: every request before op 7 grew the heap, so its search
     * starts from the lowest block, as first fit's */
    ck_assert_int_eq(measure(&t, "next-fit", &cfg, &r), 0);
    ASSERT_F(r.external_frag, 1 - 256.0 / 368.0);
    ASSERT_F(r.util, 1290.0 / 1728.0);
    hl_trace_free(&t);
}
END_TEST

/*
 * The malloclab preset: 8-byte alignment, no mmap path, no trim.
 *
 *   op  request    what happens                                   live  extent
 *    1  a 0 100    108 -> 112 at 24                                100  24+112+8 = 144
 *    2  a 1 20     28 -> 32 at 136                                 120  176
 *    3  r 0 300    308 -> 312; the next block (id 1) is in use:
 *                  a new block at 168, growing by 312; the old
 *                  112 at 24 is freed                              320  488
 *    4  c 2 10     18 -> 24 -> 32 (the minimum), from the 112 at
 *                  24: 32 in use, 80 free at 56                    330  488
 *    5  f 1        32 at 136 merges with the 80 before it: 112    310
 *
 * Peak live 330 at op 4: blocks in use 32 + 32 + 312 = 376; one free block
 * (80), so external fragmentation 0.  3 growths.
 */
START_TEST(malloclab_preset_by_hand)
{
    struct hl_trace t;
    parse("t3.rep", "20000\n3\n5\n1\na 0 100\na 1 20\nr 0 300\nc 2 1 10\nf 1\n", &t);
    struct hl_replay_config cfg = preset("malloclab");
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    ck_assert_str_eq(r.preset, "malloclab");
    ck_assert_uint_eq(r.align, 8);
    ck_assert_uint_eq(r.mmap_threshold, 0);
    ck_assert_uint_eq(r.peak_live_bytes, 20 + 300 + 10);
    ck_assert_uint_eq(r.peak_heap_bytes, 488);
    ASSERT_F(r.util, 330.0 / 488.0);
    ASSERT_F(r.frag, 488.0 / 330.0 - 1);
    ASSERT_F(r.internal_frag, (376.0 - 330.0) / 376.0);
    ASSERT_F(r.external_frag, 0.0);
    ck_assert_uint_eq(r.sbrk_calls, 3);
    hl_trace_free(&t);
}
END_TEST

/*
 * The mmap path (linux preset, threshold 128 KiB, dynamic).  L is the
 * mapping of a 200000-byte request: page_up(48 + 200000) (200704 with
 * 4 KiB pages).
 *
 *   op  request       what happens                                live    heap
 *    1  a 0 100       112 at 24                                    100    144
 *    2  a 1 200000    a mapping of L bytes: mmap 1                 200100  144 + L
 *    3  a 2 40        48 at 136                                    200140  192 + L
 *    4  f 1           munmap 1; the threshold rises to L (and the
 *                     trim threshold to 2L), as glibc's does        140    192
 *    5  a 3 200000    now below the threshold: a heap block of
 *                     200016 at 184, growing the heap by 200016     200140  200208
 *    6  f 3           the free top is 200016 < 2L: no trim             140  200208
 *
 * Peak live 200140, first reached at op 3 (op 5 only equals it): blocks in
 * use then 112 + 48 + L, nothing free.  Peak heap max(192 + L, 200208).
 * 3 growths (ops 1, 3, 5), 1 mmap, 1 munmap.
 */
static const char TMAP[] = "20000\n4\n6\n1\na 0 100\na 1 200000\na 2 40\nf 1\na 3 200000\nf 3\n";

START_TEST(mmap_path_by_hand)
{
    struct hl_trace t;
    parse("tmap.rep", TMAP, &t);
    struct hl_replay_config cfg = preset("linux");
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    size_t L = page_up(48 + 200000);
    uint64_t heap = 192 + L > 200208 ? 192 + L : 200208;
    ck_assert_uint_eq(r.mmap_threshold, 128 * KiB);
    ck_assert_uint_eq(r.peak_live_bytes, 200140);
    ck_assert_uint_eq(r.peak_heap_bytes, heap);
    ASSERT_F(r.util, 200140.0 / (double)heap);
    ASSERT_F(r.internal_frag, (double)(112 + 48 + L - 200140) / (double)(112 + 48 + L));
    ASSERT_F(r.external_frag, 0.0);
    ck_assert_uint_eq(r.sbrk_calls, 3);
    ck_assert_uint_eq(r.mmap_calls, 1);
    ck_assert_uint_eq(r.munmap_calls, 1);
    hl_trace_free(&t);
}
END_TEST

/*
 * Trim (linux preset with the mmap path off, so 300000 bytes are a heap
 * block): op 1 takes a block of 300016 (300008 -> 300016), extent
 * 24 + 300016 + 8 = 300048.  Op 2 frees it: the free top block is at
 * least the trim threshold (128 KiB), so the heap gives back all but the
 * top pad (128 KiB = 131072): 300016 - 131072 = 168944 bytes, leaving an
 * extent of 300048 - 168944 = 131104.  Two calls moving the break.
 * With trim off (HL_NO_TRIM, what --trim-threshold 0 sets) only the one.
 */
static const char TTRIM[] = "20000\n1\n2\n1\na 0 300000\nf 0\n";

START_TEST(trim_by_hand)
{
    struct hl_trace t;
    parse("ttrim.rep", TTRIM, &t);
    struct hl_replay_config cfg = preset("linux");
    cfg.mmap_threshold = 0;
    struct capture cap;
    capture_open(&cap, &cfg, 1, 0);
    cfg.sample_every = 1;
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    capture_close(&cap, &cfg);
    ck_assert_uint_eq(r.peak_heap_bytes, 300048);
    ck_assert_uint_eq(r.sbrk_calls, 2);
    /* after op 2: heap 131104, one free block of 131072, nothing live:
     * no internal fragmentation to speak of (empty), external 0 */
    ck_assert_msg(strstr(cap.tl, "\nttrim.rep,first-fit,2,0,131104,131072,131072,,0\n") != NULL, "%s", cap.tl);
    capture_free(&cap);

    cfg.trim_threshold = HL_NO_TRIM;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    ck_assert_uint_eq(r.peak_heap_bytes, 300048);
    ck_assert_uint_eq(r.sbrk_calls, 1);
    hl_trace_free(&t);
}
END_TEST

/* rss_after_bytes: the timed heap's resident pages after the last pass.
 * 40 blocks of 4000 bytes left live: a heap of 24 + 40 x 4016 + 8 bytes,
 * a header in every page of it, all resident; the same blocks freed under
 * malloclab (which never trims): the pages stay.  Never above the heap's
 * peak, rounded up to pages.  The regime says what the heap ran under. */
/* A row in this process: what the runner does in its children. */
static int replay_row(const struct hl_trace *t, const struct hl_policy_spec *sp, const struct hl_replay_config *cfg,
                      struct hl_result *r)
{
    hl_replay_begin(t, sp->label, cfg, r);
    if (hl_replay_measure(t, sp, cfg, r) != 0)
        return 1;
    return hl_replay_time(t, sp, cfg, r);
}

START_TEST(rss_after_and_regime)
{
    char text[4096];
    struct hl_trace live, freed;
    for (int ops = 40; ops <= 80; ops += 40) { /* the allocations, then the frees too */
        size_t k = (size_t)snprintf(text, sizeof text, "0\n40\n%d\n1\n", ops);
        for (int i = 0; i < ops; i++)
            k += (size_t)snprintf(text + k, sizeof text - k, i < 40 ? "a %d 4000\n" : "f %d\n", i % 40);
        ck_assert_uint_lt(k, sizeof text);
        parse(ops == 40 ? "live.rep" : "freed.rep", text, ops == 40 ? &live : &freed);
    }
    struct hl_policy_spec sp = spec_of("first-fit");
    struct hl_result r;
    struct hl_replay_config cfg = preset("linux");
    ck_assert_int_eq(replay_row(&live, &sp, &cfg, &r), 0);
    ck_assert_uint_eq(r.peak_heap_bytes, 24 + 40 * 4016 + 8);
    ck_assert_uint_ge(r.rss_after_bytes, r.peak_heap_bytes / 2);
    ck_assert_uint_le(r.rss_after_bytes, page_up(r.peak_heap_bytes));
    ck_assert_str_eq(r.regime, "trim=128K mmap=128K dyn");
    cfg = preset("malloclab");
    ck_assert_int_eq(replay_row(&freed, &sp, &cfg, &r), 0);
    ck_assert_uint_ge(r.rss_after_bytes, r.peak_heap_bytes / 2);
    ck_assert_uint_le(r.rss_after_bytes, page_up(r.peak_heap_bytes));
    ck_assert_str_eq(r.regime, "trim=off mmap=off");
    hl_trace_free(&live);
    hl_trace_free(&freed);
}
END_TEST

/* A trace whose requests are all 0 bytes: peak live 0, so frag is not
 * available and util is 0; the at-peak figures are taken at op 0, on the
 * empty heap: internal not available (no block), external 0. */
START_TEST(nothing_live)
{
    struct hl_trace t;
    parse("zero.rep", "20000\n1\n2\n1\na 0 0\nf 0\n", &t);
    struct hl_replay_config cfg = preset("linux");
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    ck_assert_uint_eq(r.peak_live_bytes, 0);
    ck_assert_uint_eq(r.peak_heap_bytes, 24 + 32 + 8); /* malloc(0) still takes a minimum block */
    ASSERT_F(r.util, 0.0);
    ck_assert(isnan(r.frag));
    ck_assert(isnan(r.internal_frag));
    ASSERT_F(r.external_frag, 0.0);
    hl_trace_free(&t);
}
END_TEST

/* The peak operation from the trace alone: realloc replaces a block's
 * size, free(NULL) changes nothing, and a later equal value is not a new
 * peak. */
START_TEST(peak_op_from_the_trace)
{
    struct hl_trace t;
    uint64_t op, live;
    /* live: 10, 30, 30, 25 (r 0 5), 75 (a 2 50), 75, 50, 75 (a 3 25 - equal, not new) */
    parse("peak.rep", "20000\n4\n8\n1\na 0 10\na 1 20\nf -1\nr 0 5\na 2 50\nf -1\nf 1\na 3 20\n", &t);
    ck_assert_int_eq(hl_trace_peak_op(&t, &op, &live), 0);
    ck_assert_uint_eq(live, 75);
    ck_assert_uint_eq(op, 5);
    ck_assert_uint_eq(live, hl_trace_peak_live(&t));
    hl_trace_free(&t);

    parse("none.rep", "20000\n1\n0\n1\n", &t);
    ck_assert_int_eq(hl_trace_peak_op(&t, &op, &live), 0);
    ck_assert_uint_eq(op, 0);
    ck_assert_uint_eq(live, 0);
    hl_trace_free(&t);
}
END_TEST

/* ---- samples ------------------------------------------------------------------------- */

/* T2 under first fit, every 4 ops: rows at 0, 4, 8 (also the peak) and 9
 * (the last).
 *   op 0: nothing: heap 0, no blocks (internal not available), external 0
 *   op 4: live 640, heap 720, nothing free; blocks 320+208+112+48 = 688
 *   op 8: live 1290, heap 1728, free 256 + 112 = 368, largest 256,
 *         blocks 1328
 *   op 9: live 290 (ids 1, 3, 4), heap 1728, free 256 + 112 + 1008 = 1376,
 *         largest 1008, blocks 208 + 48 + 64 = 320 */
START_TEST(timeline_rows)
{
    struct hl_trace t;
    parse("t2.rep", T2, &t);
    struct hl_replay_config cfg = preset("linux");
    struct capture cap;
    capture_open(&cap, &cfg, 1, 0);
    cfg.sample_every = 4;
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    capture_close(&cap, &cfg);
    char want[1024];
    snprintf(want, sizeof want,
             "t2.rep,first-fit,0,0,0,0,0,,0\n"
             "t2.rep,first-fit,4,640,720,0,0,%s,0\n"
             "t2.rep,first-fit,8,1290,1728,368,256,%s,%s\n"
             "t2.rep,first-fit,9,290,1728,1376,1008,%s,%s\n",
             g9(48.0 / 688), g9(38.0 / 1328), g9(1 - 256.0 / 368), g9(30.0 / 320), g9(1 - 1008.0 / 1376));
    ck_assert_str_eq(cap.tl, want);
    capture_free(&cap);
    hl_trace_free(&t);
}
END_TEST

/* Which operations are sampled: 0, every multiple of N, the peak, the
 * last - each once, in order.  A policy label with a comma is quoted. */
START_TEST(timeline_sample_points)
{
    struct hl_trace t;
    parse("t2.rep", T2, &t);
    struct hl_replay_config cfg = preset("linux");
    struct capture cap;
    capture_open(&cap, &cfg, 1, 0);
    cfg.sample_every = 3;
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "pool:classes=pow2x1.5,max=1024", &cfg, &r), 0);
    capture_close(&cap, &cfg);
    const char *want[] = {"0", "3", "6", "8", "9"}; /* 8: the peak */
    const char *line = cap.tl;
    for (size_t i = 0; i < 5; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "t2.rep,\"pool:classes=pow2x1.5,max=1024\",%s,", want[i]);
        ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "row %zu: %s", i, line);
        line = strchr(line, '\n') + 1;
    }
    ck_assert_str_eq(line, "");
    capture_free(&cap);
    hl_trace_free(&t);
}
END_TEST

/* T2 under first fit at op 8 (the peak): the segment header (24, used,
 * all header), then the blocks in address order, then the epilogue. */
START_TEST(heapmap_rows)
{
    struct hl_trace t;
    parse("t2.rep", T2, &t);
    struct hl_replay_config cfg = preset("linux");
    struct capture cap;
    capture_open(&cap, &cfg, 0, 1);
    cfg.sample_every = 100; /* samples at 0 (empty: no rows), 8 (the peak) and 9 */
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    capture_close(&cap, &cfg);
    const char *want = "t2.rep,first-fit,8,0,24,24,used\n"      /* segment header */
                       "t2.rep,first-fit,8,24,64,8,used\n"      /* id 4 */
                       "t2.rep,first-fit,8,88,256,16,free\n"    /* the rest of id 0's hole */
                       "t2.rep,first-fit,8,344,208,8,used\n"    /* id 1 */
                       "t2.rep,first-fit,8,552,112,16,free\n"   /* id 2's hole */
                       "t2.rep,first-fit,8,664,48,8,used\n"     /* id 3 */
                       "t2.rep,first-fit,8,712,1008,8,used\n"   /* id 5 */
                       "t2.rep,first-fit,8,1720,8,8,used\n"     /* epilogue: 1720 + 8 = 1728 */
                       "t2.rep,first-fit,9,0,24,24,used\n"
                       "t2.rep,first-fit,9,24,64,8,used\n"
                       "t2.rep,first-fit,9,88,256,16,free\n"
                       "t2.rep,first-fit,9,344,208,8,used\n"
                       "t2.rep,first-fit,9,552,112,16,free\n"
                       "t2.rep,first-fit,9,664,48,8,used\n"
                       "t2.rep,first-fit,9,712,1008,16,free\n" /* id 5 freed */
                       "t2.rep,first-fit,9,1720,8,8,used\n";
    ck_assert_str_eq(cap.hm, want);
    capture_free(&cap);
    hl_trace_free(&t);
}
END_TEST

/* Mapped blocks follow the extent's end, in address order, one after the
 * other.  TMAP at op 3: extent 192 bytes (header 24, 112 at 24, 48 at 136,
 * epilogue at 184), then the mapping of L bytes with its 48-byte lead.
 * With two mappings (ids 1 and 2 of 200000 and 300000 bytes) they sit at
 * 144 and 144 + the size of whichever has the lower address. */
START_TEST(heapmap_mapped_after_extent)
{
    struct hl_trace t;
    parse("tmap.rep", TMAP, &t);
    struct hl_replay_config cfg = preset("linux");
    struct capture cap;
    capture_open(&cap, &cfg, 0, 1);
    cfg.sample_every = 3;
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    capture_close(&cap, &cfg);
    size_t L = page_up(48 + 200000);
    char want[512];
    snprintf(want, sizeof want,
             "tmap.rep,first-fit,3,0,24,24,used\n"
             "tmap.rep,first-fit,3,24,112,8,used\n"
             "tmap.rep,first-fit,3,136,48,8,used\n"
             "tmap.rep,first-fit,3,184,8,8,used\n"
             "tmap.rep,first-fit,3,192,%zu,48,mapped\n"
             "tmap.rep,first-fit,6,",
             L);
    ck_assert_msg(strncmp(cap.hm, want, strlen(want)) == 0, "%s", cap.hm);
    capture_free(&cap);
    hl_trace_free(&t);

    parse("tmap2.rep", "20000\n3\n3\n1\na 0 100\na 1 200000\na 2 300000\n", &t);
    capture_open(&cap, &cfg, 0, 1);
    cfg.sample_every = 3;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 0);
    capture_close(&cap, &cfg);
    size_t L2 = page_up(48 + 300000);
    const char *rows = strstr(cap.hm, "tmap2.rep,first-fit,3,144,");
    ck_assert_msg(rows != NULL, "%s", cap.hm);
    size_t first, second;
    long long off2;
    ck_assert_int_eq(sscanf(rows, "tmap2.rep,first-fit,3,144,%zu,48,mapped\ntmap2.rep,first-fit,3,%lld,%zu,48,mapped\n",
                            &first, &off2, &second),
                     3);
    ck_assert((first == L && second == L2) || (first == L2 && second == L));
    ck_assert_int_eq(off2, (long long)(144 + first));
    capture_free(&cap);
    hl_trace_free(&t);
}
END_TEST

/* A replay that fails keeps the samples it took before the failing
 * operation: op 2 runs out of memory in a 64 KiB region, so with every 1
 * there are rows for ops 0 and 1 only. */
START_TEST(failed_row_keeps_earlier_samples)
{
    struct hl_trace t;
    parse("oom.rep", "20000\n3\n3\n1\na 0 40000\na 1 40000\na 2 10\n", &t);
    struct hl_replay_config cfg = preset("linux");
    cfg.region_capacity = 64 * KiB;
    struct capture cap;
    capture_open(&cap, &cfg, 1, 0);
    cfg.sample_every = 1;
    struct hl_result r;
    ck_assert_int_eq(measure(&t, "first-fit", &cfg, &r), 1);
    capture_close(&cap, &cfg);
    ck_assert_str_eq(r.status, "out of memory (40000 bytes) at op 2");
    ck_assert_int_eq(r.ok, 0);
    /* op 1: 40000 -> 40016 bytes, extent 40048, all in use */
    char want[256];
    snprintf(want, sizeof want, "oom.rep,first-fit,0,0,0,0,0,,0\noom.rep,first-fit,1,40000,40048,0,0,%s,0\n",
             g9(16.0 / 40016));
    ck_assert_str_eq(cap.tl, want);
    capture_free(&cap);
    hl_trace_free(&t);
}
END_TEST

/* ---- failures ------------------------------------------------------------------------ */

/* A policy whose find() dies: first fit's table with a find that raises
 * SIGSEGV on its 4th call (in the checked pass: the 4th allocation, op 4
 * of T2), or on any call after the heap was reset (only the timed passes
 * reset it).  Forked children start with the parent's counters. */
static struct hl_policy crashy;
static unsigned crash_finds, crash_inits;
static unsigned crash_after; /* finds allowed; 0: crash only after a reset */

static void die(void)
{
    signal(SIGSEGV, SIG_DFL); /* not a sanitizer's report: the signal itself */
    raise(SIGSEGV);
}

static hl_block *crash_find(void *st, size_t size)
{
    if (crash_after ? ++crash_finds > crash_after : crash_inits > 1)
        die();
    return hl_policy_lookup("first-fit")->find(st, size);
}

static int crash_init(hl_heap *h, void *st, const long *params)
{
    crash_inits++;
    const struct hl_policy *ff = hl_policy_lookup("first-fit");
    return ff->init ? ff->init(h, st, params) : 0;
}

static void no_core_dumps(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
}

static void run_with_crashy(unsigned after, struct hl_result rows[3])
{
    crashy = *hl_policy_lookup("first-fit");
    crashy.name = "crashy";
    crashy.find = crash_find;
    crashy.init = crash_init;
    crash_finds = crash_inits = 0;
    crash_after = after;
    no_core_dumps();
    struct hl_trace t;
    parse("t2.rep", T2, &t);
    struct hl_policy_spec ff = spec_of("first-fit"), bf = spec_of("best-fit"), cr;
    hl_policy_spec_default(&crashy, &cr);
    struct hl_job jobs[3] = {{.trace = &t, .label = ff.label, .ops = &hl_policy_job, .target = &ff},
                             {.trace = &t, .label = cr.label, .ops = &hl_policy_job, .target = &cr},
                             {.trace = &t, .label = bf.label, .ops = &hl_policy_job, .target = &bf}};
    struct hl_replay_config cfg = preset("linux");
    struct hl_run_opts o = {.jobs = 2, .fork = 1, .progress = 0};
    ck_assert_int_eq(hl_run(jobs, 3, &cfg, &o, rows), 1);
    hl_trace_free(&t);
}

START_TEST(crash_in_the_checked_pass)
{
    struct hl_result rows[3];
    run_with_crashy(3, rows);
    char want[128];
    snprintf(want, sizeof want, "crashed by signal %d (%s) at op 4 in the checked pass", SIGSEGV, strsignal(SIGSEGV));
    ck_assert_str_eq(rows[1].status, want);
    ck_assert_int_eq(rows[1].ok, 0);
    ck_assert_str_eq(rows[1].policy, "crashy");
    /* the others are whole */
    ck_assert_str_eq(rows[0].status, "ok");
    ck_assert_str_eq(rows[2].status, "ok");
    ck_assert_uint_eq(rows[0].peak_heap_bytes, 1728);
    ASSERT_F(rows[2].external_frag, 1 - 320.0 / 368.0);
    ck_assert(rows[0].ops_per_sec > 0 && rows[2].ops_per_sec > 0);
    ck_assert(rows[0].p50_ns <= rows[0].p99_ns);
}
END_TEST

START_TEST(crash_in_the_timed_pass)
{
    struct hl_result rows[3];
    run_with_crashy(0, rows);
    char want[128];
    snprintf(want, sizeof want, "crashed by signal %d (%s) in the timed pass", SIGSEGV, strsignal(SIGSEGV));
    ck_assert_str_eq(rows[1].status, want);
    /* its checked pass was complete: the footprint figures are there */
    ck_assert_uint_eq(rows[1].peak_heap_bytes, 1728);
    ck_assert_str_eq(rows[0].status, "ok");
    ck_assert_str_eq(rows[2].status, "ok");
}
END_TEST

/* An allocator that misbehaves on a chosen call, driven through the
 * generic checked pass.  It hands out a bump pointer over a buffer and
 * never reuses memory. */
enum misdeed { OVERLAP, MISALIGN, CORRUPT, LOSE_REALLOC, DIRTY_CALLOC, CHECK_FAILS };

struct bad {
    _Alignas(16) unsigned char mem[64 * 1024];
    size_t top;
    enum misdeed how;
    unsigned when; /* the allocating call (1-based) that misbehaves */
    unsigned calls;
    unsigned char *first;
};

static unsigned char *bump(struct bad *b, size_t n)
{
    unsigned char *p = b->mem + b->top;
    b->top += (n + 15) & ~(size_t)15;
    ck_assert_uint_le(b->top, sizeof b->mem);
    if (!b->first)
        b->first = p;
    return p;
}

static void *bad_malloc(void *ctx, size_t n)
{
    struct bad *b = ctx;
    unsigned char *p = bump(b, n + 16);
    if (++b->calls != b->when)
        return p;
    switch (b->how) {
    case OVERLAP:
        return b->first + 16;
    case MISALIGN:
        return p + 8;
    case CORRUPT:
        b->first[3] ^= 0xff;
        break;
    default:
        break;
    }
    return p;
}

static void bad_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p;
}

static void *bad_realloc(void *ctx, void *p, size_t n)
{
    struct bad *b = ctx;
    unsigned char *q = bad_malloc(ctx, n);
    memset(q, 0xa5, n);
    if (p && !(b->how == LOSE_REALLOC && b->calls == b->when))
        memcpy(q, p, n); /* the old block is at least this big in the traces below */
    return q;
}

static void *bad_calloc(void *ctx, size_t n)
{
    struct bad *b = ctx;
    unsigned char *p = bad_malloc(ctx, n);
    memset(p, b->how == DIRTY_CALLOC && b->calls == b->when ? 0x5a : 0, n);
    return p;
}

static void *bad_memalign(void *ctx, size_t align, size_t n)
{
    (void)align;
    return bad_malloc(ctx, n);
}

static int bad_check(void *ctx, FILE *out)
{
    struct bad *b = ctx;
    (void)out;
    return b->how == CHECK_FAILS && b->calls >= b->when ? 2 : 0;
}

static struct hl_result run_bad(enum misdeed how, unsigned when, const char *text, uint64_t check_every)
{
    static struct bad b;
    memset(&b, 0, sizeof b);
    b.how = how;
    b.when = when;
    struct hl_alloc a = {"bad", &b, bad_malloc, bad_free, bad_realloc, bad_calloc, bad_memalign, bad_check, 16, NULL, NULL};
    struct hl_trace t;
    parse("bad.rep", text, &t);
    struct hl_replay_config cfg = preset("linux");
    cfg.check_every = check_every;
    struct hl_result r;
    hl_replay_begin(&t, "bad", &cfg, &r);
    ck_assert_int_eq(hl_replay_checked(&t, &a, &cfg, &r), 1);
    hl_trace_free(&t);
    return r;
}

static void assert_status(const char *status, const char *prefix, const char *suffix)
{
    size_t n = strlen(status), m = strlen(suffix);
    ck_assert_msg(strncmp(status, prefix, strlen(prefix)) == 0 && n >= m && strcmp(status + n - m, suffix) == 0,
                  "status '%s', expected '%s...%s'", status, prefix, suffix);
}

START_TEST(integrity_errors_name_the_op)
{
    struct hl_result r;
    /* the 2nd block is handed out 16 bytes into the 1st (64 bytes) */
    r = run_bad(OVERLAP, 2, "20000\n2\n2\n1\na 0 64\na 1 32\n", 0);
    ck_assert_str_eq(r.status, "integrity error: id 1 overlaps id 0 at op 2");
    /* the 3rd block is 8 bytes off a 16-byte boundary */
    r = run_bad(MISALIGN, 3, "20000\n3\n3\n1\na 0 64\na 1 32\na 2 32\n", 0);
    assert_status(r.status, "integrity error: id 2 at 0x", " not 16-aligned at op 3");
    /* the 3rd call flips byte 3 of id 0, found when id 0 is freed at op 5 */
    r = run_bad(CORRUPT, 3, "20000\n3\n5\n1\na 0 64\na 1 32\na 2 32\nf 1\nf 0\n", 0);
    ck_assert_str_eq(r.status, "integrity error: id 0 corrupted at offset 3 at op 5");
    /* a realloc (the 3rd call) that does not copy */
    r = run_bad(LOSE_REALLOC, 3, "20000\n2\n3\n1\na 0 40\na 1 16\nr 0 30\n", 0);
    assert_status(r.status, "integrity error: realloc of id 0 lost offset ", " at op 3");
    /* calloc'ed memory that is not zero */
    r = run_bad(DIRTY_CALLOC, 2, "20000\n2\n2\n1\na 0 40\nc 1 1 24\n", 0);
    ck_assert_str_eq(r.status, "integrity error: calloc id 1 not zero at offset 0 at op 2");
    /* the allocator's own checker, run after every op, finds 2 violations
     * once the 3rd call is made */
    r = run_bad(CHECK_FAILS, 3, "20000\n3\n4\n1\na 0 40\na 1 40\na 2 40\nf 0\n", 1);
    ck_assert_str_eq(r.status, "heap check found 2 violations at op 3");
}
END_TEST

/* A region of 64 KiB: op 1 takes 40048 bytes of it, op 2 needs 40016
 * more.  Through the runner, in a child, with the other row ok. */
START_TEST(out_of_memory_names_the_op)
{
    struct hl_trace t, ok;
    parse("oom.rep", "20000\n3\n3\n1\na 0 40000\na 1 40000\na 2 10\n", &t);
    parse("t2.rep", T2, &ok);
    struct hl_policy_spec sp = spec_of("best-fit");
    struct hl_job jobs[2] = {{.trace = &t, .label = sp.label, .ops = &hl_policy_job, .target = &sp},
                             {.trace = &ok, .label = sp.label, .ops = &hl_policy_job, .target = &sp}};
    struct hl_replay_config cfg = preset("linux");
    cfg.region_capacity = 64 * KiB;
    struct hl_run_opts o = {.jobs = 2, .fork = 1, .progress = 0};
    struct hl_result rows[2];
    ck_assert_int_eq(hl_run(jobs, 2, &cfg, &o, rows), 1);
    ck_assert_str_eq(rows[0].status, "out of memory (40000 bytes) at op 2");
    ck_assert_str_eq(rows[1].status, "ok");
    ck_assert_uint_eq(rows[1].peak_heap_bytes, 1728);
    hl_trace_free(&t);
    hl_trace_free(&ok);
}
END_TEST

/* ---- the command line ------------------------------------------------------------------ */

struct tmpdir {
    char path[256];
};

static void tmpdir_make(struct tmpdir *d)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(d->path, sizeof d->path, "%s/heaplab-metrics.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(d->path));
}

static const char *in_dir(const struct tmpdir *d, const char *name)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 512, "%s/%s", d->path, name);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0, k;
    char chunk[4096];
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            cap = 2 * (len + k + 1);
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        memcpy(buf + len, chunk, k);
        len += k;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    buf[len] = 0;
    return buf;
}

static void tmpdir_remove(struct tmpdir *d)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    ck_assert_int_eq(system(cmd), 0);
}

/* The binary under test, or NULL (with a SKIPPED line) outside make test. */
static const char *heaplab_bin(const char *test)
{
    const char *bin = getenv("HEAPLAB_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "metrics: %s: SKIPPED: HEAPLAB_BIN is not set (run through make test)\n", test);
        return NULL;
    }
    return bin;
}

/* Run heaplab with argv (NULL-terminated, argv[0] ignored), standard
 * output to `out` (NULL: /dev/null), standard error to /dev/null; its
 * exit status. */
static int run_cli(const char *bin, const char *out, char *const argv[])
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(null, 2) < 0)
            _exit(127);
        execv(bin, argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "heaplab died by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

/* Field `col` of the first row of a CSV without quoted fields (malloc'ed). */
static char *csv_get(const char *csv, const char *col)
{
    const char *row = strchr(csv, '\n');
    ck_assert_ptr_nonnull(row);
    row++;
    size_t idx = 0, n = strlen(col);
    const char *h = csv;
    while (!(strncmp(h, col, n) == 0 && (h[n] == ',' || h[n] == '\n'))) {
        h += strcspn(h, ",\n");
        ck_assert_msg(*h == ',', "no column %s", col);
        h++;
        idx++;
    }
    for (; idx > 0; idx--) {
        row += strcspn(row, ",\n");
        ck_assert_msg(*row == ',', "row too short for %s", col);
        row++;
    }
    return strndup(row, strcspn(row, ",\n"));
}

#define CLI(bin, out, ...) run_cli((bin), (out), (char *const[]){"heaplab", __VA_ARGS__, NULL})

START_TEST(cli_exit_codes)
{
    const char *bin = heaplab_bin("cli_exit_codes");
    if (!bin)
        return;
    struct tmpdir d;
    tmpdir_make(&d);
    char t2[512], huge[512], bad[512], out[512];
    snprintf(t2, sizeof t2, "%s", in_dir(&d, "t2.rep"));
    snprintf(huge, sizeof huge, "%s", in_dir(&d, "huge.rep"));
    snprintf(bad, sizeof bad, "%s", in_dir(&d, "bad.rep"));
    snprintf(out, sizeof out, "%s", in_dir(&d, "out.csv"));
    write_file(t2, T2);
    /* 10^18 bytes: far above what any heap or mapping can hold */
    write_file(huge, "20000\n1\n1\n1\na 0 1000000000000000000\n");
    write_file(bad, "20000\n1\n1\n1\nx 0 1\n");

    ck_assert_int_eq(CLI(bin, out, "replay", "-p", "first-fit", "--repeat", "1", "-f", "csv", t2), 0);
    char *csv = read_file(out), *v;
    ck_assert_str_eq(v = csv_get(csv, "peak_heap_bytes"), "1728");
    free(v);
    ck_assert_str_eq(v = csv_get(csv, "status"), "ok");
    free(v);
    free(csv);

    ck_assert_int_eq(CLI(bin, out, "replay", "-p", "first-fit", "--repeat", "1", "-f", "csv", t2, huge), 1);
    csv = read_file(out);
    ck_assert_msg(strstr(csv, "out of memory (1000000000000000000 bytes) at op 1\n"), "%s", csv);
    free(csv);

    ck_assert_int_eq(CLI(bin, NULL, "replay", "--bogus", t2), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", t2, bad), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--every", "10", t2), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--every", "0", "--timeline", out, t2), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--dialect", "new", t2), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--trim-threshold", "-1", t2), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--timeline", "/nonexistent/dir/tl.csv", t2), 2);
    /* T2's header (20000 ... 1) read as CMU has a weight of 20000 */
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--dialect", "cmu", "--repeat", "1", t2), 2);
    ck_assert_int_eq(CLI(bin, NULL, "replay", "--dialect", "classic", "--repeat", "1", "-p", "first-fit", t2), 0);
    tmpdir_remove(&d);
}
END_TEST

/* --trim-threshold: 0 turns trim off (one break move instead of two on
 * TTRIM with the mmap path off); a threshold above the block also keeps it. */
START_TEST(cli_trim_threshold)
{
    const char *bin = heaplab_bin("cli_trim_threshold");
    if (!bin)
        return;
    struct tmpdir d;
    tmpdir_make(&d);
    char tr[512], out[512];
    snprintf(tr, sizeof tr, "%s", in_dir(&d, "ttrim.rep"));
    snprintf(out, sizeof out, "%s", in_dir(&d, "out.csv"));
    write_file(tr, TTRIM);
    const char *want[3] = {"2", "1", "1"};
    char *trim[3] = {NULL, "0", "400000"};
    for (int i = 0; i < 3; i++) {
        int rc = trim[i] ? CLI(bin, out, "replay", "-p", "first-fit", "--mmap-threshold", "0", "--trim-threshold",
                               trim[i], "--repeat", "1", "-f", "csv", tr)
                         : CLI(bin, out, "replay", "-p", "first-fit", "--mmap-threshold", "0", "--repeat", "1", "-f",
                               "csv", tr);
        ck_assert_int_eq(rc, 0);
        char *csv = read_file(out), *v = csv_get(csv, "sbrk_calls");
        ck_assert_msg(strcmp(v, want[i]) == 0, "trim %s: sbrk_calls %s", trim[i] ? trim[i] : "default", v);
        free(v);
        free(csv);
    }
    tmpdir_remove(&d);
}
END_TEST

/* Two files' texts are equal; else name the first line that differs
 * (Check cannot carry whole files in a message). */
static void assert_same(const char *a, const char *b, const char *what, const char *mode)
{
    size_t i = 0, line = 1, start = 0;
    for (; a[i] && a[i] == b[i]; i++)
        if (a[i] == '\n') {
            line++;
            start = i + 1;
        }
    ck_assert_msg(a[i] == b[i], "%s with %s differs from -j1 at line %zu: '%.*s' vs '%.*s'", what, mode, line,
                  (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"), b + start);
}

/* The sample files are the same whatever -j, and without fork; a failed
 * row (out of memory at op 1) adds only its op-0 row. */
START_TEST(cli_samples_same_for_any_jobs)
{
    const char *bin = heaplab_bin("cli_samples_same_for_any_jobs");
    if (!bin)
        return;
    struct tmpdir d;
    tmpdir_make(&d);
    char t2[512], tm[512], huge[512];
    snprintf(t2, sizeof t2, "%s", in_dir(&d, "t2.rep"));
    snprintf(tm, sizeof tm, "%s", in_dir(&d, "tmap.rep"));
    snprintf(huge, sizeof huge, "%s", in_dir(&d, "huge.rep"));
    write_file(t2, T2);
    write_file(tm, TMAP);
    write_file(huge, "20000\n1\n1\n1\na 0 1000000000000000000\n");
    const char *mode[3] = {"-j1", "-j2", "--no-fork"};
    char *tl[3], *hm[3];
    for (int i = 0; i < 3; i++) {
        char tlp[512], hmp[512], name[32];
        snprintf(name, sizeof name, "tl%d.csv", i);
        snprintf(tlp, sizeof tlp, "%s", in_dir(&d, name));
        snprintf(name, sizeof name, "hm%d.csv", i);
        snprintf(hmp, sizeof hmp, "%s", in_dir(&d, name));
        ck_assert_int_eq(CLI(bin, NULL, "replay", "-p", "all", "--repeat", "1", "--every", "2", "--timeline", tlp,
                             "--heapmap", hmp, (char *)mode[i], t2, huge, tm),
                         1);
        tl[i] = read_file(tlp);
        hm[i] = read_file(hmp);
    }
    for (int i = 1; i < 3; i++) {
        assert_same(tl[0], tl[i], "timeline", mode[i]);
        assert_same(hm[0], hm[i], "heap map", mode[i]);
    }
    ck_assert(strncmp(tl[0], "trace,policy,op,live_bytes,heap_bytes,free_bytes,largest_free,internal_frag,external_frag\n",
                      90) == 0);
    ck_assert(strncmp(hm[0], "trace,policy,op,offset,size,header_bytes,state\n", 47) == 0);
    /* every policy has rows, in row order: trace by trace, policy by policy */
    const char *at = tl[0];
    for (size_t k = 0; k < hl_policy_count(); k++) {
        char row[1200];
        snprintf(row, sizeof row, "\n%s,%s,9,290,", t2, hl_policy_at(k)->name);
        const char *next = strstr(at, row);
        ck_assert_msg(next != NULL, "no last row for %s after the previous policy's", hl_policy_at(k)->name);
        at = next;
        snprintf(row, sizeof row, "\n%s,%s,0,0,0,0,0,,0\n", huge, hl_policy_at(k)->name);
        ck_assert_ptr_nonnull(strstr(tl[0], row));
        snprintf(row, sizeof row, "\n%s,%s,1,", huge, hl_policy_at(k)->name);
        ck_assert_ptr_null(strstr(tl[0], row));
    }
    for (int i = 0; i < 3; i++) {
        free(tl[i]);
        free(hm[i]);
    }
    tmpdir_remove(&d);
}
END_TEST

/* JSON: every value that is not available is null, a string as much as a
 * number, so a reader never takes "" for a value. */
START_TEST(json_null_for_what_is_missing)
{
    struct hl_result r;
    hl_result_init(&r);
    snprintf(r.trace, sizeof r.trace, "t.rep");
    snprintf(r.policy, sizeof r.policy, "first-fit");
    r.ops = 3;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    hl_output(&r, 1, HL_FORMAT_JSON, f);
    fclose(f);
    ck_assert_msg(strstr(text, "\"trace\": \"t.rep\", \"policy\": \"first-fit\", \"preset\": null,"), "%s", text);
    ck_assert_msg(strstr(text, "\"ops\": 3, \"peak_live_bytes\": null,"), "%s", text);
    ck_assert_msg(strstr(text, "\"regime\": null, \"perf_index\": null, \"status\": null}"), "%s", text);
    ck_assert_ptr_null(strstr(text, "\"\""));
    free(text);
}
END_TEST

/* ---- docs ----------------------------------------------------------------------------- */

/* docs/metrics.md defines every result column (as `name`) and every
 * column of the two sample files. */
START_TEST(every_column_is_documented)
{
    const char *src = getenv("HEAPLAB_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/metrics.md", src && *src ? src : ".");
    char *doc = read_file(path);
    const char *cols[] = {
#define HL_COLUMN_NAME(name, type, help) #name,
        HL_RESULT_COLUMNS(HL_COLUMN_NAME)
#undef HL_COLUMN_NAME
            "op", "live_bytes", "heap_bytes", "free_bytes", "largest_free", "offset", "size", "header_bytes", "state"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "`%s`", cols[i]);
        ck_assert_msg(strstr(doc, quoted) != NULL, "docs/metrics.md does not define %s", quoted);
    }
    free(doc);
}
END_TEST

Suite *make_metrics_suite(void)
{
    Suite *s = suite_create("metrics");

    TCase *tc = tcase_create("by hand");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, first_fit_by_hand);
    tcase_add_test(tc, best_worst_next_fit_by_hand);
    tcase_add_test(tc, malloclab_preset_by_hand);
    tcase_add_test(tc, mmap_path_by_hand);
    tcase_add_test(tc, trim_by_hand);
    tcase_add_test(tc, rss_after_and_regime);
    tcase_add_test(tc, nothing_live);
    tcase_add_test(tc, peak_op_from_the_trace);
    suite_add_tcase(s, tc);

    tc = tcase_create("samples");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, timeline_rows);
    tcase_add_test(tc, timeline_sample_points);
    tcase_add_test(tc, heapmap_rows);
    tcase_add_test(tc, heapmap_mapped_after_extent);
    tcase_add_test(tc, failed_row_keeps_earlier_samples);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crash_in_the_checked_pass);
    tcase_add_test(tc, crash_in_the_timed_pass);
    tcase_add_test(tc, integrity_errors_name_the_op);
    tcase_add_test(tc, out_of_memory_names_the_op);
    suite_add_tcase(s, tc);

    tc = tcase_create("command line");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cli_exit_codes);
    tcase_add_test(tc, cli_trim_threshold);
    tcase_add_test(tc, cli_samples_same_for_any_jobs);
    suite_add_tcase(s, tc);

    tc = tcase_create("docs");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, every_column_is_documented);
    tcase_add_test(tc, json_null_for_what_is_missing);
    suite_add_tcase(s, tc);
    return s;
}
