/// A cryptographic hash function with an incremental (streaming) interface.
///
/// Conforming types are value types: copying a partially updated hasher forks its state, which is
/// how HMAC and PBKDF2 reuse precomputed key states. A hasher is consumed conceptually by
/// ``finalize()``, but because it is a value, calling `finalize()` does not alter it.
///
/// ```swift
/// var hasher = SHA256()
/// hasher.update("hello ".utf8)
/// hasher.update("world".utf8)
/// let digest = hasher.finalize()
/// ```
public protocol HashFunction: Sendable {
  /// The type of the value produced by ``finalize()``.
  associatedtype Digest: HashDigest

  /// The size, in bytes, of the blocks the compression function consumes (used by HMAC).
  static var blockByteCount: Int { get }

  /// The size, in bytes, of the digest this function produces.
  static var digestByteCount: Int { get }

  /// Creates a hasher in its initial state.
  init()

  /// Absorbs the given bytes into the hash state.
  ///
  /// - Parameter bytes: The bytes to absorb. The buffer is only read during the call.
  mutating func update(_ bytes: UnsafeRawBufferPointer)

  /// Computes the digest of all bytes absorbed so far.
  ///
  /// - Returns: The digest. The hasher itself is left unchanged.
  func finalize() -> Digest
}

extension HashFunction {
  /// Absorbs the given bytes into the hash state.
  ///
  /// Contiguous collections (arrays, `String.UTF8View` of native strings, slices of arrays) are
  /// hashed in place; other sequences are first copied into a temporary array.
  ///
  /// - Parameter bytes: The bytes to absorb.
  @inlinable
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
      self.update(UnsafeRawBufferPointer(buffer))
    }
    if handled == nil {
      Array(bytes).withUnsafeBytes { self.update($0) }
    }
  }

  /// Computes the digest of a complete message in one call.
  ///
  /// - Parameter bytes: The message to hash.
  /// - Returns: The digest of `bytes`.
  @inlinable
  public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
    var hasher = Self()
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// Computes the digest of a complete message held in raw memory.
  ///
  /// - Parameter bytes: The message to hash.
  /// - Returns: The digest of `bytes`.
  @inlinable
  public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
    var hasher = Self()
    hasher.update(bytes)
    return hasher.finalize()
  }
}
