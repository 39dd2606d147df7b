import InertiaTensor

/// An in-memory dataset: `inputs` with the samples along axis 0, and `targets` (class indices as
/// whole floats for classification, values for regression) with the same first dimension.
public struct Dataset {
    public let inputs: Tensor
    public let targets: Tensor
    /// Number of classes for a classification dataset, `nil` for regression.
    public let classCount: Int?

    public init(inputs: Tensor, targets: Tensor, classCount: Int? = nil) throws {
        guard inputs.rank >= 1, targets.rank >= 1, inputs.shape[0] == targets.shape[0] else {
            throw DataError.malformed(
                source: "Dataset",
                detail: "inputs \(inputs.shape) and targets \(targets.shape) hold different numbers of samples")
        }
        if let classCount {
            if let bad = targets.scalars.first(where: { !($0 >= 0 && $0 < Float(classCount) && $0 == $0.rounded()) }) {
                throw DataError.malformed(
                    source: "Dataset", detail: "label \(bad) is not a class index in 0..<\(classCount)")
            }
        }
        self.inputs = inputs
        self.targets = targets
        self.classCount = classCount
    }

    public var count: Int { inputs.shape[0] }

    /// Class labels as integers (for classification datasets).
    public var labels: [Int] { targets.scalars.map { Int($0) } }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        // Validated by construction: indices come from a permutation or a range of this dataset.
        try! Dataset(
            inputs: inputs.indexSelect(alongAxis: 0, indices: indices),
            targets: targets.indexSelect(alongAxis: 0, indices: indices), classCount: classCount)
    }

    /// A seeded random split into a training and a test part (`testFraction` of the samples).
    public func split(testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard testFraction > 0 && testFraction < 1 else {
            throw DataError.invalidArgument("test fraction must be in (0, 1), got \(testFraction)")
        }
        var rng = PhiloxGenerator(seed: seed)
        let order = rng.permutation(count)
        let testCount = Swift.max(1, Int((Double(count) * testFraction).rounded()))
        return (subset(Array(order[testCount...])), subset(Array(order[..<testCount])))
    }

    /// Inputs scaled feature-wise to zero mean and unit variance with the statistics of `reference`.
    public func standardized(using reference: Dataset? = nil) -> Dataset {
        let ref = (reference ?? self).inputs
        let mean = ref.mean(alongAxis: 0, keepingDimensions: true)
        let std = (ref.variance(alongAxes: [0], correction: 0, keepingDimensions: true) + 1e-8).squareRoot()
        return try! Dataset(inputs: (inputs - mean) / std, targets: targets, classCount: classCount)
    }
}

/// Problems with data files and data arguments; each names the file or the argument.
public enum DataError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String, hint: String)
    case malformed(source: String, detail: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path, let hint): return "\(path): not found. \(hint)"
        case .malformed(let source, let detail): return "\(source): \(detail)"
        case .invalidArgument(let detail): return detail
        }
    }
}
