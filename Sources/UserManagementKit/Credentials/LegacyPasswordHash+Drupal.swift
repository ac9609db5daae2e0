import UMKCrypto

extension LegacyPasswordHash {
  /// A Drupal 7 password hash (`user_hash_password`, also verified by later Drupal versions):
  /// `$S$`, one character giving log₂ of the iteration count, an 8-character salt, then the
  /// first 43 characters of the digest's encoding, 55 characters in all.
  ///
  /// The digest is phpass's scheme with SHA-512: `h = SHA-512(salt · password)`, then
  /// 2^log₂ times `h = SHA-512(h · password)`, encoded in phpass's base64 (alphabet
  /// `./0-9A-Za-z`, bytes read as little-endian groups of three). Drupal allows log₂ from 7 to
  /// 30 and refuses passwords longer than 512 bytes, so those never match;
  /// ``HashCostLimits/maximumDrupalHashCountLog2`` bounds the count.
  struct DrupalHash {
    /// The census and error name.
    static let format = "drupal7-sha512"
    /// The smallest log₂ of the iteration count Drupal accepts.
    static let minimumCountLog2 = 7
    /// The largest log₂ of the iteration count Drupal accepts.
    static let maximumCountLog2 = 30
    /// Drupal's `DRUPAL_MAX_PASSWORD_LENGTH`, in bytes.
    static let maximumPasswordByteCount = 512
    /// The stored length of the whole hash.
    static let length = 55

    /// log₂ of the iteration count.
    let countLog2: Int
    /// The salt's 8 characters.
    let salt: [UInt8]
    /// The stored 43 characters of the digest's encoding.
    let checksum: [UInt8]

    /// Whether `password`'s bytes give the stored checksum (compared in constant time).
    func matches(_ password: UnsafeRawBufferPointer) -> Bool {
      guard password.count <= Self.maximumPasswordByteCount else { return false }
      var first = SHA512()
      first.update(salt)
      first.update(password)
      var digest = first.finalize().bytes
      for _ in 0..<(1 << countLog2) {
        var next = SHA512()
        next.update(digest)
        next.update(password)
        digest = next.finalize().bytes
      }
      let encoded = CryptBase64.encodeLittleEndian(digest).prefix(checksum.count)
      return ConstantTime.equals(Array(encoded), checksum)
    }
  }

  /// `$S$<count character><8-character salt><43 characters>`.
  static func parseDrupal(_ encoded: String, limits: HashCostLimits)
    throws(UserManagementError) -> LegacyPasswordHash
  {
    let format = DrupalHash.format
    let bytes = Array(encoded.utf8.prefix(DrupalHash.length + 1))
    guard bytes.count == DrupalHash.length else { throw malformed(format, "wrong length") }
    guard CryptBase64.isEncoded(bytes[3...]) else { throw malformed(format, "bad characters") }
    guard let countLog2 = CryptBase64.value(of: bytes[3]),
      (DrupalHash.minimumCountLog2...DrupalHash.maximumCountLog2).contains(countLog2)
    else { throw malformed(format, "iteration count outside 2^7 to 2^30") }
    if countLog2 > limits.maximumDrupalHashCountLog2 {
      throw HashCostLimits.exceeded(
        "log2 of the iteration count", countLog2, limit: limits.maximumDrupalHashCountLog2,
        algorithm: format)
    }
    return .drupal(
      DrupalHash(countLog2: countLog2, salt: Array(bytes[4..<12]), checksum: Array(bytes[12...])))
  }
}
