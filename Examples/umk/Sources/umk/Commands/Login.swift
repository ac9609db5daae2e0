import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk login`: the password (and, for an account with a second factor, a code) is the
  /// proof, so no `--as`.
  struct Login: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Check a username and password (exit 0 if valid, 1 if not).",
      discussion: """
        Failed attempts count towards the account's throttle. A hash weaker than the current \
        algorithm (an imported one, say) is upgraded on success.

        An account with a second factor (umk 2fa) signs in in two steps: the password, then a \
        code. With --code-stdin standard input holds the password, a newline, then the \
        authenticator app's current code; with --recovery-code-stdin, an unused recovery code \
        instead (it is used up). On a terminal the code is asked for after the password. \
        Without either flag, off a terminal, a required code fails with \
        second_factor_required (exit 1). A code is never accepted twice; wrong codes count \
        towards the same throttle as wrong passwords.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--password-stdin` (required).
    @Flag(help: "Read the password from standard input (required).") var passwordStdin = false
    /// `--code-stdin`.
    @Flag(
      help: "After the password and a newline, read an authenticator code from standard input.")
    var codeStdin = false
    /// `--recovery-code-stdin`.
    @Flag(help: "After the password and a newline, read a recovery code from standard input.")
    var recoveryCodeStdin = false

    /// Requires `--password-stdin`, and at most one kind of code.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
      if codeStdin && recoveryCodeStdin {
        throw ValidationError("Give either --code-stdin or --recovery-code-stdin, not both.")
      }
    }

    /// Which kind of code the command line announced, if any.
    private var announcedCode: CodeKind? {
      codeStdin ? .authenticator : recoveryCodeStdin ? .recovery : nil
    }

    /// Signs in: the password step, then, when the account has a second factor, the code step.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_credentials`, `invalid_token`, `account_inactive`, `throttled`,
    ///   `second_factor_required`, … (exit 1).
    func run(in session: Session) async throws {
      let password: Secret
      var pendingCode: Secret?
      if let kind = announcedCode, !StandardInput.isTerminal {
        (password, pendingCode) = try StandardInput.twoSecrets(
          first: "password", second: kind.name)
      } else {
        password = try StandardInput.secret()
      }
      let signedIn: AuthenticatedUser
      var usedCode: CodeKind?
      switch try await session.directory.authenticate(username: username, password: password) {
      case .signedIn(let user):
        signedIn = user
      case .secondFactorRequired(let challenge):
        let kind = announcedCode ?? .authenticator
        let typed: Secret
        if let pendingCode {
          typed = pendingCode
        } else if StandardInput.isTerminal {
          typed = try StandardInput.secret(prompt: kind.name.capitalizingFirst + ": ")
        } else {
          throw Failure(
            .secondFactorRequired,
            "This account has a second factor: give --code-stdin (standard input: the "
              + "password, a newline, then the authenticator code) or --recovery-code-stdin.")
        }
        signedIn = try await session.directory.completeSignIn(
          challenge.token, with: kind.code(typed))
        usedCode = kind
      }
      let user = signedIn.user
      var remaining: Int?
      if usedCode == .recovery {
        remaining = try? await session.directory.remainingRecoveryCodes(
          of: user.id, by: .user(user.id))
      }
      if global.json {
        let names = await session.policyNames(by: .user(user.id))
        Output.document(
          LoginOutput(
            user: UserOutput(user, policyNames: names),
            mustChangePassword: signedIn.mustChangePassword, rehashed: signedIn.rehashed,
            secondFactor: usedCode?.rawValue,
            mustEnrollSecondFactor: signedIn.mustEnrollSecondFactor,
            remainingRecoveryCodes: remaining))
        return
      }
      switch usedCode {
      case .authenticator:
        Output.line("Signed in: \(user.username) (with an authenticator code)")
      case .recovery:
        Output.line(
          "Signed in: \(user.username) (with a recovery code; \(remaining.map(String.init) ?? "?") "
            + "left)")
      case nil:
        Output.line("Signed in: \(user.username)")
      }
      if signedIn.rehashed { Output.line("The stored password hash was upgraded.") }
      if signedIn.mustChangePassword {
        Output.line("The password must be changed now: umk passwd \(user.username)")
      }
      if signedIn.mustEnrollSecondFactor {
        Output.line(
          "A second factor must be enrolled now: umk 2fa enroll --password-stdin --as \(user.username)"
        )
      }
    }
  }

  /// `umk passwd`: the current password is the proof, so no `--as`.
  struct Passwd: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Change your own password, proving the current one.",
      discussion:
        "Standard input holds the current password, a newline, then the new one. An account "
        + "with a second factor also needs a code: add --code-stdin (or --recovery-code-stdin) "
        + "and a third line.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("Your username.", valueName: "email")) var username: String
    /// `--password-stdin` (required).
    @Flag(help: "Read the current and new passwords from standard input (required).")
    var passwordStdin = false
    /// `--code-stdin`.
    @Flag(
      help: ArgumentHelp(
        "For an account with a second factor: after the two passwords, read an authenticator "
          + "code from standard input."))
    var codeStdin = false
    /// `--recovery-code-stdin`.
    @Flag(help: "Likewise, with a recovery code.")
    var recoveryCodeStdin = false

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
      if codeStdin && recoveryCodeStdin {
        throw Failure.usage("Give either --code-stdin or --recovery-code-stdin, not both.")
      }
      let kind: CodeKind? = codeStdin ? .authenticator : recoveryCodeStdin ? .recovery : nil
      let current: Secret
      let new: Secret
      var code: SecondFactorCode?
      if let kind, !StandardInput.isTerminal {
        let typed: Secret
        (current, new, typed) = try StandardInput.threeSecrets(
          names: ("current password", "new password", kind.name))
        code = kind.code(typed)
      } else {
        (current, new) = try StandardInput.twoSecrets()
        if let kind {
          code = kind.code(try StandardInput.secret(prompt: kind.name.capitalizingFirst + ": "))
        }
      }
      guard let user = try await session.profile(username) else {
        // The same answer as a wrong password, after the same work: the library's sign-in
        // spends one password verification on an unknown user, so timing tells nothing.
        _ = try? await session.directory.authenticate(username: username, password: current)
        throw UserManagementError(.invalidCredentials, "The username or password is incorrect.")
      }
      let changed = try await session.directory.changeOwnPassword(
        of: user.id, current: current, new: new, secondFactor: code)
      await session.show(
        changed, by: .user(changed.id), json: global.json, verb: "Changed the password of")
    }
  }
}
