import UserManagementKit

/// A failure in `--json` mode, on standard error:
/// `{"error":{"code","message","context"?,"details"?}}`.
struct ErrorOutput: Encodable {
  /// The error.
  let error: Body

  /// The error of a failure.
  ///
  /// - Parameter failure: The failure.
  init(_ failure: Failure) {
    error = Body(
      code: failure.code.rawValue, message: failure.message,
      context: failure.context.isEmpty ? nil : failure.context,
      details: failure.details.isEmpty ? nil : failure.details.map(Detail.init))
  }

  /// `{"code","message","context"?,"details"?}`.
  struct Body: Encodable {
    /// The stable code.
    let code: String
    /// The message.
    let message: String
    /// The library's details, when it gave any (`field`, `reason`, `holders`, …).
    let context: [String: String]?
    /// An import's problems, one per line.
    let details: [Detail]?
  }

  /// One import problem: `{"line","code","message","context"?}`; for another system's export
  /// `{"record",…}` (an index from 0 into its JSON array) or `{"passwordLine",…}` (Auth0's
  /// password export) instead of `line`.
  struct Detail: Encodable {
    /// The line number, from 1.
    let line: Int?
    /// The index of a record of a JSON export, from 0.
    let record: Int?
    /// The line of Auth0's password export, from 1.
    let passwordLine: Int?
    /// The library's code.
    let code: String
    /// The library's message.
    let message: String
    /// The library's details (`field` and `reason` for a line that does not decode).
    let context: [String: String]?

    /// The detail of an import problem.
    ///
    /// - Parameter problem: The problem.
    init(_ problem: ImportProblem) {
      line = problem.kind == .line ? problem.line : nil
      record = problem.kind == .record ? problem.line : nil
      passwordLine = problem.kind == .passwordLine ? problem.line : nil
      code = problem.error.code.rawValue
      message = problem.error.message
      context = problem.error.context.isEmpty ? nil : problem.error.context
    }
  }
}
