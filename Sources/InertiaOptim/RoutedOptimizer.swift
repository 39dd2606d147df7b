import InertiaNN
import InertiaTensor

/// Sends each parameter to the first route whose selector matches its name (the
/// "Muon for hidden matrices, AdamW for the rest" pattern); parameters no route selects are not
/// updated. State keys are parameter names, so the routes' states merge without clashes.
public final class RoutedOptimizer: Optimizer {
    /// One optimizer and the parameters it takes (those the predicate selects, in parameter order).
    public struct Route {
        public let selects: (String, Parameter) -> Bool
        public let optimizer: Optimizer
        public init(selects: @escaping (String, Parameter) -> Bool, optimizer: Optimizer) {
            self.selects = selects
            self.optimizer = optimizer
        }
    }

    public let routes: [Route]
    /// The name saved state carries: given, or `routed(<each route's optimizer>)`.
    public let name: String
    private var nonFiniteGuard = NonFiniteGradientGuard()
    private var updates = 0

    public init(_ routes: [Route], name: String? = nil) {
        self.routes = routes
        self.name = name ?? "routed(" + routes.map(\.optimizer.name).joined(separator: ",") + ")"
    }

    /// `matrix` on the parameters of rank >= 2 that `excluded` does not name (embeddings, the
    /// output head, a CNN's first convolution), `rest` on everything else.
    public static func matricesAndRest(
        matrix: Optimizer, rest: Optimizer,
        excluded: @escaping (String) -> Bool = ParameterGroup.containing(["embed", "head"]),
        name: String? = nil
    ) -> RoutedOptimizer {
        RoutedOptimizer(
            [
                .init(selects: { name, p in p.value.rank >= 2 && !excluded(name) }, optimizer: matrix),
                .init(selects: { _, _ in true }, optimizer: rest),
            ], name: name)
    }

    /// The first route's learning rate.
    public var learningRate: Double {
        get { routes.first?.optimizer.learningRate ?? 0 }
        set { routes.first?.optimizer.learningRate = newValue }
    }

    public var currentLearningRate: Double { routes.first?.optimizer.currentLearningRate ?? 0 }

    /// The first route's schedule; setting it sets every route's.
    public var schedule: Schedule {
        get { routes.first?.optimizer.schedule ?? .constant }
        set { for r in routes { r.optimizer.schedule = newValue } }
    }

    /// The first route's mask; setting it sets every route's.
    public var weightDecayMask: WeightDecayMask {
        get { routes.first?.optimizer.weightDecayMask ?? .none }
        set { for r in routes { r.optimizer.weightDecayMask = newValue } }
    }

    /// Applied to all routes' gradients together: a non-finite gradient anywhere skips or stops
    /// the whole step.
    public var nonFiniteGradients: NonFiniteGradientPolicy {
        get { nonFiniteGuard.policy }
        set { nonFiniteGuard.policy = newValue }
    }
    public var nonFiniteError: OptimizerError? { nonFiniteGuard.error }
    public var skippedUpdates: Int { nonFiniteGuard.skipped }

    public func validate(_ parameters: [NamedParameter]) throws {
        for (route, part) in zip(routes, split(parameters)) { try route.optimizer.validate(part) }
    }

    public var hyperparameters: [String: Double] {
        var h: [String: Double] = [:]
        for (i, r) in routes.enumerated() { for (k, v) in r.optimizer.hyperparameters { h["route\(i).\(k)"] = v } }
        return h
    }

    /// The key under which a route's count of `step()` calls is saved (not a parameter name:
    /// parameter names never start with `#`).
    static func updatesKey(_ route: Int) -> String { "#route\(route).updates" }

    func split(_ parameters: [NamedParameter]) -> [[NamedParameter]] {
        var parts = Array(repeating: [NamedParameter](), count: routes.count)
        for entry in parameters {
            if let i = routes.firstIndex(where: { $0.selects(entry.name, entry.parameter) }) { parts[i].append(entry) }
        }
        return parts
    }

    public func step(_ parameters: [NamedParameter]) {
        let active = parameters.filter { !$0.parameter.isFrozen && $0.parameter.grad != nil }
        guard nonFiniteGuard.allowsStep(active, optimizer: name, update: updates) else { return }
        for (route, part) in zip(routes, split(parameters)) { route.optimizer.step(part) }
        updates += 1
    }

    public func state() -> OptimizerState {
        var merged = OptimizerState(optimizer: name, learningRate: learningRate, steps: [:], slots: [:])
        for (i, route) in routes.enumerated() {
            let s = route.optimizer.state()
            merged.steps.merge(s.steps) { a, _ in a }
            merged.slots.merge(s.slots) { a, _ in a }
            merged.steps[Self.updatesKey(i)] = s.updates
        }
        return merged
    }

    public func load(_ state: OptimizerState, for parameters: [NamedParameter]) throws {
        guard state.optimizer == name else {
            throw OptimizerError.stateMismatch(
                optimizer: name, detail: "the state was saved by optimizer '\(state.optimizer)'")
        }
        let parts = split(parameters)
        var backups: [OptimizerState] = []
        do {
            for (i, (route, part)) in zip(routes, parts).enumerated() {
                let names = Set(part.map(\.name))
                let sub = OptimizerState(
                    optimizer: route.optimizer.name,
                    learningRate: route.optimizer.learningRate,
                    updates: state.steps[Self.updatesKey(i)] ?? 0,
                    steps: state.steps.filter { names.contains($0.key) },
                    slots: state.slots.filter { key, _ in
                        names.contains(String(key.split(separator: "/").dropLast().joined(separator: "/")))
                    })
                backups.append(route.optimizer.state())
                try route.optimizer.load(sub, for: part)
            }
        } catch {
            for (route, (backup, part)) in zip(routes, zip(backups, parts)) {
                try? route.optimizer.load(backup, for: part)
            }
            throw error
        }
    }
}
