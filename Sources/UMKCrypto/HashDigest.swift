/// The output of a ``HashFunction`` or of ``HMAC``.
///
/// Digests may be secrets (for example a derived password hash), so conforming types compare in
/// constant time and their `description` never reveals the bytes. Use ``bytes`` to read them
/// explicitly.
public protocol HashDigest: Sequence<UInt8>, Hashable, Sendable, CustomStringConvertible,
  CustomDebugStringConvertible
{
  /// The number of bytes in every value of this type.
  static var byteCount: Int { get }

  /// The digest bytes, in the order the algorithm specifies.
  var bytes: [UInt8] { get }
}

extension HashDigest {
  /// Calls the given closure with a pointer to the digest bytes.
  ///
  /// - Parameter body: A closure that receives the bytes. The pointer is valid only during the
  ///   call.
  /// - Returns: The value `body` returns.
  /// - Throws: Whatever `body` throws.
  @inlinable
  public func withUnsafeBytes<Result>(
    _ body: (UnsafeRawBufferPointer) throws -> Result
  ) rethrows -> Result {
    try bytes.withUnsafeBytes(body)
  }

  /// A textual representation of the digest equal to ``description``; the bytes are not shown.
  public var debugDescription: String { description }
}
