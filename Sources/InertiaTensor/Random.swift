import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
/// counter-based generator of cuRAND, JAX and PyTorch's CUDA backend.
///
/// Output block `i` is a pure function of (key, counter `i`), so the stream is the same on every
/// machine and for every thread count, and a generator is saved and restored exactly (`Codable`).
/// Everything random in Inertia draws from an explicit generator; there is no hidden global one.
public struct PhiloxGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    /// The 64-bit key (the seed).
    public let seed: UInt64
    /// Index of the next 128-bit block.
    public private(set) var counter: UInt64
    /// How many 32-bit words of the current block are used (4: none left).
    private var used: Int
    /// The current block, held inline (an array here would allocate once per four draws).
    private var block: (UInt32, UInt32, UInt32, UInt32)
    /// A normal deviate left over from the last Box–Muller pair.
    private var spareNormal: Double?

    public init(seed: UInt64) {
        self.seed = seed
        self.counter = 0
        self.used = 4
        self.block = (0, 0, 0, 0)
        self.spareNormal = nil
    }

    private enum CodingKeys: String, CodingKey { case seed, counter, used, block, spareNormal }

    /// The saved form (checkpoints) keeps the block as an array of four words.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seed = try container.decode(UInt64.self, forKey: .seed)
        counter = try container.decode(UInt64.self, forKey: .counter)
        used = try container.decode(Int.self, forKey: .used)
        let words = try container.decode([UInt32].self, forKey: .block)
        guard words.count == 4, (0...4).contains(used) else {
            throw DecodingError.dataCorruptedError(
                forKey: .block, in: container, debugDescription: "PhiloxGenerator: a block of 4 words and 0-4 used")
        }
        block = (words[0], words[1], words[2], words[3])
        spareNormal = try container.decodeIfPresent(Double.self, forKey: .spareNormal)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seed, forKey: .seed)
        try container.encode(counter, forKey: .counter)
        try container.encode(used, forKey: .used)
        try container.encode([block.0, block.1, block.2, block.3], forKey: .block)
        try container.encodeIfPresent(spareNormal, forKey: .spareNormal)
    }

    public static func == (a: PhiloxGenerator, b: PhiloxGenerator) -> Bool {
        a.seed == b.seed && a.counter == b.counter && a.used == b.used && a.block == b.block
            && a.spareNormal == b.spareNormal
    }

    /// The Philox4x32-10 bijection of one 128-bit counter under a 64-bit key.
    public static func block(
        counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)
    )
        -> (UInt32, UInt32, UInt32, UInt32)
    {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let (hi0, lo0) = (UInt32(truncatingIfNeeded: p0 >> 32), UInt32(truncatingIfNeeded: p0))
            let (hi1, lo1) = (UInt32(truncatingIfNeeded: p1 >> 32), UInt32(truncatingIfNeeded: p1))
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    public mutating func nextUInt32() -> UInt32 {
        if used == 4 {
            let r = Self.block(
                counter: (UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32), 0, 0),
                key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
            block = r
            counter &+= 1
            used = 0
        }
        defer { used += 1 }
        switch used {
        case 0: return block.0
        case 1: return block.1
        case 2: return block.2
        default: return block.3
        }
    }

    /// Fills `buffer` with the next words of the stream, exactly as that many `nextUInt32` calls
    /// would, the whole blocks computed by the kernel layer several at a time in vector lanes
    /// (32x32 -> 64-bit lane multiplies).
    public mutating func fill(_ buffer: UnsafeMutableBufferPointer<UInt32>) {
        var i = 0
        while i < buffer.count && used < 4 {
            buffer[i] = nextUInt32()
            i += 1
        }
        let blocks = (buffer.count - i) / 4
        if blocks > 0 {
            let out = buffer.baseAddress! + i
            Kernels.table.pointee.philox_blocks(
                out, blocks, counter, UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
            // The state as after the scalar path: the last block held, all of it used.
            let last = out + 4 * (blocks - 1)
            block = (last[0], last[1], last[2], last[3])
            counter &+= UInt64(blocks)
            i += 4 * blocks
        }
        while i < buffer.count {
            buffer[i] = nextUInt32()
            i += 1
        }
    }

    public mutating func next() -> UInt64 {
        let lo = UInt64(nextUInt32())
        return (UInt64(nextUInt32()) << 32) | lo
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func nextFloat() -> Float { Float(nextUInt32() >> 8) * 0x1p-24 }

    /// Uniform in `[0, 1)` with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal deviate (Box–Muller in Double).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]: log stays finite
        let u2 = nextDouble()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = r * Foundation.sin(2 * Double.pi * u2)
        return r * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform in `0..<bound` without modulo bias (Lemire's multiply-and-reject), the same on
    /// every platform and Swift version.
    public mutating func nextInt(below bound: Int) -> Int {
        validated {
            guard bound > 0 else {
                throw TensorError.invalidArgument(op: "nextInt(below:)", detail: "bound must be positive, got \(bound)")
            }
        }
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Uniform in `range`.
    public mutating func nextInt(in range: Range<Int>) -> Int { range.lowerBound + nextInt(below: range.count) }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        var i = n - 1
        while i > 0 {
            p.swapAt(i, nextInt(below: i + 1))
            i -= 1
        }
        return p
    }

    /// `true` with probability `p`.
    public mutating func nextBernoulli(_ p: Double) -> Bool { nextDouble() < p }

    /// A Gamma(`shape`, 1) deviate (G. Marsaglia & W. W. Tsang, "A Simple Method for Generating
    /// Gamma Variables", ACM TOMS 26, 2000): a squeezed rejection from a cubed normal, about 1.05
    /// normals per draw at any shape ≥ 1 and exact in the tails, where inverting the CDF of a shape
    /// in the thousands is not; a shape below 1 draws `Gamma(shape + 1)·U^(1/shape)`.
    public mutating func nextGamma(shape: Double) -> Double {
        validated {
            guard shape > 0, shape.isFinite else {
                throw TensorError.invalidArgument(op: "nextGamma", detail: "shape must be positive, got \(shape)")
            }
        }
        if shape < 1 {
            let u = (Double(next() >> 11) + 1) * 0x1p-53
            return nextGamma(shape: shape + 1) * Foundation.pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = nextNormal()
            let root = 1 + c * x
            guard root > 0 else { continue }
            let v = root * root * root
            let u = nextDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }

    /// A Beta(`a`, `b`) deviate, `G_a/(G_a + G_b)` of two Gamma deviates.
    public mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        let x = nextGamma(shape: a)
        return x / (x + nextGamma(shape: b))
    }

    /// An index drawn with probabilities `weights` (non-negative, summing to 1; the last index
    /// takes what rounding leaves).
    public mutating func nextIndex(weightedBy weights: [Double]) -> Int {
        var u = nextDouble()
        for (k, w) in weights.enumerated() {
            u -= w
            if u < 0 { return k }
        }
        return weights.count - 1
    }

    /// A chi-square deviate with `degreesOfFreedom` (any positive real), `2·Gamma(k/2)`.
    public mutating func nextChiSquared(degreesOfFreedom k: Double) -> Double { 2 * nextGamma(shape: k / 2) }
}

/// Standard normal deviates by the ziggurat method (G. Marsaglia & W. W. Tsang, "The Ziggurat
/// Method for Generating Random Variables", J. Stat. Softw. 5, 2000; 128 layers, 32-bit draws):
/// one 32-bit random word, a table lookup and a multiply for 98.8 % of the deviates, several
/// times faster than Box–Muller's logarithm and sine. For bulk noise (particle methods); the
/// values differ from `PhiloxGenerator.nextNormal`'s.
public enum ZigguratNormal {
    struct Tables: Sendable {
        var k = [UInt32](repeating: 0, count: 128)
        var w = [Double](repeating: 0, count: 128)
        var f = [Double](repeating: 0, count: 128)
    }

    static let tables: Tables = {
        var t = Tables()
        let m1 = 2_147_483_648.0, vn = 9.91256303526217e-3
        var dn = 3.442619855899, tn = dn
        let q = vn / Foundation.exp(-0.5 * dn * dn)
        t.k[0] = UInt32((dn / q) * m1)
        t.k[1] = 0
        t.w[0] = q / m1
        t.w[127] = dn / m1
        t.f[0] = 1
        t.f[127] = Foundation.exp(-0.5 * dn * dn)
        for i in stride(from: 126, through: 1, by: -1) {
            dn = (-2 * Foundation.log(vn / dn + Foundation.exp(-0.5 * dn * dn))).squareRoot()
            t.k[i + 1] = UInt32((dn / tn) * m1)
            tn = dn
            t.f[i] = Foundation.exp(-0.5 * dn * dn)
            t.w[i] = dn / m1
        }
        return t
    }()

    /// Fills `buffer` with standard normal deviates drawn from `rng`: the first word of each deviate
    /// comes from a bulk draw of 64 words, the rare slow path draws its extra numbers after that
    /// group.
    public static func fill(_ buffer: UnsafeMutableBufferPointer<Double>, using rng: inout PhiloxGenerator) {
        let t = tables
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { words in
            t.k.withUnsafeBufferPointer { k in
                t.w.withUnsafeBufferPointer { w in
                    for start in stride(from: 0, to: buffer.count, by: 64) {
                        let count = Swift.min(64, buffer.count - start)
                        rng.fill(UnsafeMutableBufferPointer(rebasing: words[0..<count]))
                        for j in 0..<count {
                            let hz = Int32(bitPattern: words[j])
                            let iz = Int(hz & 127)
                            if hz.magnitude < k[iz] {
                                buffer[start + j] = Double(hz) * w[iz]
                            } else {
                                buffer[start + j] = tail(hz, iz, t, &rng)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The slow path: the base strip's tail beyond r, or the wedge test.
    static func tail(_ first: Int32, _ firstLayer: Int, _ t: Tables, _ rng: inout PhiloxGenerator) -> Double {
        let r = 3.442620
        var hz = first, iz = firstLayer
        while true {
            let x = Double(hz) * t.w[iz]
            if iz == 0 {
                var tailX = 0.0, y = 0.0
                repeat {
                    tailX = -Foundation.log(1 - rng.nextDouble()) * 0.2904764
                    y = -Foundation.log(1 - rng.nextDouble())
                } while y + y < tailX * tailX
                return hz > 0 ? r + tailX : -r - tailX
            }
            if t.f[iz] + rng.nextDouble() * (t.f[iz - 1] - t.f[iz]) < Foundation.exp(-0.5 * x * x) { return x }
            hz = Int32(bitPattern: rng.nextUInt32())
            iz = Int(hz & 127)
            if hz.magnitude < t.k[iz] { return Double(hz) * t.w[iz] }
        }
    }
}

/// SplitMix64 as the peer benchmarks define it (`shared/peers/peerutil.py`): output `i` of seed
/// `s` is `mix(s + (i + 1) * 0x9E3779B97F4A7C15)`, so Inertia and the Python peers can be fed
/// identical inputs. As a stateful generator it yields outputs 0, 1, 2, ...
public struct SplitMix64: RandomNumberGenerator, Codable, Equatable, Sendable {
    public static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    public let seed: UInt64
    public private(set) var index: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        self.index = 0
    }

    /// Output `index` of the stream of `seed`.
    @inlinable
    public static func value(seed: UInt64, index: UInt64) -> UInt64 {
        var z = seed &+ (index &+ 1) &* golden
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        defer { index &+= 1 }
        return Self.value(seed: seed, index: index)
    }

    /// `count` uniform floats in `[0, 1)`: `(z >> 40) * 2^-24`, as `peerutil.uniform_f32`.
    public static func uniformFloat32(seed: UInt64, count: Int) -> [Float] {
        (0..<count).map { Float(value(seed: seed, index: UInt64($0)) >> 40) * 0x1p-24 }
    }

    /// `count` uniform doubles in `[0, 1)`: `(z >> 11) * 2^-53`, as `peerutil.uniform_f64`.
    public static func uniformFloat64(seed: UInt64, count: Int) -> [Double] {
        (0..<count).map { Double(value(seed: seed, index: UInt64($0)) >> 11) * 0x1p-53 }
    }
}

// MARK: - Random tensors

extension Tensor {
    /// Uniform in `[low, high)`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout PhiloxGenerator
    ) -> Tensor {
        validated { try Shape.validate(shape, op: "uniform") }
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = low + (high - low) * rng.nextFloat() }
        }
    }

    /// Normal with the given mean and standard deviation.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using rng: inout PhiloxGenerator
    ) -> Tensor {
        validated { try Shape.validate(shape, op: "normal") }
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = Float(Double(mean) + Double(standardDeviation) * rng.nextNormal()) }
        }
    }

    /// Integers uniform in `range`, stored as floats.
    public static func randomIntegers(_ shape: [Int], in range: Range<Int>, using rng: inout PhiloxGenerator) -> Tensor
    {
        validated {
            try Shape.validate(shape, op: "randomIntegers")
            guard !range.isEmpty else {
                throw TensorError.invalidArgument(op: "randomIntegers", detail: "empty range \(range)")
            }
        }
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = Float(rng.nextInt(in: range)) }
        }
    }

    /// 1 with probability `p`, else 0.
    public static func bernoulli(_ shape: [Int], probability p: Double, using rng: inout PhiloxGenerator) -> Tensor {
        validated {
            try Shape.validate(shape, op: "bernoulli")
            guard p >= 0 && p <= 1 else {
                throw TensorError.invalidArgument(op: "bernoulli", detail: "probability \(p) is outside [0, 1]")
            }
        }
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = rng.nextBernoulli(p) ? 1 : 0 }
        }
    }
}
