import UMKCrypto
public import UserManagementKit

/// A deliberately cheap password hasher for tests and benchmarks: one SHA-256 of a random
/// 16-byte salt and the password. **Never use it in production**: it offers no resistance to
/// guessing. Because it is cheap, ``UserManagementKit/UserDirectory`` calls it inline instead
/// of on its hashing threads.
///
/// Hashes read `$insecure-sha256$<salt>$<hash>` (standard base64 without padding), so a hash
/// made by it is recognizable in any store it leaks into.
public struct InsecureFastPasswordHasher: PasswordHasher {
  private let random: (any RandomSource)?
  private let counter = SaltCounter()
  static let algorithm = "insecure-sha256"

  /// Creates the hasher.
  ///
  /// - Parameter random: The salt source; by default salts are a per-hasher counter (unique,
  ///   not random), which keeps the hasher free of system calls.
  public init(random: (any RandomSource)? = nil) {
    self.random = random
  }

  /// False: this hasher is cheap, so it runs inline.
  public var isComputationallyExpensive: Bool { false }

  /// Hashes a password.
  ///
  /// - Parameter password: The password.
  /// - Returns: `$insecure-sha256$<salt>$<hash>`.
  public func hash(_ password: Secret) -> PasswordHash {
    var salt = [UInt8](repeating: 0, count: 8)
    if let random {
      random.fill(&salt)
    } else {
      let value = counter.next()
      for index in salt.indices { salt[index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
    let digest = Self.digest(password, salt: salt)
    return PasswordHash(
      encoded: "$\(Self.algorithm)$" + Base64.encode(salt, variant: .standardUnpadded) + "$"
        + Base64.encode(digest, variant: .standardUnpadded))
  }

  /// Checks a password against a hash made by ``hash(_:)``, in constant time.
  ///
  /// - Parameters:
  ///   - password: The password.
  ///   - hash: The stored hash.
  /// - Returns: Whether it matches.
  /// - Throws: ``UserManagementKit/UserManagementError`` with code `unsupported_hash` for any
  ///   other format.
  public func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification
  {
    let parts = hash.encoded.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0].isEmpty, parts[1] == Self.algorithm,
      let salt = Base64.decode(parts[2], variant: .standardUnpadded),
      let expected = Base64.decode(parts[3], variant: .standardUnpadded)
    else {
      throw UserManagementError(
        .unsupportedHash, "The hash is not an insecure-sha256 test hash.",
        context: ["algorithm": hash.algorithm])
    }
    return ConstantTime.equals(Self.digest(password, salt: salt), expected) ? .valid : .invalid
  }

  /// Whether `hash` is an `$insecure-sha256$` test hash.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether this hasher understands it.
  public func canVerify(_ hash: PasswordHash) -> Bool {
    hash.encoded.hasPrefix("$\(Self.algorithm)$")
  }

  /// Never: the test hasher has no parameters to strengthen.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: `false`.
  public func needsRehash(_ hash: PasswordHash) -> Bool { false }

  private static func digest(_ password: Secret, salt: [UInt8]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(salt)
    password.withUnsafeBytes { hasher.update($0) }
    return hasher.finalize().bytes
  }
}

/// A counter for ``InsecureFastPasswordHasher``'s salts.
final class SaltCounter: Sendable {
  private let value = Locked<UInt64>(0)

  func next() -> UInt64 {
    value.withLock { value in
      value &+= 1
      return value
    }
  }
}
