extension Insecure {
  /// The SHA-1 hash function (FIPS 180-4, §6.1). **Broken: collisions are practical.**
  ///
  /// Provided only so that legacy PBKDF2-HMAC-SHA1 password hashes can be verified (and then
  /// upgraded). Do not use it to create new hashes, MACs or signatures.
  public struct SHA1: HashFunction {
    /// The digest type: 20 bytes.
    public typealias Digest = SHA1Digest

    /// SHA-1 processes 64-byte blocks.
    public static var blockByteCount: Int { 64 }

    /// SHA-1 produces 20-byte digests.
    public static var digestByteCount: Int { 20 }

    private var engine = MerkleDamgardEngine<SHA1>()

    /// Creates a hasher in its initial state.
    public init() {}

    /// Absorbs the given bytes into the hash state.
    ///
    /// - Parameter bytes: The bytes to absorb.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
      engine.update(bytes)
    }

    /// Computes the digest of all bytes absorbed so far.
    ///
    /// - Returns: The 20-byte digest. The hasher is left unchanged.
    public func finalize() -> SHA1Digest {
      SHA1Digest(uncheckedBytes: engine.finalize())
    }
  }
}

extension Insecure.SHA1: MerkleDamgardHash {
  typealias Word = UInt32

  static var initialState: StateWords<UInt32> {
    (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0, 0, 0, 0)
  }

  static var digestWordCount: Int { 5 }

  static var scheduleWordCount: Int { 80 }

  static func compress(_ state: UnsafeMutablePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>) {
    for t in 16..<80 {
      w[t] = (w[t &- 3] ^ w[t &- 8] ^ w[t &- 14] ^ w[t &- 16]).rotatedLeft(by: 1)
    }
    var a = state[0]
    var b = state[1]
    var c = state[2]
    var d = state[3]
    var e = state[4]
    for t in 0..<80 {
      let mixed: UInt32
      let constant: UInt32
      switch t {
      case 0..<20:
        mixed = (b & c) | (~b & d)
        constant = 0x5a82_7999
      case 20..<40:
        mixed = b ^ c ^ d
        constant = 0x6ed9_eba1
      case 40..<60:
        mixed = (b & c) | (b & d) | (c & d)
        constant = 0x8f1b_bcdc
      default:
        mixed = b ^ c ^ d
        constant = 0xca62_c1d6
      }
      let temp = a.rotatedLeft(by: 5) &+ mixed &+ e &+ constant &+ w[t]
      e = d
      d = c
      c = b.rotatedLeft(by: 30)
      b = a
      a = temp
    }
    state[0] &+= a
    state[1] &+= b
    state[2] &+= c
    state[3] &+= d
    state[4] &+= e
  }
}
