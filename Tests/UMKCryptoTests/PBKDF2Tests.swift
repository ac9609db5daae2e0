import Testing
import UMKCrypto

/// Wraps a hash function so that PBKDF2 cannot recognise it and must take the generic path
/// built on the public ``HMAC`` API.
struct Unaccelerated<Wrapped: HashFunction>: HashFunction {
  typealias Digest = Wrapped.Digest
  static var blockByteCount: Int { Wrapped.blockByteCount }
  static var digestByteCount: Int { Wrapped.digestByteCount }
  private var wrapped = Wrapped()
  init() {}
  mutating func update(_ bytes: UnsafeRawBufferPointer) { wrapped.update(bytes) }
  func finalize() -> Digest { wrapped.finalize() }
}

struct PBKDF2KnownAnswer: Sendable, CustomStringConvertible {
  var password: String
  var salt: String
  var iterations: Int
  var derivedKey: String
  var description: String { "P=\(password.debugDescription) c=\(iterations)" }
}

/// RFC 6070 PBKDF2-HMAC-SHA1 vectors (the 16,777,216-iteration vector is omitted).
private let rfc6070: [PBKDF2KnownAnswer] = [
  PBKDF2KnownAnswer(
    password: "password", salt: "salt", iterations: 1,
    derivedKey: "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
  PBKDF2KnownAnswer(
    password: "password", salt: "salt", iterations: 2,
    derivedKey: "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
  PBKDF2KnownAnswer(
    password: "password", salt: "salt", iterations: 4096,
    derivedKey: "4b007901b765489abead49d926f721d065a429c1"),
  PBKDF2KnownAnswer(
    password: "passwordPASSWORDpassword", salt: "saltSALTsaltSALTsaltSALTsaltSALTsalt",
    iterations: 4096, derivedKey: "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"),
  PBKDF2KnownAnswer(
    password: "pass\0word", salt: "sa\0lt", iterations: 4096,
    derivedKey: "56fa6aa75548099dcc37d7f03425e0c3"),
]

@Suite("PBKDF2 (RFC 8018)")
struct PBKDF2Tests {
  @Test("RFC 6070 PBKDF2-HMAC-SHA1", arguments: rfc6070)
  func rfc6070SHA1(_ answer: PBKDF2KnownAnswer) throws {
    let expected = try hexBytes(answer.derivedKey)
    let key = try PBKDF2.deriveKey(
      password: Array(answer.password.utf8), salt: Array(answer.salt.utf8),
      iterations: answer.iterations, keyByteCount: expected.count,
      hashFunction: Insecure.SHA1.self)
    #expect(key.hex == answer.derivedKey)
  }

  @Test("RFC 7914 §11 PBKDF2-HMAC-SHA256, c = 1")
  func rfc7914SHA256() throws {
    let key = try PBKDF2.deriveKey(
      password: "passwd".utf8, salt: "salt".utf8, iterations: 1, keyByteCount: 64,
      hashFunction: SHA256.self)
    #expect(
      key.hex
        == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
  }

  @Test(
    "RFC 7914 §11 PBKDF2-HMAC-SHA256, c = 80,000",
    .enabled(if: !isDebugBuild, "80,000 iterations are too slow in unoptimized builds"))
  func rfc7914SHA256Slow() throws {
    let key = try PBKDF2.deriveKey(
      password: "Password".utf8, salt: "NaCl".utf8, iterations: 80_000, keyByteCount: 64,
      hashFunction: SHA256.self)
    #expect(
      key.hex
        == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
  }

  @Test(arguments: [1, 2, 5], [1, 20, 32, 33, 64, 65, 130])
  func genericPathMatchesAcceleratedPath(iterations: Int, keyByteCount: Int) throws {
    let password = [UInt8](repeating: 0x70, count: keyByteCount % 3 == 0 ? 200 : 9)
    let salt = Array("NaCl-salt".utf8)
    #expect(
      try PBKDF2.deriveKey(
        password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
        hashFunction: SHA256.self)
        == PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations,
          keyByteCount: keyByteCount, hashFunction: Unaccelerated<SHA256>.self))
    #expect(
      try PBKDF2.deriveKey(
        password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
        hashFunction: SHA512.self)
        == PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations,
          keyByteCount: keyByteCount, hashFunction: Unaccelerated<SHA512>.self))
    #expect(
      try PBKDF2.deriveKey(
        password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
        hashFunction: Insecure.SHA1.self)
        == PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations,
          keyByteCount: keyByteCount, hashFunction: Unaccelerated<Insecure.SHA1>.self))
  }

  @Test(arguments: [0, -1, Int.min])
  func rejectsNonPositiveIterationCounts(_ iterations: Int) {
    #expect {
      _ = try PBKDF2.deriveKey(
        password: [1], salt: [2], iterations: iterations, keyByteCount: 32,
        hashFunction: SHA256.self)
    } throws: { error in
      (error as? CryptoParameterError)?.code == .iterationsOutOfRange
    }
  }

  @Test(arguments: [0, -1, Int.min, 4_294_967_295 * 32 + 1, Int.max])
  func rejectsOutOfRangeKeyLengths(_ keyByteCount: Int) {
    #expect {
      _ = try PBKDF2.deriveKey(
        password: [1], salt: [2], iterations: 1, keyByteCount: keyByteCount,
        hashFunction: SHA256.self)
    } throws: { error in
      (error as? CryptoParameterError)?.code == .outputLengthOutOfRange
    }
  }

  @Test func typedErrorIsStableAndDescriptive() {
    do {
      _ = try PBKDF2.deriveKey(
        password: Array("secret-password".utf8), salt: [], iterations: 0, keyByteCount: 32,
        hashFunction: SHA512.self)
      Issue.record("expected an error")
    } catch {
      // `error` is statically a CryptoParameterError (typed throws).
      #expect(error.code.rawValue == "crypto.iterations.out-of-range")
      #expect(error.code == CryptoParameterError.Code(rawValue: "crypto.iterations.out-of-range"))
      #expect(!error.description.contains("secret-password"))
      #expect(error.description.hasPrefix("crypto.iterations.out-of-range: "))
    }
    #expect(
      CryptoParameterError.Code.outputLengthOutOfRange.rawValue
        == "crypto.output-length.out-of-range")
  }

  @Test func acceptsEmptyPasswordAndSalt() throws {
    let key = try PBKDF2.deriveKey(
      password: [], salt: [], iterations: 1, keyByteCount: 32, hashFunction: SHA256.self)
    #expect(key.count == 32)
  }
}
