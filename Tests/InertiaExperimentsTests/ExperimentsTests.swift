import Foundation
import InertiaData
import InertiaNN
import InertiaTensor
import XCTest

@testable import InertiaExperiments

#if canImport(FoundationXML)
    import FoundationXML
#endif

final class VerdictTests: XCTestCase {
    func testVerdictLogicOnSyntheticResults() {
        let pass = Check(name: "a", measured: 0.9, relation: .atLeast, threshold: 0.8, source: "s")
        let fail = Check(name: "b", measured: 0.7, relation: .atLeast, threshold: 0.8, source: "s")
        let close = Check(name: "c", measured: 0.79, relation: .atLeast, threshold: 0.8, source: "s", uncertainty: 0.05)
        let missing = Check(name: "d", measured: nil, relation: .atMost, threshold: 1, source: "s")
        let steps = Check(name: "e", measured: 666, relation: .atMost, threshold: 20_000, source: "s")
        XCTAssertEqual(pass.verdict, .held)
        XCTAssertEqual(fail.verdict, .notHeld)
        XCTAssertEqual(close.verdict, .inconclusive)
        XCTAssertEqual(missing.verdict, .inconclusive)
        XCTAssertEqual(steps.verdict, .held)
        XCTAssertEqual(Verdict.combining([pass, steps]), .held)
        XCTAssertEqual(Verdict.combining([pass, fail, missing]), .notHeld)
        XCTAssertEqual(Verdict.combining([pass, close]), .inconclusive)
        XCTAssertEqual(Verdict.combining([]), .inconclusive)
        var result = ReproductionResult(slug: "x", budget: .quick, seeds: [0], checks: [pass])
        XCTAssertEqual(result.verdict, .held)
        result.isPartial = true
        XCTAssertEqual(result.verdict, .inconclusive)
    }
}

/// Collects the elements of an XML document.
final class ElementCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append((name, attributes))
    }
}

final class ReportTests: XCTestCase {
    func parse(_ html: String) throws -> ElementCollector {
        let parser = XMLParser(data: Data(html.utf8))
        let collector = ElementCollector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "report is not well-formed: \(String(describing: parser.parserError))")
        return collector
    }

    func testReportIsWellFormedWithOneSVGPerPlotAndItsSeries() throws {
        let plots = [
            Plot(
                title: "Loss <&> \"quoted\"", xLabel: "step", yLabel: "loss",
                series: [
                    Series(
                        name: "adam", x: [1, 2, 3], y: [1, 0.1, 0.001], lower: [0.9, 0.09, 0.0009],
                        upper: [1.1, 0.11, 0.0011]),
                    Series(name: "sgd", x: [1, 2, 3], y: [1, 0.5, 0.25]),
                ]),
            Plot(
                title: "Accuracy", xLabel: "epoch", yLabel: "accuracy",
                series: [Series(name: "adam", x: [1, 2], y: [0.5, 0.9])], logY: false),
        ]
        XCTAssertTrue(plots[0].usesLogY)
        XCTAssertFalse(plots[1].usesLogY)
        let report = Report(
            title: "T", isPartial: true, verdict: .held,
            checks: [Check(name: "c", measured: 1, relation: .atLeast, threshold: 0, source: "spec")],
            tables: [Table(title: "tab", header: ["a", "b"], rows: [["1", "<2>"]])], figures: plots.map(Figure.chart),
            notes: ["n & m"])
        let html = report.html()
        let elements = try parse(html).elements
        XCTAssertEqual(elements.filter { $0.name == "svg" }.count, 2)
        let lines = elements.filter { $0.name == "polyline" && $0.attributes["class"] == "series" }.map {
            $0.attributes["data-series"]
        }
        XCTAssertEqual(lines, ["adam", "sgd", "adam"])
        XCTAssertEqual(elements.filter { $0.name == "polygon" && $0.attributes["class"] == "band" }.count, 1)
        XCTAssertTrue(html.contains("Partial report"))
        XCTAssertTrue(html.contains("(log scale)"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-report-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try report.write(to: folder)
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json")))
            as! [String: Any]
        XCTAssertEqual(summary["partial"] as? Bool, true)
        XCTAssertEqual(summary["verdict"] as? String, "held")
        let figures = try XCTUnwrap(summary["figures"] as? [[String: Any]])
        XCTAssertEqual(figures.map { $0["title"] as? String }, ["Loss <&> \"quoted\"", "Accuracy"])
        XCTAssertEqual(figures.first?["series"] as? [String], ["adam", "sgd"])
        // Each figure is also a standalone SVG file, well-formed.
        for (k, figure) in figures.enumerated() {
            XCTAssertEqual(figure["file"] as? String, "figure-\(k + 1).svg")
            let svg = try String(contentsOfFile: folder + "/figure-\(k + 1).svg", encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<?xml"))
            _ = try parse(svg)
        }
    }

    /// A diverged run's numbers (NaN, infinities) are written as JSON null, not a serialization error.
    func testSummaryWritesNonFiniteNumbersAsNull() throws {
        let report = Report(
            title: "diverged", tables: [], figures: [], notes: [],
            summary: [
                "loss": Double.nan, "curve": [1.0, .infinity], "nested": ["worst": -Double.infinity, "steps": 3],
            ])
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: report.summaryJSON()) as? [String: Any])
        XCTAssertTrue(summary["loss"] is NSNull)
        let curve = try XCTUnwrap(summary["curve"] as? [Any])
        XCTAssertEqual(curve.first as? Double, 1)
        XCTAssertTrue(curve.last is NSNull)
        let nested = try XCTUnwrap(summary["nested"] as? [String: Any])
        XCTAssertTrue(nested["worst"] is NSNull)
        XCTAssertEqual(nested["steps"] as? Int, 3)
    }

    func testComparisonEndToEndAndInterruptedRunsLeaveAPartialResult() throws {
        let (train, test) = try Digits.load().split(testFraction: 0.2, seed: 0)
        let comparison = Comparison(
            dataName: "digits", train: train, test: test, makeModel: { rng in MLP(sizes: [64, 16, 10], using: &rng) },
            contenders: [
                .init(label: "sgd", optimizer: "sgd", hyperparameters: ["lr": 0.1, "momentum": 0.9]),
                .init(label: "adam", optimizer: "adam", hyperparameters: [:]),
            ],
            seeds: [0, 1], epochs: 2, batchSize: 64, targetLoss: 1.0)
        let runs = comparison.run()
        XCTAssertEqual(runs.count, 4)
        XCTAssertTrue(runs.allSatisfy { $0.error == nil && $0.losses.count == 2 * 23 && $0.testAccuracy.count == 2 })
        let table = comparison.table(runs)
        XCTAssertEqual(table.rows.map { $0[0] }, ["sgd", "adam"])
        XCTAssertTrue(table.rows[0][4].contains("reached"))
        XCTAssertEqual(comparison.plots(runs).map { $0.series.count }, [2, 2, 2])
        var steps = 0
        let interrupted = comparison.run(shouldStop: { steps >= 60 }, onStep: { _, _, _ in steps += 1 })
        XCTAssertEqual(interrupted.count, 2)
        XCTAssertFalse(interrupted[0].interrupted)
        XCTAssertTrue(interrupted[1].interrupted)
        XCTAssertEqual(interrupted[1].losses.count, 60 - 46)
        let report = Report(
            title: "partial", isPartial: true, tables: [comparison.table(interrupted)],
            figures: comparison.plots(interrupted).map(Figure.chart))
        XCTAssertEqual(try parse(report.html()).elements.filter { $0.name == "svg" }.count, 3)
    }

    func testComparisonPlotsTheHyperParametersThatChange() throws {
        let (train, test) = try Digits.load().split(testFraction: 0.2, seed: 0)
        let comparison = Comparison(
            dataName: "digits", train: train, test: test, makeModel: { rng in MLP(sizes: [64, 16, 10], using: &rng) },
            contenders: [
                .init(label: "am-sgd", optimizer: "am-sgd", hyperparameters: ["lr": 0.05]),
                .init(label: "adam", optimizer: "adam", hyperparameters: [:]),
            ],
            seeds: [0], epochs: 1, batchSize: 64, targetLoss: 1.0)
        let runs = comparison.run()
        let plots = comparison.plots(runs)
        let beta = try XCTUnwrap(plots.first { $0.yLabel == "beta" }, "\(plots.map(\.title))")
        XCTAssertEqual(beta.series.map(\.name), ["am-sgd"])
        XCTAssertEqual(beta.series[0].y.count, 23)
        XCTAssertFalse(
            plots.contains { $0.yLabel == "beta1" || $0.yLabel == "eps" }, "constant hyper-parameters are not plotted")
    }

    func testClassicMomentumQuickReproductionRunsEndToEnd() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("classic-momentum"))
        let result = try reproduction.run(
            budget: .quick, seeds: reproduction.defaultSeeds(.quick), shouldStop: { false }
        ) { _ in }
        XCTAssertEqual(result.checks.count, 4)
        // The Rosenbrock checks reproduce the spec's float64 reference counts.
        XCTAssertEqual(result.checks[0].measured, 666)
        XCTAssertEqual(result.checks[1].measured, 2391)
        XCTAssertEqual(result.checks[0].verdict, .held)
        XCTAssertFalse(result.isPartial)
        let html = reproduction.report(result).html()
        XCTAssertTrue(html.contains("Verdict"))
        XCTAssertGreaterThanOrEqual(try parse(html).elements.filter { $0.name == "svg" }.count, 1)
    }

    func testLionKappaQuickReproductionRunsEndToEnd() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("lion-kappa"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        // Section 5.1 on the quadratic: the four kernels reach their constrained minimisers, stay inside the
        // ball after step 1000, and never violate the bound.
        let quadratic = result.checks.filter { $0.source == "spec 5.1" || $0.source == "spec 2.5" }
        XCTAssertEqual(quadratic.count, 12)
        XCTAssertTrue(quadratic.allSatisfy { $0.verdict == .held }, "\(quadratic)")
        XCTAssertFalse(result.isPartial)
        XCTAssertGreaterThanOrEqual(result.figures.count, 1)
    }

    func testAdamPCosineToyMatchesTheSpecFigures() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("adamp"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        let toy = result.checks.filter { $0.source == "spec 5.1" }
        // Two checks (final norm, first step with cos > 0.99) per run of the fixture.
        let runs = try FixtureReader("adamp", "cosine_toy.json").child("results").keys
        XCTAssertEqual(toy.count, 2 * runs.count)
        XCTAssertTrue(toy.allSatisfy { $0.verdict == .held }, "\(toy.filter { $0.verdict != .held })")
    }

    func testAdaptiveMemoryQuickReproductionRunsEndToEnd() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("adaptive-memory-momentum"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        let betas = result.checks.filter { $0.name.hasPrefix("mean β_t") || $0.name.hasPrefix("β_t takes") }
        XCTAssertEqual(betas.count, 3)
        XCTAssertTrue(betas.allSatisfy { $0.verdict == .held }, "\(betas)")
        XCTAssertEqual(result.tables.first?.rows.count, 5)
    }
}

final class ReproductionTests: XCTestCase {
    /// A target never reached or a diverged run (+infinity) fails a check that says infinity is a
    /// result; elsewhere, and for NaN, a non-finite measurement decides nothing.
    func testInfinityFailsWhereItIsAResult() {
        func check(_ measured: Double, _ relation: Check.Relation, result: Bool) -> Verdict {
            Check(
                name: "c", measured: measured, relation: relation, threshold: 1, source: "s", infinityIsAResult: result
            ).verdict
        }
        XCTAssertEqual(check(.infinity, .atMost, result: true), .notHeld)
        XCTAssertEqual(check(-.infinity, .atLeast, result: true), .notHeld)
        XCTAssertEqual(check(.infinity, .atLeast, result: true), .held)
        XCTAssertEqual(check(.infinity, .atMost, result: false), .inconclusive)
        XCTAssertEqual(check(.nan, .atMost, result: true), .inconclusive)
        XCTAssertEqual(check(0.5, .atMost, result: true), .held)
    }

    /// A reproduction whose loop skips runs once a stop is seen but never says so.
    struct SilentlySkipping: Reproduction {
        let slug = "silently-skipping", paper = "none", claim = "none"
        let specChecks = [SpecCheck("test", "runs", .atLeast, 0)]
        func defaultSeeds(_ budget: Budget) -> [UInt64] { [0, 1, 2] }
        func run(
            budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
        ) throws
            -> ReproductionResult
        {
            var finished = 0
            for _ in seeds where !shouldStop() { finished += 1 }
            let check = Check(
                name: "runs", measured: Double(finished), relation: .atLeast, threshold: 0, source: "test")
            return ReproductionResult(slug: slug, budget: budget, seeds: seeds, checks: [check])
        }
    }

    /// Without Fashion-MNIST a reproduction says it is missing and what goes unmeasured; with
    /// unreadable files it says so, with the reader's error, instead of "not installed".
    func testMissingOrBrokenFashionMNISTIsANoteThatSaysWhich() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-fmnist-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var notes: [String] = []
        XCTAssertNil(
            FashionMNIST.forReproduction(directory: folder, unmeasured: "check X is inconclusive", notes: &notes))
        XCTAssertEqual(
            notes, ["Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): check X is inconclusive."])
        for part in ["train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1"] {
            try Data("not gzip".utf8).write(to: URL(fileURLWithPath: folder + "/\(part)-ubyte.gz"))
        }
        notes = []
        XCTAssertNil(
            FashionMNIST.forReproduction(directory: folder, unmeasured: "check X is inconclusive", notes: &notes))
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].hasPrefix("Fashion-MNIST is installed but cannot be read ("), notes[0])
        XCTAssertTrue(notes[0].hasSuffix("): check X is inconclusive."), notes[0])
    }

    /// The series a quick report must draw, per reproduction (Fashion-MNIST's only where installed).
    static let claimSeries: [String: [String]] = {
        let fashion = FileManager.default.fileExists(
            atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
        return [
            "heavy-ball-diffusion-sampling": ["PLMS-4", "HB 3.8", "GHVB 3.8", "DDIM", "reference", "sampler"],
            "momentum-smoe": ["SMoE", "MomentumSMoE mu 0.7"],
            "momentum-attention": ["MA, 1 layer", "M1 standard, 1 layer", "M2 standard, 2 layers"],
            "momentum-auxiliary-network": ["E2E", "Local", "Local + MAN"],
            "sinkhorn-newton-sparse": ["SNS", "Sinkhorn"],
            "anderson-acceleration": ["Picard", "AA m = 1", "AA m = 5"],
            "consensus-based-optimization": [
                "CBO, anisotropic noise", "CBO, isotropic noise", "gradient descent", "consensus path", "f(x)",
            ],
            "muon": ["Muon, exact polar", "Muon, NS5"] + (fashion ? ["Muon", "AdamW lr 0.001"] : []),
            "auon": ["step"] + (fashion ? ["AuON", "Hybrid-AuON", "Muon", "AdamW lr 0.001"] : []),
            "fismo": ["FISMO", "Muon", "AdamW"],
            "mkor": ["SGD-M", "MKOR(SGD-M)"],
            "stochastic-interpolants": ["density", "target 2-sigma ellipse"],
            "target-surrogates": ["SSO m = 1", "SSO m = 5", "SSO m = 20", "SGD 1.0/L"],
            "cfg-manifold-projection": ["CFG", "CFG-MP", "CFG-MP+", "spec writer CFG-MP", "density"],
            "kinetic-optimal-paths": [
                "KO sigma_t", "Cond-OT alpha_t", "fixture KO sigma_t", "Inertia", "fixture", "KO field",
                "Cond-OT field",
                "author KO",
            ],
            "pfgm-plus-plus": ["D = 4", "D = inf", "author D = 4", "author D = inf", "samples", "centres"],
            "k-diff": ["x-pred", "v-pred", "eps-pred", "k-Diff (speed 10)", "samples"],
            "light-schrodinger-bridge": ["D = 2, eps = 0.1", "p0 inputs", "p1 (truth)", "LightSB samples"],
            "flow-maps": ["LSD", "PSD-M", "ESD", "flow matching", "samples"],
            "meanflow-policy": ["flow matching", "MeanFlow", "MeanFlow + MP1 target (w = 2)", "samples"],
            "walk-on-spheres": ["median rel. L2", "u"],
            "diffusion-trajectory-alignment": ["TA weight 0", "TA weight 1", "SIMP 10 iterations"],
            "hard-constraints-moe": ["PI-SC", "PI-HC", "PI-HC-MoE", "u"],
            "equino": ["FE (Newton)", "EquiNO", "supervised MLP", "snapshots"],
            "information-koopman": [
                "(a) plain", "(b) MI only", "(c) MI + entropy, paper sign", "(d) MI + entropy, code sign", "truth",
            ],
        ]
    }()

    /// Every registered reproduction, at the quick budget, reports only checks it declared, and
    /// every declared spec check is in the result: measured, or inconclusive with the reason.
    func testEveryReproductionReportsEveryDeclaredCheckAndNothingElse() throws {
        for reproduction in Reproductions.all {
            let result = try reproduction.reproduce(
                budget: .quick, seeds: reproduction.defaultSeeds(.quick), shouldStop: { false }, progress: { _ in })
            XCTAssertFalse(reproduction.specChecks.isEmpty, reproduction.slug)
            // Every report shows its claim: at least one figure, each with data, and the series
            // that carry the claim.
            XCTAssertFalse(result.figures.isEmpty, "\(reproduction.slug) has no figure")
            for figure in result.figures {
                XCTAssertTrue(figure.hasData, "\(reproduction.slug): '\(figure.title)' draws nothing")
            }
            let drawn = Set(result.figures.flatMap(\.seriesNames))
            for name in Self.claimSeries[reproduction.slug] ?? [] {
                XCTAssertTrue(
                    drawn.contains(name), "\(reproduction.slug): no figure draws '\(name)' (\(drawn.sorted()))")
            }
            for declared in reproduction.specChecks {
                let matching = result.checks.filter(declared.matches)
                XCTAssertFalse(matching.isEmpty, "\(reproduction.slug): \(declared.summary) is missing")
                for check in matching where check.measured == nil {
                    XCTAssertEqual(check.verdict, .inconclusive, "\(reproduction.slug): \(check.name)")
                    XCTAssertNotNil(check.note, "\(reproduction.slug): \(check.name) has no reason")
                }
            }
            if result.checks.contains(where: { $0.measured == nil }) {
                XCTAssertNotEqual(
                    result.verdict, .held, "\(reproduction.slug): a verdict never says more than was measured")
            }
            // Thresholds are wired: each measured check, moved across its threshold, flips, and a
            // failed check fails the whole verdict.
            for (index, check) in result.checks.enumerated() where check.measured.map({ $0.isFinite }) ?? false {
                let label = "\(reproduction.slug): \(check.name)"
                XCTAssertTrue(check.threshold.isFinite && check.uncertainty.isFinite, label)
                let distance = Swift.abs(check.threshold) + check.uncertainty + 1
                let failing = check.threshold + (check.relation == .atMost ? distance : -distance)
                let passing = check.threshold + (check.relation == .atMost ? -distance : distance)
                var moved = result
                moved.checks[index].measured = failing
                XCTAssertEqual(moved.checks[index].verdict, .notHeld, label)
                XCTAssertEqual(moved.verdict, result.isPartial ? .inconclusive : .notHeld, label)
                moved.checks[index].measured = passing
                XCTAssertEqual(moved.checks[index].verdict, .held, label)
            }
        }
    }

    /// A check a run reports but never declared is an error, and a declared check the run does not
    /// measure is added as inconclusive.
    func testUndeclaredChecksAreRefusedAndUnmeasuredOnesAdded() throws {
        struct Declaring: Reproduction {
            let slug = "declaring", paper = "none", claim = "none"
            var reported: [Check]
            let specChecks = [SpecCheck("spec 1", "first", .atMost, 1), SpecCheck("spec 2", "second", .atLeast, 0)]
            func defaultSeeds(_ budget: Budget) -> [UInt64] { [0] }
            func run(
                budget: Budget, seeds: [UInt64], shouldStop: @escaping () -> Bool, progress: (String) -> Void
            ) throws
                -> ReproductionResult
            { ReproductionResult(slug: slug, budget: budget, seeds: seeds, checks: reported) }
        }
        let first = Check(name: "first", measured: 0.5, relation: .atMost, threshold: 1, source: "spec 1")
        let result = try Declaring(reported: [first]).reproduce(budget: .quick, seeds: [0], shouldStop: { false }) {
            _ in
        }
        XCTAssertEqual(result.checks.count, 2)
        XCTAssertEqual(result.checks[1].name, "second")
        XCTAssertNil(result.checks[1].measured)
        XCTAssertEqual(result.verdict, .inconclusive, "held only where every declared check was measured")
        let stray = Check(name: "stray", measured: 0, relation: .atMost, threshold: 2, source: "spec 1")
        XCTAssertThrowsError(
            try Declaring(reported: [first, stray]).reproduce(budget: .quick, seeds: [0], shouldStop: { false }) { _ in
            }
        ) {
            XCTAssertTrue("\($0)".contains("check 'stray' (spec 1, <= 2.0) is not among"), "\($0)")
        }
    }

    /// Runs skipped by a stop always mark the result partial (and so inconclusive), even when the
    /// reproduction's own loop forgets to; a run that saw no stop is left as it is.
    func testAStopSeenDuringARunAlwaysMarksTheResultPartial() throws {
        var polls = 0
        let stopped = try SilentlySkipping().reproduce(
            budget: .quick, seeds: [0, 1, 2],
            shouldStop: {
                polls += 1
                return polls > 1
            }, progress: { _ in })
        XCTAssertEqual(stopped.checks.first?.measured, 1)
        XCTAssertTrue(stopped.isPartial)
        XCTAssertEqual(stopped.verdict, .inconclusive)
        XCTAssertTrue(stopped.notes.contains { $0.contains("Stopped early") })
        let complete = try SilentlySkipping().reproduce(budget: .quick, seeds: [0, 1, 2], shouldStop: { false }) { _ in
        }
        XCTAssertFalse(complete.isPartial)
        XCTAssertEqual(complete.verdict, .held)
    }

    /// EquiNO's quick run measures all four checks; even 300 Adam steps and 100 L-BFGS
    /// iterations bring the homogenised stress inside the spec's 1e-2 on the training range.
    func testEquiNOQuickReproductionMeasuresEveryCheck() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("equino"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 4)
        for check in result.checks {
            XCTAssertNotNil(check.measured, check.name)
            XCTAssertTrue(check.measured.map { $0.isFinite && $0 > 0 } ?? false, check.name)
        }
        let error = try XCTUnwrap(result.checks.first { $0.name.hasPrefix("EquiNO relative L2") })
        XCTAssertEqual(error.verdict, .held, "\(error)")
        XCTAssertEqual(result.tables[0].rows.count, 1)
    }

    /// The hard-constraint quick run measures its three checks: both error ratios and the
    /// constraint-solve time ratio (the soft model has no solve, the two hard ones do).
    func testHardConstraintsQuickReproductionMeasuresEveryCheck() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("hard-constraints-moe"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 3)
        for check in result.checks {
            XCTAssertTrue(check.measured.map { $0.isFinite && $0 > 0 } ?? false, "\(check)")
        }
        // Five variants, one seed: PI-SC spends no time in a constraint solve.
        let rows = result.tables[0].rows
        XCTAssertEqual(rows.count, 5)
        XCTAssertEqual(rows[0].last, "0.0")
        XCTAssertTrue(rows[1...].allSatisfy { Double($0.last!)! > 0 }, "\(rows)")
    }

    func testFISMOQuickReproductionRunsEndToEnd() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("fismo"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        // Spec 5.1: on both conditionings FISMO's best final loss is within 1.5x Muon's best.
        let quadratic = result.checks.filter { $0.source == "spec 5.1" }
        XCTAssertEqual(quadratic.count, 2)
        XCTAssertTrue(quadratic.allSatisfy { $0.verdict == .held }, "\(quadratic)")
        // Three optimizers at three learning rates for each condition; every loss above the noise floor's order.
        XCTAssertEqual(result.tables[0].rows.count, 6)
        XCTAssertFalse(result.isPartial)
    }

    /// Whether Debian's Fashion-MNIST package is installed (the network checks need it).
    var fashionMNISTInstalled: Bool {
        FileManager.default.fileExists(atPath: FashionMNIST.debianDirectory + "/train-images-idx3-ubyte.gz")
    }

    /// A check measured on Fashion-MNIST: held where the data is installed, else unmeasured with a reason.
    func assertNetworkCheck(_ check: Check?, file: StaticString = #filePath, line: UInt = #line) {
        guard let check else { return XCTFail("missing check", file: file, line: line) }
        if fashionMNISTInstalled {
            XCTAssertEqual(check.verdict, .held, "\(check)", file: file, line: line)
        } else {
            XCTAssertNil(check.measured, check.name, file: file, line: line)
        }
    }

    func testMuonQuickReproductionMeasuresTheQuadraticAndTheNetwork() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("muon"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        // Both polar factors drive the quadratic below 1e-3 at the largest learning rate.
        let finalLosses = result.checks.filter { $0.name.hasSuffix("lr 0.3: final loss") }
        XCTAssertEqual(finalLosses.count, 2)
        XCTAssertTrue(finalLosses.allSatisfy { $0.verdict == .held }, "\(finalLosses)")
        let ratio = try XCTUnwrap(result.checks.first { $0.name.hasPrefix("max over lr of |NS5 / exact") })
        XCTAssertNotNil(ratio.measured)
        assertNetworkCheck(result.checks.first { $0.name.hasPrefix("best Muon − AdamW") })
    }

    func testAuONQuickReproductionMeasuresTheBrakeTheCostAndTheRuns() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("auon"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        let brake = try XCTUnwrap(result.checks.first { $0.source == "spec 6.3" })
        XCTAssertEqual(brake.verdict, .held, "\(brake)")
        let cost = try XCTUnwrap(result.checks.first { $0.source == "spec 5.4" })
        XCTAssertEqual(cost.verdict, .held, "\(cost)")
        assertNetworkCheck(result.checks.first { $0.name.hasPrefix("runs with a NaN") })
        assertNetworkCheck(result.checks.first { $0.name.hasPrefix("best AuON − AdamW") })
    }

    func testMKORQuickReproductionRunsEndToEnd() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("mkor"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.tables[0].rows.count, 3)
        let resets = try XCTUnwrap(result.checks.first { $0.name.hasPrefix("factor resets") })
        XCTAssertEqual(resets.measured, 0)
        // Spec 5.1: MKOR's best loss at most 0.95x SGD-M's, and not worse at any learning rate.
        let quadratic = result.checks.filter { $0.source == "spec 5.1" }
        XCTAssertEqual(quadratic.count, 2)
        XCTAssertTrue(quadratic.allSatisfy { $0.verdict == .held }, "\(quadratic)")
        assertNetworkCheck(result.checks.first { $0.source == "spec 5.2" })
    }

    func testSinkhornNewtonSparseQuickReproductionHolds() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("sinkhorn-newton-sparse"))
        let result = try reproduction.run(budget: .quick, seeds: [0, 1], shouldStop: { false }) { _ in }
        // Iteration counts and experiment B's W2 are deterministic (wall time is not asserted).
        let counts = result.checks.filter {
            $0.name.contains("iterations") || $0.name.contains("missed") || $0.name.contains("W2")
        }
        XCTAssertEqual(counts.count, 5)
        XCTAssertTrue(counts.allSatisfy { $0.verdict == .held }, "\(counts)")
    }

    func testAndersonAccelerationQuickReproductionHolds() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("anderson-acceleration"))
        let result = try reproduction.run(budget: .quick, seeds: [0, 1], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 4)
        // A and B hold; C is measured (AA against Picard on CFG-MP's map: a ratio in (0, 1) here).
        XCTAssertTrue(result.checks.prefix(3).allSatisfy { $0.verdict == .held }, "\(result.checks)")
        let guidance = try XCTUnwrap(result.checks.last?.measured)
        XCTAssertTrue(guidance > 0 && guidance < 1, "\(guidance)")
        XCTAssertEqual(result.tables.last?.rows.count, 10)
    }

    func testConsensusAndTargetSurrogateQuickReproductionsRun() throws {
        let cbo = try XCTUnwrap(Reproductions.named("consensus-based-optimization"))
        let result = try cbo.run(budget: .quick, seeds: [0, 1, 2, 3], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 6)
        XCTAssertEqual(result.checks.first { $0.name == "A: anisotropic CBO success rate" }?.verdict, .held)
        let sso = try XCTUnwrap(Reproductions.named("target-surrogates"))
        let surrogate = try sso.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        // More inner steps lower the training loss (m = 5 and m = 20 against m = 1), and m = 20 is
        // within 1.1x the best SGD.
        XCTAssertEqual(surrogate.checks.count, 3)
        XCTAssertTrue(surrogate.checks.allSatisfy { $0.verdict == .held }, "\(surrogate.checks)")
    }

    /// Spec 10.1's slope is a least-squares fit over every NFE given (numpy's polyfit gives
    /// -1.11898223765 on the uneven points below), exact on a power law.
    func testDiffusionSlopeIsALeastSquaresFitOverEveryPoint() {
        let powerLaw = [100.0, 200, 400].map { (nfe: $0, error: 3 / ($0 * $0)) }
        XCTAssertEqual(DiffusionPrinciplesReproduction.logLogSlope(powerLaw), -2, accuracy: 1e-12)
        let uneven = [(nfe: 100.0, error: 1.0), (150, 0.5), (400, 0.2)]
        XCTAssertEqual(DiffusionPrinciplesReproduction.logLogSlope(uneven), -1.1189822376502288, accuracy: 1e-12)
    }

    func testDiffusionPrinciplesQuickReproductionHolds() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("diffusion-principles"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        // Per mixture of the fixture: two checks for each first-order sampler, one for each
        // second-order one; and the DPM++ / DDIM ratio for std 0.25.
        let mixtures = try FixtureReader("diffusion-principles", "solver_order.json").child("results").keys
        XCTAssertEqual(result.checks.count, 6 * mixtures.count + 1)
        XCTAssertTrue(
            result.checks.allSatisfy { $0.verdict == .held }, "\(result.checks.filter { $0.verdict != .held })")
        XCTAssertEqual(result.figures.count, 2)
        // Each sampler's row is followed by the spec writer's (`solver_order.json`): other draws of
        // x_T (100 here, 500 there), the same errors within 20 % and slopes within 0.1.
        let rows = try XCTUnwrap(result.tables.first?.rows)
        XCTAssertEqual(rows.count, 8 * mixtures.count)
        for pair in stride(from: 0, to: rows.count, by: 2) {
            let ours = rows[pair], writer = rows[pair + 1]
            XCTAssertEqual(writer[1], "\(ours[1]), spec writer (float64)")
            let a = ours.dropFirst(2).compactMap(Double.init), b = writer.dropFirst(2).compactMap(Double.init)
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a.dropLast(), b.dropLast()) { XCTAssertEqual(x, y, accuracy: 0.2 * y, "\(ours)") }
            XCTAssertEqual(a.last!, b.last!, accuracy: 0.1, "slope: \(ours)")
        }
    }

    func testHeavyBallQuickReproductionSuppressesDivergence() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("heavy-ball-diffusion-sampling"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 8)
        XCTAssertTrue(
            result.checks.allSatisfy { $0.verdict == .held }, "\(result.checks.filter { $0.verdict != .held })")
        // Every setting of the fixture has a row of ours and the spec writer's medians
        // (`gmm_cfg_toy_sweep.json`, 3 seeds of 2000 samples there, one of 500 here): within 35 %,
        // divergent runs included.
        let settings = try FixtureReader("heavy-ball-diffusion-sampling", "gmm_cfg_toy_sweep.json")
            .child("rmse_median").keys
        let rows = try XCTUnwrap(result.tables.first?.rows)
        let writerRows = rows.filter { $0[2] == "spec writer" }
        XCTAssertEqual(writerRows.count, settings.count)
        for writer in writerRows {
            let ours = try XCTUnwrap(rows.first { $0[2] == "Inertia" && $0[0] == writer[0] && $0[1] == writer[1] })
            for (x, y) in zip(ours.dropFirst(3), writer.dropFirst(3)) {
                let a = try XCTUnwrap(Double(x)), b = try XCTUnwrap(Double(y))
                XCTAssertEqual(a, b, accuracy: 0.35 * b, "w \(writer[0]), N \(writer[1])")
            }
        }
    }

    /// The CFG-MP sweep reproduces every setting of `guidance_sweep.json`: ours against the spec
    /// writer's medians (other noise draws, 2000 samples here, 4000 there) within 20 % for SW1.
    func testCFGManifoldProjectionQuickReproductionMatchesTheSweep() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("cfg-manifold-projection"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 5)
        XCTAssertTrue(result.checks.allSatisfy { $0.measured != nil }, "\(result.checks)")
        let settings = try FixtureReader("cfg-manifold-projection", "guidance_sweep.json").child("results").keys
        let rows = try XCTUnwrap(result.tables.first?.rows)
        let writerRows = rows.filter { $0[2] == "spec writer" }
        XCTAssertEqual(writerRows.count, settings.count)
        for writer in writerRows {
            let ours = try XCTUnwrap(rows.first { $0[2] == "Inertia" && $0[0] == writer[0] && $0[1] == writer[1] })
            for column in 3..<6 {
                let a = try XCTUnwrap(Double(ours[column])), b = try XCTUnwrap(Double(writer[column]))
                XCTAssertEqual(a, b, accuracy: 0.2 * b, "N \(writer[0]), w \(writer[1]), column \(column)")
            }
        }
    }

    /// Kinetic-optimal paths: every check measured at the quick budget, 5.3 (b) from the two
    /// trained fields, with the author's learned energies and few-step distances beside ours.
    func testKineticOptimalPathsQuickReproduction() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("kinetic-optimal-paths"))
        let result = try reproduction.reproduce(budget: .quick, seeds: [1], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 7)
        XCTAssertTrue(result.checks.allSatisfy { $0.measured != nil }, "\(result.checks)")
        let training = try XCTUnwrap(result.checks.first { $0.source == "spec 5.3 (b)" })
        XCTAssertGreaterThan(try XCTUnwrap(training.measured), 0)
        let fields = try XCTUnwrap(result.tables.last?.rows)
        XCTAssertEqual(fields.count, 4)
        let author = try XCTUnwrap(fields.first { $0[0] == "KO" && $0[1] == "author (PyTorch)" })
        XCTAssertEqual(author[2], "0.4473")
    }

    /// The fixture prose parser's forms, and `number(after:)` where a list defeats them.
    func testFixtureProseNumbers() {
        let text = "N=16 embedded 8-mode ring, 3000 Adam steps lr 1e-3 batch 256, Tmax15, W = 5 (truth 0.05)"
        XCTAssertEqual(SpecFixture.writtenNumber("N", in: text), 16)
        XCTAssertEqual(SpecFixture.writtenNumber("W", in: text), 5)
        XCTAssertEqual(SpecFixture.writtenNumber("mode ring", in: text), 8)
        XCTAssertEqual(SpecFixture.writtenNumber("Adam steps", in: text), 3000)
        XCTAssertEqual(SpecFixture.writtenNumber("Tmax", in: text), 15)
        XCTAssertEqual(SpecFixture.writtenNumber("batch", in: text), 1e-3, "the <value> <name> form takes lr's value")
        XCTAssertEqual(SpecFixture.number(after: "batch", in: text), 256)
        XCTAssertEqual(SpecFixture.number(after: "lr", in: text), 1e-3)
        XCTAssertEqual(SpecFixture.number(after: "(truth", in: text), 0.05)
        XCTAssertNil(SpecFixture.number(after: "epochs", in: text))
        XCTAssertNil(SpecFixture.writtenNumber("epochs", in: text))
    }

    /// PFGM++: both spec 5 checks measured at the quick budget (one seed, 300 steps), and the
    /// author's rows are the medians of the fixture's runs (spec 5's table: radius drift +0.026 for
    /// D = 4 and +0.118 for D = ∞).
    func testPFGMPlusPlusQuickReproductionMeasuresBothChecks() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("pfgm-plus-plus"))
        let result = try reproduction.reproduce(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 2)
        XCTAssertTrue(result.checks.allSatisfy { $0.measured?.isFinite ?? false }, "\(result.checks)")
        let rows = try XCTUnwrap(result.tables.first?.rows)
        let author4 = try XCTUnwrap(rows.first { $0[0] == "D = 4" && $0[1] == "author (PyTorch)" })
        let authorInf = try XCTUnwrap(rows.first { $0[0] == "D = inf" && $0[1] == "author (PyTorch)" })
        XCTAssertTrue(author4[4].hasPrefix("+0.026 "), author4[4])
        XCTAssertTrue(authorInf[4].hasPrefix("+0.118 "), authorInf[4])
        XCTAssertNotNil(rows.first { $0[0] == "D = 4" && $0[1] == "Inertia" })
        XCTAssertNil(rows.first { $0[0] == "D = 16" && $0[1] == "Inertia" }, "quick skips the one-seed D = 16")
    }

    /// k-Diff at the quick budget: D = 2 and 32 measured (k falls from one to the other), the
    /// checks at the fixture's largest D inconclusive with the reason; the spec writer's values
    /// sit beside ours.
    func testKDiffQuickReproductionMeasuresWhatItRuns() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("k-diff"))
        let result = try reproduction.reproduce(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 7)
        let unmeasured = result.checks.filter { $0.measured == nil }
        XCTAssertEqual(unmeasured.count, 4, "\(result.checks)")
        XCTAssertTrue(unmeasured.allSatisfy { $0.note?.contains("quick budget skips D = 512") ?? false })
        let falling = try XCTUnwrap(result.checks.first { $0.source == "spec 5 (2)" })
        XCTAssertEqual(falling.verdict, .held, "\(falling)")
        let rows = try XCTUnwrap(result.tables.first?.rows)
        let writer = try XCTUnwrap(rows.first { $0[0] == "512" && $0[1] == "x-pred" })
        XCTAssertEqual(writer[2], "n/a")
        XCTAssertEqual(writer[3], "0.064")
    }

    /// LightSB at the quick budget: the D = 2 runs of 5.1 and 5.2 measured, the checks that need
    /// D = 16 inconclusive with the reason; LightSB beats the independent coupling and the true
    /// sampler's floor is below both.
    func testLightSchrodingerBridgeQuickReproduction() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("light-schrodinger-bridge"))
        let result = try reproduction.reproduce(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 5)
        let unmeasured = result.checks.filter { $0.measured == nil }
        XCTAssertEqual(unmeasured.count, 3, "\(result.checks)")
        XCTAssertTrue(unmeasured.allSatisfy { $0.note?.contains("D = 2 only") ?? false }, "\(unmeasured)")
        for table in result.tables {
            XCTAssertFalse(table.rows.isEmpty, table.title)
            for row in table.rows {
                let model = try XCTUnwrap(Double(row[2])), floor = try XCTUnwrap(Double(row[3])),
                    independent = try XCTUnwrap(Double(row[4]))
                XCTAssertLessThan(floor, model, "\(row)")
                XCTAssertLessThan(model, independent, "\(row)")
            }
        }
    }

    func testStochasticInterpolantsQuickReproductionHolds() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("stochastic-interpolants"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 4)
        XCTAssertTrue(result.checks.allSatisfy { $0.verdict == .held }, "\(result.checks)")
    }

    func testSVHPSLQuickReproductionRuns() throws {
        let reproduction = try XCTUnwrap(Reproductions.named("svh-psl"))
        let result = try reproduction.run(budget: .quick, seeds: [0], shouldStop: { false }) { _ in }
        XCTAssertEqual(result.checks.count, 6)
        XCTAssertTrue(result.checks.allSatisfy { $0.measured?.isFinite ?? false }, "\(result.checks)")
        // Even the quick budget's PSL beats random search on ZDT1 (the 0.5 margin needs the full budget).
        XCTAssertLessThan(
            try XCTUnwrap(result.checks.first { $0.name == "ZDT1: PSL-MOBO - random search (median LHD)" }?.measured),
            -0.1)
        XCTAssertLessThan(
            try XCTUnwrap(result.checks.first { $0.name == "ZDT1: SVH-PSL - random search (median LHD)" }?.measured),
            -0.1)
        XCTAssertEqual(result.figures.count, 2)
    }
}
