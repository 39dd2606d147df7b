import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaTransport

/// Sinkhorn against POT 0.9.7's outputs (`shared/fixtures/sinkhorn-newton-sparse`, `tiny.pot`).
final class SinkhornTests: XCTestCase {
    func tinyProblem() throws -> (TransportProblem, [String: Any]) {
        let tiny = try fixture("sinkhorn-newton-sparse", "sns_fixtures.json")["tiny"] as! [String: Any]
        return (
            try TransportProblem(source: doubles(tiny["r"]), target: doubles(tiny["c"]), cost: matrix64(tiny["C"])),
            tiny
        )
    }

    func testBothMethodsMatchPOT() throws {
        let (problem, tiny) = try tinyProblem()
        let pot = tiny["pot"] as! [String: Any]
        let reg = (pot["reg"] as! NSNumber).doubleValue
        let log = try Sinkhorn.solve(problem, regularization: reg, options: .init(method: .log))
        let expectedLog = pot["sinkhorn_log"] as! [String: Any]
        XCTAssertEqual(log.iterations - 1, (expectedLog["niter"] as! NSNumber).intValue)
        XCTAssertLessThan(maxDifference(log.errors, doubles(expectedLog["err"])), 1e-12)
        XCTAssertLessThan(maxDifference(log.plan.scalars, matrix64(expectedLog["plan"]).scalars), 1e-10)
        XCTAssertLessThan(maxDifference(log.logU, doubles(expectedLog["log_u"])), 1e-10)
        XCTAssertLessThan(maxDifference(log.logV, doubles(expectedLog["log_v"])), 1e-10)
        XCTAssertTrue(log.converged)
        XCTAssertNil(log.warning)

        let knopp = try Sinkhorn.solve(problem, regularization: reg)
        let expectedKnopp = pot["sinkhorn_knopp"] as! [String: Any]
        XCTAssertEqual(knopp.iterations - 1, (expectedKnopp["niter"] as! NSNumber).intValue)
        XCTAssertLessThan(maxDifference(knopp.errors, doubles(expectedKnopp["err"])), 1e-12)
        XCTAssertLessThan(maxDifference(knopp.plan.scalars, matrix64(expectedKnopp["plan"]).scalars), 1e-10)
        XCTAssertLessThan(maxDifference(knopp.logU.map { Foundation.exp($0) }, doubles(expectedKnopp["u"])), 1e-10)
        XCTAssertLessThan(maxDifference(knopp.logV.map { Foundation.exp($0) }, doubles(expectedKnopp["v"])), 1e-10)
        XCTAssertEqual(knopp.transportCost, (pot["sinkhorn2_value"] as! NSNumber).doubleValue, accuracy: 1e-10)
    }

    func testNonConvergenceWarnsAndUnderflowFallsBack() throws {
        let (problem, _) = try tinyProblem()
        let short = try Sinkhorn.solve(problem, regularization: 0.01, options: .init(method: .log, maxIterations: 5))
        XCTAssertFalse(short.converged)
        XCTAssertTrue(short.warning?.contains("did not converge in 5 iterations") ?? false, "\(short.warning ?? "nil")")
        // exp(-C/reg) underflows to 0 for reg 1e-4 on costs ~1: Knopp stops with a warning, the log domain converges.
        let underflow = try Sinkhorn.solve(problem, regularization: 1e-4)
        XCTAssertFalse(underflow.converged)
        XCTAssertTrue(underflow.warning?.contains("numerical errors") ?? false, "\(underflow.warning ?? "nil")")
        let stable = try Sinkhorn.solve(
            problem, regularization: 1e-3, options: .init(method: .log, maxIterations: 100_000))
        XCTAssertTrue(stable.converged)
        XCTAssertLessThan(stable.marginalError, 1e-8)
        XCTAssertThrowsError(try Sinkhorn.solve(problem, regularization: 0))
    }

    func testEpsilonScalingReachesTheSamePlanInFewerSweeps() throws {
        let assign = try fixture("sinkhorn-newton-sparse", "sns_fixtures.json")["assign12"] as! [String: Any]
        let problem = try TransportProblem(source: [], target: [], cost: matrix64(assign["C"]))
        var options = Sinkhorn.Options(method: .log, maxIterations: 200_000, stopThreshold: 1e-11)
        let direct = try Sinkhorn.solve(problem, regularization: 0.01, options: options)
        options.epsilonScaling = (stages: 4, factor: 2)
        let scaled = try Sinkhorn.solve(problem, regularization: 0.01, options: options)
        XCTAssertTrue(direct.converged && scaled.converged)
        XCTAssertLessThan(maxDifference(direct.plan.scalars, scaled.plan.scalars), 1e-9)
        XCTAssertLessThan(scaled.iterations, direct.iterations)
        options.method = .knopp
        XCTAssertThrowsError(try Sinkhorn.solve(problem, regularization: 0.01, options: options))
    }

    func testBadInputIsRejectedWithItsReason() {
        let cost = Matrix64(rows: 2, columns: 2, scalars: [0, 1, 1, 0])
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(
            message { try TransportProblem(source: [0.5, -0.5, 1], target: [], cost: cost) }.contains(
                "3 source weights"))
        XCTAssertTrue(
            message { try TransportProblem(source: [1.5, -0.5], target: [], cost: cost) }.contains(
                "source weight 1 is negative"))
        XCTAssertTrue(
            message { try TransportProblem(source: [0.7, 0.7], target: [0.5, 0.5], cost: cost) }.contains(
                "different totals"))
        XCTAssertTrue(
            message { try TransportProblem(source: [.nan, 1], target: [], cost: cost) }.contains(
                "source weight 0 is nan"))
        let nanCost = Matrix64(rows: 2, columns: 2, scalars: [0, .nan, 1, 0])
        XCTAssertTrue(
            message { try TransportProblem(source: [], target: [], cost: nanCost) }.contains("cost entry (0, 1) is nan")
        )
        XCTAssertTrue(
            message { try TransportProblem(source: [], target: [], cost: Matrix64(rows: 0, columns: 0)) }.contains(
                "empty"))
    }

    func testEntropicCostApproachesTheExactCostAsRegularizationShrinks() throws {
        var rng = SplitMix64(seed: 3)
        let points = (0..<40).map { _ in Double(rng.next() >> 11) * 0x1p-53 }
        let x = Matrix64(rows: 20, columns: 1, scalars: Array(points[..<20]))
        let y = Matrix64(rows: 20, columns: 1, scalars: Array(points[20...]))
        let problem = try TransportProblem(source: [], target: [], cost: GroundCost.squaredEuclidean(x, y))
        let exact = ExactTransport.assignmentCost(problem.cost) / 20
        var previousGap = Double.infinity
        for reg in [1e-1, 1e-2, 1e-3] {
            let result = try Sinkhorn.solve(
                problem, regularization: reg, options: .init(method: .log, maxIterations: 200_000, stopThreshold: 1e-12)
            )
            XCTAssertTrue(result.converged, "reg \(reg)")
            let gap = result.transportCost - exact
            XCTAssertGreaterThanOrEqual(gap, -1e-9, "entropic cost >= exact cost")
            XCTAssertLessThanOrEqual(gap, 2 * Foundation.log(20) * reg, "bias bound (log n + log m)/eta")
            XCTAssertLessThan(gap, previousGap)
            previousGap = gap
        }
        // The 1-D closed form agrees with the assignment on uniform weights.
        XCTAssertEqual(
            try ExactTransport.transportCost1D(Array(points[..<20]), Array(points[20...]), p: 2), exact, accuracy: 1e-12
        )
    }
}

final class ExactTransportTests: XCTestCase {
    func testHungarianMatchesTheFixtureAndBruteForce() throws {
        let assign = try fixture("sinkhorn-newton-sparse", "sns_fixtures.json")["assign12"] as! [String: Any]
        let cost = matrix64(assign["C"])
        XCTAssertEqual(ExactTransport.assignment(cost), (assign["assignment_cols"] as! [NSNumber]).map(\.intValue))
        XCTAssertEqual(
            ExactTransport.assignmentCost(cost) / 12, (assign["exact_assignment_cost_over_n"] as! NSNumber).doubleValue,
            accuracy: 1e-12)
        // Brute force over all permutations of 6, and a rectangular 3x5 problem.
        var rng = SplitMix64(seed: 8)
        let c = Matrix64(rows: 6, columns: 6, scalars: (0..<36).map { _ in Double(rng.next() >> 11) * 0x1p-53 })
        func permutations(_ items: [Int]) -> [[Int]] {
            items.count <= 1
                ? [items]
                : items.indices.flatMap { i in
                    permutations(Array(items[..<i] + items[(i + 1)...])).map { [items[i]] + $0 }
                }
        }
        let best = permutations(Array(0..<6)).map { p in
            p.enumerated().reduce(0.0) { $0 + c.scalars[$1.offset * 6 + $1.element] }
        }.min()!
        XCTAssertEqual(ExactTransport.assignmentCost(c), best, accuracy: 1e-12)
        let wide = Matrix64(rows: 3, columns: 5, scalars: [5, 1, 9, 9, 9, 1, 5, 9, 9, 9, 9, 9, 9, 2, 9])
        XCTAssertEqual(ExactTransport.assignment(wide), [1, 0, 3])
    }

    func testOneDimensionalClosedFormWithWeights() throws {
        // Mass 0.5 at 0 and at 1 against mass 0.25 at 0 and 0.75 at 2.
        let w1 = try ExactTransport.transportCost1D(
            [0, 1], [0, 2], sourceWeights: [0.5, 0.5], targetWeights: [0.25, 0.75], p: 1)
        // Monotone coupling: 0.25 of x=0 to y=0 (cost 0), 0.25 of x=0 to y=2 (0.5), 0.5 of x=1 to y=2 (0.5).
        XCTAssertEqual(w1, 1.0, accuracy: 1e-15)
        let w2 = try ExactTransport.transportCost1D(
            [0, 1], [0, 2], sourceWeights: [0.5, 0.5], targetWeights: [0.25, 0.75], p: 2)
        XCTAssertEqual(w2, 0.25 * 4 + 0.5 * 1, accuracy: 1e-15)
        XCTAssertThrowsError(try ExactTransport.transportCost1D([0, 1], [0], sourceWeights: [1, -1]))
    }
}
