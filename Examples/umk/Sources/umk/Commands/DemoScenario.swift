import Foundation
import UserManagementKit

/// The scenario of the console's User Management page, step by step.
struct DemoScenario {
  /// The demo's store.
  let session: Session
  /// Where the steps go.
  let log: DemoLog
  /// The directory over the store.
  var directory: UserDirectory { session.directory }

  /// Runs a request the library must refuse, and logs its error.
  func refused(_ text: String, _ body: () async throws -> Void) async throws {
    do {
      try await body()
    } catch let error as UserManagementError {
      log.refused(text, error)
      return
    }
    throw Failure(.demoFailed, "The demo expected a refusal: \(text)")
  }

  /// Runs every step.
  ///
  /// - Throws: `demo_failed` when a step does not go as scripted, or the library's error.
  func run() async throws {
    if !log.json { Output.line("umk demo — the administration console on a file store") }
    log.step("Create the store and bootstrap the first administrator")
    let ada = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
        password: .typed(Secret("analytical engine 1843")))
    ).user
    let asAda = Principal.user(ada.id)
    log.ok("store at \(session.path); \(ada.username) is an active admin")
    try await refused("Bootstrapping a second time") {
      try await directory.bootstrap(
        NewUser(
          username: "eve@example.com", firstName: "Eve", lastName: "Intruder",
          password: .generated))
    }

    log.step("Import access-control policies (the console's JSON)")
    let policyJSON = """
      [
        {"name": "Dashboard Viewers", "description": "Read every dashboard",
         "permissions": [{"resourceType": "dashboard", "allowed": ["view"], "resourceIds": ["*"]}]},
        {"name": "Project 7 Editors", "description": "Everything inside project 7",
         "permissions": [{"resourceType": "task", "allowed": ["*"], "resourceIds": ["parent:7"]}]}
      ]
      """
    let policies = try await directory.importPolicies(
      try PolicyDocument.decodeList(from: Array(policyJSON.utf8)), by: asAda)
    for policy in policies { log.ok("policy \"\(policy.name)\": \(policy.description)") }
    let viewers = try await directory.policy(named: "Dashboard Viewers", by: asAda)
    let editors = try await directory.policy(named: "Project 7 Editors", by: asAda)
    try await refused("Importing a policy with an unknown action field") {
      _ = try await directory.importPolicies(
        try PolicyDocument.decodeList(
          from: Array(#"{"name": "Broken", "permissions": [{"resourceType": "x"}]}"#.utf8)),
        by: asAda)
    }

    log.step("Add users (Create User Account)")
    let grace = try await directory.addUser(
      NewUser(
        username: "Grace.Hopper@example.com", firstName: "Grace", lastName: "Hopper",
        password: .typed(Secret("first compiler 1952!")), policies: [viewers.id, editors.id]),
      by: asAda
    ).user
    log.ok(
      "\(grace.username): General User with 2 policies; must change password: "
        + "\(grace.mustChangePassword)")
    let alan = try await directory.addUser(
      NewUser(
        username: "alan@example.com", firstName: "Alan", lastName: "Turing", password: .generated,
        role: .admin),
      by: asAda)
    log.ok(
      "\(alan.user.username): Admin; generated password shown once: "
        + (alan.generatedPassword?.revealForDisplay() ?? "-"))
    let barbara = try await directory.addUser(
      NewUser(
        username: "barbara@example.com", firstName: "Barbara", lastName: "Liskov",
        password: .generated, status: .inactive),
      by: asAda
    ).user
    log.ok("\(barbara.username): created Inactive")
    try await refused("Adding GRACE.HOPPER@EXAMPLE.COM again (usernames are unique, any case)") {
      try await directory.addUser(
        NewUser(
          username: "GRACE.HOPPER@EXAMPLE.COM", firstName: "G", lastName: "H",
          password: .generated),
        by: asAda)
    }
    try await refused("Adding a user whose username is not an e-mail address") {
      try await directory.addUser(
        NewUser(username: "grace hopper", firstName: "G", lastName: "H", password: .generated),
        by: asAda)
    }
    try await refused("Adding a user with a common password") {
      try await directory.addUser(
        NewUser(
          username: "weak@example.com", firstName: "W", lastName: "P",
          password: .typed(Secret("password"))),
        by: asAda)
    }
    try await refused("Assigning a policy that does not exist (umk: --policy \"Nope\")") {
      _ = try await directory.policy(named: "Nope", by: asAda)
    }

    log.step("Activate and deactivate")
    try await directory.setStatus(.active, of: barbara.id, by: asAda)
    log.ok("Ada set \(barbara.username) as Active")
    try await refused("Ada deactivates herself") {
      try await directory.setStatus(.inactive, of: ada.id, by: asAda)
    }
    try await refused("Ada revokes her own admin access") {
      try await directory.setRole(.generalUser, of: ada.id, by: asAda)
    }

    log.step("Edit a user's profile (Edit User Account)")
    let edited = try await directory.updateUser(
      barbara.id, with: UserUpdate(lastName: "Liskov-Substitution", password: .generated), by: asAda
    )
    log.ok(
      "Ada renamed Barbara to \(edited.user.lastName) and reset her password (shown once: "
        + "\(edited.generatedPassword?.revealForDisplay() ?? "-"))")

    log.step("What a General User may and may not do")
    let asGrace = Principal.user(grace.id)
    let renamed = try await directory.updateProfile(
      of: grace.id, firstName: "Rear Admiral Grace", by: asGrace)
    log.ok("Grace edited her own first name: \(renamed.firstName)")
    try await directory.changeOwnPassword(
      of: grace.id, current: Secret("first compiler 1952!"), new: Secret("nanoseconds are 30 cm"))
    log.ok("Grace changed her own password, proving the current one")
    try await refused("Grace (a General User) adds a user") {
      try await directory.addUser(
        NewUser(username: "x@example.com", firstName: "X", lastName: "Y", password: .generated),
        by: asGrace)
    }
    try await refused("Grace grants herself admin access") {
      try await directory.setRole(.admin, of: grace.id, by: asGrace)
    }
    try await refused("Grace edits Barbara's name") {
      try await directory.updateProfile(of: barbara.id, lastName: "L.", by: asGrace)
    }

    log.step("Direct API access")
    try await directory.setAPIAccess(true, of: grace.id, by: asAda)
    let token = try await directory.setAPIPassword(.generated, of: grace.id, by: asAda)
      .generatedAPIPassword
    guard let token else {
      throw Failure(.demoFailed, "No API password was generated.")
    }
    log.ok("API password generated (shown once): \(token.revealForDisplay())")
    let apiUser = try await directory.authenticateAPI(
      username: "grace.hopper@example.com", apiPassword: token)
    log.ok("API sign-in as \(apiUser.username) succeeded")
    let reset = try await directory.setAPIPassword(.generated, of: grace.id, by: asAda)
    if let fresh = reset.generatedAPIPassword {
      _ = try await directory.authenticateAPI(
        username: "grace.hopper@example.com", apiPassword: fresh)
      log.ok("API password reset; the new one works")
    }
    try await refused("Signing in to the API with the old API password") {
      _ = try await directory.authenticateAPI(
        username: "grace.hopper@example.com", apiPassword: token)
    }
    try await refused("Signing in to the API with the login password") {
      _ = try await directory.authenticateAPI(
        username: "grace.hopper@example.com", apiPassword: Secret("nanoseconds are 30 cm"))
    }

    log.step("Sign-in")
    guard
      let signedIn = try await directory.authenticate(
        username: "GRACE.HOPPER@example.com", password: Secret("nanoseconds are 30 cm")
      ).signedIn
    else {
      throw Failure(.demoFailed, "Grace has no second factor, yet a code was asked for.")
    }
    log.ok(
      "\(signedIn.user.username) signed in; must change password: \(signedIn.mustChangePassword)")
    try await refused("Signing in with a wrong password") {
      _ = try await directory.authenticate(
        username: "grace.hopper@example.com", password: Secret("wrong guess"))
    }
    try await refused("Signing in as someone who does not exist (same answer, same cost)") {
      _ = try await directory.authenticate(
        username: "mallory@example.com", password: Secret("wrong guess"))
    }

    log.step("Scoped API keys")
    let key = try await directory.createAPIKey(
      for: grace.id, name: "Dashboard reader",
      scopes: [APIKeyScope(resourceType: "dashboard", actions: [.view])],
      proof: .password(Secret("nanoseconds are 30 cm")), by: asGrace)
    log.ok(
      "Grace created the key \"\(key.key.name)\" (\(key.key.scopes.map(\.description).joined())); "
        + "shown once: \(key.secret.revealForDisplay())")
    let keyRequest = try await directory.authenticateAPIKey(key.secret)
    let sales = Resource(type: "dashboard", id: "sales")
    let project = Resource(type: "task", id: "t-19", parentID: "7")
    for (action, resource) in [(Action.view, sales), (.edit, project)] {
      let decision = try await directory.explain(keyRequest, to: action, on: resource)
      log.note(
        "\(decision.isAllowed ? "✔" : "✘") key \(action) \(resource.type) \(resource.id): "
          + "\(decision)")
    }
    _ = try await directory.revokeAPIKey(key.key.id, of: grace.id, by: asAda)
    log.ok("Ada revoked the key")
    try await refused("Using the revoked key") {
      _ = try await directory.authenticateAPIKey(key.secret)
    }

    log.step("Authorization")
    let dashboard = Resource(type: "dashboard", id: "sales")
    let task = Resource(type: "task", id: "t-19", parentID: "7")
    for (action, resource) in [(Action.view, dashboard), (.edit, dashboard), (.delete, task)] {
      let decision = try await directory.explain(grace.id, to: action, on: resource)
      log.note(
        "\(decision.isAllowed ? "✔" : "✘") Grace \(action) \(resource.type) \(resource.id): "
          + "\(decision)")
    }

    log.step("Policies in use cannot be removed")
    try await refused("Removing \"Dashboard Viewers\" while Grace holds it") {
      try await directory.deletePolicy(viewers.id, by: asAda)
    }

    log.step("The directory never loses its last active administrator")
    try await directory.setRole(.generalUser, of: alan.user.id, by: asAda)
    log.ok("Ada revoked Alan's admin access")
    try await refused("Alan, now a General User, tries to manage users") {
      try await directory.setStatus(.inactive, of: barbara.id, by: .user(alan.user.id))
    }
    try await refused("A trusted system job deactivates Ada, the last active admin") {
      try await directory.setStatus(.inactive, of: ada.id, by: .system("cleanup-job"))
    }

    log.step("Listing with search and pagination")
    var query = UserQuery(filter: UserFilter(status: .active, search: "example.com"), limit: 2)
    var pages = 0
    repeat {
      let page = try await directory.users(query, by: asAda)
      pages += 1
      for user in page.users {
        log.ok("page \(pages): \(user.username) — \(user.firstName) \(user.lastName), \(user.role)")
      }
      query.after = page.nextCursor
    } while query.after != nil

    log.step("Reopen the store: everything was persisted")
    let reopened = try Session.open(path: session.path, creating: false)
    let count = try await reopened.directory.userCount(by: asAda)
    reopened.close()
    log.ok("a second handle on \(session.path) sees \(count) users")

    log.step("The audit trail (no secret ever appears in it)")
    let events = try await directory.auditEvents(
      AuditQuery(limit: 1000, newestFirst: false), by: asAda)
    for event in events {
      let changes = event.changes.map(\.description).joined(separator: "; ")
      log.note(
        "• \(event.actor) \(event.action) \(event.target)"
          + (changes.isEmpty ? "" : " — \(changes)"))
    }
    log.counted(changes: events.count)
  }
}
