// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser of untrusted input, kept out of the main package so that its
// manifest never carries the fuzzing flags. Scripts/fuzz.sh builds each target with
// `-sanitize=fuzzer,address` on its command line and runs it; MakeSeeds writes the seed corpus.
let targets = ["FuzzSafeTensors", "FuzzCheckpoint", "FuzzIDX", "FuzzGzip", "FuzzTrainingCSV", "FuzzTransportCSV"]

let package = Package(
    name: "InertiaFuzz",
    products: targets.map { .executable(name: $0, targets: [$0]) } + [
        .executable(name: "MakeSeeds", targets: ["MakeSeeds"])
    ],
    dependencies: [.package(name: "Inertia", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "InertiaTensor", package: "Inertia"), .product(name: "InertiaNN", package: "Inertia"),
                .product(name: "InertiaOptim", package: "Inertia"),
            ]),
        .executableTarget(
            name: "MakeSeeds", dependencies: ["FuzzSupport", .product(name: "Inertia", package: "Inertia")]),
    ]
        + targets.map {
            .executableTarget(
                name: $0,
                dependencies: [
                    "FuzzDriver", "FuzzSupport",
                    .product(name: "InertiaData", package: "Inertia"),
                    .product(name: "InertiaNN", package: "Inertia"),
                    .product(name: "InertiaOptim", package: "Inertia"),
                    .product(name: "InertiaTraining", package: "Inertia"),
                    .product(name: "InertiaTransport", package: "Inertia"),
                ])
        },
    swiftLanguageModes: [.v5]
)
