import Foundation
import UserManagementKit

/// The checks of the `ChangeSet` contract, made against the rows a commit read while it holds
/// the directory row (so no other commit can change them meanwhile). It follows the reference
/// store's order of checks, so both stores report the same error for the same change set.
struct CommitCheck {
  private let existing: [UUID: User]
  private let takenKeys: Set<String>
  private let policies: [UUID: Policy]
  private var policyIDsByName: [String: UUID]
  private let throttles: [ThrottleKeyPair: LoginThrottleState]
  private let userCount: Int64
  private let activeAdmins: Int64

  private var stagedPolicies: [UUID: Policy?] = [:]
  private var stagedPolicyOrder: [UUID] = []
  private var staged: [UUID: User] = [:]
  private var stagedOrder: [UUID] = []
  private var lastRowIndex: [UUID: Int] = [:]
  private(set) var newKeys = Set<String>()
  private(set) var adminDelta: Int64 = 0
  private var holderDelta: [UUID: Int64] = [:]

  init(
    existing: [UUID: User], takenKeys: Set<String>, policies: [UUID: Policy],
    policyIDsByName: [String: UUID], throttles: [ThrottleKeyPair: LoginThrottleState],
    userCount: Int64, activeAdmins: Int64
  ) {
    self.existing = existing
    self.takenKeys = takenKeys
    self.policies = policies
    self.policyIDsByName = policyIDsByName
    self.throttles = throttles
    self.userCount = userCount
    self.activeAdmins = activeAdmins
  }

  private static func conflict() -> UserManagementError {
    UserManagementError(.versionConflict, "The record changed; reload it and try again.")
  }

  // MARK: Checks

  mutating func preconditions(_ preconditions: [CommitPrecondition]) throws(UserManagementError) {
    for precondition in preconditions {
      switch precondition {
      case .userVersion(let id, let version):
        guard existing[id.rawValue]?.version == version else { throw Self.conflict() }
      case .policyVersion(let id, let version):
        guard policies[id.rawValue]?.version == version else { throw Self.conflict() }
      case .throttleFailures(let id, let kind, let count):
        let state = throttles[ThrottleKeyPair(user: id.rawValue, kind: kind.rawValue)] ?? .clear
        guard state.consecutiveFailures == count else { throw Self.conflict() }
      case .directoryIsEmpty:
        guard userCount == 0 else {
          throw UserManagementError(
            .alreadyBootstrapped,
            "The directory already has users; bootstrap is only for an empty directory.")
        }
      }
    }
  }

  mutating func stagePolicies(_ changes: [PolicyChange]) throws(UserManagementError) {
    for change in changes {
      switch change {
      case .put(let policy):
        let id = policy.id.rawValue
        let current = stagedPolicies[id] ?? policies[id]
        if policy.version == 1 {
          guard current == nil else { throw Self.conflict() }
        } else {
          guard let current, current.version + 1 == policy.version else { throw Self.conflict() }
          policyIDsByName.removeValue(forKey: Keys.normalized(current.nameKey))
        }
        let key = Keys.normalized(policy.nameKey)
        if let holder = policyIDsByName[key], holder != id {
          throw UserManagementError(
            .policyNameTaken, "Another policy is already named \"\(policy.name)\".")
        }
        policyIDsByName[key] = id
        stage(policy, id)
      case .delete(let id, let version):
        guard let current = stagedPolicies[id.rawValue] ?? policies[id.rawValue],
          current.version == version
        else { throw Self.conflict() }
        policyIDsByName.removeValue(forKey: Keys.normalized(current.nameKey))
        stage(nil, id.rawValue)
      }
    }
  }

  /// Stages a put (`policy`) or a deletion (`nil`).
  private mutating func stage(_ policy: Policy?, _ id: UUID) {
    if stagedPolicies.index(forKey: id) == nil { stagedPolicyOrder.append(id) }
    stagedPolicies.updateValue(policy, forKey: id)
  }

  private func policyExists(_ id: UUID) -> Bool {
    if let staged = stagedPolicies[id] { return staged != nil }
    return policies[id] != nil
  }

  mutating func stageUsers(_ records: [UserRecord], rows: [UserRow]) throws(UserManagementError) {
    for (index, record) in records.enumerated() {
      let id = record.id.rawValue
      let previous = staged[id] ?? existing[id]
      if record.user.version == 1 {
        guard previous == nil else { throw Self.conflict() }
        let key = rows[index].usernameKey
        if takenKeys.contains(key) || newKeys.contains(key) {
          throw UserManagementError(
            .usernameTaken, "A user named \(record.user.username) already exists.",
            context: ["field": "username"])
        }
        newKeys.insert(key)
      } else {
        guard let previous, previous.version + 1 == record.user.version else {
          throw Self.conflict()
        }
        guard previous.username.rawValue == record.user.username.rawValue else {
          throw UserManagementError(.invalidOperation, "Usernames never change.")
        }
      }
      for policy in record.user.policies where !policyExists(policy.rawValue) {
        throw UserManagementError(
          .policyNotFound, "A policy assigned to \(record.user.username) does not exist.",
          context: ["policy": policy.description])
      }
      if let previous {
        adminDelta -= previous.isActiveAdmin ? 1 : 0
        for policy in previous.policies { holderDelta[policy.rawValue, default: 0] -= 1 }
      }
      adminDelta += record.user.isActiveAdmin ? 1 : 0
      for policy in record.user.policies { holderDelta[policy.rawValue, default: 0] += 1 }
      if staged[id] == nil { stagedOrder.append(id) }
      staged[id] = record.user
      lastRowIndex[id] = index
    }
  }

  /// The policies the change set deletes that exist now.
  var deletedPolicies: [UUID] {
    stagedPolicyOrder.filter { id in
      if case .some(.none) = stagedPolicies[id], policies[id] != nil { return true }
      return false
    }
  }

  func checkDeletions(holders: [UUID: Int64]) throws(UserManagementError) {
    for id in deletedPolicies {
      let count = (holders[id] ?? 0) + (holderDelta[id] ?? 0)
      if count > 0 {
        let name = policies[id]?.name ?? id.uuidString
        throw UserManagementError(
          .policyInUse,
          "The policy \"\(name)\" is assigned to \(count) user\(count == 1 ? "" : "s"); "
            + "remove it from them first.",
          context: ["holders": String(count)])
      }
    }
  }

  func checkAdministrators() throws(UserManagementError) {
    let usersAfter = userCount + Int64(newKeys.count)
    if usersAfter > 0 && activeAdmins + adminDelta < 1 {
      throw UserManagementError(
        .lastActiveAdministrator, "The directory must keep at least one active administrator.")
    }
  }

  // MARK: What to write

  /// The policies to insert or update, in the order the change set first named them.
  var stagedPolicyPuts: [Policy] {
    stagedPolicyOrder.compactMap { stagedPolicies[$0] ?? nil }
  }

  /// The final record of each user the change set writes, with its row.
  func finalUsers(_ rows: [UserRow]) -> [(UserRow, User)] {
    stagedOrder.compactMap { id in
      guard let index = lastRowIndex[id], let user = staged[id] else { return nil }
      return (rows[index], user)
    }
  }

  /// The row of each user's final record in the change set.
  func finalRows(_ rows: [UserRow]) -> [UserRow] {
    stagedOrder.compactMap { lastRowIndex[$0].map { rows[$0] } }
  }

  /// Policy holdings to remove and to add, as (user, policy) pairs.
  func holdingChanges() -> (released: [(UUID, UUID)], granted: [(UUID, UUID)]) {
    var released: [(UUID, UUID)] = []
    var granted: [(UUID, UUID)] = []
    for id in stagedOrder {
      guard let user = staged[id] else { continue }
      let before = Set((existing[id]?.policies ?? []).map(\.rawValue))
      let after = Set(user.policies.map(\.rawValue))
      for policy in before.subtracting(after) { released.append((id, policy)) }
      for policy in after.subtracting(before) { granted.append((id, policy)) }
    }
    return (released, granted)
  }
}
