import Foundation
import InertiaTensor

/// A CSV file of numbers (optionally gzip-compressed), one sample per row, the class index in the
/// last column. A first line with no number in it is a header; a first line with some numbers is
/// data, so a typo in it is an error rather than a silently dropped sample.
public enum CSVData {
    public static func load(_ path: String) throws -> Dataset {
        let data = try Gzip.readFile(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError.malformed(source: path, detail: "not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    /// The dataset in `text`; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> Dataset {
        var rows: [[Float]] = []
        var isFirstLine = true
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let texts = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let fields = texts.map { Float($0) }
            defer { isFirstLine = false }
            if isFirstLine && fields.allSatisfy({ $0 == nil }) { continue }
            if let column = fields.firstIndex(where: { $0 == nil }) {
                throw DataError.malformed(
                    source: source,
                    detail: "line \(i + 1), column \(column + 1): '\(texts[column])' is not a number"
                        + (isFirstLine ? " (a header line holds no numbers)" : ""))
            }
            if let column = fields.firstIndex(where: { !$0!.isFinite }) {
                throw DataError.malformed(
                    source: source,
                    detail: "line \(i + 1), column \(column + 1): \(fields[column]!) is not a finite number")
            }
            rows.append(fields.map { $0! })
        }
        guard let width = rows.first?.count, width >= 2 else {
            throw DataError.malformed(source: source, detail: "needs rows of at least two columns")
        }
        if let bad = rows.firstIndex(where: { $0.count != width }) {
            throw DataError.malformed(
                source: source, detail: "row \(bad + 1) has \(rows[bad].count) columns, the first has \(width)")
        }
        let labels = rows.map { $0[width - 1] }
        // Whole numbers below 2^24 (exact in Float32; far more classes than any model here has).
        if let bad = labels.firstIndex(where: { !($0 >= 0 && $0 < 16_777_216 && $0 == $0.rounded()) }) {
            throw DataError.malformed(
                source: source,
                detail: "data row \(bad + 1): the last column must hold class indices 0, 1, 2, ... (got \(labels[bad]))"
            )
        }
        let classes = Int(labels.max()!) + 1
        return try Dataset(
            inputs: Tensor(shape: [rows.count, width - 1], scalars: rows.flatMap { $0.dropLast() }),
            targets: Tensor(labels), classCount: classes)
    }
}
