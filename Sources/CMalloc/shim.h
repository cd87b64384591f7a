#ifndef TOLLGATE_CMALLOC_SHIM_H
#define TOLLGATE_CMALLOC_SHIM_H
#include <malloc.h>

// glibc's malloc keeps what a process frees: an arena per thread, each with its own high-water
// mark. The console's refreshes allocate and free megabytes a second on several threads, and with
// one arena per thread it held a third more than with one arena (docs/benchmarks.md). One arena,
// and the heap's free top given back beyond 1 MiB. (Mapping large blocks on their own as well,
// M_MMAP_THRESHOLD, saved no more and cost page faults each refresh.)
static inline void tg_return_freed_memory(void) {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}
#endif
