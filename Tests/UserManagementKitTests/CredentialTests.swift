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

@Suite("Password policy")
struct PasswordPolicyTests {
  let username = try? Username("grace.hopper@navy.mil")

  @Test func defaults() {
    let policy = PasswordPolicy()
    #expect(policy.minimumLength == 15 && policy.maximumLength >= 64 && policy.maximumBytes == 4096)
    #expect(PasswordPolicy.multiFactor.minimumLength == 8)
    #expect(
      policy.violations(of: Secret("a sufficiently long passphrase"), username: username).isEmpty)
    #expect(
      policy.violations(of: Secret("ééééééééééééééé"), username: username).isEmpty,
      "code points, not bytes")
  }

  @Test func reasons() {
    let policy = PasswordPolicy()
    func codes(_ password: String) -> [String] {
      policy.violations(of: Secret(password), username: username).map(\.code)
    }
    #expect(codes("short") == ["too_short"])
    #expect(codes(String(repeating: "x", count: 65)) == ["too_long"])
    #expect(codes(String(repeating: "x", count: 5000)) == ["too_many_bytes"])
    #expect(codes("correcthorsebatterystaple") == ["common_password"])
    #expect(codes("CorrectHorseBatteryStaple") == ["common_password"])
    #expect(codes("my name is grace.hopper ok") == ["contains_username"])
    #expect(codes("xxGRACE.HOPPER@NAVY.MILxx") == ["contains_username"])
    #expect(
      PasswordPolicy.multiFactor.violations(of: Secret("password1"), username: nil).map(\.code) == [
        "common_password"
      ])
    // Decomposed input is counted after NFC normalization: 14 code points, not 15.
    #expect(codes(String(repeating: "e\u{301}", count: 14)) == ["too_short"])
  }
}

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
    #expect(text.hasPrefix("acme_") && text.utf8.count == 5 + 30 + 6)
    #expect(generator.looksLikeToken(token) && generator.hasValidChecksum(token))
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

@Suite("Hashing scheduler")
struct HashingSchedulerTests {
  /// A hasher that records how many of its calls overlap.
  final class OverlapHasher: PasswordHasher {
    let state = Locked((running: 0, peak: 0))
    func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
      state.withLock {
        $0.running += 1
        $0.peak = max($0.peak, $0.running)
      }
      var spin = 0
      for index in 0..<200_000 { spin &+= index }
      state.withLock { $0.running -= 1 }
      return PasswordHash(encoded: "$x$\(spin)")
    }
    func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
      -> PasswordVerification
    { .invalid }
    func canVerify(_ hash: PasswordHash) -> Bool { hash.encoded.hasPrefix("$x$") }
    func needsRehash(_ hash: PasswordHash) -> Bool { false }
  }

  @Test func boundsConcurrentHashes() async throws {
    let hasher = OverlapHasher()
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: hasher, maximumConcurrentHashes: 2))
    let admin = try await directory.bootstrap(
      NewUser(username: "a@example.com", firstName: "A", lastName: "A", password: .generated)
    ).user
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<24 {
        group.addTask {
          try await directory.addUser(
            NewUser(
              username: "u\(index)@example.com", firstName: "U", lastName: "U", password: .generated
            ),
            by: .user(admin.id))
        }
      }
      try await group.waitForAll()
    }
    #expect(hasher.state.withLock { $0.peak } <= 2)
    #expect(try await directory.userCount(by: .user(admin.id)) == 25)
  }
}

@Suite("Insecure fast test hasher")
struct InsecureFastPasswordHasherTests {
  @Test func roundTripsAndIsMarkedCheap() throws {
    let hasher = InsecureFastPasswordHasher()
    let hash = hasher.hash(Secret("pw"))
    #expect(hash.algorithm == "insecure-sha256")
    #expect(try hasher.verify(Secret("pw"), against: hash) == .valid)
    #expect(try hasher.verify(Secret("pX"), against: hash) == .invalid)
    #expect(!hasher.isComputationallyExpensive)
    #expect(PBKDF2PasswordHasher(insecureIterations: 1).isComputationallyExpensive)
    #expect(throws: UserManagementError.self) {
      _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: "$pbkdf2-sha256$x$y$z"))
    }
  }
}

@Suite("System randomness")
struct SystemRandomTests {
  @Test func fillsSmallAndLargeBuffersWithVaryingBytes() {
    let source = SystemRandomSource()
    var seen = Set<[UInt8]>()
    for size in [1, 15, 16, 63, 64, 65, 255, 256, 257, 4096] {
      for _ in 0..<20 {
        var bytes = [UInt8](repeating: 0, count: size)
        source.fill(&bytes)
        #expect(bytes.count == size)
        if size >= 15 {
          #expect(seen.insert(bytes).inserted, "no repeated output")
          #expect(Set(bytes).count > 1)
        }
      }
    }
    var secret = [UInt8](repeating: 0, count: 64)
    source.fillSecret(&secret)
    #expect(Set(secret).count > 16, "secret material comes from the kernel too")
    // Roughly uniform: over 64 KiB every byte value appears.
    var big = [UInt8](repeating: 0, count: 65_536)
    source.fill(&big)
    #expect(Set(big).count == 256)
  }
}
