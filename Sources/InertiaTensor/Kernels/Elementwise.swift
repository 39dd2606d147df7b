/// Elementwise kernels: raw loops over contiguous buffers, 8 lanes at a time, split across threads
/// above `Parallel.elementwiseGrain` elements. The op layer (shapes, autodiff) lives in `Ops/`.

/// A lane-wise function of one vector.
public protocol UnaryKernel {
    func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float>
    /// The C kernel that computes this function over whole buffers on the active instruction set,
    /// or nil to run the Swift lanes (`map` then uses it instead of `callAsFunction`).
    var vectorMath: VectorMathFunction? { get }
}

extension UnaryKernel {
    @inlinable public var vectorMath: VectorMathFunction? { nil }
}

/// A lane-wise function of two vectors.
public protocol BinaryKernel {
    func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float>
}

/// A unary kernel from a scalar function, for functions without a vector form (`tanh`, `erf`).
public struct ScalarUnaryKernel: UnaryKernel {
    public let function: (Float) -> Float
    public init(_ function: @escaping (Float) -> Float) { self.function = function }
    @inlinable
    public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var y = SIMD8<Float>()
        for i in 0..<8 { y[i] = function(x[i]) }
        return y
    }
}

/// Loops of element-wise kernels over buffers, eight lanes at a time with a scalar tail, split across cores
/// above a size threshold.
public enum ElementwiseKernels {
    /// `y[i] = f(x[i])`; `x` and `y` may be the same buffer.
    @inlinable
    public static func map<K: UnaryKernel>(
        _ f: K, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        if let function = f.vectorMath {
            Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
                Kernels.map(function, x + range.lowerBound, y + range.lowerBound, count: range.count)
            }
            return
        }
        Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                Lanes.store(f(Lanes.load(x + i)), y + i)
                i += 8
            }
            if i < range.upperBound {
                let n = range.upperBound - i
                Lanes.store(f(Lanes.load(x + i, 0, n)), y + i, 0, n)
            }
        }
    }

    /// `z[i] = f(a[i], b[i])`.
    @inlinable
    public static func zip<K: BinaryKernel>(
        _ f: K, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count: Int
    ) {
        Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
            zipRange(f, a, 1, b, 1, z, range)
        }
    }

    /// One row of a broadcast binary op: `a` and `b` advance by stride 0 (a repeated scalar) or 1.
    @inlinable @inline(__always)
    static func zipRange<K: BinaryKernel>(
        _ f: K, _ a: UnsafePointer<Float>, _ strideA: Int, _ b: UnsafePointer<Float>, _ strideB: Int,
        _ z: UnsafeMutablePointer<Float>, _ range: Range<Int>
    ) {
        var i = range.lowerBound
        let end = range.upperBound
        switch (strideA, strideB) {
        case (1, 1):
            while i + 8 <= end {
                Lanes.store(f(Lanes.load(a + i), Lanes.load(b + i)), z + i)
                i += 8
            }
            if i < end {
                let n = end - i
                Lanes.store(f(Lanes.load(a + i, 0, n), Lanes.load(b + i, 0, n)), z + i, 0, n)
            }
        case (1, _):
            let bv = SIMD8<Float>(repeating: b[0])
            while i + 8 <= end {
                Lanes.store(f(Lanes.load(a + i), bv), z + i)
                i += 8
            }
            if i < end {
                let n = end - i
                Lanes.store(f(Lanes.load(a + i, 0, n), bv), z + i, 0, n)
            }
        case (_, 1):
            let av = SIMD8<Float>(repeating: a[0])
            while i + 8 <= end {
                Lanes.store(f(av, Lanes.load(b + i)), z + i)
                i += 8
            }
            if i < end {
                let n = end - i
                Lanes.store(f(av, Lanes.load(b + i, 0, n)), z + i, 0, n)
            }
        default:
            let v = f(SIMD8(repeating: a[0]), SIMD8(repeating: b[0]))[0]
            for j in i..<end { z[j] = v }
        }
    }

    /// `z = f(a, b)` with NumPy broadcasting: `a` and `b` have the shapes `shapeA` and `shapeB`,
    /// `z` the broadcast shape `shapeZ`.
    @inlinable
    public static func broadcastZip<K: BinaryKernel>(
        _ f: K, _ a: UnsafePointer<Float>, shapeA: [Int], _ b: UnsafePointer<Float>, shapeB: [Int],
        _ z: UnsafeMutablePointer<Float>, shapeZ: [Int]
    ) {
        let count = Shape.count(shapeZ)
        if count == 0 { return }
        if shapeA == shapeZ && shapeB == shapeZ {
            zip(f, a, b, z, count: count)
            return
        }
        // Coalesce the output into (rows, columns) where the inner run has a constant stride
        // (0 or 1) for both operands.
        let rank = shapeZ.count
        func broadcastStrides(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            let st = Shape.strides(padded)
            return (0..<rank).map { padded[$0] == 1 ? 0 : st[$0] }
        }
        let sa = broadcastStrides(shapeA)
        let sb = broadcastStrides(shapeB)
        // The longest run of trailing dimensions along which each operand is either constant
        // (stride 0) or contiguous becomes the inner loop.
        var inner = 1
        var d = rank
        var modeA: Int?, modeB: Int?
        func mode(_ stride: Int) -> Int { stride == 0 ? 0 : (stride == inner ? 1 : -1) }
        while d > 0 {
            let k = d - 1
            if shapeZ[k] != 1 {
                let ma = mode(sa[k]), mb = mode(sb[k])
                guard ma >= 0, mb >= 0, modeA == nil || modeA == ma, modeB == nil || modeB == mb else { break }
                modeA = ma
                modeB = mb
                inner *= shapeZ[k]
            }
            d -= 1
        }
        let outerDims = Array(shapeZ[0..<d])
        let rows = Shape.count(outerDims)
        let strideA = modeA ?? 1
        let strideB = modeB ?? 1
        let rowsPerChunk = max(1, Parallel.elementwiseGrain / max(inner, 1))
        Parallel.forEachRange(count: rows, grain: rowsPerChunk) { rowRange in
            var index = [Int](repeating: 0, count: d)
            var rem = rowRange.lowerBound
            for k in stride(from: d - 1, through: 0, by: -1) {
                index[k] = rem % outerDims[k]
                rem /= outerDims[k]
            }
            for row in rowRange {
                var offA = 0, offB = 0
                for k in 0..<d {
                    offA += index[k] * sa[k]
                    offB += index[k] * sb[k]
                }
                zipRange(f, a + offA, strideA, b + offB, strideB, z + row * inner, 0..<inner)
                var k = d - 1
                while k >= 0 {
                    index[k] += 1
                    if index[k] < outerDims[k] { break }
                    index[k] = 0
                    k -= 1
                }
            }
        }
    }
}

// MARK: - The kernels of the ops

/// `a + b`.
public struct AddKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a + b
    }
}
/// `a - b`.
public struct SubtractKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a - b
    }
}
/// `a * b`.
public struct MultiplyKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a * b
    }
}
/// `a / b`.
public struct DivideKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a / b
    }
}
/// Lane-wise maximum that propagates NaN, as `torch.maximum`.
public struct MaximumKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        let m = a.replacing(with: b, where: b .> a)
        return m.replacing(with: a + b, where: (a .!= a) .| (b .!= b))
    }
}
/// Lane-wise minimum that propagates NaN, as `torch.minimum`.
public struct MinimumKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        let m = a.replacing(with: b, where: b .< a)
        return m.replacing(with: a + b, where: (a .!= a) .| (b .!= b))
    }
}
/// A comparison giving 1 where it holds and 0 elsewhere.
public struct CompareKernel: BinaryKernel {
    /// The comparison made.
    public enum Relation { case less, lessOrEqual, greater, greaterOrEqual, equal, notEqual }
    public let relation: Relation
    public init(_ relation: Relation) { self.relation = relation }
    @inlinable @inline(__always) public func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        let mask: SIMDMask<SIMD8<Int32>> =
            switch relation {
            case .less: a .< b
            case .lessOrEqual: a .<= b
            case .greater: a .> b
            case .greaterOrEqual: a .>= b
            case .equal: a .== b
            case .notEqual: a .!= b
            }
        return SIMD8<Float>(repeating: 0).replacing(with: 1, where: mask)
    }
}

/// `-x`.
public struct NegateKernel: UnaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { -x }
}
/// `|x|`.
public struct AbsKernel: UnaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        FastMath.float(FastMath.bits(x) & 0x7FFF_FFFF)
    }
}
/// `√x`.
public struct SqrtKernel: UnaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        FastMath.squareRoot(x)
    }
}
/// `1 / √x`.
public struct RsqrtKernel: UnaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / FastMath.squareRoot(x)
    }
}
/// `exp(x)`.
public struct ExpKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .exp }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { FastMath.exp(x) }
}
/// `log(x)`.
public struct LogKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .log }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { FastMath.log(x) }
}
/// `1 / (1 + exp(-x))`.
public struct SigmoidKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .sigmoid }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { FastMath.sigmoid(x) }
}
/// `max(x, 0)`.
public struct ReluKernel: UnaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x.replacing(with: 0, where: x .< 0)
    }
}
/// The ReLU's backward, PyTorch's `threshold_backward` at 0: `g` where `x > 0` or `x` is NaN, else 0.
public struct ReluGradientKernel: BinaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ g: SIMD8<Float>, _ x: SIMD8<Float>) -> SIMD8<Float> {
        g.replacing(with: 0, where: x .<= 0)
    }
}
/// `x` where positive, `slope · x` elsewhere.
public struct LeakyReluKernel: UnaryKernel {
    public let slope: Float
    public init(slope: Float) { self.slope = slope }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x.replacing(with: x * slope, where: x .< 0)
    }
}
/// `x * sigmoid(x)`.
public struct SiluKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .silu }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x * FastMath.sigmoid(x)
    }
}
/// `GELU(x) = x Φ(x)` (erf form) with the vector normal CDF.
public struct GeluKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .gelu }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x * FastMath.normalCDF(x)
    }
}
/// `GELU′(x) = Φ(x) + x φ(x)`.
public struct GeluDerivativeKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .geluDerivative }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        FastMath.normalCDF(x) + x * FastMath.normalDensity(x)
    }
}
/// `GELU″(x) = φ(x)(2 − x²)`.
public struct GeluSecondDerivativeKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .geluSecondDerivative }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        FastMath.normalDensity(x) * (2 - x * x)
    }
}
/// `SiLU′(x) = s(1 + x(1 − s))`, `s = σ(x)`.
public struct SiluDerivativeKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .siluDerivative }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let s = FastMath.sigmoid(x)
        return s * (1 + x * (1 - s))
    }
}
/// `SiLU″(x) = s(1 − s)(2 + x(1 − 2s))`.
public struct SiluSecondDerivativeKernel: UnaryKernel {
    public init() {}
    public var vectorMath: VectorMathFunction? { .siluSecondDerivative }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let s = FastMath.sigmoid(x)
        return s * (1 - s) * (2 + x * (1 - 2 * s))
    }
}
/// `x` clamped to `[lower, upper]`.
public struct ClampKernel: UnaryKernel {
    public let lower: Float, upper: Float
    public init(lower: Float, upper: Float) {
        self.lower = lower
        self.upper = upper
    }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lo = x.replacing(with: lower, where: x .< lower)
        return lo.replacing(with: upper, where: lo .> upper)
    }
}
/// `scale * x + shift`.
public struct AffineKernel: UnaryKernel {
    public let scale: Float, shift: Float
    public init(scale: Float, shift: Float) {
        self.scale = scale
        self.shift = shift
    }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        FastMath.fma(x, SIMD8(repeating: scale), SIMD8(repeating: shift))
    }
}
/// The sign of `x` (-1, 0 or 1).
public struct SignKernel: UnaryKernel {
    public init() {}
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8<Float>(repeating: 0).replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
            .replacing(with: x, where: x .!= x)
    }
}
/// `x^p` for a scalar `p`: exact products for the small integer powers, `exp(p log x)` otherwise
/// (negative bases with integer `p` keep their sign).
public struct PowKernel: UnaryKernel {
    public let exponent: Float
    public init(exponent: Float) { self.exponent = exponent }
    @inlinable @inline(__always) public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        switch exponent {
        case 0: return SIMD8(repeating: 1)
        case 1: return x
        case 2: return x * x
        case 3: return x * x * x
        case 0.5: return FastMath.squareRoot(x)
        case -1: return 1 / x
        case -0.5: return 1 / FastMath.squareRoot(x)
        default:
            let magnitude = FastMath.exp(FastMath.log(AbsKernel()(x)) * exponent)
            guard exponent == exponent.rounded() else {
                return magnitude.replacing(with: .nan, where: x .< 0)
                    .replacing(with: exponent > 0 ? 0 : .infinity, where: x .== 0)
            }
            let odd = Int(exponent) % 2 != 0
            let signed = odd ? magnitude.replacing(with: -magnitude, where: x .< 0) : magnitude
            return signed.replacing(with: exponent > 0 ? 0 : .infinity, where: x .== 0)
        }
    }
}
