import Foundation

/// Unary elementwise ops and their gradients. Gradients are written with tensor ops, so they are
/// differentiable again (double backward).
extension Tensor {
    /// A unary op on the tape. `backward(g, x, y)` gets the upstream gradient, the input and the
    /// output. With `savesOutput` the tape keeps the output instead of the input, and `x` is the
    /// output again: the rule must then use `y` alone. An elementwise op's Jacobian is diagonal, so
    /// the same rule maps an input tangent to the output's, `backward(t, x, y)`, unless a fused
    /// `derivative` (`f′(x)` as one op) is given: then the tangent is `t · derivative(x)`.
    func unaryOp<K: UnaryKernel>(
        _ name: String, _ kernel: K, savesOutput: Bool = false, derivative: ((Tensor) -> Tensor)? = nil,
        backward: @escaping (_ g: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor
    ) -> Tensor {
        let result = mapForward(kernel)
        let input: Tensor? = savesOutput ? nil : withoutTangent()
        let rule: TangentRule = { t, x, y in derivative.map { t[0]! * $0(x[0]) } ?? backward(t[0]!, x[0], y) }
        return Tensor.record(
            name, result, inputs: [self], savesOutput: savesOutput, saving: input.map { [$0] } ?? [], tangent: rule
        ) { g, y in
            [backward(g, input ?? y, y)]
        }
    }

    public func abs() -> Tensor { unaryOp("abs", AbsKernel()) { g, x, _ in g * x.sign() } }

    public func squareRoot() -> Tensor {
        unaryOp("sqrt", SqrtKernel(), savesOutput: true) { g, _, y in g * 0.5 / y }
    }

    /// `1 / sqrt(x)`.
    public func rsqrt() -> Tensor {
        unaryOp("rsqrt", RsqrtKernel(), savesOutput: true) { g, _, y in g * -0.5 * y * y * y }
    }

    public func exp() -> Tensor { unaryOp("exp", ExpKernel(), savesOutput: true) { g, _, y in g * y } }

    public func log() -> Tensor { unaryOp("log", LogKernel()) { g, x, _ in g / x } }

    /// `log(1 + x)`, accurate for small `x`.
    public func log1p() -> Tensor {
        unaryOp("log1p", ScalarUnaryKernel { Foundation.log1p($0) }) { g, x, _ in g / (x + 1) }
    }

    public func sin() -> Tensor {
        unaryOp("sin", ScalarUnaryKernel { Foundation.sin($0) }) { g, x, _ in g * x.cos() }
    }

    public func cos() -> Tensor {
        unaryOp("cos", ScalarUnaryKernel { Foundation.cos($0) }) { g, x, _ in -(g * x.sin()) }
    }

    public func tanh() -> Tensor {
        unaryOp("tanh", ScalarUnaryKernel { Foundation.tanh($0) }, savesOutput: true) { g, _, y in g * (1 - y * y) }
    }

    public func sigmoid() -> Tensor {
        unaryOp("sigmoid", SigmoidKernel(), savesOutput: true) { g, _, y in g * y * (1 - y) }
    }

    /// The error function.
    public func erf() -> Tensor {
        unaryOp("erf", ScalarUnaryKernel { Foundation.erf($0) }) { g, x, _ in
            g * (-(x * x)).exp() * Float(2 / Double.pi.squareRoot())
        }
    }

    public func relu() -> Tensor { unaryOp("relu", ReluKernel()) { g, x, _ in g.reluGradient(at: x) } }

    /// `self` where `x > 0` (or `x` is NaN), else 0, in one pass: the ReLU's chain rule, as
    /// PyTorch's `threshold_backward`. Linear in `self`; `x` is a constant (the ReLU's derivative
    /// is zero almost everywhere), so its own derivative is the same masking.
    func reluGradient(at x: Tensor) -> Tensor {
        validated(shape == x.shape, "reluGradient: gradient \(shape) and input \(x.shape) differ")
        let result = Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { g in
                x.storage.withUnsafeBufferPointer { xs in
                    ElementwiseKernels.zip(
                        ReluGradientKernel(), g.baseAddress!, xs.baseAddress!, out.baseAddress!, count: count)
                }
            }
        }
        let mask = x.detached()
        return Tensor.record(
            "reluGradient", result, inputs: [self], tangent: { t, _, _ in t[0]!.reluGradient(at: mask) }
        ) {
            g, _ in [g.reluGradient(at: mask)]
        }
    }

    public func leakyRelu(negativeSlope: Float = 0.01) -> Tensor {
        unaryOp("leakyRelu", LeakyReluKernel(slope: negativeSlope)) { g, x, _ in
            let positive = x .> 0
            return g * (positive + (1 - positive) * negativeSlope)
        }
    }

    /// How `gelu` computes the Gaussian CDF.
    public enum GELUApproximation { case none, tanh }

    /// `x * Φ(x)`: with the erf-form CDF (PyTorch's default; `FastMath.normalCDF`, within a few ulp)
    /// or the tanh approximation.
    public func gelu(approximation: GELUApproximation = .none) -> Tensor {
        switch approximation {
        case .none:
            return unaryOp("gelu", GeluKernel(), derivative: { $0.geluDerivative() }) { g, x, _ in
                g * x.geluDerivative()
            }
        case .tanh:
            let c = Float((2 / Double.pi).squareRoot())
            let kernel = ScalarUnaryKernel { x in
                0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x)))
            }
            return unaryOp("geluTanh", kernel) { g, x, _ in
                let t = (c * (x + 0.044715 * x * x * x)).tanh()
                return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))
            }
        }
    }

    /// `GELU′(x) = Φ(x) + x φ(x)` (erf form) in one vector pass, the tangent and gradient factor;
    /// its derivative `GELU″(x) = φ(x)(2 − x²)` is fused too, so a loss of a JVP backpropagates
    /// through two kernels instead of the dozen ops of a composite formula.
    func geluDerivative() -> Tensor {
        unaryOp("geluDerivative", GeluDerivativeKernel()) { g, x, _ in g * x.geluSecondDerivative() }
    }

    /// `GELU″(x)`; its derivative `x φ(x)(x² − 4)` is composite (third order).
    func geluSecondDerivative() -> Tensor {
        unaryOp("geluSecondDerivative", GeluSecondDerivativeKernel()) { g, x, _ in
            g * x * (-0.5 * x * x).exp() * Float(1 / (2 * Double.pi).squareRoot()) * (x * x - 4)
        }
    }

    /// `SiLU′(x) = s(1 + x(1 − s))` with `s = σ(x)`, in one vector pass (the tangent rule's factor).
    func siluDerivative() -> Tensor {
        unaryOp("siluDerivative", SiluDerivativeKernel()) { g, x, _ in g * x.siluSecondDerivative() }
    }

    /// `SiLU″(x) = s(1 − s)(2 + x(1 − 2s))`; its derivative is composite (third order).
    func siluSecondDerivative() -> Tensor {
        unaryOp("siluSecondDerivative", SiluSecondDerivativeKernel()) { g, x, _ in
            let s = x.sigmoid(), slope = s * (1 - s)
            return g * (slope * (1 - 2 * s) * (2 + x * (1 - 2 * s)) + slope * (1 - 2 * s - 2 * x * slope))
        }
    }

    /// `x * sigmoid(x)` (swish).
    public func silu() -> Tensor {
        unaryOp("silu", SiluKernel(), derivative: { $0.siluDerivative() }) { g, x, _ in
            let s = x.sigmoid()
            return g * s * (1 + x * (1 - s))
        }
    }

    /// `log(1 + e^x)`, computed stably as `max(x, 0) + log1p(e^-|x|)`.
    public func softplus() -> Tensor {
        let kernel = ScalarUnaryKernel { x in Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
        return unaryOp("softplus", kernel) { g, x, _ in g * x.sigmoid() }
    }

    /// -1, 0 or 1 (NaN stays NaN); its gradient is zero.
    public func sign() -> Tensor { mapForward(SignKernel()) }

    /// Values limited to `lower...upper`; the gradient passes where `lower <= x <= upper`.
    public func clamped(lower: Float = -.infinity, upper: Float = .infinity) -> Tensor {
        validated {
            guard !(lower > upper) else {
                throw TensorError.invalidArgument(
                    op: "clamped", detail: "lower bound \(lower) exceeds upper bound \(upper)")
            }
        }
        return unaryOp("clamp", ClampKernel(lower: lower, upper: upper)) { g, x, _ in
            g * (x .>= lower) * (x .<= upper)
        }
    }

    /// `x^p` for a scalar exponent.
    public func pow(_ p: Float) -> Tensor {
        unaryOp("pow", PowKernel(exponent: p)) { g, x, _ in
            p == 0 ? Tensor.zeros(x.shape) : g * p * x.pow(p - 1)
        }
    }

    public func squared() -> Tensor { self * self }
}
