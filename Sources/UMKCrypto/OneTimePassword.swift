/// HMAC-based and time-based one-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), as shown by
/// authenticator apps.
///
/// ```swift
/// let code = try OneTimePassword.timeBasedCode(key: secret, at: unixTime)  // 6 digits, SHA-1
/// let text = OneTimePassword.formatted(code, digits: 6)  // "012345"
/// ```
///
/// The codes are numbers; compare them with the submitted code only after parsing that to a
/// number of the same digit count, and accept each time step at most once.
public enum OneTimePassword {
  /// The HMAC hash function a one-time password uses.
  ///
  /// The raw values are the names `otpauth://` URIs use in their `algorithm` parameter.
  public enum Algorithm: String, Sendable, Hashable, CaseIterable {
    /// HMAC-SHA-1, the default of RFC 4226 and of most authenticator apps. (HMAC-SHA-1 is not
    /// affected by SHA-1's collision attacks.)
    case sha1 = "SHA1"
    /// HMAC-SHA-256.
    case sha256 = "SHA256"
    /// HMAC-SHA-512.
    case sha512 = "SHA512"
  }

  /// The accepted numbers of digits: 6 through 10 (RFC 4226 requires at least 6; 10 digits
  /// cover every value dynamic truncation yields).
  public static var digitRange: ClosedRange<Int> { 6...10 }

  /// The HOTP value for a counter (RFC 4226, §5.3): HMAC of the big-endian counter, dynamic
  /// truncation to 31 bits, then the last `digits` decimal digits.
  ///
  /// - Parameters:
  ///   - key: The shared secret (for example decoded with ``Base32/decode(_:)``); not empty.
  ///     RFC 4226 asks for at least 16 bytes, but many issued secrets have 10, so shorter keys
  ///     are accepted.
  ///   - counter: The moving factor: an event counter for HOTP, the time step for TOTP.
  ///   - digits: The number of decimal digits, 6 through 10; 6 by default.
  ///   - algorithm: The HMAC hash function; SHA-1 by default.
  /// - Returns: The code, less than 10^`digits`. Show it with ``formatted(_:digits:)``, which
  ///   keeps its leading zeros.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange`` if `key` is empty, or
  ///   ``CryptoParameterError/Code/outputLengthOutOfRange`` if `digits` is outside
  ///   ``digitRange``.
  public static func code(
    key: [UInt8], counter: UInt64, digits: Int = 6, algorithm: Algorithm = .sha1
  ) throws(CryptoParameterError) -> UInt32 {
    guard !key.isEmpty else {
      throw CryptoParameterError(
        code: .keyLengthOutOfRange, message: "One-time password keys must not be empty.")
    }
    guard digitRange.contains(digits) else {
      throw CryptoParameterError(
        code: .outputLengthOutOfRange, message: "One-time passwords have 6 through 10 digits.")
    }
    let message = (0..<8).map { UInt8(truncatingIfNeeded: counter &>> UInt64(56 &- 8 &* $0)) }
    let mac: [UInt8]
    switch algorithm {
    case .sha1: mac = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key).bytes
    case .sha256: mac = HMAC<SHA256>.authenticationCode(for: message, using: key).bytes
    case .sha512: mac = HMAC<SHA512>.authenticationCode(for: message, using: key).bytes
    }
    // Dynamic truncation (RFC 4226, §5.3): the low 4 bits of the last byte select 4 bytes, read
    // big-endian without their top bit. Every MAC here has at least 20 bytes, so offset + 3 ≤ 18
    // is in range.
    let offset = Int(mac[mac.count &- 1] & 0x0f)
    let truncated =
      UInt64(mac[offset] & 0x7f) &<< 24 | UInt64(mac[offset &+ 1]) &<< 16
      | UInt64(mac[offset &+ 2]) &<< 8 | UInt64(mac[offset &+ 3])
    var modulus: UInt64 = 1
    for _ in 0..<digits { modulus &*= 10 }
    return UInt32(truncatingIfNeeded: truncated % modulus)
  }

  /// The TOTP time step of a time (RFC 6238, §4.2): the whole periods since the Unix epoch.
  ///
  /// - Parameters:
  ///   - unixTime: Seconds since 1970-01-01T00:00:00Z; not negative.
  ///   - period: The length of a time step in seconds, at least 1; 30 by default.
  /// - Returns: `unixTime / period`, rounded down.
  /// - Throws: ``CryptoParameterError`` with code ``CryptoParameterError/Code/timeOutOfRange``
  ///   if `unixTime` is negative, or ``CryptoParameterError/Code/periodOutOfRange`` if `period`
  ///   is less than 1.
  public static func timeStep(at unixTime: Int64, period: Int = 30) throws(CryptoParameterError)
    -> UInt64
  {
    guard period >= 1 else {
      throw CryptoParameterError(
        code: .periodOutOfRange, message: "The TOTP period must be at least one second.")
    }
    guard unixTime >= 0 else {
      throw CryptoParameterError(
        code: .timeOutOfRange, message: "TOTP times before the Unix epoch have no time step.")
    }
    return UInt64(unixTime) / UInt64(period)
  }

  /// The TOTP value at a time (RFC 6238): the HOTP value of the time step.
  ///
  /// - Parameters:
  ///   - key: The shared secret; not empty.
  ///   - unixTime: Seconds since 1970-01-01T00:00:00Z; not negative.
  ///   - period: The length of a time step in seconds, at least 1; 30 by default.
  ///   - digits: The number of decimal digits, 6 through 10; 6 by default.
  ///   - algorithm: The HMAC hash function; SHA-1 by default.
  /// - Returns: The code, less than 10^`digits`.
  /// - Throws: ``CryptoParameterError`` as ``timeStep(at:period:)`` and
  ///   ``code(key:counter:digits:algorithm:)`` do.
  public static func timeBasedCode(
    key: [UInt8], at unixTime: Int64, period: Int = 30, digits: Int = 6,
    algorithm: Algorithm = .sha1
  ) throws(CryptoParameterError) -> UInt32 {
    let step = try timeStep(at: unixTime, period: period)
    return try code(key: key, counter: step, digits: digits, algorithm: algorithm)
  }

  /// A code as decimal text with leading zeros, as users type it.
  ///
  /// - Parameters:
  ///   - code: A code returned by ``code(key:counter:digits:algorithm:)`` or
  ///     ``timeBasedCode(key:at:period:digits:algorithm:)``.
  ///   - digits: The number of digits the code was made with. The text is padded with leading
  ///     zeros to this many characters (at most 10, the most a `UInt32` has); it is never
  ///     truncated.
  /// - Returns: The decimal digits, for example `"000123"` for 123 with 6 digits.
  public static func formatted(_ code: UInt32, digits: Int) -> String {
    let text = String(code)
    let width = min(max(digits, 0), 10)
    guard text.count < width else { return text }
    return String(repeating: "0", count: width &- text.count) + text
  }
}
