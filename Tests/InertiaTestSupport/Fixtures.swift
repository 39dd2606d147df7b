import Foundation
import InertiaTensor

/// Reads a fixture of `Tests/Fixtures/<slug>/` (copied from `shared/fixtures`, or made by
/// `Scripts/fixtures/`).
public func fixture(_ slug: String, _ file: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/\(slug)/\(file)")
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

/// A JSON array of numbers.
public func doubles(_ any: Any?) -> [Double] { (any as! [NSNumber]).map(\.doubleValue) }

/// A JSON array of rows.
public func matrix64(_ any: Any?) -> Matrix64 {
    let rows = (any as! [Any]).map(doubles)
    return Matrix64(rows: rows.count, columns: rows[0].count, scalars: rows.flatMap { $0 })
}

/// The largest absolute difference of two equally long arrays.
public func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "maxDifference: \(a.count) vs \(b.count) values")
    return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
}
