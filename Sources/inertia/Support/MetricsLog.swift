import Foundation
import Inertia

/// Metrics as JSON lines, flushed after each line (nowhere without a path: a data-parallel
/// run's ranks other than 0).
final class MetricsLog {
    let handle: FileHandle?

    /// A new log, or with `keepingStepsThrough` the existing one cut back to the lines of steps up
    /// to that step (a run resumed from its checkpoint appends after the checkpoint's step, not
    /// after the steps the interrupted run logged past it).
    init(path: String?, keepingStepsThrough lastStep: Int? = nil) throws {
        guard let path else {
            handle = nil
            return
        }
        var kept = Data()
        if let lastStep, let old = FileManager.default.contents(atPath: path) {
            for line in old.split(separator: UInt8(ascii: "\n")) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let step = (object["step"] as? NSNumber)?.intValue, step <= lastStep
                else { continue }
                kept.append(contentsOf: line)
                kept.append(UInt8(ascii: "\n"))
            }
        }
        do {
            try AtomicFile.write(kept, to: path)
        } catch {
            throw CommandFailure("\(error)")
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw CommandFailure("cannot open \(path) for writing")
        }
        h.seekToEndOfFile()
        handle = h
    }

    func write(_ fields: [(String, JSONValue)]) {
        handle?.write(Data((JSONValue.object(fields).text + "\n").utf8))
    }
}

/// A one-line progress bar on a terminal; a plain log line every few seconds otherwise; nothing
/// when disabled.
final class ProgressDisplay {
    let isTerminal = isatty(STDOUT_FILENO) != 0
    let isEnabled: Bool
    var lastPlain = 0.0
    var onLine = false

    init(isEnabled: Bool = true) { self.isEnabled = isEnabled }

    func update(_ r: StepReport) {
        guard isEnabled else { return }
        let fraction = Double(r.step) / Double(max(r.totalSteps, 1))
        let eta = r.elapsedSeconds / max(fraction, 1e-9) * (1 - fraction)
        let accuracy = r.accuracy.map { String(format: " acc %.3f", $0) } ?? ""
        let text = String(
            format: "epoch %d  step %d/%d  loss %.4f%@  %.0f samples/s  ETA %.0fs", r.epoch + 1, r.step, r.totalSteps,
            r.loss, accuracy, r.samplesPerSecond, eta)
        if isTerminal {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            print("\r[\(bar)] \(text)\u{1B}[K", terminator: "")
            fflush(stdout)
            onLine = true
        } else if r.elapsedSeconds - lastPlain >= 2 || r.step == r.totalSteps {
            lastPlain = r.elapsedSeconds
            print(text)
        }
    }

    func finishLine() {
        if onLine {
            print("")
            onLine = false
        }
    }
}
