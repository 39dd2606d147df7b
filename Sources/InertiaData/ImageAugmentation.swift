import Foundation
import InertiaTensor

/// Random image augmentations on `[N, C, H, W]` batches with values in `[0, 1]`, drawn per image
/// from a seeded generator (the views of self-supervised learning; the MSBReg spec's section 5):
/// torchvision's `RandomResizedCrop` (area fraction in `cropScale`, aspect ratio log-uniform in
/// `cropRatio`, 10 tries then the centre crop) resized back to `H × W` bilinearly
/// (`align_corners = False`), a horizontal flip, brightness then contrast jitter (factors uniform
/// in `1 ± brightness`, `1 ± contrast`; contrast blends with the image's mean; both clamp to
/// `[0, 1]`, as torchvision's), then additive Gaussian noise (not clamped). Off the tape.
public struct ImageAugmentation: Sendable, Equatable {
    public var cropScale: ClosedRange<Double>
    public var cropRatio: ClosedRange<Double>
    public var flipProbability: Double
    public var brightness: Double
    public var contrast: Double
    public var noise: Double

    public init(
        cropScale: ClosedRange<Double> = 0.6...1, cropRatio: ClosedRange<Double> = 0.75...(4.0 / 3),
        flipProbability: Double = 0.5, brightness: Double = 0.3, contrast: Double = 0.3, noise: Double = 0.05
    ) {
        validated(
            cropScale.lowerBound > 0 && cropScale.upperBound <= 1 && cropRatio.lowerBound > 0
                && (0...1).contains(flipProbability) && (0..<1).contains(brightness) && (0..<1).contains(contrast)
                && noise >= 0,
            "ImageAugmentation: scale in (0, 1], ratio > 0, flip probability in [0, 1], jitter in [0, 1), noise >= 0")
        self.cropScale = cropScale
        self.cropRatio = cropRatio
        self.flipProbability = flipProbability
        self.brightness = brightness
        self.contrast = contrast
        self.noise = noise
    }

    /// One augmented view of every image of `images` `[N, C, H, W]`.
    public func callAsFunction(_ images: Tensor, using rng: inout PhiloxGenerator) -> Tensor {
        validated(images.rank == 4, "ImageAugmentation: needs images [N, C, H, W], got \(images.shape)")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let plane = c * h * w
        let source = images.scalars
        var out = [Float](repeating: 0, count: source.count)
        for image in 0..<n {
            let box = cropBox(height: h, width: w, using: &rng)
            let flips = rng.nextDouble() < flipProbability
            let b = Float(1 + brightness * (2 * rng.nextDouble() - 1))
            let k = Float(1 + contrast * (2 * rng.nextDouble() - 1))
            var view = Self.resizedCrop(
                Array(source[(image * plane)..<((image + 1) * plane)]), channels: c, height: h, width: w, box: box,
                outputHeight: h, outputWidth: w)
            if flips {
                for channel in 0..<c {
                    for row in 0..<h { view[(channel * h + row) * w..<(channel * h + row + 1) * w].reverse() }
                }
            }
            for i in view.indices { view[i] = Swift.min(1, Swift.max(0, view[i] * b)) }
            let mean = view.reduce(0, +) / Float(view.count)
            for i in view.indices { view[i] = Swift.min(1, Swift.max(0, k * view[i] + (1 - k) * mean)) }
            if noise > 0 { for i in view.indices { view[i] += Float(noise * rng.nextNormal()) } }
            out.replaceSubrange((image * plane)..<((image + 1) * plane), with: view)
        }
        return Tensor(shape: images.shape, scalars: out)
    }

    /// A crop `(top, left, height, width)` as torchvision's `RandomResizedCrop.get_params`.
    func cropBox(
        height: Int, width: Int, using rng: inout PhiloxGenerator
    ) -> (top: Int, left: Int, height: Int, width: Int) {
        let area = Double(height * width)
        let (logLow, logHigh) = (Foundation.log(cropRatio.lowerBound), Foundation.log(cropRatio.upperBound))
        for _ in 0..<10 {
            let target =
                area * (cropScale.lowerBound + (cropScale.upperBound - cropScale.lowerBound) * rng.nextDouble())
            let ratio = Foundation.exp(logLow + (logHigh - logLow) * rng.nextDouble())
            let w = Int((target * ratio).squareRoot().rounded()), h = Int((target / ratio).squareRoot().rounded())
            if w > 0 && w <= width && h > 0 && h <= height {
                return (rng.nextInt(below: height - h + 1), rng.nextInt(below: width - w + 1), h, w)
            }
        }
        // The centre crop at the ratio clamped into range.
        let ratio = Double(width) / Double(height)
        let (h, w): (Int, Int) =
            ratio < cropRatio.lowerBound
            ? (Int((Double(width) / cropRatio.lowerBound).rounded()), width)
            : ratio > cropRatio.upperBound
                ? (height, Int((Double(height) * cropRatio.upperBound).rounded())) : (height, width)
        return ((height - h) / 2, (width - w) / 2, h, w)
    }

    /// The `box` of a `[channels, height, width]` image resized to `outputHeight × outputWidth`
    /// by bilinear interpolation with PyTorch's `align_corners = False` (source coordinate
    /// `(i + 0.5) · in / out − 0.5`, clamped at 0; no antialiasing).
    public static func resizedCrop(
        _ image: [Float], channels: Int, height: Int, width: Int, box: (top: Int, left: Int, height: Int, width: Int),
        outputHeight: Int, outputWidth: Int
    ) -> [Float] {
        validated(
            box.top >= 0 && box.left >= 0 && box.height > 0 && box.width > 0 && box.top + box.height <= height
                && box.left + box.width <= width && image.count == channels * height * width,
            "ImageAugmentation.resizedCrop: box \(box) outside a \(height) x \(width) image")
        func taps(_ out: Int, _ size: Int, _ outSize: Int) -> (Int, Int, Float) {
            let source = Swift.max(0, (Double(out) + 0.5) * Double(size) / Double(outSize) - 0.5)
            let low = Swift.min(Int(source), size - 1)
            return (low, Swift.min(low + 1, size - 1), Float(source - Double(low)))
        }
        let rows = (0..<outputHeight).map { taps($0, box.height, outputHeight) }
        let columns = (0..<outputWidth).map { taps($0, box.width, outputWidth) }
        var result = [Float](repeating: 0, count: channels * outputHeight * outputWidth)
        for channel in 0..<channels {
            func pixel(_ r: Int, _ c: Int) -> Float { image[(channel * height + box.top + r) * width + box.left + c] }
            for (i, (r0, r1, dy)) in rows.enumerated() {
                for (j, (c0, c1, dx)) in columns.enumerated() {
                    let top = pixel(r0, c0) * (1 - dx) + pixel(r0, c1) * dx
                    let bottom = pixel(r1, c0) * (1 - dx) + pixel(r1, c1) * dx
                    result[(channel * outputHeight + i) * outputWidth + j] = top * (1 - dy) + bottom * dy
                }
            }
        }
        return result
    }
}
