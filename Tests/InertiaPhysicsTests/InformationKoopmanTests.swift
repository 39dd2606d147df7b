import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaPhysics

/// `information-koopman.md` 6: the fixture's entropy, density matrix, InfoNCE values and ridge
/// Koopman matrix, the five invariants, and gradients by central differences.
final class InformationKoopmanTests: XCTestCase {
    /// The fixture's `[B, T, H]` latents under `key` as a tensor.
    func latents(_ object: [String: Any], _ key: String) -> Tensor {
        let sequences = (object[key] as! [Any]).map { matrix64($0) }
        let t = sequences[0].rows, h = sequences[0].columns
        return Tensor(shape: [sequences.count, t, h], scalars: sequences.flatMap { $0.scalars.map(Float.init) })
    }

    /// The spec's Float32 tolerance: 1e-5 relative plus 1e-6 absolute.
    func assertMatches(_ actual: [Double], _ expected: [Double], _ what: String, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertLessThanOrEqual(
                Swift.abs(a - e), 1e-5 * Swift.abs(e) + 1e-6, "\(what)[\(i)]: \(a) vs \(e)", line: line)
        }
    }

    func testTheLatentTermsMatchTheFixture() throws {
        let f = try fixture("information-koopman", "koopman_fixtures.json")
        let z = latents(f, "Z"), next = latents(f, "Z_next")
        let h = z.shape[2]
        assertMatches(
            [Double(KoopmanLatents.covarianceEntropy(z).item)],
            [(f["von_neumann_entropy_centered"] as! NSNumber).doubleValue],
            "entropy")
        assertMatches(
            KoopmanLatents.densityMatrix(z.reshaped(to: [z.count / h, h])).scalars.map(Double.init),
            matrix64(f["rho"]).scalars, "rho")
        let infoNCEKeys = f.keys.filter { $0.hasPrefix("info_nce_k") }.sorted()
        XCTAssertEqual(infoNCEKeys.count, 3, "the spec lists three InfoNCE values")
        for key in infoNCEKeys {
            // `info_nce_k<k>_t<tau>` with `p` for the decimal point.
            let parts = key.dropFirst("info_nce_k".count).split(separator: "_t")
            let k = Int(parts[0])!, tau = Float(parts[1].replacingOccurrences(of: "p", with: "."))!
            assertMatches(
                [Double(KoopmanLatents.temporalInfoNCE(z, neighbours: k, temperature: tau).item)],
                [(f[key] as! NSNumber).doubleValue], key)
        }
        let ridge = try XCTUnwrap(
            (f["convention"] as? String).flatMap { convention in
                convention.components(separatedBy: "+ ").dropFirst().first.flatMap { Double($0.prefix { $0 != " " }) }
            }, "the convention names the ridge")
        assertMatches(
            try KoopmanLatents.ridgeOperator(z, successors: next, ridge: ridge).scalars,
            matrix64(f["koopman_C_forward_ridge0p1"]).scalars, "C")
    }

    /// Invariant 1: bounds, the isotropic maximum, the rank-1 minimum, scaling and rotation.
    func testEntropyBoundsAndInvariances() throws {
        let f = try fixture("information-koopman", "koopman_fixtures.json")
        let z = latents(f, "Z")
        let h = z.shape[2]
        let s = Double(KoopmanLatents.covarianceEntropy(z).item)
        XCTAssertGreaterThan(s, 0)
        XCTAssertLessThanOrEqual(s, Foundation.log(Double(h)))
        // ±e_i: the centred covariance is a multiple of I.
        var signed = [Float]()
        for sign: Float in [1, -1] {
            for i in 0..<h { signed += (0..<h).map { $0 == i ? sign : 0 } }
        }
        let isotropic = KoopmanLatents.covarianceEntropy(Tensor(shape: [2 * h, h], scalars: signed)).item
        XCTAssertEqual(
            Double(isotropic), (f["isotropic_entropy"] as! NSNumber).doubleValue, accuracy: 1e-6, "isotropic latents")
        // The rows of I_H centre to rank H - 1: log(H - 1), not log H.
        let identityRows = KoopmanLatents.covarianceEntropy(Tensor.eye(h)).item
        XCTAssertEqual(Double(identityRows), Foundation.log(Double(h - 1)), accuracy: 1e-5)
        // Rank-1 latents with trace(Σ) >= 1: the clamp floor only.
        let direction: [Float] = [0.6, -0.8, 0].prefix(h) + [Float](repeating: 0, count: Swift.max(h - 3, 0))
        let rank1 = (0..<16).flatMap { i in direction.map { $0 * Float(i - 8) } }
        let collapsed = KoopmanLatents.covarianceEntropy(Tensor(shape: [16, h], scalars: rank1)).item
        XCTAssertLessThan(collapsed, 1e-6)
        XCTAssertGreaterThanOrEqual(collapsed, 0)
        // Scaling and an orthogonal rotation of the latent space change nothing.
        var rng = PhiloxGenerator(seed: 3)
        let rotation = Matrix64.randomOrthonormalColumns(rows: h, columns: h, using: &rng).tensor
        let flat = z.reshaped(to: [z.count / h, h])
        XCTAssertEqual(KoopmanLatents.covarianceEntropy(flat * 7.5).item, Float(s), accuracy: 1e-5)
        XCTAssertEqual(KoopmanLatents.covarianceEntropy(flat.matmul(rotation)).item, Float(s), accuracy: 1e-5)
    }

    /// Invariant 2: InfoNCE sees directions only, and is zero without a full neighbourhood.
    func testInfoNCEIgnoresScaleAndNeedsMoreThanTwoKPositions() throws {
        let z = latents(try fixture("information-koopman", "koopman_fixtures.json"), "Z")
        let t = z.shape[1]
        let value = KoopmanLatents.temporalInfoNCE(z, neighbours: 2).item
        XCTAssertEqual(KoopmanLatents.temporalInfoNCE(z * 0.01, neighbours: 2).item, value, accuracy: 1e-5)
        XCTAssertEqual(KoopmanLatents.temporalInfoNCE(z * 40, neighbours: 2).item, value, accuracy: 1e-5)
        XCTAssertEqual(KoopmanLatents.temporalInfoNCE(z, neighbours: t / 2).item, 0)
        XCTAssertGreaterThan(KoopmanLatents.temporalInfoNCE(z, neighbours: (t - 1) / 2).item, 0)
        // Latents that repeat each neighbourhood exactly and point elsewhere outside it have a small
        // loss; reversing the roles raises it.
        let b = 1, h = 2, length = 9
        let close = (0..<length).flatMap { i -> [Float] in i % 2 == 0 ? [1, 0] : [1, 0.05] }
        let apart = (0..<length).flatMap { i -> [Float] in
            [Foundation.cos(Float(i) * 2.4), Foundation.sin(Float(i) * 2.4)]
        }
        XCTAssertLessThan(
            KoopmanLatents.temporalInfoNCE(Tensor(shape: [b, length, h], scalars: close), neighbours: 1).item,
            KoopmanLatents.temporalInfoNCE(Tensor(shape: [b, length, h], scalars: apart), neighbours: 1).item)
    }

    /// The ridge pseudo-inverse in Float64, primal form, whatever T and H are.
    func primalOperator(_ z: Matrix64, _ next: Matrix64, ridge: Double) throws -> Matrix64 {
        try Cholesky((z.transposed * z).addingToDiagonal(ridge)).inverse * (z.transposed * next)
    }

    /// Invariants 3 and 4: the dual form (T < H) equals the primal one; with `Z' = Z·A` and a tiny
    /// ridge, the operator recovers `A`.
    func testDualAndPrimalRidgeAgreeAndAnExactOperatorIsRecovered() throws {
        var rng = PhiloxGenerator(seed: 11)
        let t = 5, h = 9
        let z = Matrix64(rows: t, columns: h, scalars: (0..<(t * h)).map { _ in rng.nextNormal() })
        let next = Matrix64(rows: t, columns: h, scalars: (0..<(t * h)).map { _ in rng.nextNormal() })
        let dual = try KoopmanLatents.ridgeOperator(
            z.tensor.reshaped(to: [1, t, h]), successors: next.tensor.reshaped(to: [1, t, h]), ridge: 0.1)
        let primal = try primalOperator(Matrix64(z.tensor), Matrix64(next.tensor), ridge: 0.1)
        XCTAssertLessThan((dual - primal).maxAbs, 1e-9 * Swift.max(primal.maxAbs, 1))

        let tall = 40, width = 4
        let a = Matrix64(
            rows: width, columns: width, scalars: (0..<(width * width)).map { _ in rng.nextNormal() * 0.5 })
        let zs = Matrix64(rows: tall, columns: width, scalars: (0..<(tall * width)).map { _ in rng.nextNormal() })
        let exact = Matrix64(zs.tensor) * a
        let recovered = try KoopmanLatents.ridgeOperator(
            zs.tensor.reshaped(to: [1, tall, width]), successors: exact.tensor.reshaped(to: [1, tall, width]),
            ridge: 1e-8)
        XCTAssertLessThan((recovered - a).maxAbs, 1e-5)
    }

    func testTheRidgeOperatorRejectsBadInput() {
        let z = Tensor(shape: [1, 3, 2], scalars: [1, 2, 3, 4, 5, .nan])
        XCTAssertThrowsError(try KoopmanLatents.ridgeOperator(z, successors: Tensor.zeros([1, 3, 2]))) {
            XCTAssertTrue("\($0)".contains("latents entry 5 is nan"), "\($0)")
        }
        XCTAssertThrowsError(try KoopmanLatents.ridgeOperator(Tensor.zeros([3, 2]), successors: Tensor.zeros([3, 2]))) {
            XCTAssertTrue("\($0)".contains("[B, T, H]"), "\($0)")
        }
    }

    /// Central differences in Double of a scalar function of one tensor against its gradient.
    func assertGradientMatchesDifferences(
        _ x: Tensor, step: Float = 1e-3, tolerance: Double = 2e-2, line: UInt = #line, _ f: (Tensor) -> Tensor
    ) {
        let leaf = x.detached().requiringGrad()
        f(leaf).backward()
        let gradient = leaf.grad!.scalars
        var largest = 0.0
        for g in gradient { largest = Swift.max(largest, Double(Swift.abs(g))) }
        XCTAssertGreaterThan(largest, 0, "the gradient is zero", line: line)
        for i in 0..<x.count {
            var up = x.scalars, down = x.scalars
            up[i] += step
            down[i] -= step
            let difference =
                (Double(f(Tensor(shape: x.shape, scalars: up)).item)
                    - Double(f(Tensor(shape: x.shape, scalars: down)).item))
                / (2 * Double(step))
            XCTAssertEqual(
                Double(gradient[i]), difference, accuracy: tolerance * Swift.max(largest, 1e-3), "entry \(i)",
                line: line)
        }
    }

    func testInfoNCEAndEntropyGradientsMatchCentralDifferences() throws {
        let z = latents(try fixture("information-koopman", "koopman_fixtures.json"), "Z")
        assertGradientMatchesDifferences(z) { KoopmanLatents.temporalInfoNCE($0, neighbours: 2, temperature: 0.5) }
        assertGradientMatchesDifferences(z) { KoopmanLatents.temporalInfoNCE($0, neighbours: 3, temperature: 0.1) }
        assertGradientMatchesDifferences(z) { KoopmanLatents.covarianceEntropy($0) }
    }

    /// Windows `[count, length, d]` of smooth random sequences.
    func windows(count: Int, length: Int, d: Int, using rng: inout PhiloxGenerator) -> Tensor {
        var values = [Float]()
        for _ in 0..<count {
            let phase = (0..<d).map { _ in rng.nextDouble() * 6.28 }
            for i in 0..<length { values += phase.map { Float(Foundation.sin($0 + 0.3 * Double(i))) } }
        }
        return Tensor(shape: [count, length, d], scalars: values)
    }

    /// Invariant 5: the gradient of the forward loss is that of `dec(z·C)` with `C` a constant,
    /// not of the loss with `C` recomputed from the perturbed latents.
    func testNoGradientFlowsThroughTheKoopmanMatrix() throws {
        var rng = PhiloxGenerator(seed: 5)
        let model = KoopmanAutoencoder(
            observationDimension: 3, hidden: [8], latentDimension: 2, activation: .tanh, using: &rng)
        let data = windows(count: 4, length: 7, d: 3, using: &rng)
        let objective = KoopmanAutoencoder.Objective(mutualInformationWeight: 0, entropyWeight: 0)
        let loss = try model.loss(data, objective: objective)
        loss.forward.backward()
        let (name, parameter) = model.namedParameters().first { $0.name.hasPrefix("encoder") }!
        let c = loss.koopmanMatrix.tensor
        let t = data.shape[1] - 1
        func fixedOperatorLoss() -> Double {
            withoutGradients {
                let z = model.encode(data.slice(alongAxis: 1, 0..<t))
                let predicted = model.decode(Tensor.matmul(z.reshaped(to: [4 * t, 2]), c))
                return Double(
                    ((predicted - data.slice(alongAxis: 1, 1..<(t + 1)).reshaped(to: [4 * t, 3])).squared().mean()
                        * Float(t)).item)
            }
        }
        func recomputedOperatorLoss() throws -> Double {
            Double(try withoutGradients { try model.loss(data, objective: objective) }.forward.item)
        }
        let original = parameter.value.detached()
        let step: Float = 2e-3
        var fixedDifference = [Double](), recomputedDifference = [Double]()
        for i in 0..<original.count {
            var values = original.scalars
            values[i] += step
            parameter.assign(Tensor(shape: original.shape, scalars: values))
            let (fixedUp, recomputedUp) = (fixedOperatorLoss(), try recomputedOperatorLoss())
            values[i] -= 2 * step
            parameter.assign(Tensor(shape: original.shape, scalars: values))
            let (fixedDown, recomputedDown) = (fixedOperatorLoss(), try recomputedOperatorLoss())
            fixedDifference.append((fixedUp - fixedDown) / Double(2 * step))
            recomputedDifference.append((recomputedUp - recomputedDown) / Double(2 * step))
        }
        parameter.assign(original)
        let gradient = parameter.grad!.scalars.map(Double.init)
        let scale = gradient.map(Swift.abs).max()!
        XCTAssertLessThan(maxDifference(gradient, fixedDifference), 2e-2 * scale, name)
        XCTAssertGreaterThan(maxDifference(gradient, recomputedDifference), 0.1 * scale, "C must not be differentiated")
    }

    func testTheObjectivesFlagTheEntropySign() {
        XCTAssertEqual(KoopmanAutoencoder.Objective.releasedCode.entropyWeight, 0.1)
        XCTAssertEqual(KoopmanAutoencoder.Objective.paperSign.entropyWeight, -0.1)
        XCTAssertTrue(KoopmanAutoencoder.Objective.releasedCode.entropyConvention.contains("minimises S"))
        XCTAssertTrue(KoopmanAutoencoder.Objective.paperSign.entropyConvention.contains("maximises S"))
    }

    /// A short run on rotating sequences learns, keeps an operator for rollouts and stops on NaN
    /// data with a message.
    func testAShortRunLearnsAndRollsOut() throws {
        var rng = PhiloxGenerator(seed: 9)
        let model = KoopmanAutoencoder(observationDimension: 4, hidden: [32], latentDimension: 4, using: &rng)
        let data = windows(count: 32, length: 9, d: 4, using: &rng)
        let records = try model.fit(windows: data, objective: .paperSign, epochs: 100, batchSize: 8, using: &rng)
        XCTAssertEqual(records.count, 100)
        XCTAssertLessThan(records.last!.forward, 0.5 * records.first!.forward)
        let c = try XCTUnwrap(model.koopmanOperator)
        XCTAssertEqual([c.rows, c.columns], [4, 4])
        let initial = data.slice(alongAxis: 1, 0..<1).reshaped(to: [32, 4])
        let rolled = model.rollout(from: initial, steps: 8)
        XCTAssertEqual(rolled.shape, [32, 9, 4])
        let error = (rolled - data).squared().mean().item
        XCTAssertLessThan(error, (data * data).mean().item, "a rollout beats predicting zeros")

        var bad = data.scalars
        bad[17] = .nan
        XCTAssertThrowsError(
            try model.fit(
                windows: Tensor(shape: data.shape, scalars: bad), objective: .paperSign, epochs: 1, using: &rng)
        ) { XCTAssertTrue("\($0)".contains("is nan"), "\($0)") }
    }
}
