import Foundation
import InertiaTensor

/// The standard test functions of global optimization, in CBXpy's conventions
/// (`cbx/objectives.py`; `shared/papers/consensus-based-optimization.md` 2.4), each with its
/// minimiser moved to `shift` (evaluated at `x − shift`).
public enum BenchmarkFunction: String, CaseIterable, Sendable {
    /// `A·d + Σ (y_i² − A cos(2π y_i))`, `A = 10` (a sum, as CBXpy computes). Minimum 0.
    case rastrigin
    /// `−20 exp(−0.2 sqrt(|y|²/d)) − exp(Σ cos(2π y_i)/d) + 20 + e`. Minimum 0.
    case ackley
    /// `Σ 100 (y_{i+1} − y_i²)² + (1 − y_i)²`; minimum 0 at `y = 1` (so at `shift + 1`).
    case rosenbrock
    /// `|y|²`. Minimum 0.
    case sphere

    public func callAsFunction(_ x: [Double], shift: [Double]? = nil) -> Double {
        x.withUnsafeBufferPointer { p in
            shift.map { s in s.withUnsafeBufferPointer { value(p.baseAddress!, x.count, $0.baseAddress!) } }
                ?? value(p.baseAddress!, x.count, nil)
        }
    }

    /// The value at every row of `x` (no copies).
    public func values(rowsOf x: Matrix64, shift: [Double]? = nil) -> [Double] {
        precondition(
            shift.map { $0.count == x.columns } ?? true,
            "\(self): shift of \(shift!.count) for points of dimension \(x.columns)")
        return x.scalars.withUnsafeBufferPointer { p in
            let d = x.columns
            return (0..<x.rows).map { i in
                shift.map { s in s.withUnsafeBufferPointer { value(p.baseAddress! + i * d, d, $0.baseAddress!) } }
                    ?? value(p.baseAddress! + i * d, d, nil)
            }
        }
    }

    func value(_ x: UnsafePointer<Double>, _ n: Int, _ shift: UnsafePointer<Double>?) -> Double {
        @inline(__always) func y(_ i: Int) -> Double { shift.map { x[i] - $0[i] } ?? x[i] }
        let d = Double(n)
        switch self {
        case .rastrigin:
            let (squares, cosines) = Self.squaresAndCosines(x, shift, n)
            return 10 * d + squares - 10 * cosines
        case .ackley:
            let (squares, cosines) = Self.squaresAndCosines(x, shift, n)
            return -20 * Foundation.exp(-0.2 * (squares / d).squareRoot()) - Foundation.exp(cosines / d) + 20 + M_E
        case .rosenbrock:
            var s = 0.0
            for i in 0..<Swift.max(n - 1, 0) {
                let a = y(i + 1) - y(i) * y(i), b = 1 - y(i)
                s += 100 * a * a + b * b
            }
            return s
        case .sphere:
            var s = 0.0
            for i in 0..<n { s += y(i) * y(i) }
            return s
        }
    }

    /// `(Σ y_i², Σ cos(2π y_i))` for `y = x − shift`, by the kernel layer: the cosine with its
    /// period taken out exactly first (`2y = k + f`, `|f| ≤ ½`, `cos(2πy) = (−1)^k cos(πf)`), so it
    /// agrees with `cos(2 * .pi * y)` to its rounding for moderate y and stays fast and exact in
    /// phase for far-away particles (where libm's huge-argument reduction would dominate a CBO run).
    @inline(__always)
    static func squaresAndCosines(
        _ x: UnsafePointer<Double>, _ shift: UnsafePointer<Double>?, _ n: Int
    ) -> (Double, Double) {
        var out = (0.0, 0.0)
        withUnsafeMutableBytes(of: &out) { raw in
            Kernels.table.pointee.squares_and_cos_two_pi_f64(
                x, shift, n, raw.baseAddress!.assumingMemoryBound(to: Double.self))
        }
        return out
    }

    /// Where the minimum lies for a given shift (Rosenbrock's is at `shift + 1`).
    public func minimiser(dimension: Int, shift: [Double]? = nil) -> [Double] {
        let base = shift ?? [Double](repeating: 0, count: dimension)
        return self == .rosenbrock ? base.map { $0 + 1 } : base
    }
}
