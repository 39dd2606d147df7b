import Foundation

/// One line of a plot, with an optional band (the spread over seeds), a cloud of points, or a
/// histogram's outline.
public struct Series: Equatable, Sendable {
    /// How a series is drawn: a line, a dashed line (reference values), one mark per point, or
    /// steps (a histogram: `x` holds the bin edges, one more than the counts in `y`).
    public enum Style: Sendable, Equatable { case line, dashed, points, steps }

    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Lower and upper edges of a band around the line (same length as `x`), or empty.
    public var lower: [Double]
    public var upper: [Double]
    public var style: Style
    /// The palette entry, where panels of a row must colour a name alike; `nil`: the series' index.
    var colorIndex: Int?

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

/// A line, scatter or histogram plot rendered as standalone SVG: title, axis labels with units,
/// ticks, legend, a logarithmic x axis on request and a logarithmic y axis on request or when the
/// data spans more than a factor of 50; fixed axis ranges where panels must share them.
public struct Plot: Equatable, Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY: Bool?
    public var logX: Bool
    /// The axes' extents; `nil` fits the data.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Set on all but the last panel of a row of small multiples, which share one legend.
    var hidesLegend = false
    /// The names the legend lists, palette entry k for name k, where a row shares one legend.
    var sharedLegend: [String]?

    public init(
        title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool? = nil, logX: Bool = false,
        xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
        self.logX = logX
        self.xRange = xRange
        self.yRange = yRange
    }

    /// Histograms of several samples over shared bins (`bins` equal bins over `range`, by default
    /// the samples' extent), as densities so that samples of different sizes compare.
    public static func histogram(
        title: String, xLabel: String, samples: [(name: String, values: [Double])], bins: Int = 40,
        range: ClosedRange<Double>? = nil
    ) -> Plot {
        let finite = samples.flatMap(\.values).filter(\.isFinite)
        var lo = range?.lowerBound ?? finite.min() ?? 0, hi = range?.upperBound ?? finite.max() ?? 1
        if hi <= lo {
            lo -= 0.5
            hi += 0.5
        }
        let count = Swift.max(1, bins), width = (hi - lo) / Double(count)
        let edges = (0...count).map { lo + Double($0) * width }
        let series = samples.map { sample -> Series in
            var counts = [Double](repeating: 0, count: count)
            for v in sample.values where v.isFinite && v >= lo && v <= hi {
                counts[Swift.min(count - 1, Int((v - lo) / width))] += 1
            }
            let total = Swift.max(1, Double(sample.values.count)) * width
            return Series(name: sample.name, x: edges, y: counts.map { $0 / total }, style: .steps)
        }
        return Plot(title: title, xLabel: xLabel, yLabel: "density", series: series, logY: false)
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

    /// The legend's width in pixels: enough for the longest name, at most 240.
    var legendWidth: Double {
        guard !hidesLegend, let longest = (sharedLegend ?? series.map(\.name)).map(\.count).max() else { return 0 }
        return Swift.min(240, 44 + 6.2 * Double(longest))
    }

    /// The axes' extents in plotted units (log10 on a log axis): the fixed ranges, else the data's
    /// with 5 % headroom on y.
    func extents() -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let logY = usesLogY
        func tx(_ v: Double) -> Double { logX ? Foundation.log10(v) : v }
        func ty(_ v: Double) -> Double { logY ? Foundation.log10(v) : v }
        let xs = series.flatMap(\.x).filter { $0.isFinite && (!logX || $0 > 0) }.map(tx)
        let ys = series.flatMap { $0.y + $0.lower + $0.upper }.filter { $0.isFinite && (!logY || $0 > 0) }.map(ty)
        var (x0, x1) = xRange.map { (tx($0.lowerBound), tx($0.upperBound)) } ?? (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = yRange.map { (ty($0.lowerBound), ty($0.upperBound)) } ?? (ys.min() ?? 0, ys.max() ?? 1)
        if !(x0 < x1) {
            x0 -= 1
            x1 += 1
        }
        if !(y0 < y1) {
            y0 -= 1
            y1 += 1
        }
        if yRange == nil {
            let pad = (y1 - y0) * 0.05
            y0 -= pad
            y1 += pad
        }
        return (x0...x1, y0...y1)
    }

    /// The SVG element (no XML prolog), `width x height` pixels.
    public func svg(width: Int = 640, height: Int = 380) -> String {
        let left = 70.0, right = 20.0, top = 36.0, bottom = 48.0
        let plotW = Double(width) - left - right - legendWidth, plotH = Double(height) - top - bottom
        let log = usesLogY
        let (xExtent, yExtent) = extents()
        let (x0, x1, y0, y1) = (xExtent.lowerBound, xExtent.upperBound, yExtent.lowerBound, yExtent.upperBound)
        func px(_ x: Double) -> Double {
            left + ((logX ? Foundation.log10(x) : x) - x0) / (x1 - x0) * plotW
        }
        func py(_ y: Double) -> Double {
            top + (1 - ((log ? Foundation.log10(y) : y) - y0) / (y1 - y0)) * plotH
        }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" font-family=\"sans-serif\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
        out +=
            "<text x=\"\(fmt(left + plotW / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        // axes and ticks
        out +=
            "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        for t in logX ? Plot.logTicks(x0, x1) : Plot.ticks(x0, x1) {
            let x = left + (t - x0) / (x1 - x0) * plotW
            out +=
                "<line x1=\"\(fmt(x))\" y1=\"\(fmt(top + plotH))\" x2=\"\(fmt(x))\" y2=\"\(fmt(top + plotH + 5))\" stroke=\"#444\"/>"
            out +=
                "<text x=\"\(fmt(x))\" y=\"\(fmt(top + plotH + 18))\" text-anchor=\"middle\" font-size=\"11\">\(Plot.label(logX ? Foundation.pow(10, t) : t))</text>\n"
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
            "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel + (logX ? " (log scale)" : "")))</text>\n"
        out +=
            "<text x=\"16\" y=\"\(fmt(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(fmt(top + plotH / 2)))\">\(escape(yLabel + (log ? " (log scale)" : "")))</text>\n"
        // Marks outside fixed axes are clipped to the frame.
        let clip = "clip-\(stableIdentifier("\(title) \(width)x\(height)"))"
        out +=
            "<clipPath id=\"\(clip)\"><rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\"/></clipPath>\n<g clip-path=\"url(#\(clip))\">\n"
        var legend = ""
        func legendEntry(_ k: Int, _ name: String, dashed: Bool = false) -> String {
            let ly = top + 14 + Double(k) * 18, lx = left + plotW + 14, color = Plot.palette[k % Plot.palette.count]
            return
                "<line x1=\"\(fmt(lx))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(lx + 22))\" y2=\"\(fmt(ly))\" stroke=\"\(color)\" stroke-width=\"3\"\(dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
                + "<text x=\"\(fmt(lx + 28))\" y=\"\(fmt(ly + 4))\" font-size=\"11\">\(escape(name))</text>\n"
        }
        for (i, s) in series.enumerated() {
            let color = Plot.palette[(s.colorIndex ?? i) % Plot.palette.count]
            func ok(_ x: Double, _ y: Double) -> Bool {
                x.isFinite && y.isFinite && (!log || y > 0) && (!logX || x > 0)
            }
            if s.style != .steps, s.lower.count == s.x.count, s.upper.count == s.x.count, !s.x.isEmpty {
                let upperPoints = zip(s.x, s.upper).filter { ok($0.0, $0.1) }.map {
                    "\(fmt(px($0.0))),\(fmt(py($0.1)))"
                }
                let lowerPoints = zip(s.x, s.lower).filter { ok($0.0, $0.1) }.reversed().map {
                    "\(fmt(px($0.0))),\(fmt(py($0.1)))"
                }
                out +=
                    "<polygon class=\"band\" data-series=\"\(escape(s.name))\" points=\"\((upperPoints + lowerPoints).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            switch s.style {
            case .line, .dashed:
                let points = zip(s.x, s.y).filter { ok($0.0, $0.1) }.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }
                let dash = s.style == .dashed ? " stroke-dasharray=\"6 4\"" : ""
                out +=
                    "<polyline class=\"series\" data-series=\"\(escape(s.name))\" points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(dash)/>\n"
                // A line of one point would not show: mark it.
                if points.count == 1, let (x, y) = zip(s.x, s.y).first(where: { ok($0.0, $0.1) }) {
                    out += "<circle cx=\"\(fmt(px(x)))\" cy=\"\(fmt(py(y)))\" r=\"3.5\" fill=\"\(color)\"/>\n"
                }
            case .points:
                // A cloud of samples in small translucent dots; a few reference values as marks.
                let few = s.x.count <= 50
                out +=
                    "<g class=\"series\" data-series=\"\(escape(s.name))\" fill=\"\(color)\" fill-opacity=\"\(few ? "0.9" : "0.45")\">"
                for (x, y) in zip(s.x, s.y) where ok(x, y) {
                    out += "<circle cx=\"\(fmt(px(x)))\" cy=\"\(fmt(py(y)))\" r=\"\(few ? "3" : "1.4")\"/>"
                }
                out += "</g>\n"
            case .steps:
                let base = log ? Foundation.pow(10, y0) : Swift.max(0, y0)
                var points: [String] = []
                for (k, y) in s.y.enumerated() where k + 1 < s.x.count && ok(s.x[k], y) && ok(s.x[k + 1], y) {
                    points += ["\(fmt(px(s.x[k]))),\(fmt(py(y)))", "\(fmt(px(s.x[k + 1]))),\(fmt(py(y)))"]
                }
                if let first = s.x.first, let last = s.x.last, !points.isEmpty {
                    points = ["\(fmt(px(first))),\(fmt(py(base)))"] + points + ["\(fmt(px(last))),\(fmt(py(base)))"]
                }
                out +=
                    "<polygon class=\"series\" data-series=\"\(escape(s.name))\" points=\"\(points.joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
            }
            if sharedLegend == nil { legend += legendEntry(s.colorIndex ?? i, s.name, dashed: s.style == .dashed) }
        }
        for (k, name) in (sharedLegend ?? []).enumerated() { legend += legendEntry(k, name) }
        return out + "</g>\n" + (hidesLegend ? "" : legend) + "</svg>"
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

    /// Whole decades (in log10 units) covering `[lo, hi]`; where fewer than three fit, the 1-2-5
    /// steps within them too.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = Int(lo.rounded(.up)), b = Int(hi.rounded(.down))
        if b - a < 2 {
            var steps: [Double] = []
            for decade in Int(lo.rounded(.down))...Int(hi.rounded(.up)) {
                for multiple in [1.0, 2, 5] {
                    let t = Foundation.log10(multiple) + Double(decade)
                    if t >= lo - 1e-9 && t <= hi + 1e-9 { steps.append(t) }
                }
            }
            return steps.count >= 2 ? steps : [lo, hi]
        }
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

/// An SVG element id derived from `text` (FNV-1a, the same in every run, unlike `hashValue`).
func stableIdentifier(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return String(hash, radix: 36)
}

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
