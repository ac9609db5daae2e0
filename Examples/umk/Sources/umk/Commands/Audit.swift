import ArgumentParser
import Foundation
import UserManagementKit

extension UMK {
  /// `umk audit`: the audit trail.
  struct Audit: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Show audit events, newest first. Never shows a secret or a hash.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--user`.
    @Option(help: ArgumentHelp("Only events about this user.", valueName: "email"))
    var user: String?
    /// `--actor`.
    @Option(
      help: ArgumentHelp(
        "Only events by this user (or system:NAME for a system principal).", valueName: "email"))
    var actor: String?
    /// `--since`.
    @Option(
      help: ArgumentHelp("Only events at or after this time.", valueName: "iso8601"),
      transform: ISO8601Time.parse)
    var since: Date?
    /// `--limit`.
    @Option(help: ArgumentHelp("The most events (0–10000, default 100).", valueName: "n"))
    var limit = 100
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Checks the limit.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard (0...10_000).contains(limit) else {
        throw ValidationError("--limit must be between 0 and 10000.")
      }
    }

    /// Prints the events.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      var query = AuditQuery(since: since, limit: limit)
      if let user {
        query.targetUser = try await context.userID(user)
      }
      if let actor {
        if actor.hasPrefix("system:") {
          query.actor = .system(String(actor.dropFirst("system:".count)))
        } else {
          query.actor = .user(try await context.userID(actor))
        }
      }
      let events = try await context.directory.auditEvents(query, by: context.principal)
      // Actors are recorded by id; show their usernames (the reader is an administrator).
      var usernames: [UserID: String] = [:]
      for case .user(let id) in Set(events.map(\.actor)) {
        usernames[id] = try? await context.session.store.profile(id: id)?.username.rawValue
      }
      if context.json {
        Output.document(
          AuditEventsOutput(
            events: events.map { event in
              AuditEventOutput(
                event, actorUsername: event.actor.userID.flatMap { usernames[$0] })
            }))
        return
      }
      for event in events {
        let changes = event.changes.map(\.description).joined(separator: "; ")
        let actor = event.actor.userID.flatMap { usernames[$0] }.map { "user:\($0)" }
        Output.dataLine(
          "\(Output.timestamp(event.time)) \(actor ?? event.actor.description) \(event.action) "
            + "\(event.target)" + (changes.isEmpty ? "" : " — \(changes)"))
      }
      if events.isEmpty { Output.line("No events match.") }
    }
  }
}
