import ArgumentParser
import Foundation
import Inertia

/// `inertia samplers`: every registered sampler with its family, paper and options.
struct SamplersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samplers",
        abstract: "List every sampler of `inertia sample` with its family, paper and options (default, range).")

    @Flag(help: "One JSON line per sampler.")
    var json = false

    func run() {
        for entry in SamplerRegistry.entries {
            if json {
                let options = entry.options.map { option -> JSONValue in
                    .object([
                        ("name", .string(option.name)), ("default", .number(option.defaultValue)),
                        ("minimum", .number(option.range.lowerBound)), ("maximum", .number(option.range.upperBound)),
                        ("integer", .bool(option.isInteger)), ("summary", .string(option.summary)),
                    ])
                }
                print(
                    JSONValue.object([
                        ("name", .string(entry.name)), ("family", .string(entry.family)),
                        ("summary", .string(entry.summary)),
                        ("paper", .string(entry.paper)),
                        ("minimum_evaluations", .number(Double(entry.minimumEvaluations))),
                        ("options", .array(options)),
                    ]).text)
            } else {
                print("\(entry.name) (\(entry.family))\n  \(entry.summary)\n  paper: \(entry.paper)")
                for option in entry.options {
                    let range = String(format: "%g...%g", option.range.lowerBound, option.range.upperBound)
                    print(
                        "  \(option.name)=\(String(format: "%g", option.defaultValue))".padding(
                            toLength: 20, withPad: " ", startingAt: 0)
                            + " \(option.isInteger ? "integer" : "number") in \(range): \(option.summary)")
                }
            }
        }
    }
}
