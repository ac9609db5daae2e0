extension Insecure {
  /// The 20-byte digest produced by ``Insecure/SHA1``.
  ///
  /// Compares in constant time, and its `description` shows only the type and length, never the
  /// bytes (digests can be password hashes). Read ``bytes`` to get the value.
  public struct SHA1Digest: HashDigest {
    /// Every SHA1Digest holds exactly 20 bytes.
    public static var byteCount: Int { 20 }

    /// The digest bytes.
    public let bytes: [UInt8]

    /// Creates a digest from bytes previously obtained from ``bytes``, or returns `nil` if
    /// there are not exactly 20 of them.
    ///
    /// - Parameter bytes: The digest bytes.
    public init?(bytes: some Sequence<UInt8>) {
      let array = Array(bytes)
      guard array.count == Self.byteCount else { return nil }
      self.bytes = array
    }

    init(uncheckedBytes: [UInt8]) {
      self.bytes = uncheckedBytes
    }

    /// Returns an iterator over the digest bytes.
    ///
    /// - Returns: An iterator over ``bytes``.
    public func makeIterator() -> IndexingIterator<[UInt8]> {
      bytes.makeIterator()
    }

    /// The number of bytes, 20.
    public var underestimatedCount: Int { bytes.count }

    /// Compares two digests in constant time.
    ///
    /// - Parameters:
    ///   - lhs: A digest.
    ///   - rhs: Another digest.
    /// - Returns: `true` if both digests hold the same bytes.
    public static func == (lhs: Self, rhs: Self) -> Bool {
      ConstantTime.equals(lhs.bytes, rhs.bytes)
    }

    /// Feeds the digest bytes into `hasher`.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
      hasher.combine(bytes)
    }

    /// The type name and length, for example `SHA1Digest(20 bytes)`; never the bytes.
    public var description: String { "SHA1Digest(20 bytes)" }
  }
}

extension Insecure.SHA1Digest: CustomReflectable {
  /// A mirror without children, so `dump` and debuggers do not reveal the bytes.
  public var customMirror: Mirror { Mirror(self, children: [:]) }
}
