import Foundation
import InertiaTensor
import InertiaTestSupport
import XCTest

@testable import InertiaData

final class ImageAugmentationTests: XCTestCase {
    /// The bilinear resize of a crop against PyTorch's `interpolate` (up, down and mixed).
    func testResizedCropMatchesPyTorch() throws {
        let f = try fixture("image-augmentation", "resize.json")
        let cases = f["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let box = c["box"] as! [Int], output = c["output"] as! [Int]
            let resized = ImageAugmentation.resizedCrop(
                doubles(c["image"]).map(Float.init), channels: c["channels"] as! Int, height: c["height"] as! Int,
                width: c["width"] as! Int, box: (box[0], box[1], box[2], box[3]), outputHeight: output[0],
                outputWidth: output[1])
            XCTAssertLessThan(maxDifference(resized.map(Double.init), doubles(c["resized"])), 1e-6, "box \(box)")
        }
    }

    func testIdentitySettingsLeaveImagesUnchangedAndFlipsReverseRows() {
        var rng = PhiloxGenerator(seed: 1)
        let images = Tensor.uniform([3, 2, 5, 6], using: &rng)
        let identity = ImageAugmentation(
            cropScale: 1...1, cropRatio: 1.2...1.2, flipProbability: 0, brightness: 0, contrast: 0, noise: 0)
        XCTAssertEqual(identity(images, using: &rng).scalars, images.scalars)
        let flip = ImageAugmentation(
            cropScale: 1...1, cropRatio: 1.2...1.2, flipProbability: 1, brightness: 0, contrast: 0, noise: 0)
        let flipped = flip(images, using: &rng)
        XCTAssertEqual(flipped.scalars[0..<6].reversed(), images.scalars[0..<6].map { $0 })
        XCTAssertEqual(flip(flipped, using: &rng).scalars, images.scalars)
    }

    /// Brightness scales each image by one factor in 1 ± 0.3; a seed gives the same views; the
    /// crops stay in the image and within the scale range.
    func testJitterRangesCropsAndDeterminism() {
        var rng = PhiloxGenerator(seed: 2)
        let images = Tensor.uniform([50, 1, 8, 8], low: 0.1, high: 0.6, using: &rng)
        let brightness = ImageAugmentation(
            cropScale: 1...1, cropRatio: 1...1, flipProbability: 0, brightness: 0.3, contrast: 0, noise: 0)
        let bright = brightness(images, using: &rng).scalars
        let source = images.scalars
        var factors: [Float] = []
        for n in 0..<50 {
            let ratios = (0..<64).map { bright[n * 64 + $0] / source[n * 64 + $0] }
            XCTAssertLessThan(ratios.max()! - ratios.min()!, 1e-5)
            factors.append(ratios[0])
        }
        XCTAssertTrue(factors.allSatisfy { (0.7...1.3).contains($0) })
        XCTAssertGreaterThan(factors.max()! - factors.min()!, 0.3)
        let augmentation = ImageAugmentation()
        var a = PhiloxGenerator(seed: 9), b = PhiloxGenerator(seed: 9)
        XCTAssertEqual(augmentation(images, using: &a).scalars, augmentation(images, using: &b).scalars)
        for _ in 0..<200 {
            let box = augmentation.cropBox(height: 28, width: 28, using: &rng)
            XCTAssertTrue(box.top >= 0 && box.left >= 0 && box.top + box.height <= 28 && box.left + box.width <= 28)
            let fraction = Double(box.height * box.width) / (28 * 28)
            XCTAssertTrue((0.5...1.05).contains(fraction), "\(box)")
        }
    }
}
