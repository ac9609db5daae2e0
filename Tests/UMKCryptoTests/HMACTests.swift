import Testing
import UMKCrypto

/// An RFC 4231 test case.
struct HMACKnownAnswer: Sendable, CustomStringConvertible {
  var number: Int
  var key: [UInt8]
  var data: [UInt8]
  var sha256: String
  var sha512: String
  /// Test case 5 checks only the first 128 bits.
  var truncated: Bool = false
  var description: String { "RFC 4231 test case \(number)" }
}

private let largeKey = [UInt8](repeating: 0xaa, count: 131)

private let rfc4231: [HMACKnownAnswer] = [
  HMACKnownAnswer(
    number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
    sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    sha512: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      + "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
  HMACKnownAnswer(
    number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
    sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    sha512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      + "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
  HMACKnownAnswer(
    number: 3, key: [UInt8](repeating: 0xaa, count: 20),
    data: [UInt8](repeating: 0xdd, count: 50),
    sha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    sha512: "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
      + "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"),
  HMACKnownAnswer(
    number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
    sha256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    sha512: "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
      + "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"),
  HMACKnownAnswer(
    number: 5, key: [UInt8](repeating: 0x0c, count: 20),
    data: Array("Test With Truncation".utf8),
    sha256: "a3b6167473100ee06e0c796c2955552b",
    sha512: "415fad6271580a531d4179bc891d87a6",
    truncated: true),
  HMACKnownAnswer(
    number: 6, key: largeKey,
    data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
    sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    sha512: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      + "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
  HMACKnownAnswer(
    number: 7, key: largeKey,
    data: Array(
      ("This is a test using a larger than block-size key and a larger than block-size data."
        + " The key needs to be hashed before being used by the HMAC algorithm.").utf8),
    sha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    sha512: "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
      + "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"),
]

@Suite("HMAC (RFC 2104) known answers (RFC 4231)")
struct HMACTests {
  @Test(arguments: rfc4231)
  func hmacSHA256(_ answer: HMACKnownAnswer) {
    for (name, hex) in macsInPieces(SHA256.self, key: answer.key, answer.data) {
      let compared = answer.truncated ? String(hex.prefix(32)) : hex
      #expect(compared == answer.sha256, "\(name)")
    }
  }

  @Test(arguments: rfc4231)
  func hmacSHA512(_ answer: HMACKnownAnswer) {
    for (name, hex) in macsInPieces(SHA512.self, key: answer.key, answer.data) {
      let compared = answer.truncated ? String(hex.prefix(32)) : hex
      #expect(compared == answer.sha512, "\(name)")
    }
  }

  @Test func validation() throws {
    let key = Array("key".utf8)
    let message = Array("The quick brown fox jumps over the lazy dog".utf8)
    let code = HMAC<SHA256>.authenticationCode(for: message, using: key)
    #expect(code.hex == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    #expect(HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: key))
    #expect(
      HMAC<SHA256>.isValidAuthenticationCode(code.bytes, authenticating: message, using: key))

    var tampered = code.bytes
    tampered[31] ^= 1
    #expect(!HMAC<SHA256>.isValidAuthenticationCode(tampered, authenticating: message, using: key))
    #expect(
      !HMAC<SHA256>.isValidAuthenticationCode(
        code.bytes.prefix(16), authenticating: message, using: key))
    #expect(
      !HMAC<SHA256>.isValidAuthenticationCode(
        code, authenticating: message + [0], using: key))
    #expect(
      !HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: key + [1]))
    #expect(!HMAC<SHA256>.isValidAuthenticationCode([], authenticating: message, using: key))
    // RFC 2104 zero-pads short keys, so trailing zero bytes do not change the key.
    #expect(
      HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: key + [0]))
  }

  @Test func macDescriptionDoesNotRevealBytes() {
    let code = HMAC<SHA512>.authenticationCode(for: [1, 2, 3], using: [4, 5, 6])
    #expect(code.description == "HMAC<SHA512>(64 bytes)")
    #expect(!String(reflecting: code).contains(String(code.hex.prefix(8))))
    #expect(HMAC<SHA256>.MAC.byteCount == 32)
    let sha1 = HMAC<Insecure.SHA1>.authenticationCode(for: [], using: [])
    #expect(sha1.description == "HMAC<SHA1>(20 bytes)")
    #expect(sha1.hex == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d")
  }

  @Test func copiesShareThePrecomputedKeyState() {
    let keyed = HMAC<SHA256>(key: Array("k".utf8))
    var first = keyed
    var second = keyed
    first.update(Array("one".utf8))
    second.update(Array("two".utf8))
    #expect(
      first.finalize()
        == HMAC<SHA256>.authenticationCode(for: Array("one".utf8), using: Array("k".utf8)))
    #expect(
      second.finalize()
        == HMAC<SHA256>.authenticationCode(for: Array("two".utf8), using: Array("k".utf8)))
    #expect(first.finalize() != second.finalize())
  }
}
