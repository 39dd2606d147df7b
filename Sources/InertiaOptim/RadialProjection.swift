import Foundation

/// The projection shared by SGDP and AdamP (Heo et al., ICLR 2021; official `clovaai/AdamP`,
/// `shared/papers/adamp.md` 2.1): if the raw gradient is nearly orthogonal to the weight in every
/// row of a view (channel view `[shape[0], rest]` first, then the layer view `[1, all]`), i.e.
/// `max_i |cos(g_i, w_i)| < δ / sqrt(row length)`, remove each row's radial component from the
/// update and report the reduced weight-decay ratio.
public enum RadialProjection {
    /// Which view fired.
    public enum Outcome: String, Sendable {
        case channel, layer, none
    }

    /// Per-parameter counts of which view fired, readable for logging.
    public struct Statistics: Equatable, Sendable {
        public var channel = 0
        public var layer = 0
        public var none = 0
        public var total: Int { channel + layer + none }
        /// Fraction of steps on which the projection fired.
        public var rate: Double { total == 0 ? 0 : Double(channel + layer) / Double(total) }

        mutating func record(_ o: Outcome) {
            switch o {
            case .channel: channel += 1
            case .layer: layer += 1
            case .none: none += 1
            }
        }
    }

    /// |cos| of each row of `w` and `g` viewed as `rows x columns`, each norm clamped at `eps`
    /// (PyTorch's `cosine_similarity`).
    public static func cosines(
        _ w: UnsafePointer<Float>, _ g: UnsafePointer<Float>, rows: Int, columns: Int, eps: Double
    ) -> [Double] {
        (0..<rows).map { r in
            var dot = 0.0, ww = 0.0, gg = 0.0
            for j in 0..<columns {
                let a = Double(w[r * columns + j]), b = Double(g[r * columns + j])
                dot += a * b
                ww += a * a
                gg += b * b
            }
            return Swift.abs(dot) / (Swift.max(gg.squareRoot(), eps) * Swift.max(ww.squareRoot(), eps))
        }
    }

    /// Projects `update` (in place) when a view passes the test; returns the view that fired.
    /// Tensors of rank < 2 are never projected.
    public static func apply(
        weight w: UnsafePointer<Float>, gradient g: UnsafePointer<Float>, update u: UnsafeMutablePointer<Float>,
        shape: [Int], delta: Double, eps: Double
    ) -> Outcome {
        guard shape.count >= 2 else { return .none }
        let count = shape.reduce(1, *)
        guard count > 0 else { return .none }
        for (rows, outcome) in [(shape[0], Outcome.channel), (1, Outcome.layer)] {
            let columns = count / rows
            let maxCosine = cosines(w, g, rows: rows, columns: columns, eps: eps).max() ?? 0
            guard maxCosine < delta / Double(columns).squareRoot() else { continue }
            for r in 0..<rows {
                var ww = 0.0
                for j in 0..<columns { ww += Double(w[r * columns + j]) * Double(w[r * columns + j]) }
                let scale = 1 / (ww.squareRoot() + eps)
                var dot = 0.0
                for j in 0..<columns { dot += Double(w[r * columns + j]) * scale * Double(u[r * columns + j]) }
                for j in 0..<columns {
                    u[r * columns + j] = Float(Double(u[r * columns + j]) - Double(w[r * columns + j]) * scale * dot)
                }
            }
            return outcome
        }
        return .none
    }
}
