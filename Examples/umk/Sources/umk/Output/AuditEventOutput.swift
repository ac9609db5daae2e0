import Foundation
import UserManagementKit

/// An audit event in `--json` output:
/// `{"id","time","actor","actorUsername","action","target","changes"}`.
///
/// `actorUsername` is `null` for a system principal (or a user no longer found); a change's
/// `old` and `new` are `null` when absent, and always for a secret field.
struct AuditEventOutput: Encodable {
  /// The event's id, lowercase.
  let id: String
  /// When it happened.
  let time: String
  /// `user:<id>` or `system:<name>`.
  let actor: String
  /// The acting user's username, when the actor is a user.
  let actorUsername: String?
  /// Such as `user.created`.
  let action: String
  /// `user:<username>` or `policy:<name>`.
  let target: String
  /// The fields that changed.
  let changes: [Change]

  /// One changed field.
  struct Change: Encodable {
    /// The field.
    let field: String
    /// The old value (never a secret).
    let old: String?
    /// The new value (never a secret).
    let new: String?
    /// Whether the field is a secret (then `old` and `new` are `null`).
    let secret: Bool

    /// The keys.
    enum CodingKeys: String, CodingKey {
      case field, old, new, secret
    }

    /// Encodes absent values as `null`.
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: Errors from the encoder.
    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(field, forKey: .field)
      try container.encode(old, forKey: .old)
      try container.encode(new, forKey: .new)
      try container.encode(secret, forKey: .secret)
    }
  }

  /// The keys.
  enum CodingKeys: String, CodingKey {
    case id, time, actor, actorUsername, action, target, changes
  }

  /// The output form of an event.
  ///
  /// - Parameters:
  ///   - event: The event.
  ///   - actorUsername: The acting user's username, if known.
  init(_ event: AuditEvent, actorUsername: String?) {
    id = event.id.uuidString.lowercased()
    time = Output.timestamp(event.time)
    actor = event.actor.description
    self.actorUsername = actorUsername
    action = event.action.rawValue
    target = event.target.description
    changes = event.changes.map { change in
      Change(
        field: change.field, old: change.oldValue, new: change.newValue, secret: change.isSecret)
    }
  }

  /// Encodes `actorUsername` as `null` when absent.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(id, forKey: .id)
    try container.encode(time, forKey: .time)
    try container.encode(actor, forKey: .actor)
    try container.encode(actorUsername, forKey: .actorUsername)
    try container.encode(action, forKey: .action)
    try container.encode(target, forKey: .target)
    try container.encode(changes, forKey: .changes)
  }
}

/// `{"events":[…]}`, for `audit`.
struct AuditEventsOutput: Encodable {
  /// The events, newest first.
  let events: [AuditEventOutput]
}
