#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// The permanent identifier of an API key.
public struct APIKeyID: UUIDIdentifier {
  /// The underlying UUID.
  public let rawValue: UUID

  /// Wraps a UUID.
  ///
  /// - Parameter rawValue: The UUID.
  public init(rawValue: UUID) {
    self.rawValue = rawValue
  }
}

/// One scope of an API key: some actions on one resource type.
///
/// A key's scopes only narrow what its user may do: a request authenticated by the key is
/// allowed when the user's own permissions allow it *and* one of the key's scopes covers it
/// (see ``UserDirectory/explain(_:to:on:)-(AuthenticatedAPIKey,_,_)``).
public struct APIKeyScope: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The resource type, matched byte for byte like ``Permission/resourceType``, or `"*"` for
  /// every type.
  public var resourceType: String
  /// The actions; ``Action/all`` (`"*"`) covers every action.
  public var actions: [Action]

  /// Creates a scope.
  ///
  /// - Parameters:
  ///   - resourceType: The resource type, or `"*"`.
  ///   - actions: The actions.
  public init(resourceType: String, actions: [Action]) {
    self.resourceType = resourceType
    self.actions = actions
  }

  /// A scope that covers everything the user may do.
  public static let everything = APIKeyScope(resourceType: "*", actions: [.all])

  /// Whether the scope covers `action` on `resource`.
  ///
  /// - Parameters:
  ///   - action: The action.
  ///   - resource: The resource.
  /// - Returns: Whether it is covered.
  public func covers(_ action: Action, on resource: Resource) -> Bool {
    (resourceType == "*" || resourceType.utf8.elementsEqual(resource.type.utf8))
      && actions.contains { $0 == .all || $0 == action }
  }

  /// `<resource type>:<action>,<action>`.
  public var description: String {
    "\(resourceType):" + actions.map(\.rawValue).joined(separator: ",")
  }
}

/// An API key as the host sees it: everything but the secret.
public struct APIKey: Hashable, Sendable, Codable, Identifiable {
  /// The permanent identifier (also embedded in the secret key, to find it).
  public let id: APIKeyID
  /// The user the key acts for.
  public let userID: UserID
  /// A name to tell keys apart, such as `"CI deploy"`.
  public var name: String
  /// What the key may be used for; never more than the user may do.
  public var scopes: [APIKeyScope]
  /// When the key was created.
  public let createdAt: Date
  /// Who created it.
  public let createdBy: Principal
  /// When the key stops working, if ever.
  public var expiresAt: Date?
  /// When the key was last used, to the resolution
  /// ``UserDirectory/AccountSecuritySettings/apiKeyLastUsedResolution``.
  public var lastUsedAt: Date?
  /// When the key was revoked; a revoked key never works again.
  public var revokedAt: Date?

  /// Creates a key description. Hosts receive keys from ``UserDirectory``; stores use this
  /// to rebuild them.
  ///
  /// - Parameters:
  ///   - id: The identifier.
  ///   - userID: The user it acts for.
  ///   - name: The name.
  ///   - scopes: The scopes.
  ///   - createdAt: The creation time.
  ///   - createdBy: The creator.
  ///   - expiresAt: The expiry.
  ///   - lastUsedAt: The last use.
  ///   - revokedAt: The revocation time.
  public init(
    id: APIKeyID, userID: UserID, name: String, scopes: [APIKeyScope], createdAt: Date,
    createdBy: Principal, expiresAt: Date? = nil, lastUsedAt: Date? = nil,
    revokedAt: Date? = nil
  ) {
    self.id = id
    self.userID = userID
    self.name = name
    self.scopes = scopes
    self.createdAt = createdAt
    self.createdBy = createdBy
    self.expiresAt = expiresAt
    self.lastUsedAt = lastUsedAt
    self.revokedAt = revokedAt
  }

  /// Whether the key works at `time`: not revoked and not expired.
  ///
  /// - Parameter time: The time.
  /// - Returns: Whether it is usable.
  public func isUsable(at time: Date) -> Bool {
    revokedAt == nil && (expiresAt.map { time < $0 } ?? true)
  }

  /// Whether one of the key's scopes covers `action` on `resource`.
  ///
  /// - Parameters:
  ///   - action: The action.
  ///   - resource: The resource.
  /// - Returns: Whether it is covered.
  public func covers(_ action: Action, on resource: Resource) -> Bool {
    scopes.contains { $0.covers(action, on: resource) }
  }
}

/// A key just created: its description and the secret, shown once.
public struct NewAPIKey: Sendable {
  /// The key's description.
  public let key: APIKey
  /// The secret key (`umk_key_…`), to be shown once to whoever created it; only its keyed
  /// hash is stored.
  public let secret: Secret
}

/// A request authenticated with an API key: whom it acts for and with which key.
///
/// Pass it to ``UserDirectory/isAllowed(_:to:on:)-(AuthenticatedAPIKey,_,_)``, which reads
/// the user and the key again, so a revocation or deactivation takes effect at once.
public struct AuthenticatedAPIKey: Hashable, Sendable {
  /// The user the key acts for, as read when the key was checked.
  public let user: User
  /// The key, as read when it was checked.
  public let key: APIKey
}
