/// The SHA-256 hash function (FIPS 180-4, §6.2).
///
/// A value type: copying a hasher forks its state.
public struct SHA256: HashFunction {
  /// The digest type: 32 bytes.
  public typealias Digest = SHA256Digest

  /// SHA-256 processes 64-byte blocks.
  public static var blockByteCount: Int { 64 }

  /// SHA-256 produces 32-byte digests.
  public static var digestByteCount: Int { 32 }

  private var engine = MerkleDamgardEngine<SHA256>()

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
  /// - Returns: The 32-byte digest. The hasher is left unchanged.
  public func finalize() -> SHA256Digest {
    SHA256Digest(uncheckedBytes: engine.finalize())
  }
}

extension SHA256: MerkleDamgardHash {
  typealias Word = UInt32

  static var initialState: StateWords<UInt32> {
    (
      0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
      0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
  }

  static var digestWordCount: Int { 8 }

  static var scheduleWordCount: Int { 64 }

  /// One SHA-256 round (FIPS 180-4, §6.2.2 step 3) with the variables renamed by the caller:
  /// `d` becomes the new `e` and `h` the new `a`.
  @inline(__always)
  private static func round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ constantPlusWord: UInt32
  ) {
    let bigSigma1 = e.rotatedRight(by: 6) ^ e.rotatedRight(by: 11) ^ e.rotatedRight(by: 25)
    let choice = g ^ (e & (f ^ g))
    let t1 = h &+ bigSigma1 &+ choice &+ constantPlusWord
    let bigSigma0 = a.rotatedRight(by: 2) ^ a.rotatedRight(by: 13) ^ a.rotatedRight(by: 22)
    let majority = (a & b) ^ (c & (a ^ b))
    d &+= t1
    h = t1 &+ bigSigma0 &+ majority
  }

  static func compress(_ state: UnsafeMutablePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>) {
    for t in 16..<64 {
      let x = w[t &- 15]
      let y = w[t &- 2]
      let sigma0 = x.rotatedRight(by: 7) ^ x.rotatedRight(by: 18) ^ (x &>> 3)
      let sigma1 = y.rotatedRight(by: 17) ^ y.rotatedRight(by: 19) ^ (y &>> 10)
      w[t] = w[t &- 16] &+ sigma0 &+ w[t &- 7] &+ sigma1
    }
    var a = state[0]
    var b = state[1]
    var c = state[2]
    var d = state[3]
    var e = state[4]
    var f = state[5]
    var g = state[6]
    var h = state[7]
    sha256RoundConstants.withUnsafeBufferPointer { k in
      // Eight rounds per pass, rotating the roles of the working variables instead of moving
      // their values.
      for t in stride(from: 0, to: 64, by: 8) {
        round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
        round(h, a, b, &c, d, e, f, &g, k[t &+ 1] &+ w[t &+ 1])
        round(g, h, a, &b, c, d, e, &f, k[t &+ 2] &+ w[t &+ 2])
        round(f, g, h, &a, b, c, d, &e, k[t &+ 3] &+ w[t &+ 3])
        round(e, f, g, &h, a, b, c, &d, k[t &+ 4] &+ w[t &+ 4])
        round(d, e, f, &g, h, a, b, &c, k[t &+ 5] &+ w[t &+ 5])
        round(c, d, e, &f, g, h, a, &b, k[t &+ 6] &+ w[t &+ 6])
        round(b, c, d, &e, f, g, h, &a, k[t &+ 7] &+ w[t &+ 7])
      }
    }
    state[0] &+= a
    state[1] &+= b
    state[2] &+= c
    state[3] &+= d
    state[4] &+= e
    state[5] &+= f
    state[6] &+= g
    state[7] &+= h
  }
}

/// The SHA-256 round constants K0…K63 (FIPS 180-4, §4.2.2).
private let sha256RoundConstants: [UInt32] = [
  0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
  0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
  0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
  0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
  0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
  0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
  0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
  0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
  0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
  0xc671_78f2,
]
