import Foundation
import Synchronization

/// The GEMM used by `matmul`: the pure-Swift kernel, or OpenBLAS's `cblas_sgemm` loaded at run
/// time with `dlopen` when `libopenblas.so.0` is installed (never needed to build or run).
///
/// The backend is chosen on first use from `INERTIA_GEMM` (`swift`, the default, or `openblas`)
/// and can be set in code with `GEMM.backend`. OpenBLAS is opt-in, so results do not depend on
/// which system library a machine has; its worker threads also spin in `sched_yield` between
/// calls beside Inertia's own workers (see the README for the measured trade-off).
public enum GEMM {
    /// Who multiplies: Inertia's own kernels, or OpenBLAS when installed.
    public enum Backend: String, Sendable, CaseIterable {
        case swift
        case openBLAS = "openblas"
    }

    private typealias CblasSgemm =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void

    private struct OpenBLAS {
        let sgemm: CblasSgemm
        let setThreads: SetThreads?
    }

    private static let openBLAS: OpenBLAS? = {
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            let threads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
            return OpenBLAS(sgemm: unsafeBitCast(symbol, to: CblasSgemm.self), setThreads: threads)
        }
        return nil
    }()

    /// Whether OpenBLAS could be loaded on this machine.
    public static var isOpenBLASAvailable: Bool { openBLAS != nil }

    private static let selected = Mutex<Backend?>(nil)

    /// The backend in use. Setting `.openBLAS` where it is not installed stops with a message
    /// saying how to install it.
    public static var backend: Backend {
        get {
            selected.withLock { current in
                if let current { return current }
                let requested = ProcessInfo.processInfo.environment["INERTIA_GEMM"]?.lowercased() ?? "swift"
                let choice: Backend = requested == "openblas" && isOpenBLASAvailable ? .openBLAS : .swift
                if requested == "openblas" && !isOpenBLASAvailable {
                    FileHandle.standardError.write(
                        Data(
                            "Inertia: INERTIA_GEMM=openblas but libopenblas.so.0 is not installed (apt-get install libopenblas0-pthread); using the Swift GEMM.\n"
                                .utf8))
                }
                current = choice
                return choice
            }
        }
        set {
            validated {
                if newValue == .openBLAS && !isOpenBLASAvailable {
                    throw TensorError.invalidArgument(
                        op: "GEMM.backend", detail: "OpenBLAS is not installed (apt-get install libopenblas0-pthread)")
                }
            }
            selected.withLock { $0 = newValue }
        }
    }

    /// `C = alpha * op(A) * op(B) + beta * C` on the selected backend (see `GEMMKernel.sgemm`).
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, backend: Backend? = nil
    ) {
        let use = backend ?? self.backend
        if use == .openBLAS, let blas = openBLAS, m > 0, n > 0, k > 0 {
            blas.setThreads?(Int32(Parallel.threadCount))
            blas.sgemm(
                101, transposeA ? 112 : 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        GEMMKernel.sgemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}
