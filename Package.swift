// swift-tools-version:6.1
import PackageDescription

// No compiler flags anywhere (SwiftPM refuses unsafe flags in a versioned dependency): the code
// that needs an instruction set is in CInertiaKernels, compiled per instruction set and picked at
// run time. Tests run fast with `swift test -c release -Xswiftc -enable-testing`.
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
        .library(name: "InertiaPhysics", targets: ["InertiaPhysics"]),
        .library(name: "InertiaDistributed", targets: ["InertiaDistributed"]),
        .executable(name: "inertia", targets: ["inertia"]),
    ],
    traits: [
        .trait(
            name: "MPI",
            description:
                "Data-parallel runs over MPI (`swift build --traits MPI`): needs an MPI implementation's headers and its pkg-config file `mpi` (Debian: libopenmpi-dev)."
        )
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (the DocC catalogs under Sources/*/*.docc); a
        // command plugin only, nothing of it is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // The kernel layer: C compiled once per instruction set (target attributes, no flags) and
        // chosen at run time; see Sources/CInertiaKernels/include/CInertiaKernels.h.
        .target(name: "CInertiaKernels", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "InertiaTensor", dependencies: ["CInertiaKernels"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "InertiaData", dependencies: ["InertiaTensor", "CZlib"], resources: [.copy("Resources/digits.csv.gz")]
        ),
        .target(name: "InertiaNN", dependencies: ["InertiaTensor"]),
        .target(name: "InertiaOptim", dependencies: ["InertiaNN", "CInertiaKernels"]),
        .target(
            name: "InertiaTraining", dependencies: ["InertiaNN", "InertiaData", "InertiaOptim", "InertiaDistributed"]),
        .target(name: "InertiaTransport", dependencies: ["InertiaTensor", "CInertiaKernels"]),
        .target(name: "InertiaParticles", dependencies: ["InertiaOptim", "CInertiaKernels"]),
        .target(name: "InertiaGenerative", dependencies: ["InertiaOptim"]),
        .target(name: "InertiaPhysics", dependencies: ["InertiaOptim"]),
        // MPI only with the trait: a plain build never reads mpi.h (`InertiaDistributed` then has
        // its single-process communicator alone).
        .systemLibrary(name: "CMPI", pkgConfig: "mpi", providers: [.apt(["libopenmpi-dev"])]),
        .target(
            name: "InertiaDistributed",
            dependencies: [.target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .target(
            name: "InertiaExperiments",
            dependencies: [
                "InertiaTraining", "InertiaTransport", "InertiaParticles", "InertiaGenerative", "InertiaPhysics",
            ],
            // The specs' reference numbers (`shared/fixtures`), read by the reproductions and tests.
            resources: [.copy("Fixtures")]),
        .target(
            name: "Inertia",
            dependencies: [
                "InertiaTensor", "InertiaData", "InertiaNN", "InertiaOptim", "InertiaTraining", "InertiaTransport",
                "InertiaParticles", "InertiaGenerative", "InertiaPhysics", "InertiaExperiments", "InertiaDistributed",
            ]),
        .executableTarget(
            name: "inertia",
            dependencies: [
                "Inertia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "InertiaTestSupport", dependencies: ["InertiaTensor"], path: "Tests/InertiaTestSupport"),
        .testTarget(name: "InertiaTensorTests", dependencies: ["InertiaTensor", "InertiaTestSupport"]),
        .testTarget(
            name: "InertiaKernelTests",
            dependencies: ["InertiaTensor", "InertiaNN", "InertiaOptim", "InertiaTransport"]),
        .testTarget(name: "InertiaDataTests", dependencies: ["InertiaData", "InertiaTestSupport"]),
        .testTarget(
            name: "InertiaNNTests", dependencies: ["InertiaNN", "InertiaData", "InertiaTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "InertiaOptimTests", dependencies: ["InertiaOptim", "InertiaExperiments", "InertiaTestSupport"]),
        .testTarget(name: "InertiaTrainingTests", dependencies: ["InertiaTraining", "InertiaDistributed"]),
        .testTarget(name: "InertiaTransportTests", dependencies: ["InertiaTransport", "InertiaTestSupport"]),
        .testTarget(name: "InertiaParticlesTests", dependencies: ["InertiaParticles", "InertiaTestSupport"]),
        .testTarget(
            name: "InertiaGenerativeTests",
            dependencies: ["InertiaGenerative", "InertiaExperiments", "InertiaTestSupport"]),
        .testTarget(
            name: "InertiaPhysicsTests", dependencies: ["InertiaPhysics", "InertiaTestSupport"]),
        .testTarget(name: "InertiaExperimentsTests", dependencies: ["InertiaExperiments"]),
        .testTarget(name: "InertiaDistributedTests", dependencies: ["InertiaDistributed"]),
        .testTarget(name: "InertiaCLITests", dependencies: ["inertia"]),
    ],
    swiftLanguageModes: [.v5]
)
