import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk login`: the password is the proof, so no `--as`.
  struct Login: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Check a username and password (exit 0 if valid, 1 if not).",
      discussion: """
        Failed attempts count towards the account's throttle. A hash weaker than the current \
        algorithm (an imported one, say) is upgraded on success.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--password-stdin` (required).
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

    /// Requires `--password-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
    }

    /// Signs in.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_credentials`, `account_inactive`, `throttled`, … (exit 1).
    func run(in session: Session) async throws {
      let secret = try StandardInput.secret()
      let result = try await session.directory.authenticate(username: username, password: secret)
      if global.json {
        let names = await session.policyNames(by: .user(result.user.id))
        Output.document(
          LoginOutput(
            user: UserOutput(result.user, policyNames: names),
            mustChangePassword: result.mustChangePassword, rehashed: result.rehashed))
        return
      }
      Output.line("Signed in: \(result.user.username)")
      if result.rehashed { Output.line("The stored password hash was upgraded.") }
      if result.mustChangePassword {
        Output.line("The password must be changed now: umk passwd \(result.user.username)")
      }
    }
  }

  /// `umk passwd`: the current password is the proof, so no `--as`.
  struct Passwd: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Change your own password, proving the current one.",
      discussion: "Standard input holds the current password, a newline, then the new one.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("Your username.", valueName: "email")) var username: String
    /// `--password-stdin` (required).
    @Flag(help: "Read the current and new passwords from standard input (required).")
    var passwordStdin = false

    /// Requires `--password-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError(
          "The passwords are read from standard input: give --password-stdin.")
      }
    }

    /// Changes the password and prints the user.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_credentials`, `weak_password`, … (exit 1).
    func run(in session: Session) async throws {
      let (current, new) = try StandardInput.twoSecrets()
      guard let user = try await session.profile(username) else {
        // The same answer as a wrong password, after the same work: the library's sign-in
        // spends one password verification on an unknown user, so timing tells nothing.
        _ = try? await session.directory.authenticate(username: username, password: current)
        throw UserManagementError(.invalidCredentials, "The username or password is incorrect.")
      }
      let changed = try await session.directory.changeOwnPassword(
        of: user.id, current: current, new: new)
      await session.show(
        changed, by: .user(changed.id), json: global.json, verb: "Changed the password of")
    }
  }
}
