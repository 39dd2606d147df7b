// Runs before any Swift code of the process: a binary built with the NativeSIMD trait would
// otherwise die with an illegal instruction on a CPU without AVX2/FMA. This file itself is
// compiled without those flags, so the check is safe to run anywhere.
#include "CInertiaSupport.h"
#include <stdio.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void inertia_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
#endif
}

int inertia_built_for_avx2_fma(void) {
#ifdef INERTIA_REQUIRE_AVX2_FMA
    return 1;
#else
    return 0;
#endif
}

int inertia_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

#ifdef INERTIA_REQUIRE_AVX2_FMA
__attribute__((constructor)) static void inertia_check_cpu(void) {
    if (!inertia_cpu_has_avx2_fma()) {
        fputs("Inertia: this build uses AVX2 and FMA instructions (the default 'NativeSIMD' package "
              "trait), but this CPU lacks them. Rebuild with `swift build --disable-default-traits`.\n",
              stderr);
        exit(70);
    }
}
#endif
