/// The authenticated encryption AEAD_CHACHA20_POLY1305 (RFC 8439, §2.8).
///
/// ```swift
/// let sealed = try ChaCha20Poly1305.seal(secret, key: key, nonce: nonce, authenticating: aad)
/// let secret = try ChaCha20Poly1305.open(
///   ciphertext: sealed.ciphertext, tag: sealed.tag, key: key, nonce: nonce,
///   authenticating: aad)
/// ```
///
/// The key is 32 bytes and the nonce 12 bytes. A nonce must never be used twice with the same
/// key: a repeat reveals the exclusive-or of the two plaintexts and lets an attacker forge tags.
/// Random 12-byte nonces are safe for up to about 2^32 messages per key.
///
/// The associated data `aad` is authenticated but not encrypted: bind a ciphertext to its context
/// (for example the record and field it belongs to) so that it cannot be moved elsewhere.
///
/// ``open(ciphertext:tag:key:nonce:authenticating:)`` checks the tag in constant time before it
/// decrypts anything, and returns no plaintext when the check fails.
public enum ChaCha20Poly1305 {
  /// The key length: 32 bytes.
  public static var keyByteCount: Int { 32 }

  /// The nonce length: 12 bytes.
  public static var nonceByteCount: Int { 12 }

  /// The tag length: 16 bytes.
  public static var tagByteCount: Int { 16 }

  /// Encrypts and authenticates `plaintext`, and authenticates `aad`.
  ///
  /// - Parameters:
  ///   - plaintext: The message to encrypt; any length up to 274,877,906,880 bytes (empty is
  ///     allowed).
  ///   - key: The 32-byte secret key.
  ///   - nonce: The 12-byte nonce, never used before with this key.
  ///   - aad: Associated data to authenticate but not encrypt; empty by default.
  /// - Returns: The ciphertext (as long as `plaintext`) and the 16-byte tag.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange`` if `key` is not 32 bytes,
  ///   ``CryptoParameterError/Code/nonceLengthOutOfRange`` if `nonce` is not 12 bytes, or
  ///   ``CryptoParameterError/Code/inputLengthOutOfRange`` if `plaintext` is longer than
  ///   ChaCha20's block counter covers.
  public static func seal(
    _ plaintext: some Collection<UInt8>, key: [UInt8], nonce: [UInt8],
    authenticating aad: [UInt8] = []
  ) throws(CryptoParameterError) -> (ciphertext: [UInt8], tag: [UInt8]) {
    var cipher = try ChaCha20Cipher(key: key, nonce: nonce)
    defer { cipher.erase() }
    try ChaCha20Cipher.checkLength(plaintext.count, startingAt: 1)
    var ciphertext = Array(plaintext)
    ciphertext.withUnsafeMutableBytes { cipher.xor($0, counter: 1) }
    let tag = authenticationTag(cipher: cipher, ciphertext: ciphertext, aad: aad)
    return (ciphertext, tag)
  }

  /// Checks the tag of `ciphertext` and `aad`, then decrypts `ciphertext`.
  ///
  /// The tag is compared in constant time, and nothing is decrypted unless it matches.
  ///
  /// - Parameters:
  ///   - ciphertext: The ciphertext returned by ``seal(_:key:nonce:authenticating:)``.
  ///   - tag: The 16-byte tag returned with it.
  ///   - key: The 32-byte secret key.
  ///   - nonce: The 12-byte nonce the message was sealed with.
  ///   - aad: The associated data the message was sealed with; empty by default.
  /// - Returns: The plaintext.
  /// - Throws: ``ChaCha20Poly1305Error/authenticationFailure`` if the tag does not match (the
  ///   ciphertext, tag, associated data, key or nonce differ from those sealed), or
  ///   ``ChaCha20Poly1305Error/invalidParameter(_:)`` with a ``CryptoParameterError`` of code
  ///   ``CryptoParameterError/Code/keyLengthOutOfRange``,
  ///   ``CryptoParameterError/Code/nonceLengthOutOfRange`` or
  ///   ``CryptoParameterError/Code/tagLengthOutOfRange`` if the key is not 32 bytes, the nonce
  ///   not 12 bytes or the tag not 16 bytes, or ``CryptoParameterError/Code/inputLengthOutOfRange``
  ///   if `ciphertext` is longer than any sealed message can be.
  public static func open(
    ciphertext: some Collection<UInt8>, tag: [UInt8], key: [UInt8], nonce: [UInt8],
    authenticating aad: [UInt8] = []
  ) throws(ChaCha20Poly1305Error) -> [UInt8] {
    var cipher: ChaCha20Cipher
    do throws(CryptoParameterError) {
      cipher = try ChaCha20Cipher(key: key, nonce: nonce)
      guard tag.count == 16 else {
        throw CryptoParameterError(
          code: .tagLengthOutOfRange, message: "ChaCha20-Poly1305 tags are 16 bytes.")
      }
      try ChaCha20Cipher.checkLength(ciphertext.count, startingAt: 1)
    } catch {
      throw .invalidParameter(error)
    }
    defer { cipher.erase() }
    var buffer = Array(ciphertext)
    let expected = authenticationTag(cipher: cipher, ciphertext: buffer, aad: aad)
    guard ConstantTime.equals(expected, tag) else {
      throw .authenticationFailure
    }
    buffer.withUnsafeMutableBytes { cipher.xor($0, counter: 1) }
    return buffer
  }

  /// The Poly1305 tag over aad, pad16, ciphertext, pad16 and the two lengths, under the one-time
  /// key from block 0 (RFC 8439, §2.6 and §2.8). The one-time key is erased.
  private static func authenticationTag(
    cipher: ChaCha20Cipher, ciphertext: [UInt8], aad: [UInt8]
  ) -> [UInt8] {
    withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { block in
      cipher.block(counter: 0, into: block)
      var state = Poly1305State(key: UnsafeRawBufferPointer(rebasing: block[0..<32]))
      if let base = block.baseAddress { secureZero(base, byteCount: 64) }
      defer { state.erase() }
      aad.withUnsafeBytes { state.absorb($0, padded: true) }
      ciphertext.withUnsafeBytes { state.absorb($0, padded: true) }
      withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { lengths in
        lengths.storeBytes(of: UInt64(aad.count).littleEndian, toByteOffset: 0, as: UInt64.self)
        lengths.storeBytes(
          of: UInt64(ciphertext.count).littleEndian, toByteOffset: 8, as: UInt64.self)
        state.absorb(UnsafeRawBufferPointer(lengths), padded: true)
      }
      return state.finalize()
    }
  }
}

/// An error thrown by ``ChaCha20Poly1305/open(ciphertext:tag:key:nonce:authenticating:)``.
public enum ChaCha20Poly1305Error: Error, Sendable, Hashable, CustomStringConvertible {
  /// The key, nonce or tag has the wrong length, or the ciphertext is too long; the associated
  /// error's ``CryptoParameterError/code`` says which. A programming or storage error, not an
  /// attack.
  case invalidParameter(CryptoParameterError)

  /// The tag does not authenticate the ciphertext and associated data under this key and nonce:
  /// the message was altered, or the key, nonce or associated data differ from those used to
  /// seal it. No plaintext is released.
  case authenticationFailure

  /// A short explanation that never contains secret inputs.
  public var description: String {
    switch self {
    case .invalidParameter(let error): "\(error)"
    case .authenticationFailure:
      "crypto.authentication.failed: the message could not be authenticated."
    }
  }
}
