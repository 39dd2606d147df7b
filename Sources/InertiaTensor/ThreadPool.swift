import Foundation
import Synchronization

/// The kernels' worker threads: a few threads that spin briefly between jobs and then sleep, so
/// the many short parallel regions of a training step (each GEMM block, each large elementwise
/// pass) start in well under a microsecond instead of waking threads every time.
///
/// `run` hands out chunk indices through an atomic counter; the caller works too, and returns
/// when every chunk is done. Results never depend on which thread ran a chunk.
final class ThreadPool: @unchecked Sendable {
    static let shared = ThreadPool()

    private final class Worker: @unchecked Sendable {
        let ticket = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private var workers: [Worker] = []
    private let lock = NSLock()
    private let busy = NSLock()
    private var job: ((Int) -> Void)?
    private let next = Atomic<Int>(0)
    private var chunkCount = 0
    private let pending = Atomic<Int>(0)
    /// Spin iterations before a worker sleeps (a few tens of microseconds).
    private let spinLimit = 20_000

    /// Runs `body(0..<chunks)` on the caller and `helpers` workers.
    func run(chunks: Int, helpers: Int, _ body: (Int) -> Void) {
        // One job at a time: a kernel called from inside another's chunk runs serially.
        guard helpers > 0, busy.try() else {
            for c in 0..<chunks { body(c) }
            return
        }
        defer { busy.unlock() }
        ensureWorkers(helpers)
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            chunkCount = chunks
            next.store(0, ordering: .sequentiallyConsistent)
            pending.store(helpers, ordering: .sequentiallyConsistent)
            for w in workers.prefix(helpers) {
                w.ticket.wrappingAdd(1, ordering: .sequentiallyConsistent)
                if w.sleeping.exchange(false, ordering: .sequentiallyConsistent) { w.wake.signal() }
            }
            drain()
            while pending.load(ordering: .sequentiallyConsistent) > 0 {}
            job = nil
        }
    }

    private func drain() {
        while true {
            let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if c >= chunkCount { return }
            job!(c)
        }
    }

    private func ensureWorkers(_ count: Int) {
        lock.lock()
        defer { lock.unlock() }
        while workers.count < count {
            let w = Worker()
            workers.append(w)
            let thread = Thread { [unowned self] in self.loop(w) }
            thread.name = "inertia-worker-\(workers.count)"
            thread.start()
        }
    }

    private func loop(_ w: Worker) {
        var seen = 0
        while true {
            var spins = 0
            while w.ticket.load(ordering: .sequentiallyConsistent) == seen && spins < spinLimit { spins += 1 }
            if w.ticket.load(ordering: .sequentiallyConsistent) == seen {
                w.sleeping.store(true, ordering: .sequentiallyConsistent)
                if w.ticket.load(ordering: .sequentiallyConsistent) == seen {
                    w.wake.wait()
                } else if !w.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                    w.wake.wait()  // the caller took the flag and signals: consume it
                }
                continue
            }
            seen = w.ticket.load(ordering: .sequentiallyConsistent)
            drain()
            pending.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
