import Testing
@_spi(Testing) import UMKCrypto

/// The RFC 8439 key 00 01 02 … 1f (§2.3.2, §2.4.2).
private let countingKey = Array(UInt8(0)...UInt8(31))

/// The RFC 8439 key 80 81 … 9f (§2.6.2, §2.8.2).
private let highCountingKey = Array(UInt8(0x80)...UInt8(0x9f))

/// The key of A.2 #3, A.3 #4, A.4 #3 and A.5.
private let jabberwockyKey =
  "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"

private let sunscreen = Array(
  ("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the"
    + " future, sunscreen would be it.").utf8)

private let ietfContribution = Array(
  ("Any submission to the IETF intended by the Contributor for publication as all or part of"
    + " an IETF Internet-Draft or RFC and any statement made within the context of an IETF"
    + " activity is considered an \"IETF Contribution\". Such statements include oral"
    + " statements in IETF sessions, as well as written and electronic communications made at"
    + " any time or place, which are addressed to").utf8)

private let jabberwocky = Array(
  ("'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were"
    + " the borogoves,\nAnd the mome raths outgrabe.").utf8)

private let zeros32 = [UInt8](repeating: 0, count: 32)
private let zeros12 = [UInt8](repeating: 0, count: 12)

/// A ChaCha20 block known answer (RFC 8439 §2.3.2, §2.6.2 and A.1).
struct ChaCha20BlockKnownAnswer: Sendable, CustomStringConvertible {
  var name: String
  var key: [UInt8]
  var nonce: String
  var counter: UInt32
  var block: String
  var description: String { name }
}

private let blockKnownAnswers: [ChaCha20BlockKnownAnswer] = [
  ChaCha20BlockKnownAnswer(
    name: "§2.3.2", key: countingKey, nonce: "000000090000004a00000000", counter: 1,
    block: "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
      + "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"),
  ChaCha20BlockKnownAnswer(
    name: "§2.6.2 (first 32 bytes are the Poly1305 key)", key: highCountingKey,
    nonce: "000000000001020304050607", counter: 0,
    block: "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646"),
  ChaCha20BlockKnownAnswer(
    name: "A.1 #1", key: zeros32, nonce: "000000000000000000000000", counter: 0,
    block: "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
      + "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
  ChaCha20BlockKnownAnswer(
    name: "A.1 #2", key: zeros32, nonce: "000000000000000000000000", counter: 1,
    block: "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
      + "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"),
  ChaCha20BlockKnownAnswer(
    name: "A.1 #3", key: zeros32.dropLast() + [1], nonce: "000000000000000000000000",
    counter: 1,
    block: "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
      + "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"),
  ChaCha20BlockKnownAnswer(
    name: "A.1 #4", key: [0x00, 0xff] + [UInt8](repeating: 0, count: 30),
    nonce: "000000000000000000000000", counter: 2,
    block: "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
      + "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096"),
  ChaCha20BlockKnownAnswer(
    name: "A.1 #5", key: zeros32, nonce: "000000000000000000000002", counter: 0,
    block: "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
      + "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"),
  // A.4: the Poly1305 key generation vectors, the first 32 bytes of block 0.
  ChaCha20BlockKnownAnswer(
    name: "A.4 #1", key: zeros32, nonce: "000000000000000000000000", counter: 0,
    block: "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"),
  ChaCha20BlockKnownAnswer(
    name: "A.4 #2", key: zeros32.dropLast() + [1], nonce: "000000000000000000000002",
    counter: 0,
    block: "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739"),
  ChaCha20BlockKnownAnswer(
    name: "A.4 #3", key: (try? hexBytes(jabberwockyKey)) ?? [],
    nonce: "000000000000000000000002", counter: 0,
    block: "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae"),
]

/// A ChaCha20 encryption known answer (RFC 8439 §2.4.2 and A.2).
struct ChaCha20EncryptionKnownAnswer: Sendable, CustomStringConvertible {
  var name: String
  var key: [UInt8]
  var nonce: String
  var counter: UInt32
  var plaintext: [UInt8]
  var ciphertext: String
  var description: String { name }
}

private let encryptionKnownAnswers: [ChaCha20EncryptionKnownAnswer] = [
  ChaCha20EncryptionKnownAnswer(
    name: "§2.4.2", key: countingKey, nonce: "000000000000004a00000000", counter: 1,
    plaintext: sunscreen,
    ciphertext: "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
      + "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
      + "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
      + "5af90bbf74a35be6b40b8eedf2785e42874d"),
  ChaCha20EncryptionKnownAnswer(
    name: "A.2 #1", key: zeros32, nonce: "000000000000000000000000", counter: 0,
    plaintext: [UInt8](repeating: 0, count: 64),
    ciphertext: "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
      + "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
  ChaCha20EncryptionKnownAnswer(
    name: "A.2 #2", key: zeros32.dropLast() + [1], nonce: "000000000000000000000002",
    counter: 1, plaintext: ietfContribution,
    ciphertext: "a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec"
      + "2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d"
      + "4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e527950"
      + "42bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85a"
      + "d00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259d"
      + "c4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b"
      + "0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6c"
      + "cc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0b"
      + "c39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f"
      + "5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e6"
      + "98ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab"
      + "7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221"),
  ChaCha20EncryptionKnownAnswer(
    name: "A.2 #3", key: (try? hexBytes(jabberwockyKey)) ?? [],
    nonce: "000000000000000000000002", counter: 42, plaintext: jabberwocky,
    ciphertext: "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf"
      + "166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb"
      + "f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f77"
      + "04c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1"),
]

/// A Poly1305 known answer (RFC 8439 §2.5.2 and A.3).
struct Poly1305KnownAnswer: Sendable, CustomStringConvertible {
  var name: String
  var key: String
  var message: [UInt8]
  var tag: String
  var description: String { name }
}

private let poly1305KnownAnswers: [Poly1305KnownAnswer] = [
  Poly1305KnownAnswer(
    name: "§2.5.2", key: "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
    message: Array("Cryptographic Forum Research Group".utf8),
    tag: "a8061dc1305136c6c22b8baf0c0127a9"),
  Poly1305KnownAnswer(
    name: "A.3 #1", key: String(repeating: "00", count: 32),
    message: [UInt8](repeating: 0, count: 64), tag: "00000000000000000000000000000000"),
  Poly1305KnownAnswer(
    name: "A.3 #2 (r = 0: the tag is s)",
    key: "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e",
    message: ietfContribution, tag: "36e5f6b5c5e06070f0efca96227a863e"),
  Poly1305KnownAnswer(
    name: "A.3 #3", key: "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000",
    message: ietfContribution, tag: "f3477e7cd95417af89a6b8794c310cf0"),
  Poly1305KnownAnswer(
    name: "A.3 #4", key: jabberwockyKey, message: jabberwocky,
    tag: "4541669a7eaaee61e708dc7cbcc5eb62"),
  Poly1305KnownAnswer(
    name: "A.3 #5 (partially reduced result not fully reduced)",
    key: "02000000000000000000000000000000" + "00000000000000000000000000000000",
    message: [UInt8](repeating: 0xff, count: 16), tag: "03000000000000000000000000000000"),
  Poly1305KnownAnswer(
    name: "A.3 #6 (adding s overflows 2^128)",
    key: "02000000000000000000000000000000" + "ffffffffffffffffffffffffffffffff",
    message: [0x02] + [UInt8](repeating: 0, count: 15), tag: "03000000000000000000000000000000"),
  Poly1305KnownAnswer(
    name: "A.3 #7 (all-ones data limb with a carry from below)",
    key: "01000000000000000000000000000000" + "00000000000000000000000000000000",
    message: [UInt8](repeating: 0xff, count: 16) + [0xf0] + [UInt8](repeating: 0xff, count: 15)
      + [0x11] + [UInt8](repeating: 0, count: 15),
    tag: "05000000000000000000000000000000"),
  Poly1305KnownAnswer(
    name: "A.3 #8 (polynomial result exactly 2^130 - 5)",
    key: "01000000000000000000000000000000" + "00000000000000000000000000000000",
    message: [UInt8](repeating: 0xff, count: 16) + [0xfb] + [UInt8](repeating: 0xfe, count: 15)
      + [UInt8](repeating: 0x01, count: 16),
    tag: "00000000000000000000000000000000"),
  Poly1305KnownAnswer(
    name: "A.3 #9 (polynomial result exactly 2^130 - 6)",
    key: "02000000000000000000000000000000" + "00000000000000000000000000000000",
    message: [0xfd] + [UInt8](repeating: 0xff, count: 15), tag: "faffffffffffffffffffffffffffffff"),
  Poly1305KnownAnswer(
    name: "A.3 #10 (5*H+L reduction with a 131-bit intermediate result)",
    key: "01000000000000000400000000000000" + "00000000000000000000000000000000",
    message: (try? hexBytes(
      "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
        + "0000000000000000000000000000000001000000000000000000000000000000")) ?? [],
    tag: "14000000000000005500000000000000"),
  Poly1305KnownAnswer(
    name: "A.3 #11 (5*H+L reduction with a 131-bit final result)",
    key: "01000000000000000400000000000000" + "00000000000000000000000000000000",
    message: (try? hexBytes(
      "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
        + "00000000000000000000000000000000")) ?? [],
    tag: "13000000000000000000000000000000"),
]

/// An AEAD known answer (RFC 8439 §2.8.2 and A.5).
struct AEADKnownAnswer: Sendable, CustomStringConvertible {
  var name: String
  var key: [UInt8]
  var nonce: String
  var aad: String
  var plaintext: [UInt8]
  var ciphertext: String
  var tag: String
  var description: String { name }
}

private let aeadKnownAnswers: [AEADKnownAnswer] = [
  AEADKnownAnswer(
    name: "§2.8.2", key: highCountingKey, nonce: "070000004041424344454647",
    aad: "50515253c0c1c2c3c4c5c6c7", plaintext: sunscreen,
    ciphertext: "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      + "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      + "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      + "3ff4def08e4b7a9de576d26586cec64b6116",
    tag: "1ae10b594f09e26a7e902ecbd0600691"),
  AEADKnownAnswer(
    name: "A.5", key: (try? hexBytes(jabberwockyKey)) ?? [], nonce: "000000000102030405060708",
    aad: "f33388860000000000004e91",
    plaintext: Array(
      ("Internet-Drafts are draft documents valid for a maximum of six months and may be"
        + " updated, replaced, or obsoleted by other documents at any time. It is"
        + " inappropriate to use Internet-Drafts as reference material or to cite them other"
        + " than as /\u{201C}work in progress./\u{201D}").utf8),
    ciphertext: "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
      + "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
      + "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
      + "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
      + "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
      + "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
      + "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
      + "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
      + "a6ad5cb4022b02709b",
    tag: "eead9d67890cbb22392336fea1851f38"),
]

@Suite("ChaCha20, Poly1305 and ChaCha20-Poly1305 (RFC 8439)")
struct ChaCha20Poly1305Tests {
  @Test func quarterRound() {
    // §2.1.1.
    var a: UInt32 = 0x1111_1111
    var b: UInt32 = 0x0102_0304
    var c: UInt32 = 0x9b8d_6f43
    var d: UInt32 = 0x0123_4567
    ChaCha20.quarterRound(&a, &b, &c, &d)
    #expect(a == 0xea2a_92f4)
    #expect(b == 0xcb1c_f8ce)
    #expect(c == 0x4581_472e)
    #expect(d == 0x5881_c4bb)
  }

  @Test func quarterRoundOnTheState() {
    // §2.2.1: QUARTERROUND(2, 7, 8, 13) changes only those four words.
    var state: [UInt32] = [
      0x8795_31e0, 0xc5ec_f37d, 0x5164_61b1, 0xc9a6_2f8a,
      0x44c2_0ef3, 0x3390_af7f, 0xd9fc_690b, 0x2a5f_714c,
      0x5337_2767, 0xb00a_5631, 0x974c_541a, 0x359e_9963,
      0x5c97_1061, 0x3d63_1689, 0x2098_d9d6, 0x91db_d320,
    ]
    var expected = state
    expected[2] = 0xbdb8_86dc
    expected[7] = 0xcfac_afd2
    expected[8] = 0xe46b_ea80
    expected[13] = 0xccc0_7c79
    var (a, b, c, d) = (state[2], state[7], state[8], state[13])
    ChaCha20.quarterRound(&a, &b, &c, &d)
    (state[2], state[7], state[8], state[13]) = (a, b, c, d)
    #expect(state == expected)
  }

  @Test(arguments: blockKnownAnswers)
  func block(_ answer: ChaCha20BlockKnownAnswer) throws {
    let block = try ChaCha20.block(
      key: answer.key, nonce: try hexBytes(answer.nonce), counter: answer.counter)
    #expect(block.count == 64)
    #expect(block.prefix(answer.block.count / 2).hex == answer.block)
    // The block is the key stream: encrypting zeros yields it.
    let stream = try ChaCha20.xor(
      [UInt8](repeating: 0, count: 64), key: answer.key, nonce: try hexBytes(answer.nonce),
      counter: answer.counter)
    #expect(stream == block)
  }

  @Test(arguments: encryptionKnownAnswers)
  func encryption(_ answer: ChaCha20EncryptionKnownAnswer) throws {
    let nonce = try hexBytes(answer.nonce)
    let ciphertext = try ChaCha20.xor(
      answer.plaintext, key: answer.key, nonce: nonce, counter: answer.counter)
    #expect(ciphertext.hex == answer.ciphertext)
    let plaintext = try ChaCha20.xor(
      ciphertext, key: answer.key, nonce: nonce, counter: answer.counter)
    #expect(plaintext == answer.plaintext)
  }

  @Test func encryptionIsBlockwise() throws {
    // Encrypting in 64-byte-aligned pieces with advancing counters matches one call, for every
    // length up to three blocks (full and partial final blocks).
    let key = Array(UInt8(1)...UInt8(32))
    let nonce = Array(UInt8(100)..<UInt8(112))
    let message = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    for length in 0...message.count {
      let whole = try ChaCha20.xor(message.prefix(length), key: key, nonce: nonce, counter: 7)
      var pieces: [UInt8] = []
      for (index, start) in stride(from: 0, to: length, by: 64).enumerated() {
        let piece = message[start..<min(start + 64, length)]
        pieces += try ChaCha20.xor(
          piece, key: key, nonce: nonce, counter: 7 + UInt32(index))
      }
      #expect(whole == pieces, "length \(length)")
    }
  }

  @Test func counterNeverWraps() throws {
    let key = zeros32
    // The last block is usable; one byte more is not.
    let last = try ChaCha20.xor(
      [UInt8](repeating: 0, count: 64), key: key, nonce: zeros12, counter: .max)
    #expect(last == (try ChaCha20.block(key: key, nonce: zeros12, counter: .max)))
    #expect(throws: CryptoParameterError.self) {
      try ChaCha20.xor(
        [UInt8](repeating: 0, count: 65), key: key, nonce: zeros12, counter: .max)
    }
    let error = try #require(
      throws: CryptoParameterError.self,
      performing: {
        try ChaCha20.xor(
          [UInt8](repeating: 0, count: 129), key: key, nonce: zeros12,
          counter: .max - 1)
      })
    #expect(error.code == .inputLengthOutOfRange)
  }

  @Test func chaCha20RejectsWrongSizes() {
    for length in [0, 16, 31, 33, 64] {
      let error = #expect(throws: CryptoParameterError.self) {
        try ChaCha20.xor(
          [1, 2, 3], key: [UInt8](repeating: 1, count: length), nonce: zeros12,
          counter: 0)
      }
      #expect(error?.code == .keyLengthOutOfRange, "key length \(length)")
    }
    for length in [0, 8, 11, 13, 16, 24] {
      let error = #expect(throws: CryptoParameterError.self) {
        try ChaCha20.block(key: zeros32, nonce: [UInt8](repeating: 1, count: length), counter: 0)
      }
      #expect(error?.code == .nonceLengthOutOfRange, "nonce length \(length)")
    }
  }

  @Test(arguments: poly1305KnownAnswers)
  func poly1305(_ answer: Poly1305KnownAnswer) throws {
    let key = try hexBytes(answer.key)
    #expect(try Poly1305.authenticate(message: answer.message, key: key).hex == answer.tag)
    // A non-contiguous collection takes the copying path.
    let lazy = answer.message.lazy.map { $0 }
    #expect(try Poly1305.authenticate(message: lazy, key: key).hex == answer.tag)
  }

  @Test func poly1305RejectsWrongKeySizes() {
    for length in [0, 16, 31, 33] {
      let error = #expect(throws: CryptoParameterError.self) {
        try Poly1305.authenticate(message: [1], key: [UInt8](repeating: 1, count: length))
      }
      #expect(error?.code == .keyLengthOutOfRange)
    }
  }

  @Test(arguments: aeadKnownAnswers)
  func aead(_ answer: AEADKnownAnswer) throws {
    let nonce = try hexBytes(answer.nonce)
    let aad = try hexBytes(answer.aad)
    let sealed = try ChaCha20Poly1305.seal(
      answer.plaintext, key: answer.key, nonce: nonce, authenticating: aad)
    #expect(sealed.ciphertext.hex == answer.ciphertext)
    #expect(sealed.tag.hex == answer.tag)
    let opened = try ChaCha20Poly1305.open(
      ciphertext: try hexBytes(answer.ciphertext), tag: try hexBytes(answer.tag),
      key: answer.key, nonce: nonce, authenticating: aad)
    #expect(opened == answer.plaintext)
  }

  @Test func tamperingWithAnyByteFailsOpen() throws {
    let answer = aeadKnownAnswers[0]
    let nonce = try hexBytes(answer.nonce)
    let aad = try hexBytes(answer.aad)
    let ciphertext = try hexBytes(answer.ciphertext)
    let tag = try hexBytes(answer.tag)
    func opens(
      _ ciphertext: [UInt8], _ tag: [UInt8], _ aad: [UInt8], key: [UInt8]? = nil,
      nonce otherNonce: [UInt8]? = nil
    ) -> ChaCha20Poly1305Error? {
      do {
        _ = try ChaCha20Poly1305.open(
          ciphertext: ciphertext, tag: tag, key: key ?? answer.key, nonce: otherNonce ?? nonce,
          authenticating: aad)
        return nil
      } catch {
        return error
      }
    }
    #expect(opens(ciphertext, tag, aad) == nil)
    for index in ciphertext.indices {
      for bit in [0, 7] {
        var altered = ciphertext
        altered[index] ^= 1 << bit
        #expect(opens(altered, tag, aad) == .authenticationFailure, "ciphertext byte \(index)")
      }
    }
    for index in tag.indices {
      var altered = tag
      altered[index] ^= 0x01
      #expect(opens(ciphertext, altered, aad) == .authenticationFailure, "tag byte \(index)")
    }
    for index in aad.indices {
      var altered = aad
      altered[index] ^= 0x80
      #expect(opens(ciphertext, tag, altered) == .authenticationFailure, "aad byte \(index)")
    }
    // Truncated or extended ciphertext and associated data, a different key or nonce.
    #expect(opens(Array(ciphertext.dropLast()), tag, aad) == .authenticationFailure)
    #expect(opens(ciphertext + [0], tag, aad) == .authenticationFailure)
    #expect(opens(ciphertext, tag, Array(aad.dropLast())) == .authenticationFailure)
    #expect(opens(ciphertext, tag, aad + [0]) == .authenticationFailure)
    #expect(opens(ciphertext, tag, []) == .authenticationFailure)
    var otherKey = answer.key
    otherKey[31] ^= 1
    #expect(opens(ciphertext, tag, aad, key: otherKey) == .authenticationFailure)
    var otherNonce = nonce
    otherNonce[0] ^= 1
    #expect(opens(ciphertext, tag, aad, nonce: otherNonce) == .authenticationFailure)
  }

  @Test func aeadRejectsWrongSizes() throws {
    let key = [UInt8](repeating: 7, count: 32)
    let nonce = [UInt8](repeating: 9, count: 12)
    let sealed = try ChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: nonce)
    for length in [0, 16, 31, 33, 64] {
      let wrongKey = [UInt8](repeating: 7, count: length)
      let sealError = #expect(throws: CryptoParameterError.self) {
        try ChaCha20Poly1305.seal([1, 2, 3], key: wrongKey, nonce: nonce)
      }
      #expect(sealError?.code == .keyLengthOutOfRange)
      let openError = #expect(throws: ChaCha20Poly1305Error.self) {
        try ChaCha20Poly1305.open(
          ciphertext: sealed.ciphertext, tag: sealed.tag, key: wrongKey, nonce: nonce)
      }
      #expect(openError == .invalidParameter(try #require(sealError)))
    }
    for length in [0, 8, 11, 13, 24] {
      let wrongNonce = [UInt8](repeating: 9, count: length)
      let sealError = #expect(throws: CryptoParameterError.self) {
        try ChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: wrongNonce)
      }
      #expect(sealError?.code == .nonceLengthOutOfRange)
      let openError = #expect(throws: ChaCha20Poly1305Error.self) {
        try ChaCha20Poly1305.open(
          ciphertext: sealed.ciphertext, tag: sealed.tag, key: key, nonce: wrongNonce)
      }
      #expect(openError == .invalidParameter(try #require(sealError)))
    }
    for length in [0, 12, 15, 17, 32] {
      let openError = #expect(throws: ChaCha20Poly1305Error.self) {
        try ChaCha20Poly1305.open(
          ciphertext: sealed.ciphertext, tag: Array(repeating: 0, count: length), key: key,
          nonce: nonce)
      }
      guard case .invalidParameter(let error) = openError else {
        Issue.record("tag length \(length): \(String(describing: openError))")
        continue
      }
      #expect(error.code == .tagLengthOutOfRange)
    }
  }

  @Test func emptyPlaintextAndAssociatedData() throws {
    let key = Array(UInt8(32)..<UInt8(64))
    let nonce = Array(UInt8(0)..<UInt8(12))
    let empty = try ChaCha20Poly1305.seal([UInt8](), key: key, nonce: nonce)
    #expect(empty.ciphertext.isEmpty)
    #expect(empty.tag.count == 16)
    #expect(try ChaCha20Poly1305.open(ciphertext: [], tag: empty.tag, key: key, nonce: nonce) == [])
    // With associated data only, the tag authenticates the associated data.
    let aadOnly = try ChaCha20Poly1305.seal(
      [UInt8](), key: key, nonce: nonce, authenticating: [1, 2, 3])
    #expect(aadOnly.tag != empty.tag)
    #expect(
      try ChaCha20Poly1305.open(
        ciphertext: [UInt8](), tag: aadOnly.tag, key: key, nonce: nonce,
        authenticating: [1, 2, 3]) == [])
    #expect(throws: ChaCha20Poly1305Error.authenticationFailure) {
      try ChaCha20Poly1305.open(ciphertext: [UInt8](), tag: aadOnly.tag, key: key, nonce: nonce)
    }
  }

  @Test func roundTripsEveryShortLength() throws {
    let key = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    let nonce = (0..<12).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 5) }
    for length in 0...150 {
      let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) }
      let aad = Array(plaintext.prefix(length % 37))
      let sealed = try ChaCha20Poly1305.seal(
        plaintext, key: key, nonce: nonce, authenticating: aad)
      #expect(sealed.ciphertext.count == length)
      // The ciphertext is the ChaCha20 stream from counter 1.
      #expect(
        sealed.ciphertext == (try ChaCha20.xor(plaintext, key: key, nonce: nonce, counter: 1)))
      let opened = try ChaCha20Poly1305.open(
        ciphertext: sealed.ciphertext[...], tag: sealed.tag, key: key, nonce: nonce,
        authenticating: aad)
      #expect(opened == plaintext, "length \(length)")
      // Any collection of bytes works as input, contiguous or not.
      let lazySealed = try ChaCha20Poly1305.seal(
        plaintext.lazy.map { $0 }, key: key, nonce: nonce, authenticating: aad)
      #expect(lazySealed.ciphertext == sealed.ciphertext)
      #expect(lazySealed.tag == sealed.tag)
    }
  }

  @Test func errorDescriptionsNameTheCode() {
    #expect("\(ChaCha20Poly1305Error.authenticationFailure)".hasPrefix("crypto.authentication"))
    let parameter = CryptoParameterError(code: .tagLengthOutOfRange, message: "m")
    #expect(
      "\(ChaCha20Poly1305Error.invalidParameter(parameter))"
        == "crypto.tag-length.out-of-range: m")
  }
}
