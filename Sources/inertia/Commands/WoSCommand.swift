import ArgumentParser
import Foundation
import Inertia

/// `inertia wos`: the Dirichlet problem `−Δu = f`, `u = g` on a disk, ball or box by
/// walk-on-spheres, at given points, each estimate with its standard error.
struct WoSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wos",
        abstract: "Solve -Lap u = f, u = g on the boundary, on a disk, ball or box by walk-on-spheres.",
        discussion: """
            Expressions are of x, y, z with + - * / ^, parentheses, pi and sin cos tan exp log sqrt abs tanh, \
            e.g. --boundary "x^2 - y^2" --source "10*exp(-((x-0.2)^2 + y^2)/0.1)". Boundary data can instead come \
            from a CSV of boundary samples (x,y[,z],g per row; the walk reads the sample nearest to the closest \
            boundary point).
            """)

    enum DomainKind: String, ExpressibleByArgument, CaseIterable { case disk, ball, box }

    @Option(help: "disk (2-D) | ball (3-D) | box (2-D or 3-D, from --lower)") var domain: DomainKind = .disk
    @Option(help: "Centre of the disk or ball, comma-separated.") var centre: String?
    @Option(help: "Radius of the disk or ball.") var radius = 1.0
    @Option(help: "Lower corner of the box, comma-separated.") var lower = "0,0"
    @Option(help: "Upper corner of the box, comma-separated.") var upper = "1,1"
    @Option(help: "Boundary data g(x, y, z) as an expression.") var boundary: String?
    @Option(help: "Boundary data as a CSV of samples x,y[,z],g.") var boundaryCsv: String?
    @Option(help: "Source f(x, y, z) of -Lap u = f as an expression (none: Laplace).") var source: String?
    @Option(
        name: .customLong("at"),
        help: "A point to solve at, comma-separated (repeatable; --at=-0.5,0 when it starts with a minus).") var points:
        [String] =
            []
    @Option(help: "A CSV of points to solve at, one per row.") var pointsCsv: String?
    @Option(help: "Walks per point.") var walks = 10_000
    @Option(help: "Shell width: a walk stops this close to the boundary.") var shell = 1e-3
    @Option(help: "Longest walk (a cut walk reads g where it stands and is counted).") var maxSteps = 1000
    @Option(help: "Seed of the walks' random streams.") var seed: UInt64 = 0
    @Flag(help: "One JSON line instead of a table.") var json = false

    func validate() throws {
        try requireFinite(["radius": radius, "shell": shell])
        guard walks >= 1, maxSteps >= 0, shell > 0, radius > 0 else {
            throw ValidationError("need --walks >= 1, --max-steps >= 0, --shell > 0 and --radius > 0")
        }
        guard (boundary == nil) != (boundaryCsv == nil) else {
            throw ValidationError("give the boundary data as exactly one of --boundary and --boundary-csv")
        }
        guard !points.isEmpty || pointsCsv != nil else {
            throw ValidationError("give points with --at or --points-csv")
        }
    }

    func run() throws {
        do {
            switch domain {
            case .disk:
                try solve(Ball<SIMD2<Double>>(centre: try vector(centre ?? "0,0", "--centre"), radius: radius))
            case .ball:
                try solve(Ball<SIMD3<Double>>(centre: try vector(centre ?? "0,0,0", "--centre"), radius: radius))
            case .box:
                let count = lower.split(separator: ",").count
                if count == 3 {
                    try solve(try box(SIMD3<Double>.self))
                } else {
                    try solve(try box(SIMD2<Double>.self))
                }
            }
        } catch { throw CommandFailure.runtime(error) }
    }

    func box<Point: SIMD & Sendable>(_: Point.Type) throws -> Box<Point> where Point.Scalar == Double {
        let low: Point = try vector(lower, "--lower"), high: Point = try vector(upper, "--upper")
        guard (0..<Point.scalarCount).allSatisfy({ low[$0] < high[$0] }) else {
            throw ValidationError("--lower must be below --upper in every coordinate, got \(lower) and \(upper)")
        }
        return Box(lower: low, upper: high)
    }

    /// `text` as a point of `Point`'s dimension.
    func vector<Point: SIMD>(_ text: String, _ option: String) throws -> Point where Point.Scalar == Double {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == Point.scalarCount, let values = parts as? [Double], values.allSatisfy(\.isFinite) else {
            throw ValidationError("\(option) needs \(Point.scalarCount) finite comma-separated numbers, got '\(text)'")
        }
        var point = Point.zero
        for (i, value) in values.enumerated() { point[i] = value }
        return point
    }

    /// An expression of at most `dimension` coordinates.
    func expression(_ text: String, _ option: String, dimension: Int) throws -> ScalarFieldExpression {
        let parsed: ScalarFieldExpression
        do { parsed = try ScalarFieldExpression(text) } catch { throw ValidationError("\(option): \(error)") }
        guard parsed.dimension <= dimension else {
            throw ValidationError("\(option) '\(text)' uses \(["x", "y", "z"][parsed.dimension - 1]) in \(dimension)-D")
        }
        return parsed
    }

    func solve<Domain: WalkOnSpheresDomain>(_ region: Domain) throws {
        let d = Domain.Point.scalarCount
        var starts: [Domain.Point] = try points.map { try vector($0, "--at") }
        if let pointsCsv {
            let table = try NumericCSV.read(pointsCsv)
            guard table.columns == d else {
                throw ValidationError("\(pointsCsv): \(table.columns) columns, the domain has \(d) coordinates")
            }
            for r in 0..<table.rows {
                var p = Domain.Point.zero
                for c in 0..<d { p[c] = table[r, c] }
                starts.append(p)
            }
        }
        for (i, p) in starts.enumerated() where !(region.distanceToBoundary(p) > 0) {
            throw ValidationError("point \(i + 1) \(describe(p)) is not inside the domain")
        }
        let g: @Sendable (Domain.Point) -> Double
        if let boundary {
            let parsed = try expression(boundary, "--boundary", dimension: d)
            g = { parsed($0) }
        } else {
            g = try samples(boundaryCsv!, dimension: d)
        }
        let f: (@Sendable (Domain.Point) -> Double)? = try source.map { text in
            let parsed = try expression(text, "--source", dimension: d)
            return { parsed($0) }
        }
        let walker = WalkOnSpheres(domain: region, shellWidth: shell, maxSteps: maxSteps)
        let start = DispatchTime.now().uptimeNanoseconds
        let estimates = walker.estimate(at: starts, walks: walks, boundary: g, source: f, seed: seed)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if json {
            let rows: [JSONValue] = zip(starts, estimates).map { p, e in
                .object([
                    ("point", .array((0..<d).map { .number(p[$0]) })), ("estimate", .number(e.mean)),
                    ("standard_error", .number(e.standardError)), ("walk_std", .number(e.standardDeviation)),
                    ("mean_steps", .number(e.meanSteps)), ("truncated_walks", .number(Double(e.truncatedWalks))),
                ])
            }
            print(
                JSONValue.object([
                    ("domain", .string(domain.rawValue)), ("walks", .number(Double(walks))), ("shell", .number(shell)),
                    ("seconds", .number(seconds)), ("results", .array(rows)),
                ]).text)
            return
        }
        print(
            "walk-on-spheres on the \(domain.rawValue): -Lap u = \(source ?? "0"), u = \(boundary ?? "samples of \(boundaryCsv!)"); \(walks) walks a point, shell \(shell)"
        )
        print("point                      estimate      std. error    walk std   mean steps  cut")
        for (p, e) in zip(starts, estimates) {
            print(
                describe(p).padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(
                        format: " %-13.6g %-13.3g %-10.3g %-11.2f %d", e.mean, e.standardError, e.standardDeviation,
                        e.meanSteps, e.truncatedWalks))
        }
        print(String(format: "time %.3f s", seconds))
    }

    func describe<Point: SIMD>(_ p: Point) -> String where Point.Scalar == Double {
        "(" + (0..<Point.scalarCount).map { String(format: "%g", p[$0]) }.joined(separator: ", ") + ")"
    }

    /// Boundary data from samples `x, y[, z], g`: the value of the sample nearest to the point.
    func samples<Point: SIMD>(_ path: String, dimension d: Int) throws -> @Sendable (Point) -> Double
    where Point.Scalar == Double {
        let table = try NumericCSV.read(path)
        guard table.columns == d + 1, table.rows >= 1 else {
            throw ValidationError(
                "\(path): needs rows x,y\(d == 3 ? ",z" : ""),g (\(d + 1) columns), got \(table.rows) rows of \(table.columns)"
            )
        }
        return { p in
            var best = 0, nearest = Double.infinity
            for r in 0..<table.rows {
                var squared = 0.0
                for c in 0..<d { squared += (table[r, c] - p[c]) * (table[r, c] - p[c]) }
                if squared < nearest { (best, nearest) = (r, squared) }
            }
            return table[best, d]
        }
    }
}
