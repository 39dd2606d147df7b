import Foundation
import XCTest

/// End-to-end runs of the built `inertia` executable.
final class CLITests: XCTestCase {
    var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("inertia")
    }

    var candidates: [URL] {
        let bundle = Bundle(for: CLITests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("inertia")
        return [bundle, executable]
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let binary = try XCTUnwrap(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }, "inertia executable not built")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testTrainOnBuiltInDataWritesRunFolderAndResumes() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-cli-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let first = try run(["train", "--epochs", "2", "--out", out, "--threads", "1"])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("test accuracy"), first.output)
        for file in ["metrics.jsonl", "checkpoint.safetensors", "model.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let lines = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("\"event\":\"step\"") }.count, 2 * 45)
        for line in lines { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8))) }
        let resumed = try run(["train", "--epochs", "3", "--out", out, "--resume", "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resumed at epoch 3, step 90"), resumed.output)
    }

    func testBadInputGivesAClearErrorAndNonZeroStatus() throws {
        let badRate = try run(["train", "--lr=-1"])
        XCTAssertNotEqual(badRate.status, 0)
        XCTAssertTrue(badRate.output.contains("--lr must be a positive number"), badRate.output)
        let missing = try run(["train", "--data", "/nonexistent/data.csv"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("not found. It is neither a built-in dataset"), missing.output)
        let noCheckpoint = try run(["train", "--resume", "--out", "/tmp/inertia-no-such-run-\(getpid())"])
        XCTAssertNotEqual(noCheckpoint.status, 0)
        XCTAssertTrue(noCheckpoint.output.contains("no checkpoint"), noCheckpoint.output)
    }

    /// Labels that are not class indices (infinite, huge) and non-finite features are named
    /// errors with exit status 1, not crashes; a training set with no batch is refused, not a hang.
    func testMalformedCSVValuesAndEmptyTrainingSetsAreNamedErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-csv-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cases: [(String, String, String)] = [
            ("inf-label", "0.1,0.2,0\n0.3,0.4,inf\n0.5,0.6,1\n", "line 2, column 3: inf is not a finite number"),
            ("huge-label", "0.1,0.2,0\n0.3,0.4,1e19\n", "data row 2: the last column must hold class indices"),
            ("nan-feature", "0.1,0.2,0\n0.3,nan,1\n", "line 2, column 2: nan is not a finite number"),
            ("one-row", "0.1,0.2,0\n", "the training set has no batches"),
            (
                "typo-first-row", "0.1,O.2,0\n0.3,0.4,1\n0.5,0.6,1\n",
                "line 1, column 2: 'O.2' is not a number (a header line holds no numbers)"
            ),
        ]
        for (name, text, message) in cases {
            let path = folder + "/\(name).csv"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try run(["train", "--data", path, "--epochs", "1", "--out", folder + "/run-\(name)"])
            XCTAssertEqual(r.status, 1, "\(name): \(r.output)")
            XCTAssertTrue(r.output.contains(message), "\(name): \(r.output)")
        }
    }

    /// Every registered optimizer trains from the command line (the matrix ones come routed), and
    /// hyper-parameters given as text are checked against their declared kinds.
    func testEveryRegisteredOptimizerTrainsAndBadSettingsAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-optimizers-\(getpid())")
            .path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let listing = try run(["optimizers", "--json"])
        let names = listing.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["name"] as? String
        }
        XCTAssertEqual(names.count, 19, listing.output)
        for name in names {
            let r = try run([
                "train", "--optimizer", name, "--epochs", "1", "--limit", "64", "--out", folder + "/\(name)",
            ])
            XCTAssertEqual(r.status, 0, "\(name): \(r.output)")
            XCTAssertTrue(r.output.contains("optimizer \(name)"), "\(name): \(r.output)")
        }
        let compare = try run([
            "compare", "--optimizers", "sgd@0.1:momentum=0.9,muon", "--seeds", "1", "--epochs", "1", "--quiet",
            "--out", folder + "/compare",
        ])
        XCTAssertEqual(compare.status, 0, compare.output)
        XCTAssertTrue(compare.output.contains("muon"), compare.output)
        let bad: [([String], String)] = [
            (["train", "--optimizer", "lion-k", "--set", "kernel=l3"], "kernel expects one of sign, l2, linf, lp"),
            (
                ["train", "--optimizer", "sgd", "--set", "nesterov=perhaps"],
                "nesterov expects true or false, got 'perhaps'"
            ),
            (["train", "--optimizer", "adam", "--momentum", "0.9"], "unknown hyper-parameter 'momentum'"),
            (["compare", "--optimizers", "sgd:momentum"], "'momentum' is not key=value"),
        ]
        for (arguments, message) in bad {
            let r = try run(arguments + ["--out", folder + "/bad"])
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.output)")
            XCTAssertTrue(r.output.contains(message), "\(arguments): \(r.output)")
        }
    }

    func testCompareAndReproduceWriteReports() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-compare-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let compare = try run([
            "compare", "--optimizers", "sgd@0.1,adam", "--seeds", "2", "--epochs", "1", "--quiet", "--out", out,
        ])
        XCTAssertEqual(compare.status, 0, compare.output)
        XCTAssertTrue(compare.output.contains("sgd lr=0.1") && compare.output.contains("adam"), compare.output)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 3)
        XCTAssertFalse(html.contains("Partial report"))
        let list = try run(["reproduce", "--list", "--out", out])
        XCTAssertEqual(list.status, 0)
        XCTAssertTrue(list.output.contains("classic-momentum"), list.output)
        let json = try run([
            "reproduce", "anderson-acceleration", "--budget", "quick", "--json", "--quiet", "--out", out,
        ])
        XCTAssertEqual(json.status, 0, json.output)
        let line = try XCTUnwrap(json.output.split(separator: "\n").first { $0.hasPrefix("{") })
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["slug"] as? String, "anderson-acceleration")
        // Experiments A and B hold; C (CFG-MP's projection on the guidance toy) is measured and decides the verdict.
        let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.count, 4)
        XCTAssertEqual(checks.prefix(3).filter { $0["verdict"] as? String == "held" }.count, 3, "\(checks)")
        let guidance = try XCTUnwrap(checks.last)
        XCTAssertEqual(guidance["source"] as? String, "spec 5 (C)")
        XCTAssertNotNil(guidance["measured"] as? Double, "\(guidance)")
        XCTAssertEqual(object["verdict"] as? String, guidance["verdict"] as? String)
        // The summary records the commit the verdict came from and the run's wall time; --list shows both.
        let summaryData = try Data(contentsOf: URL(fileURLWithPath: out + "/anderson-acceleration/summary.json"))
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: summaryData) as? [String: Any])
        XCTAssertGreaterThan(summary["wall_seconds"] as? Double ?? 0, 0)
        let commit = try XCTUnwrap(summary["commit"] as? String, "built from a git checkout, the commit is known")
        XCTAssertEqual(commit.count, 40)
        let listed = try run(["reproduce", "--list", "--json", "--out", out])
        let row = try XCTUnwrap(
            listed.output.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.first { $0["slug"] as? String == "anderson-acceleration" })
        XCTAssertTrue((row["commit"] as? String ?? "").hasPrefix(String(commit.prefix(7))), "\(row)")
        XCTAssertNotEqual(row["wall_time"] as? String, "-", "\(row)")
        XCTAssertNotEqual(row["sources_changed_since"] as? String, "unknown", "\(row)")
        let unknown = try run(["reproduce", "no-such-paper"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("unknown reproduction 'no-such-paper'"), unknown.output)
    }

    func testVersionAndBenchPrintJSON() throws {
        let version = try run(["version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.output.contains("gemm backend"))
        let bench = try run([
            "bench", "gemm", "--sizes", "32", "--threads", "1", "--min-time", "0.01", "--backends", "swift",
        ])
        XCTAssertEqual(bench.status, 0, bench.output)
        let line = try XCTUnwrap(bench.output.split(separator: "\n").first { $0.hasPrefix("{") })
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(json["bench"] as? String, "gemm")
        let results = try XCTUnwrap(json["results"] as? [String: Any])
        let swift = try XCTUnwrap(results["inertia_swift"] as? [String: Any])
        let figure = try XCTUnwrap(swift["1thr_n32"] as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(figure["gflops_best"] as? Double), 0)
    }
}

extension CLITests {
    func testOptimalTransportCommandSolvesWritesThePlanAndRejectsBadFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-ot-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "x,y\n0,0\n1,0\n0,1\n".write(toFile: folder + "/a.csv", atomically: true, encoding: .utf8)
        try "0.1,0.1\n1,0.2\n0.2,0.9\n".write(toFile: folder + "/b.csv", atomically: true, encoding: .utf8)
        var costs: [Double] = []
        for method in ["sinkhorn-log", "sns", "anderson"] {
            let r = try run([
                "ot", "--source", folder + "/a.csv", "--target", folder + "/b.csv", "--reg", "0.05", "--method", method,
                "--json",
            ])
            XCTAssertEqual(r.status, 0, r.output)
            let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("{") })
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            costs.append(try XCTUnwrap(json["cost"] as? Double))
        }
        // The same entropic optimum by three methods (Sinkhorn stalls near 5e-8 on this nearly diagonal kernel).
        XCTAssertEqual(costs[1], costs[2], accuracy: 1e-8)
        XCTAssertEqual(costs[0], costs[1], accuracy: 1e-6)
        let plan = folder + "/plan.csv"
        let withPlan = try run([
            "ot", "--source", folder + "/a.csv", "--target", folder + "/b.csv", "--reg", "0.01", "--plan", plan,
        ])
        XCTAssertEqual(withPlan.status, 0, withPlan.output)
        let rows = try String(contentsOfFile: plan, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 3)
        try "1,2\n3\n".write(toFile: folder + "/bad.csv", atomically: true, encoding: .utf8)
        let bad = try run(["ot", "--source", folder + "/bad.csv", "--target", folder + "/b.csv"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("bad.csv line 2: 1 values, the rows before have 2"), bad.output)
        try "0.5\n0.7\n0.1\n".write(toFile: folder + "/w.csv", atomically: true, encoding: .utf8)
        try "0,1,1\n1,0,1\n1,1,0\n".write(toFile: folder + "/c.csv", atomically: true, encoding: .utf8)
        let unequal = try run(["ot", "--cost", folder + "/c.csv", "--source", folder + "/w.csv"])
        XCTAssertNotEqual(unequal.status, 0)
        XCTAssertTrue(unequal.output.contains("different totals"), unequal.output)
    }

    func testTrainWithMKORPreconditioning() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-mkor-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try run([
            "train", "--epochs", "1", "--optimizer", "mkor", "--set", "base=sgd", "--lr", "0.05", "--out", out,
            "--threads", "1",
        ])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("optimizer mkor:") && r.output.contains("inv_freq=10"), r.output)
        let resumed = try run([
            "train", "--epochs", "2", "--optimizer", "mkor", "--set", "base=sgd", "--lr", "0.05", "--out", out,
            "--resume",
            "--threads", "1",
        ])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let plain = try run(["train", "--epochs", "2", "--out", out, "--resume", "--threads", "1"])
        XCTAssertNotEqual(plain.status, 0, "an MKOR checkpoint does not load into a plain optimizer")
        // The base must be a registered optimizer that needs no model; its own settings are checked by it.
        for (setting, message) in [
            ("base=mkor", "mkor: invalid hyper-parameter: base 'mkor' is not an optimizer it can wrap"),
            ("momentum=fast", "sgd: invalid hyper-parameter: momentum expects a number, got 'fast'"),
        ] {
            let bad = try run(["train", "--optimizer", "mkor", "--set", setting, "--out", out + "-bad"])
            XCTAssertEqual(bad.status, 64, bad.output)
            XCTAssertTrue(bad.output.contains(message), bad.output)
        }
    }
}

extension CLITests {
    func testPSLCommandWritesThePointsTheLearnedSetAndAReport() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-psl-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try run(["psl", "--problem", "zdt1", "--iterations", "2", "--steps", "40", "--out", out])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("svh on zdt1 (8 variables, 2 objectives): 18 evaluations"), r.output)
        let evaluated = try String(contentsOfFile: out + "/evaluated.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(evaluated.first, "x1,x2,x3,x4,x5,x6,x7,x8,f1,f2")
        XCTAssertEqual(evaluated.count, 19)
        let front = try String(contentsOfFile: out + "/front.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(front.count, 100)
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as? [String: Any]
        XCTAssertNotNil(summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.html"))
        let bad = try run(["psl", "--problem", "dtlz2", "--objectives", "4"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("2 or 3 objectives"), bad.output)
    }

    func testCBOCommandSolvesAckleyAndWritesItsSummary() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-cbo-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try run([
            "cbo", "--function", "ackley", "--dim", "5", "--particles", "50", "--runs", "4", "--iterations", "1500",
            "--shift", "1", "--out", out, "--json",
        ])
        XCTAssertEqual(r.status, 0, r.output)
        let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("{") })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(json["success_rate"] as? Double, 1)
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as? [String: Any]
        XCTAssertEqual((summary?["results"] as? [Any])?.count, 4)
        let bad = try run(["cbo", "--low", "2", "--high", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("--low must be below --high"), bad.output)
    }
}

extension CLITests {
    /// SIGINT and SIGTERM stop at the next step, write a partial report that counts only the
    /// finished runs, and exit with 128 + the signal.
    func testInterruptWritesAPartialReport() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-interrupt-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let binary = try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let complete = try run([
            "compare", "--optimizers", "sgd", "--seeds", "1", "--epochs", "1", "--quiet", "--out", out,
        ])
        XCTAssertEqual(complete.status, 0, complete.output)
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let process = Process()
            process.executableURL = binary
            process.arguments = [
                "compare", "--epochs", "100000", "--seeds", "3", "--quiet", "--out", out, "--threads", "1",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: 1.5)
            kill(process.processIdentifier, signal)
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, status, output)
            XCTAssertTrue(output.contains("the report covers 0 of 15 runs"), output)
            let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
            XCTAssertTrue(html.contains("Partial report"), "the interrupted report says it is partial")
            XCTAssertFalse(html.contains("Complete."), "the earlier complete report is gone")
        }
    }

    /// `--out` is held by one run at a time, a file is not a folder, temporaries of an interrupted
    /// write are removed, and a resumed run's metrics continue from the checkpoint's step.
    func testRunFoldersAreLockedCleanedAndResumedConsistently() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-runfolder-\(getpid())").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let lock = open(out + "/.inertia.lock", O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(lock, LOCK_EX | LOCK_NB), 0)
        _ = "4242\n".withCString { pwrite(lock, $0, 5, 0) }
        let refused = try run(["train", "--epochs", "1", "--out", out])
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("is in use by another inertia run (pid 4242)"), refused.output)
        XCTAssertFalse(refused.output.contains("Usage:"), refused.output)
        close(lock)
        let stale = out + "/.checkpoint.safetensors.tmp-1-2"
        XCTAssertTrue(FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3])))
        XCTAssertEqual(try run(["train", "--epochs", "1", "--out", out]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "the stale temporary file is removed")
        // Steps the checkpoint never saw (a run killed after logging them) are cut on resume.
        let metrics = out + "/metrics.jsonl"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: metrics))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"event":"step","step":46,"loss":9}"#.utf8 + [10]))
        try handle.close()
        let resumed = try run(["train", "--epochs", "2", "--resume", "--out", out])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let steps = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).flatMap {
                $0["event"] as? String == "step" ? $0["step"] as? Int : nil
            }
        }
        XCTAssertEqual(steps, Array(1...90))
        let failures: [([String], String)] = [
            (["train", "--epochs", "2", "--resume", "--out", out], "nothing is left to train (raise --epochs)"),
            (
                ["train", "--epochs", "3", "--resume", "--batch-size", "16", "--out", out],
                "written with batch size 32, this run uses 16"
            ),
            (["train", "--epochs", "1", "--out", metrics], "is a file, not a folder"),
            (["train", "--epochs", "1", "--init-from", out, "--out", out + "/other"], "it is a directory, not a file"),
        ]
        for (arguments, message) in failures {
            let r = try run(arguments)
            XCTAssertEqual(r.status, 1, "\(arguments): \(r.output)")
            XCTAssertTrue(r.output.contains(message), "\(arguments): \(r.output)")
            XCTAssertFalse(r.output.contains("Usage:"), "\(arguments): \(r.output)")
        }
    }
}

extension CLITests {
    /// The compare report and a reproduction's report rendered by headless Chromium (skipped where
    /// it is not installed): each screenshot must carry far more than a blank page's (tables, curves,
    /// bars and a heat map).
    func testReportRendersInAHeadlessBrowser() throws {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let browser else { throw XCTSkip("no chromium on this machine") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-shot-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let compare = try run([
            "compare", "--epochs", "2", "--seeds", "2", "--quiet", "--out", folder + "/run", "--threads", "1",
        ])
        XCTAssertEqual(compare.status, 0, compare.output)
        try "<html><body></body></html>".write(toFile: folder + "/blank.html", atomically: true, encoding: .utf8)
        func screenshot(_ page: String, _ png: String) throws -> Int {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: browser)
            process.arguments = [
                "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,3000", "--screenshot=\(png)",
                "file://\(page)",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return (try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        }
        let report = try screenshot(folder + "/run/report.html", folder + "/report.png")
        let blank = try screenshot(folder + "/blank.html", folder + "/blank.png")
        XCTAssertGreaterThan(blank, 0)
        XCTAssertGreaterThan(report, 4 * blank, "report screenshot \(report) bytes, blank page \(blank)")
        // A reproduction's report, whose figures include a heat map's embedded image.
        let reproduce = try run([
            "reproduce", "consensus-based-optimization", "--budget", "quick", "--quiet", "--out", folder + "/reproduce",
        ])
        XCTAssertTrue(reproduce.output.contains("report:"), reproduce.output)
        let reproduction = try screenshot(
            folder + "/reproduce/consensus-based-optimization/report.html", folder + "/reproduction.png")
        XCTAssertGreaterThan(reproduction, 4 * blank, "reproduction screenshot \(reproduction) bytes, blank \(blank)")
    }
}

extension CLITests {
    /// Without an MPI launcher the world is one process, and every collective checks out.
    func testDistributedCheckPassesInOneProcess() throws {
        let check = try run(["distributed", "check", "--length", "17"])
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("ranks 1"), check.output)
        XCTAssertTrue(check.output.contains("ok   every rank passed every check"), check.output)
        XCTAssertTrue(check.output.contains("ok   every rank passed every training check"), check.output)
        XCTAssertFalse(check.output.contains("FAIL"), check.output)

        // `train --distributed` in a build without MPI says how to get one, before touching --out.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-dp-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let train = try run(["train", "--distributed", "--epochs", "1", "--out", out])
        if !check.output.contains("MPI built in") {
            XCTAssertNotEqual(train.status, 0)
            XCTAssertTrue(train.output.contains("--distributed: this build has no MPI"), train.output)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }

    func testSampleCommandWritesSamplesAndAReport() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-sample-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let mixture = try run(["sample", "--count", "500", "--steps", "20", "--compare-samplers", "--out", out])
        XCTAssertEqual(mixture.status, 0, mixture.output)
        XCTAssertTrue(mixture.output.contains("euler-maruyama"), mixture.output)
        let rows = try String(contentsOfFile: out + "/samples.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 501)
        XCTAssertTrue(try String(contentsOfFile: out + "/report.html", encoding: .utf8).contains("<circle"))
        let moons = try run([
            "sample", "--source", "moons", "--train-steps", "30", "--count", "200", "--steps", "10", "--label", "0",
            "--guidance", "2", "--out", out,
        ])
        XCTAssertEqual(moons.status, 0, moons.output)
        let bad = try run(["sample", "--label", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("--label needs --source moons"), bad.output)
        // CFG-MP+ on the trained moons model: projected Euler steps, named in the summary.
        let projected = try run([
            "sample", "--source", "moons", "--train-steps", "30", "--count", "200", "--steps", "10", "--label", "1",
            "--guidance", "4", "--method", "cfg-mp", "--projection", "2", "--anderson", "--out", out,
        ])
        XCTAssertEqual(projected.status, 0, projected.output)
        XCTAssertTrue(projected.output.contains("cfg-mp+ from moons"), projected.output)
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as? [String: Any]
        XCTAssertEqual(summary?["sampler"] as? String, "cfg-mp+")
        XCTAssertEqual(summary?["projection"] as? Int, 2)
        let unguided = try run(["sample", "--source", "moons", "--method", "cfg-mp"])
        XCTAssertNotEqual(unguided.status, 0)
        XCTAssertTrue(unguided.output.contains("--method cfg-mp needs --label"), unguided.output)
        let misplaced = try run(["sample", "--source", "moons", "--label", "1", "--projection", "2"])
        XCTAssertNotEqual(misplaced.status, 0)
        XCTAssertTrue(misplaced.output.contains("options of --method cfg-mp"), misplaced.output)
        // PFGM++: the moons model trained on the D = 4 kernel, sampled from its prior with noise injected.
        let pfgm = try run([
            "sample", "--source", "moons", "--train-steps", "30", "--count", "200", "--steps", "9", "--method",
            "pfgm++", "--augmentation", "4", "--noise-injection", "0.1", "--out", out,
        ])
        XCTAssertEqual(pfgm.status, 0, pfgm.output)
        XCTAssertTrue(pfgm.output.contains("pfgm++ D=4 from moons"), pfgm.output)
        let pfgmSummary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as? [String: Any]
        XCTAssertEqual(pfgmSummary?["method"] as? String, "pfgm++")
        XCTAssertEqual(pfgmSummary?["augmentation"] as? String, "4")
        XCTAssertEqual(
            try String(contentsOfFile: out + "/samples.csv", encoding: .utf8).split(separator: "\n").count, 201)
        // k-Diff: a learned-k flow on the mixture embedded in 16 dimensions, projected back.
        let flow = try run([
            "sample", "--method", "k-diff", "--ambient", "16", "--train-steps", "40", "--count", "150", "--steps", "10",
            "--out", out,
        ])
        XCTAssertEqual(flow.status, 0, flow.output)
        XCTAssertTrue(flow.output.contains("k-diff learned from mixture"), flow.output)
        let flowSummary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as? [String: Any]
        XCTAssertEqual(flowSummary?["ambient"] as? Int, 16)
        XCTAssertNotNil(flowSummary?["k"] as? Double)
        XCTAssertEqual(
            try String(contentsOfFile: out + "/samples.csv", encoding: .utf8).split(separator: "\n").first, "x,y")
        // LightSB: a bridge from N(0, I) to the mixture, exact plan samples and the bridge SDE.
        for extra in [[], ["--bridge-steps", "20"]] {
            let bridge = try run(
                [
                    "sample", "--method", "lightsb", "--components", "8", "--train-steps", "60", "--count", "100",
                    "--out", out,
                ]
                    + extra)
            XCTAssertEqual(bridge.status, 0, bridge.output)
            XCTAssertTrue(bridge.output.contains("lightsb eps=0.1 from mixture"), bridge.output)
        }
        // Flow matching on the mixture's kinetic-optimal path (and on Cond-OT).
        for schedule in ["ko", "cond-ot"] {
            let ko = try run([
                "sample", "--method", "kinetic-optimal", "--schedule", schedule, "--train-steps", "30", "--count",
                "100",
                "--steps", "4", "--out", out,
            ])
            XCTAssertEqual(ko.status, 0, ko.output)
            XCTAssertTrue(ko.output.contains("kinetic-optimal \(schedule) from mixture"), ko.output)
        }
        // A flow map in one jump (LSD) and plain flow matching's Euler steps.
        for (distillation, steps) in [("lsd", "1"), ("fm", "2")] {
            let map = try run([
                "sample", "--method", "flow-map", "--distillation", distillation, "--train-steps", "20", "--count",
                "100", "--steps", steps, "--out", out,
            ])
            XCTAssertEqual(map.status, 0, map.output)
            XCTAssertTrue(
                map.output.contains("flow-map \(distillation) from mixture (flow map), \(steps) steps"), map.output)
        }
        for target in ["plain", "mp1"] {
            let mean = try run([
                "sample", "--method", "meanflow", "--meanflow-target", target, "--train-steps", "20", "--count", "100",
                "--steps", "1", "--out", out,
            ])
            XCTAssertEqual(mean.status, 0, mean.output)
            XCTAssertTrue(mean.output.contains("meanflow \(target) from mixture (mean flow), 1 steps"), mean.output)
        }
        for (arguments, message) in [
            (["--meanflow-target", "mp1"], "--meanflow-target is an option of --method meanflow"),
            (["--distillation", "lsd"], "--distillation is an option of --method flow-map"),
            (["--method", "flow-map", "--steps", "0"], "(>= 1 for --method flow-map and meanflow)"),
            (["--schedule", "ko"], "--schedule is an option of --method kinetic-optimal"),
            (["--method", "lightsb", "--epsilon", "0"], "--epsilon must be > 0"),
            (["--epsilon", "0.5"], "options of --method lightsb"),
            (["--method", "k-diff", "--ambient", "1"], "--ambient must be in 2...4096"),
            (["--method", "k-diff", "--source", "moons", "--label", "0"], "trains an unconditional flow"),
            (["--target", "x"], "options of --method k-diff"),
            (["--method", "pfgm++"], "--method pfgm++ needs --source moons"),
            (["--source", "moons", "--method", "pfgm++", "--augmentation", "0"], "--augmentation takes a number > 0"),
            (["--source", "moons", "--augmentation", "4"], "options of --method pfgm++"),
        ] {
            let refused = try run(["sample"] + arguments)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.output.contains(message), refused.output)
        }
    }

    /// Every sampler family plugs into one option design: `--sampler NAME --set key=value`, listed
    /// by `inertia samplers`; bad names and settings are usage errors that name them.
    func testEverySamplerOfTheRegistryRunsFromSample() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-samplers-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let listed = try run(["samplers", "--json"])
        XCTAssertEqual(listed.status, 0, listed.output)
        let entries = try listed.output.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(
            Set(entries.compactMap { $0["family"] as? String }),
            ["diffusion solvers", "heavy-ball sampling", "stochastic interpolants"])
        for entry in entries {
            let name = try XCTUnwrap(entry["name"] as? String)
            let options = try XCTUnwrap(entry["options"] as? [[String: Any]])
            let settings = options.flatMap { ["--set", "\($0["name"]!)=\($0["default"]!)"] }
            let r = try run(["sample", "--sampler", name, "--steps", "12", "--count", "100", "--out", out] + settings)
            XCTAssertEqual(r.status, 0, "\(name): \(r.output)")
            XCTAssertTrue(r.output.contains("\(name) from mixture"), r.output)
        }
        let failures: [([String], String)] = [
            (["--sampler", "rk5"], "unknown sampler 'rk5' (available: euler"),
            (["--sampler", "ddim", "--set", "eta=2"], "ddim: eta must be a number in 0.0...1.0, got 2.0"),
            (["--sampler", "hb", "--set", "beta=fast"], "--set takes name=number, got 'beta=fast'"),
            (["--sampler", "interpolant-rk4", "--steps", "3"], "interpolant-rk4 needs at least 4 network evaluations"),
        ]
        for (arguments, message) in failures {
            let r = try run(["sample", "--out", out] + arguments)
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.output)")
            XCTAssertTrue(r.output.contains(message), "\(arguments): \(r.output)")
        }
    }
}

extension CLITests {
    /// NaN and infinite options are usage errors naming the option; a solver that ends far from a
    /// feasible answer, and runtime failures, exit 1 with the reason and no usage line.
    func testNonFiniteOptionsAndInfeasibleResultsFailLoudly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-finite-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let unused = folder + "/unused"
        let usage: [([String], String)] = [
            (["cbo", "--dt", "inf", "--out", unused], "--dt must be a finite number, got inf"),
            (["psl", "--reference", "nan", "--out", unused], "--reference must be a finite number, got nan"),
            (["sample", "--guidance", "nan", "--out", unused], "--guidance must be a finite number, got nan"),
            (["ot", "--cost", "c.csv", "--reg", "inf"], "--reg must be a finite number, got inf"),
            (["train", "--clip", "inf", "--out", unused], "--clip must be a finite number, got inf"),
            (["compare", "--lr-grid", "1,inf", "--out", unused], "--lr-grid takes positive numbers, got 'inf'"),
        ]
        for (arguments, message) in usage {
            let r = try run(arguments)
            XCTAssertEqual(r.status, 64, "\(arguments): \(r.output)")
            XCTAssertTrue(r.output.contains(message), "\(arguments): \(r.output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: unused), "a refused command writes nothing")
        // 30 points against 30 others at reg 1e-6: SNS's 50 Newton steps end with an L1 marginal error near 84.
        func cloud(_ a: Double, _ b: Double) -> String {
            (1...30).map { i in
                "\((Double(i) * a).truncatingRemainder(dividingBy: 1)),\((Double(i) * b).truncatingRemainder(dividingBy: 1))\n"
            }.joined()
        }
        try cloud(0.618_034, 0.414_214).write(toFile: folder + "/x.csv", atomically: true, encoding: .utf8)
        try cloud(0.732_051, 0.236_068).write(toFile: folder + "/y.csv", atomically: true, encoding: .utf8)
        let plan = folder + "/plan.csv"
        let infeasible = try run([
            "ot", "--source", folder + "/x.csv", "--target", folder + "/y.csv", "--method", "sns", "--reg", "1e-6",
            "--max-iterations", "50", "--plan", plan,
        ])
        XCTAssertEqual(infeasible.status, 1, infeasible.output)
        XCTAssertTrue(
            infeasible.output.contains("sns ended far from a transport plan: its L1 marginal error is"),
            infeasible.output)
        XCTAssertTrue(
            infeasible.output.contains("the plan written to \(plan) does not have these marginals"), infeasible.output)
        XCTAssertFalse(infeasible.output.contains("Usage:"), infeasible.output)
        let feasible = try run([
            "ot", "--source", folder + "/x.csv", "--target", folder + "/y.csv", "--method", "sns", "--reg", "0.05",
        ])
        XCTAssertEqual(feasible.status, 0, feasible.output)
        let file = folder + "/x.csv"
        for arguments in [
            ["cbo", "--iterations", "1", "--out", file], ["psl", "--iterations", "0", "--out", file],
            ["sample", "--count", "4", "--out", file],
        ] {
            let r = try run(arguments)
            XCTAssertEqual(r.status, 1, "\(arguments): \(r.output)")
            XCTAssertTrue(r.output.contains("--out \(file) is a file, not a folder"), "\(arguments): \(r.output)")
            XCTAssertFalse(r.output.contains("Usage:"), "\(arguments): \(r.output)")
        }
    }
}

extension CLITests {
    /// `inertia wos` solves the fixture's disk Poisson problem within its standard errors, reads
    /// boundary samples from a CSV, solves on a 3-D box, and refuses bad expressions and points.
    func testWalkOnSpheresCommand() throws {
        let r = try run([
            "wos", "--boundary", "x^2 - y^2", "--source", "4", "--at", "0.3,0.2", "--at=-0.5,0", "--walks", "20000",
            "--json",
        ])
        XCTAssertEqual(r.status, 0, r.output)
        let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("{") })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 2)
        // u = 1 − r² + x² − y²: 0.92 at (0.3, 0.2), 1 at (−0.5, 0).
        for (result, exact) in zip(results, [0.92, 1.0]) {
            let estimate = try XCTUnwrap(result["estimate"] as? Double)
            let error = try XCTUnwrap(result["standard_error"] as? Double)
            XCTAssertLessThan(Swift.abs(estimate - exact), 4 * error + 2e-3, "\(result)")
        }

        // g = x sampled on the unit circle every degree: the harmonic extension is x.
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-wos-\(getpid()).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let rows = (0..<360).map { k -> String in
            let a = Double(k) * Double.pi / 180
            return "\(Foundation.cos(a)),\(Foundation.sin(a)),\(Foundation.cos(a))"
        }
        try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let sampled = try run(["wos", "--boundary-csv", csv, "--at", "0.4,0.1", "--walks", "20000"])
        XCTAssertEqual(sampled.status, 0, sampled.output)
        let row = try XCTUnwrap(sampled.output.split(separator: "\n").first { $0.hasPrefix("(0.4, 0.1)") })
        let fields = row.split(separator: " ").dropFirst(2).compactMap { Double($0) }
        XCTAssertLessThan(Swift.abs(fields[0] - 0.4), 4 * fields[1] + 0.01, String(row))

        let box = try run([
            "wos", "--domain", "box", "--lower", "0,0,0", "--upper", "1,2,1", "--boundary", "x*y - z",
            "--at", "0.5,0.5,0.5", "--walks", "4000", "--json",
        ])
        XCTAssertEqual(box.status, 0, box.output)

        let typo = try run(["wos", "--boundary", "x^2 + q", "--at", "0,0"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.output.contains("unknown name 'q'"), typo.output)
        let outside = try run(["wos", "--boundary", "x", "--at", "2,0"])
        XCTAssertNotEqual(outside.status, 0)
        XCTAssertTrue(outside.output.contains("point 1 (2, 0) is not inside the domain"), outside.output)
        let tooManyAxes = try run(["wos", "--boundary", "z", "--at", "0,0"])
        XCTAssertTrue(tooManyAxes.output.contains("uses z in 2-D"), tooManyAxes.output)
    }
}

extension CLITests {
    /// `inertia topopt` optimises top88's MBB beam, keeps the volume, writes the report, the
    /// summary and the densities, and refuses a load row off the mesh.
    func testTopologyOptimizationCommand() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-topopt-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try run(["topopt", "--nelx", "30", "--nely", "10", "--iterations", "60", "--out", out, "--json"])
        XCTAssertEqual(r.status, 0, r.output)
        let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("{") })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(json["volume"] as? Double), 0.5, accuracy: 5e-3)
        let summary = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
                as? [String: Any])
        let history = try XCTUnwrap(summary["compliance_history"] as? [Double])
        XCTAssertLessThan(history.last!, 0.5 * history.first!, "the design stiffens")
        let densities = try String(contentsOfFile: out + "/densities.csv", encoding: .utf8)
        XCTAssertEqual(densities.split(separator: "\n").count, 10)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.html"))

        let bad = try run(["topopt", "--structure", "cantilever", "--load-row", "11", "--nely", "10"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("--load-row must lie in 0...10"), bad.output)
    }
}
