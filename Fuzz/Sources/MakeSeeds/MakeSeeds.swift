import Foundation
import FuzzSupport
import Inertia

/// Writes the seed corpus of every fuzz target into the folder given (default `Corpus`): valid
/// inputs of each format, so that libFuzzer starts from files that reach the deepest checks.
/// Run it after a format changes: `swift run --package-path Fuzz MakeSeeds Fuzz/Corpus`.
@main
enum MakeSeeds {
    static func main() throws {
        let root = CommandLine.arguments.dropFirst().first ?? "Corpus"
        func write(_ target: String, _ name: String, _ data: Data) throws {
            let folder = root + "/" + target
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        let network = FuzzModel.network()
        let batch = Tensor(shape: [4, 2], scalars: [0.5, -1, 2, 0.25, -0.75, 1.5, 0, 1])
        let weights = SafeTensors.File(
            tensors: network.stateDictionary().map { (name: $0.name, tensor: $0.value) }, metadata: ["format": "pt"])
        try write("FuzzSafeTensors", "model.safetensors", SafeTensors.encode(weights))
        for (dtype, width) in [("F16", 2), ("BF16", 2), ("F64", 8)] {
            var header = Data(#"{"x":{"dtype":"\#(dtype)","shape":[2],"data_offsets":[0,\#(2 * width)]}}"#.utf8)
            while header.count % 8 != 0 { header.append(0x20) }
            var file = Data()
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
            file.append(header)
            file.append(contentsOf: (0..<(2 * width)).map { UInt8(truncatingIfNeeded: 0x3C + $0) })
            try write("FuzzSafeTensors", "\(dtype.lowercased()).safetensors", file)
        }
        for optimizer in FuzzModel.optimizers(for: network) {
            for _ in 0..<2 {
                network.zeroGradients()
                network.forward(batch).squared().sum().backward()
                optimizer.step(network.namedParameters())
            }
            let temporary = NSTemporaryDirectory() + "/inertia-seed-\(getpid()).safetensors"
            defer { try? FileManager.default.removeItem(atPath: temporary) }
            try optimizer.state().write(to: temporary)
            try write(
                "FuzzCheckpoint", "state-\(optimizer.name).safetensors",
                Data(contentsOf: URL(fileURLWithPath: temporary)))
            if optimizer.name == "adamw" {
                try Checkpoint(
                    model: network, optimizer: optimizer, epoch: 1, batch: 2, step: 7, loaderSeed: 3, batchSize: 4
                ).write(to: temporary)
                try write(
                    "FuzzCheckpoint", "checkpoint-adamw.safetensors", Data(contentsOf: URL(fileURLWithPath: temporary)))
            }
        }
        let images = Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + (0..<8).map { UInt8($0 * 30) })
        let labels = Data([0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 9])
        try write("FuzzIDX", "images.idx", images)
        try write("FuzzIDX", "labels.idx", labels)
        for (name, data) in [("images.idx.gz", images), ("labels.idx.gz", labels)] {
            try write("FuzzGzip", name, try gzip(data))
        }
        try write(
            "FuzzTrainingCSV", "header.csv",
            Data("x1,x2,label\n0.1,0.2,0\n0.3,-0.4,1\n5e-1,0.6,1\n0.7,0.8,0\n0.9,1.0,2\n".utf8))
        try write("FuzzTrainingCSV", "plain.csv", Data("1,2,0\n3,4,1\n".utf8))
        try write("FuzzTransportCSV", "points.csv", Data("# points\nx y\n0 0\n1,0\n0;1\n0.5\t0.5\n".utf8))
        try write("FuzzTransportCSV", "cost.csv", Data("0,1,2\n1,0,1\n2,1,0\n".utf8))
    }

    /// `data` through the system's `gzip -n` (no name or time stamp, so the seed is reproducible).
    static func gzip(_ data: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-9", "-n", "-c"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return compressed
    }
}
