import UMKCrypto

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The bearer tokens the directory issues: password-reset and e-mail-verification tokens,
/// sign-in challenges and API keys.
///
/// A token reads `<prefix><user><key>?<random><checksum>`:
/// - a prefix that says what it is (`umk_reset_`, `umk_verify_`, `umk_2fa_`, `umk_key_`), so
///   secret scanners can recognise a leaked one;
/// - the user's identifier (and, for API keys, the key's) as 22 base62 characters each, so the
///   directory finds the one record to check without an index of tokens;
/// - 30 random base62 characters (≈ 178 bits) — the only secret part;
/// - a 6-character CRC-32 checksum in base62, so typos and truncations are refused before any
///   lookup.
///
/// Only a keyed hash of the whole token is stored (the same `$umk-token-hmac-sha256$` scheme as
/// generated API passwords): the identifiers in a token are not secret.
enum SecurityToken {
  enum Kind {
    case passwordReset, emailVerification, signInChallenge, apiKey

    var prefix: [UInt8] {
      switch self {
      case .passwordReset: Array("umk_reset_".utf8)
      case .emailVerification: Array("umk_verify_".utf8)
      case .signInChallenge: Array("umk_2fa_".utf8)
      case .apiKey: Array("umk_key_".utf8)
      }
    }

    var carriesKeyID: Bool { self == .apiKey }

    var length: Int {
      prefix.count + SecurityToken.idLength * (carriesKeyID ? 2 : 1)
        + APIPasswordGenerator.randomLength + APIPasswordGenerator.checksumLength
    }
  }

  struct Parsed {
    var user: UserID
    var key: APIKeyID?
  }

  static let idLength = 22

  private static let base62 = Array(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  /// A new token of `kind` for `user`.
  static func make(
    _ kind: Kind, user: UserID, key: APIKeyID? = nil, random: any RandomSource
  ) -> Secret {
    var bytes = kind.prefix
    bytes.append(contentsOf: encode(user.rawValue))
    if kind.carriesKeyID, let key { bytes.append(contentsOf: encode(key.rawValue)) }
    var indices = random.secretIndices(APIPasswordGenerator.randomLength, below: 62)
    bytes.append(contentsOf: indices.map { base62[$0] })
    indices.withUnsafeMutableBytes { Platform.secureZero($0) }
    bytes.append(contentsOf: APIPasswordGenerator.checksum(of: bytes))
    let token = Secret(bytes: bytes)
    Platform.secureZero(bytes: &bytes)
    return token
  }

  /// The identifiers of a well-formed token of `kind` with a correct checksum, or `nil`.
  static func parse(_ token: Secret, as kind: Kind) -> Parsed? {
    token.withUnsafeBytes { bytes -> Parsed? in
      let prefix = kind.prefix
      guard bytes.count == kind.length, bytes.starts(with: prefix) else { return nil }
      for index in prefix.count..<bytes.count where decodeDigit(bytes[index]) == nil {
        return nil
      }
      // The checksum is not secret (it is computed from the token's public shape), so it is
      // compared directly, without a copy.
      let checksumStart = bytes.count - APIPasswordGenerator.checksumLength
      let expected = APIPasswordGenerator.checksum(
        of: UnsafeRawBufferPointer(rebasing: bytes[..<checksumStart]))
      guard expected.elementsEqual(bytes[checksumStart...]) else { return nil }
      let userStart = prefix.count
      guard let user = decode(bytes[userStart..<userStart + idLength]) else { return nil }
      var key: APIKeyID?
      if kind.carriesKeyID {
        guard let id = decode(bytes[userStart + idLength..<userStart + 2 * idLength]) else {
          return nil
        }
        key = APIKeyID(rawValue: id)
      }
      return Parsed(user: UserID(rawValue: user), key: key)
    }
  }

  /// The stored form of a token: a keyed hash with a random 16-byte key.
  static func hash(_ token: Secret, random: any RandomSource) -> PasswordHash {
    APIPasswordGenerator(random: random).hash(token)
  }

  /// Whether `token` matches a stored hash; malformed hashes match nothing.
  static func matches(_ token: Secret, _ hash: PasswordHash) -> Bool {
    (try? APIPasswordGenerator.verify(token, against: hash)) == true
  }

  private static func encode(_ uuid: UUID) -> [UInt8] {
    var value = uuid.bits
    var digits = [UInt8](repeating: base62[0], count: idLength)
    for index in stride(from: idLength - 1, through: 0, by: -1) {
      digits[index] = base62[Int(value % 62)]
      value /= 62
    }
    return digits
  }

  private static func decode(_ digits: some Collection<UInt8>) -> UUID? {
    var value: UInt128 = 0
    for digit in digits {
      guard let number = decodeDigit(digit) else { return nil }
      let (shifted, overflow) = value.multipliedReportingOverflow(by: 62)
      let (sum, carry) = shifted.addingReportingOverflow(UInt128(number))
      guard !overflow, !carry else { return nil }
      value = sum
    }
    return UUID(bits: value)
  }

  private static func decodeDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x5A: byte - 0x41 + 10
    case 0x61...0x7A: byte - 0x61 + 36
    default: nil
    }
  }
}

extension UUID {
  /// The 16 bytes as one big-endian integer.
  fileprivate var bits: UInt128 {
    withUnsafeBytes(of: uuid) { bytes in
      bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    }
  }

  fileprivate init(bits: UInt128) {
    var bytes = [UInt8](repeating: 0, count: 16)
    for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: bits >> (8 * (15 - index))) }
    self.init(
      uuid: (
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
      ))
  }
}
