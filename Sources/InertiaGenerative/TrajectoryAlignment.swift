import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Diffusion Optimisation Models with Trajectory Alignment (Giannone, Srivastava, Winther & Ahmed,
/// "Aligning Optimization Trajectories with Diffusion Models for Constrained Design Generation",
/// NeurIPS 2023; `diffusion-trajectory-alignment.md` 2.2–2.4 and the MLP of section 5): a
/// conditional eps-prediction diffusion model on flattened designs in [-1, 1] with the improved-DDPM
/// cosine schedule (T steps), whose loss adds `alignmentWeight · mean (x_inter − clip(x̂₀))²`, the
/// distance of the clean design implied by the prediction to an intermediate iterate of the
/// optimiser (no stop-gradient; the clip has zero gradient where it saturates). Sampling is
/// deterministic DDIM on `N` timesteps `round(linspace(T − 1, 0, N))`, `x̂₀` clipped at every step.
public final class TrajectoryAlignedDiffusion {
    public let dimension: Int
    public let conditionDimension: Int
    public let timesteps: Int
    public let network: MLP
    /// `ᾱ_t` for `t = 0 ..< timesteps`: `f((t + 1)/T)/f(0)` with `f(τ) = cos²((τ + 0.008)/1.008 · π/2)`,
    /// each `β_t = 1 − ᾱ_t/ᾱ_{t−1}` clipped at 0.999.
    public let alphaBar: [Double]
    static let timeFeatures = 32

    public init(
        dimension: Int, conditionDimension: Int, hidden: [Int] = [512, 512, 512], timesteps: Int = 1000,
        using rng: inout PhiloxGenerator
    ) {
        precondition(dimension >= 1 && timesteps >= 2, "TrajectoryAlignedDiffusion: needs a dimension and 2+ timesteps")
        self.dimension = dimension
        self.conditionDimension = conditionDimension
        self.timesteps = timesteps
        network = MLP(
            sizes: [dimension + conditionDimension + Self.timeFeatures] + hidden + [dimension], activation: .gelu,
            using: &rng)
        for (_, parameter) in network.namedParameters().suffix(2) {
            parameter.assign(Tensor(repeating: 0, shape: parameter.shape))
        }
        func f(_ tau: Double) -> Double {
            let c = Foundation.cos((tau + 0.008) / 1.008 * Double.pi / 2)
            return c * c
        }
        var bars: [Double] = [], product = 1.0
        for t in 0..<timesteps {
            let beta = Swift.min(1 - f(Double(t + 1) / Double(timesteps)) / f(Double(t) / Double(timesteps)), 0.999)
            product *= 1 - beta
            bars.append(product)
        }
        alphaBar = bars
    }

    /// Sinusoidal features of the integer timesteps `[B, 32]`: `sin` and `cos` of `t·10000^(−k/16)`.
    func timeEmbedding(_ t: [Int]) -> Tensor {
        let half = Self.timeFeatures / 2
        return Tensor(
            shape: [t.count, Self.timeFeatures],
            scalars: t.flatMap { step -> [Float] in
                let angles = (0..<half).map {
                    Double(step) * Foundation.exp(-Foundation.log(10_000) * Double($0) / Double(half))
                }
                return angles.map { Float(Foundation.sin($0)) } + angles.map { Float(Foundation.cos($0)) }
            })
    }

    /// The predicted noise for designs `x_t` `[B, d]` at timesteps `t`, conditions `[B, c]`.
    public func predictedNoise(_ x: Tensor, timesteps t: [Int], condition: Tensor) -> Tensor {
        network(Tensor.concatenate([x, condition, timeEmbedding(t)], alongAxis: 1))
    }

    /// `mean (ε̂ − ε)² + alignmentWeight · mean (x_inter − clip(x̂₀))²` on designs `x0`, iterates
    /// `intermediate` (both `[B, d]` in [-1, 1]) and conditions `[B, c]`, at uniform timesteps.
    public func loss(
        _ x0: Tensor, intermediate: Tensor, condition: Tensor, alignmentWeight: Float, using rng: inout PhiloxGenerator
    ) -> Tensor {
        let b = x0.shape[0]
        let t = (0..<b).map { _ in rng.nextInt(below: timesteps) }
        let noise = Tensor(shape: x0.shape, scalars: (0..<x0.count).map { _ in Float(rng.nextNormal()) })
        let a = Tensor(shape: [b, 1], scalars: t.map { Float(alphaBar[$0].squareRoot()) })
        let s = Tensor(shape: [b, 1], scalars: t.map { Float((1 - alphaBar[$0]).squareRoot()) })
        let xt = a * x0 + s * noise
        let predicted = predictedNoise(xt, timesteps: t, condition: condition)
        var loss = (predicted - noise).squared().mean()
        if alignmentWeight != 0 {
            let clean = ((xt - s * predicted) / a).clamped(lower: -1, upper: 1)
            loss = loss + alignmentWeight * (intermediate - clean).squared().mean()
        }
        return loss
    }

    /// Adam over `steps` batches of `batchSize` rows drawn with replacement, learning rate cosine
    /// from `learningRate` to `endLearningRate`, gradients clipped to norm `maxGradientNorm`.
    /// `designs`, `intermediates` `[n, d]` and `conditions` `[n, c]`. `onStep(step, loss)` sees every
    /// step and stops training by returning false. A non-finite loss stops with an error.
    public func fit(
        designs: Tensor, intermediates: Tensor, conditions: Tensor, alignmentWeight: Float, steps: Int,
        batchSize: Int = 128, learningRate: Double = 1e-3, endLearningRate: Double = 5e-5, maxGradientNorm: Double = 1,
        using rng: inout PhiloxGenerator, onStep: (Int, Float) -> Bool = { _, _ in true }
    ) throws {
        let n = designs.shape[0]
        guard n >= 1, intermediates.shape == designs.shape, conditions.shape == [n, conditionDimension],
            designs.shape == [n, dimension]
        else {
            throw TensorError.shapeMismatch(
                op: "TrajectoryAlignedDiffusion.fit",
                detail:
                    "designs \(designs.shape), intermediates \(intermediates.shape), conditions \(conditions.shape) for d = \(dimension), c = \(conditionDimension)"
            )
        }
        let adam = try Adam(learningRate: learningRate)
        adam.schedule = .cosine(steps: steps, endFactor: endLearningRate / learningRate, periodic: false)
        let parameters = network.namedParameters()
        for step in 0..<steps {
            let rows = (0..<batchSize).map { _ in rng.nextInt(below: n) }
            for (_, p) in parameters { p.zeroGrad() }
            let value = loss(
                designs.indexSelect(alongAxis: 0, indices: rows),
                intermediate: intermediates.indexSelect(alongAxis: 0, indices: rows),
                condition: conditions.indexSelect(alongAxis: 0, indices: rows), alignmentWeight: alignmentWeight,
                using: &rng)
            guard value.item.isFinite else {
                throw TensorError.invalidArgument(
                    op: "TrajectoryAlignedDiffusion.fit", detail: "the loss is \(value.item) at step \(step)")
            }
            value.backward()
            GradientClipping.clipGlobalNorm(parameters, maxNorm: maxGradientNorm)
            adam.step(parameters)
            if !onStep(step, value.item) { break }
        }
    }

    /// Deterministic DDIM from `noise` `[B, d]` on `steps` timesteps `round(linspace(T − 1, 0, steps))`:
    /// at each, `x̂₀ = clip((x − √(1 − ᾱ) ε̂)/√ᾱ)`, the noise re-derived from the clipped `x̂₀`, and
    /// `x ← √ᾱ' x̂₀ + √(1 − ᾱ') ε`; the last step returns `x̂₀`.
    public func sample(noise: Tensor, condition: Tensor, steps: Int) -> Tensor {
        precondition(steps >= 1, "TrajectoryAlignedDiffusion.sample: steps must be >= 1")
        let b = noise.shape[0]
        let schedule: [Int] =
            steps == 1
            ? [timesteps - 1]
            : (0..<steps).map { k in
                Int((Double(timesteps - 1) * (1 - Double(k) / Double(steps - 1))).rounded())
            }
        return withoutGradients {
            var x = noise
            for (k, t) in schedule.enumerated() {
                let abar = alphaBar[t]
                let predicted = predictedNoise(x, timesteps: [Int](repeating: t, count: b), condition: condition)
                let clean = ((x - Float((1 - abar).squareRoot()) * predicted) / Float(abar.squareRoot()))
                    .clamped(lower: -1, upper: 1)
                if k == schedule.count - 1 { return clean }
                let eps = (x - Float(abar.squareRoot()) * clean) / Float((1 - abar).squareRoot())
                let next = alphaBar[schedule[k + 1]]
                x = Float(next.squareRoot()) * clean + Float((1 - next).squareRoot()) * eps
            }
            return x
        }
    }
}
