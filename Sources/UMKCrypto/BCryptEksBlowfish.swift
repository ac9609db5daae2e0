/// EksBlowfish, the "expensive key schedule" Blowfish variant bcrypt is built on (Provos and
/// Mazières, "A Future-Adaptable Password Scheme", USENIX 1999, §5 and Figures 3–4).
///
/// The whole computation works on one fixed-size scratch area of 32-bit words (on the stack
/// where the runtime allows):
///
/// | words           | contents                                                    |
/// |-----------------|-------------------------------------------------------------|
/// | 0 ..< 18        | the P-array                                                 |
/// | 18 ..< 1042     | the S-boxes S0, S1, S2, S3 (256 words each), right after P  |
/// | 1042 ..< 1060   | the 18 key words (password bytes + NUL, cycled, big-endian) |
/// | 1060 ..< 1078   | the salt cycled to 18 words (the salt used as a key)        |
/// | 1078 ..< 1082   | the 4 salt words                                            |
/// | 1082 ..< 1088   | the six words of "OrpheanBeholderScryDoubt"                 |
///
/// Because P and the S-boxes are contiguous and P has an even length, a key expansion's
/// 521 encryptions simply fill the first 1042 words two at a time, in the order Blowfish's key
/// schedule prescribes. Everything is addressed through one unsafe pointer, so the hot loop
/// has no bounds checks, no reference counting and no allocation, and the scratch area is
/// zeroed before it is released.
enum EksBlowfish {
  /// The number of words of P-array and S-boxes.
  static let stateWordCount = 18 + 4 * 256

  /// Offsets into the scratch area (see the table above).
  private static let keyOffset = stateWordCount
  private static let saltKeyOffset = keyOffset + 18
  private static let saltOffset = saltKeyOffset + 18
  private static let textOffset = saltOffset + 4
  private static let scratchWordCount = textOffset + 6

  /// The number of key bytes EksBlowfish consumes: 18 words of P-array, 4 bytes each.
  static let keyByteCount = 72

  /// The bcrypt output before truncation: "OrpheanBeholderScryDoubt" encrypted 64 times.
  static let outputByteCount = 24

  /// "OrpheanBeholderScryDoubt" as six big-endian words.
  private static let magicText: [UInt32] = [
    0x4F72_7068, 0x6561_6E42, 0x6568_6F6C, 0x6465_7253, 0x6372_7944, 0x6F75_6274,
  ]

  /// Computes bcrypt's 24 output bytes (the encoded hash keeps the first 23).
  ///
  /// - Parameters:
  ///   - password: The password bytes; only the first 72 of the password followed by a NUL
  ///     byte, repeated, are used.
  ///   - salt: Exactly 16 bytes (checked by the caller).
  ///   - cost: The base-2 logarithm of the number of expensive rounds, 4 through 31 (checked by
  ///     the caller).
  /// - Returns: The 24 output bytes.
  static func output(password: some Sequence<UInt8>, salt: [UInt8], cost: Int) -> [UInt8] {
    assert(salt.count == 16 && (4...31).contains(cost), "validated by BCrypt")
    return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: scratchWordCount) { buffer in
      guard let scratch = buffer.baseAddress else { return [] }
      scratch.initialize(repeating: 0, count: scratchWordCount)
      defer { secureZero(scratch, byteCount: scratchWordCount * MemoryLayout<UInt32>.size) }

      loadKey(password, into: scratch + keyOffset)
      for index in 0..<4 {
        scratch[saltOffset + index] = bigEndianWord(salt, at: 4 * index)
      }
      for index in 0..<18 {
        scratch[saltKeyOffset + index] = scratch[saltOffset + index % 4]
      }
      blowfishInitialState.withUnsafeBufferPointer { initial in
        if let source = initial.baseAddress {
          scratch.update(from: source, count: stateWordCount)
        }
      }

      let state = scratch
      let key = UnsafePointer(scratch + keyOffset)
      let saltKey = UnsafePointer(scratch + saltKeyOffset)
      expandState(state, key: key, salt: UnsafePointer(scratch + saltOffset))
      var rounds = UInt64(1) << UInt64(cost)
      while rounds > 0 {
        expandState(state, key: key)
        expandState(state, key: saltKey)
        rounds &-= 1
      }

      let text = scratch + textOffset
      for index in 0..<6 {
        text[index] = magicText[index]
      }
      for block in stride(from: 0, to: 6, by: 2) {
        var left = text[block]
        var right = text[block + 1]
        for _ in 0..<64 {
          encrypt(&left, &right, state)
        }
        text[block] = left
        text[block + 1] = right
      }
      var output = [UInt8](repeating: 0, count: outputByteCount)
      for index in 0..<6 {
        let word = text[index]
        output[4 * index] = UInt8(truncatingIfNeeded: word >> 24)
        output[4 * index + 1] = UInt8(truncatingIfNeeded: word >> 16)
        output[4 * index + 2] = UInt8(truncatingIfNeeded: word >> 8)
        output[4 * index + 3] = UInt8(truncatingIfNeeded: word)
      }
      return output
    }
  }

  /// Writes the 18 key words: the password's first bytes followed by a NUL byte, repeated to
  /// 72 bytes and read as big-endian words. Passwords of 72 bytes or more use their first 72
  /// bytes and never reach the NUL.
  private static func loadKey(
    _ password: some Sequence<UInt8>, into key: UnsafeMutablePointer<UInt32>
  ) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: keyByteCount) { buffer in
      guard let bytes = buffer.baseAddress else { return }
      bytes.initialize(repeating: 0, count: keyByteCount)
      defer { secureZero(bytes, byteCount: keyByteCount) }
      var length = 0
      for byte in password {
        guard length < keyByteCount else { break }
        bytes[length] = byte
        length += 1
      }
      // The NUL terminator is already in place (the buffer starts zeroed); repeat
      // password + NUL over the rest.
      let period = length + 1
      if period < keyByteCount {
        for index in period..<keyByteCount {
          bytes[index] = bytes[index - period]
        }
      }
      for index in 0..<18 {
        key[index] =
          UInt32(bytes[4 * index]) << 24 | UInt32(bytes[4 * index + 1]) << 16
          | UInt32(bytes[4 * index + 2]) << 8 | UInt32(bytes[4 * index + 3])
      }
    }
  }

  /// The big-endian word at `offset` in `bytes`.
  private static func bigEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
      | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
  }

  /// ExpandKey(state, salt, key) with a salt: XORs the key into P, then re-derives P and the
  /// S-boxes by encrypting a running block that has the salt (4 words, cycled) XORed in before
  /// each encryption. Run once, at the start of EksBlowfishSetup.
  private static func expandState(
    _ state: UnsafeMutablePointer<UInt32>, key: UnsafePointer<UInt32>,
    salt: UnsafePointer<UInt32>
  ) {
    for index in 0..<18 {
      state[index] ^= key[index]
    }
    var left: UInt32 = 0
    var right: UInt32 = 0
    var index = 0
    while index < stateWordCount {
      // The salt stream continues across P and the S-boxes; `index` counts the words used.
      left ^= salt[index & 3]
      right ^= salt[(index + 1) & 3]
      encrypt(&left, &right, state)
      state[index] = left
      state[index + 1] = right
      index += 2
    }
  }

  /// ExpandKey(state, 0, key): XORs the 18 key words into P, then re-derives P and the S-boxes
  /// by repeatedly encrypting a running block that starts at zero. This is the hot loop:
  /// EksBlowfishSetup runs it 2 × 2^cost times.
  @inline(__always)
  private static func expandState(
    _ state: UnsafeMutablePointer<UInt32>, key: UnsafePointer<UInt32>
  ) {
    for index in 0..<18 {
      state[index] ^= key[index]
    }
    var left: UInt32 = 0
    var right: UInt32 = 0
    var index = 0
    while index < stateWordCount {
      encrypt(&left, &right, state)
      state[index] = left
      state[index + 1] = right
      index &+= 2
    }
  }

  /// Blowfish's round function F: ((S0[a] + S1[b]) ⊕ S2[c]) + S3[d] for the bytes a b c d of
  /// `x`, most significant first, with additions modulo 2³².
  @inline(__always)
  private static func f(_ x: UInt32, _ s: UnsafeMutablePointer<UInt32>) -> UInt32 {
    let a = s[Int(truncatingIfNeeded: x >> 24)]
    let b = s[256 &+ Int(truncatingIfNeeded: (x >> 16) & 0xFF)]
    let c = s[512 &+ Int(truncatingIfNeeded: (x >> 8) & 0xFF)]
    let d = s[768 &+ Int(truncatingIfNeeded: x & 0xFF)]
    return ((a &+ b) ^ c) &+ d
  }

  /// Encrypts one 64-bit block (`left`, `right`) with the 16-round Blowfish Feistel network,
  /// fully unrolled, using the P-array at `state[0..<18]` and the S-boxes right after it.
  @inline(__always)
  private static func encrypt(
    _ left: inout UInt32, _ right: inout UInt32, _ state: UnsafeMutablePointer<UInt32>
  ) {
    let s = state + 18
    var l = left ^ state[0]
    var r = right
    r ^= f(l, s) ^ state[1]
    l ^= f(r, s) ^ state[2]
    r ^= f(l, s) ^ state[3]
    l ^= f(r, s) ^ state[4]
    r ^= f(l, s) ^ state[5]
    l ^= f(r, s) ^ state[6]
    r ^= f(l, s) ^ state[7]
    l ^= f(r, s) ^ state[8]
    r ^= f(l, s) ^ state[9]
    l ^= f(r, s) ^ state[10]
    r ^= f(l, s) ^ state[11]
    l ^= f(r, s) ^ state[12]
    r ^= f(l, s) ^ state[13]
    l ^= f(r, s) ^ state[14]
    r ^= f(l, s) ^ state[15]
    l ^= f(r, s) ^ state[16]
    left = r ^ state[17]
    right = l
  }
}
