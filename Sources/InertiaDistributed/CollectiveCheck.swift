/// The collectives of a communicator against closed forms, on buffers whose every element is
/// exactly representable (sums of small integers), so any correct implementation passes exactly:
/// sums and means of rank-dependent buffers of odd length, empty buffers, a broadcast from the
/// last rank, an all-gather and a reduce-scatter. `inertia distributed check` runs it under
/// `mpirun`; every rank must call it.
public enum CollectiveCheck {
    /// Each check's name and whether it passed on this rank.
    public static func run(on world: any Communicator, length: Int = 1001) throws -> [(name: String, passed: Bool)] {
        let r = world.rank, p = world.size
        let rankSum = p * (p + 1) / 2
        var results: [(String, Bool)] = []

        var floats = (0..<length).map { Float((r + 1) * ($0 % 7)) }
        try world.allReduce(&floats, .sum)
        results.append(
            ("all-reduce sum, Float32, \(length) elements", floats == (0..<length).map { Float(rankSum * ($0 % 7)) }))

        var doubles = (0..<length).map { Double(p * (r + 1) * ($0 % 5)) }
        try world.allReduce(&doubles, .mean)
        results.append(("all-reduce mean, Float64", doubles == (0..<length).map { Double(rankSum * ($0 % 5)) }))

        var empty: [Float] = []
        try world.allReduce(&empty, .sum)
        results.append(("all-reduce of an empty buffer", empty.isEmpty))

        var broadcast = (0..<length).map { Double(r * 1000 + $0) }
        try world.broadcast(&broadcast, root: p - 1)
        results.append(("broadcast from the last rank", broadcast == (0..<length).map { Double((p - 1) * 1000 + $0) }))

        let gathered = try world.allGather((0..<3).map { Float(r * 10 + $0) })
        results.append(
            ("all-gather of 3-element blocks", gathered == (0..<p).flatMap { q in (0..<3).map { Float(q * 10 + $0) } }))

        let block = 5
        let scattered = try world.reduceScatter((0..<(p * block)).map { Float((r + 1) * $0) })
        results.append(
            ("reduce-scatter of 5-element blocks", scattered == (0..<block).map { Float(rankSum * (r * block + $0)) }))

        try world.barrier()
        var failures = [Double(results.filter { !$0.1 }.count)]
        try world.allReduce(&failures, .sum)
        results.append(("every rank passed every check", failures[0] == 0))
        return results
    }
}
