#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A compact binary form of ``AuditEvent``, about a third of the in-memory size of the value
/// (field names and actions from a fixed table take one byte).
///
/// Layout: id (16) · time (f64 seconds since 2001-01-01) · actor (tag 0 + user id, or tag 1 + name) · target (tag 0
/// user / 1 policy, id, label) · action (code, or 0xFF + string) · change count (varint) ·
/// per change: field (code, or 0xFF + string), flags (bit 0 secret, bit 1 old, bit 2 new),
/// old value, new value.
extension AuditEvent {
  // These tables are part of the file store's format: append to them, never reorder.
  private static let knownFields = [
    "username", "firstName", "lastName", "status", "role", "policies", "apiAccess", "password",
    "apiPassword", "name", "description", "permissions", "passwordAlgorithm",
  ]
  private static let knownActions: [AuditAction] = [
    .userBootstrapped, .userCreated, .userUpdated, .userActivated, .userDeactivated,
    .roleChanged, .policiesChanged, .passwordReset, .passwordChanged, .passwordRehashed,
    .apiAccessEnabled, .apiAccessDisabled, .apiPasswordSet, .loginThrottleReset,
    .policyCreated, .policyUpdated, .policyDeleted, .userImported,
  ]
  private static let otherCode: UInt8 = 0xFF

  /// The table index of a known field name. A linear scan beats hashing here: the names are
  /// short enough to be small strings, whose equality is a two-word comparison.
  private static func fieldCode(_ field: String) -> UInt8? {
    knownFields.firstIndex(of: field).map { UInt8($0) }
  }

  private static func actionCode(_ action: AuditAction) -> UInt8? {
    knownActions.firstIndex(of: action).map { UInt8($0) }
  }

  func encode(into writer: inout ByteWriter) {
    writer.uuid(id)
    writer.date(time)
    switch actor {
    case .user(let id):
      writer.byte(0)
      writer.uuid(id.rawValue)
    case .system(let name):
      writer.byte(1)
      writer.string(name)
    }
    switch target {
    case .user(let id, let username):
      writer.byte(0)
      writer.uuid(id.rawValue)
      writer.string(username)
    case .policy(let id, let name):
      writer.byte(1)
      writer.uuid(id.rawValue)
      writer.string(name)
    }
    if let code = Self.actionCode(action) {
      writer.byte(code)
    } else {
      writer.byte(Self.otherCode)
      writer.string(action.rawValue)
    }
    writer.varint(UInt64(changes.count))
    for change in changes {
      if let code = Self.fieldCode(change.field) {
        writer.byte(code)
      } else {
        writer.byte(Self.otherCode)
        writer.string(change.field)
      }
      // A secret field records only that it changed: its values are never written, even if
      // a caller-built change carries them.
      if change.isSecret {
        writer.byte(1)
        continue
      }
      var flags: UInt8 = 0
      if change.oldValue != nil { flags |= 2 }
      if change.newValue != nil { flags |= 4 }
      writer.byte(flags)
      if let old = change.oldValue { writer.string(old) }
      if let new = change.newValue { writer.string(new) }
    }
  }

  /// Moves `reader` past one encoded event, accepting exactly what ``init(decoding:)``
  /// accepts and ending where it ends, without making the event: opening a store checks the
  /// log's events this way and keeps their bytes (``EncodedAuditEvents``).
  static func skip(_ reader: inout ByteReader) -> Bool {
    // Strings decode whatever their bytes (invalid UTF-8 is replaced), so only their lengths
    // can be wrong; a date is any 8 bytes.
    func string() -> Bool { reader.skipString() }
    guard reader.skip(16 + 8), let actorTag = reader.byte() else { return false }
    switch actorTag {
    case 0: guard reader.skip(16) else { return false }
    case 1: guard string() else { return false }
    default: return false
    }
    guard let targetTag = reader.byte(), targetTag <= 1, reader.skip(16), string(),
      let actionCode = reader.byte()
    else { return false }
    if actionCode == otherCode {
      guard string() else { return false }
    } else {
      guard Int(actionCode) < knownActions.count else { return false }
    }
    // As decoding checks it (a change takes at least two bytes): a count past it would fail
    // in the loop anyway, only later.
    guard let count = reader.varint(), count <= UInt64(reader.remaining / 2) else { return false }
    for _ in 0..<count {
      guard let fieldCode = reader.byte() else { return false }
      if fieldCode == otherCode {
        guard string() else { return false }
      } else {
        guard Int(fieldCode) < knownFields.count else { return false }
      }
      guard let flags = reader.byte(), flags & ~7 == 0 else { return false }
      if flags & 1 == 1 {
        guard flags == 1 else { return false }
        continue
      }
      if flags & 2 != 0 { guard string() else { return false } }
      if flags & 4 != 0 { guard string() else { return false } }
    }
    return true
  }

  init?(decoding reader: inout ByteReader) {
    guard let id = reader.uuid(), let time = reader.date(), let actorTag = reader.byte()
    else { return nil }
    switch actorTag {
    case 0:
      guard let user = reader.uuid() else { return nil }
      actor = .user(UserID(rawValue: user))
    case 1:
      guard let name = reader.string() else { return nil }
      actor = .system(name)
    default:
      return nil
    }
    guard let targetTag = reader.byte(), let targetID = reader.uuid(),
      let label = reader.string()
    else { return nil }
    switch targetTag {
    case 0: target = .user(UserID(rawValue: targetID), username: label)
    case 1: target = .policy(PolicyID(rawValue: targetID), name: label)
    default: return nil
    }
    guard let actionCode = reader.byte() else { return nil }
    if actionCode == Self.otherCode {
      guard let name = reader.string() else { return nil }
      action = AuditAction(rawValue: name)
    } else {
      guard Int(actionCode) < Self.knownActions.count else { return nil }
      action = Self.knownActions[Int(actionCode)]
    }
    // A change takes at least two bytes, so the count cannot exceed half of what is left.
    guard let count = reader.varint(), count <= UInt64(reader.remaining / 2) else { return nil }
    var changes: [FieldChange] = []
    changes.reserveCapacity(Int(count))
    for _ in 0..<count {
      guard let fieldCode = reader.byte() else { return nil }
      let field: String
      if fieldCode == Self.otherCode {
        guard let name = reader.string() else { return nil }
        field = name
      } else {
        guard Int(fieldCode) < Self.knownFields.count else { return nil }
        field = Self.knownFields[Int(fieldCode)]
      }
      guard let flags = reader.byte(), flags & ~7 == 0 else { return nil }
      if flags & 1 == 1 {
        guard flags == 1 else { return nil }
        changes.append(.secret(field))
        continue
      }
      var old: String?
      var new: String?
      if flags & 2 != 0 {
        guard let value = reader.string() else { return nil }
        old = value
      }
      if flags & 4 != 0 {
        guard let value = reader.string() else { return nil }
        new = value
      }
      changes.append(FieldChange(field: field, oldValue: old, newValue: new))
    }
    self.id = id
    self.time = time
    self.changes = changes
  }
}
