/// The directory's default password hasher: hashes with one preferred algorithm, and verifies
/// every format the library knows, so hosts can migrate users without resetting passwords.
///
/// - New hashes come from ``preferred`` (Argon2id by default).
/// - Hashes ``preferred`` understands are verified by it, with its own rehash rule.
/// - Our other formats (Argon2 and PBKDF2 PHC strings) verify and ask for a rehash.
/// - Legacy formats from other systems (Django, passlib, ASP.NET Core Identity, bcrypt, LDAP
///   `{SSHA}` and kin, crypt(3) SHA-crypt and MD5-crypt, Drupal 7, phpass and WordPress 6.8,
///   scrypt, and Firebase's scrypt given its ``FirebaseScryptParameters``; see the formats
///   table in the Migrating Password Hashes guide) verify against the password's raw bytes and ask for a rehash,
///   when ``acceptsLegacyFormats`` is on.
///
/// Every verification is bounded by ``limits``. ``census(of:)`` counts stored hashes by
/// format and parameters to plan a migration.
public struct MigratingPasswordHasher: PasswordHasher {
  /// The hasher of new passwords.
  public let preferred: any PasswordHasher
  /// The most a stored hash may cost to verify.
  public let limits: HashCostLimits
  /// Whether hashes written by other systems verify.
  public let acceptsLegacyFormats: Bool
  /// The Firebase project's hash parameters, which `$firebase-scrypt$` hashes need; without
  /// them such hashes are refused as ``UserManagementError/Code/unsupportedHash``.
  public let firebase: FirebaseScryptParameters?
  private let argon2: Argon2PasswordHasher
  private let pbkdf2: PBKDF2PasswordHasher

  /// Creates the hasher.
  ///
  /// - Parameters:
  ///   - preferred: The hasher of new passwords (default Argon2id, m = 19,456 KiB, t = 2).
  ///   - limits: The most a stored hash may cost to verify.
  ///   - acceptsLegacyFormats: Whether hashes written by other systems verify (default on).
  ///   - firebase: The Firebase project's hash parameters, for imported `$firebase-scrypt$`
  ///     hashes (default none).
  public init(
    preferred: (any PasswordHasher)? = nil, limits: HashCostLimits = HashCostLimits(),
    acceptsLegacyFormats: Bool = true, firebase: FirebaseScryptParameters? = nil
  ) {
    self.preferred = preferred ?? Argon2PasswordHasher(limits: limits)
    self.limits = limits
    self.acceptsLegacyFormats = acceptsLegacyFormats
    self.firebase = firebase
    argon2 = Argon2PasswordHasher(limits: limits)
    var pbkdf2 = PBKDF2PasswordHasher()
    pbkdf2.maximumIterations = limits.maximumPBKDF2Iterations
    self.pbkdf2 = pbkdf2
  }

  /// Whether ``preferred`` is expensive (it decides where hashing runs).
  public var isComputationallyExpensive: Bool { preferred.isComputationallyExpensive }

  /// Hashes with ``preferred``.
  ///
  /// - Parameter password: The password.
  /// - Returns: The hash.
  /// - Throws: What ``preferred`` throws.
  public func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
    try preferred.hash(password)
  }

  /// ``preferred``'s unmatchable hash.
  ///
  /// - Returns: The hash.
  /// - Throws: What ``preferred`` throws.
  public func unmatchableHash() throws(UserManagementError) -> PasswordHash {
    try preferred.unmatchableHash()
  }

  /// Verifies a password against a hash in any known format.
  ///
  /// - Parameters:
  ///   - password: The password.
  ///   - hash: The stored hash.
  /// - Returns: The verdict; anything not in ``preferred``'s format that matches asks for a
  ///   rehash.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   for unknown formats, malformed hashes, or costs above ``limits``.
  public func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification
  {
    if preferred.canVerify(hash) { return try preferred.verify(password, against: hash) }
    for native in [argon2 as any PasswordHasher, pbkdf2] where native.canVerify(hash) {
      return try native.verify(password, against: hash).isValid ? .validNeedsRehash : .invalid
    }
    if acceptsLegacyFormats,
      let legacy = try LegacyPasswordHash.parse(hash, limits: limits, firebase: firebase)
    {
      return try legacy.verify(password, limits: limits) ? .validNeedsRehash : .invalid
    }
    throw UserManagementError(
      .unsupportedHash, "The stored password hash is in an unknown format.",
      context: ["algorithm": hash.algorithm])
  }

  /// Whether any known format matches `hash`.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether it can be verified.
  public func canVerify(_ hash: PasswordHash) -> Bool {
    if preferred.canVerify(hash) || argon2.canVerify(hash) || pbkdf2.canVerify(hash) {
      return true
    }
    guard acceptsLegacyFormats else { return false }
    return (try? LegacyPasswordHash.parse(hash, limits: limits, firebase: firebase)) != nil
  }

  /// Whether a stored hash should be replaced: anything but ``preferred``'s format, or
  /// ``preferred``'s format with weaker parameters.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether it should be replaced at the next sign-in.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   for unknown or malformed hashes.
  public func needsRehash(_ hash: PasswordHash) throws(UserManagementError) -> Bool {
    if preferred.canVerify(hash) { return try preferred.needsRehash(hash) }
    // Parse our other formats too, so a malformed or too costly hash is reported here (as
    // for the preferred format) rather than at the first sign-in.
    for native in [argon2 as any PasswordHasher, pbkdf2] where native.canVerify(hash) {
      _ = try native.needsRehash(hash)
      return true
    }
    if acceptsLegacyFormats,
      try LegacyPasswordHash.parse(hash, limits: limits, firebase: firebase) != nil
    {
      return true
    }
    guard canVerify(hash) else {
      throw UserManagementError(
        .unsupportedHash, "The stored password hash is in an unknown format.",
        context: ["algorithm": hash.algorithm])
    }
    return true
  }

  /// Counts stored hashes by format and parameters, and how many need a rehash.
  ///
  /// - Parameter hashes: The stored hashes; `nil` for accounts without a password.
  /// - Returns: The census.
  public func census(of hashes: some Sequence<PasswordHash?>) -> PasswordHashCensus {
    var groups: [PasswordHashCensus.Group: Int] = [:]
    var census = PasswordHashCensus()
    for hash in hashes {
      census.total += 1
      guard let hash else {
        census.withoutPassword += 1
        continue
      }
      guard let (algorithm, parameters) = describe(hash),
        let rehash = try? needsRehash(hash)
      else {
        census.unsupported += 1
        continue
      }
      if rehash { census.needingRehash += 1 }
      groups[
        PasswordHashCensus.Group(
          algorithm: algorithm, parameters: parameters, needsRehash: rehash),
        default: 0] += 1
    }
    census.groups = groups.map { PasswordHashCensus.Entry(group: $0.key, count: $0.value) }
      .sorted {
        ($1.count, $0.group.algorithm, $0.group.parameters) < (
          $0.count, $1.group.algorithm, $1.group.parameters
        )
      }
    return census
  }

  private func describe(_ hash: PasswordHash) -> (String, String)? {
    if argon2.canVerify(hash) { return try? argon2.describe(hash) }
    if pbkdf2.canVerify(hash) { return try? pbkdf2.describe(hash) }
    if preferred.canVerify(hash) { return (hash.algorithm, "") }
    guard acceptsLegacyFormats,
      let legacy = try? LegacyPasswordHash.parse(hash, limits: limits, firebase: firebase)
    else { return nil }
    return legacy.describe(limits: limits)
  }
}

/// How a directory's stored password hashes break down, for planning a migration.
public struct PasswordHashCensus: Hashable, Sendable {
  /// A format and parameter set.
  public struct Group: Hashable, Sendable {
    /// The algorithm or format, such as `argon2id`, `pbkdf2-sha256` or `django-pbkdf2_sha256`.
    public let algorithm: String
    /// The parameters, such as `v=19,m=19456,t=2,p=1`.
    public let parameters: String
    /// Whether hashes of this group are replaced at the next sign-in.
    public let needsRehash: Bool

    /// Creates a group.
    ///
    /// - Parameters:
    ///   - algorithm: The algorithm or format.
    ///   - parameters: The parameters.
    ///   - needsRehash: Whether its hashes are replaced at the next sign-in.
    public init(algorithm: String, parameters: String, needsRehash: Bool) {
      self.algorithm = algorithm
      self.parameters = parameters
      self.needsRehash = needsRehash
    }
  }

  /// One group and how many hashes are in it.
  public struct Entry: Hashable, Sendable {
    /// The group.
    public let group: Group
    /// How many hashes.
    public let count: Int
  }

  /// The groups, largest first.
  public var groups: [Entry] = []
  /// All accounts counted.
  public var total = 0
  /// Hashes that would be replaced at the next sign-in.
  public var needingRehash = 0
  /// Hashes in no known format, malformed, or above the cost limits.
  public var unsupported = 0
  /// Accounts without a password.
  public var withoutPassword = 0
}
