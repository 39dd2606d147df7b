import ArgumentParser
import Foundation
import Inertia

/// `inertia optimizers`: every registered optimizer with its defaults and paper.
struct OptimizersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimizers", abstract: "List every registered optimizer with its defaults and paper.")

    @Flag(help: "One JSON line per optimizer.")
    var json = false

    func run() {
        for entry in OptimizerRegistry.entries {
            if json {
                print(JSONValue.object([
                    ("name", .string(entry.name)), ("summary", .string(entry.summary)), ("paper", .string(entry.paper)),
                    ("defaults", .object(entry.defaults.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })),
                ]).text)
            } else {
                print("\(entry.name)\n  \(entry.summary)\n  paper: \(entry.paper)")
                print("  defaults: " + entry.defaults.sorted { $0.key < $1.key }.map { "\($0.key)=\(format($0.value))" }.joined(separator: " "))
            }
        }
    }

    func format(_ x: Double) -> String { x == x.rounded() && Swift.abs(x) < 1e6 ? String(Int(x)) : "\(x)" }
}
