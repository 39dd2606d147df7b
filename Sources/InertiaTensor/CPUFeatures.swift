import CInertiaSupport

/// What this build and this CPU support.
public enum CPUFeatures {
    /// Whether the kernels were compiled for AVX2 + FMA (the `NativeSIMD` package trait).
    public static var builtForAVX2FMA: Bool { inertia_built_for_avx2_fma() != 0 }
    /// Whether the running CPU has AVX2 and FMA.
    public static var cpuHasAVX2FMA: Bool { inertia_cpu_has_avx2_fma() != 0 }
}

/// Process-wide memory settings.
public enum Allocator {
    /// Keeps freed blocks of up to 32 MiB in the heap (glibc `mallopt`), so large temporaries
    /// freed and reallocated every training step cost no page faults. The CLI calls it at start;
    /// a program embedding Inertia may too.
    public static func keepFreedMemory() { inertia_keep_freed_memory() }
}
