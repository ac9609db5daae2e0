import Foundation
import Testing

/// Runs the built `umk` binary as a subprocess, in a fresh temporary directory per instance.
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

  /// The temporary directory: the working directory of every run, and the store's parent.
  let root: URL
  /// The store directory that runs get with `--store` unless told otherwise.
  var store: String { root.appendingPathComponent("store").path }

  /// Creates a fresh temporary directory (no store yet).
  ///
  /// - Throws: File-system errors.
  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "umk-tests-\(UUID().uuidString.lowercased())")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  /// Removes the temporary directory.
  func cleanUp() {
    try? FileManager.default.removeItem(at: root)
  }

  /// Runs `umk ARGS --store STORE`, feeding `stdin`.
  ///
  /// - Parameters:
  ///   - arguments: The arguments.
  ///   - stdin: Standard input.
  ///   - store: The store (default: ``store``).
  ///   - environment: Extra environment variables.
  /// - Returns: What the run produced.
  /// - Throws: When the binary cannot be run.
  @discardableResult
  func callAsFunction(
    _ arguments: String..., stdin: String = "", store: String? = nil,
    environment: [String: String] = [:]
  ) throws -> Run {
    try run(arguments, stdin: stdin, store: store ?? self.store, environment: environment)
  }

  /// Runs `umk ARGS`, adding `--store STORE` only when `store` is given.
  ///
  /// `$UMK_STORE` is removed from the environment (unless `environment` sets it) and
  /// `COLUMNS` is 80, so that help text is laid out the same everywhere.
  ///
  /// - Parameters:
  ///   - arguments: The arguments.
  ///   - stdin: Standard input.
  ///   - store: The store, or `nil` for no `--store`.
  ///   - environment: Extra environment variables.
  /// - Returns: What the run produced.
  /// - Throws: When the binary cannot be run.
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
    env["COLUMNS"] = "80"
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

/// What one run of the `umk` binary produced.
struct Run: CustomStringConvertible {
  /// The exit status.
  var status: Int32
  /// Standard output.
  var stdout: String
  /// Standard error.
  var stderr: String

  /// Standard output, decoded as one JSON document.
  ///
  /// - Parameter type: The document's type.
  /// - Returns: The document.
  /// - Throws: `DecodingError` when standard output is not such a document.
  func output<Document: Decodable>(_ type: Document.Type) throws -> Document {
    try JSONDecoder().decode(type, from: Data(stdout.utf8))
  }

  /// The keys of the JSON object on standard output.
  ///
  /// - Returns: The keys.
  /// - Throws: `DecodingError` when standard output is not a JSON object.
  func outputKeys() throws -> Set<String> {
    try output(JSONKeys.self).keys
  }

  /// Standard error's `{"error":{…}}` document (`--json` mode).
  ///
  /// - Returns: The error.
  /// - Throws: `DecodingError` when standard error is not such a document.
  func error() throws -> ErrorDocument.Body {
    try JSONDecoder().decode(ErrorDocument.self, from: Data(stderr.utf8)).error
  }

  /// The status and both streams, for failure messages.
  var description: String {
    "status \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
  }
}
