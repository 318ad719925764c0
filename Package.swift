// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "shiplog",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shiplog", targets: ["shiplog"]),
        .library(name: "ShiplogModel", targets: ["ShiplogModel"]),
        .library(name: "ShiplogStore", targets: ["ShiplogStore"]),
        .library(name: "ShiplogServer", targets: ["ShiplogServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.36.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
    ],
    targets: [
        // The event, its types, validation, time parsing, canonical encoding.
        .target(
            name: "ShiplogModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // One file per source format: payload → validated events.
        .target(
            name: "ShiplogSources",
            dependencies: ["ShiplogModel", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The SQLite event log: schema, migrations, group-committed appends, queries, verify.
        .target(
            name: "ShiplogStore",
            dependencies: [
                "ShiplogModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The PostgreSQL event log: the same contract as SQLite's, for several replicas.
        .target(
            name: "ShiplogPostgres",
            dependencies: [
                "ShiplogModel",
                "ShiplogStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Derived state per (service, environment), DORA and promotion figures, exposition.
        .target(name: "ShiplogMetrics", dependencies: ["ShiplogModel", "ShiplogStore", .product(name: "Crypto", package: "swift-crypto")]),
        // The web view's pages: Mustache templates and assets compiled into the binary,
        // rendered from the projection and the log's pages.
        .target(
            name: "ShiplogWeb",
            dependencies: [
                "ShiplogMetrics", "ShiplogModel", "ShiplogStore",
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // The answers the HTTP API writes and its clients read: typed, Codable.
        .target(name: "ShiplogAPI", dependencies: ["ShiplogModel"]),
        // The Hummingbird application: routes, auth, limits.
        .target(
            name: "ShiplogServer",
            dependencies: [
                "ShiplogAPI",
                "ShiplogModel",
                "ShiplogSources",
                "ShiplogStore",
                "ShiplogMetrics",
                "ShiplogWeb",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The thin CLI: one file per command.
        .executableTarget(
            name: "shiplog",
            dependencies: [
                "ShiplogAPI",
                "ShiplogModel",
                "ShiplogSources",
                "ShiplogStore",
                "ShiplogMetrics",
                "ShiplogServer",
                "ShiplogPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // A CI step starts this binary for every command, and a process pays at start for
            // what its release build was linked with: lld packs its 145,000 relative
            // relocations (RELR, glibc 2.36 and later) into 28 KB instead of 3.5 MB, and
            // exporting no symbols (the Swift toolchain exports all of them, 52,000) keeps
            // `dladdr` and symbol binding from walking them. docs/benchmarks.md, *The CLI's
            // whole process*.
            linkerSettings: [
                .unsafeFlags(
                    ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"],
                    .when(platforms: [.linux], configuration: .release)
                )
            ]
        ),
        // Benchmarks (run in release; see docs/benchmarks.md).
        .executableTarget(
            name: "shiplog-bench",
            dependencies: ["ShiplogModel", "ShiplogStore"],
            path: "Benchmarks/shiplog-bench"
        ),
        // libFuzzer targets (scripts/fuzz.sh builds them with -sanitize=fuzzer,address -DFUZZING
        // -parse-as-library; a plain build makes them programs that do nothing).
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzDriver", "ShiplogModel"], path: "Fuzz/FuzzJSON"),
        .executableTarget(name: "FuzzSources", dependencies: ["FuzzDriver", "ShiplogModel", "ShiplogSources"], path: "Fuzz/FuzzSources"),
        .executableTarget(name: "FuzzTime", dependencies: ["FuzzDriver", "ShiplogModel", "ShiplogStore", "ShiplogMetrics"], path: "Fuzz/FuzzTime"),
        .executableTarget(
            name: "FuzzSnapshot",
            dependencies: ["FuzzDriver", "ShiplogMetrics", "ShiplogModel", "ShiplogStore"],
            path: "Fuzz/FuzzSnapshot"
        ),
        // What the test targets share: temporary directories, the built binary, a server
        // process, HTTP, the sqlite3 shell, the shared fixtures.
        .target(name: "ShiplogTestSupport", dependencies: ["ShiplogModel"], path: "Tests/ShiplogTestSupport"),
        .testTarget(name: "ShiplogModelTests", dependencies: ["ShiplogModel", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "ShiplogSourcesTests", dependencies: ["ShiplogSources", "ShiplogModel"]),
        .testTarget(
            name: "ShiplogStoreTests",
            dependencies: [
                "ShiplogStore", "ShiplogPostgres", "ShiplogModel", "ShiplogTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "ShiplogMetricsTests",
            dependencies: ["ShiplogMetrics", "ShiplogStore", "ShiplogModel", "ShiplogTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // The routes in process (HummingbirdTesting): status codes and bodies, no socket.
        .testTarget(
            name: "ShiplogServerTests",
            dependencies: [
                "ShiplogServer", "ShiplogMetrics", "ShiplogStore", "ShiplogModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The CLI's own parsing, in process.
        .testTarget(name: "ShiplogCLITests", dependencies: ["shiplog", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The built binary as users run it: CLI, server, sources, crashes, limits.
        .testTarget(name: "ShiplogEndToEndTests", dependencies: ["ShiplogModel", "ShiplogTestSupport"]),
        // The shipped files: deploy/ (kubectl kustomize), Alerts/ and Dashboards/ (promtool,
        // Prometheus). `swift test --skip ShiplogRepositoryTests` leaves out the tools they need.
        .testTarget(name: "ShiplogRepositoryTests", dependencies: ["ShiplogModel", "ShiplogTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
