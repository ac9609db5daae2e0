import Foundation
import PostgresDirectoryStore
import Testing

/// Starts `pg-store-worker` processes, each with its own `PostgresClient`.
enum Workers {
  /// The worker binary: beside the test bundle in the build folder.
  static func executable() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["UMK_PG_WORKER"] {
      return URL(fileURLWithPath: path)
    }
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = folder.appendingPathComponent("pg-store-worker")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    throw TestSetupError(
      "pg-store-worker is not built beside the tests (\(CommandLine.arguments[0])); "
        + "run `swift build --build-tests` first or set UMK_PG_WORKER")
  }

  /// Runs one worker per argument list at once, all starting together, and returns each
  /// worker's output lines.
  static func race(_ scenario: String, url: PostgresStoreURL, workers: [[String]]) async throws
    -> [[String]]
  {
    try await race(url: url, workers.map { (scenario, $0) })
  }

  /// Runs one worker per job (scenario and arguments) at once; worker `i` gets index `i`.
  static func race(url: PostgresStoreURL, _ jobs: [(String, [String])]) async throws
    -> [[String]]
  {
    let binary = try executable()
    let start = Date().timeIntervalSince1970 + 1.5
    var processes: [(Process, Pipe)] = []
    for (index, (scenario, extra)) in jobs.enumerated() {
      let process = Process()
      process.executableURL = binary
      process.arguments = [scenario, urlString(url), String(index), String(start)] + extra
      let pipe = Pipe()
      process.standardOutput = pipe
      try process.run()
      processes.append((process, pipe))
    }
    var outputs: [[String]] = []
    for (process, pipe) in processes {
      // Blocking reads and waits belong on a thread of their own, not the concurrency pool.
      let handle = pipe.fileHandleForReading
      let (data, status) = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
          let data = handle.readDataToEndOfFile()
          process.waitUntilExit()
          continuation.resume(returning: (data, process.terminationStatus))
        }
      }
      guard status == 0 else {
        throw TestSetupError("a worker exited with status \(status)")
      }
      outputs.append(
        String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
    }
    return outputs
  }

  static func urlString(_ url: PostgresStoreURL) -> String {
    "postgres://\(url.username)@\(url.host):\(url.port)/\(url.database)"
  }
}
