import UserManagementKit

/// A failed command: a stable code, a message for the operator, details, and the exit status.
struct Failure: Error {
  /// The library's error code, or one of `umk`'s own (`usage`, `import_refused`, …).
  var code: UserManagementError.Code
  /// A message for the operator; never a secret.
  var message: String
  /// Machine-readable details (`field`, `reason`, `holders`, `file`, …).
  var context: [String: String]
  /// Per-line problems of a refused import.
  var details: [ImportProblem]
  /// The exit status.
  var status: ExitStatus

  /// A failure whose exit status comes from the table (``ExitStatus/byCode``).
  ///
  /// - Parameters:
  ///   - code: The code.
  ///   - message: The message.
  ///   - context: Details.
  init(
    _ code: UserManagementError.Code, _ message: String, context: [String: String] = [:]
  ) {
    self.code = code
    self.message = message
    self.context = context
    self.details = []
    self.status = ExitStatus(code)
  }

  /// A library error.
  ///
  /// - Parameter error: The error.
  init(_ error: UserManagementError) {
    self.init(error.code, error.message, context: error.context)
  }

  /// A refused import: every problem, and the exit status they call for.
  ///
  /// - Parameters:
  ///   - problems: The problems, in line order.
  ///   - lineCount: How many lines were not blank.
  ///   - unit: What the count counts (`lines`, or `records` for another system's export).
  init(importRefusedWith problems: [ImportProblem], lineCount: Int, unit: String = "lines") {
    let lines = Set(problems.map { "\($0.kind.rawValue) \($0.line)" }).count
    self.init(
      .importRefused, "\(lines) of \(lineCount) \(unit) have problems; nothing was imported.")
    self.details = problems
    self.status = ExitStatus(importProblems: problems.map(\.error.code))
  }

  /// A usage error (exit 64) found after parsing.
  ///
  /// - Parameter message: What is wrong.
  /// - Returns: The failure.
  static func usage(_ message: String) -> Failure {
    Failure(.usage, message)
  }
}

/// One problem of a refused import: a line (or another system's record) and the library's
/// error about it.
struct ImportProblem {
  /// How ``line`` counts.
  enum Kind: String {
    /// A line of the file, from 1.
    case line
    /// An index into a JSON array of another system's export, from 0.
    case record
    /// A line of Auth0's password export, from 1.
    case passwordLine = "password line"
  }

  /// The line number, from 1, or the record's index (see ``kind``).
  var line: Int
  /// Why the line was refused.
  var error: UserManagementError
  /// How ``line`` counts.
  var kind: Kind = .line
}
