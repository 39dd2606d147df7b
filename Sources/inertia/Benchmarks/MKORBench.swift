import ArgumentParser
import Foundation
import Inertia

/// `inertia bench mkor`: the cost of one MKOR factor round (two Sherman–Morrison updates, both
/// sides of a square `d → d` linear layer with bias) and of one preconditioning (`L⁻¹ ∇Ŵ R⁻¹`),
/// at several `d`, with the exponent of a least-squares fit of `log t` against `log d`
/// (rank-1 updates are quadratic; a cubic refresh would fit near 3).
struct MKORBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mkor",
        abstract: "MKOR factor round and preconditioning at d = 256, 512, 1024, with fitted exponents.")

    @Option(name: .long, parsing: .upToNextOption, help: "Layer sizes d (a d -> d linear layer).")
    var sizes: [Int] = [256, 512, 1024]

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes needs at least two positive sizes")
        }
    }

    static func slope(_ x: [Double], _ y: [Double]) -> Double {
        let lx = x.map { Foundation.log($0) }, ly = y.map { Foundation.log($0) }
        let mx = lx.reduce(0, +) / Double(lx.count), my = ly.reduce(0, +) / Double(ly.count)
        let covariance = zip(lx, ly).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        return covariance / lx.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    }

    func run() throws {
        let loadStart = BenchEnvironment.loadAverage
        var results: [(String, JSONValue)] = [("gemm_backend", .string(GEMM.backend.rawValue))]
        let saved = Parallel.threadCount
        for threads in options.threads {
            Parallel.threadCount = threads
            var roundTimes: [Double] = [], preconditionTimes: [Double] = []
            for d in sizes {
                var rng = PhiloxGenerator(seed: 0)
                let layer = Linear(d, d, using: &rng)
                let mkor = try MKOR(model: layer, base: try SGD(learningRate: 0.01))
                let l = mkor.layers[0]
                let a = Tensor.normal([d + 1], using: &rng).scalars.map { $0 * 0.1 },
                    g = Tensor.normal([d], using: &rng).scalars
                mkor.updateFactors(l, input: a, outputGradient: g)
                let round = measure(minTime: options.minTime) { mkor.updateFactors(l, input: a, outputGradient: g) }
                layer.weight.value.grad = Tensor.normal([d, d], using: &rng)
                layer.bias!.value.grad = Tensor.normal([d], using: &rng)
                let precondition = measure(minTime: options.minTime) { mkor.preconditionGradients(of: l) }
                roundTimes.append(round.min)
                preconditionTimes.append(precondition.min)
                results.append(
                    (
                        "\(threads)thr_d\(d)",
                        .object([
                            ("factor_round_ms", .number(round.min * 1e3)),
                            ("precondition_ms", .number(precondition.min * 1e3)),
                        ])
                    ))
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "mkor %d thr d = %d: factor round %.3f ms, precondition %.3f ms (best)\n",
                            threads, d, round.min * 1e3, precondition.min * 1e3
                        ).utf8))
            }
            let sizesD = sizes.map(Double.init)
            let roundExponent = Self.slope(sizesD, roundTimes),
                preconditionExponent = Self.slope(sizesD, preconditionTimes)
            results.append(("\(threads)thr_factor_round_exponent", .number((roundExponent * 1000).rounded() / 1000)))
            results.append(
                ("\(threads)thr_precondition_exponent", .number((preconditionExponent * 1000).rounded() / 1000)))
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "mkor %d thr: fitted exponent %.2f (factor round), %.2f (preconditioning)\n",
                        threads, roundExponent, preconditionExponent
                    ).utf8))
        }
        Parallel.threadCount = saved
        print(
            BenchEnvironment.line(
                bench: "mkor", threads: options.threads, loadStart: loadStart, results: .object(results)))
    }
}
