/// The 64-byte digest produced by ``SHA512``.
///
/// Compares in constant time, and its `description` shows only the type and length, never the
/// bytes (digests can be password hashes). Read ``bytes`` to get the value.
public struct SHA512Digest: HashDigest {
  /// Every SHA512Digest holds exactly 64 bytes.
  public static var byteCount: Int { 64 }

  /// The digest bytes.
  public let bytes: [UInt8]

  /// Creates a digest from bytes previously obtained from ``bytes``, or returns `nil` if
  /// there are not exactly 64 of them.
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

  /// The type name and length, for example `SHA512Digest(64 bytes)`; never the bytes.
  public var description: String { "SHA512Digest(64 bytes)" }
}
