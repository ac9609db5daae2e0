import UMKCrypto

/// Password hashing with Argon2id (RFC 9106), the default of ``UserDirectory``.
///
/// Hashes are PHC strings as libargon2 and argon2-cffi write them:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, with a 16-byte random salt, a 32-byte tag
/// and standard base64 without padding. Passwords are normalized to Unicode NFC before
/// hashing.
///
/// The default parameters are OWASP's first recommendation, m = 19,456 KiB (19 MiB), t = 2,
/// p = 1. Weaker parameters are refused unless the hasher is created with
/// ``init(insecureMemoryKiB:iterations:parallelism:limits:random:)``, which exists for tests. One
/// hash allocates m KiB; ``UserDirectory`` runs at most
/// ``UserDirectory/Configuration/maximumConcurrentHashes`` at once, so peak hashing memory is
/// that many times m.
///
/// Verification accepts `$argon2id$`, `$argon2i$` and `$argon2d$` hashes of versions 0x10
/// and 0x13 (so hashes imported from other systems verify too), refuses those above
/// ``limits``, and asks for a rehash when the stored hash is another variant or version, or
/// uses less memory or fewer passes than this hasher.
public struct Argon2PasswordHasher: PasswordHasher {
  /// The parameters of new hashes.
  public let memoryKiB: Int
  /// The number of passes of new hashes.
  public let iterations: Int
  /// The number of lanes of new hashes.
  public let parallelism: Int
  /// The most a stored hash may cost to verify.
  public var limits: HashCostLimits
  private let random: any RandomSource

  /// OWASP's Argon2id configurations of equal strength (memory KiB, passes), all with p = 1.
  public static let owaspMinimums: [(memoryKiB: Int, iterations: Int)] = [
    (47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5),
  ]

  /// Creates a hasher with OWASP's default parameters: m = 19,456 KiB, t = 2, p = 1.
  ///
  /// - Parameters:
  ///   - limits: The most a stored hash may cost to verify.
  ///   - random: The salt source.
  public init(
    limits: HashCostLimits = HashCostLimits(), random: any RandomSource = SystemRandomSource()
  ) {
    self.init(
      insecureMemoryKiB: 19_456, iterations: 2, parallelism: 1, limits: limits, random: random)
  }

  /// Creates a hasher with chosen parameters, at least as strong as one of OWASP's
  /// configurations (``owaspMinimums``).
  ///
  /// - Parameters:
  ///   - memoryKiB: Memory per hash, in KiB.
  ///   - iterations: Passes over memory.
  ///   - parallelism: Lanes, computed in parallel threads.
  ///   - limits: The most a stored hash may cost to verify.
  ///   - random: The salt source.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidField``
  ///   when the parameters are weaker than every OWASP configuration or out of range.
  public init(
    memoryKiB: Int, iterations: Int, parallelism: Int = 1,
    limits: HashCostLimits = HashCostLimits(), random: any RandomSource = SystemRandomSource()
  ) throws(UserManagementError) {
    let strongEnough = Self.owaspMinimums.contains {
      memoryKiB >= $0.memoryKiB && iterations >= $0.iterations
    }
    guard strongEnough, (1...255).contains(parallelism), memoryKiB >= 8 * parallelism else {
      throw .invalidField(
        "argon2", "below_minimum",
        "Argon2id needs at least one of OWASP's configurations (for example m=19456 KiB, t=2); "
          + "use init(insecureMemoryKiB:) only in tests.")
    }
    self.init(
      insecureMemoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism,
      limits: limits, random: random)
  }

  /// Creates a hasher with any parameters, including unsafe ones. For tests only.
  ///
  /// - Parameters:
  ///   - insecureMemoryKiB: Memory per hash, in KiB (raised to at least 8 × parallelism).
  ///   - iterations: Passes (at least 1).
  ///   - parallelism: Lanes (1 to 255).
  ///   - limits: The most a stored hash may cost to verify.
  ///   - random: The salt source.
  public init(
    insecureMemoryKiB: Int, iterations: Int, parallelism: Int = 1,
    limits: HashCostLimits = HashCostLimits(), random: any RandomSource = SystemRandomSource()
  ) {
    self.parallelism = min(max(1, parallelism), 255)
    self.memoryKiB = max(insecureMemoryKiB, 8 * self.parallelism)
    self.iterations = max(1, iterations)
    self.limits = limits
    self.random = random
  }

  /// Hashes a password (after NFC normalization) with a fresh 16-byte salt.
  ///
  /// - Parameter password: The password.
  /// - Returns: The PHC string.
  /// - Throws: ``UserManagementError`` if Argon2 refuses the parameters.
  public func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
    let salt = random.bytes(16)
    let parameters = Argon2.Parameters(
      variant: .id, version: .v13, memoryKiB: memoryKiB, iterations: iterations,
      parallelism: parallelism, tagByteCount: 32)
    let tag = try Self.compute(password.nfcNormalized(), salt: salt, parameters, limits: nil)
    return PasswordHash(
      encoded: "$argon2id$v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$"
        + Base64.encode(salt, variant: .standardUnpadded) + "$"
        + Base64.encode(tag, variant: .standardUnpadded))
  }

  /// A PHC string with this hasher's parameters, a random salt and a random 32-byte tag, made
  /// without running Argon2: verifying against it costs one full Argon2id run and never
  /// succeeds (a match would need a 256-bit tag collision).
  ///
  /// - Returns: The hash.
  public func unmatchableHash() -> PasswordHash {
    PasswordHash(
      encoded: "$argon2id$v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$"
        + Base64.encode(random.bytes(16), variant: .standardUnpadded) + "$"
        + Base64.encode(random.bytes(32), variant: .standardUnpadded))
  }

  /// Checks a password against an Argon2 PHC hash.
  ///
  /// The password is tried in NFC (as this hasher stores it) and, if that fails and NFC
  /// changed it, exactly as given — the bytes another system would have hashed; a match of
  /// the raw bytes asks for a rehash.
  ///
  /// - Parameters:
  ///   - password: The password.
  ///   - hash: The stored hash.
  /// - Returns: The verdict.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   for malformed hashes, other algorithms, or costs above ``limits``.
  public func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification
  {
    let parsed = try Self.parse(hash, limits: limits)
    return try password.verifyNormalizedThenRaw(strongEnough: !isWeaker(parsed)) {
      candidate throws(UserManagementError) in
      try Self.matches(candidate, parsed, limits: limits)
    }
  }

  /// Whether `hash` is an Argon2 PHC string.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether this hasher understands its format.
  public func canVerify(_ hash: PasswordHash) -> Bool {
    hash.encoded.hasPrefix("$argon2id$") || hash.encoded.hasPrefix("$argon2i$")
      || hash.encoded.hasPrefix("$argon2d$")
  }

  /// Whether a stored Argon2 hash is weaker than the hashes this hasher makes.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether it should be replaced at the next sign-in.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   when it is not a well-formed Argon2 hash within the limits.
  public func needsRehash(_ hash: PasswordHash) throws(UserManagementError) -> Bool {
    isWeaker(try Self.parse(hash, limits: limits))
  }

  /// The algorithm and parameters of an Argon2 hash, for a census.
  func describe(_ hash: PasswordHash) throws(UserManagementError) -> (String, String) {
    let parsed = try Self.parse(hash, limits: limits)
    let p = parsed.parameters
    return (
      p.variant.rawValue,
      "v=\(p.version.rawValue),m=\(p.memoryKiB),t=\(p.iterations),p=\(p.parallelism)"
    )
  }

  private func isWeaker(_ parsed: Parsed) -> Bool {
    let p = parsed.parameters
    return p.variant != .id || p.version != .v13 || p.memoryKiB < memoryKiB
      || p.iterations < iterations || p.tagByteCount < 16 || parsed.salt.count < 16
  }

  struct Parsed {
    var parameters: Argon2.Parameters
    var salt: [UInt8]
    var tag: [UInt8]
  }

  /// Parses `$argon2<variant>$[v=<version>$]m=<KiB>,t=<passes>,p=<lanes>$<salt>$<tag>`.
  static func parse(_ hash: PasswordHash, limits: HashCostLimits) throws(UserManagementError)
    -> Parsed
  {
    func malformed(_ why: String) -> UserManagementError {
      UserManagementError(
        .unsupportedHash, "The stored Argon2 hash is malformed: \(why).",
        context: ["algorithm": hash.algorithm])
    }
    var parts = hash.encoded.split(separator: "$", omittingEmptySubsequences: false)[...]
    guard parts.count == 5 || parts.count == 6, parts.removeFirst().isEmpty,
      let variant = Argon2.Variant(rawValue: String(parts.removeFirst()))
    else {
      throw UserManagementError(
        .unsupportedHash, "The hash is not an Argon2 PHC string.",
        context: ["algorithm": hash.algorithm])
    }
    var version = Argon2.Version.v10
    if parts.count == 4 {
      let field = parts.removeFirst()
      guard field.hasPrefix("v="), let number = UInt32(field.dropFirst(2)),
        let parsed = Argon2.Version(rawValue: number)
      else { throw malformed("bad version") }
      version = parsed
    }
    guard parts.count == 3 else { throw malformed("wrong number of fields") }
    var memory: Int?
    var passes: Int?
    var lanes: Int?
    for parameter in parts.removeFirst().split(separator: ",") {
      let pair = parameter.split(separator: "=", maxSplits: 1)
      guard pair.count == 2, pair[1].utf8.count <= 10, let value = Int(pair[1]), value >= 1 else {
        throw malformed("bad parameter")
      }
      switch pair[0] {
      case "m" where memory == nil: memory = value
      case "t" where passes == nil: passes = value
      case "p" where lanes == nil: lanes = value
      default: throw malformed("unknown or repeated parameter")
      }
    }
    guard let memory, let passes, let lanes else { throw malformed("missing m, t or p") }
    let algorithm = variant.rawValue
    if memory > limits.maximumArgon2MemoryKiB {
      throw HashCostLimits.exceeded(
        "memory (KiB)", memory, limit: limits.maximumArgon2MemoryKiB, algorithm: algorithm)
    }
    if passes > limits.maximumArgon2Iterations {
      throw HashCostLimits.exceeded(
        "passes", passes, limit: limits.maximumArgon2Iterations, algorithm: algorithm)
    }
    if memory.multipliedReportingOverflow(by: passes).overflow
      || memory * passes > limits.maximumArgon2MemoryPasses
    {
      throw HashCostLimits.exceeded(
        "memory × passes (KiB)", memory.multipliedReportingOverflow(by: passes).partialValue,
        limit: limits.maximumArgon2MemoryPasses, algorithm: algorithm)
    }
    if lanes > limits.maximumArgon2Parallelism {
      throw HashCostLimits.exceeded(
        "lanes", lanes, limit: limits.maximumArgon2Parallelism, algorithm: algorithm)
    }
    guard let salt = Base64.decode(parts.removeFirst(), variant: .standardUnpadded),
      salt.count >= 8, salt.count <= 1024
    else { throw malformed("bad salt") }
    // RFC 9106 allows 4-byte tags, but a short tag is a short password hash: 16 bytes at least.
    guard let tag = Base64.decode(parts.removeFirst(), variant: .standardUnpadded),
      tag.count >= 16, tag.count <= 1024
    else { throw malformed("bad hash") }
    let parameters = Argon2.Parameters(
      variant: variant, version: version, memoryKiB: memory, iterations: passes,
      parallelism: lanes, tagByteCount: tag.count)
    return Parsed(parameters: parameters, salt: salt, tag: tag)
  }

  static func matches(_ password: Secret, _ parsed: Parsed, limits: HashCostLimits)
    throws(UserManagementError) -> Bool
  {
    let computed = try compute(password, salt: parsed.salt, parsed.parameters, limits: limits)
    return ConstantTime.equals(computed, parsed.tag)
  }

  static func compute(
    _ password: Secret, salt: [UInt8], _ parameters: Argon2.Parameters, limits: HashCostLimits?
  ) throws(UserManagementError) -> [UInt8] {
    let costLimits =
      limits.map {
        Argon2.CostLimits(
          maximumMemoryKiB: $0.maximumArgon2MemoryKiB,
          maximumIterations: $0.maximumArgon2Iterations,
          maximumParallelism: $0.maximumArgon2Parallelism)
      } ?? .unlimited
    do {
      return try password.withUnsafeBytes { bytes throws(CryptoParameterError) in
        try Argon2.hash(password: bytes, salt: salt, parameters: parameters, limits: costLimits)
      }
    } catch {
      throw UserManagementError(
        .unsupportedHash, "Argon2 refused the hash's parameters: \(error.message)",
        context: ["algorithm": parameters.variant.rawValue])
    }
  }
}
