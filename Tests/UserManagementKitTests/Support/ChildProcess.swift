import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failure to run or understand a child process, with what it printed.
struct ChildProcessError: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) {
    self.description = description
  }
}

/// The `UMKStoreTorture` executable, which SwiftPM builds into the same directory as the test
/// bundle (the test target depends on it). `UMK_TORTURE_EXECUTABLE` overrides the search.
func tortureExecutable() throws -> URL {
  let name = "UMKStoreTorture"
  if let path = ProcessInfo.processInfo.environment["UMK_TORTURE_EXECUTABLE"] {
    return URL(fileURLWithPath: path)
  }
  var directories: [URL] = []
  #if os(Linux)
    // The test binary itself: .build/<configuration>/UserManagementKitPackageTests.xctest.
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      directories.append(URL(fileURLWithPath: path).deletingLastPathComponent())
    }
  #endif
  // On Darwin the tests are a bundle loaded by xctest or swiftpm-testing-helper.
  for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
    directories.append(bundle.bundleURL.deletingLastPathComponent())
  }
  if let main = Bundle.main.executableURL {
    directories.append(main.deletingLastPathComponent())
  }
  for directory in directories {
    let candidate = directory.appendingPathComponent(name)
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
  }
  throw ChildProcessError(
    "\(name) was not found next to the test bundle (looked in "
      + directories.map(\.path).joined(separator: ", ")
      + "). Build it with `swift build --build-tests`, or set UMK_TORTURE_EXECUTABLE.")
}

/// A running `UMKStoreTorture` process. Its standard output goes to a file (the child writes
/// it with write(2), so every line it printed before being killed is there); its standard
/// input is a pipe the test writes start signals and requests to.
final class ChildProcess {
  let process = Process()
  let outputPath: String
  let arguments: [String]
  private let input = Pipe()

  /// Writing to the pipe of a child that died must fail with EPIPE, not kill the tests.
  private static let ignoreBrokenPipes: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
  }()

  /// Starts the executable.
  ///
  /// - Parameters:
  ///   - executable: The `UMKStoreTorture` executable.
  ///   - arguments: Its mode and arguments.
  ///   - outputPath: A file for its standard output; its standard error goes next to it.
  ///   - environment: Variables to add to the test process's environment.
  /// - Throws: If the output files cannot be created or the process cannot start.
  init(
    _ executable: URL, _ arguments: [String], outputPath: String,
    environment: [String: String] = [:]
  ) throws {
    Self.ignoreBrokenPipes
    self.outputPath = outputPath
    self.arguments = arguments
    guard FileManager.default.createFile(atPath: outputPath, contents: nil),
      FileManager.default.createFile(atPath: outputPath + ".err", contents: nil),
      let output = FileHandle(forWritingAtPath: outputPath),
      let errors = FileHandle(forWritingAtPath: outputPath + ".err")
    else { throw ChildProcessError("cannot open \(outputPath) for the child's output") }
    defer {
      try? output.close()
      try? errors.close()
    }
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input
    try process.run()
  }

  deinit {
    if process.isRunning {
      _ = kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    try? input.fileHandleForWriting.close()
  }

  /// Everything the child printed so far.
  var output: String {
    FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) }
      ?? ""
  }

  /// The complete lines the child printed so far (a line cut short by a kill is left out).
  var lines: [String] {
    var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
    lines.removeLast()  // Empty after the last newline, or an incomplete line.
    return lines.map(String.init)
  }

  /// What the child wrote to standard error.
  var errors: String {
    FileManager.default.contents(atPath: outputPath + ".err").map {
      String(decoding: $0, as: UTF8.self)
    } ?? ""
  }

  /// A description for failure messages.
  var transcript: String {
    "\(arguments.joined(separator: " "))\n--- stdout (last 20 lines) ---\n"
      + lines.suffix(20).joined(separator: "\n") + "\n--- stderr ---\n" + errors
  }

  /// Waits until the child prints a line matching `predicate`, and returns it.
  ///
  /// - Throws: ``ChildProcessError`` if the child exits first or `timeout` passes.
  @discardableResult
  func waitForLine(
    after skipping: Int = 0, timeout: Duration = .seconds(20),
    _ predicate: (String) -> Bool
  ) async throws -> String {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
      let exited = !process.isRunning
      if let line = lines.dropFirst(skipping).first(where: predicate) { return line }
      if let fatal = lines.first(where: { $0.hasPrefix("fatal") }) {
        throw ChildProcessError("the child failed: \(fatal)\n\(transcript)")
      }
      if exited { throw ChildProcessError("the child exited before the line\n\(transcript)") }
      if clock.now > deadline {
        throw ChildProcessError("no such line within \(timeout)\n\(transcript)")
      }
      try await Task.sleep(for: .milliseconds(2))
    }
  }

  /// Writes a line to the child's standard input.
  func send(_ line: String) throws {
    do {
      try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    } catch {
      throw ChildProcessError("cannot write to the child (\(error))\n\(transcript)")
    }
  }

  /// Kills the child with SIGKILL: no handler, no cleanup, no flushing.
  func killNow() {
    _ = kill(process.processIdentifier, SIGKILL)
  }

  /// Waits for the child to exit, without blocking a thread of the concurrency pool.
  ///
  /// - Throws: ``ChildProcessError`` if it is still running after `timeout` (it is killed).
  func waitForExit(timeout: Duration = .seconds(30)) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while process.isRunning {
      if clock.now > deadline {
        killNow()
        throw ChildProcessError("the child did not exit within \(timeout)\n\(transcript)")
      }
      try await Task.sleep(for: .milliseconds(1))
    }
  }

  /// Whether the child ended because of SIGKILL.
  var wasKilled: Bool {
    process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
  }
}
