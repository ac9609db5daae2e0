/// The keyed-hash message authentication code HMAC (RFC 2104) over any ``HashFunction``.
///
/// ```swift
/// var mac = HMAC<SHA256>(key: key)
/// mac.update(message)
/// let code = mac.finalize()
/// ```
///
/// The key-dependent inner and outer hash states are computed once in ``init(key:)``; copying an
/// `HMAC` value reuses them.
public struct HMAC<H: HashFunction>: Sendable {
  /// The type of the authentication code this HMAC produces.
  public typealias MAC = HashedAuthenticationCode<H>

  private var inner: H
  private let outer: H

  /// Creates an HMAC keyed with `key`.
  ///
  /// Keys longer than the hash's block size are first hashed, as RFC 2104 specifies. Any length,
  /// including zero, is accepted; for security the key should have at least
  /// `H.digestByteCount` bytes of entropy.
  ///
  /// - Parameter key: The secret key.
  public init(key: some Sequence<UInt8>) {
    // The key block and its padded forms are erased before they are released: the key is
    // often a password.
    var block = HMACKeyBlock.make(key: key, blockByteCount: H.blockByteCount) { H.hash($0).bytes }
    defer { block.secureZero() }
    var inner = H()
    var outer = H()
    HMACKeyBlock.withPadded(block, 0x36) { inner.update($0) }
    HMACKeyBlock.withPadded(block, 0x5c) { outer.update($0) }
    self.inner = inner
    self.outer = outer
  }

  /// Absorbs message bytes.
  ///
  /// - Parameter bytes: The bytes to authenticate.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    inner.update(bytes)
  }

  /// Absorbs message bytes.
  ///
  /// - Parameter bytes: The bytes to authenticate.
  public mutating func update(_ bytes: some Sequence<UInt8>) {
    inner.update(bytes)
  }

  /// Computes the authentication code of all bytes absorbed so far.
  ///
  /// - Returns: The code. The HMAC value is left unchanged.
  public func finalize() -> MAC {
    var outer = self.outer
    outer.update(inner.finalize().bytes)
    return MAC(uncheckedBytes: outer.finalize().bytes)
  }

  /// Computes the authentication code of a complete message.
  ///
  /// - Parameters:
  ///   - message: The message to authenticate.
  ///   - key: The secret key.
  /// - Returns: The authentication code.
  public static func authenticationCode(
    for message: some Sequence<UInt8>, using key: some Sequence<UInt8>
  ) -> MAC {
    var hmac = Self(key: key)
    hmac.update(message)
    return hmac.finalize()
  }

  /// Checks an authentication code in constant time.
  ///
  /// Truncated codes are rejected: `code` must have exactly `H.digestByteCount` bytes.
  ///
  /// - Parameters:
  ///   - code: The code to check, for example as received with the message.
  ///   - message: The message the code claims to authenticate.
  ///   - key: The secret key.
  /// - Returns: `true` if `code` is the correct, full-length code of `message` under `key`.
  public static func isValidAuthenticationCode(
    _ code: some Sequence<UInt8>, authenticating message: some Sequence<UInt8>,
    using key: some Sequence<UInt8>
  ) -> Bool {
    let expected = authenticationCode(for: message, using: key)
    return ConstantTime.equals(expected.bytes, Array(code))
  }
}

/// The HMAC key block (RFC 2104), built and padded in buffers that are erased after use.
enum HMACKeyBlock {
  /// The key, hashed first when longer than a block, then zero-padded to the block size. Every
  /// intermediate copy of the key is erased; the caller erases the result.
  static func make(
    key: some Sequence<UInt8>, blockByteCount: Int, hash: ([UInt8]) -> [UInt8]
  ) -> [UInt8] {
    var keyBytes = Array(key)
    defer { keyBytes.secureZero() }
    var block = [UInt8](repeating: 0, count: blockByteCount)
    if keyBytes.count > blockByteCount {
      var digest = hash(keyBytes)
      defer { digest.secureZero() }
      block.replaceSubrange(0..<digest.count, with: digest)
    } else {
      block.replaceSubrange(0..<keyBytes.count, with: keyBytes)
    }
    return block
  }

  /// Calls `body` with the block XORed with `pad` (0x36 inner, 0x5c outer), then erases it.
  static func withPadded(_ block: [UInt8], _ pad: UInt8, _ body: ([UInt8]) -> Void) {
    var padded = block
    for index in padded.indices { padded[index] ^= pad }
    body(padded)
    padded.secureZero()
  }
}
