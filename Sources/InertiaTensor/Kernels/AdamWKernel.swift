import Foundation

/// The fused AdamW update (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR
/// 2019), in PyTorch's arithmetic: one pass reads parameter, gradient and both moments and writes
/// parameter and moments back (28 bytes per parameter), 8 lanes at a time.
public enum AdamWKernel {
    public struct Hyperparameters: Sendable, Equatable {
        public var learningRate: Float
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float
        public var weightDecay: Float

        public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    /// Step `step` (1-based) of AdamW over `count` parameters, in place:
    /// `p ← p(1 − lr·wd)`, `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
    /// `p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)`.
    public static func step(
        _ h: Hyperparameters, step: Int, parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
        firstMoments m: UnsafeMutablePointer<Float>, secondMoments v: UnsafeMutablePointer<Float>, count: Int
    ) {
        let t = Double(step)
        let biasCorrection1 = 1 - Foundation.pow(Double(h.beta1), t)
        let biasCorrection2Root = (1 - Foundation.pow(Double(h.beta2), t)).squareRoot()
        let stepSize = Float(Double(h.learningRate) / biasCorrection1)
        let decay = SIMD8<Float>(repeating: 1 - h.learningRate * h.weightDecay)
        let b1 = SIMD8<Float>(repeating: h.beta1), ob1 = SIMD8<Float>(repeating: 1 - h.beta1)
        let b2 = SIMD8<Float>(repeating: h.beta2), ob2 = SIMD8<Float>(repeating: 1 - h.beta2)
        let inverseRoot = SIMD8<Float>(repeating: Float(1 / biasCorrection2Root))
        let eps = SIMD8<Float>(repeating: h.epsilon)
        let negativeStep = SIMD8<Float>(repeating: -stepSize)
        @inline(__always) func update(_ pv: SIMD8<Float>, _ gv: SIMD8<Float>, _ mv: SIMD8<Float>, _ vv: SIMD8<Float>)
            -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
        {
            let m1 = FastMath.fma(b1, mv, ob1 * gv)
            let v1 = FastMath.fma(b2, vv, ob2 * gv * gv)
            let denominator = FastMath.fma(v1.squareRoot(), inverseRoot, eps)
            let p1 = FastMath.fma(negativeStep, m1 / denominator, pv * decay)
            return (p1, m1, v1)
        }
        Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let (p1, m1, v1) = update(
                    ElementwiseKernels.load(p + i), ElementwiseKernels.load(g + i),
                    ElementwiseKernels.load(m + i), ElementwiseKernels.load(v + i))
                ElementwiseKernels.store(p1, p + i)
                ElementwiseKernels.store(m1, m + i)
                ElementwiseKernels.store(v1, v + i)
                i += 8
            }
            if i < range.upperBound {
                let n = range.upperBound - i
                let (p1, m1, v1) = update(
                    ElementwiseKernels.loadPartial(p + i, n), ElementwiseKernels.loadPartial(g + i, n),
                    ElementwiseKernels.loadPartial(m + i, n), ElementwiseKernels.loadPartial(v + i, n))
                ElementwiseKernels.storePartial(p1, p + i, n)
                ElementwiseKernels.storePartial(m1, m + i, n)
                ElementwiseKernels.storePartial(v1, v + i, n)
            }
        }
    }
}
