public import FoundationEssentials

/// The permanent identifier of an access-control policy.
///
/// Users hold policies by identifier, so renaming a policy keeps its assignments.
public struct PolicyID: RawRepresentable, Hashable, Sendable, Codable, Comparable,
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
  /// - Parameter string: A UUID string.
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
  public static func < (lhs: PolicyID, rhs: PolicyID) -> Bool {
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
