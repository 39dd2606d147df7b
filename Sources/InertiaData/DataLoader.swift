import InertiaTensor

/// Mini-batches of a `Dataset`: seeded shuffling (a new permutation each epoch, a pure function
/// of the seed and the epoch, so a run can resume at any batch), optional drop of the last
/// incomplete batch.
public struct DataLoader {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffles: Bool
    public let dropsLast: Bool
    public let seed: UInt64

    public init(
        _ dataset: Dataset, batchSize: Int, shuffles: Bool = true, dropsLast: Bool = false, seed: UInt64 = 0
    ) throws {
        guard batchSize > 0 else { throw DataError.invalidArgument("batch size must be positive, got \(batchSize)") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffles = shuffles
        self.dropsLast = dropsLast
        self.seed = seed
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropsLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Sample order of `epoch` (0-based).
    public func order(epoch: Int) -> [Int] {
        guard shuffles else { return Array(0..<dataset.count) }
        var rng = PhiloxGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        return rng.permutation(dataset.count)
    }

    /// The batches of `epoch`, from batch `start` on.
    public func batches(epoch: Int, startingAt start: Int = 0) -> [(inputs: Tensor, targets: Tensor)] {
        let order = order(epoch: epoch)
        return (start..<batchCount).map { batch(epoch: epoch, index: $0, order: order) }
    }

    /// Calls `body` with `steps` consecutive batches, epoch after epoch from epoch 0 (each epoch
    /// in its own order), for loops counted in optimizer steps rather than epochs.
    public func forEachBatch(steps: Int, _ body: (_ inputs: Tensor, _ targets: Tensor) throws -> Void) rethrows {
        var step = 0, epoch = 0
        while step < steps && batchCount > 0 {
            let order = order(epoch: epoch)
            for index in 0..<batchCount where step < steps {
                let (x, y) = batch(epoch: epoch, index: index, order: order)
                try body(x, y)
                step += 1
            }
            epoch += 1
        }
    }

    /// Batch `index` of an epoch whose sample order is `order`.
    public func batch(epoch: Int, index: Int, order: [Int]) -> (inputs: Tensor, targets: Tensor) {
        let shard = batch(epoch: epoch, index: index, order: order, rank: 0, worldSize: 1)
        return (shard.inputs, shard.targets)
    }

    /// Rank `rank`'s share of batch `index` in a world of `worldSize` ranks: positions `rank,
    /// rank + worldSize, ...` of the batch (PyTorch's DistributedSampler, within each batch), so
    /// the shares of all ranks together are exactly the batch one process reads, and a position
    /// (epoch, batch) means the same samples at any world size. A share may be empty (a last
    /// batch smaller than the world); `batchCount` is the whole batch's size.
    public func batch(
        epoch: Int, index: Int, order: [Int], rank: Int, worldSize: Int
    ) -> (
        inputs: Tensor, targets: Tensor, batchCount: Int
    ) {
        precondition(worldSize >= 1 && (0..<worldSize).contains(rank), "DataLoader: rank \(rank) of \(worldSize)")
        let whole = order[(index * batchSize)..<Swift.min(order.count, (index + 1) * batchSize)]
        let indices = Array(
            Swift.stride(from: whole.startIndex + rank, to: whole.endIndex, by: worldSize).map { whole[$0] })
        return (
            dataset.inputs.indexSelect(alongAxis: 0, indices: indices),
            dataset.targets.indexSelect(alongAxis: 0, indices: indices), whole.count
        )
    }
}
