/*
 * heaplab/record.h - the recorder's raw log: what build/libheaplab-record.so
 * writes and `heaplab record` reads.
 *
 * The library is preloaded into a program (`heaplab record -- COMMAND`),
 * forwards every allocation call to glibc's own allocator and logs it.  A
 * process image writes one raw log, DIR/PID.raw (DIR/PID-2.raw, ... for
 * the images an exec puts in the same process) when it first allocates: a
 * header, the command line, then one fixed-size record per call, in the
 * order the calls took effect.
 * The order is the sequence: each record is appended inside the same
 * critical section as the call it logs, so a free(p) in one thread and the
 * malloc that gets p back in another are logged in that order.
 *
 * Integers are in the recording machine's byte order; the header's magic
 * and record size say whether a reader can use the file.
 */
#ifndef HEAPLAB_RECORD_H
#define HEAPLAB_RECORD_H

#include <stdint.h>

/* The library's file name; `heaplab record` looks for it beside itself. */
#define HL_RECORD_LIB "libheaplab-record.so"

/* Where the raw logs go (a folder that exists; default: the current one). */
#define HL_RECORD_ENV_DIR "HEAPLAB_RECORD_DIR"
/* When set, only the process with this id (and the images it execs) is
 * logged; its children run unrecorded.  Unset: every process is logged. */
#define HL_RECORD_ENV_PID "HEAPLAB_RECORD_PID"

#define HL_RAW_MAGIC "HLRAW01\n"

/* The file starts with this, then cmdline_len bytes of the command line
 * (the arguments NUL-separated, as /proc/PID/cmdline has them, cut at
 * HL_RAW_MAX_CMDLINE), padded with zeros to a multiple of 8; the records
 * follow. */
struct hl_raw_header {
    char magic[8];          /* HL_RAW_MAGIC */
    uint32_t record_size;   /* sizeof(struct hl_raw_record) */
    uint32_t pid;           /* the process */
    uint32_t ppid;          /* its parent when the log was opened */
    uint32_t cmdline_len;   /* bytes of command line after the header */
    uint32_t flags;         /* HL_RAW_UNRECORDED */
    uint32_t reserved;      /* 0 */
    uint64_t start_ns;      /* CLOCK_REALTIME when the image started logging */
    uint64_t lost;          /* records that could not be written (disk full...) */
};

#define HL_RAW_MAX_CMDLINE 4096

/* flags: a process that HEAPLAB_RECORD_PID left unrecorded (a child); its
 * log is the header and command line alone, so that `heaplab record` can
 * say what ran without being recorded. */
#define HL_RAW_UNRECORDED 1u

/* What was called.  a, b and r by kind: */
enum hl_raw_kind {
    HL_RAW_MALLOC = 1,         /* a size                        r result */
    HL_RAW_CALLOC = 2,         /* a nmemb, b size               r result */
    HL_RAW_REALLOC = 3,        /* a old pointer, b size         r result */
    HL_RAW_REALLOCARRAY = 4,   /* a old pointer, b nmemb * size r result */
    HL_RAW_FREE = 5,           /* a pointer */
    HL_RAW_POSIX_MEMALIGN = 6, /* a alignment, b size           r result (0: failed) */
    HL_RAW_ALIGNED_ALLOC = 7,  /* a alignment, b size           r result */
    HL_RAW_MEMALIGN = 8,       /* a alignment, b size           r result */
    HL_RAW_VALLOC = 9,         /* a page size, b size           r result */
    HL_RAW_PVALLOC = 10,       /* a page size, b size (as asked; pvalloc rounds it up to pages) r result */
};

struct hl_raw_record {
    uint64_t a, b; /* the arguments (enum hl_raw_kind) */
    uint64_t r;    /* the pointer returned (0: NULL) */
    uint32_t tid;  /* the calling thread (gettid) */
    uint8_t kind;  /* enum hl_raw_kind */
    uint8_t pad[3];
};

#endif
