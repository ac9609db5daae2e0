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

  /// The exit status of each error code that does not exit with ``refused``: the one table.
  ///
  /// Every other code — the library's rules (`not_authorized`, `throttled`,
  /// `self_modification_forbidden`, `second_factor_enrollment_required`, `invalid_token`, …),
  /// `second_factor_required`, and any code a later library adds — exits with
  /// ``refused``. `encryption_key_unavailable` (an authenticator secret sealed under a key the
  /// keyring lacks) is a store error: the store holds what this configuration cannot open.
  static let byCode: [UserManagementError.Code: ExitStatus] = [
    .usage: .usage,
    .invalidCursor: .usage,
    .unsupportedHash: .malformedInput,
    .invalidPolicy: .malformedInput,
    .unreadableInput: .malformedInput,
    .storageFailure: .storeError,
    .corruptStore: .storeError,
    .insecureStore: .storeError,
    .unsupportedStoreFormat: .storeError,
    .encryptionKeyUnavailable: .storeError,
  ]

  /// The codes that make an import line *malformed* rather than refused by a rule: an import
  /// with any such line exits with ``malformedInput``, one refused only by rules with
  /// ``refused`` (see ``init(importProblems:)``).
  static let malformedImportLine: Set<UserManagementError.Code> = [
    .invalidField, .invalidUsername, .unsupportedHash,
  ]

  /// The exit status for an error code, from ``byCode``.
  ///
  /// - Parameter code: The error's code.
  init(_ code: UserManagementError.Code) {
    self = Self.byCode[code] ?? .refused
  }

  /// The exit status of a refused import, from ``malformedImportLine``.
  ///
  /// - Parameter codes: The codes of the import's problems.
  init(importProblems codes: some Sequence<UserManagementError.Code>) {
    self = codes.contains(where: Self.malformedImportLine.contains) ? .malformedInput : .refused
  }
}

extension UserManagementError.Code {
  /// `umk`'s own: the command line is wrong (exit 64).
  static let usage = Self(rawValue: "usage")
  /// `umk`'s own: an input file cannot be read (exit 65).
  static let unreadableInput = Self(rawValue: "unreadable_input")
  /// `umk`'s own: an import has problems, listed in the error's `details`; nothing was
  /// imported (exit 65 or 1, see ``ExitStatus/init(importProblems:)``).
  static let importRefused = Self(rawValue: "import_refused")
  /// `umk`'s own: the demo did not go as scripted (exit 1).
  static let demoFailed = Self(rawValue: "demo_failed")
}
