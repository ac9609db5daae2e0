import UMKCrypto

/// A password hash written by another system, which the directory can verify (so users keep
/// their passwords through a migration) but never produces.
///
/// Each is checked against the password's bytes exactly as the old system saw them: UTF-8,
/// without Unicode normalization. Formats, byte-exact with what those systems write:
///
/// | format | example |
/// |---|---|
/// | Django PBKDF2 | `pbkdf2_sha256$870000$<salt text>$<base64 key>` (also `pbkdf2_sha1`) |
/// | Django Argon2 | `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` |
/// | passlib PBKDF2 | `$pbkdf2-sha256$29000$<ab64 salt>$<ab64 key>` (also `-sha512`, `$pbkdf2$` = SHA-1) |
/// | ASP.NET Core Identity v2 | base64 of `0x00 · salt(16) · key(32)`, PBKDF2-HMAC-SHA1, 1,000 iterations |
/// | ASP.NET Core Identity v3 | base64 of `0x01 · prf · iterations · salt length · salt · key` (big-endian) |
/// | bcrypt | `$2b$12$<22-char salt><31-char hash>` (also `$2a$`, `$2y$`) |
/// | Django bcrypt | `bcrypt$$2b$12$…`, and `bcrypt_sha256$$2b$12$…` (bcrypt of the SHA-256 hex digest) |
/// | LDAP (RFC 2307 `userPassword`) | `{SSHA}<base64 of SHA-1(password · salt) · salt>`, also `{SHA}` (unsalted), `{SSHA256}`, `{SSHA512}`; scheme names in any case |
/// | SHA-crypt (glibc crypt(3), `/etc/shadow`) | `$5$rounds=N$<salt>$<43 chars>` (SHA-256), `$6$…$<86 chars>` (SHA-512); `rounds=` optional (5,000) |
/// | Drupal 7 | `$S$<log2 count><8-char salt><43 chars>`: iterated SHA-512, the first 55 characters |
/// | phpass (WordPress before 6.8, phpBB3) | `$P$B<8-char salt><22 chars>`, `$H$…`: iterated MD5 |
/// | WordPress 6.8 | `$wp$2y$10$…`: bcrypt of base64(HMAC-SHA-384 of the password, key `wp-sha384`) |
/// | MD5-crypt | `$1$<salt>$<22 chars>` |
/// | scrypt | Django's `scrypt$N$<salt>$r$p$<base64>`, passlib's `$scrypt$ln=…,r=…,p=…$<salt>$<hash>` |
/// | Firebase scrypt | our wrapper `$firebase-scrypt$<base64 salt>$<base64 hash>`, with the project's ``FirebaseScryptParameters`` |
///
/// The LDAP, SHA-crypt and Drupal families live in `LegacyPasswordHash+LDAP.swift`,
/// `+SHACrypt.swift` and `+Drupal.swift`; phpass, WordPress, MD5-crypt, scrypt and Firebase in
/// `+PHPass.swift`, `+MD5Crypt.swift`, `+Scrypt.swift` and `+Firebase.swift`.
///
/// Argon2 PHC strings from libargon2/argon2-cffi are verified by ``Argon2PasswordHasher``.
enum LegacyPasswordHash {
  case pbkdf2(format: String, prf: PRF, iterations: Int, salt: [UInt8], key: [UInt8])
  case djangoArgon2(PasswordHash)
  case bcrypt(format: String, hash: BCrypt.ParsedHash, prehashSHA256: Bool)
  case ldap(LDAPHash)
  case shaCrypt(SHACryptHash)
  case drupal(DrupalHash)
  case phpass(PHPassHash)
  case wordPressBcrypt(BCrypt.ParsedHash)
  case md5Crypt(MD5CryptHash)
  case scrypt(ScryptHash)
  case firebaseScrypt(FirebaseScryptHash)

  enum PRF: String {
    case sha1, sha256, sha512

    var digestByteCount: Int {
      switch self {
      case .sha1: 20
      case .sha256: 32
      case .sha512: 64
      }
    }
  }

  /// The format's name, for censuses and errors.
  var format: String {
    switch self {
    case .pbkdf2(let format, _, _, _, _): format
    case .djangoArgon2: "django-argon2"
    case .bcrypt(let format, _, _): format
    case .ldap(let hash): hash.scheme.format
    case .shaCrypt(let hash): hash.variant.format
    case .drupal: DrupalHash.format
    case .phpass, .wordPressBcrypt, .md5Crypt, .scrypt, .firebaseScrypt: describeFormats2().0
    }
  }

  /// Recognizes a legacy format. Returns `nil` when `hash` is in none of them; throws when it
  /// is in one but malformed or too costly.
  static func parse(
    _ hash: PasswordHash, limits: HashCostLimits, firebase: FirebaseScryptParameters? = nil
  ) throws(UserManagementError) -> LegacyPasswordHash? {
    let encoded = hash.encoded
    if encoded.hasPrefix("{") { return try parseLDAP(encoded) }
    if encoded.hasPrefix("$5$") || encoded.hasPrefix("$6$") {
      return try parseSHACrypt(encoded, limits: limits)
    }
    if encoded.hasPrefix("$S$") { return try parseDrupal(encoded, limits: limits) }
    if let hash = try parseFormats2(encoded, limits: limits, firebase: firebase) { return hash }
    if encoded.hasPrefix("pbkdf2_sha256$") || encoded.hasPrefix("pbkdf2_sha1$") {
      return try parseDjangoPBKDF2(encoded, limits: limits)
    }
    if encoded.hasPrefix("$2") {
      return try parseBcrypt(encoded, format: "bcrypt", prehash: false, limits: limits)
    }
    if encoded.hasPrefix("bcrypt$$2") {
      return try parseBcrypt(
        String(encoded.dropFirst("bcrypt$".count)), format: "django-bcrypt", prehash: false,
        limits: limits)
    }
    if encoded.hasPrefix("bcrypt_sha256$$2") {
      return try parseBcrypt(
        String(encoded.dropFirst("bcrypt_sha256$".count)), format: "django-bcrypt_sha256",
        prehash: true, limits: limits)
    }
    if encoded.hasPrefix("argon2$argon2") {
      let phc = PasswordHash(encoded: String(encoded.dropFirst("argon2".count)))
      _ = try Argon2PasswordHasher.parse(phc, limits: limits)
      return .djangoArgon2(phc)
    }
    if encoded.hasPrefix("$pbkdf2-sha256$") || encoded.hasPrefix("$pbkdf2-sha512$")
      || encoded.hasPrefix("$pbkdf2$")
    {
      return try parsePasslib(encoded, limits: limits)
    }
    if !encoded.contains("$"), encoded.utf8.count <= 1024,
      let blob = Base64.decode(encoded, variant: .standard)
    {
      return try parseASPNetIdentity(blob, limits: limits)
    }
    return nil
  }

  /// Checks the password's raw bytes.
  func verify(_ password: Secret, limits: HashCostLimits) throws(UserManagementError) -> Bool {
    switch self {
    case .pbkdf2(_, let prf, let iterations, let salt, let key):
      let derived = try password.withUnsafeBytes { bytes throws(UserManagementError) in
        try Self.derive(bytes, prf: prf, salt: salt, iterations: iterations, length: key.count)
      }
      return ConstantTime.equals(derived, key)
    case .djangoArgon2(let phc):
      let parsed = try Argon2PasswordHasher.parse(phc, limits: limits)
      return try Argon2PasswordHasher.matches(password, parsed, limits: limits)
    case .bcrypt(let format, let hash, let prehash):
      do {
        return try password.withUnsafeBytes { bytes throws(CryptoParameterError) in
          if prehash {
            // Django's BCryptSHA256PasswordHasher: bcrypt of the lowercase hex SHA-256 digest.
            let hex = Array(Hex.encode(SHA256.hash(bytes)).utf8)
            return try BCrypt.verify(
              password: hex, against: hash, maximumCost: limits.maximumBcryptCost)
          }
          return try BCrypt.verify(
            password: bytes, against: hash, maximumCost: limits.maximumBcryptCost)
        }
      } catch {
        throw UserManagementError(
          .unsupportedHash, "bcrypt refused the stored hash: \(error.message)",
          context: ["algorithm": format])
      }
    case .ldap(let hash):
      return password.withUnsafeBytes { hash.matches($0) }
    case .shaCrypt(let hash):
      return try password.withUnsafeBytes { bytes throws(UserManagementError) in
        // Before its rounds, SHA-crypt hashes the password once per byte of it: a password
        // longer than the rounds costs more in that step than in all the rounds.
        try HashCostLimits.checkPerRoundWork(
          rounds: max(hash.rounds, bytes.count), passwordByteCount: bytes.count,
          limit: limits.maximumSHACryptRounds, algorithm: hash.variant.format)
        return hash.matches(bytes)
      }
    case .drupal(let hash):
      return try password.withUnsafeBytes { bytes throws(UserManagementError) in
        // A password Drupal would refuse never matches, at no cost.
        guard bytes.count <= DrupalHash.maximumPasswordByteCount else { return false }
        try HashCostLimits.checkPerRoundWork(
          rounds: 1 << hash.countLog2, passwordByteCount: bytes.count,
          limit: HashCostLimits.powerOfTwo(limits.maximumDrupalHashCountLog2),
          algorithm: DrupalHash.format)
        return hash.matches(bytes)
      }
    case .phpass, .wordPressBcrypt, .md5Crypt, .scrypt, .firebaseScrypt:
      return try verifyFormats2(password, limits: limits)
    }
  }

  /// The algorithm and parameters, for a census.
  func describe(limits: HashCostLimits) -> (String, String) {
    switch self {
    case .pbkdf2(let format, let prf, let iterations, let salt, let key):
      return (format, "prf=\(prf.rawValue),i=\(iterations),salt=\(salt.count),l=\(key.count)")
    case .djangoArgon2(let phc):
      let parsed = try? Argon2PasswordHasher.parse(phc, limits: limits)
      let p = parsed?.parameters
      return (
        "django-argon2",
        p.map {
          "\($0.variant.rawValue),v=\($0.version.rawValue),m=\($0.memoryKiB),t=\($0.iterations),p=\($0.parallelism)"
        } ?? "?"
      )
    case .bcrypt(let format, let hash, _):
      return (format, "\(hash.variant),cost=\(hash.cost)")
    case .ldap(let hash):
      return (hash.scheme.format, "salt=\(hash.salt.count)")
    case .shaCrypt(let hash):
      return (hash.variant.format, "rounds=\(hash.rounds),salt=\(hash.salt.count)")
    case .drupal(let hash):
      return (DrupalHash.format, "log2=\(hash.countLog2)")
    case .phpass, .wordPressBcrypt, .md5Crypt, .scrypt, .firebaseScrypt: return describeFormats2()
    }
  }

  // MARK: Formats

  static func malformed(_ format: String, _ why: String) -> UserManagementError {
    UserManagementError(
      .unsupportedHash, "The stored \(format) hash is malformed: \(why).",
      context: ["algorithm": format])
  }

  private static func checkIterations(_ iterations: Int, format: String, limits: HashCostLimits)
    throws(UserManagementError)
  {
    guard iterations >= 1 else { throw malformed(format, "bad iteration count") }
    if iterations > limits.maximumPBKDF2Iterations {
      throw HashCostLimits.exceeded(
        "iterations", iterations, limit: limits.maximumPBKDF2Iterations, algorithm: format)
    }
  }

  /// `pbkdf2_sha256$<iterations>$<salt text>$<standard base64 key>`.
  private static func parseDjangoPBKDF2(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash
  {
    let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
    let format = "django-" + (parts.first.map(String.init) ?? "pbkdf2")
    guard parts.count == 4 else { throw malformed(format, "wrong number of fields") }
    let prf: PRF = parts[0] == "pbkdf2_sha1" ? .sha1 : .sha256
    guard parts[1].utf8.count <= 10, let iterations = Int(parts[1]) else {
      throw malformed(format, "bad iteration count")
    }
    try checkIterations(iterations, format: format, limits: limits)
    guard !parts[2].isEmpty, parts[2].utf8.count <= 256 else {
      throw malformed(format, "bad salt")
    }
    guard let key = Base64.decode(parts[3], variant: .standard),
      key.count == prf.digestByteCount
    else { throw malformed(format, "bad hash") }
    return .pbkdf2(
      format: format, prf: prf, iterations: iterations, salt: Array(parts[2].utf8), key: key)
  }

  /// `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 key>`, passlib's adapted base64.
  private static func parsePasslib(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash?
  {
    let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 5, parts[0].isEmpty else {
      throw malformed("passlib-pbkdf2", "wrong number of fields")
    }
    // Our own PHC form (`i=…,l=…`) is not passlib's.
    guard let first = parts[2].utf8.first, first >= 0x30 && first <= 0x39 else { return nil }
    let prf: PRF
    switch parts[1] {
    case "pbkdf2": prf = .sha1
    case "pbkdf2-sha256": prf = .sha256
    default: prf = .sha512
    }
    let format = "passlib-" + parts[1]
    guard parts[2].utf8.count <= 10, let iterations = Int(parts[2]) else {
      throw malformed(format, "bad round count")
    }
    try checkIterations(iterations, format: format, limits: limits)
    guard let salt = Base64.decode(parts[3], variant: .passlibAdapted), !salt.isEmpty,
      salt.count <= 1024
    else {
      throw malformed(format, "bad salt")
    }
    guard let key = Base64.decode(parts[4], variant: .passlibAdapted),
      key.count == prf.digestByteCount
    else { throw malformed(format, "bad checksum") }
    return .pbkdf2(format: format, prf: prf, iterations: iterations, salt: salt, key: key)
  }

  /// `$2a$`, `$2b$` or `$2y$` modular-crypt bcrypt, bounded by the cost limit.
  private static func parseBcrypt(
    _ encoded: String, format: String, prehash: Bool, limits: HashCostLimits
  ) throws(UserManagementError) -> LegacyPasswordHash {
    let parsed: BCrypt.ParsedHash
    do {
      parsed = try BCrypt.ParsedHash(parsing: encoded)
    } catch {
      throw malformed(format, error.message)
    }
    if parsed.cost > limits.maximumBcryptCost {
      throw HashCostLimits.exceeded(
        "cost", parsed.cost, limit: limits.maximumBcryptCost, algorithm: format)
    }
    return .bcrypt(format: format, hash: parsed, prehashSHA256: prehash)
  }

  /// ASP.NET Core Identity's `PasswordHasher` blobs, version 2 and 3.
  private static func parseASPNetIdentity(_ blob: [UInt8], limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash?
  {
    guard let marker = blob.first else { return nil }
    switch marker {
    case 0x00:
      guard blob.count == 1 + 16 + 32 else {
        throw malformed("aspnet-identity-v2", "wrong length")
      }
      return .pbkdf2(
        format: "aspnet-identity-v2", prf: .sha1, iterations: 1000,
        salt: Array(blob[1..<17]), key: Array(blob[17...]))
    case 0x01:
      let format = "aspnet-identity-v3"
      guard blob.count >= 13 else { throw malformed(format, "too short") }
      func uint32(at offset: Int) -> Int {
        blob[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
      }
      let prf: PRF
      switch uint32(at: 1) {
      case 0: prf = .sha1
      case 1: prf = .sha256
      case 2: prf = .sha512
      default: throw malformed(format, "unknown PRF")
      }
      let iterations = uint32(at: 5)
      try checkIterations(iterations, format: format, limits: limits)
      let saltLength = uint32(at: 9)
      // Compared by subtraction, so a huge length cannot overflow. The key is at least 16
      // and at most 64 bytes: longer keys only multiply the work of a check.
      let keyLength = blob.count - 13 - saltLength
      guard saltLength >= 16, saltLength <= blob.count - 13, (16...64).contains(keyLength) else {
        throw malformed(format, "bad salt or key length")
      }
      try HashCostLimits.checkPBKDF2Work(
        iterations: iterations, keyLength: keyLength, digestLength: prf.digestByteCount,
        limit: limits.maximumPBKDF2Iterations, algorithm: format)
      return .pbkdf2(
        format: format, prf: prf, iterations: iterations,
        salt: Array(blob[13..<13 + saltLength]), key: Array(blob[(13 + saltLength)...]))
    default:
      return nil
    }
  }

  private static func derive(
    _ password: UnsafeRawBufferPointer, prf: PRF, salt: [UInt8], iterations: Int, length: Int
  ) throws(UserManagementError) -> [UInt8] {
    do {
      switch prf {
      case .sha1:
        return try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: length,
          hashFunction: Insecure.SHA1.self)
      case .sha256:
        return try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: length,
          hashFunction: SHA256.self)
      case .sha512:
        return try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: length,
          hashFunction: SHA512.self)
      }
    } catch {
      throw UserManagementError(
        .unsupportedHash, "PBKDF2 refused the stored hash's parameters: \(error.message)")
    }
  }
}
