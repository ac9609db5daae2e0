// swift-tools-version: 6.1

import PackageDescription

// `PostgresDirectoryStore`: the library's `DirectoryStore` on PostgreSQL, over postgres-nio.
//
// A sibling package so that the core package keeps zero dependencies. Tests need a server:
//
//   Scripts/with-postgres swift test --package-path Stores/PostgreSQL
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "PostgresDirectoryStore",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "PostgresDirectoryStore", targets: ["PostgresDirectoryStore"]),
    .executable(name: "umk-postgres", targets: ["umk-postgres"]),
  ],
  dependencies: [
    .package(name: "UserManagementKit", path: "../.."),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
  ],
  targets: [
    .target(
      name: "PostgresDirectoryStore",
      dependencies: [
        .product(name: "UserManagementKit", package: "UserManagementKit"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      swiftSettings: swiftSettings
    ),
    // `umk-postgres migrate --url …`: creates or upgrades the schema from the command line.
    .executableTarget(
      name: "umk-postgres",
      dependencies: ["PostgresDirectoryStore"],
      swiftSettings: swiftSettings
    ),
    // A worker the tests start as separate processes, each with its own `PostgresClient`, to
    // race commits across processes.
    .executableTarget(
      name: "pg-store-worker",
      dependencies: ["PostgresDirectoryStore"],
      swiftSettings: swiftSettings
    ),
    // The benchmarks (`Scripts/bench`): ours against hand-written SQL on the same server.
    .executableTarget(
      name: "pg-bench",
      dependencies: ["PostgresDirectoryStore"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PostgresDirectoryStoreTests",
      dependencies: [
        "PostgresDirectoryStore",
        .product(name: "UserManagementKitTesting", package: "UserManagementKit"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      swiftSettings: swiftSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
