import Testing
import UMKCrypto

/// FIPS 180-4 / NIST CAVS example messages.
private let abc = Array("abc".utf8)
private let message448 = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
private let message896 = Array(
  ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
    + "klmnopqrlmnopqrsmnopqrstnopqrstu").utf8)

struct SHAKnownAnswer: Sendable, CustomStringConvertible {
  var name: String
  var message: [UInt8]
  var sha1: String
  var sha256: String
  var sha512: String
  var description: String { name }
}

private let knownAnswers: [SHAKnownAnswer] = [
  SHAKnownAnswer(
    name: "empty", message: [],
    sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    sha512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
  SHAKnownAnswer(
    name: "abc", message: abc,
    sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    sha512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
  SHAKnownAnswer(
    name: "448-bit", message: message448,
    sha1: "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    sha256: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    sha512: "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
      + "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"),
  SHAKnownAnswer(
    name: "896-bit", message: message896,
    sha1: "a49b2446a02c645bf419f995b67091253a04a259",
    sha256: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    sha512: "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
      + "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
]

@Suite("SHA-1, SHA-256, SHA-512 known answers (FIPS 180-4)")
struct SHATests {
  @Test(arguments: knownAnswers)
  func sha1(_ answer: SHAKnownAnswer) {
    for (name, hex) in digestsInPieces(Insecure.SHA1.self, answer.message) {
      #expect(hex == answer.sha1, "\(name)")
    }
  }

  @Test(arguments: knownAnswers)
  func sha256(_ answer: SHAKnownAnswer) {
    for (name, hex) in digestsInPieces(SHA256.self, answer.message) {
      #expect(hex == answer.sha256, "\(name)")
    }
  }

  @Test(arguments: knownAnswers)
  func sha512(_ answer: SHAKnownAnswer) {
    for (name, hex) in digestsInPieces(SHA512.self, answer.message) {
      #expect(hex == answer.sha512, "\(name)")
    }
  }

  /// One million 'a' bytes, fed as 1,000 updates of 1,000 bytes (once per algorithm).
  @Test func millionA() {
    let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
    var sha1 = Insecure.SHA1()
    var sha256 = SHA256()
    var sha512 = SHA512()
    for _ in 0..<1000 {
      sha1.update(thousand)
      sha256.update(thousand)
      sha512.update(thousand)
    }
    #expect(sha1.finalize().hex == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    #expect(
      sha256.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    #expect(
      sha512.finalize().hex
        == "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
        + "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b")
  }

  @Test func sizes() {
    #expect(Insecure.SHA1.blockByteCount == 64)
    #expect(Insecure.SHA1.digestByteCount == 20)
    #expect(SHA256.blockByteCount == 64)
    #expect(SHA256.digestByteCount == 32)
    #expect(SHA512.blockByteCount == 128)
    #expect(SHA512.digestByteCount == 64)
    #expect(Array(SHA256.hash(abc)).count == SHA256Digest.byteCount)
    #expect(SHA512.hash(abc).bytes.count == SHA512Digest.byteCount)
    #expect(Insecure.SHA1.hash(abc).bytes.count == Insecure.SHA1Digest.byteCount)
  }

  @Test func finalizeDoesNotConsumeTheHasher() {
    var hasher = SHA256()
    hasher.update(Array("ab".utf8))
    _ = hasher.finalize()
    let forked = hasher
    hasher.update(Array("c".utf8))
    #expect(hasher.finalize() == SHA256.hash(abc))
    #expect(forked.finalize() == SHA256.hash(Array("ab".utf8)))
  }

  @Test func digestDescriptionsDoNotRevealBytes() {
    let sha256 = SHA256.hash(abc)
    let sha512 = SHA512.hash(abc)
    let sha1 = Insecure.SHA1.hash(abc)
    #expect(sha256.description == "SHA256Digest(32 bytes)")
    #expect(sha512.description == "SHA512Digest(64 bytes)")
    #expect(sha1.description == "SHA1Digest(20 bytes)")
    for (text, hex) in [
      (String(describing: sha256), sha256.hex), (String(reflecting: sha256), sha256.hex),
      (String(describing: [sha512]), sha512.hex), ("\(sha1)", sha1.hex),
    ] {
      #expect(!text.contains(hex))
      #expect(!text.contains(String(hex.prefix(8))))
    }
    var dumped = ""
    dump(sha256, to: &dumped)
    #expect(!dumped.contains(String(sha256.hex.prefix(8))))
    #expect(!dumped.contains("186"))  // 0xba, the first byte, in decimal
  }

  @Test func digestEqualityHashingAndReconstruction() throws {
    let digest = SHA256.hash(abc)
    let rebuilt = try #require(SHA256Digest(bytes: digest.bytes))
    #expect(rebuilt == digest)
    #expect(rebuilt.hashValue == digest.hashValue)
    #expect(digest != SHA256.hash(message448))
    #expect(SHA256Digest(bytes: digest.bytes.dropLast()) == nil)
    #expect(SHA512Digest(bytes: digest.bytes) == nil)
    #expect(Insecure.SHA1Digest(bytes: Insecure.SHA1.hash(abc).bytes) != nil)
    #expect(Set([digest, rebuilt, SHA256.hash([])]).count == 2)
    let viaPointer = digest.withUnsafeBytes { Array($0) }
    #expect(viaPointer == digest.bytes)
  }
}
