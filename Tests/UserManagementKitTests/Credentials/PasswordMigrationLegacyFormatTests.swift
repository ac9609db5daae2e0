import Testing
import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// LDAP, SHA-crypt and Drupal 7 hashes: normal forms, scheme spellings, hostile values,
/// cost ceilings and the census.
@Suite("Imported password hashes: LDAP, SHA-crypt, Drupal")
struct PasswordMigrationLegacyFormatTests {
  let hasher = MigratingPasswordHasher(
    preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1))

  static let composed = "p\u{E4}ss w\u{F6}rd"
  static let decomposed = "pa\u{308}ss wo\u{308}rd"

  /// Fails unless verifying `encoded` is refused as unsupported, with an error that quotes
  /// none of `material`.
  func expectRefused(
    _ encoded: String, quoting material: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: encoded))
      Issue.record("expected unsupported_hash", sourceLocation: sourceLocation)
    } catch {
      #expect(error.code == .unsupportedHash, sourceLocation: sourceLocation)
      let shown = "\(error) \(error.message) \(error.context)"
      let body = material ?? String(encoded.drop { $0 != "}" && $0 != "$" }.dropFirst(3))
      if body.count >= 4 {
        #expect(!shown.contains(body), "\(shown)", sourceLocation: sourceLocation)
      }
    }
  }

  @Test func normalFormsVerifyOnlyTheBytesThatWereHashed() throws {
    let formats = Set([
      "ldap-sha", "ldap-ssha", "ldap-ssha256", "ldap-ssha512", "sha256-crypt", "sha512-crypt",
      "drupal7-sha512",
    ])
    var checked = Set<String>()
    for vector in passwordHashVectors where formats.contains(vector.format) {
      let other: String
      switch vector.password.unicodeScalars.elementsEqual(Self.composed.unicodeScalars) {
      case true: other = Self.decomposed
      case false:
        guard vector.password.unicodeScalars.elementsEqual(Self.decomposed.unicodeScalars)
        else { continue }
        other = Self.composed
      }
      let hash = PasswordHash(encoded: vector.hash)
      #expect(try hasher.verify(Secret(vector.password), against: hash) == .validNeedsRehash)
      #expect(try hasher.verify(Secret(other), against: hash) == .invalid)
      checked.insert(vector.format)
    }
    #expect(checked == formats)
  }

  // MARK: LDAP

  @Test func ldapSchemeNamesMatchInAnyCase() throws {
    for vector in passwordHashVectors where vector.format.hasPrefix("ldap-") {
      let close = try #require(vector.hash.firstIndex(of: "}"))
      let scheme = vector.hash[..<close]
      let value = vector.hash[close...]
      for spelling in [
        scheme.lowercased(), scheme.uppercased(), "{" + scheme.dropFirst().capitalized,
      ] {
        let hash = PasswordHash(encoded: spelling + value)
        #expect(try hasher.verify(Secret(vector.password), against: hash) == .validNeedsRehash)
        #expect(hash.algorithm == String(vector.format.dropFirst("ldap-".count)))
      }
    }
  }

  @Test func ldapAlgorithmIdentifiers() {
    #expect(PasswordHash(encoded: "{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=").algorithm == "sha")
    #expect(PasswordHash(encoded: "{SSHA}x").algorithm == "ssha")
    #expect(PasswordHash(encoded: "{ssha256}x").algorithm == "ssha256")
    #expect(PasswordHash(encoded: "{SSHA512}x").algorithm == "ssha512")
    #expect(PasswordHash(encoded: "{MD5}x").algorithm == "unknown")
    #expect(PasswordHash(encoded: "{5f4dcc3b5aa765d6}x").algorithm == "unknown")
    #expect(PasswordHash(encoded: "{SSHA").algorithm == "unknown")
    #expect(PasswordHash(encoded: "{\u{17F}SHA}x").algorithm == "unknown")
  }

  static let sha1Digest = [UInt8](repeating: 0xA5, count: 20)

  @Test(arguments: [
    "{SSHA}", "{SSHA}notbase64!", "{SHA}AAAA",
    "{SHA}" + Base64Text.encodePadded(sha1Digest + [1]),
    "{SSHA}" + Base64Text.encodePadded(sha1Digest),
    "{SSHA}" + Base64Text.encodePadded(sha1Digest + [UInt8](repeating: 7, count: 65)),
    "{SSHA256}" + Base64Text.encodePadded([UInt8](repeating: 9, count: 32)),
    "{SSHA512}" + Base64Text.encodePadded([UInt8](repeating: 9, count: 60)),
    "{SSHA} " + Base64Text.encodePadded(sha1Digest + [1, 2, 3, 4]),
    "{SSHA}" + Base64Text.encodePadded(sha1Digest + [1, 2, 3, 4]) + "\n",
    "{MD5}X03MO1qnZdYdgyfeuILPmQ==", "{CRYPT}$6$salt$hash", "{SSHA",
  ])
  func malformedLDAPValuesAreRefusedWithoutEchoingThem(_ encoded: String) {
    expectRefused(encoded)
  }

  @Test func ldapCensusGroupsBySchemeAndSaltLength() {
    let hashes = passwordHashVectors.filter { $0.format.hasPrefix("ldap-") }
      .map { PasswordHash(encoded: $0.hash) }
    let census = hasher.census(of: hashes)
    #expect(census.unsupported == 0)
    #expect(census.needingRehash == hashes.count)
    let algorithms = Set(census.groups.map(\.group.algorithm))
    #expect(algorithms == ["ldap-sha", "ldap-ssha", "ldap-ssha256", "ldap-ssha512"])
    #expect(
      census.groups.contains {
        $0.group == .init(algorithm: "ldap-sha", parameters: "salt=0", needsRehash: true)
      })
    #expect(
      census.groups.contains {
        $0.group == .init(algorithm: "ldap-ssha", parameters: "salt=4", needsRehash: true)
      })
    #expect(
      census.groups.contains {
        $0.group == .init(algorithm: "ldap-ssha512", parameters: "salt=16", needsRehash: true)
      })
  }

  // MARK: SHA-crypt

  static let checksum256 = String(repeating: "a", count: 43)
  static let checksum512 = String(repeating: "a", count: 86)

  @Test func shaCryptAlgorithmIdentifiers() throws {
    for vector in passwordHashVectors where vector.format.hasSuffix("-crypt") {
      let hash = PasswordHash(encoded: vector.hash)
      #expect(hash.algorithm == (vector.format == "sha256-crypt" ? "5" : "6"))
      #expect(!hash.description.contains(String(vector.hash.suffix(20))))
    }
  }

  @Test(arguments: [
    "$5$", "$5$salt", "$5$salt$", "$6$salt$" + checksum256, "$5$salt$" + checksum512,
    "$5$salt$" + String(checksum256.dropLast()), "$5$salt$" + checksum256 + "a",
    "$5$rounds=999$salt$" + checksum256, "$5$rounds=01000$salt$" + checksum256,
    "$5$rounds=$salt$" + checksum256, "$5$rounds=1e4$salt$" + checksum256,
    "$5$rounds=-5000$salt$" + checksum256, "$6$rounds=1000000000$salt$" + checksum512,
    "$5$rounds=99999999999999999999$salt$" + checksum256,
    "$5$rounds=1000$rounds=1000$salt$" + checksum256, "$5$sa!t$" + checksum256,
    "$5$saltsaltsaltsalt1$" + checksum256, "$5$salt$" + String(checksum256.dropLast()) + "!",
    "$5$salt$extra$" + checksum256, "$6$salt$" + checksum512 + "$",
    "$5$s\u{E4}lt$" + checksum256,
  ])
  func malformedSHACryptHashesAreRefusedWithoutEchoingThem(_ encoded: String) {
    expectRefused(encoded, quoting: encoded.count > 40 ? String(encoded.suffix(30)) : nil)
  }

  @Test func shaCryptRoundsAboveTheCeilingAreRefusedBeforeAnyWork() throws {
    // 999,999,999 rounds are within the format, and would take minutes; the ceiling refuses
    // them at once.
    for encoded in [
      "$5$rounds=999999999$salt$" + Self.checksum256,
      "$6$rounds=5000001$salt$" + Self.checksum512,
    ] {
      do {
        _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: encoded))
        Issue.record("expected the ceiling to refuse")
      } catch {
        #expect(error.code == .unsupportedHash)
        #expect(error.context["reason"] == "cost_limit")
      }
    }
    let vector = try #require(passwordHashVectors.first { $0.format == "sha512-crypt" })
    let hash = PasswordHash(encoded: vector.hash)
    let low = MigratingPasswordHasher(
      preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1),
      limits: HashCostLimits(maximumSHACryptRounds: 4999))
    #expect(!low.canVerify(hash))
    #expect(low.census(of: [hash]).unsupported == 1)
    #expect(HashCostLimits().maximumSHACryptRounds == 5_000_000)
  }

  /// SHA-crypt, phpass and Drupal 7 hash the password again in every round, so a long
  /// password makes every round dearer: it is checked only if the rounds times its 64-byte
  /// blocks stay within the ceiling, which is refused before any work otherwise.
  @Test func perRoundFormatsCountThePasswordsBlocksAgainstTheCeiling() throws {
    func hasher(_ limits: HashCostLimits) -> MigratingPasswordHasher {
      MigratingPasswordHasher(
        preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1), limits: limits)
    }
    // 65 bytes are two blocks: twice the work of the short passwords the hashes were made of.
    let long = Secret(String(repeating: "x", count: 65))
    let cases:
      [(hash: String, password: String, atItsCost: HashCostLimits, twice: HashCostLimits)] =
        [
          (
            "$6$rounds=1000$3456$xKdZgwHsh102vCrliT5HARttqs79fpo6hWYJ9TSlUJks0AibiFw7ks9fXti1y/U2nebgwJdDny1JhuAOS5fmw.",
            "p", HashCostLimits(maximumSHACryptRounds: 1000),
            HashCostLimits(maximumSHACryptRounds: 2000)
          ),
          (
            "$P$5.5CJQXeltYR1EGle.zbKPQlJHXna/0", "correct horse battery staple",
            HashCostLimits(maximumPHPassLog2Iterations: 7),
            HashCostLimits(maximumPHPassLog2Iterations: 8)
          ),
          (
            "$S$C33783772bRXEx1aCsvY.dqgaaSu76XmVlKrW9Qu8IQlvxHlmzLf", "hashcat",
            HashCostLimits(maximumDrupalHashCountLog2: 14),
            HashCostLimits(maximumDrupalHashCountLog2: 15)
          ),
        ]
    for (encoded, password, atItsCost, twice) in cases {
      let hash = PasswordHash(encoded: encoded)
      #expect(try hasher(atItsCost).verify(Secret(password), against: hash) != .invalid)
      do {
        _ = try hasher(atItsCost).verify(long, against: hash)
        Issue.record("expected the ceiling to refuse a long password: \(hash.algorithm)")
      } catch {
        #expect(error.code == .unsupportedHash)
        #expect(error.context["reason"] == "cost_limit")
        #expect(error.message.contains("2 64-byte blocks"), "\(error.message)")
      }
      #expect(try hasher(twice).verify(long, against: hash) == .invalid)
    }
    // WordPress tries a password again without its surrounding whitespace: two passes, both
    // counted before either runs.
    let wordPress = PasswordHash(encoded: "$P$5.5CJQXeltYR1EGle.zbKPQlJHXna/0")
    let spaced = Secret("correct horse battery staple ")
    #expect(throws: UserManagementError.self) {
      _ = try hasher(HashCostLimits(maximumPHPassLog2Iterations: 7)).verify(
        spaced, against: wordPress)
    }
    #expect(
      try hasher(HashCostLimits(maximumPHPassLog2Iterations: 8)).verify(spaced, against: wordPress)
        != .invalid)
    // SHA-crypt hashes the password once per byte before its rounds: a password longer than the
    // rounds counts its length instead (1,100 bytes, 18 blocks, against 1,000 rounds).
    let shaCrypt = PasswordHash(encoded: cases[0].hash)
    let longer = Secret(String(repeating: "y", count: 1_100))
    #expect(throws: UserManagementError.self) {
      _ = try hasher(HashCostLimits(maximumSHACryptRounds: 19_000)).verify(
        longer, against: shaCrypt)
    }
    #expect(
      try hasher(HashCostLimits(maximumSHACryptRounds: 19_800)).verify(longer, against: shaCrypt)
        == .invalid)
  }

  @Test func shaCryptCensusGroupsByRoundsAndSaltLength() {
    let hashes = passwordHashVectors.filter { $0.format.hasSuffix("-crypt") }
      .map { PasswordHash(encoded: $0.hash) }
    let census = hasher.census(of: hashes)
    #expect(census.unsupported == 0)
    #expect(census.needingRehash == hashes.count)
    #expect(Set(census.groups.map(\.group.algorithm)) == ["sha256-crypt", "sha512-crypt"])
    for group in [
      PasswordHashCensus.Group(
        algorithm: "sha256-crypt", parameters: "rounds=5000,salt=2", needsRehash: true),
      .init(algorithm: "sha512-crypt", parameters: "rounds=10000,salt=16", needsRehash: true),
      .init(algorithm: "sha256-crypt", parameters: "rounds=1000,salt=4", needsRehash: true),
    ] {
      #expect(census.groups.contains { $0.group == group }, "\(group)")
    }
  }

  // MARK: Drupal 7

  static let drupalTail = String(repeating: "a", count: 43)

  @Test func drupalAlgorithmIdentifier() throws {
    let vector = try #require(passwordHashVectors.first { $0.format == "drupal7-sha512" })
    let hash = PasswordHash(encoded: vector.hash)
    #expect(hash.algorithm == "drupal-sha512")
    #expect(hash.description == "PasswordHash(drupal-sha512, redacted)")
    #expect(PasswordHash.knownAlgorithms.contains("drupal-sha512"))
  }

  @Test(arguments: [
    "$S$", "$S$5abcdefgh" + String(drupalTail.dropLast()), "$S$5abcdefgh" + drupalTail + "a",
    "$S$4abcdefgh" + drupalTail, "$S$.abcdefgh" + drupalTail, "$S$Tabcdefgh" + drupalTail,
    "$S$zabcdefgh" + drupalTail, "$S$5abcdef!h" + drupalTail,
    "$S$5abcdefgh" + String(drupalTail.dropLast()) + "$",
    "$S$5abcdefgh" + String(drupalTail.dropLast()) + "\u{E9}",
    "$S$\u{E9}abcdefgh" + String(drupalTail.dropLast()),
  ])
  func malformedDrupalHashesAreRefusedWithoutEchoingThem(_ encoded: String) {
    expectRefused(encoded, quoting: encoded.count > 40 ? String(encoded.suffix(30)) : nil)
  }

  @Test func drupalCountsAboveTheCeilingAreRefusedBeforeAnyWork() throws {
    // 2^30 iterations are within Drupal's range, and would take many minutes.
    for count in ["L", "S"] {
      do {
        _ = try hasher.verify(
          Secret("pw"), against: PasswordHash(encoded: "$S$" + count + "abcdefgh" + Self.drupalTail)
        )
        Issue.record("expected the ceiling to refuse")
      } catch {
        #expect(error.code == .unsupportedHash)
        #expect(error.context["reason"] == "cost_limit")
      }
    }
    #expect(HashCostLimits().maximumDrupalHashCountLog2 == 22)
    let published = PasswordHash(
      encoded: "$S$C33783772bRXEx1aCsvY.dqgaaSu76XmVlKrW9Qu8IQlvxHlmzLf")  // 2^14
    let low = MigratingPasswordHasher(
      preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1),
      limits: HashCostLimits(maximumDrupalHashCountLog2: 13))
    #expect(!low.canVerify(published))
    #expect(try hasher.verify(Secret("hashcat"), against: published) == .validNeedsRehash)
  }

  @Test func drupalRefusesPasswordsLongerThan512BytesAsDrupalDoes() throws {
    // Computed by the generator's Drupal implementation; Drupal itself never writes the first.
    let over = PasswordHash(encoded: "$S$5abcdefghuA4iKcg0Et3Kt5F7bBUOhrPHvJQ2S2SDvcsr39uf7vU")
    #expect(
      try hasher.verify(Secret(String(repeating: "y", count: 513)), against: over) == .invalid)
    let atLimit = PasswordHash(encoded: "$S$5abcdefgh/dMcUA5jEx5HgKgWouGJBUs8xt5BE3dqk3CjB3zkSaw")
    #expect(
      try hasher.verify(Secret(String(repeating: "y", count: 512)), against: atLimit)
        == .validNeedsRehash)
  }

  @Test func drupalCensusGroupsByIterationCount() {
    let hashes = passwordHashVectors.filter { $0.format == "drupal7-sha512" }
      .map { PasswordHash(encoded: $0.hash) }
    let census = hasher.census(of: hashes)
    #expect(census.unsupported == 0)
    #expect(census.needingRehash == hashes.count)
    #expect(
      Set(census.groups.map(\.group)) == [
        .init(algorithm: "drupal7-sha512", parameters: "log2=14", needsRehash: true),
        .init(algorithm: "drupal7-sha512", parameters: "log2=7", needsRehash: true),
        .init(algorithm: "drupal7-sha512", parameters: "log2=8", needsRehash: true),
        .init(algorithm: "drupal7-sha512", parameters: "log2=9", needsRehash: true),
      ])
  }
}
