import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Usernames (WHATWG valid e-mail address)")
struct UsernameTests {
  @Test(arguments: [
    "ada@example.com", "Ada.Lovelace+tag@Example.CO.uk", "a@b", "x!#$%&'*+/=?^_`{|}~-@host-1.io",
    "user@xn--bcher-kva.example",
  ])
  func accepts(_ address: String) throws {
    let username = try Username(address)
    #expect(username.rawValue == address)
  }

  @Test(arguments: [
    ("", "empty"), ("no-at.example.com", "missing_at"), ("a@@b.com", "multiple_at"),
    ("a@b@c.com", "multiple_at"), ("@example.com", "empty_local_part"),
    ("ada@", "empty_domain"), ("ada@example..com", "empty_domain_label"),
    ("ada@-example.com", "domain_label_hyphen"), ("ada@example-.com", "domain_label_hyphen"),
    ("ada lovelace@example.com", "invalid_local_part_character"),
    ("ada@exa mple.com", "invalid_domain_character"),
    ("adä@example.com", "invalid_local_part_character"),
    (" ada@example.com", "invalid_local_part_character"),
    ("ada@" + String(repeating: "a", count: 64) + ".com", "domain_label_too_long"),
    (String(repeating: "a", count: 250) + "@b.co", "too_long"),
  ])
  func refuses(_ address: String, reason: String) async {
    let error = await expectError(.invalidUsername) { _ = try Username(address) }
    #expect(error?.context["reason"] == reason)
    #expect(error?.context["field"] == "username")
  }

  @Test(arguments: ["Ada@Example.COM", "ada@example.com", "MiXeD.CaSe+Tag@Sub.Domain.Org"])
  func canonicalFormIsLowercaseAndIdempotent(_ sample: String) {
    let once = Username.canonicalize(sample)
    #expect(Username.canonicalize(once) == once)
    #expect(once == sample.lowercased())
  }

  @Test func equalityAndHashingIgnoreCase() throws {
    #expect(try Username("Ada@Example.com") == Username("ada@example.COM"))
    #expect(try Username("Ada@Example.com").hashValue == Username("ada@example.COM").hashValue)
  }

  @Test func identifiersPrintLikeFoundation() {
    for _ in 0..<100 {
      let uuid = UUID()
      #expect(UserID(rawValue: uuid).description == uuid.uuidString)
      #expect(PolicyID(rawValue: uuid).description == uuid.uuidString)
      #expect(UserID(uuid.uuidString) == UserID(rawValue: uuid))
    }
  }

  @Test func localPart() throws {
    #expect(try Username("ada.l@example.com").localPart == "ada.l")
  }
}
