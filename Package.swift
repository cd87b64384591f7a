// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tollgate", targets: ["Console"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.1.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        // Property-based tests of every parser and the sanitiser (Tests/*/PropertyTests.swift).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // System-library shims: headers only, static inline wrappers for macros and variadics.
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses",
                       providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CQRencode", path: "Sources/CQRencode",
                       providers: [.apt(["libqrencode-dev"])]),
        // glibc's malloc.h (mallopt): part of libc, nothing to install.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),

        // Domain types, schemas, backend protocols and adapters. No UI.
        .target(name: "Backends", dependencies: ["CHiredis", "CCurl", .product(name: "Crypto", package: "swift-crypto"),
                                                 .product(name: "JWTKit", package: "jwt-kit")],
                path: "Sources/Backends"),
        // View models, widgets drawing into a cell grid, themes. No I/O, no curses.
        .target(name: "Views", dependencies: ["Backends", "TOMLKit"], path: "Sources/Views", plugins: ["EmbedThemes"]),
        // Compiles themes/*.toml into Views, so a copied binary has every shipped theme.
        .plugin(name: "EmbedThemes", capability: .buildTool(), dependencies: ["tollgate-embed-themes"], path: "Plugins/EmbedThemes"),
        .executableTarget(name: "tollgate-embed-themes", path: "Plugins/EmbedThemesTool"),
        // The `tollgate` executable: arguments, event loop, curses driver, CLI.
        .executableTarget(
            name: "Console",
            dependencies: [
                "Views", "Backends", "CNcurses", "CQRencode", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            path: "Sources/Console"
        ),

        // `make bench`: measured side by side against baselines in one run (docs/benchmarks.md).
        .executableTarget(name: "tollgate-bench-redis", dependencies: ["Backends", "CHiredis"], path: "Benchmarks/RedisBench"),
        .executableTarget(name: "tollgate-bench-clickhouse", dependencies: ["Backends"], path: "Benchmarks/ClickHouseBench"),
        .executableTarget(name: "tollgate-bench-console", dependencies: ["Views", "Backends"], path: "Benchmarks/ConsoleBench"),

        // Test helpers shared by the test targets: loopback sockets, a proxy that loses replies, hostile text.
        .target(name: "TestSupport", dependencies: ["Backends", .product(name: "PropertyBased", package: "swift-property-based")], path: "Tests/Support"),
        .testTarget(name: "BackendsTests", dependencies: ["Backends", "CHiredis", "CCurl", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
                                                      .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "ViewsTests", dependencies: ["Views", "Backends", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")], exclude: ["Golden"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Backends", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
