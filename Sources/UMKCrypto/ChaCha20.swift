/// The ChaCha20 stream cipher in its IETF form (RFC 8439, §2.4): a 256-bit key, a 96-bit nonce
/// and a 32-bit block counter.
///
/// ```swift
/// let ciphertext = try ChaCha20.xor(plaintext, key: key, nonce: nonce, counter: 1)
/// let plaintext = try ChaCha20.xor(ciphertext, key: key, nonce: nonce, counter: 1)
/// ```
///
/// ChaCha20 alone provides confidentiality, not integrity: to encrypt secrets use
/// ``ChaCha20Poly1305``, which authenticates the ciphertext. A (key, nonce) pair must never be
/// used for two different messages.
///
/// The cipher uses only additions, rotations and exclusive-ors on 32-bit words, so its running
/// time does not depend on the key or the data.
public enum ChaCha20 {
  /// The key length: 32 bytes.
  public static var keyByteCount: Int { 32 }

  /// The nonce length: 12 bytes.
  public static var nonceByteCount: Int { 12 }

  /// The length of one key stream block: 64 bytes.
  public static var blockByteCount: Int { 64 }

  /// Encrypts or decrypts (the same operation for a stream cipher) `bytes` with the key stream
  /// that starts at block `counter`.
  ///
  /// - Parameters:
  ///   - bytes: The plaintext or ciphertext, of any length the counter can cover.
  ///   - key: The 32-byte key.
  ///   - nonce: The 12-byte nonce.
  ///   - counter: The block counter of the first 64 bytes; RFC 8439's AEAD starts at 1 (block 0
  ///     makes the Poly1305 key).
  /// - Returns: `bytes` XORed with the key stream; as long as `bytes`.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange`` if `key` is not 32 bytes,
  ///   ``CryptoParameterError/Code/nonceLengthOutOfRange`` if `nonce` is not 12 bytes, or
  ///   ``CryptoParameterError/Code/inputLengthOutOfRange`` if `bytes` would need blocks past
  ///   counter 2^32 − 1 (the counter never wraps around).
  public static func xor(
    _ bytes: some Collection<UInt8>, key: [UInt8], nonce: [UInt8], counter: UInt32
  ) throws(CryptoParameterError) -> [UInt8] {
    var cipher = try ChaCha20Cipher(key: key, nonce: nonce)
    defer { cipher.erase() }
    try ChaCha20Cipher.checkLength(bytes.count, startingAt: counter)
    var output = Array(bytes)
    output.withUnsafeMutableBytes { cipher.xor($0, counter: counter) }
    return output
  }

  /// Computes one 64-byte key stream block (RFC 8439, §2.3), for the RFC's known answers.
  ///
  /// - Parameters:
  ///   - key: The 32-byte key.
  ///   - nonce: The 12-byte nonce.
  ///   - counter: The block counter.
  /// - Returns: The serialized block, 64 bytes.
  /// - Throws: ``CryptoParameterError`` if the key or nonce has the wrong length.
  @_spi(Testing)
  public static func block(
    key: [UInt8], nonce: [UInt8], counter: UInt32
  ) throws(CryptoParameterError) -> [UInt8] {
    var cipher = try ChaCha20Cipher(key: key, nonce: nonce)
    defer { cipher.erase() }
    var output = [UInt8](repeating: 0, count: 64)
    output.withUnsafeMutableBytes { cipher.block(counter: counter, into: $0) }
    return output
  }

  /// The ChaCha quarter round (RFC 8439, §2.1), for the RFC's known answer.
  ///
  /// - Parameters:
  ///   - a: The first word, updated in place.
  ///   - b: The second word, updated in place.
  ///   - c: The third word, updated in place.
  ///   - d: The fourth word, updated in place.
  @_spi(Testing)
  public static func quarterRound(
    _ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32
  ) {
    chaChaQuarterRound(&a, &b, &c, &d)
  }
}

/// One ChaCha quarter round on four words.
@inline(__always)
func chaChaQuarterRound(
  _ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32
) {
  a &+= b
  d = (d ^ a).rotatedLeft(by: 16)
  c &+= d
  b = (b ^ c).rotatedLeft(by: 12)
  a &+= b
  d = (d ^ a).rotatedLeft(by: 8)
  c &+= d
  b = (b ^ c).rotatedLeft(by: 7)
}

/// The key and nonce words of a ChaCha20 state (words 4–11 and 13–15; word 12 is the counter).
///
/// A value with inline storage, so that ``erase()`` reaches every copy of the key this type
/// makes; the caller erases it when done.
struct ChaCha20Cipher {
  private var k0: UInt32, k1: UInt32, k2: UInt32, k3: UInt32
  private var k4: UInt32, k5: UInt32, k6: UInt32, k7: UInt32
  private var n0: UInt32, n1: UInt32, n2: UInt32

  /// Reads a 32-byte key and a 12-byte nonce as little-endian words.
  init(key: [UInt8], nonce: [UInt8]) throws(CryptoParameterError) {
    guard key.count == 32 else {
      throw CryptoParameterError(
        code: .keyLengthOutOfRange, message: "ChaCha20 keys are 32 bytes.")
    }
    guard nonce.count == 12 else {
      throw CryptoParameterError(
        code: .nonceLengthOutOfRange, message: "ChaCha20 nonces are 12 bytes.")
    }
    func word(_ bytes: [UInt8], _ index: Int) -> UInt32 {
      let offset = index &* 4
      return UInt32(bytes[offset]) | UInt32(bytes[offset &+ 1]) &<< 8
        | UInt32(bytes[offset &+ 2]) &<< 16 | UInt32(bytes[offset &+ 3]) &<< 24
    }
    k0 = word(key, 0)
    k1 = word(key, 1)
    k2 = word(key, 2)
    k3 = word(key, 3)
    k4 = word(key, 4)
    k5 = word(key, 5)
    k6 = word(key, 6)
    k7 = word(key, 7)
    n0 = word(nonce, 0)
    n1 = word(nonce, 1)
    n2 = word(nonce, 2)
  }

  /// Throws unless `byteCount` bytes fit in the blocks from `counter` through 2^32 − 1.
  static func checkLength(_ byteCount: Int, startingAt counter: UInt32) throws(CryptoParameterError)
  {
    let available = (UInt64(1) << 32 - UInt64(counter)) * 64
    guard UInt64(byteCount) <= available else {
      throw CryptoParameterError(
        code: .inputLengthOutOfRange,
        message: "ChaCha20's 32-bit block counter would wrap around for this input.")
    }
  }

  /// Writes the 64-byte block `counter` (RFC 8439, §2.3) to `output`, which has 64 bytes.
  func block(counter: UInt32, into output: UnsafeMutableRawBufferPointer) {
    let c0: UInt32 = 0x6170_7865
    let c1: UInt32 = 0x3320_646e
    let c2: UInt32 = 0x7962_2d32
    let c3: UInt32 = 0x6b20_6574
    var x0 = c0
    var x1 = c1
    var x2 = c2
    var x3 = c3
    var x4 = k0
    var x5 = k1
    var x6 = k2
    var x7 = k3
    var x8 = k4
    var x9 = k5
    var x10 = k6
    var x11 = k7
    var x12 = counter
    var x13 = n0
    var x14 = n1
    var x15 = n2
    for _ in 0..<10 {
      // A column round, then a diagonal round.
      chaChaQuarterRound(&x0, &x4, &x8, &x12)
      chaChaQuarterRound(&x1, &x5, &x9, &x13)
      chaChaQuarterRound(&x2, &x6, &x10, &x14)
      chaChaQuarterRound(&x3, &x7, &x11, &x15)
      chaChaQuarterRound(&x0, &x5, &x10, &x15)
      chaChaQuarterRound(&x1, &x6, &x11, &x12)
      chaChaQuarterRound(&x2, &x7, &x8, &x13)
      chaChaQuarterRound(&x3, &x4, &x9, &x14)
    }
    output.storeBytes(of: (x0 &+ c0).littleEndian, toByteOffset: 0, as: UInt32.self)
    output.storeBytes(of: (x1 &+ c1).littleEndian, toByteOffset: 4, as: UInt32.self)
    output.storeBytes(of: (x2 &+ c2).littleEndian, toByteOffset: 8, as: UInt32.self)
    output.storeBytes(of: (x3 &+ c3).littleEndian, toByteOffset: 12, as: UInt32.self)
    output.storeBytes(of: (x4 &+ k0).littleEndian, toByteOffset: 16, as: UInt32.self)
    output.storeBytes(of: (x5 &+ k1).littleEndian, toByteOffset: 20, as: UInt32.self)
    output.storeBytes(of: (x6 &+ k2).littleEndian, toByteOffset: 24, as: UInt32.self)
    output.storeBytes(of: (x7 &+ k3).littleEndian, toByteOffset: 28, as: UInt32.self)
    output.storeBytes(of: (x8 &+ k4).littleEndian, toByteOffset: 32, as: UInt32.self)
    output.storeBytes(of: (x9 &+ k5).littleEndian, toByteOffset: 36, as: UInt32.self)
    output.storeBytes(of: (x10 &+ k6).littleEndian, toByteOffset: 40, as: UInt32.self)
    output.storeBytes(of: (x11 &+ k7).littleEndian, toByteOffset: 44, as: UInt32.self)
    output.storeBytes(of: (x12 &+ counter).littleEndian, toByteOffset: 48, as: UInt32.self)
    output.storeBytes(of: (x13 &+ n0).littleEndian, toByteOffset: 52, as: UInt32.self)
    output.storeBytes(of: (x14 &+ n1).littleEndian, toByteOffset: 56, as: UInt32.self)
    output.storeBytes(of: (x15 &+ n2).littleEndian, toByteOffset: 60, as: UInt32.self)
  }

  /// XORs `buffer` in place with the key stream starting at block `counter`. The caller has
  /// checked the length with ``checkLength(_:startingAt:)``. The key stream block is erased.
  func xor(_ buffer: UnsafeMutableRawBufferPointer, counter: UInt32) {
    guard !buffer.isEmpty else { return }
    withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { keyStream in
      var counter = counter
      var offset = 0
      while offset < buffer.count {
        block(counter: counter, into: keyStream)
        let take = min(64, buffer.count &- offset)
        if take == 64 {
          for word in stride(from: 0, to: 64, by: 8) {
            let data = buffer.loadUnaligned(fromByteOffset: offset &+ word, as: UInt64.self)
            let key = keyStream.load(fromByteOffset: word, as: UInt64.self)
            buffer.storeBytes(of: data ^ key, toByteOffset: offset &+ word, as: UInt64.self)
          }
        } else {
          for index in 0..<take {
            buffer[offset &+ index] ^= keyStream[index]
          }
        }
        offset &+= take
        // Wraps only after the last block the length check allowed.
        counter &+= 1
      }
      if let base = keyStream.baseAddress { secureZero(base, byteCount: 64) }
    }
  }

  /// Overwrites the key and nonce words with zeros.
  mutating func erase() {
    withUnsafeMutableBytes(of: &self) { bytes in
      if let base = bytes.baseAddress { secureZero(base, byteCount: bytes.count) }
    }
  }
}
