#ifndef C_INERTIA_SUPPORT_H
#define C_INERTIA_SUPPORT_H

/// 1 when this build's Swift kernels were compiled for AVX2 + FMA (the NativeSIMD trait).
int inertia_built_for_avx2_fma(void);

/// 1 when the CPU running this process supports AVX2 and FMA.
int inertia_cpu_has_avx2_fma(void);

/// Keeps freed blocks of up to 32 MiB in the heap instead of returning them to the kernel, so a
/// training loop that frees and reallocates the same large temporaries every step stops paying
/// page faults for them (glibc's mallopt; a no-op elsewhere).
void inertia_keep_freed_memory(void);

#endif
