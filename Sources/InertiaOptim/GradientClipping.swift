import Foundation
import InertiaNN
import InertiaTensor

/// Clipping by global norm as `torch.nn.utils.clip_grad_norm_`: with
/// `total = sqrt(Σ ||g||²)` over all gradients and `c = maxNorm / (total + 1e-6)`, every gradient
/// is multiplied by `c` when `c < 1`. Returns the total norm before clipping (inf or NaN when a
/// gradient is not finite; then nothing is scaled).
public enum GradientClipping {
    @discardableResult
    public static func clipGlobalNorm(_ parameters: [NamedParameter], maxNorm: Double) -> Double {
        var squares = 0.0
        for (_, p) in parameters {
            guard let g = p.grad else { continue }
            squares += g.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) * Double($1) } }
        }
        let total = squares.squareRoot()
        let coefficient = maxNorm / (total + 1e-6)
        guard total.isFinite, coefficient < 1 else { return total }
        let c = Float(coefficient)
        for (_, p) in parameters {
            guard var g = p.grad else { continue }
            g.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] *= c } }
            p.value.grad = g
        }
        return total
    }
}
