import Foundation
import InertiaTensor

/// CFG-MP's manifold projection (J.-F. Cai, H. Liu, Z. Su, C. Wang, "Improving Classifier-Free
/// Guidance of Flow Matching via Manifold Projection", arXiv 2601.21892; official code
/// `LeonSuZhengYi/CFG-MP`; `shared/papers/cfg-manifold-projection.md` 2.2). Flow-matching time,
/// data at t = 1. Before a guided Euler step at time `t` of length `dt`, `iterations` fixed-point
/// iterations of
///
///     G(z) = z_h + h·v_c(z_h, t),   z_h = z − h·v_u(z, t),   h = dt/2
///
/// (a half step back along the unconditional field, then forward along the conditional one, both
/// at `t`) move each sample toward where the two predictions agree. CFG-MP iterates `G` (Picard);
/// CFG-MP+ mixes each sample's history with Anderson acceleration (`anderson`: the constrained
/// Gram form with ridge 1e-4 and a window of `m + 1`, `anderson-acceleration.md` 2.6). Each `G`
/// costs one unconditional and one conditional evaluation, batched over the samples (rows).
public struct ManifoldProjection: Sendable {
    /// A velocity field at flow time `t` for every row of `x`.
    public typealias Velocity = (_ x: Matrix64, _ t: Double) -> Matrix64

    /// Fixed-point iterations per projection (the code's K: 2 for DiT, 3 for SD 3.5).
    public var iterations: Int
    /// `nil`: Picard (CFG-MP); otherwise the per-sample mixing of CFG-MP+.
    public var anderson: AndersonAcceleration?

    public init(iterations: Int, anderson: AndersonAcceleration? = nil) {
        precondition(iterations >= 0, "ManifoldProjection: iterations must be >= 0, got \(iterations)")
        self.iterations = iterations
        self.anderson = anderson
    }

    /// CFG-MP+ with the code's mixing: window `memory + 1`, damping 1, absolute ridge 1e-4.
    public static func andersonMixing(memory: Int = 1) -> AndersonAcceleration {
        AndersonAcceleration(
            memory: memory, damping: 1, regularization: .absolute(1e-4), form: .constrained, restarts: false)
    }

    /// `G(z)` at time `t` for a step of `dt`.
    public static func fixedPointMap(
        _ z: Matrix64, t: Double, dt: Double, unconditional: Velocity, conditional: Velocity
    ) -> Matrix64 {
        let h = dt / 2
        let half = z - unconditional(z, t) * h
        return half + conditional(half, t) * h
    }

    /// The projected samples after `iterations` iterations from `x`.
    public func project(
        _ x: Matrix64, t: Double, dt: Double, unconditional: Velocity, conditional: Velocity
    ) -> Matrix64 {
        var z = x
        var iterates: [[[Double]]] = Array(repeating: [], count: x.rows)
        var outputs = iterates
        for _ in 0..<iterations {
            let g = Self.fixedPointMap(z, t: t, dt: dt, unconditional: unconditional, conditional: conditional)
            guard let anderson else {
                z = g
                continue
            }
            // The first iteration has one history entry: its mixing is the Picard step.
            record(z, g, into: &iterates, &outputs, keeping: anderson.memory + 1)
            for i in 0..<x.rows {
                let next = anderson.nextIterate(iterates: iterates[i], outputs: outputs[i])
                for j in 0..<x.columns { z[i, j] = next[j] }
            }
        }
        return z
    }

    /// Appends each row of `z` and `g` to its sample's history, keeping the newest `window`.
    private func record(
        _ z: Matrix64, _ g: Matrix64, into iterates: inout [[[Double]]], _ outputs: inout [[[Double]]],
        keeping window: Int
    ) {
        for i in 0..<z.rows {
            iterates[i].append((0..<z.columns).map { z[i, $0] })
            outputs[i].append((0..<z.columns).map { g[i, $0] })
            if iterates[i].count > window {
                iterates[i].removeFirst()
                outputs[i].removeFirst()
            }
        }
    }

    /// The sampler of 2.2: `steps` uniform Euler steps of the guided velocity from `noise` at t = 0
    /// to data at t = 1, each preceded, while `t < threshold`, by the projection (the noisy part
    /// of the trajectory: the code's 0.6). With `iterations == 0` it is plain CFG sampling.
    public func sample(
        _ noise: Matrix64, steps: Int, guidance w: Double, threshold: Double = 0.6, unconditional: Velocity,
        conditional: Velocity
    ) -> Matrix64 {
        precondition(steps > 0, "ManifoldProjection.sample: steps must be > 0, got \(steps)")
        var x = noise
        let dt = 1 / Double(steps)
        for i in 0..<steps {
            let t = Double(i) * dt
            if iterations > 0 && t < threshold {
                x = project(x, t: t, dt: dt, unconditional: unconditional, conditional: conditional)
            }
            x = Self.guidedEulerStep(
                x, t: t, dt: dt, guidance: w, unconditional: unconditional, conditional: conditional)
        }
        return x
    }

    /// The guided Euler step that follows: `x + dt·(v_u + w(v_c − v_u))` at `t`.
    public static func guidedEulerStep(
        _ x: Matrix64, t: Double, dt: Double, guidance w: Double, unconditional: Velocity, conditional: Velocity
    ) -> Matrix64 {
        x + classifierFreeGuidance(unconditional: unconditional(x, t), conditional: conditional(x, t), scale: w) * dt
    }
}
