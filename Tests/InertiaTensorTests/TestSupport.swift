import XCTest

@testable import InertiaTensor

/// A reproducible random tensor.
func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = PhiloxGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &rng)
}

func assertClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let ok = a == e || (a.isNaN && e.isNaN) || Swift.abs(a - e) <= tolerance * Swift.max(1, Swift.abs(e))
        if !ok {
            XCTFail("element \(i): \(a) vs expected \(e) \(message)", file: file, line: line)
            return
        }
    }
}

/// Checks reverse-mode gradients against central differences, then forward-mode tangents.
///
/// The scalar checked is `sum(f(inputs) * w)` for a fixed random `w`, so every output element
/// contributes with its own weight. The function runs in Float; the difference quotient and the
/// weighted sum are formed in Double. Forward mode (`Tensor.jvp`) with random tangents `u` must
/// give the plain forward's values bit for bit, a tangent `J u` equal elementwise to the central
/// difference along `u`, and `wᵀ J u` equal to `Σ_k ⟨J_kᵀ w, u_k⟩` from the reverse-mode gradients.
func checkGradients(
    _ inputs: [Tensor], step: Float = 1e-3, tolerance: Double = 2e-2, seed: UInt64 = 99,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
) {
    let probe = f(inputs.map { $0.detached() })
    let w = randomTensor(probe.shape, seed: seed)
    func objective(_ xs: [Tensor]) -> Double {
        let y = withoutGradients { f(xs) }
        return zip(y.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let y = f(leaves)
    XCTAssertEqual(y.shape, probe.shape, file: file, line: line)
    (y * w).sum().backward()
    checkTangents(
        inputs, gradients: leaves.map { $0.grad ?? Tensor.zeros($0.shape) }, weights: w, step: step,
        tolerance: tolerance, seed: seed, file: file, line: line, f)
    for (k, leaf) in leaves.enumerated() {
        let analytic = leaf.grad?.scalars ?? [Float](repeating: 0, count: leaf.count)
        XCTAssertEqual(analytic.count, leaf.count, "gradient of input \(k) has the wrong size", file: file, line: line)
        for i in 0..<leaf.count {
            var plus = inputs.map { $0.detached() }
            var minus = plus
            plus[k].withUnsafeMutableBufferPointer { $0[i] += step }
            minus[k].withUnsafeMutableBufferPointer { $0[i] -= step }
            let hPlus = Double(plus[k].scalars[i]) - Double(inputs[k].scalars[i])
            let hMinus = Double(inputs[k].scalars[i]) - Double(minus[k].scalars[i])
            let numeric = (objective(plus) - objective(minus)) / (hPlus + hMinus)
            let a = Double(analytic[i])
            if Swift.abs(a - numeric) > tolerance * Swift.max(1, Swift.abs(numeric)) {
                XCTFail("input \(k) element \(i): analytic \(a), numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }
}

/// The forward-mode half of `checkGradients`.
private func checkTangents(
    _ inputs: [Tensor], gradients: [Tensor], weights w: Tensor, step: Float, tolerance: Double, seed: UInt64,
    file: StaticString, line: UInt, _ f: ([Tensor]) -> Tensor
) {
    let points = inputs.map { $0.detached() }
    let u = points.indices.map { randomTensor(points[$0].shape, seed: seed &+ 1 &+ UInt64($0)) }
    let (values, tangents) = Tensor.jvp(of: { [f($0)] }, at: points, tangents: u)
    XCTAssertEqual(values[0], withoutGradients { f(points) }, "forward mode changed the values", file: file, line: line)
    let tangent = tangents[0]
    func shifted(_ sign: Float) -> [Float] {
        withoutGradients { f(zip(points, u).map { $0 + sign * step * $1 }).scalars }
    }
    let plus = shifted(1), minus = shifted(-1)
    for i in 0..<tangent.count {
        let numeric = (Double(plus[i]) - Double(minus[i])) / (2 * Double(step))
        let a = Double(tangent.scalars[i])
        if Swift.abs(a - numeric) > tolerance * Swift.max(1, Swift.abs(numeric)) {
            XCTFail("tangent element \(i): forward mode \(a), central difference \(numeric)", file: file, line: line)
            return
        }
    }
    let forward = zip(tangent.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let reverse = zip(gradients, u).reduce(0.0) { total, pair in
        zip(pair.0.scalars, pair.1.scalars).reduce(total) { $0 + Double($1.0) * Double($1.1) }
    }
    XCTAssertEqual(
        forward, reverse, accuracy: 1e-4 * Swift.max(1, Swift.abs(reverse)),
        "wᵀ(J u) from forward mode against (Jᵀ w)ᵀ u from reverse mode", file: file, line: line)
}
