// swift-tools-version: 6.1

import PackageDescription

// Upcoming and experimental language features enabled for every target, so the whole package
// is held to the same rules. Strictness flags that would break dependents (warnings as errors,
// unsafe flags) are applied by `.ci/run`, never here.
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
  name: "UserManagementKit",
  platforms: [
    .macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2),
  ],
  products: [
    .library(name: "UserManagementKit", targets: ["UserManagementKit"]),
    .library(name: "UserManagementKitTesting", targets: ["UserManagementKitTesting"]),
    // The library's own cryptographic primitives, for its benchmarks and tests. Underscored
    // because it carries no API promise: it may change in any release. Hosts use the
    // credential types of UserManagementKit, never these.
    .library(name: "_UMKCrypto", targets: ["UMKCrypto"]),
  ],
  targets: [
    // Cryptographic primitives (hashes, MACs, KDFs, encodings). Knows nothing about users.
    .target(name: "UMKCrypto", dependencies: ["CUMKCrypto"]),
    // Hash kernels Swift cannot express (SHA instructions), chosen at run time; UMKCrypto's
    // Swift code is the portable fallback.
    .target(name: "CUMKCrypto"),
    // System calls Swift's platform modules do not expose everywhere (getrandom on Linux).
    .target(name: "CUMKSystem"),
    // The library: domain model, rules, credentials, storage protocols and implementations.
    .target(name: "UserManagementKit", dependencies: ["UMKCrypto", "CUMKSystem"]),
    // Conformance suites and test doubles for hosts that implement their own storage.
    .target(name: "UserManagementKitTesting", dependencies: ["UserManagementKit", "UMKCrypto"]),
    .testTarget(name: "UMKCryptoTests", dependencies: ["UMKCrypto"]),
    .testTarget(
      name: "UserManagementKitTests",
      dependencies: [
        "UserManagementKit", "UserManagementKitTesting", "UMKCrypto", "CUMKSystem",
        "UMKStoreTorture",
      ],
      // The migration sample exports, kept as files for reading and as Swift literals
      // (`Migration/MigrationSamples.swift`) for the tests; not resources.
      exclude: ["Migration/Samples"]
    ),
    // A child process the store's crash and multi-process tests start, kill and read. A
    // dependency of the tests only so that building the tests builds it.
    .executableTarget(
      name: "UMKStoreTorture", dependencies: ["UserManagementKit", "UserManagementKitTesting"],
      path: "Tests/StoreTorture"),
  ],
  swiftLanguageModes: [.v6]
)

for target in package.targets where !["CUMKSystem", "CUMKCrypto"].contains(target.name) {
  target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
