#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// The account-security state of one user, stored in the user's ``UserRecord``: the second
/// factor, the recovery codes, the outstanding tokens and the API keys.
///
/// Nothing in it can be used as a credential if the store is read: the authenticator secret is
/// sealed (see ``SealedSecret``), and recovery codes, tokens and API keys are stored only as
/// keyed hashes. Stores keep it as an opaque part of the record and must round-trip it
/// exactly; the conformance suite checks that they do.
///
/// Most users have none of it, so an empty state costs one pointer in the record.
public struct AccountSecurity: Hashable, Sendable, Codable {
  private struct Fields: Hashable, Sendable, Codable {
    var secondFactor: SecondFactorState?
    var recoveryCodes: [PasswordHash] = []
    var tokens: [StoredToken] = []
    var apiKeys: [StoredAPIKey] = []

    var isEmpty: Bool {
      secondFactor == nil && recoveryCodes.isEmpty && tokens.isEmpty && apiKeys.isEmpty
    }
  }

  /// Immutable storage shared by copies; a change makes a new box.
  private final class Box: Sendable {
    let fields: Fields
    init(_ fields: Fields) { self.fields = fields }
  }

  private var box: Box?

  private var fields: Fields {
    get { box?.fields ?? Fields() }
    set { box = newValue.isEmpty ? nil : Box(newValue) }
  }

  /// Creates a state.
  ///
  /// - Parameters:
  ///   - secondFactor: The authenticator, enrolled or being enrolled.
  ///   - recoveryCodes: The keyed hashes of the unused recovery codes.
  ///   - tokens: The outstanding tokens.
  ///   - apiKeys: The API keys, revoked ones included.
  public init(
    secondFactor: SecondFactorState? = nil, recoveryCodes: [PasswordHash] = [],
    tokens: [StoredToken] = [], apiKeys: [StoredAPIKey] = []
  ) {
    fields = Fields(
      secondFactor: secondFactor, recoveryCodes: recoveryCodes, tokens: tokens, apiKeys: apiKeys)
  }

  /// The state of a user with no second factor, tokens or keys.
  public static let none = AccountSecurity()

  /// Whether the state holds nothing.
  public var isEmpty: Bool { box == nil }

  /// The authenticator (TOTP), enrolled or being enrolled.
  public var secondFactor: SecondFactorState? {
    get { fields.secondFactor }
    set { fields.secondFactor = newValue }
  }

  /// The keyed hashes of the unused recovery codes.
  public var recoveryCodes: [PasswordHash] {
    get { fields.recoveryCodes }
    set { fields.recoveryCodes = newValue }
  }

  /// The outstanding tokens: password reset, e-mail verification and sign-in challenges.
  public var tokens: [StoredToken] {
    get { fields.tokens }
    set { fields.tokens = newValue }
  }

  /// The API keys, revoked ones included.
  public var apiKeys: [StoredAPIKey] {
    get { fields.apiKeys }
    set { fields.apiKeys = newValue }
  }

  /// Whether an authenticator is enrolled and confirmed.
  public var hasSecondFactor: Bool { secondFactor?.isConfirmed == true }

  /// Compares two states field by field.
  ///
  /// - Parameters:
  ///   - lhs: A state.
  ///   - rhs: Another state.
  /// - Returns: Whether they hold the same values.
  public static func == (lhs: AccountSecurity, rhs: AccountSecurity) -> Bool {
    lhs.box === rhs.box || lhs.fields == rhs.fields
  }

  /// Hashes the fields.
  ///
  /// - Parameter hasher: The hasher.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(fields)
  }

  /// Decodes the fields.
  ///
  /// - Parameter decoder: The decoder.
  /// - Throws: `DecodingError` for malformed input.
  public init(from decoder: any Decoder) throws {
    fields = try Fields(from: decoder)
  }

  /// Encodes the fields.
  ///
  /// - Parameter encoder: The encoder.
  /// - Throws: Errors from the encoder.
  public func encode(to encoder: any Encoder) throws {
    try fields.encode(to: encoder)
  }
}

/// A user's authenticator app (TOTP, RFC 6238) as stored.
public struct SecondFactorState: Hashable, Sendable, Codable {
  /// The shared secret, sealed with the host's key when it provides one.
  public var secret: SealedSecret
  /// How codes are computed.
  public var parameters: OneTimeCodeParameters
  /// Whether the user proved a code after enrolling; an unconfirmed factor is not used at
  /// sign-in.
  public var isConfirmed: Bool
  /// The time step of the last accepted code: no code of this step or an earlier one is
  /// accepted again.
  public var lastUsedStep: UInt64?
  /// When enrolment started.
  public var createdAt: Date

  /// Creates a state.
  ///
  /// - Parameters:
  ///   - secret: The sealed shared secret.
  ///   - parameters: How codes are computed.
  ///   - isConfirmed: Whether enrolment was confirmed.
  ///   - lastUsedStep: The step of the last accepted code.
  ///   - createdAt: When enrolment started.
  public init(
    secret: SealedSecret, parameters: OneTimeCodeParameters, isConfirmed: Bool,
    lastUsedStep: UInt64?, createdAt: Date
  ) {
    self.secret = secret
    self.parameters = parameters
    self.isConfirmed = isConfirmed
    self.lastUsedStep = lastUsedStep
    self.createdAt = createdAt
  }
}

/// A single-use token as stored: its keyed hash, its purpose, the security stamp it was
/// issued under and its expiry. The token itself is never stored.
public struct StoredToken: Hashable, Sendable, Codable {
  /// What a token is for.
  public enum Purpose: String, Hashable, Sendable, Codable, CaseIterable {
    /// Resetting a forgotten password.
    case passwordReset = "password_reset"
    /// Proving the user receives mail at their username.
    case emailVerification = "email_verification"
    /// Completing a sign-in with a second factor.
    case signInChallenge = "sign_in_challenge"
  }

  /// What the token is for.
  public var purpose: Purpose
  /// The keyed hash of the token (`$umk-token-hmac-sha256$…`).
  public var hash: PasswordHash
  /// The user's security stamp when the token was issued: the token dies when it changes.
  public var securityStamp: SecurityStamp
  /// When the token stops working.
  public var expiresAt: Date

  /// Creates a stored token.
  ///
  /// - Parameters:
  ///   - purpose: What the token is for.
  ///   - hash: Its keyed hash.
  ///   - securityStamp: The stamp it was issued under.
  ///   - expiresAt: Its expiry.
  public init(
    purpose: Purpose, hash: PasswordHash, securityStamp: SecurityStamp, expiresAt: Date
  ) {
    self.purpose = purpose
    self.hash = hash
    self.securityStamp = securityStamp
    self.expiresAt = expiresAt
  }
}

/// An API key as stored: what the host may see (``APIKey``) and the key's keyed hash.
public struct StoredAPIKey: Hashable, Sendable, Codable {
  /// The key's description.
  public var key: APIKey
  /// The keyed hash of the secret key (`$umk-token-hmac-sha256$…`).
  public var hash: PasswordHash

  /// Creates a stored key.
  ///
  /// - Parameters:
  ///   - key: The key's description.
  ///   - hash: The keyed hash of the secret.
  public init(key: APIKey, hash: PasswordHash) {
    self.key = key
    self.hash = hash
  }
}
