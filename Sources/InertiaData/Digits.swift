import Foundation
import InertiaTensor

/// The built-in dataset: the UCI "Optical Recognition of Handwritten Digits" set as scikit-learn
/// ships it (1797 images 8x8, pixel values 0...16, ten classes; CC BY 4.0, E. Alpaydin and
/// C. Kaynak), embedded as a package resource so the main command needs no download.
public enum Digits {
    /// All 1797 samples, pixels scaled to [0, 1] (divided by 16), 64 features.
    public static func load() throws -> Dataset {
        guard let url = Bundle.module.url(forResource: "digits.csv", withExtension: "gz") else {
            throw DataError.fileNotFound(
                path: "digits.csv.gz", hint: "The package resource is missing; rebuild the package.")
        }
        return try parse(Gzip.decompress(Data(contentsOf: url), source: url.path), source: url.path)
    }

    /// Parses rows of 64 pixel values and a label.
    public static func parse(_ data: Data, source: String) throws -> Dataset {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError.malformed(source: source, detail: "not UTF-8 text")
        }
        var pixels: [Float] = [], labels: [Float] = []
        for (number, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: ",")
            guard fields.count == 65 else {
                throw DataError.malformed(
                    source: source, detail: "line \(number + 1) has \(fields.count) fields, expected 65")
            }
            for field in fields.prefix(64) {
                guard let v = Float(field), v >= 0, v <= 16 else {
                    throw DataError.malformed(source: source, detail: "line \(number + 1): bad pixel value '\(field)'")
                }
                pixels.append(v / 16)
            }
            guard let label = Int(fields[64]), (0..<10).contains(label) else {
                throw DataError.malformed(source: source, detail: "line \(number + 1): bad label '\(fields[64])'")
            }
            labels.append(Float(label))
        }
        return try Dataset(
            inputs: Tensor(shape: [labels.count, 64], scalars: pixels), targets: Tensor(labels), classCount: 10)
    }
}
