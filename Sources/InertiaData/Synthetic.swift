import Foundation
import InertiaTensor

/// Seeded synthetic datasets (the shapes of scikit-learn's generators) and regression problems
/// with known solutions.
public enum Synthetic {
    /// Two interleaving half circles, labels 0 and 1, Gaussian noise of standard deviation `noise`.
    public static func moons(count: Int, noise: Double = 0.1, seed: UInt64) -> Dataset {
        var rng = PhiloxGenerator(seed: seed)
        let outer = count / 2, inner = count - outer
        var x: [Float] = [], y: [Float] = []
        for i in 0..<outer {
            let t = Double.pi * Double(i) / Double(Swift.max(outer - 1, 1))
            x += [Float(cos(t) + noise * rng.nextNormal()), Float(sin(t) + noise * rng.nextNormal())]
            y.append(0)
        }
        for i in 0..<inner {
            let t = Double.pi * Double(i) / Double(Swift.max(inner - 1, 1))
            x += [Float(1 - cos(t) + noise * rng.nextNormal()), Float(0.5 - sin(t) + noise * rng.nextNormal())]
            y.append(1)
        }
        return try! Dataset(inputs: Tensor(shape: [count, 2], scalars: x), targets: Tensor(y), classCount: 2)
    }

    /// Two concentric circles (radius 1, label 0, and `factor`, label 1).
    public static func circles(count: Int, factor: Double = 0.5, noise: Double = 0.05, seed: UInt64) -> Dataset {
        var rng = PhiloxGenerator(seed: seed)
        let outer = count / 2
        var x: [Float] = [], y: [Float] = []
        for i in 0..<count {
            let isOuter = i < outer
            let n = isOuter ? outer : count - outer
            let t = 2 * Double.pi * Double(isOuter ? i : i - outer) / Double(Swift.max(n, 1))
            let r = isOuter ? 1 : factor
            x += [Float(r * cos(t) + noise * rng.nextNormal()), Float(r * sin(t) + noise * rng.nextNormal())]
            y.append(isOuter ? 0 : 1)
        }
        return try! Dataset(inputs: Tensor(shape: [count, 2], scalars: x), targets: Tensor(y), classCount: 2)
    }

    /// `count` points from `centers` isotropic Gaussians of standard deviation `spread`; the label
    /// is the component. Centers are uniform in `[-range, range]^dimension` unless given.
    public static func gaussianMixture(
        count: Int, components: Int, dimension: Int = 2, spread: Double = 1, range: Double = 10,
        centers given: [[Double]]? = nil, seed: UInt64
    ) throws -> (data: Dataset, centers: [[Double]]) {
        var rng = PhiloxGenerator(seed: seed)
        let centers =
            given ?? (0..<components).map { _ in (0..<dimension).map { _ in range * (2 * rng.nextDouble() - 1) } }
        guard centers.count == components, centers.allSatisfy({ $0.count == dimension }) else {
            throw DataError.invalidArgument("gaussianMixture: need \(components) centers of dimension \(dimension)")
        }
        var x: [Float] = [], y: [Float] = []
        for i in 0..<count {
            let k = i % components
            for d in 0..<dimension { x.append(Float(centers[k][d] + spread * rng.nextNormal())) }
            y.append(Float(k))
        }
        return (
            try Dataset(
                inputs: Tensor(shape: [count, dimension], scalars: x), targets: Tensor(y), classCount: components),
            centers
        )
    }

    /// Points uniform in `[-2, 2]²` labelled by the colour of their square on a `squares x squares`
    /// checkerboard.
    public static func checkerboard(count: Int, squares: Int = 4, seed: UInt64) -> Dataset {
        var rng = PhiloxGenerator(seed: seed)
        var x: [Float] = [], y: [Float] = []
        for _ in 0..<count {
            let a = 4 * rng.nextDouble() - 2, b = 4 * rng.nextDouble() - 2
            let i = Swift.min(Int((a + 2) / 4 * Double(squares)), squares - 1)
            let j = Swift.min(Int((b + 2) / 4 * Double(squares)), squares - 1)
            x += [Float(a), Float(b)]
            y.append(Float((i + j) % 2))
        }
        return try! Dataset(inputs: Tensor(shape: [count, 2], scalars: x), targets: Tensor(y), classCount: 2)
    }

    /// `classes` interleaved Archimedean spirals.
    public static func spirals(count: Int, classes: Int = 2, noise: Double = 0.05, seed: UInt64) -> Dataset {
        var rng = PhiloxGenerator(seed: seed)
        var x: [Float] = [], y: [Float] = []
        for i in 0..<count {
            let k = i % classes
            let t = Double(i / classes) / Double(Swift.max(count / classes, 1))
            let angle = 4 * Double.pi * t + 2 * Double.pi * Double(k) / Double(classes)
            x += [Float(t * cos(angle) + noise * rng.nextNormal()), Float(t * sin(angle) + noise * rng.nextNormal())]
            y.append(Float(k))
        }
        return try! Dataset(inputs: Tensor(shape: [count, 2], scalars: x), targets: Tensor(y), classCount: classes)
    }

    /// `y = x · w + b + noise` with `x ~ N(0, I)` and known `w ~ N(0, I)`, `b ~ N(0, 1)`.
    public static func linearRegression(
        count: Int, dimension: Int, noise: Double = 0.1, seed: UInt64
    )
        -> (data: Dataset, weights: [Double], bias: Double)
    {
        var rng = PhiloxGenerator(seed: seed)
        let w = (0..<dimension).map { _ in rng.nextNormal() }
        let b = rng.nextNormal()
        var x: [Float] = [], y: [Float] = []
        for _ in 0..<count {
            let row = (0..<dimension).map { _ in rng.nextNormal() }
            x += row.map(Float.init)
            y.append(Float(zip(row, w).reduce(b) { $0 + $1.0 * $1.1 } + noise * rng.nextNormal()))
        }
        return (
            try! Dataset(
                inputs: Tensor(shape: [count, dimension], scalars: x), targets: Tensor(shape: [count, 1], scalars: y)),
            w, b
        )
    }

    /// Labels drawn `Bernoulli(sigmoid(x · w + b))` with `x ~ N(0, I)` and known `w`, `b`.
    public static func logisticRegression(
        count: Int, dimension: Int, seed: UInt64
    ) -> (data: Dataset, weights: [Double], bias: Double) {
        var rng = PhiloxGenerator(seed: seed)
        let w = (0..<dimension).map { _ in 2 * rng.nextNormal() }
        let b = rng.nextNormal()
        var x: [Float] = [], y: [Float] = []
        for _ in 0..<count {
            let row = (0..<dimension).map { _ in rng.nextNormal() }
            x += row.map(Float.init)
            let z = zip(row, w).reduce(b) { $0 + $1.0 * $1.1 }
            y.append(rng.nextDouble() < 1 / (1 + exp(-z)) ? 1 : 0)
        }
        return (
            try! Dataset(inputs: Tensor(shape: [count, dimension], scalars: x), targets: Tensor(y), classCount: 2), w, b
        )
    }
}
