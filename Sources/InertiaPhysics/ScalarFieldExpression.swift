import Foundation

/// A closed-form scalar field of `x`, `y`, `z` read from text, such as `x^2 - y^2`, `4` or
/// `10*exp(-((x-0.2)^2 + y^2)/0.1)`: numbers, the variables, `pi`, `+ - * / ^` (`^` binds
/// tightest and to the right, so `-x^2` is `−(x²)`), parentheses and the functions `sin`, `cos`,
/// `tan`, `exp`, `log`, `sqrt`, `abs`, `tanh`. Boundary data and sources of `inertia wos` and the
/// walk-on-spheres fixtures are written this way.
public struct ScalarFieldExpression: Sendable, CustomStringConvertible {
    /// Why a text is not an expression, with the position (0-based, in characters).
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let text: String
        public let position: Int
        public let reason: String
        public var description: String { "cannot read '\(text)' as an expression at position \(position): \(reason)" }
    }

    indirect enum Node: Sendable {
        case constant(Double)
        case variable(Int)
        case negated(Node)
        case binary(Character, Node, Node)
        case function(String, Node)
    }

    static let functions: [String: @Sendable (Double) -> Double] = [
        "sin": { Foundation.sin($0) }, "cos": { Foundation.cos($0) }, "tan": { Foundation.tan($0) },
        "exp": { Foundation.exp($0) }, "log": { Foundation.log($0) }, "sqrt": { $0.squareRoot() },
        "abs": { Swift.abs($0) }, "tanh": { Foundation.tanh($0) },
    ]

    public let text: String
    let root: Node
    /// The number of coordinates the expression reads: 1 + the highest of x, y, z it uses (0 for
    /// a constant).
    public let dimension: Int

    public var description: String { text }

    public init(_ text: String) throws {
        var parser = Parser(text: text, characters: Array(text))
        root = try parser.expression()
        parser.skipSpaces()
        if parser.index < parser.characters.count {
            throw parser.error("unexpected '\(parser.characters[parser.index])'")
        }
        self.text = text
        dimension = parser.highestVariable + 1
    }

    /// The value at `(x, y, z)`.
    public func callAsFunction(_ x: Double, _ y: Double = 0, _ z: Double = 0) -> Double {
        Self.evaluate(root, x, y, z)
    }

    /// The value at a point of two or three coordinates (missing ones are 0).
    public func callAsFunction<Point: SIMD>(_ p: Point) -> Double where Point.Scalar == Double {
        Self.evaluate(root, p[0], Point.scalarCount > 1 ? p[1] : 0, Point.scalarCount > 2 ? p[2] : 0)
    }

    static func evaluate(_ node: Node, _ x: Double, _ y: Double, _ z: Double) -> Double {
        switch node {
        case .constant(let value): return value
        case .variable(let index): return index == 0 ? x : (index == 1 ? y : z)
        case .negated(let inner): return -evaluate(inner, x, y, z)
        case .function(let name, let inner): return functions[name]!(evaluate(inner, x, y, z))
        case .binary(let op, let a, let b):
            let u = evaluate(a, x, y, z), v = evaluate(b, x, y, z)
            switch op {
            case "+": return u + v
            case "-": return u - v
            case "*": return u * v
            case "/": return u / v
            default: return v == 2 ? u * u : Foundation.pow(u, v)
            }
        }
    }

    /// Recursive descent: expression = term {(+|-) term}; term = unary {(*|/) unary};
    /// unary = (-|+) unary | power; power = primary [^ unary].
    struct Parser {
        let text: String
        let characters: [Character]
        var index = 0
        var highestVariable = -1

        func error(_ reason: String) -> ParseError { ParseError(text: text, position: index, reason: reason) }

        mutating func skipSpaces() {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
        }

        mutating func take(_ options: Set<Character>) -> Character? {
            skipSpaces()
            guard index < characters.count, options.contains(characters[index]) else { return nil }
            index += 1
            return characters[index - 1]
        }

        mutating func expression() throws -> Node {
            var node = try term()
            while let op = take(["+", "-"]) { node = .binary(op, node, try term()) }
            return node
        }

        mutating func term() throws -> Node {
            var node = try unary()
            while let op = take(["*", "/"]) { node = .binary(op, node, try unary()) }
            return node
        }

        mutating func unary() throws -> Node {
            if let sign = take(["-", "+"]) { return sign == "-" ? .negated(try unary()) : try unary() }
            let base = try primary()
            return take(["^"]) != nil ? .binary("^", base, try unary()) : base
        }

        mutating func primary() throws -> Node {
            skipSpaces()
            guard index < characters.count else { throw error("the expression ends early") }
            let c = characters[index]
            if c == "(" {
                index += 1
                let inner = try expression()
                guard take([")"]) != nil else { throw error("expected ')'") }
                return inner
            }
            if c.isNumber || c == "." {
                let start = index
                while index < characters.count, characters[index].isNumber || characters[index] == "." { index += 1 }
                if index < characters.count, characters[index] == "e" || characters[index] == "E" {
                    var next = index + 1
                    if next < characters.count, characters[next] == "-" || characters[next] == "+" { next += 1 }
                    if next < characters.count, characters[next].isNumber {
                        index = next
                        while index < characters.count, characters[index].isNumber { index += 1 }
                    }
                }
                let literal = String(characters[start..<index])
                guard let value = Double(literal) else {
                    index = start
                    throw error("'\(literal)' is not a number")
                }
                return .constant(value)
            }
            if c.isLetter {
                let start = index
                while index < characters.count, characters[index].isLetter || characters[index].isNumber { index += 1 }
                let name = String(characters[start..<index])
                if let variable = ["x", "y", "z"].firstIndex(of: name) {
                    highestVariable = Swift.max(highestVariable, variable)
                    return .variable(variable)
                }
                if name == "pi" { return .constant(Double.pi) }
                guard ScalarFieldExpression.functions[name] != nil else {
                    index = start
                    throw error(
                        "unknown name '\(name)' (variables x, y, z; pi; functions \(ScalarFieldExpression.functions.keys.sorted().joined(separator: ", ")))"
                    )
                }
                guard take(["("]) != nil else { throw error("expected '(' after \(name)") }
                let argument = try expression()
                guard take([")"]) != nil else { throw error("expected ')'") }
                return .function(name, argument)
            }
            throw error("unexpected '\(c)'")
        }
    }
}
