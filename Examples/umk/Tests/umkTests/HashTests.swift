import Foundation
import Testing

/// `hash make`, `hash verify` and `hash census`.
@Suite("Hashes")
struct HashTests {
  /// A hash made with each algorithm verifies the password and no other; only Argon2id is
  /// current.
  @Test(arguments: ["argon2id", "pbkdf2-sha256", "pbkdf2-sha512"])
  func makeAndVerify(_ algorithm: String) throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let made = try umk.run(
      ["hash", "make", "--algorithm", algorithm, "--password-stdin", "--json"],
      stdin: "tr0ub4dor&3\n", store: nil)
    #expect(made.status == 0, "\(made)")
    let hash = try made.output(HashMade.self).hash
    #expect(hash.hasPrefix("$\(algorithm)$"))
    let valid = try umk.run(
      ["hash", "verify", hash, "--password-stdin"], stdin: "tr0ub4dor&3", store: nil)
    #expect(valid.status == 0, "\(valid)")
    #expect(
      valid.stdout
        == (algorithm == "argon2id"
          ? "valid\n" : "valid (would be rehashed at the next sign-in)\n"))
    let invalid = try umk.run(
      ["hash", "verify", hash, "--password-stdin"], stdin: "tr0ub4dor&4", store: nil)
    #expect(invalid.status == 1)
    #expect(invalid.stdout == "invalid\n")
  }

  /// A Django hash verifies, and would be upgraded.
  @Test func verifyALegacyHash() throws {
    let umk = try UMK()
    defer { umk.cleanUp() }
    let legacy = try umk.run(
      ["hash", "verify", UMK.djangoHash, "--password-stdin", "--json"],
      stdin: "correct horse battery staple", store: nil)
    #expect(legacy.status == 0)
    let verdict = try legacy.output(HashVerdict.self)
    #expect(verdict.valid)
    #expect(verdict.needsRehash)
  }

  /// The census counts hashes, upgrades to come, and users without a password.
  @Test func census() throws {
    try UMK.withStore { umk in
      try umk(
        ["import", "-"] + UMK.asAda,
        stdin:
          #"{"username": "d@example.com", "firstName": "D", "lastName": "D", "passwordHash": "\#(UMK.djangoHash)"}"#
          + "\n" + #"{"username": "n@example.com", "firstName": "N", "lastName": "N"}"#)
      let run = try umk(["hash", "census", "--json"] + UMK.asAda)
      #expect(run.status == 0, "\(run)")
      let census = try run.output(HashCensus.self)
      #expect(census.total == 3)
      #expect(census.withoutPassword == 1)
      #expect(census.needingRehash == 1)
      #expect(census.groups.map(\.count).reduce(0, +) == 2)
    }
  }
}
