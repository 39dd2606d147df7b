import Foundation
import InertiaTensor
import XCTest

@testable import InertiaData

final class DataTests: XCTestCase {
    func testBuiltInDigits() throws {
        let digits = try Digits.load()
        XCTAssertEqual(digits.inputs.shape, [1797, 64])
        XCTAssertEqual(digits.classCount, 10)
        XCTAssertEqual(Set(digits.labels), Set(0..<10))
        XCTAssertLessThanOrEqual(digits.inputs.max().item, 1)
        XCTAssertEqual(Array(digits.inputs.scalars.prefix(5)), [0, 0, 5.0 / 16, 13.0 / 16, 9.0 / 16])
        XCTAssertThrowsError(try Digits.parse(Data("1,2,3\n".utf8), source: "bad.csv")) {
            XCTAssertEqual("\($0)", "bad.csv: line 1 has 3 fields, expected 65")
        }
    }

    /// Labels outside `0..<classCount` are named errors, whatever their value (infinite and huge
    /// ones used to crash converting to Int).
    func testLabelsOutsideTheClassesAreRefused() throws {
        for label: Float in [.infinity, -.infinity, .nan, 1e19, 3, -1, 0.5] {
            XCTAssertThrowsError(
                try Dataset(inputs: Tensor.zeros([2, 1]), targets: Tensor([0, label]), classCount: 3)
            ) {
                XCTAssertTrue("\($0)".contains("is not a class index in 0..<3"), "\($0)")
            }
        }
        XCTAssertNoThrow(try Dataset(inputs: Tensor.zeros([2, 1]), targets: Tensor([0, 2]), classCount: 3))
    }

    func testLoaderIsDeterministicCoversEverySampleAndDropsLast() throws {
        let data = try Dataset(
            inputs: Tensor(shape: [10, 1], scalars: (0..<10).map(Float.init)), targets: Tensor.zeros([10]))
        let loader = try DataLoader(data, batchSize: 4, seed: 3)
        XCTAssertEqual(loader.batchCount, 3)
        let seen = loader.batches(epoch: 0).flatMap { $0.inputs.scalars }
        XCTAssertEqual(seen.sorted(), (0..<10).map(Float.init))
        XCTAssertNotEqual(seen, (0..<10).map(Float.init))
        XCTAssertEqual(
            loader.batches(epoch: 0).map(\.inputs),
            try DataLoader(data, batchSize: 4, seed: 3).batches(epoch: 0).map(\.inputs))
        XCTAssertNotEqual(loader.order(epoch: 0), loader.order(epoch: 1))
        XCTAssertEqual(
            loader.batches(epoch: 1, startingAt: 1).map(\.inputs),
            Array(loader.batches(epoch: 1).dropFirst()).map(\.inputs))
        let dropping = try DataLoader(data, batchSize: 4, shuffles: false, dropsLast: true)
        XCTAssertEqual(dropping.batches(epoch: 0).map { $0.inputs.count }, [4, 4])
        XCTAssertThrowsError(try DataLoader(data, batchSize: 0))
        let (train, test) = try data.split(testFraction: 0.3, seed: 1)
        XCTAssertEqual(train.count, 7)
        XCTAssertEqual((train.inputs.scalars + test.inputs.scalars).sorted(), (0..<10).map(Float.init))
    }

    /// Each rank's share of a batch: together the shares are the batch, at any world size, and a
    /// world larger than the last batch leaves some ranks an empty share.
    func testShardsOfABatchAreTheBatch() throws {
        let data = try Dataset(
            inputs: Tensor(shape: [10, 1], scalars: (0..<10).map(Float.init)), targets: Tensor.zeros([10]))
        let loader = try DataLoader(data, batchSize: 4, seed: 3)
        let order = loader.order(epoch: 2)
        for index in 0..<loader.batchCount {
            let whole = loader.batch(epoch: 2, index: index, order: order).inputs.scalars
            for worldSize in [1, 2, 3, 5] {
                let shares = (0..<worldSize).map {
                    loader.batch(epoch: 2, index: index, order: order, rank: $0, worldSize: worldSize)
                }
                XCTAssertTrue(shares.allSatisfy { $0.batchCount == whole.count })
                XCTAssertEqual(shares.flatMap { $0.inputs.scalars }.sorted(), whole.sorted(), "world \(worldSize)")
                XCTAssertEqual(shares.map { $0.inputs.shape[0] }.reduce(0, +), whole.count)
            }
        }
        let last = loader.batch(epoch: 0, index: 2, order: loader.order(epoch: 0), rank: 4, worldSize: 5)
        XCTAssertEqual(last.inputs.shape, [0, 1], "the last batch has 2 samples; rank 4 of 5 gets none")
    }

    func idxBytes(_ shape: [Int], _ payload: [UInt8], type: UInt8 = 0x08) -> Data {
        var d = Data([0, 0, type, UInt8(shape.count)])
        for s in shape {
            d.append(contentsOf: [UInt8(s >> 24 & 255), UInt8(s >> 16 & 255), UInt8(s >> 8 & 255), UInt8(s & 255)])
        }
        d.append(contentsOf: payload)
        return d
    }

    func testIDXParserOnValidAndMalformedFilesAndGzip() throws {
        let parsed = try IDX.parse(idxBytes([2, 3], [1, 2, 3, 4, 5, 6]), source: "ok")
        XCTAssertEqual(parsed.shape, [2, 3])
        XCTAssertEqual(parsed.bytes, [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try IDX.parse(idxBytes([2, 3], [1, 2, 3]), source: "short.idx")) {
            XCTAssertEqual("\($0)", "short.idx: IDX shape [2, 3] needs 6 bytes of data, the file has 3 (truncated)")
        }
        XCTAssertThrowsError(try IDX.parse(idxBytes([1], [0, 0, 0, 0], type: 0x0D), source: "float.idx")) {
            XCTAssertTrue("\($0)".contains("0x0d is not supported"))
        }
        XCTAssertThrowsError(try IDX.parse(Data([1, 2, 8, 1]), source: "magic.idx")) {
            XCTAssertTrue("\($0)".contains("bad IDX magic"))
        }
        XCTAssertThrowsError(try IDX.parse(Data([0, 0]), source: "tiny.idx")) {
            XCTAssertTrue("\($0)".contains("shorter"))
        }
        let hugeShape = [UInt32.max, UInt32.max, UInt32.max].map(Int.init)
        XCTAssertThrowsError(try IDX.parse(idxBytes(hugeShape, []), source: "huge.idx")) {
            XCTAssertTrue("\($0)".contains("is too large"), "\($0)")
        }
        // gzip round trip through the system's gzip.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inertia-idx-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let raw = folder.appendingPathComponent("x.idx")
        try idxBytes([3], [7, 8, 9]).write(to: raw)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-k", raw.path]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(try IDX.read(raw.path + ".gz").bytes, [7, 8, 9])
        let compressed = try Data(contentsOf: URL(fileURLWithPath: raw.path + ".gz"))
        XCTAssertThrowsError(try Gzip.decompress(compressed.prefix(compressed.count - 12), source: "cut.gz")) {
            XCTAssertTrue("\($0)".contains("cut.gz"), "\($0)")
        }
        // A stream that inflates past the cap is refused by name (a decompression bomb).
        let zeros = folder.appendingPathComponent("zeros")
        try Data(count: 1 << 20).write(to: zeros)
        let squeeze = Process()
        squeeze.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        squeeze.arguments = ["gzip", "-k", zeros.path]
        try squeeze.run()
        squeeze.waitUntilExit()
        let bomb = try Data(contentsOf: URL(fileURLWithPath: zeros.path + ".gz"))
        XCTAssertEqual(try Gzip.decompress(bomb, source: "zeros.gz").count, 1 << 20)
        XCTAssertThrowsError(try Gzip.decompress(bomb, source: "zeros.gz", maximumSize: 100_000)) {
            XCTAssertEqual("\($0)", "zeros.gz: inflates to more than 100000 bytes (a decompression bomb?)")
        }
    }

    /// IDX files with no images (0 x 28 x 28) or images of no pixels (2 x 0 x 0) are named errors.
    func testFashionMNISTWithoutImagesOrPixelsIsRefused() throws {
        for (images, found) in [
            ([0, 28, 28], "holds 0 images of 28x28 pixels"), ([2, 0, 0], "holds 2 images of 0x0 pixels"),
        ] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "inertia-empty-fashion-\(getpid())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            for part in ["train", "t10k"] {
                try idxBytes(images, []).write(to: folder.appendingPathComponent("\(part)-images-idx3-ubyte"))
                try idxBytes([images[0]], [UInt8](repeating: 1, count: images[0]))
                    .write(to: folder.appendingPathComponent("\(part)-labels-idx1-ubyte"))
            }
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gzip.arguments =
                ["gzip"] + ["train", "t10k"].flatMap { ["\($0)-images-idx3-ubyte", "\($0)-labels-idx1-ubyte"] }
            gzip.currentDirectoryURL = folder
            try gzip.run()
            gzip.waitUntilExit()
            XCTAssertEqual(gzip.terminationStatus, 0)
            XCTAssertThrowsError(try FashionMNIST.load(directory: folder.path)) {
                XCTAssertTrue("\($0)".contains(found), "\($0)")
            }
        }
    }

    func testFashionMNISTMissingGivesInstallHint() {
        XCTAssertThrowsError(try FashionMNIST.load(directory: "/nonexistent")) { error in
            XCTAssertTrue("\(error)".contains("apt-get install dataset-fashion-mnist"), "\(error)")
        }
    }

    func testSyntheticGeneratorsAreSeededAndShaped() throws {
        XCTAssertEqual(Synthetic.moons(count: 100, seed: 1).inputs, Synthetic.moons(count: 100, seed: 1).inputs)
        XCTAssertNotEqual(Synthetic.moons(count: 100, seed: 1).inputs, Synthetic.moons(count: 100, seed: 2).inputs)
        let circles = Synthetic.circles(count: 200, noise: 0, seed: 1)
        let radii = (0..<200).map { i in
            (circles.inputs[i, 0] * circles.inputs[i, 0] + circles.inputs[i, 1] * circles.inputs[i, 1]).squareRoot()
        }
        for (r, label) in zip(radii, circles.labels) { XCTAssertEqual(r, label == 0 ? 1 : 0.5, accuracy: 1e-5) }
        let (mixture, centers) = try Synthetic.gaussianMixture(count: 3000, components: 3, spread: 0.1, seed: 4)
        for k in 0..<3 {
            let rows = (0..<3000).filter { mixture.labels[$0] == k }
            let meanX = rows.map { Double(mixture.inputs[$0, 0]) }.reduce(0, +) / Double(rows.count)
            XCTAssertEqual(meanX, centers[k][0], accuracy: 0.02)
        }
        let board = Synthetic.checkerboard(count: 500, seed: 2)
        XCTAssertEqual(board.inputs.shape, [500, 2])
        XCTAssertEqual(Set(Synthetic.spirals(count: 90, classes: 3, seed: 1).labels), [0, 1, 2])
        let (linear, w, b) = Synthetic.linearRegression(count: 50, dimension: 3, noise: 0, seed: 5)
        let row0 = (0..<3).map { Double(linear.inputs[0, $0]) }
        XCTAssertEqual(Double(linear.targets[0, 0]), zip(row0, w).reduce(b) { $0 + $1.0 * $1.1 }, accuracy: 1e-4)
        let logistic = Synthetic.logisticRegression(count: 100, dimension: 2, seed: 1)
        XCTAssertEqual(Set(logistic.data.labels).isSubset(of: [0, 1]), true)
    }

    func testCharacterText() throws {
        let text = try CharacterText(text: "hello world", contextLength: 3)
        XCTAssertEqual(String(text.vocabulary), " dehlorw")
        let data = text.dataset()
        XCTAssertEqual(data.count, 8)
        XCTAssertEqual(text.decode(data.inputs.scalars.prefix(3).map { Int($0) }), "hel")
        XCTAssertEqual(text.decode([Int(data.targets.scalars[0])]), "l")
        XCTAssertThrowsError(try CharacterText(text: "ab", contextLength: 3))
    }

    func testCharacterTextWindowsPredictEveryNextCharacter() throws {
        let text = try CharacterText(text: "the quick brown fox jumps", contextLength: 4)
        let (inputs, targets) = try text.windows(count: 6, in: 4..<20, seed: 3)
        XCTAssertEqual(inputs.shape, [6, 4])
        for row in 0..<6 {
            let codes = Array(inputs.indices[(row * 4)..<(row * 4 + 4)])
            let next = Array(targets[(row * 4)..<(row * 4 + 4)])
            XCTAssertEqual(Array(next.dropLast()), Array(codes.dropFirst()))
            // The window lies inside the range: its text occurs there.
            let window = text.decode(codes + [next.last!])
            XCTAssertTrue(text.decode(Array(text.encoded[4..<20])).contains(window), window)
        }
        XCTAssertEqual(try text.windows(count: 6, in: 4..<20, seed: 3).inputs, inputs)
        XCTAssertNotEqual(try text.windows(count: 6, in: 4..<20, seed: 4).inputs, inputs)
        XCTAssertThrowsError(try text.windows(count: 2, in: 0..<4, seed: 0))
        XCTAssertThrowsError(try text.windows(count: 2, in: 20..<40, seed: 0))
    }

    func testKingJamesBibleWhenInstalled() throws {
        guard FileManager.default.isExecutableFile(atPath: CharacterText.bibleProgram) else {
            throw XCTSkip("apt-get install bible-kjv")
        }
        let text = try CharacterText.kingJamesBible(characters: 5000, contextLength: 8)
        XCTAssertEqual(text.encoded.count, 5000)
        XCTAssertTrue(text.decode(text.encoded).contains("In the beginning God created the heaven and the earth."))
        XCTAssertLessThan(text.vocabulary.count, 80)
    }

    /// The momentum-attention toy: A occurs exactly twice (at i and at the end), i is in range,
    /// the label is the token after i, and a seed gives the same batch.
    func testInductionTaskPlantsExactlyTwoCopies() throws {
        let task = try InductionTask(vocabulary: 16, length: 24)
        var rng = PhiloxGenerator(seed: 4)
        let batch = task.batch(count: 500, using: &rng)
        XCTAssertEqual(batch.tokens.shape, [500, 24])
        var firstPositions = Set<Int>()
        for n in 0..<500 {
            let sequence = Array(batch.tokens.indices[(n * 24)..<((n + 1) * 24)])
            let a = sequence[23], i = batch.plantedPositions[n]
            XCTAssertTrue((0...20).contains(i))
            XCTAssertEqual(sequence.indices.filter { sequence[$0] == a }, [i, 23])
            XCTAssertEqual(batch.labels[n], sequence[i + 1])
            XCTAssertTrue(sequence.allSatisfy { (0..<16).contains($0) })
            firstPositions.insert(i)
        }
        XCTAssertEqual(firstPositions, Set(0...20))
        var again = PhiloxGenerator(seed: 4)
        XCTAssertEqual(task.batch(count: 500, using: &again), batch)
        XCTAssertThrowsError(try InductionTask(vocabulary: 1, length: 24))
        XCTAssertThrowsError(try InductionTask(vocabulary: 16, length: 3))
    }
}
