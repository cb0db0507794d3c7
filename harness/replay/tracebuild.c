/*
 * tracebuild.c - pointer-level events to trace ops (tracebuild.h).
 *
 * Two tables.  Pointers: open addressing with linear probing, keyed by the
 * pointer (0 = an empty slot: NULL is never a block), never deleted - a
 * freed pointer stays as a dead entry, which is what tells a double free
 * from the free of a block allocated before recording began, and what lets
 * the table do without tombstones.  Ids: the requested size of each id and
 * whether it is live; freed ids go on a stack and are handed out again
 * first.
 *
 * Every entry point checks that the memory it may need is there before it
 * changes anything, so a failure (ENOMEM) leaves the builder as it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tracebuild.h"

enum { P_EMPTY, P_LIVE, P_DEAD };

struct pslot {
    uint64_t key; /* the pointer; 0 = empty */
    uint32_t id;  /* its block's id while live */
    uint32_t state;
};

struct idinfo {
    uint64_t size; /* requested bytes while live */
    uint8_t live;
};

struct hl_tracebuild {
    struct hl_tb_opts opts;
    struct hl_tb_stats stats;
    struct pslot *ptab; /* power-of-two size, at most half full */
    size_t pcap, pused;
    struct idinfo *ids; /* next_id of them */
    uint32_t *freeids;  /* stack of dead ids */
    size_t idcap, nfree;
    uint32_t next_id;
    struct hl_op *ops;
    uint64_t nops, opcap;
    uint64_t live_blocks, live_bytes, peak_bytes;
    int spent;
};

/* ---- tables -------------------------------------------------------------- */

static size_t hash(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (size_t)k;
}

static struct pslot *plookup(const struct hl_tracebuild *b, uint64_t key)
{
    size_t mask = b->pcap - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask)
        if (b->ptab[i].key == key || b->ptab[i].key == 0)
            return &b->ptab[i];
}

/* Room for one more pointer entry. */
static int preserve(struct hl_tracebuild *b)
{
    if ((b->pused + 1) * 2 <= b->pcap)
        return 0;
    if (b->pcap > SIZE_MAX / 2 / sizeof *b->ptab) {
        errno = ENOMEM;
        return -1;
    }
    size_t ncap = b->pcap * 2;
    struct pslot *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -1;
    struct pslot *old = b->ptab;
    size_t ocap = b->pcap;
    b->ptab = nt;
    b->pcap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            *plookup(b, old[i].key) = old[i];
    free(old);
    return 0;
}

/* Room for n more ops. */
static int oreserve(struct hl_tracebuild *b, uint64_t n)
{
    if (b->opcap - b->nops >= n)
        return 0;
    uint64_t ncap = b->opcap ? b->opcap : 1024;
    while (ncap - b->nops < n)
        ncap *= 2;
    if (ncap > SIZE_MAX / sizeof *b->ops) {
        errno = ENOMEM;
        return -1;
    }
    struct hl_op *no = realloc(b->ops, (size_t)ncap * sizeof *no);
    if (!no)
        return -1;
    b->ops = no;
    b->opcap = ncap;
    return 0;
}

/* Room for one more id. */
static int ireserve(struct hl_tracebuild *b)
{
    if (b->nfree || b->next_id < b->idcap)
        return 0;
    if (b->next_id == HL_ID_NULL) { /* 2^32 - 1 blocks live at once */
        errno = ENOMEM;
        return -1;
    }
    size_t ncap = b->idcap ? b->idcap * 2 : 1024;
    if (ncap > HL_ID_NULL)
        ncap = HL_ID_NULL;
    struct idinfo *ni = realloc(b->ids, ncap * sizeof *ni);
    if (!ni)
        return -1;
    b->ids = ni;
    uint32_t *nf = realloc(b->freeids, ncap * sizeof *nf);
    if (!nf)
        return -1;
    b->freeids = nf;
    b->idcap = ncap;
    return 0;
}

/* All an allocation may need: a pointer entry, an id, two ops. */
static int reserve_alloc(struct hl_tracebuild *b)
{
    return preserve(b) || ireserve(b) || oreserve(b, 2) ? -1 : 0;
}

static void emit(struct hl_tracebuild *b, int type, uint32_t id, uint64_t size, uint8_t align_log2)
{
    struct hl_op *op = &b->ops[b->nops++];
    memset(op, 0, sizeof *op);
    op->type = (uint8_t)type;
    op->id = id;
    op->size = size;
    op->align_log2 = align_log2;
}

static void set_live(struct hl_tracebuild *b, uint32_t id, uint64_t size)
{
    if (!b->ids[id].live) {
        b->ids[id].live = 1;
        b->live_blocks++;
    } else {
        b->live_bytes -= b->ids[id].size;
    }
    b->ids[id].size = size;
    b->live_bytes += size;
    if (b->live_bytes > b->peak_bytes)
        b->peak_bytes = b->live_bytes;
}

static void kill_id(struct hl_tracebuild *b, uint32_t id)
{
    b->ids[id].live = 0;
    b->live_blocks--;
    b->live_bytes -= b->ids[id].size;
    b->ids[id].size = 0;
    b->freeids[b->nfree++] = id;
}

/* Free the live block at slot s: the op and both tables. */
static void free_slot(struct hl_tracebuild *b, struct pslot *s)
{
    emit(b, HL_OP_FREE, s->id, 0, 0);
    kill_id(b, s->id);
    s->state = P_DEAD;
}

/* The slot for a new block at p, its earlier block freed if still live
 * (that free was not seen).  Space reserved by the caller. */
static struct pslot *claim(struct hl_tracebuild *b, uint64_t p)
{
    struct pslot *s = plookup(b, p);
    if (s->key == 0) {
        s->key = p;
        s->state = P_DEAD;
        b->pused++;
    } else if (s->state == P_LIVE) {
        b->stats.missed_free++;
        free_slot(b, s);
    }
    return s;
}

static uint32_t new_id(struct hl_tracebuild *b)
{
    if (b->nfree)
        return b->freeids[--b->nfree];
    b->ids[b->next_id].live = 0;
    b->ids[b->next_id].size = 0;
    return b->next_id++;
}

/* A new block at p: the op, live. */
static void alloc_at(struct hl_tracebuild *b, uint64_t p, int type, uint64_t size, uint8_t align_log2)
{
    struct pslot *s = claim(b, p);
    uint32_t id = new_id(b);
    emit(b, type, id, size, align_log2);
    s->state = P_LIVE;
    s->id = id;
    set_live(b, id, size);
}

/* ---- events -------------------------------------------------------------- */

struct hl_tracebuild *hl_tb_new(const struct hl_tb_opts *opts)
{
    struct hl_tracebuild *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (opts)
        b->opts = *opts;
    b->pcap = 1024;
    b->ptab = calloc(b->pcap, sizeof *b->ptab);
    if (!b->ptab) {
        free(b);
        return NULL;
    }
    return b;
}

/* Common start of an allocation event: counted, and 1 when it is to be
 * written (a result, a size that can be), 0 when dropped, -1 on ENOMEM. */
static int alloc_event(struct hl_tracebuild *b, uint64_t size, uint64_t p)
{
    b->stats.events++;
    if (p == 0) {
        b->stats.failed++;
        return 0;
    }
    if (size > (uint64_t)PTRDIFF_MAX) {
        b->stats.too_large++;
        return 0;
    }
    if (reserve_alloc(b)) {
        b->stats.events--;
        return -1;
    }
    return 1;
}

int hl_tb_malloc(struct hl_tracebuild *b, uint64_t size, uint64_t p)
{
    int r = alloc_event(b, size, p);
    if (r > 0)
        alloc_at(b, p, HL_OP_ALLOC, size, 0);
    return r < 0 ? -1 : 0;
}

int hl_tb_calloc(struct hl_tracebuild *b, uint64_t nmemb, uint64_t size, uint64_t p)
{
    uint64_t total = UINT64_MAX;
    if (nmemb == 0 || size <= UINT64_MAX / nmemb)
        total = nmemb * size;
    int r = alloc_event(b, total, p);
    if (r > 0)
        alloc_at(b, p, HL_OP_CALLOC, total, 0);
    return r < 0 ? -1 : 0;
}

int hl_tb_memalign(struct hl_tracebuild *b, uint64_t align, uint64_t size, uint64_t p)
{
    int r = alloc_event(b, size, p);
    if (r <= 0)
        return r;
    uint8_t lg = 3;
    while (lg < 62 && (UINT64_C(1) << lg) < align)
        lg++;
    if ((UINT64_C(1) << lg) != align)
        b->stats.align_changed++;
    alloc_at(b, p, HL_OP_MEMALIGN, size, lg);
    return 0;
}

int hl_tb_free(struct hl_tracebuild *b, uint64_t p)
{
    if (oreserve(b, 1))
        return -1;
    b->stats.events++;
    if (p == 0) {
        b->stats.free_null++;
        if (b->opts.keep_free_null)
            emit(b, HL_OP_FREE, HL_ID_NULL, 0, 0);
        return 0;
    }
    struct pslot *s = plookup(b, p);
    if (s->key == 0)
        b->stats.unknown_free++;
    else if (s->state != P_LIVE)
        b->stats.double_free++;
    else
        free_slot(b, s);
    return 0;
}

int hl_tb_realloc(struct hl_tracebuild *b, uint64_t old, uint64_t size, uint64_t p)
{
    if (old == 0) /* realloc(NULL, size) is malloc(size) */
        return hl_tb_malloc(b, size, p);
    /* at most: the old block's free, a missed free, an alloc */
    if (preserve(b) || ireserve(b) || oreserve(b, 3))
        return -1;
    b->stats.events++;
    struct pslot *s = plookup(b, old);
    int live = s->key != 0 && s->state == P_LIVE;
    if (p == 0 && size > 0) { /* failed: old stays live */
        b->stats.failed++;
        return 0;
    }
    if (size > (uint64_t)PTRDIFF_MAX) {
        b->stats.too_large++;
        return 0;
    }
    if (!live) {
        /* the old block was allocated before recording, or already freed:
         * what is left to carry over is a new block, if any */
        int never = s->key == 0;
        if (p == 0) { /* realloc(old, 0) = NULL: a free, of nothing known */
            if (never)
                b->stats.unknown_free++;
            else
                b->stats.double_free++;
            return 0;
        }
        if (never)
            b->stats.unknown_realloc++;
        else
            b->stats.freed_realloc++;
        alloc_at(b, p, HL_OP_ALLOC, size, 0);
        return 0;
    }
    if (size == 0) { /* glibc frees; another allocator may hand back a block */
        b->stats.realloc_zero++;
        free_slot(b, s);
        if (p != 0)
            alloc_at(b, p, HL_OP_ALLOC, 0, 0);
        return 0;
    }
    uint32_t id = s->id;
    if (p != old) {
        s->state = P_DEAD;
        struct pslot *t = claim(b, p);
        t->state = P_LIVE;
        t->id = id;
    }
    emit(b, HL_OP_REALLOC, id, size, 0);
    set_live(b, id, size);
    return 0;
}

/* ---- the end ------------------------------------------------------------- */

uint64_t hl_tb_live_blocks(const struct hl_tracebuild *b) { return b->live_blocks; }

uint64_t hl_tb_live_bytes(const struct hl_tracebuild *b) { return b->live_bytes; }

const struct hl_tb_stats *hl_tb_stats(const struct hl_tracebuild *b) { return &b->stats; }

int hl_tb_finish(struct hl_tracebuild *b, const char *name, struct hl_trace *out)
{
    memset(out, 0, sizeof *out);
    if (b->spent) {
        errno = EINVAL;
        return -1;
    }
    b->spent = 1;
    b->stats.left_live = b->live_blocks;
    if (!b->opts.no_balance) {
        if (oreserve(b, b->live_blocks))
            return -1;
        for (uint32_t id = 0; id < b->next_id; id++)
            if (b->ids[id].live)
                emit(b, HL_OP_FREE, id, 0, 0);
    }
    char *path = NULL;
    if (name && !(path = strdup(name)))
        return -1;
    out->path = path;
    out->dialect = HL_DIALECT_CLASSIC;
    out->sugg_heapsize = b->peak_bytes;
    out->weight = 1;
    out->num_ids = b->next_id;
    out->num_ops = b->nops;
    out->nops = b->nops;
    out->ops = b->ops ? b->ops : malloc(sizeof *out->ops);
    if (!out->ops) {
        free(path);
        memset(out, 0, sizeof *out);
        return -1;
    }
    b->ops = NULL;
    b->nops = b->opcap = 0;
    return 0;
}

void hl_tb_destroy(struct hl_tracebuild *b)
{
    if (!b)
        return;
    free(b->ptab);
    free(b->ids);
    free(b->freeids);
    free(b->ops);
    free(b);
}

int hl_tb_print_stats(const struct hl_tb_stats *s, const char *prefix, FILE *out)
{
    int n = 0;
#define HL_TB_STAT_PRINT(name, doc)                                                                                    \
    if (s->name) {                                                                                                     \
        fprintf(out, "%s: %" PRIu64 " %s\n", prefix, s->name, doc);                                                    \
        n++;                                                                                                           \
    }
    HL_TB_STATS(HL_TB_STAT_PRINT)
#undef HL_TB_STAT_PRINT
    return n;
}
