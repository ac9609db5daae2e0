#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// The record of one change, committed atomically with the change itself.
///
/// An event says who (``actor``) did what (``action``) to whom (``target``), when, and which
/// fields changed with their old and new values. Secrets and hashes never appear: a password
/// change is recorded as a ``FieldChange`` whose values are absent and whose
/// ``FieldChange/isSecret`` is true.
public struct AuditEvent: Hashable, Sendable, Codable, Identifiable {
  /// The event's unique identifier.
  public let id: UUID
  /// When the change was committed (UTC).
  public let time: Date
  /// Who made the change.
  public let actor: Principal
  /// What was changed.
  public let target: AuditTarget
  /// What kind of change it was.
  public let action: AuditAction
  /// The fields that changed.
  public let changes: [FieldChange]

  /// Creates an event.
  ///
  /// - Parameters:
  ///   - id: The unique identifier.
  ///   - time: The commit time.
  ///   - actor: Who made the change.
  ///   - target: What was changed.
  ///   - action: The kind of change.
  ///   - changes: The changed fields.
  public init(
    id: UUID, time: Date, actor: Principal, target: AuditTarget, action: AuditAction,
    changes: [FieldChange]
  ) {
    self.id = id
    self.time = time
    self.actor = actor
    self.target = target
    self.action = action
    self.changes = changes
  }
}

/// What an audit event is about.
public enum AuditTarget: Hashable, Sendable, Codable, CustomStringConvertible {
  /// A user, with the username for readability (usernames never change).
  case user(UserID, username: String)
  /// A policy, with its name at the time of the change.
  case policy(PolicyID, name: String)

  /// `user:<username>` or `policy:<name>`.
  public var description: String {
    switch self {
    case .user(_, let username): "user:\(username)"
    case .policy(_, let name): "policy:\(name)"
    }
  }

  /// The user identifier when the target is a user.
  public var userID: UserID? {
    if case .user(let id, _) = self { return id }
    return nil
  }
}

/// The kind of change an audit event records, such as `user.created`.
///
/// An open set of stable strings: new kinds may be added in minor releases.
public struct AuditAction: RawRepresentable, Hashable, Sendable, Codable,
  CustomStringConvertible
{
  /// The stable string form.
  public let rawValue: String

  /// Wraps a string form.
  ///
  /// - Parameter rawValue: The string form.
  public init(rawValue: String) {
    self.rawValue = rawValue
  }

  /// The string form.
  public var description: String { rawValue }

  /// Decodes the string form.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a string.
  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }

  /// Encodes the string form.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  /// The first administrator was created by bootstrap.
  public static let userBootstrapped = AuditAction(rawValue: "user.bootstrapped")
  /// A user was added.
  public static let userCreated = AuditAction(rawValue: "user.created")
  /// Several fields of a user changed in one edit.
  public static let userUpdated = AuditAction(rawValue: "user.updated")
  /// A user was activated.
  public static let userActivated = AuditAction(rawValue: "user.activated")
  /// A user was deactivated.
  public static let userDeactivated = AuditAction(rawValue: "user.deactivated")
  /// A user's role changed.
  public static let roleChanged = AuditAction(rawValue: "user.role_changed")
  /// A General User's policies changed.
  public static let policiesChanged = AuditAction(rawValue: "user.policies_changed")
  /// An administrator set or generated a user's password.
  public static let passwordReset = AuditAction(rawValue: "user.password_reset")
  /// A user changed their own password.
  public static let passwordChanged = AuditAction(rawValue: "user.password_changed")
  /// A password hash was upgraded to the current algorithm at sign-in.
  public static let passwordRehashed = AuditAction(rawValue: "user.password_rehashed")
  /// Direct API access was enabled.
  public static let apiAccessEnabled = AuditAction(rawValue: "user.api_access_enabled")
  /// Direct API access was disabled (and the API password removed).
  public static let apiAccessDisabled = AuditAction(rawValue: "user.api_access_disabled")
  /// An API password was set, generated or reset.
  public static let apiPasswordSet = AuditAction(rawValue: "user.api_password_set")
  /// An administrator cleared a user's failed sign-in counter.
  public static let loginThrottleReset = AuditAction(rawValue: "user.login_throttle_reset")
  /// A user confirmed an authenticator app as their second factor.
  public static let secondFactorEnrolled = AuditAction(rawValue: "user.second_factor_enrolled")
  /// A user removed their own second factor.
  public static let secondFactorRemoved = AuditAction(rawValue: "user.second_factor_removed")
  /// An administrator removed a user's second factor.
  public static let secondFactorReset = AuditAction(rawValue: "user.second_factor_reset")
  /// A recovery code completed a sign-in (and is used up).
  public static let recoveryCodeUsed = AuditAction(rawValue: "user.recovery_code_used")
  /// A user replaced their recovery codes.
  public static let recoveryCodesRegenerated = AuditAction(
    rawValue: "user.recovery_codes_regenerated")
  /// A password-reset token was issued.
  public static let passwordResetRequested = AuditAction(
    rawValue: "user.password_reset_requested")
  /// A user set a new password with a reset token.
  public static let passwordResetWithToken = AuditAction(
    rawValue: "user.password_reset_with_token")
  /// An e-mail verification token was issued.
  public static let emailVerificationRequested = AuditAction(
    rawValue: "user.email_verification_requested")
  /// A user verified their e-mail address with a token.
  public static let emailVerified = AuditAction(rawValue: "user.email_verified")
  /// An API key was created.
  public static let apiKeyCreated = AuditAction(rawValue: "user.api_key_created")
  /// An API key was revoked.
  public static let apiKeyRevoked = AuditAction(rawValue: "user.api_key_revoked")
  /// A policy was created.
  public static let policyCreated = AuditAction(rawValue: "policy.created")
  /// A policy was changed.
  public static let policyUpdated = AuditAction(rawValue: "policy.updated")
  /// A policy was deleted.
  public static let policyDeleted = AuditAction(rawValue: "policy.deleted")
}

/// One changed field of an audit event.
public struct FieldChange: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The field's name, such as `firstName`, `status` or `password`.
  public let field: String
  /// The value before the change (absent for new records and for secrets).
  public let oldValue: String?
  /// The value after the change (absent for secrets).
  public let newValue: String?
  /// Whether the field is a secret, whose values are never recorded.
  public let isSecret: Bool

  /// Records a change of an ordinary field.
  ///
  /// - Parameters:
  ///   - field: The field's name.
  ///   - oldValue: The value before.
  ///   - newValue: The value after.
  public init(field: String, oldValue: String?, newValue: String?) {
    self.field = field
    self.oldValue = oldValue
    self.newValue = newValue
    self.isSecret = false
  }

  /// Records that a secret field changed, without its values.
  ///
  /// - Parameter field: The field's name, such as `password` or `apiPassword`.
  /// - Returns: A change that says only that the field changed.
  public static func secret(_ field: String) -> FieldChange {
    FieldChange(secretField: field)
  }

  private init(secretField: String) {
    field = secretField
    oldValue = nil
    newValue = nil
    isSecret = true
  }

  private enum CodingKeys: String, CodingKey {
    case field, oldValue, newValue, isSecret
  }

  /// Decodes a change; a secret's values, if the input has any, are dropped, so no decoded
  /// change can carry one.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` for malformed input.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    field = try container.decode(String.self, forKey: .field)
    isSecret = try container.decodeIfPresent(Bool.self, forKey: .isSecret) ?? false
    oldValue = isSecret ? nil : try container.decodeIfPresent(String.self, forKey: .oldValue)
    newValue = isSecret ? nil : try container.decodeIfPresent(String.self, forKey: .newValue)
  }

  /// `field: old → new`, or `password changed` for secrets.
  public var description: String {
    if isSecret { return "\(field) changed" }
    return "\(field): \(oldValue ?? "∅") → \(newValue ?? "∅")"
  }
}

/// Which audit events to return.
public struct AuditQuery: Hashable, Sendable {
  /// Only events about this user or policy (by identifier).
  public var targetUser: UserID?
  /// Only events about this policy.
  public var targetPolicy: PolicyID?
  /// Only events by this principal.
  public var actor: Principal?
  /// Only events at or after this time.
  public var since: Date?
  /// Only events before this time.
  public var until: Date?
  /// At most this many events (the most recent ones when ``newestFirst`` is true, else the
  /// oldest).
  public var limit: Int
  /// Whether to return the newest events first.
  public var newestFirst: Bool

  /// Creates a query; with no arguments it returns the 100 most recent events.
  ///
  /// - Parameters:
  ///   - targetUser: Only events about this user.
  ///   - targetPolicy: Only events about this policy.
  ///   - actor: Only events by this principal.
  ///   - since: Only events at or after this time.
  ///   - until: Only events before this time.
  ///   - limit: The most events to return.
  ///   - newestFirst: Whether to return the newest first.
  public init(
    targetUser: UserID? = nil, targetPolicy: PolicyID? = nil, actor: Principal? = nil,
    since: Date? = nil, until: Date? = nil, limit: Int = 100, newestFirst: Bool = true
  ) {
    self.targetUser = targetUser
    self.targetPolicy = targetPolicy
    self.actor = actor
    self.since = since
    self.until = until
    self.limit = limit
    self.newestFirst = newestFirst
  }

  /// Whether `event` satisfies the query's filters (not its limit or order).
  ///
  /// - Parameter event: An event.
  /// - Returns: Whether it matches.
  public func matches(_ event: AuditEvent) -> Bool {
    if let targetUser {
      guard case .user(let id, _) = event.target, id == targetUser else { return false }
    }
    if let targetPolicy {
      guard case .policy(let id, _) = event.target, id == targetPolicy else { return false }
    }
    if let actor, event.actor != actor { return false }
    if let since, event.time < since { return false }
    if let until, event.time >= until { return false }
    return true
  }
}
