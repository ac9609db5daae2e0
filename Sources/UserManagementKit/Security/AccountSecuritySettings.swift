extension UserDirectory {
  /// Who must sign in with a second factor.
  public enum SecondFactorRequirement: String, Hashable, Sendable, CaseIterable {
    /// Users choose (the default).
    case optional
    /// Administrators must enrol one; until they have, they can do nothing but enrol.
    case administrators
    /// Every user must enrol one; until they have, they can do nothing but enrol.
    case everyone
  }

  /// Settings for two-factor sign-in, password-reset and verification tokens, and API keys.
  public struct AccountSecuritySettings: Sendable {
    /// Who must have a second factor.
    public var secondFactorRequirement: SecondFactorRequirement
    /// The issuer shown by authenticator apps beside the username, such as `"Example Corp"`.
    public var issuer: String
    /// How new authenticators compute codes.
    public var oneTimeCodes: OneTimeCodeParameters
    /// The keys that seal authenticator secrets at rest. Without a keyring, secrets are stored
    /// as they are and only the store's file permissions protect them.
    public var keyring: SecretKeyring?
    /// How long the challenge between the password step and the code step of a sign-in lives.
    public var signInChallengeLifetime: Duration
    /// How long a password-reset token lives.
    public var passwordResetTokenLifetime: Duration
    /// How long an e-mail verification token lives.
    public var emailVerificationTokenLifetime: Duration
    /// How precisely ``APIKey/lastUsedAt`` is kept: a use is written to the store only when
    /// the stored time is older than this, so verifying a key normally writes nothing.
    public var apiKeyLastUsedResolution: Duration
    /// The most API keys (revoked ones included) a user may hold.
    public var maximumAPIKeysPerUser: Int

    /// Creates settings.
    ///
    /// - Parameters:
    ///   - secondFactorRequirement: Who must have a second factor (default nobody).
    ///   - issuer: The issuer shown by authenticator apps (default `"UserManagementKit"`).
    ///   - oneTimeCodes: How codes are computed (default SHA-1, 6 digits, 30 s).
    ///   - keyring: The keys sealing authenticator secrets (default none).
    ///   - signInChallengeLifetime: The sign-in challenge's life (default 5 minutes).
    ///   - passwordResetTokenLifetime: A reset token's life (default 30 minutes).
    ///   - emailVerificationTokenLifetime: A verification token's life (default 24 hours).
    ///   - apiKeyLastUsedResolution: How precisely last use is kept (default 5 minutes).
    ///   - maximumAPIKeysPerUser: The most keys per user (default 10, at least 1).
    public init(
      secondFactorRequirement: SecondFactorRequirement = .optional,
      issuer: String = "UserManagementKit",
      oneTimeCodes: OneTimeCodeParameters = .standard,
      keyring: SecretKeyring? = nil,
      signInChallengeLifetime: Duration = .seconds(300),
      passwordResetTokenLifetime: Duration = .seconds(1800),
      emailVerificationTokenLifetime: Duration = .seconds(86_400),
      apiKeyLastUsedResolution: Duration = .seconds(300),
      maximumAPIKeysPerUser: Int = 10
    ) {
      self.secondFactorRequirement = secondFactorRequirement
      self.issuer = issuer
      self.oneTimeCodes = oneTimeCodes
      self.keyring = keyring
      self.signInChallengeLifetime = signInChallengeLifetime
      self.passwordResetTokenLifetime = passwordResetTokenLifetime
      self.emailVerificationTokenLifetime = emailVerificationTokenLifetime
      self.apiKeyLastUsedResolution = apiKeyLastUsedResolution
      self.maximumAPIKeysPerUser = max(1, maximumAPIKeysPerUser)
    }

    /// Whether `user` must have a second factor.
    ///
    /// - Parameter user: The user.
    /// - Returns: Whether the requirement applies to them.
    public func requiresSecondFactor(_ user: User) -> Bool {
      switch secondFactorRequirement {
      case .optional: false
      case .administrators: user.role == .admin
      case .everyone: true
      }
    }
  }
}

extension Duration {
  /// The duration in seconds, as a `TimeInterval`.
  var timeInterval: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
