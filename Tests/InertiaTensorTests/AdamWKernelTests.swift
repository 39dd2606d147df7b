import XCTest
@testable import InertiaTensor

/// The fused AdamW pass against the update written out in Double, step by step.
final class AdamWKernelTests: XCTestCase {
    func testMatchesADoublePrecisionRederivationOverSeveralSteps() {
        let n = 37
        var rng = PhiloxGenerator(seed: 3)
        var p = Tensor.normal([n], using: &rng).scalars
        var m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        var pd = p.map(Double.init), md = [Double](repeating: 0, count: n), vd = md
        let h = AdamWKernel.Hyperparameters(learningRate: 1e-2, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1)
        for step in 1...5 {
            let g = Tensor.normal([n], using: &rng).scalars
            p.withUnsafeMutableBufferPointer { pp in
                m.withUnsafeMutableBufferPointer { pm in
                    v.withUnsafeMutableBufferPointer { pv in
                        AdamWKernel.step(h, step: step, parameters: pp.baseAddress!, gradients: g,
                                         firstMoments: pm.baseAddress!, secondMoments: pv.baseAddress!, count: n)
                    }
                }
            }
            let (lr, b1, b2, eps, wd) = (Double(h.learningRate), Double(h.beta1), Double(h.beta2), Double(h.epsilon), Double(h.weightDecay))
            for i in 0..<n {
                pd[i] *= 1 - lr * wd
                md[i] = b1 * md[i] + (1 - b1) * Double(g[i])
                vd[i] = b2 * vd[i] + (1 - b2) * Double(g[i]) * Double(g[i])
                let c1 = 1 - Foundation.pow(b1, Double(step)), c2 = 1 - Foundation.pow(b2, Double(step))
                pd[i] -= lr / c1 * md[i] / (vd[i].squareRoot() / c2.squareRoot() + eps)
            }
            assertClose(p, pd.map { Float($0) }, tolerance: 1e-5, "parameters at step \(step)")
            assertClose(m, md.map { Float($0) }, tolerance: 1e-5, "first moments at step \(step)")
            assertClose(v, vd.map { Float($0) }, tolerance: 1e-5, "second moments at step \(step)")
        }
    }
}
