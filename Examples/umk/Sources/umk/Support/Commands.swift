import ArgumentParser
import UserManagementKit

/// A `umk` command: it takes the ``GlobalOptions``, so `main` knows from the parsed command
/// whether to report a failure as JSON.
protocol UMKCommand: AsyncParsableCommand {
  /// `--store` and `--json`.
  var global: GlobalOptions { get }
}

/// A command that works on a store without an acting user (`init`, `login`, `api login`,
/// `passwd`, `authorize`): `run()` opens the store, runs ``run(in:)`` and closes it.
protocol StoreCommand: UMKCommand {
  /// Whether a missing store directory is created (`init`); otherwise a missing store is a
  /// store error, so that a mistyped `--store` never creates an empty store.
  static var createsStore: Bool { get }

  /// Runs the command on the open store.
  ///
  /// - Parameter session: The open store and its directory.
  /// - Throws: A ``Failure``, a ``UserManagementError`` or an `ExitCode`.
  func run(in session: Session) async throws
}

extension StoreCommand {
  /// A missing store is an error.
  static var createsStore: Bool { false }

  /// Opens the store, runs ``run(in:)``, and closes the store whatever happens.
  ///
  /// - Throws: What ``run(in:)`` throws, or a store ``Failure``.
  mutating func run() async throws {
    let session = try Session.open(
      path: global.storePath, creating: Self.createsStore, logSignIns: !global.json)
    defer { session.close() }
    try await run(in: session)
  }
}

/// An operator command: it acts as the user named by `--as`, whom the library then checks
/// (active, and an administrator where required).
///
/// `run()` opens the store, resolves `--as` to a principal, runs ``run(in:)`` and closes the
/// store, so that no command repeats that preamble.
protocol OperatorCommand: UMKCommand {
  /// `--as EMAIL`.
  var acting: ActingOptions { get }

  /// Runs the command as the acting user.
  ///
  /// - Parameter context: The open store and the acting principal.
  /// - Throws: A ``Failure``, a ``UserManagementError`` or an `ExitCode`.
  func run(in context: OperatorContext) async throws
}

extension OperatorCommand {
  /// Opens the store, resolves `--as`, runs ``run(in:)``, and closes the store whatever
  /// happens.
  ///
  /// - Throws: What ``run(in:)`` throws, a store ``Failure``, or `not_authorized` for an
  ///   unknown `--as`.
  mutating func run() async throws {
    let session = try Session.open(
      path: global.storePath, creating: false, logSignIns: !global.json)
    defer { session.close() }
    let principal = try await session.principal(acting.username)
    try await run(in: OperatorContext(session: session, principal: principal, json: global.json))
  }
}

/// What an operator command runs with: the open store and the acting principal.
struct OperatorContext {
  /// The open store and its directory.
  let session: Session
  /// The user named by `--as`.
  let principal: Principal
  /// Whether `--json` was given.
  let json: Bool

  /// The directory over the store.
  var directory: UserDirectory { session.directory }

  /// A user's id, read as the acting principal reads (see ``Session/userID(_:by:)``).
  ///
  /// - Parameter username: The username.
  /// - Returns: The user's id.
  /// - Throws: The library's refusal (`user_not_found`, `not_authorized`, …).
  func userID(_ username: String) async throws(Failure) -> UserID {
    try await session.userID(username, by: principal)
  }

  /// Policy ids for names, matched case-insensitively.
  ///
  /// - Parameter names: The policy names.
  /// - Returns: Their ids.
  /// - Throws: `policy_not_found` for an unknown name.
  func policyIDs(_ names: [String]) async throws(Failure) -> Set<PolicyID> {
    try await session.policyIDs(names, by: principal)
  }

  /// Prints a user after a change, as the acting principal sees them.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - verb: What happened (`Added`, `Updated`, …), for the text output.
  ///   - generated: The generated password or API password, shown this once.
  func show(_ user: User, verb: String?, generated: GeneratedSecret? = nil) async {
    await session.show(user, by: principal, json: json, verb: verb, generated: generated)
  }
}
