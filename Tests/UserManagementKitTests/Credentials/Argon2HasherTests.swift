import Testing
import UserManagementKit
import UserManagementKitTesting

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite("Argon2id password hasher")
struct Argon2HasherTests {
  let cheap = Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1)

  @Test func defaultsAreOWASPAndWeakerParametersAreRefused() async throws {
    let standard = Argon2PasswordHasher()
    #expect(standard.memoryKiB == 19_456)
    #expect(standard.iterations == 2)
    #expect(standard.parallelism == 1)
    #expect(try Argon2PasswordHasher(memoryKiB: 12_288, iterations: 3).iterations == 3)
    #expect(
      try Argon2PasswordHasher(memoryKiB: 65_536, iterations: 3, parallelism: 4).memoryKiB == 65_536
    )
    await expectError(.invalidField) {
      _ = try Argon2PasswordHasher(memoryKiB: 19_455, iterations: 2)
    }
    await expectError(.invalidField) {
      _ = try Argon2PasswordHasher(memoryKiB: 9_216, iterations: 3)
    }
  }

  @Test func hashesVerifiesAndWritesPHC() throws {
    let hash = try cheap.hash(Secret("pässword"))
    #expect(hash.encoded.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$"))
    #expect(cheap.canVerify(hash))
    #expect(try cheap.verify(Secret("pässword"), against: hash) == .valid)
    #expect(try cheap.verify(Secret("password"), against: hash) == .invalid)
    // NFC before hashing: the decomposed spelling verifies too.
    #expect(try cheap.verify(Secret("pa\u{308}ssword"), against: hash) == .valid)
    #expect(try !cheap.needsRehash(hash))
    let stronger = Argon2PasswordHasher(insecureMemoryKiB: 128, iterations: 1)
    #expect(try stronger.needsRehash(hash))
    #expect(try stronger.verify(Secret("pässword"), against: hash) == .validNeedsRehash)
  }

  @Test(arguments: [
    "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=64,t=1000000000,p=1$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=64,t=1,p=255$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=64,t=1$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=18$m=64,t=1,p=1$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=64,t=1,p=1,x=2$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzYWx0",
    "$argon2id$", "$argon2x$v=19$m=64,t=1,p=1$c29tZXNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=99999999999999999999,t=1,p=1$c29tZXNhbHRzYWx0$aGFzaA",
  ])
  func refusesHostileOrMalformedHashes(_ encoded: String) async {
    let error = await expectError(.unsupportedHash) {
      _ = try cheap.verify(Secret("pw"), against: PasswordHash(encoded: encoded))
    }
    #expect(error.map { !$0.message.contains("c29tZXNhbHRzYWx0") } ?? true)
  }
}
