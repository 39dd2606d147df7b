import ArgumentParser
import Foundation
import Inertia

/// `inertia optimizers`: every registered optimizer with its hyper-parameters and paper.
struct OptimizersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimizers",
        abstract: "List every registered optimizer with its hyper-parameters (name, kind, default) and paper.")

    @Flag(help: "One JSON line per optimizer.")
    var json = false

    func run() {
        for entry in OptimizerRegistry.entries {
            if json {
                let options = entry.options.map { option -> JSONValue in
                    let value: JSONValue
                    switch option.defaultValue {
                    case .number(let x): value = .number(x)
                    case .flag(let b): value = .bool(b)
                    case .text(let s): value = .string(s)
                    }
                    return .object([
                        ("name", .string(option.name)), ("kind", .string(option.kind)), ("default", value),
                        ("summary", .string(option.summary)),
                    ])
                }
                print(
                    JSONValue.object([
                        ("name", .string(entry.name)), ("summary", .string(entry.summary)),
                        ("paper", .string(entry.paper)),
                        ("hyperparameters", .array(options)),
                    ]).text)
            } else {
                print("\(entry.name)\n  \(entry.summary)\n  paper: \(entry.paper)")
                for option in entry.options {
                    print(
                        "  \(option.name)=\(option.defaultValue)".padding(toLength: 34, withPad: " ", startingAt: 0)
                            + " \(option.kind): \(option.summary)")
                }
            }
        }
    }
}
