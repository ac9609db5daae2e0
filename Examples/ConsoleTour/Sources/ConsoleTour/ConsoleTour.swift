// A walk through the administration console's whole scenario, printing what happens at each
// step, including the requests the library refuses.
//
//   swift run -c release --package-path Examples/ConsoleTour console-tour

import Foundation
import UserManagementKit

@main
struct ConsoleTour {
  static func main() async {
    do {
      try await Tour().run()
    } catch {
      print("✘ The tour stopped unexpectedly: \(error)")
      exit(1)
    }
  }
}

struct Tour {
  // The production defaults: PBKDF2-HMAC-SHA256 with 600,000 iterations, NIST password policy.
  let directory = UserDirectory(store: InMemoryDirectoryStore())

  func step(_ title: String) {
    print("\n── \(title)")
  }

  func ok(_ text: String) {
    print("  ✔ \(text)")
  }

  /// Runs a request that the library must refuse, and prints its error.
  func refused(_ text: String, _ body: () async throws -> Void) async throws {
    do {
      try await body()
      throw TourFailure(message: "expected a refusal: \(text)")
    } catch let error as UserManagementError {
      print("  ✘ \(text)\n      → refused [\(error.code)]: \(error.message)")
    }
  }

  func run() async throws {
    print("UserManagementKit console tour (in-memory store)")

    step("Bootstrap the first administrator")
    let bootstrap = try await directory.bootstrap(
      NewUser(
        username: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
        password: .typed(Secret("analytical engine 1843"))))
    let ada = bootstrap.user
    let asAda = Principal.user(ada.id)
    ok("\(ada.username) is an \(ada.status) \(ada.role)")
    try await refused("Bootstrapping a second time") {
      try await directory.bootstrap(
        NewUser(
          username: "eve@example.com", firstName: "Eve", lastName: "Intruder",
          password: .generated))
    }

    step("Import access-control policies (the console's JSON)")
    let policyJSON = """
      [
        {"name": "Dashboard Viewers", "description": "Read every dashboard",
         "permissions": [{"resourceType": "dashboard", "allowed": ["view"], "resourceIds": ["*"]}]},
        {"name": "Project 7 Editors", "description": "Everything inside project 7",
         "permissions": [{"resourceType": "task", "allowed": ["*"], "resourceIds": ["parent:7"]}]}
      ]
      """
    let policies = try await directory.importPolicies(json: Array(policyJSON.utf8), by: asAda)
    for policy in policies { ok("policy \"\(policy.name)\": \(policy.description)") }
    let viewers = policies[0]
    let editors = policies[1]

    step("Add users")
    let grace = try await directory.addUser(
      NewUser(
        username: "Grace.Hopper@example.com", firstName: "Grace", lastName: "Hopper",
        password: .typed(Secret("first compiler 1952!")), role: .generalUser,
        policies: [viewers.id, editors.id]),
      by: asAda
    ).user
    ok(
      "\(grace.username): General User with 2 policies, must change password: \(grace.mustChangePassword)"
    )
    let alan = try await directory.addUser(
      NewUser(
        username: "alan@example.com", firstName: "Alan", lastName: "Turing", password: .generated,
        role: .admin),
      by: asAda)
    ok(
      "\(alan.user.username): Admin; generated password shown once: \(alan.generatedPassword?.revealForDisplay() ?? "-")"
    )
    let barbara = try await directory.addUser(
      NewUser(
        username: "barbara@example.com", firstName: "Barbara", lastName: "Liskov",
        password: .generated, status: .inactive),
      by: asAda
    ).user
    ok("\(barbara.username): created Inactive")
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
    try await refused("Assigning a policy that does not exist") {
      try await directory.addUser(
        NewUser(
          username: "nobody@example.com", firstName: "N", lastName: "O", password: .generated,
          policies: [PolicyID(rawValue: UUID())]),
        by: asAda)
    }

    step("Activate and deactivate")
    try await directory.setStatus(.active, of: barbara.id, by: asAda)
    ok("Ada set \(barbara.username) as Active")
    try await refused("Ada deactivates herself") {
      try await directory.setStatus(.inactive, of: ada.id, by: asAda)
    }
    try await refused("Ada revokes her own admin access") {
      try await directory.setRole(.generalUser, of: ada.id, by: asAda)
    }

    step("What a General User may and may not do")
    let asGrace = Principal.user(grace.id)
    let renamed = try await directory.updateProfile(
      of: grace.id, firstName: "Rear Admiral Grace", by: asGrace)
    ok("Grace edited her own first name: \(renamed.firstName)")
    try await directory.changeOwnPassword(
      of: grace.id, current: Secret("first compiler 1952!"), new: Secret("nanoseconds are 30 cm"))
    ok("Grace changed her own password, proving the current one")
    try await refused("Grace (General User) adds a user") {
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

    step("Direct API access")
    try await directory.setAPIAccess(true, of: grace.id, by: asAda)
    let token = try await directory.setAPIPassword(.generated, of: grace.id, by: asAda)
      .generatedAPIPassword
    guard let token else { throw TourFailure(message: "no API password was generated") }
    ok("API password generated (shown once): \(token.revealForDisplay())")
    let apiUser = try await directory.authenticateAPI(
      username: "grace.hopper@example.com", apiPassword: token)
    ok("API sign-in as \(apiUser.username) succeeded")
    let reset = try await directory.setAPIPassword(.generated, of: grace.id, by: asAda)
    ok(
      "API password reset; the new one works: \((try? await directory.authenticateAPI(username: "grace.hopper@example.com", apiPassword: reset.generatedAPIPassword ?? token)) != nil)"
    )
    try await refused("Signing in to the API with the old API password") {
      _ = try await directory.authenticateAPI(
        username: "grace.hopper@example.com", apiPassword: token)
    }
    try await refused("Signing in to the API with the login password") {
      _ = try await directory.authenticateAPI(
        username: "grace.hopper@example.com", apiPassword: Secret("nanoseconds are 30 cm"))
    }

    step("Sign-in")
    let signedIn = try await directory.authenticate(
      username: "GRACE.HOPPER@example.com", password: Secret("nanoseconds are 30 cm"))
    ok("\(signedIn.user.username) signed in; must change password: \(signedIn.mustChangePassword)")
    try await refused("Signing in with a wrong password") {
      _ = try await directory.authenticate(
        username: "grace.hopper@example.com", password: Secret("wrong guess"))
    }
    try await refused("Signing in as someone who does not exist (same answer, same cost)") {
      _ = try await directory.authenticate(
        username: "mallory@example.com", password: Secret("wrong guess"))
    }

    step("Authorization")
    let dashboard = Resource(type: "dashboard", id: "sales")
    let task = Resource(type: "task", id: "t-19", parentID: "7")
    for (action, resource) in [(Action.view, dashboard), (.edit, dashboard), (.delete, task)] {
      let decision = try await directory.explain(grace.id, action, on: resource)
      print(
        "  \(decision.isAllowed ? "✔" : "✘") Grace \(action) \(resource.type) \(resource.id): \(decision)"
      )
    }

    step("The directory never loses its last active administrator")
    try await directory.setRole(.generalUser, of: alan.user.id, by: asAda)
    ok("Ada revoked Alan's admin access")
    try await refused("A trusted system job deactivates Ada, the last active admin") {
      try await directory.setStatus(.inactive, of: ada.id, by: .system("cleanup-job"))
    }

    step("Listing with search and pagination")
    let page = try await directory.users(
      UserQuery(filter: UserFilter(status: .active, search: "example.com"), limit: 2), by: asAda)
    for user in page.users {
      ok("\(user.username) — \(user.firstName) \(user.lastName), \(user.role)")
    }
    if let cursor = page.nextCursor {
      let next = try await directory.users(
        UserQuery(
          filter: UserFilter(status: .active, search: "example.com"), limit: 2, after: cursor),
        by: asAda)
      for user in next.users {
        ok("\(user.username) — \(user.firstName) \(user.lastName), \(user.role)")
      }
    }

    step("The audit trail (no secret ever appears in it)")
    let events = try await directory.auditEvents(
      AuditQuery(limit: 100, newestFirst: false), by: asAda)
    for event in events {
      let changes = event.changes.map(\.description).joined(separator: "; ")
      print(
        "  • \(event.actor) \(event.action) \(event.target)\(changes.isEmpty ? "" : " — \(changes)")"
      )
    }
    print("\nTour complete: \(events.count) audited changes.")
  }
}

struct TourFailure: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
