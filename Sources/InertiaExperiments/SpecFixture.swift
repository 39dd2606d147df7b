import Foundation

/// The reference numbers of a spec (`shared/fixtures/<slug>/<file>`), shipped with the library so
/// that reproductions and tests read inputs, hyper-parameters and expected values from the
/// fixture rather than retyping them.
public enum SpecFixture {
    /// A fixture file that is missing or not the JSON its reader expects.
    public struct Problem: Error, CustomStringConvertible {
        public let file: String
        public let detail: String
        public var description: String { "fixture \(file): \(detail)" }
    }

    /// The fixture's top-level JSON object.
    public static func json(_ slug: String, _ file: String) throws -> [String: Any] {
        let name = "\(slug)/\(file)"
        guard let root = Bundle.module.resourceURL else {
            throw Problem(file: name, detail: "the package's resources are missing; rebuild the package")
        }
        let url = root.appendingPathComponent("Fixtures/\(name)")
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw Problem(file: name, detail: "cannot be read at \(url.path)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Problem(file: name, detail: "is not a JSON object")
        }
        return object
    }

    /// A number that a fixture's prose gives for `name`: `<name>=<value>` ("lr=0.01", "W = 5"),
    /// `<value> <name>` ("2000 steps", or hyphenated, "8-mode") or, glued, `<name><value>`
    /// ("Tmax15"); the first form that matches wins, `nil` when none does.
    public static func writtenNumber(_ name: String, in text: String) -> Double? {
        let escaped = NSRegularExpression.escapedPattern(for: name), number = numberPattern
        for pattern in [escaped + " ?= ?" + number, number + "[ -]" + escaped, escaped + number] {
            let expression = try! NSRegularExpression(pattern: pattern)
            if let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                let range = Range(match.range(at: 1), in: text), let value = Double(text[range])
            {
                return value
            }
        }
        return nil
    }
}

extension SpecFixture {
    /// A decimal number, optionally signed and in exponent form, as a capture group.
    static let numberPattern = "(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"

    /// The number right after `name` and one space in a fixture's prose ("batch 256", "truth 0.05"),
    /// for lists where `writtenNumber`'s `<value> <name>` form would take the previous item's value
    /// ("lr 1e-3 batch 256"); `nil` when there is none.
    public static func number(after name: String, in text: String) -> Double? {
        let pattern = NSRegularExpression.escapedPattern(for: name) + " " + numberPattern
        let expression = try! NSRegularExpression(pattern: pattern)
        guard let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return Double(text[range])
    }
}

/// Typed reads of a fixture's JSON, each failing with the key path it expected.
public struct FixtureReader {
    public let file: String
    public let object: [String: Any]

    public init(_ slug: String, _ file: String) throws {
        self.file = "\(slug)/\(file)"
        object = try SpecFixture.json(slug, file)
    }

    init(file: String, object: [String: Any]) {
        self.file = file
        self.object = object
    }

    func problem(_ key: String, _ expected: String) -> SpecFixture.Problem {
        SpecFixture.Problem(file: file, detail: "'\(key)' is missing or not \(expected)")
    }

    /// The object under `key`.
    public func child(_ key: String) throws -> FixtureReader {
        guard let value = object[key] as? [String: Any] else { throw problem(key, "an object") }
        return FixtureReader(file: "\(file) \(key)", object: value)
    }

    public func number(_ key: String) throws -> Double {
        guard let value = object[key] as? NSNumber else { throw problem(key, "a number") }
        return value.doubleValue
    }

    public func numbers(_ key: String) throws -> [Double] {
        guard let value = object[key] as? [NSNumber] else { throw problem(key, "an array of numbers") }
        return value.map(\.doubleValue)
    }

    /// A matrix as an array of equally long rows.
    public func rows(_ key: String) throws -> [[Double]] {
        guard let value = object[key] as? [[NSNumber]], let width = value.first?.count,
            value.allSatisfy({ $0.count == width })
        else { throw problem(key, "an array of equally long rows of numbers") }
        return value.map { $0.map(\.doubleValue) }
    }

    /// A number the text under `key` gives for `name` (see `SpecFixture.writtenNumber`).
    public func writtenNumber(_ name: String, in key: String) throws -> Double {
        guard let text = object[key] as? String else { throw problem(key, "text") }
        guard let value = SpecFixture.writtenNumber(name, in: text) else {
            throw SpecFixture.Problem(file: file, detail: "the text of '\(key)' does not give \(name)")
        }
        return value
    }

    /// The keys of this object, sorted.
    public var keys: [String] { object.keys.sorted() }
}
