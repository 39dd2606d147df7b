import ArgumentParser
import Foundation
import Inertia

/// `inertia bench elementwise`: memory bandwidth (STREAM-like copy, triad, read-only sum, as the
/// bandwidth test of `shared/peers/optim_step.py`), one AdamW step (a fused pass, 28 bytes per element)
/// and one AM-AdamW step (two passes: the β sums, then the update, 40 bytes per element) against
/// their triad floors, and the vector `exp` against Foundation's `exp` in a loop.
struct ElementwiseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elementwise", abstract: "Bandwidth, fused AdamW pass and vector exp over n float32 elements.")

    @Option(name: .long, help: "Elements per array.")
    var count: Int = 10_000_000

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard count >= 8 else { throw ValidationError("--count must be at least 8") }
    }

    func run() {
        let loadStart = BenchEnvironment.loadAverage
        let n = count
        var a = [Float](repeating: 0, count: n), b = [Float](repeating: 1, count: n),
            c = [Float](repeating: 2, count: n)
        var rng = PhiloxGenerator(seed: 0)
        let parameter = Parameter(Tensor.normal([n], using: &rng))
        parameter.value.grad = Tensor.normal([n], standardDeviation: 1e-2, using: &rng)
        let parameters: [NamedParameter] = [("p", parameter)]
        let optimizer = try! AdamW()
        let adaptiveMemory = try! AMAdamW()
        let x = Tensor.uniform([n], low: -10, high: 10, using: &rng).scalars
        var y = [Float](repeating: 0, count: n)
        var results: [(String, JSONValue)] = [("n", .number(Double(n)))]
        let savedThreads = Parallel.threadCount
        let bandwidthReps = (warmup: 2, minReps: 10)
        for threads in options.threads {
            Parallel.threadCount = threads
            let copy = b.withUnsafeBufferPointer { pb in
                a.withUnsafeMutableBufferPointer { pa in
                    measure(warmup: bandwidthReps.warmup, minReps: bandwidthReps.minReps, minTime: options.minTime) {
                        ElementwiseKernels.map(
                            AffineKernel(scale: 1, shift: 0), pb.baseAddress!, pa.baseAddress!, count: n)
                    }
                }
            }
            let triad = b.withUnsafeBufferPointer { pb in
                c.withUnsafeBufferPointer { pc in
                    a.withUnsafeMutableBufferPointer { pa in
                        measure(warmup: bandwidthReps.warmup, minReps: bandwidthReps.minReps, minTime: options.minTime)
                        {
                            ElementwiseKernels.zip(
                                TriadKernel(scale: 3), pb.baseAddress!, pc.baseAddress!, pa.baseAddress!, count: n)
                        }
                    }
                }
            }
            precondition(a[0] == 7 && a[n - 1] == 7, "triad computed a wrong value")
            var sink: Float = 0
            let readSum = b.withUnsafeBufferPointer { pb in
                measure(warmup: bandwidthReps.warmup, minReps: bandwidthReps.minReps, minTime: options.minTime) {
                    sink += ReductionKernels.contiguous(.sum, pb.baseAddress!, count: n)
                }
            }
            let adamw = measure(minTime: options.minTime) { optimizer.step(parameters) }
            let amAdamW = measure(minTime: options.minTime) { adaptiveMemory.step(parameters) }
            let vectorExp = x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    measure(minTime: options.minTime) {
                        ElementwiseKernels.map(ExpKernel(), px.baseAddress!, py.baseAddress!, count: n)
                    }
                }
            }
            let foundationExp = x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    measure(warmup: 1, minReps: 3, minTime: options.minTime) {
                        for i in 0..<n { py[i] = Foundation.exp(px[i]) }
                    }
                }
            }
            let triadGBps = 12 * Double(n) / triad.min / 1e9
            let floor = 28 * Double(n) / (triadGBps * 1e9), amFloor = 40 * Double(n) / (triadGBps * 1e9)
            let prefix = "\(threads)thr_"
            results += [
                (prefix + "copy_GBps", .number(8 * Double(n) / copy.min / 1e9)),
                (prefix + "triad_GBps", .number(triadGBps)),
                (prefix + "read_sum_GBps", .number(4 * Double(n) / readSum.min / 1e9)),
                (prefix + "adamw_ns_per_param", .number(1e9 * adamw.median / Double(n))),
                (prefix + "adamw_ns_per_param_min", .number(1e9 * adamw.min / Double(n))),
                (prefix + "adamw_eff_GBps_best", .number(28 * Double(n) / adamw.min / 1e9)),
                (prefix + "adamw_over_triad_floor", .number(adamw.min / floor)),
                (prefix + "am_adamw_ns_per_param_min", .number(1e9 * amAdamW.min / Double(n))),
                (prefix + "am_adamw_over_triad_floor", .number(amAdamW.min / amFloor)),
                (prefix + "am_adamw_over_adamw", .number(amAdamW.min / adamw.min)),
                (prefix + "exp_ns_per_element", .number(1e9 * vectorExp.min / Double(n))),
                (prefix + "foundation_exp_ns_per_element", .number(1e9 * foundationExp.min / Double(n))),
                (prefix + "exp_speedup_over_foundation", .number(foundationExp.min / vectorExp.min)),
            ]
            FileHandle.standardError.write(
                Data(
                    String(
                        format:
                            "elementwise %d thr: triad %.1f GB/s, AdamW %.3f ns/param (%.2fx the triad floor), AM-AdamW %.3f ns/param (%.2fx its 40-byte floor, %.2fx AdamW), exp %.2fx Foundation (sink %g)\n",
                        threads, triadGBps, 1e9 * adamw.min / Double(n), adamw.min / floor,
                        1e9 * amAdamW.min / Double(n), amAdamW.min / amFloor, amAdamW.min / adamw.min,
                        foundationExp.min / vectorExp.min, sink
                    ).utf8))
        }
        Parallel.threadCount = savedThreads
        print(
            BenchEnvironment.line(
                bench: "elementwise", threads: options.threads, loadStart: loadStart, results: .object(results),
                extra: [("min_bytes_per_param", .object([("adamw", 28), ("am_adamw", 40), ("triad", 12)]))]))
    }
}

/// `a = b + scale * c`, the STREAM triad.
struct TriadKernel: BinaryKernel {
    let scale: Float
    func callAsFunction(_ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        FastMath.fma(c, SIMD8(repeating: scale), b)
    }
}
