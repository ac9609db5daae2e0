#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// The permanent identifier of an access-control policy.
///
/// Users hold policies by identifier, so renaming a policy keeps its assignments.
public struct PolicyID: UUIDIdentifier {
  /// The underlying UUID.
  public let rawValue: UUID

  /// Wraps a UUID.
  ///
  /// - Parameter rawValue: The UUID.
  public init(rawValue: UUID) {
    self.rawValue = rawValue
  }
}
