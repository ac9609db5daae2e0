import Foundation
import Testing

/// What one run of the `umk` binary produced.
struct Run: CustomStringConvertible {
  var status: Int32
  var stdout: String
  var stderr: String

  /// The standard output as one JSON object.
  func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
    return try #require(object as? [String: Any], sourceLocation: sourceLocation)
  }

  /// The standard error's `{"error": {...}}` document.
  func jsonError(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(stderr.utf8))
    let document = try #require(object as? [String: Any], sourceLocation: sourceLocation)
    return try #require(document["error"] as? [String: Any], sourceLocation: sourceLocation)
  }

  var description: String {
    "status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
  }
}

/// Runs the built `umk` binary as a subprocess, in a fresh store directory per instance.
struct UMK {
  /// The binary: `$UMK_BINARY`, else `umk` next to the test bundle (the build's products).
  static let binary: URL? = {
    if let path = ProcessInfo.processInfo.environment["UMK_BINARY"] {
      return URL(fileURLWithPath: path)
    }
    var candidates = [
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
      Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
    ]
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
      candidates.append(bundle.bundleURL.deletingLastPathComponent())
    }
    return candidates.map { $0.appendingPathComponent("umk") }.first {
      FileManager.default.isExecutableFile(atPath: $0.path)
    }
  }()

  let root: URL
  var store: String { root.appendingPathComponent("store").path }

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "umk-tests-\(UUID().uuidString.lowercased())")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  func cleanUp() {
    try? FileManager.default.removeItem(at: root)
  }

  /// Runs `umk ARGS --store STORE`, feeding `stdin`.
  @discardableResult
  func callAsFunction(
    _ arguments: String..., stdin: String = "", store: String? = nil,
    environment: [String: String] = [:]
  ) throws -> Run {
    try run(arguments, stdin: stdin, store: store ?? self.store, environment: environment)
  }

  /// Runs `umk ARGS` without adding `--store`.
  func run(
    _ arguments: [String], stdin: String = "", store: String?,
    environment: [String: String] = [:]
  ) throws -> Run {
    let binary = try #require(UMK.binary, "build the umk product first (Scripts/test does)")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments + (store.map { ["--store", $0] } ?? [])
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "UMK_STORE")
    for (key, value) in environment { env[key] = value }
    process.environment = env
    process.currentDirectoryURL = root
    // Every stream goes through a file, so that no pipe can fill up and block either side.
    let inputURL = root.appendingPathComponent("stdin-\(UUID().uuidString)")
    try Data(stdin.utf8).write(to: inputURL)
    let input = try FileHandle(forReadingFrom: inputURL)
    let outputURL = root.appendingPathComponent("stdout-\(UUID().uuidString)")
    let errorURL = root.appendingPathComponent("stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    let output = try FileHandle(forWritingTo: outputURL)
    let error = try FileHandle(forWritingTo: errorURL)
    defer {
      try? input.close()
      try? output.close()
      try? error.close()
      try? FileManager.default.removeItem(at: inputURL)
      try? FileManager.default.removeItem(at: outputURL)
      try? FileManager.default.removeItem(at: errorURL)
    }
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error
    try process.run()
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus,
      stdout: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
      stderr: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
  }
}

/// A store with an administrator (ada@example.com) and, optionally, a General User.
extension UMK {
  static let adaPassword = "analytical engine 1843"

  static func withStore(_ body: (UMK) throws -> Void) throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let created = try umk(
      "init", "--admin", "ada@example.com", "--first", "Ada", "--last", "Lovelace",
      "--password-stdin", stdin: adaPassword + "\n")
    try #require(created.status == 0, "\(created)")
    try body(umk)
  }
}
