import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// Expensive multi-objective optimisation by Pareto set learning with Stein variational
/// hypernetworks, SVH-PSL (M.-D. Nguyen, P. M. Dinh, Q.-H. Nguyen, L. P. Hoang, D. D. Le,
/// "Improving Pareto Set Learning for Expensive Multi-objective Optimization via Stein Variational
/// Hypernetworks", AAAI 2025; `shared/papers/svh-psl.md` 2.2–2.4, the code's semantics).
///
/// Each outer iteration fits one Gaussian process per objective to the evaluated points, trains a
/// fresh hypernetwork `h_θ: preference p ∈ simplex → x ∈ (0, 1)^n` on the GPs' lower confidence
/// bounds `V = μ − c·var`, then evaluates the true objectives at a batch of its solutions chosen by
/// greedy hypervolume improvement. The Stein step treats the solutions of one batch of preferences
/// as particles: per-particle Tchebycheff gradients, normalised per parameter across particles,
/// are mixed by a local RBF kernel on the particles' LCB values along each one's active objective,
/// and the kernel's own gradient (weight `repulsion`) pushes the particles apart. With
/// `kernel: .none` the same pipeline is PSL-MOBO (the baseline of the spec's section 5).
public struct ParetoSetLearning {
    /// How the particles of one step interact.
    public enum Kernel: Sendable, Equatable {
        /// The code's local kernel `K[a, b] = exp(−(V_a,j − V_b,j)²/h_j)` with `j` the active
        /// objective of particle b, plus `repulsion · ∇Σ K`.
        case localStein(repulsion: Double, bandwidthScale: Double, bandwidth: BandwidthRule)
        /// No interaction (`K = I`, no repulsion): PSL-MOBO.
        case none
    }

    /// The local kernel's bandwidth per objective, from the detached LCB values of the step.
    public enum BandwidthRule: Sendable, Equatable {
        /// The code: `h_j = c · median(D_j)² / log K`, `D_j` the squared differences (diagonal
        /// zeros included), `5e-6` when the median is zero.
        case code
        /// The textbook rule: `h_j = c · median(√D_j)² / log K`, `1` when the median is zero.
        case textbook
    }

    /// The scalarisation each particle descends.
    public enum Scalarization: Sendable, Equatable {
        /// SVH's code: `max_j p_j (V_j − z_j)`.
        case weightedTchebycheff
        /// The PSL-MOBO script: `max_j (V_j − z_j)/p_j + 0.01 Σ_j V_j`.
        case inverseTchebycheff

        /// The loss, its derivative in `V` and the active objective.
        public func loss(
            value: [Double], preference: [Double], ideal: [Double]
        ) -> (loss: Double, gradient: [Double], active: Int) {
            let terms = value.indices.map { j -> Double in
                self == .weightedTchebycheff
                    ? preference[j] * (value[j] - ideal[j]) : (value[j] - ideal[j]) / preference[j]
            }
            let active = terms.indices.max { terms[$0] < terms[$1] }!
            var gradient = [Double](repeating: self == .weightedTchebycheff ? 0 : 0.01, count: value.count)
            gradient[active] += self == .weightedTchebycheff ? preference[active] : 1 / preference[active]
            let extra = self == .weightedTchebycheff ? 0 : 0.01 * value.reduce(0, +)
            return (terms[active] + extra, gradient, active)
        }
    }

    /// The budget and the model: initial design, iterations, batch, hypernetwork steps and width, kernel.
    public struct Configuration: Sendable {
        /// Latin-hypercube points evaluated before the first iteration.
        public var initialSamples = 20
        public var iterations = 20
        /// New expensive evaluations per iteration.
        public var batchSize = 5
        /// Hypernetwork steps per iteration.
        public var steps = 1000
        public var hiddenWidth = 256
        public var learningRate = 1e-3
        /// Preferences (particles) per step, K.
        public var preferencesPerStep = 10
        public var candidates = 1000
        /// Test preferences per objective for the best-parameters checkpoint (`× objectives`).
        public var testPreferencesPerObjective = 100
        public var lcbCoefficient = 0.1
        /// The paper's `μ − c·σ`; the code (default) uses the variance.
        public var lcbUsesStandardDeviation = false
        public var kernel = Kernel.localStein(repulsion: 1e-3, bandwidthScale: 1, bandwidth: .code)
        public var scalarization = Scalarization.weightedTchebycheff
        /// The code's `normalize(grad, dim=0)` of the per-particle gradients.
        public var normalizesParticleGradients = true
        /// Standardise each objective before fitting the GPs (the code does for all but ZDT).
        public var standardizesObjectives = false
        public var gaussianProcessIterations = 300
        public var gaussianProcessLearningRate = 0.5

        /// The reference code's defaults (spec 2.2).
        public init() {}

        /// The spec's laptop-scale protocol (section 5): 10 + 8 × 4 evaluations, width 64,
        /// 300 steps of K = 8, 200 candidates, GP fits of 100 steps at lr 0.1.
        public static var laptop: Configuration {
            var c = Configuration()
            c.initialSamples = 10
            c.iterations = 8
            c.batchSize = 4
            c.steps = 300
            c.hiddenWidth = 64
            c.preferencesPerStep = 8
            c.candidates = 200
            c.gaussianProcessIterations = 100
            c.gaussianProcessLearningRate = 0.1
            return c
        }
    }

    /// A problem on `[0, 1]^variables` with `objectives` values to minimise.
    public struct Problem {
        public var variables: Int
        public var objectives: Int
        /// The fixed reference point that reported hypervolumes use.
        public var reference: [Double]
        public var evaluate: ([Double]) -> [Double]

        public init(variables: Int, objectives: Int, reference: [Double], evaluate: @escaping ([Double]) -> [Double]) {
            precondition(
                reference.count == objectives,
                "ParetoSetLearning.Problem: reference of \(reference.count) values for \(objectives) objectives")
            self.variables = variables
            self.objectives = objectives
            self.reference = reference
            self.evaluate = evaluate
        }

        public static func zdt(
            _ problem: MultiObjective.ZDT, variables: Int, reference: [Double] = [1.1, 1.1]
        ) -> Problem {
            Problem(variables: variables, objectives: 2, reference: reference) { x in
                let (f1, f2) = MultiObjective.zdt(problem, x)
                return [f1, f2]
            }
        }
    }

    /// Every evaluated point, its objective values, the hypervolume after each iteration and the trained set
    /// model.
    public struct Result {
        /// Every evaluated point (rows) and its objective values, initial design first.
        public var inputs: Matrix64
        public var values: [[Double]]
        /// The hypervolume of the evaluated values w.r.t. the problem's reference after the initial
        /// design and after each iteration.
        public var hypervolumes: [Double]
        /// The last iteration's hypernetwork (the best checkpoint): `model(preferences)` is the
        /// learned Pareto set.
        public var model: ParetoSetModel
    }

    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Runs the whole loop on `problem` with the given seed; `onIteration(i, hypervolume)` after
    /// each iteration may return `false` to stop early.
    public func run(
        _ problem: Problem, seed: UInt64, onIteration: (Int, Double) -> Bool = { _, _ in true }
    ) throws -> Result {
        let c = configuration, m = problem.objectives, n = problem.variables
        var rng = PhiloxGenerator(seed: seed)
        var inputs = Self.latinHypercube(c.initialSamples, n, using: &rng)
        var values = (0..<inputs.rows).map { i in problem.evaluate(Array(inputs.scalars[(i * n)..<((i + 1) * n)])) }
        var hypervolumes = [MultiObjective.hypervolume(values, reference: problem.reference)]
        var ideal = [Double](repeating: 0, count: m)
        let tests = Self.simplexLattice(objectives: m, atLeast: c.testPreferencesPerObjective * m)
        var model = ParetoSetModel(preferences: m, variables: n, hiddenWidth: c.hiddenWidth, using: &rng)
        for iteration in 0..<c.iterations {
            let scaled = c.standardizesObjectives ? Self.standardized(values) : values
            let surrogate = try Surrogate(inputs: inputs, values: scaled, configuration: c)
            for j in 0..<m { ideal[j] = Swift.min(ideal[j], scaled.map { $0[j] }.min()! - 0.1) }
            let front = MultiObjective.nondominatedIndices(scaled).map { scaled[$0] }
            model = ParetoSetModel(preferences: m, variables: n, hiddenWidth: c.hiddenWidth, using: &rng)
            try train(model, surrogate: surrogate, ideal: ideal, front: front, tests: tests, using: &rng)
            let picks = selectBatch(model, surrogate: surrogate, front: front, using: &rng)
            for x in picks {
                inputs = Matrix64(rows: inputs.rows + 1, columns: n, scalars: inputs.scalars + x)
                values.append(problem.evaluate(x))
            }
            hypervolumes.append(MultiObjective.hypervolume(values, reference: problem.reference))
            if !onIteration(iteration, hypervolumes.last!) { break }
        }
        return Result(inputs: inputs, values: values, hypervolumes: hypervolumes, model: model)
    }

    /// Trains `model` for the configured steps (fresh Adam), keeping the parameters whose LCB
    /// predictions on the test preferences have the largest hypervolume (reference: the
    /// element-wise max of `front` and the predictions).
    func train(
        _ model: ParetoSetModel, surrogate: Surrogate, ideal: [Double], front: [[Double]], tests: Matrix64,
        using rng: inout PhiloxGenerator
    ) throws {
        let c = configuration
        let adam = try Adam(learningRate: c.learningRate)
        let parameters = model.namedParameters()
        var best = -Double.infinity, bestState = parameters.map { $0.parameter.value.scalars }
        for _ in 0..<c.steps {
            let preferences = Self.dirichlet(c.preferencesPerStep, model.preferenceCount, using: &rng)
            let gradient = steinGradient(model, surrogate: surrogate, ideal: ideal, preferences: preferences)
            var offset = 0
            for (_, parameter) in parameters {
                let count = parameter.value.count
                parameter.value.grad = Tensor(
                    shape: parameter.shape, scalars: Array(gradient[offset..<(offset + count)]))
                offset += count
            }
            adam.step(parameters)
            let predicted = surrogate.lowerConfidenceBound(model.solutions(tests), gradients: false).values
            let reference = (0..<model.preferenceCount).map { j in (front + predicted).map { $0[j] }.max()! }
            let volume = MultiObjective.hypervolume(predicted, reference: reference)
            if volume > best {
                best = volume
                bestState = parameters.map { $0.parameter.value.scalars }
            }
        }
        for ((_, parameter), state) in zip(parameters, bestState) {
            parameter.assign(Tensor(shape: parameter.shape, scalars: state))
        }
    }

    /// One step's gradient of all hypernetwork parameters, flattened in `namedParameters` order:
    /// `(Σ_k w_k G_k + repulsion · ∇Σ_ab K_ab) / K`, `G_k` particle k's (normalised) Tchebycheff
    /// gradient and `w_k = Σ_a K_ak` (spec 2.3: the rows of `Φ` summed).
    func steinGradient(_ model: ParetoSetModel, surrogate: Surrogate, ideal: [Double], preferences: Matrix64) -> [Float]
    {
        let c = configuration, k = preferences.rows, m = model.preferenceCount, n = model.variableCount
        let parameters = model.parameters
        let dimension = parameters.reduce(0) { $0 + $1.value.count }
        let solutions = model(preferences.tensor)
        let lcb = surrogate.lowerConfidenceBound(Matrix64(solutions), gradients: true)
        // The gradient in θ of Σ_i seed_i · x_i, flattened.
        func backpropagate(_ seed: [Double]) -> [Float] {
            model.zeroGradients()
            solutions.backward(Tensor(shape: [k, n], scalars: seed.map(Float.init)))
            return parameters.flatMap { $0.grad?.scalars ?? [Float](repeating: 0, count: $0.value.count) }
        }
        // Σ_j ∂L/∂V_aj · ∂V_aj/∂x_a as a seed over all solutions, for ∂L/∂V given per particle.
        func seed(_ valueGradient: [[Double]]) -> [Double] {
            var seed = [Double](repeating: 0, count: k * n)
            for a in 0..<k {
                for j in 0..<m where valueGradient[a][j] != 0 {
                    for i in 0..<n { seed[a * n + i] += valueGradient[a][j] * lcb.gradients[a][j][i] }
                }
            }
            return seed
        }
        var particleGradients = [[Float]](), active = [Int]()
        for a in 0..<k {
            let (_, gradient, activeObjective) = c.scalarization.loss(
                value: lcb.values[a], preference: (0..<m).map { preferences[a, $0] },
                ideal: ideal)
            active.append(activeObjective)
            var single = [[Double]](repeating: [Double](repeating: 0, count: m), count: k)
            single[a] = gradient
            particleGradients.append(backpropagate(seed(single)))
        }
        if c.normalizesParticleGradients {
            for q in 0..<dimension {
                let norm = Swift.max(particleGradients.reduce(Float(0)) { $0 + $1[q] * $1[q] }.squareRoot(), 1e-12)
                for a in 0..<k { particleGradients[a][q] /= norm }
            }
        }
        var weights = [Double](repeating: 1, count: k)
        var total = [Float](repeating: 0, count: dimension)
        if case .localStein(let repulsion, let scale, let rule) = c.kernel {
            let kernel = Self.localKernel(lcb.values, active: active, bandwidthScale: scale, rule: rule)
            weights = (0..<k).map { b in (0..<k).reduce(0) { $0 + kernel.matrix[$1][b] } }
            let repulsive = backpropagate(seed(kernel.sumGradient))
            for q in 0..<dimension { total[q] = Float(repulsion) * repulsive[q] }
        }
        for a in 0..<k {
            let w = Float(weights[a])
            for q in 0..<dimension { total[q] += w * particleGradients[a][q] }
        }
        return total.map { $0 / Float(k) }
    }

    /// The local kernel on LCB values (`values[a][j]`) and the gradient of the sum of its entries
    /// in those values (bandwidths held fixed, as the code detaches them).
    static func localKernel(
        _ values: [[Double]], active: [Int], bandwidthScale: Double, rule: BandwidthRule
    )
        -> (matrix: [[Double]], sumGradient: [[Double]], bandwidths: [Double])
    {
        let k = values.count, m = values[0].count
        let bandwidths = (0..<m).map { j -> Double in
            var squared: [Double] = []
            for a in 0..<k {
                for b in 0..<k { squared.append((values[a][j] - values[b][j]) * (values[a][j] - values[b][j])) }
            }
            return bandwidth(squaredDistances: squared, particles: k, scale: bandwidthScale, rule: rule)
        }
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        var gradient = [[Double]](repeating: [Double](repeating: 0, count: m), count: k)
        for a in 0..<k {
            for b in 0..<k {
                let j = active[b], h = bandwidths[j], difference = values[a][j] - values[b][j]
                let entry = Foundation.exp(-difference * difference / h)
                matrix[a][b] = entry
                gradient[a][j] -= 2 * difference / h * entry
                gradient[b][j] += 2 * difference / h * entry
            }
        }
        return (matrix, gradient, bandwidths)
    }

    /// A kernel bandwidth from all `particles²` squared pairwise distances (diagonal included).
    public static func bandwidth(
        squaredDistances: [Double], particles: Int, scale: Double, rule: BandwidthRule
    ) -> Double {
        switch rule {
        case .code:
            let median = numpyMedian(squaredDistances)
            return median == 0 ? 5e-6 : scale * median * median / Foundation.log(Double(particles))
        case .textbook:
            let median = numpyMedian(squaredDistances.map { $0.squareRoot() })
            return median == 0 ? 1 : scale * median * median / Foundation.log(Double(particles))
        }
    }

    /// Greedy hypervolume improvement over the model's solutions for random preferences, in the
    /// LCB space (already-picked candidates are not excluded, as in the code).
    func selectBatch(
        _ model: ParetoSetModel, surrogate: Surrogate, front: [[Double]], using rng: inout PhiloxGenerator
    ) -> [[Double]] {
        let c = configuration
        let candidates = model.solutions(Self.dirichlet(c.candidates, model.preferenceCount, using: &rng))
        let predicted = surrogate.lowerConfidenceBound(candidates, gradients: false).values
        var chosen = front, picks: [[Double]] = []
        for _ in 0..<c.batchSize {
            let reference = (0..<model.preferenceCount).map { j in (chosen + predicted).map { $0[j] }.max()! }
            var bestIndex = 0, bestVolume = -Double.infinity
            for (i, y) in predicted.enumerated() {
                let volume = MultiObjective.hypervolume(chosen + [y], reference: reference)
                if volume > bestVolume {
                    bestVolume = volume
                    bestIndex = i
                }
            }
            chosen.append(predicted[bestIndex])
            picks.append(
                Array(candidates.scalars[(bestIndex * candidates.columns)..<((bestIndex + 1) * candidates.columns)]))
        }
        return picks
    }

    /// The GPs of all objectives and their lower confidence bound.
    struct Surrogate {
        let processes: [GaussianProcess]
        let coefficient: Double
        let usesStandardDeviation: Bool

        init(inputs: Matrix64, values: [[Double]], configuration c: Configuration) throws {
            processes = try (0..<values[0].count).map { j in
                try GaussianProcess.fit(
                    inputs: inputs, targets: values.map { $0[j] }, iterations: c.gaussianProcessIterations,
                    learningRate: c.gaussianProcessLearningRate)
            }
            coefficient = c.lcbCoefficient
            usesStandardDeviation = c.lcbUsesStandardDeviation
        }

        /// `values[a][j]` at row a and, with `gradients`, `gradients[a][j]` in that row's inputs.
        func lowerConfidenceBound(_ x: Matrix64, gradients: Bool) -> (values: [[Double]], gradients: [[[Double]]]) {
            let predictions = processes.map { $0.predict(x, gradients: gradients) }
            var values = [[Double]](), derivatives = [[[Double]]]()
            for a in 0..<x.rows {
                values.append(
                    predictions.map { p in
                        p[a].mean - coefficient * (usesStandardDeviation ? p[a].variance.squareRoot() : p[a].variance)
                    })
                guard gradients else { continue }
                derivatives.append(
                    predictions.map { p in
                        let spread = usesStandardDeviation ? 0.5 / p[a].variance.squareRoot() : 1
                        return zip(p[a].meanGradient, p[a].varianceGradient).map { $0 - coefficient * spread * $1 }
                    })
            }
            return (values, derivatives)
        }
    }

    /// Each column shifted and scaled to mean 0 and standard deviation 1 (constant columns: shifted only).
    static func standardized(_ values: [[Double]]) -> [[Double]] {
        let count = Double(values.count)
        let means = values[0].indices.map { j in values.reduce(0) { $0 + $1[j] } / count }
        let deviations = values[0].indices.map { j in
            (values.reduce(0) { $0 + ($1[j] - means[j]) * ($1[j] - means[j]) } / count).squareRoot()
        }
        return values.map { row in
            row.indices.map { j in (row[j] - means[j]) / (deviations[j] > 0 ? deviations[j] : 1) }
        }
    }

    /// `count` points in `[0, 1]^dimension`, one in each of `count` equal strata per coordinate.
    public static func latinHypercube(_ count: Int, _ dimension: Int, using rng: inout PhiloxGenerator) -> Matrix64 {
        var points = Matrix64(rows: count, columns: dimension)
        for d in 0..<dimension {
            for (i, stratum) in rng.permutation(count).enumerated() {
                points[i, d] = (Double(stratum) + rng.nextDouble()) / Double(count)
            }
        }
        return points
    }

    /// `count` preferences from Dirichlet(1, …, 1), each entry then shifted by 1e-4 (the code's
    /// guard against zero weights).
    public static func dirichlet(_ count: Int, _ objectives: Int, using rng: inout PhiloxGenerator) -> Matrix64 {
        var result = Matrix64(rows: count, columns: objectives)
        for i in 0..<count {
            let draws = (0..<objectives).map { _ in -Foundation.log(1 - rng.nextDouble()) }
            let total = draws.reduce(0, +)
            for j in 0..<objectives { result[i, j] = draws[j] / total + 1e-4 }
        }
        return result
    }

    /// The evenly spaced preferences `{k/H : Σ k = H}` on the simplex with the smallest `H`
    /// giving at least `count` of them (Das–Dennis; the code's "energy" directions are a
    /// near-uniform set of the same size).
    public static func simplexLattice(objectives m: Int, atLeast count: Int) -> Matrix64 {
        func compositions(_ total: Int, _ parts: Int) -> [[Int]] {
            guard parts > 1 else { return [[total]] }
            return (0...total).flatMap { first in compositions(total - first, parts - 1).map { [first] + $0 } }
        }
        var h = 1
        while compositions(h, m).count < count { h += 1 }
        let points = compositions(h, m)
        return Matrix64(rows: points.count, columns: m, scalars: points.flatMap { $0.map { Double($0) / Double(h) } })
    }
}

/// SVH-PSL's hypernetwork: preferences `[B, m]` → `Linear → ReLU → Linear → ReLU → Linear →
/// sigmoid` → solutions `[B, n]` in `(0, 1)^n`.
public final class ParetoSetModel: Module {
    public let preferenceCount: Int
    public let variableCount: Int
    let body: Sequential

    public init(preferences: Int, variables: Int, hiddenWidth: Int, using rng: inout PhiloxGenerator) {
        preferenceCount = preferences
        variableCount = variables
        body = Sequential([
            Linear(preferences, hiddenWidth, using: &rng), Activation(.relu),
            Linear(hiddenWidth, hiddenWidth, using: &rng), Activation(.relu),
            Linear(hiddenWidth, variables, using: &rng), Activation(.sigmoid),
        ])
        super.init()
        register(body, as: "body")
    }

    public override func forward(_ input: Tensor) -> Tensor { body(input) }

    /// The solutions for the rows of `preferences`, without gradients, in Float64.
    public func solutions(_ preferences: Matrix64) -> Matrix64 {
        withoutGradients { Matrix64(self(preferences.tensor)) }
    }
}
