import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk authorize`: the host's policy decision point asks about a user, so no `--as`.
  struct Authorize: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Decide whether a user may act on a resource (exit 0 if allowed, 1 if denied).",
      discussion: """
        The host's policy decision point, as UserDirectory.explain: it asks about a user and \
        takes no acting user. Usernames are resolved from the store directly.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user who wants to act.
    @Argument(help: ArgumentHelp("The user who wants to act.", valueName: "email"))
    var username: String
    /// The action.
    @Argument(
      help: ArgumentHelp("The action: view, edit, delete or another.", valueName: "action"))
    var action: String
    /// The resource type.
    @Argument(help: ArgumentHelp("The resource type.", valueName: "type")) var type: String
    /// The resource id.
    @Argument(help: ArgumentHelp("The resource id.", valueName: "id")) var id: String
    /// `--parent`.
    @Option(help: ArgumentHelp("The resource's parent id.", valueName: "id")) var parent: String?
    /// `--owner`.
    @Option(help: ArgumentHelp("The resource's owner.", valueName: "email")) var owner: String?
    /// `--explain`.
    @Flag(help: "Say which rule decided.") var explain = false

    /// Prints the decision and exits 0 if allowed, 1 if denied.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `ExitCode` 1 when denied; `user_not_found` for an unknown `--owner`.
    func run(in session: Session) async throws {
      let subject = try await session.profile(username)
      var ownerID: UserID?
      if let owner {
        guard let found = try await session.profile(owner) else {
          throw Failure(.userNotFound, "No user is named \(owner).")
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
        Output.document(AuthorizationOutput(decision))
      } else if explain {
        Output.line(decision.description)
      } else {
        Output.line(decision.isAllowed ? "allowed" : "denied")
      }
      if !decision.isAllowed { throw ExitCode(ExitStatus.refused.rawValue) }
    }
  }
}
