import Foundation
import InertiaData
import XCTest

@testable import InertiaExperiments

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The report renderers: heat maps (an embedded PNG), grouped bars, histograms, log axes and rows
/// of panels sharing their axes.
final class FigureTests: XCTestCase {
    /// The PNG of a heat map's `data:` URI: its size and its RGB rows, top row first.
    func decodePNG(_ svg: String) throws -> (width: Int, height: Int, rows: [[UInt8]]) {
        let marker = "href=\"data:image/png;base64,"
        let start = try XCTUnwrap(svg.range(of: marker)).upperBound
        let end = try XCTUnwrap(svg[start...].firstIndex(of: "\""))
        let png = try XCTUnwrap(Data(base64Encoded: String(svg[start..<end])))
        let bytes = [UInt8](png)
        XCTAssertEqual(Array(bytes[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8, width = 0, height = 0, compressed = Data()
        while offset < bytes.count {
            let length = word(offset), type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Data(bytes[(offset + 8)..<(offset + 8 + length)])
            var crc = CRC32()
            Data(bytes[(offset + 4)..<(offset + 8 + length)]).withUnsafeBytes { crc.update($0) }
            XCTAssertEqual(UInt32(word(offset + 8 + length)), crc.value, "CRC of \(type)")
            if type == "IHDR" {
                width = word(offset + 8)
                height = word(offset + 12)
                XCTAssertEqual(Array(body[8..<13]), [8, 2, 0, 0, 0])
            }
            if type == "IDAT" { compressed.append(body) }
            offset += 12 + length
        }
        let raw = [UInt8](try Gzip.decompress(compressed, source: "heat map"))
        XCTAssertEqual(raw.count, (3 * width + 1) * height)
        let rows = (0..<height).map { r -> [UInt8] in
            XCTAssertEqual(raw[r * (3 * width + 1)], 0, "filter byte")
            return Array(raw[(r * (3 * width + 1) + 1)..<((r + 1) * (3 * width + 1))])
        }
        return (width, height, rows)
    }

    func testHeatMapEmbedsAPNGWithRowZeroAtTheBottom() throws {
        // 2 rows x 3 columns; the largest value at row 0, column 2 (bottom right), a NaN at row 1, column 0.
        let map = HeatMap(
            title: "field", xLabel: "x", yLabel: "y", valueLabel: "v", rows: 2, columns: 3,
            values: [0, 1, 5, .nan, 2, 3], xRange: 0...3, yRange: 0...2)
        let svg = map.svg()
        let image = try decodePNG(svg)
        XCTAssertEqual(image.width, 3)
        XCTAssertEqual(image.height, 2)
        let top = HeatMap.colorStops.last!, bottom = HeatMap.colorStops.first!
        XCTAssertEqual(Array(image.rows[1][6..<9]), [UInt8(top.0), UInt8(top.1), UInt8(top.2)])
        XCTAssertEqual(Array(image.rows[1][0..<3]), [UInt8(bottom.0), UInt8(bottom.1), UInt8(bottom.2)])
        XCTAssertEqual(Array(image.rows[0][0..<3]), [220, 220, 220], "non-finite cells are grey")
        XCTAssertTrue(svg.contains("image-rendering:pixelated"))
        // A fixed colour range saturates: with 0...2, the 3 and the 5 both take the top colour.
        var clipped = map
        clipped.valueRange = 0...2
        let saturated = try decodePNG(clipped.svg())
        XCTAssertEqual(Array(saturated.rows[0][6..<9]), Array(saturated.rows[1][6..<9]))
    }

    func testDensityAndSamplingFillTheGridTheRightWayRound() {
        let density = HeatMap.density(
            title: "d", xLabel: "x", yLabel: "y", x: [0.1, 0.1, 0.9], y: [0.9, 0.9, 0.1], xRange: 0...1,
            yRange: 0...1, bins: 2)
        // Cell area 0.25, 3 points: the top-left cell holds 2 of them, the bottom-right 1.
        assertElementsEqual(density.values, [0, 4.0 / 3, 8.0 / 3, 0], accuracy: 1e-12)
        let sampled = HeatMap.sampling(
            title: "s", xLabel: "x", yLabel: "y", valueLabel: "x - y", xRange: 0...2, yRange: 0...2, resolution: 2
        ) { $0 - 10 * $1 }
        assertElementsEqual(sampled.values, [0.5 - 5, 1.5 - 5, 0.5 - 15, 1.5 - 15], accuracy: 1e-12)
    }

    func testHistogramIsADensityOverSharedBins() {
        let plot = Plot.histogram(
            title: "h", xLabel: "x", samples: [("a", [0, 0.1, 0.6, 0.9]), ("b", [0.2, 0.8])], bins: 2, range: 0...1)
        XCTAssertEqual(plot.series.map(\.style), [.steps, .steps])
        XCTAssertEqual(plot.series[0].x, [0, 0.5, 1])
        XCTAssertEqual(plot.series[0].y, [1, 1])
        XCTAssertEqual(plot.series[1].y, [1, 1])
        for s in plot.series { XCTAssertEqual(s.y.reduce(0, +) * 0.5, 1, accuracy: 1e-12) }
        XCTAssertTrue(plot.svg().contains("data-series=\"b\""))
    }

    func testGroupedBarsDrawABarPerFiniteValueAndTheErrorBars() throws {
        let chart = BarChart(
            title: "success", xLabel: "experiment", yLabel: "rate", categories: ["A", "B"],
            series: [
                .init(name: "cbo", values: [1, 0.8], lower: [0.9, 0.7], upper: [1, 0.9]),
                .init(name: "gd", values: [0, .nan]),
            ])
        let svg = chart.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "\(String(describing: parser.parserError))")
        XCTAssertEqual(svg.components(separatedBy: "<title>").count - 1, 3)
        XCTAssertEqual(svg.components(separatedBy: "stroke=\"#222\"").count - 1, 2)
        XCTAssertTrue(svg.contains("data-series=\"gd\""))
    }

    func testLogAxesTickOnesTwosAndFivesWithinAFewDecades() {
        assertElementsEqual(
            Plot.logTicks(Foundation.log10(0.003), Foundation.log10(0.03)).map { Foundation.pow(10, $0) },
            [0.005, 0.01, 0.02], accuracy: 1e-12)
        XCTAssertEqual(Plot.logTicks(-8, 0), [-8, -7, -6, -5, -4, -3, -2, -1, 0])
        let plot = Plot(
            title: "sweep", xLabel: "lr", yLabel: "loss", series: [Series(name: "a", x: [0.001, 0.1], y: [1, 2])],
            logY: false, logX: true)
        XCTAssertEqual(plot.extents().x.lowerBound, -3, accuracy: 1e-12)
        XCTAssertTrue(plot.svg().contains("lr (log scale)"))
    }

    func testDecimationKeepsTheStartAndTheEnd() {
        let long = Series(name: "s", x: (0..<10_000).map(Double.init), y: (0..<10_000).map { 1 / Double($0 + 1) })
        let thin = long.decimated(maxPoints: 400)
        XCTAssertLessThanOrEqual(thin.x.count, 420)
        XCTAssertEqual(Array(thin.x.prefix(100)), (0..<100).map(Double.init))
        XCTAssertEqual(thin.x.last, 9999)
        XCTAssertEqual(zip(thin.x, thin.y).filter { $0.1 != 1 / ($0.0 + 1) }.count, 0)
        XCTAssertEqual(
            Series(name: "short", x: [1, 2], y: [3, 4]).decimated(), Series(name: "short", x: [1, 2], y: [3, 4]))
    }

    func testRowPanelsShareAxesColoursAndOneLegend() throws {
        let row = Figure.row(
            title: "sweep",
            panels: [
                .chart(
                    Plot(
                        title: "lr 0.1", xLabel: "step", yLabel: "loss",
                        series: [Series(name: "a", x: [0, 1], y: [1, 2]), Series(name: "b", x: [0, 1], y: [1, 3])],
                        logY: false)),
                .chart(
                    Plot(
                        title: "lr 1", xLabel: "step", yLabel: "loss",
                        series: [Series(name: "b", x: [0, 5], y: [0, 1])],
                        logY: false)),
            ])
        let shared = Figure.sharingAxes({ if case .row(_, let panels, _) = row { return panels } else { return [] } }())
        let plots = shared.compactMap { if case .chart(let p) = $0 { return p } else { return nil } }
        XCTAssertEqual(plots.count, 2)
        XCTAssertEqual(plots[0].xRange, plots[1].xRange)
        XCTAssertEqual(plots[0].yRange, plots[1].yRange)
        XCTAssertEqual(plots[0].xRange, 0...5)
        XCTAssertEqual(plots[0].series[1].colorIndex, plots[1].series[0].colorIndex, "b is one colour")
        XCTAssertEqual(plots.map(\.hidesLegend), [true, false])
        XCTAssertEqual(row.seriesNames, ["a", "b"])
        let svg = row.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "\(String(describing: parser.parserError))")
        XCTAssertEqual(svg.components(separatedBy: "<svg").count - 1, 3, "the row and its two panels")
        // A row of one panel is that panel under both titles.
        let single = Figure.row(title: "alone", panels: [.chart(plots[0])])
        XCTAssertTrue(single.svg().contains("alone: lr 0.1"))
    }

    func testAReportOfEveryKindIsWellFormed() throws {
        let figures: [Figure] = [
            .chart(Plot(title: "c", xLabel: "x", yLabel: "y", series: [Series(name: "s", x: [1, 2], y: [1, 2])])),
            .heatMap(
                HeatMap(
                    title: "h", xLabel: "x", yLabel: "y", valueLabel: "v", rows: 1, columns: 2, values: [1, 2],
                    xRange: 0...1, yRange: 0...1, logValues: true,
                    overlays: [Series(name: "path", x: [0, 1], y: [0, 1])])),
            .bars(
                BarChart(
                    title: "b", xLabel: "x", yLabel: "y", categories: ["k"], series: [.init(name: "s", values: [1])])),
            .row(
                title: "r",
                panels: [
                    .heatMap(
                        HeatMap.density(
                            title: "d", xLabel: "x", yLabel: "y", x: [0.5], y: [0.5], xRange: 0...1, yRange: 0...1,
                            bins: 4))
                ]),
        ]
        let html = Report(title: "all kinds", figures: figures).html()
        let parser = XMLParser(data: Data(html.utf8))
        XCTAssertTrue(parser.parse(), "\(String(describing: parser.parserError))")
        XCTAssertEqual(figures.map(\.kind), ["chart", "heat map", "bars", "row"])
        // Each figure stands alone as an SVG file: every attribute prefix it uses is declared
        // (a browser refuses the file otherwise, though the HTML page would render).
        let prefixed = try NSRegularExpression(pattern: " ([A-Za-z]+):[A-Za-z-]+=")
        for figure in figures {
            let svg = figure.svg()
            for match in prefixed.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
                let prefix = String(svg[Range(match.range(at: 1), in: svg)!])
                XCTAssertTrue(
                    prefix == "xmlns" || svg.contains("xmlns:\(prefix)="),
                    "\(figure.title): undeclared prefix \(prefix)")
            }
        }
        XCTAssertTrue(figures.allSatisfy(\.hasData))
        XCTAssertFalse(Figure.bars(BarChart(title: "e", xLabel: "", yLabel: "", categories: [], series: [])).hasData)
    }
}

/// Element-wise equality of two arrays within `accuracy`.
func assertElementsEqual(
    _ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "lengths", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
