// swift-tools-version:6.1
import PackageDescription

/// Compiler flags of the `NativeSIMD` trait (on by default): AVX2 + FMA code generation for the
/// Swift kernels, and no errno semantics so `squareRoot()` vectorizes. A CPU without AVX2 or FMA
/// gets a clear message at load time (see `CInertiaSupport`); build with
/// `--disable-default-traits` there.
let nativeSIMDFlags: [String] = ["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-fno-math-errno"]
let nativeSIMD: [SwiftSetting] = [.unsafeFlags(nativeSIMDFlags, .when(traits: ["NativeSIMD"]))]

let package = Package(
    name: "Inertia",
    products: [
        .library(name: "Inertia", targets: ["Inertia"]),
        .library(name: "InertiaTensor", targets: ["InertiaTensor"]),
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
            swiftSettings: nativeSIMD
        ),
        .target(name: "Inertia", dependencies: ["InertiaTensor"], swiftSettings: nativeSIMD),
        .executableTarget(
            name: "inertia",
            dependencies: [
                "Inertia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeSIMD
        ),
        .testTarget(
            name: "InertiaTensorTests",
            dependencies: ["InertiaTensor"],
            swiftSettings: nativeSIMD
        ),
    ],
    swiftLanguageModes: [.v5]
)
