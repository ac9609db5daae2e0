// swift-tools-version: 6.1

import PackageDescription

// The benchmark runner lives in its own package so that neither the library's build nor its CI
// test build compiles it. Run it with `Benchmarks/run` from the repository root.
let package = Package(
  name: "UserManagementKitBenchmarks",
  platforms: [
    .macOS(.v15)
  ],
  dependencies: [
    .package(name: "UserManagementKit", path: ".."),
    // The second reference of the store benchmarks (its DatabasePool, as an app would use it).
    // Only this package depends on it; the library depends on nothing.
    .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
  ],
  targets: [
    .executableTarget(
      name: "umk-bench",
      dependencies: [
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "UserManagementKitTesting", package: "UserManagementKit"),
        .product(name: "_UMKCrypto", package: "UserManagementKit"),
        .product(name: "GRDB", package: "GRDB.swift"),
      ],
      swiftSettings: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
      ]
    )
  ],
  swiftLanguageModes: [.v6]
)
