#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A fresh, empty directory under the system's temporary directory, removed with its contents
/// when the value is released.
final class TemporaryDirectory: Sendable {
  let path: String

  init() throws {
    let base = FileManager.default.temporaryDirectory.path
    path = base + "/umk-test-" + UUID().uuidString.lowercased()
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  /// A path inside this directory for a store, not yet created.
  var store: String { path + "/store" }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}
