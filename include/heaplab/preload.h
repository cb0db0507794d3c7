/*
 * heaplab/preload.h - the drop-in malloc's settings.
 *
 * build/libheaplab-malloc.so replaces a program's malloc with one heaplab
 * heap over the real program break when it is preloaded (LD_PRELOAD, or
 * `heaplab run -- COMMAND`).  It reads the environment variables below once,
 * at start-up, before the program's main runs; a malformed value is one line
 * on stderr and exit status 2, never a silent fallback.  Each variable is
 * defined once, here: the library's options table (preload/options.c) and
 * `heaplab run --help` are both made from this list.
 *
 * libheaplab.a is the hl_ API and never defines malloc: linking it into a
 * program leaves the program's malloc alone.
 */
#ifndef HEAPLAB_PRELOAD_H
#define HEAPLAB_PRELOAD_H

/* The library's file name; `heaplab run` looks for it beside itself. */
#define HL_PRELOAD_LIB "libheaplab-malloc.so"

/* The policy when HEAPLAB_POLICY is not set (README, "Drop-in malloc", says
 * why this one). */
#define HL_PRELOAD_DEFAULT_POLICY "tlsf:cache=7"

enum hl_option_kind {
    HL_OPTION_POLICY, /* NAME[:key=value,...], a built-in policy */
    HL_OPTION_SIZE,   /* bytes, with k, m or g */
    HL_OPTION_COUNT,  /* a number */
    HL_OPTION_ENUM,   /* one of the '|'-separated choices; the value is its index */
    HL_OPTION_PATH    /* a file name */
};

/*
 * X(ID, kind, default, choices, help): the variable HEAPLAB_<ID>.  The
 * default is written as the variable would be, NULL when unset means the
 * heap's own (glibc-like) behaviour.  An empty variable counts as unset.
 */
#define HL_PRELOAD_OPTIONS(X)                                                                      \
    X(POLICY, HL_OPTION_POLICY, HL_PRELOAD_DEFAULT_POLICY, NULL,                                   \
      "the placement policy, NAME[:key=value,...] (heaplab policies -v)")                          \
    X(MMAP_THRESHOLD, HL_OPTION_SIZE, NULL, NULL,                                                  \
      "requests of at least this many bytes are mmapped, fixed (0: never); unset: 128k, "         \
      "raised as glibc does")                                                                      \
    X(TRIM_THRESHOLD, HL_OPTION_SIZE, NULL, NULL,                                                  \
      "give the top of the heap back once this much is free there (0: never); unset: 128k")       \
    X(TOP_PAD, HL_OPTION_SIZE, "128k", NULL, "free bytes a trim leaves at the top (glibc's M_TOP_PAD)") \
    X(STATS, HL_OPTION_ENUM, "0", "0|1|json", "at exit, the heap's figures: 1 as text, json as JSON") \
    X(STATS_FILE, HL_OPTION_PATH, NULL, NULL, "where the stats go instead of stderr; %p is the process id") \
    X(CHECK, HL_OPTION_COUNT, "0", NULL,                                                           \
      "run the heap checker every N operations (0: never); a violation is one line and abort")

#endif
