import Testing
import UMKCrypto

/// An MD5 known answer: the message is ASCII text.
struct MD5KnownAnswer: Sendable, CustomStringConvertible {
  var message: String
  var md5: String
  var description: String { "\"\(message.prefix(20))\"" }
}

/// The RFC 1321 test suite (appendix A.5).
private let md5KnownAnswers: [MD5KnownAnswer] = [
  MD5KnownAnswer(message: "", md5: "d41d8cd98f00b204e9800998ecf8427e"),
  MD5KnownAnswer(message: "a", md5: "0cc175b9c0f1b6a831c399e269772661"),
  MD5KnownAnswer(message: "abc", md5: "900150983cd24fb0d6963f7d28e17f72"),
  MD5KnownAnswer(message: "message digest", md5: "f96b697d7cb7938d525a2f31aaf161d0"),
  MD5KnownAnswer(
    message: "abcdefghijklmnopqrstuvwxyz", md5: "c3fcd3d76192e4007dfb496cca67e13b"),
  MD5KnownAnswer(
    message: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    md5: "d174ab98d277d9f5a5611c2c9f419d9f"),
  MD5KnownAnswer(
    message: String(repeating: "1234567890", count: 8), md5: "57edf4a22be3c955ac49da2e2107b67a"),
]

/// A SHA-384 known answer (FIPS 180-4 / NIST CAVS example messages).
struct SHA384KnownAnswer: Sendable, CustomStringConvertible {
  var name: String
  var message: [UInt8]
  var sha384: String
  var description: String { name }
}

private let sha384KnownAnswers: [SHA384KnownAnswer] = [
  SHA384KnownAnswer(
    name: "empty", message: [],
    sha384: "38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743"
      + "4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"),
  SHA384KnownAnswer(
    name: "abc", message: Array("abc".utf8),
    sha384: "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
      + "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
  SHA384KnownAnswer(
    name: "448-bit",
    message: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
    sha384: "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05ab"
      + "fe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b"),
  SHA384KnownAnswer(
    name: "896-bit",
    message: Array(
      ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
        + "klmnopqrlmnopqrsmnopqrstnopqrstu").utf8),
    sha384: "09330c33f71147e83d192fc782cd1b4753111b173b3b05d2"
      + "2fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039"),
]

/// An HMAC-SHA-384 test case of RFC 4231 (§4.2–4.8).
struct HMACSHA384KnownAnswer: Sendable, CustomStringConvertible {
  var number: Int
  var key: [UInt8]
  var data: [UInt8]
  /// The expected code, possibly truncated (test case 5 checks only 128 bits).
  var mac: String
  var description: String { "RFC 4231 test case \(number)" }
}

private let hmacSHA384KnownAnswers: [HMACSHA384KnownAnswer] = [
  HMACSHA384KnownAnswer(
    number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
    mac: "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
      + "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"),
  HMACSHA384KnownAnswer(
    number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
    mac: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
      + "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
  HMACSHA384KnownAnswer(
    number: 3, key: [UInt8](repeating: 0xaa, count: 20),
    data: [UInt8](repeating: 0xdd, count: 50),
    mac: "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9feb"
      + "e83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27"),
  HMACSHA384KnownAnswer(
    number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
    mac: "3e8a69b7783c25851933ab6290af6ca77a9981480850009c"
      + "c5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb"),
  HMACSHA384KnownAnswer(
    number: 5, key: [UInt8](repeating: 0x0c, count: 20),
    data: Array("Test With Truncation".utf8), mac: "3abf34c3503b2a23a46efc619baef897"),
  HMACSHA384KnownAnswer(
    number: 6, key: [UInt8](repeating: 0xaa, count: 131),
    data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
    mac: "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
      + "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"),
  HMACSHA384KnownAnswer(
    number: 7, key: [UInt8](repeating: 0xaa, count: 131),
    data: Array(
      ("This is a test using a larger than block-size key and a larger than block-size data."
        + " The key needs to be hashed before being used by the HMAC algorithm.").utf8),
    mac: "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9a"
      + "dccebb82461e99c5a678cc31e799176d3860e6110c46523e"),
]

@Suite("MD5 (RFC 1321) and SHA-384 (FIPS 180-4) known answers")
struct LegacyHashTests {
  @Test(arguments: md5KnownAnswers)
  func md5(_ answer: MD5KnownAnswer) {
    for (name, hex) in digestsInPieces(Insecure.MD5.self, Array(answer.message.utf8)) {
      #expect(hex == answer.md5, "\(name)")
    }
  }

  @Test(arguments: sha384KnownAnswers)
  func sha384(_ answer: SHA384KnownAnswer) {
    for (name, hex) in digestsInPieces(SHA384.self, answer.message) {
      #expect(hex == answer.sha384, "\(name)")
    }
  }

  @Test(arguments: hmacSHA384KnownAnswers)
  func hmacSHA384(_ answer: HMACSHA384KnownAnswer) {
    for (name, hex) in macsInPieces(SHA384.self, key: answer.key, answer.data) {
      #expect(hex.hasPrefix(answer.mac), "\(name)")
    }
  }

  /// One million 'a' bytes, fed as 1,000 updates of 1,000 bytes.
  @Test func millionA() {
    let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    var md5 = Insecure.MD5()
    var sha384 = SHA384()
    for _ in 0..<1000 {
      md5.update(thousand)
      sha384.update(thousand)
    }
    #expect(md5.finalize().hex == "7707d6ae4e027c70eea2a935c2296f21")
    #expect(
      sha384.finalize().hex
        == "9d0e1809716474cb086e834e310a4a1ced149e9c00f24852"
        + "7972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985")
  }

  /// PBKDF2-HMAC-SHA384 takes the shared Merkle–Damgård loop with a six-word digest; the
  /// expected key comes from Python's `hashlib.pbkdf2_hmac`.
  @Test func pbkdf2SHA384() throws {
    let key = try PBKDF2.deriveKey(
      password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1000,
      keyByteCount: 100, hashFunction: SHA384.self)
    #expect(key.hex == pbkdf2SHA384Expected)
  }

  @Test func sizesAndDescriptions() throws {
    #expect(Insecure.MD5.blockByteCount == 64)
    #expect(Insecure.MD5.digestByteCount == 16)
    #expect(SHA384.blockByteCount == 128)
    #expect(SHA384.digestByteCount == 48)
    let md5 = Insecure.MD5.hash(Array("abc".utf8))
    let sha384 = SHA384.hash(Array("abc".utf8))
    #expect(md5.bytes.count == Insecure.MD5Digest.byteCount)
    #expect(sha384.bytes.count == SHA384Digest.byteCount)
    #expect(md5.description == "MD5Digest(16 bytes)")
    #expect(sha384.description == "SHA384Digest(48 bytes)")
    #expect(!String(reflecting: sha384).contains(String(sha384.hex.prefix(8))))
    #expect(try #require(Insecure.MD5Digest(bytes: md5.bytes)) == md5)
    #expect(try #require(SHA384Digest(bytes: sha384.bytes)) == sha384)
    #expect(SHA384Digest(bytes: md5.bytes) == nil)
    #expect(Insecure.MD5Digest(bytes: sha384.bytes) == nil)
  }
}

/// `hashlib.pbkdf2_hmac("sha384", b"password", b"salt", 1000, 100).hex()`.
private let pbkdf2SHA384Expected =
  "3bd37e2236941d4a77b1b5b714c6f913fabb6b0841a6d7d8656b99d611e900fe06edb93b5b809efaa9678b635c"
  + "e513e0f7d9ebb0aea1e07f0ab90d1b9cbd94643bef7c43c89577664fe1df1a16a82e7337d78ae44841c7512aa0"
  + "3341babe1086554e2a49"
