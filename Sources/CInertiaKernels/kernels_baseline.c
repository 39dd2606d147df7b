// The portable kernels: 128-bit vectors, which are SSE2 on x86-64 and NEON on arm64 (fused
// multiply-adds there; separate multiplies and adds on x86-64, which lacks FMA at this level).
#define VLEN 4
#define DLEN 2
#define GEMM_MR 4
#define GEMM_NV 2
#define KERNEL_ISA INERTIA_ISA_BASELINE
#define KERNEL_TABLE inertia_kernels_baseline
#include "kernels_template.h"
