import Foundation

/// A reference implementation running in a process of its own, timed one operation at a time
/// so that the runner can interleave it with ours.
///
/// The Python scripts in `Benchmarks/reference/` accept `--serve`: after an untimed warm-up they
/// print one JSON header line (with `reference_name` and the output, as `tag` or `key`), then
/// time one operation per line they read and print `{"seconds": …}`. Interpreter start-up,
/// imports and the warm-up are therefore never timed, and one process serves every pair of a
/// benchmark. Compiled references (`sqlite_ref.c`) follow the same protocol with named
/// commands (``request(_:)``).
final class ReferenceProcess {
  /// The reference and its version, from the header line.
  let name: String
  /// The reference's output (hex), from the header line, to check ours against.
  let outputHex: String?

  private let process: Process
  private let input: FileHandle
  private let reader: LineReader

  /// Starts a reference script and waits for its header line.
  ///
  /// - Parameters:
  ///   - script: A file name in `Benchmarks/reference/`, such as `pbkdf2_ref.py`.
  ///   - arguments: The script's arguments; `--serve` is added.
  ///   - environment: Variables added to (or replacing) the runner's environment.
  /// - Throws: ``BenchmarkFailure`` if the script cannot start or prints no header.
  convenience init(script: String, arguments: [String], environment: [String: String] = [:])
    throws
  {
    let python = try PythonEnvironment.shared.python()
    try self.init(
      executable: python,
      arguments: [PythonEnvironment.referenceDirectory.appendingPathComponent(script).path]
        + arguments + ["--serve"],
      environment: environment)
  }

  /// Starts a reference program and waits for its header line.
  ///
  /// - Parameters:
  ///   - executable: The program.
  ///   - arguments: Its arguments, including whatever puts it in serve mode.
  ///   - environment: Variables added to (or replacing) the runner's environment.
  /// - Throws: ``BenchmarkFailure`` if the program cannot start or prints no header.
  init(executable: URL, arguments: [String], environment: [String: String] = [:]) throws {
    process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    let program = executable.lastPathComponent
    do {
      try process.run()
    } catch {
      throw BenchmarkFailure("cannot start \(program): \(error)")
    }
    input = stdin.fileHandleForWriting
    reader = LineReader(stdout.fileHandleForReading)
    guard let line = reader.nextLine(), let header = Self.object(line),
      let name = header["reference_name"] as? String
    else {
      process.terminate()
      throw BenchmarkFailure("\(program) printed no header line")
    }
    self.name = name
    outputHex = (header["tag"] ?? header["key"]) as? String
  }

  deinit {
    try? input.close()
    process.waitUntilExit()
  }

  /// Times one operation in the reference process.
  ///
  /// - Returns: The operation's duration in seconds, as the script measured it.
  /// - Throws: ``BenchmarkFailure`` if the process does not answer.
  func timeOne() throws -> Double {
    try seconds(request("run"))
  }

  /// Sends one command line and reads the reference's one-line JSON answer.
  ///
  /// - Parameter command: The command, without its newline.
  /// - Returns: The answer's fields.
  /// - Throws: ``BenchmarkFailure`` if the process does not answer or answers with `error`.
  func request(_ command: String) throws -> [String: Any] {
    input.write(Data((command + "\n").utf8))
    guard let line = reader.nextLine(), let answer = Self.object(line) else {
      throw BenchmarkFailure("the reference process \(name) stopped answering")
    }
    if let error = answer["error"] as? String {
      throw BenchmarkFailure("\(name): \(command): \(error)")
    }
    return answer
  }

  /// The `seconds` of an answer.
  ///
  /// - Parameter answer: An answer of ``request(_:)`` to a timed command.
  /// - Returns: The seconds the reference measured.
  /// - Throws: ``BenchmarkFailure`` if the answer has none.
  func seconds(_ answer: [String: Any]) throws -> Double {
    guard let seconds = answer["seconds"] as? Double else {
      throw BenchmarkFailure("the reference process \(name) answered without a time")
    }
    return seconds
  }

  private static func object(_ line: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
  }
}

/// Reads newline-terminated lines from a pipe.
private final class LineReader {
  private let handle: FileHandle
  private var buffer = Data()

  init(_ handle: FileHandle) {
    self.handle = handle
  }

  /// The next line without its newline, or `nil` at end of file.
  func nextLine() -> String? {
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = buffer[buffer.startIndex..<newline]
        buffer.removeSubrange(buffer.startIndex...newline)
        return String(decoding: line, as: UTF8.self)
      }
      let chunk = handle.availableData
      if chunk.isEmpty { return nil }
      buffer.append(chunk)
    }
  }
}

/// The Python virtual environment the reference scripts run in, created on first use under
/// `Benchmarks/.build/venv` (`python3 -m venv`, then `pip install` of the packages below), so a
/// fresh machine needs nothing installed by hand beyond Python 3.
final class PythonEnvironment: @unchecked Sendable {
  /// The one environment of this process.
  static let shared = PythonEnvironment()

  /// What the reference scripts import. Python's hashlib (OpenSSL) needs nothing.
  static let packages = ["argon2-cffi", "bcrypt"]

  /// `Benchmarks/`, found from this source file's location (the runner is always built from
  /// this checkout).
  static let benchmarksDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `Benchmarks/reference/`.
  static let referenceDirectory = benchmarksDirectory.appendingPathComponent("reference")

  private let lock = NSLock()
  private var ready: URL?

  /// The virtual environment's Python, after creating the environment if needed.
  ///
  /// - Returns: The interpreter to run the reference scripts with.
  /// - Throws: ``BenchmarkFailure`` if the environment cannot be set up.
  func python() throws -> URL {
    lock.lock()
    defer { lock.unlock() }
    if let ready { return ready }
    let environment = Self.benchmarksDirectory.appendingPathComponent(".build/venv")
    let python = environment.appendingPathComponent("bin/python")
    let marker = environment.appendingPathComponent(".umk-packages")
    let wanted = Self.packages.joined(separator: " ")
    let installed = (try? String(contentsOf: marker, encoding: .utf8)) ?? ""
    if !FileManager.default.isExecutableFile(atPath: python.path) || installed != wanted {
      Output.log("umk-bench: setting up the reference environment in \(environment.path)")
      try Self.run("/usr/bin/env", ["python3", "-m", "venv", environment.path])
      try Self.run(
        python.path,
        ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + Self.packages)
      try? Data(wanted.utf8).write(to: marker)
    }
    ready = python
    return python
  }

  /// Runs a set-up command with its output on standard error.
  private static func run(_ executable: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.standardError
    do {
      try process.run()
    } catch {
      throw BenchmarkFailure("cannot run \(executable): \(error)")
    }
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw BenchmarkFailure(
        "\(([executable] + arguments).joined(separator: " ")) failed "
          + "(status \(process.terminationStatus))")
    }
  }
}

/// A benchmark that could not run (as opposed to one that missed its target).
struct BenchmarkFailure: Error, CustomStringConvertible {
  /// What went wrong.
  let description: String

  /// Creates a failure.
  ///
  /// - Parameter description: What went wrong.
  init(_ description: String) {
    self.description = description
  }
}
