import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaNN

/// MSBReg's losses against `shared/fixtures/msbreg/losses.json` and the spec's invariants.
final class MSBRegTests: XCTestCase {
    func tensor(_ any: Any?) -> Tensor {
        func flatten(_ x: Any) -> (shape: [Int], values: [Float]) {
            if let rows = x as? [Any], !(rows.first is NSNumber) {
                let parts = rows.map(flatten)
                return ([rows.count] + parts[0].shape, parts.flatMap(\.values))
            }
            let numbers = (x as! [NSNumber]).map(\.floatValue)
            return ([numbers.count], numbers)
        }
        let (shape, values) = flatten(any!)
        return Tensor(shape: shape, scalars: values)
    }

    func testLossesMatchTheFixture() throws {
        let f = try fixture("msbreg", "losses.json")
        let online = tensor(f["Z_online"]), target = tensor(f["Z_target"])
        assertClose(MSBReg.centroids(target: target), tensor(f["centroids_normalised"]), tolerance: 1e-5, "centroids")
        XCTAssertEqual(
            Double(MSBReg.multiviewCentroidLoss(online: online, target: target).item),
            (f["L_mc"] as! NSNumber).doubleValue, accuracy: 1e-5)
        let sv = f["L_sv"] as! [String: Any]
        let rows = online.reshaped(to: [-1, online.shape[2]]).requiringGrad()
        let loss = MSBReg.singularValueLoss(rows)
        XCTAssertEqual(Double(loss.item), (sv["value"] as! NSNumber).doubleValue, accuracy: 1e-5)
        loss.backward()
        assertClose(rows.grad!, tensor(sv["grad_wrt_Z"]), tolerance: 1e-5, "singular-value gradient")
        XCTAssertEqual(
            Double(MSBReg.singularValueLoss(Tensor.eye(4)).item),
            (sv["orthonormal_4x4_value"] as! NSNumber).doubleValue,
            accuracy: 1e-6)
        let collapsed = Tensor(shape: [4, 4], scalars: (0..<16).map { $0 % 4 == 0 ? 1 : 0 })
        XCTAssertEqual(
            Double(MSBReg.singularValueLoss(collapsed).item), (sv["collapsed_4x4_value"] as! NSNumber).doubleValue,
            accuracy: 1e-6)
        let b = f["L_b"] as! [String: Any]
        let particles = online.reshaped(to: [-1, online.shape[2]]).requiringGrad()
        let brownian = MSBReg.brownianLoss(particles, noise: tensor(b["R"]))
        XCTAssertEqual(Double(brownian.item), (b["value"] as! NSNumber).doubleValue, accuracy: 1e-6)
        brownian.backward()
        assertClose(particles.grad!, tensor(b["grad_wrt_Z"]), tolerance: 1e-6, "Brownian gradient")
    }

    /// A random orthogonal matrix (Q of the Gram-Schmidt of a Gaussian matrix).
    func rotation(_ d: Int, using rng: inout PhiloxGenerator) -> Tensor {
        var columns: [[Double]] = []
        while columns.count < d {
            var v = (0..<d).map { _ in rng.nextNormal() }
            for c in columns {
                let dot = zip(v, c).map(*).reduce(0, +)
                v = zip(v, c).map { $0 - dot * $1 }
            }
            let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
            columns.append(v.map { $0 / norm })
        }
        return Tensor(shape: [d, d], scalars: (0..<(d * d)).map { Float(columns[$0 % d][$0 / d]) })
    }

    /// Invariants 1, 2 and 5: rotation and permutation invariance, the Euler identity, the zero
    /// and the collapse values.
    func testInvariancesAndEulerIdentity() {
        var rng = PhiloxGenerator(seed: 1)
        let online = MSBReg.normalizedRows(Tensor.normal([3, 4, 5], using: &rng))
        let target = MSBReg.normalizedRows(Tensor.normal([3, 4, 5], using: &rng))
        let q = rotation(5, using: &rng)
        let loss = MSBReg.multiviewCentroidLoss(online: online, target: target).item
        XCTAssertEqual(
            MSBReg.multiviewCentroidLoss(online: Tensor.matmul(online, q), target: Tensor.matmul(target, q)).item, loss,
            accuracy: 1e-5)
        let centroids = MSBReg.centroids(target: target).unsqueezed(axis: 1)
        let atCentroids = centroids + Tensor.zeros([3, 4, 5])
        XCTAssertEqual(MSBReg.multiviewCentroidLoss(online: atCentroids, target: target).item, 0, accuracy: 1e-6)
        let z = online.reshaped(to: [12, 5])
        for form in [MSBReg.SingularValueForm.nuclear, .variance] {
            let value = MSBReg.singularValueLoss(z, form: form).item
            XCTAssertEqual(MSBReg.singularValueLoss(Tensor.matmul(z, q), form: form).item, value, accuracy: 1e-5)
            let permuted = z.indexSelect(alongAxis: 0, indices: Array((0..<12).reversed()))
            XCTAssertEqual(MSBReg.singularValueLoss(permuted, form: form).item, value, accuracy: 1e-5)
        }
        let leaf = z.requiringGrad()
        let nuclear = MSBReg.singularValueLoss(leaf)
        nuclear.backward()
        XCTAssertEqual((leaf.grad! * z).sum().item, nuclear.item, accuracy: 1e-5)
        // Invariant 5. The singular values come from the Float32 Gram matrix, whose zero
        // eigenvalues come out at about eps * |Z|^2: their square roots add ~3e-4 of sigma_max each.
        let same = Tensor.ones([12, 1]) * z.slice(alongAxis: 0, 0..<1)
        XCTAssertEqual(MSBReg.singularValueLoss(same).item, -1 / Float(5).squareRoot(), accuracy: 2e-3)
        XCTAssertEqual(MSBReg.singularValueLoss(same, form: .variance).item, 4, accuracy: 1e-2)
        XCTAssertEqual(MSBReg.effectiveRank(same), 1, accuracy: 1e-6)
    }

    /// Invariant 3: zero-mean kicks, and the gradient's covariance I / (d R²) over many draws.
    func testBrownianKicksAreCentredWithTheStatedCovariance() {
        var rng = PhiloxGenerator(seed: 2)
        let (rows, d, draws) = (6, 4, 4000)
        let z = MSBReg.normalizedRows(Tensor.normal([rows, d], using: &rng))
        var sum = [Double](repeating: 0, count: d), second = [Double](repeating: 0, count: d * d)
        var lossSum = 0.0
        for _ in 0..<draws {
            let leaf = z.requiringGrad()
            let loss = MSBReg.brownianLoss(leaf, noise: MSBReg.brownianNoise(rows: rows, dimension: d, using: &rng))
            loss.backward()
            lossSum += Double(loss.item)
            let g = leaf.grad!.scalars.prefix(d).map(Double.init)
            for i in 0..<d {
                sum[i] += g[i]
                for j in 0..<d { second[i * d + j] += g[i] * g[j] }
            }
        }
        let scale = 1 / Double(d * rows * rows)
        XCTAssertEqual(
            lossSum / Double(draws), 0, accuracy: 4 * (1 / Double(d * rows)).squareRoot() / Double(draws).squareRoot())
        for i in 0..<d {
            XCTAssertEqual(sum[i] / Double(draws), 0, accuracy: 4 * scale.squareRoot() / Double(draws).squareRoot())
            for j in 0..<d {
                let covariance = second[i * d + j] / Double(draws)
                XCTAssertEqual(covariance, i == j ? scale : 0, accuracy: 0.1 * scale, "(\(i), \(j))")
            }
        }
    }

    /// BYOL's decay schedule, and invariant 4 through `ParameterEMA`: decay 1 freezes the target,
    /// 0 copies the online network.
    func testTargetScheduleAndTheTwoLimits() throws {
        XCTAssertEqual(MSBReg.targetDecay(step: 0, totalSteps: 100, base: 0.99), 0.99, accuracy: 1e-12)
        XCTAssertEqual(MSBReg.targetDecay(step: 100, totalSteps: 100, base: 0.99), 1, accuracy: 1e-12)
        XCTAssertEqual(MSBReg.targetDecay(step: 50, totalSteps: 100, base: 0.99), 0.995, accuracy: 1e-12)
        var rng = PhiloxGenerator(seed: 3)
        let online = Linear(3, 2, using: &rng)
        for decay: Float in [1, 0] {
            let average = ParameterEMA(target: try online.cloned { Linear(3, 2, using: &rng) }, decay: decay)
            let before = average.target.parameters.map(\.value.scalars)
            for p in online.parameters { p.assign(p.value + 1) }
            try average.update(from: online)
            let after = average.target.parameters.map(\.value.scalars)
            XCTAssertEqual(after, decay == 1 ? before : online.parameters.map(\.value.scalars))
        }
    }

    func testEffectiveRankOfIsotropicFeatures() {
        var rng = PhiloxGenerator(seed: 4)
        let rank = MSBReg.effectiveRank(Tensor.normal([4000, 8], using: &rng))
        XCTAssertEqual(rank, 8, accuracy: 0.1)
    }
}
