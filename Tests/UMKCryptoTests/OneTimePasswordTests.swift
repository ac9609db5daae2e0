import Testing
import UMKCrypto

/// The RFC 4226 Appendix D secret, and the RFC 6238 Appendix B seeds per algorithm.
private let rfc4226Secret = Array("12345678901234567890".utf8)
private let rfc6238Seeds: [OneTimePassword.Algorithm: [UInt8]] = [
  .sha1: Array("12345678901234567890".utf8),
  .sha256: Array("12345678901234567890123456789012".utf8),
  .sha512: Array("1234567890123456789012345678901234567890123456789012345678901234".utf8),
]

/// An RFC 6238 Appendix B row.
struct TOTPKnownAnswer: Sendable, CustomStringConvertible {
  var time: Int64
  var algorithm: OneTimePassword.Algorithm
  var code: String
  var description: String { "T = \(time), \(algorithm)" }
}

private let rfc6238: [TOTPKnownAnswer] = [
  TOTPKnownAnswer(time: 59, algorithm: .sha1, code: "94287082"),
  TOTPKnownAnswer(time: 59, algorithm: .sha256, code: "46119246"),
  TOTPKnownAnswer(time: 59, algorithm: .sha512, code: "90693936"),
  TOTPKnownAnswer(time: 1_111_111_109, algorithm: .sha1, code: "07081804"),
  TOTPKnownAnswer(time: 1_111_111_109, algorithm: .sha256, code: "68084774"),
  TOTPKnownAnswer(time: 1_111_111_109, algorithm: .sha512, code: "25091201"),
  TOTPKnownAnswer(time: 1_111_111_111, algorithm: .sha1, code: "14050471"),
  TOTPKnownAnswer(time: 1_111_111_111, algorithm: .sha256, code: "67062674"),
  TOTPKnownAnswer(time: 1_111_111_111, algorithm: .sha512, code: "99943326"),
  TOTPKnownAnswer(time: 1_234_567_890, algorithm: .sha1, code: "89005924"),
  TOTPKnownAnswer(time: 1_234_567_890, algorithm: .sha256, code: "91819424"),
  TOTPKnownAnswer(time: 1_234_567_890, algorithm: .sha512, code: "93441116"),
  TOTPKnownAnswer(time: 2_000_000_000, algorithm: .sha1, code: "69279037"),
  TOTPKnownAnswer(time: 2_000_000_000, algorithm: .sha256, code: "90698825"),
  TOTPKnownAnswer(time: 2_000_000_000, algorithm: .sha512, code: "38618901"),
  TOTPKnownAnswer(time: 20_000_000_000, algorithm: .sha1, code: "65353130"),
  TOTPKnownAnswer(time: 20_000_000_000, algorithm: .sha256, code: "77737706"),
  TOTPKnownAnswer(time: 20_000_000_000, algorithm: .sha512, code: "47863826"),
]

@Suite("One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238)")
struct OneTimePasswordTests {
  @Test func rfc4226AppendixD() throws {
    // Count 0…9: the 6-digit HOTP values, and the 31-bit truncated values (which are the
    // 10-digit codes, since every truncated value is below 10^10).
    let hotp = [
      "755224", "287082", "359152", "969429", "338314",
      "254676", "287922", "162583", "399871", "520489",
    ]
    let truncated: [UInt32] = [
      1_284_755_224, 1_094_287_082, 137_359_152, 1_726_969_429, 1_640_338_314,
      868_254_676, 1_918_287_922, 82_162_583, 673_399_871, 645_520_489,
    ]
    for counter in 0..<10 {
      let code = try OneTimePassword.code(key: rfc4226Secret, counter: UInt64(counter))
      #expect(OneTimePassword.formatted(code, digits: 6) == hotp[counter], "count \(counter)")
      let long = try OneTimePassword.code(
        key: rfc4226Secret, counter: UInt64(counter), digits: 10, algorithm: .sha1)
      #expect(long == truncated[counter], "count \(counter)")
      for digits in OneTimePassword.digitRange {
        var modulus: UInt32 = 1
        for _ in 0..<min(digits, 9) { modulus *= 10 }
        let expected = digits == 10 ? truncated[counter] : truncated[counter] % modulus
        #expect(
          try OneTimePassword.code(key: rfc4226Secret, counter: UInt64(counter), digits: digits)
            == expected, "count \(counter), \(digits) digits")
      }
    }
  }

  @Test(arguments: rfc6238)
  func rfc6238AppendixB(_ answer: TOTPKnownAnswer) throws {
    let seed = try #require(rfc6238Seeds[answer.algorithm])
    let code = try OneTimePassword.timeBasedCode(
      key: seed, at: answer.time, digits: 8, algorithm: answer.algorithm)
    #expect(OneTimePassword.formatted(code, digits: 8) == answer.code)
    // The same through the explicit time step (T = floor(time / 30)).
    let step = try OneTimePassword.timeStep(at: answer.time)
    #expect(step == UInt64(answer.time / 30))
    #expect(
      try OneTimePassword.code(key: seed, counter: step, digits: 8, algorithm: answer.algorithm)
        == code)
  }

  @Test func timeSteps() throws {
    #expect(try OneTimePassword.timeStep(at: 0) == 0)
    #expect(try OneTimePassword.timeStep(at: 29) == 0)
    #expect(try OneTimePassword.timeStep(at: 30) == 1)
    #expect(try OneTimePassword.timeStep(at: 59, period: 60) == 0)
    #expect(try OneTimePassword.timeStep(at: 60, period: 60) == 1)
    #expect(try OneTimePassword.timeStep(at: 5, period: 1) == 5)
    #expect(try OneTimePassword.timeStep(at: .max, period: 1) == UInt64(Int64.max))
    #expect(try OneTimePassword.timeStep(at: .max, period: .max) == 1)
    // Codes are constant within a step and change at its boundary (RFC 6238's 59 and 1111111109
    // are the last seconds of their steps).
    let seed = try #require(rfc6238Seeds[.sha1])
    let first = try OneTimePassword.timeBasedCode(key: seed, at: 30, digits: 8)
    #expect(try OneTimePassword.timeBasedCode(key: seed, at: 59, digits: 8) == first)
    #expect(try OneTimePassword.timeBasedCode(key: seed, at: 60, digits: 8) != first)
  }

  @Test func rejectsInvalidParameters() {
    for digits in [Int.min, -1, 0, 1, 5, 11, 12, Int.max] {
      let error = #expect(throws: CryptoParameterError.self) {
        try OneTimePassword.code(key: rfc4226Secret, counter: 0, digits: digits)
      }
      #expect(error?.code == .outputLengthOutOfRange, "\(digits) digits")
    }
    let keyError = #expect(throws: CryptoParameterError.self) {
      try OneTimePassword.code(key: [], counter: 0)
    }
    #expect(keyError?.code == .keyLengthOutOfRange)
    for period in [Int.min, -30, 0] {
      let error = #expect(throws: CryptoParameterError.self) {
        try OneTimePassword.timeBasedCode(key: rfc4226Secret, at: 100, period: period)
      }
      #expect(error?.code == .periodOutOfRange, "period \(period)")
    }
    for time in [Int64.min, -1] {
      let error = #expect(throws: CryptoParameterError.self) {
        try OneTimePassword.timeBasedCode(key: rfc4226Secret, at: time)
      }
      #expect(error?.code == .timeOutOfRange, "time \(time)")
    }
  }

  @Test func anyKeyLengthIsAccepted() throws {
    // 10-byte (80-bit) secrets are common; keys longer than the hash block are hashed by HMAC.
    for length in [1, 10, 16, 20, 64, 65, 128, 129, 200] {
      let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ 1) }
      for algorithm in OneTimePassword.Algorithm.allCases {
        let code = try OneTimePassword.code(key: key, counter: 1, algorithm: algorithm)
        #expect(code < 1_000_000)
      }
    }
  }

  @Test func formatting() {
    #expect(OneTimePassword.formatted(0, digits: 6) == "000000")
    #expect(OneTimePassword.formatted(123, digits: 6) == "000123")
    #expect(OneTimePassword.formatted(123_456, digits: 6) == "123456")
    #expect(OneTimePassword.formatted(7_081_804, digits: 8) == "07081804")
    #expect(OneTimePassword.formatted(82_162_583, digits: 10) == "0082162583")
    // Never truncated; padding is limited to 10 characters; nonsense widths do not crash.
    #expect(OneTimePassword.formatted(1_234_567, digits: 6) == "1234567")
    #expect(OneTimePassword.formatted(5, digits: .max) == "0000000005")
    #expect(OneTimePassword.formatted(5, digits: .min) == "5")
    #expect(OneTimePassword.formatted(.max, digits: 10) == "4294967295")
  }

  @Test func algorithmNamesMatchOtpauthURIs() {
    #expect(OneTimePassword.Algorithm(rawValue: "SHA1") == .sha1)
    #expect(OneTimePassword.Algorithm(rawValue: "SHA256") == .sha256)
    #expect(OneTimePassword.Algorithm(rawValue: "SHA512") == .sha512)
    #expect(OneTimePassword.Algorithm.allCases.count == 3)
  }
}
