/// The 48-byte digest produced by ``SHA384``.
///
/// Compares in constant time, and its `description` shows only the type and length, never the
/// bytes (digests can be password hashes). Read ``bytes`` to get the value.
public struct SHA384Digest: HashDigest {
  /// Every SHA384Digest holds exactly 48 bytes.
  public static var byteCount: Int { 48 }

  /// The digest bytes.
  public let bytes: [UInt8]

  /// Creates a digest from bytes previously obtained from ``bytes``, or returns `nil` if
  /// there are not exactly 48 of them.
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

  /// The type name and length, for example `SHA384Digest(48 bytes)`; never the bytes.
  public var description: String { "SHA384Digest(48 bytes)" }
}
