import UserManagementKit

/// An API key in `--json` output: never its secret. Times are ISO 8601 in UTC with
/// milliseconds; `expiresAt`, `lastUsedAt` and `revokedAt` are `null` when unset.
struct APIKeyOutput: Encodable {
  /// The key's id.
  let id: String
  /// The username of the user it acts for.
  let user: String
  /// The key's name.
  let name: String
  /// The scopes, `type:action,action`.
  let scopes: [String]
  /// When it was created.
  let createdAt: String
  /// Who created it: `user:<id>` or `system:<name>`.
  let createdBy: String
  /// When it expires.
  let expiresAt: String?
  /// When it was last used (to the library's resolution of a few minutes).
  let lastUsedAt: String?
  /// When it was revoked.
  let revokedAt: String?

  /// The output form of a key.
  ///
  /// - Parameters:
  ///   - key: The key.
  ///   - username: Its user's username.
  init(_ key: APIKey, username: String) {
    id = key.id.description
    user = username
    name = key.name
    scopes = key.scopes.map(\.description)
    createdAt = Output.timestamp(key.createdAt)
    createdBy = key.createdBy.description
    expiresAt = key.expiresAt.map(Output.timestamp)
    lastUsedAt = key.lastUsedAt.map(Output.timestamp)
    revokedAt = key.revokedAt.map(Output.timestamp)
  }

  /// The keys.
  enum CodingKeys: String, CodingKey {
    case id, user, name, scopes, createdAt, createdBy, expiresAt, lastUsedAt, revokedAt
  }

  /// Encodes unset times as `null` rather than leaving them out.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(id, forKey: .id)
    try container.encode(user, forKey: .user)
    try container.encode(name, forKey: .name)
    try container.encode(scopes, forKey: .scopes)
    try container.encode(createdAt, forKey: .createdAt)
    try container.encode(createdBy, forKey: .createdBy)
    try container.encode(expiresAt, forKey: .expiresAt)
    try container.encode(lastUsedAt, forKey: .lastUsedAt)
    try container.encode(revokedAt, forKey: .revokedAt)
  }

  /// Prints the key's details, indented, one per line (stored text escaped).
  func printDetails() {
    Output.dataLine("  name: \(name)")
    Output.dataLine("  scopes: \(scopes.joined(separator: " "))")
    Output.line("  created: \(createdAt) by \(createdBy)")
    Output.line("  last used: \(lastUsedAt ?? "never")")
    Output.line("  expires: \(expiresAt ?? "never")")
    if let revokedAt { Output.line("  revoked: \(revokedAt)") }
  }
}

/// `api-key create --json`: `{"key":…,"secret":"umk_key_…"}`, the secret shown this once.
struct NewAPIKeyOutput: Encodable {
  /// The key.
  let key: APIKeyOutput
  /// The secret key.
  let secret: String
}

/// `api-key revoke --json`: `{"key":…}`.
struct APIKeyResultOutput: Encodable {
  /// The key.
  let key: APIKeyOutput
}

/// `api-key list --json`: `{"keys":[…]}`, oldest first.
struct APIKeyListOutput: Encodable {
  /// The keys.
  let keys: [APIKeyOutput]
}

/// `api-key check --json`: `{"key":…,"decision":{"allowed","reason","explanation","policy"?}}`.
struct APIKeyDecisionOutput: Encodable {
  /// The key that authenticated the request.
  let key: APIKeyOutput
  /// The decision.
  let decision: AuthorizationOutput
}
