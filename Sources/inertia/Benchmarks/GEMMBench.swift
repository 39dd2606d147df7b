import ArgumentParser
import Foundation
import Inertia

/// `inertia bench gemm`: sgemm GFLOP/s for square sizes, as `shared/peers/gemm.py` measures numpy
/// and torch, for the pure-Swift kernel and (when installed) OpenBLAS.
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "sgemm GFLOP/s (2 n^3 / time), C = A B with n x n float32 matrices.")

    @Option(name: .long, parsing: .upToNextOption, help: "Matrix sizes n.")
    var sizes: [Int] = [128, 256, 512, 1024, 2048]

    @Option(name: .long, parsing: .upToNextOption, help: "Backends (openblas is skipped when not installed).")
    var backends: [GEMM.Backend] = [.swift, .openBLAS]

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--sizes takes positive sizes") }
    }

    func run() {
        let loadStart = BenchEnvironment.loadAverage
        var results: [(String, JSONValue)] = []
        let savedThreads = Parallel.threadCount
        for backend in backends {
            if backend == .openBLAS && !GEMM.isOpenBLASAvailable {
                results.append(("inertia_openblas", .object([("error", "libopenblas.so.0 not installed")])))
                continue
            }
            var figures: [(String, JSONValue)] = []
            for threads in options.threads {
                Parallel.threadCount = threads
                for n in sizes {
                    var rng = PhiloxGenerator(seed: 0)
                    let a = Tensor.normal([n, n], using: &rng), b = Tensor.normal([n, n], using: &rng)
                    var c = [Float](repeating: 0, count: n * n)
                    let r = a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                measure(minTime: options.minTime) {
                                    GEMM.sgemm(
                                        transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1,
                                        a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n, beta: 0,
                                        c: pc.baseAddress!, ldc: n, backend: backend)
                                }
                            }
                        }
                    }
                    let flops = 2 * Double(n) * Double(n) * Double(n)
                    figures.append(
                        (
                            "\(threads)thr_n\(n)",
                            .object([
                                ("gflops", .number(flops / r.median / 1e9)),
                                ("gflops_best", .number(flops / r.min / 1e9)),
                            ])
                        ))
                    FileHandle.standardError.write(
                        Data(
                            "gemm \(backend.rawValue) \(threads) thr n=\(n): \(String(format: "%.1f", flops / r.min / 1e9)) GFLOP/s best\n"
                                .utf8))
                }
            }
            results.append(("inertia_\(backend.rawValue)", .object(figures)))
        }
        Parallel.threadCount = savedThreads
        print(
            BenchEnvironment.line(
                bench: "gemm", threads: options.threads, loadStart: loadStart, results: .object(results),
                extra: [("sizes", .array(sizes.map { .number(Double($0)) }))]))
    }
}

extension GEMM.Backend: ExpressibleByArgument {}
