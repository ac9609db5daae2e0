import UMKCrypto

/// A 256-bit key the host provides for sealing secrets at rest (the authenticator secrets of
/// two-factor sign-in), with a short identifier stored beside each sealed value so that keys
/// can be rotated.
///
/// Keep the key outside the store (an environment variable, a secrets manager, a key file
/// with stricter permissions than the store), or it protects nothing. The key never appears
/// in `description`, `dump` or errors.
public struct SecretKey: Sendable, CustomStringConvertible, CustomReflectable {
  /// The identifier stored with every value sealed under this key.
  public let id: String
  let material: Secret

  /// Wraps key bytes.
  ///
  /// - Parameters:
  ///   - id: 1–32 ASCII letters, digits, `.`, `_` or `-`, such as `"2026-12"`.
  ///   - bytes: Exactly 32 bytes from a cryptographically secure source.
  /// - Throws: ``UserManagementError/Code/invalidField`` for a bad identifier or length.
  public init(id: String, bytes: some Sequence<UInt8>) throws(UserManagementError) {
    var material = Array(bytes)
    defer { Platform.secureZero(bytes: &material) }
    guard material.count == 32 else {
      throw .invalidField("secretKey", "invalid_length", "A secret key must be 32 bytes.")
    }
    guard Self.isValidID(id) else {
      throw .invalidField(
        "secretKeyID", "invalid",
        "A secret key id is 1–32 ASCII letters, digits, '.', '_' or '-'.")
    }
    self.id = id
    self.material = Secret(bytes: material)
  }

  /// Decodes a key from standard base64 (44 characters, as `openssl rand -base64 32` prints).
  ///
  /// - Parameters:
  ///   - id: The key's identifier (see ``init(id:bytes:)``).
  ///   - base64: The key in base64.
  /// - Throws: ``UserManagementError/Code/invalidField`` when it is not 32 bytes of base64.
  public init(id: String, base64: String) throws(UserManagementError) {
    let trimmed = Array(base64.utf8.filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x20 })
    guard var bytes = Base64.decode(ascii: trimmed, variant: .standard) else {
      throw .invalidField("secretKey", "invalid", "A secret key must be base64.")
    }
    defer { Platform.secureZero(bytes: &bytes) }
    try self.init(id: id, bytes: bytes)
  }

  /// Generates a new random key.
  ///
  /// - Parameters:
  ///   - id: The key's identifier (see ``init(id:bytes:)``).
  ///   - random: The randomness source (the kernel's by default).
  /// - Returns: The key.
  /// - Throws: ``UserManagementError/Code/invalidField`` for a bad identifier.
  public static func generate(id: String, random: any RandomSource = SystemRandomSource())
    throws(UserManagementError) -> SecretKey
  {
    var bytes = [UInt8](repeating: 0, count: 32)
    random.fillSecret(&bytes)
    defer { Platform.secureZero(bytes: &bytes) }
    return try SecretKey(id: id, bytes: bytes)
  }

  /// The key in standard base64, for saving a generated key once. Anything else (logging,
  /// storing in the directory) must not call this.
  ///
  /// - Returns: The key as a secret.
  public func base64ForStorage() -> Secret {
    material.withUnsafeBytes { bytes in
      Secret(Base64.encode(Array(bytes), variant: .standard))
    }
  }

  /// `SecretKey(<id>, <redacted>)`.
  public var description: String { "SecretKey(\(id), <redacted>)" }
  /// A mirror with only the identifier.
  public var customMirror: Mirror { Mirror(self, children: ["id": id], displayStyle: .struct) }

  static func isValidID(_ id: String) -> Bool {
    (1...32).contains(id.utf8.count)
      && id.utf8.allSatisfy { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
          || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
      }
  }
}

/// The keys a directory seals secrets with: the current one, used for every new value, and
/// earlier ones still needed to open values sealed before a rotation.
///
/// A value sealed under an earlier key is sealed again under the current key the next time it
/// is used (a successful two-factor sign-in), so after a rotation old keys can be dropped once
/// every enrolled user has signed in, or their factor has been reset.
public struct SecretKeyring: Sendable {
  /// The key new values are sealed with.
  public let current: SecretKey
  /// Keys that only open values sealed earlier.
  public let previous: [SecretKey]

  /// Creates a keyring.
  ///
  /// - Parameters:
  ///   - current: The key new values are sealed with.
  ///   - previous: Earlier keys, still accepted for opening.
  /// - Throws: ``UserManagementError/Code/invalidField`` when two keys share an identifier.
  public init(current: SecretKey, previous: [SecretKey] = []) throws(UserManagementError) {
    var ids = Set([current.id])
    for key in previous where !ids.insert(key.id).inserted {
      throw .invalidField(
        "secretKeyID", "duplicate", "Two keys of the keyring share the id '\(key.id)'.")
    }
    self.current = current
    self.previous = previous
  }

  func key(id: String) -> SecretKey? {
    current.id == id ? current : previous.first { $0.id == id }
  }
}

extension SecretKeyring {
  /// The environment variable holding the current key for ``init(environment:)``.
  public static let environmentVariable = "UMK_SECRET_KEY"
  /// The environment variable holding earlier keys for ``init(environment:)``.
  public static let previousKeysEnvironmentVariable = "UMK_PREVIOUS_SECRET_KEYS"

  /// A keyring from environment variables, for servers and tools configured that way (`umk`
  /// and the example web console read theirs with it).
  ///
  /// `UMK_SECRET_KEY` holds the current key as `<id>:<base64>`: the identifier as
  /// ``SecretKey/init(id:bytes:)`` describes it, a colon, then the 32 bytes in standard base64
  /// (what `openssl rand -base64 32` prints). `UMK_PREVIOUS_SECRET_KEYS`, optional, holds
  /// earlier keys the same way, separated by commas. Every process that opens the store needs
  /// the same keys. The keyring is `nil` when neither variable is set. A variable that is set
  /// but empty, or earlier keys without a current one, are refused rather than read as "no
  /// key": a failed lookup in a secrets manager must not quietly store secrets unsealed.
  ///
  /// - Parameter environment: The environment, such as `ProcessInfo.processInfo.environment`.
  /// - Throws: ``UserManagementError/Code/invalidField`` naming the variable when a value is
  ///   empty or malformed, or two keys share an identifier; the message never includes a key.
  public init?(environment: [String: String]) throws(UserManagementError) {
    guard let current = environment[Self.environmentVariable] else {
      if environment[Self.previousKeysEnvironmentVariable] != nil {
        throw .invalidField(
          Self.environmentVariable, "missing",
          "\(Self.environmentVariable) is not set, but \(Self.previousKeysEnvironmentVariable) is.")
      }
      return nil
    }
    guard !current.isEmpty else {
      throw .invalidField(
        Self.environmentVariable, "empty",
        "\(Self.environmentVariable) is set but empty; unset it to store secrets unsealed.")
    }
    var previous: [SecretKey] = []
    for value in (environment[Self.previousKeysEnvironmentVariable] ?? "").split(separator: ",")
    where !value.isEmpty {
      previous.append(try Self.key(String(value), from: Self.previousKeysEnvironmentVariable))
    }
    try self.init(
      current: Self.key(current, from: Self.environmentVariable), previous: previous)
  }

  /// The key `<id>:<base64>` in `value`, which comes from `variable`.
  private static func key(_ value: String, from variable: String) throws(UserManagementError)
    -> SecretKey
  {
    guard let colon = value.firstIndex(of: ":") else {
      throw .invalidField(
        variable, "invalid", "\(variable) must hold <id>:<base64 of 32 bytes>, without spaces.")
    }
    do {
      return try SecretKey(
        id: String(value[..<colon]), base64: String(value[value.index(after: colon)...]))
    } catch {
      throw .invalidField(variable, error.reason ?? "invalid", "\(variable): \(error.message)")
    }
  }
}

/// A secret stored so that it can be used again (unlike a password, which is only hashed):
/// sealed with ChaCha20-Poly1305 (RFC 8439) under a host-provided ``SecretKey``, or, when the
/// host provides none, stored as is and protected only by the store's file permissions (see
/// the Security Model article).
///
/// Encoded as `$umk-sealed-chacha20poly1305$<key id>$<nonce>$<ciphertext and tag>` (base64)
/// or `$umk-plain$<base64>`. Never shown by `description`.
public struct SealedSecret: Hashable, Sendable, Codable, CustomStringConvertible,
  CustomReflectable
{
  /// The encoded form, for storage.
  public let encoded: String

  /// Wraps an encoded value as read from storage.
  ///
  /// - Parameter encoded: The encoded value.
  public init(encoded: String) {
    self.encoded = encoded
  }

  static let sealedPrefix = "$umk-sealed-chacha20poly1305$"
  static let plainPrefix = "$umk-plain$"

  /// Whether the value is encrypted (rather than stored as is).
  public var isEncrypted: Bool { encoded.hasPrefix(Self.sealedPrefix) }

  /// The identifier of the key it is sealed with, if it is encrypted.
  public var keyID: String? {
    guard isEncrypted else { return nil }
    return encoded.dropFirst(Self.sealedPrefix.count).split(separator: "$").first.map(String.init)
  }

  /// `SealedSecret(chacha20poly1305, key <id>)` or `SealedSecret(plain)`.
  public var description: String {
    keyID.map { "SealedSecret(chacha20poly1305, key \($0))" } ?? "SealedSecret(plain)"
  }

  /// A mirror with no children.
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

  /// Seals `plaintext`, bound to `context` (the user it belongs to), so a sealed value copied
  /// to another user does not open.
  static func seal(
    _ plaintext: [UInt8], context: [UInt8], keyring: SecretKeyring?, random: any RandomSource
  ) -> SealedSecret {
    guard let keyring else {
      return SealedSecret(
        encoded: plainPrefix + Base64.encode(plaintext, variant: .standardUnpadded))
    }
    var nonce = [UInt8](repeating: 0, count: 12)
    random.fill(&nonce)
    let sealed = keyring.current.material.withUnsafeBytes { key in
      // The cipher takes an array: a copy of the key, erased as soon as it is done with.
      var copy = Array(key)
      defer { Platform.secureZero(bytes: &copy) }
      return try? ChaCha20Poly1305.seal(plaintext, key: copy, nonce: nonce, authenticating: context)
    }
    // The key is 32 bytes and the nonce 12 by construction, so sealing cannot fail; were it
    // to, storing nothing usable is the safe failure.
    guard let sealed else { return SealedSecret(encoded: sealedPrefix) }
    return SealedSecret(
      encoded: sealedPrefix + keyring.current.id + "$"
        + Base64.encode(nonce, variant: .standardUnpadded) + "$"
        + Base64.encode(sealed.ciphertext + sealed.tag, variant: .standardUnpadded))
  }

  /// Opens the value.
  ///
  /// - Throws: ``UserManagementError/Code/encryptionKeyUnavailable`` when the keyring lacks
  ///   its key; ``UserManagementError/Code/corruptStore`` when it is malformed or fails
  ///   authentication.
  func open(context: [UInt8], keyring: SecretKeyring?) throws(UserManagementError) -> [UInt8] {
    if encoded.hasPrefix(Self.plainPrefix) {
      guard
        let bytes = Base64.decode(
          ascii: Array(encoded.utf8.dropFirst(Self.plainPrefix.utf8.count)),
          variant: .standardUnpadded)
      else { throw Self.damaged() }
      return bytes
    }
    guard isEncrypted else { throw Self.damaged() }
    let parts = encoded.dropFirst(Self.sealedPrefix.count).split(
      separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 3,
      let nonce = Base64.decode(ascii: Array(parts[1].utf8), variant: .standardUnpadded),
      nonce.count == 12,
      let box = Base64.decode(ascii: Array(parts[2].utf8), variant: .standardUnpadded),
      box.count >= 16
    else { throw Self.damaged() }
    let id = String(parts[0])
    guard let key = keyring?.key(id: id) else {
      throw UserManagementError(
        .encryptionKeyUnavailable,
        "A stored secret is sealed with the key '\(id)', which the configuration's keyring "
          + "does not hold.", context: ["keyID": id])
    }
    let opened = key.material.withUnsafeBytes { keyBytes in
      var copy = Array(keyBytes)
      defer { Platform.secureZero(bytes: &copy) }
      return try? ChaCha20Poly1305.open(
        ciphertext: Array(box.dropLast(16)), tag: Array(box.suffix(16)), key: copy,
        nonce: nonce, authenticating: context)
    }
    guard let opened else { throw Self.damaged() }
    return opened
  }

  private static func damaged() -> UserManagementError {
    UserManagementError(
      .corruptStore, "A stored sealed secret is malformed or fails authentication.")
  }
}
