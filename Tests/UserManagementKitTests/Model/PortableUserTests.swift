import Testing
import UserManagementKit

@Suite("Portable users: the JSON Lines of import and export")
struct PortableUserTests {
  @Test func aUserRoundTripsThroughOneLine() throws {
    let user = PortableUser(
      username: "ada@example.com", firstName: "Ada", lastName: "Lovelace", status: .inactive,
      role: .generalUser, policies: ["Readers", "Editors"], apiAccessEnabled: true,
      passwordHash: PasswordHash(encoded: "$pbkdf2-sha256$600000$c2FsdA$aGFzaA"))
    let line = user.jsonLine
    #expect(!line.contains(UInt8(ascii: "\n")))
    #expect(try PortableUser(jsonLine: line) == user)
  }

  @Test func optionalFieldsTakeTheirDefaults() throws {
    let user = try PortableUser(
      jsonLine: Array(#"{"username":"a@example.com","firstName":"A","lastName":"B"}"#.utf8))
    #expect(user.status == .active)
    #expect(user.role == .generalUser)
    #expect(user.policies.isEmpty)
    #expect(!user.apiAccessEnabled)
    #expect(user.passwordHash == nil)
  }

  struct Refusal: Sendable, CustomTestStringConvertible {
    var line: String
    var field: String
    var reason: String
    var testDescription: String { "\(reason) \(field)" }
  }

  @Test(arguments: [
    Refusal(
      line: #"{"username":"a@example.com","firstName":"A","lastName":"B","admin":true}"#,
      field: "admin", reason: "unknown_field"),
    Refusal(
      line: #"{"username":"a@example.com","firstName":"A"}"#, field: "lastName",
      reason: "missing_field"),
    Refusal(
      line: #"{"username":"a@example.com","firstName":"A","lastName":"B","role":"root"}"#,
      field: "role", reason: "invalid_value"),
    Refusal(
      line: #"{"username":"a@example.com","firstName":"A","lastName":"B","status":"gone"}"#,
      field: "status", reason: "invalid_value"),
    Refusal(
      line: #"{"username":"a@example.com","firstName":"A","lastName":"B","apiAccess":"yes"}"#,
      field: "apiAccess", reason: "invalid_value"),
    Refusal(line: #"["a@example.com"]"#, field: "user", reason: "invalid_json"),
    Refusal(line: #"{"username": "#, field: "user", reason: "invalid_json"),
  ])
  func strictDecodingRefusesWithTheFieldAndReason(_ refusal: Refusal) {
    #expect {
      _ = try PortableUser(jsonLine: Array(refusal.line.utf8))
    } throws: { error in
      guard let error = error as? UserManagementError else { return false }
      return error.code == .invalidField && error.field == refusal.field
        && error.reason == refusal.reason
    }
  }

  @Test func aFileReportsEveryBadLineByNumberAndSkipsBlankOnes() throws {
    let file = """
      {"username":"a@example.com","firstName":"A","lastName":"A"}

      {"username":"b@example.com","firstName":"B"}
      {"username":"c@example.com","firstName":"C","lastName":"C","role":"admin"}
      not json
      """
    let decoded = PortableUser.decodeJSONLines(from: Array(file.utf8))
    #expect(decoded.users.map(\.username) == ["a@example.com", "c@example.com"])
    #expect(decoded.lineNumbers == [1, 4])
    #expect(decoded.issues.map(\.line) == [3, 5])
    #expect(decoded.nonBlankLineCount == 4)
    let first = try #require(decoded.issues.first)
    #expect(first.error.reason == "missing_field")
  }

  @Test func encodedLinesDecodeToTheSameUsers() {
    let users = [
      PortableUser(username: "a@example.com", firstName: "Å", lastName: "Ø"),
      PortableUser(username: "b@example.com", firstName: "B", lastName: "B", role: .admin),
    ]
    let decoded = PortableUser.decodeJSONLines(from: PortableUser.encodeJSONLines(users))
    #expect(decoded.users == users)
    #expect(decoded.issues.isEmpty)
  }
}
