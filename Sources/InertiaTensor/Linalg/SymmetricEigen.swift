import Foundation

/// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a symmetric matrix in Float64: Householder
/// reduction to tridiagonal form, then the implicit QL iteration with Wilkinson shifts
/// (the EISPACK `tred2` / `tql2` pair, as in Golub & Van Loan §8.3). `O(n³)`.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, ascending.
    public let values: [Double]
    /// Orthonormal eigenvectors, column `i` for `values[i]`.
    public let vectors: Matrix64

    /// Decomposes `(a + aᵀ)/2` (only the symmetric part is used).
    public init(_ a: Matrix64) {
        precondition(a.rows == a.columns, "SymmetricEigen: needs a square matrix, got \(a.rows)x\(a.columns)")
        let n = a.rows
        guard n > 0 else {
            values = []
            vectors = a
            return
        }
        var v = a.symmetrized.scalars
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
        v.withUnsafeMutableBufferPointer { vp in
            d.withUnsafeMutableBufferPointer { dp in
                e.withUnsafeMutableBufferPointer { ep in
                    Self.tridiagonalize(vp.baseAddress!, dp.baseAddress!, ep.baseAddress!, n)
                    Self.diagonalize(vp.baseAddress!, dp.baseAddress!, ep.baseAddress!, n)
                }
            }
        }
        // Sort ascending, moving eigenvector columns along.
        let order = (0..<n).sorted { d[$0] < d[$1] }
        var sorted = Matrix64(rows: n, columns: n)
        for (to, from) in order.enumerated() {
            for r in 0..<n { sorted.scalars[r * n + to] = v[from * n + r] }
        }
        values = order.map { d[$0] }
        vectors = sorted
    }

    /// `V·diag(f(λ))·Vᵀ`: a spectral function of the matrix (inverse, inverse square root).
    public func map(_ f: (Double) -> Double) -> Matrix64 {
        let n = values.count
        let fv = values.map(f)
        var scaled = vectors
        for r in 0..<n {
            for c in 0..<n { scaled.scalars[r * n + c] *= fv[c] }
        }
        return scaled * vectors.transposed
    }

    /// `A^power` with eigenvalues floored at `relativeFloor·λ_max` (and at the smallest positive
    /// Double) first, so inverses and inverse roots of nearly singular factors stay finite.
    public func power(_ power: Double, relativeFloor: Double = 1e-12) -> Matrix64 {
        let floor = Swift.max((values.last ?? 0) * relativeFloor, Double.leastNormalMagnitude)
        return map { Foundation.pow(Swift.max($0, floor), power) }
    }

    /// Householder reduction of the symmetric `v` (overwritten by the accumulated transformation,
    /// stored column-major so that the columns the loops walk are contiguous) to tridiagonal form:
    /// diagonal in `d`, sub-diagonal in `e[1...]`.
    private static func tridiagonalize(
        _ v: UnsafeMutablePointer<Double>, _ d: UnsafeMutablePointer<Double>,
        _ e: UnsafeMutablePointer<Double>, _ n: Int
    ) {
        @inline(__always) func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<Double> { v + c * n + r }
        for j in 0..<n { d[j] = at(n - 1, j).pointee }
        for i in stride(from: n - 1, to: 0, by: -1) {
            var scale = 0.0, h = 0.0
            for k in 0..<i { scale += Swift.abs(d[k]) }
            if scale == 0 {
                e[i] = d[i - 1]
                for j in 0..<i {
                    d[j] = at(i - 1, j).pointee
                    at(i, j).pointee = 0
                    at(j, i).pointee = 0
                }
            } else {
                for k in 0..<i {
                    d[k] /= scale
                    h += d[k] * d[k]
                }
                var f = d[i - 1]
                var g = h.squareRoot()
                if f > 0 { g = -g }
                e[i] = scale * g
                h -= f * g
                d[i - 1] = f - g
                for j in 0..<i { e[j] = 0 }
                for j in 0..<i {
                    f = d[j]
                    at(j, i).pointee = f
                    g = e[j] + at(j, j).pointee * f
                    if j + 1 <= i - 1 {
                        for k in (j + 1)...(i - 1) {
                            g += at(k, j).pointee * d[k]
                            e[k] += at(k, j).pointee * f
                        }
                    }
                    e[j] = g
                }
                f = 0
                for j in 0..<i {
                    e[j] /= h
                    f += e[j] * d[j]
                }
                let hh = f / (h + h)
                for j in 0..<i { e[j] -= hh * d[j] }
                for j in 0..<i {
                    f = d[j]
                    g = e[j]
                    for k in j...(i - 1) { at(k, j).pointee -= f * e[k] + g * d[k] }
                    d[j] = at(i - 1, j).pointee
                    at(i, j).pointee = 0
                }
            }
            d[i] = h
        }
        // Accumulate the transformations.
        for i in 0..<(n - 1) {
            at(n - 1, i).pointee = at(i, i).pointee
            at(i, i).pointee = 1
            let h = d[i + 1]
            if h != 0 {
                for k in 0...i { d[k] = at(k, i + 1).pointee / h }
                for j in 0...i {
                    var g = 0.0
                    for k in 0...i { g += at(k, i + 1).pointee * at(k, j).pointee }
                    for k in 0...i { at(k, j).pointee -= g * d[k] }
                }
            }
            for k in 0...i { at(k, i + 1).pointee = 0 }
        }
        for j in 0..<n {
            d[j] = at(n - 1, j).pointee
            at(n - 1, j).pointee = 0
        }
        at(n - 1, n - 1).pointee = 1
        e[0] = 0
    }

    /// The implicit QL iteration on the tridiagonal `(d, e)`, rotating the columns of `v`
    /// (column-major: each rotation touches two contiguous columns).
    private static func diagonalize(
        _ v: UnsafeMutablePointer<Double>, _ d: UnsafeMutablePointer<Double>,
        _ e: UnsafeMutablePointer<Double>, _ n: Int
    ) {
        @inline(__always) func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<Double> { v + c * n + r }
        for i in 1..<n { e[i - 1] = e[i] }
        e[n - 1] = 0
        var f = 0.0, tst1 = 0.0
        let eps = Double.ulpOfOne
        for l in 0..<n {
            tst1 = Swift.max(tst1, Swift.abs(d[l]) + Swift.abs(e[l]))
            var m = l
            while m < n - 1 && Swift.abs(e[m]) > eps * tst1 { m += 1 }
            if m > l {
                var iterations = 0
                repeat {
                    iterations += 1
                    precondition(
                        iterations <= 60 * n,
                        "SymmetricEigen: the QL iteration did not converge (NaN or infinite entries?)")
                    var g = d[l]
                    var p = (d[l + 1] - g) / (2 * e[l])
                    var r = hypot(p, 1)
                    if p < 0 { r = -r }
                    d[l] = e[l] / (p + r)
                    d[l + 1] = e[l] * (p + r)
                    let dl1 = d[l + 1]
                    var h = g - d[l]
                    if l + 2 < n { for i in (l + 2)..<n { d[i] -= h } }
                    f += h
                    p = d[m]
                    var c = 1.0, c2 = 1.0, c3 = 1.0, s = 0.0, s2 = 0.0
                    let el1 = e[l + 1]
                    for i in stride(from: m - 1, through: l, by: -1) {
                        c3 = c2
                        c2 = c
                        s2 = s
                        g = c * e[i]
                        h = c * p
                        r = hypot(p, e[i])
                        e[i + 1] = s * r
                        s = e[i] / r
                        c = p / r
                        p = c * d[i] - s * g
                        d[i + 1] = h + s * (c * g + s * d[i])
                        for k in 0..<n {
                            let vk1 = at(k, i + 1).pointee, vk = at(k, i).pointee
                            at(k, i + 1).pointee = s * vk + c * vk1
                            at(k, i).pointee = c * vk - s * vk1
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1
                    e[l] = s * p
                    d[l] = c * p
                } while Swift.abs(e[l]) > eps * tst1
            }
            d[l] += f
            e[l] = 0
        }
    }
}

extension Matrix64 {
    /// The polar factor `UVᵀ` of `M = UΣVᵀ`, exactly (what Newton–Schulz approximates):
    /// `(MMᵀ)^{-1/2}M` for a wide matrix, `M(MᵀM)^{-1/2}` for a tall one, by eigendecomposition of
    /// the smaller Gram matrix; directions of singular values below `1e-12·σ_max` are dropped.
    public var polarFactor: Matrix64 {
        let wide = rows <= columns
        let eigen = SymmetricEigen(wide ? self * transposed : transposed * self)
        let floor = (eigen.values.last ?? 0) * 1e-24
        let inverseRoot = eigen.map { $0 > floor && $0 > 0 ? 1 / $0.squareRoot() : 0 }
        return wide ? inverseRoot * self : self * inverseRoot
    }
}
