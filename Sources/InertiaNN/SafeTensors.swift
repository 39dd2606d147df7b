import Foundation
import InertiaTensor

/// The safetensors weight format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header mapping each name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets into
/// the data that follows) plus an optional `"__metadata__"` of strings, then the raw little-endian
/// data. Inertia reads F32 (and converts F64, F16 and BF16 to Float) and writes F32; files it
/// writes load in Python's `safetensors` and PyTorch.
public enum SafeTensors {
    /// The tensors of a file, in file order, and its string metadata.
    public struct File: Equatable {
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]

        public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }

        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

        public var dictionary: [String: Tensor] {
            Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        }

        public static func == (a: File, b: File) -> Bool {
            a.metadata == b.metadata && a.tensors.map(\.name) == b.tensors.map(\.name)
                && zip(a.tensors, b.tensors).allSatisfy {
                    $0.tensor.shape == $1.tensor.shape && $0.tensor.scalars == $1.tensor.scalars
                }
        }
    }

    /// Serializes tensors (names unique, not `__metadata__`) in the given order.
    public static func encode(_ file: File) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        var seen = Set<String>()
        for (name, tensor) in file.tensors {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw SafeTensorsError.malformed(
                    source: "encode", detail: "tensor name '\(name)' is reserved or repeated")
            }
            let bytes = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, tensor) in file.tensors {
            tensor.withUnsafeBufferPointer { p in
                out.append(
                    UnsafeBufferPointer(
                        start: UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: UInt8.self), count: p.count * 4)
                )
            }
        }
        return out
    }

    /// Parses a safetensors file held in memory; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws -> File {
        func fail(_ detail: String) -> SafeTensorsError { .malformed(source: source, detail: detail) }
        guard data.count >= 8 else {
            throw fail("file is \(data.count) bytes, shorter than the 8-byte header length (truncated?)")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail(
                "header length \(headerLength) exceeds the file size \(data.count) (truncated or not a safetensors file)"
            )
        }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerLength)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        let base = 8 + Int(headerLength)
        let payload = data.count - base
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let strings = m as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = strings
        }
        var entries: [(name: String, begin: Int, end: Int, shape: [Int], dtype: String)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("entry '\(name)' lacks dtype, shape or data_offsets") }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("entry '\(name)' has a negative dimension in \(shape)")
            }
            entries.append((name, offsets[0], offsets[1], shape, dtype))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        var expectedBegin = 0
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in entries {
            let width: Int
            switch e.dtype {
            case "F32": width = 4
            case "F64": width = 8
            case "F16", "BF16": width = 2
            default: throw fail("entry '\(e.name)' has dtype \(e.dtype); supported: F32, F64, F16, BF16")
            }
            guard let (count, size) = Shape.checkedCount(e.shape, width: width) else {
                throw fail("entry '\(e.name)' has shape \(e.shape), whose size overflows a 64-bit integer")
            }
            guard e.begin == expectedBegin, e.end >= e.begin, e.end - e.begin == size else {
                throw fail(
                    "entry '\(e.name)' has data offsets [\(e.begin), \(e.end)], expected \(size) bytes from \(expectedBegin)"
                )
            }
            guard e.end <= payload else {
                throw fail("entry '\(e.name)' ends at byte \(e.end) but the data holds \(payload) bytes (truncated)")
            }
            let bytes = [UInt8](data[(data.startIndex + base + e.begin)..<(data.startIndex + base + e.end)])
            tensors.append((e.name, Tensor(shape: e.shape, scalars: convert(bytes, dtype: e.dtype, count: count))))
            expectedBegin = e.end
        }
        guard expectedBegin == payload else {
            throw fail("\(payload - expectedBegin) bytes of data follow the last tensor")
        }
        return File(tensors: tensors, metadata: metadata)
    }

    static func convert(_ bytes: [UInt8], dtype: String, count: Int) -> [Float] {
        func word(_ i: Int, _ n: Int) -> UInt64 {
            (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[i * n + $1]) << (8 * UInt64($1)) }
        }
        switch dtype {
        case "F32": return (0..<count).map { Float(bitPattern: UInt32(word($0, 4))) }
        case "F64": return (0..<count).map { Float(Double(bitPattern: word($0, 8))) }
        case "BF16": return (0..<count).map { Float(bitPattern: UInt32(word($0, 2)) << 16) }
        default: return (0..<count).map { Float(Float16(bitPattern: UInt16(word($0, 2)))) }
        }
    }

    public static func read(_ path: String) throws -> File {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SafeTensorsError.fileNotFound(path)
        }
        guard !isDirectory.boolValue else {
            throw SafeTensorsError.malformed(source: path, detail: "it is a directory, not a file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SafeTensorsError.malformed(
                source: path,
                detail: "cannot be read (\((error as NSError).localizedFailureReason ?? "permission denied?"))")
        }
        return try decode(data, source: path)
    }

    /// Writes atomically: a temporary file in the same folder, fsync, rename.
    public static func write(_ file: File, to path: String) throws {
        try AtomicFile.write(encode(file), to: path)
    }
}

/// A file that is missing or is not valid safetensors, with the reason.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(String)
    case malformed(source: String, detail: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such file"
        case .malformed(let source, let detail): return "\(source): not a valid safetensors file: \(detail)"
        }
    }
}

/// Atomic file replacement: write a temporary file beside the target, fsync it, rename it over
/// the target, fsync the folder. A crash leaves either the old file or the new one, never a mix.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw AtomicFileError.cannotWrite(path: temporary, reason: String(cString: strerror(errno)))
        }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        try data.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw AtomicFileError.cannotWrite(path: temporary, reason: reason)
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AtomicFileError.cannotWrite(path: temporary, reason: "fsync failed: \(reason)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            throw AtomicFileError.cannotWrite(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        ok = true
        let dir = open(folder, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}

/// A file that could not be written, created, synced or renamed into place.
public enum AtomicFileError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): return "\(path): cannot write: \(reason)"
        }
    }
}
