/// Reverse-mode automatic differentiation on a dynamic tape, as in PyTorch.
///
/// Each op on tensors that require gradients makes a `GradNode` holding its parents' nodes and a
/// backward function. `backward()` walks the graph from a result in reverse topological order and
/// accumulates `grad` on the leaves. Backward functions are written with differentiable tensor
/// ops, so `backward(createGraph: true)` records the backward pass itself: gradients of
/// gradients (Hessian-vector products). Forward mode (`ForwardMode.swift`) rides on the same tape.

/// Whether ops record the tape. Task-local, so a no-gradient scope in one task or thread does not
/// leak into another.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording gradients (for optimizer updates and evaluation).
@inlinable
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

/// Runs `body` with gradient recording on, even inside a no-gradient scope.
@inlinable
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(true, operation: body)
}

/// One node of the tape. A leaf (`backward == nil`) is a tensor created with `requiresGrad`; its
/// gradient accumulates in `grad`.
public final class GradNode {
    /// Maps the upstream gradient (and the op's output, when `savedOutput` is set) to one gradient
    /// per input, `nil` for inputs that need none.
    typealias Backward = (_ upstream: Tensor, _ output: Tensor) -> [Tensor?]

    let parents: [GradNode?]
    let backward: Backward?
    let shape: [Int]
    /// The op's output value, for ops whose derivative is cheapest from it (exp, tanh, softmax).
    let savedOutput: [Float]?
    /// Accumulated gradient of a leaf.
    var grad: Tensor?
    let name: String
    /// The storages this node holds for `TapeMemory`, released when it goes.
    var held: (generation: Int, addresses: [UnsafeRawPointer]) = (0, [])

    init(name: String, shape: [Int], parents: [GradNode?], savedOutput: [Float]?, backward: Backward?) {
        self.name = name
        self.shape = shape
        self.parents = parents
        self.savedOutput = savedOutput
        self.backward = backward
    }

    var isLeaf: Bool { backward == nil }

    deinit {
        if !held.addresses.isEmpty { TapeMemory.release(held) }
    }
}

extension Tensor {
    /// Whether this tensor takes part in differentiation. Setting it on a tensor makes it a leaf
    /// (a fresh one, with no accumulated gradient); clearing it detaches the tensor.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil || !node!.isLeaf {
                    node = GradNode(name: "leaf", shape: shape, parents: [], savedOutput: nil, backward: nil)
                }
            } else {
                node = nil
            }
        }
    }

    /// The same values marked as a leaf that requires gradients.
    public func requiringGrad() -> Tensor {
        var t = self
        t.node = GradNode(name: "leaf", shape: shape, parents: [], savedOutput: nil, backward: nil)
        return t
    }

    /// The accumulated gradient of a leaf; `nil` before any backward pass reached it.
    public var grad: Tensor? {
        get { node?.grad }
        nonmutating set { node?.grad = newValue }
    }

    /// Clears the accumulated gradient of a leaf.
    public func zeroGrad() { node?.grad = nil }

    /// The same values, cut off from the tape.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, node: nil) }

    /// Whether this tensor is the result of an op (not a leaf) on the tape.
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// Name of the op that made this tensor (`"leaf"` for a leaf, `nil` off the tape).
    public var gradFunctionName: String? { node?.name }

    /// Records an op on the tape when gradients are on and an input requires them, and computes
    /// its output's tangent by `tangent` when an input carries one. `saving` lists the tensors the
    /// backward rule captures (besides the output, with `savesOutput`), for `TapeMemory`.
    @usableFromInline
    static func record(
        _ name: String, _ result: Tensor, inputs: [Tensor], savesOutput: Bool = false,
        saving: @autoclosure () -> [Tensor] = [], tangent: TangentRule?,
        backward: @escaping (_ upstream: Tensor, _ output: Tensor) -> [Tensor?]
    ) -> Tensor {
        var out = result
        if GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) {
            let node = GradNode(
                name: name, shape: result.shape, parents: inputs.map(\.node),
                savedOutput: savesOutput ? result.storage : nil, backward: backward)
            if TapeMemory.isTracking { node.held = TapeMemory.hold(saving(), output: node.savedOutput) }
            out.node = node
        }
        return propagatingTangent(name, out, inputs: inputs, rule: tangent)
    }

    /// An op defined by its caller, differentiable both ways: `output` is its value (computed from
    /// the inputs' values, e.g. by a solver or a stable matrix function; any tape it carries is
    /// dropped), `backward` maps the upstream gradient and the output to one gradient per input
    /// (`nil`: none), and `tangent` maps the inputs' tangents (`nil`: zero), the inputs and the
    /// output to the output's tangent, for forward mode (`Tensor.jvp`). Write both with tensor ops
    /// to make them differentiable again. Without `tangent`, forward mode through the op stops with
    /// a message naming it; `jvpByDoubleBackward` still reaches it. A gradient of the wrong count or
    /// shape stops with a message naming the op and the input.
    public static func custom(
        _ name: String, inputs: [Tensor], output: Tensor,
        backward: @escaping (_ upstream: Tensor, _ output: Tensor) -> [Tensor?],
        tangent: TangentRule? = nil
    ) -> Tensor {
        let shapes = inputs.map(\.shape)
        let checked: GradNode.Backward = { g, y in
            let gradients = backward(g, y)
            validated {
                guard gradients.count == shapes.count else {
                    throw TensorError.invalidArgument(
                        op: "backward of \(name)", detail: "\(gradients.count) gradients for \(shapes.count) inputs")
                }
                for (i, (gradient, shape)) in zip(gradients, shapes).enumerated() {
                    if let gradient, gradient.shape != shape {
                        throw TensorError.shapeMismatch(
                            op: "backward of \(name)",
                            detail: "gradient \(i) has shape \(gradient.shape), input \(i) \(shape)")
                    }
                }
            }
            return gradients
        }
        return record(name, output.detached(), inputs: inputs, savesOutput: true, tangent: tangent, backward: checked)
    }

    /// The same values, with `observe` called on the gradient that reaches them in each backward
    /// pass (PyTorch's `register_hook`, without the option to change it). Off the tape, `self`.
    public func withGradientHook(_ observe: @escaping (Tensor) -> Void) -> Tensor {
        Self.record("gradient_hook", detached(), inputs: [self], tangent: { t, _, _ in t[0]! }) { g, _ in
            observe(g)
            return [g]
        }
    }

    /// Backpropagates from this tensor. A non-scalar result needs the upstream gradient `seed`
    /// (of the same shape). With `createGraph`, the backward pass is itself recorded, so the
    /// accumulated gradients can be differentiated again.
    public func backward(_ seed: Tensor? = nil, createGraph: Bool = false) {
        guard let root = node else {
            preconditionFailure(
                "backward: this tensor does not require gradients (no input had requiresGrad, or it was made in a no-gradient scope)"
            )
        }
        let upstream: Tensor
        if let seed {
            validated {
                guard seed.shape == shape else {
                    throw TensorError.shapeMismatch(
                        op: "backward", detail: "seed gradient has shape \(seed.shape), the tensor \(shape)")
                }
            }
            upstream = seed
        } else {
            validated {
                guard count == 1 else {
                    throw TensorError.invalidArgument(
                        op: "backward", detail: "needs a seed gradient for a non-scalar tensor of shape \(shape)")
                }
            }
            upstream = Tensor.ones(shape)
        }
        GradMode.$isEnabled.withValue(createGraph) {
            ForwardMode.$isSuspended.withValue(true) {
                Self.runBackward(from: root, upstream: upstream)
            }
        }
    }

    static func runBackward(from root: GradNode, upstream: Tensor) {
        // Reverse topological order by an iterative depth-first search (deep graphs must not
        // overflow the stack).
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.parents.count {
                stack.append((node, next + 1))
                if let p = node.parents[next], visited.insert(ObjectIdentifier(p)).inserted {
                    stack.append((p, 0))
                }
            } else {
                order.append(node)
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): upstream]
        for node in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let backward = node.backward else {
                node.grad = node.grad.map { $0 + g } ?? g
                continue
            }
            let output = Tensor(
                shape: node.shape, storage: node.savedOutput ?? [], node: node)
            let inputGrads = backward(g, output)
            for (parent, grad) in zip(node.parents, inputGrads) {
                guard let parent, let grad else { continue }
                let key = ObjectIdentifier(parent)
                grads[key] = grads[key].map { $0 + grad } ?? grad
            }
        }
    }

    /// The vector-Jacobian product `vᵀ J` of `f` at `x`: the gradient of `sum(f(x) * v)`.
    public static func vjp(
        of f: (Tensor) -> Tensor, at x: Tensor, cotangent v: Tensor, createGraph: Bool = false
    )
        -> (value: Tensor, vjp: Tensor)
    {
        let leaf = x.detached().requiringGrad()
        let y = withGradients { f(leaf) }
        y.backward(v, createGraph: createGraph)
        let g = leaf.grad ?? Tensor.zeros(x.shape)
        return (y.detached(), createGraph ? g : g.detached())
    }
}
