import CUMKCrypto

extension SHA512 {
  /// Runs PBKDF2-HMAC-SHA512 iterations in C: fully unrolled rounds on precomputed HMAC
  /// states, and on x86-64 CPUs with AVX and BMI2 a message schedule in vector registers
  /// (chosen at run time by `CUMKCrypto`). Available on every CPU.
  static func acceleratedPBKDF2Iterations(
    innerState: UnsafePointer<UInt64>, outerState: UnsafePointer<UInt64>,
    u: UnsafeMutablePointer<UInt64>, t: UnsafeMutablePointer<UInt64>, iterations: Int
  ) -> Bool {
    cumk_pbkdf2_sha512_iterate(innerState, outerState, u, t, UInt64(iterations))
    return true
  }
}
