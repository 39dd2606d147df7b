import Foundation
import InertiaData

/// A minimal PNG encoder (8-bit RGB, no interlacing, filter 0 on every row) for the heat maps of
/// reports, which embed the image as a `data:` URI so the page stays one self-contained file.
enum PNG {
    /// The PNG file of a `width x height` image given as row-major RGB triples, top row first.
    static func encode(rgb: [UInt8], width: Int, height: Int) -> Data {
        precondition(
            width > 0 && height > 0 && rgb.count == 3 * width * height, "PNG: \(rgb.count) bytes for \(width)x\(height)"
        )
        var raw = Data(capacity: (3 * width + 1) * height)
        for row in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[(3 * width * row)..<(3 * width * (row + 1))])
        }
        var header = Data()
        header.append(bigEndian: UInt32(width))
        header.append(bigEndian: UInt32(height))
        header.append(contentsOf: [8, 2, 0, 0, 0])
        var file = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        file.append(chunk: "IHDR", header)
        file.append(chunk: "IDAT", Gzip.zlibCompress(raw))
        file.append(chunk: "IEND", Data())
        return file
    }
}

extension Data {
    fileprivate mutating func append(bigEndian value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// A PNG chunk: length, type, data and the CRC-32 of type and data.
    fileprivate mutating func append(chunk type: String, _ data: Data) {
        append(bigEndian: UInt32(data.count))
        var crc = CRC32()
        let body = Data(type.utf8) + data
        body.withUnsafeBytes { crc.update($0) }
        append(body)
        append(bigEndian: crc.value)
    }
}
