extension Insecure {
  /// The MD5 hash function (RFC 1321). **Broken: collisions take seconds to find.**
  ///
  /// Provided only so that legacy password hashes built on it (phpass as used by WordPress and
  /// phpBB, MD5-crypt `$1$`) can be verified and then upgraded. Do not use it to create new
  /// hashes, MACs or signatures.
  public struct MD5: HashFunction {
    /// The digest type: 16 bytes.
    public typealias Digest = MD5Digest

    /// MD5 processes 64-byte blocks.
    public static var blockByteCount: Int { 64 }

    /// MD5 produces 16-byte digests.
    public static var digestByteCount: Int { 16 }

    /// The chaining value A, B, C, D (RFC 1321, §3.3).
    private var state: (UInt32, UInt32, UInt32, UInt32) = (
      0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476
    )
    /// Raw storage for a partially filled block.
    private var pending: BlockWords<UInt32> = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// How many bytes of `pending` are in use (always less than one block).
    private var pendingByteCount = 0
    /// Total number of message bytes absorbed, modulo 2^64.
    private var totalByteCount: UInt64 = 0

    /// Creates a hasher in its initial state.
    public init() {}

    /// Absorbs the given bytes into the hash state.
    ///
    /// - Parameter bytes: The bytes to absorb.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
      guard var source = bytes.baseAddress, !bytes.isEmpty else { return }
      var remaining = bytes.count
      totalByteCount &+= UInt64(truncatingIfNeeded: remaining)
      var chaining = state
      var buffer = pending
      var buffered = pendingByteCount
      withUnsafeMutableBytes(of: &buffer) { block in
        guard let blockBase = block.baseAddress else { return }
        if buffered > 0 {
          let take = min(64 &- buffered, remaining)
          (blockBase + buffered).copyMemory(from: source, byteCount: take)
          buffered &+= take
          source += take
          remaining &-= take
          if buffered == 64 {
            Self.compress(&chaining, UnsafeRawPointer(blockBase))
            buffered = 0
          }
        }
        while remaining >= 64 {
          Self.compress(&chaining, source)
          source += 64
          remaining &-= 64
        }
        if remaining > 0 {
          blockBase.copyMemory(from: source, byteCount: remaining)
          buffered = remaining
        }
      }
      state = chaining
      pending = buffer
      pendingByteCount = buffered
    }

    /// Computes the digest of all bytes absorbed so far.
    ///
    /// - Returns: The 16-byte digest. The hasher is left unchanged.
    public func finalize() -> MD5Digest {
      // Padding (RFC 1321, §3.1–3.2): 0x80, zeros up to 56 mod 64, then the bit length as a
      // little-endian 64-bit integer.
      var hasher = self
      let zeroCount = (119 &- pendingByteCount) % 64
      let bitCount = totalByteCount &<< 3
      var trailer = [UInt8](repeating: 0, count: 1 &+ zeroCount &+ 8)
      trailer[0] = 0x80
      for index in 0..<8 {
        trailer[1 &+ zeroCount &+ index] = UInt8(truncatingIfNeeded: bitCount &>> (8 &* index))
      }
      trailer.withUnsafeBytes { hasher.update($0) }
      let words = [hasher.state.0, hasher.state.1, hasher.state.2, hasher.state.3]
      var digest: [UInt8] = []
      digest.reserveCapacity(16)
      for word in words {
        for shift in stride(from: 0, to: 32, by: 8) {
          digest.append(UInt8(truncatingIfNeeded: word &>> shift))
        }
      }
      return MD5Digest(uncheckedBytes: digest)
    }

    /// Compresses one 64-byte block (RFC 1321, §3.4) into `state`.
    private static func compress(
      _ state: inout (UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawPointer
    ) {
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { buffer in
        guard let m = buffer.baseAddress else { return }
        for index in 0..<16 {
          m[index] = UInt32(
            littleEndian: block.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
        }
        var a = state.0
        var b = state.1
        var c = state.2
        var d = state.3
        md5RoundConstants.withUnsafeBufferPointer { k in
          for step in 0..<64 {
            let mixed: UInt32
            let wordIndex: Int
            let shift: UInt32
            switch step {
            case 0..<16:
              mixed = d ^ (b & (c ^ d))  // F(b, c, d) = (b ∧ c) ∨ (¬b ∧ d)
              wordIndex = step
              shift = md5Shifts.0[step & 3]
            case 16..<32:
              mixed = c ^ (d & (b ^ c))  // G(b, c, d) = (b ∧ d) ∨ (c ∧ ¬d)
              wordIndex = (5 &* step &+ 1) & 15
              shift = md5Shifts.1[step & 3]
            case 32..<48:
              mixed = b ^ c ^ d  // H
              wordIndex = (3 &* step &+ 5) & 15
              shift = md5Shifts.2[step & 3]
            default:
              mixed = c ^ (b | ~d)  // I
              wordIndex = (7 &* step) & 15
              shift = md5Shifts.3[step & 3]
            }
            let sum = a &+ mixed &+ k[step] &+ m[wordIndex]
            a = d
            d = c
            c = b
            b = b &+ sum.rotatedLeft(by: shift)
          }
        }
        state.0 &+= a
        state.1 &+= b
        state.2 &+= c
        state.3 &+= d
        m.initialize(repeating: 0, count: 16)
      }
    }
  }
}

/// The per-round rotation amounts of MD5 (RFC 1321, §3.4), four per round.
private let md5Shifts: ([UInt32], [UInt32], [UInt32], [UInt32]) = (
  [7, 12, 17, 22], [5, 9, 14, 20], [4, 11, 16, 23], [6, 10, 15, 21]
)

/// The MD5 sine table T[1…64]: the integer part of 2^32 × |sin(i)| (RFC 1321, §3.4).
private let md5RoundConstants: [UInt32] = [
  0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee,
  0xf57c_0faf, 0x4787_c62a, 0xa830_4613, 0xfd46_9501,
  0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be,
  0x6b90_1122, 0xfd98_7193, 0xa679_438e, 0x49b4_0821,
  0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa,
  0xd62f_105d, 0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8,
  0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed,
  0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a,
  0xfffa_3942, 0x8771_f681, 0x6d9d_6122, 0xfde5_380c,
  0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70,
  0x289b_7ec6, 0xeaa1_27fa, 0xd4ef_3085, 0x0488_1d05,
  0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665,
  0xf429_2244, 0x432a_ff97, 0xab94_23a7, 0xfc93_a039,
  0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
  0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1,
  0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb, 0xeb86_d391,
]
