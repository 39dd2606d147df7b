// The AVX2 + FMA kernels (x86-64-v3): 256-bit vectors, a 6x16 GEMM tile in 12 accumulators.
#if defined(__x86_64__)
#define VLEN 8
#define DLEN 4
#define GEMM_MR 6
#define GEMM_NV 2
#define KERNEL_ISA INERTIA_ISA_AVX2
#define KERNEL_TABLE inertia_kernels_avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "kernels_template.h"
#pragma clang attribute pop
#endif
