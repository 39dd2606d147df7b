import Foundation

/// A JSON value whose objects keep their key order, printed as one line (the peers' format).
enum JSONValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    case bool(Bool)
    case null

    init(stringLiteral value: String) { self = .string(value) }
    init(floatLiteral value: Double) { self = .number(value) }
    init(integerLiteral value: Int) { self = .number(Double(value)) }

    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x):
            guard x.isFinite else { return "null" }
            return x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)"
        case .string(let s):
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if scalar.value < 0x20 {
                        out += String(format: "\\u%04x", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let pairs):
            return "{" + pairs.map { JSONValue.string($0.0).text + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }
}
