import CZlib
import Foundation

/// gzip and zlib streams through the system's zlib.
public enum Gzip {
    /// `data` as one zlib stream (RFC 1950: deflate at the default level), the format PNG's image
    /// data takes.
    public static func zlibCompress(_ data: Data) -> Data {
        var bound = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(bound))
        let status = data.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                compress2(
                    out.baseAddress, &bound, input.bindMemory(to: Bytef.self).baseAddress, uLong(data.count),
                    Z_DEFAULT_COMPRESSION)
            }
        }
        // compress2 fails only for lack of memory or a too-small buffer; compressBound rules out the latter.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Data(output[0..<Int(bound)])
    }

    /// Whether `data` starts with the gzip magic bytes.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Inflates a gzip (or zlib) stream; `source` names the data in errors. Output beyond
    /// `maximumSize` bytes (2 GiB by default) is refused, so a decompression bomb is an error
    /// rather than an exhausted machine.
    public static func decompress(_ data: Data, source: String, maximumSize: Int = 1 << 31) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.malformed(source: source, detail: "zlib failed to initialize")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason =
                        status == Z_BUF_ERROR
                        ? "truncated compressed data" : "corrupted compressed data (zlib status \(status))"
                    throw DataError.malformed(source: source, detail: reason)
                }
                guard produced <= maximumSize - output.count else {
                    throw DataError.malformed(
                        source: source, detail: "inflates to more than \(maximumSize) bytes (a decompression bomb?)")
                }
                output.append(contentsOf: buffer[0..<produced])
                if status == Z_OK && stream.avail_in == 0 && produced == 0 {
                    throw DataError.malformed(source: source, detail: "truncated compressed data")
                }
            } while status != Z_STREAM_END
        }
        return output
    }

    /// Reads a file, inflating it when it is gzip-compressed.
    public static func readFile(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.fileNotFound(path: path, hint: "Check the path.")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return isCompressed(data) ? try decompress(data, source: path) : data
    }
}

/// CRC-32 (the IEEE polynomial of gzip and PNG) through zlib, for integrity checks of files the
/// project writes.
public struct CRC32 {
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            let n = Swift.min(rest.count, Int(UInt32.max))
            value = UInt32(crc32(uLong(value), rest.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(n)))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Eight hexadecimal digits.
    public var hex: String { String(format: "%08x", value) }
}
