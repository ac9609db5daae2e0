import Foundation

/// The store benchmarks' reference: `reference/sqlite_ref.c`, SQLite 3 through its C API,
/// compiled on first use against the system's libsqlite3 and run as a serving process (see
/// ``ReferenceProcess`` and the program's header comment for its commands).
enum SQLiteReference {
  /// `Benchmarks/reference/sqlite_ref.c`.
  static let source = PythonEnvironment.referenceDirectory.appendingPathComponent("sqlite_ref.c")

  /// Where it is built: `Benchmarks/.build/reference/sqlite_ref`.
  static let executable = PythonEnvironment.benchmarksDirectory
    .appendingPathComponent(".build/reference/sqlite_ref")

  /// Builds the program if it is missing or older than its source, and starts it serving a
  /// database in `directory`.
  ///
  /// - Parameter directory: The directory of the database (`users.db` and its WAL files).
  /// - Returns: The running reference.
  /// - Throws: ``BenchmarkFailure`` if it cannot be built or started; when SQLite's header or
  ///   library is missing, the failure says what to install.
  static func start(directory: String) throws -> ReferenceProcess {
    try build()
    return try ReferenceProcess(executable: executable, arguments: ["--serve", directory])
  }

  /// Compiles `sqlite_ref.c` with `cc -O2 … -lsqlite3` (`$CC` if set) unless the executable is
  /// newer than the source.
  private static func build() throws {
    let files = FileManager.default
    if let built = modificationDate(executable), let written = modificationDate(source),
      built > written
    {
      return
    }
    try files.createDirectory(
      at: executable.deletingLastPathComponent(), withIntermediateDirectories: true)
    let compiler = ProcessInfo.processInfo.environment["CC"] ?? "cc"
    let temporary = executable.path + ".\(getpid())"
    let arguments = [
      compiler, "-O2", "-std=gnu11", "-Wall", "-o", temporary, source.path, "-lsqlite3",
      "-lpthread",
    ]
    Output.log("umk-bench: building the SQLite reference: \(arguments.joined(separator: " "))")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let errors = Pipe()
    process.standardOutput = FileHandle.standardError
    process.standardError = errors
    do {
      try process.run()
    } catch {
      throw BenchmarkFailure("cannot run \(compiler) to build the SQLite reference: \(error)")
    }
    let diagnostics = String(
      decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if !diagnostics.isEmpty { Output.log(diagnostics) }
    guard process.terminationStatus == 0 else {
      try? files.removeItem(atPath: temporary)
      if diagnostics.contains("sqlite3.h") || diagnostics.contains("lsqlite3") {
        throw BenchmarkFailure(
          "the SQLite reference needs SQLite's C header and library (sqlite3.h, libsqlite3), "
            + "which this system lacks: install them (Debian and Ubuntu: "
            + "`apt-get install libsqlite3-dev`; Fedora: `dnf install sqlite-devel`)")
      }
      throw BenchmarkFailure(
        "\(compiler) could not build \(source.path) (status \(process.terminationStatus))")
    }
    guard rename(temporary, executable.path) == 0 else {
      throw BenchmarkFailure("cannot move the SQLite reference to \(executable.path)")
    }
  }

  private static func modificationDate(_ url: URL) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
  }
}
