// Nothing to define: the declaration in include/ is resolved by libclang_rt.fuzzer in fuzz builds.
#include "takt_fuzz_support.h"
