/// 2-d convolution (cross-correlation, as PyTorch's `conv2d`) as one op, and its two adjoints.
///
/// The batch is cut into chunks of a few samples whose patch matrix (im2col, `[C/g * kh * kw,
/// samples * Ho * Wo]`) stays in the core's cache; each chunk is one packed GEMM per group, and the
/// chunks run side by side on the kernel threads. Chunk boundaries depend on the sizes only, and the
/// weight gradient sums the chunks' partial products in chunk order, so results do not depend on
/// the thread count.
///
/// The three ops close under differentiation: with `y = conv(x, w)`, `dx = inputGradient(dy, w)`
/// (the transposed convolution) and `dw = weightGradient(dy, x)`; each is bilinear, and the
/// derivatives of the adjoints are again these ops, so gradients of gradients and forward-mode
/// tangents work through convolutions.
extension Tensor {
    /// `conv(input, weight) + bias` over `[N, C, H, W]`: weight `[O, C / groups, kh, kw]` (its kernel
    /// size overrides `window.kernel`), bias `[O]`, output `[N, O, Ho, Wo]`.
    public static func convolution2D(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil, window: Window2D, groups: Int = 1
    ) -> Tensor {
        let geometry = validated {
            try ConvolutionGeometry(
                op: "convolution2D", inputShape: input.shape, weightShape: weight.shape, window: window, groups: groups)
        }
        if let bias {
            validated {
                guard bias.shape == [geometry.outChannels] else {
                    throw TensorError.shapeMismatch(
                        op: "convolution2D", detail: "bias has shape \(bias.shape), expected [\(geometry.outChannels)]")
                }
            }
        }
        // Empty batches or channels have nothing to multiply: the bias (or zeros) broadcast.
        let result =
            geometry.hasProducts
            ? Tensor(shape: geometry.outputShape) { out in
                input.storage.withUnsafeBufferPointer { x in
                    weight.storage.withUnsafeBufferPointer { w in
                        if let bias {
                            bias.storage.withUnsafeBufferPointer { b in
                                geometry.forward(
                                    x.baseAddress!, w.baseAddress!, bias: b.baseAddress!, into: out.baseAddress!)
                            }
                        } else {
                            geometry.forward(x.baseAddress!, w.baseAddress!, bias: nil, into: out.baseAddress!)
                        }
                    }
                }
            }
            : withoutGradients {
                bias.map {
                    $0.detached().reshaped(to: [1, geometry.outChannels, 1, 1]).expanded(to: geometry.outputShape)
                }
                    ?? Tensor.zeros(geometry.outputShape)
            }
        let window = geometry.window
        let needInput = input.node != nil, needWeight = weight.node != nil, needBias = bias?.node != nil
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        let rule: TangentRule = { t, x, _ in
            var terms: [Tensor] = []
            if let tx = t[0] { terms.append(convolution2D(tx, weight: x[1], window: window, groups: groups)) }
            if let tw = t[1] { terms.append(convolution2D(x[0], weight: tw, window: window, groups: groups)) }
            if t.count > 2, let tb = t[2] {
                terms.append(
                    tb.reshaped(to: [1, geometry.outChannels, 1, 1]).expanded(to: geometry.outputShape))
            }
            return terms.dropFirst().reduce(terms.first ?? Tensor.zeros(geometry.outputShape), +)
        }
        return record("convolution2D", result, inputs: inputs, saving: inputs, tangent: rule) { g, _ in
            var grads: [Tensor?] = [
                needInput
                    ? convolution2DInputGradient(
                        g, weight: weight, inputShape: input.shape, window: window, groups: groups) : nil,
                needWeight
                    ? convolution2DWeightGradient(
                        g, input: input, weightShape: weight.shape, window: window, groups: groups) : nil,
            ]
            if bias != nil { grads.append(needBias ? g.sum(alongAxes: [0, 2, 3]) : nil) }
            return grads
        }
    }

    /// The input gradient of `convolution2D` for the output gradient `outputGradient` (the transposed
    /// convolution): `[N, C, H, W]` for `inputShape`.
    public static func convolution2DInputGradient(
        _ outputGradient: Tensor, weight: Tensor, inputShape: [Int], window: Window2D, groups: Int = 1
    ) -> Tensor {
        let geometry = validated {
            let geometry = try ConvolutionGeometry(
                op: "convolution2DInputGradient", inputShape: inputShape, weightShape: weight.shape, window: window,
                groups: groups)
            try geometry.checkOutputGradient(outputGradient.shape, op: "convolution2DInputGradient")
            return geometry
        }
        var result = Tensor.zeros(inputShape)
        if geometry.hasProducts {
            result.storage.withUnsafeMutableBufferPointer { dx in
                outputGradient.storage.withUnsafeBufferPointer { gy in
                    weight.storage.withUnsafeBufferPointer { w in
                        geometry.inputGradient(gy.baseAddress!, w.baseAddress!, into: dx.baseAddress!)
                    }
                }
            }
        }
        let window = geometry.window
        let needUpstream = outputGradient.node != nil, needWeight = weight.node != nil
        let inputs = [outputGradient, weight]
        let rule: TangentRule = { t, x, _ in
            var terms: [Tensor] = []
            if let tg = t[0] {
                terms.append(
                    convolution2DInputGradient(tg, weight: x[1], inputShape: inputShape, window: window, groups: groups)
                )
            }
            if let tw = t[1] {
                terms.append(
                    convolution2DInputGradient(x[0], weight: tw, inputShape: inputShape, window: window, groups: groups)
                )
            }
            return terms.dropFirst().reduce(terms.first ?? Tensor.zeros(inputShape), +)
        }
        return record("convolution2DInputGradient", result, inputs: inputs, saving: inputs, tangent: rule) { g, _ in
            [
                needUpstream ? convolution2D(g, weight: weight, window: window, groups: groups) : nil,
                needWeight
                    ? convolution2DWeightGradient(
                        outputGradient, input: g, weightShape: weight.shape, window: window, groups: groups) : nil,
            ]
        }
    }

    /// The weight gradient of `convolution2D` for the output gradient `outputGradient` and the
    /// layer's input: `weightShape` = `[O, C / groups, kh, kw]`, summed over the batch.
    public static func convolution2DWeightGradient(
        _ outputGradient: Tensor, input: Tensor, weightShape: [Int], window: Window2D, groups: Int = 1
    ) -> Tensor {
        let geometry = validated {
            let geometry = try ConvolutionGeometry(
                op: "convolution2DWeightGradient", inputShape: input.shape, weightShape: weightShape, window: window,
                groups: groups)
            try geometry.checkOutputGradient(outputGradient.shape, op: "convolution2DWeightGradient")
            return geometry
        }
        let result =
            geometry.hasProducts
            ? Tensor(shape: weightShape) { dw in
                outputGradient.storage.withUnsafeBufferPointer { gy in
                    input.storage.withUnsafeBufferPointer { x in
                        geometry.weightGradient(gy.baseAddress!, x.baseAddress!, into: dw.baseAddress!)
                    }
                }
            } : Tensor.zeros(weightShape)
        let window = geometry.window
        let needUpstream = outputGradient.node != nil, needInput = input.node != nil
        let inputs = [outputGradient, input]
        let rule: TangentRule = { t, x, _ in
            var terms: [Tensor] = []
            if let tg = t[0] {
                terms.append(
                    convolution2DWeightGradient(
                        tg, input: x[1], weightShape: weightShape, window: window, groups: groups))
            }
            if let tx = t[1] {
                terms.append(
                    convolution2DWeightGradient(
                        x[0], input: tx, weightShape: weightShape, window: window, groups: groups))
            }
            return terms.dropFirst().reduce(terms.first ?? Tensor.zeros(weightShape), +)
        }
        return record("convolution2DWeightGradient", result, inputs: inputs, saving: inputs, tangent: rule) { g, _ in
            [
                needUpstream ? convolution2D(input, weight: g, window: window, groups: groups) : nil,
                needInput
                    ? convolution2DInputGradient(
                        outputGradient, weight: g, inputShape: input.shape, window: window, groups: groups) : nil,
            ]
        }
    }
}

/// The sizes of one convolution and its chunked kernels.
struct ConvolutionGeometry {
    let batch: Int, inChannels: Int, height: Int, width: Int
    let outChannels: Int, groups: Int
    let outputHeight: Int, outputWidth: Int
    let window: Window2D

    /// Floats of one chunk's patch matrix the chunking aims at (512 KiB, inside a core's L2).
    static let chunkFloats = 1 << 17

    init(op: String, inputShape: [Int], weightShape: [Int], window: Window2D, groups: Int) throws {
        guard inputShape.count == 4 else {
            throw TensorError.shapeMismatch(op: op, detail: "needs a [N, C, H, W] input, got shape \(inputShape)")
        }
        guard weightShape.count == 4 else {
            throw TensorError.shapeMismatch(
                op: op, detail: "needs a [O, C / groups, kh, kw] weight, got \(weightShape)")
        }
        guard groups > 0, weightShape[0] % groups == 0, weightShape[1] * groups == inputShape[1] else {
            throw TensorError.shapeMismatch(
                op: op,
                detail:
                    "input \(inputShape) with weight \(weightShape) and \(groups) groups: the input needs weight[1] * groups channels and groups must divide weight[0]"
            )
        }
        var window = window
        window.kernel = (weightShape[2], weightShape[3])
        (outputHeight, outputWidth) = try window.outputSize(height: inputShape[2], width: inputShape[3])
        (batch, inChannels, height, width) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        outChannels = weightShape[0]
        self.groups = groups
        self.window = window
    }

    func checkOutputGradient(_ shape: [Int], op: String) throws {
        guard shape == outputShape else {
            throw TensorError.shapeMismatch(
                op: op, detail: "output gradient has shape \(shape), expected \(outputShape)")
        }
    }

    var outputShape: [Int] { [batch, outChannels, outputHeight, outputWidth] }
    /// Whether any product is formed (no empty batch, channel or kernel dimension).
    var hasProducts: Bool { batch > 0 && outChannels > 0 && patchRows > 0 }
    var groupInChannels: Int { inChannels / groups }
    var groupOutChannels: Int { outChannels / groups }
    /// Rows of the patch matrix: one per (channel of the group, kernel row, kernel column).
    var patchRows: Int { groupInChannels * window.kernel.height * window.kernel.width }
    var positions: Int { outputHeight * outputWidth }
    var samplesPerChunk: Int { max(1, min(batch, Self.chunkFloats / max(1, patchRows * positions))) }
    var chunkCount: Int { (batch + samplesPerChunk - 1) / samplesPerChunk }

    /// Runs `body` for every chunk, side by side, with the chunk's first sample and sample count,
    /// the GEMM backend (the selected one when there is one chunk, where the GEMMs may parallelise
    /// themselves, else the Swift kernel, whose results do not depend on the thread that runs it),
    /// and two workspaces of `samples * positions` columns: the patch matrix (`patchRows` rows) and
    /// a matrix of `O / groups` rows (the output product, or the gathered output gradient).
    private func forEachChunk(
        _ body: (
            _ first: Int, _ count: Int, _ backend: GEMM.Backend?, _ patches: UnsafeMutablePointer<Float>,
            _ channels: UnsafeMutablePointer<Float>
        ) -> Void
    ) {
        let size = samplesPerChunk, chunks = chunkCount
        let backend: GEMM.Backend? = chunks > 1 ? .swift : nil
        Parallel.forEach(chunks: chunks) { chunk in
            let count = min(size, batch - chunk * size), columns = count * positions
            let patches = GEMMKernel.allocateAligned(patchRows * columns)
            let channels = GEMMKernel.allocateAligned(groupOutChannels * columns)
            defer {
                patches.deallocate()
                channels.deallocate()
            }
            body(chunk * size, count, backend, patches, channels)
        }
    }

    /// Copies the patches of `sample` (from `group`'s channels) into columns `column ..<
    /// column + positions` of the patch matrix `columns` (row length `stride`); padding reads 0.
    private func gatherPatches(
        _ x: UnsafePointer<Float>, sample: Int, group: Int, into columns: UnsafeMutablePointer<Float>, stride: Int,
        column: Int
    ) {
        let gather = Kernels.table.pointee.gather_patch_row_f32!
        forEachPatchRow(sample: sample, group: group) { plane, row, rowStart, columnOffset, lo, hi in
            gather(
                x + plane, height, width, outputHeight, outputWidth, rowStart, window.stride.height, columnOffset,
                window.stride.width, lo, hi, columns + row * stride + column)
        }
    }

    /// Adds columns `column ..< column + positions` of the patch-gradient matrix back onto the
    /// input positions they were read from (the adjoint of `gatherPatches`); entries that read
    /// padding may be zeroed.
    private func scatterPatches(
        _ columns: UnsafeMutablePointer<Float>, stride: Int, column: Int, sample: Int, group: Int,
        into dx: UnsafeMutablePointer<Float>
    ) {
        let scatter = Kernels.table.pointee.scatter_patch_row_f32!
        forEachPatchRow(sample: sample, group: group) { plane, row, rowStart, columnOffset, lo, hi in
            scatter(
                columns + row * stride + column, height, width, outputHeight, outputWidth, rowStart,
                window.stride.height, columnOffset, window.stride.width, lo, hi, dx + plane)
        }
    }

    /// Calls `body(planeOffset, patchRow, rowStart, columnOffset, lo, hi)` for each (channel of the
    /// group, kernel row, kernel column) of `sample`: the input plane's offset, the patch-matrix row,
    /// the input row of output row 0, the input column of output column 0, and the output columns
    /// `lo...hi` that read inside the input.
    @inline(__always)
    private func forEachPatchRow(sample: Int, group: Int, _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let kh = window.kernel.height, kw = window.kernel.width
        for channel in 0..<groupInChannels {
            let plane = ((sample * inChannels) + group * groupInChannels + channel) * height * width
            for i in 0..<kh {
                for j in 0..<kw {
                    let (lo, hi) = window.validColumns(j: j, width: width, outputWidth: outputWidth)
                    body(
                        plane, (channel * kh + i) * kw + j, i * window.dilation.height - window.padding.height,
                        j * window.dilation.width - window.padding.width, lo, hi)
                }
            }
        }
    }

    /// Copies `group`'s channels of the output gradient of samples `first ..< first + count` into a
    /// `[O / groups, count * positions]` matrix.
    private func gatherOutputGradient(
        _ gy: UnsafePointer<Float>, first: Int, count: Int, group: Int, into matrix: UnsafeMutablePointer<Float>
    ) {
        let l = positions, stride = count * l
        for s in 0..<count {
            for o in 0..<groupOutChannels {
                (matrix + o * stride + s * l).update(
                    from: gy + ((first + s) * outChannels + group * groupOutChannels + o) * l, count: l)
            }
        }
    }

    func forward(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>
    ) {
        let k = patchRows, og = groupOutChannels, l = positions
        forEachChunk { first, count, backend, columns, product in
            let stride = count * l
            for group in 0..<groups {
                for s in 0..<count {
                    gatherPatches(x, sample: first + s, group: group, into: columns, stride: stride, column: s * l)
                }
                GEMM.sgemm(
                    transposeA: false, transposeB: false, m: og, n: stride, k: k, alpha: 1, a: w + group * og * k,
                    lda: k, b: columns, ldb: stride, beta: 0, c: product, ldc: stride, backend: backend)
                for s in 0..<count {
                    for o in 0..<og {
                        let channel = group * og + o
                        let source = product + o * stride + s * l,
                            target = y + ((first + s) * outChannels + channel) * l
                        if let bias {
                            let b = bias[channel]
                            for p in 0..<l { target[p] = source[p] + b }
                        } else {
                            target.update(from: source, count: l)
                        }
                    }
                }
            }
        }
    }

    /// `dx += W^T dy` chunk by chunk; `dx` starts zeroed. Chunks own disjoint samples.
    func inputGradient(_ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let k = patchRows, og = groupOutChannels, l = positions
        forEachChunk { first, count, backend, columns, upstream in
            let stride = count * l
            for group in 0..<groups {
                gatherOutputGradient(gy, first: first, count: count, group: group, into: upstream)
                GEMM.sgemm(
                    transposeA: true, transposeB: false, m: k, n: stride, k: og, alpha: 1, a: w + group * og * k,
                    lda: k, b: upstream, ldb: stride, beta: 0, c: columns, ldc: stride, backend: backend)
                for s in 0..<count {
                    scatterPatches(columns, stride: stride, column: s * l, sample: first + s, group: group, into: dx)
                }
            }
        }
    }

    /// `dw = sum over chunks of dy · patches^T`, each chunk's product in its own slot, summed in
    /// chunk order (at least one chunk: callers check `hasProducts`).
    func weightGradient(_ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let k = patchRows, og = groupOutChannels, l = positions, size = outChannels * k
        let partials = GEMMKernel.allocateAligned(chunkCount * size)
        defer { partials.deallocate() }
        let chunk = samplesPerChunk
        forEachChunk { first, count, backend, columns, upstream in
            let stride = count * l
            let slot = partials + (first / chunk) * size
            for group in 0..<groups {
                for s in 0..<count {
                    gatherPatches(x, sample: first + s, group: group, into: columns, stride: stride, column: s * l)
                }
                gatherOutputGradient(gy, first: first, count: count, group: group, into: upstream)
                GEMM.sgemm(
                    transposeA: false, transposeB: true, m: og, n: k, k: stride, alpha: 1, a: upstream, lda: stride,
                    b: columns, ldb: stride, beta: 0, c: slot + group * og * k, ldc: k, backend: backend)
            }
        }
        dw.update(from: partials, count: size)
        for c in 1..<chunkCount {
            let slot = partials + c * size
            for i in 0..<size { dw[i] += slot[i] }
        }
    }
}
