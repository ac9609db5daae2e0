import UserManagementKit

/// `2fa enroll --json`: `{"secret","uri","algorithm","digits","period"}`, shown this once.
struct SecondFactorEnrollmentOutput: Encodable {
  /// The shared secret, base32.
  let secret: String
  /// The `otpauth://totp/…` URI.
  let uri: String
  /// `SHA1`, `SHA256` or `SHA512`.
  let algorithm: String
  /// The number of digits of a code.
  let digits: Int
  /// The time step in seconds.
  let period: Int

  /// The output form of an enrolment.
  ///
  /// - Parameter enrollment: The enrolment.
  init(_ enrollment: SecondFactorEnrollment) {
    secret = enrollment.secret.revealForDisplay()
    uri = enrollment.uri.revealForDisplay()
    algorithm = enrollment.parameters.algorithm.rawValue
    digits = enrollment.parameters.digits
    period = enrollment.parameters.period
  }
}

/// `2fa confirm --json`, `2fa recovery-codes regenerate --json`: `{"recoveryCodes":[…]}`,
/// shown this once.
struct RecoveryCodesOutput: Encodable {
  /// The codes, `xxxx-xxxx-xxxx-xxxx`.
  let recoveryCodes: [String]
}

/// `2fa recovery-codes status --json`: `{"username","secondFactor","remainingRecoveryCodes"}`.
struct SecondFactorStatusOutput: Encodable {
  /// The user.
  let username: String
  /// Whether a second factor is enrolled (and confirmed).
  let secondFactor: Bool
  /// How many unused recovery codes are left.
  let remainingRecoveryCodes: Int
}

/// `password reset-token --json`, `user verify-email issue --json`: `{"username","token"}`,
/// the token shown this once.
struct TokenOutput: Encodable {
  /// The user.
  let username: String
  /// The token.
  let token: String

  /// The output form of a token.
  ///
  /// - Parameters:
  ///   - username: The user.
  ///   - token: The token.
  init(username: String, token: Secret) {
    self.username = username
    self.token = token.revealForDisplay()
  }
}
