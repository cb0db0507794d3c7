/*
 * out.c - output streams whose write errors are never lost (out.h).
 */
#include <errno.h>
#include <string.h>

#include "out.h"

#define MAXOUT 16

static struct tracked {
    FILE *f;
    const char *name;
    int err; /* the first errno a flush met */
} outs[MAXOUT];

static struct tracked *find(FILE *f)
{
    for (size_t i = 0; i < MAXOUT; i++)
        if (outs[i].f == f)
            return &outs[i];
    return NULL;
}

void hl_out_track(FILE *f, const char *name)
{
    if (!f || find(f))
        return;
    struct tracked *t = find(NULL);
    if (t)
        *t = (struct tracked){f, name, 0};
}

FILE *hl_out_open(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        hl_out_track(f, path);
    return f;
}

int hl_out_flush(FILE *f)
{
    struct tracked *t = find(f);
    int before = errno; /* a failed fwrite's, when the caller flushes right after it */
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) {
        int e = errno ? errno : before ? before : EIO;
        if (t && !t->err)
            t->err = e;
        return -1;
    }
    return t && t->err ? -1 : 0;
}

void hl_out_flush_all(void)
{
    if (!find(stdout) && !find(NULL))
        return;
    for (size_t i = 0; i < MAXOUT; i++)
        if (outs[i].f)
            hl_out_flush(outs[i].f);
    fflush(NULL);
}

int hl_out_error(FILE *f)
{
    struct tracked *t = find(f);
    if (t && t->err)
        return t->err;
    return ferror(f) ? EIO : 0;
}

int hl_out_close(FILE *f)
{
    hl_out_flush(f);
    int e = hl_out_error(f);
    struct tracked *t = find(f);
    const char *name = t ? t->name : "output";
    if (t)
        t->f = NULL;
    errno = 0;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (!e)
        return 0;
    fprintf(stderr, "heaplab: %s: %s\n", name, strerror(e));
    return -1;
}
