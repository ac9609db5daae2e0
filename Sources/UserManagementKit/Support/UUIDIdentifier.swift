#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// An identifier backed by a UUID: ``UserID`` and ``PolicyID`` share their string form,
/// ordering and coding through this protocol.
public protocol UUIDIdentifier: RawRepresentable, Hashable, Sendable, Codable, Comparable,
  CustomStringConvertible
where RawValue == UUID {
  /// Wraps a UUID.
  ///
  /// - Parameter rawValue: The UUID.
  init(rawValue: UUID)
}

extension UUIDIdentifier {
  /// Parses the canonical UUID string form.
  ///
  /// - Parameter string: A UUID string such as `"E621E1F8-C36C-495A-93FC-0C247A3E6E5F"`.
  public init?(_ string: String) {
    guard let uuid = UUID(uuidString: string) else { return nil }
    self.init(rawValue: uuid)
  }

  /// The UUID string form (uppercase, as `UUID.uuidString`).
  public var description: String { rawValue.canonicalString }

  /// Orders identifiers by their UUID bytes.
  ///
  /// - Parameters:
  ///   - lhs: An identifier.
  ///   - rhs: Another identifier.
  /// - Returns: Whether `lhs` sorts before `rhs`.
  public static func < (lhs: Self, rhs: Self) -> Bool {
    lhs.rawValue < rhs.rawValue
  }

  /// Decodes from a UUID string.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` if the value is not a UUID string.
  public init(from decoder: any Decoder) throws {
    self.init(rawValue: try UUID(from: decoder))
  }

  /// Encodes as a UUID string.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    try rawValue.encode(to: encoder)
  }
}
