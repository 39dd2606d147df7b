import Foundation
import XCTest

@testable import InertiaTensor

/// Forward mode beyond the per-op checks of `checkGradients` (which runs on every op of
/// `GradientTests`): several inputs and outputs, tangents on the reverse tape, custom ops, and
/// agreement with the double-backward JVP.
final class ForwardModeTests: XCTestCase {
    func testSeveralInputsAndOutputsAgainstTheirClosedForms() {
        let x = randomTensor([3, 4], seed: 1), y = randomTensor([4], seed: 2)
        let u = randomTensor([3, 4], seed: 3), v = randomTensor([4], seed: 4)
        let (values, tangents) = Tensor.jvp(
            of: { [$0[0] * $0[1], $0[0].sin() + $0[1]] }, at: [x, y], tangents: [u, v])
        XCTAssertEqual(values[0], x * y)
        XCTAssertEqual(values[1], x.sin() + y)
        assertClose(tangents[0].scalars, (u * y + x * v).scalars, tolerance: 1e-6)
        assertClose(tangents[1].scalars, (x.cos() * u + v).scalars, tolerance: 1e-6)
        XCTAssertNil(values[0].tangent, "the returned values carry no tangent")
    }

    func testAnOutputThatDoesNotDependOnTheInputsHasAZeroTangent() {
        let x = randomTensor([2, 3], seed: 5)
        let (_, tangents) = Tensor.jvp(of: { _ in [Tensor.ones([2])] }, at: [x], tangents: [x])
        XCTAssertEqual(tangents[0], Tensor.zeros([2]))
        let (_, masked) = Tensor.jvp(of: { [($0[0] .> 0) * 2] }, at: [x], tangents: [x])
        XCTAssertEqual(masked[0], Tensor.zeros([2, 3]))
    }

    func testForwardModeAgreesWithTheDoubleBackwardJVP() {
        let x = randomTensor([5, 6], seed: 6), u = randomTensor([5, 6], seed: 7)
        let w1 = randomTensor([6, 8], seed: 8), w2 = randomTensor([8, 3], seed: 9)
        let f = { (t: Tensor) in
            (t.matmul(w1).silu().matmul(w2).logSoftmax(alongAxis: 1) + t.norm(alongAxes: [1], keepingDimensions: true))
                .gelu()
        }
        let forward = Tensor.jvp(of: f, at: x, tangent: u)
        let reference = Tensor.jvpByDoubleBackward(of: f, at: x, tangent: u)
        XCTAssertEqual(forward.value, reference.value)
        assertClose(forward.jvp.scalars, reference.jvp.scalars, tolerance: 1e-5)
    }

    /// `L(W) = Σ (J_x f(x; W) u)²` for `f = act(x W)`: its gradient in `W` flows through the
    /// tangent (for GELU and SiLU through their fused second derivatives), checked against central
    /// differences of `L`.
    func testTangentsStayOnTheReverseTape() {
        let activations: [(Tensor) -> Tensor] = [{ $0.tanh() }, { $0.gelu() }, { $0.silu() }]
        for activation in activations { checkGradientThroughTheTangent(activation) }
    }

    func checkGradientThroughTheTangent(_ activation: @escaping (Tensor) -> Tensor, line: UInt = #line) {
        let x = randomTensor([4, 3], seed: 10), u = randomTensor([4, 3], seed: 11)
        let w = randomTensor([3, 2], seed: 12)
        func loss(_ w: Tensor) -> Tensor {
            let (_, tangents) = Tensor.jvp(of: { [activation($0[0].matmul(w))] }, at: [x], tangents: [u])
            return tangents[0].squared().sum()
        }
        let leaf = w.requiringGrad()
        loss(leaf).backward()
        let analytic = leaf.grad!.scalars
        let h: Float = 1e-3
        for i in 0..<w.count {
            var plus = w, minus = w
            plus.withUnsafeMutableBufferPointer { $0[i] += h }
            minus.withUnsafeMutableBufferPointer { $0[i] -= h }
            let numeric = (Double(loss(plus).item) - Double(loss(minus).item)) / (2 * Double(h))
            XCTAssertEqual(
                Double(analytic[i]), numeric, accuracy: 2e-2 * Swift.max(1, Swift.abs(numeric)), "W[\(i)]", line: line)
        }
    }

    /// A tangent that itself depends on parameters (MeanFlow's `(v, 1, 0)` with a learned `v`)
    /// carries their gradient too: `J u(θ)` for linear `f(x) = x A` is `u(θ) A`.
    func testATangentOnTheTapeCarriesItsOwnGradient() {
        let a = randomTensor([3, 3], seed: 13), x = randomTensor([2, 3], seed: 14)
        let theta = randomTensor([2, 3], seed: 15).requiringGrad()
        let (_, tangents) = Tensor.jvp(of: { [$0[0].matmul(a)] }, at: [x], tangents: [theta * 2])
        tangents[0].sum().backward()
        let expected = Tensor.matmul(Tensor.ones([2, 3]), a, transposingB: true) * 2
        assertClose(theta.grad!.scalars, expected.scalars, tolerance: 1e-6)
    }

    /// The real cube root as a custom op with hand-written backward and tangent rules.
    func cubeRoot(_ x: Tensor, withTangentRule: Bool = true) -> Tensor {
        let value = Tensor(shape: x.shape, scalars: x.scalars.map { Foundation.cbrt($0) })
        let rule: TangentRule = { t, _, y in t[0]! / (3 * y * y) }
        return Tensor.custom(
            "cubeRoot", inputs: [x], output: value, backward: { g, y in [g / (3 * y * y)] },
            tangent: withTangentRule ? rule : nil)
    }

    func testACustomOpDifferentiatesInBothModesAndTwice() {
        let x = randomTensor([3, 4], seed: 16, low: 0.5, high: 3)
        checkGradients([x]) { self.cubeRoot($0[0]) }
        checkGradients([x, randomTensor([3, 4], seed: 17)]) { self.cubeRoot($0[0] * $0[0] + 1) * $0[1] }
        // Second derivative: d²/dx² x^(1/3) = -(2/9) x^(-5/3), by backward of the gradient.
        let leaf = x.requiringGrad()
        cubeRoot(leaf).sum().backward(createGraph: true)
        let g = leaf.grad!
        leaf.zeroGrad()
        g.sum().backward()
        assertClose(leaf.grad!.scalars, x.scalars.map { -2 / 9 * Foundation.pow($0, -5 / 3) }, tolerance: 1e-4)
        // The double-backward JVP needs no tangent rule.
        let u = randomTensor([3, 4], seed: 18)
        let reference = Tensor.jvpByDoubleBackward(of: { self.cubeRoot($0, withTangentRule: false) }, at: x, tangent: u)
        let forward = Tensor.jvp(of: { self.cubeRoot($0) }, at: x, tangent: u)
        assertClose(reference.jvp.scalars, forward.jvp.scalars, tolerance: 1e-5)
    }

    func testAMakeDualTensorPropagatesOutsideJVP() {
        let x = Tensor([1, 2, 3]).withTangent(Tensor([1, 0, -1]))
        let y = (x * x).exp()
        XCTAssertEqual(x.tangent, Tensor([1, 0, -1]))
        assertClose(y.tangent!.scalars, [2 * Foundation.exp(1), 0, -6 * Foundation.exp(9)], tolerance: 1e-6)
        XCTAssertNil(y.withoutTangent().tangent)
        XCTAssertNil(y.detached().tangent)
    }
}
