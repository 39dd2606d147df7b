import InertiaTensor

/// The transport solvers' Float64 kernels, bound to the active instruction set's table of the
/// kernel layer (`Sources/CInertiaKernels/transport_f64.h`, where they are written once and
/// compiled per instruction set). Reductions keep several vector accumulators, so their sums
/// differ between instruction sets by rounding only.
enum DoubleKernels {
    /// `Σ_j x_j y_j`.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        Kernels.table.pointee.dot_f64(x, y, n)
    }

    /// `acc_j += s · x_j`.
    @inline(__always)
    static func axpy(_ acc: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ s: Double, _ n: Int) {
        Kernels.table.pointee.axpy_f64(acc, x, s, n)
    }

    /// Sinkhorn's row sweep for four rows `K_r` (stride `m`) at once: `u_r = 1 / ((K_r · v) / a_r)`
    /// into `u`, then `acc += u_0 K_0 + u_1 K_1 + u_2 K_2 + u_3 K_3`, added row by row in that order.
    /// Reading `v` once for four dot products and `acc` once for four updates keeps the sweep near
    /// the speed of streaming `K` from memory.
    @inline(__always)
    static func scaleFourRows(
        _ k: UnsafePointer<Double>, _ m: Int, _ v: UnsafePointer<Double>, _ a: UnsafePointer<Double>,
        _ u: UnsafeMutablePointer<Double>, _ acc: UnsafeMutablePointer<Double>
    ) {
        Kernels.table.pointee.sinkhorn_four_rows_f64(k, m, v, a, u, acc)
    }

    /// `max_j (x_j + y_j)`.
    @inline(__always)
    static func maxOfSum(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        Kernels.table.pointee.max_of_sum_f64(x, y, n)
    }

    /// `out_j = max(out_j, x_j + c)`.
    @inline(__always)
    static func maxInto(_ out: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ c: Double, _ n: Int) {
        Kernels.table.pointee.max_into_f64(out, x, c, n)
    }

    /// `Σ_j exp(x_j + y_j + c)`.
    @inline(__always)
    static func sumExp(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ c: Double, _ n: Int) -> Double {
        Kernels.table.pointee.sum_exp_f64(x, y, c, n)
    }

    /// `acc_j += exp(x_j + c − z_j)`.
    @inline(__always)
    static func accumulateExp(
        _ acc: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ c: Double, _ z: UnsafePointer<Double>,
        _ n: Int
    ) {
        Kernels.table.pointee.accumulate_exp_f64(acc, x, c, z, n)
    }

    /// `out_j = exp(s·x_j + c)`, or `out_j = exp(s·x_j + c + y_j)` with `y`.
    @inline(__always)
    static func exp(
        _ out: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, scale s: Double = 1,
        plus y: UnsafePointer<Double>? = nil,
        _ c: Double, _ n: Int
    ) {
        Kernels.table.pointee.exp_affine_f64(out, x, s, y, c, n)
    }

    /// `Σ_j p_j·φ(a + b_j)` with `φ(u) = e^u − 1 − u`: the series `u²/2 + u³/6 + u⁴/24` where
    /// `|u| < 1e-3` (no cancellation), the vector `exp` elsewhere.
    @inline(__always)
    static func weightedPhi(_ p: UnsafePointer<Double>, _ a: Double, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        Kernels.table.pointee.weighted_phi_f64(p, a, b, n)
    }
}
