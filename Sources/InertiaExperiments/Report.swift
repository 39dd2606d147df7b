import Foundation
import InertiaNN

/// A table of a report.
public struct Table: Codable, Equatable, Sendable {
    public var title: String
    public var header: [String]
    public var rows: [[String]]

    public init(title: String, header: [String], rows: [[String]]) {
        self.title = title
        self.header = header
        self.rows = rows
    }

    /// GitHub-flavoured markdown.
    public var markdown: String {
        var out =
            "| " + header.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: header.count) + "\n"
        for row in rows { out += "| " + row.joined(separator: " | ") + " |\n" }
        return out
    }

    /// Aligned plain text for a terminal.
    public var text: String {
        let widths = header.indices.map { i in
            ([header[i]] + rows.map { i < $0.count ? $0[i] : "" }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return
            ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}

/// What a run folder holds: `report.html` (self-contained: inline SVG and CSS, no scripts, no
/// network), `summary.json`, and each figure again as `figure-<k>.svg` (k from 1) for use
/// elsewhere. Written atomically.
public struct Report {
    public var title: String
    public var subtitle: String
    public var isPartial: Bool
    public var verdict: Verdict?
    public var checks: [Check]
    public var tables: [Table]
    public var figures: [Figure]
    public var notes: [String]
    /// Extra machine-readable fields for `summary.json`.
    public var summary: [String: Any]

    public init(
        title: String, subtitle: String = "", isPartial: Bool = false, verdict: Verdict? = nil, checks: [Check] = [],
        tables: [Table] = [], figures: [Figure] = [], notes: [String] = [], summary: [String: Any] = [:]
    ) {
        self.title = title
        self.subtitle = subtitle
        self.isPartial = isPartial
        self.verdict = verdict
        self.checks = checks
        self.tables = tables
        self.figures = figures
        self.notes = notes
        self.summary = summary
    }

    /// The verdict table.
    public var checkTable: Table {
        Table(
            title: "Acceptance checks", header: ["check", "measured", "threshold", "source", "verdict"],
            rows: checks.map { c in
                [
                    c.name, c.measured.map { String(format: "%.4g", $0) } ?? "n/a" + (c.note.map { " (\($0))" } ?? ""),
                    "\(c.relation.rawValue) \(String(format: "%g", c.threshold))", c.source, c.verdict.rawValue,
                ]
            })
    }

    /// The page, well-formed XHTML (it parses as XML).
    public func html() -> String { html(figureSVGs: figures.map { $0.svg() }) }

    /// The page with the figures already rendered (`write` renders each once for the page and its file).
    func html(figureSVGs: [String]) -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        if !subtitle.isEmpty { body += "<p class=\"subtitle\">\(escape(subtitle))</p>\n" }
        if isPartial {
            body +=
                "<p class=\"partial\">Partial report: the run was interrupted before it finished; the figures below cover what ran.</p>\n"
        }
        if let verdict {
            body +=
                "<p class=\"verdict \(verdict == .held ? "held" : verdict == .notHeld ? "nothold" : "inconclusive")\">Verdict: <strong>\(escape(verdict.rawValue))</strong></p>\n"
        }
        if !checks.isEmpty { body += tableHTML(checkTable) }
        for table in tables { body += tableHTML(table) }
        for svg in figureSVGs { body += "<figure>\n\(svg)\n</figure>\n" }
        if !notes.isEmpty {
            body += "<h2>Notes</h2>\n<ul>\n" + notes.map { "<li>\(escape($0))</li>\n" }.joined() + "</ul>\n"
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
            <head>
            <meta charset="utf-8"/>
            <title>\(escape(title))</title>
            <style>
            body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; }
            th, td { border: 1px solid #bbb; padding: 4px 8px; text-align: left; font-size: 14px; }
            th { background: #f0f0f0; }
            figure { margin: 1.5em 0; }
            .verdict { font-size: 18px; padding: 6px 10px; display: inline-block; }
            .held { background: #dff3df; } .nothold { background: #f8dada; } .inconclusive { background: #f3efd6; }
            .partial { background: #f8dada; padding: 6px 10px; font-weight: bold; }
            .subtitle { color: #555; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    func tableHTML(_ t: Table) -> String {
        var out =
            "<h2>\(escape(t.title))</h2>\n<table>\n<tr>" + t.header.map { "<th>\(escape($0))</th>" }.joined()
            + "</tr>\n"
        for row in t.rows { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
        return out + "</table>\n"
    }

    public func summaryJSON() throws -> Data {
        var s = summary
        s["title"] = title
        s["partial"] = isPartial
        if let verdict { s["verdict"] = verdict.rawValue }
        s["checks"] = checks.map { c -> [String: Any] in
            var d: [String: Any] = [
                "name": c.name, "relation": c.relation.rawValue, "threshold": c.threshold, "source": c.source,
                "uncertainty": c.uncertainty, "verdict": c.verdict.rawValue,
            ]
            if let m = c.measured, m.isFinite { d["measured"] = m }
            if let n = c.note { d["note"] = n }
            return d
        }
        s["tables"] = tables.map { ["title": $0.title, "header": $0.header, "rows": $0.rows] }
        s["figures"] = figures.enumerated().map { k, figure in
            ["title": figure.title, "kind": figure.kind, "series": figure.seriesNames, "file": "figure-\(k + 1).svg"]
        }
        return try JSONSerialization.data(withJSONObject: Report.finite(s), options: [.prettyPrinted, .sortedKeys])
    }

    /// `value` with every NaN or infinite number replaced by `null`: JSON has no spelling for
    /// them, and a diverged run's summary must still be written.
    static func finite(_ value: Any) -> Any {
        switch value {
        case let x as Double: return x.isFinite ? x : NSNull()
        case let x as Float: return x.isFinite ? x : NSNull()
        case let array as [Any]: return array.map(finite)
        case let object as [String: Any]: return object.mapValues(finite)
        default: return value
        }
    }

    /// Writes `report.html` and `summary.json` into `folder` (created if needed), atomically.
    public func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let svgs = figures.map { $0.svg() }
        try AtomicFile.write(Data(html(figureSVGs: svgs).utf8), to: folder + "/report.html")
        for (k, svg) in svgs.enumerated() {
            try AtomicFile.write(
                Data(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg + "\n").utf8),
                to: folder + "/figure-\(k + 1).svg")
        }
        try AtomicFile.write(summaryJSON(), to: folder + "/summary.json")
    }
}
