import Foundation
import XCTest
import InertiaNN
@testable import InertiaOptim
import InertiaTensor

/// AuON and Hybrid-AuON, both code paths, against `shared/fixtures/auon`.
final class AuONTests: XCTestCase {
    func matrix(_ any: Any?) -> Tensor {
        let rows = (any as! [Any]).map(doubles)
        return Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map(Float.init) })
    }

    func replay(_ optimizer: Optimizer, key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try fixture("auon", "reference_steps.json")
        let w = Parameter(matrix(f["W0"]))
        let grads = (f["grads"] as! [Any]).map(matrix)
        let expected = (f[key] as! [Any]).map(matrix)
        XCTAssertEqual(expected.count, grads.count, key, file: file, line: line)
        for (t, (g, e)) in zip(grads, expected).enumerated() {
            w.value.grad = g
            optimizer.step([("w", w)])
            for (a, b) in zip(w.value.scalars, e.scalars) where Swift.abs(a - b) > 1e-5 {
                XCTFail("\(key) step \(t + 1): \(a) vs \(b)", file: file, line: line)
                return
            }
        }
    }

    func testBothCodePathsAndBothHybridsFollowTheReference() throws {
        try replay(try AuON(learningRate: 0.24), key: "auon_paper_2025_lr0.24_beta0.95")
        try replay(try AuON(learningRate: 0.24, version: .repo2026), key: "auon_official_repo_2026_lr0.24_gamma1.5_wd0")
        try replay(try AuON(learningRate: 0.24, version: .repo2026, weightDecay: 0.01), key: "auon_official_repo_2026_lr0.24_gamma1.5_wd0.01")
        try replay(try AuON(learningRate: 0.24, version: .repo2026, hybrid: true, newtonSchulzSteps: 1),
                   key: "hybrid_auon_official_repo_2026_ns1_lr0.24")
        try replay(try AuON(learningRate: 0.24, version: .repo2026, hybrid: true), key: "hybrid_auon_official_repo_2026_ns5_default_lr0.24")
    }

    func testPaperDirectionHasUnitFrobeniusNormOverTheBrake() throws {
        var rng = PhiloxGenerator(seed: 2)
        let w = Parameter(Tensor.zeros([16, 16]))
        w.value.grad = Tensor.normal([16, 16], using: &rng)
        try AuON(learningRate: 1).step([("w", w)])
        // ‖D‖_F = 1/r with r in [cosh(1/√N), sqrt(1 + sinh(1)²/N)] (spec 2.6).
        let norm = Double(w.value.norm().item)
        let upper: Double = 1 / Foundation.cosh(1.0 / 16)
        let spike: Double = Foundation.sinh(1.0) * Foundation.sinh(1.0) / 256
        let lower: Double = 1 / (1 + spike).squareRoot()
        XCTAssertLessThanOrEqual(norm, upper + 1e-6)
        XCTAssertGreaterThanOrEqual(norm, lower - 1e-6)
    }
}
