// swift-tools-version:6.1
import PackageDescription

/// Compiler flags of the `NativeSIMD` trait (on by default): AVX2 + FMA code generation for the
/// Swift kernels, and no errno semantics so `squareRoot()` vectorizes. A CPU without AVX2 or FMA
/// gets a clear message at load time (see `CInertiaSupport`); build with
/// `--disable-default-traits` there.
let nativeSIMDFlags: [String] = ["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-fno-math-errno"]
let nativeSIMD: [SwiftSetting] = [.unsafeFlags(nativeSIMDFlags, .when(traits: ["NativeSIMD"]))]
/// The library modules are optimized in debug builds too: `swift test` trains real models and
/// sweeps the kernels, which unoptimized code runs 10 to 50 times slower. Debugging information
/// and testability stay.
let library: [SwiftSetting] = nativeSIMD + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Inertia",
    products: [
        .library(name: "Inertia", targets: ["Inertia"]),
        .library(name: "InertiaTensor", targets: ["InertiaTensor"]),
        .library(name: "InertiaData", targets: ["InertiaData"]),
        .library(name: "InertiaNN", targets: ["InertiaNN"]),
        .library(name: "InertiaOptim", targets: ["InertiaOptim"]),
        .library(name: "InertiaTraining", targets: ["InertiaTraining"]),
        .library(name: "InertiaExperiments", targets: ["InertiaExperiments"]),
        .library(name: "InertiaTransport", targets: ["InertiaTransport"]),
        .library(name: "InertiaParticles", targets: ["InertiaParticles"]),
        .library(name: "InertiaGenerative", targets: ["InertiaGenerative"]),
        .executable(name: "inertia", targets: ["inertia"]),
    ],
    traits: [
        .trait(
            name: "NativeSIMD",
            description: "Compile the kernels for AVX2 + FMA (x86-64-v3). Disable on older CPUs."
        ),
        .default(enabledTraits: ["NativeSIMD"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CInertiaSupport",
            cSettings: [.define("INERTIA_REQUIRE_AVX2_FMA", .when(traits: ["NativeSIMD"]))],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(
            name: "InertiaTensor",
            dependencies: ["CInertiaSupport"],
            swiftSettings: library
        ),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "InertiaData", dependencies: ["InertiaTensor", "CZlib"], resources: [.copy("Resources/digits.csv.gz")], swiftSettings: library),
        .target(name: "InertiaNN", dependencies: ["InertiaTensor"], swiftSettings: library),
        .target(name: "InertiaOptim", dependencies: ["InertiaNN"], swiftSettings: library),
        .target(
            name: "InertiaTraining", dependencies: ["InertiaNN", "InertiaData", "InertiaOptim"], swiftSettings: library),
        .target(name: "InertiaTransport", dependencies: ["InertiaTensor"], swiftSettings: library),
        .target(name: "InertiaParticles", dependencies: ["InertiaOptim"], swiftSettings: library),
        .target(name: "InertiaGenerative", dependencies: ["InertiaOptim"], swiftSettings: library),
        .target(
            name: "InertiaExperiments", dependencies: ["InertiaTraining", "InertiaTransport", "InertiaParticles", "InertiaGenerative"], swiftSettings: library),
        .target(
            name: "Inertia",
            dependencies: ["InertiaTensor", "InertiaData", "InertiaNN", "InertiaOptim", "InertiaTraining", "InertiaTransport", "InertiaParticles", "InertiaGenerative", "InertiaExperiments"],
            swiftSettings: nativeSIMD),
        .executableTarget(
            name: "inertia",
            dependencies: [
                "Inertia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeSIMD
        ),
        .target(name: "InertiaTestSupport", dependencies: ["InertiaTensor"], path: "Tests/InertiaTestSupport"),
        .testTarget(name: "InertiaTensorTests", dependencies: ["InertiaTensor", "InertiaTestSupport"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaDataTests", dependencies: ["InertiaData"], swiftSettings: nativeSIMD),
        .testTarget(
            name: "InertiaNNTests", dependencies: ["InertiaNN"], resources: [.copy("Fixtures")], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaOptimTests", dependencies: ["InertiaOptim", "InertiaTestSupport"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaTrainingTests", dependencies: ["InertiaTraining"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaTransportTests", dependencies: ["InertiaTransport", "InertiaTestSupport"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaParticlesTests", dependencies: ["InertiaParticles", "InertiaTestSupport"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaGenerativeTests", dependencies: ["InertiaGenerative", "InertiaTestSupport"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaExperimentsTests", dependencies: ["InertiaExperiments"], swiftSettings: nativeSIMD),
        .testTarget(name: "InertiaCLITests", dependencies: ["inertia"], swiftSettings: nativeSIMD),
    ],
    swiftLanguageModes: [.v5]
)
