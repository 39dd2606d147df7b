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
        x.withUnsafeBufferPointer { p in shift.map { s in s.withUnsafeBufferPointer { value(p.baseAddress!, x.count, $0.baseAddress!) } } ?? value(p.baseAddress!, x.count, nil) }
    }

    /// The value at every row of `x` (no copies).
    public func values(rowsOf x: Matrix64, shift: [Double]? = nil) -> [Double] {
        precondition(shift.map { $0.count == x.columns } ?? true, "\(self): shift of \(shift!.count) for points of dimension \(x.columns)")
        return x.scalars.withUnsafeBufferPointer { p in
            let d = x.columns
            return (0..<x.rows).map { i in
                shift.map { s in s.withUnsafeBufferPointer { value(p.baseAddress! + i * d, d, $0.baseAddress!) } } ?? value(p.baseAddress! + i * d, d, nil)
            }
        }
    }

    func value(_ x: UnsafePointer<Double>, _ n: Int, _ shift: UnsafePointer<Double>?) -> Double {
        @inline(__always) func y(_ i: Int) -> Double { shift.map { x[i] - $0[i] } ?? x[i] }
        let d = Double(n)
        switch self {
        case .rastrigin:
            let (squares, cosines) = squaresAndCosines(n, y)
            return 10 * d + squares - 10 * cosines
        case .ackley:
            let (squares, cosines) = squaresAndCosines(n, y)
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

    /// `(Σ y_i², Σ cos(2π y_i))`, four coordinates at a time through the vector cosine (the last
    /// partial group padded with zeros, whose cosine 1 is taken back out).
    @inline(__always)
    func squaresAndCosines(_ n: Int, _ y: (Int) -> Double) -> (Double, Double) {
        var squares = SIMD4<Double>(), cosines = SIMD4<Double>(), padding = 0.0
        for start in stride(from: 0, to: n, by: 4) {
            var v = SIMD4<Double>()
            for lane in 0..<Swift.min(4, n - start) { v[lane] = y(start + lane) }
            padding += Double(Swift.max(0, start + 4 - n))
            squares += v * v
            cosines += Self.cosineOfTwoPi(v)
        }
        return (squares.sum(), cosines.sum() - padding)
    }

    /// `cos(2πy)` lane-wise with the period taken out exactly first: `2y = k + f`, `|f| ≤ ½`, so
    /// `cos(2πy) = (−1)^k cos(πf)`. Agrees with `cos(2 * .pi * y)` to its rounding for moderate y
    /// and stays fast and exact in phase for far-away particles (where libm's huge-argument
    /// reduction would dominate a CBO run). `k` is rounded by adding 1.5·2^52 (no per-lane libm
    /// `rint`, which is what `rounded()` becomes without SSE4.1), whose low mantissa bits then hold
    /// its parity; beyond 2^50, where `2y` is already an even integer or close to one, it goes
    /// through `rounded` lane by lane.
    @inline(__always)
    static func cosineOfTwoPi(_ y: SIMD4<Double>) -> SIMD4<Double> {
        let u = 2 * y
        let magnitude = u.replacing(with: -u, where: u .< 0)
        guard all(magnitude .< SIMD4(repeating: 0x1p50)) else {
            var out = SIMD4<Double>()
            for lane in 0..<4 {
                let k = u[lane].rounded(.toNearestOrEven)
                let c = Foundation.cos(Double.pi * (u[lane] - k))
                out[lane] = (k / 2).rounded(.down) == k / 2 ? c : -c
            }
            return out
        }
        let magic = SIMD4<Double>(repeating: 6_755_399_441_055_744)  // 1.5 * 2^52
        let t = u + magic
        let k = t - magic
        let odd = (unsafeBitCast(t, to: SIMD4<Int64>.self) & 1) .!= 0
        let cosine = FastMath.cos(Double.pi * (u - k))
        return cosine.replacing(with: -cosine, where: odd)
    }

    /// Where the minimum lies for a given shift (Rosenbrock's is at `shift + 1`).
    public func minimiser(dimension: Int, shift: [Double]? = nil) -> [Double] {
        let base = shift ?? [Double](repeating: 0, count: dimension)
        return self == .rosenbrock ? base.map { $0 + 1 } : base
    }
}
