extension Insecure {
  /// The 16-byte digest produced by ``Insecure/MD5``.
  ///
  /// Compares in constant time, and its `description` shows only the type and length, never the
  /// bytes (digests can be password hashes). Read ``bytes`` to get the value.
  public struct MD5Digest: HashDigest {
    /// Every MD5Digest holds exactly 16 bytes.
    public static var byteCount: Int { 16 }

    /// The digest bytes.
    public let bytes: [UInt8]

    /// Creates a digest from bytes previously obtained from ``bytes``, or returns `nil` if
    /// there are not exactly 16 of them.
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

    /// The type name and length, for example `MD5Digest(16 bytes)`; never the bytes.
    public var description: String { "MD5Digest(16 bytes)" }
  }
}
