import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk api …`: direct API access.
  struct API: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      commandName: "api",
      abstract: "Direct API access: enable, disable, API passwords, sign-in.",
      subcommands: [Enable.self, Disable.self, Password.self, Login.self])
  }
}

extension UMK.API {
  /// `umk api enable`.
  struct Enable: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(abstract: "Enable direct API access.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Enables API access and prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      try await UMK.API.setAccess(true, of: username, in: context)
    }
  }

  /// `umk api disable`.
  struct Disable: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Disable direct API access; the API password is removed at once.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Disables API access and prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      try await UMK.API.setAccess(false, of: username, in: context)
    }
  }

  /// Enables or disables a user's API access and prints the user.
  ///
  /// - Parameters:
  ///   - enabled: Whether to enable it.
  ///   - username: The user.
  ///   - context: The store and the acting user.
  /// - Throws: The library's refusals.
  static func setAccess(_ enabled: Bool, of username: String, in context: OperatorContext)
    async throws
  {
    let id = try await context.userID(username)
    let user = try await context.directory.setAPIAccess(enabled, of: id, by: context.principal)
    await context.show(
      user, verb: enabled ? "Enabled API access for" : "Disabled API access for")
  }

  /// `umk api password`.
  struct Password: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Create, generate or reset a user's API password; the old one stops working.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--generate`.
    @Flag(help: "Generate an API password (a umk_ token); it is printed once.")
    var generate = false
    /// `--password-stdin`.
    @Flag(help: "Read the API password from standard input.") var passwordStdin = false
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Requires exactly one source.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      if generate == passwordStdin {
        throw ValidationError("Give exactly one of --generate and --password-stdin.")
      }
    }

    /// Sets the API password and prints the user (and a generated one, once).
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let secret: NewSecret =
        generate ? .generated : .typed(try StandardInput.secret(prompt: "API password: "))
      let id = try await context.userID(username)
      let result = try await context.directory.setAPIPassword(
        secret, of: id, by: context.principal)
      await context.show(
        result.user, verb: "Set the API password of",
        generated: result.generatedAPIPassword.map(GeneratedSecret.apiPassword))
    }
  }

  /// `umk api login`: the API password is the proof, so no `--as`.
  struct Login: StoreCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Check a username and API password (exit 0 if valid, 1 if not).")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--password-stdin` (required).
    @Flag(help: "Read the API password from standard input (required).")
    var passwordStdin = false

    /// Requires `--password-stdin`.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard passwordStdin else {
        throw ValidationError(
          "The API password is read from standard input: give --password-stdin.")
      }
    }

    /// Signs in to the API.
    ///
    /// - Parameter session: The open store.
    /// - Throws: `invalid_credentials`, `api_access_disabled`, … (exit 1).
    func run(in session: Session) async throws {
      let secret = try StandardInput.secret(prompt: "API password: ")
      let user = try await session.directory.authenticateAPI(
        username: username, apiPassword: secret)
      if global.json {
        await session.show(user, by: .user(user.id), json: true, verb: nil)
      } else {
        Output.line("API sign-in succeeded: \(user.username)")
      }
    }
  }
}
