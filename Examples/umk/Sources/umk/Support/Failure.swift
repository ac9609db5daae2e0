import UserManagementKit

/// The exit statuses of `umk`, from sysexits(3).
enum ExitStatus: Int32 {
  /// Success; for `login`, `api login` and `hash verify`: the credentials are valid; for
  /// `authorize`: allowed.
  case success = 0
  /// Refused by a rule, denied, or invalid credentials.
  case refused = 1
  /// EX_USAGE: the command line is wrong.
  case usage = 64
  /// EX_DATAERR: malformed input (an unparseable or unsupported hash, import file or policy
  /// JSON).
  case malformedInput = 65
  /// EX_IOERR: the store is unreadable, corrupt, locked, or an I/O operation failed.
  case storeError = 74
}

/// A failed command: a stable code, a message for the operator, and the exit status.
struct Failure: Error {
  var code: String
  var message: String
  var status: ExitStatus
  var context: [String: String] = [:]
  /// Per-item problems (an import's lines).
  var details: [JSON] = []

  init(
    code: String, message: String, status: ExitStatus, context: [String: String] = [:],
    details: [JSON] = []
  ) {
    self.code = code
    self.message = message
    self.status = status
    self.context = context
    self.details = details
  }

  /// A library error, with the exit status its code calls for.
  init(_ error: UserManagementError) {
    self.init(
      code: error.code.rawValue, message: error.message, status: Self.status(of: error.code),
      context: error.context)
  }

  static func usage(_ message: String) -> Failure {
    Failure(code: "usage", message: message, status: .usage)
  }

  static func malformed(_ code: String, _ message: String) -> Failure {
    Failure(code: code, message: message, status: .malformedInput)
  }

  static func store(_ message: String) -> Failure {
    Failure(code: "storage_failure", message: message, status: .storeError)
  }

  /// Which exit status a library error code maps to.
  static func status(of code: UserManagementError.Code) -> ExitStatus {
    switch code.rawValue {
    case "storage_failure", "corrupt_store", "unsupported_store_format":
      .storeError
    case "unsupported_hash", "invalid_policy":
      .malformedInput
    case "invalid_cursor":
      .usage
    default:
      .refused
    }
  }
}
