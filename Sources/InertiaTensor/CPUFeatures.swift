import CInertiaSupport

/// What this build and this CPU support.
public enum CPUFeatures {
    /// Whether the kernels were compiled for AVX2 + FMA (the `NativeSIMD` package trait).
    public static var builtForAVX2FMA: Bool { inertia_built_for_avx2_fma() != 0 }
    /// Whether the running CPU has AVX2 and FMA.
    public static var cpuHasAVX2FMA: Bool { inertia_cpu_has_avx2_fma() != 0 }
}
