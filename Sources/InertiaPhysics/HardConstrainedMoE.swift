import Foundation
import InertiaNN
import InertiaOptim
import InertiaTensor

/// PI-HC-MoE on the 1-D Fisher-KPP problem (`shared/papers/hard-constraints-moe.md` 2 and 5;
/// Chalapathi, Du & Krishnapriyan, ICLR 2024, arXiv 2402.13412): a network maps the initial
/// condition to `N` basis fields on the `(t, x)` grid; a `HardConstraintLayer` per expert (a
/// contiguous block of x) finds the weights that make `B·w` satisfy the discretised PDE at `S`
/// sampled points of its block and the initial condition on its block, differentiated by the
/// implicit function theorem; the field is assembled block by block. The same network with one
/// field and no layer is the soft-constraint baseline (PI-SC), and one expert over the whole
/// grid the single hard-constrained model (PI-HC).
///
/// Basis `k` is separable, `B_k(t, x) = sum_r a_kr(t) b_kr(x)`: a space head maps each `x`'s
/// Fourier features, `u0(x)` and a latent code of `u0` to `b_kr(x)`, a time head maps `t` and
/// the code to `a_kr(t)` (section 5's first option). Its finite-difference derivatives come
/// from the factors (`D_t a` and `b D_xxᵀ`), exactly the differences of the assembled basis.
public final class HardConstrainedMoE: Module {
    /// How the PDE is imposed.
    public enum Constraint: Sendable, Equatable {
        /// PI-SC: one field, the residual only in the loss.
        case soft
        /// PI-HC (`experts = 1`) or PI-HC-MoE: `sampledPoints` PDE rows per expert.
        case hard(experts: Int, sampledPoints: Int)
    }

    public let problem: FisherKPP
    public let constraint: Constraint
    /// Fields the network outputs (1 for the soft constraint).
    public let basisCount: Int
    /// Separable terms per field.
    public let rank: Int
    public var layer: HardConstraintLayer
    /// Time spent in constraint solves and their backward passes.
    public let constraintClock = HardConstraintLayer.Clock()
    /// The training loss's form.
    public var lossForm: LossForm = .meanSquares
    /// Mean Levenberg-Marquardt iterations per problem in the last `field` call (0 without a constraint).
    public private(set) var lastSolverIterations = 0.0

    /// How the residual and initial-condition errors enter the loss.
    public enum LossForm: Sendable {
        /// Section 2.3 (the code's diffusion-sorption config): the residual's L2 norm over the grid
        /// (not squared) plus the IC error's norm divided by the IC's norm. On Fisher-KPP `u = 0`
        /// solves the PDE exactly, and this non-smooth norm makes it a local minimum that every
        /// variant falls into (measured: see the reproduction's notes).
        case codeNorms
        /// Mean squared residual over the grid plus mean squared IC error (the usual PINN loss).
        case meanSquares
    }

    let encoder: MLP
    let spaceFourier: Linear, spaceValue: Linear, spaceCode: Linear, spaceHead: MLP
    let timeInput: Linear, timeCode: Linear, timeHead: MLP
    let timeDerivative: Tensor, secondDerivativeTransposed: Tensor, fourier: Tensor, timeFeatures: Tensor

    /// `basisCount` fields (hard constraints; the soft constraint gets one field of rank
    /// `basisCount·rank`, the same number of separable terms), `width` hidden units per head;
    /// every constraint solve starts from `w = solverStart` (the code: 0, or 1 for
    /// diffusion-sorption; on Fisher-KPP `w = 0` is `u = 0`, an exact root of the residual rows).
    public init(
        problem: FisherKPP, constraint: Constraint, basisCount: Int = 8, rank: Int = 4, width: Int = 64,
        maxSolverSteps: Int = 20, solverStart: Double = 0, using rng: inout PhiloxGenerator
    ) {
        if case .hard(let experts, let sampled) = constraint {
            // Every expert's problem has the same rows (one solve over all of them), so the
            // blocks must be of equal width.
            validated(
                experts >= 1 && problem.points % experts == 0 && sampled >= 1
                    && sampled <= (problem.times - 1) * (problem.points / experts),
                "HardConstrainedMoE: \(experts) experts with \(sampled) points each do not fit a \(problem.times)x\(problem.points) grid (the experts must divide the \(problem.points) points)"
            )
        }
        self.problem = problem
        self.constraint = constraint
        self.basisCount = constraint == .soft ? 1 : basisCount
        self.rank = constraint == .soft ? basisCount * rank : rank
        let terms = basisCount * rank, code = 32
        encoder = MLP(sizes: [problem.points, width, code], activation: .tanh, using: &rng)
        spaceFourier = Linear(4, width, using: &rng)
        spaceValue = Linear(1, width, bias: false, using: &rng)
        spaceCode = Linear(code, width, bias: false, using: &rng)
        spaceHead = MLP(sizes: [width, width, terms], activation: .tanh, using: &rng)
        timeInput = Linear(1, width, using: &rng)
        timeCode = Linear(code, width, bias: false, using: &rng)
        timeHead = MLP(sizes: [width, width, terms], activation: .tanh, using: &rng)
        // The residual's rows (form 0) and the initial condition's (form 1); the code's ridge rows
        // 1e-4·w are the penalty 0.5·1e-8·||w||².
        layer = HardConstraintLayer(
            forms: [problem.residualForm, .linear], ridge: 1e-8, maxSteps: maxSolverSteps, start: solverStart)
        timeDerivative = problem.timeDerivative.tensor
        secondDerivativeTransposed = problem.secondDerivative.transposed.tensor
        fourier = Tensor(
            shape: [problem.points, 4],
            scalars: problem.positions.flatMap { x -> [Float] in
                let angle = 2 * Double.pi * x
                return [
                    Foundation.sin(angle), Foundation.cos(angle), Foundation.sin(2 * angle), Foundation.cos(2 * angle),
                ]
                .map(Float.init)
            })
        timeFeatures = Tensor(
            shape: [problem.times, 1], scalars: problem.gridTimes.map { Float($0 / problem.duration) })
        super.init()
        register(encoder, as: "encoder")
        register(spaceFourier, as: "space_fourier")
        register(spaceValue, as: "space_value")
        register(spaceCode, as: "space_code")
        register(spaceHead, as: "space_head")
        register(timeInput, as: "time_input")
        register(timeCode, as: "time_code")
        register(timeHead, as: "time_head")
    }

    /// Contiguous blocks of `count` indices, `parts` of them, sizes differing by at most one (the
    /// code's equal splits).
    public static func partition(_ count: Int, parts: Int) -> [Range<Int>] {
        let base = count / parts, extra = count % parts
        var start = 0
        return (0..<parts).map { p in
            let size = base + (p < extra ? 1 : 0)
            defer { start += size }
            return start..<(start + size)
        }
    }

    /// The factors of the basis for initial conditions `[B, points]`: time `[B, N, times, R]`
    /// and space `[B, N, R, points]`.
    func factors(_ initial: Tensor) -> (time: Tensor, space: Tensor) {
        let batch = initial.shape[0], n = basisCount, r = rank
        let latent = encoder(initial).tanh()
        let code = spaceCode(latent).unsqueezed(axis: 1)  // [B, 1, width]
        let spaceHidden = (spaceFourier(fourier) + spaceValue(initial.unsqueezed(axis: 2)) + code).tanh()
        let space = spaceHead(spaceHidden)  // [B, points, N·R]
            .reshaped(to: [batch, problem.points, n, r]).permuted([0, 2, 3, 1])
        let timeHidden = (timeInput(timeFeatures) + timeCode(latent).unsqueezed(axis: 1)).tanh()
        let time = timeHead(timeHidden)  // [B, times, N·R]
            .reshaped(to: [batch, problem.times, n, r]).permuted([0, 2, 1, 3])
        return (time, space)
    }

    /// The predicted fields `[B, times, points]` for initial conditions `[B, points]`; a hard
    /// constraint draws its sampled points from `rng`.
    public func field(_ initial: Tensor, using rng: inout PhiloxGenerator) -> Tensor {
        validated(
            initial.rank == 2 && initial.shape[1] == problem.points,
            "HardConstrainedMoE: needs initial conditions [B, \(problem.points)], got \(initial.shape)")
        let (time, space) = factors(initial)
        let basis = time.matmul(space)  // [B, N, times, points]
        guard case .hard(let experts, let sampled) = constraint else {
            return basis.reshaped(to: [initial.shape[0], problem.times, problem.points])
        }
        let batch = initial.shape[0], n = basisCount, nt = problem.times, nx = problem.points
        let basisT = timeDerivative.matmul(time).matmul(space)
        let basisXX = time.matmul(space.matmul(secondDerivativeTransposed))
        let flat = [basis, basisT, basisXX].map { $0.reshaped(to: [batch, n, nt * nx]) }
        let blocks = Self.partition(nx, parts: experts)
        var features: [Tensor] = [], targets: [Tensor] = []
        let rowForms = Array(repeating: 0, count: sampled) + Array(repeating: 1, count: nx / experts)
        for block in blocks {
            // S residual rows at distinct points with t > 0 inside the block, then its IC rows.
            let candidates = (1..<nt).flatMap { a in block.map { a * nx + $0 } }
            let order = rng.permutation(candidates.count)
            let points = (0..<sampled).map { candidates[order[$0]] }
            let pde = Tensor.stack(flat.map { $0.indexSelect(alongAxis: 2, indices: points) }, alongAxis: 2)
            let icValues = flat[0].indexSelect(alongAxis: 2, indices: Array(block))
            let ic = Tensor.concatenate(
                [icValues.unsqueezed(axis: 2), Tensor.zeros([batch, n, 2, block.count])], alongAxis: 2)
            features.append(Tensor.concatenate([pde, ic], alongAxis: 3).permuted([0, 3, 2, 1]))  // [B, rows, 3, N]
            targets.append(
                Tensor.concatenate(
                    [Tensor.zeros([batch, sampled]), initial.indexSelect(alongAxis: 1, indices: Array(block))],
                    alongAxis: 1))
        }
        // Problems ordered (expert, sample).
        let (weights, solutions) = layer(
            features: Tensor.concatenate(features, alongAxis: 0), targets: Tensor.concatenate(targets, alongAxis: 0),
            rowForms: rowForms, clock: constraintClock)
        lastSolverIterations = Double(solutions.reduce(0) { $0 + $1.steps }) / Double(solutions.count)
        let pieces = blocks.enumerated().map { e, block -> Tensor in
            let w = weights.slice(alongAxis: 0, (e * batch)..<((e + 1) * batch)).unsqueezed(axis: 1)  // [B, 1, N]
            let local = basis.indexSelect(alongAxis: 3, indices: Array(block)).reshaped(to: [
                batch, n, nt * block.count,
            ])
            return w.matmul(local).reshaped(to: [batch, nt, block.count])
        }
        return experts == 1 ? pieces[0] : Tensor.concatenate(pieces, alongAxis: 2)
    }

    /// The training loss on fields `[B, times, points]` (`lossForm`): the finite-difference
    /// residual's term plus the initial condition's, each averaged over the batch.
    public func loss(_ u: Tensor, initial: Tensor) -> (total: Tensor, residual: Tensor, initial: Tensor) {
        let nu = Float(problem.diffusivity), rho = Float(problem.growthRate)
        let ut = timeDerivative.matmul(u), uxx = u.matmul(secondDerivativeTransposed)
        let residual = ut - nu * uxx - rho * u * (1 - u)
        let start = u.slice(alongAxis: 1, 0..<1).squeezed(axis: 1)
        switch lossForm {
        case .codeNorms:
            let pde = (residual.squared().sum(alongAxes: [1, 2]) + 1e-12).squareRoot().mean()
            let ic =
                ((start - initial).squared().sum(alongAxis: 1) + 1e-12).squareRoot()
                / (initial.squared().sum(alongAxis: 1) + 1e-12).squareRoot()
            return (pde + ic.mean(), pde, ic.mean())
        case .meanSquares:
            let pde = residual.squared().mean(), ic = (start - initial).squared().mean()
            return (pde + ic, pde, ic)
        }
    }

    /// One step's record.
    public struct StepRecord: Sendable {
        public var loss: Double
        public var residual: Double
        public var initial: Double
        public var seconds: Double
        public var constraintSeconds: Double
        /// Mean Levenberg-Marquardt iterations per problem.
        public var solverIterations: Double
    }

    /// Adam (gradients clipped to global norm 1, the code's setting) on batches of fresh initial
    /// conditions from the spec's family. `onStep` sees every step and stops training by
    /// returning false. A non-finite loss stops training with an error naming the step.
    @discardableResult
    public func fit(
        steps: Int, batchSize: Int = 8, learningRate: Double = 1e-3, using rng: inout PhiloxGenerator,
        onStep: (Int, StepRecord) -> Bool = { _, _ in true }
    ) throws -> [StepRecord] {
        let adam = try Adam(learningRate: learningRate)
        let parameters = namedParameters()
        var records: [StepRecord] = []
        train()
        for step in 0..<steps {
            let started = DispatchTime.now().uptimeNanoseconds
            constraintClock.reset()
            let initial = Tensor(
                shape: [batchSize, problem.points],
                scalars: (0..<batchSize).flatMap { _ in problem.initialCondition(using: &rng).map(Float.init) })
            for (_, parameter) in parameters { parameter.zeroGrad() }
            let parts = loss(field(initial, using: &rng), initial: initial)
            let value = Double(parts.total.item)
            guard value.isFinite else {
                throw TensorError.invalidArgument(
                    op: "HardConstrainedMoE.fit", detail: "the loss is \(value) at step \(step)")
            }
            parts.total.backward()
            _ = GradientClipping.clipGlobalNorm(parameters, maxNorm: 1)
            adam.step(parameters)
            let record = StepRecord(
                loss: value, residual: Double(parts.residual.item), initial: Double(parts.initial.item),
                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9,
                constraintSeconds: constraintClock.seconds, solverIterations: lastSolverIterations)
            records.append(record)
            if !onStep(step, record) { break }
        }
        eval()
        return records
    }

    /// Fields `[count][times·points]` for initial conditions, without gradients.
    public func predict(_ initials: [[Double]], using rng: inout PhiloxGenerator) -> [[Double]] {
        let initial = Tensor(shape: [initials.count, problem.points], scalars: initials.flatMap { $0.map(Float.init) })
        let u = withoutGradients { field(initial, using: &rng) }.scalars
        let size = problem.times * problem.points
        return (0..<initials.count).map { i in u[(i * size)..<((i + 1) * size)].map(Double.init) }
    }
}
