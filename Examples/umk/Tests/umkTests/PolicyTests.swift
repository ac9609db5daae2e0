import Foundation
import Testing

/// `policy …`, `authorize` and `audit`.
@Suite("Policies, authorization and audit")
struct PolicyTests {
  /// Import from a file, list, show, export (all, or one), and remove only when unused.
  @Test func importListShowExportAndRemove() throws {
    try UMK.withStore { umk in
      let file = umk.root.appendingPathComponent("policies.json")
      try Data(UMK.policies.utf8).write(to: file)
      let imported = try umk(["policy", "import", file.path, "--json"] + UMK.asAda)
      #expect(imported.status == 0, "\(imported)")
      #expect(try imported.output(PolicyList.self).policies.map(\.name) == ["Viewers", "Editors"])

      let list = try umk(["policy", "list", "--json"] + UMK.asAda)
      #expect(try list.output(PolicyList.self).policies.map(\.name) == ["Editors", "Viewers"])
      let show = try umk(["policy", "show", "viewers", "--json"] + UMK.asAda)
      let policy = try show.output(PolicyShow.self).policy
      #expect(policy.permissions.first?.allowed == ["view"])
      let keys = try JSONDecoder().decode([String: JSONKeys].self, from: Data(show.stdout.utf8))
      #expect(keys["policy"]?.keys == PolicyJSON.keys)

      let exported = try umk(["policy", "export"] + UMK.asAda)
      let documents = try exported.output([PolicyDocumentJSON].self)
      #expect(documents.map(\.name) == ["Editors", "Viewers"])
      let one = try umk(["policy", "export", "Editors"] + UMK.asAda)
      #expect(try one.output(PolicyDocumentJSON.self).name == "Editors")

      try umk(
        [
          "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
          "--generate-password", "--policy", "Viewers",
        ] + UMK.asAda)
      let inUse = try umk(["policy", "remove", "Viewers", "--json"] + UMK.asAda)
      #expect(inUse.status == 1)
      #expect(try inUse.error().code == "policy_in_use")
      #expect(try inUse.error().context?["holders"] == "1")
      try umk(["user", "set-policies", "grace@example.com"] + UMK.asAda)
      let removed = try umk(["policy", "remove", "viewers", "--json"] + UMK.asAda)
      #expect(removed.status == 0, "\(removed)")
      #expect(try removed.output(PolicyRemoved.self).removed.name == "Viewers")
    }
  }

  /// One `authorize` question: exit 0 when allowed, 1 when denied, and why.
  struct Question: Sendable, CustomTestStringConvertible {
    /// The arguments after `authorize`.
    let arguments: [String]
    /// Whether the answer is "allowed".
    let allowed: Bool
    /// The JSON `reason`.
    let reason: String
    /// The deciding policy, if one decided.
    var policy: String?

    /// The question.
    var testDescription: String { arguments.joined(separator: " ") }
  }

  /// Questions about grace (Viewers and Editors), ada (an administrator) and nobody.
  static let questions: [Question] = [
    .init(
      arguments: ["grace@example.com", "view", "dashboard", "sales"], allowed: true,
      reason: "policy", policy: "Viewers"),
    .init(
      arguments: ["grace@example.com", "edit", "dashboard", "sales"], allowed: false,
      reason: "default_deny"),
    .init(
      arguments: ["grace@example.com", "delete", "task", "t-19", "--parent", "7"], allowed: true,
      reason: "policy", policy: "Editors"),
    .init(
      arguments: ["grace@example.com", "edit", "doc", "d1", "--owner", "grace@example.com"],
      allowed: true, reason: "owner"),
    .init(
      arguments: ["nobody@example.com", "view", "dashboard", "x"], allowed: false,
      reason: "unknown_user"),
    .init(
      arguments: ["ada@example.com", "delete", "anything", "1"], allowed: true,
      reason: "administrator"),
  ]

  /// `authorize` in text, `--explain` and `--json` modes.
  @Test(arguments: questions)
  func authorize(_ question: Question) throws {
    try UMK.withStore(.policies) { umk in
      try umk(
        [
          "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
          "--generate-password", "--policy", "Viewers", "--policy", "Editors",
        ] + UMK.asAda)
      let status: Int32 = question.allowed ? 0 : 1
      let text = try umk(["authorize"] + question.arguments)
      #expect(text.status == status, "\(text)")
      #expect(text.stdout == (question.allowed ? "allowed\n" : "denied\n"))
      let json = try umk(["authorize"] + question.arguments + ["--json"])
      #expect(json.status == status, "\(json)")
      let decision = try json.output(DecisionDocument.self)
      #expect(decision.allowed == question.allowed)
      #expect(decision.reason == question.reason)
      #expect(decision.policy?.name == question.policy)
      let explained = try umk(["authorize"] + question.arguments + ["--explain"])
      #expect(explained.stdout == decision.explanation + "\n")
    }
  }

  /// `--explain` names the policy and the permission that decided.
  @Test func explainNamesThePermission() throws {
    try UMK.withStore(.policies) { umk in
      try umk(
        [
          "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
          "--generate-password", "--policy", "Editors",
        ] + UMK.asAda)
      let explained = try umk(
        "authorize", "grace@example.com", "delete", "task", "t-19", "--parent", "7", "--explain")
      #expect(explained.status == 0)
      #expect(explained.stdout.contains("allowed by policy \"Editors\" (permission #1)"))
    }
  }

  /// `audit`: filtered by user, by a system actor and time; limited in text mode.
  @Test func auditTrail() throws {
    try UMK.withStore(.grace) { umk in
      let audit = try umk(["audit", "--user", "grace@example.com", "--json"] + UMK.asAda)
      let events = try audit.output(AuditEvents.self).events
      #expect(events.count == 1)
      let event = try #require(events.first)
      #expect(event.action == "user.created")
      #expect(event.actorUsername == "ada@example.com")
      #expect(event.target == "user:grace@example.com")
      #expect(event.changes.contains { $0.field == "password" && $0.secret && $0.new == nil })
      let keys = try JSONDecoder().decode(
        [String: [JSONKeys]].self, from: Data(audit.stdout.utf8))["events"]?.first?.keys
      #expect(keys == AuditEvents.Event.keys)
      let byActor = try umk(
        ["audit", "--actor", "system:bootstrap", "--since", "2000-01-01T00:00:00Z", "--json"]
          + UMK.asAda)
      let bootstrap = try byActor.output(AuditEvents.self).events
      #expect(bootstrap.count == 1, "\(byActor)")
      #expect(bootstrap.first?.actorUsername == nil)
      let text = try umk(["audit", "--limit", "2"] + UMK.asAda)
      #expect(text.stdout.split(separator: "\n").count == 2, "\(text)")
    }
  }
}
