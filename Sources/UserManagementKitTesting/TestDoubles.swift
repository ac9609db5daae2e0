public import UserManagementKit

#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// A clock for tests: it stands still until advanced.
public final class TestClock: Sendable {
  private let current: Locked<Date>

  /// Creates a clock showing `start`.
  ///
  /// - Parameter start: The initial time (default 2026-01-01T00:00:00Z).
  public init(start: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
    current = Locked(start)
  }

  /// The current time.
  public var now: Date { current.withLock { $0 } }

  /// Moves the clock forward.
  ///
  /// - Parameter seconds: How far.
  public func advance(by seconds: TimeInterval) {
    current.withLock { $0 = $0.addingTimeInterval(seconds) }
  }

  /// A closure for ``UserDirectory/Configuration/now``.
  public var function: @Sendable () -> Date { { self.now } }
}

/// Identifiers for tests: `00000000-0000-0000-0000-000000000001`, `…0002`, and so on.
public final class SequentialIdentifiers: Sendable {
  private let counter = Locked<UInt64>(0)

  /// Creates a sequence starting at 1.
  public init() {}

  /// The next identifier.
  ///
  /// - Returns: A UUID whose last 8 bytes count up.
  public func next() -> UUID {
    let value = counter.withLock { counter in
      counter += 1
      return counter
    }
    var bytes = [UInt8](repeating: 0, count: 16)
    for index in 0..<8 { bytes[15 - index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    return UUID(
      uuid: (
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
      ))
  }

  /// A closure for ``UserDirectory/Configuration/makeIdentifier``.
  public var function: @Sendable () -> UUID { { self.next() } }
}

/// A deterministic random source for reproducible tests: the bytes of a
/// ``SeededRandomNumberGenerator`` sequence, eight per value, low byte first. **Not secure**:
/// never use it outside tests.
public final class InsecureSeededRandomSource: RandomSource {
  private let generator: Locked<SeededRandomNumberGenerator>

  /// Creates a source from a seed.
  ///
  /// - Parameter seed: The seed.
  public init(seed: UInt64) {
    generator = Locked(SeededRandomNumberGenerator(seed: seed))
  }

  /// Fills `bytes` from the generator's sequence.
  ///
  /// - Parameter bytes: The buffer to overwrite.
  public func fill(_ bytes: inout [UInt8]) {
    generator.withLock { generator in
      var index = 0
      while index < bytes.count {
        var value = generator.next()
        for _ in 0..<8 where index < bytes.count {
          bytes[index] = UInt8(truncatingIfNeeded: value)
          value >>= 8
          index += 1
        }
      }
    }
  }
}

/// A password hasher that counts how often it hashes and verifies, around another hasher.
///
/// Tests use it to prove that every sign-in path runs the key derivation function exactly once
/// (no account enumeration by timing) and that refused requests run it not at all.
public final class CountingPasswordHasher: PasswordHasher {
  private let counts = Locked((hashes: 0, verifications: 0))
  /// The hasher doing the work.
  public let base: any PasswordHasher

  /// Wraps a hasher.
  ///
  /// - Parameter base: The hasher doing the work.
  public init(_ base: any PasswordHasher) {
    self.base = base
  }

  /// How many hashes were computed.
  public var hashCount: Int { counts.withLock { $0.hashes } }
  /// How many verifications ran.
  public var verificationCount: Int { counts.withLock { $0.verifications } }
  /// Hashes plus verifications: the number of KDF runs.
  public var kdfCount: Int { counts.withLock { $0.hashes + $0.verifications } }

  /// Sets both counts back to zero.
  public func reset() {
    counts.withLock { $0 = (0, 0) }
  }

  /// Counts and forwards.
  ///
  /// - Parameter password: The password.
  /// - Returns: The base hasher's hash.
  /// - Throws: The base hasher's error.
  public func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash {
    counts.withLock { $0.hashes += 1 }
    return try base.hash(password)
  }

  /// Forwards without counting: making an unmatchable hash is not a key derivation (and where
  /// the base hasher's default derives one, that happens once per directory).
  ///
  /// - Returns: The base hasher's unmatchable hash.
  /// - Throws: The base hasher's error.
  public func unmatchableHash() throws(UserManagementError) -> PasswordHash {
    try base.unmatchableHash()
  }

  /// Counts and forwards.
  ///
  /// - Parameters:
  ///   - password: The password.
  ///   - hash: The stored hash.
  /// - Returns: The base hasher's verdict.
  /// - Throws: The base hasher's error.
  public func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification
  {
    counts.withLock { $0.verifications += 1 }
    return try base.verify(password, against: hash)
  }

  /// Forwards.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: The base hasher's answer.
  public func canVerify(_ hash: PasswordHash) -> Bool { base.canVerify(hash) }

  /// Forwards.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: The base hasher's answer.
  /// - Throws: The base hasher's error.
  public func needsRehash(_ hash: PasswordHash) throws(UserManagementError) -> Bool {
    try base.needsRehash(hash)
  }

  /// Whether the base hasher is expensive.
  public var isComputationallyExpensive: Bool { base.isComputationallyExpensive }
}
