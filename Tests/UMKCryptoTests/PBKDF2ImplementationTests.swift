import Testing
@_spi(Testing) import UMKCrypto

/// A small deterministic generator (SplitMix64), so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }

  mutating func bytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
  }
}

/// The hardware-accelerated implementations (SHA instructions, C kernels) against the portable
/// Swift implementation. On a CPU without SHA instructions both sides run the portable SHA-256
/// code, and the SHA-512 comparison still covers the C loop, which is always used.
@Suite("Accelerated and portable implementations agree")
struct PBKDF2ImplementationTests {
  @Test func reportsHardwareSupport() {
    // Informational: which path the other tests exercise on this machine.
    print("SHA-256 hardware acceleration: \(SHA256.isHardwareAccelerated)")
  }

  @Test func sha256DigestsAgree() {
    var random = SplitMix64(state: 0x5348_4132_3536)
    var lengths = Array(0...300)
    lengths += [511, 512, 513, 1000, 4095, 4096, 4097, 65_537]
    for length in lengths {
      let message = random.bytes(length)
      let portable = SHA256.hash(message, implementation: .portable)
      #expect(SHA256.hash(message, implementation: .automatic) == portable, "length \(length)")
      #expect(SHA256.hash(message) == portable, "public API, length \(length)")
    }
  }

  @Test func pbkdf2AgreesOnRandomInputs() throws {
    var random = SplitMix64(state: 0x5042_4B44_4632)
    let iterationCounts = isDebugBuild ? [1, 2, 3, 7, 64] : [1, 2, 3, 7, 64, 1000, 4097]
    for round in 0..<120 {
      // Passwords up to 300 bytes cover keys shorter than, equal to and longer than both
      // block sizes (the latter are hashed first); key lengths up to 300 bytes need up to ten
      // SHA-256 or five SHA-512 output blocks.
      let passwordLength =
        round < 8
        ? [0, 1, 63, 64, 65, 127, 128, 129][round] : Int.random(in: 0...300, using: &random)
      let password = random.bytes(passwordLength)
      let salt = random.bytes(Int.random(in: 0...80, using: &random))
      let iterations = iterationCounts[round % iterationCounts.count]
      let keyByteCount =
        round % 5 == 0
        ? Int.random(in: 1...300, using: &random) : Int.random(in: 1...70, using: &random)
      let label = "P=\(password.count)B S=\(salt.count)B c=\(iterations) dkLen=\(keyByteCount)"

      let sha256 = try PBKDF2.deriveKey(
        password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
        hashFunction: SHA256.self)
      #expect(
        try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
          hashFunction: SHA256.self, implementation: .portable) == sha256, "SHA-256 \(label)")

      let sha512 = try PBKDF2.deriveKey(
        password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
        hashFunction: SHA512.self)
      #expect(
        try PBKDF2.deriveKey(
          password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
          hashFunction: SHA512.self, implementation: .portable) == sha512, "SHA-512 \(label)")
    }
  }

  @Test(arguments: [1, 31, 32, 33, 64, 65, 129])
  func explicitAutomaticMatchesPublicAPI(keyByteCount: Int) throws {
    let password = Array("correct horse battery staple".utf8)
    let salt = Array("somesalt12345678".utf8)
    #expect(
      try PBKDF2.deriveKey(
        password: password, salt: salt, iterations: 10, keyByteCount: keyByteCount,
        hashFunction: SHA256.self, implementation: .automatic)
        == PBKDF2.deriveKey(
          password: password, salt: salt, iterations: 10, keyByteCount: keyByteCount,
          hashFunction: SHA256.self))
  }

  /// RFC 7914 §11 (c = 1 and c = 80,000) and a long-iteration PBKDF2-HMAC-SHA512 value from
  /// Python's hashlib, on both implementations.
  @Test(
    "Known answers on both implementations",
    .enabled(if: !isDebugBuild, "80,000 iterations are too slow in unoptimized builds"),
    arguments: [HashImplementation.automatic, .portable])
  func knownAnswers(_ implementation: HashImplementation) throws {
    let fast = try PBKDF2.deriveKey(
      password: "passwd".utf8, salt: "salt".utf8, iterations: 1, keyByteCount: 64,
      hashFunction: SHA256.self, implementation: implementation)
    #expect(
      fast.hex
        == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    let slow = try PBKDF2.deriveKey(
      password: "Password".utf8, salt: "NaCl".utf8, iterations: 80_000, keyByteCount: 64,
      hashFunction: SHA256.self, implementation: implementation)
    #expect(
      slow.hex
        == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
    let sha512 = try PBKDF2.deriveKey(
      password: "password".utf8, salt: "somesalt12345678".utf8, iterations: 50_000,
      keyByteCount: 64, hashFunction: SHA512.self, implementation: implementation)
    #expect(sha512.hex == sha512Expected)
  }
}

/// `hashlib.pbkdf2_hmac("sha512", b"password", b"somesalt12345678", 50000).hex()`.
private let sha512Expected =
  "f345900d821606e1324b78fecb4fd4e0af2b295e8078e1293c45f942390b9f28"
  + "fddc7c94824712135e8a548c7c9736c294512081aad249245c394d1013311fe4"
