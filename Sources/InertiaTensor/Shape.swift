/// Shape logic shared by the ops: broadcasting as NumPy's, axis normalization, strides.
public enum Shape {
    /// Number of elements of a shape (1 for a scalar `[]`).
    @inlinable
    public static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n &*= d }
        return n
    }

    /// Number of elements of a shape read from untrusted input, and its size in bytes at
    /// `width` bytes each; nil when a dimension is negative or either number overflows `Int`.
    public static func checkedCount(_ shape: [Int], width: Int = 1) -> (count: Int, bytes: Int)? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = product
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: width)
        return overflow ? nil : (n, bytes)
    }

    /// Row-major strides, in elements.
    @inlinable
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s &*= shape[i]
        }
        return strides
    }

    /// Checks a shape: every dimension is non-negative.
    public static func validate(_ shape: [Int], op: String) throws {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw TensorError.invalidArgument(op: op, detail: "negative dimension \(bad) in shape \(shape)")
        }
    }

    /// The broadcast shape of `a` and `b` under NumPy's rules (align trailing dimensions; a
    /// dimension of 1 stretches).
    public static func broadcast(_ a: [Int], _ b: [Int], op: String = "broadcast") throws -> [Int] {
        if a == b { return a }
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw TensorError.shapeMismatch(
                    op: op, detail: "shapes \(a) and \(b) do not broadcast (dimension \(i): \(da) vs \(db))")
            }
        }
        return out
    }

    /// Checks that `shape` broadcasts to exactly `target` (as `expand` requires).
    public static func checkExpandable(_ shape: [Int], to target: [Int], op: String = "expand") throws {
        guard shape.count <= target.count else {
            throw TensorError.shapeMismatch(
                op: op, detail: "cannot expand shape \(shape) to lower-rank shape \(target)")
        }
        let offset = target.count - shape.count
        for (i, d) in shape.enumerated() where d != 1 && d != target[i + offset] {
            throw TensorError.shapeMismatch(
                op: op,
                detail:
                    "cannot expand shape \(shape) to \(target) (dimension \(i + offset): \(d) vs \(target[i + offset]))"
            )
        }
    }

    /// Maps a possibly negative axis (`-1` is the last) into `0..<rank`.
    public static func normalizedAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let r = max(rank, 1)
        guard axis >= -r && axis < r else { throw TensorError.invalidAxis(op: op, axis: axis, rank: rank) }
        return axis < 0 ? axis + r : axis
    }

    /// Normalized, sorted, duplicate-free axes; `nil` means all axes.
    public static func normalizedAxes(_ axes: [Int]?, rank: Int, op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        var out = Set<Int>()
        for a in axes {
            let n = try normalizedAxis(a, rank: rank, op: op)
            guard out.insert(n).inserted else {
                throw TensorError.invalidArgument(op: op, detail: "axis \(a) is given twice in \(axes)")
            }
        }
        return out.sorted()
    }

    /// The shape after reducing `axes` of `shape`.
    public static func reduced(_ shape: [Int], axes: [Int], keepingDimensions: Bool) -> [Int] {
        var out: [Int] = []
        for (i, d) in shape.enumerated() {
            if axes.contains(i) {
                if keepingDimensions { out.append(1) }
            } else {
                out.append(d)
            }
        }
        return out
    }

    /// Result shape of a (batched) matrix product `[..., m, k] x [..., k, n] -> [..., m, n]` with
    /// the leading dimensions broadcast.
    public static func matmul(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard a.count >= 2, b.count >= 2 else {
            throw TensorError.shapeMismatch(
                op: "matmul", detail: "operands need rank >= 2, got \(a) and \(b) (reshape vectors to [1, n] or [n, 1])"
            )
        }
        guard a[a.count - 1] == b[b.count - 2] else {
            throw TensorError.shapeMismatch(
                op: "matmul", detail: "\(a) x \(b): inner dimensions \(a[a.count - 1]) and \(b[b.count - 2]) differ")
        }
        let batch = try broadcast(Array(a.dropLast(2)), Array(b.dropLast(2)), op: "matmul (batch dimensions)")
        return batch + [a[a.count - 2], b[b.count - 1]]
    }
}
