import Foundation
import Testing
@_spi(Testing) import UMKCrypto

/// A scrypt test vector of RFC 7914, §12.
struct ScryptKnownAnswer: Sendable, CustomStringConvertible {
  var password: String
  var salt: String
  var n: Int
  var r: Int
  var p: Int
  var key: String
  var description: String { "N=\(n), r=\(r), p=\(p)" }
}

private let scryptKnownAnswers: [ScryptKnownAnswer] = [
  ScryptKnownAnswer(
    password: "", salt: "", n: 16, r: 1, p: 1,
    key: "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
      + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
  ScryptKnownAnswer(
    password: "password", salt: "NaCl", n: 1024, r: 8, p: 16,
    key: "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
      + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
  ScryptKnownAnswer(
    password: "pleaseletmein", salt: "SodiumChloride", n: 16384, r: 8, p: 1,
    key: "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
      + "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"),
]

/// RFC 7914 §12, fourth vector: 1 GiB of memory and 2^20 × 8 BlockMix rounds.
private let slowScryptKnownAnswer = ScryptKnownAnswer(
  password: "pleaseletmein", salt: "SodiumChloride", n: 1_048_576, r: 8, p: 1,
  key: "2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa47"
    + "8e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4")

/// The RFC 7914 §9 BlockMix input, which §10 also uses as the ROMix input.
private let blockMixInput =
  "f7ce0b653d2d72a4108cf5abe912ffdd777616dbbb27a70e8204f3ae2d0f6fad"
  + "89f68f4811d1e87bcc3bd7400a9ffd29094f0184639574f39ae5a1315217bcd7"
  + "894991447213bb226c25b54da86370fbcd984380374666bb8ffcb5bf40c254b0"
  + "67d27c51ce4ad5fed829c90b505a571b7f4d1cad6a523cda770e67bceaaf7e89"

private let oneMiB = 1 << 20

@Suite("scrypt (RFC 7914)")
struct ScryptTests {
  @Test func salsa208Core() throws {
    let input = try hexBytes(
      "7e879a214f3ec9867ca940e641718f26baee555b8c61c1b50df846116dcd3b1d"
        + "ee24f319df9b3d8514121e4b5ac5aa3276021d2909c74829edebc68db8b8c25e")
    #expect(
      Scrypt.salsa208Core(input).hex
        == "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29"
        + "b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81")
  }

  @Test func blockMix() throws {
    #expect(
      Scrypt.blockMix(try hexBytes(blockMixInput), blockSize: 1).hex
        == "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29"
        + "b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81"
        + "20edc975323881a80540f64c162dcd3c21077cfe5f8d5fe2b1a4168f953678b7"
        + "7d3b3d803b60e4ab920996e59b4d53b65d2a225877d5edf5842cb9f14eefe425")
  }

  @Test func roMix() throws {
    #expect(
      Scrypt.roMix(try hexBytes(blockMixInput), blockSize: 1, costFactor: 16).hex
        == "79ccc193629debca047f0b70604bf6b62ce3dd4a9626e355fafc6198e6ea2b46"
        + "d58413673b99b029d665c357601fb426a0b2f4bba200ee9f0a43d19b571a9c71"
        + "ef1142e65d5a266fddca832ce59faa7cac0b9cf1be2bffca300d01ee387619c4"
        + "ae12fd4438f203a0e4e1c47ec314861f4e9087cb33396a6873e8f9d2539a4b8e")
  }

  @Test(arguments: scryptKnownAnswers)
  func rfcVectors(_ answer: ScryptKnownAnswer) throws {
    let key = try Scrypt.deriveKey(
      password: Array(answer.password.utf8), salt: Array(answer.salt.utf8),
      costFactor: answer.n, blockSize: answer.r, parallelism: answer.p, keyByteCount: 64,
      maximumMemoryBytes: 32 * oneMiB)
    #expect(key.hex == answer.key)
  }

  /// The fourth RFC 7914 vector needs 1 GiB and takes seconds even when optimized: it runs
  /// only with `UMK_SLOW_VECTORS=1` in the environment.
  @Test(
    .enabled(
      if: ProcessInfo.processInfo.environment["UMK_SLOW_VECTORS"] == "1",
      "set UMK_SLOW_VECTORS=1 to run the 1 GiB vector"))
  func rfcSlowVector() throws {
    let answer = slowScryptKnownAnswer
    let key = try Scrypt.deriveKey(
      password: Array(answer.password.utf8), salt: Array(answer.salt.utf8),
      costFactor: answer.n, blockSize: answer.r, parallelism: answer.p, keyByteCount: 64,
      maximumMemoryBytes: 1100 * oneMiB)
    #expect(key.hex == answer.key)
  }

  @Test func memoryLimitIsEnforcedBeforeAllocation() throws {
    // 128 × 8 × (16384 + 1 + 2) + 64 bytes.
    let needed = 128 * 8 * (16384 + 3) + 64
    let password = Array("pleaseletmein".utf8)
    let salt = Array("SodiumChloride".utf8)
    #expect(throws: CryptoParameterError.self) {
      try Scrypt.deriveKey(
        password: password, salt: salt, costFactor: 16384, blockSize: 8, parallelism: 1,
        keyByteCount: 64, maximumMemoryBytes: needed - 1)
    }
    let key = try Scrypt.deriveKey(
      password: password, salt: salt, costFactor: 16384, blockSize: 8, parallelism: 1,
      keyByteCount: 64, maximumMemoryBytes: needed)
    #expect(key.hex == scryptKnownAnswers[2].key)
    // Absurd parameters from a stored hash are refused without allocating.
    do {
      _ = try Scrypt.deriveKey(
        password: password, salt: salt, costFactor: 1 << 40, blockSize: 8, parallelism: 1,
        keyByteCount: 64, maximumMemoryBytes: 64 * oneMiB)
      Issue.record("expected an error")
    } catch {
      #expect(error.code == .costLimitExceeded)
    }
  }

  /// Each invalid parameter, with the error code it must produce.
  @Test func invalidParameters() {
    let cases: [(n: Int, r: Int, p: Int, length: Int, code: CryptoParameterError.Code)] = [
      (1, 1, 1, 32, .iterationsOutOfRange),
      (0, 1, 1, 32, .iterationsOutOfRange),
      (-16, 1, 1, 32, .iterationsOutOfRange),
      (24, 1, 1, 32, .iterationsOutOfRange),
      (1 << 16, 1, 1, 32, .iterationsOutOfRange),  // N must be below 2^(16r)
      (1 << 32, 2, 1, 32, .iterationsOutOfRange),
      (16, 0, 1, 32, .memoryOutOfRange),
      (16, -1, 1, 32, .memoryOutOfRange),
      (16, 1, 0, 32, .parallelismOutOfRange),
      (16, 1 << 15, 1 << 15, 32, .parallelismOutOfRange),  // r × p = 2^30
      (16, Int.max, 2, 32, .parallelismOutOfRange),
      (16, 1, 1, 0, .outputLengthOutOfRange),
      (16, 1, 1, -1, .outputLengthOutOfRange),
      (1 << 62, 8, 1, 32, .memoryOutOfRange),
    ]
    for (n, r, p, length, code) in cases {
      do {
        _ = try Scrypt.deriveKey(
          password: [1, 2, 3], salt: [4, 5, 6], costFactor: n, blockSize: r, parallelism: p,
          keyByteCount: length, maximumMemoryBytes: Int.max)
        Issue.record("N=\(n) r=\(r) p=\(p) dkLen=\(length) accepted")
      } catch {
        #expect(error.code == code, "N=\(n) r=\(r) p=\(p) dkLen=\(length)")
      }
    }
    // The largest N allowed for r = 1 is 2^15.
    #expect(throws: Never.self) {
      try Scrypt.deriveKey(
        password: [], salt: [], costFactor: 1 << 15, blockSize: 1, parallelism: 1,
        keyByteCount: 16, maximumMemoryBytes: 8 * oneMiB)
    }
  }
}
