import UMKCrypto

/// Generates API passwords: high-entropy tokens that secret scanners can recognize.
///
/// A token reads `umk_` + 30 random base62 characters + a 6-character checksum, such as
/// `umk_4Fq…Zp0aB3x9`. The random part carries 30 × log2(62) ≈ 178 bits of entropy. The
/// checksum is CRC-32 of the prefix and random part, in base62, so a scanner or the directory
/// can reject a mistyped or truncated token without any lookup.
///
/// Because a generated token is far beyond guessing, it is stored with a fast keyed hash
/// (`$umk-token-hmac-sha256$<salt>$<mac>`: HMAC-SHA256 keyed with a random 16-byte salt)
/// rather than a slow password hash; verification costs microseconds.
public struct APIPasswordGenerator: Sendable {
  /// The recognizable prefix, such as `umk_`.
  public let prefix: String
  private let random: any RandomSource

  static let randomLength = 30
  static let checksumLength = 6
  static let hashAlgorithm = "umk-token-hmac-sha256"
  private static let tokenHashPrefix = Array("$umk-token-hmac-sha256$".utf8)
  private static let base62 = Array(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  /// Creates a generator.
  ///
  /// - Parameters:
  ///   - prefix: The recognizable prefix: 2–16 ASCII letters, digits or `_`, ending in `_`
  ///     (default `umk_`). Anything else falls back to `umk_`.
  ///   - random: The randomness source.
  public init(prefix: String = "umk_", random: any RandomSource = SystemRandomSource()) {
    let valid =
      (2...16).contains(prefix.utf8.count) && prefix.hasSuffix("_")
      && prefix.utf8.allSatisfy { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
          || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
      }
    self.prefix = valid ? prefix : "umk_"
    self.random = random
  }

  /// Generates a new token.
  ///
  /// - Returns: The token, to be shown once to whoever asked for it.
  public func generate() -> Secret {
    // One buffer, reserved at its final size and wiped after use: no growth leaves a copy of
    // the token's characters behind in freed memory.
    var bytes: [UInt8] = []
    bytes.reserveCapacity(prefix.utf8.count + Self.randomLength + Self.checksumLength)
    bytes.append(contentsOf: prefix.utf8)
    var indices = random.secretIndices(Self.randomLength, below: 62)
    for index in indices { bytes.append(Self.base62[index]) }
    indices.withUnsafeMutableBytes { Platform.secureZero($0) }
    var checksum = Self.checksum(of: bytes)
    bytes.append(contentsOf: checksum)
    Platform.secureZero(bytes: &checksum)
    let token = Secret(bytes: bytes)
    Platform.secureZero(bytes: &bytes)
    return token
  }

  /// Whether `secret` has this generator's token shape (prefix, length, base62 characters).
  /// A secret of this shape is treated as a generated token.
  ///
  /// - Parameter secret: A presented API password.
  /// - Returns: Whether it looks like a generated token.
  public func looksLikeToken(_ secret: Secret) -> Bool {
    secret.withUnsafeBytes { bytes in
      let prefixBytes = Array(prefix.utf8)
      guard bytes.count == prefixBytes.count + Self.randomLength + Self.checksumLength,
        bytes.starts(with: prefixBytes)
      else { return false }
      return bytes.dropFirst(prefixBytes.count).allSatisfy { Self.base62.contains($0) }
    }
  }

  /// Whether a token-shaped secret's checksum is right, so typos are refused before any
  /// lookup.
  ///
  /// - Parameter secret: A presented API password.
  /// - Returns: Whether it is a well-formed token with a correct checksum.
  public func hasValidChecksum(_ secret: Secret) -> Bool {
    guard looksLikeToken(secret) else { return false }
    return secret.withUnsafeBytes { bytes in
      var expected = Self.checksum(of: bytes.dropLast(Self.checksumLength))
      defer { Platform.secureZero(bytes: &expected) }
      return ConstantTime.equals(expected, bytes.suffix(Self.checksumLength))
    }
  }

  /// Hashes a generated token with a fast keyed hash.
  ///
  /// - Parameter token: The token.
  /// - Returns: `$umk-token-hmac-sha256$<salt>$<mac>`.
  public func hash(_ token: Secret) -> PasswordHash {
    let salt = random.bytes(16)
    let mac = token.withUnsafeBytes { bytes in
      Array(HMAC<SHA256>.authenticationCode(for: bytes, using: salt))
    }
    return PasswordHash(
      encoded: "$\(Self.hashAlgorithm)$" + Base64.encode(salt, variant: .standardUnpadded) + "$"
        + Base64.encode(mac, variant: .standardUnpadded))
  }

  /// Whether `hash` is a token hash made by ``hash(_:)``.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether it is a token hash.
  public static func isTokenHash(_ hash: PasswordHash) -> Bool {
    hash.algorithm == hashAlgorithm
  }

  /// Checks a token against a token hash in constant time.
  ///
  /// - Parameters:
  ///   - token: The presented token.
  ///   - hash: The stored token hash.
  /// - Returns: Whether they match.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   when the hash is malformed.
  public static func verify(_ token: Secret, against hash: PasswordHash)
    throws(UserManagementError) -> Bool
  {
    // Parsed on the UTF-8 bytes: this runs on every API request, and splitting the string
    // costs more than the keyed hash itself.
    let utf8 = hash.encoded.utf8
    let body = utf8.dropFirst(tokenHashPrefix.count)
    let separator = body.firstIndex(of: UInt8(ascii: "$"))
    guard utf8.starts(with: tokenHashPrefix), let separator,
      let salt = Base64.decode(ascii: Array(body[..<separator]), variant: .standardUnpadded),
      salt.count == 16,
      let mac = Base64.decode(
        ascii: Array(body[body.index(after: separator)...]), variant: .standardUnpadded),
      mac.count == 32
    else {
      throw UserManagementError(
        .unsupportedHash, "The stored API password hash is malformed.",
        context: ["algorithm": hash.algorithm])
    }
    return token.withUnsafeBytes { bytes in
      HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: salt)
    }
  }

  static func checksum(of bytes: some Collection<UInt8>) -> [UInt8] {
    var value = CRC32.checksum(bytes)
    var digits = [UInt8](repeating: base62[0], count: checksumLength)
    for index in stride(from: checksumLength - 1, through: 0, by: -1) {
      digits[index] = base62[Int(value % 62)]
      value /= 62
    }
    return digits
  }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as used by zlib and by the
/// checksums of well-known token formats.
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 {
      value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1
    }
    return value
  }

  static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }
    return crc ^ 0xFFFF_FFFF
  }
}
