import Foundation
import InertiaTestSupport
import XCTest

@testable import InertiaTensor

/// The differentiable spectral functions: values against closed forms and the specs' fixtures,
/// gradients and tangents against central differences (`checkGradients`), and the guards at
/// repeated eigenvalues.
final class SpectralTests: XCTestCase {
    /// A random symmetric positive definite matrix `B Bᵀ + shift·I`.
    func spd(_ n: Int, seed: UInt64, shift: Float = 0.5) -> Tensor {
        let b = randomTensor([n, n], seed: seed)
        return b.matmul(b.transposed()) + Tensor.eye(n) * shift
    }

    func testEigenvaluesOfATwoByTwoMatrixAndTheirDerivatives() {
        let (a, b, c): (Float, Float, Float) = (1.5, -0.4, 0.3)
        let values = Tensor([[a, b], [b, c]]).symmetricEigenvalues().scalars
        let mid = (a + c) / 2, radius = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
        assertClose(values, [mid - radius, mid + radius], tolerance: 1e-6)
        checkGradients([randomTensor([4, 4], seed: 1)]) { $0[0].symmetricEigenvalues() }
        checkGradients([randomTensor([2, 3, 3], seed: 2)]) { $0[0].symmetricEigenvalues() }
    }

    func testTheDecompositionReconstructsAndDifferentiates() {
        let a = randomTensor([2, 4, 4], seed: 3)
        let (values, vectors) = a.symmetricEigen()
        let rebuilt = Tensor.matmul(vectors * values.unsqueezed(axis: -2), vectors, transposingB: true)
        assertClose(rebuilt.scalars, ((a + a.transposed()) * 0.5).scalars, tolerance: 1e-5)
        let gram = Tensor.matmul(vectors, vectors, transposingA: true)
        assertClose(gram.scalars, Tensor.concatenate([Tensor.eye(4), Tensor.eye(4)]).scalars, tolerance: 1e-5)
        // Functions that do not depend on the eigenvectors' signs: weighted squares of their entries
        // and the values.
        let w = randomTensor([2, 4, 4], seed: 4)
        checkGradients([a]) { x in
            let (values, vectors) = x[0].symmetricEigen()
            return (vectors * vectors * w).sum(alongAxis: -1) + values
        }
    }

    func testTheGuardKeepsDerivativesFiniteAtARepeatedEigenvalue() {
        let a = Tensor([[1, 0, 0], [0, 1, 0], [0, 0, 2]]).requiringGrad()
        let (values, vectors) = a.symmetricEigen()
        ((vectors * vectors).sum() + values.sum()).backward()
        XCTAssertTrue(a.grad!.scalars.allSatisfy(\.isFinite), "\(a.grad!.scalars)")
        let (_, tangents) = Tensor.jvp(
            of: { [$0[0].symmetricEigen().vectors] }, at: [a.detached()], tangents: [randomTensor([3, 3], seed: 5)])
        XCTAssertTrue(tangents[0].scalars.allSatisfy(\.isFinite))
    }

    func testSquareRootAndLogarithmOfSPDMatrices() {
        let a = spd(4, seed: 6)
        let root = a.matrixSquareRoot()
        assertClose(root.matmul(root).scalars, a.scalars, tolerance: 1e-5)
        let diagonal = Tensor([[2, 0], [0, 5]])
        assertClose(diagonal.matrixLogarithm().scalars, [Foundation.log(2), 0, 0, Foundation.log(5)], tolerance: 1e-6)
        checkGradients([a]) { $0[0].matrixSquareRoot() }
        checkGradients([a]) { $0[0].matrixLogarithm() }
        checkGradients([Tensor.stack([spd(3, seed: 7), spd(3, seed: 8)])]) { $0[0].matrixLogarithm() }
    }

    /// At `A = 2I` every divided difference is `f′(2)`: the gradient of `⟨sqrtm(A), W⟩` is
    /// `sym(W)/(2√2)`, where the eigenvector formulas would divide by zero.
    func testMatrixFunctionsDifferentiateAtRepeatedEigenvalues() {
        let w = randomTensor([3, 3], seed: 9)
        let a = (Tensor.eye(3) * 2).requiringGrad()
        (a.matrixSquareRoot() * w).sum().backward()
        let expected = (w + w.transposed()) * Float(0.5 / (2 * 2.0.squareRoot()))
        assertClose(a.grad!.scalars, expected.scalars, tolerance: 1e-6)
        checkGradients([Tensor.eye(3) * 2]) { $0[0].matrixSquareRoot() }
        checkGradients([Tensor.eye(3) * 2]) { $0[0].matrixLogarithm() }
    }

    func testVonNeumannEntropyMatchesTheKoopmanFixture() throws {
        let f = try fixture("information-koopman", "koopman_fixtures.json")
        let rho = matrix64(f["rho"]).tensor
        let entropy = rho.vonNeumannEntropy().item
        let expected = (f["von_neumann_entropy_centered"] as! NSNumber).doubleValue
        XCTAssertEqual(Double(entropy), expected, accuracy: 1e-5 * Swift.abs(expected) + 1e-6)
        let n = rho.shape[0]
        XCTAssertEqual(
            Double((Tensor.eye(n) / Float(n)).vonNeumannEntropy().item), Foundation.log(Double(n)), accuracy: 1e-6)
        let rankOne = Tensor([[1, 0, 0], [0, 0, 0], [0, 0, 0]])
        XCTAssertLessThan(rankOne.vonNeumannEntropy().item, 1e-6)
        checkGradients([rho]) { $0[0].vonNeumannEntropy() }
    }

    func testNuclearNormMatchesTheMSBRegFixture() throws {
        let f = try fixture("msbreg", "losses.json")
        let sv = f["L_sv"] as! [String: Any]
        let rows = (f["Z_online"] as! [[[NSNumber]]]).flatMap { $0 }.map { $0.map(\.floatValue) }
        let z = Tensor(rows)
        let scale = Float((Double(z.shape[0]) * Double(Swift.min(z.shape[0], z.shape[1]))).squareRoot())
        let leaf = z.requiringGrad()
        let loss = -leaf.nuclearNorm() / scale
        XCTAssertEqual(Double(loss.item), (sv["value"] as! NSNumber).doubleValue, accuracy: 1e-5)
        loss.backward()
        assertClose(leaf.grad!.scalars, matrix64(sv["grad_wrt_Z"]).scalars.map(Float.init), tolerance: 1e-5)
        assertClose(
            Tensor.matmul(z, z, transposingA: true).symmetricEigenvalues().squareRoot().scalars.reversed(),
            doubles(sv["singular_values"]).map(Float.init), tolerance: 1e-5)
        checkGradients([z]) { $0[0].nuclearNorm() }
        checkGradients([z.transposed()]) { $0[0].nuclearNorm() }
    }
}
