import Foundation
import Inertia

/// Colour for verdicts, only when standard output is a terminal and `NO_COLOR` is unset
/// (https://no-color.org).
enum Terminal {
    static let usesColour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func verdict(_ verdict: Verdict) -> String {
        guard usesColour else { return verdict.rawValue }
        let code: String
        switch verdict {
        case .held: code = "32"
        case .notHeld: code = "31"
        case .inconclusive: code = "33"
        }
        return "\u{1B}[\(code)m\(verdict.rawValue)\u{1B}[0m"
    }
}
