import ArgumentParser
import Foundation
import UserManagementKit

extension UMK {
  /// `umk api-key …`: named, scoped API keys.
  struct APIKeys: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      commandName: "api-key",
      abstract: "Named, scoped API keys: create, list, revoke, check a request.",
      discussion: """
        A key acts for its user and only narrows what they may do: a request is allowed when \
        the user may do it and one of the key's scopes covers it. The user needs direct API \
        access (umk api enable). Administrators manage anyone's keys, other users their own.
        """,
      subcommands: [Create.self, List.self, Revoke.self, Check.self])
  }
}

/// `TYPE:ACTION[,ACTION…]`: one scope of an API key (`*:*` for everything the user may do).
struct ScopeArgument: ExpressibleByArgument {
  /// The scope.
  let scope: APIKeyScope

  /// Parses `TYPE:ACTION[,ACTION…]`, splitting at the last colon.
  ///
  /// - Parameter argument: The argument.
  init?(argument: String) {
    guard let colon = argument.lastIndex(of: ":") else { return nil }
    let type = String(argument[..<colon])
    let actions = argument[argument.index(after: colon)...].split(
      separator: ",", omittingEmptySubsequences: false)
    guard !type.isEmpty, !actions.isEmpty, !actions.contains(where: \.isEmpty) else {
      return nil
    }
    scope = APIKeyScope(resourceType: type, actions: actions.map { Action(rawValue: String($0)) })
  }

  /// The value's name in help.
  static var defaultValueDescription: String { "type:action[,action…]" }
}

extension UMK.APIKeys {
  /// `umk api-key create`.
  struct Create: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Create an API key for a user; the key is printed once.",
      discussion: """
        Each --scope is a resource type and its actions, such as dashboard:view or \
        task:view,edit; * stands for every type or every action (*:* covers everything the \
        user may do). Only the key's hash is stored. Rotate by creating a new key, moving \
        clients to it, then revoking the old one. A key for yourself takes a proof on standard \
        input: your password, or a code once you have a second factor.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user the key acts for.
    @Argument(help: ArgumentHelp("The user the key acts for.", valueName: "email"))
    var username: String
    /// `--name`.
    @Option(help: ArgumentHelp("A name to tell keys apart.", valueName: "name")) var name: String
    /// `--scope`, repeated.
    @Option(
      name: .customLong("scope"),
      help: ArgumentHelp(
        "A scope, TYPE:ACTION[,ACTION…] (repeat for more; at least one).",
        valueName: "type:actions"))
    var scopes: [ScopeArgument] = []
    /// `--expires-in`.
    @Option(help: ArgumentHelp("Expire the key after this many seconds.", valueName: "seconds"))
    var expiresIn: Int?
    /// `--expires-at`.
    @Option(
      help: ArgumentHelp(
        "Expire the key at this time (ISO 8601, such as 2026-12-31T00:00:00Z).",
        valueName: "time"))
    var expiresAt: String?
    /// The proof, for a key of one's own.
    @OptionGroup var proof: ProofSource
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Requires a scope, and at most one expiry.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      if scopes.isEmpty { throw ValidationError("Give at least one --scope TYPE:ACTION.") }
      if expiresIn != nil && expiresAt != nil {
        throw ValidationError("Give either --expires-in or --expires-at, not both.")
      }
      if let expiresIn, expiresIn <= 0 {
        throw ValidationError("--expires-in must be a positive number of seconds.")
      }
      if let expiresAt { _ = try ISO8601Time.parse(expiresAt) }
    }

    /// Creates the key and prints it, the secret once.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `api_access_disabled`, `invalid_field`, `invalid_operation`.
    func run(in context: OperatorContext) async throws {
      var expiry: Date?
      if let expiresIn { expiry = Date().addingTimeInterval(TimeInterval(expiresIn)) }
      if let expiresAt { expiry = try ISO8601Time.parse(expiresAt) }
      let user = try await context.directory.user(named: username, by: context.principal)
      let created = try await context.directory.createAPIKey(
        for: user.id, name: name, scopes: scopes.map(\.scope), expiresAt: expiry,
        proof: try proof.read(), by: context.principal)
      let key = APIKeyOutput(created.key, username: user.username.rawValue)
      if context.json {
        Output.document(NewAPIKeyOutput(key: key, secret: created.secret.revealForDisplay()))
        return
      }
      Output.line("Created API key \(key.id) for \(user.username)")
      key.printDetails()
      Output.line("API key (shown once): \(created.secret.revealForDisplay())")
    }
  }

  /// `umk api-key list`.
  struct List: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "List a user's API keys, revoked ones included (never their secrets).")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the keys, oldest first.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `user_not_found`.
    func run(in context: OperatorContext) async throws {
      let user = try await context.directory.user(named: username, by: context.principal)
      let keys = try await context.directory.apiKeys(of: user.id, by: context.principal).map {
        APIKeyOutput($0, username: user.username.rawValue)
      }
      if context.json {
        Output.document(APIKeyListOutput(keys: keys))
        return
      }
      if keys.isEmpty { Output.line("\(user.username) has no API keys.") }
      for key in keys {
        Output.dataLine("\(key.id) \"\(key.name)\"\(key.revokedAt == nil ? "" : " (revoked)")")
        key.printDetails()
      }
    }
  }

  /// `umk api-key revoke`.
  struct Revoke: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Revoke an API key; it never works again.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// The key's id.
    @Argument(help: ArgumentHelp("The key's id (from create or list).", valueName: "key-id"))
    var keyID: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Requires a well-formed key id.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard APIKeyID(keyID) != nil else {
        throw ValidationError("The key id is a UUID, as `umk api-key list` shows it.")
      }
    }

    /// Revokes the key and prints it.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `user_not_found` (also for an unknown key).
    func run(in context: OperatorContext) async throws {
      guard let id = APIKeyID(keyID) else {
        throw Failure.usage("The key id is a UUID, as `umk api-key list` shows it.")
      }
      let user = try await context.directory.user(named: username, by: context.principal)
      let key = APIKeyOutput(
        try await context.directory.revokeAPIKey(id, of: user.id, by: context.principal),
        username: user.username.rawValue)
      if context.json {
        Output.document(APIKeyResultOutput(key: key))
        return
      }
      Output.line("Revoked API key \(key.id) of \(user.username)")
      key.printDetails()
    }
  }

  /// `umk api-key check`: the key is the credential, so no `--as`.
  struct Check: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Authenticate an API key and decide a request (exit 0 if allowed, 1 if not).",
      discussion: """
        Standard input holds the key. The arguments are those of `umk authorize`: the action, \
        the resource type and id. The answer names the deciding rule: policy, administrator \
        or owner when allowed; outside_api_key_scopes, api_key_unusable, default_deny, … when \
        denied. A wrong, revoked or expired key fails with invalid_credentials.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--key-stdin` (required).
    @Flag(help: "Read the API key from standard input (required).") var keyStdin = false
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

    /// Requires `--key-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard keyStdin else {
        throw ValidationError("The API key is read from standard input: give --key-stdin.")
      }
    }

    /// Authenticates the key, prints the decision and exits 0 if allowed, 1 if denied.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_credentials`; `ExitCode` 1 when denied.
    func run(in session: Session) async throws {
      let secret = try StandardInput.secret(prompt: "API key: ")
      let key = try await session.directory.authenticateAPIKey(secret)
      let resource = Resource(type: type, id: id, parentID: parent)
      let decision = try await session.directory.explain(
        key, to: Action(rawValue: action), on: resource)
      if global.json {
        Output.document(
          APIKeyDecisionOutput(
            key: APIKeyOutput(key.key, username: key.user.username.rawValue),
            decision: AuthorizationOutput(decision)))
      } else {
        Output.dataLine("\(decision) [\(decision.reason.code)]")
      }
      if !decision.isAllowed { throw ExitCode(ExitStatus.refused.rawValue) }
    }
  }
}
