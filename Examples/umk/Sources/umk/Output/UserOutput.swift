import UserManagementKit

/// A user in `--json` output.
///
/// `role` is `admin` or `general`; `policies` are names, sorted case-insensitively; times are
/// ISO 8601 in UTC with milliseconds; `createdBy` is `user:<id>` or `system:<name>`. No
/// password or hash, only whether there is one.
struct UserOutput: Encodable {
  /// The user's id.
  let id: String
  /// The e-mail address.
  let username: String
  /// The first name.
  let firstName: String
  /// The last name.
  let lastName: String
  /// `active` or `inactive`.
  let status: String
  /// `admin` or `general`.
  let role: String
  /// The names of the user's policies.
  let policies: [String]
  /// Whether direct API access is enabled.
  let apiAccess: Bool
  /// Whether the user has a login password.
  let hasPassword: Bool
  /// Whether the user has an API password.
  let hasAPIPassword: Bool
  /// Whether the password must be changed at the next sign-in.
  let mustChangePassword: Bool
  /// The record's version.
  let version: Int
  /// When the user was created.
  let createdAt: String
  /// When the user last changed.
  let updatedAt: String
  /// Who created the user.
  let createdBy: String

  /// The output form of a user.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - policyNames: Policy names by id.
  init(_ user: User, policyNames: [PolicyID: String]) {
    id = user.id.description
    username = user.username.rawValue
    firstName = user.firstName
    lastName = user.lastName
    status = user.status.rawValue
    role = user.role.rawValue
    policies = Self.names(user.policies, policyNames)
    apiAccess = user.apiAccessEnabled
    hasPassword = user.hasPassword
    hasAPIPassword = user.hasAPIPassword
    mustChangePassword = user.mustChangePassword
    version = Int(clamping: user.version)
    createdAt = Output.timestamp(user.createdAt)
    updatedAt = Output.timestamp(user.updatedAt)
    createdBy = user.createdBy.description
  }

  /// Policy names for ids, sorted case-insensitively (an id whose name is unknown as itself).
  ///
  /// - Parameters:
  ///   - ids: The policy ids.
  ///   - policyNames: Names by id.
  /// - Returns: The sorted names.
  static func names(_ ids: Set<PolicyID>, _ policyNames: [PolicyID: String]) -> [String] {
    ids.map { policyNames[$0] ?? $0.description }.sorted {
      $0.lowercased() < $1.lowercased()
    }
  }

  /// A one-line description of a user for text output.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - policyNames: Names by id.
  /// - Returns: Such as `grace@example.com — Grace Hopper, active, general [Viewers]`.
  static func summary(_ user: User, policyNames: [PolicyID: String]) -> String {
    var text = "\(user.username) — \(user.firstName) \(user.lastName), \(user.status), "
    text += user.role == .admin ? "admin" : "general"
    let policies = names(user.policies, policyNames)
    if !policies.isEmpty { text += " [\(policies.joined(separator: ", "))]" }
    if user.apiAccessEnabled { text += ", API access" }
    return text
  }
}

/// `{"user":…}`, plus `generatedPassword` or `generatedAPIPassword` (shown this once) when
/// the library generated one.
struct UserResultOutput: Encodable {
  /// The user.
  let user: UserOutput
  /// A generated login password.
  let generatedPassword: String?
  /// A generated API password.
  let generatedAPIPassword: String?

  /// The result of a change.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - generated: What the library generated, if anything.
  init(user: UserOutput, generated: GeneratedSecret? = nil) {
    self.user = user
    switch generated {
    case .password(let secret):
      generatedPassword = secret.revealForDisplay()
      generatedAPIPassword = nil
    case .apiPassword(let secret):
      generatedPassword = nil
      generatedAPIPassword = secret.revealForDisplay()
    case nil:
      generatedPassword = nil
      generatedAPIPassword = nil
    }
  }
}

/// A page of `user list`: `{"users":[…],"nextCursor":"…"|null}`.
struct UserPageOutput: Encodable {
  /// The users of the page.
  let users: [UserOutput]
  /// The cursor of the next page, or `nil` (encoded as `null`) on the last.
  let nextCursor: String?

  /// The keys.
  enum CodingKeys: String, CodingKey {
    case users, nextCursor
  }

  /// Encodes `nextCursor` as `null` on the last page rather than leaving it out.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(users, forKey: .users)
    try container.encode(nextCursor, forKey: .nextCursor)
  }
}

/// A successful `login`: `{"user":…,"mustChangePassword":bool,"rehashed":bool,
/// "mustEnrollSecondFactor":bool,"secondFactor"?:"authenticator"|"recovery",
/// "remainingRecoveryCodes"?:int}`.
struct LoginOutput: Encodable {
  /// The user.
  let user: UserOutput
  /// Whether the password must be changed now.
  let mustChangePassword: Bool
  /// Whether the stored hash was upgraded.
  let rehashed: Bool
  /// The kind of code that completed a two-step sign-in; absent for a password-only one.
  let secondFactor: String?
  /// Whether a second factor must be enrolled before anything else.
  let mustEnrollSecondFactor: Bool
  /// How many recovery codes are left, after signing in with one.
  let remainingRecoveryCodes: Int?
}
