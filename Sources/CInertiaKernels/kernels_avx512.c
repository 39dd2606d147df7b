// The AVX-512 kernels (F, BW, DQ, VL): 512-bit vectors, a 12x32 GEMM tile in 24 accumulators.
#if defined(__x86_64__)
#define VLEN 16
#define DLEN 8
#define GEMM_MR 12
#define GEMM_NV 2
#define KERNEL_ISA INERTIA_ISA_AVX512
#define KERNEL_TABLE inertia_kernels_avx512
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#include "kernels_template.h"
#pragma clang attribute pop
#endif
