#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A source of cryptographically secure random bytes.
///
/// The directory draws salts, generated passwords, API passwords and security stamps from a
/// `RandomSource`. The default, ``SystemRandomSource``, is the operating system's CSPRNG.
/// Tests may inject a deterministic source; production code never should.
public protocol RandomSource: Sendable {
  /// Fills `bytes` with random bytes.
  ///
  /// - Parameter bytes: The buffer to overwrite; its count is kept.
  func fill(_ bytes: inout [UInt8])

  /// Fills `bytes` with random bytes that become secret material (generated passwords and
  /// API passwords). The default implementation calls ``fill(_:)``.
  ///
  /// - Parameter bytes: The buffer to overwrite; its count is kept.
  func fillSecret(_ bytes: inout [UInt8])
}

extension RandomSource {
  /// Calls ``fill(_:)``.
  ///
  /// - Parameter bytes: The buffer to overwrite.
  public func fillSecret(_ bytes: inout [UInt8]) {
    fill(&bytes)
  }
}

/// The operating system's cryptographically secure random number generator.
///
/// Reads `getrandom(2)` on Linux and `arc4random_buf(3)` on Apple platforms, one call per
/// buffer; both are CSPRNGs seeded by the kernel.
public struct SystemRandomSource: RandomSource {
  /// Creates the system source.
  public init() {}

  /// Fills `bytes` with bytes from the system CSPRNG.
  ///
  /// - Parameter bytes: The buffer to overwrite.
  public func fill(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { Platform.fillRandom($0) }
  }

  /// Fills `bytes` straight from the kernel, bypassing the per-thread pool, so that no future
  /// secret waits in process memory before it is drawn.
  ///
  /// - Parameter bytes: The buffer to overwrite.
  public func fillSecret(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { Platform.fillRandom($0, direct: true) }
  }
}

extension RandomSource {
  /// Returns `count` random bytes.
  func bytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    fill(&bytes)
    return bytes
  }

  /// Returns `count` uniformly distributed integers in `0..<upperBound` for secret material,
  /// by rejection sampling over bytes drawn with ``fillSecret(_:)`` in batches; the batch is
  /// wiped afterwards. `upperBound` must be in `1...256`.
  func secretIndices(_ count: Int, below upperBound: Int) -> [Int] {
    precondition(upperBound > 0 && upperBound <= 256, "upperBound out of range")
    let limit = 256 - (256 % upperBound)
    var indices: [Int] = []
    indices.reserveCapacity(count)
    var batch = [UInt8](repeating: 0, count: max(32, count * 2))
    defer { Platform.secureZero(bytes: &batch) }
    while indices.count < count {
      fillSecret(&batch)
      for byte in batch where Int(byte) < limit {
        indices.append(Int(byte) % upperBound)
        if indices.count == count { break }
      }
    }
    return indices
  }

}

extension UUID {
  /// A random (version 4) UUID from the system CSPRNG in one `getrandom` call (`UUID()` on
  /// Linux opens and reads `/dev/urandom` each time).
  static func randomV4() -> UUID {
    var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &bytes) { Platform.fillRandom($0) }
    bytes.6 = (bytes.6 & 0x0F) | 0x40  // version 4
    bytes.8 = (bytes.8 & 0x3F) | 0x80  // RFC 9562 variant
    return UUID(uuid: bytes)
  }
}
