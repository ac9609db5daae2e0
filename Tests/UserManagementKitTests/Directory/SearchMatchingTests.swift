import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// `UserFilter.matches(_:)` searches ASCII text byte by byte; it must agree with the
/// definition it documents (the lowercased field contains the lowercased needle, compared by
/// `Character`) on every kind of text, including what the byte path must refuse.
@Suite("Search matching")
struct SearchMatchingTests {
  /// Pieces that exercise every path: ASCII in both cases, a carriage return and line feed
  /// (one character together), combining marks, and characters whose lowercase is ASCII (the
  /// Kelvin sign) or longer than themselves (dotted capital I).
  static let pieces = [
    "a", "B", "z", "Q", "-", " ", "\r", "\n", "\r\n", "e", "\u{301}", "é", "É", "ß", "\u{212A}",
    "k", "İ", "i", "0",
  ]

  @Test func agreesWithTheDefinitionOnEveryKindOfText() throws {
    var generator = SplitMix(seed: 0x5EA7C4)
    var checked = 0
    var matched = 0
    for _ in 0..<3000 {
      let first = Self.text(length: Int(generator.next() % 9), &generator)
      let last = Self.text(length: Int(generator.next() % 9), &generator)
      let needle = Self.text(length: 1 + Int(generator.next() % 3), &generator)
      let user = try Self.user(firstName: first, lastName: last)
      let filter = UserFilter(search: needle)
      let expected: Bool
      if let normalized = filter.normalizedSearch {
        expected =
          first.lowercased().contains(normalized) || last.lowercased().contains(normalized)
          || user.username.rawValue.lowercased().contains(normalized)
      } else {
        expected = true
      }
      #expect(
        filter.matches(user) == expected,
        "\(first.unicodeScalars.map(\.value)) \(last.unicodeScalars.map(\.value)) \(needle.unicodeScalars.map(\.value))"
      )
      checked += 1
      if expected { matched += 1 }
    }
    // Both answers occur often, so neither path is vacuous.
    #expect(matched > 300 && checked - matched > 300)
  }

  @Test func asciiSearchIsCaseInsensitiveAndExact() throws {
    let user = try Self.user(firstName: "Ada", lastName: "LOVELACE")
    #expect(UserFilter(search: "love").matches(user))
    #expect(UserFilter(search: "  LoVe ").matches(user))
    #expect(UserFilter(search: "ada lo").matches(user) == false)
    #expect(UserFilter(search: "lovelacee").matches(user) == false)
    #expect(UserFilter(search: "example.com").matches(user))
    // A carriage return followed by a line feed is one character: "\r" alone is not in it.
    let split = try Self.user(firstName: "a\r\nb", lastName: "c")
    #expect(UserFilter(search: "a\rb").matches(split) == false)
    #expect(UserFilter(search: "a\r\nb").matches(split))
    // A combining mark joins the letter before it: "e" is not in "e\u{301}".
    let accented = try Self.user(firstName: "Rene\u{301}", lastName: "x")
    #expect(UserFilter(search: "ren").matches(accented))
    #expect(UserFilter(search: "rene").matches(accented) == false)
  }

  static func text(length: Int, _ generator: inout SplitMix) -> String {
    var text = ""
    for _ in 0..<length { text += pieces[Int(generator.next() % UInt64(pieces.count))] }
    return text
  }

  static func user(firstName: String, lastName: String) throws -> User {
    User(
      id: UserID(rawValue: UUID()), username: try Username("member@example.com"),
      firstName: firstName, lastName: lastName, status: .active, role: .generalUser, policies: [],
      apiAccessEnabled: false, hasAPIPassword: false, hasPassword: false,
      mustChangePassword: false, version: 1, securityStamp: SecurityStamp(rawValue: "s"),
      createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0),
      createdBy: .system("test"))
  }
}

/// A small deterministic generator (SplitMix64), so a failure reproduces.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
