import InertiaNN
import InertiaOptim
import InertiaTensor

/// The training loop the generative models share: `steps` steps, each on `batchSize` rows of
/// `points` drawn with replacement (`rows` are their indices, `batch` their Float32 values),
/// `loss` backpropagated into `parameters`, the gradients clipped to global norm
/// `maxGradientNorm` when one is given, then one `optimizer` step; `onStep(step, loss)` sees every
/// step and stops training by returning false. With `skipsNonFinite`, a step whose loss or
/// gradient norm is not finite makes no update; returns how many steps were skipped.
@discardableResult
func trainOnMinibatches(
    points: Matrix64, steps: Int, batchSize: Int, parameters: [NamedParameter], optimizer: Optimizer,
    maxGradientNorm: Double? = nil, skipsNonFinite: Bool = false, using rng: inout PhiloxGenerator,
    loss: (_ rows: [Int], _ batch: Tensor, _ rng: inout PhiloxGenerator) -> Tensor,
    onStep: (Int, Float) -> Bool
) -> Int {
    precondition(points.rows > 0 && batchSize > 0, "training needs points and a positive batch size")
    let d = points.columns
    var values = [Float](repeating: 0, count: batchSize * d)
    var skipped = 0
    for step in 0..<steps {
        let rows = (0..<batchSize).map { _ in rng.nextInt(below: points.rows) }
        for (r, i) in rows.enumerated() {
            for j in 0..<d { values[r * d + j] = Float(points.scalars[i * d + j]) }
        }
        for (_, parameter) in parameters { parameter.zeroGrad() }
        let value = loss(rows, Tensor(shape: [batchSize, d], scalars: values), &rng)
        if skipsNonFinite && !value.item.isFinite {
            skipped += 1
        } else {
            value.backward()
            var norm = 0.0
            if maxGradientNorm != nil || skipsNonFinite {
                norm = GradientClipping.clipGlobalNorm(parameters, maxNorm: maxGradientNorm ?? .infinity)
            }
            if skipsNonFinite && !norm.isFinite {
                skipped += 1
            } else {
                optimizer.step(parameters)
            }
        }
        if !onStep(step, value.item) { break }
    }
    return skipped
}
