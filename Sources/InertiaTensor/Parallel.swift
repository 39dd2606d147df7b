import Foundation
import Synchronization

/// Parallel loops for the kernels, on `ThreadPool`'s workers.
///
/// Work is cut into chunks whose boundaries depend on the problem size only, never on the thread
/// count, and each chunk's arithmetic is independent of which thread runs it, so 1 and 2 threads
/// give bit-identical results.
public enum Parallel {
    private static let width = Mutex<Int>(defaultThreadCount())

    /// Number of threads kernels may use (at least 1). Defaults to `INERTIA_THREADS` or the core
    /// count.
    public static var threadCount: Int {
        get { width.withLock { $0 } }
        set { width.withLock { $0 = max(1, newValue) } }
    }

    static func defaultThreadCount() -> Int {
        if let raw = ProcessInfo.processInfo.environment["INERTIA_THREADS"], let n = Int(raw), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Calls `body` once per chunk index in `0..<chunks`, on up to `threadCount` threads.
    public static func forEach(chunks: Int, _ body: (Int) -> Void) {
        let threads = min(threadCount, chunks)
        if threads <= 1 {
            for c in 0..<chunks { body(c) }
            return
        }
        ThreadPool.shared.run(chunks: chunks, helpers: threads - 1, body)
    }

    /// Splits `0..<count` into ranges of `grain` elements (the last shorter) and runs `body` on each;
    /// serially when there is a single chunk.
    @inlinable
    public static func forEachRange(count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = (count + grain - 1) / grain
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        forEach(chunks: chunks) { c in
            body(c * grain..<min(count, (c + 1) * grain))
        }
    }

    /// Elements per chunk of elementwise kernels; below it a pass runs on one thread.
    public static let elementwiseGrain = 1 << 16
}
