import Foundation
import InertiaTensor

/// One figure of a report, rendered as self-contained SVG (no scripts, no network).
public indirect enum Figure: Equatable, Sendable {
    /// Lines with seed bands, scatters and histograms (`Plot.histogram`).
    case chart(Plot)
    /// A 2-D field: densities, transport plans, designs, loss landscapes.
    case heatMap(HeatMap)
    /// Grouped bars: a value per category and series (success rates, accuracies).
    case bars(BarChart)
    /// Small multiples: panels side by side under one title, sharing their axes (charts) and their
    /// colour scale (heat maps) unless `sharesAxes` is false (panels of different quantities).
    case row(title: String, panels: [Figure], sharesAxes: Bool = true)

    public var title: String {
        switch self {
        case .chart(let plot): return plot.title
        case .heatMap(let map): return map.title
        case .bars(let chart): return chart.title
        case .row(let title, _, _): return title
        }
    }

    /// `chart`, `heat map`, `bars` or `row`, as `summary.json` lists it.
    public var kind: String {
        switch self {
        case .chart: return "chart"
        case .heatMap: return "heat map"
        case .bars: return "bars"
        case .row: return "row"
        }
    }

    /// The names of the series drawn (a row's panels' together, each once, in order).
    public var seriesNames: [String] {
        var names: [String]
        switch self {
        case .chart(let plot): names = plot.series.map(\.name)
        case .heatMap(let map): names = [map.valueLabel] + map.overlays.map(\.name)
        case .bars(let chart): names = chart.series.map(\.name)
        case .row(_, let panels, _): names = panels.flatMap(\.seriesNames)
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// Whether the figure draws any data.
    public var hasData: Bool {
        switch self {
        case .chart(let plot): return plot.series.contains { $0.y.contains(where: \.isFinite) }
        case .heatMap(let map): return map.values.contains(where: \.isFinite)
        case .bars(let chart): return chart.series.contains { $0.values.contains(where: \.isFinite) }
        case .row(_, let panels, _): return panels.contains(where: \.hasData)
        }
    }

    /// The SVG element (no XML prolog).
    public func svg() -> String {
        switch self {
        case .chart(let plot): return plot.svg()
        case .heatMap(let map): return map.svg()
        case .bars(let chart): return chart.svg()
        case .row(let title, let panels, let shared):
            // One panel is a figure of its own, under both titles.
            if panels.count == 1 {
                switch panels[0] {
                case .chart(var plot):
                    plot.title = "\(title): \(plot.title)"
                    return plot.svg()
                case .heatMap(var map):
                    map.title = "\(title): \(map.title)"
                    return map.svg()
                default: return panels[0].svg()
                }
            }
            return Figure.rowSVG(title: title, panels: shared ? Figure.sharingAxes(panels) : panels)
        }
    }

    /// The panels with common extents: charts get the union of their axes (where not fixed) and
    /// every legend but the last is dropped; heat maps get the union of their value ranges.
    static func sharingAxes(_ panels: [Figure]) -> [Figure] {
        let plots = panels.compactMap { if case .chart(let p) = $0 { return p } else { return nil } }
        let maps = panels.compactMap { if case .heatMap(let m) = $0 { return m } else { return nil } }
        func union(_ ranges: [ClosedRange<Double>]) -> ClosedRange<Double>? {
            guard let lo = ranges.map(\.lowerBound).min(), let hi = ranges.map(\.upperBound).max() else { return nil }
            return lo...hi
        }
        // Extents come back in plotted units; a log axis shares them in data units.
        let extents = plots.map { $0.extents() }
        let logX = plots.contains(where: \.logX), logY = plots.contains(where: \.usesLogY)
        func data(_ r: ClosedRange<Double>?, _ log: Bool) -> ClosedRange<Double>? {
            r.map { log ? Foundation.pow(10, $0.lowerBound)...Foundation.pow(10, $0.upperBound) : $0 }
        }
        let x = data(union(extents.map(\.x)), logX), y = data(union(extents.map(\.y)), logY)
        let values = union(maps.compactMap { $0.valueExtent() })
        let lastChart = panels.lastIndex { if case .chart = $0 { return true } else { return false } }
        // Every name one colour in every panel, and the last panel's legend lists them all.
        let names = plots.flatMap { $0.series.map(\.name) }.reduce(into: [String]()) {
            if !$0.contains($1) { $0.append($1) }
        }
        return panels.enumerated().map { index, panel in
            switch panel {
            case .chart(var plot):
                plot.logX = logX
                plot.logY = logY
                plot.xRange = plot.xRange ?? x
                plot.yRange = plot.yRange ?? y
                plot.hidesLegend = index != lastChart
                plot.sharedLegend = names
                for k in plot.series.indices { plot.series[k].colorIndex = names.firstIndex(of: plot.series[k].name) }
                return .chart(plot)
            case .heatMap(var map):
                map.valueRange = map.valueRange ?? values
                return .heatMap(map)
            default: return panel
            }
        }
    }

    static func rowSVG(title: String, panels: [Figure], width: Int = 960) -> String {
        let sizes = panels.map { panel -> (Int, Int) in
            switch panel {
            case .chart(let plot): return (260 + Int(plot.legendWidth), 320)
            case .heatMap(let map): return (map.overlays.isEmpty ? 340 : 450, 320)
            default: return (480, 320)
            }
        }
        // Wide enough for the title (about 8 px a character), at most `width`.
        let natural = Swift.max(sizes.map(\.0).reduce(0, +), Swift.min(width, 8 * title.count))
        let scale = natural > width ? Double(width) / Double(natural) : 1
        let height = Int((Double(sizes.map(\.1).max() ?? 320) * scale).rounded()) + 30
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"row\" font-family=\"sans-serif\" width=\"\(Swift.min(width, natural))\" height=\"\(height)\" viewBox=\"0 0 \(Swift.min(width, natural)) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Swift.min(width, natural))\" height=\"\(height)\" fill=\"white\"/>\n"
        out +=
            "<text x=\"\(Swift.min(width, natural) / 2)\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        var x = 0.0
        for (panel, size) in zip(panels, sizes) {
            let w = Double(size.0) * scale, h = Double(size.1) * scale
            let inner: String
            switch panel {
            case .chart(let plot): inner = plot.svg(width: size.0, height: size.1)
            case .heatMap(let map): inner = map.svg(width: size.0, height: size.1)
            case .bars(let chart): inner = chart.svg(width: size.0, height: size.1)
            case .row(let title, let nested, _): inner = rowSVG(title: title, panels: nested, width: size.0)
            }
            // The panel keeps its own coordinates; the outer element places and scales it.
            out +=
                "<svg x=\"\(fmt(x))\" y=\"30\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" viewBox=\"0 0 \(size.0) \(size.1)\">"
                + inner.drop { $0 != ">" }.dropFirst() + "\n"
            x += w
        }
        return out + "</svg>"
    }
}

extension Series {
    /// One series over several runs (seeds): at each `x` the median of that point's `values`, and
    /// their range as the band.
    public init(name: String, x: [Double], acrossRuns values: [[Double]], style: Style = .line) {
        precondition(x.count == values.count, "Series(acrossRuns:): \(x.count) x values for \(values.count) points")
        self.init(
            name: name, x: x, y: values.map(Comparison.median), lower: values.map { $0.min() ?? .nan },
            upper: values.map { $0.max() ?? .nan }, style: style)
    }

    /// The curves of several runs (seeds) as one series up to the shortest, index k at `x(k)`, with
    /// the median and range of the runs at each index; `nil` when no run has a point.
    public init?(name: String, curves: [[Double]], x: (Int) -> Double) {
        let runs = curves.filter { !$0.isEmpty }
        guard let length = runs.map(\.count).min() else { return nil }
        self.init(name: name, x: (0..<length).map(x), acrossRuns: (0..<length).map { k in runs.map { $0[k] } })
    }

    /// At most about `maxPoints` of the points: the first quarter of them all, then every k-th and
    /// the last, so a long curve stays light in the page and its start (where log axes zoom) exact.
    public func decimated(maxPoints: Int = 400) -> Series {
        guard x.count > maxPoints, maxPoints >= 8 else { return self }
        let head = maxPoints / 4, stride = Swift.max(1, (x.count - head) / (maxPoints - head))
        let kept = (0..<x.count).filter { $0 < head || ($0 - head) % stride == 0 || $0 == x.count - 1 }
        func pick(_ v: [Double]) -> [Double] { v.count == x.count ? kept.map { v[$0] } : v }
        return Series(name: name, x: pick(x), y: pick(y), lower: pick(lower), upper: pick(upper), style: style)
    }

    /// A cloud of the first two columns of `points` (one row per point).
    public init(name: String, points: Matrix64) {
        precondition(points.columns >= 2, "Series(points:): \(points.columns) columns, 2 needed")
        self.init(
            name: name, x: (0..<points.rows).map { points[$0, 0] }, y: (0..<points.rows).map { points[$0, 1] },
            style: .points)
    }
}

/// A 2-D field as an image (an embedded PNG, one pixel per cell, drawn without smoothing) with
/// axes, a colour bar and optional overlays (samples, trajectories) in the field's coordinates.
public struct HeatMap: Equatable, Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// What the colour shows, with its unit; the colour bar's label.
    public var valueLabel: String
    public var rows: Int
    public var columns: Int
    /// Row-major, `rows x columns`; row 0 is the bottom edge (`yRange.lowerBound`), column 0 the left.
    public var values: [Double]
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>
    /// Colour on a log10 scale (positive values only; others take the lowest colour).
    public var logValues: Bool
    /// The colour scale's extent; `nil` fits the finite values.
    public var valueRange: ClosedRange<Double>?
    /// Points or lines drawn on top (their `x`, `y` in the axes' units).
    public var overlays: [Series]

    public init(
        title: String, xLabel: String, yLabel: String, valueLabel: String, rows: Int, columns: Int, values: [Double],
        xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, logValues: Bool = false,
        valueRange: ClosedRange<Double>? = nil, overlays: [Series] = []
    ) {
        precondition(
            rows > 0 && columns > 0 && values.count == rows * columns,
            "HeatMap: \(values.count) values for \(rows)x\(columns)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.valueLabel = valueLabel
        self.rows = rows
        self.columns = columns
        self.values = values
        self.xRange = xRange
        self.yRange = yRange
        self.logValues = logValues
        self.valueRange = valueRange
        self.overlays = overlays
    }

    /// `f(x, y)` at the centres of a `resolution x resolution` grid over the ranges.
    public static func sampling(
        title: String, xLabel: String, yLabel: String, valueLabel: String, xRange: ClosedRange<Double>,
        yRange: ClosedRange<Double>, resolution: Int = 100, logValues: Bool = false, overlays: [Series] = [],
        _ f: (Double, Double) -> Double
    ) -> HeatMap {
        let n = Swift.max(1, resolution)
        let dx = (xRange.upperBound - xRange.lowerBound) / Double(n),
            dy = (yRange.upperBound - yRange.lowerBound) / Double(n)
        var values: [Double] = []
        values.reserveCapacity(n * n)
        for i in 0..<n {
            for j in 0..<n {
                values.append(f(xRange.lowerBound + (Double(j) + 0.5) * dx, yRange.lowerBound + (Double(i) + 0.5) * dy))
            }
        }
        return HeatMap(
            title: title, xLabel: xLabel, yLabel: yLabel, valueLabel: valueLabel, rows: n, columns: n, values: values,
            xRange: xRange, yRange: yRange, logValues: logValues, overlays: overlays)
    }

    /// The 2-D histogram of points (`x`, `y`) over a `bins x bins` grid, as a density (on a log
    /// colour scale with `logValues`, where empty cells take the lowest colour).
    public static func density(
        title: String, xLabel: String, yLabel: String, x: [Double], y: [Double], xRange: ClosedRange<Double>,
        yRange: ClosedRange<Double>, bins: Int = 60, logValues: Bool = false
    ) -> HeatMap {
        let n = Swift.max(1, bins)
        let width = (xRange.upperBound - xRange.lowerBound) / Double(n),
            height = (yRange.upperBound - yRange.lowerBound) / Double(n)
        var counts = [Double](repeating: 0, count: n * n)
        for (a, b) in zip(x, y) where a.isFinite && b.isFinite && xRange.contains(a) && yRange.contains(b) {
            let j = Swift.min(n - 1, Int((a - xRange.lowerBound) / width)),
                i = Swift.min(n - 1, Int((b - yRange.lowerBound) / height))
            counts[i * n + j] += 1
        }
        let total = Swift.max(1, Double(x.count)) * width * height
        return HeatMap(
            title: title, xLabel: xLabel, yLabel: yLabel, valueLabel: "density", rows: n, columns: n,
            values: counts.map { $0 / total }, xRange: xRange, yRange: yRange, logValues: logValues)
    }

    /// The finite values' extent (the positive ones' when `logValues`), in the values' units.
    func valueExtent() -> ClosedRange<Double>? {
        let finite = values.filter { $0.isFinite && (!logValues || $0 > 0) }
        guard let lo = finite.min(), let hi = finite.max() else { return nil }
        return lo...hi
    }

    /// Viridis, by linear interpolation between nine of its colours.
    static let colorStops: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142), (31, 158, 137), (53, 183, 121),
        (110, 206, 88), (253, 231, 37),
    ]

    static func color(_ t: Double) -> (UInt8, UInt8, UInt8) {
        let u = Swift.min(1, Swift.max(0, t.isFinite ? t : 0)) * Double(colorStops.count - 1)
        let k = Swift.min(colorStops.count - 2, Int(u)), f = u - Double(k)
        let (a, b) = (colorStops[k], colorStops[k + 1])
        func mix(_ p: Double, _ q: Double) -> UInt8 { UInt8((p + (q - p) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    static func hex(_ c: (UInt8, UInt8, UInt8)) -> String { String(format: "#%02x%02x%02x", c.0, c.1, c.2) }

    public func svg(width: Int = 640, height: Int = 440) -> String {
        let left = 62.0, top = 36.0, bottom = 48.0, right = overlays.isEmpty ? 86.0 : 200.0
        // The field keeps its aspect ratio (one unit of x as long as one of y) inside the space.
        let spaceW = Double(width) - left - right, spaceH = Double(height) - top - bottom
        let aspect = (xRange.upperBound - xRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
        let (w, h) =
            aspect.isFinite && aspect > 0
            ? (Swift.min(spaceW, spaceH * aspect), Swift.min(spaceH, spaceW / aspect)) : (spaceW, spaceH)
        let (x0, x1, y0, y1) = (xRange.lowerBound, xRange.upperBound, yRange.lowerBound, yRange.upperBound)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * w }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * h }
        let scale =
            (valueRange ?? valueExtent()).map {
                logValues ? Foundation.log10($0.lowerBound)...Foundation.log10($0.upperBound) : $0
            } ?? 0...1
        let (v0, v1) = (scale.lowerBound, scale.upperBound > scale.lowerBound ? scale.upperBound : scale.lowerBound + 1)
        var rgb = [UInt8](repeating: 0, count: 3 * rows * columns)
        for i in 0..<rows {
            for j in 0..<columns {
                let v = values[i * columns + j]
                let c: (UInt8, UInt8, UInt8)
                if !v.isFinite {
                    c = (220, 220, 220)
                } else {
                    let u = logValues ? (v > 0 ? Foundation.log10(v) : -.infinity) : v
                    c = HeatMap.color(u.isFinite ? (u - v0) / (v1 - v0) : 0)
                }
                // The image's top row is the field's last row.
                let k = 3 * ((rows - 1 - i) * columns + j)
                (rgb[k], rgb[k + 1], rgb[k + 2]) = c
            }
        }
        let png = PNG.encode(rgb: rgb, width: columns, height: rows).base64EncodedString()
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heat-map\" font-family=\"sans-serif\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
        out +=
            "<text x=\"\(fmt(left + w / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        out +=
            "<image class=\"field\" data-series=\"\(escape(valueLabel))\" x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(png)\"/>\n"
        out +=
            "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"none\" stroke=\"#444\"/>\n"
        for t in Plot.ticks(x0, x1, count: 5) {
            out +=
                "<line x1=\"\(fmt(px(t)))\" y1=\"\(fmt(top + h))\" x2=\"\(fmt(px(t)))\" y2=\"\(fmt(top + h + 5))\" stroke=\"#444\"/><text x=\"\(fmt(px(t)))\" y=\"\(fmt(top + h + 18))\" text-anchor=\"middle\" font-size=\"11\">\(Plot.label(t))</text>\n"
        }
        for t in Plot.ticks(y0, y1, count: 5) {
            out +=
                "<line x1=\"\(fmt(left - 5))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(left))\" y2=\"\(fmt(py(t)))\" stroke=\"#444\"/><text x=\"\(fmt(left - 8))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(Plot.label(t))</text>\n"
        }
        out +=
            "<text x=\"\(fmt(left + w / 2))\" y=\"\(fmt(top + h + 38))\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>\n"
        out +=
            "<text x=\"16\" y=\"\(fmt(top + h / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(fmt(top + h / 2)))\">\(escape(yLabel))</text>\n"
        let clip = "clip-\(stableIdentifier("\(title) heat \(width)x\(height)"))"
        out +=
            "<clipPath id=\"\(clip)\"><rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\"/></clipPath>\n<g clip-path=\"url(#\(clip))\">\n"
        let overlayColors = ["#ffffff", "#ff4d4d", "#ff9f1c", "#111111"]
        var legend = ""
        for (index, s) in overlays.enumerated() {
            let color = overlayColors[index % overlayColors.count]
            let points = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }
            switch s.style {
            case .points:
                out += "<g class=\"series\" data-series=\"\(escape(s.name))\" fill=\"\(color)\" fill-opacity=\"0.7\">"
                // A lone point (a minimiser, a target) is a large ringed mark.
                let mark = points.count == 1 ? "r=\"5\" stroke=\"#111\" stroke-width=\"1.5\"" : "r=\"1.5\""
                for (x, y) in points { out += "<circle cx=\"\(fmt(px(x)))\" cy=\"\(fmt(py(y)))\" \(mark)/>" }
                out += "</g>\n"
            case .line, .dashed, .steps:
                out +=
                    "<polyline class=\"series\" data-series=\"\(escape(s.name))\" points=\"\(points.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>\n"
            }
            let ly = top + h - 8 - Double(overlays.count - 1 - index) * 18, lx = left + w + 66
            legend +=
                "<rect x=\"\(fmt(lx))\" y=\"\(fmt(ly - 6))\" width=\"14\" height=\"12\" fill=\"\(color)\" stroke=\"#444\"/><text x=\"\(fmt(lx + 18))\" y=\"\(fmt(ly + 4))\" font-size=\"11\">\(escape(s.name))</text>\n"
        }
        out += "</g>\n" + legend
        // The colour bar: a gradient through the same stops, ticked in the value's units.
        let gradient = "bar-\(stableIdentifier("\(title) bar \(width)x\(height)"))"
        let barX = left + w + 14, barHeight = Swift.min(h, 200.0)
        out += "<linearGradient id=\"\(gradient)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for (k, stop) in HeatMap.colorStops.enumerated() {
            out +=
                "<stop offset=\"\(fmt(Double(k) / Double(HeatMap.colorStops.count - 1)))\" stop-color=\"\(HeatMap.hex((UInt8(stop.0), UInt8(stop.1), UInt8(stop.2))))\"/>"
        }
        out += "</linearGradient>\n"
        out +=
            "<rect x=\"\(fmt(barX))\" y=\"\(fmt(top))\" width=\"14\" height=\"\(fmt(barHeight))\" fill=\"url(#\(gradient))\" stroke=\"#444\"/>\n"
        for t in logValues ? Plot.logTicks(v0, v1) : Plot.ticks(v0, v1, count: 4) {
            let y = top + (1 - (t - v0) / (v1 - v0)) * barHeight
            out +=
                "<text x=\"\(fmt(barX + 18))\" y=\"\(fmt(y + 4))\" font-size=\"10\">\(Plot.label(logValues ? Foundation.pow(10, t) : t))</text>\n"
        }
        out +=
            "<text x=\"\(fmt(barX))\" y=\"\(fmt(top + barHeight + 16))\" font-size=\"11\">\(escape(valueLabel + (logValues ? " (log)" : "")))</text>\n"
        return out + "</svg>"
    }
}

/// Grouped bars: for every category one bar per series, with optional error bars, on a y axis
/// from zero.
public struct BarChart: Equatable, Sendable {
    /// One series' values, one per category, with optional error bars.
    public struct Bars: Equatable, Sendable {
        public var name: String
        public var values: [Double]
        public var lower: [Double]
        public var upper: [Double]

        public init(name: String, values: [Double], lower: [Double] = [], upper: [Double] = []) {
            self.name = name
            self.values = values
            self.lower = lower
            self.upper = upper
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var categories: [String]
    public var series: [Bars]
    public var yRange: ClosedRange<Double>?

    public init(
        title: String, xLabel: String, yLabel: String, categories: [String], series: [Bars],
        yRange: ClosedRange<Double>? = nil
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.categories = categories
        self.series = series
        self.yRange = yRange
    }

    public func svg(width: Int = 640, height: Int = 380) -> String {
        let left = 70.0, right = 20.0 + (series.count > 1 ? 150.0 : 0), top = 36.0, bottom = 56.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let all = series.flatMap { $0.values + $0.upper + $0.lower }.filter(\.isFinite)
        var y0 = yRange?.lowerBound ?? Swift.min(0, all.min() ?? 0)
        var y1 = yRange?.upperBound ?? Swift.max(0, all.max() ?? 1) * 1.05
        if !(y0 < y1) {
            y0 -= 1
            y1 += 1
        }
        func py(_ v: Double) -> Double { top + (1 - (Swift.min(y1, Swift.max(y0, v)) - y0) / (y1 - y0)) * plotH }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bars\" font-family=\"sans-serif\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
        out +=
            "<text x=\"\(fmt(left + plotW / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        for t in Plot.ticks(y0, y1) {
            out +=
                "<line x1=\"\(fmt(left - 5))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(py(t)))\" stroke=\"#ddd\"/><text x=\"\(fmt(left - 8))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(Plot.label(t))</text>\n"
        }
        let slot = plotW / Double(Swift.max(1, categories.count))
        let barWidth = slot * 0.8 / Double(Swift.max(1, series.count))
        for (c, category) in categories.enumerated() {
            let cx = left + (Double(c) + 0.5) * slot
            out +=
                "<text x=\"\(fmt(cx))\" y=\"\(fmt(top + plotH + 16))\" text-anchor=\"middle\" font-size=\"11\">\(escape(category))</text>\n"
        }
        var legend = ""
        for (s, bars) in series.enumerated() {
            let color = Plot.palette[s % Plot.palette.count]
            out += "<g class=\"series\" data-series=\"\(escape(bars.name))\" fill=\"\(color)\">"
            for (c, value) in bars.values.enumerated() where c < categories.count && value.isFinite {
                let x = left + Double(c) * slot + slot * 0.1 + Double(s) * barWidth
                let (a, b) = (py(value), py(Swift.max(y0, Swift.min(0, y1))))
                out +=
                    "<rect x=\"\(fmt(x))\" y=\"\(fmt(Swift.min(a, b)))\" width=\"\(fmt(barWidth * 0.92))\" height=\"\(fmt(Swift.abs(b - a)))\"><title>\(escape(bars.name)), \(escape(categories[c])): \(Plot.label(value))</title></rect>"
                out +=
                    "<text x=\"\(fmt(x + barWidth * 0.46))\" y=\"\(fmt(Swift.min(a, b) - 3))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#222\">\(Plot.label(value))</text>"
                if c < bars.lower.count, c < bars.upper.count, bars.lower[c].isFinite, bars.upper[c].isFinite {
                    let mid = x + barWidth * 0.46
                    out +=
                        "<line x1=\"\(fmt(mid))\" y1=\"\(fmt(py(bars.lower[c])))\" x2=\"\(fmt(mid))\" y2=\"\(fmt(py(bars.upper[c])))\" stroke=\"#222\" stroke-width=\"1.2\"/>"
                }
            }
            out += "</g>\n"
            if series.count > 1 {
                let ly = top + 14 + Double(s) * 18, lx = left + plotW + 14
                legend +=
                    "<rect x=\"\(fmt(lx))\" y=\"\(fmt(ly - 6))\" width=\"14\" height=\"12\" fill=\"\(color)\"/><text x=\"\(fmt(lx + 20))\" y=\"\(fmt(ly + 4))\" font-size=\"11\">\(escape(bars.name))</text>\n"
            }
        }
        out +=
            "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        out +=
            "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>\n"
        out +=
            "<text x=\"16\" y=\"\(fmt(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(fmt(top + plotH / 2)))\">\(escape(yLabel))</text>\n"
        return out + legend + "</svg>"
    }
}
