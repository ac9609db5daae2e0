/// The one error type UserManagementKit throws.
///
/// Every error carries a stable ``code`` that hosts can switch on, a human-readable
/// ``message`` that is safe to show to the person who made the request, and a ``context``
/// dictionary with machine-readable details (the field that was refused, the reason, a count).
/// No error ever contains a password, an API password or a password hash.
///
/// Read details through the typed accessors (``field``, ``reason``, ``retryAfter``,
/// ``passwordViolations``, ``policyHolderCount``, ``storeLocation``) rather than by parsing
/// ``context``, which carries the same details as strings for serialization.
///
/// Match errors by code with a pattern:
///
/// ```swift
/// do {
///   try await directory.setStatus(.inactive, of: me.id, by: .user(me.id))
/// } catch UserManagementError.Code.selfModificationForbidden {
///   // show "you cannot deactivate yourself"
/// }
/// ```
public struct UserManagementError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The stable, machine-readable identity of an error.
  ///
  /// Codes are strings so that new codes can be added without breaking callers' `switch`
  /// statements and so that they survive serialization (the CLI prints them in JSON).
  public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code's stable string form, such as `"not_authorized"`.
    public let rawValue: String

    /// Creates a code from its string form.
    ///
    /// - Parameter rawValue: The code's stable string form.
    public init(rawValue: String) {
      self.rawValue = rawValue
    }

    /// The code's string form.
    public var description: String { rawValue }

    /// Matches any error that is a ``UserManagementError`` with this code.
    ///
    /// - Parameters:
    ///   - code: The code to look for.
    ///   - error: The error being matched.
    /// - Returns: Whether `error` is a ``UserManagementError`` whose code is `code`.
    public static func ~= (code: Code, error: any Error) -> Bool {
      (error as? UserManagementError)?.code == code
    }

    /// The acting principal may not perform the operation (not an active admin, or not the
    /// owner of the record for a self-service operation).
    public static let notAuthorized = Code(rawValue: "not_authorized")
    /// Users may not activate, deactivate, promote or demote themselves.
    public static let selfModificationForbidden = Code(rawValue: "self_modification_forbidden")
    /// The change would leave the directory without an active administrator.
    public static let lastActiveAdministrator = Code(rawValue: "last_active_administrator")
    /// The directory already has users, so it cannot be bootstrapped again.
    public static let alreadyBootstrapped = Code(rawValue: "already_bootstrapped")
    /// No user with the given identifier or username exists.
    public static let userNotFound = Code(rawValue: "user_not_found")
    /// Another user already has this username (compared case-insensitively).
    public static let usernameTaken = Code(rawValue: "username_taken")
    /// The username is not a valid e-mail address.
    public static let invalidUsername = Code(rawValue: "invalid_username")
    /// A field of a request was refused; `context["field"]` and `context["reason"]` say
    /// which and why.
    public static let invalidField = Code(rawValue: "invalid_field")
    /// A password or API password was refused by the password policy;
    /// `context["reasons"]` lists the machine-readable reasons.
    public static let weakPassword = Code(rawValue: "weak_password")
    /// The record changed since the version the caller named.
    public static let versionConflict = Code(rawValue: "version_conflict")
    /// No policy with the given identifier or name exists.
    public static let policyNotFound = Code(rawValue: "policy_not_found")
    /// Another policy already has this name (compared case-insensitively).
    public static let policyNameTaken = Code(rawValue: "policy_name_taken")
    /// The policy is still assigned to users; `context["holders"]` says how many.
    public static let policyInUse = Code(rawValue: "policy_in_use")
    /// A policy document could not be parsed or is not valid.
    public static let invalidPolicy = Code(rawValue: "invalid_policy")
    /// The username, password or API password is wrong, or the account cannot authenticate.
    public static let invalidCredentials = Code(rawValue: "invalid_credentials")
    /// The credentials are correct but the account is inactive.
    public static let accountInactive = Code(rawValue: "account_inactive")
    /// Too many consecutive failed attempts; `context["retryAfterSeconds"]` says when to
    /// try again, or is absent when an administrator must unlock the account.
    public static let throttled = Code(rawValue: "throttled")
    /// The user must change the password an administrator set before doing anything else
    /// (see ``UserDirectory/Configuration/requirePasswordChangeBeforeActing``).
    public static let passwordChangeRequired = Code(rawValue: "password_change_required")
    /// Direct API access is disabled for the account.
    public static let apiAccessDisabled = Code(rawValue: "api_access_disabled")
    /// The user must enrol a second factor before doing anything else (see
    /// ``UserDirectory/AccountSecuritySettings/secondFactorRequirement``).
    public static let secondFactorEnrollmentRequired = Code(
      rawValue: "second_factor_enrollment_required")
    /// The operation needs a code of the user's second factor as well as their password.
    public static let secondFactorRequired = Code(rawValue: "second_factor_required")
    /// A password-reset, e-mail-verification or sign-in-challenge token is malformed, unknown,
    /// used, expired, or was issued before the user's credentials, status or role changed.
    /// The error never says which.
    public static let invalidToken = Code(rawValue: "invalid_token")
    /// A stored secret is sealed with a key that the configuration's
    /// ``UserDirectory/AccountSecuritySettings/keyring`` does not hold; `context["keyID"]`
    /// names it.
    public static let encryptionKeyUnavailable = Code(rawValue: "encryption_key_unavailable")
    /// A pagination cursor was malformed or belongs to a different query.
    public static let invalidCursor = Code(rawValue: "invalid_cursor")
    /// Too many password checks were already waiting
    /// (``UserDirectory/Configuration/maximumWaitingHashes``): the operation was refused
    /// instead of joining a queue whose wait only grows, and the change it was making was not
    /// committed. Any operation that hashes or verifies a password may throw it; try again in
    /// a moment (HTTP 503). A sign-in is refused before it reserves an attempt against the
    /// throttle (and before it reads the store at all if the queue is full as it starts). An
    /// operation with several hashing steps may have run the earlier ones: a password change
    /// may have cleared the failed sign-in counter its proven current password earned, and
    /// one that had reserved a second-factor attempt withdraws it (best effort).
    public static let overloaded = Code(rawValue: "overloaded")
    /// The calling task was cancelled while the operation waited for its turn to hash or
    /// verify a password, and the change it was making was not committed (as for
    /// ``overloaded``, which says what may have run before). A hash already being computed runs
    /// to its end, and its answer stands.
    public static let cancelled = Code(rawValue: "cancelled")
    /// A stored password hash could not be parsed or uses an unsupported algorithm.
    public static let unsupportedHash = Code(rawValue: "unsupported_hash")
    /// The operation is not valid in the target's current state (for example, assigning
    /// policies to an administrator).
    public static let invalidOperation = Code(rawValue: "invalid_operation")
    /// The storage layer failed; the change was not applied. `context` names the file,
    /// the failed call and the `errno` when a file-system call failed.
    public static let storageFailure = Code(rawValue: "storage_failure")
    /// A store file is damaged (a checksum mismatch, a record cut short in the middle of a
    /// file, bytes that do not decode); `context["file"]` and `context["offset"]` say where.
    /// The store does not open until the file is restored.
    public static let corruptStore = Code(rawValue: "corrupt_store")
    /// The store's directory or one of its files cannot be trusted: a symbolic link, owned
    /// by another user, or a directory that gives group or others access. `context["file"]`
    /// names it and the message says how to fix it (for a directory, `chmod 700`). Nothing
    /// was read or written.
    public static let insecureStore = Code(rawValue: "insecure_store")
    /// A store file was written by a newer version of the library, in a format this one
    /// cannot read; `context["file"]` and `context["version"]` say which.
    public static let unsupportedStoreFormat = Code(rawValue: "unsupported_store_format")
  }

  /// The stable, machine-readable code.
  public let code: Code
  /// A human-readable explanation, safe to show to the requester. Never contains a secret.
  public let message: String
  /// Machine-readable details as strings, for serialization (the CLI's JSON, a host's API
  /// responses): `field`, `reason`, `reasons`, `holders`, `retryAfterSeconds`, `file`,
  /// `offset`… Read them in Swift through the typed accessors.
  public let context: [String: String]
  /// The error a host's own ``DirectoryStore`` threw, when the directory reported it as
  /// ``Code/storageFailure``; `nil` otherwise.
  ///
  /// It is for the host's logs and debugging only: a store's errors may quote stored values,
  /// so it is never part of ``message``, ``description`` or ``context``, and it takes no part in
  /// equality or hashing.
  public let underlyingError: (any Error)?

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: The stable code.
  ///   - message: A human-readable explanation. Never put a secret in it.
  ///   - context: Machine-readable details.
  ///   - underlyingError: The error of a lower layer (a host store's), kept for logs only.
  public init(
    _ code: Code, _ message: String, context: [String: String] = [:],
    underlyingError: (any Error)? = nil
  ) {
    self.code = code
    self.message = message
    self.context = context
    self.underlyingError = underlyingError
  }

  /// The code and message, for logs: `"not_authorized: only active administrators …"`.
  public var description: String { "\(code.rawValue): \(message)" }

  /// Whether two errors have the same code, message and context. ``underlyingError`` is not
  /// compared.
  ///
  /// - Parameters:
  ///   - lhs: An error.
  ///   - rhs: Another error.
  /// - Returns: Whether they are equal.
  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.code == rhs.code && lhs.message == rhs.message && lhs.context == rhs.context
  }

  /// Hashes the code, message and context.
  ///
  /// - Parameter hasher: The hasher.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(code)
    hasher.combine(message)
    hasher.combine(context)
  }
}

// MARK: - Typed details

extension UserManagementError {
  /// Where in a store a ``Code/corruptStore`` or ``Code/storageFailure`` error happened.
  public struct StoreLocation: Hashable, Sendable {
    /// The file's path.
    public let file: String
    /// The byte offset in the file, when the error concerns a place in it.
    public let offset: UInt64?
  }

  /// The request field that was refused (`username`, `password`, `policies`, …), for
  /// ``Code/invalidField``, ``Code/weakPassword``, ``Code/usernameTaken`` and others that
  /// concern one field; `nil` when the error is not about one field.
  public var field: String? { context["field"] }

  /// Why a field was refused, as a stable machine-readable word (`empty`, `too_long`,
  /// `token_shaped`, …), for ``Code/invalidField``; `nil` otherwise.
  public var reason: String? { context["reason"] }

  /// How long to wait before trying again, for ``Code/throttled``; `nil` for other codes, and
  /// for a locked credential that only an administrator can unlock
  /// (``UserDirectory/resetLoginThrottle(of:by:)``).
  public var retryAfter: Duration? {
    context["retryAfterSeconds"].flatMap(Int64.init).map { .seconds($0) }
  }

  /// The password policy rules a refused password broke, as ``PasswordPolicy/Violation/code``
  /// values (`too_short`, `common_password`, `contains_username`, …), for
  /// ``Code/weakPassword``; empty otherwise.
  public var passwordViolations: [String] {
    guard let reasons = context["reasons"], !reasons.isEmpty else { return [] }
    return reasons.split(separator: ",").map(String.init)
  }

  /// How many users still hold the policy, for ``Code/policyInUse``; `nil` otherwise.
  public var policyHolderCount: Int? { context["holders"].flatMap(Int.init) }

  /// The file (and offset) concerned, for ``Code/corruptStore``,
  /// ``Code/unsupportedStoreFormat``, ``Code/insecureStore`` and the file store's
  /// ``Code/storageFailure``; `nil` otherwise.
  public var storeLocation: StoreLocation? {
    guard let file = context["file"] else { return nil }
    return StoreLocation(file: file, offset: context["offset"].flatMap(UInt64.init))
  }
}

extension UserManagementError {
  static func invalidField(_ field: String, _ reason: String, _ message: String) -> Self {
    UserManagementError(
      .invalidField, message, context: ["field": field, "reason": reason])
  }

  static func notAuthorized(_ message: String = "Only active administrators may do this.")
    -> Self
  {
    UserManagementError(.notAuthorized, message)
  }

  static func userNotFound() -> Self {
    UserManagementError(.userNotFound, "No such user.")
  }

  static func conflict(_ message: String = "The record changed; reload it and try again.")
    -> Self
  {
    UserManagementError(.versionConflict, message)
  }
}
