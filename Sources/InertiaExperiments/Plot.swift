import Foundation

/// One line of a plot, with an optional band (the spread over seeds), or a cloud of points.
public struct Series: Equatable, Sendable {
    /// How a series is drawn: a line, or one mark per point.
    public enum Style: Sendable, Equatable { case line, points }

    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Lower and upper edges of a band around the line (same length as `x`), or empty.
    public var lower: [Double]
    public var upper: [Double]
    public var style: Style

    public init(
        name: String, x: [Double], y: [Double], lower: [Double] = [], upper: [Double] = [], style: Style = .line
    ) {
        self.style = style
        self.name = name
        self.x = x
        self.y = y
        self.lower = lower
        self.upper = upper
    }
}

/// A line plot rendered as standalone SVG: title, axis labels with units, ticks, legend,
/// optional logarithmic y axis (chosen automatically when the data spans more than two decades).
public struct Plot: Equatable, Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY: Bool?

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// Whether the y axis is logarithmic: as asked, else when all values are positive and span
    /// more than a factor of 50.
    public var usesLogY: Bool {
        if let logY { return logY }
        let values = series.flatMap { $0.y + $0.lower + $0.upper }.filter(\.isFinite)
        guard let lo = values.min(), let hi = values.max(), lo > 0 else { return false }
        return hi / lo >= 50
    }

    /// The SVG element (no XML prolog), `width x height` pixels.
    public func svg(width: Int = 640, height: Int = 380) -> String {
        let left = 70.0, right = 20.0, top = 36.0, bottom = 48.0
        let legendWidth = series.isEmpty ? 0.0 : 150.0
        let plotW = Double(width) - left - right - legendWidth, plotH = Double(height) - top - bottom
        let log = usesLogY
        func ty(_ v: Double) -> Double { log ? Foundation.log10(v) : v }
        let xs = series.flatMap(\.x).filter(\.isFinite)
        let ys = series.flatMap { $0.y + $0.lower + $0.upper }.filter { $0.isFinite && (!log || $0 > 0) }.map(ty)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x0 == x1 {
            x0 -= 1
            x1 += 1
        }
        if y0 == y1 {
            y0 -= 1
            y1 += 1
        }
        let pad = (y1 - y0) * 0.05
        y0 -= pad
        y1 += pad
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (ty(y) - y0) / (y1 - y0)) * plotH }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
        out +=
            "<text x=\"\(fmt(left + plotW / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        // axes and ticks
        out +=
            "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        for t in Plot.ticks(x0, x1) {
            let x = px(t)
            out +=
                "<line x1=\"\(fmt(x))\" y1=\"\(fmt(top + plotH))\" x2=\"\(fmt(x))\" y2=\"\(fmt(top + plotH + 5))\" stroke=\"#444\"/>"
            out +=
                "<text x=\"\(fmt(x))\" y=\"\(fmt(top + plotH + 18))\" text-anchor=\"middle\" font-size=\"11\">\(Plot.label(t))</text>\n"
        }
        let yTicks = log ? Plot.logTicks(y0, y1) : Plot.ticks(y0, y1)
        for t in yTicks {
            let y = top + (1 - (t - y0) / (y1 - y0)) * plotH
            out +=
                "<line x1=\"\(fmt(left - 5))\" y1=\"\(fmt(y))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>"
            out +=
                "<text x=\"\(fmt(left - 8))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\" font-size=\"11\">\(log ? Plot.label(Foundation.pow(10, t)) : Plot.label(t))</text>\n"
        }
        out +=
            "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>\n"
        out +=
            "<text x=\"16\" y=\"\(fmt(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(fmt(top + plotH / 2)))\">\(escape(yLabel + (log ? " (log scale)" : "")))</text>\n"
        for (i, s) in series.enumerated() {
            let color = Plot.palette[i % Plot.palette.count]
            func ok(_ v: Double) -> Bool { v.isFinite && (!log || v > 0) }
            if s.lower.count == s.x.count, s.upper.count == s.x.count, !s.x.isEmpty {
                let upperPoints = zip(s.x, s.upper).filter { ok($0.1) }.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }
                let lowerPoints = zip(s.x, s.lower).filter { ok($0.1) }.reversed().map {
                    "\(fmt(px($0.0))),\(fmt(py($0.1)))"
                }
                out +=
                    "<polygon class=\"band\" data-series=\"\(escape(s.name))\" points=\"\((upperPoints + lowerPoints).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            switch s.style {
            case .line:
                let points = zip(s.x, s.y).filter { ok($0.1) }.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }
                out +=
                    "<polyline class=\"series\" data-series=\"\(escape(s.name))\" points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>\n"
            case .points:
                out += "<g class=\"series\" data-series=\"\(escape(s.name))\" fill=\"\(color)\" fill-opacity=\"0.45\">"
                for (x, y) in zip(s.x, s.y) where x.isFinite && ok(y) {
                    out += "<circle cx=\"\(fmt(px(x)))\" cy=\"\(fmt(py(y)))\" r=\"1.4\"/>"
                }
                out += "</g>\n"
            }
            let ly = top + 14 + Double(i) * 18
            let lx = left + plotW + 14
            out +=
                "<line x1=\"\(fmt(lx))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(lx + 22))\" y2=\"\(fmt(ly))\" stroke=\"\(color)\" stroke-width=\"3\"/>"
            out += "<text x=\"\(fmt(lx + 28))\" y=\"\(fmt(ly + 4))\" font-size=\"11\">\(escape(s.name))</text>\n"
        }
        return out + "</svg>"
    }

    /// Round tick values covering `[lo, hi]`.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        let raw = (hi - lo) / Double(count)
        let magnitude = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var t = (lo / step).rounded(.up) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 {
            out.append(Swift.abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    /// Whole decades (in log10 units) covering `[lo, hi]`.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = Int(lo.rounded(.up)), b = Int(hi.rounded(.down))
        guard a <= b else { return [lo, hi] }
        let stride = Swift.max(1, (b - a + 1) / 6)
        return Swift.stride(from: a, through: b, by: stride).map(Double.init)
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = Swift.abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.0e", v) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: "%g", (v * 1000).rounded() / 1000)
    }
}

func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

/// Escapes text for HTML / XML.
public func escape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
