import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The console's own count of failed sign-ins per typed username, known account or not.
///
/// The directory throttles the accounts it has. Were the console to show only that answer, a
/// "too many attempts" message would tell an attacker that the username exists. So the console
/// counts failures for every username typed, with the directory's own policy, and answers
/// "try again in N seconds" for unknown usernames exactly when it would for real ones.
actor SignInThrottle {
  private struct Failures {
    var count: Int
    var last: Date
  }

  private let policy: LoginThrottlePolicy
  private var failures: [String: Failures] = [:]
  private let maximumEntries: Int

  /// - Parameters:
  ///   - policy: The directory's throttle policy.
  ///   - maximumEntries: The most usernames counted at once; beyond it the oldest are dropped.
  init(policy: LoginThrottlePolicy, maximumEntries: Int = 100_000) {
    self.policy = policy
    self.maximumEntries = max(4, maximumEntries)
  }

  private static func key(_ username: String) -> String {
    String(username.trimmingCharacters(in: [" ", "\t"]).lowercased().prefix(320))
  }

  /// The refusal for the typed username's next attempt, or `nil` when it may try.
  func refusal(for username: String, now: Date = Date()) -> String? {
    guard let entry = failures[Self.key(username)] else { return nil }
    let state = LoginThrottleState(consecutiveFailures: entry.count, lastFailure: entry.last)
    switch policy.decision(for: state, now: now) {
    case .allowed: return nil
    case .retryAfter(let delay): return Self.message(delay)
    case .locked: return Self.lockedMessage
    }
  }

  /// Counts a failed attempt.
  func fail(_ username: String, now: Date = Date()) {
    if failures.count >= maximumEntries {
      let horizon = now.addingTimeInterval(-3600)
      failures = failures.filter { $0.value.last > horizon }
      if failures.count >= maximumEntries {
        // Drop the oldest quarter, not everything: a flood of fresh usernames must not wipe the
        // counts of the usernames it is meant to hide among.
        let kept = failures.sorted { $0.value.last > $1.value.last }.prefix(maximumEntries * 3 / 4)
        failures = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
      }
    }
    let key = Self.key(username)
    failures[key, default: Failures(count: 0, last: now)].count += 1
    failures[key]?.last = now
  }

  /// Forgets the failures of a username: after a successful sign-in, and when an administrator
  /// unlocks the account or sets its password (the directory's counter is reset then too).
  func forget(_ username: String) {
    failures[Self.key(username)] = nil
  }

  /// The message shown while a username must wait: the directory's wording, for every username.
  static func message(_ delay: Duration) -> String {
    let seconds = max(1, delay.components.seconds + (delay.components.attoseconds > 0 ? 1 : 0))
    return "Too many failed attempts; try again in \(seconds) seconds."
  }

  /// The message for a credential locked until an administrator steps in.
  static let lockedMessage =
    "Too many failed attempts; an administrator must unlock the account or reset the password."

  /// The message for a directory's throttling refusal, worded as for unknown usernames.
  static func message(for error: UserManagementError) -> String {
    error.retryAfter.map(message) ?? lockedMessage
  }
}
