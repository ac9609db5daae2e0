import UMKCrypto

// scrypt hashes: Django's ScryptPasswordHasher and passlib's `$scrypt$`.

extension LegacyPasswordHash {
  /// A parsed scrypt hash.
  struct ScryptHash {
    /// `django-scrypt` or `passlib-scrypt`.
    let format: String
    /// The cost parameter N, a power of 2.
    let costFactor: Int
    /// The block size r.
    let blockSize: Int
    /// The parallelism p.
    let parallelism: Int
    /// The salt, as hashed (Django: the salt text's bytes).
    let salt: [UInt8]
    /// The derived key (64 bytes for Django, 32 for passlib).
    let key: [UInt8]
  }

  /// Django's `scrypt$<N>$<salt text>$<r>$<p>$<base64 key>` or passlib's
  /// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<base64 salt>$<base64 key>` (standard alphabet,
  /// unpadded).
  static func parseScrypt(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash
  {
    let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
    func decimal(_ text: Substring) -> Int? {
      guard (1...10).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
      else { return nil }
      return Int(text)
    }
    let hash: ScryptHash
    if encoded.hasPrefix("scrypt$") {
      let format = "django-scrypt"
      guard parts.count == 6 else { throw malformed2(format, "wrong number of fields") }
      guard let n = decimal(parts[1]), let r = decimal(parts[3]), let p = decimal(parts[4])
      else { throw malformed2(format, "bad parameters") }
      guard !parts[2].isEmpty, parts[2].utf8.count <= 256 else {
        throw malformed2(format, "bad salt")
      }
      guard let key = Base64.decode(parts[5], variant: .standard), key.count == 64 else {
        throw malformed2(format, "bad hash")
      }
      hash = ScryptHash(
        format: format, costFactor: n, blockSize: r, parallelism: p, salt: Array(parts[2].utf8),
        key: key)
    } else {
      let format = "passlib-scrypt"
      guard parts.count == 5, parts[0].isEmpty else {
        throw malformed2(format, "wrong number of fields")
      }
      let settings = parts[2].split(separator: ",", omittingEmptySubsequences: false)
      guard settings.count == 3, settings[0].hasPrefix("ln="), settings[1].hasPrefix("r="),
        settings[2].hasPrefix("p="), let log2 = decimal(settings[0].dropFirst(3)),
        (1...62).contains(log2), let r = decimal(settings[1].dropFirst(2)),
        let p = decimal(settings[2].dropFirst(2))
      else { throw malformed2(format, "bad parameters") }
      guard let salt = Base64.decode(parts[3], variant: .standardUnpadded), !salt.isEmpty,
        salt.count <= 1024
      else { throw malformed2(format, "bad salt") }
      guard let key = Base64.decode(parts[4], variant: .standardUnpadded), key.count == 32 else {
        throw malformed2(format, "bad hash")
      }
      hash = ScryptHash(
        format: format, costFactor: 1 << log2, blockSize: r, parallelism: p, salt: salt, key: key)
    }
    try checkScrypt(hash, limits: limits)
    return .scrypt(hash)
  }

  /// Refuses impossible parameters, then memory and work above the limits, before any work.
  ///
  /// Memory is 128 × r × (N + p) bytes: the V array and the p blocks PBKDF2 hands to the lanes
  /// (both allocated at once); work is N × r × p.
  static func checkScrypt(_ hash: ScryptHash, limits: HashCostLimits) throws(UserManagementError) {
    let n = hash.costFactor
    let r = hash.blockSize
    let p = hash.parallelism
    guard n > 1, n & (n - 1) == 0, r >= 1, p >= 1 else {
      throw malformed2(hash.format, "bad parameters")
    }
    let (blocks, overflow1) = n.addingReportingOverflow(p)
    let (blockBytes, overflow2) = r.multipliedReportingOverflow(by: 128)
    let (memory, overflow3) = blocks.multipliedReportingOverflow(by: blockBytes)
    if overflow1 || overflow2 || overflow3 || memory > limits.maximumScryptMemoryBytes {
      throw HashCostLimits.exceeded(
        "memory (bytes)", overflow1 || overflow2 || overflow3 ? Int.max : memory,
        limit: limits.maximumScryptMemoryBytes, algorithm: hash.format)
    }
    let (nr, overflow4) = n.multipliedReportingOverflow(by: r)
    let (work, overflow5) = nr.multipliedReportingOverflow(by: p)
    if overflow4 || overflow5 || work > limits.maximumScryptWork {
      throw HashCostLimits.exceeded(
        "work (N × r × p)", overflow4 || overflow5 ? Int.max : work,
        limit: limits.maximumScryptWork, algorithm: hash.format)
    }
  }

  /// scrypt of the password with the hash's parameters, compared in constant time.
  static func verifyScrypt(
    _ password: UnsafeRawBufferPointer, _ hash: ScryptHash, limits: HashCostLimits
  ) throws(UserManagementError) -> Bool {
    try checkScrypt(hash, limits: limits)
    do {
      // Beside the 128·r·(N + p) bytes checked above, scrypt takes two mixing blocks and the
      // Salsa20/8 state: 256·r + 64 bytes, which 128·r·(N + p) (N ≥ 2) bounds.
      let derived = try Scrypt.deriveKey(
        password: password, salt: hash.salt, costFactor: hash.costFactor,
        blockSize: hash.blockSize, parallelism: hash.parallelism, keyByteCount: hash.key.count,
        maximumMemoryBytes: min(limits.maximumScryptMemoryBytes, Int.max / 4) * 2 + 64)
      return ConstantTime.equals(derived, hash.key)
    } catch {
      throw UserManagementError(
        .unsupportedHash, "scrypt refused the stored hash's parameters: \(error.message)",
        context: ["algorithm": hash.format])
    }
  }
}
