import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

extension ConsoleApp {
  /// Audit events as table rows, actors shown by username.
  func auditRows(_ events: [AuditEvent], visitor: Visitor) async throws -> [HTML] {
    var names: [UserID: String] = [:]
    var rows: [HTML] = []
    let policyNames = Dictionary(
      try await directory.policies(by: visitor.principal).map { ($0.id.description, $0.name) },
      uniquingKeysWith: { first, _ in first })
    for event in events {
      let actor: String
      switch event.actor {
      case .system(let name): actor = "system: \(name)"
      case .user(let id):
        if let known = names[id] {
          actor = known
        } else {
          let name =
            (try? await directory.user(id, by: visitor.principal).username.rawValue)
            ?? id.description
          names[id] = name
          actor = name
        }
      }
      let target: String
      switch event.target {
      case .user(_, let username): target = username
      case .policy(_, let name): target = "policy \(name)"
      }
      let changes = event.changes.map { Self.changeText($0, policyNames: policyNames) }
        .joined(separator: "; ")
      rows.append(
        "<tr><td>\(Self.timeText(event.time))</td><td>\(actor)</td><td>\(event.action.rawValue)</td><td>\(target)</td><td>\(changes)</td></tr>"
      )
    }
    return rows
  }

  /// A field change as text, policy ids shown by name where the policy still exists.
  static func changeText(_ change: FieldChange, policyNames: [String: String]) -> String {
    guard change.field == "policies", !change.isSecret else { return change.description }
    func names(_ value: String?) -> String {
      guard let value, !value.isEmpty else { return "none" }
      return value.split(separator: ",").map { policyNames[String($0)] ?? String($0) }.joined(
        separator: ", ")
    }
    return "policies: \(names(change.oldValue)) → \(names(change.newValue))"
  }

  func auditTable(_ rows: [HTML], caption: String) -> HTML {
    guard !rows.isEmpty else { return "<p>No events.</p>" }
    return """
      <table class="audit"><caption class="visually-hidden">\(caption)</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">By</th><th scope="col">Action</th><th scope="col">On</th><th scope="col">Changes</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      """
  }

  /// GET /admin/audit: the whole trail, filtered by user, actor, action and dates.
  func showAudit(_ request: Request) async throws -> Response {
    let visitor = try await admin(request)
    let parameters = request.uri.queryParameters
    func value(_ name: String) -> String {
      String((parameters[Substring(name)].map(String.init) ?? "").prefix(254))
    }
    let user = value("user")
    let actor = value("actor")
    let action = value("action")
    let since = value("since")
    let until = value("until")
    var problems: [String] = []
    var query = AuditQuery(limit: 100)
    if !user.isEmpty {
      let found = try? await directory.user(named: user, by: visitor.principal)
      if let found {
        query.targetUser = found.id
      } else {
        problems.append("No user is named “\(user)”.")
      }
    }
    if !actor.isEmpty {
      let found = try? await directory.user(named: actor, by: visitor.principal)
      if let found {
        query.actor = .user(found.id)
      } else {
        problems.append("No user is named “\(actor)”.")
      }
    }
    func day(_ text: String, _ label: String) -> Date? {
      guard !text.isEmpty else { return nil }
      guard let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) else {
        problems.append("\(label) must be a date such as 2026-12-31.")
        return nil
      }
      return date
    }
    query.since = day(since, "From")
    query.until = day(until, "To").map { $0.addingTimeInterval(86_400) }
    let actions = Self.auditActions
    if !action.isEmpty && !actions.contains(action) { problems.append("Unknown action.") }
    var events: [AuditEvent] = []
    if problems.isEmpty {
      if action.isEmpty {
        events = try await directory.auditEvents(query, by: visitor.principal)
      } else {
        query.limit = 10_000
        events = Array(
          try await directory.auditEvents(query, by: visitor.principal).filter {
            $0.action.rawValue == action
          }.prefix(100))
      }
    }
    let rows = try await auditRows(events, visitor: visitor)
    let options = HTML.join(
      actions.map { "<option\(HTML.flag("selected", $0 == action))>\($0)</option>" })
    let body: HTML = """
      <h1>Audit trail</h1>
      \(alert(problems.isEmpty ? nil : problems.joined(separator: " ")))
      <form method="get" action="\(path("/admin/audit"))" class="filters" role="search" aria-label="Filter the audit trail">
      <div><label for="user">About user</label><input id="user" name="user" type="email" value="\(user)"></div>
      <div><label for="actor">By user</label><input id="actor" name="actor" type="email" value="\(actor)"></div>
      <div><label for="action">Action</label><select id="action" name="action"><option value="">Any action</option>\(options)</select></div>
      <div><label for="since">From</label><input id="since" name="since" type="date" value="\(since)"></div>
      <div><label for="until">To</label><input id="until" name="until" type="date" value="\(until)"></div>
      <button type="submit">Filter</button>
      </form>
      <p class="count">Newest first, at most 100 events.</p>
      \(auditTable(rows, caption: "Audit events"))
      """
    return html(.ok, layout(title: "Audit trail", visitor: visitor, body: body))
  }

  static let auditActions: [String] = [
    AuditAction.userBootstrapped, .userCreated, .userUpdated, .userActivated, .userDeactivated,
    .roleChanged,
    .policiesChanged, .passwordReset, .passwordChanged, .passwordRehashed, .apiAccessEnabled,
    .apiAccessDisabled, .apiPasswordSet, .loginThrottleReset, .policyCreated, .policyUpdated,
    .policyDeleted,
    .userImported,
  ].map(\.rawValue)
}
