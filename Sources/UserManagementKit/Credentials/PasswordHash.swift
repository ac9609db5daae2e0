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

  /// The algorithm identifier: the text between the first two `$` signs of a PHC string
  /// (`pbkdf2-sha256`, `argon2id`, …), or the prefix before the first `$` of other formats
  /// (`pbkdf2_sha256` for Django), or `unknown`.
  ///
  /// Only a short identifier of lowercase letters, digits, `-` and `_` counts; anything else
  /// (which could be hash material in an unexpected format) reads as `unknown`, so the
  /// algorithm can be shown in descriptions, errors and audit events safely.
  public var algorithm: String {
    let parts = encoded.split(separator: "$", maxSplits: 2, omittingEmptySubsequences: false)
    let candidate: Substring
    if encoded.hasPrefix("$"), parts.count > 1 {
      candidate = parts[1]
    } else if parts.count > 1, !parts[0].isEmpty {
      candidate = parts[0]
    } else {
      return "unknown"
    }
    let isIdentifier =
      (1...32).contains(candidate.utf8.count)
      && candidate.utf8.allSatisfy { byte in
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
          || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
      }
    return isIdentifier ? String(candidate) : "unknown"
  }

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
