import Foundation
import InertiaTensor

/// Numeric CSV for point clouds, histograms and cost matrices: one row per line, values separated
/// by commas or whitespace; blank lines and lines starting with `#` are skipped, and a first line
/// that is not numeric is taken as a header. Every problem is reported with the file and line.
public enum NumericCSV {
    public static func read(_ path: String) throws -> Matrix64 {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TransportError.invalidInput("\(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TransportError.invalidInput("\(path): not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws -> Matrix64 {
        var rows: [[Double]] = []
        var sawHeader = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == ";" }).map(
                String.init)
            let values = fields.map { Double($0) }
            if let bad = values.firstIndex(where: { $0 == nil }) {
                if rows.isEmpty && !sawHeader && values.allSatisfy({ $0 == nil }) {
                    sawHeader = true
                    continue
                }
                throw TransportError.invalidInput("\(source) line \(index + 1): '\(fields[bad])' is not a number")
            }
            let row = values.map { $0! }
            if let i = row.firstIndex(where: { !$0.isFinite }) {
                throw TransportError.invalidInput("\(source) line \(index + 1): value \(i + 1) is \(row[i])")
            }
            if let first = rows.first, first.count != row.count {
                throw TransportError.invalidInput(
                    "\(source) line \(index + 1): \(row.count) values, the rows before have \(first.count)")
            }
            rows.append(row)
        }
        guard let width = rows.first?.count else {
            throw TransportError.invalidInput("\(source): no numeric rows (empty file?)")
        }
        return Matrix64(rows: rows.count, columns: width, scalars: rows.flatMap { $0 })
    }

    /// The matrix as CSV text, full precision.
    public static func format(_ m: Matrix64) -> String {
        var text = ""
        for i in 0..<m.rows {
            text += (0..<m.columns).map { "\(m[i, $0])" }.joined(separator: ",") + "\n"
        }
        return text
    }
}
