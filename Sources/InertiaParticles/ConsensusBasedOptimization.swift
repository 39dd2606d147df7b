import Foundation
import InertiaTensor

/// Consensus-based optimization (R. Pinnau, C. Totzeck, O. Tse, S. Martin, 2017; anisotropic noise:
/// J. A. Carrillo, S. Jin, L. Li, Y. Zhu, 2021; read as a stochastic relaxation of gradient descent
/// by K. Riedl, T. Klock, C. Geldhauser, M. Fornasier, arXiv 2306.09778), as CBXpy implements it
/// (`shared/papers/consensus-based-optimization.md` 2.3–2.4). Derivative-free: N particles are
/// pulled toward the Laplace-weighted consensus `v = Σ softmax(−αf)_i X^i` and shaken by noise
/// proportional to their distance from it:
///
///     X^i ← X^i − λ·dt·(X^i − v) + σ·√dt·D(X^i − v)·ξ^i,   D = ‖·‖₂ I (isotropic) or diag (anisotropic)
///
/// Weights come from log-sum-exp (α reaches 1e5); a non-finite energy gets weight 0. Float64.
public struct ConsensusBasedOptimization: Sendable {
    /// The diffusion term: isotropic (one scale for all coordinates) or anisotropic (per coordinate).
    public enum Noise: String, Sendable, CaseIterable { case isotropic, anisotropic }

    /// How α changes from step to step.
    public enum AlphaSchedule: Sendable, Equatable {
        case constant
        /// `α ← min(α·factor, maximum)` after every step (CBXpy's `optimize()` default: 1.05, 1e5).
        case multiply(factor: Double, maximum: Double)
    }

    public var particles = 20
    public var dt = 0.01
    public var lambda = 1.0
    public var sigma = 5.1
    public var alpha = 1.0
    public var noise = Noise.anisotropic
    public var schedule = AlphaSchedule.multiply(factor: 1.05, maximum: 1e5)
    /// Stop after this many steps.
    public var maxIterations = 1000
    /// Stop when the best energy is at most this.
    public var energyTolerance: Double?
    /// Stop after this many function evaluations.
    public var maxEvaluations: Int?
    /// Stop after this many seconds.
    public var maxSeconds: Double?
    /// Stop when the consensus moved less than `tolerance` (∞-norm) over the last `steps` steps.
    public var stagnation: (steps: Int, tolerance: Double)?
    /// Keep the consensus and best energy of every step.
    public var recordsHistory = false

    public init(
        particles: Int = 20, dt: Double = 0.01, lambda: Double = 1, sigma: Double = 5.1, alpha: Double = 1,
        noise: Noise = .anisotropic, schedule: AlphaSchedule = .multiply(factor: 1.05, maximum: 1e5),
        maxIterations: Int = 1000
    ) {
        self.particles = particles
        self.dt = dt
        self.lambda = lambda
        self.sigma = sigma
        self.alpha = alpha
        self.noise = noise
        self.schedule = schedule
        self.maxIterations = maxIterations
    }

    /// The Laplace weights `softmax(−α·E)` (non-finite energies get 0) and the consensus `Σ w_i X^i`.
    public static func consensus(
        _ x: Matrix64, energies: [Double], alpha: Double
    ) -> (weights: [Double], point: [Double]) {
        precondition(energies.count == x.rows, "CBO: \(energies.count) energies for \(x.rows) particles")
        let scores = energies.map { $0.isFinite ? -alpha * $0 : -Double.infinity }
        let largest = scores.max() ?? -.infinity
        var weights: [Double]
        if largest == -.infinity {
            weights = [Double](repeating: 1 / Double(x.rows), count: x.rows)
        } else {
            let shifted = scores.map { Foundation.exp($0 - largest) }
            let total = shifted.reduce(0, +)
            weights = shifted.map { $0 / total }
        }
        var point = [Double](repeating: 0, count: x.columns)
        for i in 0..<x.rows where weights[i] != 0 {
            for k in 0..<x.columns { point[k] += weights[i] * x[i, k] }
        }
        return (weights, point)
    }

    /// One CBO step from positions `x` with their `energies`, standard normal draws `xi` (same
    /// shape as `x`), returning the new positions and the consensus used.
    public func step(
        _ x: Matrix64, energies: [Double], alpha: Double, draws xi: Matrix64
    ) -> (next: Matrix64, consensus: [Double]) {
        precondition(
            xi.rows == x.rows && xi.columns == x.columns,
            "CBO: draws \(xi.rows)x\(xi.columns) for particles \(x.rows)x\(x.columns)")
        let (_, v) = Self.consensus(x, energies: energies, alpha: alpha)
        var next = x
        let root = dt.squareRoot(), d = x.columns, isotropic = noise == .isotropic
        let pull = lambda * dt, kick = sigma * root
        next.scalars.withUnsafeMutableBufferPointer { out in
            x.scalars.withUnsafeBufferPointer { position in
                xi.scalars.withUnsafeBufferPointer { draws in
                    v.withUnsafeBufferPointer { center in
                        for i in 0..<x.rows {
                            let row = i * d
                            var distance = 0.0
                            if isotropic {
                                for k in 0..<d {
                                    distance += (position[row + k] - center[k]) * (position[row + k] - center[k])
                                }
                                distance = distance.squareRoot()
                            }
                            for k in 0..<d {
                                let drift = position[row + k] - center[k]
                                out[row + k] =
                                    position[row + k] - pull * drift + kick * (isotropic ? distance : drift)
                                    * draws[row + k]
                            }
                        }
                    }
                }
            }
        }
        return (next, v)
    }

    /// What a run returns.
    public struct Result: Sendable {
        /// The consensus of the final positions (recomputed with fresh energies): the literature's answer.
        public var consensus: [Double]
        public var consensusEnergy: Double
        /// The lowest-energy position evaluated (CBXpy's answer).
        public var best: [Double]
        public var bestEnergy: Double
        public var iterations: Int
        public var evaluations: Int
        /// Why it stopped: "max iterations", "energy tolerance", "max evaluations", "time", "stagnation".
        public var stopReason: String
        /// Per step (with `recordsHistory`): the consensus and the best energy so far.
        public var consensusHistory: [[Double]]
        public var bestEnergyHistory: [Double]
    }

    /// Minimizes `f` from initial positions `start` (N×d), drawing noise from `rng`.
    public func minimize(_ f: ([Double]) -> Double, from start: Matrix64, using rng: inout PhiloxGenerator) -> Result {
        minimize(
            batch: { x in (0..<x.rows).map { i in f(Array(x.scalars[(i * x.columns)..<((i + 1) * x.columns)])) } },
            point: f, from: start, using: &rng)
    }

    /// Minimizes a benchmark function, evaluated row by row without copying the particles.
    public func minimize(
        _ function: BenchmarkFunction, shift: [Double]? = nil, from start: Matrix64, using rng: inout PhiloxGenerator
    ) -> Result {
        minimize(
            batch: { function.values(rowsOf: $0, shift: shift) }, point: { function($0, shift: shift) }, from: start,
            using: &rng)
    }

    /// The loop, with the energies of all particles at once (`batch`) and of the consensus (`point`).
    func minimize(
        batch: (Matrix64) -> [Double], point f: ([Double]) -> Double, from start: Matrix64,
        using rng: inout PhiloxGenerator
    ) -> Result {
        var x = start, alpha = self.alpha
        var best = [Double](repeating: .nan, count: x.columns), bestEnergy = Double.infinity
        var evaluations = 0, iterations = 0, stopReason = "max iterations"
        var consensusHistory: [[Double]] = [], bestHistory: [Double] = [], recent: [[Double]] = []
        let started = DispatchTime.now().uptimeNanoseconds
        func energies(_ x: Matrix64) -> [Double] {
            evaluations += x.rows
            return batch(x)
        }
        while iterations < maxIterations {
            let e = energies(x)
            if let i = e.indices.filter({ e[$0].isFinite }).min(by: { e[$0] < e[$1] }), e[i] < bestEnergy {
                bestEnergy = e[i]
                best = Array(x.scalars[(i * x.columns)..<((i + 1) * x.columns)])
            }
            var xi = Matrix64(rows: x.rows, columns: x.columns)
            xi.scalars.withUnsafeMutableBufferPointer { ZigguratNormal.fill($0, using: &rng) }
            let (next, v) = step(x, energies: e, alpha: alpha, draws: xi)
            x = next
            iterations += 1
            if case .multiply(let factor, let maximum) = schedule { alpha = Swift.min(alpha * factor, maximum) }
            if recordsHistory {
                consensusHistory.append(v)
                bestHistory.append(bestEnergy)
            }
            if let tolerance = energyTolerance, bestEnergy <= tolerance {
                stopReason = "energy tolerance"
                break
            }
            if let limit = maxEvaluations, evaluations + x.rows > limit {
                stopReason = "max evaluations"
                break
            }
            if let limit = maxSeconds, Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9 > limit {
                stopReason = "time"
                break
            }
            if let (steps, tolerance) = stagnation {
                recent.append(v)
                if recent.count > steps + 1 { recent.removeFirst() }
                if recent.count == steps + 1,
                    zip(recent.first!, recent.last!).allSatisfy({ Swift.abs($0 - $1) < tolerance })
                {
                    stopReason = "stagnation"
                    break
                }
            }
        }
        let e = energies(x)
        let (_, v) = Self.consensus(x, energies: e, alpha: alpha)
        if let i = e.indices.filter({ e[$0].isFinite }).min(by: { e[$0] < e[$1] }), e[i] < bestEnergy {
            bestEnergy = e[i]
            best = Array(x.scalars[(i * x.columns)..<((i + 1) * x.columns)])
        }
        evaluations += 1
        return Result(
            consensus: v, consensusEnergy: f(v), best: best, bestEnergy: bestEnergy, iterations: iterations,
            evaluations: evaluations,
            stopReason: stopReason, consensusHistory: consensusHistory, bestEnergyHistory: bestHistory)
    }

    /// Particles uniform in `[low, high]^d` (CBXpy's default start is `[-1, 1]^d`).
    public func uniformStart(
        dimension: Int, low: Double = -1, high: Double = 1, using rng: inout PhiloxGenerator
    ) -> Matrix64 {
        Matrix64(
            rows: particles, columns: dimension,
            scalars: (0..<(particles * dimension)).map { _ in low + (high - low) * rng.nextDouble() })
    }

    /// `runs` independent runs (CBXpy's `M`), run `r` from the generator seeded `seed + r`, in
    /// parallel; the results, and the fraction whose answer (`useBest`: the best particle, as
    /// CBXpy; else the final consensus, as the literature) lies within `tolerance` (∞-norm) of `minimiser`.
    public func ensemble(
        _ run: @escaping (Matrix64, inout PhiloxGenerator) -> Result, dimension: Int, runs: Int, seed: UInt64,
        low: Double = -1, high: Double = 1, minimiser: [Double], tolerance: Double = 0.25, useBest: Bool = false
    )
        -> (results: [Result], successRate: Double)
    {
        var results = [Result?](repeating: nil, count: runs)
        results.withUnsafeMutableBufferPointer { out in
            Parallel.forEachRange(count: runs, grain: 1) { range in
                for r in range {
                    var rng = PhiloxGenerator(seed: seed &+ UInt64(r))
                    let start = uniformStart(dimension: dimension, low: low, high: high, using: &rng)
                    out[r] = run(start, &rng)
                }
            }
        }
        let all = results.map { $0! }
        let successes = all.filter { r in
            zip(useBest ? r.best : r.consensus, minimiser).allSatisfy { Swift.abs($0 - $1) < tolerance }
        }.count
        return (all, Double(successes) / Double(Swift.max(runs, 1)))
    }

    /// `ensemble` of a closure objective.
    public func ensemble(
        _ f: @escaping ([Double]) -> Double, dimension: Int, runs: Int, seed: UInt64, low: Double = -1,
        high: Double = 1,
        minimiser: [Double], tolerance: Double = 0.25, useBest: Bool = false
    ) -> (results: [Result], successRate: Double) {
        ensemble(
            { start, rng in minimize(f, from: start, using: &rng) }, dimension: dimension, runs: runs, seed: seed,
            low: low, high: high,
            minimiser: minimiser, tolerance: tolerance, useBest: useBest)
    }

    /// `ensemble` of a benchmark function.
    public func ensemble(
        _ function: BenchmarkFunction, shift: [Double]? = nil, dimension: Int, runs: Int, seed: UInt64,
        low: Double = -1,
        high: Double = 1, tolerance: Double = 0.25, useBest: Bool = false
    ) -> (results: [Result], successRate: Double) {
        ensemble(
            { start, rng in minimize(function, shift: shift, from: start, using: &rng) }, dimension: dimension,
            runs: runs, seed: seed,
            low: low, high: high, minimiser: function.minimiser(dimension: dimension, shift: shift),
            tolerance: tolerance, useBest: useBest)
    }
}
