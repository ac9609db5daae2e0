// The JSON documents `umk --json` prints, as the tests read them: the documented contract,
// written independently of the CLI's own output types.

/// The keys of a JSON object, whatever their values.
struct JSONKeys: Decodable {
  /// The keys.
  let keys: Set<String>

  /// A key of any name.
  private struct AnyKey: CodingKey {
    /// The key's name.
    var stringValue: String
    /// Never an integer.
    var intValue: Int? { nil }
    /// A key of this name.
    init(stringValue: String) { self.stringValue = stringValue }
    /// No integer keys.
    init?(intValue: Int) { nil }
  }

  /// Reads the keys of an object.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` when the value is not an object.
  init(from decoder: any Decoder) throws {
    keys = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
  }
}

/// `{"error":{…}}` on standard error.
struct ErrorDocument: Decodable {
  /// The error.
  let error: Body

  /// `{"code","message","context"?,"details"?}`.
  struct Body: Decodable {
    /// The code.
    let code: String
    /// The message.
    let message: String
    /// The details.
    let context: [String: String]?
    /// An import's problems.
    let details: [Detail]?
  }

  /// `{"line","code","message","context"?}`, or `record` or `passwordLine` for another
  /// system's export (`import --from`).
  struct Detail: Decodable {
    /// The line number.
    let line: Int?
    /// The index of a record of a JSON export.
    let record: Int?
    /// The line of Auth0's password export.
    let passwordLine: Int?
    /// The code.
    let code: String
    /// The message.
    let message: String
    /// The details (`field`, `reason`).
    let context: [String: String]?
  }
}

/// A user.
struct UserJSON: Decodable {
  /// The keys every user has, and no other.
  static let keys: Set<String> = [
    "id", "username", "firstName", "lastName", "status", "role", "policies", "apiAccess",
    "hasPassword", "hasAPIPassword", "mustChangePassword", "version", "createdAt", "updatedAt",
    "createdBy",
  ]
  /// The `id` field.
  let id: String
  /// The `username` field.
  let username: String
  /// The `firstName` field.
  let firstName: String
  /// The `lastName` field.
  let lastName: String
  /// The `status` field.
  let status: String
  /// The `role` field.
  let role: String
  /// The `policies` field.
  let policies: [String]
  /// The `apiAccess` field.
  let apiAccess: Bool
  /// The `hasPassword` field.
  let hasPassword: Bool
  /// The `hasAPIPassword` field.
  let hasAPIPassword: Bool
  /// The `mustChangePassword` field.
  let mustChangePassword: Bool
  /// The `version` field.
  let version: Int
  /// The `createdAt` field.
  let createdAt: String
  /// The `updatedAt` field.
  let updatedAt: String
  /// The `createdBy` field.
  let createdBy: String
}

/// `{"user":…}` (+ a generated password).
struct UserDocument: Decodable {
  /// The user.
  let user: UserJSON
  /// A generated login password.
  let generatedPassword: String?
  /// A generated API password.
  let generatedAPIPassword: String?
}

/// The keys of `{"user":…}`'s user.
struct UserDocumentKeys: Decodable {
  /// The user's keys.
  let user: JSONKeys
}

/// `{"users":[…],"nextCursor":…|null}`.
struct UserPage: Decodable {
  /// The users.
  let users: [UserJSON]
  /// The next page's cursor.
  let nextCursor: String?
}

/// `login`: `{"user","mustChangePassword","rehashed","mustEnrollSecondFactor",
/// "secondFactor"?,"remainingRecoveryCodes"?}`.
struct LoginDocument: Decodable {
  /// The user.
  let user: UserJSON
  /// Whether the password must be changed now.
  let mustChangePassword: Bool
  /// Whether the hash was upgraded.
  let rehashed: Bool
  /// Whether a second factor must be enrolled now.
  let mustEnrollSecondFactor: Bool
  /// `authenticator` or `recovery` after a two-step sign-in.
  let secondFactor: String?
  /// The recovery codes left, after signing in with one.
  let remainingRecoveryCodes: Int?
}

/// A policy.
struct PolicyJSON: Decodable {
  /// The keys every policy has, and no other.
  static let keys: Set<String> = ["id", "name", "description", "permissions", "version"]
  /// The `id` field.
  let id: String
  /// The `name` field.
  let name: String
  /// The `description` field.
  let description: String
  /// The `permissions` field.
  let permissions: [Permission]
  /// The `version` field.
  let version: Int

  /// A permission.
  struct Permission: Decodable {
    /// The `resourceType` field.
    let resourceType: String
    /// The `allowed` field.
    let allowed: [String]
    /// The `resourceIds` field.
    let resourceIds: [String]
  }
}

/// `{"policies":[…]}`.
struct PolicyList: Decodable {
  /// The policies.
  let policies: [PolicyJSON]
}

/// `{"policy":…}`.
struct PolicyShow: Decodable {
  /// The policy.
  let policy: PolicyJSON
}

/// `{"removed":{"id","name"}}`.
struct PolicyRemoved: Decodable {
  /// The removed policy.
  let removed: Reference

  /// Its id and name.
  struct Reference: Decodable {
    /// The `id` field.
    let id: String
    /// The `name` field.
    let name: String
  }
}

/// A policy in the console's JSON, as `policy export` prints it.
struct PolicyDocumentJSON: Decodable {
  /// The `name` field.
  let name: String
  /// The `description` field.
  let description: String?
  /// The `permissions` field.
  let permissions: [PolicyJSON.Permission]
}

/// `authorize`'s answer.
struct DecisionDocument: Decodable {
  /// The `allowed` field.
  let allowed: Bool
  /// The `reason` field.
  let reason: String
  /// The `explanation` field.
  let explanation: String
  /// The `policy` field.
  let policy: PolicyReference?

  /// The deciding policy and permission.
  struct PolicyReference: Decodable {
    /// The `name` field.
    let name: String
    /// The `permission` field.
    let permission: Int
  }
}

/// `{"events":[…]}`.
struct AuditEvents: Decodable {
  /// The events.
  let events: [Event]

  /// An event.
  struct Event: Decodable {
    /// The keys every event has, and no other.
    static let keys: Set<String> = [
      "id", "time", "actor", "actorUsername", "action", "target", "changes",
    ]
    /// The `id` field.
    let id: String
    /// The `time` field.
    let time: String
    /// The `actor` field.
    let actor: String
    /// The `actorUsername` field.
    let actorUsername: String?
    /// The `action` field.
    let action: String
    /// The `target` field.
    let target: String
    /// The `changes` field.
    let changes: [Change]
  }

  /// A changed field.
  struct Change: Decodable {
    /// The `field` field.
    let field: String
    /// The `old` field.
    let old: String?
    /// The `new` field.
    let new: String?
    /// The `secret` field.
    let secret: Bool
  }
}

/// `import`'s summary.
struct ImportSummary: Decodable {
  /// The `dryRun` field.
  let dryRun: Bool
  /// The `committed` field.
  let committed: Bool
  /// The `users` field.
  let users: Int
  /// The `passwordHashCount` field.
  let passwordHashCount: Int
}

/// One line of `export` (and of `import`).
struct PortableUserJSON: Decodable {
  /// The `username` field.
  let username: String
  /// The `firstName` field.
  let firstName: String
  /// The `lastName` field.
  let lastName: String
  /// The `status` field.
  let status: String
  /// The `role` field.
  let role: String
  /// The `policies` field.
  let policies: [String]
  /// The `apiAccess` field.
  let apiAccess: Bool
  /// The `passwordHash` field.
  let passwordHash: String?
}

/// `export --json`.
struct ExportDocument: Decodable {
  /// The users.
  let users: [PortableUserJSON]
}

/// `hash make`.
struct HashMade: Decodable {
  /// The `hash` field.
  let hash: String
  /// The `algorithm` field.
  let algorithm: String
}

/// `hash verify`.
struct HashVerdict: Decodable {
  /// The `valid` field.
  let valid: Bool
  /// The `needsRehash` field.
  let needsRehash: Bool
  /// The `algorithm` field.
  let algorithm: String
}

/// `hash census`.
struct HashCensus: Decodable {
  /// The `total` field.
  let total: Int
  /// The `needingRehash` field.
  let needingRehash: Int
  /// The `unsupported` field.
  let unsupported: Int
  /// The `withoutPassword` field.
  let withoutPassword: Int
  /// The `groups` field.
  let groups: [Group]

  /// One format and its parameters.
  struct Group: Decodable {
    /// The `algorithm` field.
    let algorithm: String
    /// The `parameters` field.
    let parameters: String
    /// The `needsRehash` field.
    let needsRehash: Bool
    /// The `count` field.
    let count: Int
  }
}

/// `demo --json`.
struct DemoDocument: Decodable {
  /// The `steps` field.
  let steps: [Step]
  /// The `auditedChanges` field.
  let auditedChanges: Int
  /// The `refusals` field.
  let refusals: Int
  /// The `complete` field.
  let complete: Bool

  /// A step.
  struct Step: Decodable {
    /// The `title` field.
    let title: String
    /// The `outcomes` field.
    let outcomes: [Outcome]
  }

  /// What happened.
  struct Outcome: Decodable {
    /// The `ok` field.
    let ok: Bool
    /// The `text` field.
    let text: String
    /// The `code` field.
    let code: String?
    /// The `message` field.
    let message: String?
  }
}

/// `2fa enroll`: `{"secret","uri","algorithm","digits","period"}`.
struct EnrollmentDocument: Decodable {
  /// The `secret` field (base32).
  let secret: String
  /// The `uri` field.
  let uri: String
  /// The `algorithm` field.
  let algorithm: String
  /// The `digits` field.
  let digits: Int
  /// The `period` field.
  let period: Int
}

/// `2fa confirm`, `2fa recovery-codes regenerate`: `{"recoveryCodes":[…]}`.
struct RecoveryCodesDocument: Decodable {
  /// The `recoveryCodes` field.
  let recoveryCodes: [String]
}

/// `2fa recovery-codes status`: `{"username","secondFactor","remainingRecoveryCodes"}`.
struct SecondFactorStatusDocument: Decodable {
  /// The `username` field.
  let username: String
  /// The `secondFactor` field.
  let secondFactor: Bool
  /// The `remainingRecoveryCodes` field.
  let remainingRecoveryCodes: Int
}

/// `password reset-token`, `user verify-email issue`: `{"username","token"}`.
struct TokenDocument: Decodable {
  /// The `username` field.
  let username: String
  /// The `token` field.
  let token: String
}

/// An API key: never its secret.
struct APIKeyJSON: Decodable {
  /// The keys every API key has, and no other.
  static let keys: Set<String> = [
    "id", "user", "name", "scopes", "createdAt", "createdBy", "expiresAt", "lastUsedAt",
    "revokedAt",
  ]
  /// The `id` field.
  let id: String
  /// The `user` field.
  let user: String
  /// The `name` field.
  let name: String
  /// The `scopes` field.
  let scopes: [String]
  /// The `createdAt` field.
  let createdAt: String
  /// The `createdBy` field.
  let createdBy: String
  /// The `expiresAt` field.
  let expiresAt: String?
  /// The `lastUsedAt` field.
  let lastUsedAt: String?
  /// The `revokedAt` field.
  let revokedAt: String?
}

/// `api-key create`: `{"key":…,"secret"}`; `api-key revoke`: `{"key":…}`.
struct APIKeyDocument: Decodable {
  /// The key.
  let key: APIKeyJSON
  /// The secret key, after `create`.
  let secret: String?
}

/// `api-key list`: `{"keys":[…]}`.
struct APIKeyListDocument: Decodable {
  /// The keys.
  let keys: [APIKeyJSON]
}

/// The keys of `api-key list`'s keys.
struct APIKeyListKeys: Decodable {
  /// Each key's keys.
  let keys: [JSONKeys]
}

/// `api-key check`: `{"key":…,"decision":…}`.
struct APIKeyDecisionDocument: Decodable {
  /// The key.
  let key: APIKeyJSON
  /// The decision, as `authorize` prints it.
  let decision: DecisionDocument
}
