/// An opaque value that changes whenever a user's credentials, status or role change.
///
/// Hosts store the stamp in a session when it starts and compare it on each request: when the
/// stamp differs, the session was issued before a password reset, a deactivation or a role
/// change and should end. The stamp is random and says nothing about the change.
public struct SecurityStamp: RawRepresentable, Hashable, Sendable, Codable,
  CustomStringConvertible
{
  /// The stamp's string form (15 URL-safe base64 characters, 90 random bits, for generated
  /// stamps — short enough to be stored inline in a `String`, without a heap allocation).
  public let rawValue: String

  /// Wraps a stamp's string form.
  ///
  /// - Parameter rawValue: The string form.
  public init(rawValue: String) {
    self.rawValue = rawValue
  }

  /// The stamp's string form.
  public var description: String { rawValue }

  static func random(using random: any RandomSource) -> SecurityStamp {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var bytes = [UInt8](repeating: 0, count: 15)
    random.fill(&bytes)
    // 64 is a power of two, so taking the low 6 bits of each byte is unbiased.
    for index in bytes.indices { bytes[index] = alphabet[Int(bytes[index] & 0x3F)] }
    return SecurityStamp(rawValue: String(decoding: bytes, as: UTF8.self))
  }
}
