import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk init`: bootstrap an empty store with its first administrator.
  struct Init: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Create the store and its first administrator.",
      discussion: "Works only on an empty directory (recorded as system:bootstrap).")

    /// A missing store directory is created.
    static var createsStore: Bool { true }

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The administrator's username.
    @Option(help: ArgumentHelp("The administrator's username.", valueName: "email"))
    var admin: String
    /// The first name.
    @Option(help: ArgumentHelp("The first name.", valueName: "first")) var first: String
    /// The last name.
    @Option(help: ArgumentHelp("The last name.", valueName: "last")) var last: String
    /// `--password-stdin` or `--generate-password`.
    @OptionGroup var password: PasswordSource

    /// Requires a password source.
    ///
    /// - Throws: `ValidationError` when neither flag is given.
    func validate() throws {
      try password.requireOne()
    }

    /// Bootstraps the store and prints the administrator.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `already_bootstrapped` and the library's other refusals.
    func run(in session: Session) async throws {
      let secret = try password.required()
      let result = try await session.directory.bootstrap(
        NewUser(username: admin, firstName: first, lastName: last, password: secret))
      await session.show(
        result.user, by: .user(result.user.id), json: global.json,
        verb: "Created the store at \(session.path) with its first administrator",
        generated: result.generatedPassword.map(GeneratedSecret.password))
    }
  }
}
