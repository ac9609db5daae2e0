import UMKCrypto

// MD5-crypt, `$1$` (Poul-Henning Kamp's FreeBSD scheme, also in glibc and /etc/shadow).

extension LegacyPasswordHash {
  /// An MD5-crypt hash: `$1$<salt, 0 to 8 characters>$<22 characters>`, 1,000 fixed rounds.
  struct MD5CryptHash {
    /// The salt characters, as bytes.
    let salt: [UInt8]
    /// The 16-byte digest, in MD5's order.
    let digest: [UInt8]
  }

  /// The order in which MD5-crypt writes the digest's bytes: each group of three is written
  /// as one 24-bit number, lowest six bits first, which is crypt base64 of the group reversed.
  private static let md5CryptByteOrder = [12, 6, 0, 13, 7, 1, 14, 8, 2, 15, 9, 3, 5, 10, 4, 11]

  /// `$1$<salt>$<hash>`.
  static func parseMD5Crypt(_ encoded: String) throws(UserManagementError) -> LegacyPasswordHash {
    let format = "md5-crypt"
    let parts = Array(encoded.utf8).split(
      separator: UInt8(ascii: "$"), omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0].isEmpty, parts[1].elementsEqual("1".utf8) else {
      throw malformed2(format, "wrong number of fields")
    }
    guard parts[2].count <= 8, parts[2].allSatisfy({ CryptBase64.value(of: $0) != nil }) else {
      throw malformed2(format, "bad salt")
    }
    guard let permuted = CryptBase64.decode(Array(parts[3]), byteCount: 16) else {
      throw malformed2(format, "bad hash")
    }
    var digest = [UInt8](repeating: 0, count: 16)
    for (position, index) in md5CryptByteOrder.enumerated() { digest[index] = permuted[position] }
    return .md5Crypt(MD5CryptHash(salt: Array(parts[2]), digest: digest))
  }

  /// MD5-crypt's digest of `password`.
  static func md5CryptDigest(_ password: UnsafeRawBufferPointer, _ hash: MD5CryptHash)
    -> [UInt8]
  {
    let salt = hash.salt
    var alternate = Insecure.MD5()
    alternate.update(password)
    alternate.update(salt)
    alternate.update(password)
    let alternateDigest = alternate.finalize().bytes

    var md5 = Insecure.MD5()
    md5.update(password)
    md5.update(Array("$1$".utf8))
    md5.update(salt)
    var remaining = password.count
    while remaining > 0 {
      md5.update(alternateDigest.prefix(min(16, remaining)))
      remaining -= 16
    }
    // One byte for each bit of the length, lowest first: NUL for a 1, the first password byte
    // for a 0 (the historical quirk every implementation keeps).
    var length = password.count
    while length > 0 {
      md5.update(CollectionOfOne(length & 1 == 1 ? 0 : password[0]))
      length >>= 1
    }
    var digest = md5.finalize().bytes
    for round in 0..<1000 {
      var next = Insecure.MD5()
      if round & 1 == 1 { next.update(password) } else { next.update(digest) }
      if round % 3 != 0 { next.update(salt) }
      if round % 7 != 0 { next.update(password) }
      if round & 1 == 1 { next.update(digest) } else { next.update(password) }
      digest = next.finalize().bytes
    }
    return digest
  }
}
