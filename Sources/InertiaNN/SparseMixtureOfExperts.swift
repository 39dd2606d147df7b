import InertiaTensor

/// A sparse mixture of expert MLPs with a top-k router, as the MomentumSMoE code builds it (Teo &
/// Nguyen, "MomentumSMoE: Integrating Momentum into Sparse Mixture of Experts", NeurIPS 2024;
/// `shared/papers/momentum-smoe.md` 2.2-2.3; `CustomNaiveGate_Balance_SMoE` and FMoE's fused
/// expert layers).
///
/// For tokens `x` (`[..., d]`): router logits `s = W_g x + b_g` (`E` of them); the `k` largest
/// (ties to the lower index; the selection is not differentiated); gate weights = softmax over
/// the selected logits only; output `Σ_j g_j u_{K_j}(x)` with expert `u_e(x) = W2_e ·
/// Dropout(ReLU(W1_e x + b1_e)) + b2_e`. The rows routed to each expert are gathered into one
/// `[E, C, d]` batch (C the largest load, the shorter lists padded with rows that carry gate 0),
/// the experts run as two batched products against the stacked weights (so each weight gradient is
/// one product, not a full-size sum per expert), and the outputs are added back scaled by their gates. The experts' weights are stacked as FMoE stores them:
/// `experts.fc1.weight` `[E, d_ff, d]`, `experts.fc1.bias` `[E, d_ff]`, `experts.fc2.weight`
/// `[E, d, d_ff]`, `experts.fc2.bias` `[E, d]`.
///
/// Each forward pass leaves its load-balancing loss in `balanceLoss` (on the tape):
/// `E · Σ_e frac_e · prob_e` with `frac_e` the share of (token, slot) pairs routed to `e` (a
/// constant) and `prob_e` the full softmax's mass on `e` divided by `N · k` (the official code's
/// form, spec 2.3; `1 / k` for a uniform router). Add `λ · balanceLoss` to the training loss.
public final class SparseMixtureOfExperts: Module {
    public let router: Linear
    public let firstWeight: Parameter, firstBias: Parameter
    public let secondWeight: Parameter, secondBias: Parameter
    public let topK: Int
    public let dropout: Dropout
    /// The load-balancing loss of the last forward pass (`nil` before any).
    public private(set) var balanceLoss: Tensor?
    /// How many (token, slot) pairs each expert received in the last forward pass.
    public private(set) var expertLoads: [Int] = []

    /// PyTorch's `Linear` initialisation for the router and for each expert's layers.
    public init(
        dimension: Int, hidden: Int, experts: Int, topK: Int = 2, dropout: Double = 0, seed: UInt64 = 0,
        using rng: inout PhiloxGenerator
    ) {
        validated(
            dimension > 0 && hidden > 0 && experts > 0 && topK > 0 && topK <= experts,
            "SparseMixtureOfExperts: needs positive sizes and 0 < topK <= experts, got d \(dimension), d_ff \(hidden), E \(experts), k \(topK)"
        )
        router = Linear(dimension, experts, using: &rng)
        func uniform(_ shape: [Int], fanIn: Int) -> Parameter {
            let bound = 1 / Double(fanIn).squareRoot()
            return Parameter(Initializer.uniform(low: -bound, high: bound).make(shape, using: &rng))
        }
        firstWeight = uniform([experts, hidden, dimension], fanIn: dimension)
        firstBias = uniform([experts, hidden], fanIn: dimension)
        secondWeight = uniform([experts, dimension, hidden], fanIn: hidden)
        secondBias = uniform([experts, dimension], fanIn: hidden)
        self.topK = topK
        self.dropout = Dropout(probability: dropout, seed: seed)
        super.init()
        register(router, as: "router")
        // Named as FMoE's state dict: experts.fc1.weight, ..., experts.fc2.bias.
        let stack = register(Module(), as: "experts")
        for (name, layer) in [("fc1", (firstWeight, firstBias)), ("fc2", (secondWeight, secondBias))] {
            let linear = stack.register(Module(), as: name)
            linear.register(layer.0, as: "weight")
            linear.register(layer.1, as: "bias")
        }
        register(self.dropout, as: "dropout")
    }

    public var dimension: Int { firstWeight.shape[2] }
    public var expertCount: Int { firstWeight.shape[0] }

    /// The top-k expert indices of each row of `logits` (`[N, E]`), largest first, ties to the
    /// lower index.
    public static func topIndices(_ logits: Tensor, k: Int) -> IndexTensor {
        let (n, e) = (logits.shape[0], logits.shape[1])
        var chosen: [Int] = []
        chosen.reserveCapacity(n * k)
        logits.scalars.withUnsafeBufferPointer { s in
            for row in 0..<n {
                let values = s.baseAddress! + row * e
                // Sorted by value descending, index ascending; NaN sorts first, as the largest.
                let order = (0..<e).sorted { a, b in
                    let (x, y) = (values[a], values[b])
                    if x.isNaN || y.isNaN { return x.isNaN && (!y.isNaN || a < b) }
                    return x > y || (x == y && a < b)
                }
                chosen.append(contentsOf: order.prefix(k))
            }
        }
        return IndexTensor(shape: [n, k], indices: chosen)
    }

    /// The router on token rows `x` (`[N, d]`): logits `[N, E]`, the chosen experts `[N, k]`
    /// (largest logit first) and their gate weights `[N, k]` (softmax over the chosen logits).
    public func route(_ x: Tensor) -> (logits: Tensor, experts: IndexTensor, gates: Tensor) {
        let logits = router(x)
        let chosen = Self.topIndices(logits.detached(), k: topK)
        return (logits, chosen, logits.gather(alongAxis: 1, indices: chosen).softmax(alongAxis: 1))
    }

    public override func forward(_ input: Tensor) -> Tensor {
        validated(
            input.rank >= 1 && input.shape[input.rank - 1] == dimension,
            "SparseMixtureOfExperts: input has shape \(input.shape), expected last dimension \(dimension)")
        let x = input.reshaped(to: [-1, dimension])
        let n = x.shape[0], experts = expertCount, k = topK
        guard n > 0 else {
            // No tokens: nothing routed, no balance to keep.
            expertLoads = [Int](repeating: 0, count: experts)
            balanceLoss = Tensor(0)
            return input.detached()
        }
        let (logits, chosen, gateRows) = route(x)
        let gates = gateRows.reshaped(to: [n * k])
        var routed = [[Int]](repeating: [], count: experts)
        for (slot, expert) in chosen.indices.enumerated() { routed[expert].append(slot) }
        expertLoads = routed.map(\.count)
        // The experts run as one batched product over [E, C, d], C the largest load: row
        // e * C + s holds expert e's s-th (token, slot) pair; the rows past a load read token 0,
        // carry gate 0 and add into a spare output row n that is dropped, so they change nothing.
        let capacity = expertLoads.max() ?? 0
        var sources = [Int](repeating: 0, count: experts * capacity)
        var targets = [Int](repeating: n, count: experts * capacity)
        var slots = [Int](repeating: 0, count: experts * capacity)
        var used = [Float](repeating: 0, count: experts * capacity)
        for expert in 0..<experts {
            for (position, slot) in routed[expert].enumerated() {
                let row = expert * capacity + position
                (sources[row], targets[row], slots[row], used[row]) = (slot / k, slot / k, slot, 1)
            }
        }
        let rows = x.indexSelect(alongAxis: 0, indices: sources).reshaped(to: [experts, capacity, dimension])
        let hidden = dropout(
            (Tensor.matmul(rows, firstWeight.value, transposingB: true) + firstBias.value.unsqueezed(axis: 1)).relu())
        let expertOutput =
            Tensor.matmul(hidden, secondWeight.value, transposingB: true) + secondBias.value.unsqueezed(axis: 1)
        let weights = (gates.indexSelect(alongAxis: 0, indices: slots) * Tensor(used)).unsqueezed(axis: 1)
        let output = Tensor.zeros([n + 1, dimension]).indexAdding(
            alongAxis: 0, indices: targets,
            values: expertOutput.reshaped(to: [experts * capacity, dimension]) * weights
        ).slice(alongAxis: 0, 0..<n)
        let pairs = Float(n * k)
        let fraction = Tensor(shape: [experts], scalars: expertLoads.map { Float($0) / pairs })
        let probability = logits.softmax(alongAxis: 1).sum(alongAxis: 0) / pairs
        balanceLoss = (fraction * probability).sum() * Float(experts)
        return output.reshaped(to: input.shape)
    }
}
