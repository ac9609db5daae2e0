import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Generators")
struct GeneratorTests {
  @Test func generatedPasswordsAlwaysSatisfyThePolicyAndAreUniform() throws {
    let generator = RandomPasswordGenerator(excludeLookAlikes: true)
    let username = try Username("ab@example.com")
    let policy = PasswordPolicy()
    var counts: [UInt8: Int] = [:]
    var seen = Set<String>()
    let rounds = 100_000
    for _ in 0..<rounds {
      let password = try generator.generatePassword(for: username, policy: policy)
      #expect(policy.violations(of: password, username: username).isEmpty)
      let text = password.revealForDisplay()
      #expect(seen.insert(text).inserted)
      for byte in text.utf8 {
        #expect(!RandomPasswordGenerator.lookAlikes.utf8.contains(byte))
        counts[byte, default: 0] += 1
      }
    }
    // Every alphabet character appears, each close to its expected frequency.
    #expect(counts.count == generator.alphabet.count)
    let expected = Double(rounds * 20) / Double(generator.alphabet.count)
    for (_, count) in counts { #expect(abs(Double(count) - expected) < expected * 0.05) }
    let longPolicy = PasswordPolicy(minimumLength: 40)
    #expect(try generator.generatePassword(for: username, policy: longPolicy).byteCount == 40)
  }

  @Test func apiTokensAreRecognizableAndChecksummed() throws {
    let generator = APIPasswordGenerator(prefix: "acme_")
    let token = generator.generate()
    let text = token.revealForDisplay()
    #expect(text.hasPrefix("acme_"))
    #expect(text.utf8.count == 5 + 30 + 6)
    #expect(generator.looksLikeToken(token))
    #expect(generator.hasValidChecksum(token))
    var bytes = Array(text.utf8)
    bytes[7] = bytes[7] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    #expect(!generator.hasValidChecksum(Secret(bytes: bytes)))
    #expect(!generator.looksLikeToken(Secret("acme_short")))
    #expect(APIPasswordGenerator(prefix: "bad prefix").prefix == "umk_")
    let hash = generator.hash(token)
    #expect(hash.algorithm == "umk-token-hmac-sha256")
    #expect(try APIPasswordGenerator.verify(token, against: hash))
    #expect(try !APIPasswordGenerator.verify(Secret(bytes: bytes), against: hash))
    #expect(throws: UserManagementError.self) {
      _ = try APIPasswordGenerator.verify(
        token, against: PasswordHash(encoded: "$umk-token-hmac-sha256$x$y"))
    }
    let many = Set((0..<2000).map { _ in generator.generate().revealForDisplay() })
    #expect(many.count == 2000)
  }
}
