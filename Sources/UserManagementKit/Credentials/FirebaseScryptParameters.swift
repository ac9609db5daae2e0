import UMKCrypto

/// A Firebase Authentication project's password hash parameters, which its exported hashes
/// need to be verified (Firebase's "modified scrypt").
///
/// Firebase does not store these in each hash: they belong to the project and are shown in
/// the Firebase console (Authentication → Users → ⋮ → Password hash parameters) as
/// `base64_signer_key`, `base64_salt_separator`, `rounds` and `mem_cost`. Pass them to
/// ``MigratingPasswordHasher/init(preferred:limits:acceptsLegacyFormats:firebase:)``, and
/// import each user's hash as `$firebase-scrypt$<base64 salt>$<base64 password hash>`, with
/// the `salt` and `passwordHash` of Firebase's user export (standard, padded base64):
///
/// ```swift
/// let firebase = try FirebaseScryptParameters(
///   base64SignerKey: signerKey, base64SaltSeparator: "Bw==", rounds: 8, memoryCost: 14)
/// let hasher = MigratingPasswordHasher(firebase: firebase)
/// let hash = PasswordHash(encoded: "$firebase-scrypt$\(user.salt)$\(user.passwordHash)")
/// ```
///
/// A hash verifies when AES-256-CTR, keyed with scrypt(password, salt ‖ salt separator,
/// N = 2^`memoryCost`, r = `rounds`, p = 1, 32 bytes) and a zero counter block, turns the
/// signer key into the stored hash. The signer key is a project secret: it never appears in
/// ``description`` or a mirror.
public struct FirebaseScryptParameters: Sendable, CustomStringConvertible,
  CustomDebugStringConvertible, CustomReflectable
{
  /// The project's signer key.
  let signerKey: [UInt8]
  /// The bytes appended to each user's salt.
  let saltSeparator: [UInt8]
  /// scrypt's block size r (`rounds` in Firebase's parameters), 1 through 8.
  public let rounds: Int
  /// log2 of scrypt's cost N (`mem_cost` in Firebase's parameters), 1 through 14.
  public let memoryCost: Int

  /// Reads the parameters as the Firebase console shows them.
  ///
  /// - Parameters:
  ///   - base64SignerKey: `base64_signer_key`, standard base64.
  ///   - base64SaltSeparator: `base64_salt_separator`, standard base64 (may be empty).
  ///   - rounds: `rounds`, 1 through 8.
  ///   - memoryCost: `mem_cost`, 1 through 14.
  /// - Throws: ``UserManagementError`` with code ``UserManagementError/Code/invalidField``
  ///   (`context["field"]` names the parameter) if one is not valid base64 or out of range.
  public init(
    base64SignerKey: String, base64SaltSeparator: String, rounds: Int, memoryCost: Int
  ) throws(UserManagementError) {
    func invalid(_ field: String, _ reason: String) -> UserManagementError {
      UserManagementError(
        .invalidField, "The Firebase hash parameter \(field) is invalid: \(reason).",
        context: ["field": field, "reason": reason])
    }
    guard let signerKey = Base64.decode(base64SignerKey, variant: .standard),
      (1...1024).contains(signerKey.count)
    else { throw invalid("base64_signer_key", "not_base64") }
    guard let saltSeparator = Base64.decode(base64SaltSeparator, variant: .standard),
      saltSeparator.count <= 1024
    else { throw invalid("base64_salt_separator", "not_base64") }
    guard (1...8).contains(rounds) else { throw invalid("rounds", "out_of_range") }
    guard (1...14).contains(memoryCost) else { throw invalid("mem_cost", "out_of_range") }
    self.signerKey = signerKey
    self.saltSeparator = saltSeparator
    self.rounds = rounds
    self.memoryCost = memoryCost
  }

  /// `FirebaseScryptParameters(rounds: 8, memoryCost: 14)`; never the keys.
  public var description: String {
    "FirebaseScryptParameters(rounds: \(rounds), memoryCost: \(memoryCost))"
  }
  /// Same as ``description``.
  public var debugDescription: String { description }
  /// A mirror that shows only the rounds and memory cost.
  public var customMirror: Mirror {
    Mirror(self, children: ["rounds": rounds, "memoryCost": memoryCost], displayStyle: .struct)
  }
}
