// swift-tools-version: 6.2

import PackageDescription

// The web console: the seed's Administration pages on Hummingbird, over the library's public
// API. `UMKConsole` is the library a host mounts on its own router; `umk-console` serves it on a
// file store.
//
//   swift run --package-path Examples/console umk-console --store /tmp/umk-store
//   Examples/console/Scripts/test
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "console",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "UMKConsole", targets: ["UMKConsole"]),
    .executable(name: "umk-console", targets: ["umk-console"]),
    .executable(name: "umk-console-seed", targets: ["umk-console-seed"]),
  ],
  dependencies: [
    .package(name: "UserManagementKit", path: "../.."),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    .target(
      name: "UMKConsole",
      dependencies: [
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "umk-console",
      dependencies: [
        "UMKConsole",
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    // Fills a store with many users for Scripts/bench.
    .executableTarget(
      name: "umk-console-seed",
      dependencies: [
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "UMKConsoleTests",
      dependencies: [
        "UMKConsole",
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
