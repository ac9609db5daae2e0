import ArgumentParser
import Foundation
import UserManagementKit

/// Reads a file named on the command line (`-` for standard input).
func readInputFile(_ path: String) throws(Failure) -> Data {
  if path == "-" {
    return Data(try StandardInput.readAll(limit: 1 << 30))
  }
  guard let data = FileManager.default.contents(atPath: path) else {
    throw Failure(
      code: "unreadable_input", message: "\(path) cannot be read.", status: .malformedInput)
  }
  return data
}

/// `umk policy …`: the access-control policy catalog.
struct PolicyCommands: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy", abstract: "Import, export, list, show and remove policies.",
    subcommands: [PolicyImport.self, PolicyExport.self, PolicyList.self, Show.self, Remove.self])

  struct PolicyImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Import policies from the console's JSON (one document or an array).",
      discussion: """
        All or nothing: documents whose name matches an existing policy replace its content; \
        the others are created. FILE may be - for standard input.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The JSON file.", valueName: "file")) var file: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      let data = try readInputFile(file)
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let policies = try await session.directory.importPolicies(
          try PolicyDocument.decodeList(from: Array(data)), by: actor)
        if global.json {
          Output.document(.object([("policies", .array(policies.map(Shapes.policy)))]))
          return
        }
        for policy in policies {
          Output.line("Imported policy \"\(policy.name)\" (version \(policy.version))")
        }
      }
    }
  }

  struct PolicyExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "export",
      abstract: "Print policies as the console's JSON (all of them, as an array, or one).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Only this policy.", valueName: "name")) var name: String?
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let documents: [PolicyDocument]
        if let name {
          documents = [try await session.directory.policy(named: name, by: actor).document]
        } else {
          documents = try await session.directory.policies(by: actor).map(\.document)
        }
        let encoded = PolicyDocument.encodeList(documents)
        var text = String(decoding: encoded, as: UTF8.self)
        if name != nil, let document = documents.first {
          // One document for one name, in the same shape `policy import` reads.
          let encoder = JSONEncoder()
          encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
          if let single = try? encoder.encode(document) {
            text = String(decoding: single, as: UTF8.self)
          }
        }
        Output.line(text)
      }
    }
  }

  struct PolicyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List the policies, by name.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let policies = try await session.directory.policies(by: actor)
        if global.json {
          Output.document(.object([("policies", .array(policies.map(Shapes.policy)))]))
          return
        }
        for policy in policies {
          let count = policy.permissions.count
          Output.line(
            "\(policy.name) — \(policy.description) (\(count) permission\(count == 1 ? "" : "s"))")
        }
        if policies.isEmpty { Output.line("No policies.") }
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a policy.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The policy's name.", valueName: "name")) var name: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let policy = try await session.directory.policy(named: name, by: actor)
        if global.json {
          Output.document(.object([("policy", Shapes.policy(policy))]))
          return
        }
        Output.line("\(policy.name) — \(policy.description)")
        Output.line("  id: \(policy.id), version \(policy.version)")
        for (index, permission) in policy.permissions.enumerated() {
          let actions = permission.allowed.map(\.rawValue).joined(separator: ", ")
          let ids = permission.resourceIds.map(\.description).joined(separator: ", ")
          Output.line("  #\(index + 1) \(permission.resourceType): \(actions) on \(ids)")
        }
      }
    }
  }

  struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delete a policy that no user holds.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The policy's name.", valueName: "name")) var name: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let policy = try await session.directory.policy(named: name, by: actor)
        try await session.directory.deletePolicy(policy.id, by: actor)
        if global.json {
          Output.document(
            .object([
              (
                "removed",
                .object([("id", .string(policy.id.description)), ("name", .string(policy.name))])
              )
            ]))
        } else {
          Output.line("Removed policy \"\(policy.name)\"")
        }
      }
    }
  }
}

/// `umk authorize`: may a user perform an action on a resource?
struct Authorize: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decide whether a user may act on a resource (exit 0 if allowed, 1 if denied).",
    discussion: """
      The host's policy decision point, as UserDirectory.explain: it asks about a user and \
      takes no acting user. Usernames are resolved from the store directly.
      """)

  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("The user who wants to act.", valueName: "email"))
  var username: String
  @Argument(help: ArgumentHelp("The action: view, edit, delete or another.", valueName: "action"))
  var action: String
  @Argument(help: ArgumentHelp("The resource type.", valueName: "type")) var type: String
  @Argument(help: ArgumentHelp("The resource id.", valueName: "id")) var id: String
  @Option(help: ArgumentHelp("The resource's parent id.", valueName: "id")) var parent: String?
  @Option(help: ArgumentHelp("The resource's owner.", valueName: "email")) var owner: String?
  @Flag(help: "Say which rule decided.") var explain = false

  mutating func run() async throws {
    try await Session.with(global) { session in
      let subject = try await session.profile(username)
      var ownerID: UserID?
      if let owner {
        guard let found = try await session.profile(owner) else {
          throw Failure(
            code: "user_not_found", message: "No user is named \(owner).", status: .refused)
        }
        ownerID = found.id
      }
      let resource = Resource(type: type, id: id, parentID: parent, owner: ownerID)
      let decision: AuthorizationDecision
      if let subject {
        decision = try await session.directory.explain(
          subject.id, to: Action(rawValue: action), on: resource)
      } else {
        decision = AuthorizationDecision(isAllowed: false, reason: .unknownUser)
      }
      if global.json {
        var members: [(String, JSON)] = [
          ("allowed", .bool(decision.isAllowed)),
          ("reason", .string(Self.reasonCode(decision.reason))),
          ("explanation", .string(decision.description)),
        ]
        if case .policy(_, let name, let index) = decision.reason {
          members.append(
            ("policy", .object([("name", .string(name)), ("permission", .int(index + 1))])))
        }
        Output.document(.object(members))
      } else if explain {
        Output.line(decision.description)
      } else {
        Output.line(decision.isAllowed ? "allowed" : "denied")
      }
      if !decision.isAllowed { throw ExitCode(ExitStatus.refused.rawValue) }
    }
  }

  static func reasonCode(_ reason: AuthorizationDecision.Reason) -> String {
    switch reason {
    case .administrator: "administrator"
    case .owner: "owner"
    case .policy: "policy"
    case .inactiveUser: "inactive_user"
    case .unknownUser: "unknown_user"
    case .defaultDeny: "default_deny"
    }
  }
}

/// `umk audit`: the audit trail.
struct Audit: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show audit events, newest first. Never shows a secret or a hash.")

  @OptionGroup var global: GlobalOptions
  @Option(help: ArgumentHelp("Only events about this user.", valueName: "email")) var user: String?
  @Option(
    help: ArgumentHelp(
      "Only events by this user (or system:NAME for a system principal).", valueName: "email"))
  var actor: String?
  @Option(help: ArgumentHelp("Only events at or after this time.", valueName: "iso8601"))
  var since: String?
  @Option(help: ArgumentHelp("The most events (0–10000, default 100).", valueName: "n"))
  var limit = 100
  @OptionGroup var acting: ActingUser

  func validate() throws {
    guard (0...10_000).contains(limit) else {
      throw ValidationError("--limit must be between 0 and 10000.")
    }
  }

  mutating func run() async throws {
    var sinceDate: Date?
    if let since {
      sinceDate = Self.parseDate(since)
      if sinceDate == nil {
        throw Failure.usage(
          "--since must be an ISO 8601 time such as 2026-01-31T12:00:00Z or 2026-01-31.")
      }
    }
    try await Session.with(global) { session in
      let principal = try await session.principal(acting.username)
      var query = AuditQuery(since: sinceDate, limit: limit)
      if let user {
        query.targetUser = try await session.userID(user, by: principal)
      }
      if let actor {
        if actor.hasPrefix("system:") {
          query.actor = .system(String(actor.dropFirst("system:".count)))
        } else {
          query.actor = .user(try await session.userID(actor, by: principal))
        }
      }
      let events = try await session.directory.auditEvents(query, by: principal)
      // Actors are recorded by id; show their usernames (the reader is an administrator).
      var usernames: [UserID: String] = [:]
      for case .user(let id) in Set(events.map(\.actor)) {
        usernames[id] = try? await session.store.profile(id: id)?.username.rawValue
      }
      if global.json {
        Output.document(
          .object([
            (
              "events",
              .array(
                events.map { event in
                  Shapes.event(event, actorUsername: event.actor.userID.flatMap { usernames[$0] })
                })
            )
          ]))
        return
      }
      for event in events {
        let changes = event.changes.map(\.description).joined(separator: "; ")
        let actor = event.actor.userID.flatMap { usernames[$0] }.map { "user:\($0)" }
        Output.line(
          "\(Output.timestamp(event.time)) \(actor ?? event.actor.description) \(event.action) "
            + "\(event.target)" + (changes.isEmpty ? "" : " — \(changes)"))
      }
      if events.isEmpty { Output.line("No events match.") }
    }
  }

  static func parseDate(_ text: String) -> Date? {
    if let date = try? Date(
      text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    {
      return date
    }
    if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
    return try? Date(
      text, strategy: Date.ISO8601FormatStyle().year().month().day().dateSeparator(.dash))
  }
}
