import ArgumentParser
import UserManagementKit

/// `umk api …`: direct API access.
struct APICommands: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "api", abstract: "Direct API access: enable, disable, API passwords, sign-in.",
    subcommands: [Enable.self, Disable.self, Password.self, APILogin.self])

  struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enable direct API access.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await APICommands.setAccess(true, of: username, global: global, acting: acting)
    }
  }

  struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Disable direct API access; the API password is removed at once.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await APICommands.setAccess(false, of: username, global: global, acting: acting)
    }
  }

  static func setAccess(
    _ enabled: Bool, of username: String, global: GlobalOptions, acting: ActingUser
  )
    async throws
  {
    try await Session.with(global) { session in
      let actor = try await session.principal(acting.username)
      let id = try await session.userID(username, by: actor)
      let user = try await session.directory.setAPIAccess(enabled, of: id, by: actor)
      await printUser(
        user, session: session, by: actor, json: global.json,
        verb: enabled ? "Enabled API access for" : "Disabled API access for")
    }
  }

  struct Password: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "password",
      abstract: "Create, generate or reset a user's API password; the old one stops working.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @Flag(help: "Generate an API password (a umk_ token); it is printed once.")
    var generate = false
    @Flag(help: "Read the API password from standard input.") var passwordStdin = false
    @OptionGroup var acting: ActingUser

    func validate() throws {
      if generate == passwordStdin {
        throw ValidationError("Give exactly one of --generate and --password-stdin.")
      }
    }

    mutating func run() async throws {
      let secret: NewSecret =
        generate ? .generated : .typed(try StandardInput.secret(prompt: "API password: "))
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let id = try await session.userID(username, by: actor)
        let result = try await session.directory.setAPIPassword(secret, of: id, by: actor)
        await printUser(
          result.user, session: session, by: actor, json: global.json,
          verb: "Set the API password of", generatedAPIPassword: result.generatedAPIPassword)
      }
    }
  }

  struct APILogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "login",
      abstract: "Check a username and API password (exit 0 if valid, 1 if not).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @Flag(help: "Read the API password from standard input (required).")
    var passwordStdin = false

    func validate() throws {
      guard passwordStdin else {
        throw ValidationError(
          "The API password is read from standard input: give --password-stdin.")
      }
    }

    mutating func run() async throws {
      let secret = try StandardInput.secret(prompt: "API password: ")
      try await Session.with(global) { session in
        let user = try await session.directory.authenticateAPI(
          username: username, apiPassword: secret)
        if global.json {
          await printUser(user, session: session, by: .user(user.id), json: true)
        } else {
          Output.line("API sign-in succeeded: \(user.username)")
        }
      }
    }
  }
}

/// `umk login`: check a username and password.
struct Login: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a username and password (exit 0 if valid, 1 if not).",
    discussion: """
      Failed attempts count towards the account's throttle. A hash weaker than the current \
      algorithm (an imported one, say) is upgraded on success.
      """)

  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
  @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

  func validate() throws {
    guard passwordStdin else {
      throw ValidationError("The password is read from standard input: give --password-stdin.")
    }
  }

  mutating func run() async throws {
    let secret = try StandardInput.secret()
    try await Session.with(global) { session in
      let result = try await session.directory.authenticate(username: username, password: secret)
      if global.json {
        await printUser(
          result.user, session: session, by: .user(result.user.id), json: true,
          extra: [
            ("mustChangePassword", .bool(result.mustChangePassword)),
            ("rehashed", .bool(result.rehashed)),
          ])
        return
      }
      Output.line("Signed in: \(result.user.username)")
      if result.rehashed { Output.line("The stored password hash was upgraded.") }
      if result.mustChangePassword {
        Output.line("The password must be changed now: umk passwd \(result.user.username)")
      }
    }
  }
}

/// `umk passwd`: change one's own password.
struct Passwd: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Change your own password, proving the current one.",
    discussion: "Standard input holds the current password, a newline, then the new one.")

  @OptionGroup var global: GlobalOptions
  @Argument(help: ArgumentHelp("Your username.", valueName: "email")) var username: String
  @Flag(help: "Read the current and new passwords from standard input (required).")
  var passwordStdin = false

  func validate() throws {
    guard passwordStdin else {
      throw ValidationError("The passwords are read from standard input: give --password-stdin.")
    }
  }

  mutating func run() async throws {
    let (current, new) = try StandardInput.twoSecrets()
    try await Session.with(global) { session in
      guard let user = try await session.profile(username) else {
        // The same answer as a wrong password, after the same work: the library's sign-in
        // spends one password verification on an unknown user, so timing tells nothing.
        _ = try? await session.directory.authenticate(username: username, password: current)
        throw UserManagementError(
          .invalidCredentials, "The username or password is incorrect.")
      }
      let changed = try await session.directory.changeOwnPassword(
        of: user.id, current: current, new: new)
      await printUser(
        changed, session: session, by: .user(changed.id), json: global.json,
        verb: "Changed the password of")
    }
  }
}
