/// PBKDF2, the password-based key derivation function 2 of RFC 8018 (§5.2), with HMAC as PRF.
///
/// ```swift
/// let key = try PBKDF2.deriveKey(
///   password: Array("correct horse".utf8), salt: salt, iterations: 600_000,
///   keyByteCount: 32, hashFunction: SHA256.self)
/// ```
///
/// For ``SHA256``, ``SHA384``, ``SHA512`` and ``Insecure/SHA1`` the iteration loop runs on
/// precomputed HMAC key states and fixed-size word buffers, with two compression-function calls
/// and no allocation per iteration. On CPUs with SHA instructions (x86-64 SHA extensions,
/// ARMv8 SHA2, detected at run time) the SHA-256 loop runs on them with both HMAC states in
/// registers; elsewhere it runs in Swift. The SHA-512 loop runs as unrolled C on every CPU,
/// with its message schedule in vector registers on x86-64 CPUs with AVX and BMI2; the SHA-384
/// loop runs in Swift. The output does not depend on the implementation.
public enum PBKDF2 {
  /// Derives a key from a password.
  ///
  /// - Parameters:
  ///   - password: The password bytes (typically the UTF-8 encoding of a normalized string).
  ///   - salt: The salt; RFC 8018 recommends at least 8 bytes, and 16 random bytes is usual.
  ///   - iterations: The iteration count `c`; must be at least 1.
  ///   - keyByteCount: The derived key length `dkLen` in bytes; must be at least 1 and at most
  ///     (2³² − 1) × `H.digestByteCount`.
  ///   - hashFunction: The hash function underlying the HMAC pseudorandom function.
  /// - Returns: The derived key, `keyByteCount` bytes long.
  /// - Throws: ``CryptoParameterError`` with code
  ///   ``CryptoParameterError/Code/iterationsOutOfRange`` or
  ///   ``CryptoParameterError/Code/outputLengthOutOfRange`` if a parameter is out of range.
  public static func deriveKey<H: HashFunction>(
    password: some Sequence<UInt8>, salt: some Sequence<UInt8>, iterations: Int,
    keyByteCount: Int, hashFunction: H.Type
  ) throws(CryptoParameterError) -> [UInt8] {
    try deriveKey(
      password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
      hashFunction: H.self, implementation: .automatic)
  }

  /// Derives a key from a password on the chosen implementation, so that tests can check that
  /// the accelerated and portable implementations agree and benchmarks can measure both.
  ///
  /// - Parameters:
  ///   - password: The password bytes.
  ///   - salt: The salt.
  ///   - iterations: The iteration count `c`; must be at least 1.
  ///   - keyByteCount: The derived key length `dkLen` in bytes.
  ///   - hashFunction: The hash function underlying the HMAC pseudorandom function.
  ///   - implementation: ``HashImplementation/portable`` to run only the Swift
  ///     implementation.
  /// - Returns: The derived key, `keyByteCount` bytes long.
  /// - Throws: ``CryptoParameterError`` as
  ///   ``deriveKey(password:salt:iterations:keyByteCount:hashFunction:)`` does.
  @_spi(Testing)
  public static func deriveKey<H: HashFunction>(
    password: some Sequence<UInt8>, salt: some Sequence<UInt8>, iterations: Int,
    keyByteCount: Int, hashFunction: H.Type, implementation: HashImplementation
  ) throws(CryptoParameterError) -> [UInt8] {
    guard iterations >= 1 else {
      throw CryptoParameterError(
        code: .iterationsOutOfRange, message: "PBKDF2 iteration count must be at least 1.")
    }
    let digestByteCount = H.digestByteCount
    let (maximum, overflow) = UInt64(UInt32.max).multipliedReportingOverflow(
      by: UInt64(digestByteCount))
    guard keyByteCount >= 1, overflow || UInt64(keyByteCount) <= maximum else {
      throw CryptoParameterError(
        code: .outputLengthOutOfRange,
        message: "PBKDF2 key length must be between 1 and (2^32 - 1) * \(digestByteCount) bytes.")
    }
    // The copy of the password is erased before it is released, whichever path derives.
    var password = Array(password)
    defer { password.secureZero() }
    let salt = Array(salt)
    if let accelerated = H.self as? any MerkleDamgardHash.Type {
      return accelerated.pbkdf2(
        password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
        implementation: implementation)
    }
    return genericDeriveKey(
      password: password, salt: salt, iterations: iterations, keyByteCount: keyByteCount,
      hashFunction: H.self)
  }

  /// The straightforward RFC 8018 construction over the public ``HMAC`` API, used for hash
  /// functions without an accelerated path.
  static func genericDeriveKey<H: HashFunction>(
    password: [UInt8], salt: [UInt8], iterations: Int, keyByteCount: Int, hashFunction: H.Type
  ) -> [UInt8] {
    let prf = HMAC<H>(key: password)
    var keyed = prf
    keyed.update(salt)
    var output: [UInt8] = []
    output.reserveCapacity(keyByteCount)
    var blockIndex: UInt32 = 1
    while output.count < keyByteCount {
      var first = keyed
      first.update(blockIndex.bigEndianBytes)
      var u = first.finalize().bytes
      var t = u
      for _ in 1..<iterations {
        var next = prf
        next.update(u)
        u = next.finalize().bytes
        for index in t.indices {
          t[index] ^= u[index]
        }
      }
      output.append(contentsOf: t.prefix(keyByteCount - output.count))
      blockIndex &+= 1
    }
    return output
  }
}
