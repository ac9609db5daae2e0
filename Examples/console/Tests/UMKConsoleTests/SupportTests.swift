import Testing
import UserManagementKit

@testable import UMKConsole

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite struct HTMLEscapingTests {
  @Test(arguments: [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("a \"quoted\" 'word'", "a &quot;quoted&quot; &#39;word&#39;"),
    ("Tom & Jerry", "Tom &amp; Jerry"),
    ("plain text", "plain text"),
    ("émile <b>", "émile &lt;b&gt;"),
  ])
  func escapes(input: String, expected: String) {
    #expect(HTML.escape(input).markup == expected)
  }

  @Test func interpolationEscapesTextButNotMarkup() {
    let name = "<img src=x>"
    let inner: HTML = "<b>bold</b>"
    let html: HTML = "<p>\(name)\(inner)</p>"
    #expect(html.markup == "<p>&lt;img src=x&gt;<b>bold</b></p>")
  }
}

@Suite struct TokenTests {
  @Test func freshTokensDiffer() {
    #expect(Tokens.make() != Tokens.make())
  }

  @Test func tokensAre43URLSafeCharacters() {
    let token = Tokens.make()
    #expect(token.count == 43)
    #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
  }

  @Test func equalTokensCompareEqual() {
    let token = Tokens.make()
    #expect(Tokens.equal(token, token))
  }

  @Test(arguments: ["", "x", "abc"])
  func differentTokensCompareUnequal(presented: String) {
    #expect(!Tokens.equal(presented, "abd"))
  }

  @Test func anEmptyExpectedTokenNeverMatches() {
    #expect(!Tokens.equal("", ""))
  }

  @Test func base64URLMatchesKnownValues() {
    #expect(Tokens.base64URL(Array("foobar".utf8)) == "Zm9vYmFy")
    #expect(Tokens.base64URL(Array("fooba".utf8)) == "Zm9vYmE")
    #expect(Tokens.base64URL([0xFB, 0xFF]) == "-_8")
  }
}

@Suite struct FormDataTests {
  @Test func decodesPlusAndPercentEscapes() throws {
    let form = try FormData(
      parsing: Array("name=Ada+Lovelace&mail=ada%40example.com&x=%C3%A9".utf8))
    #expect(form["name"] == "Ada Lovelace")
    #expect(form["mail"] == "ada@example.com")
    #expect(form["x"] == "é")
  }

  @Test func keepsRepeatedFields() throws {
    let form = try FormData(parsing: Array("policies=a&policies=b&role=admin".utf8))
    #expect(form.all("policies") == ["a", "b"])
  }

  @Test func namesUnexpectedFields() throws {
    let form = try FormData(parsing: Array("csrf=t&username=evil%40example.com".utf8))
    #expect(form.unexpectedFields(allowed: ["csrf", "firstName"]) == ["username"])
  }

  @Test(arguments: ["a=%G1", "a=%4", "a=%C3%28"])
  func refusesMalformedEncoding(body: String) {
    #expect(throws: FormData.Problem.self) { try FormData(parsing: Array(body.utf8)) }
  }

  @Test func refusesAHugeField() {
    let body = "a=" + String(repeating: "x", count: FormData.maximumFieldBytes + 1)
    #expect(throws: FormData.Problem.self) { try FormData(parsing: Array(body.utf8)) }
  }

  @Test func refusesTooManyFields() {
    let body = (0..<300).map { "f\($0)=1" }.joined(separator: "&")
    #expect(throws: FormData.Problem.self) { try FormData(parsing: Array(body.utf8)) }
  }
}

@Suite struct SignInThrottleTests {
  private static let policy = LoginThrottlePolicy(freeAttempts: 1, baseDelay: .seconds(10))

  @Test func forgettingAUsernameEndsItsRefusal() async {
    let throttle = SignInThrottle(policy: Self.policy)
    let now = Date()
    await throttle.fail("grace@example.com", now: now)
    await throttle.fail("grace@example.com", now: now)
    #expect(await throttle.refusal(for: "grace@example.com", now: now) != nil)
    // What an administrator's unlock or password reset does, besides the directory's counter.
    await throttle.forget("Grace@Example.com")
    #expect(await throttle.refusal(for: "grace@example.com", now: now) == nil)
  }

  @Test func aFloodOfNewUsernamesDropsTheOldestNotEveryCount() async {
    let throttle = SignInThrottle(policy: Self.policy, maximumEntries: 8)
    let start = Date()
    for index in 0..<8 {
      let when = start.addingTimeInterval(Double(index))
      await throttle.fail("user\(index)@example.com", now: when)
      await throttle.fail("user\(index)@example.com", now: when)
    }
    // The ninth username overflows the table: the oldest quarter goes, the rest stays.
    let now = start.addingTimeInterval(8)
    await throttle.fail("new@example.com", now: now)
    #expect(await throttle.refusal(for: "user0@example.com", now: now) == nil)
    #expect(await throttle.refusal(for: "user7@example.com", now: now) != nil)
    #expect(await throttle.refusal(for: "user2@example.com", now: now) != nil)
  }
}

@Suite struct DraftStoreTests {
  private static func draft() -> UserDraft {
    UserDraft(
      editing: nil, version: nil, username: "grace@example.com", firstName: "Grace",
      lastName: "Hopper", password: .typed(Secret("a typed passphrase here")), status: .active)
  }

  @Test func expiredDraftsAreSweptWhenAnyDraftIsKeptOrRead() async {
    let drafts = DraftStore()
    let owner = UserID(rawValue: UUID())
    let start = Date()
    let first = await drafts.put(Self.draft(), owner: owner, now: start)
    #expect(await drafts.get(first, owner: owner, now: start.addingTimeInterval(599)) != nil)
    #expect(
      await drafts.get(first, owner: UserID(rawValue: UUID()), now: start) == nil, "another user's")
    // Ten minutes on, any use of the store forgets it: its typed password is gone too.
    let later = start.addingTimeInterval(601)
    let second = await drafts.put(Self.draft(), owner: owner, now: later)
    #expect(await drafts.count == 1)
    #expect(await drafts.get(first, owner: owner, now: later) == nil)
    #expect(await drafts.get(second, owner: owner, now: later.addingTimeInterval(601)) == nil)
    #expect(await drafts.count == 0)
  }
}
