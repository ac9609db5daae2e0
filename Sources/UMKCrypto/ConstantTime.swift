/// Comparisons whose running time does not depend on the contents of secret data.
public enum ConstantTime {
  /// Returns whether two byte collections hold the same bytes, in time that depends only on their
  /// lengths.
  ///
  /// Every byte pair is examined even after a difference has been found, so the comparison does
  /// not reveal the position of the first mismatch. Collections of different lengths compare
  /// unequal immediately: lengths are not considered secret.
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
