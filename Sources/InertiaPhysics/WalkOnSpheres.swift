import Foundation
import InertiaTensor

/// A domain for walk-on-spheres: the distance from an inside point to the boundary (exact, or a
/// lower bound: an overestimate lets walks leave the domain) and the boundary point closest to it.
public protocol WalkOnSpheresDomain: Sendable {
    associatedtype Point: SIMD & Sendable where Point.Scalar == Double
    /// The distance from `x` to the boundary; zero or negative outside.
    func distanceToBoundary(_ x: Point) -> Double
    /// The boundary point closest to `x` (where the walk reads the boundary data).
    func closestBoundaryPoint(_ x: Point) -> Point
}

/// The ball `|x − centre| < radius`: a disk for `SIMD2<Double>`, a ball for `SIMD3<Double>`.
public struct Ball<Point: SIMD & Sendable>: WalkOnSpheresDomain where Point.Scalar == Double {
    public var centre: Point
    public var radius: Double

    public init(centre: Point = .zero, radius: Double = 1) {
        precondition(radius > 0 && radius.isFinite, "Ball: the radius must be positive, got \(radius)")
        self.centre = centre
        self.radius = radius
    }

    @inlinable
    public func distanceToBoundary(_ x: Point) -> Double {
        let d = x - centre
        return radius - (d * d).sum().squareRoot()
    }

    @inlinable
    public func closestBoundaryPoint(_ x: Point) -> Point {
        let d = x - centre
        let length = (d * d).sum().squareRoot()
        guard length > 0 else {
            var direction = Point.zero
            direction[0] = 1
            return centre + radius * direction
        }
        return centre + (radius / length) * d
    }
}

/// The box `lower < x < upper`, coordinate by coordinate.
public struct Box<Point: SIMD & Sendable>: WalkOnSpheresDomain where Point.Scalar == Double {
    public var lower: Point
    public var upper: Point

    public init(lower: Point, upper: Point) {
        precondition(
            (0..<Point.scalarCount).allSatisfy { lower[$0] < upper[$0] },
            "Box: every lower bound must be below its upper bound, got \(lower) and \(upper)")
        self.lower = lower
        self.upper = upper
    }

    @inlinable
    public func distanceToBoundary(_ x: Point) -> Double {
        var nearest = Double.infinity
        for i in 0..<Point.scalarCount { nearest = Swift.min(nearest, x[i] - lower[i], upper[i] - x[i]) }
        return nearest
    }

    @inlinable
    public func closestBoundaryPoint(_ x: Point) -> Point {
        var face = 0, toUpper = false, nearest = Double.infinity
        for i in 0..<Point.scalarCount {
            if x[i] - lower[i] < nearest { (face, toUpper, nearest) = (i, false, x[i] - lower[i]) }
            if upper[i] - x[i] < nearest { (face, toUpper, nearest) = (i, true, upper[i] - x[i]) }
        }
        var y = x.clamped(lowerBound: lower, upperBound: upper)
        y[face] = toUpper ? upper[face] : lower[face]
        return y
    }
}

/// Walk-on-spheres for the Dirichlet problem `−Δu = f` in a domain, `u = g` on its boundary, in
/// two and three dimensions (Muller 1956; Sawhney & Crane 2020; `walk-on-spheres.md` 2.1, as
/// WoS-NO uses it: Viswanath et al., arXiv 2603.01193). From `x`, each step jumps to a uniform
/// point of the largest sphere around `x` inside the domain, adding `|G_R|·f(y)` for one `y`
/// drawn exactly from the ball's Green's function, until the walk is within `shellWidth` of the
/// boundary, where it reads `g` at the closest boundary point. A walk cut at `maxSteps` reads `g`
/// there too and is counted. Float64 throughout.
public struct WalkOnSpheres<Domain: WalkOnSpheresDomain>: Sendable {
    public typealias Point = Domain.Point

    public var domain: Domain
    public var shellWidth: Double
    public var maxSteps: Int

    public init(domain: Domain, shellWidth: Double = 1e-3, maxSteps: Int = 1000) {
        precondition(
            Point.scalarCount == 2 || Point.scalarCount == 3,
            "WalkOnSpheres: two or three dimensions, got \(Point.scalarCount)")
        precondition(shellWidth > 0, "WalkOnSpheres: the shell width must be positive, got \(shellWidth)")
        precondition(maxSteps >= 0, "WalkOnSpheres: maxSteps must be >= 0, got \(maxSteps)")
        self.domain = domain
        self.shellWidth = shellWidth
        self.maxSteps = maxSteps
    }

    /// The statistics of the walks from one point.
    public struct Estimate: Equatable, Sendable {
        /// The mean of the walks' values: the estimate of `u`.
        public var mean: Double
        /// The per-walk standard deviation (with `n − 1`).
        public var standardDeviation: Double
        public var walks: Int
        /// The mean number of sphere jumps per walk.
        public var meanSteps: Double
        /// Walks cut at `maxSteps` before reaching the shell.
        public var truncatedWalks: Int
        @usableFromInline
        init(mean: Double, standardDeviation: Double, walks: Int, meanSteps: Double, truncatedWalks: Int) {
            self.mean = mean
            self.standardDeviation = standardDeviation
            self.walks = walks
            self.meanSteps = meanSteps
            self.truncatedWalks = truncatedWalks
        }

        /// `standardDeviation / √walks`.
        public var standardError: Double { walks > 0 ? standardDeviation / Double(walks).squareRoot() : .nan }
    }

    /// One walk's value, its number of jumps and whether it was cut at `maxSteps`.
    @inlinable
    func walk(
        from start: Point, boundary g: (Point) -> Double, source f: ((Point) -> Double)?,
        using random: inout BufferedPhilox
    ) -> (value: Double, steps: Int, truncated: Bool) {
        var x = start
        var accumulated = 0.0
        var steps = 0
        while true {
            let r = domain.distanceToBoundary(x)
            if r < shellWidth { return (accumulated + g(domain.closestBoundaryPoint(x)), steps, false) }
            if steps == maxSteps { return (accumulated + g(domain.closestBoundaryPoint(x)), steps, true) }
            if let f {
                let y = x + (r * Self.greenRadiusFraction(using: &random)) * Self.uniformDirection(using: &random)
                accumulated += r * r / Double(2 * Point.scalarCount) * f(y)
            }
            x += r * Self.uniformDirection(using: &random)
            steps += 1
        }
    }

    /// A direction uniform on the unit circle or sphere without trigonometry, from a point
    /// `(a, b)` uniform in the unit disk (by rejection): on the circle `(a² − b², 2ab)/s` (the
    /// doubled angle), on the sphere Marsaglia's `(2a√(1 − s), 2b√(1 − s), 1 − 2s)`, `s = a² + b²`.
    @inlinable
    @inline(__always)
    static func uniformDirection(using random: inout BufferedPhilox) -> Point {
        var a = 0.0, b = 0.0, s = 0.0
        repeat {
            a = 2 * random.nextUniform() - 1
            b = 2 * random.nextUniform() - 1
            s = a * a + b * b
        } while s >= 1 || s == 0
        var u = Point.zero
        if Point.scalarCount == 2 {
            let inverse = 1 / s
            u[0] = (a * a - b * b) * inverse
            u[1] = 2 * a * b * inverse
        } else {
            let k = 2 * (1 - s).squareRoot()
            u[0] = a * k
            u[1] = b * k
            u[2] = 1 - 2 * s
        }
        return u
    }

    /// `|y − x| / R` for `y` drawn from the ball's Green's function: density `4s·log(1/s)` in 2-D
    /// (`√(U₁U₂)`), `6s(1 − s)` in 3-D (Beta(2, 2): the median of three uniforms).
    @inlinable
    @inline(__always)
    static func greenRadiusFraction(using random: inout BufferedPhilox) -> Double {
        if Point.scalarCount == 2 { return (random.nextUniform() * random.nextUniform()).squareRoot() }
        let a = random.nextUniform(), b = random.nextUniform(), c = random.nextUniform()
        return Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))
    }

    /// `walks` walks from each point (`u(points[i])` with its statistics), split into blocks of
    /// `blockSize` walks with their own Philox streams of `seed`, run on `Parallel.threadCount`
    /// threads: the numbers depend on the seed, not on the thread count. A start outside the
    /// domain gives NaN. Inlinable, so that it is specialised for the caller's domain.
    @inlinable
    public func estimate(
        at points: [Point], walks: Int, boundary g: @escaping @Sendable (Point) -> Double,
        source f: (@Sendable (Point) -> Double)? = nil, seed: UInt64, blockSize: Int = 256
    ) -> [Estimate] {
        precondition(walks >= 1 && blockSize >= 1, "WalkOnSpheres.estimate: walks and blockSize must be positive")
        let blocks = (walks + blockSize - 1) / blockSize
        // Per (point, block): sum, sum of squares, steps, truncated walks.
        var sums = [Double](repeating: 0, count: points.count * blocks * 4)
        sums.withUnsafeMutableBufferPointer { out in
            let out = out
            Parallel.forEach(chunks: points.count * blocks) { item in
                let p = item / blocks, block = item % blocks
                let start = points[p]
                guard domain.distanceToBoundary(start) > 0 else {
                    out[4 * item] = .nan
                    return
                }
                var random = BufferedPhilox(PhiloxGenerator(seed: SplitMix64.value(seed: seed, index: UInt64(item))))
                var sum = 0.0, squares = 0.0, steps = 0, truncated = 0
                for _ in (block * blockSize)..<Swift.min(walks, (block + 1) * blockSize) {
                    let result = walk(from: start, boundary: g, source: f, using: &random)
                    sum += result.value
                    squares += result.value * result.value
                    steps += result.steps
                    if result.truncated { truncated += 1 }
                }
                (out[4 * item], out[4 * item + 1], out[4 * item + 2], out[4 * item + 3]) = (
                    sum, squares, Double(steps), Double(truncated)
                )
            }
        }
        return (0..<points.count).map { p in
            var sum = 0.0, squares = 0.0, steps = 0.0, truncated = 0.0
            for block in 0..<blocks {
                let i = 4 * (p * blocks + block)
                (sum, squares, steps, truncated) = (
                    sum + sums[i], squares + sums[i + 1], steps + sums[i + 2], truncated + sums[i + 3]
                )
            }
            let n = Double(walks), mean = sum / n
            let variance = walks > 1 ? Swift.max(squares - n * mean * mean, 0) / (n - 1) : 0
            return Estimate(
                mean: mean, standardDeviation: variance.squareRoot(), walks: walks, meanSteps: steps / n,
                truncatedWalks: Int(truncated))
        }
    }
}

/// Uniforms from a Philox stream, its words computed a buffer at a time by the kernel layer
/// (`PhiloxGenerator.fill`), the same words as one `nextUInt32` call each. The walks draw several
/// uniforms a jump; one call per word would cost more than the jump.
@usableFromInline
struct BufferedPhilox {
    @usableFromInline var generator: PhiloxGenerator
    @usableFromInline var words: [UInt32]
    @usableFromInline var index: Int

    @usableFromInline
    init(_ generator: PhiloxGenerator, bufferSize: Int = 1024) {
        self.generator = generator
        words = [UInt32](repeating: 0, count: bufferSize)
        index = bufferSize
    }

    /// A uniform in `[0, 1)` from one 32-bit word.
    @inlinable
    mutating func nextUniform() -> Double {
        if index == words.count { refill() }
        defer { index += 1 }
        return Double(words[index]) * 0x1p-32
    }

    @usableFromInline
    mutating func refill() {
        words.withUnsafeMutableBufferPointer { generator.fill($0) }
        index = 0
    }
}
