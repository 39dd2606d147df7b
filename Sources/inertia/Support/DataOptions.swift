import ArgumentParser
import Inertia

/// The data, network width, training length and threads that `train` and `compare` share.
struct DataOptions: ParsableArguments {
    @Option(help: "digits | moons | circles | spirals | checkerboard | fashion-mnist | <file.csv>")
    var data = "digits"

    @Option(help: "Folder of the Fashion-MNIST IDX files (default: Debian's location).")
    var dataDir = FashionMNIST.debianDirectory

    @Option(help: "Hidden layer sizes of the MLP, comma separated.")
    var hidden = "64"

    @Option(help: "Epochs.")
    var epochs = 10

    @Option(help: "Batch size.")
    var batchSize = 32

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    /// The hidden sizes of `--hidden`; `validate()` has checked them.
    var hiddenSizes: [Int] { hidden.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        let parts = hidden.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'")
        }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    /// Sets the kernels' thread count when `--threads` is given.
    func applyThreads() {
        if let threads { Parallel.threadCount = threads }
    }

    func load(testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        try NamedData.load(data, testFraction: testFraction, seed: seed, fashionDirectory: dataDir)
    }
}
