#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// How failed sign-in attempts slow down and finally lock an account's credential.
///
/// After ``freeAttempts`` consecutive failures each further attempt must wait a delay that
/// doubles with every failure, from ``baseDelay`` up to ``maximumDelay``. At
/// ``lockoutThreshold`` consecutive failures (at most 100, as NIST SP 800-63B requires) the
/// credential is locked: for ``lockoutDuration`` after each further failure (default one
/// hour, so at most one guess an hour), or, when that is `nil`, until an administrator resets
/// the counter or sets a new password. A permanent lock lets anyone who knows a username lock
/// its owner out (administrators included), so keep a trusted `system` job that can reset
/// counters if you choose it.
/// A successful sign-in resets the counter. Throttling is separate from the account's
/// active/inactive status: a locked account stays active.
public struct LoginThrottlePolicy: Hashable, Sendable {
  /// Consecutive failures allowed before delays begin.
  public var freeAttempts: Int
  /// The delay after the first failure beyond the free attempts.
  public var baseDelay: Duration
  /// The longest delay between attempts.
  public var maximumDelay: Duration
  /// Consecutive failures that lock the credential.
  public var lockoutThreshold: Int
  /// How long a locked credential stays locked after its last failure, or `nil` to lock it
  /// until an administrator intervenes.
  public var lockoutDuration: Duration?

  /// Creates a policy.
  ///
  /// - Parameters:
  ///   - freeAttempts: Failures allowed before delays begin (default 5).
  ///   - baseDelay: The first delay (default 1 second).
  ///   - maximumDelay: The longest delay (default 15 minutes).
  ///   - lockoutThreshold: Failures that lock the credential (default and maximum 100).
  ///   - lockoutDuration: How long a lock lasts after the last failure (default one hour);
  ///     `nil` locks until an administrator resets the counter.
  public init(
    freeAttempts: Int = 5, baseDelay: Duration = .seconds(1),
    maximumDelay: Duration = .seconds(900), lockoutThreshold: Int = 100,
    lockoutDuration: Duration? = .seconds(3600)
  ) {
    self.freeAttempts = max(0, freeAttempts)
    self.baseDelay = max(.zero, baseDelay)
    self.maximumDelay = max(self.baseDelay, maximumDelay)
    self.lockoutThreshold = min(100, max(1, lockoutThreshold))
    self.lockoutDuration = lockoutDuration.map { max(.seconds(1), $0) }
  }

  /// What the policy says about a new attempt.
  public enum Decision: Hashable, Sendable {
    /// The attempt may proceed.
    case allowed
    /// The attempt must wait this long.
    case retryAfter(Duration)
    /// The credential is locked until an administrator resets it.
    case locked
  }

  /// Decides whether an attempt may proceed now.
  ///
  /// - Parameters:
  ///   - state: The credential's failure counter.
  ///   - now: The current time.
  /// - Returns: The decision.
  public func decision(for state: LoginThrottleState, now: Date) -> Decision {
    let failures = state.consecutiveFailures
    if failures >= lockoutThreshold {
      guard let lockoutDuration, let last = state.lastFailure else { return .locked }
      return Self.wait(lockoutDuration, since: last, now: now)
    }
    guard failures >= freeAttempts, let last = state.lastFailure else { return .allowed }
    let exponent = min(failures - freeAttempts, 40)
    var delay = baseDelay
    for _ in 0..<exponent {
      delay = delay * 2
      if delay >= maximumDelay { break }
    }
    return Self.wait(min(delay, maximumDelay), since: last, now: now)
  }

  private static func wait(_ delay: Duration, since last: Date, now: Date) -> Decision {
    let elapsed = now.timeIntervalSince(last)
    let delaySeconds =
      Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
    if elapsed >= delaySeconds { return .allowed }
    return .retryAfter(.milliseconds(Int64(((delaySeconds - elapsed) * 1000).rounded(.up))))
  }
}
