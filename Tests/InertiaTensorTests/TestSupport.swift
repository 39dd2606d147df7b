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

/// Checks reverse-mode gradients against central differences.
///
/// The scalar checked is `sum(f(inputs) * w)` for a fixed random `w`, so every output element
/// contributes with its own weight. The function runs in Float; the difference quotient and the
/// weighted sum are formed in Double.
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
