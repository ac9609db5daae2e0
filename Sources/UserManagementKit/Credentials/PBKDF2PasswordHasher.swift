import UMKCrypto

/// Password hashing with PBKDF2-HMAC-SHA256 or -SHA512 (RFC 8018), for hosts bound to
/// FIPS 140-approved algorithms.
///
/// Hashes are PHC strings: `$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>`, with a 16-byte
/// random salt and standard base64 without padding. Passwords are normalized to Unicode NFC
/// before hashing.
///
/// The default iteration counts are OWASP's 2023 recommendations: 600,000 for SHA-256 and
/// 220,000 for SHA-512. Lower counts are refused unless the hasher is created with
/// ``init(insecureIterations:variant:random:)``, which exists for tests.
public struct PBKDF2PasswordHasher: PasswordHasher {
  /// The PRF.
  public enum Variant: String, Hashable, Sendable, CaseIterable {
    /// HMAC-SHA256, 32-byte output.
    case sha256 = "pbkdf2-sha256"
    /// HMAC-SHA512, 64-byte output.
    case sha512 = "pbkdf2-sha512"

    /// The OWASP minimum iteration count.
    public var minimumIterations: Int {
      switch self {
      case .sha256: 600_000
      case .sha512: 220_000
      }
    }

    var keyByteCount: Int {
      switch self {
      case .sha256: 32
      case .sha512: 64
      }
    }
  }

  /// The PRF of new hashes.
  public let variant: Variant
  /// The iteration count of new hashes.
  public let iterations: Int
  /// The highest iteration count ``verify(_:against:)`` accepts in a stored hash; a hash
  /// asking for more is refused as too costly rather than computed.
  public var maximumIterations: Int
  private let random: any RandomSource

  /// Creates a hasher with the OWASP iteration count for the variant: 600,000 for SHA-256,
  /// 220,000 for SHA-512.
  ///
  /// - Parameters:
  ///   - variant: The PRF (default SHA-256).
  ///   - random: The salt source.
  public init(variant: Variant = .sha256, random: any RandomSource = SystemRandomSource()) {
    self.init(insecureIterations: variant.minimumIterations, variant: variant, random: random)
  }

  /// Creates a hasher with a chosen iteration count, at least the OWASP minimum.
  ///
  /// - Parameters:
  ///   - variant: The PRF (default SHA-256).
  ///   - iterations: The iteration count.
  ///   - random: The salt source.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidField``
  ///   when `iterations` is below the minimum.
  public init(
    variant: Variant = .sha256, iterations: Int, random: any RandomSource = SystemRandomSource()
  ) throws(UserManagementError) {
    guard iterations >= variant.minimumIterations else {
      throw .invalidField(
        "iterations", "below_minimum",
        "\(variant.rawValue) needs at least \(variant.minimumIterations) iterations; use "
          + "init(insecureIterations:) only in tests.")
    }
    self.init(insecureIterations: iterations, variant: variant, random: random)
  }

  /// Creates a hasher with any iteration count, including unsafe ones. For tests only: hashes
  /// made this way are cheap to crack.
  ///
  /// - Parameters:
  ///   - insecureIterations: The iteration count (at least 1).
  ///   - variant: The PRF.
  ///   - random: The salt source.
  public init(
    insecureIterations: Int, variant: Variant = .sha256,
    random: any RandomSource = SystemRandomSource()
  ) {
    self.variant = variant
    self.iterations = max(1, insecureIterations)
    self.maximumIterations = max(10_000_000, self.iterations)
    self.random = random
  }

  /// Hashes a password (after NFC normalization) with a fresh 16-byte salt.
  ///
  /// - Parameter password: The password.
  /// - Returns: The PHC string.
  /// - Throws: ``UserManagementError`` if PBKDF2 rejects the parameters.
  public func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
    let salt = random.bytes(16)
    let key = try derive(password.nfcNormalized(), salt: salt, iterations: iterations, variant)
    return PasswordHash(
      encoded: "$\(variant.rawValue)$i=\(iterations),l=\(key.count)$"
        + Base64.encode(salt, variant: .standardUnpadded) + "$"
        + Base64.encode(key, variant: .standardUnpadded))
  }

  /// A PHC string with this hasher's variant and iteration count, a random salt and a random
  /// key of the variant's digest length, made without running PBKDF2: verifying against it
  /// costs one full derivation and never succeeds.
  ///
  /// - Returns: The hash.
  public func unmatchableHash() -> PasswordHash {
    let keyLength = variant == .sha256 ? 32 : 64
    return PasswordHash(
      encoded: "$\(variant.rawValue)$i=\(iterations),l=\(keyLength)$"
        + Base64.encode(random.bytes(16), variant: .standardUnpadded) + "$"
        + Base64.encode(random.bytes(keyLength), variant: .standardUnpadded))
  }

  /// Checks a password against a `$pbkdf2-sha256$` or `$pbkdf2-sha512$` PHC hash.
  ///
  /// The password is tried in NFC (as this hasher stores it) and, if that fails and NFC
  /// changed it, exactly as given; a match of the raw bytes asks for a rehash.
  ///
  /// - Parameters:
  ///   - password: The password.
  ///   - hash: The stored hash.
  /// - Returns: ``PasswordVerification/validNeedsRehash`` when the stored hash uses another
  ///   variant or fewer iterations than this hasher.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   for malformed hashes, other algorithms, or iteration counts above
  ///   ``maximumIterations``.
  public func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification
  {
    let parsed = try Self.parse(hash, maximumIterations: maximumIterations)
    return try password.verifyNormalizedThenRaw(strongEnough: !isWeaker(parsed)) {
      candidate throws(UserManagementError) in
      try matches(candidate, parsed)
    }
  }

  /// Whether `hash` is a `$pbkdf2-sha256$` or `$pbkdf2-sha512$` PHC string with `i=` and `l=`
  /// parameters (passlib's form, with a bare round count, is a legacy format).
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether this hasher understands its format.
  public func canVerify(_ hash: PasswordHash) -> Bool {
    (hash.encoded.hasPrefix("$pbkdf2-sha256$i=") || hash.encoded.hasPrefix("$pbkdf2-sha512$i="))
  }

  /// Whether a stored PBKDF2 hash uses another PRF or fewer iterations than this hasher.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether it should be replaced at the next sign-in.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   for malformed hashes.
  public func needsRehash(_ hash: PasswordHash) throws(UserManagementError) -> Bool {
    isWeaker(try Self.parse(hash, maximumIterations: maximumIterations))
  }

  /// The algorithm and parameters of a PBKDF2 hash, for a census.
  func describe(_ hash: PasswordHash) throws(UserManagementError) -> (String, String) {
    let parsed = try Self.parse(hash, maximumIterations: maximumIterations)
    return (parsed.variant.rawValue, "i=\(parsed.iterations),l=\(parsed.key.count)")
  }

  private func isWeaker(_ parsed: Parsed) -> Bool {
    parsed.variant != variant || parsed.iterations < iterations
  }

  private func matches(_ password: Secret, _ parsed: Parsed) throws(UserManagementError) -> Bool {
    let key = try derive(
      password, salt: parsed.salt, iterations: parsed.iterations, parsed.variant,
      keyByteCount: parsed.key.count)
    return ConstantTime.equals(key, parsed.key)
  }

  struct Parsed {
    var variant: Variant
    var iterations: Int
    var salt: [UInt8]
    var key: [UInt8]
  }

  static func parse(_ hash: PasswordHash, maximumIterations: Int) throws(UserManagementError)
    -> Parsed
  {
    func malformed(_ why: String) -> UserManagementError {
      UserManagementError(
        .unsupportedHash, "The stored PBKDF2 hash is malformed: \(why).",
        context: ["algorithm": hash.algorithm])
    }
    let parts = hash.encoded.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 5, parts[0].isEmpty, let variant = Variant(rawValue: String(parts[1]))
    else {
      throw UserManagementError(
        .unsupportedHash, "The hash is not a PBKDF2 PHC string.",
        context: ["algorithm": hash.algorithm])
    }
    var iterations: Int?
    var length: Int?
    for parameter in parts[2].split(separator: ",") {
      let pair = parameter.split(separator: "=", maxSplits: 1)
      guard pair.count == 2, pair[1].utf8.count <= 10, let value = Int(pair[1]) else {
        throw malformed("bad parameter")
      }
      switch pair[0] {
      case "i" where iterations == nil: iterations = value
      case "l" where length == nil: length = value
      default: throw malformed("unknown or repeated parameter")
      }
    }
    guard let iterations, iterations >= 1 else { throw malformed("missing iteration count") }
    guard iterations <= maximumIterations else {
      throw UserManagementError(
        .unsupportedHash,
        "The stored hash asks for \(iterations) iterations, above the ceiling of "
          + "\(maximumIterations).", context: ["algorithm": hash.algorithm])
    }
    guard let salt = Base64.decode(parts[3], variant: .standardUnpadded), salt.count >= 8,
      salt.count <= 64
    else { throw malformed("bad salt") }
    guard let key = Base64.decode(parts[4], variant: .standardUnpadded), key.count >= 16,
      key.count <= 128, length == nil || length == key.count
    else { throw malformed("bad hash") }
    try HashCostLimits.checkPBKDF2Work(
      iterations: iterations, keyLength: key.count,
      digestLength: variant == .sha256 ? 32 : 64, limit: maximumIterations,
      algorithm: hash.algorithm)
    return Parsed(variant: variant, iterations: iterations, salt: salt, key: key)
  }

  private func derive(
    _ password: Secret, salt: [UInt8], iterations: Int, _ variant: Variant,
    keyByteCount: Int? = nil
  ) throws(UserManagementError) -> [UInt8] {
    let length = keyByteCount ?? variant.keyByteCount
    do {
      return try password.withUnsafeBytes { bytes throws(CryptoParameterError) in
        switch variant {
        case .sha256:
          try PBKDF2.deriveKey(
            password: bytes, salt: salt, iterations: iterations, keyByteCount: length,
            hashFunction: SHA256.self)
        case .sha512:
          try PBKDF2.deriveKey(
            password: bytes, salt: salt, iterations: iterations, keyByteCount: length,
            hashFunction: SHA512.self)
        }
      }
    } catch {
      throw UserManagementError(
        .unsupportedHash, "PBKDF2 refused its parameters: \(error.message)")
    }
  }
}
