import XCTest

@testable import InertiaOptim

final class LimitedMemoryBFGSTests: XCTestCase {
    /// The extended Rosenbrock function and its gradient (minimum 0 at all ones).
    func rosenbrock(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        var value = 0.0
        var gradient = [Double](repeating: 0, count: x.count)
        for i in 0..<(x.count - 1) {
            let a = x[i + 1] - x[i] * x[i], b = 1 - x[i]
            value += 100 * a * a + b * b
            gradient[i] += -400 * x[i] * a - 2 * b
            gradient[i + 1] += 200 * a
        }
        return (value, gradient)
    }

    func testRosenbrockFromTheClassicStart() {
        for dimension in [2, 10] {
            let start = (0..<dimension).map { $0 % 2 == 0 ? -1.2 : 1.0 }
            let result = LimitedMemoryBFGS(maxIterations: 500, gradientTolerance: 1e-10).minimize(
                from: start, rosenbrock)
            XCTAssertEqual(result.stop, .gradient, "dimension \(dimension)")
            XCTAssertLessThan(result.x.map { abs($0 - 1) }.max()!, 1e-8, "dimension \(dimension)")
            XCTAssertLessThan(result.value, 1e-16)
            XCTAssertLessThan(result.iterations, 150, "L-BFGS takes tens of iterations here, not hundreds")
        }
    }

    /// A convex quadratic `0.5 xᵀAx - bᵀx` with a condition number of 1e4: the minimiser solves
    /// `Ax = b`. (Below a gradient of ~1e-6 the objective's round-off stalls any line search;
    /// scipy's L-BFGS-B stops at 4e-7 here.)
    func testAnIllConditionedQuadratic() {
        let n = 20
        let diagonal = (0..<n).map { Foundation.pow(10, 4 * Double($0) / Double(n - 1)) }
        let b = (0..<n).map { Double($0 % 3) - 1 }
        let result = LimitedMemoryBFGS(history: 5, maxIterations: 1000, gradientTolerance: 1e-5).minimize(
            from: [Double](repeating: 0, count: n)
        ) { x -> (value: Double, gradient: [Double]) in
            var value = 0.0
            var gradient = [Double](repeating: 0, count: n)
            for i in 0..<n {
                value += 0.5 * diagonal[i] * x[i] * x[i] - b[i] * x[i]
                gradient[i] = diagonal[i] * x[i] - b[i]
            }
            return (value, gradient)
        }
        XCTAssertEqual(result.stop, .gradient, "after \(result.iterations) iterations")
        // |x - x*| <= |gradient| / lambda_min with lambda_min = 1.
        for i in 0..<n { XCTAssertEqual(result.x[i], b[i] / diagonal[i], accuracy: 1e-5) }
    }

    func testStopsOnANonFiniteStartAndOnTheIterationCap() {
        let nonFinite = LimitedMemoryBFGS().minimize(from: [1]) { _ in (.nan, [0]) }
        XCTAssertEqual(nonFinite.stop, .nonFinite)
        let capped = LimitedMemoryBFGS(maxIterations: 3).minimize(from: [-1.2, 1], rosenbrock)
        XCTAssertEqual(capped.stop, .iterations)
        XCTAssertEqual(capped.iterations, 3)
        XCTAssertLessThan(capped.value, rosenbrock([-1.2, 1]).value, "every accepted step decreases the objective")
    }

    /// A function that is infinite past x = 2 (a barrier): the line search must back off, not fail.
    func testBacksOffFromANonFiniteRegion() {
        let result = LimitedMemoryBFGS(gradientTolerance: 1e-10).minimize(from: [0]) {
            x -> (value: Double, gradient: [Double]) in
            let t = x[0]
            guard t < 2 else { return (.infinity, [.nan]) }
            return ((t - 1.9) * (t - 1.9) - Foundation.log(2 - t), [2 * (t - 1.9) + 1 / (2 - t)])
        }
        XCTAssertEqual(result.stop, .gradient)
        // Stationary point: 2(x - 1.9)(2 - x) + 1 = 0.
        let x = result.x[0]
        XCTAssertEqual(2 * (x - 1.9) * (2 - x) + 1, 0, accuracy: 1e-8)
    }
}
