import Foundation

/// A world of `size` ranks that are threads of one process, for testing data-parallel code
/// without MPI: each rank's thread calls the collectives on its own communicator. Reductions add
/// the ranks' buffers in rank order, so every rank gets the same, bit-identical result (as MPI's
/// predefined reductions give in practice). A collective waits for every rank; one a rank never
/// calls blocks the others until `timeout` passes, then fails on every waiting rank.
public final class InProcessCommunicator: Communicator, @unchecked Sendable {
    /// The state the ranks share: one deposit slot per rank and the last completed round.
    final class Round: @unchecked Sendable {
        let condition = NSCondition()
        var slots: [Any?]
        var arrived = 0
        var generation = 0
        var completed: [Any] = []
        let timeout: TimeInterval

        init(size: Int, timeout: TimeInterval) {
            slots = Array(repeating: nil, count: size)
            self.timeout = timeout
        }
    }

    public let rank: Int
    public let size: Int
    let round: Round

    init(rank: Int, size: Int, round: Round) {
        self.rank = rank
        self.size = size
        self.round = round
    }

    /// The communicators of one world, rank order; give each to its own thread.
    public static func group(size: Int, timeout: TimeInterval = 60) -> [InProcessCommunicator] {
        precondition(size >= 1, "InProcessCommunicator: a world needs at least one rank")
        let round = Round(size: size, timeout: timeout)
        return (0..<size).map { InProcessCommunicator(rank: $0, size: size, round: round) }
    }

    /// Runs `body` on `size` threads, each with its rank's communicator, and returns what each
    /// returned or threw, in rank order (threads get 8 MiB stacks).
    public static func run<T>(
        size: Int, timeout: TimeInterval = 60, _ body: @escaping (InProcessCommunicator) throws -> T
    ) -> [Result<T, Error>] {
        let slots = ResultSlots<T>(count: size)
        let group = DispatchGroup()
        for communicator in Self.group(size: size, timeout: timeout) {
            group.enter()
            let thread = Thread {
                slots.set(communicator.rank, Result { try body(communicator) })
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return slots.values
    }

    /// Deposits `value` and returns every rank's deposit of this round, in rank order.
    func exchange(_ value: Any, operation: String) throws -> [Any] {
        let round = self.round
        round.condition.lock()
        defer { round.condition.unlock() }
        round.slots[rank] = value
        round.arrived += 1
        if round.arrived == size {
            round.completed = round.slots.map { $0! }
            round.slots = Array(repeating: nil, count: size)
            round.arrived = 0
            round.generation += 1
            round.condition.broadcast()
            return round.completed
        }
        let generation = round.generation
        let deadline = Date().addingTimeInterval(round.timeout)
        while round.generation == generation {
            if !round.condition.wait(until: deadline) && round.generation == generation {
                throw CommunicatorError.invalidArgument(
                    "\(operation) on rank \(rank) timed out after \(round.timeout) s waiting for the other ranks")
            }
        }
        return round.completed
    }

    public func barrier() throws { _ = try exchange(0, operation: "barrier") }

    public func broadcast<T: CommunicatedScalar>(_ buffer: inout [T], root: Int) throws {
        try check(root: root)
        let all = try exchange(buffer, operation: "broadcast")
        let rootBuffer = all[root] as! [T]
        guard rootBuffer.count == buffer.count else {
            throw CommunicatorError.invalidArgument(
                "broadcast: rank \(rank) has \(buffer.count) elements, the root \(rootBuffer.count)")
        }
        buffer = rootBuffer
    }

    public func allReduce<T: CommunicatedScalar>(_ buffer: inout [T], _ operation: ReduceOperation) throws {
        let all = try exchange(buffer, operation: "all-reduce").map { $0 as! [T] }
        guard all.allSatisfy({ $0.count == buffer.count }) else {
            throw CommunicatorError.invalidArgument("all-reduce: the ranks' buffers differ in length")
        }
        for i in buffer.indices {
            var sum = all[0][i]
            for r in 1..<size { sum += all[r][i] }
            buffer[i] = operation == .mean ? sum / T(size) : sum
        }
    }

    public func allGather<T: CommunicatedScalar>(_ block: [T]) throws -> [T] {
        let all = try exchange(block, operation: "all-gather").map { $0 as! [T] }
        guard all.allSatisfy({ $0.count == block.count }) else {
            throw CommunicatorError.invalidArgument("all-gather: the ranks' blocks differ in length")
        }
        return all.flatMap { $0 }
    }

    public func reduceScatter<T: CommunicatedScalar>(_ buffer: [T]) throws -> [T] {
        let n = try blockLength(ofScattered: buffer.count)
        var reduced = buffer
        try allReduce(&reduced, .sum)
        return Array(reduced[(rank * n)..<((rank + 1) * n)])
    }
}

/// One result per rank, written from the ranks' threads.
final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<T, Error>) { lock.withLock { slots[index] = result } }

    var values: [Result<T, Error>] { lock.withLock { slots.map { $0! } } }
}
