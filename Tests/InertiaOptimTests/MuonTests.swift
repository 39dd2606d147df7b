import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// Muon and its Newton–Schulz iteration against `shared/fixtures/auon` and the spec's invariants.
final class MuonTests: XCTestCase {
    func matrix(_ any: Any?) -> Tensor {
        let rows = (any as! [Any]).map(doubles)
        return Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map(Float.init) })
    }

    func assertClose(
        _ a: Tensor, _ b: Tensor, _ tolerance: Float, _ label: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(a.shape, b.shape, label, file: file, line: line)
        for (x, y) in zip(a.scalars, b.scalars) where Swift.abs(x - y) > tolerance {
            XCTFail("\(label): \(x) vs \(y)", file: file, line: line)
            return
        }
    }

    func testNewtonSchulzMatchesTheFixtureAndTheClosedForm() throws {
        let ns = try fixture("auon", "reference_steps.json")["newton_schulz"] as! [String: Any]
        let input = matrix(ns["input"])
        assertClose(NewtonSchulz.orthogonalize(input), matrix(ns["ns5_output"]), 1e-4, "NS5")
        assertClose(NewtonSchulz.orthogonalize(input, steps: 1), matrix(ns["ns1_output"]), 1e-4, "NS1")
        let diagonal = NewtonSchulz.orthogonalize(Tensor([[3, 0], [0, 4]]))
        assertClose(diagonal, Tensor([[0.722876, 0], [0, 1.119204]]), 2e-5, "diag(3, 4)")
        XCTAssertEqual(Double(NewtonSchulz.orthogonalize(Tensor([[1]]), steps: 1).item), 0.701, accuracy: 1e-3)
        // Odd, scale invariant, transpose equivariant; zero stays zero.
        assertClose(NewtonSchulz.orthogonalize(-input), -NewtonSchulz.orthogonalize(input), 1e-5, "odd")
        assertClose(NewtonSchulz.orthogonalize(input * 7), NewtonSchulz.orthogonalize(input), 1e-4, "scale")
        assertClose(
            NewtonSchulz.orthogonalize(input.transposed()), NewtonSchulz.orthogonalize(input).transposed(), 1e-5,
            "transpose")
        XCTAssertEqual(NewtonSchulz.orthogonalize(Tensor.zeros([3, 2])).scalars, [Float](repeating: 0, count: 6))
    }

    func testTwoMuonStepsMatchTheReference() throws {
        let f = try fixture("auon", "reference_steps.json")
        let w = Parameter(matrix(f["W0"]))
        let grads = (f["grads"] as! [Any]).map(matrix)
        // The settings are the ones the fixture's key records.
        let key = try XCTUnwrap(f.keys.first { $0.hasPrefix("muon_") })
        func setting(_ name: String) throws -> Double {
            try XCTUnwrap(
                key.split(separator: "_").lazy.compactMap {
                    $0.hasPrefix(name) ? Double($0.dropFirst(name.count)) : nil
                }
                .first, "\(key): \(name)")
        }
        let expected = (f[key] as! [Any]).map(matrix)
        let muon = try Muon(
            learningRate: try setting("lr"), momentum: try setting("beta"), nesterov: key.hasSuffix("_nesterov"))
        for (g, e) in zip(grads, expected) {
            w.value.grad = g
            muon.step([("w", w)])
            assertClose(w.value, e, 1e-5, "Muon step")
        }
    }

    func testShapeFactorsConvolutionFiltersAndRejectionOfVectors() throws {
        XCTAssertEqual(Muon.Scale.original.factor(rows: 8, columns: 2), 2)
        XCTAssertEqual(Muon.Scale.original.factor(rows: 2, columns: 8), 1)
        XCTAssertEqual(Muon.Scale.matchRMSAdamW.factor(rows: 4, columns: 100), 2, accuracy: 1e-12)
        XCTAssertEqual(Muon.Scale.spectralUnclamped.factor(rows: 2, columns: 8), 0.5)
        let muon = try Muon(learningRate: 0.1)
        var rng = PhiloxGenerator(seed: 1)
        let filter = Parameter(Tensor.normal([4, 2, 3, 3], using: &rng))
        filter.value.grad = Tensor.normal([4, 2, 3, 3], using: &rng)
        let before = filter.value
        muon.step([("conv.weight", filter)])
        XCTAssertNotEqual(filter.value, before)
        XCTAssertEqual(filter.shape, [4, 2, 3, 3])
        XCTAssertThrowsError(try muon.validate([("bias", Parameter(Tensor.zeros([4])))])) { error in
            XCTAssertTrue("\(error)".contains("parameter 'bias' has shape [4]; muon needs rank >= 2"), "\(error)")
        }
    }
}

extension MuonTests {
    func testZeroStepsIsNormalizedMomentumAndTheStandardRouting() throws {
        var rng = PhiloxGenerator(seed: 4)
        let start = Tensor.normal([3, 5], using: &rng)
        let g = Tensor.normal([3, 5], using: &rng)
        let w = Parameter(start)
        w.value.grad = g
        try Muon(learningRate: 0.1, steps: 0).step([("w", w)])
        // M = 0.05 g, U = 0.05 g + 0.95 M: NS₀(U) = U / ‖U‖ = g / ‖g‖.
        let expected = start - g / g.norm().item * 0.1
        assertClose(w.value, expected, 1e-6, "zero Newton-Schulz steps")
        let hidden = Parameter(Tensor.ones([4, 4])), bias = Parameter(Tensor.ones([4])),
            head = Parameter(Tensor.ones([2, 4]))
        for p in [hidden, bias, head] { p.value.grad = Tensor.ones(p.shape) }
        let routed = Muon.withAuxiliaryAdamW(muon: try Muon(learningRate: 0.02), adamW: try AdamW(learningRate: 1e-3))
        routed.step([("blocks.0.mlp.weight", hidden), ("blocks.0.mlp.bias", bias), ("head.weight", head)])
        let state = routed.state()
        XCTAssertNotNil(state.slots["blocks.0.mlp.weight/momentum_buffer"])
        XCTAssertNotNil(state.slots["blocks.0.mlp.bias/exp_avg"])
        XCTAssertNotNil(state.slots["head.weight/exp_avg"])
    }
}
