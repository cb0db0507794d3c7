/*
 * config.h - what a malloc-lab solution may take from the lab's config.h,
 * as heaplab provides it (written for heaplab; the driver's own settings -
 * trace folders, timers - do not apply).
 */
#ifndef HEAPLAB_MALLOCLAB_CONFIG_H
#define HEAPLAB_MALLOCLAB_CONFIG_H

#ifndef ALIGNMENT
#define ALIGNMENT 8 /* the classic lab's; CMU's is 16 (heaplab replay --align 16) */
#endif

/* the memory system's default limit (heaplab replay --mm-max-heap raises the real one) */
#define MAX_HEAP (20 * (1 << 20))

#endif
