/// Makes new passwords for "Auto-Generate Password".
///
/// A generated password must satisfy the policy it is given.
public protocol PasswordGenerator: Sendable {
  /// Generates a password for `username` that satisfies `policy`.
  ///
  /// - Parameters:
  ///   - username: The account the password is for.
  ///   - policy: The policy it must satisfy.
  /// - Returns: The new password.
  /// - Throws: ``UserManagementError`` if no acceptable password can be made.
  func generatePassword(for username: Username, policy: PasswordPolicy)
    throws(UserManagementError) -> Secret
}

/// Generates passwords of uniformly random characters from the system CSPRNG.
///
/// Each character is drawn independently and uniformly from the alphabet by rejection
/// sampling, so the entropy is `length × log2(alphabet size)` bits: 20 characters from the
/// default 85-character alphabet give about 128 bits. The length is raised to the policy's
/// minimum when that is longer.
public struct RandomPasswordGenerator: PasswordGenerator {
  /// The number of characters.
  public var length: Int
  /// The characters to draw from (ASCII, no duplicates).
  public let alphabet: [UInt8]
  private let random: any RandomSource

  /// Letters, digits and punctuation that need no escaping in shells or URLs forms.
  public static let defaultAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%+-.:=?@^_~*()[]{}<>,;"

  /// Characters easily confused with others when read aloud or printed.
  public static let lookAlikes = "Il1O0o|`'\";,."

  /// Creates a generator.
  ///
  /// - Parameters:
  ///   - length: The number of characters (default 20, at least 8).
  ///   - alphabet: The characters to draw from; duplicates and non-ASCII are dropped.
  ///   - excludeLookAlikes: Whether to drop ``lookAlikes`` from the alphabet.
  ///   - random: The randomness source.
  public init(
    length: Int = 20, alphabet: String = RandomPasswordGenerator.defaultAlphabet,
    excludeLookAlikes: Bool = false, random: any RandomSource = SystemRandomSource()
  ) {
    self.length = max(8, length)
    var seen = Set<UInt8>()
    let excluded = excludeLookAlikes ? Set(Self.lookAlikes.utf8) : []
    var characters = alphabet.utf8.filter { $0 > 0x20 && $0 < 0x7F && !excluded.contains($0) }
      .filter { seen.insert($0).inserted }
    if characters.count < 16 {
      characters = Array(Self.defaultAlphabet.utf8)
    }
    self.alphabet = Array(characters.prefix(256))
    self.random = random
  }

  /// Generates a password that satisfies the policy.
  ///
  /// - Parameters:
  ///   - username: The account.
  ///   - policy: The policy.
  /// - Returns: The password.
  /// - Throws: ``UserManagementError`` if 100 attempts in a row were refused (only possible
  ///   with a policy that refuses almost everything).
  public func generatePassword(for username: Username, policy: PasswordPolicy)
    throws(UserManagementError) -> Secret
  {
    let count = min(max(length, policy.minimumLength), policy.maximumLength)
    for _ in 0..<100 {
      var indices = random.secretIndices(count, below: alphabet.count)
      var bytes = indices.map { alphabet[$0] }
      indices.withUnsafeMutableBytes { Platform.secureZero($0) }
      let candidate = Secret(bytes: bytes)
      Platform.secureZero(bytes: &bytes)
      if policy.violations(of: candidate, username: username).isEmpty { return candidate }
    }
    throw UserManagementError(
      .weakPassword, "Could not generate a password that satisfies the password policy.")
  }
}

extension Platform {
  static func secureZero(bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { secureZero($0) }
  }
}
