/// The outcome of checking a password against a stored hash.
public enum PasswordVerification: Hashable, Sendable {
  /// The password does not match.
  case invalid
  /// The password matches and the hash is as strong as the configured hasher's.
  case valid
  /// The password matches, but the hash uses a weaker algorithm or parameters than the
  /// configured hasher; the directory replaces it with a fresh hash at sign-in.
  case validNeedsRehash

  /// Whether the password matched.
  public var isValid: Bool { self != .invalid }
}

/// Turns passwords into self-describing hashes and checks passwords against them.
///
/// Hashing is deliberately slow; ``UserDirectory`` calls these methods off the Swift
/// concurrency pool (see ``UserDirectory/Configuration/maximumConcurrentHashes``) and never
/// while the store is locked. Implementations must compare in constant time, must refuse
/// hashes whose parameters exceed their cost ceiling (a hostile imported hash must not cause
/// unbounded work), and must never put a password or hash in an error message.
public protocol PasswordHasher: Sendable {
  /// Hashes a password with a fresh random salt.
  ///
  /// - Parameter password: The password, as the user typed it; the hasher normalizes it if
  ///   its format calls for that.
  /// - Returns: The encoded hash.
  /// - Throws: ``UserManagementError`` if the password cannot be hashed.
  func hash(_ password: Secret) throws(UserManagementError) -> PasswordHash

  /// Checks a password against a stored hash.
  ///
  /// - Parameters:
  ///   - password: The password presented.
  ///   - hash: The stored hash.
  /// - Returns: Whether it matches and whether the hash should be upgraded.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   when the hash is malformed, of an unknown algorithm, or too costly to check.
  func verify(_ password: Secret, against hash: PasswordHash) throws(UserManagementError)
    -> PasswordVerification

  /// Whether this hasher understands the format of `hash` (without checking any password).
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether ``verify(_:against:)`` can check passwords against it.
  func canVerify(_ hash: PasswordHash) -> Bool

  /// Whether a stored hash that this hasher understands is weaker than the hashes it makes
  /// now (another algorithm, or lower parameters), so that it should be replaced at the next
  /// successful sign-in. Used by hash censuses, without any password.
  ///
  /// - Parameter hash: A stored hash.
  /// - Returns: Whether it should be replaced.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/unsupportedHash``
  ///   when the hash is malformed or too costly.
  func needsRehash(_ hash: PasswordHash) throws(UserManagementError) -> Bool

  /// A hash that no password verifies against and that costs as much to verify as the hashes
  /// this hasher makes: what a sign-in for an account that does not exist is checked against,
  /// so that it costs the same as a wrong password.
  ///
  /// Make it without running the key derivation (random salt and random digest in the
  /// hasher's own format, with its current parameters), so that preparing it costs nothing on
  /// any request path. The default hashes a random password, which is correct but costs one
  /// derivation the first time a directory needs it.
  ///
  /// - Returns: The hash.
  /// - Throws: ``UserManagementError`` if it cannot be made.
  func unmatchableHash() throws(UserManagementError) -> PasswordHash

  /// Whether hashing and verifying take long enough to be moved off the Swift concurrency
  /// pool. True for real key-derivation functions (the default); a deliberately cheap test
  /// hasher returns false and is then called inline.
  var isComputationallyExpensive: Bool { get }
}

extension PasswordHasher {
  /// True: password hashes are expensive by design.
  public var isComputationallyExpensive: Bool { true }

  /// The hash of 24 random bytes from the system CSPRNG.
  ///
  /// - Returns: The hash.
  /// - Throws: What ``hash(_:)`` throws.
  public func unmatchableHash() throws(UserManagementError) -> PasswordHash {
    try hash(Secret(bytes: SystemRandomSource().bytes(24)))
  }
}
