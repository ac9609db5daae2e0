import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk password …`: password-reset tokens ("forgot password").
  struct PasswordReset: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      commandName: "password",
      abstract: "Password-reset tokens: issue one, or set a new password with one.",
      subcommands: [ResetToken.self, Reset.self])
  }
}

extension UMK.PasswordReset {
  /// `umk password reset-token`.
  struct ResetToken: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      commandName: "reset-token",
      abstract: "Issue a password-reset token for a user; it is printed once.",
      discussion: """
        A host would mail the token in a "forgot password" link and never show or log it; \
        umk prints it once, for the operator to pass on. It works once, for 30 minutes, and \
        dies when the user's password, status or role changes. At most three are outstanding; \
        a fourth replaces the oldest. One is issued a minute at most: another request within the \
        minute fails with invalid_operation. Administrators may issue one for anyone, other users \
        only for themselves. The user sets the new password with `umk password reset \
        --token-stdin`.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Issues the token and prints it, once.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `user_not_found`, `account_inactive`, `invalid_operation`
    ///   within a minute of the last token.
    func run(in context: OperatorContext) async throws {
      // The library issues tokens without a principal (a host calls it for anyone who asks,
      // and mails the token); umk prints it, so it first checks that the acting user may read
      // the user: an administrator, or the user themself.
      let user = try await context.directory.user(named: username, by: context.principal)
      guard user.status == .active else {
        throw Failure(.accountInactive, "The account is inactive.")
      }
      // For an active user, no token means one was issued less than a minute ago: the library
      // issues at most one a minute, so that a flood of requests does not push out the link
      // already sent.
      guard let token = try await context.directory.passwordResetToken(for: user.username.rawValue)
      else {
        throw Failure(
          .invalidOperation,
          "A reset token was issued for this user less than a minute ago; try again in a minute.")
      }
      if context.json {
        Output.document(TokenOutput(username: user.username.rawValue, token: token))
        return
      }
      Output.line("Password-reset token for \(user.username) (shown once):")
      Output.line(token.revealForDisplay())
      Output.line("It works once, for 30 minutes: umk password reset --token-stdin")
    }
  }

  /// `umk password reset`: the token is the proof, so no `--as`.
  struct Reset: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Set a new password with a password-reset token.",
      discussion: """
        Standard input holds the token, a newline, then the new password. The token and every \
        other outstanding one stop working; the user's other sessions end.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--token-stdin` (required).
    @Flag(help: "Read the token, then the new password, from standard input (required).")
    var tokenStdin = false

    /// Requires `--token-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard tokenStdin else {
        throw ValidationError(
          "The token and the new password are read from standard input: give --token-stdin.")
      }
    }

    /// Resets the password and prints the user.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_token`, `weak_password` (exit 1).
    func run(in session: Session) async throws {
      let (token, password) = try StandardInput.twoSecrets(first: "token", second: "new password")
      let user = try await session.directory.resetPassword(token: token, newPassword: password)
      await session.show(
        user, by: .user(user.id), json: global.json, verb: "Reset the password of")
    }
  }
}

extension UMK.User {
  /// `umk user verify-email …`: e-mail verification tokens.
  struct VerifyEmail: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      commandName: "verify-email",
      abstract: "Verify a user's e-mail address with a token: issue one, or redeem it.",
      subcommands: [Issue.self, Confirm.self])
  }
}

extension UMK.User.VerifyEmail {
  /// `umk user verify-email issue`.
  struct Issue: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Issue an e-mail verification token; it is printed once.",
      discussion: """
        A host would mail the token to the address; umk prints it once. It works once, for \
        24 hours. Administrators may issue one for anyone, other users only for themselves.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Issues the token and prints it, once.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `user_not_found`, `account_inactive`.
    func run(in context: OperatorContext) async throws {
      let user = try await context.directory.user(named: username, by: context.principal)
      let token = try await context.directory.emailVerificationToken(
        for: user.id, by: context.principal)
      if context.json {
        Output.document(TokenOutput(username: user.username.rawValue, token: token))
        return
      }
      Output.line("E-mail verification token (shown once):")
      Output.line(token.revealForDisplay())
      Output.line("Redeem it with: umk user verify-email confirm --token-stdin")
    }
  }

  /// `umk user verify-email confirm`: the token is the proof, so no `--as`.
  struct Confirm: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Mark an e-mail address verified with a token read from standard input.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--token-stdin` (required).
    @Flag(help: "Read the token from standard input (required).") var tokenStdin = false

    /// Requires `--token-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard tokenStdin else {
        throw ValidationError("The token is read from standard input: give --token-stdin.")
      }
    }

    /// Verifies the address and prints the user.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_token` (exit 1).
    func run(in session: Session) async throws {
      let token = try StandardInput.secret(prompt: "Token: ")
      let user = try await session.directory.verifyEmail(token: token)
      await session.show(
        user, by: .user(user.id), json: global.json, verb: "Verified the e-mail address of")
    }
  }
}
