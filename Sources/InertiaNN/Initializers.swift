import Foundation
import InertiaTensor

/// Weight initializers, with PyTorch's formulas (`torch.nn.init`). `fanIn` / `fanOut` follow
/// PyTorch: for a `[out, in, k...]` weight, `fanIn = in * prod(k)`, `fanOut = out * prod(k)`.
public enum Initializer {
    /// `U(-b, b)` with `b = gain * sqrt(3 / fanIn)`, `gain = sqrt(2 / (1 + a²))`; PyTorch's default
    /// for Linear and Conv weights is `a = sqrt(5)`, giving `b = 1 / sqrt(fanIn)`.
    case kaimingUniform(a: Double = 5.0.squareRoot())
    /// `N(0, std²)` with `std = sqrt(2 / (1 + a²)) / sqrt(fanIn)`.
    case kaimingNormal(a: Double = 0)
    /// `U(-b, b)` with `b = gain * sqrt(6 / (fanIn + fanOut))`.
    case xavierUniform(gain: Double = 1)
    /// `N(0, std²)` with `std = gain * sqrt(2 / (fanIn + fanOut))`.
    case xavierNormal(gain: Double = 1)
    case normal(mean: Double = 0, standardDeviation: Double = 1)
    case uniform(low: Double, high: Double)
    /// A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, times `gain`.
    case orthogonal(gain: Double = 1)
    case constant(Double)

    /// Fans of a weight shape as PyTorch computes them.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A new tensor of `shape`.
    public func make(_ shape: [Int], using rng: inout PhiloxGenerator) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .kaimingUniform(let a):
            let bound = (2 / (1 + a * a)).squareRoot() * (3 / Double(Swift.max(fanIn, 1))).squareRoot()
            return Tensor.uniform(shape, low: Float(-bound), high: Float(bound), using: &rng)
        case .kaimingNormal(let a):
            let std = (2 / (1 + a * a)).squareRoot() / Double(Swift.max(fanIn, 1)).squareRoot()
            return Tensor.normal(shape, standardDeviation: Float(std), using: &rng)
        case .xavierUniform(let gain):
            let bound = gain * (6 / Double(Swift.max(fanIn + fanOut, 1))).squareRoot()
            return Tensor.uniform(shape, low: Float(-bound), high: Float(bound), using: &rng)
        case .xavierNormal(let gain):
            let std = gain * (2 / Double(Swift.max(fanIn + fanOut, 1))).squareRoot()
            return Tensor.normal(shape, standardDeviation: Float(std), using: &rng)
        case .normal(let mean, let std):
            return Tensor.normal(shape, mean: Float(mean), standardDeviation: Float(std), using: &rng)
        case .uniform(let low, let high):
            return Tensor.uniform(shape, low: Float(low), high: Float(high), using: &rng)
        case .constant(let c):
            return Tensor(repeating: Float(c), shape: shape)
        case .orthogonal(let gain):
            return Initializer.orthogonal(shape, gain: gain, using: &rng)
        }
    }

    /// Modified Gram–Schmidt in Double on the Gaussian matrix `[rows, prod(rest)]` (transposed
    /// when wide), signs fixed so the triangular factor has a positive diagonal, as PyTorch.
    static func orthogonal(_ shape: [Int], gain: Double, using rng: inout PhiloxGenerator) -> Tensor {
        let rows = shape.first ?? 1
        let cols = Swift.max(1, shape.dropFirst().reduce(1, *))
        let tall = rows >= cols
        let (m, n) = tall ? (rows, cols) : (cols, rows)
        // columns of an m x n Gaussian matrix
        var q = (0..<n).map { _ in (0..<m).map { _ in rng.nextNormal() } }
        for j in 0..<n {
            for i in 0..<j {
                let dot = zip(q[i], q[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for r in 0..<m { q[j][r] -= dot * q[i][r] }
            }
            let norm = q[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
            for r in 0..<m { q[j][r] /= norm }
        }
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                out[r * cols + c] = Float(gain * (tall ? q[c][r] : q[r][c]))
            }
        }
        return Tensor(shape: shape, scalars: out)
    }
}
