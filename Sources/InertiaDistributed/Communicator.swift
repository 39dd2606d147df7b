import Foundation

/// A scalar the collectives move: Float32 gradients and parameters, Float64 statistics.
public protocol CommunicatedScalar: BinaryFloatingPoint, Sendable {}
extension Float: CommunicatedScalar {}
extension Double: CommunicatedScalar {}

/// How an all-reduce combines the ranks' buffers.
public enum ReduceOperation: Sendable {
    case sum
    /// The sum divided by the number of ranks.
    case mean
}

/// A collective failed or was given buffers that cannot go together.
public enum CommunicatorError: Error, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case failed(operation: String, code: Int32)

    public var description: String {
        switch self {
        case .invalidArgument(let detail): return "communicator: \(detail)"
        case .failed(let operation, let code): return "communicator: \(operation) failed with MPI error \(code)"
        }
    }
}

/// The ranks of a data-parallel job and their collectives, as MPI defines them: every rank calls
/// every collective in the same order with buffers of the same length (an all-gather's and a
/// reduce-scatter's per-rank block too), and every rank receives the same result (as the MPI
/// standard advises implementations to guarantee for its predefined reductions).
public protocol Communicator: AnyObject {
    /// This process's index, `0..<size`.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Waits until every rank has called it.
    func barrier() throws
    /// Replaces `buffer` on every rank by `root`'s.
    func broadcast<T: CommunicatedScalar>(_ buffer: inout [T], root: Int) throws
    /// Replaces `buffer` on every rank by the elementwise sum (or mean) over the ranks.
    func allReduce<T: CommunicatedScalar>(_ buffer: inout [T], _ operation: ReduceOperation) throws
    /// Every rank's `block` (all of one length), concatenated in rank order.
    func allGather<T: CommunicatedScalar>(_ block: [T]) throws -> [T]
    /// The elementwise sum over the ranks of `buffer` (length `size · n`), of which this rank
    /// keeps block `rank` (`n` elements).
    func reduceScatter<T: CommunicatedScalar>(_ buffer: [T]) throws -> [T]
}

extension Communicator {
    /// Checks a root and the divisibility of a reduce-scatter's buffer.
    func check(root: Int) throws {
        guard (0..<size).contains(root) else {
            throw CommunicatorError.invalidArgument("root \(root) is not a rank of a world of \(size)")
        }
    }

    func blockLength(ofScattered count: Int) throws -> Int {
        guard count % size == 0 else {
            throw CommunicatorError.invalidArgument(
                "reduce-scatter needs a length divisible by the \(size) ranks, got \(count)")
        }
        return count / size
    }
}

/// The world of one process: every collective is the identity (a reduction's mean divides by 1).
/// Training code written against `Communicator` runs unchanged without MPI.
public final class SingleProcessCommunicator: Communicator {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func barrier() throws {}
    public func broadcast<T: CommunicatedScalar>(_ buffer: inout [T], root: Int) throws { try check(root: root) }
    public func allReduce<T: CommunicatedScalar>(_ buffer: inout [T], _ operation: ReduceOperation) throws {}
    public func allGather<T: CommunicatedScalar>(_ block: [T]) throws -> [T] { block }
    public func reduceScatter<T: CommunicatedScalar>(_ buffer: [T]) throws -> [T] {
        _ = try blockLength(ofScattered: buffer.count)
        return buffer
    }
}

/// The communicator of this process: MPI's world when the package was built with the `MPI` trait
/// and the process was started by an MPI launcher (`mpirun`), a single process otherwise.
public enum World {
    public static func communicator() throws -> any Communicator {
        #if MPI
            if MPICommunicator.isLaunchedByMPI { return try MPICommunicator.world() }
        #endif
        return SingleProcessCommunicator()
    }

    /// Whether this build can run under MPI (the `MPI` package trait).
    public static var supportsMPI: Bool {
        #if MPI
            return true
        #else
            return false
        #endif
    }
}
