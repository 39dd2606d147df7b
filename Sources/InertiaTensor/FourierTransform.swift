import Foundation

/// The discrete Fourier transform of real sequences of one length `n`,
/// `X_k = Σ_t x_t e^{−2πi k t / n}` for `k = 0...n/2` (the other bins are their conjugates), as
/// NumPy's `rfft`. Any length: a mixed-radix Cooley–Tukey recursion splits `n` by its prime
/// factors (cost `O(n Σ p_i)`, so `O(n log n)` for smooth lengths and `O(n²)` for a prime), in
/// Float64 with a twiddle table built once per length.
public struct RealFourierTransform: Sendable {
    public let length: Int
    /// `e^{−2πi j / n}` for `j = 0..<n`.
    private let twiddleReal: [Double], twiddleImaginary: [Double]

    public init(length: Int) {
        validated(length >= 1, "RealFourierTransform: length must be positive, got \(length)")
        self.length = length
        let angles = (0..<length).map { -2 * Double.pi * Double($0) / Double(length) }
        twiddleReal = angles.map(Foundation.cos)
        twiddleImaginary = angles.map(Foundation.sin)
    }

    /// Bins `0...n/2`.
    public var binCount: Int { length / 2 + 1 }

    /// The angular frequency `2πk / n` of bin `k` (radians per sample, `0...π`).
    public func frequency(ofBin k: Int) -> Double { 2 * Double.pi * Double(k) / Double(length) }

    /// The transform's bins `0...n/2` of `x` (length `n`).
    public func callAsFunction(_ x: [Double]) -> (real: [Double], imaginary: [Double]) {
        validated(x.count == length, "RealFourierTransform: input has \(x.count) values, expected \(length)")
        var real = [Double](repeating: 0, count: length), imaginary = real
        x.withUnsafeBufferPointer { input in
            real.withUnsafeMutableBufferPointer { re in
                imaginary.withUnsafeMutableBufferPointer { im in
                    transform(
                        input.baseAddress!, count: length, stride: 1, twiddleStep: 1, real: re.baseAddress!,
                        imaginary: im.baseAddress!)
                }
            }
        }
        return (Array(real.prefix(binCount)), Array(imaginary.prefix(binCount)))
    }

    /// `|X_k|` for bins `0...n/2`.
    public func magnitudes(_ x: [Double]) -> [Double] {
        let (re, im) = self(x)
        return zip(re, im).map { ($0 * $0 + $1 * $1).squareRoot() }
    }

    /// The length-`count` DFT of `input[0], input[stride], ...` into `real`/`imaginary`; twiddle
    /// `j` of this length is entry `j * twiddleStep` of the table.
    private func transform(
        _ input: UnsafePointer<Double>, count: Int, stride: Int, twiddleStep: Int, real: UnsafeMutablePointer<Double>,
        imaginary: UnsafeMutablePointer<Double>
    ) {
        if count == 1 {
            real[0] = input[0]
            imaginary[0] = 0
            return
        }
        let radix = Self.smallestFactor(of: count)
        let sub = count / radix
        if sub == 1 {
            // A prime length: the direct sum.
            for k in 0..<count {
                var re = 0.0, im = 0.0
                for t in 0..<count {
                    let j = (k * t) % count * twiddleStep
                    re += input[t * stride] * twiddleReal[j]
                    im += input[t * stride] * twiddleImaginary[j]
                }
                real[k] = re
                imaginary[k] = im
            }
            return
        }
        // Decimation in time: the `radix` interleaved subsequences' transforms, then
        // X_k = Σ_r W^{r k} Y_r[k mod sub].
        let partReal = UnsafeMutablePointer<Double>.allocate(capacity: count)
        let partImaginary = UnsafeMutablePointer<Double>.allocate(capacity: count)
        defer {
            partReal.deallocate()
            partImaginary.deallocate()
        }
        for r in 0..<radix {
            transform(
                input + r * stride, count: sub, stride: stride * radix, twiddleStep: twiddleStep * radix,
                real: partReal + r * sub, imaginary: partImaginary + r * sub)
        }
        for k in 0..<count {
            let m = k % sub
            var re = 0.0, im = 0.0
            for r in 0..<radix {
                let j = (r * k) % count * twiddleStep
                let (wr, wi) = (twiddleReal[j], twiddleImaginary[j])
                let (yr, yi) = (partReal[r * sub + m], partImaginary[r * sub + m])
                re += wr * yr - wi * yi
                im += wr * yi + wi * yr
            }
            real[k] = re
            imaginary[k] = im
        }
    }

    private static func smallestFactor(of n: Int) -> Int {
        var p = 2
        while p * p <= n {
            if n % p == 0 { return p }
            p += 1
        }
        return n
    }
}
