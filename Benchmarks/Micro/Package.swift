// swift-tools-version:6.1
// Micro benchmarks (ordo-one/benchmark), a package of their own so that the main build and CI
// never build the benchmark framework. Run with hack/bench/evaluator.sh.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "apideployer-micro-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Evaluator",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ModelRuntime", package: root.lastPathComponent),
                .product(name: "APINode", package: root.lastPathComponent),
            ],
            path: "Benchmarks/Evaluator",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
