import Foundation
import InertiaTensor
import XCTest

@testable import InertiaNN

final class SafeTensorsTests: XCTestCase {
    func testReadsAFileWrittenByPythonSafetensors() throws {
        let file = try SafeTensors.read(try fixtureURL("torch_written.safetensors").path)
        let expected = try loadFixture("torch_written.json")
        XCTAssertEqual(Set(file.tensors.map(\.name)), Set(expected.keys))
        for (name, value) in expected { XCTAssertEqual(file[name], fixtureTensor(value), name) }
        XCTAssertEqual(file.metadata["written_by"], "safetensors.torch")
    }

    func testRoundTripAndAtomicWrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-st-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/weights.safetensors"
        let file = SafeTensors.File(
            tensors: [("a.weight", Tensor([[1, 2], [3, 4]])), ("b", Tensor(5))], metadata: ["k": "v"])
        try SafeTensors.write(file, to: path)
        XCTAssertEqual(try SafeTensors.read(path), file)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0 != "weights.safetensors"
        }
        XCTAssertEqual(leftovers, [])
    }

    func testMalformedFilesGiveErrorsNamingTheProblem() throws {
        let good = try SafeTensors.encode(SafeTensors.File(tensors: [("w", Tensor([1, 2, 3]))]))
        XCTAssertThrowsError(try SafeTensors.decode(good.prefix(good.count - 4), source: "cut.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("cut.safetensors"), "\(error)")
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(Data([1, 2, 3]), source: "tiny")) {
            XCTAssertTrue("\($0)".contains("shorter"))
        }
        var corrupt = good
        corrupt[8] = UInt8(ascii: "x")
        XCTAssertThrowsError(try SafeTensors.decode(corrupt, source: "corrupt")) {
            XCTAssertTrue("\($0)".contains("not a JSON object"))
        }
        var huge = good
        huge[7] = 0x7F
        XCTAssertThrowsError(try SafeTensors.decode(huge, source: "huge")) {
            XCTAssertTrue("\($0)".contains("exceeds the file size"))
        }
        XCTAssertThrowsError(try SafeTensors.read("/nonexistent/w.safetensors")) {
            XCTAssertTrue("\($0)".contains("no such file"))
        }
        XCTAssertThrowsError(try SafeTensors.read(FileManager.default.temporaryDirectory.path)) {
            XCTAssertTrue("\($0)".contains("it is a directory, not a file"), "\($0)")
        }
        // Sizes from the header that overflow Int are named errors, not traps.
        for shape in ["[1099511627776, 1099511627776]", "[4611686018427387904, 2]", "[3074457345618258603]"] {
            let header = #"{"w":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,12]}}"#
            var file = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
            file.append(contentsOf: Array(header.utf8) + [UInt8](repeating: 0, count: 12))
            XCTAssertThrowsError(try SafeTensors.decode(file, source: "overflow")) {
                XCTAssertTrue("\($0)".contains("whose size overflows a 64-bit integer"), "\($0)")
            }
        }
    }

    func testWritesFilesPythonCanRead() throws {
        // The reverse direction of the fixture test: when Python's safetensors is installed, it
        // must load what Inertia wrote with the same values.
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import safetensors.numpy"]
        probe.standardError = FileHandle.nullDevice
        try? probe.run()
        probe.waitUntilExit()
        try XCTSkipUnless(probe.terminationStatus == 0, "Python's safetensors is not installed")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(
            SafeTensors.File(tensors: [("x", Tensor([[1.5, -2], [0.25, 8]]))], metadata: ["by": "inertia"]), to: path)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = [
            "python3", "-c",
            """
            import sys
            from safetensors.numpy import load_file
            from safetensors import safe_open
            d = load_file(sys.argv[1])
            assert d['x'].dtype.name == 'float32' and d['x'].shape == (2, 2), d
            assert d['x'].tolist() == [[1.5, -2.0], [0.25, 8.0]], d['x']
            with safe_open(sys.argv[1], 'np') as f:
                assert f.metadata() == {'by': 'inertia'}
            """, path,
        ]
        try check.run()
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0)
    }
}
