// swift-tools-version: 6.1

import PackageDescription

let package = Package(
  name: "ConsoleTour",
  platforms: [.macOS(.v15), .iOS(.v18)],
  products: [.executable(name: "console-tour", targets: ["ConsoleTour"])],
  dependencies: [.package(name: "UserManagementKit", path: "../..")],
  targets: [
    .executableTarget(
      name: "ConsoleTour",
      dependencies: [.product(name: "UserManagementKit", package: "UserManagementKit")],
      swiftSettings: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
      ]
    )
  ],
  swiftLanguageModes: [.v6]
)
