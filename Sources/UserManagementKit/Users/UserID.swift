#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// The permanent identifier of a user, assigned when the user is created.
///
/// Identifiers never change and are never reused; they are what other records (audit events,
/// resource owners, sessions) should point to.
public struct UserID: UUIDIdentifier {
  /// The underlying UUID.
  public let rawValue: UUID

  /// Wraps a UUID.
  ///
  /// - Parameter rawValue: The UUID.
  public init(rawValue: UUID) {
    self.rawValue = rawValue
  }
}
