import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// The losses of MeanFlow (Z. Geng, M. Deng, X. Bai, J. Z. Kolter, K. He, "Mean Flows for One-step
/// Generative Modeling", arXiv 2505.13447) as MP1 uses them (J. Sheng, Z. Wang, P. Li, M. Liu,
/// "MP1: MeanFlow Tames Policy Learning in 1-step for Robotic Manipulation", arXiv 2507.10543;
/// `meanflow-policy.md`): the adaptive L2 and the dispersive loss.
public enum MeanFlowLoss {
    /// `mean_b(sg(w_b)·d_b)` with `d_b` the per-row mean of `error²` (`[B, ...]`) and
    /// `w_b = (d_b + c)^−(1−γ)` (γ = 1: plain mean squared error).
    public static func adaptiveL2(_ error: Tensor, gamma: Float = 0.5, c: Float = 1e-3) -> Tensor {
        let perRow = error.squared().reshaped(to: [error.shape[0], -1]).mean(alongAxis: 1)
        let weights = withoutGradients { (perRow.detached() + c).pow(-(1 - gamma)) }
        return (weights * perRow).mean()
    }

    /// `log(mean_ij exp(−S_ij/(τ·max S)))` over every pair of rows of `features` (`[B, F]`, the
    /// diagonal included), `S_ij = |h_i − h_j|²`, the maximum floored at 1e-12 (all rows equal: 0)
    /// and differentiated through. At most 0; invariant to a global scale of the features.
    public static func dispersive(_ features: Tensor, tau: Float = 1) -> Tensor {
        let h = features.reshaped(to: [features.shape[0], -1])
        let squares = h.squared().sum(alongAxis: 1, keepingDimensions: true)
        let gram = Tensor.matmul(h, h, transposingB: true)
        let distances = (squares + squares.transposed() - 2 * gram).clamped(lower: 0)
        let scale = Tensor.maximum(distances.max(), Tensor(1e-12))
        return (-distances / (scale * tau)).logSumExp() - Float(Foundation.log(Double(distances.count)))
    }
}

/// A MeanFlow model (noise at t = 1, data at t = 0): an MLP `u_θ(z, t, r | c)` (input
/// `(z, t, r, c)`, GELU, zero-initialised output) learns the average velocity over `[r, t]`
/// through the MeanFlow identity `u = v − (t − r) du/dt`, the total derivative a forward-mode JVP
/// with tangent `(v̂, 1, 0)`, the target stop-gradiented; or, as the baseline, flow matching of
/// `u(z, t, t) = v`. One network evaluation maps noise to a sample: `x = e − u(e, 0, 1)`.
public final class MeanFlowModel {
    /// The regression target `v̂` the identity uses (`meanflow-policy.md` 2.4).
    public enum Target: Sendable, Equatable {
        /// The conditional velocity `v = e − x`.
        case plain
        /// MP1's code: `v̂ = w v + (1 − w) u(z, t, t | c)`, the "unconditional" branch evaluated with
        /// the same condition: not guidance, a bootstrapped target with the same fixed point.
        case mp1(w: Double)
        /// MeanFlow's classifier-free guidance: the condition dropped (a learned null condition)
        /// with probability `dropout`, and for kept rows
        /// `v̂ = ω v + κ u(z, t, t | c) + (1 − ω − κ) u(z, t, t | ∅)`; dropped rows keep `v`.
        case guided(omega: Double, kappa: Double, dropout: Double)
    }

    /// MeanFlow (with its target, the fraction of rows trained with r = t, and the dispersive
    /// loss's weight on the first hidden layer's features) or plain flow matching.
    public enum Objective: Sendable, Equatable {
        case meanFlow(target: Target, flowRatio: Double, dispersiveWeight: Double)
        case flowMatching

        /// The report's label.
        public var name: String {
            switch self {
            case .flowMatching: return "flow matching"
            case .meanFlow(let target, _, let weight):
                var name = "MeanFlow"
                switch target {
                case .plain: break
                case .mp1(let w): name += " + MP1 target (w = \(MeanFlowModel.label(w)))"
                case .guided(let omega, let kappa, _):
                    name += " + CFG (omega \(MeanFlowModel.label(omega)), kappa \(MeanFlowModel.label(kappa)))"
                }
                if weight > 0 { name += " + dispersive (\(MeanFlowModel.label(weight)))" }
                return name
            }
        }
    }

    /// A number as short as it reads (`2`, `0.5`).
    static func label(_ value: Double) -> String { String(format: "%g", value) }

    public let dimension: Int
    public let conditionDimension: Int
    public let objective: Objective
    /// The hidden layers and the output layer.
    public let layers: [Linear]
    /// The null condition of MeanFlow CFG (`nil` otherwise).
    public let nullCondition: Parameter?
    /// Logit-normal time sampling: `sigmoid(N(mean, standardDeviation))`.
    public var timeMean = -0.4, timeStandardDeviation = 1.0
    /// The adaptive L2's γ and c.
    public var gamma: Float = 0.5, c: Float = 1e-3

    /// A model for data of `dimension` with conditions of `conditionDimension` (0: unconditional)
    /// and hidden widths `hidden` (the spec's toy: three of 128).
    public init(
        dimension: Int, conditionDimension: Int = 0, hidden: [Int] = [128, 128, 128], objective: Objective,
        using rng: inout PhiloxGenerator
    ) {
        precondition(!hidden.isEmpty, "MeanFlowModel: needs at least one hidden layer")
        self.dimension = dimension
        self.conditionDimension = conditionDimension
        self.objective = objective
        let sizes = [dimension + 2 + conditionDimension] + hidden + [dimension]
        layers = (0..<(sizes.count - 1)).map { Linear(sizes[$0], sizes[$0 + 1], using: &rng) }
        for parameter in layers.last!.parameters { parameter.assign(Tensor(repeating: 0, shape: parameter.shape)) }
        if case .meanFlow(.guided, _, _) = objective {
            precondition(conditionDimension > 0, "MeanFlowModel: guidance needs a condition")
            nullCondition = Parameter(Tensor.zeros([conditionDimension]))
        } else {
            nullCondition = nil
        }
    }

    /// Every trainable parameter, named.
    public var parameters: [NamedParameter] {
        layers.enumerated().flatMap { i, layer in layer.namedParameters(prefix: "layers.\(i).") }
            + (nullCondition.map { [(name: "null_condition", parameter: $0)] } ?? [])
    }

    /// `u(z, r, t | c)` and the first hidden layer's features, for rows `z` `[B, d]`, times `t`, `r`
    /// `[B, 1]` and conditions `[B, c]` (`nil` when unconditional).
    public func averageVelocityAndFeatures(
        _ z: Tensor, r: Tensor, t: Tensor, condition: Tensor?
    ) -> (velocity: Tensor, features: Tensor) {
        var h = Tensor.concatenate([z, t, r] + (condition.map { [$0] } ?? []), alongAxis: 1)
        var first: Tensor?
        for layer in layers.dropLast() {
            h = layer(h).gelu()
            if first == nil { first = h }
        }
        return (layers.last!(h), first!)
    }

    /// `u(z, r, t | c)`.
    public func averageVelocity(_ z: Tensor, r: Tensor, t: Tensor, condition: Tensor?) -> Tensor {
        averageVelocityAndFeatures(z, r: r, t: t, condition: condition).velocity
    }

    /// Logit-normal times `[b, 1]`.
    func times(_ b: Int, using rng: inout PhiloxGenerator) -> [Double] {
        (0..<b).map { _ in 1 / (1 + Foundation.exp(-(timeMean + timeStandardDeviation * rng.nextNormal()))) }
    }

    /// The training loss on data rows `x` `[B, d]` with conditions `[B, c]` (`nil`: none).
    public func loss(_ x: Tensor, condition: Tensor?, using rng: inout PhiloxGenerator) -> Tensor {
        let b = x.shape[0], d = x.shape[1]
        let e = Tensor(shape: [b, d], scalars: (0..<(b * d)).map { _ in Float(rng.nextNormal()) })
        guard case .meanFlow(let target, let flowRatio, let dispersiveWeight) = objective else {
            let t = Tensor(shape: [b, 1], scalars: times(b, using: &rng).map(Float.init))
            let z = (1 - t) * x + t * e
            return (averageVelocity(z, r: t, t: t, condition: condition) - (e - x)).squared().mean()
        }
        let first = times(b, using: &rng), second = times(b, using: &rng)
        let upper = zip(first, second).map { Float(Swift.max($0, $1)) }
        var lower = zip(first, second).map { Float(Swift.min($0, $1)) }
        var order = Array(0..<b)
        for i in stride(from: b - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
        for i in order.prefix(Int((flowRatio * Double(b)).rounded(.down))) { lower[i] = upper[i] }
        let t = Tensor(shape: [b, 1], scalars: upper), r = Tensor(shape: [b, 1], scalars: lower)
        let z = (1 - t) * x + t * e, v = e - x
        var used = condition
        var guided = v
        switch target {
        case .plain: break
        case .mp1(let w):
            let own = withoutGradients { averageVelocity(z, r: t, t: t, condition: condition) }.detached()
            guided = Float(w) * v + Float(1 - w) * own
        case .guided(let omega, let kappa, let dropout):
            guard let condition, let nullCondition else { preconditionFailure("guidance needs a condition") }
            let dropped = Tensor(shape: [b, 1], scalars: (0..<b).map { _ in rng.nextBernoulli(dropout) ? 1 : 0 })
            let null = nullCondition.value.reshaped(to: [1, conditionDimension]).expanded(to: condition.shape)
            used = dropped * null + (1 - dropped) * condition
            let (conditional, unconditional) = withoutGradients {
                (
                    averageVelocity(z, r: t, t: t, condition: condition),
                    averageVelocity(z, r: t, t: t, condition: null)
                )
            }
            let mixed =
                Float(omega) * v + Float(kappa) * conditional.detached()
                + Float(1 - omega - kappa) * unconditional.detached()
            guided = dropped * v + (1 - dropped) * mixed
        }
        let (values, tangents) = Tensor.jvp(
            of: { inputs in
                let (u, h) = averageVelocityAndFeatures(inputs[0], r: inputs[2], t: inputs[1], condition: used)
                return [u, h]
            }, at: [z, t, r], tangents: [guided.detached(), Tensor.ones([b, 1]), Tensor.zeros([b, 1])])
        let regression = (guided - (t - r) * tangents[0]).detached()
        var loss = MeanFlowLoss.adaptiveL2(values[0] - regression, gamma: gamma, c: c)
        if dispersiveWeight > 0 { loss = loss + Float(dispersiveWeight) * MeanFlowLoss.dispersive(values[1]) }
        return loss
    }

    /// Samples from `noise` (rows, t = 1) to t = 0 in `steps` uniform steps: MeanFlow jumps
    /// `z ← z − (t_k − t_{k+1}) u(z, t_{k+1}, t_k)`, flow matching Euler steps of `u(z, t, t)`.
    public func sample(_ noise: Matrix64, condition: Matrix64? = nil, steps: Int) -> Matrix64 {
        precondition(steps >= 1, "MeanFlowModel.sample: steps must be >= 1, got \(steps)")
        return withoutGradients {
            var z = noise.tensor
            let rows = noise.rows, c = condition?.tensor
            for k in 0..<steps {
                let t = Float(1 - Double(k) / Double(steps)), r = Float(1 - Double(k + 1) / Double(steps))
                let start = Tensor(repeating: t, shape: [rows, 1])
                let end = objective == .flowMatching ? start : Tensor(repeating: r, shape: [rows, 1])
                z = z - (t - r) * averageVelocity(z, r: end, t: start, condition: c)
            }
            return Matrix64(z)
        }
    }

    /// Trains on `points` (rows, with `conditions` rows when conditional) for `steps` AdamW steps
    /// (weight decay 1e-6) of `batchSize` rows drawn with replacement: learning rate warmed up
    /// linearly over `warmupSteps`, then cosine to `endLearningRate`; gradients clipped to global
    /// norm `maxGradientNorm`. A step whose loss or gradient is not finite is skipped (counted in
    /// the return value). `onStep(step, loss)` sees every step and stops training by returning false.
    @discardableResult
    public func fit(
        points: Matrix64, conditions: Matrix64? = nil, steps: Int, batchSize: Int = 512,
        learningRate: Double = 1e-3, endLearningRate: Double = 1e-5, warmupSteps: Int = 200,
        maxGradientNorm: Double = 1, using rng: inout PhiloxGenerator,
        onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws -> Int {
        precondition(
            points.columns == dimension,
            "MeanFlowModel.fit: points have \(points.columns) columns, the model \(dimension)")
        precondition(
            (conditions?.columns ?? 0) == conditionDimension && (conditions?.rows ?? points.rows) == points.rows,
            "MeanFlowModel.fit: conditions must be \(points.rows) rows of \(conditionDimension)")
        let adamW = try AdamW(learningRate: learningRate, weightDecay: 1e-6)
        adamW.schedule = .linearWarmupCosine(
            warmup: warmupSteps, total: steps, endFactor: endLearningRate / learningRate, startFactor: 0)
        var joined = points
        if let conditions {
            joined = Matrix64(
                rows: points.rows, columns: dimension + conditionDimension,
                scalars: (0..<points.rows).flatMap { i in
                    (0..<dimension).map { points[i, $0] } + (0..<conditionDimension).map { conditions[i, $0] }
                })
        }
        return trainOnMinibatches(
            points: joined, steps: steps, batchSize: batchSize, parameters: parameters, optimizer: adamW,
            maxGradientNorm: maxGradientNorm, skipsNonFinite: true, using: &rng,
            loss: { _, batch, rng in
                let x = batch.slice(alongAxis: 1, 0..<self.dimension)
                let c =
                    self.conditionDimension > 0
                    ? batch.slice(alongAxis: 1, self.dimension..<(self.dimension + self.conditionDimension)) : nil
                return self.loss(x, condition: c, using: &rng)
            }, onStep: onStep)
    }
}
