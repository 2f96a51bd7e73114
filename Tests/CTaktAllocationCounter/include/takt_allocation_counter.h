// Counts heap allocations per thread by interposing malloc and friends in the test binary
// (the way SwiftNIO's allocation counter works): a test reads the count, runs the code under
// test on the same thread, and reads it again.
#ifndef TAKT_ALLOCATION_COUNTER_H
#define TAKT_ALLOCATION_COUNTER_H
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by the
/// calling thread since it started.
uint64_t takt_allocations_on_this_thread(void);

#endif
