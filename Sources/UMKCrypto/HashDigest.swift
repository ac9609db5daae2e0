/// The output of a ``HashFunction`` or of ``HMAC``.
///
/// Digests may be secrets (for example a derived password hash), so conforming types compare in
/// constant time and their `description` never reveals the bytes. Use ``bytes`` to read them
/// explicitly.
public protocol HashDigest: Sequence<UInt8>, Hashable, Sendable, CustomStringConvertible,
  CustomDebugStringConvertible, CustomReflectable
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

  /// A mirror without children, so `dump` and debuggers do not reveal the bytes.
  public var customMirror: Mirror { Mirror(self, children: [:]) }

  /// Returns an iterator over the digest bytes.
  ///
  /// - Returns: An iterator over ``bytes``.
  public func makeIterator() -> IndexingIterator<[UInt8]> {
    bytes.makeIterator()
  }

  /// The number of bytes.
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
}
