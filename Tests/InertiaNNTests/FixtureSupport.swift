import Foundation
import InertiaTensor
import XCTest

@testable import InertiaNN

/// A tensor stored in a fixture as `{"shape": [...], "values": [...]}`.
func fixtureTensor(_ object: Any?) -> Tensor {
    let dict = object as! [String: Any]
    let shape = dict["shape"] as! [Int]
    let values = (dict["values"] as! [NSNumber]).map { $0.floatValue }
    return Tensor(shape: shape, scalars: values)
}

func loadFixture(_ name: String) throws -> [String: Any] {
    let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

func fixtureURL(_ name: String) throws -> URL {
    try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
}

func assertClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.shape, expected.shape, "shape \(message)", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    for (i, (a, e)) in zip(actual.scalars, expected.scalars).enumerated()
    where !(Swift.abs(a - e) <= tolerance * Swift.max(1, Swift.abs(e))) {
        XCTFail("\(message) element \(i): \(a) vs \(e)", file: file, line: line)
        return
    }
}
