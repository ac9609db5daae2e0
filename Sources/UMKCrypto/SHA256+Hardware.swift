import CUMKCrypto

extension SHA256 {
  /// Compresses whole blocks with the CPU's SHA instructions when it has them (x86-64 SHA
  /// extensions, ARMv8 SHA2; detected at run time by `CUMKCrypto`), otherwise with the Swift
  /// ``compress(_:_:)``.
  @inline(__always)
  static func compressBlocks(
    _ state: UnsafeMutablePointer<UInt32>, _ schedule: UnsafeMutablePointer<UInt32>,
    from source: UnsafeRawPointer, count: Int, implementation: HashImplementation
  ) {
    if implementation == .automatic,
      cumk_sha256_compress_blocks(state, source.assumingMemoryBound(to: UInt8.self), count) != 0
    {
      return
    }
    portableCompressBlocks(state, schedule, from: source, count: count)
  }

  /// Runs PBKDF2-HMAC-SHA256 iterations with the SHA instructions, keeping both HMAC states
  /// and the message in vector registers, when the CPU has them.
  static func acceleratedPBKDF2Iterations(
    innerState: UnsafePointer<UInt32>, outerState: UnsafePointer<UInt32>,
    u: UnsafeMutablePointer<UInt32>, t: UnsafeMutablePointer<UInt32>, iterations: Int
  ) -> Bool {
    cumk_pbkdf2_sha256_iterate(innerState, outerState, u, t, UInt64(iterations)) != 0
  }

  /// Whether this CPU runs SHA-256 on its SHA instructions (x86-64 SHA extensions with SSSE3
  /// and SSE4.1, or ARMv8 SHA2). When it does not, SHA-256, HMAC-SHA256 and
  /// PBKDF2-HMAC-SHA256 run on the portable Swift implementation.
  @_spi(Testing)
  public static var isHardwareAccelerated: Bool {
    cumk_sha256_hardware_available() != 0
  }

  /// Hashes `bytes` with the chosen implementation, so tests can compare them.
  ///
  /// - Parameters:
  ///   - bytes: The message.
  ///   - implementation: Which compression-function implementation may run.
  /// - Returns: The digest.
  @_spi(Testing)
  public static func hash(_ bytes: [UInt8], implementation: HashImplementation) -> SHA256Digest {
    var engine = MerkleDamgardEngine<SHA256>(implementation: implementation)
    bytes.withUnsafeBytes { engine.update($0) }
    return SHA256Digest(uncheckedBytes: engine.finalize())
  }
}
