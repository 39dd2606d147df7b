import Foundation

/// Differentiable spectral functions of symmetric matrices: the eigenvalues, the full
/// eigendecomposition, matrix functions (`V·diag(f(λ))·Vᵀ`: square root, logarithm), the von Neumann
/// entropy and the nuclear norm. Each works on every `[n, n]` matrix of a `[..., n, n]` tensor,
/// decomposing the symmetric part `(A + Aᵀ)/2` in Float64 (`SymmetricEigen`). The rules treat the
/// decomposition as fixed numbers: first derivatives (gradients and tangents) are exact, and
/// differentiating a gradient again does not reach the eigenvectors.
extension Tensor {
    /// The decomposition of each matrix's symmetric part in Float64, and the matrix size.
    private func symmetricDecompositions(op: String) -> (decompositions: [SymmetricEigen], n: Int) {
        let n = validated { () -> Int in
            guard rank >= 2, shape[rank - 1] == shape[rank - 2] else {
                throw TensorError.shapeMismatch(op: op, detail: "needs square matrices [..., n, n], got \(shape)")
            }
            if let bad = storage.firstIndex(where: { !$0.isFinite }) {
                throw TensorError.invalidArgument(op: op, detail: "entry \(bad) is \(storage[bad]), not finite")
            }
            return shape[rank - 1]
        }
        let size = n * n
        let batch = size == 0 ? 0 : count / size
        let decompositions = (0..<batch).map { b in
            SymmetricEigen(
                Matrix64(rows: n, columns: n, scalars: storage[(b * size)..<((b + 1) * size)].map(Double.init)))
        }
        return (decompositions, n)
    }

    /// The eigenvalues `[..., n]` and eigenvector matrices `[..., n, n]` as tensors off the tape.
    private func spectrum(_ decompositions: [SymmetricEigen]) -> (values: Tensor, vectors: Tensor) {
        (
            Tensor(shape: Array(shape.dropLast()), scalars: decompositions.flatMap { $0.values.map(Float.init) }),
            Tensor(shape: shape, scalars: decompositions.flatMap { $0.vectors.scalars.map(Float.init) })
        )
    }

    /// `V·diag(d)·Vᵀ` for eigenvectors `V` `[..., n, n]` and `d` `[..., n]`, with tensor ops.
    private static func spectralProduct(_ vectors: Tensor, _ diagonal: Tensor) -> Tensor {
        matmul(vectors * diagonal.unsqueezed(axis: -2), vectors, transposingB: true)
    }

    /// The symmetric part `(A + Aᵀ)/2` of each matrix.
    private func symmetricPart() -> Tensor { (self + transposed()) * 0.5 }

    /// Eigenvalues of the symmetric part of each matrix, ascending, `[..., n]` (NumPy's
    /// `eigvalsh`). The gradient is `V·diag(g)·Vᵀ`, which needs no eigenvalue gaps, so spectral
    /// functions built on it (sums of `f(λ)`) differentiate well at repeated eigenvalues.
    public func symmetricEigenvalues() -> Tensor {
        let (result, v) = spectrum(symmetricDecompositions(op: "symmetricEigenvalues").decompositions)
        // dλ_i = v_iᵀ·dA·v_i.
        let rule: TangentRule = { t, _, _ in (t[0]!.matmul(v) * v).sum(alongAxis: -2) }
        return Tensor.record("symmetricEigenvalues", result, inputs: [self], tangent: rule) { g, _ in
            [Tensor.spectralProduct(v, g)]
        }
    }

    /// Eigenvalues `[..., n]` (ascending) and orthonormal eigenvectors `[..., n, n]` (column `i`
    /// for eigenvalue `i`) of the symmetric part of each matrix (NumPy's `eigh`). An eigenvector is
    /// defined up to its sign, and within a repeated eigenvalue up to a rotation, so only
    /// functions that do not depend on those choices have well-defined derivatives. The rules use
    /// `1/(λ_j − λ_i)` for the eigenvector terms and take it as 0 where the gap is at most
    /// `degeneracyTolerance · max(1, max|λ|)` (the degenerate-spectrum guard: PyTorch gives
    /// infinities there).
    public func symmetricEigen(degeneracyTolerance: Double = 1e-6) -> (values: Tensor, vectors: Tensor) {
        let (decompositions, n) = symmetricDecompositions(op: "symmetricEigen")
        let (lambda, v) = spectrum(decompositions)
        // F[i, j] = 1/(λ_j − λ_i) off the diagonal, 0 on it and where the gap is within the guard.
        let gaps = Tensor(shape: shape) { f in
            for (b, lambdas) in decompositions.map(\.values).enumerated() {
                let floor = degeneracyTolerance * Swift.max(1, lambdas.map(Swift.abs).max() ?? 0)
                for i in 0..<n {
                    for j in 0..<n {
                        let gap = lambdas[j] - lambdas[i]
                        f[b * n * n + i * n + j] = i == j || Swift.abs(gap) <= floor ? 0 : Float(1 / gap)
                    }
                }
            }
        }
        let packed = Tensor.concatenate([lambda.unsqueezed(axis: -2), v], alongAxis: -2)
        // With M = Vᵀ·dA·V: dλ = diag(M), dV = V·(F ∘ M).
        let rule: TangentRule = { t, _, _ in
            let m = Tensor.matmul(v, t[0]!.symmetricPart().matmul(v), transposingA: true)
            let dLambda = (t[0]!.matmul(v) * v).sum(alongAxis: -2, keepingDimensions: true)
            return Tensor.concatenate([dLambda, v.matmul(gaps * m)], alongAxis: -2)
        }
        let recorded = Tensor.record("symmetricEigen", packed, inputs: [self], tangent: rule) { g, _ in
            // The adjoint: V·(diag(gλ) + F ∘ (Vᵀ·gV))·Vᵀ, symmetrized.
            let gLambda = g.slice(alongAxis: -2, 0..<1)
            let gV = g.slice(alongAxis: -2, 1..<(n + 1))
            let inner = gaps * Tensor.matmul(v, gV, transposingA: true)
            let eye = Tensor.eye(n)
            let core = inner + eye * gLambda
            return [Tensor.matmul(v.matmul(core), v, transposingB: true).symmetricPart()]
        }
        return (
            recorded.slice(alongAxis: -2, 0..<1).squeezed(axis: -2),
            recorded.slice(alongAxis: -2, 1..<(n + 1))
        )
    }

    /// `V·diag(f(λ))·Vᵀ` of the symmetric part of each matrix, with `derivative` = `f′`. The rules
    /// use the divided differences `(f(λ_i) − f(λ_j))/(λ_i − λ_j)` (`f′` where the eigenvalues
    /// coincide: the Daleckii–Krein formula), so they hold at repeated eigenvalues. `domain`
    /// checks each eigenvalue (e.g. positivity) and names the failure.
    public func symmetricMatrixFunction(
        _ name: String, _ f: (Double) -> Double, derivative: (Double) -> Double,
        domain: (Double) -> Bool = { _ in true }
    ) -> Tensor {
        let (decompositions, n) = symmetricDecompositions(op: name)
        validated {
            for (b, decomposition) in decompositions.enumerated() {
                if let bad = decomposition.values.first(where: { !domain($0) }) {
                    throw TensorError.invalidArgument(
                        op: name, detail: "matrix \(b) has the eigenvalue \(bad), outside the function's domain")
                }
            }
        }
        let v = spectrum(decompositions).vectors
        var result = [Float](), differences = [Float]()
        result.reserveCapacity(count)
        differences.reserveCapacity(count)
        for decomposition in decompositions {
            let lambdas = decomposition.values, mapped = lambdas.map(f)
            result += decomposition.map(f).scalars.map(Float.init)
            let scale = Swift.max(1, lambdas.map(Swift.abs).max() ?? 0)
            for i in 0..<n {
                for j in 0..<n {
                    let gap = lambdas[i] - lambdas[j]
                    let k =
                        Swift.abs(gap) <= 1e-12 * scale
                        ? derivative((lambdas[i] + lambdas[j]) / 2) : (mapped[i] - mapped[j]) / gap
                    differences.append(Float(k))
                }
            }
        }
        let k = Tensor(shape: shape, scalars: differences)
        // X ↦ V·(K ∘ (Vᵀ·sym(X)·V))·Vᵀ is self-adjoint: one map for gradients and tangents.
        let frechet = { (x: Tensor) in
            Tensor.matmul(
                v.matmul(k * Tensor.matmul(v, x.symmetricPart().matmul(v), transposingA: true)), v, transposingB: true)
        }
        return Tensor.record(
            name, Tensor(shape: shape, scalars: result), inputs: [self], tangent: { t, _, _ in frechet(t[0]!) }
        ) {
            g, _ in [frechet(g)]
        }
    }

    /// The principal square root of each symmetric positive semi-definite matrix (SciPy's
    /// `sqrtm` for SPD input). Eigenvalues below `-1e-6 · max(1, |λ|max)` stop with a message;
    /// smaller negative ones (rounding) count as 0.
    public func matrixSquareRoot() -> Tensor {
        let scale = Swift.max(1, Double(storage.lazy.map(Swift.abs).max() ?? 0))
        return symmetricMatrixFunction(
            "matrixSquareRoot", { Swift.max($0, 0).squareRoot() },
            derivative: { 0.5 / Swift.max($0, .leastNormalMagnitude).squareRoot() },
            domain: { $0 >= -1e-6 * scale })
    }

    /// The principal logarithm of each symmetric positive definite matrix (SciPy's `logm` for SPD
    /// input). A non-positive eigenvalue stops with a message.
    public func matrixLogarithm() -> Tensor {
        symmetricMatrixFunction("matrixLogarithm", Foundation.log, derivative: { 1 / $0 }, domain: { $0 > 0 })
    }

    /// The von Neumann entropy `−Σ λ log λ` of each density matrix `[..., n, n]` (symmetric, trace
    /// 1), `[...]`, with eigenvalues clamped at `eigenvalueFloor` before the logarithm (the
    /// gradient is zero through clamped ones). `exp` of it is an effective rank.
    public func vonNeumannEntropy(eigenvalueFloor: Float = 1e-8) -> Tensor {
        let lambda = symmetricEigenvalues().clamped(lower: eigenvalueFloor)
        return -(lambda * lambda.log()).sum(alongAxis: -1)
    }

    /// The nuclear norm (sum of singular values) of each matrix `[..., m, n]`, from the eigenvalues
    /// of the smaller Gram matrix (`AᵀA` or `AAᵀ`) clamped at `gramEigenvalueFloor` before the square
    /// root. Its gradient is `U·Vᵀ` of the thin SVD (zero through clamped singular values).
    public func nuclearNorm(gramEigenvalueFloor: Float = 1e-12) -> Tensor {
        validated(rank >= 2, "nuclearNorm: needs matrices [..., m, n], got \(shape)")
        let gram =
            shape[rank - 1] <= shape[rank - 2]
            ? Tensor.matmul(self, self, transposingA: true) : Tensor.matmul(self, self, transposingB: true)
        return gram.symmetricEigenvalues().clamped(lower: gramEigenvalueFloor).squareRoot().sum(alongAxis: -1)
    }
}
