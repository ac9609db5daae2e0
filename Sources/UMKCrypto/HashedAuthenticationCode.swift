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

  /// The algorithm and length, for example `HMAC<SHA256>(32 bytes)`; never the bytes.
  public var description: String { "HMAC<\(H.self)>(\(bytes.count) bytes)" }
}
