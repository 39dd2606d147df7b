import Foundation

/// An n-dimensional array of `Float`, row-major and contiguous, with value semantics.
///
/// The scalars live in a copy-on-write `[Float]`: copying a tensor is O(1) and a write copies
/// only when the storage is shared. A tensor that requires gradients carries a node of the
/// autodiff tape (see `Autodiff.swift`); ops on such tensors record how to differentiate them. A
/// tensor may also carry a tangent for forward mode (see `ForwardMode.swift`).
public struct Tensor {
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    @usableFromInline var storage: [Float]
    @usableFromInline var node: GradNode?
    /// The tangent carried in forward-mode differentiation (see `ForwardMode.swift`).
    @usableFromInline var dual: TangentBox?

    /// A tensor from scalars in row-major order. The count must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        validated {
            try Shape.validate(shape, op: "Tensor(shape:scalars:)")
            guard Shape.count(shape) == scalars.count else {
                throw TensorError.shapeMismatch(
                    op: "Tensor(shape:scalars:)",
                    detail:
                        "shape \(shape) holds \(Shape.count(shape)) elements but \(scalars.count) scalars were given")
            }
        }
        self.shape = shape
        self.storage = scalars
        self.node = nil
        self.dual = nil
    }

    /// A tensor from scalars in row-major order, or a `TensorError` naming the mismatch.
    public static func checked(shape: [Int], scalars: [Float]) throws -> Tensor {
        try Shape.validate(shape, op: "Tensor.checked")
        guard Shape.count(shape) == scalars.count else {
            throw TensorError.shapeMismatch(
                op: "Tensor.checked",
                detail: "shape \(shape) holds \(Shape.count(shape)) elements but \(scalars.count) scalars were given")
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    @usableFromInline
    init(shape: [Int], storage: [Float], node: GradNode?) {
        self.shape = shape
        self.storage = storage
        self.node = node
        self.dual = nil
    }

    /// A 0-d tensor.
    public init(_ value: Float) {
        self.init(shape: [], storage: [value], node: nil)
    }

    /// A 1-d tensor.
    public init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], storage: scalars, node: nil)
    }

    /// A 2-d tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        validated {
            if let bad = rows.firstIndex(where: { $0.count != columns }) {
                throw TensorError.shapeMismatch(
                    op: "Tensor(rows)", detail: "row \(bad) has \(rows[bad].count) elements, row 0 has \(columns)")
            }
        }
        self.init(shape: [rows.count, columns], storage: rows.flatMap { $0 }, node: nil)
    }

    /// Makes a tensor by filling an uninitialized buffer of `Shape.count(shape)` scalars.
    @inlinable
    public init(shape: [Int], unsafeUninitialized fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = Shape.count(shape)
        self.init(
            shape: shape,
            storage: [Float](unsafeUninitializedCapacity: n) { buffer, count in
                fill(buffer)
                count = n
            },
            node: nil)
    }

    // MARK: Shape facts

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { storage.count }

    // MARK: Readout

    /// The scalars in row-major order.
    public var scalars: [Float] { storage }

    /// The value of a one-element tensor.
    public var item: Float {
        validated {
            guard storage.count == 1 else {
                throw TensorError.invalidArgument(op: "item", detail: "needs a one-element tensor, got shape \(shape)")
            }
        }
        return storage[0]
    }

    /// Reads the contiguous scalars.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Writes the scalars in place (for optimizer updates). The shape cannot change, and the
    /// write is not recorded on the autodiff tape: do it outside of any graph you differentiate.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// The scalar at a multi-index (one index per dimension, negative counts from the end).
    public subscript(_ index: Int...) -> Float {
        storage[flatIndex(index)]
    }

    func flatIndex(_ index: [Int]) -> Int {
        validated {
            guard index.count == shape.count else {
                throw TensorError.invalidArgument(
                    op: "subscript", detail: "\(index.count) indices given for a tensor of shape \(shape)")
            }
            var flat = 0
            for (i, raw) in index.enumerated() {
                let j = raw < 0 ? raw + shape[i] : raw
                guard j >= 0 && j < shape[i] else {
                    throw TensorError.indexOutOfRange(op: "subscript (dimension \(i))", index: raw, bound: shape[i])
                }
                flat = flat * shape[i] + j
            }
            return flat
        }
    }
}

// MARK: - Creation

extension Tensor {
    /// A tensor of one repeated value.
    public init(repeating value: Float, shape: [Int]) {
        validated { try Shape.validate(shape, op: "Tensor(repeating:shape:)") }
        self.init(shape: shape, storage: [Float](repeating: value, count: Shape.count(shape)), node: nil)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    public static func full(_ shape: [Int], _ value: Float) -> Tensor { Tensor(repeating: value, shape: shape) }

    /// `start, start + step, ...` below `end` (or above, for a negative step), as NumPy's `arange`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        validated {
            guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
                throw TensorError.invalidArgument(
                    op: "arange", detail: "needs finite bounds and a non-zero step, got \(start), \(end), step \(step)")
            }
        }
        let count = Swift.max(0, Int(((Double(end) - Double(start)) / Double(step)).rounded(.up)))
        return Tensor((0..<count).map { Float(Double(start) + Double($0) * Double(step)) })
    }

    /// `count` evenly spaced values from `start` to `end`, both included.
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        validated {
            guard count >= 0 else {
                throw TensorError.invalidArgument(op: "linspace", detail: "negative count \(count)")
            }
        }
        if count == 1 { return Tensor([start]) }
        let step = (Double(end) - Double(start)) / Double(count - 1)
        return Tensor((0..<count).map { $0 == count - 1 ? end : Float(Double(start) + Double($0) * step) })
    }

    /// The identity matrix `n x n` (or `n x m`).
    public static func eye(_ n: Int, _ m: Int? = nil) -> Tensor {
        let m = m ?? n
        var t = Tensor.zeros([n, m])
        t.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<Swift.min(n, m) { p[i * m + i] = 1 }
        }
        return t
    }
}

// MARK: - Description

extension Tensor: CustomStringConvertible {
    /// Nested brackets as NumPy prints them, eliding the middle of large dimensions.
    public var description: String {
        var header = "Tensor(shape: \(shape)"
        if requiresGrad { header += ", requiresGrad" }
        header += ")\n"
        if shape.isEmpty { return header + format(storage[0]) }
        var out = ""
        describe(dim: 0, offset: 0, strides: Shape.strides(shape), indent: 0, into: &out)
        return header + out
    }

    private func format(_ x: Float) -> String {
        String(format: "%.6g", Double(x))
    }

    private func describe(dim: Int, offset: Int, strides: [Int], indent: Int, into out: inout String) {
        let n = shape[dim]
        let edge = 3
        let indices: [Int?] = n > 2 * edge + 1 ? Array(0..<edge) + [nil] + Array(n - edge..<n) : Array(0..<n)
        out += "["
        for (k, i) in indices.enumerated() {
            if k > 0 { out += dim == shape.count - 1 ? ", " : ",\n" + String(repeating: " ", count: indent + 1) }
            guard let i else {
                out += "..."
                continue
            }
            if dim == shape.count - 1 {
                out += format(storage[offset + i])
            } else {
                describe(
                    dim: dim + 1, offset: offset + i * strides[dim], strides: strides, indent: indent + 1, into: &out)
            }
        }
        out += "]"
    }
}

extension Tensor: Equatable {
    /// Same shape and bit-for-bit the same scalars (NaN equals NaN); the tape is ignored.
    public static func == (a: Tensor, b: Tensor) -> Bool {
        a.shape == b.shape && a.storage.elementsEqual(b.storage) { $0.bitPattern == $1.bitPattern }
    }
}
