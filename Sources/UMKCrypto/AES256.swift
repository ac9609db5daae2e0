/// The AES-256 block cipher (FIPS 197), forward direction only, and counter mode on it.
///
/// Present only so that Firebase's modified-scrypt password hashes can be verified: Firebase
/// encrypts its signer key with AES-256-CTR under a scrypt-derived key. It is not a general
/// encryption API (there is no decryption of single blocks and no authentication).
///
/// The implementation uses no lookup tables: the S-box is computed (inversion in GF(2^8) by a
/// fixed chain of constant-time multiplications, then the affine map), so neither memory
/// accesses nor branches depend on the key or the data. It is slow (tens of thousands of
/// operations per block), which does not matter for the few blocks a verification encrypts.
public enum AES256 {
  /// The key length: 32 bytes.
  public static var keyByteCount: Int { 32 }

  /// The block length: 16 bytes.
  public static var blockByteCount: Int { 16 }

  /// Counter (CTR) mode with the standard incrementing function (NIST SP 800-38A, §6.5 and
  /// appendix B.1): the whole 16-byte counter block is incremented as a big-endian integer,
  /// modulo 2^128.
  public enum CTR {
    /// Encrypts or decrypts (the same operation in counter mode) `bytes`.
    ///
    /// - Parameters:
    ///   - key: The 32-byte AES-256 key.
    ///   - iv: The 16-byte initial counter block (Firebase uses 16 zero bytes).
    ///   - bytes: The plaintext or ciphertext, of any length.
    /// - Returns: `bytes` XORed with the key stream; as long as `bytes`.
    /// - Throws: ``CryptoParameterError`` with code
    ///   ``CryptoParameterError/Code/keyLengthOutOfRange`` if `key` is not 32 bytes, or
    ///   ``CryptoParameterError/Code/inputLengthOutOfRange`` if `iv` is not 16 bytes.
    public static func crypt(
      key: some Sequence<UInt8>, iv: some Sequence<UInt8>, bytes: some Sequence<UInt8>
    ) throws(CryptoParameterError) -> [UInt8] {
      var counter = Array(iv)
      guard counter.count == 16 else {
        throw CryptoParameterError(
          code: .inputLengthOutOfRange,
          message: "AES-256-CTR takes a 16-byte initial counter block.")
      }
      var output = Array(bytes)
      try AES256.withKeySchedule(key) { schedule in
        var keyStream = [UInt8](repeating: 0, count: 16)
        defer { keyStream.secureZero() }
        var offset = 0
        while offset < output.count {
          keyStream.replaceSubrange(0..<16, with: counter)
          schedule.encrypt(&keyStream)
          let take = min(16, output.count &- offset)
          for index in 0..<take {
            output[offset &+ index] ^= keyStream[index]
          }
          offset &+= take
          // Increment the counter block as a 128-bit big-endian integer.
          var carry: UInt16 = 1
          for index in stride(from: 15, through: 0, by: -1) {
            let sum = UInt16(counter[index]) &+ carry
            counter[index] = UInt8(truncatingIfNeeded: sum)
            carry = sum &>> 8
          }
        }
      }
      counter.secureZero()
      return output
    }
  }

  /// Encrypts one 16-byte block, for the FIPS 197 known answers.
  ///
  /// - Parameters:
  ///   - block: 16 bytes of plaintext.
  ///   - key: The 32-byte key.
  /// - Returns: The 16-byte ciphertext.
  /// - Throws: ``CryptoParameterError`` if the key or block has the wrong length.
  @_spi(Testing)
  public static func encryptBlock(
    _ block: [UInt8], key: [UInt8]
  ) throws(CryptoParameterError) -> [UInt8] {
    guard block.count == 16 else {
      throw CryptoParameterError(
        code: .inputLengthOutOfRange, message: "AES blocks are 16 bytes.")
    }
    var state = block
    try withKeySchedule(key) { schedule in schedule.encrypt(&state) }
    return state
  }

  /// Expands `key`, calls `body` with the schedule and erases the schedule afterwards.
  private static func withKeySchedule(
    _ key: some Sequence<UInt8>, _ body: (AES256KeySchedule) -> Void
  ) throws(CryptoParameterError) {
    var keyBytes = Array(key)
    defer { keyBytes.secureZero() }
    guard keyBytes.count == 32 else {
      throw CryptoParameterError(
        code: .keyLengthOutOfRange, message: "AES-256 keys are 32 bytes.")
    }
    var schedule = AES256KeySchedule(key: keyBytes)
    defer { schedule.roundKeys.secureZero() }
    body(schedule)
  }
}

/// The 15 round keys of AES-256 (FIPS 197, §5.2), 240 bytes in order.
struct AES256KeySchedule {
  /// Round key `i` is bytes `16i ..< 16i + 16`.
  var roundKeys: [UInt8]

  /// Expands a 32-byte key (Nk = 8, Nr = 14).
  init(key: [UInt8]) {
    var w = [UInt8](repeating: 0, count: 240)
    w.replaceSubrange(0..<32, with: key)
    var roundConstant: UInt8 = 1
    for word in 8..<60 {
      let previous = (word &- 1) &* 4
      var temp = (w[previous], w[previous &+ 1], w[previous &+ 2], w[previous &+ 3])
      if word % 8 == 0 {
        // RotWord, SubWord, then XOR with Rcon[word / 8].
        temp = (
          aesSubByte(temp.1) ^ roundConstant, aesSubByte(temp.2), aesSubByte(temp.3),
          aesSubByte(temp.0)
        )
        roundConstant = aesTimesTwo(roundConstant)
      } else if word % 8 == 4 {
        temp = (aesSubByte(temp.0), aesSubByte(temp.1), aesSubByte(temp.2), aesSubByte(temp.3))
      }
      let back = (word &- 8) &* 4
      let here = word &* 4
      w[here] = w[back] ^ temp.0
      w[here &+ 1] = w[back &+ 1] ^ temp.1
      w[here &+ 2] = w[back &+ 2] ^ temp.2
      w[here &+ 3] = w[back &+ 3] ^ temp.3
    }
    roundKeys = w
  }

  /// The cipher (FIPS 197, §5.1) on a 16-byte state, in place. The state is column-major,
  /// which is the order of the input bytes.
  func encrypt(_ state: inout [UInt8]) {
    addRoundKey(&state, 0)
    for round in 1..<14 {
      subBytesAndShiftRows(&state)
      mixColumns(&state)
      addRoundKey(&state, round)
    }
    subBytesAndShiftRows(&state)
    addRoundKey(&state, 14)
  }

  private func addRoundKey(_ state: inout [UInt8], _ round: Int) {
    let base = round &* 16
    for index in 0..<16 {
      state[index] ^= roundKeys[base &+ index]
    }
  }

  /// SubBytes then ShiftRows: row `r` (bytes r, r + 4, r + 8, r + 12) rotates left by `r`.
  /// Works in place, so no copy of the state is left behind.
  private func subBytesAndShiftRows(_ state: inout [UInt8]) {
    for index in 0..<16 {
      state[index] = aesSubByte(state[index])
    }
    let row1 = state[1]
    state[1] = state[5]
    state[5] = state[9]
    state[9] = state[13]
    state[13] = row1
    state.swapAt(2, 10)
    state.swapAt(6, 14)
    let row3 = state[15]
    state[15] = state[11]
    state[11] = state[7]
    state[7] = state[3]
    state[3] = row3
  }

  /// MixColumns: each column times {03}x³ + {01}x² + {01}x + {02} modulo x⁴ + 1.
  private func mixColumns(_ state: inout [UInt8]) {
    for column in 0..<4 {
      let base = column &* 4
      let a0 = state[base]
      let a1 = state[base &+ 1]
      let a2 = state[base &+ 2]
      let a3 = state[base &+ 3]
      let all = a0 ^ a1 ^ a2 ^ a3
      // 2a_i ⊕ 3a_{i+1} ⊕ a_{i+2} ⊕ a_{i+3} = a_i ⊕ all ⊕ 2(a_i ⊕ a_{i+1}).
      state[base] = a0 ^ all ^ aesTimesTwo(a0 ^ a1)
      state[base &+ 1] = a1 ^ all ^ aesTimesTwo(a1 ^ a2)
      state[base &+ 2] = a2 ^ all ^ aesTimesTwo(a2 ^ a3)
      state[base &+ 3] = a3 ^ all ^ aesTimesTwo(a3 ^ a0)
    }
  }
}

/// Multiplication by {02} in GF(2^8) modulo x⁸ + x⁴ + x³ + x + 1, without branches.
@inline(__always)
private func aesTimesTwo(_ a: UInt8) -> UInt8 {
  (a &<< 1) ^ (0x1b & (0 &- (a &>> 7)))
}

/// Multiplication in GF(2^8) with a fixed number of steps and no data-dependent branches.
@inline(__always)
private func aesMultiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
  var a = a
  var b = b
  var product: UInt8 = 0
  for _ in 0..<8 {
    product ^= a & (0 &- (b & 1))
    a = aesTimesTwo(a)
    b &>>= 1
  }
  return product
}

/// The AES S-box (FIPS 197, §5.1.1) computed: the inverse x^254 (0 maps to 0) followed by
/// the affine transformation b ⊕ rotl(b, 1) ⊕ rotl(b, 2) ⊕ rotl(b, 3) ⊕ rotl(b, 4) ⊕ {63}.
private func aesSubByte(_ x: UInt8) -> UInt8 {
  let x2 = aesMultiply(x, x)
  let x3 = aesMultiply(x2, x)
  let x6 = aesMultiply(x3, x3)
  let x12 = aesMultiply(x6, x6)
  let x14 = aesMultiply(x12, x2)
  let x15 = aesMultiply(x12, x3)
  let x30 = aesMultiply(x15, x15)
  let x60 = aesMultiply(x30, x30)
  let x120 = aesMultiply(x60, x60)
  let x240 = aesMultiply(x120, x120)
  let inverse = aesMultiply(x240, x14)
  func rotl(_ value: UInt8, _ count: UInt8) -> UInt8 {
    (value &<< count) | (value &>> (8 &- count))
  }
  return inverse ^ rotl(inverse, 1) ^ rotl(inverse, 2) ^ rotl(inverse, 3) ^ rotl(inverse, 4)
    ^ 0x63
}
