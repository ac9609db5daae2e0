/// An opaque value that changes whenever a user's credentials, status or role change.
///
/// Hosts store the stamp in a session when it starts and compare it on each request: when the
/// stamp differs, the session was issued before a password reset, a deactivation or a role
/// change and should end. The stamp is random and says nothing about the change.
public struct SecurityStamp: RawRepresentable, Hashable, Sendable, Codable,
  CustomStringConvertible
{
  /// The stamp's string form (32 lowercase hexadecimal digits for generated stamps).
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
    var bytes = [UInt8](repeating: 0, count: 16)
    random.fill(&bytes)
    return SecurityStamp(rawValue: Hex.encode(bytes))
  }
}
