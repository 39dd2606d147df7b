import Foundation
import InertiaTensor

/// Float64 vector kernels for the transport solvers: four 4-lane accumulators, so the reductions
/// vectorize (a plain loop is a serial chain of additions, which the compiler may not reorder).
enum DoubleKernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD4<Double> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Double>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD4<Double>.self)
    }

    /// `Σ_j x_j y_j`.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
        var j = 0
        while j + 16 <= n {
            a0 += load(x, j) * load(y, j)
            a1 += load(x, j + 4) * load(y, j + 4)
            a2 += load(x, j + 8) * load(y, j + 8)
            a3 += load(x, j + 12) * load(y, j + 12)
            j += 16
        }
        while j + 4 <= n {
            a0 += load(x, j) * load(y, j)
            j += 4
        }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while j < n {
            s += x[j] * y[j]
            j += 1
        }
        return s
    }

    /// `acc_j += s · x_j`.
    @inline(__always)
    static func axpy(_ acc: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ s: Double, _ n: Int) {
        let sv = SIMD4<Double>(repeating: s)
        var j = 0
        while j + 4 <= n {
            store(load(acc, j) + sv * load(x, j), acc, j)
            j += 4
        }
        while j < n {
            acc[j] += s * x[j]
            j += 1
        }
    }
}

extension DoubleKernels {
    /// Sinkhorn's row sweep for four rows `K_r` (stride `m`) at once: `u_r = 1 / ((K_r · v) / a_r)`
    /// into `u`, then `acc += u_0 K_0 + u_1 K_1 + u_2 K_2 + u_3 K_3`, added row by row in that order.
    /// Reading `v` once for four dot products and `acc` once for four updates keeps the sweep near
    /// the speed of streaming `K` from memory.
    @inline(__always)
    static func scaleFourRows(_ k: UnsafePointer<Double>, _ m: Int, _ v: UnsafePointer<Double>, _ a: UnsafePointer<Double>,
                              _ u: UnsafeMutablePointer<Double>, _ acc: UnsafeMutablePointer<Double>) {
        let k0 = k, k1 = k + m, k2 = k + 2 * m, k3 = k + 3 * m
        var s0 = SIMD4<Double>(), s1 = SIMD4<Double>(), s2 = SIMD4<Double>(), s3 = SIMD4<Double>()
        var t0 = SIMD4<Double>(), t1 = SIMD4<Double>(), t2 = SIMD4<Double>(), t3 = SIMD4<Double>()
        var j = 0
        while j + 8 <= m {
            let va = load(v, j), vb = load(v, j + 4)
            s0 += load(k0, j) * va
            t0 += load(k0, j + 4) * vb
            s1 += load(k1, j) * va
            t1 += load(k1, j + 4) * vb
            s2 += load(k2, j) * va
            t2 += load(k2, j + 4) * vb
            s3 += load(k3, j) * va
            t3 += load(k3, j + 4) * vb
            j += 8
        }
        var d0 = (s0 + t0).sum(), d1 = (s1 + t1).sum(), d2 = (s2 + t2).sum(), d3 = (s3 + t3).sum()
        for jj in j..<m {
            d0 += k0[jj] * v[jj]
            d1 += k1[jj] * v[jj]
            d2 += k2[jj] * v[jj]
            d3 += k3[jj] * v[jj]
        }
        u[0] = 1 / (d0 / a[0])
        u[1] = 1 / (d1 / a[1])
        u[2] = 1 / (d2 / a[2])
        u[3] = 1 / (d3 / a[3])
        let w0 = SIMD4<Double>(repeating: u[0]), w1 = SIMD4<Double>(repeating: u[1])
        let w2 = SIMD4<Double>(repeating: u[2]), w3 = SIMD4<Double>(repeating: u[3])
        j = 0
        while j + 4 <= m {
            var sum = load(acc, j) + w0 * load(k0, j)
            sum = sum + w1 * load(k1, j)
            sum = sum + w2 * load(k2, j)
            store(sum + w3 * load(k3, j), acc, j)
            j += 4
        }
        while j < m {
            acc[j] = acc[j] + u[0] * k0[j] + u[1] * k1[j] + u[2] * k2[j] + u[3] * k3[j]
            j += 1
        }
    }

    /// `max_j (x_j + y_j)`.
    @inline(__always)
    static func maxOfSum(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
        var best = SIMD4<Double>(repeating: -.infinity)
        var j = 0
        while j + 4 <= n {
            let s = load(x, j) + load(y, j)
            best = best.replacing(with: s, where: s .> best)
            j += 4
        }
        var result = best.max()
        while j < n {
            result = Swift.max(result, x[j] + y[j])
            j += 1
        }
        return result
    }

    /// `out_j = max(out_j, x_j + c)`.
    @inline(__always)
    static func maxInto(_ out: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ c: Double, _ n: Int) {
        let cv = SIMD4<Double>(repeating: c)
        var j = 0
        while j + 4 <= n {
            let s = load(x, j) + cv, o = load(out, j)
            store(o.replacing(with: s, where: s .> o), out, j)
            j += 4
        }
        while j < n {
            out[j] = Swift.max(out[j], x[j] + c)
            j += 1
        }
    }

    /// `Σ_j exp(x_j + y_j + c)` (the kernel layer's vector `exp`).
    @inline(__always)
    static func sumExp(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ c: Double, _ n: Int) -> Double {
        Kernels.sumExp(x, y, c, count: n)
    }

    /// `acc_j += exp(x_j + c − z_j)` (the kernel layer's vector `exp`).
    @inline(__always)
    static func accumulateExp(_ acc: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ c: Double, _ z: UnsafePointer<Double>, _ n: Int) {
        Kernels.accumulateExp(acc, x, c, z, count: n)
    }

    /// `out_j = exp(s·x_j + c)`, or `out_j = exp(x_j + y_j + c)` with `y`.
    @inline(__always)
    static func exp(_ out: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, scale s: Double = 1, plus y: UnsafePointer<Double>? = nil,
                    _ c: Double, _ n: Int) {
        let sv = SIMD4<Double>(repeating: s), cv = SIMD4<Double>(repeating: c)
        var j = 0
        while j + 4 <= n {
            var e = load(x, j) * sv + cv
            if let y { e += load(y, j) }
            store(FastMath.exp(e), out, j)
            j += 4
        }
        while j < n {
            out[j] = Foundation.exp(x[j] * s + c + (y?[j] ?? 0))
            j += 1
        }
    }
}

extension DoubleKernels {
    /// `Σ_j p_j·φ(a + b_j)` with `φ(u) = e^u − 1 − u`: the series `u²/2 + u³/6 + u⁴/24` where
    /// `|u| < 1e-3` (no cancellation), the vector `exp` elsewhere.
    @inline(__always)
    static func weightedPhi(_ p: UnsafePointer<Double>, _ a: Double, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        let av = SIMD4<Double>(repeating: a), one = SIMD4<Double>(repeating: 1), small = SIMD4<Double>(repeating: 1e-3)
        var acc = SIMD4<Double>()
        var j = 0
        while j + 4 <= n {
            let u = av + load(b, j)
            let series = u * u * (SIMD4(repeating: 0.5) + u * (SIMD4(repeating: 1.0 / 6) + u * SIMD4(repeating: 1.0 / 24)))
            let direct = FastMath.exp(u) - one - u
            let magnitude = u.replacing(with: -u, where: u .< 0)
            acc += load(p, j) * direct.replacing(with: series, where: magnitude .< small)
            j += 4
        }
        var s = acc.sum()
        while j < n {
            let u = a + b[j]
            s += p[j] * (Swift.abs(u) < 1e-3 ? u * u * (0.5 + u * (1.0 / 6 + u / 24)) : Foundation.expm1(u) - u)
            j += 1
        }
        return s
    }
}
