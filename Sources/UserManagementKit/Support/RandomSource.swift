import FoundationEssentials

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
}

extension RandomSource {
  /// Returns `count` random bytes.
  func bytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    fill(&bytes)
    return bytes
  }

  /// Returns a uniformly distributed integer in `0..<upperBound` by rejection sampling, so
  /// that no value is more likely than another. `upperBound` must be in `1...256`.
  func uniformIndex(below upperBound: Int) -> Int {
    precondition(upperBound > 0 && upperBound <= 256, "upperBound out of range")
    // Accept bytes below the largest multiple of upperBound that fits in a byte; reject the
    // rest, which would otherwise make the smallest values slightly more likely.
    let limit = 256 - (256 % upperBound)
    var byte = [UInt8](repeating: 0, count: 1)
    while true {
      fill(&byte)
      if Int(byte[0]) < limit { return Int(byte[0]) % upperBound }
    }
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
