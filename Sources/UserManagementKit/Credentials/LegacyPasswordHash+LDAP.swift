import UMKCrypto

extension LegacyPasswordHash {
  /// An LDAP `userPassword` value in RFC 2307's `{scheme}value` form, as OpenLDAP's slapd
  /// (`slappasswd`) and 389 Directory Server write it: `{SHA}` is the base64 of the password's
  /// SHA-1 digest; `{SSHA}`, `{SSHA256}` and `{SSHA512}` are the base64 of
  /// `digest(password · salt) · salt`, with SHA-1, SHA-256 and SHA-512.
  ///
  /// Both servers write the scheme name in uppercase and match it regardless of case, so any
  /// case is accepted here (`{ssha}`, `{Ssha256}`). The salt is whatever follows the digest:
  /// OpenLDAP writes 4 bytes, 389-ds 8 or 16, passlib 4 to 16; 1 to 64 bytes are accepted.
  struct LDAPHash {
    /// The storage scheme.
    enum Scheme: String, CaseIterable {
      case sha, ssha, ssha256, ssha512

      /// The census and error name, such as `ldap-ssha`.
      var format: String { "ldap-" + rawValue }

      /// Whether a salt follows the digest.
      var isSalted: Bool { self != .sha }

      /// The length of the digest in bytes.
      var digestByteCount: Int {
        switch self {
        case .sha, .ssha: Insecure.SHA1.digestByteCount
        case .ssha256: SHA256.digestByteCount
        case .ssha512: SHA512.digestByteCount
        }
      }

      /// The digest of `password · salt`.
      func digest(_ password: UnsafeRawBufferPointer, salt: [UInt8]) -> [UInt8] {
        switch self {
        case .sha, .ssha: Self.digest(Insecure.SHA1.self, password, salt)
        case .ssha256: Self.digest(SHA256.self, password, salt)
        case .ssha512: Self.digest(SHA512.self, password, salt)
        }
      }

      private static func digest<H: HashFunction>(
        _: H.Type, _ password: UnsafeRawBufferPointer, _ salt: [UInt8]
      ) -> [UInt8] {
        var hasher = H()
        hasher.update(password)
        hasher.update(salt)
        return hasher.finalize().bytes
      }
    }

    /// The most salt accepted after the digest, in bytes.
    static let maximumSaltByteCount = 64

    /// The scheme.
    let scheme: Scheme
    /// The stored digest.
    let digest: [UInt8]
    /// The salt; empty for `{SHA}`.
    let salt: [UInt8]

    /// Whether `password`'s bytes, with the salt, give the stored digest (compared in
    /// constant time).
    func matches(_ password: UnsafeRawBufferPointer) -> Bool {
      ConstantTime.equals(scheme.digest(password, salt: salt), digest)
    }
  }

  /// `{SCHEME}<standard base64>`. Returns `nil` for a brace scheme this library does not
  /// verify (such as `{CRYPT}` or `{MD5}`), so it reads as an unknown format.
  static func parseLDAP(_ encoded: String) throws(UserManagementError) -> LegacyPasswordHash? {
    let bytes = Array(encoded.utf8.prefix(16))
    // ASCII only: Unicode lowercasing maps some other characters (KELVIN SIGN) to ASCII.
    guard let close = bytes.firstIndex(of: UInt8(ascii: "}")),
      bytes[1..<close].allSatisfy({ $0 < 0x80 })
    else { return nil }
    let name = String(decoding: bytes[1..<close], as: UTF8.self).lowercased()
    guard let scheme = LDAPHash.Scheme(rawValue: name) else { return nil }
    let format = scheme.format
    let value = encoded.utf8.dropFirst(close + 1)
    let longest = (scheme.digestByteCount + LDAPHash.maximumSaltByteCount + 2) / 3 * 4
    guard value.count <= longest, let blob = Base64.decode(ascii: Array(value), variant: .standard)
    else { throw malformed(format, "not base64 of the expected length") }
    let digestCount = scheme.digestByteCount
    if scheme.isSalted {
      guard blob.count > digestCount,
        blob.count - digestCount <= LDAPHash.maximumSaltByteCount
      else { throw malformed(format, "bad salt length") }
    } else {
      guard blob.count == digestCount else { throw malformed(format, "bad digest length") }
    }
    return .ldap(
      LDAPHash(
        scheme: scheme, digest: Array(blob[..<digestCount]), salt: Array(blob[digestCount...])))
  }
}
