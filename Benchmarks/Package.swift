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
    .package(name: "UserManagementKit", path: "..")
  ],
  targets: [
    .executableTarget(
      name: "umk-bench",
      dependencies: [
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "UserManagementKitTesting", package: "UserManagementKit"),
        .product(name: "_UMKCrypto", package: "UserManagementKit"),
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
