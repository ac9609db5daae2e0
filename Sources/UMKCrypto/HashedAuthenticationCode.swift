/// A message authentication code produced by ``HMAC``.
///
/// Compares in constant time, and its `description` shows only the algorithm and length, never
/// the bytes. Read ``bytes`` to get the value.
public struct HashedAuthenticationCode<H: HashFunction>: HashDigest {
  /// Every code holds exactly `H.digestByteCount` bytes.
  public static var byteCount: Int { H.digestByteCount }

  /// The authentication code bytes.
  public let bytes: [UInt8]

  init(uncheckedBytes: [UInt8]) {
    self.bytes = uncheckedBytes
  }

  /// Returns an iterator over the code bytes.
  ///
  /// - Returns: An iterator over ``bytes``.
  public func makeIterator() -> IndexingIterator<[UInt8]> {
    bytes.makeIterator()
  }

  /// The number of bytes.
  public var underestimatedCount: Int { bytes.count }

  /// Compares two codes in constant time.
  ///
  /// - Parameters:
  ///   - lhs: A code.
  ///   - rhs: Another code.
  /// - Returns: `true` if both codes hold the same bytes.
  public static func == (lhs: Self, rhs: Self) -> Bool {
    ConstantTime.equals(lhs.bytes, rhs.bytes)
  }

  /// Feeds the code bytes into `hasher`.
  ///
  /// - Parameter hasher: The hasher to feed.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(bytes)
  }

  /// The algorithm and length, for example `HMAC<SHA256>(32 bytes)`; never the bytes.
  public var description: String { "HMAC<\(H.self)>(\(bytes.count) bytes)" }
}

extension HashedAuthenticationCode: CustomReflectable {
  /// A mirror without children, so `dump` and debuggers do not reveal the bytes.
  public var customMirror: Mirror { Mirror(self, children: [:]) }
}
