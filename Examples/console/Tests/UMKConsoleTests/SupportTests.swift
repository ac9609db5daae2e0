import Testing

@testable import UMKConsole

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
