import ArgumentParser
import UserManagementKit

/// `--as EMAIL`: the acting user.
struct ActingUser: ParsableArguments {
  @Option(
    name: .customLong("as"),
    help: ArgumentHelp(
      "The acting user. Not authenticated: the store's file permissions are the boundary.",
      valueName: "email"))
  var username: String
}

/// Prints a user (and a generated password, once).
func printUser(
  _ user: User, session: Session, by principal: Principal, json: Bool, verb: String? = nil,
  generatedPassword: Secret? = nil, generatedAPIPassword: Secret? = nil,
  extra: [(String, JSON)] = []
) async {
  let names = await session.policyNames(by: principal)
  if json {
    var members: [(String, JSON)] = [("user", Shapes.user(user, policyNames: names))]
    if let generatedPassword {
      members.append(("generatedPassword", .string(generatedPassword.revealForDisplay())))
    }
    if let generatedAPIPassword {
      members.append(("generatedAPIPassword", .string(generatedAPIPassword.revealForDisplay())))
    }
    Output.document(.object(members + extra))
    return
  }
  if let verb { Output.line("\(verb) \(user.username)") }
  Output.line(Shapes.summary(user, policyNames: names))
  if let generatedPassword {
    Output.line("Generated password (shown once): \(generatedPassword.revealForDisplay())")
  }
  if let generatedAPIPassword {
    Output.line("Generated API password (shown once): \(generatedAPIPassword.revealForDisplay())")
  }
  if user.mustChangePassword && verb != nil && generatedPassword != nil {
    Output.line("The user must change this password at the next sign-in.")
  }
}

/// `umk init`: bootstrap an empty store with its first administrator.
struct Init: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Create the store and its first administrator.",
    discussion: "Works only on an empty directory (recorded as system:bootstrap).")

  @OptionGroup var global: GlobalOptions
  @Option(help: ArgumentHelp("The administrator's username.", valueName: "email"))
  var admin: String
  @Option(help: ArgumentHelp("The first name.", valueName: "first")) var first: String
  @Option(help: ArgumentHelp("The last name.", valueName: "last")) var last: String
  @OptionGroup var password: PasswordSource

  mutating func run() async throws {
    let secret = try password.required()
    try await Session.with(global, creating: true) { session in
      let result = try await session.directory.bootstrap(
        NewUser(username: admin, firstName: first, lastName: last, password: secret))
      await printUser(
        result.user, session: session, by: .user(result.user.id), json: global.json,
        verb: "Created the store at \(session.path) with its first administrator",
        generatedPassword: result.generatedPassword)
    }
  }
}

/// `umk user …`.
struct UserCommands: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "user", abstract: "Add, show, list and edit users.",
    subcommands: [
      Add.self, Show.self, List.self, Edit.self, Activate.self, Deactivate.self, SetRole.self,
      SetPolicies.self,
    ])

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a user.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username: an e-mail address.", valueName: "email"))
    var username: String
    @Option(help: ArgumentHelp("The first name.", valueName: "first")) var first: String
    @Option(help: ArgumentHelp("The last name.", valueName: "last")) var last: String
    @OptionGroup var password: PasswordSource
    @Flag(help: "Create the user inactive.") var inactive = false
    @Flag(help: "Make the user an administrator.") var admin = false
    @Option(
      name: .customLong("policy"),
      help: ArgumentHelp("A policy of the General User (repeat for more).", valueName: "name"))
    var policies: [String] = []
    @OptionGroup var acting: ActingUser

    func validate() throws {
      if admin && !policies.isEmpty {
        throw ValidationError("Policies apply to General Users only; drop --admin or --policy.")
      }
    }

    mutating func run() async throws {
      let secret = try password.required()
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let ids = try await session.policyIDs(policies, by: actor)
        let result = try await session.directory.addUser(
          NewUser(
            username: username, firstName: first, lastName: last, password: secret,
            status: inactive ? .inactive : .active, role: admin ? .admin : .generalUser,
            policies: ids),
          by: actor)
        await printUser(
          result.user, session: session, by: actor, json: global.json, verb: "Added",
          generatedPassword: result.generatedPassword)
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a user.",
      discussion: "Administrators may show anyone; other active users only themselves.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let user = try await session.directory.user(named: username, by: actor)
        let names = await session.policyNames(by: actor)
        if global.json {
          Output.document(.object([("user", Shapes.user(user, policyNames: names))]))
          return
        }
        Output.line(Shapes.summary(user, policyNames: names))
        Output.line("  id: \(user.id)")
        Output.line("  password: \(user.hasPassword ? "set" : "none")")
        if user.mustChangePassword { Output.line("  must change password at next sign-in") }
        Output.line("  API password: \(user.hasAPIPassword ? "set" : "none")")
        Output.line("  version: \(user.version)")
        Output.line("  created: \(Output.timestamp(user.createdAt)) by \(user.createdBy)")
        Output.line("  updated: \(Output.timestamp(user.updatedAt))")
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List users, in username order, a page at a time.")

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("active or inactive.", valueName: "status"))
    var status: StatusArgument?
    @Option(help: ArgumentHelp("admin or general.", valueName: "role")) var role: RoleArgument?
    @Option(help: ArgumentHelp("Only holders of this policy.", valueName: "name"))
    var policy: String?
    @Option(help: ArgumentHelp("on or off.", valueName: "on|off")) var apiAccess: OnOff?
    @Option(help: ArgumentHelp("Text in the username or names.", valueName: "text"))
    var search: String?
    @Option(help: ArgumentHelp("The page size (1–1000, default 50).", valueName: "n"))
    var limit = 50
    @Option(help: ArgumentHelp("The cursor printed after the previous page.", valueName: "cursor"))
    var after: String?
    @OptionGroup var acting: ActingUser

    func validate() throws {
      guard (1...UserQuery.maximumLimit).contains(limit) else {
        throw ValidationError("--limit must be between 1 and \(UserQuery.maximumLimit).")
      }
    }

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        var filter = UserFilter(
          status: status?.value, role: role?.value, apiAccess: apiAccess.map { $0 == .on },
          search: search)
        if let policy {
          filter.policy = try await session.directory.policy(named: policy, by: actor).id
        }
        let page = try await session.directory.users(
          UserQuery(filter: filter, limit: limit, after: after.map(UserCursor.init(parsing:))),
          by: actor)
        let names = await session.policyNames(by: actor)
        if global.json {
          Output.document(
            .object([
              ("users", .array(page.users.map { Shapes.user($0, policyNames: names) })),
              ("nextCursor", .optional(page.nextCursor?.description)),
            ]))
          return
        }
        for user in page.users { Output.line(Shapes.summary(user, policyNames: names)) }
        if page.users.isEmpty { Output.line("No users match.") }
        if let next = page.nextCursor { Output.line("More: --after \(next)") }
      }
    }
  }

  struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Edit a user's names, or reset their password (administrators).",
      discussion: """
        General Users may edit only their own names. Administrators may reset another \
        user's password; the user must change it at the next sign-in. Change your own \
        password with `umk passwd`.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @Option(help: ArgumentHelp("A new first name.", valueName: "first")) var first: String?
    @Option(help: ArgumentHelp("A new last name.", valueName: "last")) var last: String?
    @OptionGroup var password: PasswordSource
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      let secret = try password.newSecret()
      if first == nil && last == nil && secret == nil {
        throw Failure.usage(
          "Nothing to change: give --first, --last, --password-stdin or --generate-password.")
      }
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let id = try await session.userID(username, by: actor)
        let result = try await session.directory.updateUser(
          id, with: UserUpdate(firstName: first, lastName: last, password: secret), by: actor)
        await printUser(
          result.user, session: session, by: actor, json: global.json, verb: "Updated",
          generatedPassword: result.generatedPassword)
      }
    }
  }

  struct Activate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set a user as active (not yourself).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await setStatus(.active, of: username, global: global, acting: acting)
    }
  }

  struct Deactivate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set a user as inactive (not yourself); users are never deleted.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await setStatus(.inactive, of: username, global: global, acting: acting)
    }
  }

  static func setStatus(
    _ status: UserStatus, of username: String, global: GlobalOptions, acting: ActingUser
  ) async throws {
    try await Session.with(global) { session in
      let actor = try await session.principal(acting.username)
      let id = try await session.userID(username, by: actor)
      let user = try await session.directory.setStatus(status, of: id, by: actor)
      await printUser(
        user, session: session, by: actor, json: global.json,
        verb: status == .active ? "Activated" : "Deactivated")
    }
  }

  struct SetRole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Grant or revoke admin access (not your own).",
      discussion: "Becoming an administrator removes all policies.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @Argument(help: ArgumentHelp("admin or general.", valueName: "role")) var role: RoleArgument
    @Option(
      name: .customLong("policy"),
      help: ArgumentHelp("The General User's policies (repeat for more).", valueName: "name"))
    var policies: [String] = []
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let id = try await session.userID(username, by: actor)
        let ids = policies.isEmpty ? nil : try await session.policyIDs(policies, by: actor)
        let user = try await session.directory.setRole(role.value, policies: ids, of: id, by: actor)
        await printUser(user, session: session, by: actor, json: global.json, verb: "Updated")
      }
    }
  }

  struct SetPolicies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Replace a General User's policies (none clears them).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The username.", valueName: "email")) var username: String
    @Argument(help: ArgumentHelp("The complete new set of policy names.", valueName: "name"))
    var policies: [String] = []
    @OptionGroup var acting: ActingUser

    mutating func run() async throws {
      try await Session.with(global) { session in
        let actor = try await session.principal(acting.username)
        let id = try await session.userID(username, by: actor)
        let ids = try await session.policyIDs(policies, by: actor)
        let user = try await session.directory.setPolicies(ids, of: id, by: actor)
        await printUser(user, session: session, by: actor, json: global.json, verb: "Updated")
      }
    }
  }
}

/// `on` or `off`.
enum OnOff: String, ExpressibleByArgument, CaseIterable {
  case on, off
}

/// `active` or `inactive`.
enum StatusArgument: String, ExpressibleByArgument, CaseIterable {
  case active, inactive

  var value: UserStatus { self == .active ? .active : .inactive }
}

/// `admin` or `general`.
enum RoleArgument: String, ExpressibleByArgument, CaseIterable {
  case admin, general

  var value: Role { self == .admin ? .admin : .generalUser }
}
