import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaPhysics

/// `walk-on-spheres.md` 6: the fixture's three problems by a statistical test, the five
/// invariants, thread-count independence, and the expressions the fixture writes its data in.
final class WalkOnSpheresTests: XCTestCase {
    /// A fixture problem's data: the expression before any description (" at closest boundary
    /// point", " (-Lap u = f)").
    func field(_ text: Any?) throws -> ScalarFieldExpression {
        let raw = try XCTUnwrap(text as? String)
        let expression = raw.components(separatedBy: " at ")[0].components(separatedBy: " (")[0]
        return try ScalarFieldExpression(expression)
    }

    /// Checks one fixture problem on its domain: `|mean − exact| < 4·std/√W + 2·eps` with the
    /// run's own std, the std within 5 % of the fixture's, the mean walk length within 0.2 steps.
    func check<Domain: WalkOnSpheresDomain>(
        _ problem: [String: Any], domain: Domain, line: UInt = #line
    ) throws {
        let g = try field(problem["g"]), f = try field(problem["f"])
        let x0 = doubles(problem["x0"])
        XCTAssertEqual(x0.count, Domain.Point.scalarCount, line: line)
        var start = Domain.Point.zero
        for (i, value) in x0.enumerated() { start[i] = value }
        let eps = (problem["eps"] as! NSNumber).doubleValue, exact = (problem["exact"] as! NSNumber).doubleValue
        let walker = WalkOnSpheres(domain: domain, shellWidth: eps)
        let constantZero = f.dimension == 0 && f(0.0, 0.0, 0.0) == 0
        let source: (@Sendable (Domain.Point) -> Double)?
        if constantZero {
            source = nil
        } else {
            source = { f($0) }
        }
        let estimate = walker.estimate(at: [start], walks: 20_000, boundary: { g($0) }, source: source, seed: 42)[0]
        XCTAssertLessThan(
            Swift.abs(estimate.mean - exact), 4 * estimate.standardError + 2 * eps,
            "mean \(estimate.mean) against \(exact) (se \(estimate.standardError))", line: line)
        let std = (problem["per_walk_std"] as! NSNumber).doubleValue
        XCTAssertEqual(estimate.standardDeviation, std, accuracy: 0.05 * std, line: line)
        if let steps = problem["mean_steps"] as? NSNumber {
            XCTAssertEqual(estimate.meanSteps, steps.doubleValue, accuracy: 0.2, line: line)
        }
        XCTAssertEqual(estimate.truncatedWalks, 0, line: line)
    }

    func testTheFixtureProblems() throws {
        let f = try fixture("walk-on-spheres", "wos_fixtures.json")
        var checked = 0
        for (name, value) in f {
            guard let problem = value as? [String: Any], problem["exact"] != nil else { continue }
            switch problem["domain"] as? String {
            case "unit disk": try check(problem, domain: Ball<SIMD2<Double>>())
            case "unit ball": try check(problem, domain: Ball<SIMD3<Double>>())
            default: XCTFail("\(name): unknown domain \(problem["domain"] ?? "none")")
            }
            checked += 1
        }
        XCTAssertEqual(checked, 3, "the spec lists three problems")
    }

    /// Invariant 1: a linear (harmonic) `g` is reproduced up to the shell bias; a constant
    /// exactly, with zero variance. `x·y` is harmonic too, on a box.
    func testHarmonicBoundaryDataIsReproduced() {
        let disk = WalkOnSpheres(domain: Ball<SIMD2<Double>>())
        let start = SIMD2(-0.4, 0.35)
        let linear = disk.estimate(at: [start], walks: 20_000, boundary: { 0.5 + 2 * $0.x - $0.y }, seed: 1)[0]
        XCTAssertLessThan(Swift.abs(linear.mean - (0.5 + 2 * start.x - start.y)), 4 * linear.standardError + 2e-3)
        let constant = disk.estimate(at: [start], walks: 1000, boundary: { _ in 1.25 }, seed: 1)[0]
        XCTAssertEqual(constant.mean, 1.25)
        XCTAssertEqual(constant.standardDeviation, 0)

        let box = WalkOnSpheres(domain: Box(lower: SIMD2(-1.0, 0), upper: SIMD2(2.0, 1)))
        let product = box.estimate(at: [SIMD2(0.7, 0.4)], walks: 20_000, boundary: { $0.x * $0.y }, seed: 2)[0]
        XCTAssertLessThan(Swift.abs(product.mean - 0.28), 4 * product.standardError + 2e-3 * 3)
    }

    /// Invariant 2: with shared random numbers the estimate is linear in `(f, g)`.
    func testTheEstimateIsLinearInTheData() {
        let ball = WalkOnSpheres(domain: Ball<SIMD3<Double>>(radius: 1.5))
        let points = [SIMD3(0.1, 0.2, -0.3), SIMD3(-0.9, 0.4, 0.5)]
        func run(
            _ g: @escaping @Sendable (SIMD3<Double>) -> Double, _ f: @escaping @Sendable (SIMD3<Double>) -> Double
        )
            -> [Double]
        {
            ball.estimate(at: points, walks: 600, boundary: g, source: f, seed: 9).map(\.mean)
        }
        let a = run({ $0.x * $0.y }, { _ in 6 }), b = run({ $0.z }, { Foundation.exp($0.x) })
        let sum = run({ $0.x * $0.y + $0.z }, { 6 + Foundation.exp($0.x) })
        for i in points.indices { XCTAssertEqual(sum[i], a[i] + b[i], accuracy: 1e-12) }
    }

    /// Invariant 3: the Green's-function radius has `E[s²]` 1/4 in 2-D and 3/10 in 3-D, and the
    /// directions are uniform (mean 0, second moments 1/d).
    func testTheSourceSamplerAndTheDirections() {
        func moments<Point: SIMD>(_: Point.Type, count: Int) -> (s2: Double, s4: Double, mean: Double, square: Double)
        where Point.Scalar == Double {
            var rng = BufferedPhilox(PhiloxGenerator(seed: 4))
            var s2 = 0.0, s4 = 0.0, mean = 0.0, square = 0.0
            for _ in 0..<count {
                let s = WalkOnSpheres<Ball<Point>>.greenRadiusFraction(using: &rng)
                s2 += s * s
                s4 += s * s * s * s
                let u = WalkOnSpheres<Ball<Point>>.uniformDirection(using: &rng)
                XCTAssertEqual((u * u).sum(), 1, accuracy: 1e-12)
                mean += u[0]
                square += u[Point.scalarCount - 1] * u[Point.scalarCount - 1]
            }
            let n = Double(count)
            return (s2 / n, s4 / n, mean / n, square / n)
        }
        let n = 200_000
        for (dimension, expected) in [(2, 0.25), (3, 0.3)] {
            let m = dimension == 2 ? moments(SIMD2<Double>.self, count: n) : moments(SIMD3<Double>.self, count: n)
            let standardError = ((m.s4 - m.s2 * m.s2) / Double(n)).squareRoot()
            XCTAssertEqual(m.s2, expected, accuracy: 4 * standardError, "E[s^2] in \(dimension)-D")
            XCTAssertEqual(m.mean, 0, accuracy: 4 / Double(n).squareRoot())
            XCTAssertEqual(m.square, 1 / Double(dimension), accuracy: 4 / Double(n).squareRoot())
        }
    }

    /// Invariant 4: halving the shell width adds about the same number of steps each time.
    func testWalkLengthGrowsLikeTheLogOfOneOverEpsilon() {
        let steps = [1e-2, 5e-3, 2.5e-3, 1.25e-3].map { eps in
            WalkOnSpheres(domain: Ball<SIMD2<Double>>(), shellWidth: eps).estimate(
                at: [SIMD2(0.3, 0.2)], walks: 20_000, boundary: { _ in 0 }, seed: 3)[0].meanSteps
        }
        let increments = zip(steps.dropFirst(), steps).map { $0 - $1 }
        XCTAssertTrue(increments.allSatisfy { $0 > 0 }, "\(steps)")
        XCTAssertLessThan(increments.max()! - increments.min()!, 0.25 * increments.max()!, "\(increments)")
    }

    /// Invariant 5: a start within the shell returns `g` at the closest boundary point at once;
    /// a start outside gives NaN; a walk cut at `maxSteps` is counted.
    func testShellStartsOutsideStartsAndTruncation() {
        let disk = WalkOnSpheres(domain: Ball<SIMD2<Double>>(), shellWidth: 1e-3)
        let near = SIMD2(0.9995, 0.0)
        let estimate = disk.estimate(at: [near, SIMD2(1.5, 0)], walks: 10, boundary: { $0.x + 3 * $0.y }, seed: 0)
        XCTAssertEqual(estimate[0].mean, 1, accuracy: 1e-12)
        XCTAssertEqual(estimate[0].meanSteps, 0)
        XCTAssertTrue(estimate[1].mean.isNaN)
        let cut = WalkOnSpheres(domain: Ball<SIMD2<Double>>(), maxSteps: 2)
            .estimate(at: [SIMD2(0.2, 0.1)], walks: 100, boundary: { _ in 0 }, seed: 0)[0]
        XCTAssertGreaterThan(cut.truncatedWalks, 50)
        XCTAssertLessThanOrEqual(cut.meanSteps, 2)
    }

    func testTheNumbersDoNotDependOnTheThreadCount() {
        let disk = WalkOnSpheres(domain: Ball<SIMD2<Double>>())
        let points = (0..<5).map { SIMD2(0.1 * Double($0), -0.05 * Double($0)) }
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var results: [[WalkOnSpheres<Ball<SIMD2<Double>>>.Estimate]] = []
        for threads in [1, 2] {
            Parallel.threadCount = threads
            results.append(
                disk.estimate(
                    at: points, walks: 700, boundary: { $0.x * $0.x - $0.y * $0.y }, source: { _ in 4 }, seed: 5,
                    blockSize: 128))
        }
        XCTAssertEqual(results[0], results[1])
    }

    func testExpressions() throws {
        let cases: [(String, Double, Double, Double, Double)] = [
            ("x^2 - y^2", 0.3, 0.2, 0, 0.05), ("4", 9, 9, 9, 4), ("-x^2", 3, 0, 0, -9), ("2^3^2", 0, 0, 0, 512),
            ("x*y*z + 1e-1", 1, 2, 3, 6.1), ("10*exp(-((x-0.2)^2 + y^2)/0.1)", 0.2, 0, 0, 10),
            ("sqrt(abs(-16)) / 2 - cos(pi)", 0, 0, 0, 3), ("(1 + x) * -y", 1, 2, 0, -4),
        ]
        for (text, x, y, z, expected) in cases {
            XCTAssertEqual(try ScalarFieldExpression(text)(x, y, z), expected, accuracy: 1e-12, text)
        }
        XCTAssertEqual(try ScalarFieldExpression("x*y").dimension, 2)
        XCTAssertEqual(try ScalarFieldExpression("z").dimension, 3)
        XCTAssertEqual(try ScalarFieldExpression("7").dimension, 0)
        for (text, fragment) in [
            ("x^", "ends early"), ("foo(x)", "unknown name 'foo'"), ("(x + 1", "expected ')'"),
            ("x $ y", "unexpected '$'"),
            ("sin x", "expected '(' after sin"),
        ] {
            XCTAssertThrowsError(try ScalarFieldExpression(text), text) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0)")
            }
        }
    }
}
