// swift-tools-version: 6.1

import PackageDescription

// `umk`, the administration console on a terminal, against the file-backed store.
//
//   swift run -c release --package-path Examples/umk umk demo
//   Examples/umk/Scripts/test
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "umk",
  platforms: [.macOS(.v15)],
  products: [.executable(name: "umk", targets: ["umk"])],
  dependencies: [
    .package(name: "UserManagementKit", path: "../.."),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    .executableTarget(
      name: "umk",
      dependencies: [
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    // End-to-end tests: they run the built `umk` binary as a subprocess.
    .testTarget(
      name: "umkTests",
      // _UMKCrypto computes the authenticator codes a phone app would show (TOTP, RFC 6238).
      dependencies: ["umk", .product(name: "_UMKCrypto", package: "UserManagementKit")],
      // The expected help texts, read by path (`Support/Snapshot.swift`), not as resources.
      exclude: ["Snapshots"],
      swiftSettings: swiftSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
