import ArgumentParser
import Foundation
import Inertia

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print one JSON line each, with the fields of the peer scripts in shared/peers.",
        subcommands: [
            GEMMBench.self, ElementwiseBench.self, OptimBench.self, TrainBench.self, NewtonSchulzBench.self,
            MKORBench.self, OTBench.self, CBOBench.self, SampleBench.self, LightSBBench.self, JVPBench.self,
            FlowMapBench.self, MeanFlowBench.self, WoSBench.self, SIMPBench.self, MoEBench.self, AttentionBench.self,
        ]
    )
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Option(name: .long, parsing: .upToNextOption, help: "Thread counts to measure, in order.")
    var threads: [Int] = [2, 1]

    @Option(name: .long, help: "Least seconds of timed repetitions per case.")
    var minTime: Double = 0.5

    func validate() throws {
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads takes positive counts") }
        guard minTime > 0 else { throw ValidationError("--min-time must be positive") }
    }
}

/// Timing as `peerutil.bench`: warm-up calls, then at least `minReps` timed calls and more until
/// `minTime` seconds have passed (at most `maxReps`). Returns the median and the minimum in seconds.
func measure(
    warmup: Int = 3, minReps: Int = 7, minTime: Double = 0.5, maxReps: Int = 2000, _ body: () -> Void
)
    -> (median: Double, min: Double, reps: Int)
{
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(minTime * 1e9)
    while times.count < minReps || (DispatchTime.now().uptimeNanoseconds < deadline && times.count < maxReps) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
    }
    times.sort()
    return (times[times.count / 2], times[0], times.count)
}

enum BenchEnvironment {
    static var cpuModel: String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
                ?? "unknown"
        }
        return "unknown"
    }

    static var loadAverage: JSONValue {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return .null }
        return .array(loads.map { .number(($0 * 100).rounded() / 100) })
    }

    /// The peers' envelope: bench name, date, machine, versions, load, then the results.
    static func line(
        bench: String, threads: [Int], loadStart: JSONValue, results: JSONValue, extra: [(String, JSONValue)] = []
    )
        -> String
    {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let simd: JSONValue = .string(Kernels.instructionSet.rawValue)
        let pairs: [(String, JSONValue)] =
            [
                ("bench", .string(bench)),
                ("date", .string(formatter.string(from: Date()))),
                ("cpu", .string(cpuModel)),
                ("nproc", .number(Double(ProcessInfo.processInfo.activeProcessorCount))),
                ("versions", .object([("inertia", .string(InertiaVersion.string)), ("kernels", simd)])),
                ("threads", .array(threads.map { .number(Double($0)) })),
                ("loadavg_start", loadStart),
                ("loadavg_end", loadAverage),
            ] + extra + [("results", results)]
        return JSONValue.object(pairs).text
    }
}
