import Foundation
import InertiaOptim
import InertiaTensor

/// EquiNO on the 1-D periodic bar (`shared/papers/equino.md` 2.3; Eivazi et al., "EquiNO: A
/// Physics-Informed Neural Operator for Multiscale Simulations", 2025, code `HamidrezaEiv/EquiNO`):
/// an operator from the macro strain to the cell's fields whose trunk is fixed POD bases of FE
/// snapshots (fluctuation modes, and equilibrated stress modes) and whose branch is a Float64
/// MLP giving the mode coefficients. Training needs no labels beyond the snapshots: the loss
/// matches the stress that the local law gives on the predicted strain field to the stress-basis
/// expansion, so it drives the predicted field to equilibrium (in 1-D: uniform stress).
public struct PeriodicBarEquiNO: Sendable {
    public let bar: PeriodicBar
    /// POD of the fluctuation snapshots (nodes `0..<elements`, node 0 pinned).
    public let displacementBasis: ProperOrthogonalDecomposition
    /// POD of the element-stress snapshots (equilibrated, so every combination is too).
    public let stressBasis: ProperOrthogonalDecomposition
    /// Element strains of each fluctuation mode, `(phi[e+1] - phi[e]) / h`: `[rank][elements]`.
    public let strainModes: [[Double]]
    /// Maps `ebar / inputScale` to the standardised coefficients `(b_u, b_s)`.
    public var branch: DenseNetwork64
    public let inputScale: Double
    /// Mean and standard deviation of the snapshot coefficients (`scaling_bu`, `scaling_bs`).
    public let displacementScaling: (mean: Double, std: Double)
    public let stressScaling: (mean: Double, std: Double)
    /// The RMS of the snapshots' homogenised stresses: the loss is divided by its square (the
    /// spec's advice to normalise by a typical stress).
    public let stressScale: Double

    /// Builds the bases from `snapshots` (FE solutions of `bar`) and a fresh branch network
    /// `1 -> hidden... -> displacementRank + stressRank`.
    public init(
        bar: PeriodicBar, snapshots: [PeriodicBar.Solution], displacementRank: Int, stressRank: Int = 1,
        hidden: [Int] = [32, 32], activation: DenseNetwork64.Activation = .tanh, inputScale: Double,
        using rng: inout PhiloxGenerator
    ) {
        precondition(!snapshots.isEmpty, "PeriodicBarEquiNO: needs snapshots")
        precondition(inputScale > 0, "PeriodicBarEquiNO: inputScale must be positive")
        let n = bar.elements
        func matrix(_ pick: (PeriodicBar.Solution) -> [Double]) -> Matrix64 {
            var m = Matrix64(rows: n, columns: snapshots.count)
            for (j, snapshot) in snapshots.enumerated() {
                let column = pick(snapshot)
                precondition(column.count == n, "PeriodicBarEquiNO: a snapshot of another mesh")
                for i in 0..<n { m[i, j] = column[i] }
            }
            return m
        }
        self.bar = bar
        displacementBasis = ProperOrthogonalDecomposition(snapshots: matrix(\.fluctuation), rank: displacementRank)
        stressBasis = ProperOrthogonalDecomposition(snapshots: matrix(\.stresses), rank: stressRank)
        let h = bar.elementSize
        let modes = displacementBasis.modes
        strainModes = (0..<displacementRank).map { k in
            (0..<n).map { e in (modes[(e + 1) % n, k] - modes[e, k]) / h }
        }
        branch = DenseNetwork64(
            sizes: [1] + hidden + [displacementRank + stressRank], activation: activation, using: &rng)
        self.inputScale = inputScale
        displacementScaling = displacementBasis.coefficientScaling
        stressScaling = stressBasis.coefficientScaling
        let squares = snapshots.map { $0.homogenizedStress * $0.homogenizedStress }
        stressScale = Swift.max((squares.reduce(0, +) / Double(squares.count)).squareRoot(), 1e-300)
    }

    /// The operator's fields at one macro strain.
    public struct Prediction: Sendable {
        public var fluctuation: [Double]
        public var strains: [Double]
        /// `law(strains)`: the constitutive stress of the predicted strain field.
        public var stresses: [Double]
        /// The stress-basis expansion `sum_k b_s,k psi_k`.
        public var stressExpansion: [Double]
        /// The volume average of `stresses`.
        public var homogenizedStress: Double
        /// `max_e |stresses[e] - homogenizedStress|`: zero at exact equilibrium.
        public var nonUniformity: Double
    }

    /// `(b_u, b_s)` de-standardised, at `macroStrain` with the given branch parameters.
    func coefficients(_ macroStrain: Double, parameters: [Double]) -> (displacement: [Double], stress: [Double]) {
        let raw = branch.output([macroStrain / inputScale], parameters: parameters)
        let r = displacementBasis.rank
        return (
            raw[..<r].map { $0 * displacementScaling.std + displacementScaling.mean },
            raw[r...].map { $0 * stressScaling.std + stressScaling.mean }
        )
    }

    func strains(_ macroStrain: Double, displacement b: [Double]) -> [Double] {
        (0..<bar.elements).map { e in
            var eps = macroStrain
            for k in b.indices { eps += b[k] * strainModes[k][e] }
            return eps
        }
    }

    public func predict(_ macroStrain: Double) -> Prediction {
        let (bu, bs) = coefficients(macroStrain, parameters: branch.parameters)
        let eps = strains(macroStrain, displacement: bu)
        let sigma = bar.stresses(strains: eps)
        let mean = bar.average(sigma)
        return Prediction(
            fluctuation: displacementBasis.field(bu), strains: eps, stresses: sigma,
            stressExpansion: stressBasis.field(bs), homogenizedStress: mean,
            nonUniformity: sigma.reduce(0) { Swift.max($0, abs($1 - mean)) })
    }

    /// The homogenised stress alone: the query an FE² macro solver makes at each integration point.
    public func homogenizedStress(_ macroStrain: Double) -> Double {
        let bu = coefficients(macroStrain, parameters: branch.parameters).displacement
        var sum = 0.0
        for e in 0..<bar.elements {
            var eps = macroStrain
            for k in bu.indices { eps += bu[k] * strainModes[k][e] }
            sum += bar.materials[bar.phases[e]].stress(eps)
        }
        return sum / Double(bar.elements)
    }

    /// The constitutive-consistency loss `mean_{j,e} (law(eps_e) - sigma_nn,e)² / stressScale²`
    /// over the collocation strains, and its gradient in the branch parameters.
    public func loss(parameters: [Double], collocation: [Double]) -> (value: Double, gradient: [Double]) {
        let n = bar.elements, r = displacementBasis.rank
        let scale = 1 / (Double(collocation.count * n) * stressScale * stressScale)
        var value = 0.0
        var gradient = [Double](repeating: 0, count: parameters.count)
        for ebar in collocation {
            let (bu, bs) = coefficients(ebar, parameters: parameters)
            let eps = strains(ebar, displacement: bu)
            let expansion = stressBasis.field(bs)
            var dbu = [Double](repeating: 0, count: r), dbs = [Double](repeating: 0, count: bs.count)
            for e in 0..<n {
                let material = bar.materials[bar.phases[e]]
                let residual = material.stress(eps[e]) - expansion[e]
                value += residual * residual * scale
                let weight = 2 * residual * scale
                let tangent = material.tangent(eps[e])
                for k in 0..<r { dbu[k] += weight * tangent * strainModes[k][e] }
                for k in dbs.indices { dbs[k] -= weight * stressBasis.modes[e, k] }
            }
            let outputGradient = dbu.map { $0 * displacementScaling.std } + dbs.map { $0 * stressScaling.std }
            branch.accumulateGradient(
                [ebar / inputScale], parameters: parameters, outputGradient: outputGradient, into: &gradient)
        }
        return (value, gradient)
    }

    /// Trains the branch on `collocation` macro strains: Adam, then L-BFGS (section 2.2).
    public mutating func fit(
        collocation: [Double], adamSteps: Int, learningRate: Double = 1e-3, lbfgsIterations: Int
    ) -> (adamLosses: [Double], lbfgs: LimitedMemoryBFGS.Result?) {
        let model = self
        return branch.fit(adamSteps: adamSteps, learningRate: learningRate, lbfgsIterations: lbfgsIterations) {
            model.loss(parameters: $0, collocation: collocation)
        }
    }
}
