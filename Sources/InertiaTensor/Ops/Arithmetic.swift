/// Binary elementwise ops with NumPy broadcasting, and their gradients.

/// Copies its first operand (an `expand` through the broadcasting kernel).
struct FirstKernel: BinaryKernel {
    @inlinable @inline(__always) func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a }
}

extension Tensor {
    /// Forward of a broadcast binary op, off the tape.
    static func broadcastForward<K: BinaryKernel>(_ name: String, _ a: Tensor, _ b: Tensor, _ kernel: K) -> Tensor {
        let shape = validated { try Shape.broadcast(a.shape, b.shape, op: name) }
        return Tensor(shape: shape) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    ElementwiseKernels.broadcastZip(
                        kernel, pa.baseAddress!, shapeA: a.shape, pb.baseAddress!, shapeB: b.shape,
                        out.baseAddress!, shapeZ: shape)
                }
            }
        }
    }

    /// Forward of a unary op, off the tape.
    func mapForward<K: UnaryKernel>(_ kernel: K) -> Tensor {
        Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { p in
                ElementwiseKernels.map(kernel, p.baseAddress!, out.baseAddress!, count: p.count)
            }
        }
    }

    /// A broadcast binary op on the tape; `backward` gets the upstream gradient (of the broadcast
    /// shape) and returns gradients of that shape, which are summed back to each input's shape.
    /// `tangent` gets the inputs' tangents (`nil`: zero) and the inputs, and returns the output's
    /// tangent (broadcast to the output's shape here). `savesInputs`: the backward rule keeps both
    /// operands (for `TapeMemory`).
    static func binaryOp<K: BinaryKernel>(
        _ name: String, _ a: Tensor, _ b: Tensor, _ kernel: K, savesInputs: Bool = false,
        tangent: @escaping (_ ta: Tensor?, _ tb: Tensor?, _ a: Tensor, _ b: Tensor) -> Tensor,
        backward: @escaping (_ g: Tensor, _ needA: Bool, _ needB: Bool) -> (Tensor?, Tensor?)
    ) -> Tensor {
        let result = broadcastForward(name, a, b, kernel)
        let needA = a.node != nil, needB = b.node != nil
        let shapeA = a.shape, shapeB = b.shape
        let rule: TangentRule = { t, x, y in tangent(t[0], t[1], x[0], x[1]).expanded(to: y.shape) }
        return record(name, result, inputs: [a, b], saving: savesInputs ? [a, b] : [], tangent: rule) { g, _ in
            let (ga, gb) = backward(g, needA, needB)
            return [needA ? ga?.summed(toShape: shapeA) : nil, needB ? gb?.summed(toShape: shapeB) : nil]
        }
    }

    /// Sums a (broadcast) gradient back to `target`, the shape it was broadcast from.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        validated { try Shape.checkExpandable(target, to: shape, op: "summed(toShape:)") }
        let offset = rank - target.count
        var axes = Array(0..<offset)
        for (i, d) in target.enumerated() where d == 1 && shape[i + offset] != 1 { axes.append(i + offset) }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(to: target)
    }

    /// This tensor broadcast to `target` (NumPy's `broadcast_to`, PyTorch's `expand`), copied.
    public func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        validated { try Shape.checkExpandable(shape, to: target, op: "expanded(to:)") }
        let source = shape
        let result = Tensor(shape: target) { out in
            storage.withUnsafeBufferPointer { p in
                let zero: Float = 0
                withUnsafePointer(to: zero) { z in
                    ElementwiseKernels.broadcastZip(
                        FirstKernel(), p.baseAddress!, shapeA: source, z, shapeB: [], out.baseAddress!, shapeZ: target)
                }
            }
        }
        return Tensor.record("expand", result, inputs: [self], tangent: { t, _, _ in t[0]!.expanded(to: target) }) {
            g, _ in [g.summed(toShape: source)]
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binaryOp("add", a, b, AddKernel(), tangent: { ta, tb, _, _ in sum(ta, tb) }) { g, _, _ in (g, g) }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binaryOp("subtract", a, b, SubtractKernel(), tangent: { ta, tb, _, _ in sum(ta, tb.map { -$0 }) }) {
            g, _, needB in (g, needB ? -g : nil)
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binaryOp(
            "multiply", a, b, MultiplyKernel(), savesInputs: true,
            tangent: { ta, tb, a, b in sum(ta.map { $0 * b }, tb.map { a * $0 }) }
        ) {
            g, needA, needB in
            (needA ? g * b : nil, needB ? g * a : nil)
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binaryOp(
            "divide", a, b, DivideKernel(), savesInputs: true,
            tangent: { ta, tb, a, b in sum(ta.map { $0 / b }, tb.map { -$0 * a / (b * b) }) }
        ) {
            g, needA, needB in
            (needA ? g / b : nil, needB ? -g * a / (b * b) : nil)
        }
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(s) + a }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(s) - a }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(s) }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(s) * a }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    public static prefix func - (a: Tensor) -> Tensor {
        let result = a.mapForward(NegateKernel())
        return record("negate", result, inputs: [a], tangent: { t, _, _ in -t[0]! }) { g, _ in [-g] }
    }

    /// Elementwise maximum (NaN propagates; a tie sends half the gradient to each side, as PyTorch).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binaryOp(
            "maximum", a, b, MaximumKernel(), savesInputs: true,
            tangent: { ta, tb, a, b in selected(.greater, ta, tb, a, b) }
        ) {
            g, needA, needB in
            let aWins = Tensor.broadcastForward("maximum", a, b, CompareKernel(.greater))
            let tie = Tensor.broadcastForward("maximum", a, b, CompareKernel(.equal)) * 0.5
            return (needA ? g * (aWins + tie) : nil, needB ? g * (1 - aWins - tie) : nil)
        }
    }

    /// Elementwise minimum (NaN propagates; a tie sends half the gradient to each side).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binaryOp(
            "minimum", a, b, MinimumKernel(), savesInputs: true,
            tangent: { ta, tb, a, b in selected(.less, ta, tb, a, b) }
        ) {
            g, needA, needB in
            let aWins = Tensor.broadcastForward("minimum", a, b, CompareKernel(.less))
            let tie = Tensor.broadcastForward("minimum", a, b, CompareKernel(.equal)) * 0.5
            return (needA ? g * (aWins + tie) : nil, needB ? g * (1 - aWins - tie) : nil)
        }
    }

    /// The sum of the tangents that are not `nil` (at least one is).
    private static func sum(_ a: Tensor?, _ b: Tensor?) -> Tensor {
        switch (a, b) {
        case (let a?, let b?): a + b
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): preconditionFailure("a tangent rule ran without an input tangent")
        }
    }

    /// The tangent of `maximum` (`.greater`) or `minimum` (`.less`): `a`'s tangent where `a` wins,
    /// `b`'s where `b` does, their average at a tie (the one-sided derivatives' mean, as the
    /// backward rule shares the gradient).
    private static func selected(
        _ wins: CompareKernel.Relation, _ ta: Tensor?, _ tb: Tensor?, _ a: Tensor, _ b: Tensor
    ) -> Tensor {
        let aWins = Tensor.broadcastForward("maximum", a, b, CompareKernel(wins))
        let tie = Tensor.broadcastForward("maximum", a, b, CompareKernel(.equal)) * 0.5
        return sum(ta.map { $0 * (aWins + tie) }, tb.map { $0 * (1 - aWins - tie) })
    }

    /// `condition ? a : b` elementwise, where `condition` is nonzero; all three broadcast. The
    /// unselected side never leaks into the result (an infinity there stays out).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = validated {
            try Shape.broadcast(condition.shape, try Shape.broadcast(a.shape, b.shape, op: "where"), op: "where")
        }
        let mask = condition.detached().expanded(to: shape).mapForward(CompareKernel.NonZero())
        let av = a.detached().expanded(to: shape), bv = b.detached().expanded(to: shape)
        let result = Tensor(shape: shape) { out in
            mask.storage.withUnsafeBufferPointer { m in
                av.storage.withUnsafeBufferPointer { x in
                    bv.storage.withUnsafeBufferPointer { y in
                        for i in 0..<out.count { out[i] = m[i] != 0 ? x[i] : y[i] }
                    }
                }
            }
        }
        let needA = a.node != nil, needB = b.node != nil
        let shapeA = a.shape, shapeB = b.shape
        let rule: TangentRule = { t, _, _ in Tensor.where(mask, t[0] ?? Tensor(0), t[1] ?? Tensor(0)) }
        return record("where", result, inputs: [a, b], saving: [mask], tangent: rule) { g, _ in
            [needA ? (g * mask).summed(toShape: shapeA) : nil, needB ? (g * (1 - mask)).summed(toShape: shapeB) : nil]
        }
    }

    // MARK: Comparisons: masks of 1 (holds) and 0, off the tape.

    public static func .< (a: Tensor, b: Tensor) -> Tensor { broadcastForward("<", a, b, CompareKernel(.less)) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor {
        broadcastForward("<=", a, b, CompareKernel(.lessOrEqual))
    }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { broadcastForward(">", a, b, CompareKernel(.greater)) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor {
        broadcastForward(">=", a, b, CompareKernel(.greaterOrEqual))
    }
    public static func .== (a: Tensor, b: Tensor) -> Tensor { broadcastForward("==", a, b, CompareKernel(.equal)) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { broadcastForward("!=", a, b, CompareKernel(.notEqual)) }
    public static func .< (a: Tensor, s: Float) -> Tensor { a .< Tensor(s) }
    public static func .<= (a: Tensor, s: Float) -> Tensor { a .<= Tensor(s) }
    public static func .> (a: Tensor, s: Float) -> Tensor { a .> Tensor(s) }
    public static func .>= (a: Tensor, s: Float) -> Tensor { a .>= Tensor(s) }
    public static func .== (a: Tensor, s: Float) -> Tensor { a .== Tensor(s) }
    public static func .!= (a: Tensor, s: Float) -> Tensor { a .!= Tensor(s) }
}

extension CompareKernel {
    /// 1 where the lane is nonzero (NaN counts as nonzero).
    struct NonZero: UnaryKernel {
        @inlinable @inline(__always) func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8<Float>(repeating: 1).replacing(with: 0, where: x .== 0)
        }
    }
}
