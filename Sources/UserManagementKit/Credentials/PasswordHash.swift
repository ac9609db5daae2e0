/// A stored password hash: a self-describing string such as
/// `$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>`.
///
/// Hashes are not secrets in the way passwords are, but they allow offline guessing, so they
/// are kept out of every `description`, `dump` and error message: printing a `PasswordHash`
/// shows only its algorithm identifier.
public struct PasswordHash: Hashable, Sendable, Codable, CustomStringConvertible,
  CustomDebugStringConvertible, CustomReflectable
{
  /// The full encoded hash, for storage.
  public let encoded: String

  /// Wraps an encoded hash string as read from storage.
  ///
  /// - Parameter encoded: The encoded hash.
  public init(encoded: String) {
    self.encoded = encoded
  }

  /// The algorithm identifier: the text between the first two `$` signs of a PHC or modular
  /// crypt string (`pbkdf2-sha256`, `argon2id`, `2b` for bcrypt, …), or the prefix before the
  /// first `$` of other formats (`pbkdf2_sha256` for Django), or `unknown`. LDAP's brace
  /// schemes report their name in lowercase, whatever case the hash spells it in:
  /// `{SHA}` is `sha`, `{SSHA}` `ssha`, `{SSHA256}` `ssha256`, `{SSHA512}` `ssha512`.
  /// SHA-crypt reports `5` (`$5$`, SHA-256) or `6` (`$6$`, SHA-512), as bcrypt reports `2b`.
  /// Drupal 7's `$S$` reports `drupal-sha512`.
  ///
  /// Only an identifier in ``knownAlgorithms`` counts; anything else reads as `unknown`. An
  /// unexpected format can put hash material where the identifier belongs (`5f4dcc3b…$salt`
  /// looks like one), and the algorithm is shown in descriptions, errors, censuses and audit
  /// events, so it is never taken from the string unless it is known.
  public var algorithm: String {
    if encoded.hasPrefix("{") { return Self.braceScheme(of: encoded) ?? "unknown" }
    if encoded.hasPrefix("$S$") { return "drupal-sha512" }
    let parts = encoded.split(separator: "$", maxSplits: 2, omittingEmptySubsequences: false)
    let candidate: Substring
    if encoded.hasPrefix("$"), parts.count > 1 {
      candidate = parts[1]
    } else if parts.count > 1, !parts[0].isEmpty {
      candidate = parts[0]
    } else {
      return "unknown"
    }
    // phpass's `$P$` (WordPress) and `$H$` (phpBB3) identify one format.
    let identifier = candidate == "P" || candidate == "H" ? "phpass" : String(candidate)
    return Self.knownAlgorithms.contains(identifier) ? identifier : "unknown"
  }

  /// The lowercased name of a known `{SCHEME}` prefix, or `nil`.
  private static func braceScheme(of encoded: String) -> String? {
    let head = Array(encoded.utf8.prefix(16))
    guard let close = head.firstIndex(of: UInt8(ascii: "}")),
      head[1..<close].allSatisfy({ $0 < 0x80 })
    else { return nil }
    let name = String(decoding: head[1..<close], as: UTF8.self).lowercased()
    return braceSchemes.contains(name) ? name : nil
  }

  /// The LDAP brace schemes ``algorithm`` reports.
  private static let braceSchemes: Set<String> = ["sha", "ssha", "ssha256", "ssha512"]

  /// The algorithm identifiers ``algorithm`` reports: those of the formats the library's
  /// hashers make or verify, and of its test hasher.
  ///
  /// phpass hashes (`$P$`, `$H$`) report `phpass`; WordPress 6.8's `$wp$2y$…` reports `wp`;
  /// MD5-crypt `$1$` reports `1`; Django's `scrypt$…` and passlib's `$scrypt$…` report
  /// `scrypt`; our wrapper of Firebase's hashes, `$firebase-scrypt$…`, reports
  /// `firebase-scrypt`.
  public static let knownAlgorithms: Set<String> = [
    "argon2id", "argon2i", "argon2d", "argon2", "pbkdf2-sha256", "pbkdf2-sha512", "pbkdf2",
    "pbkdf2_sha256", "pbkdf2_sha1", "bcrypt", "bcrypt_sha256", "2a", "2b", "2x", "2y",
    "umk-token-hmac-sha256", "insecure-sha256", "sha", "ssha", "ssha256", "ssha512", "5", "6",
    "drupal-sha512",
    "phpass", "wp", "1", "scrypt", "firebase-scrypt",
  ]

  /// `PasswordHash(<algorithm>, redacted)`.
  public var description: String { "PasswordHash(\(algorithm), redacted)" }
  /// Same as ``description``.
  public var debugDescription: String { description }
  /// A mirror that shows only the algorithm.
  public var customMirror: Mirror {
    Mirror(self, children: ["algorithm": algorithm], displayStyle: .struct)
  }

  /// Decodes the encoded string.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a string.
  public init(from decoder: any Decoder) throws {
    encoded = try decoder.singleValueContainer().decode(String.self)
  }

  /// Encodes the encoded string (for storage formats; never for display).
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(encoded)
  }
}
