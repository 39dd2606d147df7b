import Foundation
import InertiaExperiments
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

/// FISMO against `shared/fixtures/fismo` and the invariants of `fismo.md` 6.
final class FISMOTests: XCTestCase {
    func matrix(_ any: Any?) -> Tensor {
        let rows = (any as! [Any]).map(doubles)
        return Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map(Float.init) })
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape)
        return zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    func run(_ optimizer: FISMO, from start: Tensor, gradients: [Tensor]) -> (weights: [Tensor], state: OptimizerState)
    {
        let w = Parameter(start)
        var weights: [Tensor] = []
        for g in gradients {
            w.value.grad = g
            optimizer.step([("w", w)])
            weights.append(w.value)
        }
        return (weights, optimizer.state())
    }

    func testTwoStepsMatchTheFixture() throws {
        let f = try fixture("fismo", "fismo_steps.json")
        // The hyper-parameters are written in the description as `lr=0.1, beta=0.9, ...`.
        let description = try XCTUnwrap(f["description"] as? String)
        func setting(_ name: String) throws -> Double {
            try XCTUnwrap(SpecFixture.writtenNumber(name, in: description), name)
        }
        let fismo = try FISMO(
            learningRate: try setting("lr"), momentum: try setting("beta"), factorDecay: try setting("gamma"),
            damping: try setting("mu"), polar: .exact)
        let w = Parameter(matrix(f["W0"]))
        for (t, (g, expected)) in zip((f["grads"] as! [Any]).map(matrix), f["steps"] as! [[String: Any]]).enumerated() {
            w.value.grad = g
            fismo.step([("w", w)])
            let state = fismo.state().slots
            XCTAssertLessThan(
                maxDifference(state["w/left_factor"]!, matrix(expected["P"])), 1e-5, "P after step \(t + 1)")
            XCTAssertLessThan(
                maxDifference(state["w/right_factor"]!, matrix(expected["Q"])), 1e-5, "Q after step \(t + 1)")
            XCTAssertLessThan(
                maxDifference(state["w/momentum_buffer"]!, matrix(expected["M"])), 1e-5, "M after step \(t + 1)")
            XCTAssertLessThan(maxDifference(w.value, matrix(expected["W"])), 1e-5, "W after step \(t + 1)")
        }
        let stats = try XCTUnwrap(fismo.factorStatistics["w"])
        XCTAssertEqual(stats.refreshes, (f["steps"] as! [Any]).count)
        XCTAssertGreaterThanOrEqual(stats.leftCondition, 1)
    }

    func testFrozenFactorsAreMuonWithExactPolarAndScaleInvariant() throws {
        var rng = PhiloxGenerator(seed: 11)
        let start = Tensor.normal([4, 6], using: &rng)
        let grads = (0..<3).map { _ in Tensor.normal([4, 6], using: &rng) }
        let frozen = { try FISMO(learningRate: 0.1, momentum: 0.9, factorDecay: 1, damping: 0, polar: .exact) }
        let fismo = run(try frozen(), from: start, gradients: grads).weights
        // Muon without Nesterov or shape factor, with the exact polar factor, re-derived here.
        var m = Matrix64(rows: 4, columns: 6), w = Matrix64(start)
        for (g, fismoW) in zip(grads, fismo) {
            m = m * 0.9 + Matrix64(g) * 0.1
            w = w - FISMO.polarFactor(m, .exact) * 0.1
            XCTAssertLessThan(maxDifference(w.tensor, fismoW), 1e-5)
        }
        let scaled = run(try frozen(), from: start, gradients: grads.map { $0 * 10 }).weights
        XCTAssertLessThan(maxDifference(scaled.last!, fismo.last!), 1e-5, "frozen factors: invariant to gradient scale")
        // Live factors are not scale invariant (spec 6: the EMA weighs c²·L against γP).
        let live = { try FISMO(learningRate: 0.1, momentum: 0.9, factorDecay: 0.9, damping: 0, polar: .exact) }
        let a = run(try live(), from: start, gradients: grads).weights.last!
        let b = run(try live(), from: start, gradients: grads.map { $0 * 10 }).weights.last!
        XCTAssertGreaterThan(maxDifference(a, b), 1e-2)
    }

    func testFactorsStayTraceNormalizedAndTheStepHasUnitFisherSpectralLength() throws {
        var rng = PhiloxGenerator(seed: 12)
        let fismo = try FISMO(learningRate: 0.05, momentum: 0.9, factorDecay: 0.8, damping: 1e-3, polar: .exact)
        let w = Parameter(Tensor.normal([5, 3], using: &rng))
        for _ in 0..<4 {
            let before = w.value
            w.value.grad = Tensor.normal([5, 3], using: &rng)
            fismo.step([("w", w)])
            let s = fismo.state().slots
            let p = Matrix64(s["w/left_factor"]!), q = Matrix64(s["w/right_factor"]!)
            XCTAssertEqual(p.trace, 5, accuracy: 1e-5)
            XCTAssertEqual(q.trace, 3, accuracy: 1e-5)
            XCTAssertEqual(p, p.transposed)
            XCTAssertGreaterThan(SymmetricEigen(p).values[0], 0)
            XCTAssertGreaterThan(SymmetricEigen(q).values[0], 0)
            // ‖P^{1/2} ΔW Q^{1/2}‖₂ = 1 with ΔW = (W_before − W_after)/η.
            let delta = (Matrix64(before) - Matrix64(w.value)) * (1 / 0.05)
            let z = SymmetricEigen(p).power(0.5) * delta * SymmetricEigen(q).power(0.5)
            let spectral = SymmetricEigen(z.transposed * z).values.last!.squareRoot()
            XCTAssertEqual(spectral, 1, accuracy: 2e-3)
        }
    }

    func testOrthogonalEquivariance() throws {
        var rng = PhiloxGenerator(seed: 13)
        func orthogonal(_ n: Int) -> Matrix64 {
            let a = Matrix64(Tensor.normal([n, n], using: &rng))
            return FISMO.polarFactor(a, .exact)
        }
        let u = orthogonal(3), v = orthogonal(4)
        let start = Tensor.normal([3, 4], using: &rng)
        let grads = (0..<3).map { _ in Tensor.normal([3, 4], using: &rng) }
        let make = { try FISMO(learningRate: 0.1, momentum: 0.9, factorDecay: 0.9, damping: 0.01, polar: .exact) }
        let plain = run(try make(), from: start, gradients: grads).weights.last!
        let rotated = run(
            try make(), from: (u * Matrix64(start) * v).tensor,
            gradients: grads.map { (u * Matrix64($0) * v).tensor }
        ).weights.last!
        XCTAssertLessThan(maxDifference((u * Matrix64(plain) * v).tensor, rotated), 1e-5)
    }

    func testFactorRecursionRecoversAKroneckerCovariance() throws {
        var rng = PhiloxGenerator(seed: 14)
        func spd(_ n: Int) -> Matrix64 {
            let a = Matrix64(Tensor.normal([n, n], using: &rng))
            let s = a * a.transposed + Matrix64.identity(n)
            return s * (Double(n) / s.trace)
        }
        let pStar = spd(6), qStar = spd(8)
        let pRoot = SymmetricEigen(pStar).power(0.5), qRoot = SymmetricEigen(qStar).power(0.5)
        // lr 0: only the factor recursion runs.
        let fismo = try FISMO(
            learningRate: 0, momentum: 0.9, factorDecay: 0.99, damping: 0, polar: .newtonSchulz(steps: 0))
        let w = Parameter(Tensor.zeros([6, 8]))
        for _ in 0..<5000 {
            w.value.grad = (pRoot * Matrix64(Tensor.normal([6, 8], using: &rng)) * qRoot).tensor
            fismo.step([("w", w)])
        }
        let s = fismo.state().slots
        let pError = (Matrix64(s["w/left_factor"]!) - pStar).frobeniusNorm / pStar.frobeniusNorm
        let qError = (Matrix64(s["w/right_factor"]!) - qStar).frobeniusNorm / qStar.frobeniusNorm
        XCTAssertLessThan(pError, 0.1)
        XCTAssertLessThan(qError, 0.1)
    }

    func testRefreshIntervalStateRoundTripAndRejection() throws {
        var rng = PhiloxGenerator(seed: 15)
        let start = Tensor.normal([4, 4], using: &rng)
        let grads = (0..<6).map { _ in Tensor.normal([4, 4], using: &rng) }
        let every3 = try FISMO(learningRate: 0.05, refreshInterval: 3)
        _ = run(every3, from: start, gradients: grads)
        XCTAssertEqual(every3.factorStatistics["w"]?.refreshes, 2)
        // Save after three steps, load into a fresh optimizer: the same next steps.
        let first = try FISMO(learningRate: 0.05)
        let (w3, state) = run(first, from: start, gradients: Array(grads[..<3]))
        let continued = run(first, from: w3.last!, gradients: Array(grads[3...])).weights.last!
        let second = try FISMO(learningRate: 0.05)
        try second.load(state, for: [("w", Parameter(w3.last!))])
        XCTAssertEqual(run(second, from: w3.last!, gradients: Array(grads[3...])).weights.last!, continued)
        var wrong = state
        wrong.slots["w/left_factor"] = Tensor.eye(3)
        XCTAssertThrowsError(try second.load(wrong, for: [("w", Parameter(w3.last!))])) { error in
            XCTAssertTrue("\(error)".contains("needs its 'left_factor' of shape [4, 4]"), "\(error)")
        }
        XCTAssertThrowsError(try FISMO(learningRate: 0.1).validate([("bias", Parameter(Tensor.zeros([4])))]))
        XCTAssertThrowsError(try FISMO(learningRate: 0.1, factorDecay: 1.5))
    }
}
