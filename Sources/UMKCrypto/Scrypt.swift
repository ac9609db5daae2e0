/// The scrypt password-based key derivation function (RFC 7914).
///
/// ```swift
/// let key = try Scrypt.deriveKey(
///   password: Array("pleaseletmein".utf8), salt: Array("SodiumChloride".utf8),
///   costFactor: 16_384, blockSize: 8, parallelism: 1, keyByteCount: 64,
///   maximumMemoryBytes: 64 << 20)
/// ```
///
/// The library uses it to verify imported scrypt and Firebase password hashes. scrypt's
/// parameters travel with the hash, so they are data from outside: every call names the most
/// memory it may take (`maximumMemoryBytes`) and parameters above it are refused before any
/// allocation. The working memory (V and the mixing blocks) is erased before it is released.
public enum Scrypt {
  /// Derives a key from a password.
  ///
  /// The memory taken is about 128 × `blockSize` × (`costFactor` + `parallelism` + 2) bytes;
  /// the work is proportional to `costFactor` × `blockSize` × `parallelism` (the
  /// `parallelism` lanes run one after another, reusing one V array). Callers verifying
  /// hashes from outside should bound `parallelism` as well as memory.
  ///
  /// - Parameters:
  ///   - password: The password bytes `P`.
  ///   - salt: The salt `S`.
  ///   - costFactor: The CPU/memory cost `N`: a power of 2 greater than 1 and less than
  ///     2^(16 × `blockSize`).
  ///   - blockSize: The block size parameter `r`, at least 1.
  ///   - parallelism: The parallelization parameter `p`, at least 1; `blockSize` ×
  ///     `parallelism` must be less than 2^30.
  ///   - keyByteCount: The derived key length `dkLen` in bytes: at least 1 and at most
  ///     (2^32 − 1) × 32.
  ///   - maximumMemoryBytes: The most memory the derivation may allocate.
  /// - Returns: The derived key, `keyByteCount` bytes long.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/iterationsOutOfRange`` (`costFactor`),
  ///   ``CryptoParameterError/Code/memoryOutOfRange`` (`blockSize`, or memory the platform
  ///   cannot address), ``CryptoParameterError/Code/parallelismOutOfRange``,
  ///   ``CryptoParameterError/Code/outputLengthOutOfRange``, or
  ///   ``CryptoParameterError/Code/costLimitExceeded`` when the memory needed exceeds
  ///   `maximumMemoryBytes`.
  public static func deriveKey(
    password: some Sequence<UInt8>, salt: some Sequence<UInt8>, costFactor: Int,
    blockSize: Int, parallelism: Int, keyByteCount: Int, maximumMemoryBytes: Int
  ) throws(CryptoParameterError) -> [UInt8] {
    let n = costFactor
    let r = blockSize
    let p = parallelism
    let memory = try requiredMemory(costFactor: n, blockSize: r, parallelism: p)
    guard keyByteCount >= 1, UInt64(keyByteCount) <= UInt64(UInt32.max) &* 32 else {
      throw CryptoParameterError(
        code: .outputLengthOutOfRange,
        message: "scrypt key length must be between 1 and (2^32 - 1) * 32 bytes.")
    }
    guard memory <= maximumMemoryBytes else {
      throw CryptoParameterError(
        code: .costLimitExceeded,
        message: "scrypt parameters need \(memory) bytes, more than the \(maximumMemoryBytes)"
          + " allowed.")
    }

    // The copy of the password and B (derived from it) are erased before they are released.
    var password = Array(password)
    defer { password.secureZero() }
    let blockBytes = 128 &* r
    var b = try PBKDF2.deriveKey(
      password: password, salt: salt, iterations: 1, keyByteCount: p &* blockBytes,
      hashFunction: SHA256.self)
    defer { b.secureZero() }

    let blockWords = 32 &* r
    let v = UnsafeMutablePointer<UInt32>.allocate(capacity: blockWords &* n)
    // X, Y (one block each) and the 16-word Salsa20/8 state.
    let scratchWords = 2 &* blockWords &+ 16
    let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: scratchWords)
    defer {
      secureZero(UnsafeMutableRawPointer(v), byteCount: blockWords &* n &* 4)
      v.deallocate()
      secureZero(UnsafeMutableRawPointer(scratch), byteCount: scratchWords &* 4)
      scratch.deallocate()
    }
    v.initialize(repeating: 0, count: blockWords &* n)
    scratch.initialize(repeating: 0, count: scratchWords)
    b.withUnsafeMutableBytes { lanes in
      guard let base = lanes.baseAddress else { return }
      for lane in 0..<p {
        let laneBytes = base + lane &* blockBytes
        loadLittleEndian(scratch, from: UnsafeRawPointer(laneBytes), count: blockWords)
        roMix(scratch, blockSize: r, costFactor: n, v: v, scratch: scratch + blockWords)
        storeLittleEndian(scratch, to: laneBytes, count: blockWords)
      }
    }
    return try PBKDF2.deriveKey(
      password: password, salt: b, iterations: 1, keyByteCount: keyByteCount,
      hashFunction: SHA256.self)
  }

  /// Validates `N`, `r` and `p` and returns the bytes a derivation allocates:
  /// 128 × r × (N + p + 2), plus 64 bytes of Salsa20/8 state.
  static func requiredMemory(
    costFactor n: Int, blockSize r: Int, parallelism p: Int
  ) throws(CryptoParameterError) -> Int {
    guard r >= 1 else {
      throw CryptoParameterError(
        code: .memoryOutOfRange, message: "scrypt block size r must be at least 1.")
    }
    guard p >= 1 else {
      throw CryptoParameterError(
        code: .parallelismOutOfRange, message: "scrypt parallelism p must be at least 1.")
    }
    // N < 2^(128 * r / 8) binds only when 16 * r is smaller than the bits of an Int.
    let limitBits = r < Int.bitWidth / 16 ? 16 &* r : Int.bitWidth
    guard n > 1, n & (n &- 1) == 0, limitBits == Int.bitWidth || n >> limitBits == 0 else {
      throw CryptoParameterError(
        code: .iterationsOutOfRange,
        message: "scrypt cost factor N must be a power of 2 greater than 1 and less than"
          + " 2^(16 * r).")
    }
    let (rp, rpOverflow) = r.multipliedReportingOverflow(by: p)
    guard !rpOverflow, rp < 1 << 30 else {
      throw CryptoParameterError(
        code: .parallelismOutOfRange, message: "scrypt r * p must be less than 2^30.")
    }
    let (blockBytes, blockOverflow) = r.multipliedReportingOverflow(by: 128)
    let (blocks, blocksOverflow) = n.addingReportingOverflow(p &+ 2)
    let (total, totalOverflow) = blockBytes.multipliedReportingOverflow(by: blocks)
    guard !blockOverflow, !blocksOverflow, !totalOverflow, total <= Int.max &- 64 else {
      throw CryptoParameterError(
        code: .memoryOutOfRange,
        message: "scrypt parameters need more memory than this platform can address.")
    }
    return total &+ 64
  }

  /// scryptROMix (RFC 7914, §5) on one block of `32 × r` words held in `x`.
  ///
  /// - Parameters:
  ///   - x: The block, as native integers; replaced by the result.
  ///   - r: The block size parameter.
  ///   - n: The cost parameter `N`, a power of 2.
  ///   - v: Space for `N` blocks.
  ///   - scratch: Space for one block and 16 words.
  static func roMix(
    _ x: UnsafeMutablePointer<UInt32>, blockSize r: Int, costFactor n: Int,
    v: UnsafeMutablePointer<UInt32>, scratch: UnsafeMutablePointer<UInt32>
  ) {
    let blockWords = 32 &* r
    let salsaState = scratch + blockWords
    var current = x
    var next = scratch
    for index in 0..<n {
      (v + index &* blockWords).update(from: current, count: blockWords)
      blockMix(current, into: next, blockSize: r, state: salsaState)
      swap(&current, &next)
    }
    let last = (2 &* r &- 1) &* 16
    let mask = n &- 1
    for _ in 0..<n {
      // Integerify: the first 64 bits of the last 64-byte block, little-endian.
      let integer = UInt64(current[last]) | UInt64(current[last &+ 1]) &<< 32
      let j = Int(truncatingIfNeeded: integer) & mask
      let vj = v + j &* blockWords
      for index in 0..<blockWords {
        current[index] ^= vj[index]
      }
      blockMix(current, into: next, blockSize: r, state: salsaState)
      swap(&current, &next)
    }
    // 2N swaps: the result is back in `x`.
  }

  /// scryptBlockMix (RFC 7914, §4): reads `2r` 64-byte blocks from `b` and writes the
  /// shuffled outputs Y0, Y2, …, Y1, Y3, … to `output` (which must not overlap `b`).
  static func blockMix(
    _ b: UnsafePointer<UInt32>, into output: UnsafeMutablePointer<UInt32>, blockSize r: Int,
    state x: UnsafeMutablePointer<UInt32>
  ) {
    x.update(from: b + (2 &* r &- 1) &* 16, count: 16)
    for index in 0..<(2 &* r) {
      let block = b + index &* 16
      for word in 0..<16 {
        x[word] ^= block[word]
      }
      salsa208(x)
      let position = (index & 1) &* r &+ (index &>> 1)
      (output + position &* 16).update(from: x, count: 16)
    }
  }

  /// The Salsa20/8 core (RFC 7914, §3), in place on 16 words.
  static func salsa208(_ block: UnsafeMutablePointer<UInt32>) {
    var x0 = block[0]
    var x1 = block[1]
    var x2 = block[2]
    var x3 = block[3]
    var x4 = block[4]
    var x5 = block[5]
    var x6 = block[6]
    var x7 = block[7]
    var x8 = block[8]
    var x9 = block[9]
    var x10 = block[10]
    var x11 = block[11]
    var x12 = block[12]
    var x13 = block[13]
    var x14 = block[14]
    var x15 = block[15]
    for _ in 0..<4 {
      // Column round.
      x4 ^= (x0 &+ x12).rotatedLeft(by: 7)
      x8 ^= (x4 &+ x0).rotatedLeft(by: 9)
      x12 ^= (x8 &+ x4).rotatedLeft(by: 13)
      x0 ^= (x12 &+ x8).rotatedLeft(by: 18)
      x9 ^= (x5 &+ x1).rotatedLeft(by: 7)
      x13 ^= (x9 &+ x5).rotatedLeft(by: 9)
      x1 ^= (x13 &+ x9).rotatedLeft(by: 13)
      x5 ^= (x1 &+ x13).rotatedLeft(by: 18)
      x14 ^= (x10 &+ x6).rotatedLeft(by: 7)
      x2 ^= (x14 &+ x10).rotatedLeft(by: 9)
      x6 ^= (x2 &+ x14).rotatedLeft(by: 13)
      x10 ^= (x6 &+ x2).rotatedLeft(by: 18)
      x3 ^= (x15 &+ x11).rotatedLeft(by: 7)
      x7 ^= (x3 &+ x15).rotatedLeft(by: 9)
      x11 ^= (x7 &+ x3).rotatedLeft(by: 13)
      x15 ^= (x11 &+ x7).rotatedLeft(by: 18)
      // Row round.
      x1 ^= (x0 &+ x3).rotatedLeft(by: 7)
      x2 ^= (x1 &+ x0).rotatedLeft(by: 9)
      x3 ^= (x2 &+ x1).rotatedLeft(by: 13)
      x0 ^= (x3 &+ x2).rotatedLeft(by: 18)
      x6 ^= (x5 &+ x4).rotatedLeft(by: 7)
      x7 ^= (x6 &+ x5).rotatedLeft(by: 9)
      x4 ^= (x7 &+ x6).rotatedLeft(by: 13)
      x5 ^= (x4 &+ x7).rotatedLeft(by: 18)
      x11 ^= (x10 &+ x9).rotatedLeft(by: 7)
      x8 ^= (x11 &+ x10).rotatedLeft(by: 9)
      x9 ^= (x8 &+ x11).rotatedLeft(by: 13)
      x10 ^= (x9 &+ x8).rotatedLeft(by: 18)
      x12 ^= (x15 &+ x14).rotatedLeft(by: 7)
      x13 ^= (x12 &+ x15).rotatedLeft(by: 9)
      x14 ^= (x13 &+ x12).rotatedLeft(by: 13)
      x15 ^= (x14 &+ x13).rotatedLeft(by: 18)
    }
    block[0] &+= x0
    block[1] &+= x1
    block[2] &+= x2
    block[3] &+= x3
    block[4] &+= x4
    block[5] &+= x5
    block[6] &+= x6
    block[7] &+= x7
    block[8] &+= x8
    block[9] &+= x9
    block[10] &+= x10
    block[11] &+= x11
    block[12] &+= x12
    block[13] &+= x13
    block[14] &+= x14
    block[15] &+= x15
  }

  /// Reads `count` little-endian words from possibly unaligned memory.
  static func loadLittleEndian(
    _ words: UnsafeMutablePointer<UInt32>, from source: UnsafeRawPointer, count: Int
  ) {
    for index in 0..<count {
      words[index] = UInt32(
        littleEndian: source.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
    }
  }

  /// Writes `count` words as little-endian bytes.
  static func storeLittleEndian(
    _ words: UnsafePointer<UInt32>, to destination: UnsafeMutableRawPointer, count: Int
  ) {
    for index in 0..<count {
      destination.storeBytes(
        of: words[index].littleEndian, toByteOffset: index &* 4, as: UInt32.self)
    }
  }
}

extension Scrypt {
  /// The Salsa20/8 core on a 64-byte block, for the RFC 7914 §8 test vector.
  ///
  /// - Parameter block: 64 bytes.
  /// - Returns: Salsa20/8(`block`), 64 bytes.
  @_spi(Testing)
  public static func salsa208Core(_ block: [UInt8]) -> [UInt8] {
    precondition(block.count == 64, "Salsa20/8 takes a 64-byte block")
    return transform(block, wordCount: 16) { words in salsa208(words) }
  }

  /// scryptBlockMix on `128 × blockSize` bytes, for the RFC 7914 §9 test vector.
  ///
  /// - Parameters:
  ///   - block: `128 × blockSize` bytes.
  ///   - blockSize: The block size parameter `r`.
  /// - Returns: scryptBlockMix(`block`).
  @_spi(Testing)
  public static func blockMix(_ block: [UInt8], blockSize: Int) -> [UInt8] {
    precondition(blockSize >= 1 && block.count == 128 * blockSize, "wrong block length")
    let blockWords = 32 * blockSize
    return transform(block, wordCount: blockWords) { words in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: blockWords + 16) { scratch in
        guard let output = scratch.baseAddress else { return }
        output.initialize(repeating: 0, count: blockWords + 16)
        blockMix(words, into: output, blockSize: blockSize, state: output + blockWords)
        words.update(from: output, count: blockWords)
      }
    }
  }

  /// scryptROMix on `128 × blockSize` bytes, for the RFC 7914 §10 test vector.
  ///
  /// - Parameters:
  ///   - block: `128 × blockSize` bytes.
  ///   - blockSize: The block size parameter `r`.
  ///   - costFactor: The cost parameter `N`, a power of 2 greater than 1.
  /// - Returns: scryptROMix(`block`, `N`).
  @_spi(Testing)
  public static func roMix(_ block: [UInt8], blockSize: Int, costFactor: Int) -> [UInt8] {
    precondition(blockSize >= 1 && block.count == 128 * blockSize, "wrong block length")
    precondition(costFactor > 1 && costFactor & (costFactor - 1) == 0, "N not a power of 2")
    let blockWords = 32 * blockSize
    var v = [UInt32](repeating: 0, count: blockWords * costFactor)
    var scratch = [UInt32](repeating: 0, count: blockWords + 16)
    return transform(block, wordCount: blockWords) { words in
      v.withUnsafeMutableBufferPointer { vBuffer in
        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
          guard let vBase = vBuffer.baseAddress, let scratchBase = scratchBuffer.baseAddress
          else { return }
          roMix(
            words, blockSize: blockSize, costFactor: costFactor, v: vBase, scratch: scratchBase)
        }
      }
    }
  }

  /// Loads `bytes` as little-endian words, runs `body` on them and returns them as bytes.
  private static func transform(
    _ bytes: [UInt8], wordCount: Int, _ body: (UnsafeMutablePointer<UInt32>) -> Void
  ) -> [UInt8] {
    var words = [UInt32](repeating: 0, count: wordCount)
    var output = bytes
    words.withUnsafeMutableBufferPointer { wordBuffer in
      output.withUnsafeMutableBytes { byteBuffer in
        guard let wordBase = wordBuffer.baseAddress, let byteBase = byteBuffer.baseAddress
        else { return }
        loadLittleEndian(wordBase, from: UnsafeRawPointer(byteBase), count: wordCount)
        body(wordBase)
        storeLittleEndian(wordBase, to: byteBase, count: wordCount)
      }
    }
    return output
  }
}
