#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// How a password or API password is chosen: typed by a person, or generated.
public enum NewSecret: Sendable {
  /// A secret the person typed; it must satisfy the password policy.
  case typed(Secret)
  /// Generate one; it is returned once in the operation's result.
  case generated
}

/// What the console's "Create User Account" form collects.
public struct NewUser: Sendable {
  /// The username: an e-mail address. It can never be changed later.
  public var username: String
  /// The first name.
  public var firstName: String
  /// The last name.
  public var lastName: String
  /// The login password, typed or generated.
  public var password: NewSecret
  /// Active (the default) or Inactive.
  public var status: UserStatus
  /// Admin or General User (the default).
  public var role: Role
  /// The policies of a General User; must be empty for an administrator.
  public var policies: Set<PolicyID>
  /// Whether direct API access is enabled from the start.
  public var apiAccessEnabled: Bool

  /// Describes a new user.
  ///
  /// - Parameters:
  ///   - username: The e-mail address.
  ///   - firstName: The first name.
  ///   - lastName: The last name.
  ///   - password: The password, typed or generated.
  ///   - status: The initial status (default active).
  ///   - role: The role (default General User).
  ///   - policies: The policies of a General User.
  ///   - apiAccessEnabled: Whether API access is enabled.
  public init(
    username: String, firstName: String, lastName: String, password: NewSecret,
    status: UserStatus = .active, role: Role = .generalUser, policies: Set<PolicyID> = [],
    apiAccessEnabled: Bool = false
  ) {
    self.username = username
    self.firstName = firstName
    self.lastName = lastName
    self.password = password
    self.status = status
    self.role = role
    self.policies = policies
    self.apiAccessEnabled = apiAccessEnabled
  }
}

/// An edit of a user, as on the console's "Edit User Account" page. Fields left `nil` stay as
/// they are; the whole edit is applied atomically and recorded as one audit event.
public struct UserUpdate: Sendable {
  /// A new first name.
  public var firstName: String?
  /// A new last name.
  public var lastName: String?
  /// A new status. Nobody changes their own.
  public var status: UserStatus?
  /// A new role. Nobody changes their own. Becoming an administrator removes all policies.
  public var role: Role?
  /// The new, complete set of policies (General Users only).
  public var policies: Set<PolicyID>?
  /// A new login password set by an administrator for another user. (Users change their own
  /// with ``UserDirectory/changeOwnPassword(of:current:new:secondFactor:)``.)
  public var password: NewSecret?
  /// Enable or disable direct API access. Disabling removes the API password and revokes
  /// every API key (enabling access again revives none).
  public var apiAccessEnabled: Bool?
  /// A new API password (API access must be enabled after the edit).
  public var apiPassword: NewSecret?

  /// Creates an edit.
  ///
  /// - Parameters:
  ///   - firstName: A new first name.
  ///   - lastName: A new last name.
  ///   - status: A new status.
  ///   - role: A new role.
  ///   - policies: The new set of policies.
  ///   - password: A new login password.
  ///   - apiAccessEnabled: Enable or disable API access.
  ///   - apiPassword: A new API password.
  public init(
    firstName: String? = nil, lastName: String? = nil, status: UserStatus? = nil,
    role: Role? = nil, policies: Set<PolicyID>? = nil, password: NewSecret? = nil,
    apiAccessEnabled: Bool? = nil, apiPassword: NewSecret? = nil
  ) {
    self.firstName = firstName
    self.lastName = lastName
    self.status = status
    self.role = role
    self.policies = policies
    self.password = password
    self.apiAccessEnabled = apiAccessEnabled
    self.apiPassword = apiPassword
  }

  var touchesOnlyNames: Bool {
    status == nil && role == nil && policies == nil && password == nil
      && apiAccessEnabled == nil && apiPassword == nil
  }
}

/// The result of an operation that may have generated secrets.
///
/// Generated secrets are returned here exactly once; the directory keeps only their hashes.
public struct UserChangeResult: Sendable {
  /// The user after the change.
  public let user: User
  /// The generated login password, if one was generated.
  public let generatedPassword: Secret?
  /// The generated API password, if one was generated.
  public let generatedAPIPassword: Secret?
}

/// A successful sign-in.
public struct AuthenticatedUser: Sendable {
  /// The user who signed in.
  public let user: User
  /// Whether the host must make the user choose a new password before anything else,
  /// because an administrator set or generated the current one.
  public var mustChangePassword: Bool { user.mustChangePassword }
  /// Whether the stored hash was upgraded to the configured algorithm during this sign-in.
  public let rehashed: Bool
  /// Whether the user must enrol a second factor before anything else
  /// (``UserDirectory/AccountSecuritySettings/secondFactorRequirement``); every other
  /// operation refuses them with
  /// ``UserManagementError/Code/secondFactorEnrollmentRequired`` until they have.
  public let mustEnrollSecondFactor: Bool
}

/// The answer to the password step of a sign-in.
///
/// Switch over it: a user with a second factor is not signed in until
/// ``UserDirectory/completeSignIn(_:with:)`` accepts a code for the challenge.
public enum SignInResult: Sendable {
  /// The user is signed in.
  case signedIn(AuthenticatedUser)
  /// The password was right and the user has a second factor: ask for a code, then call
  /// ``UserDirectory/completeSignIn(_:with:)`` with this challenge.
  case secondFactorRequired(SignInChallenge)

  /// The signed-in user, or `nil` when a second factor is required.
  public var signedIn: AuthenticatedUser? {
    if case .signedIn(let user) = self { return user }
    return nil
  }
}

/// The short-lived, single-use link between the password step and the code step of a sign-in.
///
/// Keep ``token`` where only the signing-in browser or client can present it (an HttpOnly
/// cookie, or the response body of the password step); it proves the password was right, so
/// treat it as a credential. It dies at ``expiresAt``, when it is used, and when the user's
/// security stamp changes.
public struct SignInChallenge: Sendable {
  /// The challenge token (`umk_2fa_…`).
  public let token: Secret
  /// When it stops working.
  public let expiresAt: Date
}
