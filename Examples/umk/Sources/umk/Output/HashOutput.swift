import UserManagementKit

/// `hash make`: `{"hash","algorithm"}`.
struct HashMadeOutput: Encodable {
  /// The encoded hash.
  let hash: String
  /// Its algorithm.
  let algorithm: String
}

/// `hash verify`: `{"valid","needsRehash","algorithm"}`.
struct HashVerdictOutput: Encodable {
  /// Whether the password matches.
  let valid: Bool
  /// Whether it matches and the hash would be upgraded at the next sign-in.
  let needsRehash: Bool
  /// The hash's algorithm.
  let algorithm: String
}

/// `hash census`: `{"total","needingRehash","unsupported","withoutPassword","groups"}`.
struct HashCensusOutput: Encodable {
  /// How many users.
  let total: Int
  /// How many hashes will be upgraded at sign-in.
  let needingRehash: Int
  /// How many hashes no hasher verifies.
  let unsupported: Int
  /// How many users have no password.
  let withoutPassword: Int
  /// The hashes by format and parameters.
  let groups: [Group]

  /// `{"algorithm","parameters","needsRehash","count"}`.
  struct Group: Encodable {
    /// The algorithm.
    let algorithm: String
    /// Its parameters, in words.
    let parameters: String
    /// Whether such hashes are upgraded at sign-in.
    let needsRehash: Bool
    /// How many users have such a hash.
    let count: Int
  }

  /// The output form of a census.
  ///
  /// - Parameter census: The census.
  init(_ census: PasswordHashCensus) {
    total = census.total
    needingRehash = census.needingRehash
    unsupported = census.unsupported
    withoutPassword = census.withoutPassword
    groups = census.groups.map { entry in
      Group(
        algorithm: entry.group.algorithm, parameters: entry.group.parameters,
        needsRehash: entry.group.needsRehash, count: entry.count)
    }
  }
}
