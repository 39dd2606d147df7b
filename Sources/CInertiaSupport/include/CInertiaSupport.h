#ifndef C_INERTIA_SUPPORT_H
#define C_INERTIA_SUPPORT_H

/// 1 when this build's Swift kernels were compiled for AVX2 + FMA (the NativeSIMD trait).
int inertia_built_for_avx2_fma(void);

/// 1 when the CPU running this process supports AVX2 and FMA.
int inertia_cpu_has_avx2_fma(void);

#endif
