import Foundation

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
        let y = shift.map { s in zip(x, s).map { $0 - $1 } } ?? x
        let d = Double(y.count)
        switch self {
        case .rastrigin:
            return y.reduce(10 * d) { $0 + $1 * $1 - 10 * Foundation.cos(2 * Double.pi * $1) }
        case .ackley:
            let squares = y.reduce(0) { $0 + $1 * $1 }, cosines = y.reduce(0) { $0 + Foundation.cos(2 * Double.pi * $1) }
            return -20 * Foundation.exp(-0.2 * (squares / d).squareRoot()) - Foundation.exp(cosines / d) + 20 + M_E
        case .rosenbrock:
            var s = 0.0
            for i in 0..<Swift.max(y.count - 1, 0) {
                let a = y[i + 1] - y[i] * y[i], b = 1 - y[i]
                s += 100 * a * a + b * b
            }
            return s
        case .sphere:
            return y.reduce(0) { $0 + $1 * $1 }
        }
    }

    /// Where the minimum lies for a given shift (Rosenbrock's is at `shift + 1`).
    public func minimiser(dimension: Int, shift: [Double]? = nil) -> [Double] {
        let base = shift ?? [Double](repeating: 0, count: dimension)
        return self == .rosenbrock ? base.map { $0 + 1 } : base
    }
}
