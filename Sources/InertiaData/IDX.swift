import Foundation
import InertiaTensor

/// The IDX format of MNIST and Fashion-MNIST: big-endian header `00 00 <type> <ndim>`, `ndim`
/// 32-bit sizes, then the values row-major. Unsigned bytes (type 0x08) only, gzip allowed.
public enum IDX {
    /// Shape and bytes of an IDX file.
    public static func read(_ path: String) throws -> (shape: [Int], bytes: [UInt8]) {
        try parse(Gzip.readFile(path), source: path)
    }

    public static func parse(_ data: Data, source: String) throws -> (shape: [Int], bytes: [UInt8]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else {
            throw DataError.malformed(
                source: source, detail: "file is \(bytes.count) bytes, shorter than the IDX header")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DataError.malformed(
                source: source,
                detail: "bad IDX magic \(bytes[0..<4].map { String(format: "%02x", $0) }.joined(separator: " "))")
        }
        guard bytes[2] == 0x08 else {
            throw DataError.malformed(
                source: source,
                detail:
                    "IDX element type 0x\(String(format: "%02x", bytes[2])) is not supported (only 0x08, unsigned byte)"
            )
        }
        let ndim = Int(bytes[3])
        guard ndim >= 1, bytes.count >= 4 + 4 * ndim else {
            throw DataError.malformed(
                source: source, detail: "IDX header declares \(ndim) dimensions but the file ends early")
        }
        var shape: [Int] = []
        for d in 0..<ndim {
            let o = 4 + 4 * d
            shape.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        guard let expected = Shape.checkedCount(shape)?.count else {
            throw DataError.malformed(
                source: source, detail: "IDX shape \(shape) is too large (its size overflows a 64-bit integer)")
        }
        let payload = bytes.count - 4 - 4 * ndim
        guard payload == expected else {
            throw DataError.malformed(
                source: source,
                detail:
                    "IDX shape \(shape) needs \(expected) bytes of data, the file has \(payload)\(payload < expected ? " (truncated)" : "")"
            )
        }
        return (shape, Array(bytes[(4 + 4 * ndim)...]))
    }
}

/// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 60000 training and 10000 test images 28x28, ten
/// classes, from the gzipped IDX files of Debian's `dataset-fashion-mnist` package or a folder.
public enum FashionMNIST {
    public static let debianDirectory = "/usr/share/datasets/fashion-mnist"
    public static let installHint =
        "Install it with `apt-get install dataset-fashion-mnist` (Debian), or give the folder holding train-images-idx3-ubyte.gz and the other three IDX files (`inertia train --data-dir`)."

    /// Train and test sets with pixels scaled to [0, 1], images flattened to 784 features.
    public static func load(directory: String = debianDirectory) throws -> (train: Dataset, test: Dataset) {
        func part(_ name: String) throws -> Dataset {
            let imagesPath = directory + "/\(name)-images-idx3-ubyte.gz"
            let labelsPath = directory + "/\(name)-labels-idx1-ubyte.gz"
            for path in [imagesPath, labelsPath] where !FileManager.default.fileExists(atPath: path) {
                throw DataError.fileNotFound(path: path, hint: "Fashion-MNIST is not installed. " + installHint)
            }
            let images = try IDX.read(imagesPath), labels = try IDX.read(labelsPath)
            guard images.shape.count == 3, labels.shape.count == 1, images.shape[0] == labels.shape[0] else {
                throw DataError.malformed(
                    source: directory, detail: "images \(images.shape) and labels \(labels.shape) do not match")
            }
            let features = images.shape[1] * images.shape[2]
            guard images.shape[0] > 0, features > 0 else {
                throw DataError.malformed(
                    source: imagesPath,
                    detail: "holds \(images.shape[0]) images of \(images.shape[1])x\(images.shape[2]) pixels; "
                        + "Fashion-MNIST needs at least one image of at least one pixel")
            }
            let inputs = Tensor(shape: [images.shape[0], features], scalars: images.bytes.map { Float($0) / 255 })
            return try Dataset(inputs: inputs, targets: Tensor(labels.bytes.map { Float($0) }), classCount: 10)
        }
        return (try part("train"), try part("t10k"))
    }
}
