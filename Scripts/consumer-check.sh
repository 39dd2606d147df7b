#!/usr/bin/env bash
# Proves that another package can depend on Inertia with a version requirement: tags a clone of
# this repository's HEAD as 0.1.0 in a scratch folder, makes a package outside the checkout that
# depends on it with `from: "0.1.0"`, builds it with no extra flags and trains a small MLP for a
# few AdamW steps. Prints the losses; exits non-zero if the build fails or the loss does not fall.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

git clone -q "$repo" "$scratch/Inertia"
git -C "$scratch/Inertia" -c user.name=ci -c user.email=ci@localhost tag -f 0.1.0 >/dev/null

mkdir -p "$scratch/consumer/Sources/consumer"
cat > "$scratch/consumer/Package.swift" <<MANIFEST
// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(url: "file://$scratch/Inertia", from: "0.1.0")],
    targets: [
        .executableTarget(name: "consumer", dependencies: [.product(name: "Inertia", package: "Inertia")]),
    ]
)
MANIFEST
cat > "$scratch/consumer/Sources/consumer/main.swift" <<'SOURCE'
import Inertia

var rng = PhiloxGenerator(seed: 0)
let model = MLP(sizes: [4, 32, 3], using: &rng)
let x = Tensor.normal([64, 4], standardDeviation: 1, using: &rng)
let labels = IndexTensor(shape: [64, 1], indices: (0..<64).map { $0 % 3 })
let optimizer = try AdamW(learningRate: 0.01)
var losses: [Float] = []
for _ in 0..<20 {
    model.zeroGradients()
    let loss = -model(x).logSoftmax(alongAxis: 1).gather(alongAxis: 1, indices: labels).mean()
    loss.backward()
    optimizer.step(model.namedParameters().map { ($0.name, $0.parameter) })
    losses.append(loss.item)
}
print("kernels: \(Kernels.instructionSet.rawValue)")
print("AdamW losses: first \(losses.first!), last \(losses.last!)")
guard losses.last! < losses.first! else { fatalError("the loss did not fall") }
SOURCE

cd "$scratch/consumer"
swift build 2>&1 | tail -3
"$(swift build --show-bin-path)/consumer"
echo "consumer package: built with from: \"0.1.0\" and ran"
