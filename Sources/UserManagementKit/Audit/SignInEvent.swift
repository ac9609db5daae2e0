#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// One sign-in attempt and how it ended, for the host's security log.
///
/// The audit trail records changes; sign-ins change nothing (or only a failure counter), so
/// they are reported here instead: set ``UserDirectory/Configuration/signInObserver`` and the
/// directory calls it once per ``UserDirectory/authenticate(username:password:)``,
/// ``UserDirectory/completeSignIn(_:with:)``, ``UserDirectory/authenticateAPI(username:apiPassword:)``
/// and ``UserDirectory/authenticateAPIKey(_:)``, after the outcome is decided.
/// ASVS 5.0 (V16) asks for authentication events to be logged; this is what to log.
///
/// An event never carries a secret, a hash, or the username as typed (people type passwords
/// into the username field): only the account's identifier when the account exists.
public struct SignInEvent: Hashable, Sendable, CustomStringConvertible {
  /// Which credential was presented.
  public enum Credential: String, Hashable, Sendable {
    /// The login password.
    case password
    /// The API password (typed or a generated token).
    case apiPassword = "api_password"
    /// A code from an authenticator app, completing a sign-in.
    case authenticatorCode = "authenticator_code"
    /// A recovery code, completing a sign-in.
    case recoveryCode = "recovery_code"
    /// A scoped API key.
    case apiKey = "api_key"
  }

  /// How an attempt ended. A string-backed value, so new outcomes never break a `switch`.
  public struct Outcome: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The outcome's stable string form, such as `"succeeded"`.
    public let rawValue: String

    /// Creates an outcome from its string form.
    ///
    /// - Parameter rawValue: The stable string form.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The string form.
    public var description: String { rawValue }

    /// The credentials were right and the account may act.
    public static let succeeded = Outcome(rawValue: "succeeded")
    /// The password was right; the sign-in waits for the second factor.
    public static let secondFactorRequired = Outcome(rawValue: "second_factor_required")
    /// The sign-in challenge was malformed, unknown, used or expired.
    public static let invalidChallenge = Outcome(rawValue: "invalid_challenge")
    /// The credential was wrong, or the account has no such credential (for an account that
    /// exists).
    public static let invalidCredentials = Outcome(rawValue: "invalid_credentials")
    /// No account has the username.
    public static let unknownAccount = Outcome(rawValue: "unknown_account")
    /// Refused by the throttle before the credential was looked at: too many recent failures.
    public static let throttled = Outcome(rawValue: "throttled")
    /// Refused by the throttle: the credential is locked until an administrator unlocks it
    /// (``UserDirectory/resetLoginThrottle(of:by:)``) or resets the password.
    public static let locked = Outcome(rawValue: "locked")
    /// The credentials were right but the account is inactive.
    public static let accountInactive = Outcome(rawValue: "account_inactive")
    /// The API password was right but API access is disabled.
    public static let apiAccessDisabled = Outcome(rawValue: "api_access_disabled")
    /// The attempt could not be reserved against the throttle because too many attempts on
    /// the account ran at once (the directory's commit attempts ran out): a burst of
    /// guesses, worth an alert.
    public static let contended = Outcome(rawValue: "contended")
    /// The attempt could not be decided: the store failed.
    public static let storageFailure = Outcome(rawValue: "storage_failure")
    /// Refused before the credential was checked because too many password checks were
    /// waiting (``UserManagementError/Code/overloaded``), and before an attempt was reserved
    /// against the throttle: the attempt is not counted.
    public static let overloaded = Outcome(rawValue: "overloaded")
    /// The calling task was cancelled while it waited for its turn to check the credential
    /// (``UserManagementError/Code/cancelled``), before an attempt was reserved against the
    /// throttle: the attempt is not counted.
    public static let cancelled = Outcome(rawValue: "cancelled")
  }

  /// The account, when one has the username; `nil` for an unknown username.
  public let userID: UserID?
  /// The credential presented.
  public let credential: Credential
  /// How it ended.
  public let outcome: Outcome
  /// Whether a successful sign-in replaced the stored hash with a stronger one.
  public let rehashed: Bool
  /// When the outcome was decided, by the directory's clock.
  public let time: Date

  /// Creates an event.
  ///
  /// - Parameters:
  ///   - userID: The account, if it exists.
  ///   - credential: The credential presented.
  ///   - outcome: How it ended.
  ///   - rehashed: Whether the stored hash was upgraded.
  ///   - time: When.
  public init(
    userID: UserID?, credential: Credential, outcome: Outcome, rehashed: Bool = false, time: Date
  ) {
    self.userID = userID
    self.credential = credential
    self.outcome = outcome
    self.rehashed = rehashed
    self.time = time
  }

  /// One line for a log: `sign-in password succeeded user=<id>`.
  public var description: String {
    "sign-in \(credential.rawValue) \(outcome)"
      + " user=\(userID.map { $0.description } ?? "unknown")" + (rehashed ? " rehashed" : "")
  }
}
