import Foundation
import Testing

/// `user add/show/list/edit/activate/deactivate/set-role/set-policies`.
@Suite("Users")
struct UserTests {
  /// `user add --generate-password --json`: the user document and the password, once.
  @Test func addPrintsTheUserAndTheGeneratedPasswordOnce() throws {
    try UMK.withStore(.policies) { umk in
      let added = try umk(
        [
          "user", "add", "grace@example.com", "--first", "Grace", "--last", "Hopper",
          "--generate-password", "--policy", "Viewers", "--json",
        ] + UMK.asAda)
      #expect(added.status == 0, "\(added)")
      let document = try added.output(UserDocument.self)
      let generated = try #require(document.generatedPassword)
      #expect(generated.count >= 15)
      #expect(document.generatedAPIPassword == nil)
      #expect(try added.output(JSONKeys.self).keys == ["user", "generatedPassword"])
      let userKeys = try added.output(UserDocumentKeys.self).user.keys
      #expect(userKeys == UserJSON.keys)
      #expect(document.user.policies == ["Viewers"])
      #expect(document.user.role == "general")
      #expect(document.user.mustChangePassword)
      #expect(document.user.createdBy.hasPrefix("user:"))
    }
  }

  /// A typed password (with `\r\n`) is never echoed; text mode summarises the user.
  @Test func addWithATypedPasswordAndShow() throws {
    try UMK.withStore { umk in
      let alan = try umk(
        [
          "user", "add", "alan@example.com", "--first", "Alan", "--last", "Turing", "--admin",
          "--inactive", "--password-stdin",
        ] + UMK.asAda, stdin: "a long enough passphrase\r\n")
      #expect(alan.status == 0, "\(alan)")
      #expect(!alan.stdout.contains("passphrase"))
      let shown = try umk(["user", "show", "ALAN@example.com", "--json"] + UMK.asAda)
      #expect(try shown.output(UserDocument.self).user.username == "alan@example.com")
      let text = try umk(["user", "show", "alan@example.com"] + UMK.asAda)
      #expect(text.stdout.hasPrefix("alan@example.com — Alan Turing, inactive, admin\n"), "\(text)")
      let login = try umk(
        "login", "alan@example.com", "--password-stdin", stdin: "a long enough passphrase")
      #expect(login.status == 1, "inactive: \(login)")
    }
  }

  /// `user list`: pages with a cursor (`null` on the last page), filters.
  @Test func listPagesAndFilters() throws {
    try UMK.withStore([.policies, .grace]) { umk in
      try umk(
        [
          "user", "add", "alan@example.com", "--first", "Alan", "--last", "Turing", "--admin",
          "--inactive", "--generate-password",
        ] + UMK.asAda)
      try umk(["user", "set-policies", "grace@example.com", "Viewers"] + UMK.asAda)
      let page = try umk(["user", "list", "--limit", "2", "--json"] + UMK.asAda)
      let first = try page.output(UserPage.self)
      #expect(first.users.map(\.username) == ["ada@example.com", "alan@example.com"])
      let cursor = try #require(first.nextCursor)
      let next = try umk(["user", "list", "--limit", "2", "--after", cursor, "--json"] + UMK.asAda)
      let second = try next.output(UserPage.self)
      #expect(second.users.map(\.username) == ["grace@example.com"])
      #expect(second.nextCursor == nil)
      #expect(try next.outputKeys() == ["users", "nextCursor"], "nextCursor is null, not absent")
      let filtered = try umk(
        ["user", "list", "--status", "inactive", "--role", "admin", "--json"] + UMK.asAda)
      #expect(try filtered.output(UserPage.self).users.map(\.username) == ["alan@example.com"])
      let byPolicy = try umk(
        ["user", "list", "--policy", "viewers", "--search", "HOP", "--api-access", "off", "--json"]
          + UMK.asAda)
      #expect(try byPolicy.output(UserPage.self).users.map(\.username) == ["grace@example.com"])
      let text = try umk(["user", "list", "--limit", "1"] + UMK.asAda)
      #expect(text.stdout.contains("\nMore: --after "), "\(text)")
    }
  }

  /// Edit, activate, roles and policies; a General User edits their own name only.
  @Test func editActivateRolesAndPolicies() throws {
    try UMK.withStore([.policies, .grace]) { umk in
      try umk(
        [
          "user", "add", "alan@example.com", "--first", "Alan", "--last", "Turing", "--admin",
          "--inactive", "--generate-password",
        ] + UMK.asAda)
      let renamed = try umk(
        ["user", "edit", "grace@example.com", "--last", "Hopper-Murray", "--json"] + UMK.asAda)
      #expect(try renamed.output(UserDocument.self).user.lastName == "Hopper-Murray")
      let reset = try umk(
        ["user", "edit", "grace@example.com", "--generate-password", "--json"] + UMK.asAda)
      #expect(try reset.output(UserDocument.self).generatedPassword != nil)
      #expect(try reset.output(UserDocument.self).user.mustChangePassword)
      let activated = try umk(["user", "activate", "alan@example.com", "--json"] + UMK.asAda)
      #expect(try activated.output(UserDocument.self).user.status == "active")
      let demoted = try umk(
        ["user", "set-role", "alan@example.com", "general", "--policy", "Editors", "--json"]
          + UMK.asAda)
      #expect(try demoted.output(UserDocument.self).user.policies == ["Editors"], "\(demoted)")
      #expect(try demoted.output(UserDocument.self).user.role == "general")
      let policies = try umk(
        ["user", "set-policies", "alan@example.com", "Viewers", "editors", "--json"] + UMK.asAda)
      #expect(try policies.output(UserDocument.self).user.policies == ["Editors", "Viewers"])
      let cleared = try umk(["user", "set-policies", "alan@example.com", "--json"] + UMK.asAda)
      #expect(try cleared.output(UserDocument.self).user.policies == [])
      let deactivated = try umk(["user", "deactivate", "alan@example.com", "--json"] + UMK.asAda)
      #expect(try deactivated.output(UserDocument.self).user.status == "inactive")
      let own = try umk(
        "user", "edit", "grace@example.com", "--first", "Amazing Grace", "--json", "--as",
        "grace@example.com")
      #expect(try own.output(UserDocument.self).user.firstName == "Amazing Grace")
    }
  }
}
