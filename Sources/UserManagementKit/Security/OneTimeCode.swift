import UMKCrypto

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// How an authenticator computes its codes (TOTP, RFC 6238).
///
/// The default — HMAC-SHA1, 6 digits, 30 seconds — is what every authenticator app supports;
/// SHA-256, SHA-512 and 8 digits are understood by fewer.
public struct OneTimeCodeParameters: Hashable, Sendable, Codable {
  /// The HMAC hash function.
  public enum Algorithm: String, Hashable, Sendable, Codable, CaseIterable {
    /// HMAC-SHA1, the default and the most widely supported.
    case sha1 = "SHA1"
    /// HMAC-SHA256.
    case sha256 = "SHA256"
    /// HMAC-SHA512.
    case sha512 = "SHA512"
  }

  /// The hash function.
  public let algorithm: Algorithm
  /// The number of digits: 6 or 8.
  public let digits: Int
  /// The time step in seconds: 15–300.
  public let period: Int

  /// Creates parameters; out-of-range values are clamped to the nearest valid one.
  ///
  /// - Parameters:
  ///   - algorithm: The hash function (default SHA-1).
  ///   - digits: 6 or 8 (default 6; any other value becomes 6).
  ///   - period: The time step in seconds (default 30, clamped to 15–300).
  public init(algorithm: Algorithm = .sha1, digits: Int = 6, period: Int = 30) {
    self.algorithm = algorithm
    self.digits = digits == 8 ? 8 : 6
    self.period = min(300, max(15, period))
  }

  /// The parameters every authenticator app supports.
  public static let standard = OneTimeCodeParameters()

  private enum CodingKeys: String, CodingKey {
    case algorithm, digits, period
  }

  /// Decodes parameters through ``init(algorithm:digits:period:)``, so decoded values are
  /// clamped like constructed ones.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` for missing or malformed fields.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      algorithm: try container.decode(Algorithm.self, forKey: .algorithm),
      digits: try container.decode(Int.self, forKey: .digits),
      period: try container.decode(Int.self, forKey: .period))
  }

  var hash: OneTimePassword.Algorithm {
    switch algorithm {
    case .sha1: .sha1
    case .sha256: .sha256
    case .sha512: .sha512
    }
  }

  /// The time step containing `time`.
  func step(at time: Date) -> UInt64 {
    let seconds = time.timeIntervalSince1970
    guard seconds > 0, seconds < 1e15, period > 0 else { return 0 }
    return UInt64(seconds) / UInt64(period)
  }

  /// The code for `step`, zero-padded (`nil` for an empty secret, which matches nothing).
  func code(secret: [UInt8], step: UInt64) -> [UInt8]? {
    guard
      let value = try? OneTimePassword.code(
        key: secret, counter: step, digits: digits, algorithm: hash)
    else { return nil }
    var digitsOut = [UInt8](repeating: 0x30, count: digits)
    var remaining = value
    for index in stride(from: digits - 1, through: 0, by: -1) {
      digitsOut[index] = 0x30 + UInt8(remaining % 10)
      remaining /= 10
    }
    return digitsOut
  }

  /// The step of the window (one step either side of now, for clock skew) whose code is
  /// `presented`, if it is later than `lastUsed`. Every candidate is compared, in constant
  /// time, so the time taken does not say which step matched.
  func matchingStep(
    _ presented: [UInt8], secret: [UInt8], at time: Date, after lastUsed: UInt64?
  ) -> UInt64? {
    guard presented.count == digits else { return nil }
    let now = step(at: time)
    var found: UInt64?
    for candidate in [now &- 1, now, now &+ 1] where candidate <= now &+ 1 {
      if let expected = code(secret: secret, step: candidate),
        ConstantTime.equals(expected, presented),
        lastUsed.map({ candidate > $0 }) ?? true
      {
        found = candidate
      }
    }
    return found
  }

  /// The digits of a typed code, with spaces removed, or `nil` if it is not all digits.
  static func normalize(_ typed: String) -> [UInt8]? {
    let bytes = typed.utf8.filter { $0 != 0x20 }
    guard bytes.count <= 16, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return Array(bytes)
  }
}

/// Recovery codes: ten single-use codes of 16 characters (80 bits) from an alphabet without
/// look-alikes, shown once as `xxxx-xxxx-xxxx-xxxx` and stored as keyed hashes.
enum RecoveryCode {
  static let count = 10
  static let length = 16
  /// Crockford's base32 alphabet, lowercase: no i, l, o or u.
  private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

  static func generate(random: any RandomSource) -> Secret {
    var indices = random.secretIndices(length, below: 32)
    defer { indices.withUnsafeMutableBytes { Platform.secureZero($0) } }
    var text: [UInt8] = []
    for (position, index) in indices.enumerated() {
      if position > 0 && position % 4 == 0 { text.append(0x2D) }
      text.append(alphabet[index])
    }
    defer { Platform.secureZero(bytes: &text) }
    return Secret(bytes: text)
  }

  /// The canonical form of a typed code: lowercase, without separators, with look-alikes
  /// mapped (`o` → `0`, `i`/`l` → `1`); `nil` if it cannot be a recovery code.
  static func normalize(_ typed: Secret) -> Secret? {
    typed.withUnsafeBytes { bytes -> Secret? in
      guard bytes.count <= 64 else { return nil }
      var out: [UInt8] = []
      out.reserveCapacity(length)
      for var byte in bytes where byte != 0x2D && byte != 0x20 {
        if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
        switch byte {
        case UInt8(ascii: "o"): byte = UInt8(ascii: "0")
        case UInt8(ascii: "i"), UInt8(ascii: "l"): byte = UInt8(ascii: "1")
        default: break
        }
        guard alphabet.contains(byte) else { return nil }
        out.append(byte)
      }
      defer { Platform.secureZero(bytes: &out) }
      return out.count == length ? Secret(bytes: out) : nil
    }
  }
}
