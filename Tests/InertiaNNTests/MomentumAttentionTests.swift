import Foundation
import InertiaData
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaNN

/// The momentum shear and its attention hooks against `shared/fixtures/momentum-attention/`
/// and the invariants of the spec's section 6.
final class MomentumAttentionTests: XCTestCase {
    func matrix(_ any: Any?) -> Tensor {
        let rows = (any as! [Any]).map(InertiaTestSupport.doubles)
        return Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map(Float.init) })
    }

    func number(_ any: Any?) -> Float { (any as! NSNumber).floatValue }

    func testRotationShearScoresAndOutputsMatchTheFixture() throws {
        let f = try fixture("momentum-attention", "shear_rope.json")
        let (q, k, v) = (matrix(f["Q"]), matrix(f["K"]), matrix(f["V"]))
        let (length, width) = (q.shape[0], q.shape[1])
        let rotary = RotaryEmbedding(
            headDimension: width, base: Double(number(f["rope_base"])), pairing: .adjacent)
        let shear = MomentumShear(gamma: number(f["gamma"]))
        let (qr, kr) = (rotary(q), rotary(k))
        assertClose(qr, matrix(f["Q_rope"]), tolerance: 1e-5, "rotated queries")
        assertClose(kr, matrix(f["K_rope"]), tolerance: 1e-5, "rotated keys")
        let (qs, ks) = (shear(qr), shear(kr))
        assertClose(qs, matrix(f["Q_hat"]), tolerance: 1e-5, "sheared queries")
        assertClose(ks, matrix(f["K_hat"]), tolerance: 1e-5, "sheared keys")
        let scale = 1 / Float(width).squareRoot()
        let scores = Tensor.matmul(qs, ks, transposingB: true) * scale
        assertClose(scores, matrix(f["scores_unmasked"]), tolerance: 1e-5, "scores")
        // The matrix form: scores = S (Q̃ K̃ᵀ) Sᵀ / sqrt(d).
        let s = shear.matrix(length: length)
        assertClose(s, matrix(f["shear_matrix_S"]), tolerance: 0, "S_gamma")
        assertClose(
            Tensor.matmul(Tensor.matmul(s, Tensor.matmul(qr, kr, transposingB: true)), s, transposingB: true) * scale,
            matrix(f["scores_unmasked"]), tolerance: 1e-5, "S Q K^T S^T / sqrt(d)")
        // The layer's attention step (one head, identity output projection) on the fixture's
        // sheared rows.
        var rng = PhiloxGenerator(seed: 1)
        let layer = CausalSelfAttention(
            dimension: width, heads: 1, positions: rotary, momentum: shear, using: &rng)
        layer.output.weight.assign(Tensor.eye(width))
        let mask = CausalSelfAttention.causalMask(length: length)
        let weights = (scores + mask).softmax(alongAxis: -1)
        assertClose(weights, matrix(f["attn"]), tolerance: 1e-5, "attention weights")
        let out = layer.attended(
            queries: qs.reshaped(to: [1, 1, length, width]), keys: ks.reshaped(to: [1, 1, length, width]),
            values: v.reshaped(to: [1, 1, length, width]), mask: mask)
        assertClose(out.reshaped(to: [length, width]), matrix(f["out"]), tolerance: 1e-5, "outputs")
        // The zero-padding convention scales the first row by 1 + gamma.
        let padded = MomentumShear(gamma: shear.gamma, firstPosition: .zeroPadding)
        assertClose(padded(qr), matrix(f["Q_hat_zero_pad_variant"]), tolerance: 1e-5, "zero-padding queries")
    }

    /// The layer's outputs and gradients against the PyTorch port of the spec's pseudocode
    /// (`Scripts/fixtures/make_momentum_attention_fixture.py`), for each placement of the shear.
    func testLayerMatchesThePyTorchPort() throws {
        let fixture = try loadFixture("nn_momentum_attention.json")
        let cases = fixture["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let name = c["name"] as! String
            let options = c["options"] as! [String: Any]
            let x = fixtureTensor(c["input"])
            let heads = c["heads"] as! Int
            let headDimension = x.shape[2] / heads
            let rotary = (options["rope_base"] as? NSNumber).map {
                RotaryEmbedding(
                    headDimension: headDimension, base: $0.doubleValue,
                    pairing: options["pairing"] as? String == "halves" ? .halves : .adjacent)
            }
            let shear = MomentumShear(
                gamma: number(options["gamma"]),
                firstPosition: options["first_position"] as? String == "zero_padding" ? .zeroPadding : .noVelocity,
                shearsQueries: options["shear_queries"] as? Bool ?? true,
                shearsKeys: options["shear_keys"] as? Bool ?? true,
                beforeRotary: options["before_rope"] as? Bool ?? false)
            var rng = PhiloxGenerator(seed: 0)
            let layer = CausalSelfAttention(
                dimension: x.shape[2], heads: heads, positions: rotary, momentum: shear, using: &rng)
            let named = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.parameter) })
            let parameters = c["parameters"] as! [String: Any]
            XCTAssertEqual(Set(named.keys), Set(parameters.keys), name)
            for (key, value) in parameters { named[key]!.assign(fixtureTensor(value)) }
            let leaf = x.requiringGrad()
            let y = layer(leaf)
            assertClose(y, fixtureTensor(c["output"]), tolerance: 2e-5, "\(name) output")
            (y * fixtureTensor(c["upstream"])).sum().backward()
            assertClose(leaf.grad!, fixtureTensor(c["input_grad"]), tolerance: 5e-5, "\(name) input gradient")
            for (key, value) in c["parameter_grads"] as! [String: Any] {
                assertClose(named[key]!.grad!, fixtureTensor(value), tolerance: 5e-5, "\(name) gradient of \(key)")
            }
        }
    }

    func testFilterGainAndTheRotaryEscapeRouteMatchTheFixture() throws {
        let f = try fixture("momentum-attention", "shear_rope.json")
        let gains = f["filter_gain_abs_H"] as! [String: [String: NSNumber]]
        XCTAssertFalse(gains.isEmpty)
        for (gammaKey, byFrequency) in gains {
            let shear = MomentumShear(gamma: Float(gammaKey)!)
            for (omegaKey, expected) in byFrequency {
                XCTAssertEqual(
                    shear.gain(atFrequency: Double(omegaKey)!), expected.doubleValue,
                    accuracy: 1e-6 * expected.doubleValue, "gamma \(gammaKey), omega \(omegaKey)")
            }
        }
        // Constant content: post-RoPE velocities have pair norms 2|sin(theta_i / 2)| |c_i|,
        // pre-RoPE ones are exactly zero.
        let constant = f["rope_constant_content"] as! [String: Any]
        let c = InertiaTestSupport.doubles(constant["c"]).map(Float.init)
        let norms = (constant["post_rope_momentum_pair_norms"] as! [Any]).map(InertiaTestSupport.doubles)
        let length = norms.count + 1
        let content = Tensor(shape: [length, c.count], scalars: (0..<length).flatMap { _ in c })
        let rotary = RotaryEmbedding(
            headDimension: c.count, base: Double(number(f["rope_base"])), pairing: .adjacent)
        let rotated = rotary(content)
        let velocity: Tensor = (rotated.slice(alongAxis: 0, 1..<length) - rotated.slice(alongAxis: 0, 0..<(length - 1)))
        let pairNorms = (velocity * velocity).reshaped(to: [length - 1, c.count / 2, 2]).sum(alongAxis: -1).squareRoot()
        assertClose(
            pairNorms, Tensor(shape: pairNorms.shape, scalars: norms.flatMap { $0.map(Float.init) }), tolerance: 1e-5)
        let expected = InertiaTestSupport.doubles(constant["expected_2|sin(theta_i/2)|*|c_i|"])
        for (i, norm) in expected.enumerated() {
            let theta = Foundation.pow(Double(number(f["rope_base"])), -2 * Double(i) / Double(c.count))
            XCTAssertEqual(2 * Foundation.sin(theta / 2) * Double(c[2 * i]), norm, accuracy: 1e-9)
        }
        let pre = MomentumShear(gamma: 1)(content) - content
        XCTAssertEqual(pre.scalars, [Float](repeating: 0, count: pre.count))
        XCTAssertEqual(
            InertiaTestSupport.doubles((constant["pre_rope_momentum"] as! [Any]).first).map { Swift.abs($0) }.max(), 0)
    }

    /// Invariant 1: gamma = 0 is standard attention bit for bit, with and without the rotation.
    func testZeroCouplingIsStandardAttentionExactly() {
        for rotary in [nil, RotaryEmbedding(headDimension: 4, pairing: .adjacent)] {
            var rng = PhiloxGenerator(seed: 3)
            let plain = CausalSelfAttention(dimension: 8, heads: 2, positions: rotary, momentum: nil, using: &rng)
            rng = PhiloxGenerator(seed: 3)
            let sheared = CausalSelfAttention(
                dimension: 8, heads: 2, positions: rotary, momentum: MomentumShear(gamma: 0), using: &rng)
            let x = Tensor.normal([2, 7, 8], using: &rng)
            XCTAssertEqual(plain(x).scalars, sheared(x).scalars)
        }
    }

    /// Invariant 2: the expanded four-term form of the sheared scores.
    func testScoresFollowTheExpandedFourTermForm() {
        var rng = PhiloxGenerator(seed: 5)
        let (length, width) = (9, 6)
        let q = Tensor.normal([length, width], using: &rng), k = Tensor.normal([length, width], using: &rng)
        let gamma: Float = 0.7
        let shear = MomentumShear(gamma: gamma)
        let scores = Tensor.matmul(shear(q), shear(k), transposingB: true).scalars
        let raw = Tensor.matmul(q, k, transposingB: true).scalars
        // With p_0 = 0, q_{-1} = q_0: the index before 0 is 0.
        func dot(_ t: Int, _ j: Int) -> Float { raw[Swift.max(t, 0) * length + Swift.max(j, 0)] }
        for t in 0..<length {
            for j in 0..<length {
                let expected =
                    (1 + gamma) * (1 + gamma) * dot(t, j) - gamma * (1 + gamma) * (dot(t, j - 1) + dot(t - 1, j))
                    + gamma * gamma * dot(t - 1, j - 1)
                XCTAssertEqual(scores[t * length + j], expected, accuracy: 1e-4 * Swift.max(1, Swift.abs(expected)))
            }
        }
    }

    /// The one-op shear of whole sequences equals the general path (here through restarts that
    /// mark only the first row): values bit for bit, gradients, double backward and tangents.
    func testFusedShearEqualsTheGeneralPath() {
        var rng = PhiloxGenerator(seed: 15)
        for length in [1, 2, 5] {
            let x = Tensor.normal([2, 3, length, 4], using: &rng), w = Tensor.normal([2, 3, length, 4], using: &rng)
            var firstRow = [Float](repeating: 0, count: length)
            firstRow[0] = 1
            let restarts = Tensor(shape: [length, 1], scalars: firstRow)
            for convention in [MomentumShear.FirstPosition.noVelocity, .zeroPadding] {
                let shear = MomentumShear(gamma: 1.7, firstPosition: convention)
                XCTAssertEqual(
                    shear(x).scalars, shear(x, restarts: restarts).scalars, "length \(length), \(convention)")
                // The loss sum(w * shear(x)^2): its gradient S^T (2 w * S x) depends on x, and
                // the gradient of <gradient, v> is S^T (2 w * S v), through the ops' backwards.
                let v = Tensor.normal(x.shape, using: &rng)
                func gradients(_ f: (Tensor) -> Tensor) -> (first: Tensor, second: Tensor) {
                    let leaf = x.requiringGrad()
                    let y = f(leaf)
                    (y * y * w).sum().backward(createGraph: true)
                    let first = leaf.grad!
                    leaf.zeroGrad()
                    (first * v).sum().backward()
                    return (first.detached(), leaf.grad!)
                }
                let fused = gradients { shear($0) }, general = gradients { shear($0, restarts: restarts) }
                assertClose(fused.first, general.first, tolerance: 1e-6, "gradient, length \(length), \(convention)")
                assertClose(fused.second, general.second, tolerance: 1e-5, "double backward, length \(length)")
                let tangent = Tensor.normal(x.shape, using: &rng)
                assertClose(
                    Tensor.jvp(of: { shear($0) }, at: x, tangent: tangent).jvp,
                    Tensor.jvp(of: { shear($0, restarts: restarts) }, at: x, tangent: tangent).jvp, tolerance: 1e-6,
                    "tangent, length \(length)")
            }
        }
    }

    /// Invariants 3 and 4: prefix invariance, linearity, the recursive inverse.
    func testPrefixInvarianceLinearityAndInverse() {
        var rng = PhiloxGenerator(seed: 6)
        let x = Tensor.normal([2, 5, 3], using: &rng), y = Tensor.normal([2, 5, 3], using: &rng)
        let shear = MomentumShear(gamma: 1.5)
        let prefixed = Tensor.concatenate([x.slice(alongAxis: 1, 0..<1), x], alongAxis: 1)
        let shifted = Tensor.concatenate([x.slice(alongAxis: 1, 0..<1), shear(x)], alongAxis: 1)
        assertClose(shear(prefixed), shifted, tolerance: 0, "prefix invariance")
        assertClose(shear(x * 2 + y * -3), shear(x) * 2 + shear(y) * -3, tolerance: 1e-5, "linearity")
        for convention in [MomentumShear.FirstPosition.noVelocity, .zeroPadding] {
            let s = MomentumShear(gamma: 4.17, firstPosition: convention)
            assertClose(s.inverted(s(x)), x, tolerance: 1e-5, "inverse, \(convention)")
            // The matrix form is the same map.
            let m = s.matrix(length: 5)
            assertClose(
                Tensor.matmul(m, x.slice(alongAxis: 0, 0..<1).reshaped(to: [5, 3])),
                s(x).slice(alongAxis: 0, 0..<1).reshaped(to: [5, 3]), tolerance: 1e-5, "matrix, \(convention)")
        }
    }

    /// Invariant 5: on white noise, the empirical gain (ratio of mean DFT magnitudes along time)
    /// is |H(e^{iω})| within 5 %, averaged over 256 sequences.
    func testEmpiricalSpectralGainMatchesTheFilter() {
        var rng = PhiloxGenerator(seed: 7)
        let (sequences, length, channels) = (256, 64, 4)
        let shear = MomentumShear(gamma: 1)
        let x = Tensor.normal([sequences, length, channels], using: &rng)
        let sheared = shear(x)
        let dft = RealFourierTransform(length: length)
        var before = [Double](repeating: 0, count: dft.binCount), after = before
        let (xs, ys) = (x.scalars, sheared.scalars)
        for s in 0..<sequences {
            for c in 0..<channels {
                let column = { (v: [Float]) in (0..<length).map { Double(v[(s * length + $0) * channels + c]) } }
                for (k, m) in dft.magnitudes(column(xs)).enumerated() { before[k] += m }
                for (k, m) in dft.magnitudes(column(ys)).enumerated() { after[k] += m }
            }
        }
        for k in 1..<dft.binCount {
            let expected = shear.gain(atFrequency: dft.frequency(ofBin: k))
            XCTAssertEqual(after[k] / before[k], expected, accuracy: 0.05 * expected, "bin \(k)")
        }
    }

    /// Invariant 6: a hand-built one-layer induction circuit (one-hot embeddings, W_Q = I,
    /// W_K = -c I, W_V = I, keys sheared with gamma = 1, c = 40) puts > 0.99 of the last
    /// position's attention on i + 1 and reads out the label on every sequence; with the queries
    /// sheared too, the position before the final A scores as high as i + 1.
    func testHandBuiltInductionCircuitSolvesTheTask() throws {
        let task = try InductionTask(vocabulary: 16, length: 24)
        var rng = PhiloxGenerator(seed: 8)
        let batch = task.batch(count: 200, using: &rng)
        let v = task.vocabulary
        func circuit(shearsQueries: Bool) -> CausalSelfAttention {
            var stream = PhiloxGenerator(seed: 0)
            let layer = CausalSelfAttention(
                dimension: v, heads: 1, positions: nil,
                momentum: MomentumShear(gamma: 1, shearsQueries: shearsQueries, shearsKeys: true), using: &stream)
            layer.query.weight.assign(Tensor.eye(v))
            layer.key.weight.assign(Tensor.eye(v) * -40)
            layer.value.weight.assign(Tensor.eye(v))
            layer.output.weight.assign(Tensor.eye(v))
            return layer
        }
        let x = Tensor.oneHot(batch.tokens, classes: v)
        let layer = circuit(shearsQueries: false)
        let inputs = layer.headInputs(x)
        let scores =
            Tensor.matmul(inputs.queries, inputs.keys, transposingB: true) * 0.25
            + CausalSelfAttention.causalMask(length: task.length)
        let weights = scores.softmax(alongAxis: -1).scalars
        let outputs = layer(x).scalars
        let last = task.length - 1
        for n in 0..<200 {
            let mass = weights[(n * task.length + last) * task.length + batch.plantedPositions[n] + 1]
            XCTAssertGreaterThan(mass, 0.99, "sequence \(n)")
            let row = Array(outputs[((n * task.length + last) * v)..<((n * task.length + last + 1) * v)])
            XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, batch.labels[n], "sequence \(n)")
        }
        // The query-side distractor: with q sheared, q̂ = 2 e_A - e_b (b the token before the final
        // A), and position T-2 (holding b) scores 2c like i + 1, unless b repeats the label or the
        // token before it (then the two differ by c).
        let both = circuit(shearsQueries: true).headInputs(x)
        let tied = Tensor.matmul(both.queries, both.keys, transposingB: true).scalars
        var generic = 0
        for n in 0..<200 {
            let tokens = Array(batch.tokens.indices[(n * task.length)..<((n + 1) * task.length)])
            let b = tokens[last - 1]
            guard b != batch.labels[n], b != tokens[last - 2] else { continue }
            generic += 1
            let row = (n * task.length + last) * task.length
            XCTAssertEqual(tied[row + batch.plantedPositions[n] + 1], 80, "sequence \(n)")
            XCTAssertEqual(tied[row + last - 1], 80, "sequence \(n)")
        }
        XCTAssertGreaterThan(generic, 150)
    }

    /// Decoding through the cache, one position at a time and in uneven chunks, gives the full
    /// forward's outputs, for every placement of the shear.
    func testCachedDecodingEqualsTheFullForward() {
        let shears: [MomentumShear?] = [
            nil, MomentumShear(gamma: 1.2), MomentumShear(gamma: 0.8, firstPosition: .zeroPadding),
            MomentumShear(gamma: 2, beforeRotary: true), MomentumShear(gamma: 1, shearsQueries: false),
        ]
        for (index, shear) in shears.enumerated() {
            for rotary in [
                nil, RotaryEmbedding(headDimension: 4), RotaryEmbedding(headDimension: 4, pairing: .adjacent),
            ] {
                var rng = PhiloxGenerator(seed: 10 + UInt64(index))
                let layer = CausalSelfAttention(dimension: 8, heads: 2, positions: rotary, momentum: shear, using: &rng)
                let x = Tensor.normal([3, 9, 8], using: &rng)
                let full = layer(x)
                for chunks in [[1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 1, 4, 1]] {
                    let cache = AttentionCache()
                    var start = 0
                    var pieces: [Tensor] = []
                    for size in chunks {
                        pieces.append(
                            withoutGradients {
                                layer.forward(x.slice(alongAxis: 1, start..<(start + size)), cache: cache)
                            })
                        start += size
                    }
                    XCTAssertEqual(cache.length, 9)
                    assertClose(
                        Tensor.concatenate(pieces, alongAxis: 1), full, tolerance: 1e-5,
                        "shear \(index), chunks \(chunks)")
                }
            }
        }
    }

    /// Packed documents and left padding: each document's rows equal the forward of the document
    /// alone (the shear restarts and attention stays inside the segment).
    func testSegmentsIsolatePackedDocumentsAndPadding() {
        for rotary in [nil, RotaryEmbedding(headDimension: 4, pairing: .adjacent)] {
            var rng = PhiloxGenerator(seed: 12)
            let layer = CausalSelfAttention(
                dimension: 8, heads: 2, positions: rotary, momentum: MomentumShear(gamma: 1.5), using: &rng)
            let first = Tensor.normal([1, 4, 8], using: &rng), second = Tensor.normal([1, 5, 8], using: &rng)
            let packed = layer.forward(
                Tensor.concatenate([first, second], alongAxis: 1),
                segments: IndexTensor(shape: [1, 9], indices: [0, 0, 0, 0, 1, 1, 1, 1, 1]))
            assertClose(packed.slice(alongAxis: 1, 0..<4), layer(first), tolerance: 1e-5, "first document")
            assertClose(packed.slice(alongAxis: 1, 4..<9), layer(second), tolerance: 1e-5, "second document")
            let padding = Tensor.normal([1, 3, 8], using: &rng)
            let leftPadded = layer.forward(
                Tensor.concatenate([padding, second], alongAxis: 1),
                segments: IndexTensor(shape: [1, 8], indices: [-1, -1, -1, 0, 0, 0, 0, 0]))
            assertClose(leftPadded.slice(alongAxis: 1, 3..<8), layer(second), tolerance: 1e-5, "left padding")
        }
    }

    func testRotaryOffsetContinuesTheSequence() {
        var rng = PhiloxGenerator(seed: 13)
        let x = Tensor.normal([2, 7, 6], using: &rng)
        for pairing in [RotaryEmbedding.Pairing.halves, .adjacent] {
            let rotary = RotaryEmbedding(headDimension: 6, base: 50, pairing: pairing)
            assertClose(
                rotary(x.slice(alongAxis: 1, 3..<7), offset: 3), rotary(x).slice(alongAxis: 1, 3..<7), tolerance: 1e-6)
            // A rotation: norms per pair are kept.
            let pairs = pairing == .adjacent ? [6 / 2, 2] : [2, 3]
            func pairNorms(_ y: Tensor) -> Tensor {
                let r = y.reshaped(to: [2, 7] + pairs)
                return (r * r).sum(alongAxis: pairing == .adjacent ? -1 : -2)
            }
            assertClose(pairNorms(rotary(x)), pairNorms(x), tolerance: 1e-5)
        }
    }

    /// Central differences of `sum(layer(x) * w)` through the shear, before and after the
    /// rotation, with respect to the input and the query and key weights.
    func testGradientsThroughTheShearMatchCentralDifferences() {
        for shear in [
            MomentumShear(gamma: 1.5), MomentumShear(gamma: 0.5, firstPosition: .zeroPadding, beforeRotary: true),
        ] {
            var rng = PhiloxGenerator(seed: 14)
            let layer = CausalSelfAttention(
                dimension: 4, heads: 2, positions: RotaryEmbedding(headDimension: 2, base: 10, pairing: .adjacent),
                momentum: shear, using: &rng)
            let x = Tensor.normal([1, 5, 4], using: &rng), w = Tensor.normal([1, 5, 4], using: &rng)
            let leaf = x.requiringGrad()
            layer.zeroGradients()
            (layer(leaf) * w).sum().backward()
            var input = x
            func objective() -> Double {
                withoutGradients {
                    zip(layer(input).scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                }
            }
            let h: Float = 1e-2
            func check(_ name: String, _ analytic: Float, _ perturb: (Float) -> Void) {
                perturb(h)
                let plus = objective()
                perturb(-2 * h)
                let minus = objective()
                perturb(h)
                let numeric = (plus - minus) / Double(2 * h)
                XCTAssertEqual(Double(analytic), numeric, accuracy: 1e-2 * Swift.max(1, Swift.abs(numeric)), name)
            }
            let inputGradient = leaf.grad!.scalars
            for i in 0..<x.count {
                check("x[\(i)]", inputGradient[i]) { step in input.withUnsafeMutableBufferPointer { $0[i] += step } }
            }
            for (name, parameter) in [("query", layer.query.weight), ("key", layer.key.weight)] {
                let analytic = parameter.grad!.scalars
                for i in 0..<parameter.value.count {
                    check("\(name)[\(i)]", analytic[i]) { step in
                        parameter.value.withUnsafeMutableBufferPointer { $0[i] += step }
                    }
                }
            }
        }
    }

    func testCouplingTableOfTheSpec() {
        XCTAssertEqual(MomentumShear.coupling(layers: 1), 4.17, accuracy: 1e-6)
        XCTAssertEqual(MomentumShear.coupling(layers: 12), 0.66, accuracy: 0.005)
        XCTAssertEqual(MomentumShear(gamma: 1).phase(atFrequency: 0), 0)
        XCTAssertEqual(MomentumShear(gamma: 1).phase(atFrequency: .pi), 0, accuracy: 1e-12)
        XCTAssertGreaterThan(MomentumShear(gamma: 1).phase(atFrequency: .pi / 2), 0)
    }
}
