import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Secrets never leak")
struct SecretTests {
  /// Contiguous bytes are copied straight in, anything else through a wiped copy; every route
  /// holds the same bytes, an empty secret included.
  @Test func everySourceOfBytesMakesTheSameSecret() {
    let text = "Grüße, hunter2 ✓"
    let bytes = Array(text.utf8)
    let expected = Secret(text)
    #expect(Secret(bytes: bytes) == expected)
    #expect(Secret(bytes: ([0x20] + bytes + [0x20])[1...bytes.count]) == expected)
    #expect(Secret(bytes: bytes.lazy.map { $0 }) == expected, "a sequence with no buffer")
    #expect(Secret(bytes: text.utf8) == expected)
    #expect(Secret(bytes: Substring(text).utf8) == expected)
    #expect(
      Secret(bytes: [UInt8]()).byteCount == 0 && Secret("") == Secret(bytes: EmptyCollection()))
    #expect(Secret(bytes: bytes).withUnsafeBytes { Array($0) } == bytes)
  }

  @Test func descriptionsDumpsAndEncodingHideTheValue() throws {
    let secret = Secret("hunter2-super-secret")
    #expect(!"\(secret)".contains("hunter2"))
    #expect(!String(describing: secret).contains("hunter2"))
    #expect(!String(reflecting: secret).contains("hunter2"))
    var dumped = ""
    dump(secret, to: &dumped)
    #expect(!dumped.contains("hunter2"))
    struct Wrapper: Encodable { var secret: Secret }
    #expect(throws: EncodingError.self) { _ = try JSONEncoder().encode(Wrapper(secret: secret)) }
    let record = UserRecord(
      user: User(
        id: UserID(rawValue: UUID()), username: try Username("a@b.co"), firstName: "A",
        lastName: "B", status: .active, role: .admin, policies: [], apiAccessEnabled: false,
        hasAPIPassword: false, hasPassword: true, mustChangePassword: false, version: 1,
        securityStamp: SecurityStamp(rawValue: "s"), createdAt: Date(), updatedAt: Date(),
        createdBy: .system("t")),
      passwordHash: PasswordHash(encoded: "$pbkdf2-sha256$i=1,l=32$c2FsdHNhbHQ$aGFzaGhhc2g"),
      apiPasswordHash: nil)
    var recordDump = ""
    dump(record, to: &recordDump)
    #expect(!recordDump.contains("aGFzaGhhc2g"))
    #expect(!"\(record)".contains("aGFzaGhhc2g"))
  }

  @Test func decodesAndComparesInConstantTimeAPI() throws {
    let decoded = try JSONDecoder().decode([Secret].self, from: Data(#"["abc"]"#.utf8))
    #expect(decoded == [Secret("abc")])
    #expect(Secret("abc") != Secret("abd"))
    #expect(Secret("abc") != Secret("abcd"))
    #expect(Secret("abc").revealForDisplay() == "abc")
  }
}
