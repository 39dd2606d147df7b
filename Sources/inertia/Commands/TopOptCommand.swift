import ArgumentParser
import Foundation
import Inertia

/// `inertia topopt`: minimum-compliance topology optimisation by SIMP (top88) of a cantilever or
/// half MBB beam; writes the densities as a heat map in a report, the compliance history and
/// `densities.csv`.
struct TopOptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topopt", abstract: "SIMP topology optimisation (88-line code) of a cantilever or an MBB beam.")

    enum Structure: String, ExpressibleByArgument, CaseIterable { case cantilever, mbb }

    @Option(help: "cantilever (left edge clamped, load at the right edge) | mbb (top88's half MBB beam)")
    var structure: Structure = .mbb
    @Option(help: "Elements across.") var nelx = 60
    @Option(help: "Elements down.") var nely = 20
    @Option(help: "Volume fraction.") var volumeFraction = 0.5
    @Option(help: "SIMP penalty.") var penalty = 3.0
    @Option(help: "Density filter radius (elements).") var filterRadius = 1.5
    @Option(help: "Cantilever: the right-edge node row loaded (0 at the top; default the middle).") var loadRow: Int?
    @Option(help: "Most OC iterations.") var iterations = 200
    @Option(help: "Stop when no design variable moves more than this.") var tolerance = 0.01
    @Option(help: "Run folder (report.html, summary.json, densities.csv).") var out = "runs/topopt"
    @Flag(help: "One JSON line instead of text.") var json = false

    func validate() throws {
        try requireFinite(["volume-fraction": volumeFraction, "penalty": penalty, "filter-radius": filterRadius])
        guard nelx >= 1, nely >= 1, iterations >= 1 else {
            throw ValidationError("--nelx, --nely and --iterations must be >= 1")
        }
        guard volumeFraction > 0, volumeFraction <= 1 else {
            throw ValidationError("--volume-fraction must lie in (0, 1]")
        }
        guard penalty >= 1, filterRadius > 0, tolerance >= 0 else {
            throw ValidationError("need --penalty >= 1, --filter-radius > 0 and --tolerance >= 0")
        }
        if let loadRow, !(0...nely).contains(loadRow) {
            throw ValidationError("--load-row must lie in 0...\(nely), got \(loadRow)")
        }
        guard structure == .cantilever || loadRow == nil else {
            throw ValidationError("--load-row applies to the cantilever")
        }
    }

    func run() throws {
        do { try solve() } catch { throw CommandFailure.runtime(error) }
    }

    func solve() throws {
        let folder = try RunFolder(out)
        var problem =
            structure == .mbb
            ? TopologyOptimization.Problem.mbbBeam(nelx: nelx, nely: nely, volumeFraction: volumeFraction)
            : .cantilever(nelx: nelx, nely: nely, volumeFraction: volumeFraction, loadRow: loadRow)
        problem.penalty = penalty
        problem.filterRadius = filterRadius
        var simp = TopologyOptimization(problem)
        var history: [Double] = [], changes: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            let (compliance, change) = try simp.iterate()
            history.append(compliance)
            changes.append(change)
            if change <= tolerance { break }
        }
        let final = try simp.compliance(of: simp.densities).compliance
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let volume = simp.densities.reduce(0, +) / Double(simp.densities.count)
        // Heat-map rows run bottom to top; element (ex, ey) has ey = 0 at the top.
        var image = [Double](repeating: 0, count: nelx * nely)
        for ex in 0..<nelx {
            for ey in 0..<nely { image[(nely - 1 - ey) * nelx + ex] = simp.densities[ex * nely + ey] }
        }
        let report = Report(
            title: "Topology optimisation: \(structure == .mbb ? "half MBB beam" : "cantilever"), \(nelx) x \(nely)",
            subtitle:
                "SIMP (penalty \(penalty)), density filter radius \(filterRadius), volume fraction \(volumeFraction), OC with move 0.2",
            tables: [
                Table(
                    title: "Result", header: ["iterations", "compliance", "volume", "last change", "seconds"],
                    rows: [
                        [
                            "\(history.count)", String(format: "%.5g", final), String(format: "%.4f", volume),
                            String(format: "%.4g", changes.last ?? 0), String(format: "%.3f", seconds),
                        ]
                    ])
            ],
            figures: [
                .heatMap(
                    HeatMap(
                        title: "Densities", xLabel: "x (elements)", yLabel: "y (elements)", valueLabel: "density",
                        rows: nely, columns: nelx, values: image, xRange: 0...Double(nelx), yRange: 0...Double(nely),
                        valueRange: 0...1)),
                .chart(
                    Plot(
                        title: "Compliance by iteration", xLabel: "iteration", yLabel: "compliance",
                        series: [
                            Series(name: "compliance", x: history.indices.map { Double($0 + 1) }, y: history)
                        ], logY: true)),
            ],
            summary: [
                "structure": structure.rawValue, "nelx": nelx, "nely": nely, "volume_fraction": volumeFraction,
                "compliance": final, "iterations": history.count, "seconds": seconds, "compliance_history": history,
            ])
        try report.write(to: folder.path)
        let rows = (0..<nely).map { ey in
            (0..<nelx).map { String(simp.densities[$0 * nely + ey]) }.joined(separator: ",")
        }
        try AtomicFile.write(Data((rows.joined(separator: "\n") + "\n").utf8), to: folder.file("densities.csv"))
        if json {
            print(
                JSONValue.object([
                    ("structure", .string(structure.rawValue)), ("compliance", .number(final)),
                    ("volume", .number(volume)), ("iterations", .number(Double(history.count))),
                    ("seconds", .number(seconds)),
                ]).text)
        } else {
            print(
                String(
                    format: "%@ %d x %d: compliance %.5g after %d iterations (volume %.4f), %.3f s", structure.rawValue,
                    nelx, nely, final, history.count, volume, seconds))
            print("report: \(out)/report.html\ndensities: \(out)/densities.csv (rows top to bottom)")
        }
    }
}
