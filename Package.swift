// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "apideployer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "apideployer", targets: ["apideployer"]),
        // Libraries for the micro benchmarks (Benchmarks/Micro, a package of its own).
        .library(name: "ModelRuntime", targets: ["ModelRuntime"]),
        .library(name: "APINode", targets: ["APINode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // swift-certificates: the server creates its own self-signed TLS certificate at first start.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // ZIPFoundation: packages are zip archives; none of the chosen dependencies reads or writes zip.
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "DeployerModel",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(name: "ServerLogging", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(
            name: "ReconcileKit",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelRuntime",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["ONNX/README.md"],
            swiftSettings: swiftSettings
        ),
        // The system zlib (already required by ZIPFoundation): gzip of closed event files.
        .systemLibrary(name: "SystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "EventServer",
            dependencies: [
                "DeployerModel", "SystemZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EventShipping",
            dependencies: [
                "DeployerModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "APINode",
            dependencies: [
                "DeployerModel", "ModelRuntime", "EventShipping", "CloudHTTP",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                // SQL query and lookup endpoints use the SQLite that sqlite-nio vendors directly.
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            // The Python worker (python/apideployer, linked here) travels inside the binary.
            resources: [.embedInCode("Python/apideployer/worker.py"), .embedInCode("Python/apideployer/__init__.py")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DeployerCore",
            dependencies: [
                "DeployerModel", "ReconcileKit", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CloudHTTP",
            dependencies: [
                "DeployerModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DeployerDrivers",
            dependencies: [
                "DeployerCore", "DeployerModel", "CloudHTTP", "SystemZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DeployerStores",
            dependencies: [
                "DeployerCore", "CloudHTTP", "ReconcileKit", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DeployerServer",
            dependencies: [
                "DeployerCore", "CloudHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DeployerTesting",
            dependencies: [
                "DeployerCore", "DeployerModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fakes of the managed platforms (and moto's launcher) for the drivers' tests.
        .target(
            name: "PlatformTesting",
            dependencies: [
                "CloudHTTP", "DeployerModel", "DeployerCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Peers"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "apideployer",
            dependencies: [
                "DeployerModel", "DeployerCore", "DeployerStores", "DeployerServer", "DeployerDrivers", "CloudHTTP", "APINode", "EventServer", "EventShipping", "ReconcileKit",
                "ServerLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "store-bench",
            dependencies: [
                "DeployerModel", "CloudHTTP",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/StoreBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "serving-ceiling",
            dependencies: ["ServerLogging", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ServingCeiling",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DeployerModelTests", dependencies: ["DeployerModel"], swiftSettings: swiftSettings),
        .testTarget(name: "ServerLoggingTests", dependencies: ["ServerLogging", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(name: "ModelRuntimeTests", dependencies: ["ModelRuntime", "DeployerModel"], swiftSettings: swiftSettings),
        .testTarget(name: "APINodeTests", dependencies: ["APINode", "ModelRuntime", "DeployerModel", "DeployerTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "DeployerCoreTests", dependencies: ["DeployerCore", "DeployerModel", "ReconcileKit", "DeployerTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "EventServerTests", dependencies: ["EventServer", "DeployerModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CloudHTTPTests",
            dependencies: [
                "CloudHTTP", "DeployerModel", "PlatformTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Peers"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PlatformDriverTests",
            dependencies: [
                "DeployerDrivers", "DeployerCore", "DeployerModel", "DeployerTesting", "PlatformTesting", "CloudHTTP", "ReconcileKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Peers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventShippingTests",
            dependencies: ["EventShipping", "EventServer", "DeployerModel", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ReconcileKitTests", dependencies: ["ReconcileKit", "DeployerTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DeployerStoresTests",
            dependencies: ["DeployerStores", "DeployerCore", "DeployerTesting", "PlatformTesting", "CloudHTTP", "ReconcileKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeployerServerTests",
            dependencies: [
                "DeployerServer", "DeployerCore", "DeployerTesting", "CloudHTTP", "DeployerStores",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "DeployerModel", "CloudHTTP", "DeployerTesting", "PlatformTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["Peers"],
            swiftSettings: swiftSettings
        ),
    ]
)
