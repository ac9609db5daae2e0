#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The rules of editing a user, as a pure function of the state read: who acts, the target's
/// record and the request. No store, clock or randomness, so every rule is unit-tested on
/// values (`UserEditRulesTests`), and ``UserDirectory`` applies the very same function to the
/// state each commit pins.
///
/// - Administrators may change anything of another user; a system principal (`actor == nil`)
///   likewise.
/// - Nobody changes their own status or role, or sets their own password this way; an
///   administrator's own API password is generated, never typed.
/// - A General User may change only their own first and last name.
/// - Administrators hold no policies; an API password needs API access; disabling API access
///   removes the API password.
struct UserEditRules {
  /// Whether a password an administrator sets must be changed at the next sign-in.
  var requirePasswordChangeAfterAdminReset: Bool

  /// What an allowed edit changes, before the directory stamps it (version, time, security
  /// stamp, audit event id).
  struct Outcome: Equatable {
    /// The record after the edit.
    var record: UserRecord
    /// The fields changed, for the audit event; secrets only as `FieldChange.secret`.
    var changes: [FieldChange]
    /// The audit action that names the edit.
    var action: AuditAction
    /// Whether status, role, API access or a credential changed, so sessions must end.
    var credentialsChanged: Bool
    /// Failed sign-in counters the edit resets (a new password or API password).
    var throttleUpdates: [ThrottleUpdate]
  }

  /// Applies an edit to a record.
  ///
  /// - Parameters:
  ///   - update: The request.
  ///   - target: The record read.
  ///   - actor: The acting user, or `nil` for a system principal.
  ///   - passwordHash: The new login password's hash, when the request sets one and it has
  ///     been prepared; `nil` checks the rules without applying it.
  ///   - apiPasswordHash: The new API password's hash, likewise.
  /// - Returns: The outcome, or `nil` when nothing would change.
  /// - Throws: ``UserManagementError``: ``UserManagementError/Code/notAuthorized``,
  ///   ``UserManagementError/Code/selfModificationForbidden``,
  ///   ``UserManagementError/Code/invalidOperation`` or a name validation error.
  func apply(
    _ update: UserUpdate, to target: UserRecord, actor: User?, passwordHash: PasswordHash?,
    apiPasswordHash: PasswordHash?
  ) throws(UserManagementError) -> Outcome? {
    let isSelf = actor?.id == target.id
    if let actor, actor.role != .admin {
      // A General User: only their own name.
      guard actor.id == target.id, update.touchesOnlyNames else {
        throw .notAuthorized(
          "General Users may change only their own first and last name, and their own "
            + "password with the current one.")
      }
    }
    if isSelf {
      if let status = update.status, status != target.user.status {
        throw UserManagementError(
          .selfModificationForbidden, "You cannot activate or deactivate yourself.",
          context: ["field": "status"])
      }
      if let role = update.role, role != target.user.role {
        throw UserManagementError(
          .selfModificationForbidden, "You cannot grant or revoke your own admin access.",
          context: ["field": "role"])
      }
      if update.password != nil {
        throw UserManagementError(
          .invalidOperation, "Change your own password with your current password.",
          context: ["field": "password"])
      }
      // A typed API password must differ from the login password, and telling someone that
      // theirs does not would let a stolen session test guesses of the login password, outside
      // the sign-in throttle. A generated one is random and needs no comparison.
      if case .typed = update.apiPassword {
        throw UserManagementError(
          .invalidOperation,
          "Generate your own API password; only another administrator can enter one for you.",
          context: ["field": "apiPassword", "reason": "typed_own_api_password"])
      }
    }

    var record = target
    var user = record.user
    var changes: [FieldChange] = []
    var kinds: Set<AuditAction> = []
    var credentialsChanged = false
    var throttleUpdates: [ThrottleUpdate] = []

    for (field, path, requested) in [
      ("firstName", \User.firstName, update.firstName),
      ("lastName", \User.lastName, update.lastName),
    ] {
      guard let requested else { continue }
      let value = try PersonName.validate(requested, field: field)
      // Byte for byte, so a respelling (NFD to NFC, say) is recorded as the change it is.
      if !value.utf8.elementsEqual(user[keyPath: path].utf8) {
        changes.append(FieldChange(field: field, oldValue: user[keyPath: path], newValue: value))
        user[keyPath: path] = value
        kinds.insert(.userUpdated)
      }
    }
    if let status = update.status, status != user.status {
      changes.append(
        FieldChange(field: "status", oldValue: user.status.rawValue, newValue: status.rawValue))
      user.status = status
      kinds.insert(status == .active ? .userActivated : .userDeactivated)
      credentialsChanged = true
    }
    let role = update.role ?? user.role
    if role != user.role {
      changes.append(
        FieldChange(field: "role", oldValue: user.role.rawValue, newValue: role.rawValue))
      user.role = role
      kinds.insert(.roleChanged)
      credentialsChanged = true
    }
    var policies = update.policies ?? user.policies
    if role == .admin {
      if let requested = update.policies, !requested.isEmpty {
        throw UserManagementError(
          .invalidOperation,
          "Policies apply to General Users only; administrators may do anything.",
          context: ["field": "policies"])
      }
      policies = []
    }
    if policies != user.policies {
      changes.append(
        FieldChange(
          field: "policies", oldValue: UserDirectory.describe(user.policies),
          newValue: UserDirectory.describe(policies)))
      user.policies = policies
      kinds.insert(update.role != nil ? .roleChanged : .policiesChanged)
    }
    if let passwordHash {
      record.passwordHash = passwordHash
      user.hasPassword = true
      user.mustChangePassword = requirePasswordChangeAfterAdminReset
      changes.append(.secret("password"))
      kinds.insert(.passwordReset)
      credentialsChanged = true
      throttleUpdates.append(ThrottleUpdate(user: target.id, kind: .password, operation: .reset))
    }
    let apiAccess = update.apiAccessEnabled ?? user.apiAccessEnabled
    if update.apiPassword != nil && !apiAccess {
      throw UserManagementError(
        .invalidOperation, "Enable direct API access before setting an API password.",
        context: ["field": "apiPassword"])
    }
    if apiAccess != user.apiAccessEnabled {
      changes.append(
        FieldChange(
          field: "apiAccess", oldValue: String(user.apiAccessEnabled), newValue: String(apiAccess)))
      user.apiAccessEnabled = apiAccess
      kinds.insert(apiAccess ? .apiAccessEnabled : .apiAccessDisabled)
      credentialsChanged = true
    }
    if !apiAccess && record.apiPasswordHash != nil {
      record.apiPasswordHash = nil
      changes.append(.secret("apiPassword"))
    }
    if let apiPasswordHash {
      record.apiPasswordHash = apiPasswordHash
      changes.append(.secret("apiPassword"))
      kinds.insert(.apiPasswordSet)
      credentialsChanged = true
      throttleUpdates.append(
        ThrottleUpdate(user: target.id, kind: .apiPassword, operation: .reset))
    }

    guard !changes.isEmpty else { return nil }
    user.hasPassword = record.passwordHash != nil
    user.hasAPIPassword = record.apiPasswordHash != nil
    record.user = user

    let action: AuditAction
    if kinds.count == 1, let only = kinds.first {
      action = only
    } else if kinds == [.apiAccessEnabled, .apiPasswordSet] {
      action = .apiAccessEnabled
    } else {
      action = .userUpdated
    }
    return Outcome(
      record: record, changes: changes, action: action, credentialsChanged: credentialsChanged,
      throttleUpdates: throttleUpdates)
  }
}
