import Synchronization

/// The bytes of activations the autodiff tape holds for backward passes: the tensors each op saves
/// for its backward rule (a product's operands, an activation's input or output, a softmax's
/// output, ...), counted once per storage however many ops share it, from when an op records them
/// until its node is freed (after the graph's last tensor goes). Parameters (leaves that require
/// gradients) are not activations and are left out, as are a custom op's captured tensors (only its
/// output is seen). Off by default; `measuring` turns it on for a scope and reports the peak, the
/// figure MAN's local-learning memory comparison needs.
public enum TapeMemory {
    private struct Ledger {
        var isTracking = false
        /// Counts the scopes, so that a node from an earlier scope releases nothing in a later one.
        var generation = 0
        /// References from live nodes to each saved storage, by its address, with its size.
        var held: [UnsafeRawPointer: (references: Int, bytes: Int)] = [:]
        var current = 0
        var peak = 0
    }

    private static let ledger = Mutex(Ledger())

    /// Whether ops register what they save (checked once per recorded op).
    static var isTracking: Bool { ledger.withLock { $0.isTracking } }

    /// Bytes held now (0 when not tracking).
    public static var currentBytes: Int { ledger.withLock { $0.current } }

    /// The most bytes held at once since tracking started or the peak was last reset.
    public static var peakBytes: Int { ledger.withLock { $0.peak } }

    /// Restarts the peak from the bytes held now.
    public static func resetPeak() { ledger.withLock { $0.peak = $0.current } }

    /// Runs `body` with tracking on and returns its result with the peak bytes held during it
    /// (ops recorded before the scope are not counted). Scopes do not nest.
    public static func measuring<R>(_ body: () throws -> R) rethrows -> (result: R, peakBytes: Int) {
        ledger.withLock {
            precondition(!$0.isTracking, "TapeMemory.measuring: scopes do not nest")
            $0 = Ledger(isTracking: true, generation: $0.generation + 1)
        }
        defer { ledger.withLock { $0.isTracking = false } }
        let result = try body()
        return (result, peakBytes)
    }

    /// Registers the storages of `tensors` (not parameters) and of `output` for a new node;
    /// returns what to release when the node goes.
    static func hold(_ tensors: [Tensor], output: [Float]?) -> (generation: Int, addresses: [UnsafeRawPointer]) {
        var entries: [(UnsafeRawPointer, Int)] = []
        for t in tensors where !(t.node?.isLeaf ?? false) && t.count > 0 {
            t.withUnsafeBufferPointer { entries.append((UnsafeRawPointer($0.baseAddress!), $0.count * 4)) }
        }
        if let output, !output.isEmpty {
            output.withUnsafeBufferPointer { entries.append((UnsafeRawPointer($0.baseAddress!), $0.count * 4)) }
        }
        return ledger.withLock { l in
            guard l.isTracking else { return (l.generation, []) }
            for (address, bytes) in entries {
                if let entry = l.held[address] {
                    l.held[address] = (entry.references + 1, entry.bytes)
                } else {
                    l.held[address] = (1, bytes)
                    l.current += bytes
                    l.peak = Swift.max(l.peak, l.current)
                }
            }
            return (l.generation, entries.map(\.0))
        }
    }

    /// Releases a node's storages.
    static func release(_ held: (generation: Int, addresses: [UnsafeRawPointer])) {
        ledger.withLock { l in
            guard l.generation == held.generation else { return }
            for address in held.addresses {
                guard let entry = l.held[address] else { continue }
                if entry.references == 1 {
                    l.held[address] = nil
                    l.current -= entry.bytes
                } else {
                    l.held[address] = (entry.references - 1, entry.bytes)
                }
            }
        }
    }
}
