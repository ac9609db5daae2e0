import Testing
import UMKCrypto

/// A published bcrypt test vector: a password and the full string it must produce.
struct BCryptKnownAnswer: Sendable, CustomStringConvertible {
  var password: [UInt8]
  var encoded: String
  var description: String { "\(encoded) (\(password.count)-byte password)" }

  init(_ password: [UInt8], _ encoded: String) {
    self.password = password
    self.encoded = encoded
  }

  init(_ password: String, _ encoded: String) {
    self.init(Array(password.utf8), encoded)
  }
}

/// Openwall's crypt_blowfish self-test vectors (Solar Designer, `wrapper.c` in crypt_blowfish
/// 1.3; reproduced in PHP's `ext/standard/tests/strings/crypt_blowfish.phpt`), excluding the
/// `$2x$` ones (refused here, see `refusesTheBuggy2xVariant`) and the two `$2a$` ones that
/// carry crypt_blowfish's extra "safety" bit (see `crypt_blowfish2aSafetyHashesAreNotMatched`).
/// They cover the empty password, bytes ≥ 0x80, passwords of exactly 72 bytes, and passwords
/// longer than 72 bytes whose tail must be ignored.
private let openwallVectors: [BCryptKnownAnswer] = [
  .init("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
  .init("U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
  .init("U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"),
  .init(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are "
      + "ignored",
    "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"),
  .init([0xFF, 0xFF, 0xA3], "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"),
  .init([0xFF, 0xFF, 0xA3], "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"),
  .init([0xA3], "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"),
  .init([0xA3], "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"),
  .init([0xA3], "$2b$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq"),
  .init(
    [0xFF, 0xA3, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xA3, 0x33, 0x34, 0x35],
    "$2y$05$/OK.fbVrR/bpIqNJ5ianF.o./n25XVfn6oAPaUvHe.Csk4zRfsYPi"),
  .init(
    [0xFF, 0xA3, 0x33, 0x34, 0x35], "$2y$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e"),
  .init(
    [0xFF, 0xA3, 0x33, 0x34, 0x35], "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e"),
  .init([0xA3, 0x61, 0x62], "$2a$05$/OK.fbVrR/bpIqNJ5ianF.6IflQkJytoRVc1yuaNtHfiuq.FRlSIS"),
  .init([0xA3, 0x61, 0x62], "$2y$05$/OK.fbVrR/bpIqNJ5ianF.6IflQkJytoRVc1yuaNtHfiuq.FRlSIS"),
  .init(
    [UInt8](repeating: 0xAA, count: 72) + Array("chars after 72 are ignored as usual".utf8),
    "$2a$05$/OK.fbVrR/bpIqNJ5ianF.swQOIzjOiJ9GHEPuhEkvqrUyvWhEMx6"),
  .init(
    Array([[UInt8]](repeating: [0xAA, 0x55], count: 36).joined()),
    "$2a$05$/OK.fbVrR/bpIqNJ5ianF.R9xrDjiycxMbQE2bp.vgqlYpW5wx2yy"),
  .init(
    Array([[UInt8]](repeating: [0x55, 0xAA, 0xFF], count: 24).joined()),
    "$2a$05$/OK.fbVrR/bpIqNJ5ianF.9tQZzcJfm3uj2NvJ/n5xkhpqLrMpWCe"),
  .init("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"),
]

/// The cost-6 vectors of jBCrypt's `TestBCrypt.java` (Damien Miller, derived from OpenBSD's
/// bcrypt; the same table is used by bcrypt.net and passlib's tests).
private let jbcryptVectors: [BCryptKnownAnswer] = [
  .init("", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."),
  .init("a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"),
  .init("abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"),
  .init(
    "abcdefghijklmnopqrstuvwxyz", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC"),
  .init(
    "~!@#$%^&*()      ~!@#$%^&*()PNBFRD",
    "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"),
]

/// A valid cost-4 string (from Python's bcrypt 5.0.0, password "a" + NUL, see `nulBytes`) used
/// as the base of the malformed-string cases.
private let wellFormed = "$2b$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu"

private typealias ErrorCode = CryptoParameterError.Code

/// Runs `body` and returns the code of the `CryptoParameterError` it throws, or `nil`.
private func errorCode<T>(_ body: () throws(CryptoParameterError) -> T) -> ErrorCode? {
  do {
    _ = try body()
    return nil
  } catch {
    return error.code
  }
}

@Suite("bcrypt")
struct BCryptTests {
  @Test(arguments: openwallVectors + jbcryptVectors)
  func publishedVector(_ answer: BCryptKnownAnswer) throws {
    let parsed = try BCrypt.ParsedHash(parsing: answer.encoded)
    #expect(parsed.encoded == answer.encoded)
    let encoded = try BCrypt.hash(
      password: answer.password, salt: parsed.salt, cost: parsed.cost, variant: parsed.variant)
    #expect(encoded == answer.encoded)
    #expect(try BCrypt.verify(password: answer.password, against: answer.encoded, maximumCost: 6))
    // A different password fails; bytes beyond the 72nd are ignored.
    let longer = answer.password + [0x78]
    #expect(
      try BCrypt.verify(password: longer, against: parsed, maximumCost: 6)
        == (answer.password.count >= 72))
  }

  /// jBCrypt's cost-8 vector for the empty password (the one slower case).
  @Test func publishedCost8Vector() throws {
    let encoded = "$2a$08$HqWuK6/Ng6sg9gQzbLrgb.Tl.ZHfXLhvt/SgVyWhQqgqcZ7ZuUtye"
    #expect(try BCrypt.verify(password: [UInt8](), against: encoded, maximumCost: 8))
    #expect(try !BCrypt.verify(password: [0x61], against: encoded, maximumCost: 8))
  }

  /// crypt_blowfish (since 1.1) mixes a "safety" bit into `$2a$` hashes of passwords for which
  /// its old sign-extension bug would have mattered; OpenBSD, Python's bcrypt and this module
  /// compute `$2a$` like `$2b$`, so these two Openwall vectors deliberately do not verify (the
  /// same passwords verify against the `$2y$`/`$2b$` forms above).
  @Test func crypt_blowfish2aSafetyHashesAreNotMatched() throws {
    #expect(
      try !BCrypt.verify(
        password: [0xFF, 0xFF, 0xA3],
        against: "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.", maximumCost: 5))
    #expect(
      try !BCrypt.verify(
        password: [0xFF, 0xA3, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xA3, 0x33, 0x34, 0x35],
        against: "$2a$05$/OK.fbVrR/bpIqNJ5ianF.ZC1JEJ8Z4gPfpe1JOr/oyPXTWl9EFd.", maximumCost: 5))
  }

  /// Openwall's `$2x$` vectors: refused before any computation, whatever the password.
  @Test func refusesTheBuggy2xVariant() {
    let hashes = [
      "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
      "$2x$05$/OK.fbVrR/bpIqNJ5ianF.o./n25XVfn6oAPaUvHe.Csk4zRfsYPi",
      "$2x$05$6bNw2HLQYeqHYyBfLMsv/OiwqTymGIGzFsA4hOTWebfehXHNprcAS",
      "$2x$05$",
    ]
    for hash in hashes {
      #expect(
        errorCode { () throws(CryptoParameterError) in
          try BCrypt.verify(password: [0xA3], against: hash, maximumCost: 31)
        } == .unsupportedVariant, "\(hash)")
    }
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.ParsedHash(parsing: "$2$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTW")
      } == .unsupportedVariant)
  }

  /// Strings from Python's bcrypt (pyca/bcrypt), generated by Scripts/generate-bcrypt-vectors.py
  /// with fixed salts: every password length from 0 to 100 bytes (random bytes, including NUL
  /// and bytes ≥ 0x80, alternating with printable ASCII), costs 4–6, `$2a$`, `$2b$` and `$2y$`.
  @Test func crossCheckWithPythonBcrypt() throws {
    let records = CrossCheckRecord.parse(bcryptCrossCheckVectorText)
    #expect(records.count == 101)
    var variants = Set<BCrypt.Variant>()
    var costs = Set<Int>()
    for (index, record) in records.enumerated() {
      #expect(record.kind == "bcrypt")
      try #require(record.fields.count == 2)
      let password = try hexBytes(record.fields[0])
      let expected = record.fields[1]
      let parsed = try BCrypt.ParsedHash(parsing: expected)
      variants.insert(parsed.variant)
      costs.insert(parsed.cost)
      let encoded = try BCrypt.hash(
        password: password, salt: parsed.salt, cost: parsed.cost, variant: parsed.variant)
      #expect(encoded == expected, "\(password.count)-byte password")
      // Verification, through a non-contiguous password now and then.
      if index % 10 == 0 {
        #expect(
          try BCrypt.verify(password: password.lazy.map { $0 }, against: expected, maximumCost: 6))
      }
    }
    #expect(variants == Set(BCrypt.Variant.allCases))
    #expect(costs == [4, 5, 6])
  }

  @Test func passwordsAreTruncatedTo72Bytes() throws {
    let salt = [UInt8](0..<16)
    let base = (0..<72).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
    let at72 = try BCrypt.hash(password: base, salt: salt, cost: 4)
    #expect(try BCrypt.hash(password: base + [0x41], salt: salt, cost: 4) == at72)
    #expect(
      try BCrypt.hash(password: base + [UInt8](repeating: 7, count: 300), salt: salt, cost: 4)
        == at72)
    #expect(try BCrypt.hash(password: base.dropLast(), salt: salt, cost: 4) != at72)
    // A huge password costs no more than 72 bytes: only the first 72 are read.
    let huge = repeatElement(UInt8(0x61), count: 10_000_000)
    let huge72 = [UInt8](repeating: 0x61, count: 72)
    #expect(
      try BCrypt.hash(password: huge, salt: salt, cost: 4)
        == BCrypt.hash(password: huge72, salt: salt, cost: 4))
  }

  /// NUL bytes are part of the password (as in Python's bcrypt; C's crypt() would stop at one).
  /// Expected strings from Python's bcrypt 5.0.0.
  @Test func nulBytes() throws {
    let salt = try #require(Base64.decode("CCCCCCCCCCCCCCCCCCCCC.", variant: .bcrypt))
    #expect(
      try BCrypt.hash(password: Array("a".utf8), salt: salt, cost: 4)
        == "$2b$04$CCCCCCCCCCCCCCCCCCCCC.f/Fm9DOYGp2ai9rjxvG4QHlhtDCuDuu")
    #expect(try BCrypt.hash(password: [0x61, 0x00], salt: salt, cost: 4) == wellFormed)
    #expect(
      try BCrypt.hash(password: [0x61, 0x00, 0x62], salt: salt, cost: 4)
        == "$2b$04$CCCCCCCCCCCCCCCCCCCCC.flu1Gv69OE8XQBS4Bm1aHA6o5dN4y3.")
    // The key is password + NUL repeated, so NUL-only passwords all give the all-zero key of
    // the empty password.
    let empty = try BCrypt.hash(password: [UInt8](), salt: salt, cost: 4)
    #expect(try BCrypt.hash(password: [0x00], salt: salt, cost: 4) == empty)
    #expect(
      try BCrypt.hash(password: [UInt8](repeating: 0, count: 80), salt: salt, cost: 4) == empty)
  }

  @Test func passwordInputForms() throws {
    let text = "pässwörd ☃"
    let expected = try BCrypt.hash(
      password: Array(text.utf8), salt: [UInt8](repeating: 9, count: 16), cost: 4)
    let salt = [UInt8](repeating: 9, count: 16)
    #expect(try BCrypt.hash(password: text.utf8, salt: salt, cost: 4) == expected)
    #expect(try BCrypt.hash(password: Array(text.utf8)[...], salt: salt, cost: 4) == expected)
    #expect(try BCrypt.hash(password: text.utf8.lazy.map { $0 }, salt: salt, cost: 4) == expected)
    #expect(try BCrypt.verify(password: text.utf8, against: expected, maximumCost: 4))
    #expect(try !BCrypt.verify(password: "pässwörd ☄".utf8, against: expected, maximumCost: 4))
  }

  @Test func variantsDifferOnlyInThePrefix() throws {
    let salt = [UInt8](repeating: 0xA5, count: 16)
    let password = Array("correct horse".utf8)
    let b = try BCrypt.hash(password: password, salt: salt, cost: 4)
    #expect(b.hasPrefix("$2b$04$"))
    #expect(b.utf8.count == BCrypt.encodedLength)
    for variant in BCrypt.Variant.allCases {
      let encoded = try BCrypt.hash(password: password, salt: salt, cost: 4, variant: variant)
      #expect(encoded == "$\(variant)$" + b.dropFirst(4))
      #expect(try BCrypt.verify(password: password, against: encoded, maximumCost: 4))
      #expect(try !BCrypt.verify(password: password.dropLast(), against: encoded, maximumCost: 4))
    }
  }

  @Test func parsedHashRoundTrip() throws {
    let parsed = try BCrypt.ParsedHash(parsing: wellFormed)
    #expect(parsed.variant == .b)
    #expect(parsed.cost == 4)
    #expect(parsed.salt.count == 16)
    #expect(parsed.digest.count == 23)
    #expect(parsed.encoded == wellFormed)
    #expect(parsed.description == "bcrypt $2b$ cost 4")
    #expect(!parsed.description.contains(String(wellFormed.suffix(31))))
    #expect(try BCrypt.ParsedHash(parsing: wellFormed[...]) == parsed)
    let rebuilt = try BCrypt.ParsedHash(
      variant: .b, cost: 4, salt: parsed.salt, digest: parsed.digest)
    #expect(rebuilt == parsed)
    let cost31 = try BCrypt.ParsedHash(
      variant: .y, cost: 31, salt: parsed.salt, digest: parsed.digest)
    #expect(cost31.encoded.hasPrefix("$2y$31$"))
    #expect(try BCrypt.ParsedHash(parsing: cost31.encoded) == cost31)
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.ParsedHash(variant: .b, cost: 4, salt: parsed.salt, digest: [0])
      } == .outputLengthOutOfRange)
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.ParsedHash(variant: .b, cost: 4, salt: [0], digest: parsed.digest)
      } == .saltLengthOutOfRange)
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.ParsedHash(variant: .b, cost: 32, salt: parsed.salt, digest: parsed.digest)
      } == .iterationsOutOfRange)
  }

  @Test(arguments: [
    ("", CryptoParameterError.Code.malformedEncoding),
    ("$", .malformedEncoding),
    ("$2", .malformedEncoding),
    ("$2b", .malformedEncoding),
    ("$2b$", .malformedEncoding),
    ("$2b$04$", .malformedEncoding),
    (String(wellFormed.dropLast()), .malformedEncoding),
    (wellFormed + ".", .malformedEncoding),
    (wellFormed + "\n", .malformedEncoding),
    (" " + wellFormed, .malformedEncoding),
    (String(wellFormed.dropFirst()), .malformedEncoding),
    (
      "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
      .malformedEncoding
    ),
    ("$2c$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2z$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2`$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2{$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2B$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2bb$4$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$4$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$004$CCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$+4$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$ 4$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$0x$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04xCCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCC.$0AdOq/N8DGJYIu/iqLhR672Py741Sv", .malformedEncoding),
    // Characters outside bcrypt's alphabet, in the salt and in the hash.
    ("$2b$04$CCCCCCCCCC+CCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Sv=", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJ_Iu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCC\u{0}.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCé0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    // Non-canonical Base64: the salt's last character ('/' = 1, 'D' = 5) and the hash's last
    // ('v' = 47) carry bits that encode nothing.
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCC/0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCCD0AdOq/N8DGJYIu/iqLhR672Py741Svu", .malformedEncoding),
    ("$2b$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svv", .malformedEncoding),
    // Costs outside 4...31.
    ("$2b$99$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .iterationsOutOfRange),
    ("$2b$32$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .iterationsOutOfRange),
    ("$2b$03$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .iterationsOutOfRange),
    ("$2b$00$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .iterationsOutOfRange),
    // Refused variants.
    ("$2x$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .unsupportedVariant),
    ("$2$04$CCCCCCCCCCCCCCCCCCCCC.0AdOq/N8DGJYIu/iqLhR672Py741Svu", .unsupportedVariant),
  ])
  func malformedStringsAreTypedErrors(_ encoded: String, _ code: CryptoParameterError.Code) {
    #expect(
      errorCode { () throws(CryptoParameterError) in try BCrypt.ParsedHash(parsing: encoded) }
        == code)
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.verify(password: Array("a".utf8), against: encoded, maximumCost: 31)
      } == code)
  }

  /// A well-formed string whose cost exceeds the ceiling costs nothing, even at cost 31.
  @Test(arguments: [(cost: 31, ceiling: 12), (31, 30), (4, 3), (4, -1)])
  func hostileCostsAreRefusedBeforeComputing(cost: Int, ceiling: Int) throws {
    let parsed = try BCrypt.ParsedHash(parsing: wellFormed)
    let encoded = try BCrypt.ParsedHash(
      variant: .b, cost: cost, salt: parsed.salt, digest: parsed.digest
    ).encoded
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.verify(password: [0x61, 0x00], against: encoded, maximumCost: ceiling)
      } == .costLimitExceeded)
  }

  @Test func costsWithinTheCeilingAreComputed() throws {
    #expect(try BCrypt.verify(password: [0x61, 0x00], against: wellFormed, maximumCost: 4))
    #expect(try !BCrypt.verify(password: [0x61], against: wellFormed, maximumCost: 4))
    #expect(try !BCrypt.verify(password: [0x61, 0x00, 0x00], against: wellFormed, maximumCost: 4))
  }

  @Test(arguments: [0, 15, 17])
  func hashRejectsBadSaltLengths(saltLength: Int) {
    let badSalt = [UInt8](repeating: 1, count: saltLength)
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.hash(password: [0x61], salt: badSalt, cost: 4)
      } == .saltLengthOutOfRange)
  }

  @Test(arguments: [Int.min, -1, 0, 3, 32, 99, Int.max])
  func hashRejectsBadCosts(badCost: Int) {
    let salt = [UInt8](repeating: 1, count: 16)
    #expect(
      errorCode { () throws(CryptoParameterError) in
        try BCrypt.hash(password: [0x61], salt: salt, cost: badCost)
      } == .iterationsOutOfRange)
  }

  @Test func errorsAreStableAndDoNotLeakThePassword() {
    #expect(CryptoParameterError.Code.malformedEncoding.rawValue == "crypto.encoding.malformed")
    #expect(CryptoParameterError.Code.unsupportedVariant.rawValue == "crypto.variant.unsupported")
    let secret = "hunter2-secret"
    do {
      _ = try BCrypt.verify(password: secret.utf8, against: "$2b$99$" + secret, maximumCost: 10)
      Issue.record("expected an error")
    } catch {
      #expect(!error.description.contains(secret))
      #expect(!error.message.contains(secret))
    }
  }

  @Test func bcryptBase64() {
    // Values 0 and 63 are '.' and '9'; the bit order is the standard one.
    #expect(Base64.encode([0x00], variant: .bcrypt) == "..")
    #expect(Base64.encode([0xFF], variant: .bcrypt) == "9u")
    #expect(Base64.encode([0xFF, 0xFF], variant: .bcrypt) == "996")
    #expect(Base64.encode([0xFF, 0xFF, 0xFF], variant: .bcrypt) == "9999")
    #expect(Base64.encode([0x00, 0x00, 0x00], variant: .bcrypt) == "....")
    #expect(Base64.decode("9u", variant: .bcrypt) == [0xFF])
    #expect(Base64.decode("996", variant: .bcrypt) == [0xFF, 0xFF])
    #expect(Base64.decode("9999", variant: .bcrypt) == [0xFF, 0xFF, 0xFF])
    // Strict: non-canonical trailing bits, padding and foreign characters are refused.
    #expect(Base64.decode("9v", variant: .bcrypt) == nil)
    #expect(Base64.decode("997", variant: .bcrypt) == nil)
    #expect(Base64.decode("9u==", variant: .bcrypt) == nil)
    #expect(Base64.decode("+/==", variant: .bcrypt) == nil)
    #expect(Base64.decode("a", variant: .bcrypt) == nil)
    #expect(Base64.Variant.bcrypt.description == "bcrypt")
    #expect(!Base64.Variant.bcrypt.usesPadding)
    var generator = SystemRandomNumberGenerator()
    for length in 0...40 {
      let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
      let encoded = Base64.encode(bytes, variant: .bcrypt)
      #expect(Base64.decode(encoded, variant: .bcrypt) == bytes)
      // The same bits as the standard alphabet, with bcrypt's characters.
      let standard = Base64.encode(bytes, variant: .standardUnpadded)
      let translated = String(
        standard.map { character -> Character in
          let standardAlphabet = Array(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
          let bcryptAlphabet = Array(
            "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
          return bcryptAlphabet[standardAlphabet.firstIndex(of: character) ?? 0]
        })
      #expect(encoded == translated)
    }
  }
}
