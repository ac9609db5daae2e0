extension UInt32 {
  /// Rotates the bits left by `count` (0 < `count` < 32).
  @inline(__always)
  func rotatedLeft(by count: UInt32) -> UInt32 {
    (self &<< count) | (self &>> (32 &- count))
  }

  /// Rotates the bits right by `count` (0 < `count` < 32).
  @inline(__always)
  func rotatedRight(by count: UInt32) -> UInt32 {
    (self &>> count) | (self &<< (32 &- count))
  }

  /// The four bytes of the value, most significant first (`INT(i)` in RFC 8018).
  var bigEndianBytes: [UInt8] {
    [
      UInt8(truncatingIfNeeded: self >> 24), UInt8(truncatingIfNeeded: self >> 16),
      UInt8(truncatingIfNeeded: self >> 8), UInt8(truncatingIfNeeded: self),
    ]
  }
}

extension UInt64 {
  /// Rotates the bits right by `count` (0 < `count` < 64).
  @inline(__always)
  func rotatedRight(by count: UInt64) -> UInt64 {
    (self &>> count) | (self &<< (64 &- count))
  }
}
