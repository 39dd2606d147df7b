/// Sliding windows over the two spatial dimensions of `[N, C, H, W]` tensors (im2col) and their
/// adjoint (col2im): the building blocks of 2-d convolution and pooling.
public struct Window2D: Equatable, Sendable {
    public var kernel: (height: Int, width: Int)
    public var stride: (height: Int, width: Int)
    public var padding: (height: Int, width: Int)
    public var dilation: (height: Int, width: Int)

    public init(
        kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)
    ) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    public static func == (a: Window2D, b: Window2D) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    /// The output columns `lo...hi` whose input column `x * sw - pw + j * dw` lies in `0..<width`
    /// (empty when `lo > hi`).
    @inline(__always)
    func validColumns(j: Int, width: Int, outputWidth: Int) -> (lo: Int, hi: Int) {
        Self.validOutputs(
            offset: j * dilation.width - padding.width, stride: stride.width, size: width, outputs: outputWidth)
    }

    /// The output rows `lo...hi` whose input row `y * sh - ph + i * dh` lies in `0..<height`.
    @inline(__always)
    func validRows(i: Int, height: Int, outputHeight: Int) -> (lo: Int, hi: Int) {
        Self.validOutputs(
            offset: i * dilation.height - padding.height, stride: stride.height, size: height, outputs: outputHeight)
    }

    /// The outputs `lo...hi` with `x * stride + offset` in `0..<size`.
    @inline(__always)
    static func validOutputs(offset: Int, stride: Int, size: Int, outputs: Int) -> (lo: Int, hi: Int) {
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let top = size - 1 - offset
        let hi = top < 0 ? -1 : Swift.min(outputs - 1, top / stride)
        return (lo, hi)
    }

    /// Output height and width for an input of `height x width`.
    public func outputSize(height: Int, width: Int) throws -> (height: Int, width: Int) {
        guard kernel.height > 0, kernel.width > 0, stride.height > 0, stride.width > 0, dilation.height > 0,
            dilation.width > 0, padding.height >= 0, padding.width >= 0
        else {
            throw TensorError.invalidArgument(
                op: "Window2D",
                detail:
                    "kernel, stride and dilation must be positive and padding non-negative, got kernel \(kernel), stride \(stride), padding \(padding), dilation \(dilation)"
            )
        }
        let h = (height + 2 * padding.height - dilation.height * (kernel.height - 1) - 1) / stride.height + 1
        let w = (width + 2 * padding.width - dilation.width * (kernel.width - 1) - 1) / stride.width + 1
        guard h > 0, w > 0 else {
            throw TensorError.shapeMismatch(
                op: "Window2D",
                detail:
                    "input \(height)x\(width) is smaller than the (dilated) kernel \(kernel) with padding \(padding)")
        }
        return (h, w)
    }
}

extension Tensor {
    /// The windows of a `[N, C, H, W]` tensor as `[N, C, kh * kw, Ho * Wo]`: entry
    /// `[n, c, i * kw + j, y * Wo + x]` is the input at row `y * sh - ph + i * dh`, column
    /// `x * sw - pw + j * dw`, or `paddingValue` outside the input.
    public func windows(_ window: Window2D, paddingValue: Float = 0) -> Tensor {
        let (n, c, h, w, oh, ow) = validated { () -> (Int, Int, Int, Int, Int, Int) in
            guard rank == 4 else {
                throw TensorError.shapeMismatch(
                    op: "windows", detail: "needs a [N, C, H, W] tensor, got shape \(shape)")
            }
            let (oh, ow) = try window.outputSize(height: shape[2], width: shape[3])
            return (shape[0], shape[1], shape[2], shape[3], oh, ow)
        }
        let kh = window.kernel.height, kw = window.kernel.width
        let result = Tensor(shape: [n, c, kh * kw, oh * ow]) { out in
            storage.withUnsafeBufferPointer { src in
                let planes = n * c
                Parallel.forEachRange(
                    count: planes, grain: Swift.max(1, Parallel.elementwiseGrain / (kh * kw * oh * ow))
                ) { range in
                    for plane in range {
                        let s = src.baseAddress! + plane * h * w
                        let d = out.baseAddress! + plane * kh * kw * oh * ow
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let row = d + (i * kw + j) * oh * ow
                                for y in 0..<oh {
                                    let iy =
                                        y * window.stride.height - window.padding.height + i * window.dilation.height
                                    let line = row + y * ow
                                    if iy < 0 || iy >= h {
                                        for x in 0..<ow { line[x] = paddingValue }
                                        continue
                                    }
                                    let srcRow = s + iy * w
                                    let (lo, hi) = window.validColumns(j: j, width: w, outputWidth: ow)
                                    for x in 0..<Swift.min(lo, ow) { line[x] = paddingValue }
                                    if lo <= hi {
                                        let offset = j * window.dilation.width - window.padding.width
                                        if window.stride.width == 1 {
                                            (line + lo).update(from: srcRow + lo + offset, count: hi - lo + 1)
                                        } else {
                                            for x in lo...hi { line[x] = srcRow[x * window.stride.width + offset] }
                                        }
                                    }
                                    for x in Swift.max(hi + 1, 0)..<ow { line[x] = paddingValue }
                                }
                            }
                        }
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.record("windows", result, inputs: [self], tangent: { t, _, _ in t[0]!.windows(window) }) { g, _ in
            [g.foldingWindows(window, into: inputShape)]
        }
    }

    /// The adjoint of `windows`: adds each window entry back to the input position it came from
    /// (positions in the padding are dropped). `self` is `[N, C, kh * kw, Ho * Wo]`.
    public func foldingWindows(_ window: Window2D, into imageShape: [Int]) -> Tensor {
        let (n, c, h, w) = (imageShape[0], imageShape[1], imageShape[2], imageShape[3])
        let (oh, ow) = validated { try window.outputSize(height: h, width: w) }
        let kh = window.kernel.height, kw = window.kernel.width
        validated {
            guard shape == [n, c, kh * kw, oh * ow] else {
                throw TensorError.shapeMismatch(
                    op: "foldingWindows",
                    detail: "got \(shape), expected \([n, c, kh * kw, oh * ow]) for image \(imageShape)")
            }
        }
        var result = Tensor.zeros(imageShape)
        result.storage.withUnsafeMutableBufferPointer { out in
            storage.withUnsafeBufferPointer { src in
                Parallel.forEachRange(
                    count: n * c, grain: Swift.max(1, Parallel.elementwiseGrain / (kh * kw * oh * ow))
                ) { range in
                    for plane in range {
                        let d = out.baseAddress! + plane * h * w
                        let s = src.baseAddress! + plane * kh * kw * oh * ow
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let row = s + (i * kw + j) * oh * ow
                                for y in 0..<oh {
                                    let iy =
                                        y * window.stride.height - window.padding.height + i * window.dilation.height
                                    if iy < 0 || iy >= h { continue }
                                    let (lo, hi) = window.validColumns(j: j, width: w, outputWidth: ow)
                                    guard lo <= hi else { continue }
                                    let offset = j * window.dilation.width - window.padding.width
                                    let target = d + iy * w, source = row + y * ow
                                    for x in lo...hi { target[x * window.stride.width + offset] += source[x] }
                                }
                            }
                        }
                    }
                }
            }
        }
        let rule: TangentRule = { t, _, _ in t[0]!.foldingWindows(window, into: imageShape) }
        return Tensor.record("foldWindows", result, inputs: [self], tangent: rule) { g, _ in [g.windows(window)] }
    }
}
