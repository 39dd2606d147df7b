import Foundation

/// A learning-rate schedule: the factor that multiplies a group's base learning rate at optimizer
/// step `k` (k = 0 for the first update), a pure function of the step. The indexing is PyTorch's
/// and optax's (`shared/papers/classic-momentum.md`, section 2.6): `factor(k)` is used by the
/// k-th call of `step()`.
public indirect enum Schedule: Equatable, Sendable {
    case constant
    /// `gamma^(k / every)` (PyTorch's `StepLR`, in optimizer steps).
    case stepDecay(every: Int, gamma: Double)
    /// `start + (1 - start) * min(k, W) / W` (PyTorch's `LinearLR` with `end_factor = 1`).
    case linearWarmup(steps: Int, startFactor: Double)
    /// `end + (1 - end) * (1 + cos(pi * k' / T)) / 2`, with `k' = min(k, T)` (optax, clamped) or
    /// `k' = k` (PyTorch's `CosineAnnealingLR`, periodic past `T`).
    case cosine(steps: Int, endFactor: Double, periodic: Bool)
    /// The project's canonical schedule (optax's `warmup_cosine_decay_schedule`): linear from
    /// `start` to 1 over `W` steps, cosine from 1 to `end` until step `T` (warmup included), `end` after.
    case linearWarmupCosine(warmup: Int, total: Int, endFactor: Double, startFactor: Double)
    /// Warmup-stable-decay: linear warmup over `W`, constant for `stable` steps, then linear decay
    /// to `end` over `decay` steps, `end` after.
    case warmupStableDecay(warmup: Int, stable: Int, decay: Int, endFactor: Double)
    /// `end + (1 - end) * (1 - min(k, T) / T)^power` (PyTorch's `PolynomialLR` with an end factor).
    case polynomial(steps: Int, power: Double, endFactor: Double)
    /// `schedules[i]` from `milestones[i - 1]` on, restarted at 0 there (PyTorch's `SequentialLR`).
    case sequence([Schedule], milestones: [Int])

    /// The factor for step `k`.
    public func factor(at k: Int) -> Double {
        switch self {
        case .constant: return 1
        case .stepDecay(let every, let gamma): return Foundation.pow(gamma, Double(k / every))
        case .linearWarmup(let steps, let start):
            return start + (1 - start) * Double(Swift.min(k, steps)) / Double(steps)
        case .cosine(let steps, let end, let periodic):
            let t = periodic ? Double(k) : Double(Swift.min(k, steps))
            return end + (1 - end) * 0.5 * (1 + cos(Double.pi * t / Double(steps)))
        case .linearWarmupCosine(let warmup, let total, let end, let start):
            if k < warmup { return start + (1 - start) * Double(k) / Double(warmup) }
            if k <= total {
                return end + (1 - end) * 0.5 * (1 + cos(Double.pi * Double(k - warmup) / Double(total - warmup)))
            }
            return end
        case .warmupStableDecay(let warmup, let stable, let decay, let end):
            if k < warmup { return Double(k + 1) / Double(warmup) }
            if k < warmup + stable { return 1 }
            let d = Swift.min(k - warmup - stable, decay)
            return 1 - (1 - end) * Double(d) / Double(Swift.max(decay, 1))
        case .polynomial(let steps, let power, let end):
            return end + (1 - end) * Foundation.pow(1 - Double(Swift.min(k, steps)) / Double(steps), power)
        case .sequence(let schedules, let milestones):
            var index = 0
            while index < milestones.count && k >= milestones[index] { index += 1 }
            let offset = index == 0 ? 0 : milestones[index - 1]
            return schedules[index].factor(at: k - offset)
        }
    }

    /// Checks the schedule's arguments.
    public func validate() throws {
        func bad(_ detail: String) -> OptimizerError { .invalidHyperparameter(optimizer: "schedule", detail: detail) }
        switch self {
        case .constant: return
        case .stepDecay(let every, let gamma):
            guard every > 0, gamma > 0 else {
                throw bad("step decay needs every > 0 and gamma > 0, got \(every), \(gamma)")
            }
        case .linearWarmup(let steps, let start):
            guard steps > 0, start > 0, start <= 1 else {
                throw bad("linear warmup needs steps > 0 and a start factor in (0, 1], got \(steps), \(start)")
            }
        case .cosine(let steps, _, _):
            guard steps > 0 else { throw bad("cosine needs steps > 0, got \(steps)") }
        case .linearWarmupCosine(let warmup, let total, _, let start):
            guard warmup >= 0, total > warmup, start >= 0 else {
                throw bad(
                    "warmup-cosine needs 0 <= warmup < total and start >= 0, got warmup \(warmup), total \(total)")
            }
        case .warmupStableDecay(let warmup, let stable, let decay, _):
            guard warmup > 0, stable >= 0, decay >= 0 else {
                throw bad("warmup-stable-decay needs warmup > 0, stable, decay >= 0")
            }
        case .polynomial(let steps, let power, _):
            guard steps > 0, power > 0 else { throw bad("polynomial needs steps > 0 and power > 0") }
        case .sequence(let schedules, let milestones):
            guard schedules.count == milestones.count + 1, milestones == milestones.sorted(),
                milestones.allSatisfy({ $0 > 0 })
            else {
                throw bad("a sequence of n schedules needs n - 1 increasing positive milestones")
            }
            for s in schedules { try s.validate() }
        }
    }
}
