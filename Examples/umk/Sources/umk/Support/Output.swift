import Foundation
import UserManagementKit

/// A JSON value whose objects keep their keys in the order written, so documents read well.
enum JSON: Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case string(String)
  case array([JSON])
  case object([(String, JSON)])

  static func optional(_ value: String?) -> JSON {
    value.map(JSON.string) ?? .null
  }

  /// The compact UTF-8 serialization.
  var serialized: String {
    var out = ""
    write(into: &out)
    return out
  }

  private func write(into out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let value): out += value ? "true" : "false"
    case .int(let value): out += String(value)
    case .string(let value): Self.writeString(value, into: &out)
    case .array(let values):
      out += "["
      for (index, value) in values.enumerated() {
        if index > 0 { out += "," }
        value.write(into: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (index, (key, value)) in members.enumerated() {
        if index > 0 { out += "," }
        Self.writeString(key, into: &out)
        out += ":"
        value.write(into: &out)
      }
      out += "}"
    }
  }

  private static func writeString(_ value: String, into out: inout String) {
    out += "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _
      where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
        || scalar.value == 0x2028 || scalar.value == 0x2029:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}

/// Writes results to standard output and failures to standard error.
enum Output {
  /// Prints a line to standard output.
  static func line(_ text: String) {
    print(text)
  }

  /// Prints one JSON document to standard output.
  static func document(_ json: JSON) {
    print(json.serialized)
  }

  /// Writes text to standard error.
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Reports a failure on standard error: `{"error":{…}}` with `--json`, else a line.
  static func report(_ failure: Failure, json: Bool) {
    if json {
      var members: [(String, JSON)] = [
        ("code", .string(failure.code)), ("message", .string(failure.message)),
      ]
      if !failure.context.isEmpty {
        members.append(
          (
            "context",
            .object(failure.context.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
          ))
      }
      if !failure.details.isEmpty { members.append(("details", .array(failure.details))) }
      error(JSON.object([("error", .object(members))]).serialized)
    } else {
      error("umk: error: \(failure.message) [\(failure.code)]")
    }
  }

  /// An ISO 8601 timestamp in UTC with milliseconds.
  static func timestamp(_ date: Date) -> String {
    date.formatted(
      Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
  }
}

/// How users, policies and events look in `--json` output.
enum Shapes {
  static func user(_ user: User, policyNames: [PolicyID: String]) -> JSON {
    .object([
      ("id", .string(user.id.description)),
      ("username", .string(user.username.rawValue)),
      ("firstName", .string(user.firstName)),
      ("lastName", .string(user.lastName)),
      ("status", .string(user.status.rawValue)),
      ("role", .string(user.role.rawValue)),
      ("policies", .array(names(user.policies, policyNames).map(JSON.string))),
      ("apiAccess", .bool(user.apiAccessEnabled)),
      ("hasPassword", .bool(user.hasPassword)),
      ("hasAPIPassword", .bool(user.hasAPIPassword)),
      ("mustChangePassword", .bool(user.mustChangePassword)),
      ("version", .int(Int(clamping: user.version))),
      ("createdAt", .string(Output.timestamp(user.createdAt))),
      ("updatedAt", .string(Output.timestamp(user.updatedAt))),
      ("createdBy", .string(user.createdBy.description)),
    ])
  }

  static func names(_ ids: Set<PolicyID>, _ policyNames: [PolicyID: String]) -> [String] {
    ids.map { policyNames[$0] ?? $0.description }.sorted {
      $0.lowercased() < $1.lowercased()
    }
  }

  static func policy(_ policy: Policy) -> JSON {
    .object([
      ("id", .string(policy.id.description)),
      ("name", .string(policy.name)),
      ("description", .string(policy.description)),
      ("permissions", .array(policy.permissions.map(permission))),
      ("version", .int(Int(clamping: policy.version))),
    ])
  }

  static func permission(_ permission: Permission) -> JSON {
    .object([
      ("resourceType", .string(permission.resourceType)),
      ("allowed", .array(permission.allowed.map { .string($0.rawValue) })),
      ("resourceIds", .array(permission.resourceIds.map { .string($0.description) })),
    ])
  }

  static func event(_ event: AuditEvent, actorUsername: String?) -> JSON {
    .object([
      ("id", .string(event.id.uuidString.lowercased())),
      ("time", .string(Output.timestamp(event.time))),
      ("actor", .string(event.actor.description)),
      ("actorUsername", .optional(actorUsername)),
      ("action", .string(event.action.rawValue)),
      ("target", .string(event.target.description)),
      (
        "changes",
        .array(
          event.changes.map { change in
            .object([
              ("field", .string(change.field)),
              ("old", .optional(change.oldValue)),
              ("new", .optional(change.newValue)),
              ("secret", .bool(change.isSecret)),
            ])
          })
      ),
    ])
  }

  /// A one-line description of a user for text output.
  static func summary(_ user: User, policyNames: [PolicyID: String]) -> String {
    var text = "\(user.username) — \(user.firstName) \(user.lastName), \(user.status), "
    text += user.role == .admin ? "admin" : "general"
    let policies = names(user.policies, policyNames)
    if !policies.isEmpty { text += " [\(policies.joined(separator: ", "))]" }
    if user.apiAccessEnabled { text += ", API access" }
    return text
  }
}
