/// The BLAKE2b hash function (RFC 7693), unkeyed or keyed, with a digest of 1 to 64 bytes.
///
/// ```swift
/// var hasher = try BLAKE2b(digestByteCount: 32)
/// hasher.update("hello ".utf8)
/// hasher.update("world".utf8)
/// let digest = hasher.finalize()  // 32 bytes
///
/// let mac = try BLAKE2b.hash("message".utf8, digestByteCount: 32, key: key)  // keyed (a MAC)
/// ```
///
/// A value type with inline storage (no heap allocation): copying a hasher forks its state.
///
/// `BLAKE2b` does not conform to ``HashFunction``: that protocol fixes the digest size per type
/// (`digestByteCount` is static, `init()` takes no arguments and the ``HashDigest`` type has a
/// static `byteCount`), whereas the digest length and the key are per-instance parameters of
/// BLAKE2b that change the output (the length is mixed into the initial state). HMAC over BLAKE2b
/// is also unnecessary, since keyed BLAKE2b is itself a MAC. Digests are therefore plain byte
/// arrays.
public struct BLAKE2b: Sendable {
  /// BLAKE2b processes 128-byte blocks.
  public static var blockByteCount: Int { 128 }

  /// The largest digest length, 64 bytes.
  public static var maximumDigestByteCount: Int { 64 }

  /// The largest key length, 64 bytes.
  public static var maximumKeyByteCount: Int { 64 }

  /// The number of bytes ``finalize()`` returns.
  public let digestByteCount: Int

  /// The chaining value h[0…7].
  private var state: BLAKE2bWords8
  /// A buffered block that has not been compressed yet (the last block must be compressed with
  /// the final flag, so a full block is only compressed once more input arrives).
  private var pending: BLAKE2bWords16 = blake2bZeroBlock
  /// How many bytes of `pending` are in use (0…128).
  private var pendingByteCount = 0
  /// The number of bytes compressed so far, low and high 64 bits (the counter t).
  private var byteCountLow: UInt64 = 0
  private var byteCountHigh: UInt64 = 0

  /// Creates a hasher for a digest of `digestByteCount` bytes, optionally keyed.
  ///
  /// - Parameters:
  ///   - digestByteCount: The digest length `nn` in bytes, 1 through 64 (default 64).
  ///   - key: The key, 0 through 64 bytes; empty (the default) means unkeyed hashing.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/outputLengthOutOfRange`` if `digestByteCount` is out of range,
  ///   or ``CryptoParameterError/Code/keyLengthOutOfRange`` if the key is longer than 64 bytes.
  public init(digestByteCount: Int = 64, key: some Sequence<UInt8> = [UInt8]())
    throws(CryptoParameterError)
  {
    guard digestByteCount >= 1, digestByteCount <= Self.maximumDigestByteCount else {
      throw CryptoParameterError(
        code: .outputLengthOutOfRange, message: "BLAKE2b digest length must be 1 through 64 bytes.")
    }
    let keyBytes = Array(key)
    guard keyBytes.count <= Self.maximumKeyByteCount else {
      throw CryptoParameterError(
        code: .keyLengthOutOfRange, message: "BLAKE2b key length must be 0 through 64 bytes.")
    }
    self.init(uncheckedDigestByteCount: digestByteCount, keyByteCount: keyBytes.count)
    if !keyBytes.isEmpty {
      // The key, zero-padded to a full block, is the first block of the message (RFC 7693 §3.3).
      withUnsafeMutableBytes(of: &pending) { block in
        block.copyBytes(from: keyBytes)
      }
      pendingByteCount = Self.blockByteCount
    }
  }

  /// Creates an unkeyed hasher without validating the digest length (1…64 is the caller's duty).
  init(uncheckedDigestByteCount digestByteCount: Int, keyByteCount: Int = 0) {
    self.digestByteCount = digestByteCount
    var initial = blake2bInitializationVector
    // Parameter block word 0: digest length, key length, fanout 1, depth 1 (RFC 7693 §2.5).
    initial.0 ^= 0x0101_0000 ^ (UInt64(keyByteCount) &<< 8) ^ UInt64(digestByteCount)
    self.state = initial
  }

  /// Absorbs the given bytes into the hash state.
  ///
  /// - Parameter bytes: The bytes to absorb. The buffer is only read during the call.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard var source = bytes.baseAddress, !bytes.isEmpty else { return }
    var remaining = bytes.count
    let blockSize = Self.blockByteCount
    var chaining = state
    var buffer = pending
    var buffered = pendingByteCount
    var low = byteCountLow
    var high = byteCountHigh
    withUnsafeMutablePointer(to: &chaining) { tuple in
      tuple.withMemoryRebound(to: UInt64.self, capacity: 8) { h in
        withUnsafeMutableBytes(of: &buffer) { block in
          guard let blockBase = block.baseAddress else { return }
          // Top up the pending block; compress it only when more input follows.
          if buffered < blockSize {
            let take = min(blockSize &- buffered, remaining)
            (blockBase + buffered).copyMemory(from: source, byteCount: take)
            buffered &+= take
            source += take
            remaining &-= take
          }
          guard remaining > 0 else { return }
          blake2bAdvance(&low, &high, by: UInt64(blockSize))
          BLAKE2bCore.compress(h, blockBase, low, high, isLast: false)
          // Whole blocks straight from the input, keeping the last (possibly full) one pending.
          while remaining > blockSize {
            blake2bAdvance(&low, &high, by: UInt64(blockSize))
            BLAKE2bCore.compress(h, UnsafeRawPointer(source), low, high, isLast: false)
            source += blockSize
            remaining &-= blockSize
          }
          blockBase.copyMemory(from: source, byteCount: remaining)
          buffered = remaining
        }
      }
    }
    state = chaining
    pending = buffer
    pendingByteCount = buffered
    byteCountLow = low
    byteCountHigh = high
  }

  /// Absorbs the given bytes into the hash state.
  ///
  /// Contiguous collections are hashed in place; other sequences are first copied into a
  /// temporary array.
  ///
  /// - Parameter bytes: The bytes to absorb.
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
      self.update(UnsafeRawBufferPointer(buffer))
    }
    if handled == nil {
      Array(bytes).withUnsafeBytes { self.update($0) }
    }
  }

  /// Computes the digest of all bytes absorbed so far.
  ///
  /// - Returns: The digest, ``digestByteCount`` bytes long. The hasher is left unchanged.
  public func finalize() -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: digestByteCount) { output, initialized in
      guard let base = output.baseAddress else { return }
      finalize(into: UnsafeMutableRawPointer(base))
      initialized = digestByteCount
    }
  }

  /// Writes the digest of all bytes absorbed so far to `destination` (``digestByteCount``
  /// bytes); the hasher is left unchanged.
  func finalize(into destination: UnsafeMutableRawPointer) {
    var chaining = state
    var buffer = pending
    var low = byteCountLow
    var high = byteCountHigh
    let buffered = pendingByteCount
    blake2bAdvance(&low, &high, by: UInt64(buffered))
    withUnsafeMutablePointer(to: &chaining) { tuple in
      tuple.withMemoryRebound(to: UInt64.self, capacity: 8) { h in
        withUnsafeMutableBytes(of: &buffer) { block in
          guard let blockBase = block.baseAddress else { return }
          // Zero padding of the final block.
          (blockBase + buffered).initializeMemory(
            as: UInt8.self, repeating: 0, count: Self.blockByteCount &- buffered)
          BLAKE2bCore.compress(h, blockBase, low, high, isLast: true)
        }
        var word = 0
        var offset = 0
        while offset < digestByteCount {
          let value = h[word]
          let count = min(8, digestByteCount &- offset)
          for byte in 0..<count {
            destination.storeBytes(
              of: UInt8(truncatingIfNeeded: value &>> UInt64(byte &* 8)),
              toByteOffset: offset &+ byte, as: UInt8.self)
          }
          offset &+= count
          word &+= 1
        }
      }
    }
  }

  /// Computes the digest of a complete message in one call.
  ///
  /// - Parameters:
  ///   - bytes: The message to hash.
  ///   - digestByteCount: The digest length in bytes, 1 through 64 (default 64).
  ///   - key: The key, 0 through 64 bytes; empty (the default) means unkeyed hashing.
  /// - Returns: The digest, `digestByteCount` bytes long.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/outputLengthOutOfRange`` or
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange`` if a parameter is out of range.
  public static func hash(
    _ bytes: some Sequence<UInt8>, digestByteCount: Int = 64, key: some Sequence<UInt8> = [UInt8]()
  ) throws(CryptoParameterError) -> [UInt8] {
    var hasher = try BLAKE2b(digestByteCount: digestByteCount, key: key)
    hasher.update(bytes)
    return hasher.finalize()
  }
}

/// Adds `count` to the 128-bit byte counter (low, high).
@inline(__always)
private func blake2bAdvance(_ low: inout UInt64, _ high: inout UInt64, by count: UInt64) {
  let (sum, overflow) = low.addingReportingOverflow(count)
  low = sum
  if overflow { high &+= 1 }
}

/// Eight 64-bit words (the BLAKE2b chaining value).
typealias BLAKE2bWords8 = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

/// Sixteen 64-bit words (one 128-byte BLAKE2b block).
typealias BLAKE2bWords16 = (
  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
)

private let blake2bZeroBlock: BLAKE2bWords16 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

/// The BLAKE2b initialization vector (RFC 7693 §2.6; the SHA-512 initial hash value).
let blake2bInitializationVector: BLAKE2bWords8 = (
  0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
  0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179
)
