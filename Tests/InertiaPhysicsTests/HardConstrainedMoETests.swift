import Foundation
import InertiaTensor
import XCTest

@testable import InertiaPhysics

/// `hard-constraints-moe.md` 6, invariants 3 and 5, and the gradient through the layer.
final class HardConstrainedMoETests: XCTestCase {
    /// Invariant 5: the blocks tile the axis in order, so partition then reassembly is the identity.
    func testPartitionRoundTrip() {
        for (count, parts) in [(64, 4), (64, 1), (10, 3), (7, 7)] {
            let blocks = HardConstrainedMoE.partition(count, parts: parts)
            XCTAssertEqual(blocks.count, parts)
            XCTAssertEqual(blocks.flatMap { Array($0) }, Array(0..<count))
            XCTAssertLessThanOrEqual(blocks.map(\.count).max()! - blocks.map(\.count).min()!, 1)
        }
        let field = Tensor(shape: [2, 3, 10], scalars: (0..<60).map(Float.init))
        let pieces = HardConstrainedMoE.partition(10, parts: 3).map {
            field.indexSelect(alongAxis: 2, indices: Array($0))
        }
        XCTAssertEqual(Tensor.concatenate(pieces, alongAxis: 2).scalars, field.scalars)
    }

    func model(_ constraint: HardConstrainedMoE.Constraint, seed: UInt64 = 1) -> HardConstrainedMoE {
        var rng = PhiloxGenerator(seed: seed)
        return HardConstrainedMoE(
            problem: FisherKPP(points: 16, times: 8), constraint: constraint, basisCount: 3, rank: 2, width: 8,
            maxSolverSteps: 100, using: &rng)
    }

    /// The loss's gradient in a few parameters against central differences through the whole
    /// pipeline (basis network, finite differences, LM solve with its IFT backward, assembly).
    func testLossGradientAgainstCentralDifferences() {
        var rng = PhiloxGenerator(seed: 4)
        let problem = FisherKPP(points: 16, times: 8)
        let initial = Tensor(
            shape: [2, 16], scalars: (0..<2).flatMap { _ in problem.initialCondition(using: &rng).map(Float.init) })
        for (constraint, form) in [
            (
                HardConstrainedMoE.Constraint.hard(experts: 2, sampledPoints: 10),
                HardConstrainedMoE.LossForm.meanSquares
            ),
            (.hard(experts: 2, sampledPoints: 10), .codeNorms), (.soft, .meanSquares),
        ] {
            let m = model(constraint)
            m.lossForm = form
            func lossValue() -> Tensor {
                var draw = PhiloxGenerator(seed: 9)
                return m.loss(m.field(initial, using: &draw), initial: initial).total
            }
            let parameters = m.namedParameters()
            for (_, p) in parameters { p.zeroGrad() }
            lossValue().backward()
            let checked = parameters.filter { $0.0.hasPrefix("time_head") || $0.0.hasPrefix("space_fourier") }
            XCTAssertEqual(checked.count, 6)
            for (name, p) in checked {
                for index in [0, p.value.count - 1] {
                    let analytic = Double(p.grad!.scalars[index])
                    let original = p.value.scalars
                    let h: Float = 1e-2
                    func value(shiftedBy shift: Float) -> Double {
                        var shifted = original
                        shifted[index] += shift
                        p.assign(Tensor(shape: p.shape, scalars: shifted))
                        return Double(withoutGradients { lossValue() }.item)
                    }
                    let plus = value(shiftedBy: h), minus = value(shiftedBy: -h)
                    p.assign(Tensor(shape: p.shape, scalars: original))
                    let numeric = (plus - minus) / Double(2 * h)
                    XCTAssertEqual(
                        analytic, numeric, accuracy: 2e-2 * max(1, abs(numeric)),
                        "\(constraint) \(form) \(name)[\(index)]")
                }
            }
        }
    }
}
