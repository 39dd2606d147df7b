import Foundation
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaOptim

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

    /// The value of `name` in a fixture key such as `auon_official_repo_2026_lr0.24_gamma1.5_wd0.01`.
    func setting(_ key: String, _ name: String) -> Double? {
        key.split(separator: "_").lazy.compactMap { part in
            part.hasPrefix(name) ? Double(part.dropFirst(name.count)) : nil
        }.first
    }

    /// Every AuON and Hybrid-AuON trajectory of the fixture, built from the settings its key
    /// records (code path, learning rate, momentum, gamma, weight decay, Newton-Schulz steps).
    func testBothCodePathsAndBothHybridsFollowTheReference() throws {
        let f = try fixture("auon", "reference_steps.json")
        let keys = f.keys.filter { $0.contains("auon_") && !$0.hasSuffix("directions") }.sorted()
        XCTAssertFalse(keys.isEmpty)
        let defaults = AuON.Configuration()
        for key in keys {
            let optimizer = try AuON(
                learningRate: try XCTUnwrap(setting(key, "lr"), key),
                momentum: setting(key, "beta") ?? defaults.momentum,
                version: key.contains("paper_2025") ? .paper2025 : .repo2026, hybrid: key.hasPrefix("hybrid"),
                newtonSchulzSteps: setting(key, "ns").map(Int.init), gamma: setting(key, "gamma") ?? defaults.gamma,
                weightDecay: setting(key, "wd") ?? 0)
            try replay(optimizer, key: key)
        }
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

    /// The fused paper path takes the brake from power sums when every |d|/‖d‖ <= 0.4 and from the
    /// vector exp otherwise; both against a Float64 re-derivation.
    func testSeriesAndExpBrakesMatchAFloat64Step() throws {
        var rng = PhiloxGenerator(seed: 3)
        for spike in [Float(0), 60] {
            var g = Tensor.normal([48, 40], using: &rng)
            if spike > 0 { g = g + Tensor(shape: [48, 40], scalars: (0..<1920).map { $0 == 7 ? spike : 0 }) }
            let start = Tensor.normal([48, 40], using: &rng)
            let w = Parameter(start)
            w.value.grad = g
            try AuON(learningRate: 0.24, momentum: 0.95).step([("w", w)])
            // d = (1 − β)g + β(1 − β)g from M = 0.
            let d = g.scalars.map { Double($0) * (0.05 + 0.95 * 0.05) }
            let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let x = d.map { $0 / (norm + 1e-7) }
            XCTAssertEqual(x.map(Swift.abs).max()! > 0.4, spike > 0, "the spike takes the exp path")
            let r = (x.reduce(0) { $0 + Foundation.cosh($1) * Foundation.cosh($1) } / Double(x.count)).squareRoot()
            let scale = Swift.max(1, 48.0 / 40).squareRoot() * 0.24 / (r + 1e-8)
            for (i, value) in w.value.scalars.enumerated() {
                XCTAssertEqual(Double(value), Double(start.scalars[i]) - scale * x[i], accuracy: 2e-6)
            }
            XCTAssertEqual(AuON.brake(of: Tensor(shape: [48, 40], scalars: x.map(Float.init))), r, accuracy: 1e-7)
        }
    }
}
