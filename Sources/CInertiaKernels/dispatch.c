// Which kernel table the running CPU can use.
#include "CInertiaKernels.h"

#include <stdlib.h>  // defines __GLIBC__ where glibc is the C library
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

extern const inertia_kernel_table inertia_kernels_baseline;
#if defined(__x86_64__)
extern const inertia_kernel_table inertia_kernels_avx2;
extern const inertia_kernel_table inertia_kernels_avx512;
#endif

int inertia_isa_supported(inertia_isa isa) {
    switch (isa) {
    case INERTIA_ISA_BASELINE:
        return 1;
#if defined(__x86_64__)
    // compiler-rt's CPU model also checks (with xgetbv) that the OS saves the wider registers.
    case INERTIA_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case INERTIA_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

int inertia_cpu_splits_512bit_fma(void) {
#if defined(__x86_64__)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return 0;
    int amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // "AuthenticAMD"
    if (!amd || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    unsigned family = ((eax >> 8) & 0xF) + (((eax >> 8) & 0xF) == 0xF ? (eax >> 20) & 0xFF : 0);
    return family == 0x19 && inertia_isa_supported(INERTIA_ISA_AVX512);
#else
    return 0;
#endif
}

inertia_isa inertia_isa_best(void) {
    if (inertia_isa_supported(INERTIA_ISA_AVX512)) return INERTIA_ISA_AVX512;
    if (inertia_isa_supported(INERTIA_ISA_AVX2)) return INERTIA_ISA_AVX2;
    return INERTIA_ISA_BASELINE;
}

const inertia_kernel_table *inertia_kernels(inertia_isa isa) {
    if (!inertia_isa_supported(isa)) return 0;
    switch (isa) {
#if defined(__x86_64__)
    case INERTIA_ISA_AVX2:
        return &inertia_kernels_avx2;
    case INERTIA_ISA_AVX512:
        return &inertia_kernels_avx512;
#endif
    default:
        return &inertia_kernels_baseline;
    }
}

const char *inertia_baseline_description(void) {
#if defined(__x86_64__)
    return "SSE2";
#elif defined(__aarch64__)
    return "NEON";
#else
    return "portable C";
#endif
}

void inertia_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
#endif
}
