import ArgumentParser
import UserManagementKit

extension UMK {
  /// `umk user …`: the user accounts.
  struct User: AsyncParsableCommand {
    /// The group's help and commands.
    static let configuration = CommandConfiguration(
      abstract: "Add, show, list and edit users.",
      subcommands: [
        Add.self, Show.self, List.self, Edit.self, Activate.self, Deactivate.self, SetRole.self,
        SetPolicies.self, VerifyEmail.self,
      ])
  }
}

extension UMK.User {
  /// `umk user add`: Create User Account.
  struct Add: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(abstract: "Add a user.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The new username.
    @Argument(help: ArgumentHelp("The username: an e-mail address.", valueName: "email"))
    var username: String
    /// The first name.
    @Option(help: ArgumentHelp("The first name.", valueName: "first")) var first: String
    /// The last name.
    @Option(help: ArgumentHelp("The last name.", valueName: "last")) var last: String
    /// `--password-stdin` or `--generate-password`.
    @OptionGroup var password: PasswordSource
    /// `--inactive`.
    @Flag(help: "Create the user inactive.") var inactive = false
    /// `--admin`.
    @Flag(help: "Make the user an administrator.") var admin = false
    /// `--policy NAME`, repeated.
    @Option(
      name: .customLong("policy"),
      help: ArgumentHelp("A policy of the General User (repeat for more).", valueName: "name"))
    var policies: [String] = []
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Requires a password source, and no policies for an administrator.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      try password.requireOne()
      if admin && !policies.isEmpty {
        throw ValidationError("Policies apply to General Users only; drop --admin or --policy.")
      }
    }

    /// Adds the user and prints them (and a generated password, once).
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let secret = try password.required()
      let ids = try await context.policyIDs(policies)
      let result = try await context.directory.addUser(
        NewUser(
          username: username, firstName: first, lastName: last, password: secret,
          status: inactive ? .inactive : .active, role: admin ? .admin : .generalUser,
          policies: ids),
        by: context.principal)
      await context.show(
        result.user, verb: "Added",
        generated: result.generatedPassword.map(GeneratedSecret.password))
    }
  }

  /// `umk user show`.
  struct Show: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Show a user.",
      discussion: "Administrators may show anyone; other active users only themselves.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user to show.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let user = try await context.directory.user(named: username, by: context.principal)
      let names = await context.session.policyNames(by: context.principal)
      if context.json {
        Output.document(UserResultOutput(user: UserOutput(user, policyNames: names)))
        return
      }
      Output.dataLine(UserOutput.summary(user, policyNames: names))
      Output.line("  id: \(user.id)")
      Output.line("  password: \(user.hasPassword ? "set" : "none")")
      if user.mustChangePassword { Output.line("  must change password at next sign-in") }
      Output.line("  API password: \(user.hasAPIPassword ? "set" : "none")")
      Output.line("  second factor: \(user.hasSecondFactor ? "on" : "off")")
      Output.line("  e-mail: \(user.emailVerified ? "verified" : "not verified")")
      Output.line("  version: \(user.version)")
      Output.line("  created: \(Output.timestamp(user.createdAt)) by \(user.createdBy)")
      Output.line("  updated: \(Output.timestamp(user.updatedAt))")
    }
  }

  /// `umk user list`.
  struct List: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "List users, in username order, a page at a time.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// `--status`.
    @Option(help: ArgumentHelp("active or inactive.", valueName: "status"))
    var status: StatusArgument?
    /// `--role`.
    @Option(help: ArgumentHelp("admin or general.", valueName: "role")) var role: RoleArgument?
    /// `--policy`.
    @Option(help: ArgumentHelp("Only holders of this policy.", valueName: "name"))
    var policy: String?
    /// `--api-access`.
    @Option(help: ArgumentHelp("on or off.", valueName: "on|off")) var apiAccess: OnOff?
    /// `--search`.
    @Option(help: ArgumentHelp("Text in the username or names.", valueName: "text"))
    var search: String?
    /// `--limit`.
    @Option(help: ArgumentHelp("The page size (1–1000, default 50).", valueName: "n"))
    var limit = 50
    /// `--after`.
    @Option(help: ArgumentHelp("The cursor printed after the previous page.", valueName: "cursor"))
    var after: String?
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Checks the page size.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      guard (1...UserQuery.maximumLimit).contains(limit) else {
        throw ValidationError("--limit must be between 1 and \(UserQuery.maximumLimit).")
      }
    }

    /// Prints one page.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals; `invalid_cursor` (exit 64) for a bad `--after`.
    func run(in context: OperatorContext) async throws {
      var filter = UserFilter(
        status: status?.value, role: role?.value, apiAccess: apiAccess.map { $0 == .on },
        search: search)
      if let policy {
        filter.policy = try await context.directory.policy(named: policy, by: context.principal)
          .id
      }
      let page = try await context.directory.users(
        UserQuery(filter: filter, limit: limit, after: after.map(UserCursor.init(parsing:))),
        by: context.principal)
      let names = await context.session.policyNames(by: context.principal)
      if context.json {
        Output.document(
          UserPageOutput(
            users: page.users.map { UserOutput($0, policyNames: names) },
            nextCursor: page.nextCursor?.description))
        return
      }
      for user in page.users { Output.dataLine(UserOutput.summary(user, policyNames: names)) }
      if page.users.isEmpty { Output.line("No users match.") }
      if let next = page.nextCursor { Output.line("More: --after \(next)") }
    }
  }

  /// `umk user edit`: Edit User Account.
  struct Edit: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Edit a user's names, or reset their password (administrators).",
      discussion: """
        General Users may edit only their own names. Administrators may reset another \
        user's password; the user must change it at the next sign-in. Change your own \
        password with `umk passwd`.
        """)

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user to edit.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--first`.
    @Option(help: ArgumentHelp("A new first name.", valueName: "first")) var first: String?
    /// `--last`.
    @Option(help: ArgumentHelp("A new last name.", valueName: "last")) var last: String?
    /// `--password-stdin` or `--generate-password`, to reset the password.
    @OptionGroup var password: PasswordSource
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Requires something to change.
    ///
    /// - Throws: `ValidationError` (exit 64).
    func validate() throws {
      if first == nil && last == nil && !password.isGiven {
        throw ValidationError(
          "Nothing to change: give --first, --last, --password-stdin or --generate-password.")
      }
    }

    /// Changes the user and prints them (and a generated password, once).
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let secret = try password.newSecret()
      let id = try await context.userID(username)
      let result = try await context.directory.updateUser(
        id, with: UserUpdate(firstName: first, lastName: last, password: secret),
        by: context.principal)
      await context.show(
        result.user, verb: "Updated",
        generated: result.generatedPassword.map(GeneratedSecret.password))
    }
  }

  /// `umk user activate`.
  struct Activate: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Set a user as active (not yourself).")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user to activate.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Activates the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      try await UMK.User.setStatus(.active, of: username, in: context)
    }
  }

  /// `umk user deactivate`.
  struct Deactivate: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Set a user as inactive (not yourself); users are never deleted.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user to deactivate.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Deactivates the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      try await UMK.User.setStatus(.inactive, of: username, in: context)
    }
  }

  /// Sets a user's status and prints them.
  ///
  /// - Parameters:
  ///   - status: The new status.
  ///   - username: The user.
  ///   - context: The store and the acting user.
  /// - Throws: The library's refusals.
  static func setStatus(_ status: UserStatus, of username: String, in context: OperatorContext)
    async throws
  {
    let id = try await context.userID(username)
    let user = try await context.directory.setStatus(status, of: id, by: context.principal)
    await context.show(user, verb: status == .active ? "Activated" : "Deactivated")
  }

  /// `umk user set-role`.
  struct SetRole: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Grant or revoke admin access (not your own).",
      discussion: "Becoming an administrator removes all policies.")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// The new role.
    @Argument(help: ArgumentHelp("admin or general.", valueName: "role")) var role: RoleArgument
    /// `--policy NAME`, repeated.
    @Option(
      name: .customLong("policy"),
      help: ArgumentHelp("The General User's policies (repeat for more).", valueName: "name"))
    var policies: [String] = []
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Sets the role (and policies) and prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let id = try await context.userID(username)
      let ids = policies.isEmpty ? nil : try await context.policyIDs(policies)
      let user = try await context.directory.setRole(
        role.value, policies: ids, of: id, by: context.principal)
      await context.show(user, verb: "Updated")
    }
  }

  /// `umk user set-policies`.
  struct SetPolicies: OperatorCommand {
    /// The command's help.
    static let configuration = CommandConfiguration(
      abstract: "Replace a General User's policies (none clears them).")

    /// `--store`, `--json`.
    @OptionGroup var global: GlobalOptions
    /// The user.
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    /// The new policies.
    @Argument(help: ArgumentHelp("The complete new set of policy names.", valueName: "name"))
    var policies: [String] = []
    /// `--as`.
    @OptionGroup var acting: ActingOptions

    /// Replaces the policies and prints the user.
    ///
    /// - Parameter context: The store and the acting user.
    /// - Throws: The library's refusals.
    func run(in context: OperatorContext) async throws {
      let id = try await context.userID(username)
      let ids = try await context.policyIDs(policies)
      let user = try await context.directory.setPolicies(ids, of: id, by: context.principal)
      await context.show(user, verb: "Updated")
    }
  }
}
