import Testing
import UMKCrypto

/// Hashes `message` every way `chunkings(of:)` describes, plus the raw-buffer, non-contiguous and
/// one-shot paths, and returns each digest with its label.
private func blake2bInPieces(
  _ message: [UInt8], digestByteCount: Int = 64, key: [UInt8] = []
) throws -> [(name: String, hex: String)] {
  var results: [(name: String, hex: String)] = []
  for (name, chunks) in chunkings(of: message) {
    var hasher = try BLAKE2b(digestByteCount: digestByteCount, key: key)
    for chunk in chunks {
      hasher.update(chunk)
    }
    results.append((name, hasher.finalize().hex))
  }
  var raw = try BLAKE2b(digestByteCount: digestByteCount, key: key)
  message.withUnsafeBytes { raw.update($0) }
  results.append(("raw buffer", raw.finalize().hex))
  let lazyHasher = try BLAKE2b(digestByteCount: digestByteCount, key: key.lazy.map { $0 })
  var lazy = lazyHasher
  lazy.update(message.lazy.map { $0 })
  results.append(("non-contiguous sequences", lazy.finalize().hex))
  let oneShot = try BLAKE2b.hash(message, digestByteCount: digestByteCount, key: key)
  results.append(("one-shot", oneShot.hex))
  return results
}

/// Expects `body` to throw a ``CryptoParameterError`` with the given code.
func expectParameterError(
  _ code: CryptoParameterError.Code, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> some Any
) {
  let error = #expect(throws: CryptoParameterError.self, sourceLocation: sourceLocation) {
    _ = try body()
  }
  #expect(error?.code == code, sourceLocation: sourceLocation)
}

@Suite("BLAKE2b (RFC 7693)")
struct BLAKE2bTests {
  /// RFC 7693 Appendix A: BLAKE2b-512("abc").
  @Test func rfc7693AppendixA() throws {
    let expected =
      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
      + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
    for (name, hex) in try blake2bInPieces(Array("abc".utf8)) {
      #expect(hex == expected, "\(name)")
    }
  }

  @Test func emptyMessage() throws {
    let expected =
      "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
      + "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
    #expect(try BLAKE2b.hash([UInt8]()).hex == expected)
    #expect(try BLAKE2b().finalize().hex == expected)
  }

  /// The first and last keyed vectors of the BLAKE2 reference package (blake2b-kat.txt): key
  /// 00 01 … 3f, messages of 0 and 255 bytes 00 01 02 ….
  @Test func keyedReferenceVectors() throws {
    let key = (0..<64).map { UInt8($0) }
    let empty =
      "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
      + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568"
    #expect(try BLAKE2b.hash([UInt8](), key: key).hex == empty)
    let long =
      "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e9248"
      + "4be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461"
    let message = (0..<255).map { UInt8($0) }
    for (name, hex) in try blake2bInPieces(message, key: key) {
      #expect(hex == long, "\(name)")
    }
  }

  /// Splits around the 128-byte block boundary: the last block must stay pending until
  /// `finalize`, including when the input ends exactly on a boundary.
  @Test(arguments: [0, 1, 127, 128, 129, 255, 256, 257])
  func splitAtEveryBoundary(_ length: Int) throws {
    let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let expected = try BLAKE2b.hash(message, digestByteCount: 48, key: [1, 2, 3]).hex
    for split in 0...length {
      var hasher = try BLAKE2b(digestByteCount: 48, key: [1, 2, 3])
      hasher.update(message[..<split])
      hasher.update(message[split...])
      #expect(hasher.finalize().hex == expected, "length \(length), split at \(split)")
    }
    for (name, hex) in try blake2bInPieces(message, digestByteCount: 48, key: [1, 2, 3]) {
      #expect(hex == expected, "length \(length), \(name)")
    }
  }

  @Test func digestLengthChangesTheOutput() throws {
    // The digest length is a parameter of the hash, not a truncation.
    let long = try BLAKE2b.hash(Array("abc".utf8), digestByteCount: 64)
    let short = try BLAKE2b.hash(Array("abc".utf8), digestByteCount: 32)
    #expect(short.count == 32)
    #expect(Array(long.prefix(32)) != short)
    #expect(try BLAKE2b(digestByteCount: 20).digestByteCount == 20)
  }

  @Test func valueSemanticsAndRepeatableFinalize() throws {
    var hasher = try BLAKE2b(digestByteCount: 32, key: Array("key".utf8))
    hasher.update(Array("hello ".utf8))
    let fork = hasher
    let first = hasher.finalize()
    #expect(hasher.finalize() == first)
    hasher.update(Array("world".utf8))
    #expect(fork.finalize() == first)
    #expect(
      hasher.finalize()
        == (try BLAKE2b.hash(Array("hello world".utf8), digestByteCount: 32, key: Array("key".utf8)))
    )
  }

  @Test(arguments: [0, -1, 65, 1000, Int.min, Int.max])
  func rejectsInvalidDigestLengths(_ count: Int) {
    expectParameterError(.outputLengthOutOfRange) { try BLAKE2b(digestByteCount: count) }
  }

  @Test func rejectsLongKeys() throws {
    expectParameterError(.keyLengthOutOfRange) {
      try BLAKE2b.hash([UInt8](), key: [UInt8](repeating: 7, count: 65))
    }
    #expect(
      try BLAKE2b(digestByteCount: 1, key: [UInt8](repeating: 7, count: 64)).finalize().count == 1)
  }

  /// Vectors from Python's hashlib.blake2b (Scripts/generate-crypto-vectors.py).
  @Test func crossCheckWithHashlib() throws {
    let records = CrossCheckRecord.parse(argon2CrossCheckVectorText).filter {
      $0.kind == "blake2b"
    }
    #expect(records.count == 160)
    var digestSizes = Set<Int>()
    for record in records {
      let key = try hexBytes(record.fields[0])
      let message = try hexBytes(record.fields[1])
      let digestByteCount = try #require(Int(record.fields[2]))
      digestSizes.insert(digestByteCount)
      let label = "key \(key.count), message \(message.count), digest \(digestByteCount)"
      for (name, hex) in try blake2bInPieces(message, digestByteCount: digestByteCount, key: key) {
        #expect(hex == record.fields[3], "\(label), \(name)")
      }
    }
    #expect(digestSizes == Set(1...64))
  }
}
