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
    let blockByteCount = H.blockByteCount
    var block = Array(key)
    if block.count > blockByteCount {
      block = H.hash(block).bytes
    }
    block.append(contentsOf: repeatElement(0, count: blockByteCount - block.count))
    var inner = H()
    var outer = H()
    inner.update(block.map { $0 ^ 0x36 })
    outer.update(block.map { $0 ^ 0x5c })
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
