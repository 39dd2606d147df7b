import InertiaTensor

/// MomentumSMoE's momentum across depth (Teo & Nguyen, "MomentumSMoE: Integrating Momentum into
/// Sparse Mixture of Experts", NeurIPS 2024; `shared/papers/momentum-smoe.md` 2.5-2.7): a stack of
/// residual MoE layers read as an optimiser whose iteration counter is the layer index, with a
/// velocity carried from layer to layer inside one forward pass. Not an optimiser of the weights.
///
/// Make one value per forward pass (the state starts at zero, pitfall P3) and call `step` once per
/// MoE layer in depth order. `step(h, moe)` returns the sublayer's combination before any
/// LayerNorm, with `f = moe(·)` the layer's (dropped-out) MoE output:
///
///     plain       h + f(h)                                  (the SMoE baseline)
///     heavyBall   m = μ m + γ f(h);  h - m                  (the code's sign, pitfall P2)
///     adam        layer 0: p = (1-β1) f, v = (1-β2) f², a = γ1 p / sqrt(v + 1e-8), m = γ2 f;  -a
///                 (the code's `inp - (a + inp)`); later layers heavy ball with μ, γ2
///     robust      y = h + γ_r (h - h_prev);  h + β_r (h - h_prev) - α_r f(y)   (h_prev = h at layer 0)
///
/// The plain stack of the spec's fixture is `x_{t+1} = step(x_t)`; the code's post-LN block is
/// `h = LN2(h + LN_moe(step(h)))`. The buffers stay on the tape: gradients flow through `m` into
/// every earlier layer.
public struct DepthMomentum {
    public enum Rule {
        case plain
        case heavyBall(mu: Float, gamma: Float)
        /// AdamSMoE: Adam at the first MoE layer only (eps inside the square root, no bias
        /// correction), heavy ball with `mu`, `gamma` after it.
        case adam(beta1: Float, beta2: Float, gamma: Float, mu: Float, heavyBallGamma: Float, epsilon: Float = 1e-8)
        case robust(RobustMomentum)
    }

    public let rule: Rule
    /// The heavy-ball velocity after the last layer (`nil` before the first, and for `plain` and
    /// `robust`).
    public private(set) var velocity: Tensor?
    /// The previous layer's input (robust momentum's `x_{t-1}`).
    public private(set) var previous: Tensor?
    /// MoE layers stepped so far in this forward pass.
    public private(set) var layer = 0

    public init(_ rule: Rule) { self.rule = rule }

    /// The next layer's combination of its input `h` and its MoE (see the type's table).
    public mutating func step(_ h: Tensor, _ moe: (Tensor) -> Tensor) -> Tensor {
        defer { layer += 1 }
        switch rule {
        case .plain:
            return h + moe(h)
        case .heavyBall(let mu, let gamma):
            return heavyBall(h, moe(h), mu: mu, gamma: gamma)
        case .adam(let beta1, let beta2, let gamma, let mu, let heavyBallGamma, let epsilon):
            let f = moe(h)
            guard layer == 0 else { return heavyBall(h, f, mu: mu, gamma: heavyBallGamma) }
            velocity = f * heavyBallGamma
            return -Self.adamFirstLayer(f, beta1: beta1, beta2: beta2, gamma: gamma, epsilon: epsilon)
        case .robust(let robust):
            let last = previous ?? h
            previous = h
            let difference = h - last
            let f = moe(h + difference * Float(robust.gamma))
            return h + difference * Float(robust.beta) - f * Float(robust.alpha)
        }
    }

    private mutating func heavyBall(_ h: Tensor, _ f: Tensor, mu: Float, gamma: Float) -> Tensor {
        let m = velocity.map { $0 * mu + f * gamma } ?? f * gamma
        velocity = m
        return h - m
    }

    /// AdamSMoE's layer-0 transform from zero state: `a = γ1 p / sqrt(v + ε)` with
    /// `p = (1 - β1) f`, `v = (1 - β2) f²` (spec 2.6, pitfall P5: ε inside the root, 1e-8 in the code).
    public static func adamFirstLayer(
        _ f: Tensor, beta1: Float, beta2: Float, gamma: Float, epsilon: Float = 1e-8
    ) -> Tensor {
        let p = f * (1 - beta1)
        let v = f * f * (1 - beta2)
        return p * gamma / (v + epsilon).squareRoot()
    }
}

/// The Robust Momentum Method's coefficients (Cyrus, Hu, Van Scoy & Lessard, ACC 2018) from the
/// smoothness `L`, the condition ratio `κ > 1` and the robustness `ρ ∈ [1 - 1/sqrt(κ), 1 - 1/κ]`:
/// `α = κ (1-ρ)² (1+ρ) / L`, `β = κ ρ³ / (κ - 1)`, `γ = ρ³ / ((κ - 1)(1-ρ)²(1+ρ))`. On every 1-D
/// quadratic with curvature in `[L/κ, L]` the iteration contracts at rate `ρ`.
public struct RobustMomentum: Equatable, Sendable {
    public let smoothness: Double, conditionRatio: Double, robustness: Double
    public let alpha: Double, beta: Double, gamma: Double

    /// Throws outside the guarantee's range (pitfall P9).
    public init(smoothness: Double = 1, conditionRatio: Double = 4, robustness: Double = 0.6) throws {
        let range = Self.robustnessRange(conditionRatio: conditionRatio)
        guard smoothness > 0, conditionRatio > 1, range.contains(robustness) else {
            throw TensorError.invalidArgument(
                op: "RobustMomentum",
                detail:
                    "needs L > 0, kappa > 1 and rho in [1 - 1/sqrt(kappa), 1 - 1/kappa] = [\(range.lowerBound), \(range.upperBound)], got L \(smoothness), kappa \(conditionRatio), rho \(robustness)"
            )
        }
        (self.smoothness, self.conditionRatio, self.robustness) = (smoothness, conditionRatio, robustness)
        let (k, r) = (conditionRatio, robustness)
        alpha = k * (1 - r) * (1 - r) * (1 + r) / smoothness
        beta = k * r * r * r / (k - 1)
        gamma = r * r * r / ((k - 1) * (1 - r) * (1 - r) * (1 + r))
    }

    /// `[1 - 1/sqrt(κ), 1 - 1/κ]`: from the accelerated rate to the gradient method's.
    public static func robustnessRange(conditionRatio: Double) -> ClosedRange<Double> {
        (1 - 1 / conditionRatio.squareRoot())...(1 - 1 / conditionRatio)
    }

    /// The spectral radius of the iteration on `f(x) = h x`: the larger root modulus of
    /// `z² - (1 + β - α h (1 + γ)) z + (β - α h γ)`.
    public func spectralRadius(curvature h: Double) -> Double {
        let b = 1 + beta - alpha * h * (1 + gamma), c = beta - alpha * h * gamma
        let discriminant = b * b - 4 * c
        guard discriminant >= 0 else { return c.squareRoot() }
        let root = discriminant.squareRoot()
        return Swift.max(Swift.abs((b + root) / 2), Swift.abs((b - root) / 2))
    }
}
