import InertiaTensor

/// WoS-NO's weak supervision (Viswanath et al., "Operator Learning Using Weak Supervision from
/// Walk-on-Spheres", arXiv 2603.01193; `walk-on-spheres.md` 2.2): the regression target of each
/// (instance, point) is the running mean of its fresh walk-on-spheres estimates across epochs,
/// `cache ← (p_new + e·cache)/(1 + e)` at the `e`-th update (`e = 0` first), so after `e + 1`
/// epochs of 10 walks the target averages `10(e + 1)` walks. The code keys the cache by batch
/// index (batches must then repeat in order); here it is keyed by the point's own index, so
/// shuffled batches keep their targets.
public struct RunningMeanTargets: Sendable {
    public private(set) var values: [Double]
    public private(set) var updates: [Int]

    public init(count: Int) {
        values = [Double](repeating: 0, count: count)
        updates = [Int](repeating: 0, count: count)
    }

    /// Folds a fresh estimate into target `index` and returns the new target.
    @discardableResult
    public mutating func update(_ index: Int, with estimate: Double) -> Double {
        let e = Double(updates[index])
        values[index] = (estimate + e * values[index]) / (1 + e)
        updates[index] += 1
        return values[index]
    }
}

/// The Laplacian of a network `u` (inputs `[N, d]` → `[N, 1]`) in its first `coordinates` input
/// columns, by reverse mode over reverse mode, recorded so that a loss of it backpropagates into
/// the parameters (a PINN's residual `−Δu − f`). The inner passes also add to the gradients of the
/// parameters `u` reads: zero them before the loss's own backward.
public func inputLaplacian(
    of u: (Tensor) -> Tensor, at inputs: Tensor, coordinates: Int
) -> (
    value: Tensor, laplacian: Tensor
) {
    precondition(
        inputs.rank == 2 && (1...inputs.shape[1]).contains(coordinates),
        "inputLaplacian: needs inputs [N, d] and 1...d coordinates, got \(inputs.shape) and \(coordinates)")
    return withGradients {
        let leaf = inputs.detached().requiringGrad()
        let value = u(leaf)
        precondition(value.shape == [inputs.shape[0], 1], "inputLaplacian: u must give [N, 1], got \(value.shape)")
        value.backward(Tensor.ones(value.shape), createGraph: true)
        guard let gradient = leaf.grad, gradient.requiresGrad else {
            return (value, Tensor.zeros(value.shape))
        }
        var laplacian = Tensor.zeros(value.shape)
        for k in 0..<coordinates {
            leaf.zeroGrad()
            gradient.slice(alongAxis: 1, k..<(k + 1)).backward(Tensor.ones(value.shape), createGraph: true)
            if let second = leaf.grad { laplacian = laplacian + second.slice(alongAxis: 1, k..<(k + 1)) }
        }
        leaf.zeroGrad()
        return (value, laplacian)
    }
}
