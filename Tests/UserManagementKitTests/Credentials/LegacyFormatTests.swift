import Testing
import UserManagementKit

@Suite("Imported password hashes: phpass, WordPress, MD5-crypt, scrypt")
struct LegacyFormatTests {
  let hasher = MigratingPasswordHasher(
    preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1))

  @Test(arguments: legacy2PasswordHashVectors)
  func verifiesHashesWrittenByOtherSystems(format: String, password: String, encoded: String)
    throws
  {
    let hash = PasswordHash(encoded: encoded)
    #expect(hasher.canVerify(hash))
    #expect(try hasher.verify(Secret(password), against: hash) == .validNeedsRehash)
    #expect(try hasher.verify(Secret(password + "x"), against: hash) == .invalid)
    #expect(try hasher.verify(Secret("x" + password), against: hash) == .invalid)
    #expect(try hasher.needsRehash(hash))
    #expect(hash.algorithm != "unknown")
    #expect(PasswordHash.knownAlgorithms.contains(hash.algorithm))
  }

  @Test func vectorsCoverEveryFormat() {
    #expect(legacy2PasswordHashVectors.count >= 43)
    #expect(
      Set(legacy2PasswordHashVectors.map(\.format)) == [
        "phpass", "wordpress-bcrypt", "md5-crypt", "django-scrypt", "passlib-scrypt",
      ])
  }

  @Test func algorithmIdentifiers() {
    let expected: [(String, String)] = [
      ("$P$", "phpass"), ("$H$", "phpass"), ("$wp$", "wp"), ("$1$", "1"),
      ("scrypt$", "scrypt"), ("$scrypt$", "scrypt"),
    ]
    for (prefix, algorithm) in expected {
      let vector = legacy2PasswordHashVectors.first { $0.hash.hasPrefix(prefix) }
      #expect(vector.map { PasswordHash(encoded: $0.hash).algorithm } == algorithm, "\(prefix)")
    }
  }

  @Test func legacyHashesSeeTheExactBytesTheOldSystemHashed() throws {
    for vector in legacy2PasswordHashVectors where vector.password.hasPrefix("cafe\u{301}") {
      let hash = PasswordHash(encoded: vector.hash)
      #expect(try hasher.verify(Secret("caf\u{E9} au lait"), against: hash) == .invalid)
      #expect(try hasher.verify(Secret("cafe\u{301} au lait"), against: hash) == .validNeedsRehash)
    }
  }

  /// WordPress hashes `trim($password)` and trims at sign-in; phpBB3 (`$H$`) does neither.
  @Test func wordPressFormatsAlsoCheckTheTrimmedPassword() throws {
    let padded = legacy2PasswordHashVectors.filter { $0.password == "  padded secret\t" }
    #expect(padded.count == 6)
    for vector in padded {
      let hash = PasswordHash(encoded: vector.hash)
      let trimmed = try hasher.verify(Secret("padded secret"), against: hash)
      let other = try hasher.verify(Secret(" padded secret "), against: hash)
      if vector.hash.hasPrefix("$P$") || vector.hash.hasPrefix("$wp$") {
        #expect(trimmed == .validNeedsRehash, "\(vector.format)")
        #expect(other == .validNeedsRehash, "\(vector.format)")
      } else {
        #expect(trimmed == .invalid, "\(vector.format)")
        #expect(other == .invalid, "\(vector.format)")
      }
    }
  }

  @Test(arguments: [
    "$P$5.5CJQXeltYR1EGle.zbKPQlJHXna/",  // short
    "$P$5.5CJQXeltYR1EGle.zbKPQlJHXna/0x",  // long
    "$P$4.5CJQXeltYR1EGle.zbKPQlJHXna/0",  // 2^6 iterations: below phpass's minimum
    "$P$T.5CJQXeltYR1EGle.zbKPQlJHXna/0",  // 2^31: above phpass's maximum
    "$P$5.5CJ!XeltYR1EGle.zbKPQlJHXna/0",  // salt outside the alphabet
    "$P$5.5CJQXeltYR1EGle.zbKPQlJHXna/z",  // non-canonical last character
    "$wp$2y$04$..CA.uOD/eaGAOmJB.yMBuykJe7GNe.z9AspQsFweQ1QKqCOCHWa",
    "$wp$2x$04$..CA.uOD/eaGAOmJB.yMBuykJe7GNe.z9AspQsFweQ1QKqCOCHWaa",
    "$wp$2y$17$..CA.uOD/eaGAOmJB.yMBuykJe7GNe.z9AspQsFweQ1QKqCOCHWaa",
    "$1$3AHOVcjq$JcgG2Nx0uP6j6NBcXDn3V",  // short hash
    "$1$3AHOVcjq$JcgG2Nx0uP6j6NBcXDn3Vz",  // non-canonical
    "$1$3AHOVcjq9$JcgG2Nx0uP6j6NBcXDn3V0",  // 9-character salt
    "$1$3AH$Vcjq$JcgG2Nx0uP6j6NBcXDn3V0",
    "$1$3AHOVcjq$JcgG2Nx0uP6j6NBcXDn3V0$",
    "scrypt$16$saltSALT0000xyz$1$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6Qeyt==",
    "scrypt$15$saltSALT0000xyz$1$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "scrypt$16$saltSALT0000xyz$0$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "scrypt$16$$1$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "scrypt$+16$salt$1$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "$scrypt$ln=4,r=1,p=1$AAECAwQFBgc$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/",
    "$scrypt$ln=4,r=1$AAECAwQFBgc$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
    "$scrypt$ln=0,r=1,p=1$AAECAwQFBgc$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
    "$scrypt$ln=4,r=1,p=1$AAECAwQFBgc=$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
    "$scrypt$ln=4,r=1,p=1$$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
  ])
  func refusesMalformedHashesWithoutQuotingThem(_ encoded: String) async throws {
    let error = await expectError(.unsupportedHash) {
      _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: encoded))
    }
    let text = "\(String(describing: error)) \(error?.context ?? [:])"
    // No field of the hash after its identifier appears in the error.
    for field in encoded.split(separator: "$").dropFirst() where field.count >= 6 {
      #expect(!text.contains(field), "\(text)")
    }
    #expect(throws: UserManagementError.self) {
      _ = try hasher.needsRehash(PasswordHash(encoded: encoded))
    }
  }

  /// Each of these would take minutes, gigabytes or forever if computed.
  @Test(arguments: [
    "$P$S.5CJQXeltYR1EGle.zbKPQlJHXna/0",  // 2^30 MD5 iterations
    "$P$N.5CJQXeltYR1EGle.zbKPQlJHXna/0",  // 2^25
    // 1 GiB.
    "scrypt$1048576$salt$8$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    // 64 MiB, but N × r × p = 2^25.
    "scrypt$65536$salt$8$64$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "scrypt$2$salt$1$999999999$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "scrypt$9223372036854775808$salt$8$1$wjb488SCdXJMQ1RG8w8bu6VMAPbO4KpTtw14j8EEmS7424P3Axpk6QeytpBXfTekKVlN9N1+tk3yz9uuR8BltQ==",
    "$scrypt$ln=62,r=8,p=1$AAECAwQFBgc$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
    "$scrypt$ln=16,r=8,p=999$AAECAwQFBgc$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
    "$scrypt$ln=20,r=9999999999,p=1$AAECAwQFBgc$4mvKgJ6chyCbfE/pLnNFNJ9WxGTAZD8AwAkJr4WJz/o",
  ])
  func refusesCostsAboveTheCeilingsBeforeAnyWork(_ encoded: String) async {
    let error = await expectError(.unsupportedHash) {
      _ = try hasher.verify(Secret("pw"), against: PasswordHash(encoded: encoded))
    }
    #expect(error?.context["reason"] == "cost_limit" || encoded.contains("9223372036854775808"))
  }

  @Test func ceilingsAreConfigurable() async throws {
    let strict = MigratingPasswordHasher(
      preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1),
      limits: HashCostLimits(
        maximumBcryptCost: 4, maximumPHPassLog2Iterations: 7, maximumScryptMemoryBytes: 4096,
        maximumScryptWork: 32))
    for vector in legacy2PasswordHashVectors {
      let hash = PasswordHash(encoded: vector.hash)
      // Only log2 = 7 fits, and for WordPress (`$P$`) only a password without surrounding
      // whitespace: one with it costs a second, trimmed pass, which the ceiling counts too.
      let phpTrimmed: Set<Character> = [" ", "\t", "\n", "\r", "\0", "\u{0B}"]
      let twoPasses =
        vector.hash.hasPrefix("$P$")
        && (vector.password.first.map(phpTrimmed.contains) == true
          || vector.password.last.map(phpTrimmed.contains) == true)
      let refused =
        vector.format == "phpass"
        ? !vector.hash.dropFirst(3).hasPrefix("5") || twoPasses
        : vector.format.hasSuffix("scrypt") && !fitsTinyScryptLimits(vector.hash)
      if refused {
        let error = await expectError(.unsupportedHash) {
          _ = try strict.verify(Secret(vector.password), against: hash)
        }
        #expect(error?.context["reason"] == "cost_limit")
      } else {
        #expect(try strict.verify(Secret(vector.password), against: hash) == .validNeedsRehash)
      }
    }
  }

  /// Whether a vector's scrypt parameters fit in 4,096 bytes (128·r·(N + p)) and N·r·p ≤ 32.
  private func fitsTinyScryptLimits(_ encoded: String) -> Bool {
    let census = hasher.census(of: [PasswordHash(encoded: encoded)])
    guard let parameters = census.groups.first?.group.parameters else { return false }
    var values: [String: Int] = [:]
    for pair in parameters.split(separator: ",") {
      let keyValue = pair.split(separator: "=")
      values[String(keyValue[0])] = Int(keyValue[1])
    }
    let n = values["N", default: 0]
    let r = values["r", default: 0]
    let p = values["p", default: 0]
    return 128 * r * (n + p) <= 4096 && n * r * p <= 32
  }

  @Test func censusGroupsByFormatAndParameters() {
    var hashes: [PasswordHash?] = legacy2PasswordHashVectors.map { PasswordHash(encoded: $0.hash) }
    hashes.append(PasswordHash(encoded: "$P$S.5CJQXeltYR1EGle.zbKPQlJHXna/0"))
    let census = hasher.census(of: hashes)
    #expect(census.total == legacy2PasswordHashVectors.count + 1)
    #expect(census.unsupported == 1)
    #expect(census.needingRehash == legacy2PasswordHashVectors.count)
    let groups = Dictionary(
      census.groups.map { ("\($0.group.algorithm) \($0.group.parameters)", $0.count) },
      uniquingKeysWith: +)
    #expect(groups["phpass id=P,log2=7"] == 4)
    #expect(groups["phpass id=P,log2=8"] == 3)
    #expect(groups["phpass id=H,log2=8"] == 7)
    #expect(groups["wordpress-bcrypt 2y,cost=4"] == 7)
    #expect(groups["md5-crypt salt=8"] == 1)
    #expect(groups["md5-crypt salt=0"] == 2)
    #expect(groups["django-scrypt N=16,r=1,p=1"] == 1)
    #expect(groups["passlib-scrypt N=16,r=1,p=1"] == 1)
    #expect(census.groups.allSatisfy { $0.group.needsRehash })
  }
}

@Suite("Imported password hashes: Firebase scrypt")
struct FirebaseScryptTests {
  static func hasher(
    for vector: (
      signerKey: String, saltSeparator: String, rounds: Int, memoryCost: Int, password: String,
      hash: String
    ), limits: HashCostLimits = HashCostLimits()
  ) throws -> MigratingPasswordHasher {
    MigratingPasswordHasher(
      preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1), limits: limits,
      firebase: try FirebaseScryptParameters(
        base64SignerKey: vector.signerKey, base64SaltSeparator: vector.saltSeparator,
        rounds: vector.rounds, memoryCost: vector.memoryCost))
  }

  @Test(arguments: firebaseScryptVectors)
  func verifiesFirebaseHashesWithTheProjectParameters(
    _ vector: (
      signerKey: String, saltSeparator: String, rounds: Int, memoryCost: Int, password: String,
      hash: String
    )
  ) throws {
    let hasher = try Self.hasher(for: vector)
    let hash = PasswordHash(encoded: vector.hash)
    #expect(hash.algorithm == "firebase-scrypt")
    #expect(hasher.canVerify(hash))
    #expect(try hasher.verify(Secret(vector.password), against: hash) == .validNeedsRehash)
    #expect(try hasher.verify(Secret(vector.password + "x"), against: hash) == .invalid)
    #expect(try hasher.needsRehash(hash))
    let census = hasher.census(of: [hash])
    #expect(
      census.groups.map(\.group) == [
        .init(
          algorithm: "firebase-scrypt",
          parameters: "r=\(vector.rounds),memCost=\(vector.memoryCost)", needsRehash: true)
      ])
  }

  @Test func firebaseHashesNeedTheProjectParameters() async throws {
    let vector = try #require(firebaseScryptVectors.first)
    let hasher = MigratingPasswordHasher(
      preferred: Argon2PasswordHasher(insecureMemoryKiB: 64, iterations: 1))
    let hash = PasswordHash(encoded: vector.hash)
    #expect(!hasher.canVerify(hash))
    let error = await expectError(.unsupportedHash) {
      _ = try hasher.verify(Secret(vector.password), against: hash)
    }
    #expect(error?.context["reason"] == "missing_parameters")
    #expect(hasher.census(of: [hash]).unsupported == 1)
    // Another project's parameters: the hash does not match.
    let other = try #require(firebaseScryptVectors.last)
    let wrongProject = try Self.hasher(
      for: (
        other.signerKey, vector.saltSeparator, vector.rounds, vector.memoryCost, "", ""
      ))
    #expect(try wrongProject.verify(Secret(vector.password), against: hash) == .invalid)
  }

  @Test func firebaseCostsAreBoundedByTheScryptLimits() async throws {
    // Firebase's published example uses N = 2^14, r = 8: 16 MiB.
    let vector = try #require(firebaseScryptVectors.first)
    let hasher = try Self.hasher(
      for: vector, limits: HashCostLimits(maximumScryptMemoryBytes: 8 << 20))
    let error = await expectError(.unsupportedHash) {
      _ = try hasher.verify(Secret(vector.password), against: PasswordHash(encoded: vector.hash))
    }
    #expect(error?.context["reason"] == "cost_limit")
  }

  @Test func parametersAreCheckedAndNeverPrinted() async throws {
    let vector = try #require(firebaseScryptVectors.first)
    let parameters = try FirebaseScryptParameters(
      base64SignerKey: vector.signerKey, base64SaltSeparator: "Bw==", rounds: 8, memoryCost: 14)
    for text in [
      "\(parameters)", String(reflecting: parameters),
      "\(Mirror(reflecting: parameters).children.map { $0 })",
    ] {
      #expect(!text.contains(vector.signerKey.prefix(12)))
      #expect(!text.contains("Bw=="))
    }
    let invalid: [(String, String, Int, Int, String)] = [
      ("not base64!", "Bw==", 8, 14, "base64_signer_key"), ("", "Bw==", 8, 14, "base64_signer_key"),
      (vector.signerKey, "B", 8, 14, "base64_salt_separator"),
      (vector.signerKey, "Bw==", 0, 14, "rounds"), (vector.signerKey, "Bw==", 9, 14, "rounds"),
      (vector.signerKey, "Bw==", 8, 0, "mem_cost"), (vector.signerKey, "Bw==", 8, 15, "mem_cost"),
    ]
    for (key, separator, rounds, memoryCost, field) in invalid {
      let error = await expectError(.invalidField) {
        _ = try FirebaseScryptParameters(
          base64SignerKey: key, base64SaltSeparator: separator, rounds: rounds,
          memoryCost: memoryCost)
      }
      #expect(error?.context["field"] == field)
    }
  }

  @Test(arguments: [
    "$firebase-scrypt$42xEC+ixf3L2lw==",
    "$firebase-scrypt$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$",
    "$firebase-scrypt$$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
    // Not base64 at all.
    "$firebase-scrypt$42xEC+ixf3L2l!$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
    // 48 bytes where the signer key has 64.
    "$firebase-scrypt$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZ",
  ])
  func refusesMalformedFirebaseHashesWithoutQuotingThem(_ encoded: String) async throws {
    // (Unpadded base64 is accepted: the migration reader writes it so.)
    let hasher = try Self.hasher(for: try #require(firebaseScryptVectors.first))
    let error = await expectError(.unsupportedHash) {
      _ = try hasher.verify(Secret("user1password"), against: PasswordHash(encoded: encoded))
    }
    let text = "\(String(describing: error)) \(error?.context ?? [:])"
    for field in encoded.split(separator: "$").dropFirst() where field.count >= 6 {
      #expect(!text.contains(field.prefix(8)), "\(text)")
    }
  }
}
