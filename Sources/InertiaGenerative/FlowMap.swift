import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Flow maps learned by self-distillation (N. M. Boffi, M. S. Albergo, E. Vanden-Eijnden, "How to
/// build a consistency model: Learning flow maps via self-distillation", arXiv 2505.18825, NeurIPS
/// 2025; `flow-maps.md`). On the linear interpolant `I_t = (1 − t) x₀ + t x₁` (noise at t = 0,
/// data at t = 1), the map `X_{s,t}(x) = x + (t − s) v_{s,t}(x)` jumps along the probability-flow
/// ODE from time s to time t. The network's diagonal `v_{t,t}` is trained by flow matching, its
/// off-diagonal by one of three exact characterisations with the paper's stop-gradients:
/// Lagrangian (LSD), Eulerian (ESD) or semigroup (PSD). The time derivatives are forward-mode
/// JVPs that stay on the tape.
public enum FlowMapLoss {
    /// The average velocity `v_{s,t}(x)` for rows `x` `[B, d]` and times `s`, `t` `[B, 1]`.
    public typealias Velocity = (_ x: Tensor, _ s: Tensor, _ t: Tensor) -> Tensor

    /// `mean_b |a_b − b_b|²` (squared norms summed over the dimensions).
    static func meanSquaredNorm(_ a: Tensor) -> Tensor { a.squared().sum(alongAxis: 1).mean() }

    /// `X_{s,t}(x) = x + (t − s) v_{s,t}(x)`.
    public static func map(_ v: Velocity, _ x: Tensor, s: Tensor, t: Tensor) -> Tensor { x + (t - s) * v(x, s, t) }

    /// The diagonal flow-matching loss `mean |v_{t,t}(I_t) − (x₁ − x₀)|²`.
    public static func diagonal(_ v: Velocity, noise x0: Tensor, data x1: Tensor, t: Tensor) -> Tensor {
        let it = (1 - t) * x0 + t * x1
        return meanSquaredNorm(v(it, t, t) - (x1 - x0))
    }

    /// LSD: `mean |∂_t X_{s,t}(I_s) − sg(v_{t,t}(X_{s,t}(I_s)))|²`; the gradient flows through
    /// `∂_t X = v + (t − s) ∂_t v` only (a JVP in t with tangent 1).
    public static func lagrangian(_ v: Velocity, noise x0: Tensor, data x1: Tensor, s: Tensor, t: Tensor) -> Tensor {
        let xs = (1 - s) * x0 + s * x1
        let (values, tangents) = Tensor.jvp(
            of: { [map(v, xs, s: s, t: $0[0])] }, at: [t], tangents: [Tensor.ones(t.shape)])
        let target = withoutGradients { v(values[0].detached(), t, t) }.detached()
        return meanSquaredNorm(tangents[0] - target)
    }

    /// ESD: `mean |∂_s X_{s,t}(I_s) + sg(∇_x X_{s,t}(I_s) · w)|²` with `w = v_{s,s}(I_s)`, or the
    /// conditional velocity `x₁ − x₀` (`conditionalTangent`, the consistency-training-like variant);
    /// the spatial JVP is stop-gradiented.
    public static func eulerian(
        _ v: Velocity, noise x0: Tensor, data x1: Tensor, s: Tensor, t: Tensor, conditionalTangent: Bool = false
    ) -> Tensor {
        let xs = (1 - s) * x0 + s * x1
        let (_, ds) = Tensor.jvp(of: { [map(v, xs, s: $0[0], t: t)] }, at: [s], tangents: [Tensor.ones(s.shape)])
        let transported = withoutGradients { () -> Tensor in
            let w = conditionalTangent ? x1 - x0 : v(xs, s, s)
            return Tensor.jvp(of: { [map(v, $0[0], s: s, t: t)] }, at: [xs.detached()], tangents: [w.detached()])
                .tangents[0]
        }.detached()
        return meanSquaredNorm(ds[0] + transported)
    }

    /// PSD: `mean |v_{s,t}(I_s) − sg((1 − γ) v_{s,u}(I_s) + γ v_{u,t}(X_{s,u}(I_s)))|²` with
    /// `u = γ s + (1 − γ) t` (γ `[B, 1]`: ½ for PSD-M, uniform for PSD-U).
    public static func progressive(
        _ v: Velocity, noise x0: Tensor, data x1: Tensor, s: Tensor, t: Tensor, gamma: Tensor
    ) -> Tensor {
        let xs = (1 - s) * x0 + s * x1
        let u = gamma * s + (1 - gamma) * t
        let target = withoutGradients { () -> Tensor in
            let first = v(xs, s, u)
            let xu = xs + (u - s) * first
            return (1 - gamma) * first + gamma * v(xu, u, t)
        }.detached()
        return meanSquaredNorm(v(xs, s, t) - target)
    }
}

/// A flow map `X_{s,t}(x) = x + (t − s) v_{s,t}(x)` with an MLP `v` (input `(x, s, t, t − s)`,
/// GELU, zero-initialised output layer; `flow-maps.md` 5) trained by diagonal flow matching plus
/// one self-distillation loss, and sampled in 1 or N uniform jumps from noise at t = 0.
public final class FlowMapModel {
    /// The off-diagonal loss.
    public enum Distillation: Sendable, Equatable {
        /// Plain flow matching of `v_{t,t}` (the baseline, sampled by Euler steps of `v_{t,t}`).
        case flowMatching
        /// LSD, the Lagrangian characterisation.
        case lagrangian
        /// ESD, the Eulerian one (`conditionalTangent`: `x₁ − x₀` as the JVP's tangent).
        case eulerian(conditionalTangent: Bool)
        /// PSD, the semigroup one: `gamma` fixed (PSD-M: ½) or `nil`, uniform per row (PSD-U).
        case progressive(gamma: Double?)

        /// The paper's label.
        public var name: String {
            switch self {
            case .flowMatching: return "flow matching"
            case .lagrangian: return "LSD"
            case .eulerian(let conditional): return conditional ? "ESD (conditional tangent)" : "ESD"
            case .progressive(let gamma):
                guard let gamma else { return "PSD-U" }
                return gamma == 0.5 ? "PSD-M" : "PSD (gamma \(gamma))"
            }
        }
    }

    public let dimension: Int
    public let network: MLP
    public let distillation: Distillation
    /// Training steps skipped because the loss or a gradient was not finite (ESD's NaN guard).
    public private(set) var skippedSteps = 0

    /// A model for data of `dimension` with hidden widths `hidden` (the spec: four of 128).
    public init(
        dimension: Int, hidden: [Int] = [128, 128, 128, 128], distillation: Distillation,
        using rng: inout PhiloxGenerator
    ) {
        if case .progressive(let gamma?) = distillation {
            precondition(
                gamma > 0 && gamma < 1, "FlowMapModel: PSD's gamma must lie strictly inside (0, 1), got \(gamma)")
        }
        self.dimension = dimension
        self.distillation = distillation
        network = MLP(sizes: [dimension + 3] + hidden + [dimension], activation: .gelu, using: &rng)
        for (_, parameter) in network.namedParameters().suffix(2) {
            parameter.assign(Tensor(repeating: 0, shape: parameter.shape))
        }
    }

    /// `v_{s,t}(x)` for rows `x` `[B, d]` and times `s`, `t` `[B, 1]`.
    public func averageVelocity(_ x: Tensor, s: Tensor, t: Tensor) -> Tensor {
        network(Tensor.concatenate([x, s, t, t - s], alongAxis: 1))
    }

    /// The training loss on the data batch `x1` `[B, d]`: the diagonal term at fresh noise and
    /// times plus the distillation term at independent times `s < t` (the min and max of two
    /// uniforms), both on the full batch.
    public func loss(_ x1: Tensor, using rng: inout PhiloxGenerator) -> Tensor {
        let b = x1.shape[0], d = x1.shape[1]
        let x0 = Tensor(shape: [b, d], scalars: (0..<(b * d)).map { _ in Float(rng.nextNormal()) })
        let diagonalTimes = Tensor(shape: [b, 1], scalars: (0..<b).map { _ in Float(rng.nextDouble()) })
        let v: FlowMapLoss.Velocity = { self.averageVelocity($0, s: $1, t: $2) }
        let diagonal = FlowMapLoss.diagonal(v, noise: x0, data: x1, t: diagonalTimes)
        if distillation == .flowMatching { return diagonal }
        var lower = [Float](), upper = [Float]()
        for _ in 0..<b {
            let a = rng.nextDouble(), c = rng.nextDouble()
            lower.append(Float(Swift.min(a, c)))
            upper.append(Float(Swift.max(a, c)))
        }
        let s = Tensor(shape: [b, 1], scalars: lower), t = Tensor(shape: [b, 1], scalars: upper)
        switch distillation {
        case .flowMatching:
            return diagonal
        case .lagrangian:
            return diagonal + FlowMapLoss.lagrangian(v, noise: x0, data: x1, s: s, t: t)
        case .eulerian(let conditional):
            return diagonal
                + FlowMapLoss.eulerian(v, noise: x0, data: x1, s: s, t: t, conditionalTangent: conditional)
        case .progressive(let gamma):
            let gammas = Tensor(
                shape: [b, 1], scalars: (0..<b).map { _ in Float(gamma ?? rng.nextDouble()) })
            return diagonal + FlowMapLoss.progressive(v, noise: x0, data: x1, s: s, t: t, gamma: gammas)
        }
    }

    /// Samples from `noise` (rows, t = 0) in `steps` uniform jumps `x ← X_{t_k, t_{k+1}}(x)`;
    /// the flow-matching baseline takes Euler steps of `v_{t,t}` instead.
    public func sample(_ noise: Matrix64, steps: Int) -> Matrix64 {
        precondition(steps >= 1, "FlowMapModel.sample: steps must be >= 1, got \(steps)")
        return withoutGradients {
            var x = noise.tensor
            let rows = noise.rows
            for k in 0..<steps {
                let s = Float(Double(k) / Double(steps)), t = Float(Double(k + 1) / Double(steps))
                let start = Tensor(repeating: s, shape: [rows, 1])
                let end = distillation == .flowMatching ? start : Tensor(repeating: t, shape: [rows, 1])
                x = x + (t - s) * averageVelocity(x, s: start, t: end)
            }
            return Matrix64(x)
        }
    }

    /// Trains on `points` (rows) for `steps` Adam steps of `batchSize` rows drawn with replacement:
    /// learning rate cosine from `learningRate` to `endLearningRate`, gradients clipped to global
    /// norm `maxGradientNorm`. A step whose loss or gradient is not finite is skipped and counted
    /// in `skippedSteps` (the spec's NaN guard). `onStep(step, loss)` sees every step and stops
    /// training by returning false.
    public func fit(
        points: Matrix64, steps: Int, batchSize: Int = 512, learningRate: Double = 1e-3,
        endLearningRate: Double = 5e-5, maxGradientNorm: Double = 1, using rng: inout PhiloxGenerator,
        onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws {
        precondition(
            points.columns == dimension,
            "FlowMapModel.fit: points have \(points.columns) columns, the model \(dimension)")
        let adam = try Adam(learningRate: learningRate)
        adam.schedule = .cosine(steps: steps, endFactor: endLearningRate / learningRate, periodic: false)
        skippedSteps += trainOnMinibatches(
            points: points, steps: steps, batchSize: batchSize, parameters: network.namedParameters(),
            optimizer: adam, maxGradientNorm: maxGradientNorm, skipsNonFinite: true, using: &rng,
            loss: { _, x, rng in self.loss(x, using: &rng) }, onStep: onStep)
    }
}

/// `KL(data ‖ model)` between 2-D histograms of two point sets on the square `range²` with `bins`
/// bins a side (points outside are dropped), each normalised, `floor` added to every bin and
/// normalised again (`flow-maps.md` 5: [-4.5, 4.5]², 60 bins, 1e-6).
public func histogramKLDivergence(
    data: Matrix64, model: Matrix64, range: ClosedRange<Double> = -4.5...4.5, bins: Int = 60, floor: Double = 1e-6
) -> Double {
    precondition(
        data.columns == 2 && model.columns == 2,
        "histogramKLDivergence: needs 2-D points, got \(data.columns) and \(model.columns) columns")
    func histogram(_ points: Matrix64) -> [Double] {
        var counts = [Double](repeating: 0, count: bins * bins)
        let width = (range.upperBound - range.lowerBound) / Double(bins)
        for i in 0..<points.rows {
            let a = ((points[i, 0] - range.lowerBound) / width).rounded(.down)
            let b = ((points[i, 1] - range.lowerBound) / width).rounded(.down)
            guard a >= 0, b >= 0, a < Double(bins), b < Double(bins) else { continue }
            counts[Int(a) * bins + Int(b)] += 1
        }
        let total = Swift.max(counts.reduce(0, +), 1)
        let floored = counts.map { $0 / total + floor }
        let sum = floored.reduce(0, +)
        return floored.map { $0 / sum }
    }
    let p = histogram(data), q = histogram(model)
    return zip(p, q).reduce(0) { $0 + $1.0 * Foundation.log($1.0 / $1.1) }
}
