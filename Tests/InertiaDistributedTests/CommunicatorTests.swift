import XCTest

@testable import InertiaDistributed

/// The single-process communicator (what runs without MPI) passes the collectives' check, and
/// bad arguments are errors that say what is wrong. Under `mpirun -np 2` CI runs the same check
/// on MPI's world (`inertia distributed check`).
final class CommunicatorTests: XCTestCase {
    func testSingleProcessPassesTheCollectivesCheck() throws {
        let results = try CollectiveCheck.run(on: SingleProcessCommunicator())
        XCTAssertEqual(results.count, 7)
        for result in results { XCTAssertTrue(result.passed, result.name) }
    }

    func testWorldOutsideALauncherIsOneProcess() throws {
        let world = try World.communicator()
        XCTAssertEqual(world.size, 1)
        XCTAssertEqual(world.rank, 0)
    }

    func testBadArgumentsAreNamed() {
        let world = SingleProcessCommunicator()
        var buffer: [Float] = [1, 2]
        XCTAssertThrowsError(try world.broadcast(&buffer, root: 1)) { error in
            XCTAssertEqual(
                error as? CommunicatorError, .invalidArgument("root 1 is not a rank of a world of 1"))
        }
        XCTAssertNoThrow(try world.reduceScatter([Float](repeating: 1, count: 3)))
    }
}

/// The in-process world (threads as ranks) passes the same check, and a rank that never calls a
/// collective makes the others fail after the timeout instead of hanging.
final class InProcessCommunicatorTests: XCTestCase {
    func testThreeThreadsPassTheCollectivesCheck() throws {
        let results = InProcessCommunicator.run(size: 3) { try CollectiveCheck.run(on: $0, length: 101) }
        for (rank, result) in results.enumerated() {
            let checks = try result.get()
            XCTAssertEqual(checks.count, 7)
            for check in checks { XCTAssertTrue(check.passed, "rank \(rank): \(check.name)") }
        }
    }

    func testAMissingRankTimesOut() {
        let world = InProcessCommunicator.group(size: 2, timeout: 0.2)
        XCTAssertThrowsError(try world[0].barrier()) { error in
            XCTAssertTrue("\(error)".contains("barrier on rank 0 timed out"), "\(error)")
        }
    }
}
