#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// Everything one operation changes, committed all-or-nothing by a ``DirectoryStore``.
///
/// ``UserDirectory`` reads the state, checks the rules against it, and describes the result as
/// a change set whose ``preconditions`` pin the state it read. The store applies the change set
/// only if every precondition still holds *and* the directory's invariants hold afterwards;
/// otherwise it applies nothing and throws. This closes the gap between checking and acting:
/// the checks are valid for exactly the state the write commits on.
///
/// ### What a store must check when it commits
///
/// In one atomic step, against the current state (including other processes' commits):
/// 1. Each precondition (see ``CommitPrecondition``).
/// 2. Each user in ``users``: version 1 means *insert* — the id must be new
///    (else ``UserManagementError/Code/versionConflict``) and the canonical username free
///    (else ``UserManagementError/Code/usernameTaken``); version *n* > 1 means *update* — the
///    stored version must be *n* − 1 (else `versionConflict`) and the username unchanged
///    (else ``UserManagementError/Code/invalidOperation``). Users are never deleted.
/// 3. Each policy change (see ``PolicyChange``), with policy names unique case-insensitively
///    (``UserManagementError/Code/policyNameTaken``).
/// 4. Afterwards: every policy a user holds exists (else
///    ``UserManagementError/Code/policyNotFound``; for a deleted policy still held,
///    ``UserManagementError/Code/policyInUse`` with `context["holders"]`), and a directory
///    that has users has at least one active administrator
///    (``UserManagementError/Code/lastActiveAdministrator``).
/// 5. Then it stores the users, policies, audit events and throttle updates together.
public struct ChangeSet: Sendable {
  /// Conditions on the state read by the operation.
  public var preconditions: [CommitPrecondition]
  /// Users to insert (version 1) or update (version = stored version + 1).
  public var users: [UserRecord]
  /// Policies to create, update or delete.
  public var policies: [PolicyChange]
  /// The audit events recording this change; stored if and only if the change is.
  public var auditEvents: [AuditEvent]
  /// Failed sign-in counter updates.
  public var throttleUpdates: [ThrottleUpdate]

  /// Creates a change set.
  ///
  /// - Parameters:
  ///   - preconditions: Conditions on the state read.
  ///   - users: Users to insert or update.
  ///   - policies: Policy changes.
  ///   - auditEvents: The audit events.
  ///   - throttleUpdates: Failed sign-in counter updates.
  public init(
    preconditions: [CommitPrecondition] = [], users: [UserRecord] = [],
    policies: [PolicyChange] = [], auditEvents: [AuditEvent] = [],
    throttleUpdates: [ThrottleUpdate] = []
  ) {
    self.preconditions = preconditions
    self.users = users
    self.policies = policies
    self.auditEvents = auditEvents
    self.throttleUpdates = throttleUpdates
  }
}

/// A condition on the state an operation read, checked atomically at commit.
///
/// Adding a case is a breaking change for store implementations and happens only in a major
/// release.
public enum CommitPrecondition: Hashable, Sendable {
  /// The user exists and is at exactly this version; else
  /// ``UserManagementError/Code/versionConflict``. The directory pins the acting user this
  /// way, so an actor demoted or deactivated meanwhile cannot act.
  case userVersion(UserID, UInt64)
  /// The policy exists and is at exactly this version; else
  /// ``UserManagementError/Code/versionConflict``.
  case policyVersion(PolicyID, UInt64)
  /// The directory has no users at all; else ``UserManagementError/Code/alreadyBootstrapped``.
  case directoryIsEmpty
  /// The failed sign-in counter of this credential is exactly this value; else
  /// ``UserManagementError/Code/versionConflict``. Sign-ins reserve an attempt with it, so
  /// parallel attempts cannot all be judged on the same count.
  case throttleFailures(UserID, CredentialKind, Int)
}

/// A change to the policy catalog inside a ``ChangeSet``.
public enum PolicyChange: Hashable, Sendable {
  /// Create (version 1: the id must be new) or update (version *n*: the stored version must
  /// be *n* − 1) a policy.
  case put(Policy)
  /// Delete a policy that is at this version and that no user holds afterwards.
  case delete(PolicyID, version: UInt64)
}

/// Which credential a sign-in attempt used; failed attempts are counted per kind.
public enum CredentialKind: String, Hashable, Sendable, Codable, CaseIterable {
  /// The login password.
  case password
  /// The API password.
  case apiPassword
}

/// The failed sign-in counter of one credential of one user.
public struct LoginThrottleState: Hashable, Sendable, Codable {
  /// Failed attempts since the last success or reset.
  public var consecutiveFailures: Int
  /// When the last failed attempt happened.
  public var lastFailure: Date?

  /// Creates a state.
  ///
  /// - Parameters:
  ///   - consecutiveFailures: Failed attempts since the last success or reset.
  ///   - lastFailure: When the last failure happened.
  public init(consecutiveFailures: Int = 0, lastFailure: Date? = nil) {
    self.consecutiveFailures = consecutiveFailures
    self.lastFailure = lastFailure
  }

  /// The state of a credential that has never failed.
  public static let clear = LoginThrottleState()
}

/// An update of a failed sign-in counter. Stores apply it atomically, so concurrent failures
/// are all counted; ``applied(to:)`` is the one definition of each operation.
public struct ThrottleUpdate: Hashable, Sendable {
  /// What to do to the counter.
  public enum Operation: Hashable, Sendable {
    /// Add one failure that happened at this time.
    case recordFailure(at: Date)
    /// Set the counter back to zero.
    case reset
    /// Take back the failure a reservation counted at `at` (never below zero): the attempt
    /// proved its credential but did not complete a sign-in (the password step of a
    /// two-factor sign-in), so it neither counts nor clears. The time of the last failure goes
    /// back to `restoring` unless a later failure was counted since.
    case withdrawFailure(at: Date, restoring: Date?)
  }

  /// The user.
  public var user: UserID
  /// The credential.
  public var kind: CredentialKind
  /// The update.
  public var operation: Operation

  /// Creates an update.
  ///
  /// - Parameters:
  ///   - user: The user.
  ///   - kind: The credential.
  ///   - operation: The update.
  public init(user: UserID, kind: CredentialKind, operation: Operation) {
    self.user = user
    self.kind = kind
    self.operation = operation
  }

  /// Applies the update to a state.
  ///
  /// - Parameter state: The state before.
  /// - Returns: The state after.
  public func applied(to state: LoginThrottleState) -> LoginThrottleState {
    switch operation {
    case .recordFailure(let time):
      LoginThrottleState(consecutiveFailures: state.consecutiveFailures + 1, lastFailure: time)
    case .reset:
      .clear
    case .withdrawFailure(let time, let restoring):
      LoginThrottleState(
        consecutiveFailures: max(0, state.consecutiveFailures - 1),
        lastFailure: state.lastFailure == time ? restoring : state.lastFailure)
    }
  }
}
