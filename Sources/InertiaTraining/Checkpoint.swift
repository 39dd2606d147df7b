import Foundation
import InertiaData
import InertiaNN
import InertiaOptim
import InertiaTensor

/// A training checkpoint in one safetensors file: the model's parameters and buffers
/// (`model/<name>`), the optimizer's state tensors (`optimizer/<parameter>/<slot>`), and in the
/// metadata the format version, the position (epoch, batch, step), the optimizer's step counts and
/// learning rate, the random generators of the model's `RandomStateful` modules, the batch size,
/// and a CRC-32 of the tensor data and the rest of the metadata (`checksum_crc32`; a flipped byte
/// is a named error on read). The weights under `model/` load in PyTorch with the prefix stripped.
public struct Checkpoint {
    public static let format = "inertia-checkpoint"
    public static let formatVersion = 1
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    public var model: [(name: String, tensor: Tensor)]
    public var optimizer: OptimizerState
    public var generators: [String: PhiloxGenerator]
    public var epoch: Int
    public var batch: Int
    public var step: Int
    public var loaderSeed: UInt64
    /// The loader's batch size (nil in checkpoints written before it was recorded).
    public var batchSize: Int?

    public init(
        model: Module, optimizer: Optimizer, epoch: Int, batch: Int, step: Int, loaderSeed: UInt64,
        batchSize: Int? = nil
    ) {
        self.model = model.stateDictionary().map { (name: $0.name, tensor: $0.value) }
        self.optimizer = optimizer.state()
        self.generators = Dictionary(
            uniqueKeysWithValues: model.namedModules().compactMap { entry in
                (entry.module as? RandomStateful).map { (entry.name, $0.generator) }
            })
        self.epoch = epoch
        self.batch = batch
        self.step = step
        self.loaderSeed = loaderSeed
        self.batchSize = batchSize
    }

    private init(
        model: [(name: String, tensor: Tensor)], optimizer: OptimizerState, generators: [String: PhiloxGenerator],
        epoch: Int, batch: Int, step: Int, loaderSeed: UInt64, batchSize: Int?
    ) {
        self.model = model
        self.optimizer = optimizer
        self.generators = generators
        self.epoch = epoch
        self.batch = batch
        self.step = step
        self.loaderSeed = loaderSeed
        self.batchSize = batchSize
    }

    /// CRC-32 of the tensors' bytes in file order, then of the metadata but the checksum itself,
    /// as sorted `key=value` lines.
    static func checksum(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) -> String {
        var crc = CRC32()
        for (_, tensor) in tensors { tensor.withUnsafeBufferPointer { crc.update(UnsafeRawBufferPointer($0)) } }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != "checksum_crc32" {
            crc.update("\(key)=\(value)\n")
        }
        return crc.hex
    }

    public func write(to path: String) throws {
        let json = { (value: Encodable) throws -> String in
            String(decoding: try Checkpoint.encoder.encode(AnyEncodable(value)), as: UTF8.self)
        }
        let tensors =
            model.map { (name: "model/" + $0.name, tensor: $0.tensor) }
            + optimizer.slots.sorted { $0.key < $1.key }.map { (name: "optimizer/" + $0.key, tensor: $0.value) }
        var metadata: [String: String] = [
            "format": Checkpoint.format,
            "format_version": String(Checkpoint.formatVersion),
            "epoch": String(epoch), "batch": String(batch), "step": String(step),
            "loader_seed": String(loaderSeed),
            "optimizer": optimizer.optimizer,
            "optimizer_learning_rate": String(optimizer.learningRate.bitPattern),
            "optimizer_steps": try json(optimizer.steps),
            "generators": try json(generators),
        ]
        if let batchSize { metadata["batch_size"] = String(batchSize) }
        metadata["checksum_crc32"] = Checkpoint.checksum(tensors, metadata: metadata)
        try SafeTensors.write(SafeTensors.File(tensors: tensors, metadata: metadata), to: path)
    }

    public static func read(_ path: String) throws -> Checkpoint {
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path) } catch {
            throw CheckpointError.unreadable(path: path, detail: "\(error)")
        }
        return try decode(file, source: path)
    }

    /// The checkpoint in a decoded safetensors file (`source` names it in errors): its format and
    /// checksum checked, its metadata parsed.
    public static func decode(_ file: SafeTensors.File, source path: String) throws -> Checkpoint {
        let m = file.metadata
        func field(_ key: String) throws -> String {
            guard let v = m[key] else {
                throw CheckpointError.mismatch(path: path, detail: "metadata field '\(key)' is missing")
            }
            return v
        }
        guard m["format"] == format else {
            throw CheckpointError.mismatch(
                path: path, detail: "not an Inertia checkpoint (format '\(m["format"] ?? "none")')")
        }
        guard let version = Int(try field("format_version")), version == formatVersion else {
            throw CheckpointError.mismatch(
                path: path,
                detail:
                    "format version \(m["format_version"] ?? "?") is not supported (this build reads \(formatVersion))")
        }
        if let stored = m["checksum_crc32"] {
            let computed = checksum(file.tensors, metadata: m)
            guard stored == computed else {
                throw CheckpointError.unreadable(
                    path: path, detail: "\(path) is corrupted: its checksum is \(stored), its contents give \(computed)"
                )
            }
        }
        func integer(_ key: String) throws -> Int {
            guard let v = Int(try field(key)), v >= 0 else {
                throw CheckpointError.mismatch(path: path, detail: "metadata field '\(key)' is not a count")
            }
            return v
        }
        guard let seed = UInt64(try field("loader_seed")), let lrBits = UInt64(try field("optimizer_learning_rate"))
        else {
            throw CheckpointError.mismatch(
                path: path, detail: "metadata fields loader_seed / optimizer_learning_rate are malformed")
        }
        let decoder = JSONDecoder()
        guard let steps = try? decoder.decode([String: Int].self, from: Data(try field("optimizer_steps").utf8)),
            let generators = try? decoder.decode(
                [String: PhiloxGenerator].self, from: Data(try field("generators").utf8))
        else {
            throw CheckpointError.mismatch(
                path: path, detail: "metadata fields optimizer_steps / generators are malformed")
        }
        var model: [(name: String, tensor: Tensor)] = []
        var slots: [String: Tensor] = [:]
        for (name, tensor) in file.tensors {
            if name.hasPrefix("model/") {
                model.append((String(name.dropFirst(6)), tensor))
            } else if name.hasPrefix("optimizer/") {
                slots[String(name.dropFirst(10))] = tensor
            } else {
                throw CheckpointError.mismatch(path: path, detail: "unexpected tensor '\(name)'")
            }
        }
        let state = OptimizerState(
            optimizer: try field("optimizer"), learningRate: Double(bitPattern: lrBits), steps: steps, slots: slots)
        return Checkpoint(
            model: model, optimizer: state, generators: generators, epoch: try integer("epoch"),
            batch: try integer("batch"),
            step: try integer("step"), loaderSeed: seed,
            batchSize: m["batch_size"] == nil ? nil : try integer("batch_size"))
    }

    /// Loads weights, optimizer state and generators; validates everything first.
    public func restore(into module: Module, optimizer target: Optimizer, source: String) throws {
        let weights = Dictionary(model.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let randomModules = module.namedModules().compactMap { entry in
            (entry.module as? RandomStateful).map { (entry.name, $0) }
        }
        for (name, _) in randomModules where generators[name] == nil {
            throw CheckpointError.mismatch(path: source, detail: "no random-generator state for module '\(name)'")
        }
        do {
            try module.checkStateDictionary(weights)
            let backup = target.state()
            do {
                try target.load(optimizer, for: module.namedParameters())
            } catch {
                try? target.load(backup, for: module.namedParameters())
                throw error
            }
            try module.loadStateDictionary(weights)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.mismatch(path: source, detail: "\(error)")
        }
        for (name, stateful) in randomModules { stateful.generator = generators[name]! }
    }
}

/// A checkpoint that cannot be read (missing, malformed, corrupted) or does not fit the run.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, detail: String)
    case mismatch(path: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(_, let detail): return "cannot read checkpoint: \(detail)"
        case .mismatch(let path, let detail): return "\(path): checkpoint does not fit: \(detail)"
        }
    }
}

private struct AnyEncodable: Encodable {
    let value: Encodable
    init(_ value: Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
