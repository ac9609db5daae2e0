/// The BLAKE2b compression function F (RFC 7693 §3.2) on raw memory.
enum BLAKE2bCore {
  /// Compresses one 128-byte block into the chaining value.
  ///
  /// - Parameters:
  ///   - h: The eight-word chaining value, updated in place.
  ///   - block: 128 bytes of message (any alignment), read as little-endian words.
  ///   - low: The low 64 bits of the byte counter t, including this block.
  ///   - high: The high 64 bits of the byte counter t.
  ///   - isLast: Whether this is the final block (sets the finalization flag f0).
  @inline(__always)
  static func compress(
    _ h: UnsafeMutablePointer<UInt64>, _ block: UnsafeRawPointer, _ low: UInt64,
    _ high: UInt64, isLast: Bool
  ) {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 16) { scratch in
      guard let m = scratch.baseAddress else { return }
      for index in 0..<16 {
        m[index] = UInt64(
          littleEndian: block.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self))
      }
      compressWords(h, m, low, high, isLast: isLast)
      m.update(repeating: 0, count: 16)
    }
  }

  /// Compresses one block already held as sixteen native words `m`.
  static func compressWords(
    _ h: UnsafeMutablePointer<UInt64>, _ m: UnsafePointer<UInt64>, _ low: UInt64,
    _ high: UInt64, isLast: Bool
  ) {
    let iv = blake2bInitializationVector
    var v0 = h[0]
    var v1 = h[1]
    var v2 = h[2]
    var v3 = h[3]
    var v4 = h[4]
    var v5 = h[5]
    var v6 = h[6]
    var v7 = h[7]
    var v8 = iv.0
    var v9 = iv.1
    var v10 = iv.2
    var v11 = iv.3
    var v12 = iv.4 ^ low
    var v13 = iv.5 ^ high
    var v14 = isLast ? ~iv.6 : iv.6
    var v15 = iv.7
    blake2bSigma.withUnsafeBufferPointer { table in
      guard let sigma = table.baseAddress else { return }
      for round in 0..<12 {
        let s = sigma + (round % 10) &* 16
        mix(&v0, &v4, &v8, &v12, m[Int(s[0])], m[Int(s[1])])
        mix(&v1, &v5, &v9, &v13, m[Int(s[2])], m[Int(s[3])])
        mix(&v2, &v6, &v10, &v14, m[Int(s[4])], m[Int(s[5])])
        mix(&v3, &v7, &v11, &v15, m[Int(s[6])], m[Int(s[7])])
        mix(&v0, &v5, &v10, &v15, m[Int(s[8])], m[Int(s[9])])
        mix(&v1, &v6, &v11, &v12, m[Int(s[10])], m[Int(s[11])])
        mix(&v2, &v7, &v8, &v13, m[Int(s[12])], m[Int(s[13])])
        mix(&v3, &v4, &v9, &v14, m[Int(s[14])], m[Int(s[15])])
      }
    }
    h[0] ^= v0 ^ v8
    h[1] ^= v1 ^ v9
    h[2] ^= v2 ^ v10
    h[3] ^= v3 ^ v11
    h[4] ^= v4 ^ v12
    h[5] ^= v5 ^ v13
    h[6] ^= v6 ^ v14
    h[7] ^= v7 ^ v15
  }

  /// The mixing function G (RFC 7693 §3.1).
  @inline(__always)
  private static func mix(
    _ a: inout UInt64, _ b: inout UInt64, _ c: inout UInt64, _ d: inout UInt64,
    _ x: UInt64, _ y: UInt64
  ) {
    a = a &+ b &+ x
    d = (d ^ a).rotatedRight(by: 32)
    c = c &+ d
    b = (b ^ c).rotatedRight(by: 24)
    a = a &+ b &+ y
    d = (d ^ a).rotatedRight(by: 16)
    c = c &+ d
    b = (b ^ c).rotatedRight(by: 63)
  }
}

/// The message schedule SIGMA (RFC 7693 §2.7): ten permutations of the sixteen word indices.
private let blake2bSigma: [UInt8] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
  11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
  7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
  9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
  2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
  12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
  13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
  6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
  10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
]
