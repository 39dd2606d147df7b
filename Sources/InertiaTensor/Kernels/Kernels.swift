@_exported import CInertiaKernels
import Foundation

/// An instruction set with its own copy of the C kernels (`Sources/CInertiaKernels`).
public enum InstructionSet: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The portable path: SSE2 on x86-64, NEON on arm64.
    case baseline
    /// AVX2 and FMA (x86-64-v3).
    case avx2
    /// AVX-512 F, BW, DQ and VL.
    case avx512

    var c: inertia_isa {
        switch self {
        case .baseline: INERTIA_ISA_BASELINE
        case .avx2: INERTIA_ISA_AVX2
        case .avx512: INERTIA_ISA_AVX512
        }
    }

    /// Whether this build has kernels for it and the running CPU supports it.
    public var isSupported: Bool { inertia_isa_supported(c) != 0 }

    /// The instruction sets this CPU supports, baseline first.
    public static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    /// The most capable instruction set this CPU supports.
    public static var best: InstructionSet { supported.last! }

    public var description: String {
        self == .baseline ? "baseline (\(String(cString: inertia_baseline_description())))" : rawValue
    }
}

/// The kernel layer's run-time switch. Every kernel whose speed depends on the instruction set
/// (GEMM's register tile, the vector `exp` / `log` / `sigmoid` / `silu` maps, the optimizers' fused
/// passes, the Float64 kernels of the transport and particle solvers, Philox blocks) is written
/// once in C, compiled for each instruction set without compiler flags, and called through the
/// table of the active one.
///
/// The active instruction set is chosen on first use: `INERTIA_ISA=baseline|avx2|avx512` when set
/// (one the CPU lacks is refused: a warning on standard error, and the best supported one runs;
/// the `inertia` command stops instead, see `environmentError`), else the best the CPU supports.
/// Tests switch it with `use(_:)` to run every path.
///
/// The Swift loops outside the table (elementwise arithmetic, reductions, the passes of the
/// optimizers whose kernels are not in the table) are portable code: 8-lane Swift vectors, which a
/// build without flags runs as pairs of 128-bit operations, with no fused multiply-add
/// (`FastMath.fma` is a multiply and an add) and no libm call per lane (`FastMath.squareRoot`).
public enum Kernels {
    struct Selection {
        let instructionSet: InstructionSet
        let table: UnsafePointer<inertia_kernel_table>
        /// The GEMM tile's instruction set: the same, except where the choice is automatic and the
        /// CPU splits 512-bit FMAs in two (AMD Zen 4), where the AVX2 tile is faster.
        let gemmInstructionSet: InstructionSet
        let gemmTable: UnsafePointer<inertia_kernel_table>

        init?(_ isa: InstructionSet, automatic: Bool) {
            guard let table = inertia_kernels(isa.c) else { return nil }
            precondition(
                table.pointee.table_size == MemoryLayout<inertia_kernel_table>.size,
                "Inertia: the C kernel table has \(table.pointee.table_size) bytes, this build's Swift code expects \(MemoryLayout<inertia_kernel_table>.size): a stale build after CInertiaKernels.h changed; rebuild from clean (rm -rf .build)"
            )
            instructionSet = isa
            self.table = table
            gemmInstructionSet = automatic && isa == .avx512 && inertia_cpu_splits_512bit_fma() != 0 ? .avx2 : isa
            gemmTable = inertia_kernels(gemmInstructionSet.c)!
        }
    }

    /// Why `INERTIA_ISA` cannot be honoured, or nil when it is unset or names a supported
    /// instruction set.
    public static let environmentError: String? = {
        guard let requested = ProcessInfo.processInfo.environment["INERTIA_ISA"], !requested.isEmpty else { return nil }
        guard let isa = InstructionSet(rawValue: requested.lowercased()) else {
            return
                "INERTIA_ISA=\(requested) is not an instruction set; use one of \(InstructionSet.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        guard isa.isSupported else {
            return
                "INERTIA_ISA=\(requested): this CPU does not support \(isa.rawValue); it supports \(InstructionSet.supported.map(\.rawValue).joined(separator: ", "))"
        }
        return nil
    }()

    private static let initial: Selection = {
        if let message = environmentError {
            FileHandle.standardError.write(Data("Inertia: \(message); using \(InstructionSet.best.rawValue).\n".utf8))
        } else if let requested = ProcessInfo.processInfo.environment["INERTIA_ISA"], !requested.isEmpty,
            let isa = InstructionSet(rawValue: requested.lowercased())
        {
            return Selection(isa, automatic: false)!
        }
        return Selection(.best, automatic: true)!
    }()

    /// Initialized on first use (thread-safely, as every global); written only by `use` and `with`.
    nonisolated(unsafe) private static var current: Selection = initial

    @inline(__always)
    static var active: Selection { current }

    /// The table of the active instruction set, for the modules that call its kernels directly
    /// (the optimizers' fused passes, the transport and particle kernels). A pointer, so no caller
    /// copies the table.
    @inline(__always)
    public static var table: UnsafePointer<inertia_kernel_table> { active.table }

    /// The table whose GEMM tile runs.
    @inline(__always)
    static var gemmTable: UnsafePointer<inertia_kernel_table> { active.gemmTable }

    /// The active instruction set.
    public static var instructionSet: InstructionSet { active.instructionSet }

    /// Makes `isa` the active instruction set for every kernel, GEMM included, from now on.
    /// Throws if the CPU does not support it. Not for use while other threads run kernels.
    public static func use(_ isa: InstructionSet) throws {
        guard let chosen = Selection(isa, automatic: false) else {
            throw TensorError.invalidArgument(
                op: "Kernels.use",
                detail:
                    "this CPU does not support \(isa.rawValue); it supports \(InstructionSet.supported.map(\.rawValue).joined(separator: ", "))"
            )
        }
        current = chosen
    }

    /// Runs `body` with `isa` active, then restores the previous choice.
    public static func with<R>(_ isa: InstructionSet, _ body: () throws -> R) throws -> R {
        let previous = active
        try use(isa)
        defer { current = previous }
        return try body()
    }

    /// The GEMM register tile in use: rows and columns.
    public static var gemmTile: (rows: Int, columns: Int) { (gemmTable.pointee.sgemm_mr, gemmTable.pointee.sgemm_nr) }

    /// One line per kernel family: which path runs it.
    public static var report: [(family: String, path: String)] {
        let selection = active
        let tile = gemmTile
        var gemm = "\(selection.gemmInstructionSet) (\(tile.rows)x\(tile.columns) register tile)"
        if selection.gemmInstructionSet != selection.instructionSet {
            gemm += "; this CPU splits 512-bit FMAs in two, so the AVX2 tile is the faster one"
        }
        return [
            ("gemm", gemm),
            (
                "vector math (exp, log, sigmoid, silu, gelu and the activations' derivatives; Float64 exp, cos)",
                "\(selection.instructionSet)"
            ),
            (
                "optimizer passes (Adam, AdamW, AMSGrad, NAdam, RAdam, Adagrad, RMSprop, Lion, SGD, AdamP, Lion-K, AuON, AM-AdamW)",
                "\(selection.instructionSet)"
            ),
            ("transport, particle and random-number kernels (Float64, Philox)", "\(selection.instructionSet)"),
            ("elementwise, reductions, other optimizers", "portable Swift SIMD (128-bit on x86-64, NEON on arm64)"),
        ]
    }
}

/// The functions of `Kernels` that map a Float32 buffer.
public enum VectorMathFunction: Sendable {
    case exp, log, sigmoid, silu, gelu, geluDerivative, geluSecondDerivative, siluDerivative, siluSecondDerivative
}

extension Kernels {
    /// `y[i] = f(x[i])` on the active instruction set, single-threaded; `x` and `y` may alias.
    @inline(__always)
    public static func map(
        _ function: VectorMathFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        let t = table
        switch function {
        case .exp: t.pointee.exp_f32(x, y, count)
        case .log: t.pointee.log_f32(x, y, count)
        case .sigmoid: t.pointee.sigmoid_f32(x, y, count)
        case .silu: t.pointee.silu_f32(x, y, count)
        case .gelu: t.pointee.gelu_f32(x, y, count)
        case .geluDerivative: t.pointee.gelu_derivative_f32(x, y, count)
        case .geluSecondDerivative: t.pointee.gelu_second_derivative_f32(x, y, count)
        case .siluDerivative: t.pointee.silu_derivative_f32(x, y, count)
        case .siluSecondDerivative: t.pointee.silu_second_derivative_f32(x, y, count)
        }
    }

    /// `y[i] = exp(x[i])` in Float64 (at most 2 ulp over [-745, 709]).
    @inline(__always)
    public static func exp(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        table.pointee.exp_f64(x, y, count)
    }

    /// `y[i] = cos(x[i])` in Float64 (at most 2 ulp for |x| <= 1e5, libm beyond).
    @inline(__always)
    public static func cos(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        table.pointee.cos_f64(x, y, count)
    }
}

/// Process-wide memory settings.
public enum Allocator {
    /// Keeps freed blocks of up to 32 MiB in the heap (glibc `mallopt`), so large temporaries
    /// freed and reallocated every training step cost no page faults. The CLI calls it at start;
    /// a program embedding Inertia may too.
    public static func keepFreedMemory() { inertia_keep_freed_memory() }
}
