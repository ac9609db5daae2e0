import UMKCrypto

// Firebase's modified scrypt, in our `$firebase-scrypt$<base64 salt>$<base64 hash>` wrapper.

extension LegacyPasswordHash {
  /// A Firebase scrypt hash with the project parameters it is checked with.
  struct FirebaseScryptHash {
    /// The user's salt.
    let salt: [UInt8]
    /// The stored hash: the signer key encrypted under the password's derived key.
    let hash: [UInt8]
    /// The project's parameters.
    let parameters: FirebaseScryptParameters

    /// The scrypt parameters, for the cost limits.
    var scrypt: ScryptHash {
      ScryptHash(
        format: "firebase-scrypt", costFactor: 1 << parameters.memoryCost,
        blockSize: parameters.rounds, parallelism: 1, salt: salt + parameters.saltSeparator,
        key: hash)
    }
  }

  /// `$firebase-scrypt$<standard base64 salt>$<standard base64 hash>` (padded or not), checkable only with
  /// the project's parameters.
  static func parseFirebaseScrypt(
    _ encoded: String, firebase: FirebaseScryptParameters?, limits: HashCostLimits
  ) throws(UserManagementError) -> LegacyPasswordHash {
    let format = "firebase-scrypt"
    let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0].isEmpty else {
      throw malformed2(format, "wrong number of fields")
    }
    // Padded or not: the migration reader writes it unpadded, a host may have padded it.
    func decode(_ text: Substring) -> [UInt8]? {
      Base64.decode(text, variant: .standard) ?? Base64.decode(text, variant: .standardUnpadded)
    }
    guard let salt = decode(parts[2]), !salt.isEmpty,
      salt.count <= 1024
    else { throw malformed2(format, "bad salt") }
    guard let hash = decode(parts[3]), !hash.isEmpty else {
      throw malformed2(format, "bad hash")
    }
    guard let firebase else {
      throw UserManagementError(
        .unsupportedHash,
        "Firebase scrypt hashes need the project's hash parameters "
          + "(MigratingPasswordHasher(firebase:)).",
        context: ["algorithm": format, "reason": "missing_parameters"])
    }
    guard hash.count == firebase.signerKey.count else {
      throw malformed2(format, "hash and signer key lengths differ")
    }
    let parsed = FirebaseScryptHash(salt: salt, hash: hash, parameters: firebase)
    try checkScrypt(parsed.scrypt, limits: limits)
    return .firebaseScrypt(parsed)
  }

  /// Derives the key with scrypt, encrypts the signer key with it and compares in constant
  /// time.
  static func verifyFirebaseScrypt(
    _ password: UnsafeRawBufferPointer, _ hash: FirebaseScryptHash, limits: HashCostLimits
  ) throws(UserManagementError) -> Bool {
    let scrypt = hash.scrypt
    try checkScrypt(scrypt, limits: limits)
    do {
      var key = try Scrypt.deriveKey(
        password: password, salt: scrypt.salt, costFactor: scrypt.costFactor,
        blockSize: scrypt.blockSize, parallelism: 1, keyByteCount: 32,
        maximumMemoryBytes: min(limits.maximumScryptMemoryBytes, Int.max / 4) * 2 + 64)
      defer { for index in key.indices { key[index] = 0 } }
      let computed = try AES256.CTR.crypt(
        key: key, iv: [UInt8](repeating: 0, count: 16), bytes: hash.parameters.signerKey)
      return ConstantTime.equals(computed, hash.hash)
    } catch {
      throw UserManagementError(
        .unsupportedHash, "scrypt refused the stored hash's parameters: \(error.message)",
        context: ["algorithm": "firebase-scrypt"])
    }
  }
}
