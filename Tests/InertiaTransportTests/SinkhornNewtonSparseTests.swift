import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaTransport

/// SNS against `shared/fixtures/sinkhorn-newton-sparse` and the invariants of its spec (6).
final class SinkhornNewtonSparseTests: XCTestCase {
    func tiny() throws -> (SinkhornNewtonSparse.Dual, [String: Any]) {
        let t = try fixture("sinkhorn-newton-sparse", "sns_fixtures.json")["tiny"] as! [String: Any]
        let dual = SinkhornNewtonSparse.Dual(
            cost: matrix64(t["C"]), r: doubles(t["r"]), c: doubles(t["c"]), eta: (t["eta"] as! NSNumber).doubleValue)
        return (dual, t)
    }

    func testClosedFormQuantitiesAndSinkhornIteratesMatchTheFixture() throws {
        var (dual, t) = try tiny()
        dual.x = doubles(t["x"])
        dual.y = doubles(t["y"])
        let p = dual.plan()
        XCTAssertLessThan(maxDifference(p, matrix64(t["P"]).scalars), 1e-12)
        XCTAssertEqual(dual.potential(p), (t["f"] as! NSNumber).doubleValue, accuracy: 1e-12)
        let (rows, columns) = dual.sums(p)
        XCTAssertLessThan(maxDifference(zip(dual.r, rows).map { $0 - $1 }, doubles(t["grad_x"])), 1e-12)
        XCTAssertLessThan(maxDifference(zip(dual.c, columns).map { $0 - $1 }, doubles(t["grad_y"])), 1e-12)
        // The Hessian −η[[diag(P1), P], [Pᵀ, diag(Pᵀ1)]] against the fixture's (n + m) x (n + m).
        let hessian = matrix64(t["hessian"])
        let n = dual.r.count, m = dual.c.count
        XCTAssertEqual(hessian.rows, n + m)
        for i in 0..<n {
            XCTAssertEqual(hessian[i, i], -dual.eta * rows[i], accuracy: 1e-12)
            for j in 0..<m { XCTAssertEqual(hessian[i, n + j], -dual.eta * p[i * m + j], accuracy: 1e-12) }
        }
        // Gradient by finite differences of f.
        let h = 1e-6
        var shifted = dual
        shifted.x[1] += h
        let forward = shifted.potential(shifted.plan())
        shifted.x[1] -= 2 * h
        XCTAssertEqual((forward - shifted.potential(shifted.plan())) / (2 * h), dual.r[1] - rows[1], accuracy: 1e-8)

        var fresh = try tiny().0
        var previous = -Double.infinity
        for record in t["sinkhorn_iterates_from_zero"] as! [[String: Any]] {
            fresh.sinkhornIteration()
            XCTAssertLessThan(maxDifference(fresh.x, doubles(record["x"])), 1e-12)
            XCTAssertLessThan(maxDifference(fresh.y, doubles(record["y"])), 1e-12)
            let plan = fresh.plan()
            let f = fresh.potential(plan)
            XCTAssertEqual(f, (record["f"] as! NSNumber).doubleValue, accuracy: 1e-12)
            XCTAssertEqual(
                fresh.marginalError(plan), (record["l1_marginal_err"] as! NSNumber).doubleValue, accuracy: 1e-12)
            XCTAssertGreaterThanOrEqual(f, previous - 1e-15, "f is non-decreasing over Sinkhorn iterations")
            previous = f
            XCTAssertLessThan(
                maxDifference(fresh.sums(plan).columns, fresh.c), 1e-15, "column sums exact after the y-update")
        }
        let converged = t["converged"] as! [String: Any]
        var count = 0, run = try tiny().0
        while run.marginalError(run.plan()) >= 1e-15 && count < 1000 {
            run.sinkhornIteration()
            count += 1
        }
        XCTAssertEqual(count, (converged["sinkhorn_iters_to_l1err_1e15"] as! NSNumber).intValue)
        XCTAssertLessThan(maxDifference(run.plan(), matrix64(converged["P"]).scalars), 1e-10)
        XCTAssertEqual(run.potential(run.plan()), (converged["f"] as! NSNumber).doubleValue, accuracy: 1e-10)
    }

    func testAssignmentProblemConvergesInTheFixturesRangeToThePlanOfPOT() throws {
        let a = try fixture("sinkhorn-newton-sparse", "sns_fixtures.json")["assign12"] as! [String: Any]
        let cost = matrix64(a["C"])
        let problem = try TransportProblem(source: [], target: [], cost: cost)
        let eta = (a["eta"] as! NSNumber).doubleValue
        let result = try SinkhornNewtonSparse.solve(problem, eta: eta, options: .init(tolerance: 1e-12))
        XCTAssertTrue(result.converged, result.warning ?? "")
        let total = result.sinkhornIterations + result.newtonIterations
        XCTAssertTrue((22...40).contains(total), "SNS iterations \(total)")
        // The Sinkhorn warm-up (total minus Newton iterations of the fixture's run) matches entry by
        // entry; the Newton stage by its range, monotone decrease and final tolerance (spec 6).
        let history = doubles(a["sns_err_history"])
        let warmUp =
            (a["sns_iters_total_to_1e12"] as! NSNumber).intValue - (a["sns_newton_iters"] as! NSNumber).intValue
        XCTAssertLessThan(
            maxDifference(Array(result.errorHistory.prefix(warmUp)), Array(history.prefix(warmUp))), 1e-12)
        let newton = Array(result.errorHistory.dropFirst(warmUp))
        XCTAssertTrue(zip(newton.dropFirst(), newton).allSatisfy { $0 < $1 }, "\(newton)")
        XCTAssertLessThan(result.errorHistory.last!, 1e-12)
        XCTAssertLessThan(maxDifference(result.plan.scalars, matrix64(a["converged_P"]).scalars), 1e-10)
        XCTAssertEqual(result.potential, (a["converged_f"] as! NSNumber).doubleValue, accuracy: 1e-10)
        XCTAssertEqual(result.transportCost, (a["entropic_cost"] as! NSNumber).doubleValue, accuracy: 1e-10)
        // Against POT's log-domain Sinkhorn at reg = 1/eta (spec 6), and the entropic bias bound.
        let pot = try Sinkhorn.solve(
            problem, regularization: 1 / eta, options: .init(method: .log, maxIterations: 100_000, stopThreshold: 1e-14)
        )
        XCTAssertLessThan(maxDifference(result.plan.scalars, pot.plan.scalars), 1e-9)
        let exact = (a["exact_assignment_cost_over_n"] as! NSNumber).doubleValue
        XCTAssertGreaterThanOrEqual(result.transportCost, exact)
        XCTAssertLessThanOrEqual(result.transportCost - exact, 2 * Foundation.log(Double(cost.rows)) / eta)
        // Plain Sinkhorn needs 801 iterations to the same error (fixture).
        var dual = SinkhornNewtonSparse.Dual(cost: cost, r: problem.source, c: problem.target, eta: eta)
        var count = 0
        while dual.marginalError(dual.plan()) >= 1e-12 {
            dual.sinkhornIteration()
            count += 1
        }
        XCTAssertEqual(count, (a["sinkhorn_iters_to_l1err_1e12"] as! NSNumber).intValue)
    }

    func testFullDensityIsExactNewtonAndZeroMassIsReinserted() throws {
        var rng = SplitMix64(seed: 5)
        let cost = Matrix64(rows: 8, columns: 8, scalars: (0..<64).map { _ in Double(rng.next() >> 11) * 0x1p-53 })
        var options = SinkhornNewtonSparse.Options(density: 1, tolerance: 1e-13)
        options.stallGuard = false
        let exact = try SinkhornNewtonSparse.solve(
            try TransportProblem(source: [], target: [], cost: cost), eta: 30, options: options)
        XCTAssertTrue(exact.converged)
        // Quadratic convergence once close: each error at most about the square of the previous (times a constant).
        let newton = Array(exact.errorHistory.dropFirst(20)).filter { $0 > 1e-15 }
        XCTAssertLessThanOrEqual(exact.newtonIterations, 8)
        XCTAssertTrue(zip(newton.dropFirst(), newton).contains { $0 < $1 * $1 * 100 }, "\(newton)")
        // A zero-mass row and column come back as zeros, the rest solves the reduced problem.
        let source = [0.25, 0, 0.25, 0.25, 0.25, 0, 0, 0], target = [0, 0.25, 0.25, 0.25, 0.25, 0, 0, 0]
        let reduced = try SinkhornNewtonSparse.solve(
            try TransportProblem(source: source, target: target, cost: cost), eta: 30)
        XCTAssertTrue(reduced.converged)
        XCTAssertTrue((0..<8).allSatisfy { reduced.plan[1, $0] == 0 && reduced.plan[$0, 0] == 0 })
        XCTAssertEqual(reduced.plan.scalars.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(SinkhornNewtonSparse.kthLargest([3, 1, 4, 1, 5, 9, 2, 6], 3), 5)
        // The radix path (large, non-negative) against sorting: spread magnitudes, ties, zeros, −0.
        var draws = PhiloxGenerator(seed: 21)
        var large = (0..<100_000).map { _ in exp(-20 * draws.nextDouble()) * (draws.nextBernoulli(0.1) ? 0 : 1) }
        large += [Double](repeating: 0.5, count: 300) + [-0.0, 1e-300, 0.25]
        let sorted = large.sorted(by: >)
        for k in [1, 2, 150, 301, 5_000, 50_000, 90_000, large.count] {
            XCTAssertEqual(SinkhornNewtonSparse.kthLargest(large, k), sorted[k - 1], "k = \(k)")
        }
        // The small-k path (short rows) and quickselect agree with sorting, ties included.
        let row = Array(large.prefix(3000)) + [0.5, 0.5, 0.5]
        let rowSorted = row.sorted(by: >)
        for k in [1, 3, 4, 20, 64, 65, 700] {
            XCTAssertEqual(SinkhornNewtonSparse.kthLargest(row, k), rowSorted[k - 1], "row k = \(k)")
        }
        XCTAssertThrowsError(
            try SinkhornNewtonSparse.solve(try TransportProblem(source: [], target: [], cost: cost), eta: -1))
    }
}

final class AndersonSinkhornTests: XCTestCase {
    func testAssignmentProblemIterationCountsMatchTheFixture() throws {
        let expected = (try fixture("anderson-acceleration", "aa_fixtures.json")["sinkhorn_assign12"] as! [String: Any])
            .compactMapValues { $0 as? [String: Any] }
        let a = try fixture("sinkhorn-newton-sparse", "sns_fixtures.json")["assign12"] as! [String: Any]
        let problem = try TransportProblem(source: [], target: [], cost: matrix64(a["C"]))
        func run(_ acceleration: AndersonAcceleration) throws -> AndersonSinkhorn.Result {
            try AndersonSinkhorn.solve(problem, eta: 50, acceleration: acceleration, tolerance: 1e-13)
        }
        let picard = try run(AndersonAcceleration(memory: 0, regularization: .none, restarts: false))
        XCTAssertEqual(picard.iterations, (expected["picard"]!["iterations"] as! NSNumber).intValue)
        let accelerated = try run(AndersonAcceleration(memory: 5, regularization: .none, restarts: false))
        XCTAssertEqual(
            Double(accelerated.iterations), (expected["aa_m5"]!["iterations"] as! NSNumber).doubleValue, accuracy: 2)
        XCTAssertLessThan(accelerated.marginalError, 1e-11)
        XCTAssertLessThanOrEqual(Double(accelerated.iterations), 0.25 * Double(picard.iterations))
        let ridge = try run(AndersonAcceleration(memory: 5, regularization: .absolute(1e-10), restarts: false))
        XCTAssertEqual(
            Double(ridge.iterations), (expected["aa_m5_reg1e-10"]!["iterations"] as! NSNumber).doubleValue, accuracy: 2)
        XCTAssertLessThan(maxDifference(accelerated.plan.scalars, matrix64(a["converged_P"]).scalars), 1e-10)
    }
}
