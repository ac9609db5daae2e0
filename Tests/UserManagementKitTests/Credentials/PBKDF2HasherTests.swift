import Testing
import UMKCrypto
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("PBKDF2 password hasher")
struct PBKDF2HasherTests {
  @Test func refusesWeakParametersUnlessNamedInsecure() async throws {
    await expectError(.invalidField) { _ = try PBKDF2PasswordHasher(iterations: 599_999) }
    await expectError(.invalidField) {
      _ = try PBKDF2PasswordHasher(variant: .sha512, iterations: 1000)
    }
    #expect(PBKDF2PasswordHasher().iterations == 600_000)
    #expect(PBKDF2PasswordHasher(variant: .sha512).iterations == 220_000)
    #expect(try PBKDF2PasswordHasher(iterations: 700_000).iterations == 700_000)
    #expect(PBKDF2PasswordHasher(insecureIterations: 1).iterations == 1)
  }

  @Test func hashesAndVerifies() throws {
    let hasher = PBKDF2PasswordHasher(insecureIterations: 10)
    let hash = try hasher.hash(Secret("pässword"))
    #expect(hash.encoded.hasPrefix("$pbkdf2-sha256$i=10,l=32$"))
    #expect(hash.algorithm == "pbkdf2-sha256")
    #expect(try hasher.verify(Secret("pässword"), against: hash) == .valid)
    #expect(try hasher.verify(Secret("password"), against: hash) == .invalid)
    #expect(try hasher.hash(Secret("x")) != hasher.hash(Secret("x")), "salts are random")
    #expect(!"\(hash)".contains(hash.encoded.suffix(20)))
  }

  @Test func matchesAnIndependentComputation() throws {
    // The hash's key is PBKDF2-HMAC-SHA256(NFC(password), salt, i) computed by UMKCrypto,
    // which is itself cross-checked against Python's hashlib.
    let hash = try PBKDF2PasswordHasher(insecureIterations: 7).hash(Secret("correct horse"))
    let parts = hash.encoded.split(separator: "$")
    let salt = try #require(Base64.decode(parts[2], variant: .standardUnpadded))
    let key = try #require(Base64.decode(parts[3], variant: .standardUnpadded))
    let expected = try PBKDF2.deriveKey(
      password: Array("correct horse".utf8), salt: salt, iterations: 7, keyByteCount: 32,
      hashFunction: SHA256.self)
    #expect(key == expected)
  }

  @Test func normalizesToNFC() throws {
    let hasher = PBKDF2PasswordHasher(insecureIterations: 3)
    let composed = Secret("caf\u{E9} au lait")
    let decomposed = Secret("cafe\u{301} au lait")
    #expect(composed != decomposed)
    #expect(try hasher.verify(decomposed, against: hasher.hash(composed)) == .valid)
  }

  @Test func asksForRehashWhenWeaker() throws {
    let weak = try PBKDF2PasswordHasher(insecureIterations: 5).hash(Secret("pw"))
    #expect(
      try PBKDF2PasswordHasher(insecureIterations: 6).verify(Secret("pw"), against: weak)
        == .validNeedsRehash)
    #expect(
      try PBKDF2PasswordHasher(insecureIterations: 5, variant: .sha512).verify(
        Secret("pw"), against: weak) == .validNeedsRehash)
    #expect(
      try PBKDF2PasswordHasher(insecureIterations: 4).verify(Secret("pw"), against: weak) == .valid)
  }

  @Test(arguments: [
    "", "garbage", "$pbkdf2-sha256$", "$pbkdf2-sha256$i=10$c2FsdHNhbHQ$aGFzaA",
    "$pbkdf2-sha256$i=abc,l=32$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "$pbkdf2-sha256$i=0,l=32$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "$pbkdf2-sha256$i=10000000000,l=32$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "$pbkdf2-sha256$i=99999999,l=32$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "$pbkdf2-sha256$i=10,l=32$!!!!$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "$pbkdf2-md5$i=10,l=32$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$aGFzaA",
  ])
  func refusesHostileHashes(_ encoded: String) async {
    await expectError(.unsupportedHash) {
      _ = try PBKDF2PasswordHasher(insecureIterations: 1).verify(
        Secret("pw"), against: PasswordHash(encoded: encoded))
    }
  }
}
