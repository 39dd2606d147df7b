import Foundation
import InertiaTensor

/// Character-level text: the distinct characters (sorted) as the vocabulary and every character's
/// index. `dataset()` gives one sample per position (the `contextLength` previous characters and
/// the next one); `windows(count:in:seed:)` gives seeded windows with a target at every position,
/// for language models.
///
/// The built-in corpus is the King James Bible (1611; public domain, see Debian's
/// `/usr/share/doc/bible-kjv-text/copyright`) as Debian's `bible-kjv` package prints it
/// (`apt-get install bible-kjv`; its `bible` program decompresses `bible-kjv-text`'s data):
/// `CharacterText.kingJamesBible(contextLength:)`.
public struct CharacterText {
    /// The distinct characters, sorted; a character's index is its position here.
    public let vocabulary: [Character]
    public let encoded: [Int]
    public let contextLength: Int

    public init(text: String, contextLength: Int) throws {
        guard contextLength > 0 else {
            throw DataError.invalidArgument("context length must be positive, got \(contextLength)")
        }
        let characters = Array(text)
        guard characters.count > contextLength else {
            throw DataError.invalidArgument(
                "the text has \(characters.count) characters, fewer than context length \(contextLength) + 1")
        }
        vocabulary = Array(Set(characters)).sorted()
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
        encoded = characters.map { index[$0]! }
        self.contextLength = contextLength
    }

    /// Reads a UTF-8 file.
    public init(contentsOfFile path: String, contextLength: Int) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.fileNotFound(path: path, hint: "Check the path.")
        }
        guard let text = String(data: try Data(contentsOf: URL(fileURLWithPath: path)), encoding: .utf8) else {
            throw DataError.malformed(source: path, detail: "not valid UTF-8 text")
        }
        try self.init(text: text, contextLength: contextLength)
    }

    /// Where Debian's `bible-kjv` installs its reader.
    public static let bibleProgram = "/usr/bin/bible"

    /// The King James Bible, Genesis 1:1 to Revelation 22:21 (about 4.3 million characters), as
    /// `bible` prints it; with `characters`, only its first `characters` characters.
    public static func kingJamesBible(characters: Int? = nil, contextLength: Int) throws -> CharacterText {
        guard FileManager.default.isExecutableFile(atPath: bibleProgram) else {
            throw DataError.fileNotFound(
                path: bibleProgram, hint: "Install Debian's King James Bible reader: apt-get install bible-kjv.")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bibleProgram)
        process.arguments = ["Gen1:1-Rev22:21"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let text = String(data: data, encoding: .utf8), !text.isEmpty else {
            throw DataError.malformed(
                source: bibleProgram, detail: "exited with status \(process.terminationStatus) and no readable text")
        }
        return try CharacterText(text: characters.map { String(text.prefix($0)) } ?? text, contextLength: contextLength)
    }

    /// Inputs `[N, contextLength]` and targets `[N]`, as whole-float indices.
    public func dataset() -> Dataset {
        let n = encoded.count - contextLength
        var x = [Float](), y = [Float]()
        x.reserveCapacity(n * contextLength)
        for i in 0..<n {
            x += encoded[i..<(i + contextLength)].map { Float($0) }
            y.append(Float(encoded[i + contextLength]))
        }
        return try! Dataset(
            inputs: Tensor(shape: [n, contextLength], scalars: x), targets: Tensor(y), classCount: vocabulary.count)
    }

    /// `count` windows of `contextLength + 1` consecutive characters starting in `range` (seeded):
    /// inputs are each window's first `contextLength` indices (`[count, contextLength]`), targets
    /// the next index after every input position (`count * contextLength`, row-major).
    public func windows(count: Int, in range: Range<Int>, seed: UInt64) throws -> (inputs: IndexTensor, targets: [Int])
    {
        let length = contextLength
        guard count > 0, range.lowerBound >= 0, range.upperBound <= encoded.count, range.count > length else {
            throw DataError.invalidArgument(
                "CharacterText.windows: \(count) windows of \(length) + 1 characters do not fit in \(range) of \(encoded.count)"
            )
        }
        var rng = PhiloxGenerator(seed: seed)
        var inputs: [Int] = [], targets: [Int] = []
        inputs.reserveCapacity(count * length)
        targets.reserveCapacity(count * length)
        for _ in 0..<count {
            let start = range.lowerBound + Int(rng.next() % UInt64(range.count - length))
            inputs.append(contentsOf: encoded[start..<(start + length)])
            targets.append(contentsOf: encoded[(start + 1)...(start + length)])
        }
        return (IndexTensor(shape: [count, length], indices: inputs), targets)
    }

    public func decode(_ indices: [Int]) -> String { String(indices.map { vocabulary[$0] }) }
}
