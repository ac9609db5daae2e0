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
  ///
  /// Maj(a, b, c) is computed as ((a ⊕ b) ∧ (b ⊕ c)) ⊕ b, where b ⊕ c is the previous round's
  /// a ⊕ b, carried in `bXorC`: one operation fewer per round. (Nesting the rotations of Σ0 and
  /// Σ1 would save register copies but lengthens the dependency chain; it measured slower.)
  @inline(__always)
  private static func round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32,
    _ bXorC: inout UInt32, _ constant: UInt32, _ word: UInt32
  ) {
    let bigSigma1 = e.rotatedRight(by: 6) ^ e.rotatedRight(by: 11) ^ e.rotatedRight(by: 25)
    let choice = g ^ (e & (f ^ g))
    let t1 = h &+ bigSigma1 &+ choice &+ constant &+ word
    let bigSigma0 = a.rotatedRight(by: 2) ^ a.rotatedRight(by: 13) ^ a.rotatedRight(by: 22)
    let aXorB = a ^ b
    let majority = (aXorB & bXorC) ^ b
    bXorC = aXorB
    d &+= t1
    h = t1 &+ bigSigma0 &+ majority
  }

  /// σ0 of each lane: ROTR⁷(x) ⊕ ROTR¹⁸(x) ⊕ SHR³(x).
  ///
  /// The shifts are paired so that no two halves of one rotation meet in one operation: the
  /// compiler would otherwise recognise the rotations, which SSE2 lacks, and fall back to
  /// scalar code.
  @inline(__always)
  private static func smallSigma0(_ x: SIMD4<UInt32>) -> SIMD4<UInt32> {
    ((x &>> 7) ^ (x &<< 14)) ^ ((x &>> 18) ^ (x &<< 25)) ^ (x &>> 3)
  }

  /// σ1 of each lane: ROTR¹⁷(x) ⊕ ROTR¹⁹(x) ⊕ SHR¹⁰(x), paired as in ``smallSigma0(_:)``.
  @inline(__always)
  private static func smallSigma1(_ x: SIMD4<UInt32>) -> SIMD4<UInt32> {
    ((x &>> 17) ^ (x &<< 13)) ^ ((x &>> 19) ^ (x &<< 15)) ^ (x &>> 10)
  }

  /// Computes the message schedule W16…W63 from W0…W15, four words at a time in vector
  /// registers, so that this work runs on the vector units next to the scalar rounds.
  @inline(__always)
  private static func expandSchedule(_ w: UnsafeMutablePointer<UInt32>) {
    let raw = UnsafeMutableRawPointer(w)
    var w0 = raw.loadUnaligned(fromByteOffset: 0, as: SIMD4<UInt32>.self)
    var w1 = raw.loadUnaligned(fromByteOffset: 16, as: SIMD4<UInt32>.self)
    var w2 = raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<UInt32>.self)
    var w3 = raw.loadUnaligned(fromByteOffset: 48, as: SIMD4<UInt32>.self)
    for t in stride(from: 16, to: 64, by: 4) {
      // W[t+i] = σ1(W[t+i-2]) + W[t+i-7] + σ0(W[t+i-15]) + W[t+i-16]. σ1 is applied in two
      // halves because W[t+2] and W[t+3] need W[t] and W[t+1]; σ1(0) = 0 fills the other lanes.
      let back15 = SIMD4(w0[1], w0[2], w0[3], w1[0])
      let back7 = SIMD4(w2[1], w2[2], w2[3], w3[0])
      var next = w0 &+ smallSigma0(back15) &+ back7
      next &+= smallSigma1(SIMD4(w3[2], w3[3], 0, 0))
      next &+= smallSigma1(SIMD4(0, 0, next[0], next[1]))
      raw.storeBytes(of: next, toByteOffset: t &* 4, as: SIMD4<UInt32>.self)
      w0 = w1
      w1 = w2
      w2 = w3
      w3 = next
    }
  }

  static func compress(_ state: UnsafeMutablePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>) {
    expandSchedule(w)
    var a = state[0]
    var b = state[1]
    var c = state[2]
    var d = state[3]
    var e = state[4]
    var f = state[5]
    var g = state[6]
    var h = state[7]
    var bXorC = b ^ c
    // Fully unrolled, so the round constants (FIPS 180-4, §4.2.2) are immediate operands and
    // the working variables change roles instead of moving.
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0x428a_2f98, w[0])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0x7137_4491, w[1])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0xb5c0_fbcf, w[2])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0xe9b5_dba5, w[3])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0x3956_c25b, w[4])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0x59f1_11f1, w[5])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0x923f_82a4, w[6])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0xab1c_5ed5, w[7])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0xd807_aa98, w[8])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0x1283_5b01, w[9])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0x2431_85be, w[10])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0x550c_7dc3, w[11])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0x72be_5d74, w[12])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0x80de_b1fe, w[13])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0x9bdc_06a7, w[14])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0xc19b_f174, w[15])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0xe49b_69c1, w[16])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0xefbe_4786, w[17])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0x0fc1_9dc6, w[18])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0x240c_a1cc, w[19])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0x2de9_2c6f, w[20])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0x4a74_84aa, w[21])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0x5cb0_a9dc, w[22])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0x76f9_88da, w[23])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0x983e_5152, w[24])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0xa831_c66d, w[25])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0xb003_27c8, w[26])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0xbf59_7fc7, w[27])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0xc6e0_0bf3, w[28])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0xd5a7_9147, w[29])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0x06ca_6351, w[30])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0x1429_2967, w[31])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0x27b7_0a85, w[32])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0x2e1b_2138, w[33])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0x4d2c_6dfc, w[34])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0x5338_0d13, w[35])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0x650a_7354, w[36])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0x766a_0abb, w[37])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0x81c2_c92e, w[38])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0x9272_2c85, w[39])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0xa2bf_e8a1, w[40])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0xa81a_664b, w[41])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0xc24b_8b70, w[42])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0xc76c_51a3, w[43])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0xd192_e819, w[44])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0xd699_0624, w[45])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0xf40e_3585, w[46])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0x106a_a070, w[47])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0x19a4_c116, w[48])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0x1e37_6c08, w[49])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0x2748_774c, w[50])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0x34b0_bcb5, w[51])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0x391c_0cb3, w[52])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0x4ed8_aa4a, w[53])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0x5b9c_ca4f, w[54])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0x682e_6ff3, w[55])
    round(a, b, c, &d, e, f, g, &h, &bXorC, 0x748f_82ee, w[56])
    round(h, a, b, &c, d, e, f, &g, &bXorC, 0x78a5_636f, w[57])
    round(g, h, a, &b, c, d, e, &f, &bXorC, 0x84c8_7814, w[58])
    round(f, g, h, &a, b, c, d, &e, &bXorC, 0x8cc7_0208, w[59])
    round(e, f, g, &h, a, b, c, &d, &bXorC, 0x90be_fffa, w[60])
    round(d, e, f, &g, h, a, b, &c, &bXorC, 0xa450_6ceb, w[61])
    round(c, d, e, &f, g, h, a, &b, &bXorC, 0xbef9_a3f7, w[62])
    round(b, c, d, &e, f, g, h, &a, &bXorC, 0xc671_78f2, w[63])
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
