public import FoundationEssentials

/// The permanent identifier of a user, assigned when the user is created.
///
/// Identifiers never change and are never reused; they are what other records (audit events,
/// resource owners, sessions) should point to.
public struct UserID: RawRepresentable, Hashable, Sendable, Codable, Comparable,
  CustomStringConvertible
{
  /// The underlying UUID.
  public let rawValue: UUID

  /// Wraps a UUID.
  ///
  /// - Parameter rawValue: The UUID.
  public init(rawValue: UUID) {
    self.rawValue = rawValue
  }

  /// Parses the canonical UUID string form.
  ///
  /// - Parameter string: A UUID string such as `"E621E1F8-C36C-495A-93FC-0C247A3E6E5F"`.
  public init?(_ string: String) {
    guard let uuid = UUID(uuidString: string) else { return nil }
    self.rawValue = uuid
  }

  /// The UUID string form.
  public var description: String { rawValue.canonicalString }

  /// Orders identifiers by their UUID bytes.
  ///
  /// - Parameters:
  ///   - lhs: An identifier.
  ///   - rhs: Another identifier.
  /// - Returns: Whether `lhs` sorts before `rhs`.
  public static func < (lhs: UserID, rhs: UserID) -> Bool {
    lhs.rawValue < rhs.rawValue
  }

  /// Decodes from a UUID string.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a UUID string.
  public init(from decoder: any Decoder) throws {
    self.rawValue = try UUID(from: decoder)
  }

  /// Encodes as a UUID string.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    try rawValue.encode(to: encoder)
  }
}
