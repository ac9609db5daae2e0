import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk 2fa …`: two-factor sign-in with an authenticator app (TOTP) and recovery codes.
  struct SecondFactor: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      commandName: "2fa",
      abstract: "Two-factor sign-in: enrol an authenticator app, recovery codes, reset.",
      discussion: """
        A user enrols for themself (--as names them): enroll prints the secret once, confirm \
        proves the app works and prints ten recovery codes once. From then on `umk login` \
        asks for a code after the password. With UMK_SECRET_KEY set (<id>:<base64 of 32 \
        bytes>, the same for every process using the store) the authenticator secret is \
        sealed with it; without, it is stored unsealed and the store's permissions protect it.
        """,
      subcommands: [Enroll.self, Confirm.self, Remove.self, Reset.self, RecoveryCodes.self],
      aliases: ["second-factor"])
  }
}

extension UMK.SecondFactor {
  /// `umk 2fa enroll`.
  struct Enroll: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Start enrolling an authenticator app for yourself; prints its secret once.",
      discussion: """
        Standard input holds your password: enrolling proves it is you. Prints the shared \
        secret (base32) and its otpauth:// URI (for a QR code) once: nothing prints them \
        again. Sign-in does not change until `umk 2fa confirm`. Enrolling again before \
        confirming replaces the secret.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--password-stdin` (required).
    @Flag(help: "Read your password from standard input (required).")
    var passwordStdin = false
    /// `--as`: the user who enrols.
    @OptionGroup var acting: ActingOptions

    /// Requires `--password-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError("The password is read from standard input: give --password-stdin.")
      }
    }

    /// Starts the enrolment and prints the secret and URI, once.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `invalid_credentials` for a wrong password, `invalid_operation` when a factor
    ///   is already enrolled; the library's refusals.
    func run(in context: OperatorContext) async throws {
      let password = try StandardInput.secret()
      let enrollment = try await context.directory.enrollSecondFactor(
        for: try context.selfID(), password: password, by: context.principal)
      if context.json {
        Output.document(SecondFactorEnrollmentOutput(enrollment))
        return
      }
      Output.line("Authenticator secret (shown once): \(enrollment.secret.revealForDisplay())")
      Output.line("otpauth URI (shown once): \(enrollment.uri.revealForDisplay())")
      Output.line(
        "They are shown only now; keep them secret. Add one to an authenticator app, then:")
      Output.dataLine("  umk 2fa confirm --code-stdin --as \(acting.username)")
      if context.directory.configuration.accountSecurity.keyring == nil {
        Output.line(
          "UMK_SECRET_KEY is not set, so the secret is stored unsealed: only the store's "
            + "permissions protect it.")
      }
    }
  }

  /// `umk 2fa confirm`.
  struct Confirm: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Confirm an enrolment with a current code; prints ten recovery codes once.",
      discussion: """
        Standard input holds the authenticator app's current code. Each recovery code signs \
        in once instead of a code (`umk login --recovery-code-stdin`); keep them somewhere \
        safe.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--code-stdin` (required).
    @Flag(help: "Read the authenticator code from standard input (required).")
    var codeStdin = false
    /// `--as`: the user who enrols.
    @OptionGroup var acting: ActingOptions

    /// Requires `--code-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard codeStdin else {
        throw ValidationError("The code is read from standard input: give --code-stdin.")
      }
    }

    /// Confirms the enrolment and prints the recovery codes, once.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `invalid_credentials` for a wrong code, `invalid_operation` with no enrolment.
    func run(in context: OperatorContext) async throws {
      let code = try StandardInput.secret(prompt: "Authenticator code: ")
      let codes = try await context.directory.confirmSecondFactor(
        for: try context.selfID(), code: code.revealForDisplay(), by: context.principal)
      UMK.SecondFactor.show(
        codes, json: context.json,
        heading: "Two-factor sign-in is on for \(acting.username.lowercased()).")
    }
  }

  /// `umk 2fa remove`.
  struct Remove: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Remove your own second factor and recovery codes, proving it is you.",
      discussion: """
        Standard input holds the proof: a current code or a recovery code of the confirmed \
        factor, or your password for an enrolment not yet confirmed. Your other sessions end \
        (the security stamp changes).
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The proof.
    @OptionGroup var proof: ProofSource
    /// `--as`: the user themself.
    @OptionGroup var acting: ActingOptions

    /// Requires a proof.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws { try proof.require() }

    /// Removes the factor and prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `invalid_credentials`, `throttled`, `invalid_operation` (none enrolled).
    func run(in context: OperatorContext) async throws {
      let user = try await context.directory.removeSecondFactor(
        for: try context.selfID(), proof: try proof.readRequired(), by: context.principal)
      await context.show(user, verb: "Removed the second factor of")
    }
  }

  /// `umk 2fa reset`.
  struct Reset: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Remove another user's second factor (an administrator, for a lost device).",
      discussion: """
        The user then signs in with the password alone and may enrol again. Their sessions \
        end. Administrators remove their own with `umk 2fa remove`.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`: an administrator.
    @OptionGroup var acting: ActingOptions

    /// Resets the factor and prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `self_modification_forbidden`, `invalid_operation`.
    func run(in context: OperatorContext) async throws {
      let id = try await context.userID(username)
      let user = try await context.directory.resetSecondFactor(of: id, by: context.principal)
      await context.show(user, verb: "Reset the second factor of")
    }
  }

  /// Prints recovery codes, once: `{"recoveryCodes":[…]}` with `--json`.
  ///
  /// - Parameters:
  ///   - codes: The codes.
  ///   - json: Whether `--json` was given.
  ///   - heading: The first line of the text output.
  static func show(_ codes: [Secret], json: Bool, heading: String) {
    if json {
      Output.document(RecoveryCodesOutput(recoveryCodes: codes.map { $0.revealForDisplay() }))
      return
    }
    Output.dataLine(heading)
    Output.line("Recovery codes (shown once; each signs in once, instead of a code):")
    for code in codes { Output.line("  \(code.revealForDisplay())") }
  }
}

extension UMK.SecondFactor {
  /// `umk 2fa recovery-codes …`.
  struct RecoveryCodes: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      commandName: "recovery-codes",
      abstract: "Replace your recovery codes, or count those left.",
      subcommands: [Regenerate.self, Status.self])
  }
}

extension UMK.SecondFactor.RecoveryCodes {
  /// `umk 2fa recovery-codes regenerate`.
  struct Regenerate: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Replace your recovery codes with ten new ones, printed once.",
      discussion: """
        Standard input holds the proof: a current code or a recovery code (your password \
        alone is refused with second_factor_required). The old codes stop working.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The proof.
    @OptionGroup var proof: ProofSource
    /// `--as`: the user themself.
    @OptionGroup var acting: ActingOptions

    /// Requires a proof.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws { try proof.require() }

    /// Replaces the codes and prints the new ones, once.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `invalid_credentials`, `throttled`, `invalid_operation` (none enrolled).
    func run(in context: OperatorContext) async throws {
      let codes = try await context.directory.regenerateRecoveryCodes(
        for: try context.selfID(), proof: try proof.readRequired(), by: context.principal)
      UMK.SecondFactor.show(
        codes, json: context.json,
        heading: "New recovery codes for \(acting.username.lowercased()); the old ones no "
          + "longer work.")
    }
  }

  /// `umk 2fa recovery-codes status`.
  struct Status: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Show whether a user has a second factor and how many recovery codes are left.",
      discussion: "Administrators may ask about anyone; other users only about themselves.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user (default: the acting user).
    @Argument(help: ArgumentHelp("The username (default: the acting user).", valueName: "email"))
    var username: String?
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the state.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: `not_authorized`, `user_not_found`.
    func run(in context: OperatorContext) async throws {
      let user = try await context.directory.user(
        named: username ?? acting.username, by: context.principal)
      let remaining = try await context.directory.remainingRecoveryCodes(
        of: user.id, by: context.principal)
      if context.json {
        Output.document(
          SecondFactorStatusOutput(
            username: user.username.rawValue, secondFactor: user.hasSecondFactor,
            remainingRecoveryCodes: remaining))
        return
      }
      Output.line(
        "\(user.username): second factor \(user.hasSecondFactor ? "on" : "off"), "
          + "\(remaining) recovery codes left")
    }
  }
}
