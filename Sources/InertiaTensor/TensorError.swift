/// Errors of the tensor layer.
///
/// Policy: the shape logic of every op lives in throwing validators (`Shape.broadcast`,
/// `Shape.normalizedAxis`, `Shape.matmulShape`, ...). Code handling untrusted shapes (files, user
/// input) calls them and gets a `TensorError`. The ops themselves treat a bad shape, axis or index as
/// a programming error, as `Array` does with an out-of-range index: they stop with the same message,
/// which names the op, the shapes and the values involved.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(op: String, detail: String)
    case invalidAxis(op: String, axis: Int, rank: Int)
    case indexOutOfRange(op: String, index: Int, bound: Int)
    case invalidArgument(op: String, detail: String)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let detail):
            return "\(op): shape mismatch: \(detail)"
        case .invalidAxis(let op, let axis, let rank):
            return
                "\(op): axis \(axis) is out of range for a tensor of rank \(rank) (valid: \(-max(rank, 1))..<\(max(rank, 1)))"
        case .indexOutOfRange(let op, let index, let bound):
            return "\(op): index \(index) is out of range 0..<\(bound)"
        case .invalidArgument(let op, let detail):
            return "\(op): \(detail)"
        }
    }
}

/// Stops with `message` when `condition` is false: a programming error such as a shape mismatch
/// (see `TensorError` for the policy). The one copy for every module of the package.
@inline(__always)
@usableFromInline
package func validated(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { preconditionFailure(message()) }
}

/// Runs a validator and stops with its message if it throws (see `TensorError` for the policy).
@inline(__always)
@usableFromInline
func validated<T>(_ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        preconditionFailure("\(error)")
    }
}
