import Foundation
import InertiaTestSupport
import XCTest

@testable import InertiaPhysics

/// `diffusion-trajectory-alignment.md` 6: the fixture's 5 x 5 relaxed load map and the
/// single-source values.
final class KernelRelaxationTests: XCTestCase {
    func testTheFixtureMapAndASingleSource() throws {
        let f = try fixture("diffusion-trajectory-alignment", "kernel_relaxation_5x5.json")
        let loads = matrix64(f["load_map"]), expected = matrix64(f["kernel"])
        var sources: [(position: SIMD2<Double>, value: Double)] = []
        var points: [SIMD2<Double>] = []
        for i in 0..<loads.rows {
            for j in 0..<loads.columns {
                let p = SIMD2(Double(i), Double(j))
                points.append(p)
                if loads[i, j] != 0 { sources.append((p, loads[i, j])) }
            }
        }
        XCTAssertEqual(sources.count, 2)
        XCTAssertLessThan(maxDifference(kernelRelaxation(sources: sources, at: points), expected.scalars), 1e-9)

        let single = kernelRelaxation(
            sources: [(SIMD2(0, 0), 2)], at: [SIMD2(0, 0), SIMD2(1, 0), SIMD2(30, 40)])
        XCTAssertEqual(single[0], 2)
        XCTAssertEqual(single[1], 2 * (1 - Foundation.exp(-1)), accuracy: 1e-15)
        XCTAssertEqual(single[2], 2 / 2500, accuracy: 1e-3 * 2 / 2500, "q / r^2 far away")
    }
}
