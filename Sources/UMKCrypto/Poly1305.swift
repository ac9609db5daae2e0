/// The Poly1305 one-time authenticator (RFC 8439, §2.5).
///
/// ```swift
/// let tag = try Poly1305.authenticate(message: message, key: oneTimeKey)  // 16 bytes
/// ```
///
/// A key must authenticate only one message: two tags under the same key let an attacker forge
/// others. ``ChaCha20Poly1305`` derives a fresh key for every (key, nonce) pair; use Poly1305 on
/// its own only with keys made the same way.
///
/// The arithmetic modulo 2^130 − 5 uses five 26-bit limbs in 64-bit words, with no branches or
/// memory accesses that depend on the key or the message.
public enum Poly1305 {
  /// The one-time key length: 32 bytes (r, then s).
  public static var keyByteCount: Int { 32 }

  /// The tag length: 16 bytes.
  public static var tagByteCount: Int { 16 }

  /// Computes the tag of `message` under a one-time key.
  ///
  /// - Parameters:
  ///   - message: The message, of any length.
  ///   - key: The 32-byte one-time key: r (clamped here) followed by s.
  /// - Returns: The 16-byte tag.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange`` if `key` is not 32 bytes.
  public static func authenticate(
    message: some Collection<UInt8>, key: [UInt8]
  ) throws(CryptoParameterError) -> [UInt8] {
    guard key.count == 32 else {
      throw CryptoParameterError(
        code: .keyLengthOutOfRange, message: "Poly1305 one-time keys are 32 bytes.")
    }
    var state = key.withUnsafeBytes { Poly1305State(key: $0) }
    defer { state.erase() }
    let handled: Void? = message.withContiguousStorageIfAvailable { buffer in
      state.absorb(UnsafeRawBufferPointer(buffer), padded: false)
    }
    if handled == nil {
      Array(message).withUnsafeBytes { state.absorb($0, padded: false) }
    }
    return state.finalize()
  }
}

/// The Poly1305 accumulator and key, as 26-bit limbs: value = Σ limb_i · 2^(26·i).
///
/// There is no partial-block buffer: ``absorb(_:padded:)`` treats the end of its input as the
/// end of a block, which is what both callers need (the plain MAC absorbs its message once; the
/// AEAD zero-pads each part to 16 bytes). The caller erases the state when done.
struct Poly1305State {
  private static let mask26: UInt64 = 0x3ff_ffff

  // The accumulator h.
  private var h0: UInt64 = 0, h1: UInt64 = 0, h2: UInt64 = 0, h3: UInt64 = 0, h4: UInt64 = 0
  // The clamped r, and 5·r for the limbs that wrap past 2^130 (2^130 ≡ 5 mod p).
  private var r0: UInt64, r1: UInt64, r2: UInt64, r3: UInt64, r4: UInt64
  private var s1: UInt64, s2: UInt64, s3: UInt64, s4: UInt64
  // The pad s, as two little-endian 64-bit halves.
  private var padLow: UInt64, padHigh: UInt64

  /// Reads a 32-byte one-time key (the caller has checked the length) and clamps r.
  init(key: UnsafeRawBufferPointer) {
    let low =
      UInt64(littleEndian: key.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
      & 0x0fff_fffc_0fff_ffff
    let high =
      UInt64(littleEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
      & 0x0fff_fffc_0fff_fffc
    r0 = low & Self.mask26
    r1 = (low &>> 26) & Self.mask26
    r2 = ((low &>> 52) | (high &<< 12)) & Self.mask26
    r3 = (high &>> 14) & Self.mask26
    r4 = high &>> 40
    s1 = r1 &* 5
    s2 = r2 &* 5
    s3 = r3 &* 5
    s4 = r4 &* 5
    padLow = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    padHigh = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
  }

  /// Absorbs `bytes` as a sequence of blocks, the last one possibly short.
  ///
  /// A short last block is zero-padded to 16 bytes and absorbed as a full block when `padded`
  /// (the AEAD's pad16), or marked by a 1 byte right after its data when not (the plain MAC).
  mutating func absorb(_ bytes: UnsafeRawBufferPointer, padded: Bool) {
    var offset = 0
    while bytes.count &- offset >= 16 {
      let low = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      let high = UInt64(
        littleEndian: bytes.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt64.self))
      absorbBlock(low: low, high: high, final: 1)
      offset &+= 16
    }
    let remaining = bytes.count &- offset
    guard remaining > 0 else { return }
    // Little-endian assembly of the short block, with the 1 byte after the data when unpadded.
    var words: (UInt64, UInt64) = (0, 0)
    for index in 0..<remaining {
      let value = UInt64(bytes[offset &+ index]) &<< UInt64(8 &* (index & 7))
      if index < 8 { words.0 |= value } else { words.1 |= value }
    }
    if padded {
      absorbBlock(low: words.0, high: words.1, final: 1)
    } else {
      let one = UInt64(1) &<< UInt64(8 &* (remaining & 7))
      if remaining < 8 { words.0 |= one } else { words.1 |= one }
      absorbBlock(low: words.0, high: words.1, final: 0)
    }
  }

  /// h = (h + block + final · 2^128) · r mod p, with h left partially reduced (each limb at most
  /// a little over 26 bits).
  @inline(__always)
  private mutating func absorbBlock(low: UInt64, high: UInt64, final: UInt64) {
    let mask = Self.mask26
    // Limbs below 2^27 + 2 after this; products below 2^27 · 5 · 2^26, five of them sum below
    // 2^58, so nothing overflows 64 bits.
    let a0 = h0 &+ (low & mask)
    let a1 = h1 &+ ((low &>> 26) & mask)
    let a2 = h2 &+ (((low &>> 52) | (high &<< 12)) & mask)
    let a3 = h3 &+ ((high &>> 14) & mask)
    let a4 = h4 &+ ((high &>> 40) | (final &<< 24))

    var d0 = a0 &* r0 &+ a1 &* s4 &+ a2 &* s3 &+ a3 &* s2 &+ a4 &* s1
    var d1 = a0 &* r1 &+ a1 &* r0 &+ a2 &* s4 &+ a3 &* s3 &+ a4 &* s2
    var d2 = a0 &* r2 &+ a1 &* r1 &+ a2 &* r0 &+ a3 &* s4 &+ a4 &* s3
    var d3 = a0 &* r3 &+ a1 &* r2 &+ a2 &* r1 &+ a3 &* r0 &+ a4 &* s4
    var d4 = a0 &* r4 &+ a1 &* r3 &+ a2 &* r2 &+ a3 &* r1 &+ a4 &* r0

    // Carry upwards; the carry out of the top limb re-enters at the bottom times 5.
    d1 &+= d0 &>> 26
    d0 &= mask
    d2 &+= d1 &>> 26
    d1 &= mask
    d3 &+= d2 &>> 26
    d2 &= mask
    d4 &+= d3 &>> 26
    d3 &= mask
    d0 &+= (d4 &>> 26) &* 5
    d4 &= mask
    d1 &+= d0 &>> 26
    d0 &= mask

    h0 = d0
    h1 = d1
    h2 = d2
    h3 = d3
    h4 = d4
  }

  /// Fully reduces h modulo p, adds s and returns the low 128 bits, little-endian.
  func finalize() -> [UInt8] {
    let mask = Self.mask26
    var h0 = self.h0
    var h1 = self.h1
    var h2 = self.h2
    var h3 = self.h3
    var h4 = self.h4
    // The first full carry pass leaves h below 2^130 + 2^52; the second folds any excess above
    // 2^130 back in (times 5), so h < 2^130. The last partial pass normalizes h1, which the
    // carry out of h0 may have pushed to 2^26. Then every limb is below 2^26.
    for _ in 0..<2 {
      h2 &+= h1 &>> 26
      h1 &= mask
      h3 &+= h2 &>> 26
      h2 &= mask
      h4 &+= h3 &>> 26
      h3 &= mask
      h0 &+= (h4 &>> 26) &* 5
      h4 &= mask
      h1 &+= h0 &>> 26
      h0 &= mask
    }
    h2 &+= h1 &>> 26
    h1 &= mask
    h3 &+= h2 &>> 26
    h2 &= mask
    h4 &+= h3 &>> 26
    h3 &= mask

    // g = h + 5 − 2^130 = h − p; keep it if it did not go negative, without branching.
    var g0 = h0 &+ 5
    var g1 = h1 &+ (g0 &>> 26)
    g0 &= mask
    var g2 = h2 &+ (g1 &>> 26)
    g1 &= mask
    var g3 = h3 &+ (g2 &>> 26)
    g2 &= mask
    var g4 = h4 &+ (g3 &>> 26) &- (1 &<< 26)
    g3 &= mask
    // All ones when g4 is non-negative (h ≥ p), zero otherwise.
    let useG = (g4 &>> 63) &- 1
    g4 &= mask
    h0 = (h0 & ~useG) | (g0 & useG)
    h1 = (h1 & ~useG) | (g1 & useG)
    h2 = (h2 & ~useG) | (g2 & useG)
    h3 = (h3 & ~useG) | (g3 & useG)
    h4 = (h4 & ~useG) | (g4 & useG)

    // h mod 2^128 as two 64-bit halves, then + s mod 2^128.
    let low = h0 | (h1 &<< 26) | (h2 &<< 52)
    let high = (h2 &>> 12) | (h3 &<< 14) | (h4 &<< 40)
    let (sumLow, carry) = low.addingReportingOverflow(padLow)
    let sumHigh = high &+ padHigh &+ (carry ? 1 : 0)
    var tag = [UInt8](repeating: 0, count: 16)
    tag.withUnsafeMutableBytes { bytes in
      bytes.storeBytes(of: sumLow.littleEndian, toByteOffset: 0, as: UInt64.self)
      bytes.storeBytes(of: sumHigh.littleEndian, toByteOffset: 8, as: UInt64.self)
    }
    return tag
  }

  /// Overwrites the key and the accumulator with zeros.
  mutating func erase() {
    withUnsafeMutableBytes(of: &self) { bytes in
      if let base = bytes.baseAddress { secureZero(base, byteCount: bytes.count) }
    }
  }
}
