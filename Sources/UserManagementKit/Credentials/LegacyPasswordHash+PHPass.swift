import UMKCrypto

// phpass portable hashes (`$P$`, WordPress before 6.8; `$H$`, phpBB3), WordPress 6.8's
// `$wp$` bcrypt, and the pieces MD5-crypt shares with phpass.

extension LegacyPasswordHash {
  /// A phpass "portable" hash: `$P$` or `$H$`, one itoa64 character for log2 of the iteration
  /// count (7…30), an 8-character salt and 22 characters of the 16-byte MD5 digest.
  struct PHPassHash {
    /// `P` (WordPress, passlib) or `H` (phpBB3).
    let identifier: Character
    /// log2 of the number of MD5 iterations after the first.
    let log2Iterations: Int
    /// The 8 salt characters, as bytes.
    let salt: [UInt8]
    /// The 16-byte digest.
    let digest: [UInt8]
  }

  /// Recognizes phpass and WordPress 6.8 hashes; `nil` for anything else. This file's formats
  /// and MD5-crypt's and scrypt's (with Firebase's) are tried from here, to keep ``parse(_:limits:firebase:)`` short.
  static func parseFormats2(
    _ encoded: String, limits: HashCostLimits, firebase: FirebaseScryptParameters?
  ) throws(UserManagementError) -> LegacyPasswordHash? {
    if encoded.hasPrefix("$P$") || encoded.hasPrefix("$H$") {
      return try parsePHPass(encoded, limits: limits)
    }
    if encoded.hasPrefix("$wp$") {
      return try parseWordPressBcrypt(encoded, limits: limits)
    }
    if encoded.hasPrefix("$1$") { return try parseMD5Crypt(encoded) }
    if encoded.hasPrefix("scrypt$") || encoded.hasPrefix("$scrypt$") {
      return try parseScrypt(encoded, limits: limits)
    }
    if encoded.hasPrefix("$firebase-scrypt$") {
      return try parseFirebaseScrypt(encoded, firebase: firebase, limits: limits)
    }
    return nil
  }

  /// Checks the password against one of the formats ``parseFormats2(_:limits:firebase:)`` recognizes.
  func verifyFormats2(_ password: Secret, limits: HashCostLimits) throws(UserManagementError)
    -> Bool
  {
    switch self {
    case .phpass(let hash):
      if hash.log2Iterations > limits.maximumPHPassLog2Iterations {
        throw HashCostLimits.exceeded(
          "log2 iterations", hash.log2Iterations, limit: limits.maximumPHPassLog2Iterations,
          algorithm: "phpass")
      }
      // phpBB3 (`$H$`) hashes the password as typed; WordPress trims it.
      let trims = hash.identifier == "P"
      try password.withUnsafeBytes { bytes throws(UserManagementError) in
        // WordPress's second try, without surrounding whitespace, is a second pass: the
        // ceiling bounds both together, before either runs.
        let passes = trims && PHPTrim.range(of: bytes).count != bytes.count ? 2 : 1
        try HashCostLimits.checkPerRoundWork(
          rounds: (1 << hash.log2Iterations) * passes, passwordByteCount: bytes.count,
          limit: HashCostLimits.powerOfTwo(limits.maximumPHPassLog2Iterations), algorithm: "phpass")
      }
      return try Self.verifyTrimmingLikeWordPress(password, trims: trims) { bytes in
        ConstantTime.equals(Self.phpassDigest(bytes, hash), hash.digest)
      }
    case .wordPressBcrypt(let hash):
      return try Self.verifyTrimmingLikeWordPress(password, trims: true) {
        bytes throws(UserManagementError) in
        do throws(CryptoParameterError) {
          return try BCrypt.verify(
            password: Self.wordPressPrehash(bytes), against: hash,
            maximumCost: limits.maximumBcryptCost)
        } catch {
          throw UserManagementError(
            .unsupportedHash, "bcrypt refused the stored hash: \(error.message)",
            context: ["algorithm": "wordpress-bcrypt"])
        }
      }
    case .md5Crypt(let hash):
      return password.withUnsafeBytes { bytes in
        ConstantTime.equals(Self.md5CryptDigest(bytes, hash), hash.digest)
      }
    case .scrypt(let hash):
      return try password.withUnsafeBytes { bytes throws(UserManagementError) in
        try Self.verifyScrypt(bytes, hash, limits: limits)
      }
    case .firebaseScrypt(let hash):
      return try password.withUnsafeBytes { bytes throws(UserManagementError) in
        try Self.verifyFirebaseScrypt(bytes, hash, limits: limits)
      }
    default:
      return false
    }
  }

  /// The census name and parameters of one of the formats ``parseFormats2(_:limits:firebase:)``
  /// recognizes.
  func describeFormats2() -> (String, String) {
    switch self {
    case .phpass(let hash): ("phpass", "id=\(hash.identifier),log2=\(hash.log2Iterations)")
    case .wordPressBcrypt(let hash): ("wordpress-bcrypt", "\(hash.variant),cost=\(hash.cost)")
    case .md5Crypt(let hash): ("md5-crypt", "salt=\(hash.salt.count)")
    case .scrypt(let hash):
      (hash.format, "N=\(hash.costFactor),r=\(hash.blockSize),p=\(hash.parallelism)")
    case .firebaseScrypt(let hash):
      ("firebase-scrypt", "r=\(hash.parameters.rounds),memCost=\(hash.parameters.memoryCost)")
    default: ("unknown", "")
    }
  }

  /// `$P$<count><8-char salt><22-char hash>`, 34 characters.
  private static func parsePHPass(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash
  {
    let format = "phpass"
    let bytes = Array(encoded.utf8)
    guard bytes.count == 34 else { throw malformed2(format, "wrong length") }
    guard let log2 = CryptBase64.value(of: bytes[3]), (7...30).contains(log2) else {
      throw malformed2(format, "bad iteration count")
    }
    if log2 > limits.maximumPHPassLog2Iterations {
      throw HashCostLimits.exceeded(
        "log2 iterations", log2, limit: limits.maximumPHPassLog2Iterations, algorithm: format)
    }
    let salt = Array(bytes[4..<12])
    guard salt.allSatisfy({ CryptBase64.value(of: $0) != nil }) else {
      throw malformed2(format, "bad salt")
    }
    guard let digest = CryptBase64.decode(Array(bytes[12...]), byteCount: 16) else {
      throw malformed2(format, "bad hash")
    }
    return .phpass(
      PHPassHash(
        identifier: bytes[1] == UInt8(ascii: "P") ? "P" : "H", log2Iterations: log2,
        salt: salt, digest: digest))
  }

  /// `$wp$2y$10$…`: WordPress 6.8 prefixes `$wp` to a bcrypt string of the password's
  /// pre-hash (see ``wordPressPrehash(_:)``).
  private static func parseWordPressBcrypt(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash
  {
    let format = "wordpress-bcrypt"
    let parsed: BCrypt.ParsedHash
    do {
      parsed = try BCrypt.ParsedHash(parsing: encoded.dropFirst("$wp".count))
    } catch {
      throw malformed2(format, error.message)
    }
    if parsed.cost > limits.maximumBcryptCost {
      throw HashCostLimits.exceeded(
        "cost", parsed.cost, limit: limits.maximumBcryptCost, algorithm: format)
    }
    return .wordPressBcrypt(parsed)
  }

  static func malformed2(_ format: String, _ why: String) -> UserManagementError {
    UserManagementError(
      .unsupportedHash, "The stored \(format) hash is malformed: \(why).",
      context: ["algorithm": format])
  }

  /// Checks the raw bytes and then, for WordPress's `$P$` and `$wp$`, the bytes without
  /// surrounding whitespace: WordPress hashes `trim($password)` and trims what is typed at
  /// sign-in (`wp_authenticate`), so a user whose password ended in a space signed in there.
  static func verifyTrimmingLikeWordPress(
    _ password: Secret, trims: Bool,
    _ check: (UnsafeRawBufferPointer) throws(UserManagementError) -> Bool
  ) throws(UserManagementError) -> Bool {
    try password.withUnsafeBytes { bytes throws(UserManagementError) in
      if try check(bytes) { return true }
      guard trims else { return false }
      let trimmed = PHPTrim.range(of: bytes)
      guard trimmed.count != bytes.count else { return false }
      return try check(UnsafeRawBufferPointer(rebasing: bytes[trimmed]))
    }
  }

  /// phpass's `crypt_private`: MD5(salt ‖ password), then 2^log2 times MD5(digest ‖ password).
  static func phpassDigest(_ password: UnsafeRawBufferPointer, _ hash: PHPassHash) -> [UInt8] {
    var md5 = Insecure.MD5()
    md5.update(hash.salt)
    md5.update(password)
    var digest = md5.finalize().bytes
    for _ in 0..<(1 << hash.log2Iterations) {
      var round = Insecure.MD5()
      round.update(digest)
      round.update(password)
      digest = round.finalize().bytes
    }
    return digest
  }

  /// WordPress 6.8's pre-hash: standard base64 of HMAC-SHA-384 keyed with `wp-sha384`, 64
  /// ASCII characters (under bcrypt's 72-byte limit).
  static func wordPressPrehash(_ password: UnsafeRawBufferPointer) -> [UInt8] {
    var hmac = HMAC<SHA384>(key: Array("wp-sha384".utf8))
    hmac.update(password)
    return Array(Base64.encode(hmac.finalize().bytes, variant: .standard).utf8)
  }
}

/// PHP's `trim()` default set: space, tab, line feed, carriage return, NUL, vertical tab.
enum PHPTrim {
  /// The range of `bytes` without leading and trailing characters of the set.
  static func range(of bytes: UnsafeRawBufferPointer) -> Range<Int> {
    func isTrimmed(_ byte: UInt8) -> Bool {
      byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x00
        || byte == 0x0B
    }
    var start = 0
    var end = bytes.count
    while start < end, isTrimmed(bytes[start]) { start += 1 }
    while end > start, isTrimmed(bytes[end - 1]) { end -= 1 }
    return start..<end
  }
}
