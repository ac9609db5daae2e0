/// Comparisons whose running time does not depend on the contents of secret data.
public enum ConstantTime {
  /// Returns whether two byte buffers hold the same bytes, in time that depends only on their
  /// lengths.
  ///
  /// Every byte pair is examined even after a difference has been found, so the comparison does
  /// not reveal the position of the first mismatch. Collections of different lengths compare
  /// unequal immediately: lengths are not considered secret.
  ///
  /// - Parameters:
  ///   - lhs: The first buffer.
  ///   - rhs: The second buffer.
  /// - Returns: `true` if both buffers have the same length and the same bytes.
  public static func equals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<lhs.count {
      difference |= lhs[index] ^ rhs[index]
    }
    return difference == 0
  }

  /// Returns whether two byte arrays hold the same bytes, in time that depends only on their
  /// lengths: ``equals(_:_:)-(UnsafeRawBufferPointer,UnsafeRawBufferPointer)`` for arrays, so
  /// callers in other modules do not run the generic version unspecialized.
  ///
  /// - Parameters:
  ///   - lhs: The first array.
  ///   - rhs: The second array.
  /// - Returns: `true` if both arrays have the same length and the same bytes.
  public static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in equals(left, right) } }
  }

  /// Returns whether two byte collections hold the same bytes, in time that depends only on their
  /// lengths (the generic form of the overloads for buffers and arrays).
  ///
  /// - Parameters:
  ///   - lhs: The first byte collection.
  ///   - rhs: The second byte collection.
  /// - Returns: `true` if both collections have the same length and the same bytes.
  public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) {
      difference |= left ^ right
    }
    return difference == 0
  }
}
