import Foundation

/// The datasets the command line accepts by name, or a CSV file.
public enum NamedData {
    public static let names = ["digits", "moons", "circles", "spirals", "checkerboard", "fashion-mnist"]

    /// Train and test sets: built-in and synthetic data and CSV files split by `testFraction`
    /// (seeded), Fashion-MNIST with its own test set.
    public static func load(
        _ name: String, testFraction: Double, seed: UInt64, fashionDirectory: String = FashionMNIST.debianDirectory
    )
        throws -> (train: Dataset, test: Dataset)
    {
        switch name {
        case "digits": return try Digits.load().split(testFraction: testFraction, seed: seed)
        case "moons":
            return try Synthetic.moons(count: 2000, noise: 0.15, seed: seed).split(
                testFraction: testFraction, seed: seed)
        case "circles":
            return try Synthetic.circles(count: 2000, noise: 0.08, seed: seed).split(
                testFraction: testFraction, seed: seed)
        case "spirals":
            return try Synthetic.spirals(count: 3000, classes: 3, seed: seed).split(
                testFraction: testFraction, seed: seed)
        case "checkerboard":
            return try Synthetic.checkerboard(count: 4000, seed: seed).split(testFraction: testFraction, seed: seed)
        case "fashion-mnist": return try FashionMNIST.load(directory: fashionDirectory)
        default:
            guard FileManager.default.fileExists(atPath: name) else {
                throw DataError.fileNotFound(
                    path: name,
                    hint: "It is neither a built-in dataset (\(names.joined(separator: ", "))) nor an existing file.")
            }
            return try CSVData.load(name).split(testFraction: testFraction, seed: seed)
        }
    }
}
