/// Forward-mode automatic differentiation with dual tensors, as PyTorch's `torch.func.jvp` and
/// `torch.autograd.forward_ad`.
///
/// A tensor may carry a tangent (`withTangent(_:)`): the direction in which it moves. Every op on
/// the tape has a tangent rule beside its backward rule; when an input carries a tangent, the op
/// computes its output's tangent from the inputs' tangents (`nil` meaning zero). Tangent rules are
/// written with differentiable tensor ops on the primal values, so a tangent stays on the reverse
/// tape: a loss built from a Jacobian-vector product can be differentiated with respect to the
/// parameters (flow-map and MeanFlow training). One level of forward mode at a time: a function
/// differentiated by `jvp` must not call `jvp` on tensors that already carry tangents.

/// Holds a tangent (a struct cannot hold a value of its own type directly).
@usableFromInline
final class TangentBox {
    let value: Tensor
    init(_ value: Tensor) { self.value = value }
}

/// Computes an op's output tangent from its inputs' tangents (`nil`: zero), its inputs and its
/// output (both without their tangents, still on the reverse tape).
public typealias TangentRule = (_ tangents: [Tensor?], _ inputs: [Tensor], _ output: Tensor) -> Tensor

/// Whether ops propagate tangents. The backward pass turns it off: gradients need no tangents,
/// even when the values a backward rule captured carry some.
enum ForwardMode {
    @TaskLocal static var isSuspended = false
}

extension Tensor {
    /// The tangent this tensor carries in forward-mode differentiation, `nil` when none (zero).
    public var tangent: Tensor? { dual?.value }

    /// The same values (and place on the reverse tape) carrying `tangent`, of the same shape
    /// (PyTorch's `make_dual`).
    public func withTangent(_ tangent: Tensor) -> Tensor {
        validated {
            guard tangent.shape == shape else {
                throw TensorError.shapeMismatch(
                    op: "withTangent", detail: "tangent has shape \(tangent.shape), the tensor \(shape)")
            }
            guard tangent.dual == nil else {
                throw TensorError.invalidArgument(
                    op: "withTangent", detail: "the tangent carries a tangent itself (nested forward mode)")
            }
        }
        var t = self
        t.dual = TangentBox(tangent)
        return t
    }

    /// The same values without a tangent, keeping their place on the reverse tape.
    public func withoutTangent() -> Tensor {
        guard dual != nil else { return self }
        var t = self
        t.dual = nil
        return t
    }

    /// The output's tangent by `rule` when an input carries one (and forward mode is not
    /// suspended); `output` unchanged otherwise.
    static func propagatingTangent(
        _ name: String, _ output: Tensor, inputs: [Tensor], rule: TangentRule?
    ) -> Tensor {
        guard !ForwardMode.isSuspended, inputs.contains(where: { $0.dual != nil }) else { return output }
        guard let rule else {
            preconditionFailure(
                "forward-mode differentiation: the op \(name) has no tangent rule (use Tensor.jvpByDoubleBackward)")
        }
        let tangent = rule(inputs.map(\.tangent), inputs.map { $0.withoutTangent() }, output)
        validated {
            guard tangent.shape == output.shape else {
                throw TensorError.shapeMismatch(
                    op: "tangent of \(name)",
                    detail: "the rule gave shape \(tangent.shape), the output has \(output.shape)")
            }
        }
        var dual = output
        dual.dual = TangentBox(tangent.withoutTangent())
        return dual
    }

    /// The Jacobian-vector products of `f` at `primals` in the directions `tangents` (one per
    /// primal, same shapes), by forward mode: one pass computes the values and their tangents.
    /// Both stay on the reverse tape when the primals or tensors `f` captures require gradients,
    /// so a loss of them can be differentiated; detach them for a stop-gradient.
    public static func jvp(
        of f: ([Tensor]) -> [Tensor], at primals: [Tensor], tangents: [Tensor]
    ) -> (values: [Tensor], tangents: [Tensor]) {
        validated {
            guard primals.count == tangents.count else {
                throw TensorError.invalidArgument(
                    op: "jvp", detail: "\(primals.count) primals but \(tangents.count) tangents")
            }
            for (i, (x, u)) in zip(primals, tangents).enumerated() {
                guard x.shape == u.shape else {
                    throw TensorError.shapeMismatch(
                        op: "jvp", detail: "tangent \(i) has shape \(u.shape), its primal \(x.shape)")
                }
                guard x.dual == nil else {
                    throw TensorError.invalidArgument(
                        op: "jvp", detail: "primal \(i) already carries a tangent (nested forward mode)")
                }
            }
        }
        let outputs = ForwardMode.$isSuspended.withValue(false) {
            f(zip(primals, tangents).map { $0.withTangent($1.withoutTangent()) })
        }
        return (outputs.map { $0.withoutTangent() }, outputs.map { $0.tangent ?? Tensor.zeros($0.shape) })
    }

    /// The Jacobian-vector product `J u` of `f` at `x` by forward mode (see `jvp(of:at:tangents:)`).
    public static func jvp(of f: (Tensor) -> Tensor, at x: Tensor, tangent u: Tensor) -> (value: Tensor, jvp: Tensor) {
        let (values, tangents) = jvp(of: { [f($0[0])] }, at: [x], tangents: [u])
        return (values[0], tangents[0])
    }

    /// The Jacobian-vector product `J u` of `f` at `x` by the double-backward trick: with a
    /// dummy cotangent `w`, `g(w) = Jᵀ w` is linear in `w`, and its own vector-Jacobian product with
    /// `u` is `J u`. Two backward passes, exact; it needs backward rules only, so it reaches custom
    /// ops without a tangent rule. The results are detached.
    public static func jvpByDoubleBackward(
        of f: (Tensor) -> Tensor, at x: Tensor, tangent u: Tensor
    ) -> (value: Tensor, jvp: Tensor) {
        validated {
            guard u.shape == x.shape else {
                throw TensorError.shapeMismatch(op: "jvp", detail: "tangent has shape \(u.shape), the point \(x.shape)")
            }
        }
        return withGradients {
            let leaf = x.detached().requiringGrad()
            let y = f(leaf)
            let w = Tensor.zeros(y.shape).requiringGrad()
            y.backward(w, createGraph: true)
            guard let g = leaf.grad, g.node != nil else {
                // f does not depend on x through differentiable ops: J = 0.
                return (y.detached(), Tensor.zeros(y.shape))
            }
            g.backward(u)
            return (y.detached(), (w.grad ?? Tensor.zeros(y.shape)).detached())
        }
    }
}
