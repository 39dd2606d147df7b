import Foundation
import InertiaTensor

/// Reads a fixture: a spec's reference numbers from `Sources/InertiaExperiments/Fixtures/<slug>/`
/// (copied from `shared/fixtures`, shipped with the library for the reproductions), or one the
/// project made with `Scripts/fixtures/` from `Tests/Fixtures/<slug>/`.
public func fixture(_ slug: String, _ file: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL(slug, file))) as! [String: Any]
}

/// Where `fixture(slug, file)` reads from.
public func fixtureURL(_ slug: String, _ file: String) -> URL {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let spec = root.appendingPathComponent("Sources/InertiaExperiments/Fixtures/\(slug)/\(file)")
    return FileManager.default.fileExists(atPath: spec.path)
        ? spec : root.appendingPathComponent("Tests/Fixtures/\(slug)/\(file)")
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
