/// The answer to "may this user perform this action on this resource?", with the rule that
/// decided it.
public struct AuthorizationDecision: Hashable, Sendable, CustomStringConvertible {
  /// Which rule decided.
  public enum Reason: Hashable, Sendable {
    /// The user is an active administrator.
    case administrator
    /// The user owns the resource and owners are allowed (see
    /// ``UserDirectory/Configuration/ownersMayActOnTheirResources``).
    case owner
    /// A policy's permission granted it.
    case policy(id: PolicyID, name: String, permissionIndex: Int)
    /// The user is inactive, so nothing is allowed.
    case inactiveUser
    /// The user must change the password an administrator set before acting, and the host
    /// asked the library to enforce it
    /// (``UserDirectory/Configuration/requirePasswordChangeBeforeActing``).
    case passwordChangeRequired
    /// The user must enrol a second factor before acting
    /// (``UserDirectory/AccountSecuritySettings/secondFactorRequirement``).
    case secondFactorEnrollmentRequired
    /// The request was authenticated with an API key that is revoked, expired or gone.
    case apiKeyUnusable
    /// The request was authenticated with an API key none of whose scopes covers it.
    case outsideAPIKeyScopes
    /// The user does not exist.
    case unknownUser
    /// No rule granted it.
    case defaultDeny

    /// The rule's stable string form, for logs and serialized answers (`administrator`,
    /// `owner`, `policy`, `inactive_user`, `password_change_required`,
    /// `second_factor_enrollment_required`, `api_key_unusable`, `outside_api_key_scopes`,
    /// `unknown_user`, `default_deny`). Prefer it to an exhaustive `switch`, which a rule added in a later
    /// release would break.
    public var code: String {
      switch self {
      case .administrator: "administrator"
      case .owner: "owner"
      case .policy: "policy"
      case .inactiveUser: "inactive_user"
      case .passwordChangeRequired: "password_change_required"
      case .secondFactorEnrollmentRequired: "second_factor_enrollment_required"
      case .apiKeyUnusable: "api_key_unusable"
      case .outsideAPIKeyScopes: "outside_api_key_scopes"
      case .unknownUser: "unknown_user"
      case .defaultDeny: "default_deny"
      }
    }
  }

  /// Whether the action is allowed.
  public let isAllowed: Bool
  /// The rule that decided.
  public let reason: Reason

  /// Creates a decision.
  ///
  /// - Parameters:
  ///   - isAllowed: Whether it is allowed.
  ///   - reason: The deciding rule.
  public init(isAllowed: Bool, reason: Reason) {
    self.isAllowed = isAllowed
    self.reason = reason
  }

  /// A one-line explanation, such as `allowed by policy "Editors" (permission #1)`.
  public var description: String {
    switch reason {
    case .administrator: "allowed: the user is an active administrator"
    case .owner: "allowed: the user owns the resource"
    case .policy(_, let name, let index):
      "allowed by policy \"\(name)\" (permission #\(index + 1))"
    case .inactiveUser: "denied: the user is inactive"
    case .passwordChangeRequired: "denied: the user must change their password first"
    case .secondFactorEnrollmentRequired: "denied: the user must enrol a second factor first"
    case .apiKeyUnusable: "denied: the API key is revoked or expired"
    case .outsideAPIKeyScopes: "denied: no scope of the API key covers it"
    case .unknownUser: "denied: no such user"
    case .defaultDeny: "denied: no policy grants it"
    }
  }
}

/// Pure policy evaluation, with no I/O.
public enum PolicyEvaluator {
  /// Decides whether `user` may perform `action` on `resource`.
  ///
  /// The rules, in order: an inactive user is denied; with `pendingPasswordChangeDenies`, a
  /// user who must change their password is denied; an administrator is allowed; the owner of
  /// the resource is allowed when `ownersAllowed` is true; a General User is allowed by the
  /// first permission, in policy-name order, of a policy they hold that grants the action on
  /// the resource; otherwise denied. Policy ids the user holds that are not in `policies`
  /// grant nothing.
  ///
  /// - Parameters:
  ///   - user: The user, or `nil` if unknown.
  ///   - action: The action.
  ///   - resource: The resource.
  ///   - policies: The policies the user holds that exist.
  ///   - ownersAllowed: Whether owners may act on their resources.
  ///   - pendingPasswordChangeDenies: Whether a user who must change their password
  ///     (``User/mustChangePassword``) is denied everything until they have.
  /// - Returns: The decision and the rule that made it.
  public static func decide(
    user: User?, action: Action, resource: Resource, policies: [Policy], ownersAllowed: Bool,
    pendingPasswordChangeDenies: Bool = false
  ) -> AuthorizationDecision {
    guard let user else { return AuthorizationDecision(isAllowed: false, reason: .unknownUser) }
    guard user.status == .active else {
      return AuthorizationDecision(isAllowed: false, reason: .inactiveUser)
    }
    if pendingPasswordChangeDenies && user.mustChangePassword {
      return AuthorizationDecision(isAllowed: false, reason: .passwordChangeRequired)
    }
    if user.role == .admin {
      return AuthorizationDecision(isAllowed: true, reason: .administrator)
    }
    if ownersAllowed, let owner = resource.owner, owner == user.id {
      return AuthorizationDecision(isAllowed: true, reason: .owner)
    }
    let held = policies.filter { user.policies.contains($0.id) }
      .sorted { ($0.nameKey, $0.id) < ($1.nameKey, $1.id) }
    for policy in held {
      for (index, permission) in policy.permissions.enumerated()
      where permission.grants(action, on: resource) {
        return AuthorizationDecision(
          isAllowed: true, reason: .policy(id: policy.id, name: policy.name, permissionIndex: index)
        )
      }
    }
    return AuthorizationDecision(isAllowed: false, reason: .defaultDeny)
  }
}
