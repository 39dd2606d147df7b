import Foundation
import InertiaTensor
import XCTest

@testable import InertiaGenerative

/// `diffusion-trajectory-alignment.md` 2.2-2.4 and 6: the cosine schedule, the alignment term
/// (zero when the implied clean design is the iterate, absent at weight 0), and DDIM.
final class TrajectoryAlignmentTests: XCTestCase {
    func model(seed: UInt64 = 1) -> TrajectoryAlignedDiffusion {
        var rng = PhiloxGenerator(seed: seed)
        let m = TrajectoryAlignedDiffusion(dimension: 6, conditionDimension: 2, hidden: [16], using: &rng)
        for (_, p) in m.network.namedParameters() {
            p.assign(Tensor.normal(p.shape, mean: 0, standardDeviation: 0.3, using: &rng))
        }
        return m
    }

    func testTheCosineSchedule() {
        let m = model()
        func f(_ tau: Double) -> Double { pow(cos((tau + 0.008) / 1.008 * Double.pi / 2), 2) }
        for t in [0, 1, 500, 998] {
            XCTAssertEqual(m.alphaBar[t], f(Double(t + 1) / 1000) / f(0), accuracy: 1e-12, "t = \(t)")
        }
        // The clip acts only at the last index: beta = 0.999 there.
        XCTAssertEqual(m.alphaBar[999] / m.alphaBar[998], 1 - 0.999, accuracy: 1e-12)
        XCTAssertTrue(zip(m.alphaBar.dropFirst(), m.alphaBar).allSatisfy { $0 < $1 })
    }

    /// At weight 0 the loss is the plain eps MSE; the alignment term is the MSE of the iterate
    /// to the clipped implied clean design, so it vanishes when the iterate is that design.
    func testTheAlignmentTerm() {
        let m = model()
        var rng = PhiloxGenerator(seed: 2)
        let x0 = Tensor.uniform([4, 6], low: -1, high: 1, using: &rng)
        let c = Tensor.normal([4, 2], mean: 0, standardDeviation: 1, using: &rng)
        var a = PhiloxGenerator(seed: 3), replay = PhiloxGenerator(seed: 3)
        let plain = m.loss(x0, intermediate: x0, condition: c, alignmentWeight: 0, using: &a).item
        let t = (0..<4).map { _ in replay.nextInt(below: 1000) }
        let noise = Tensor(shape: [4, 6], scalars: (0..<24).map { _ in Float(replay.nextNormal()) })
        let sa = Tensor(shape: [4, 1], scalars: t.map { Float(m.alphaBar[$0].squareRoot()) })
        let sb = Tensor(shape: [4, 1], scalars: t.map { Float((1 - m.alphaBar[$0]).squareRoot()) })
        let xt = sa * x0 + sb * noise
        let predicted = m.predictedNoise(xt, timesteps: t, condition: c)
        XCTAssertEqual(plain, (predicted - noise).squared().mean().item, accuracy: 1e-6)
        let clean = ((xt - sb * predicted) / sa).clamped(lower: -1, upper: 1)
        var b = PhiloxGenerator(seed: 3)
        let aligned = m.loss(x0, intermediate: clean, condition: c, alignmentWeight: 1, using: &b).item
        XCTAssertEqual(aligned, plain, accuracy: 1e-5, "the iterate equals the implied clean design")
        var e = PhiloxGenerator(seed: 3)
        let away = m.loss(x0, intermediate: clean + 0.5, condition: c, alignmentWeight: 2, using: &e).item
        XCTAssertEqual(away, plain + 2 * 0.25, accuracy: 1e-4)
    }

    /// One DDIM step returns the clipped clean design implied at t = 999; samples stay in [-1, 1].
    func testDDIM() {
        let m = model()
        var rng = PhiloxGenerator(seed: 4)
        let noise = Tensor.normal([5, 6], mean: 0, standardDeviation: 1, using: &rng)
        let c = Tensor.normal([5, 2], mean: 0, standardDeviation: 1, using: &rng)
        let one = m.sample(noise: noise, condition: c, steps: 1)
        let abar = m.alphaBar[999]
        let predicted = m.predictedNoise(noise, timesteps: [Int](repeating: 999, count: 5), condition: c)
        let expected = ((noise - Float((1 - abar).squareRoot()) * predicted) / Float(abar.squareRoot()))
            .clamped(lower: -1, upper: 1)
        XCTAssertEqual(one.scalars, expected.scalars)
        for steps in [2, 5, 50] {
            let x = m.sample(noise: noise, condition: c, steps: steps)
            XCTAssertTrue(x.scalars.allSatisfy { (-1...1).contains($0) }, "N = \(steps)")
        }
    }
}
